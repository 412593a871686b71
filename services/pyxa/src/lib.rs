//! pyxa, the service: configuration (`config`), the composition root that builds engines and
//! domain from it (`bootstrap`), the HTTP layer over the domain (`http`, with `create_app` so
//! tests drive the real app in-process) and the command line (`commands`).
//!
//! Dependencies point one way: commands -> http -> bootstrap -> engine crates; `config` is a
//! leaf. Domain logic lives in `pyxa-engine`, not here.

pub mod bootstrap;
pub mod commands;
pub mod config;
pub mod http;

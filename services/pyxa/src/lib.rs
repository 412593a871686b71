//! pyxa: answers questions about photos and text, grounded in what it knows.
//!
//! The library holds the whole service so tests drive the real app in-process
//! ([`server::create_app`]); `main.rs` only parses the command line.

pub mod ask;
pub mod ask_cmd;
pub mod bench;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod errors;
pub mod ingest_cmd;
pub mod kb;
pub mod metrics;
pub mod openai_api;
pub mod server;
pub mod state;
pub mod zeroshot;

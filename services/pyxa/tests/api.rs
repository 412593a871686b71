//! The `pyxa` crate's tests, one binary:
//! - `fast`: the real HTTP app in-process (`create_app`) over fakes of every engine trait;
//!   routes, typed requests, error bodies, OpenAPI; milliseconds, no models needed.
//! - `e2e`: the real app on a loopback port with real models and stores (`e2e_*`).

#[path = "api/e2e.rs"]
mod e2e;
#[path = "api/fast.rs"]
mod fast;

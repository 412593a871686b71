//! Image and text encoders on ONNX Runtime (`ort`, loaded at run time), model bundles, and the
//! provisioning that fetches runtime and models from the package registries.

pub mod bundle;
pub mod engine;
pub mod preprocess;
pub mod provision;
pub mod runtime;

pub use bundle::{Bundle, BundleManifest};
pub use engine::{EncoderConfig, ImageTimings, OnnxEncoder};
pub use preprocess::DecodeLimits;
pub use runtime::Device;

//! Image and text encoders on ONNX Runtime (`ort`, loaded at run time): loading a model bundle
//! into ONNX sessions, photo decoding and preprocessing, execution-provider selection, and the
//! micro-batching engine that implements `pyxa_core::Encoder`, and the PP-OCR text reader
//! (`ocr`: text in photos, Chinese and English).
//!
//! What must not live here: the model registry, pyxa's home folder, provisioning (downloads,
//! unpacking, the converter) and the bundle manifest format; those are `pyxa-models`, which this
//! crate depends on for the manifest types. Nothing here downloads anything.

pub mod bundle;
pub mod engine;
pub mod ocr;
pub mod preprocess;
pub mod runtime;

pub use bundle::Bundle;
pub use engine::{EncoderConfig, ImagePrecision, ImageTimings, OnnxEncoder};
pub use ocr::{OcrSettings, OcrTimings, TextLine, TextReader};
pub use preprocess::DecodeLimits;
pub use runtime::Device;

//! Model bundles: a folder with a `manifest.json` that says which ONNX files embed photos and
//! texts, how to preprocess, and which files (with sha256) belong to it. The default bundle
//! (converted from registry packages) and a standard CLIP export use the same format.

use std::path::{Path, PathBuf};

use pyxa_core::{BuiltinClass, Error, Result};
use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleManifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Embedding dimension shared by both encoders.
    pub dim: usize,
    /// Multiplier applied to cosines before a softmax (CLIP's logit scale).
    #[serde(default = "default_logit_scale")]
    pub logit_scale: f32,
    pub image: ImageSpec,
    pub text: TextSpec,
    /// JSON array of built-in classes in the image model's `probs_output` order.
    #[serde(default)]
    pub classes: Option<String>,
    /// Files with their sha256; verified when the bundle is loaded with verification on.
    #[serde(default)]
    pub files: Vec<BundleFile>,
    /// Where the bundle came from (free-form, shown by `pyxa models list`).
    #[serde(default)]
    pub source: serde_json::Value,
}

fn default_logit_scale() -> f32 {
    100.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleFile {
    pub path: String,
    pub sha256: String,
    #[serde(default)]
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageSpec {
    pub onnx: String,
    #[serde(default = "default_pixel_input")]
    pub input: String,
    /// Output holding the image embedding `[N, dim]`.
    pub output: String,
    /// Optional output with class probabilities `[N, classes]`.
    #[serde(default)]
    pub probs_output: Option<String>,
    pub preprocess: Preprocess,
}

fn default_pixel_input() -> String {
    "pixel_values".into()
}

/// Resize the short side to `resize_short` (bicubic), centre-crop `crop` x `crop`, RGB, then
/// `(pixel - mean) / std` per channel with pixels in 0..=255, NCHW.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub resize_short: u32,
    pub crop: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    #[serde(default)]
    pub interpolation: Interpolation,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    #[default]
    Bicubic,
    Bilinear,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextSpec {
    pub onnx: String,
    pub tokenizer: String,
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Output holding the text embedding: `[N, dim]`, or `[N, T, dim]` with `pooling`.
    pub output: String,
    #[serde(default)]
    pub pooling: Pooling,
    #[serde(default)]
    pub batching: TextBatching,
}

fn default_max_length() -> usize {
    77
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The output is already one vector per text.
    #[default]
    None,
    /// Mean over the attention mask of a `[N, T, dim]` output.
    Mean,
    /// The first token of a `[N, T, dim]` output.
    Cls,
}

/// How a batch of texts is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextBatching {
    /// Pad to the longest text and run the batch at once.
    #[default]
    Padded,
    /// Run texts one by one: needed for dynamically quantised models, whose activation scales
    /// are computed over the whole batch, so padding partners would change the result.
    Sequential,
}

/// A bundle on disk: its folder and parsed manifest.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: BundleManifest,
}

impl Bundle {
    /// Reads `dir/manifest.json` and checks that every file it names exists.
    pub fn open(dir: &Path) -> Result<Bundle> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let raw = std::fs::read(&manifest_path).map_err(|e| {
            Error::setup(
                "model_bundle_missing",
                format!("no model bundle at {} ({e}); run `pyxa models pull`", dir.display()),
            )
        })?;
        let manifest: BundleManifest = serde_json::from_slice(&raw).map_err(|e| {
            Error::setup("model_bundle_invalid", format!("{}: {e}", manifest_path.display()))
        })?;
        let bundle = Bundle { dir: dir.to_path_buf(), manifest };
        for rel in bundle.referenced_files() {
            let path = bundle.path(&rel)?;
            if !path.is_file() {
                return Err(Error::setup(
                    "model_bundle_incomplete",
                    format!("bundle {} lacks {}", bundle.manifest.name, path.display()),
                ));
            }
        }
        Ok(bundle)
    }

    fn referenced_files(&self) -> Vec<String> {
        let m = &self.manifest;
        let mut files = vec![m.image.onnx.clone(), m.text.onnx.clone(), m.text.tokenizer.clone()];
        files.extend(m.classes.clone());
        files
    }

    /// Resolves a manifest-relative path, refusing anything that leaves the bundle folder.
    pub fn path(&self, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        let escapes = p.is_absolute()
            || p.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            return Err(Error::setup(
                "model_bundle_invalid",
                format!("bundle path {rel:?} must be relative and stay inside the bundle"),
            ));
        }
        Ok(self.dir.join(p))
    }

    /// Checks every listed file's sha256.
    pub fn verify(&self) -> Result<()> {
        for f in &self.manifest.files {
            let actual = crate::provision::sha256_file(&self.path(&f.path)?)?;
            if !actual.eq_ignore_ascii_case(&f.sha256) {
                return Err(Error::setup(
                    "model_checksum_mismatch",
                    format!("{}: sha256 {actual}, manifest says {}", f.path, f.sha256),
                ));
            }
        }
        Ok(())
    }

    pub fn builtin_classes(&self) -> Result<Vec<BuiltinClass>> {
        let Some(rel) = &self.manifest.classes else { return Ok(Vec::new()) };
        let raw = std::fs::read(self.path(rel)?)
            .map_err(|e| Error::setup("model_bundle_incomplete", format!("{rel}: {e}")))?;
        serde_json::from_slice(&raw)
            .map_err(|e| Error::setup("model_bundle_invalid", format!("{rel}: {e}")))
    }
}

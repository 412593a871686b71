//! The model bundle manifest: a bundle is a folder with a `manifest.json` that says which ONNX
//! files embed photos and texts, how to preprocess, and which files (with sha256) belong to it.
//! The default bundle (converted from registry packages) and a standard CLIP export use the same
//! format. This module reads, checks and writes manifests; loading the files they name into
//! ONNX sessions is `pyxa-encoders`' business.

use std::fs;
use std::path::{Path, PathBuf};

use pyxa_core::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

use crate::support::{io_err, sha256_file};

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
    /// The same graph with int8 convolutions, for CPUs (about 1.5x faster there); `onnx` stays
    /// the reference and what a GPU runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_onnx: Option<String>,
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
    /// The views of a photo the image tower sees: their embeddings are averaged, the class
    /// probabilities are the first view's. Empty means one centre crop (and keeps older
    /// manifests' embedding space).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
}

impl Preprocess {
    /// The views to run, in order (a centre crop when the manifest names none).
    pub fn views(&self) -> &[View] {
        if self.views.is_empty() {
            &[View::CentreCrop]
        } else {
            &self.views
        }
    }
}

/// One way of fitting a photo into the tower's square input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Short side resized to `resize_short`, then the centre `crop` x `crop`: what the
    /// classifier was trained on, but it cuts off the edges of a wide or tall photo.
    CentreCrop,
    /// The whole photo, long side resized to `crop`, padded with the mean colour.
    Letterbox,
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
    /// Prepended verbatim to every text before tokenising (zero-shot labels, search queries,
    /// item texts, teach labels alike); truncation to `max_length` applies after it. e5 wants
    /// `"query: "`; empty for CLIP and MiniLM.
    #[serde(default)]
    pub prefix: String,
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

impl BundleManifest {
    /// The embedding space this bundle's vectors live in: its name and a digest of what decides
    /// the vectors (dimension, both encoder specs with their preprocessing and text prefix, and
    /// the sha256 of every file but the class list), so new weights make a new space while new
    /// class names or descriptions do not. Vectors of two spaces are never compared.
    pub fn embedding_space(&self) -> String {
        use sha2::{Digest, Sha256};
        let files: Vec<&BundleFile> = self.files.iter().filter(|f| Some(&f.path) != self.classes.as_ref()).collect();
        let canonical = serde_json::to_vec(&serde_json::json!([self.dim, self.image, self.text, files])).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&canonical));
        format!("{}@{}", self.name, &digest[..12])
    }

    /// The space of vectors made with `image.int8_onnx`: close to the fp32 graph's (cosine
    /// 0.996 on the dev set) but not equal, so a data dir switched between them is re-embedded.
    pub fn int8_embedding_space(&self) -> String {
        format!("{}+int8", self.embedding_space())
    }

    /// The files the manifest references (both encoders, the tokenizer, the class list), as
    /// manifest-relative paths.
    pub fn referenced_files(&self) -> Vec<String> {
        let mut files = vec![self.image.onnx.clone(), self.text.onnx.clone(), self.text.tokenizer.clone()];
        files.extend(self.image.int8_onnx.clone());
        files.extend(self.classes.clone());
        files
    }
}

/// Reads `dir/manifest.json` and checks that every file it names exists.
pub fn open(dir: &Path) -> Result<BundleManifest> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let raw = fs::read(&manifest_path).map_err(|e| {
        Error::new(ErrorCode::ModelBundleMissing, format!("no model bundle at {} ({e}); run `pyxa models pull`", dir.display()))
    })?;
    let manifest: BundleManifest = serde_json::from_slice(&raw)
        .map_err(|e| Error::new(ErrorCode::ModelBundleInvalid, format!("{}: {e}", manifest_path.display())))?;
    for rel in manifest.referenced_files() {
        let path = resolve(dir, &rel)?;
        if !path.is_file() {
            return Err(Error::new(
                ErrorCode::ModelBundleIncomplete,
                format!("bundle {} lacks {}", manifest.name, path.display()),
            ));
        }
    }
    Ok(manifest)
}

/// Resolves a manifest-relative path against the bundle folder `dir`, refusing anything that
/// leaves the bundle folder.
pub fn resolve(dir: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    let escapes = p.is_absolute() || p.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
    if escapes {
        return Err(Error::new(
            ErrorCode::ModelBundleInvalid,
            format!("bundle path {rel:?} must be relative and stay inside the bundle"),
        ));
    }
    Ok(dir.join(p))
}

/// Fills `manifest.files` with the sha256 of every file the manifest references and writes it.
pub fn write_manifest_with_checksums(dir: &Path, manifest: &mut BundleManifest) -> Result<()> {
    manifest.files = manifest
        .referenced_files()
        .into_iter()
        .map(|rel| {
            let path = dir.join(&rel);
            let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            Ok(BundleFile { sha256: sha256_file(&path)?, path: rel, size })
        })
        .collect::<Result<_>>()?;
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| Error::internal(e.to_string()))?;
    fs::write(dir.join(MANIFEST_FILE), json).map_err(io_err(MANIFEST_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_bundle() {
        let dir = Path::new("/b");
        assert_eq!(resolve(dir, "text/model.onnx").unwrap(), Path::new("/b/text/model.onnx"));
        for bad in ["../x.onnx", "/etc/passwd", "a/../../x", "./x"] {
            assert!(resolve(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_embedding_space_follows_the_weights_not_the_class_names() {
        let mut m: BundleManifest =
            serde_json::from_str(include_str!("../../../models/pyxa-default/manifest.json")).expect("default manifest");
        let file = |path: &str, sha: &str| BundleFile { path: path.into(), sha256: sha.into(), size: 1 };
        let classes = m.classes.clone().expect("the default bundle has classes");
        m.files = vec![file(&m.text.onnx.clone(), "aa"), file(&classes, "c1")];
        let space = m.embedding_space();
        assert!(space.starts_with(&format!("{}@", m.name)), "{space}");
        m.files[1].sha256 = "c2".into();
        assert_eq!(m.embedding_space(), space, "new class names, same vectors");
        m.files[0].sha256 = "bb".into();
        assert_ne!(m.embedding_space(), space, "new text weights, new space");
    }
}

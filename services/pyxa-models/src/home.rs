//! pyxa's home folder and where each provisioned thing lives in it.

use std::path::PathBuf;

use crate::registry::{registry, Artifact};

/// pyxa's home: downloads, runtime libraries, model bundles, the converter's venv.
#[derive(Debug, Clone)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }
    /// `PYXA_HOME`, else the user's cache folder (`$XDG_CACHE_HOME/pyxa` or `~/.cache/pyxa`).
    pub fn from_env() -> Self {
        let root = std::env::var_os("PYXA_HOME").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir)
                .join("pyxa")
        });
        Self { root }
    }
    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }
    pub fn venv(&self) -> PathBuf {
        self.root.join("venv")
    }
    pub fn target(&self, artifact: &Artifact) -> PathBuf {
        self.root.join(&artifact.target)
    }
    /// The CPU ONNX Runtime library pyxa loads by default.
    pub fn ort_library(&self) -> PathBuf {
        self.named_file("ort-cpu", "libonnxruntime.so")
    }
    pub fn ort_gpu_library(&self) -> PathBuf {
        self.named_file("ort-gpu", "libonnxruntime.so")
    }
    pub fn default_bundle(&self) -> PathBuf {
        registry()
            .ok()
            .and_then(|r| r.get("default").map(|a| self.target(a)))
            .unwrap_or_else(|| self.root.join("models/pyxa-default"))
    }
    /// The PP-OCRv4 text reader's models (`pyxa models pull ocr`).
    pub fn ocr_models(&self) -> PathBuf {
        registry().ok().and_then(|r| r.get("ocr").map(|a| self.target(a))).unwrap_or_else(|| self.root.join("models/ppocr-v4"))
    }
    /// CC-CEDICT, the Chinese-English dictionary (`pyxa models pull lexicon`).
    pub fn lexicon(&self) -> PathBuf {
        self.named_file("lexicon", ".txt.gz")
    }
    /// SmolLM2-135M-Instruct: the small local model, always provisioned.
    pub fn default_gguf(&self) -> PathBuf {
        self.named_file("smollm2", ".gguf")
    }

    /// The GGUF of a local-model artifact (`smollm2`, `qwen2.5-coder-1.5b`), installed or not.
    pub fn gguf(&self, artifact: &str) -> PathBuf {
        self.named_file(artifact, ".gguf")
    }
    /// The extracted file of `artifact` whose name starts with (or ends with) `needle`.
    fn named_file(&self, artifact: &str, needle: &str) -> PathBuf {
        let reg = registry().unwrap_or_default();
        if let Some(a) = reg.get(artifact) {
            let joined = a.joined.iter().map(|j| &j.file);
            if let Some(name) = a.extract.values().chain(joined).find(|n| n.starts_with(needle) || n.ends_with(needle)) {
                return self.target(a).join(name);
            }
        }
        self.root.join(artifact).join(needle)
    }
}

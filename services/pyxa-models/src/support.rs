//! Small helpers shared by the provisioning modules: a file's sha256, mapping I/O errors to
//! `provisioning_failed`, progress lines on stderr, and which Python runs pip.

use std::fs;
use std::io::Read;
use std::path::Path;

use pyxa_core::{Error, ErrorCode, Result};
use sha2::{Digest, Sha256};

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::new(ErrorCode::FileUnreadable, format!("{}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::new(ErrorCode::FileUnreadable, format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

pub(crate) fn io_err(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::new(ErrorCode::ProvisioningFailed, format!("{what}: {e}"))
}

/// Prints a progress line on stderr (stdout stays machine-readable).
pub(crate) fn say(msg: impl AsRef<str>) {
    eprintln!("pyxa: {}", msg.as_ref());
}

pub(crate) fn python() -> String {
    std::env::var("PYXA_PYTHON").unwrap_or_else(|_| "python3".into())
}

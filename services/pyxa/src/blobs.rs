//! Content-addressed blob storage: originals and thumbnails on disk under the data dir, named
//! by the sha256 of the original. File names never come from the user.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use pyxa_core::{Blob, Error, Result};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

pub const THUMBNAIL_SIDE: u32 = 256;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True for a 64-character lowercase hex string (the only names blob paths are built from).
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn io(e: std::io::Error) -> Error {
    Error::internal(format!("blob store: {e}"))
}

impl BlobStore {
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("originals")).map_err(io)?;
        std::fs::create_dir_all(root.join("thumbnails")).map_err(io)?;
        Ok(Self { root: root.to_path_buf() })
    }

    fn original_path(&self, hash: &str) -> PathBuf {
        self.root.join("originals").join(&hash[..2]).join(hash)
    }

    fn thumbnail_path(&self, hash: &str) -> PathBuf {
        self.root.join("thumbnails").join(&hash[..2]).join(format!("{hash}.jpg"))
    }

    /// Stores the original and a JPEG thumbnail (idempotent; written atomically).
    pub fn put_image(&self, bytes: &[u8], decoded: &image::RgbImage, mime: &str) -> Result<Blob> {
        let hash = sha256_hex(bytes);
        let original = self.original_path(&hash);
        if !original.exists() {
            write_atomic(&original, bytes)?;
        }
        let thumb = self.thumbnail_path(&hash);
        if !thumb.exists() {
            let (w, h) = decoded.dimensions();
            let scale = (THUMBNAIL_SIDE as f32 / w.max(h) as f32).min(1.0);
            let small = image::imageops::thumbnail(decoded, ((w as f32 * scale) as u32).max(1), ((h as f32 * scale) as u32).max(1));
            let mut out = Vec::new();
            image::DynamicImage::ImageRgb8(small)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
                .map_err(|e| Error::internal(format!("thumbnail: {e}")))?;
            write_atomic(&thumb, &out)?;
        }
        Ok(Blob { hash, mime: mime.to_string(), size: bytes.len() as i64, width: decoded.width() as i64, height: decoded.height() as i64 })
    }

    pub fn read_original(&self, hash: &str) -> Result<Vec<u8>> {
        self.read(hash, false)
    }

    pub fn read_thumbnail(&self, hash: &str) -> Result<Vec<u8>> {
        self.read(hash, true)
    }

    fn read(&self, hash: &str, thumbnail: bool) -> Result<Vec<u8>> {
        if !is_hash(hash) {
            return Err(Error::invalid("invalid_blob_id", "a blob id is a 64-character sha256 hex string"));
        }
        let path = if thumbnail { self.thumbnail_path(hash) } else { self.original_path(hash) };
        std::fs::read(path).map_err(|_| Error::not_found("unknown_blob", format!("no blob {hash}")))
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

pub fn thumbnail_url(hash: &str) -> String {
    format!("/v1/blobs/{hash}/thumbnail")
}

pub fn image_url(hash: &str) -> String {
    format!("/v1/blobs/{hash}")
}

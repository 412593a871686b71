//! Photos on disk under the data dir: originals and JPEG thumbnails, named by the sha256 of the
//! original. File names never come from the user.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use pyxa_core::{Blob, Error, ErrorCode, ImageStore, Result, RgbPixels};
use pyxa_encoders::preprocess::{self, DecodeLimits};
use pyxa_engine::kb::is_image_id;
use sha2::{Digest, Sha256};

pub const THUMBNAIL_SIDE: u32 = 256;

fn io(e: std::io::Error) -> Error {
    Error::internal("blob store").with_source(e)
}

#[derive(Debug, Clone)]
pub struct FsImageStore {
    root: PathBuf,
    limits: DecodeLimits,
}

impl FsImageStore {
    pub fn open(root: &Path, limits: DecodeLimits) -> Result<Self> {
        std::fs::create_dir_all(root.join("originals")).map_err(io)?;
        std::fs::create_dir_all(root.join("thumbnails")).map_err(io)?;
        Ok(Self { root: root.to_path_buf(), limits })
    }

    fn original_path(&self, hash: &str) -> PathBuf {
        self.root.join("originals").join(&hash[..2]).join(hash)
    }

    fn thumbnail_path(&self, hash: &str) -> PathBuf {
        self.root.join("thumbnails").join(&hash[..2]).join(format!("{hash}.jpg"))
    }

    /// Stores the original and a JPEG thumbnail (idempotent; written atomically).
    fn write(&self, bytes: &[u8], decoded: &image::RgbImage, mime: &str) -> Result<Blob> {
        let hash = hex::encode(Sha256::digest(bytes));
        let original = self.original_path(&hash);
        if !original.exists() {
            write_atomic(&original, bytes)?;
        }
        let thumb = self.thumbnail_path(&hash);
        if !thumb.exists() {
            let (w, h) = decoded.dimensions();
            let scale = (THUMBNAIL_SIDE as f32 / w.max(h) as f32).min(1.0);
            let small =
                image::imageops::thumbnail(decoded, ((w as f32 * scale) as u32).max(1), ((h as f32 * scale) as u32).max(1));
            let mut out = Vec::new();
            image::DynamicImage::ImageRgb8(small)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
                .map_err(|e| Error::internal("thumbnail").with_source(e))?;
            write_atomic(&thumb, &out)?;
        }
        Ok(Blob {
            hash,
            mime: mime.to_string(),
            size: bytes.len() as i64,
            width: decoded.width() as i64,
            height: decoded.height() as i64,
        })
    }

    fn read(&self, hash: &str, thumbnail: bool) -> Result<Vec<u8>> {
        // The only names blob paths are built from.
        if !is_image_id(hash) {
            return Err(Error::new(ErrorCode::InvalidBlobId, "a blob id is a 64-character sha256 hex string"));
        }
        let path = if thumbnail { self.thumbnail_path(hash) } else { self.original_path(hash) };
        std::fs::read(path).map_err(|_| Error::new(ErrorCode::UnknownBlob, format!("no blob {hash}")))
    }
}

#[async_trait]
impl ImageStore for FsImageStore {
    fn probe(&self, bytes: &[u8]) -> Result<()> {
        preprocess::probe(bytes, self.limits).map(|_| ())
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<(Blob, RgbPixels)> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let decoded = preprocess::decode(&bytes, store.limits)?;
            let mime = format!("image/{}", format!("{:?}", decoded.format).to_ascii_lowercase());
            let blob = store.write(&bytes, &decoded.rgb, &mime)?;
            let (width, height) = decoded.rgb.dimensions();
            Ok((blob, RgbPixels { width, height, data: decoded.rgb.into_raw() }))
        })
        .await
        .map_err(|e| Error::internal("image task").with_source(e))?
    }

    async fn read_original(&self, hash: &str) -> Result<Vec<u8>> {
        self.read(hash, false)
    }

    async fn read_thumbnail(&self, hash: &str) -> Result<Vec<u8>> {
        self.read(hash, true)
    }

    async fn delete(&self, hash: &str) -> Result<()> {
        if !is_image_id(hash) {
            return Err(Error::new(ErrorCode::InvalidBlobId, "a blob id is a 64-character sha256 hex string"));
        }
        for path in [self.original_path(hash), self.thumbnail_path(hash)] {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Writes through a temp file unique to this write (concurrent writers of the same photo must
/// not share one), then renames into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

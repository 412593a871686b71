//! The `blobs` table: what is known about each stored photo (content-addressed by sha256; the
//! bytes themselves live in the blob store, not in the database).

use pyxa_core::{Blob, Result};
use sqlx::AnyPool;

use crate::errors::db_err;
use crate::rows::get;

pub(crate) async fn put_blob(pool: &AnyPool, blob: &Blob) -> Result<()> {
    sqlx::query(
        "INSERT INTO blobs (hash, mime, size, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (hash) DO NOTHING",
    )
    .bind(&blob.hash)
    .bind(&blob.mime)
    .bind(blob.size)
    .bind(blob.width)
    .bind(blob.height)
    .bind(pyxa_core::now())
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get_blob(pool: &AnyPool, hash: &str) -> Result<Option<Blob>> {
    let row = sqlx::query("SELECT hash, mime, size, width, height FROM blobs WHERE hash = $1")
        .bind(hash)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.map(|row| {
        Ok(Blob {
            hash: get(&row, "hash")?,
            mime: get(&row, "mime")?,
            size: get(&row, "size")?,
            width: get(&row, "width")?,
            height: get(&row, "height")?,
        })
    })
    .transpose()
}

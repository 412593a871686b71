//! The `blobs` table: what is known about each stored photo (content-addressed by sha256; the
//! bytes themselves live in the blob store, not in the database).

use pyxa_core::{Blob, Result};
use sqlx::AnyPool;

use crate::errors::db_err;
use crate::rows::get;

pub(crate) async fn put_blob(pool: &AnyPool, blob: &Blob) -> Result<()> {
    sqlx::query(
        "INSERT INTO blobs (hash, mime, size, width, height, created_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (hash) DO UPDATE SET used_at = excluded.used_at",
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

pub(crate) async fn unused_blobs(
    pool: &AnyPool,
    among: Option<&[String]>,
    used_before: i64,
    answered_since: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let mut sql = String::from(
        "SELECT hash FROM blobs b WHERE b.used_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM items i WHERE i.blob_hash = b.hash) \
         AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.image_hash = b.hash AND a.created_at >= $2)",
    );
    if let Some(among) = among {
        if among.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..among.len()).map(|i| format!("${}", i + 4)).collect();
        sql.push_str(&format!(" AND b.hash IN ({})", placeholders.join(", ")));
    }
    sql.push_str(" ORDER BY b.used_at LIMIT $3");
    let mut query = sqlx::query(&sql).bind(used_before).bind(answered_since).bind(limit);
    for hash in among.unwrap_or_default() {
        query = query.bind(hash);
    }
    let rows = query.fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(|row| get(row, "hash")).collect()
}

pub(crate) async fn delete_blob(pool: &AnyPool, hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM blobs WHERE hash = $1").bind(hash).execute(pool).await.map_err(db_err)?;
    Ok(())
}

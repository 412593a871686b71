//! The `api_keys` table: hashed keys with their scopes and collections.

use pyxa_core::keys::{ApiKey, NewApiKey, Scope};
use pyxa_core::{now, Error, ErrorCode, Result};
use sqlx::any::AnyRow;
use sqlx::AnyPool;

use crate::errors::db_err;
use crate::rows::{collect, get};

const KEY_COLS: &str = "id, prefix, scopes, collections, created_at";

fn key_from_row(row: &AnyRow) -> Result<ApiKey> {
    let scopes: String = get(row, "scopes")?;
    let collections: Option<String> = get(row, "collections")?;
    let corrupt = |what: &str| Error::internal(format!("stored API key has unreadable {what}"));
    let scopes: Vec<String> = serde_json::from_str(&scopes).map_err(|_| corrupt("scopes"))?;
    Ok(ApiKey {
        id: get(row, "id")?,
        prefix: get(row, "prefix")?,
        scopes: scopes.iter().map(|s| Scope::parse(s)).collect::<Result<_>>()?,
        collections: collections.map(|c| serde_json::from_str(&c).map_err(|_| corrupt("collections"))).transpose()?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) async fn insert(pool: &AnyPool, key: &NewApiKey) -> Result<ApiKey> {
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    let scopes = serde_json::to_string(&scopes).map_err(|e| Error::internal(e.to_string()))?;
    let collections =
        key.collections.as_ref().map(serde_json::to_string).transpose().map_err(|e| Error::internal(e.to_string()))?;
    sqlx::query("INSERT INTO api_keys (id, hash, prefix, scopes, collections, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&key.id)
        .bind(&key.hash)
        .bind(&key.prefix)
        .bind(scopes)
        .bind(collections)
        .bind(now())
        .execute(pool)
        .await
        .map_err(db_err)?;
    let row = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE id = $1"))
        .bind(&key.id)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    key_from_row(&row)
}

pub(crate) async fn find(pool: &AnyPool, hash: &str) -> Result<Option<ApiKey>> {
    let row = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL"))
        .bind(hash)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(key_from_row).transpose()
}

pub(crate) async fn list(pool: &AnyPool) -> Result<Vec<ApiKey>> {
    let rows = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id"))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    collect(rows, key_from_row)
}

pub(crate) async fn revoke(pool: &AnyPool, id: &str) -> Result<()> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(Error::new(ErrorCode::UnknownApiKey, format!("no API key {id}")));
    }
    Ok(())
}

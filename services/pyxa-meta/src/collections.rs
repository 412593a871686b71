//! The `collections` table. An item count is computed on read from the visible items.

use pyxa_core::{Collection, CollectionSettings, Error, ErrorCode, Result};
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind as DbErrorKind;
use sqlx::AnyPool;

use crate::errors::{constraint_kind, corrupt, db_err};
use crate::rows::{collect, get, json_text};

fn collection_from_row(row: &AnyRow) -> Result<Collection> {
    let settings: String = get(row, "settings")?;
    Ok(Collection {
        name: get(row, "name")?,
        description: get(row, "description")?,
        item_count: get(row, "item_count")?,
        created_at: get(row, "created_at")?,
        settings: serde_json::from_str(&settings).map_err(|e| corrupt("collection settings", e))?,
    })
}

pub(crate) async fn update_collection(
    pool: &AnyPool,
    name: &str,
    description: Option<&str>,
    settings: Option<&CollectionSettings>,
) -> Result<Collection> {
    let settings = settings.map(|s| json_text(&serde_json::to_value(s).unwrap_or_default()));
    let done = sqlx::query(
        "UPDATE collections SET description = COALESCE($1, description), settings = COALESCE($2, settings) WHERE name = $3",
    )
    .bind(description)
    .bind(settings)
    .bind(name)
    .execute(pool)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(Error::new(ErrorCode::CollectionNotFound, format!("no collection {name:?}")));
    }
    get_collection(pool, name)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::CollectionNotFound, format!("collection {name:?} vanished")))
}

pub(crate) async fn get_collection(pool: &AnyPool, name: &str) -> Result<Option<Collection>> {
    let row = sqlx::query(
        "SELECT c.name, c.description, c.created_at, c.settings, \
         (SELECT COUNT(*) FROM items i WHERE i.collection = c.name AND i.state <> 'deleting') AS item_count \
         FROM collections c WHERE c.name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(collection_from_row).transpose()
}

pub(crate) async fn create_collection(pool: &AnyPool, name: &str, description: &str) -> Result<Collection> {
    let created_at = pyxa_core::now();
    sqlx::query("INSERT INTO collections (name, description, created_at) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(description)
        .bind(created_at)
        .execute(pool)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => {
                Error::new(ErrorCode::CollectionExists, format!("collection {name:?} already exists"))
            }
            _ => db_err(e),
        })?;
    Ok(Collection {
        name: name.into(),
        description: description.into(),
        item_count: 0,
        created_at,
        settings: CollectionSettings::default(),
    })
}

pub(crate) async fn ensure_collection(pool: &AnyPool, name: &str, description: &str) -> Result<Collection> {
    sqlx::query(
        "INSERT INTO collections (name, description, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(description)
    .bind(pyxa_core::now())
    .execute(pool)
    .await
    .map_err(db_err)?;
    // Deleted between the two statements: report it rather than invent it.
    get_collection(pool, name)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::CollectionNotFound, format!("collection {name:?} vanished")))
}

pub(crate) async fn list_collections(pool: &AnyPool) -> Result<Vec<Collection>> {
    let rows = sqlx::query(
        "SELECT c.name, c.description, c.created_at, c.settings, \
         (SELECT COUNT(*) FROM items i WHERE i.collection = c.name AND i.state <> 'deleting') AS item_count \
         FROM collections c ORDER BY c.name",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, collection_from_row)
}

pub(crate) async fn delete_collection(pool: &AnyPool, name: &str) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // Explicitly, not only by ON DELETE CASCADE: no orphan even where foreign keys are off.
    sqlx::query("DELETE FROM items WHERE collection = $1").bind(name).execute(&mut *tx).await.map_err(db_err)?;
    sqlx::query("DELETE FROM documents WHERE collection = $1").bind(name).execute(&mut *tx).await.map_err(db_err)?;
    let done = sqlx::query("DELETE FROM collections WHERE name = $1").bind(name).execute(&mut *tx).await.map_err(db_err)?;
    if done.rows_affected() == 0 {
        // Nothing was deleted; dropping `tx` rolls back.
        return Err(Error::new(ErrorCode::CollectionNotFound, format!("no collection {name:?}")));
    }
    tx.commit().await.map_err(db_err)
}

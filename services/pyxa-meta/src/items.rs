//! The `items` table: catalogue entries with their vectors and their vector-store state.
//! Items in state `deleting` are invisible to readers but keep their content hash taken until
//! they are purged.

use pyxa_core::{DocumentRef, Error, ErrorCode, IndexState, Item, ItemKind, ItemVectors, LabelCount, NewItem, Result, Timestamp};
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind as DbErrorKind;
use sqlx::AnyPool;

use crate::errors::{constraint_kind, corrupt, db_err};
use crate::rows::{bytes_vector, collect, get, json_text, text_json, vector_bytes};

/// Bound parameters per `IN (...)` list (SQLite allows 32766, Postgres 65535).
const IN_CHUNK: usize = 500;

macro_rules! item_cols {
    () => {
        "id, collection, label, text, kind, metadata, content_hash, blob_hash, tenant, state, created_at, space, ocr_text, \
         document_id, document_title, position"
    };
}
macro_rules! item_vector_cols {
    () => {
        concat!(item_cols!(), ", image_vector, text_vector")
    };
}

fn item_from_row(row: &AnyRow) -> Result<Item> {
    let kind: String = get(row, "kind")?;
    let state: String = get(row, "state")?;
    let metadata: String = get(row, "metadata")?;
    Ok(Item {
        id: get(row, "id")?,
        collection: get(row, "collection")?,
        label: get(row, "label")?,
        text: get(row, "text")?,
        kind: ItemKind::parse(&kind).ok_or_else(|| corrupt("item kind", &kind))?,
        metadata: text_json("item metadata", &metadata)?,
        content_hash: get(row, "content_hash")?,
        blob_hash: get(row, "blob_hash")?,
        tenant: get(row, "tenant")?,
        state: IndexState::parse(&state).ok_or_else(|| corrupt("item state", &state))?,
        space: get(row, "space")?,
        ocr_text: get(row, "ocr_text")?,
        document: document_ref(row)?,
        created_at: get(row, "created_at")?,
    })
}

fn document_ref(row: &AnyRow) -> Result<Option<DocumentRef>> {
    let id: Option<String> = get(row, "document_id")?;
    let Some(id) = id else { return Ok(None) };
    let title: Option<String> = get(row, "document_title")?;
    let position: Option<i64> = get(row, "position")?;
    Ok(Some(DocumentRef { id, title: title.unwrap_or_default(), position: position.unwrap_or(0) }))
}

fn item_vectors_from_row(row: &AnyRow) -> Result<ItemVectors> {
    Ok(ItemVectors {
        item: item_from_row(row)?,
        image_vector: bytes_vector(get(row, "image_vector")?)?,
        text_vector: bytes_vector(get(row, "text_vector")?)?,
    })
}

pub(crate) async fn insert_item(pool: &AnyPool, item: NewItem) -> Result<Item> {
    let now = pyxa_core::now();
    let state = IndexState::Pending;
    sqlx::query(concat!(
        "INSERT INTO items (",
        item_vector_cols!(),
        ", updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $11)"
    ))
    .bind(&item.id)
    .bind(&item.collection)
    .bind(&item.label)
    .bind(&item.text)
    .bind(item.kind.as_str())
    .bind(json_text(&item.metadata))
    .bind(&item.content_hash)
    .bind(&item.blob_hash)
    .bind(&item.tenant)
    .bind(state.as_str())
    .bind(now)
    .bind(&item.space)
    .bind(&item.ocr_text)
    .bind(item.document.as_ref().map(|d| d.id.clone()))
    .bind(item.document.as_ref().map(|d| d.title.clone()))
    .bind(item.document.as_ref().map(|d| d.position))
    .bind(vector_bytes(&item.image_vector))
    .bind(vector_bytes(&item.text_vector))
    .execute(pool)
    .await
    .map_err(|e| match constraint_kind(&e) {
        Some(DbErrorKind::UniqueViolation) => {
            Error::new(ErrorCode::DuplicateItem, format!("collection {:?} already holds this content", item.collection))
        }
        Some(DbErrorKind::ForeignKeyViolation) => {
            Error::new(ErrorCode::UnknownCollection, format!("no collection {:?}", item.collection))
        }
        _ => db_err(e),
    })?;
    Ok(Item {
        id: item.id,
        collection: item.collection,
        label: item.label,
        text: item.text,
        kind: item.kind,
        metadata: item.metadata,
        content_hash: item.content_hash,
        blob_hash: item.blob_hash,
        tenant: item.tenant,
        state,
        space: item.space,
        ocr_text: item.ocr_text,
        document: item.document,
        created_at: now,
    })
}

pub(crate) async fn set_item_state(pool: &AnyPool, item_id: &str, state: IndexState) -> Result<()> {
    let done = sqlx::query("UPDATE items SET state = $1, updated_at = $2 WHERE id = $3")
        .bind(state.as_str())
        .bind(pyxa_core::now())
        .bind(item_id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    one_item_changed(done.rows_affected(), item_id)
}

/// An update addressed one item by id: none changed means there is no such item.
fn one_item_changed(rows: u64, item_id: &str) -> Result<()> {
    if rows == 0 {
        return Err(Error::new(ErrorCode::ItemNotFound, format!("no item {item_id:?}")));
    }
    Ok(())
}

pub(crate) async fn get_item(pool: &AnyPool, collection: &str, item_id: &str) -> Result<Option<Item>> {
    let row =
        sqlx::query(concat!("SELECT ", item_cols!(), " FROM items WHERE collection = $1 AND id = $2 AND state <> 'deleting'"))
            .bind(collection)
            .bind(item_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
    row.as_ref().map(item_from_row).transpose()
}

pub(crate) async fn find_item_by_hash(pool: &AnyPool, collection: &str, content_hash: &str) -> Result<Option<Item>> {
    // Every state, `deleting` included: the hash stays taken until the item is purged, and
    // the caller needs to see why.
    let row = sqlx::query(concat!("SELECT ", item_cols!(), " FROM items WHERE collection = $1 AND content_hash = $2"))
        .bind(collection)
        .bind(content_hash)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(item_from_row).transpose()
}

pub(crate) async fn list_items(
    pool: &AnyPool,
    collection: &str,
    label: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Item>, i64)> {
    let (limit, offset) = (limit.max(0), offset.max(0));
    let (count_sql, page_sql) = match label {
        None => (
            "SELECT COUNT(*) AS n FROM items WHERE collection = $1 AND state <> 'deleting'",
            concat!(
                "SELECT ",
                item_cols!(),
                " FROM items WHERE collection = $1 AND state <> 'deleting' \
                 ORDER BY seq DESC LIMIT $2 OFFSET $3"
            ),
        ),
        Some(_) => (
            "SELECT COUNT(*) AS n FROM items WHERE collection = $1 AND state <> 'deleting' AND label = $2",
            concat!(
                "SELECT ",
                item_cols!(),
                " FROM items WHERE collection = $1 AND state <> 'deleting' AND label = $4 \
                 ORDER BY seq DESC LIMIT $2 OFFSET $3"
            ),
        ),
    };
    let mut count = sqlx::query(count_sql).bind(collection);
    let mut page = sqlx::query(page_sql).bind(collection).bind(limit).bind(offset);
    if let Some(label) = label {
        count = count.bind(label);
        page = page.bind(label);
    }
    let total: i64 = get(&count.fetch_one(pool).await.map_err(db_err)?, "n")?;
    let rows = page.fetch_all(pool).await.map_err(db_err)?;
    Ok((collect(rows, item_from_row)?, total))
}

pub(crate) async fn get_items(pool: &AnyPool, item_ids: &[String]) -> Result<Vec<Item>> {
    let mut found = std::collections::HashMap::with_capacity(item_ids.len());
    for chunk in item_ids.chunks(IN_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql =
            format!(concat!("SELECT ", item_cols!(), " FROM items WHERE state <> 'deleting' AND id IN ({})"), marks.join(", "));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        for row in q.fetch_all(pool).await.map_err(db_err)? {
            let item = item_from_row(&row)?;
            found.insert(item.id.clone(), item);
        }
    }
    // In the order asked for (search hits keep their ranking), each id once.
    Ok(item_ids.iter().filter_map(|id| found.remove(id)).collect())
}

pub(crate) async fn purge_item(pool: &AnyPool, item_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM items WHERE id = $1").bind(item_id).execute(pool).await.map_err(db_err)?;
    Ok(())
}

pub(crate) async fn unsettled_items(pool: &AnyPool, limit: i64, changed_before: Timestamp) -> Result<Vec<ItemVectors>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        item_vector_cols!(),
        " FROM items WHERE state IN ('pending', 'deleting') AND updated_at < $2 ORDER BY seq LIMIT $1"
    ))
    .bind(limit.max(0))
    .bind(changed_before)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, item_vectors_from_row)
}

pub(crate) async fn labels(pool: &AnyPool, collection: &str) -> Result<Vec<LabelCount>> {
    let rows = sqlx::query(
        "SELECT label, COUNT(*) AS n FROM items \
         WHERE collection = $1 AND state <> 'deleting' AND label IS NOT NULL \
         GROUP BY label ORDER BY n DESC, label",
    )
    .bind(collection)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, |row| Ok(LabelCount { label: get(row, "label")?, count: get(row, "n")? }))
}

pub(crate) async fn items_with_vectors(
    pool: &AnyPool,
    collection: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<ItemVectors>> {
    // Keyset pagination by id; "" sorts before every id.
    let rows = sqlx::query(concat!(
        "SELECT ",
        item_vector_cols!(),
        " FROM items WHERE collection = $1 AND state = 'indexed' AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(collection)
    .bind(after_id.unwrap_or(""))
    .bind(limit.max(0))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, item_vectors_from_row)
}

/// `collection = $2` when a collection is given, any collection otherwise (`$2` is NULL).
const COLLECTION_OR_ALL: &str = "($2 IS NULL OR collection = $2)";

pub(crate) async fn items_outside_space(
    pool: &AnyPool,
    collection: Option<&str>,
    space: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<ItemVectors>> {
    // Keyset pagination by id ("" sorts before every id), so items that cannot be re-embedded
    // are passed over instead of returned again.
    let sql = format!(
        concat!(
            "SELECT ",
            item_vector_cols!(),
            " FROM items WHERE state <> 'deleting' AND (space IS NULL OR space <> $1) AND {} AND id > $3 ORDER BY id LIMIT $4"
        ),
        COLLECTION_OR_ALL
    );
    let rows = sqlx::query(&sql)
        .bind(space)
        .bind(collection)
        .bind(after_id.unwrap_or(""))
        .bind(limit.max(0))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    collect(rows, item_vectors_from_row)
}

pub(crate) async fn count_outside_space(pool: &AnyPool, collection: Option<&str>, space: &str) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM items WHERE state <> 'deleting' AND (space IS NULL OR space <> $1) AND {}",
        COLLECTION_OR_ALL
    );
    let row = sqlx::query(&sql).bind(space).bind(collection).fetch_one(pool).await.map_err(db_err)?;
    get(&row, "n")
}

pub(crate) async fn attach_ocr_text(
    pool: &AnyPool,
    item_id: &str,
    ocr_text: &str,
    space: &str,
    text_vector: &[f32],
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE items SET ocr_text = $1, space = $2, text_vector = $3, state = 'pending', updated_at = $4 \
         WHERE id = $5 AND state <> 'deleting'",
    )
    .bind(ocr_text)
    .bind(space)
    .bind(vector_bytes(&Some(text_vector.to_vec())))
    .bind(pyxa_core::now())
    .bind(item_id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    one_item_changed(done.rows_affected(), item_id)
}

pub(crate) async fn replace_item_vectors(
    pool: &AnyPool,
    item_id: &str,
    space: &str,
    image_vector: Option<&[f32]>,
    text_vector: Option<&[f32]>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE items SET space = $1, image_vector = $2, text_vector = $3, state = 'pending', updated_at = $4 \
         WHERE id = $5 AND state <> 'deleting'",
    )
    .bind(space)
    .bind(vector_bytes(&image_vector.map(<[f32]>::to_vec)))
    .bind(vector_bytes(&text_vector.map(<[f32]>::to_vec)))
    .bind(pyxa_core::now())
    .bind(item_id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    one_item_changed(done.rows_affected(), item_id)
}

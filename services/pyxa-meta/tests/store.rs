//! The `MetadataStore` contract, run against SQLite (always, in a temporary folder) and against
//! PostgreSQL when `PYXA_TEST_DATABASE_URL` is set (a fresh database is created on that server
//! for the run and dropped afterwards). `tests/with-postgres.sh` provides such a server.

use std::path::PathBuf;

use pyxa_core::{
    AnswerRecord, Blob, Document, DocumentRef, Embedding, Error, ErrorKind, Feedback, IndexState, ItemKind, MetadataStore,
    NewItem,
};
use pyxa_meta::SqlStore;
use serde_json::json;
use sqlx::Row;

// ------------------------------------------------------------------------------- runners

#[tokio::test]
async fn sqlite_contract() {
    let dir = temp_dir("contract");
    // A folder that does not exist yet: connect creates it.
    let url = format!("sqlite://{}/data/pyxa.db", dir.display());
    run_contract(&url, "sqlite").await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn postgres_contract() {
    let Ok(base) = std::env::var("PYXA_TEST_DATABASE_URL") else {
        // Straight to stderr, past the test harness's output capture, so the skip is seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "postgres_contract: PYXA_TEST_DATABASE_URL is not set, skipping Postgres (see tests/with-postgres.sh)"
        );
        return;
    };
    let name = format!("pyxa_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.expect("connecting to PYXA_TEST_DATABASE_URL");
    sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("CREATE DATABASE");
    run_contract(&with_database(&base, &name), "postgres").await;
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await.expect("DROP DATABASE");
    admin.close().await;
}

#[tokio::test]
async fn sqlite_settings() {
    let dir = temp_dir("settings");
    let store = SqlStore::connect(&format!("sqlite://{}/pyxa.db", dir.display())).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap().get(0);
    let fk: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap().get(0);
    let busy: i64 = sqlx::query("PRAGMA busy_timeout").fetch_one(&mut *conn).await.unwrap().get(0);
    assert_eq!((mode.as_str(), fk), ("wal", 1));
    assert!(busy >= 1000, "busy_timeout {busy}");
    drop(conn);
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn sqlite_memory() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.create_collection("c", "").await.unwrap();
    store.insert_item(new_item("c", "a", Some("x"), None, None)).await.unwrap();
    assert_eq!(store.list_items("c", None, 10, 0).await.unwrap().1, 1);
}

#[tokio::test]
async fn bad_urls_and_unreachable_databases() {
    let e = SqlStore::connect("mysql://localhost/x").await.unwrap_err();
    assert_eq!((e.kind, &*e.code), (ErrorKind::InvalidInput, "invalid_database_url"));

    // mode=rw never creates: the file cannot be opened.
    let dir = temp_dir("unavailable");
    let e = SqlStore::connect(&format!("sqlite://{}/missing/x.db?mode=rw", dir.display())).await.unwrap_err();
    assert_eq!((e.kind, &*e.code), (ErrorKind::Unavailable, "database_unavailable"), "{e}");
    std::fs::remove_dir_all(&dir).ok();

    // A closed pool is a database that is gone.
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.close().await;
    let e = store.list_collections().await.unwrap_err();
    assert_eq!((e.kind, &*e.code), (ErrorKind::Unavailable, "database_unavailable"), "{e}");
}

/// The whole contract on one fresh database, then again after reopening it.
async fn run_contract(url: &str, backend: &str) {
    let store = SqlStore::connect(url).await.unwrap_or_else(|e| panic!("connect {backend}: {e}"));
    assert_eq!(store.backend(), backend);
    collections(&store).await;
    items(&store).await;
    states(&store).await;
    embedding_spaces(&store).await;
    blobs(&store).await;
    answers_and_conversations(&store).await;
    feedback(&store).await;
    concurrency(&store).await;
    documents(&store).await;
    delete_collection(&store).await;
    blob_lifecycle(&store).await;
    photo_text_attached(&store).await;
    let before = snapshot(&store).await;
    store.close().await;

    // Reopening runs the (already applied) migrations again and finds everything.
    let store = SqlStore::connect(url).await.unwrap();
    assert_eq!(snapshot(&store).await, before);
    corrupted_rows(&store).await;
    store.close().await;
}

// ----------------------------------------------------------------------------- the contract

async fn collections(s: &SqlStore) {
    assert!(s.list_collections().await.unwrap().is_empty());
    let birds = s.create_collection("birds", "Birds of the garden").await.unwrap();
    assert_eq!((birds.name.as_str(), birds.description.as_str(), birds.item_count), ("birds", "Birds of the garden", 0));
    assert!(birds.created_at > 1_700_000_000);

    let e = s.create_collection("birds", "again").await.unwrap_err();
    assert_err(&e, ErrorKind::Conflict, "collection_exists");

    // ensure_collection returns the existing one untouched, and creates missing ones.
    assert_eq!(s.ensure_collection("birds", "other").await.unwrap(), birds);
    let plants = s.ensure_collection("plants", "").await.unwrap();
    assert_eq!(plants.name, "plants");
    assert_eq!(s.get_collection("birds").await.unwrap(), Some(birds.clone()));
    assert_eq!(s.get_collection("nope").await.unwrap(), None);

    let names: Vec<String> = s.list_collections().await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["birds", "plants"]);

    // Settings: stored as given, the description kept when not given, and back as they were.
    let settings = pyxa_core::CollectionSettings {
        mode: Some("query".into()),
        system_prompt: Some("只根据资料回答。".into()),
        temperature: Some(0.2),
        top_k: Some(8),
        min_similarity: Some(0.3),
    };
    let updated = s.update_collection("plants", None, Some(&settings)).await.unwrap();
    assert_eq!((updated.settings.clone(), updated.description.as_str()), (settings.clone(), ""));
    let updated = s.update_collection("plants", Some("Green things"), None).await.unwrap();
    assert_eq!((updated.settings, updated.description.as_str()), (settings, "Green things"));
    assert_eq!(s.get_collection("birds").await.unwrap().unwrap().settings, pyxa_core::CollectionSettings::default());
    assert_err(&s.update_collection("nope", Some("x"), None).await.unwrap_err(), ErrorKind::NotFound, "collection_not_found");

    // Inserting into a collection that does not exist.
    let e = s.insert_item(new_item("nope", "h0", None, None, None)).await.unwrap_err();
    assert_err(&e, ErrorKind::NotFound, "unknown_collection");
}

async fn items(s: &SqlStore) {
    let labels = [Some("sparrow"), Some("crow"), Some("sparrow"), None, Some("crow"), Some("sparrow")];
    let mut ids = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let item = new_item("birds", &format!("hash-{i}"), *label, Some(vector(i)), (i % 2 == 0).then(|| vector(100 + i)));
        let stored = s.insert_item(item.clone()).await.unwrap();
        assert_eq!(stored.state, IndexState::Pending);
        assert_eq!(stored.id, item.id);
        assert_eq!(stored.label.as_deref(), *label);
        assert_eq!(stored.metadata, item.metadata);
        assert_eq!(s.get_item("birds", &item.id).await.unwrap(), Some(stored));
        ids.push(item.id);
    }
    let first = s.get_item("birds", &ids[0]).await.unwrap().unwrap();
    assert_eq!(first.kind, ItemKind::ImageText);
    assert_eq!(first.text.as_deref(), Some("text hash-0"));
    assert_eq!(first.blob_hash.as_deref(), Some("blob-hash-0"));
    assert_eq!(first.tenant.as_deref(), Some("t1"));
    assert_eq!(first.ocr_text.as_deref(), Some("printed hash-0"));
    assert_eq!(first.metadata, json!({"source": "test", "n": [1, 2.5, null], "中文": "鸟"}));
    // Another collection does not see it.
    assert_eq!(s.get_item("plants", &ids[0]).await.unwrap(), None);
    assert_eq!(s.get_item("birds", "missing").await.unwrap(), None);

    // Newest first, paginated, with the total.
    let (page, total) = s.list_items("birds", None, 2, 0).await.unwrap();
    assert_eq!(total, 6);
    assert_eq!(page.iter().map(|i| &i.id).collect::<Vec<_>>(), [&ids[5], &ids[4]]);
    let mut all = Vec::new();
    for offset in (0..8).step_by(2) {
        let (page, total) = s.list_items("birds", None, 2, offset).await.unwrap();
        assert_eq!(total, 6);
        all.extend(page.into_iter().map(|i| i.id));
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);
    let (page, total) = s.list_items("birds", None, 10, 100).await.unwrap();
    assert_eq!((page.len(), total), (0, 6));
    let (page, total) = s.list_items("birds", Some("sparrow"), 2, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|i| &i.id).collect::<Vec<_>>(), [&ids[5], &ids[2]]);
    assert_eq!(s.list_items("birds", Some("owl"), 10, 0).await.unwrap(), (vec![], 0));
    assert_eq!(s.list_items("nope", None, 10, 0).await.unwrap(), (vec![], 0));

    // Same content again: duplicate_item, and nothing changed.
    let e = s.insert_item(new_item("birds", "hash-1", Some("eagle"), None, None)).await.unwrap_err();
    assert_err(&e, ErrorKind::Conflict, "duplicate_item");
    assert_eq!(s.list_items("birds", None, 100, 0).await.unwrap().1, 6);
    let existing = s.find_item_by_hash("birds", "hash-1").await.unwrap().unwrap();
    assert_eq!((existing.id.as_str(), existing.label.as_deref()), (ids[1].as_str(), Some("crow")));
    assert_eq!(s.find_item_by_hash("birds", "hash-x").await.unwrap(), None);
    // The same id twice is refused as well.
    let mut again = new_item("birds", "hash-new", None, None, None);
    again.id = ids[0].clone();
    assert_err(&s.insert_item(again).await.unwrap_err(), ErrorKind::Conflict, "duplicate_item");
    // The same content in another collection is fine.
    s.insert_item(new_item("plants", "hash-1", Some("fern"), None, Some(vector(7)))).await.unwrap();

    let labels = s.labels("birds").await.unwrap();
    let labels: Vec<(&str, i64)> = labels.iter().map(|l| (l.label.as_str(), l.count)).collect();
    assert_eq!(labels, [("sparrow", 3), ("crow", 2)]);
    assert!(s.labels("nope").await.unwrap().is_empty());
    assert_eq!(s.get_collection("birds").await.unwrap().unwrap().item_count, 6);

    // get_items: in the order asked for, unknown ids skipped.
    let got = s.get_items(&[ids[3].clone(), "missing".into(), ids[0].clone()]).await.unwrap();
    assert_eq!(got.iter().map(|i| &i.id).collect::<Vec<_>>(), [&ids[3], &ids[0]]);
    assert!(s.get_items(&[]).await.unwrap().is_empty());
    // More ids than one IN list holds.
    let mut many: Vec<String> = (0..1200).map(|i| format!("missing-{i}")).collect();
    many.push(ids[4].clone());
    assert_eq!(s.get_items(&many).await.unwrap().len(), 1);
}

async fn states(s: &SqlStore) {
    let (birds, _) = s.list_items("birds", None, 100, 0).await.unwrap();
    let ids: Vec<String> = birds.iter().rev().map(|i| i.id.clone()).collect(); // oldest first

    // Everything starts pending, vectors exactly as given.
    let unsettled = s.unsettled_items(100, i64::MAX).await.unwrap();
    assert_eq!(unsettled.len(), 7);
    for (i, u) in unsettled.iter().take(6).enumerate() {
        assert_eq!(u.item.id, ids[i]);
        assert_eq!(u.item.state, IndexState::Pending);
        assert_bits(u.image_vector.as_ref(), Some(&vector(i)));
        assert_bits(u.text_vector.as_ref(), (i % 2 == 0).then(|| vector(100 + i)).as_ref());
    }
    assert_eq!(s.unsettled_items(2, i64::MAX).await.unwrap().len(), 2);
    // Rows changed at or after the cutoff may be another replica's write in progress.
    let now = pyxa_core::now();
    assert!(s.unsettled_items(100, now - 3600).await.unwrap().is_empty(), "all were written within the hour");
    assert_eq!(s.unsettled_items(100, now + 1).await.unwrap().len(), 7);

    for id in &ids {
        s.set_item_state(id, IndexState::Indexed).await.unwrap();
    }
    let unsettled = s.unsettled_items(100, i64::MAX).await.unwrap();
    assert_eq!(unsettled.len(), 1);
    assert_eq!(unsettled[0].item.collection, "plants");
    assert_eq!(s.get_item("birds", &ids[0]).await.unwrap().unwrap().state, IndexState::Indexed);

    // Deleting: hidden from the API, listed as unsettled, the hash still taken.
    s.set_item_state(&ids[2], IndexState::Deleting).await.unwrap();
    assert_eq!(s.get_item("birds", &ids[2]).await.unwrap(), None);
    let (page, total) = s.list_items("birds", None, 100, 0).await.unwrap();
    assert_eq!((page.len(), total), (5, 5));
    assert!(page.iter().all(|i| i.id != ids[2]));
    assert_eq!(s.list_items("birds", Some("sparrow"), 100, 0).await.unwrap().1, 2);
    assert_eq!(s.labels("birds").await.unwrap()[0].count, 2);
    assert_eq!(s.get_collection("birds").await.unwrap().unwrap().item_count, 5);
    assert!(s.get_items(&[ids[2].clone()]).await.unwrap().is_empty());
    let unsettled = s.unsettled_items(100, i64::MAX).await.unwrap();
    let deleting: Vec<_> = unsettled.iter().filter(|u| u.item.state == IndexState::Deleting).collect();
    assert_eq!(deleting.len(), 1);
    assert_eq!(deleting[0].item.id, ids[2]);
    assert_bits(deleting[0].image_vector.as_ref(), Some(&vector(2)));
    assert_eq!(s.find_item_by_hash("birds", "hash-2").await.unwrap().unwrap().state, IndexState::Deleting);
    let e = s.insert_item(new_item("birds", "hash-2", None, None, None)).await.unwrap_err();
    assert_err(&e, ErrorKind::Conflict, "duplicate_item");

    // Rebuild feed: indexed items only, by id, in pages.
    let mut expected: Vec<String> = ids.iter().filter(|id| **id != ids[2]).cloned().collect();
    expected.sort();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.items_with_vectors("birds", after.as_deref(), 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        for iv in &page {
            let i = ids.iter().position(|id| *id == iv.item.id).unwrap();
            assert_bits(iv.image_vector.as_ref(), Some(&vector(i)));
            assert_bits(iv.text_vector.as_ref(), (i % 2 == 0).then(|| vector(100 + i)).as_ref());
            seen.push(iv.item.id.clone());
        }
        after = page.last().map(|iv| iv.item.id.clone());
    }
    assert_eq!(seen, expected);
    assert!(s.items_with_vectors("plants", None, 10).await.unwrap().is_empty()); // still pending

    // Purge: gone for good, the hash free again; purging twice is fine.
    s.purge_item(&ids[2]).await.unwrap();
    s.purge_item(&ids[2]).await.unwrap();
    assert!(s.unsettled_items(100, i64::MAX).await.unwrap().iter().all(|u| u.item.id != ids[2]));
    assert_eq!(s.find_item_by_hash("birds", "hash-2").await.unwrap(), None);

    let e = s.set_item_state("missing", IndexState::Indexed).await.unwrap_err();
    assert_err(&e, ErrorKind::NotFound, "item_not_found");
}

/// Items outside the current embedding space are found (by collection or all, page by page),
/// and replacing their vectors moves them into it, pending until the vector store has them.
async fn embedding_spaces(s: &SqlStore) {
    s.create_collection("spaces", "").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut item = new_item("spaces", &format!("space-{i}"), Some("x"), Some(vector(i)), None);
        item.space = if i == 4 { None } else { Some("bundle@1".into()) };
        ids.push(s.insert_item(item).await.unwrap().id);
    }
    assert_eq!(s.count_outside_space(Some("spaces"), "bundle@1").await.unwrap(), 1, "the one without a space");
    assert_eq!(s.count_outside_space(Some("spaces"), "bundle@2").await.unwrap(), 5);
    let first = s.items_outside_space(Some("spaces"), "bundle@2", None, 3).await.unwrap();
    let rest = s.items_outside_space(Some("spaces"), "bundle@2", Some(&first[2].item.id), 3).await.unwrap();
    assert_eq!((first.len(), rest.len()), (3, 2));
    let new_vector = vector(42);
    s.replace_item_vectors(&ids[0], "bundle@2", Some(&new_vector), None).await.unwrap();
    let moved = s.get_item("spaces", &ids[0]).await.unwrap().unwrap();
    assert_eq!((moved.space.as_deref(), moved.state), (Some("bundle@2"), IndexState::Pending));
    let pending = s.unsettled_items(100, i64::MAX).await.unwrap();
    let stored = pending.iter().find(|iv| iv.item.id == ids[0]).unwrap();
    assert_eq!(stored.image_vector.as_ref(), Some(&new_vector));
    assert!(s.count_outside_space(None, "bundle@2").await.unwrap() >= 4, "all collections count");
    assert_eq!(s.count_outside_space(Some("spaces"), "bundle@2").await.unwrap(), 4);
    assert_eq!(s.replace_item_vectors("no-such-item", "bundle@2", None, None).await.unwrap_err().code, "item_not_found");
    s.delete_collection("spaces").await.unwrap();
}

async fn blobs(s: &SqlStore) {
    let blob = Blob { hash: "ab".repeat(32), mime: "image/jpeg".into(), size: 123_456, width: 640, height: 480 };
    s.put_blob(&blob).await.unwrap();
    // Content-addressed: the second put changes nothing and does not fail.
    s.put_blob(&Blob { mime: "image/png".into(), ..blob.clone() }).await.unwrap();
    assert_eq!(s.get_blob(&blob.hash).await.unwrap(), Some(blob));
    assert_eq!(s.get_blob("cd").await.unwrap(), None);
}

/// Which photos nothing keeps: no item holds them, no answer since a time shows them, and they
/// were last used before a time.
async fn blob_lifecycle(s: &SqlStore) {
    let [held, shown, loose] = ["e1", "e2", "e3"].map(|h| h.repeat(32));
    for hash in [&held, &shown, &loose] {
        s.put_blob(&Blob { hash: hash.clone(), mime: "image/png".into(), size: 1, width: 1, height: 1 }).await.unwrap();
    }
    s.create_collection("lifecycle", "").await.unwrap();
    s.insert_item(NewItem { blob_hash: Some(held.clone()), ..new_item("lifecycle", "lc1", None, None, None) }).await.unwrap();
    s.insert_answer(&AnswerRecord { image_hash: Some(shown.clone()), ..answer("lc-a", "lc-c", "What is it?", 5_000, None) })
        .await
        .unwrap();
    let all = [held.clone(), shown.clone(), loose.clone()];
    assert_eq!(unused(s, Some(&all), i64::MAX, 0).await, vec![loose.clone()], "the answer keeps its photo");
    assert_eq!(unused(s, Some(&all), i64::MAX, 6_000).await, vec![shown.clone(), loose.clone()], "an older answer does not");
    assert_eq!(unused(s, Some(&all), 0, 6_000).await, Vec::<String>::new(), "all were used after time 0");
    assert!(unused(s, None, i64::MAX, 6_000).await.contains(&loose));
    assert_eq!(unused(s, Some(&[]), i64::MAX, 0).await, Vec::<String>::new());
    s.delete_blob(&loose).await.unwrap();
    assert_eq!(s.get_blob(&loose).await.unwrap(), None);
    assert!(s.get_blob(&held).await.unwrap().is_some());
}

/// Text read from a photo after its item was stored: kept with the item, which waits (pending)
/// for its point to be written again.
async fn photo_text_attached(s: &SqlStore) {
    let item = s.insert_item(new_item("lifecycle", "ocr1", None, Some(vector(7)), None)).await.unwrap();
    s.set_item_state(&item.id, IndexState::Indexed).await.unwrap();
    s.attach_ocr_text(&item.id, "Crisp Almond Cookies 杏仁饼", "bundle@2", &vector(8)).await.unwrap();
    let got = s.get_item("lifecycle", &item.id).await.unwrap().unwrap();
    assert_eq!((got.ocr_text.as_deref(), got.state), (Some("Crisp Almond Cookies 杏仁饼"), IndexState::Pending));
    let e = s.attach_ocr_text("no-such-item", "x", "bundle@2", &vector(8)).await.unwrap_err();
    assert_err(&e, ErrorKind::NotFound, "item_not_found");
    s.purge_item(&item.id).await.unwrap();
}

async fn unused(s: &SqlStore, among: Option<&[String]>, used_before: i64, answered_since: i64) -> Vec<String> {
    let mut got = s.unused_blobs(among, used_before, answered_since, 10).await.unwrap();
    got.sort();
    got
}

async fn answers_and_conversations(s: &SqlStore) {
    let a1 = answer("a1", "c1", "  What bird\nis this?  ", 1_000, Some(vector(42)));
    let a2 = answer("a2", "c1", "And its call?", 1_000, None);
    let b1 = answer("b1", "c2", "Which fern?", 900, None);
    for a in [&a1, &a2, &b1] {
        s.insert_answer(a).await.unwrap();
    }

    let got = s.get_answer("a1").await.unwrap().unwrap();
    assert_answer(&got, &a1);
    assert_bits(got.image_vector.as_ref(), Some(&vector(42)));
    assert!(s.get_answer("a2").await.unwrap().unwrap().image_vector.is_none());
    assert!(s.get_answer("zz").await.unwrap().is_none());

    let (summary, turns) = s.get_conversation("c1").await.unwrap().unwrap();
    assert_eq!(summary.title, "What bird is this?");
    assert_eq!((summary.collection.as_str(), summary.turns), ("birds", 2));
    assert_eq!((summary.created_at, summary.updated_at), (1_000, 1_000));
    assert_eq!(turns.iter().map(|a| a.answer_id.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
    assert_answer(&turns[0], &a1);
    assert_answer(&turns[1], &a2);
    assert!(s.get_conversation("c9").await.unwrap().is_none());

    let list = s.list_conversations(10).await.unwrap();
    assert_eq!(list.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c1", "c2"]);
    assert_eq!(list[1].turns, 1);

    // A later turn in c2 makes it the most recent, even within the same second.
    s.insert_answer(&answer("b2", "c2", "Where does it grow?", 1_000, None)).await.unwrap();
    let list = s.list_conversations(10).await.unwrap();
    assert_eq!(list.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c2", "c1"]);
    assert_eq!((list[0].title.as_str(), list[0].turns, list[0].created_at, list[0].updated_at), ("Which fern?", 2, 900, 1_000));
    assert_eq!(s.list_conversations(1).await.unwrap().len(), 1);

    // A duplicate answer id changes nothing.
    let e = s.insert_answer(&answer("a1", "c3", "dup", 2_000, None)).await.unwrap_err();
    assert_err(&e, ErrorKind::Conflict, "duplicate_answer");
    assert!(s.get_conversation("c3").await.unwrap().is_none());
    assert_eq!(s.list_conversations(10).await.unwrap().len(), 2);
}

async fn feedback(s: &SqlStore) {
    let fb = Feedback {
        id: "f1".into(),
        answer_id: "a1".into(),
        correct: Some(false),
        label: Some("robin".into()),
        item_id: None,
        created_at: 1_001,
    };
    s.insert_feedback(&fb).await.unwrap();
    s.insert_feedback(&Feedback { id: "f2".into(), correct: None, label: None, item_id: Some("i".into()), ..fb.clone() })
        .await
        .unwrap();
    assert_err(&s.insert_feedback(&fb).await.unwrap_err(), ErrorKind::Conflict, "duplicate_feedback");
    let e = s.insert_feedback(&Feedback { id: "f3".into(), answer_id: "zz".into(), ..fb.clone() }).await.unwrap_err();
    assert_err(&e, ErrorKind::NotFound, "unknown_answer");

    let rows = sqlx::query("SELECT id, correct, label FROM feedback ORDER BY id").fetch_all(s.pool()).await.unwrap();
    let rows: Vec<(String, Option<i64>, Option<String>)> =
        rows.iter().map(|r| (r.get("id"), r.get("correct"), r.get("label"))).collect();
    assert_eq!(rows, [("f1".into(), Some(0), Some("robin".into())), ("f2".into(), None, None)]);
}

/// Many writers at once: every insert lands exactly once, and a raced duplicate loses cleanly.
async fn concurrency(s: &SqlStore) {
    s.create_collection("busy", "").await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let s = s.clone();
        tasks.spawn(async move {
            // 16 distinct hashes, 8 of them raced twice.
            let item = new_item("busy", &format!("busy-{}", i % 16), None, Some(vector(i)), None);
            let turn = answer(&format!("busy-a{i}"), "busy-conv", "busy?", 3_000 + i as i64, None);
            (s.insert_item(item).await, s.insert_answer(&turn).await)
        });
    }
    let (mut ok, mut dup) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (item, turn) = r.unwrap();
        match item {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_err(&e, ErrorKind::Conflict, "duplicate_item");
                dup += 1;
            }
        }
        turn.unwrap();
    }
    assert_eq!((ok, dup), (16, 8));
    assert_eq!(s.list_items("busy", None, 100, 0).await.unwrap().1, 16);
    let (summary, turns) = s.get_conversation("busy-conv").await.unwrap().unwrap();
    assert_eq!((summary.turns, turns.len(), summary.updated_at), (24, 24, 3_023));
}

async fn documents(s: &SqlStore) {
    let doc = |id: &str, hash: &str| Document {
        id: id.into(),
        collection: "birds".into(),
        title: "Garden birds 花园鸟类".into(),
        file_name: "birds.md".into(),
        mime: "text/markdown".into(),
        bytes: 1234,
        content_hash: hash.into(),
        passages: 2,
        state: IndexState::Pending,
        created_at: 5_000,
    };
    s.insert_document(&doc("d1", "file-1")).await.unwrap();
    let e = s.insert_document(&doc("d2", "file-1")).await.unwrap_err();
    assert_err(&e, ErrorKind::Conflict, "duplicate_document");
    for position in 0..2 {
        let mut item = new_item("birds", &format!("d1#{position}"), None, None, Some(vector(position)));
        item.kind = ItemKind::Passage;
        item.document =
            Some(DocumentRef { id: "d1".into(), title: "Garden birds 花园鸟类".into(), position: position as i64 });
        let stored = s.insert_item(item).await.unwrap();
        let back = s.get_item("birds", &stored.id).await.unwrap().unwrap();
        assert_eq!((back.kind, back.document.as_ref().map(|d| d.position)), (ItemKind::Passage, Some(position as i64)));
        assert_eq!(back.document.unwrap().title, "Garden birds 花园鸟类");
    }
    assert_eq!(s.unsettled_documents(i64::MAX).await.unwrap().len(), 1);
    // A document whose passages are still being written is not left over by a crash.
    let created_at = doc("d1", "file-1").created_at;
    assert!(s.unsettled_documents(created_at + 1).await.unwrap().is_empty(), "its passages were written just now");
    assert!(s.unsettled_documents(created_at).await.unwrap().is_empty());
    assert_eq!(s.unsettled_documents(pyxa_core::now() + 1).await.unwrap().len(), 1);
    s.set_document_state("d1", IndexState::Indexed).await.unwrap();
    assert!(s.unsettled_documents(i64::MAX).await.unwrap().is_empty());
    let listed = s.list_documents("birds").await.unwrap();
    assert_eq!(listed, vec![Document { state: IndexState::Indexed, ..doc("d1", "file-1") }]);
    assert_eq!(s.find_document_by_hash("birds", "file-1").await.unwrap().unwrap().id, "d1");
    assert_eq!(s.document_item_ids("d1").await.unwrap().len(), 2);
    assert_err(&s.set_document_state("nope", IndexState::Indexed).await.unwrap_err(), ErrorKind::NotFound, "unknown_document");

    // Purging takes the passages with it; other items stay.
    let before = s.list_items("birds", None, 100, 0).await.unwrap().1;
    s.purge_document("d1").await.unwrap();
    assert_eq!(s.list_items("birds", None, 100, 0).await.unwrap().1, before - 2);
    assert!(s.get_document("birds", "d1").await.unwrap().is_none());
    assert!(s.document_item_ids("d1").await.unwrap().is_empty());
    // A document left in the collection goes with it (see delete_collection).
    s.insert_document(&doc("d3", "file-3")).await.unwrap();
}

async fn delete_collection(s: &SqlStore) {
    let items_of = |name: &'static str| async move {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM items WHERE collection = $1").bind(name).fetch_one(s.pool()).await.unwrap();
        row.get::<i64, _>("n")
    };
    assert_eq!(items_of("birds").await, 5);
    s.delete_collection("birds").await.unwrap();
    s.delete_collection("busy").await.unwrap();
    assert_eq!(items_of("birds").await, 0);
    assert_eq!(items_of("busy").await, 0);
    assert!(s.find_document_by_hash("birds", "file-3").await.unwrap().is_none());
    assert_eq!(s.get_collection("birds").await.unwrap(), None);
    let names: Vec<String> = s.list_collections().await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["plants"]);
    assert_eq!(s.list_items("birds", None, 10, 0).await.unwrap().1, 0);
    assert!(s.labels("birds").await.unwrap().is_empty());
    assert!(s.items_with_vectors("birds", None, 10).await.unwrap().is_empty());
    // Other collections keep theirs.
    assert_eq!(s.list_items("plants", None, 10, 0).await.unwrap().1, 1);
    // History stays.
    assert!(s.get_answer("a1").await.unwrap().is_some());
    assert_eq!(s.get_conversation("c1").await.unwrap().unwrap().1.len(), 2);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM feedback").fetch_one(s.pool()).await.unwrap().get("n");
    assert_eq!(n, 2);

    assert_err(&s.delete_collection("birds").await.unwrap_err(), ErrorKind::NotFound, "collection_not_found");
    let e = s.insert_item(new_item("birds", "hash-0", None, None, None)).await.unwrap_err();
    assert_err(&e, ErrorKind::NotFound, "unknown_collection");
    // Recreated, it starts empty and its old hashes are free.
    s.create_collection("birds", "again").await.unwrap();
    assert_eq!(s.get_collection("birds").await.unwrap().unwrap().item_count, 0);
    s.insert_item(new_item("birds", "hash-0", Some("wren"), None, None)).await.unwrap();
}

/// A bad row is an `internal` error, never a panic.
async fn corrupted_rows(s: &SqlStore) {
    let item = s.insert_item(new_item("plants", "corrupt", Some("moss"), Some(vector(1)), None)).await.unwrap();
    s.set_item_state(&item.id, IndexState::Indexed).await.unwrap();
    let mut corruptions = vec![
        "UPDATE items SET metadata = 'not json' WHERE id = $1",
        "UPDATE items SET state = 'bogus' WHERE id = $1",
        "UPDATE items SET kind = 'video' WHERE id = $1",
    ];
    if s.backend() == "sqlite" {
        corruptions.push("UPDATE items SET label = x'ff00' WHERE id = $1"); // a blob in a text column
        corruptions.push("UPDATE items SET created_at = 'soon' WHERE id = $1");
    }
    for sql in corruptions {
        sqlx::query(sql).bind(&item.id).execute(s.pool()).await.unwrap();
        let e = s.get_item("plants", &item.id).await.unwrap_err();
        assert_err(&e, ErrorKind::Internal, "internal");
        assert_err(&s.list_items("plants", None, 10, 0).await.unwrap_err(), ErrorKind::Internal, "internal");
        // put it back
        sqlx::query(
            "UPDATE items SET metadata = '{}', state = 'indexed', kind = 'image', label = 'moss', created_at = 1 \
             WHERE id = $1",
        )
        .bind(&item.id)
        .execute(s.pool())
        .await
        .unwrap();
        assert!(s.get_item("plants", &item.id).await.unwrap().is_some());
    }
    // A vector whose length is not a whole number of f32.
    sqlx::query("UPDATE items SET image_vector = $1 WHERE id = $2")
        .bind(vec![1u8, 2, 3])
        .bind(&item.id)
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.items_with_vectors("plants", None, 10).await.unwrap_err();
    assert_err(&e, ErrorKind::Internal, "internal");
    assert!(s.get_item("plants", &item.id).await.unwrap().is_some()); // vectors not read there
    s.purge_item(&item.id).await.unwrap();

    sqlx::query("UPDATE answers SET candidates = '[' WHERE id = 'a1'").execute(s.pool()).await.unwrap();
    assert_err(&s.get_answer("a1").await.unwrap_err(), ErrorKind::Internal, "internal");
    assert_err(&s.get_conversation("c1").await.unwrap_err(), ErrorKind::Internal, "internal");
}

/// Everything observable, as text, to compare a store before and after reopening.
async fn snapshot(s: &SqlStore) -> String {
    let mut out = format!("{:?}\n", s.list_collections().await.unwrap());
    for c in s.list_collections().await.unwrap() {
        out += &format!("{:?}\n{:?}\n", s.list_items(&c.name, None, 1000, 0).await.unwrap(), s.labels(&c.name).await.unwrap());
    }
    for iv in s.unsettled_items(1000, i64::MAX).await.unwrap() {
        out += &format!("{:?} {:?} {:?}\n", iv.item, bits(iv.image_vector.as_ref()), bits(iv.text_vector.as_ref()));
    }
    for c in s.list_conversations(100).await.unwrap() {
        let (summary, turns) = s.get_conversation(&c.id).await.unwrap().unwrap();
        out += &format!("{summary:?}\n");
        for t in turns {
            out += &format!("{:?} {:?}\n", serde_json::to_string(&t).unwrap(), bits(t.image_vector.as_ref()));
        }
    }
    out += &format!("{:?}\n", s.get_blob(&"ab".repeat(32)).await.unwrap());
    out
}

// ------------------------------------------------------------------------------- helpers

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyxa-meta-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `base` with its database name replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let (url, query) = match base.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (base, None),
    };
    let authority_start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = url[authority_start..].find('/').map(|i| i + authority_start).unwrap_or(url.len());
    let mut out = format!("{}/{name}", &url[..path_start]);
    if let Some(q) = query {
        out = format!("{out}?{q}");
    }
    out
}

fn new_item(collection: &str, hash: &str, label: Option<&str>, image: Option<Embedding>, text: Option<Embedding>) -> NewItem {
    NewItem {
        id: uuid::Uuid::new_v4().to_string(),
        collection: collection.into(),
        label: label.map(Into::into),
        text: Some(format!("text {hash}")),
        ocr_text: Some(format!("printed {hash}")),
        kind: ItemKind::ImageText,
        metadata: json!({"source": "test", "n": [1, 2.5, null], "中文": "鸟"}),
        content_hash: hash.into(),
        blob_hash: Some(format!("blob-{hash}")),
        tenant: Some("t1".into()),
        space: Some("bundle@1".into()),
        document: None,
        image_vector: image,
        text_vector: text,
    }
}

/// A 512-d vector with awkward values (negative zero, subnormals, extremes) that must survive
/// storage bit for bit.
fn vector(seed: usize) -> Embedding {
    let mut v: Embedding = (0..512).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 2003.0 - 0.5).collect();
    v[0] = -0.0;
    v[1] = f32::MIN_POSITIVE / 3.0;
    v[2] = f32::MAX;
    v[3] = -f32::MIN_POSITIVE;
    v[4] = 1.0 / 3.0;
    v[5] = seed as f32;
    v
}

fn bits(v: Option<&Embedding>) -> Option<Vec<u32>> {
    v.map(|v| v.iter().map(|x| x.to_bits()).collect())
}

fn assert_bits(got: Option<&Embedding>, want: Option<&Embedding>) {
    assert_eq!(bits(got), bits(want), "vectors differ");
}

fn answer(id: &str, conversation: &str, prompt: &str, at: i64, image_vector: Option<Embedding>) -> AnswerRecord {
    AnswerRecord {
        answer_id: id.into(),
        conversation_id: conversation.into(),
        collection: "birds".into(),
        prompt: prompt.into(),
        answer: format!("answer to {prompt}"),
        language: "en".into(),
        mode: "image".into(),
        image_hash: image_vector.as_ref().map(|_| "ab".repeat(32)),
        image_vector,
        candidates: json!([{"label": "sparrow", "score": 0.91}, {"label": "wren", "score": 0.05}]),
        citations: json!([{"item_id": "x", "n": 1}]),
        created_at: at,
        owner: None,
    }
}

fn assert_answer(got: &AnswerRecord, want: &AnswerRecord) {
    assert_eq!(serde_json::to_value(got).unwrap(), serde_json::to_value(want).unwrap());
    assert_bits(got.image_vector.as_ref(), want.image_vector.as_ref());
}

fn assert_err(e: &Error, kind: ErrorKind, code: &str) {
    assert_eq!((e.kind, &*e.code), (kind, code), "unexpected error: {e}");
}

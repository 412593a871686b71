//! The real HTTP app in-process (`create_app`, no socket) over fakes of every engine trait and
//! a real SQLite file: routes, typed requests, JSON errors, streaming, OpenAPI.

use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use base64::Engine as _;
use pyxa::bootstrap::App;
use pyxa::http::{create_app, AppState, HttpLimits};
use pyxa_core::Generator;
use pyxa_engine::testing::{photo, FakeEncoder, FakeImageStore, MemoryVectorStore, ScriptedGenerator};
use pyxa_engine::{AnswerSettings, KnowledgeBase};
use serde_json::{json, Value};

const CLASSES: &[(&str, &str)] = &[("tabby cat", "虎斑猫"), ("espresso", "浓缩咖啡"), ("rocket", "火箭")];
const BOUNDARY: &str = "pyxa-test-boundary";

async fn state(tag: &str, generator: Option<Arc<dyn Generator>>) -> AppState {
    let dir = std::env::temp_dir().join(format!("pyxa-fast-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.sqlite").display());
    let meta = Arc::new(pyxa_meta::SqlStore::connect(&url).await.unwrap());
    let kb = KnowledgeBase::new(
        Arc::new(FakeEncoder::new(CLASSES)),
        Arc::new(MemoryVectorStore::default()),
        meta,
        Arc::new(FakeImageStore::default()),
    );
    kb.open().await.unwrap();
    let splitter = pyxa_docs::Splitter::by_characters(pyxa_docs::PassageSize::default()).unwrap();
    let kb = kb.with_document_parser(Arc::new(pyxa_docs::Parser::new(splitter)));
    AppState {
        app: App::new(kb, generator, AnswerSettings::default()),
        limits: HttpLimits { max_upload_bytes: 1 << 20, allow_remote_images: false, ..HttpLimits::default() },
        auth: Default::default(),
    }
}

fn scripted(reply: &str) -> Option<Arc<dyn Generator>> {
    Some(Arc::new(ScriptedGenerator::replying(reply)))
}

/// A multipart body with text fields and an optional `image` file part.
fn multipart(fields: &[(&str, &str)], image: Option<&[u8]>) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
    }
    if let Some(bytes) = image {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n")
                .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(create_app($state)).await
    };
}

async fn send<S, B>(app: &S, req: TestRequest) -> (StatusCode, actix_web::http::header::HeaderMap, Vec<u8>)
where
    S: actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await.to_vec();
    (status, headers, body)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[actix_web::test]
async fn health_reports_the_providers_in_use_and_head_works() {
    let app = app!(state("health", scripted("ok")).await);
    let (status, _, body) = send(&app, TestRequest::get().uri("/health")).await;
    assert_eq!(status, 200);
    let v = json_of(&body);
    assert_eq!(v["models"]["execution_providers"], json!(["FakeExecutionProvider"]));
    assert_eq!(v["stores"]["sql"]["backend"], "sqlite");
    assert_eq!(v["generator"]["backend"], "scripted");
    // (The server drops HEAD bodies on the wire; in-process only the status is observable.)
    let (status, _, _) = send(&app, TestRequest::default().method(Method::HEAD).uri("/health")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(&app, TestRequest::get().uri("/metrics")).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("pyxa_http_request_duration_seconds"));
}

#[actix_web::test]
async fn every_error_is_json_with_a_stable_code() {
    let app = app!(state("errors", None).await);
    let cases: Vec<(TestRequest, u16, &str)> = vec![
        (TestRequest::get().uri("/nope/deeper"), 404, "route_not_found"),
        (TestRequest::get().uri("/v1/nope"), 404, "route_not_found"),
        (TestRequest::delete().uri("/health"), 405, "method_not_allowed"),
        (TestRequest::put().uri("/v1/collections"), 405, "method_not_allowed"),
        (TestRequest::get().uri("/v1/collections/Bad%20Name"), 400, "invalid_collection_name"),
        (TestRequest::get().uri("/v1/collections/missing"), 404, "unknown_collection"),
        (TestRequest::get().uri("/v1/collections/default/items?limit=0"), 400, "invalid_pagination"),
        (TestRequest::get().uri("/v1/collections/default/items?limit=abc"), 400, "invalid_query"),
        (
            TestRequest::post().uri("/v1/collections").insert_header(("content-type", "application/json")).set_payload("{"),
            400,
            "invalid_json",
        ),
        (
            TestRequest::post().uri("/v1/collections").insert_header(("content-type", "text/plain")).set_payload("x"),
            415,
            "unsupported_content_type",
        ),
        (
            TestRequest::post().uri("/v1/ask").insert_header(("content-type", "text/plain")).set_payload("x"),
            415,
            "unsupported_content_type",
        ),
        (TestRequest::post().uri("/v1/ask").set_json(json!({})), 400, "empty_question"),
        (TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "hi", "top_k": "many"})), 400, "invalid_top_k"),
        (TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "hi", "mode": "loud"})), 400, "invalid_mode"),
        (TestRequest::post().uri("/v1/ask").set_json(json!({"image_base64": "%%%"})), 400, "invalid_base64"),
        (
            TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "hi", "conversation_id": "nope"})),
            404,
            "unknown_conversation",
        ),
        (TestRequest::post().uri("/v1/search").set_json(json!({"filter": "{not json"})), 400, "invalid_filter"),
        (TestRequest::post().uri("/v1/search").set_json(json!({})), 400, "empty_query"),
        (TestRequest::post().uri("/v1/answers/nope/feedback").set_json(json!({"correct": true})), 404, "unknown_answer"),
        (TestRequest::get().uri("/v1/conversations/nope"), 404, "unknown_conversation"),
        (TestRequest::get().uri("/v1/blobs/not-a-hash"), 400, "invalid_blob_id"),
        (TestRequest::get().uri(&format!("/v1/blobs/{}", "a".repeat(64))), 404, "unknown_blob"),
        (TestRequest::post().uri("/v1/chat/completions").set_json(json!({"messages": []})), 400, "empty_question"),
        (TestRequest::delete().uri("/v1/collections/default"), 409, "collection_protected"),
    ];
    for (req, status, code) in cases {
        let (got, headers, body) = send(&app, req).await;
        let v = json_of(&body);
        assert_eq!((got.as_u16(), v["error"]["code"].as_str().unwrap_or("")), (status, code), "{v}");
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    }
}

#[actix_web::test]
async fn a_failing_dependency_is_5xx_without_internal_details_and_with_retry_after() {
    let mut config = pyxa_llm::OpenAiConfig::new("http://127.0.0.1:1/v1", "m");
    config.timeout = std::time::Duration::from_secs(2);
    let generator: Arc<dyn Generator> = Arc::new(pyxa_llm::OpenAiGenerator::new(config).unwrap());
    let app = app!(state("upstream", Some(generator)).await);
    let (status, headers, body) = send(&app, TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "hello there"}))).await;
    let v = json_of(&body);
    assert_eq!((status.as_u16(), v["error"]["code"].as_str().unwrap()), (503, "llm_unavailable"), "{v}");
    assert!(!v["error"]["message"].as_str().unwrap().contains("127.0.0.1"), "no internal details: {v}");
    assert!(v["error"]["error_id"].is_string());
    assert!(headers.contains_key("retry-after"));
}

#[actix_web::test]
async fn items_upload_list_serve_and_delete() {
    let app = app!(state("items", None).await);
    let (ct, body) = multipart(&[("label", "cat"), ("metadata", r#"{"k": 1}"#)], Some(&photo("grey cat")));
    let (status, _, resp) = send(
        &app,
        TestRequest::post()
            .uri("/v1/collections/default/items")
            .insert_header(("content-type", ct.clone()))
            .set_payload(body.clone()),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let item = json_of(&resp);
    assert_eq!(
        (item["label"].as_str(), item["kind"].as_str(), item["metadata"]["k"].as_i64()),
        (Some("cat"), Some("image"), Some(1))
    );
    let thumb = item["thumbnail_url"].as_str().unwrap().to_string();
    assert!(thumb.starts_with("/v1/blobs/") && thumb.ends_with("/thumbnail"));
    let (status, _, _) = send(&app, TestRequest::get().uri(&thumb)).await;
    assert_eq!(status, 200);
    let (status, _, resp) = send(
        &app,
        TestRequest::post().uri("/v1/collections/default/items").insert_header(("content-type", ct)).set_payload(body),
    )
    .await;
    assert_eq!((status.as_u16(), json_of(&resp)["error"]["code"].as_str()), (409, Some("duplicate_item")));
    let (ct, body) = multipart(&[("label", "x")], Some(b"%PDF-1.4 not a photo"));
    let (status, _, resp) = send(
        &app,
        TestRequest::post().uri("/v1/collections/default/items").insert_header(("content-type", ct)).set_payload(body),
    )
    .await;
    assert_eq!((status.as_u16(), json_of(&resp)["error"]["code"].as_str()), (415, Some("not_an_image")));
    let (ct, body) = multipart(&[("text", "a note"), ("metadata", "{oops")], None);
    let (status, _, resp) = send(
        &app,
        TestRequest::post().uri("/v1/collections/default/items").insert_header(("content-type", ct)).set_payload(body),
    )
    .await;
    assert_eq!((status.as_u16(), json_of(&resp)["error"]["code"].as_str()), (400, Some("invalid_metadata")));
    let (status, _, resp) = send(
        &app,
        TestRequest::post()
            .uri("/v1/collections/default/items")
            .set_json(json!({"text": "espresso machine note", "label": "note", "metadata": {"a": true}})),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let (_, _, resp) = send(&app, TestRequest::get().uri("/v1/collections/default/items?limit=10")).await;
    let page = json_of(&resp);
    assert_eq!(page["total"], 2);
    let id = item["id"].as_str().unwrap();
    let (status, _, _) = send(&app, TestRequest::delete().uri(&format!("/v1/collections/default/items/{id}"))).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(&app, TestRequest::get().uri(&format!("/v1/collections/default/items/{id}"))).await;
    assert_eq!(status, 404);
}

/// Uploads `words` as a photo item of `collection`; returns its id and thumbnail URL.
async fn add_photo<S, B>(app: &S, collection: &str, words: &str) -> (String, String)
where
    S: actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let (ct, body) = multipart(&[("label", "x")], Some(&photo(words)));
    let uri = format!("/v1/collections/{collection}/items");
    let (status, _, resp) = send(app, TestRequest::post().uri(&uri).insert_header(("content-type", ct)).set_payload(body)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let item = json_of(&resp);
    (item["id"].as_str().unwrap().to_string(), item["thumbnail_url"].as_str().unwrap().to_string())
}

#[actix_web::test]
async fn photos_go_with_their_last_item_unless_an_answer_shows_them_and_asked_photos_expire() {
    let st = state("photos", scripted("A photo.")).await;
    let kb = st.app.kb.clone();
    let app = app!(st);
    let status_of = |uri: String| {
        let app = &app;
        async move { send(app, TestRequest::get().uri(&uri)).await.0.as_u16() }
    };
    // Its only item deleted: the photo goes.
    let (id, thumb) = add_photo(&app, "default", "red fox snow").await;
    let original = thumb.trim_end_matches("/thumbnail").to_string();
    assert_eq!((status_of(thumb.clone()).await, status_of(original.clone()).await), (200, 200));
    send(&app, TestRequest::delete().uri(&format!("/v1/collections/default/items/{id}"))).await;
    assert_eq!((status_of(thumb).await, status_of(original).await), (404, 404));

    // In two collections: it stays until the second one is deleted.
    send(&app, TestRequest::post().uri("/v1/collections").set_json(json!({"name": "pets"}))).await;
    let (id, thumb) = add_photo(&app, "default", "brown dog ball").await;
    add_photo(&app, "pets", "brown dog ball").await;
    send(&app, TestRequest::delete().uri(&format!("/v1/collections/default/items/{id}"))).await;
    assert_eq!(status_of(thumb.clone()).await, 200, "another item still holds it");
    let (status, _, _) = send(&app, TestRequest::delete().uri("/v1/collections/pets")).await;
    assert_eq!(status, 204);
    assert_eq!(status_of(thumb).await, 404, "deleting the collection deleted its photos");

    // Shown by an answer: kept after its item goes, until the retention has passed.
    let (id, thumb) = add_photo(&app, "default", "grey cat window").await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(photo("grey cat window"));
    let (status, _, _) =
        send(&app, TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "What is it?", "image_base64": b64}))).await;
    assert_eq!(status, 200);
    send(&app, TestRequest::delete().uri(&format!("/v1/collections/default/items/{id}"))).await;
    assert_eq!(status_of(thumb.clone()).await, 200, "the answer still shows it");
    let (_, kept) = add_photo(&app, "default", "white owl night").await;
    assert_eq!(kb.sweep_photos().await.unwrap(), 0, "no retention configured: nothing expires");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let expiring = kb.with_photo_retention(Some(std::time::Duration::ZERO));
    assert_eq!(expiring.sweep_photos().await.unwrap(), 1);
    assert_eq!((status_of(thumb).await, status_of(kept).await), (404, 200), "only the photo no item holds expired");
}

/// A multipart body with one file part named `field`.
fn file_upload(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

#[actix_web::test]
async fn documents_upload_split_search_cite_and_delete() {
    let app = app!(state("documents", scripted("She is called Mochi.")).await);
    let handbook = "# Office handbook\n\nThe office cat is called Mochi. She is a grey tabby who sleeps in room 305.\n\n\
                    ## Coffee\n\nThe espresso machine is descaled every 30 days by whoever finds the red light on.";
    let upload = |name: &str, bytes: &[u8]| {
        let (ct, body) = file_upload("file", name, bytes);
        TestRequest::post().uri("/v1/collections/default/documents").insert_header(("content-type", ct)).set_payload(body)
    };
    let (status, _, resp) = send(&app, upload("handbook.md", handbook.as_bytes())).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let doc = json_of(&resp);
    assert_eq!(
        (doc["title"].as_str(), doc["mime"].as_str(), doc["state"].as_str()),
        (Some("Office handbook"), Some("text/markdown"), Some("indexed"))
    );
    assert!(doc["passages"].as_i64().unwrap() >= 1);
    let id = doc["id"].as_str().unwrap().to_string();

    // The same file again, another format, nothing in it, no file at all: clear 4xx codes.
    for (req, status, code) in [
        (upload("handbook.md", handbook.as_bytes()), 409, "duplicate_document"),
        (upload("report.docx", b"PK\x03\x04"), 415, "unsupported_document"),
        (upload("empty.txt", b"  \n\n "), 400, "empty_document"),
        (upload("broken.pdf", b"%PDF-1.4 garbage"), 400, "invalid_document"),
        (upload("", b"text"), 400, "invalid_document"),
        (
            TestRequest::post().uri("/v1/collections/default/documents").set_json(json!({"text": "x"})),
            415,
            "unsupported_content_type",
        ),
        (TestRequest::post().uri("/v1/collections/nope/documents").set_json(json!({})), 404, "unknown_collection"),
    ] {
        let (got, _, resp) = send(&app, req).await;
        assert_eq!((got.as_u16(), json_of(&resp)["error"]["code"].as_str()), (status, Some(code)));
    }
    let (ct, mut body) = file_upload("file", "a.txt", b"one");
    body.splice(0..0, format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n").bytes());
    let req = TestRequest::post().uri("/v1/collections/default/documents").insert_header(("content-type", ct)).set_payload(body);
    let (got, _, resp) = send(&app, req).await;
    assert_eq!((got.as_u16(), json_of(&resp)["error"]["code"].as_str()), (400, Some("invalid_multipart")));

    let (_, _, resp) = send(&app, TestRequest::get().uri("/v1/collections/default/documents")).await;
    assert_eq!(json_of(&resp)["documents"].as_array().unwrap().len(), 1);
    // Its passages are items of kind `passage` that point back to it.
    let (_, _, resp) = send(&app, TestRequest::post().uri("/v1/search").set_json(json!({"text": "office cat Mochi"}))).await;
    let hits = json_of(&resp)["hits"].as_array().unwrap().clone();
    let top = &hits[0];
    assert_eq!((top["kind"].as_str(), top["document"]["id"].as_str()), (Some("passage"), Some(id.as_str())));
    assert_eq!(top["document"]["title"], "Office handbook");
    assert!(top["text"].as_str().unwrap().contains("Mochi"));
    // Names and numbers are found by their words too (hybrid retrieval).
    let (_, _, resp) = send(&app, TestRequest::post().uri("/v1/search").set_json(json!({"text": "305"}))).await;
    let top = &json_of(&resp)["hits"][0];
    assert!(top["keyword_match"].as_bool().unwrap() && top["text"].as_str().unwrap().contains("305"), "{top}");

    // An answer from it cites the passage with its document, snippet and position.
    let (status, _, resp) =
        send(&app, TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "What is the office cat called?"}))).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let answer = json_of(&resp);
    assert!(answer["answer"].as_str().unwrap().contains("Mochi"), "{answer}");
    let cited = &answer["citations"][0];
    assert_eq!(cited["document"]["title"], "Office handbook");
    assert!(cited["snippet"].as_str().unwrap().contains("Mochi") && cited["document"]["position"].is_i64());

    // Deleting the document deletes its passages: nothing of it is found any more.
    let (status, _, _) = send(&app, TestRequest::delete().uri(&format!("/v1/collections/default/documents/{id}"))).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(&app, TestRequest::get().uri(&format!("/v1/collections/default/documents/{id}"))).await;
    assert_eq!(status, 404);
    let (_, _, resp) = send(&app, TestRequest::post().uri("/v1/search").set_json(json!({"text": "office cat Mochi"}))).await;
    assert!(json_of(&resp)["hits"].as_array().unwrap().iter().all(|h| h["kind"] != "passage"));
    let (_, _, resp) = send(&app, TestRequest::get().uri("/v1/collections/default/items?limit=100")).await;
    assert_eq!(json_of(&resp)["total"], 0);
    // And the same file can come back.
    let (status, _, _) = send(&app, upload("handbook.md", handbook.as_bytes())).await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn workspace_settings_are_set_merged_checked_and_used() {
    let app = app!(state("settings", scripted("Paris is the capital of France.")).await);
    let create = json!({"name": "handbook", "settings": {"mode": "query", "top_k": 8, "temperature": 0.3}});
    let (status, _, resp) = send(&app, TestRequest::post().uri("/v1/collections").set_json(create)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(json_of(&resp)["settings"], json!({"mode": "query", "top_k": 8, "temperature": 0.3}));
    // Merged: given fields replace, null restores the default, the rest stays.
    let patch = json!({"description": "Staff handbook", "settings": {"top_k": null, "min_similarity": 0.4, "system_prompt": "Answer briefly."}});
    let (status, _, resp) = send(&app, TestRequest::patch().uri("/v1/collections/handbook").set_json(patch)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let c = json_of(&resp);
    assert_eq!(c["description"], "Staff handbook");
    assert_eq!(
        c["settings"],
        json!({"mode": "query", "temperature": 0.3, "min_similarity": 0.4, "system_prompt": "Answer briefly."})
    );
    for (body, code) in [
        (json!({"settings": {"mode": "both"}}), "invalid_settings"),
        (json!({"settings": {"temperature": 5}}), "invalid_settings"),
        (json!({"settings": {"colour": "red"}}), "invalid_settings"),
        (json!({"settings": {"top_k": "many"}}), "invalid_settings"),
    ] {
        let (status, _, resp) = send(&app, TestRequest::patch().uri("/v1/collections/handbook").set_json(body)).await;
        assert_eq!((status.as_u16(), json_of(&resp)["error"]["code"].as_str()), (400, Some(code)));
    }
    let (status, _, _) = send(&app, TestRequest::patch().uri("/v1/collections/nope").set_json(json!({"description": "x"}))).await;
    assert_eq!(status, 404);
    // The collection's default mode is query: the model's own knowledge is not an answer...
    let ask = |body: Value| TestRequest::post().uri("/v1/ask").set_json(body);
    let (_, _, resp) = send(&app, ask(json!({"collection": "handbook", "prompt": "What is the capital of France?"}))).await;
    assert_eq!(json_of(&resp)["answer_source"], "no_evidence", "{}", String::from_utf8_lossy(&resp));
    assert_eq!(json_of(&resp)["mode"], "query");
    // ...unless the request asks for chat mode.
    let (_, _, resp) =
        send(&app, ask(json!({"collection": "handbook", "prompt": "What is the capital of France?", "mode": "chat"}))).await;
    assert_eq!(json_of(&resp)["answer"], "Paris is the capital of France.");
}

#[actix_web::test]
async fn ask_as_json_multipart_and_stream_then_teach_and_read_the_conversation() {
    let app = app!(state("ask", scripted("This is a cat.")).await);
    for what in ["grey cat sofa", "black cat garden"] {
        let (ct, body) = multipart(&[("label", "cat")], Some(&photo(what)));
        let (status, _, _) = send(
            &app,
            TestRequest::post().uri("/v1/collections/default/items").insert_header(("content-type", ct)).set_payload(body),
        )
        .await;
        assert_eq!(status, 201);
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(photo("grey cat window"));
    let (status, _, resp) = send(
        &app,
        TestRequest::post().uri("/v1/ask").set_json(json!({"prompt": "What is it?", "image_base64": b64, "top_k": 3})),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let answer = json_of(&resp);
    assert_eq!(answer["candidates"][0]["label"], "cat");
    assert_eq!(answer["answer_source"], "llm");
    assert!(answer["image_url"].as_str().unwrap().starts_with("/v1/blobs/"));
    assert!(answer["citations"][0]["thumbnail_url"].as_str().unwrap().ends_with("/thumbnail"));
    assert!(answer["timings_ms"]["total"].as_f64().is_some());
    assert_eq!(answer["models"]["encoder"]["bundle"], "fake");

    let (ct, body) = multipart(&[("prompt", "What is it?"), ("stream", "true"), ("lang", "zh")], Some(&photo("grey cat window")));
    let (status, headers, resp) =
        send(&app, TestRequest::post().uri("/v1/ask").insert_header(("content-type", ct)).set_payload(body)).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "text/event-stream");
    let text = String::from_utf8(resp).unwrap();
    let names: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(names.first(), Some(&"evidence"), "{text}");
    assert_eq!(names.last(), Some(&"done"), "{text}");
    assert!(names.contains(&"token"), "{text}");

    let answer_id = answer["answer_id"].as_str().unwrap();
    let (status, _, resp) =
        send(&app, TestRequest::post().uri(&format!("/v1/answers/{answer_id}/feedback")).set_json(json!({"label": "lynx"})))
            .await;
    assert_eq!(status, 200);
    assert_eq!(json_of(&resp)["status"], "learned");
    let conversation_id = answer["conversation_id"].as_str().unwrap();
    let (status, _, resp) = send(&app, TestRequest::get().uri(&format!("/v1/conversations/{conversation_id}"))).await;
    assert_eq!(status, 200);
    let conversation = json_of(&resp);
    assert_eq!(conversation["turns"][0]["prompt"], "What is it?");
    assert!(conversation["turns"][0]["thumbnail_url"].as_str().unwrap().ends_with("/thumbnail"));
    assert!(conversation["turns"][0]["citations"][0]["thumbnail_url"].as_str().unwrap().ends_with("/thumbnail"));
    let (_, _, resp) = send(&app, TestRequest::get().uri("/v1/conversations")).await;
    assert_eq!(json_of(&resp)["conversations"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn openai_chat_completions_plain_and_streamed() {
    let app = app!(state("openai", scripted("It is a tabby cat.")).await);
    let url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(photo("tabby cat")));
    let request = json!({"model": "pyxa", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}]});
    let (status, _, resp) = send(&app, TestRequest::post().uri("/v1/chat/completions").set_json(&request)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let v = json_of(&resp);
    assert_eq!(v["object"], "chat.completion");
    assert!(v["choices"][0]["message"]["content"].as_str().unwrap().contains("tabby cat"), "{v}");
    assert_eq!(v["pyxa"]["candidates"][0]["label"], "tabby cat");
    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let (status, _, resp) = send(&app, TestRequest::post().uri("/v1/chat/completions").set_json(&streamed)).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(resp).unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(content, v["choices"][0]["message"]["content"].as_str().unwrap());
    let (_, _, resp) = send(&app, TestRequest::get().uri("/v1/models")).await;
    assert_eq!(json_of(&resp)["data"][0]["id"], "pyxa");
    // The pyxa extension `collection` picks the collection as in /v1/ask.
    let mut elsewhere = request.clone();
    elsewhere["collection"] = json!("no-such-collection");
    let (status, _, resp) = send(&app, TestRequest::post().uri("/v1/chat/completions").set_json(&elsewhere)).await;
    assert_eq!(
        (status.as_u16(), json_of(&resp)["error"]["code"].as_str()),
        (404, Some("unknown_collection")),
        "{}",
        json_of(&resp)
    );
}

/// The committed OpenAPI document is the one the code generates: an API change must show up
/// in review. `PYXA_UPDATE_OPENAPI=1` rewrites the committed copy.
#[actix_web::test]
async fn the_committed_openapi_document_matches_the_code() {
    let generated = pyxa::http::openapi::document_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("PYXA_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "services/pyxa/openapi.json differs from the code; run `PYXA_UPDATE_OPENAPI=1 cargo test -p pyxa --test api openapi` and commit it"
    );
    let doc: Value = serde_json::from_str(generated).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/health",
        "/metrics",
        "/openapi.json",
        "/v1/collections",
        "/v1/collections/{collection}",
        "/v1/collections/{collection}/items",
        "/v1/collections/{collection}/items/{id}",
        "/v1/collections/{collection}/documents",
        "/v1/collections/{collection}/documents/{id}",
        "/v1/blobs/{hash}",
        "/v1/blobs/{hash}/thumbnail",
        "/v1/search",
        "/v1/ask",
        "/v1/answers/{id}/feedback",
        "/v1/conversations",
        "/v1/conversations/{id}",
        "/v1/chat/completions",
        "/v1/models",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
    let app = app!(state("openapi", None).await);
    let (status, _, body) = send(&app, TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(json_of(&body), doc);
    let (status, headers, _) = send(&app, TestRequest::get().uri("/docs")).await;
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
}

#[actix_web::test]
async fn api_keys_scopes_and_collections_are_enforced_on_every_v1_route() {
    let mut state = state("keys", scripted("This is a cat.")).await;
    state.auth = pyxa::http::auth::AuthConfig { required: true, admin_key: Some("admin-secret".into()), any_host: false };
    let app = app!(state);
    let with = |req: TestRequest, key: &str| req.insert_header(("Authorization", format!("Bearer {key}")));
    let code = |resp: &[u8]| json_of(resp)["error"]["code"].as_str().unwrap_or_default().to_string();

    // No key, a wrong key: 401 with a stable code, on the OpenAI route too. /health stays open.
    let (status, _, resp) = send(&app, TestRequest::get().uri("/v1/collections")).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (401, "api_key_required"));
    let (status, _, resp) = send(&app, with(TestRequest::get().uri("/v1/collections"), "pyxa_wrong")).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (401, "invalid_api_key"));
    let chat = json!({"model": "pyxa", "messages": [{"role": "user", "content": "What is this?"}]});
    let (status, _, _) = send(&app, TestRequest::post().uri("/v1/chat/completions").set_json(chat.clone())).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(&app, TestRequest::get().uri("/health")).await;
    assert_eq!(status, 200);

    // The admin makes collections and keys; a key is shown once and listed without its secret.
    for name in ["a", "b"] {
        let (status, _, _) =
            send(&app, with(TestRequest::post().uri("/v1/collections").set_json(json!({"name": name})), "admin-secret")).await;
        assert_eq!(status, 201);
    }
    let make = |scopes: Value, collections: Value| {
        with(TestRequest::post().uri("/v1/keys").set_json(json!({"scopes": scopes, "collections": collections})), "admin-secret")
    };
    let (status, _, resp) = send(&app, make(json!(["read"]), json!(null))).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let reader = json_of(&resp);
    let read_key = reader["key"].as_str().unwrap().to_string();
    assert!(read_key.starts_with("pyxa_"));
    let (_, _, resp) = send(&app, make(json!(["read", "ask", "write", "teach"]), json!(["a"]))).await;
    let a_key = json_of(&resp)["key"].as_str().unwrap().to_string();
    let (status, _, resp) = send(&app, make(json!(["root"]), json!(null))).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (400, "invalid_scopes"));
    let (_, _, resp) = send(&app, with(TestRequest::get().uri("/v1/keys"), "admin-secret")).await;
    let listed = json_of(&resp);
    assert_eq!(listed["keys"].as_array().unwrap().len(), 2);
    assert!(!String::from_utf8_lossy(&resp).contains(&read_key[5..]), "a listed key shows its secret");

    // Percent-encoded letters route like plain ones, and are checked like them.
    let (status, _, _) = send(&app, with(TestRequest::get().uri("/v1/%6Beys"), "admin-secret")).await;
    assert_eq!(status, 200, "the router decodes %6B");
    let (status, _, resp) = send(&app, with(TestRequest::get().uri("/v1/%6Beys"), &read_key)).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (403, "scope_denied"));
    // A read key reads, but cannot write, ask, teach or manage keys.
    let (status, _, _) = send(&app, with(TestRequest::get().uri("/v1/collections/a/items"), &read_key)).await;
    assert_eq!(status, 200);
    let note = json!({"text": "The office cat is called Mochi.", "label": "note"});
    for req in [
        TestRequest::post().uri("/v1/collections/a/items").set_json(note.clone()),
        TestRequest::delete().uri("/v1/collections/a"),
        TestRequest::post().uri("/v1/ask").set_json(json!({"collection": "a", "prompt": "What is the cat called?"})),
        TestRequest::post().uri("/v1/answers/x/feedback").set_json(json!({"correct": true})),
        TestRequest::get().uri("/v1/keys"),
    ] {
        let (status, _, resp) = send(&app, with(req, &read_key)).await;
        assert_eq!((status.as_u16(), code(&resp).as_str()), (403, "scope_denied"));
    }

    // A key for collection a works there and cannot see or touch b, by path or by body.
    let (status, _, _) =
        send(&app, with(TestRequest::post().uri("/v1/collections/a/items").set_json(note.clone()), &a_key)).await;
    assert_eq!(status, 201);
    let (status, _, resp) = send(
        &app,
        with(
            TestRequest::post().uri("/v1/ask").set_json(json!({"collection": "a", "prompt": "What is the cat called?"})),
            &a_key,
        ),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let (_, _, resp) = send(&app, with(TestRequest::get().uri("/v1/collections"), &a_key)).await;
    let names: Vec<String> =
        json_of(&resp)["collections"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["a".to_string()]);
    for req in [
        TestRequest::get().uri("/v1/collections/b/items"),
        TestRequest::get().uri("/v1/collections/%62/items"),
        TestRequest::post().uri("/v1/collections/b/items").set_json(note.clone()),
        TestRequest::post().uri("/v1/ask").set_json(json!({"collection": "b", "prompt": "What is the cat called?"})),
        TestRequest::post().uri("/v1/search").set_json(json!({"collection": "b", "text": "cat"})),
        TestRequest::post()
            .uri("/v1/chat/completions")
            .set_json(json!({"model": "b", "messages": [{"role": "user", "content": "Hi"}]})),
    ] {
        let (status, _, resp) = send(&app, with(req, &a_key)).await;
        assert_eq!((status.as_u16(), code(&resp).as_str()), (403, "collection_denied"));
    }

    // A conversation is its key's: another key (even for the same collection) neither lists,
    // reads nor continues it; the admin sees it.
    let (_, _, resp) = send(
        &app,
        with(
            TestRequest::post().uri("/v1/ask").set_json(json!({"collection": "a", "prompt": "What is the cat called?"})),
            &a_key,
        ),
    )
    .await;
    let conversation = json_of(&resp)["conversation_id"].as_str().unwrap().to_string();
    let (_, _, resp) = send(&app, make(json!(["read", "ask"]), json!(["a"]))).await;
    let other_key = json_of(&resp)["key"].as_str().unwrap().to_string();
    let listed = |key: &str| with(TestRequest::get().uri("/v1/conversations"), key);
    let ids = |resp: &[u8]| -> Vec<String> {
        json_of(resp)["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
    };
    let (_, _, resp) = send(&app, listed(&a_key)).await;
    assert!(ids(&resp).contains(&conversation));
    let (_, _, resp) = send(&app, listed(&other_key)).await;
    assert!(ids(&resp).is_empty(), "{}", String::from_utf8_lossy(&resp));
    let (_, _, resp) = send(&app, listed("admin-secret")).await;
    assert!(ids(&resp).contains(&conversation));
    let (status, _, resp) =
        send(&app, with(TestRequest::get().uri(&format!("/v1/conversations/{conversation}")), &other_key)).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (404, "unknown_conversation"));
    let follow_up = json!({"collection": "a", "prompt": "And her colour?", "conversation_id": conversation});
    let (status, _, resp) = send(&app, with(TestRequest::post().uri("/v1/ask").set_json(follow_up.clone()), &other_key)).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (404, "unknown_conversation"));
    let (status, _, _) = send(&app, with(TestRequest::post().uri("/v1/ask").set_json(follow_up), &a_key)).await;
    assert_eq!(status, 200);

    // X-Api-Key works too; a revoked key is refused at once.
    let id = reader["id"].as_str().unwrap();
    let (status, _, _) =
        send(&app, TestRequest::get().uri("/v1/collections").insert_header(("X-Api-Key", read_key.as_str()))).await;
    assert_eq!(status, 200);
    let (status, _, _) = send(&app, with(TestRequest::delete().uri(&format!("/v1/keys/{id}")), "admin-secret")).await;
    assert_eq!(status, 204);
    let (status, _, resp) = send(&app, with(TestRequest::get().uri("/v1/collections"), &read_key)).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (401, "invalid_api_key"));
    let (status, _, resp) = send(&app, with(TestRequest::delete().uri(&format!("/v1/keys/{id}")), "admin-secret")).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (404, "unknown_api_key"));
}

#[actix_web::test]
async fn without_keys_only_loopback_names_and_same_origin_writes_are_answered() {
    let app = app!(state("origin", scripted("This is a cat.")).await);
    let code = |resp: &[u8]| json_of(resp)["error"]["code"].as_str().unwrap_or_default().to_string();
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    let (status, _, resp) =
        send(&app, TestRequest::get().uri("/v1/collections").insert_header(("Host", "evil.example:8080"))).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (403, "untrusted_host"));
    for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
        let (status, _, _) = send(&app, TestRequest::get().uri("/v1/collections").insert_header(("Host", host))).await;
        assert_eq!(status, 200, "{host}");
    }
    // A cross-site post (another site's page posting to the local server) is refused; the
    // portal's own posts (same origin) and non-browser clients (no Origin) pass.
    let post = |origin: Option<&str>| {
        let req = TestRequest::post()
            .uri("/v1/collections")
            .insert_header(("Host", "127.0.0.1:8080"))
            .set_json(json!({"name": format!("c{}", origin.map_or(0, str::len))}));
        match origin {
            Some(o) => req.insert_header(("Origin", o.to_string())),
            None => req,
        }
    };
    let (status, _, resp) = send(&app, post(Some("https://evil.example"))).await;
    assert_eq!((status.as_u16(), code(&resp).as_str()), (403, "cross_origin_request"));
    let (status, _, _) = send(&app, post(Some("http://127.0.0.1:8080"))).await;
    assert_eq!(status, 201);
    let (status, _, _) = send(&app, post(None)).await;
    assert_eq!(status, 201);
}

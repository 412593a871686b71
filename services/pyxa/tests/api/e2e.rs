//! End to end through the real HTTP app on a loopback port: real ONNX Runtime and default
//! bundle, real SmolLM2 (llama.cpp), real Qdrant Edge and SQLite in a temp dir. Every test here
//! is named `e2e_*`.
//! Needs `pyxa models pull ort-cpu default smollm2 lexicon test-photos` (the README's test command).

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pyxa::bootstrap::App;
use pyxa::config::StoreArgs;
use pyxa::http::{AppState, HttpLimits};
use pyxa_core::{Encoder, Generator};
use pyxa_encoders::{DecodeLimits, EncoderConfig, OnnxEncoder};
use pyxa_engine::AnswerSettings;
use pyxa_models::Home;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

fn home() -> Home {
    Home::from_env()
}

fn photo(name: &str) -> Vec<u8> {
    let p = home().root.join("test-photos").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn encoder() -> Arc<OnnxEncoder> {
    static E: OnceLock<Arc<OnnxEncoder>> = OnceLock::new();
    E.get_or_init(|| {
        let h = home();
        OnnxEncoder::load(&EncoderConfig::new(h.default_bundle(), h.ort_library())).expect("encoder")
    })
    .clone()
}

/// One model for the tests of this binary, which run at once: one slot, so that each question
/// is decoded alone and gets the same greedy answer whatever the other tests ask (batched with
/// others, llama.cpp's sums differ slightly and the small model's words can change).
fn local_llm() -> Arc<dyn Generator> {
    static G: OnceLock<Arc<dyn Generator>> = OnceLock::new();
    G.get_or_init(|| {
        let path = std::env::var_os("PYXA_TEST_GGUF").map(PathBuf::from).unwrap_or_else(|| home().default_gguf());
        let config = pyxa_llm::LocalConfig { parallel: 1, ..pyxa_llm::LocalConfig::default() };
        Arc::new(pyxa_llm::LocalGenerator::load(&path, config).expect("GGUF loads"))
    })
    .clone()
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("pyxa-api-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn store_args(data_dir: PathBuf) -> StoreArgs {
    StoreArgs { photo_retention_days: 30, ..StoreArgs::embedded(data_dir) }
}

struct TestApp {
    url: String,
    http: reqwest::Client,
    data_dir: PathBuf,
    state: AppState,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    async fn start(tag: &str, generator: Option<Arc<dyn Generator>>) -> TestApp {
        Self::start_in(temp_dir(tag), generator).await
    }

    async fn start_in(data_dir: PathBuf, generator: Option<Arc<dyn Generator>>) -> TestApp {
        let encoder: Arc<dyn Encoder> = encoder();
        // A stopped server's worker threads release the previous store a moment later.
        let mut attempts = 0;
        let kb = loop {
            match pyxa::bootstrap::open_knowledge_base(encoder.clone(), &store_args(data_dir.clone()), DecodeLimits::default())
                .await
            {
                Ok(kb) => break kb,
                Err(e) if e.to_string().contains("vector_store_locked") && attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("stores open: {e}"),
            }
        };
        let kb = kb.with_document_parser(pyxa::bootstrap::document_parser(&self::encoder()).expect("document parser"));
        let settings = AnswerSettings { confidence_threshold: 0.35, max_answer_tokens: 48 };
        let state = AppState {
            app: App::new(kb, generator, settings),
            limits: HttpLimits { max_upload_bytes: 25 << 20, allow_remote_images: false, ..HttpLimits::default() },
            auth: Default::default(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = pyxa::http::run(state.clone(), listener, 2).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp { url, http: reqwest::Client::new(), data_dir, state, handle }
    }

    async fn stop(self) -> PathBuf {
        self.handle.stop(true).await;
        self.data_dir
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn multipart(&self, path: &str, form: Form) -> (u16, Value) {
        let res = self.http.post(format!("{}{path}", self.url)).multipart(form).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn add(&self, collection: &str, image: Vec<u8>, label: &str) -> (u16, Value) {
        let form = Form::new().part("image", Part::bytes(image).file_name("photo.png")).text("label", label.to_string());
        self.multipart(&format!("/v1/collections/{collection}/items"), form).await
    }

    async fn ask(&self, image: Option<Vec<u8>>, prompt: &str, collection: &str) -> (u16, Value) {
        let mut form = Form::new().text("prompt", prompt.to_string()).text("collection", collection.to_string());
        if let Some(i) = image {
            form = form.part("image", Part::bytes(i).file_name("photo.png"));
        }
        self.multipart("/v1/ask", form).await
    }
}

/// Distinct variants of a photo (crops, flips, brightness): different files of the same kind.
fn variants(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    let img = image::load_from_memory(bytes).unwrap();
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::new();
    for i in 0..n as u32 {
        let m = 2 + 3 * i;
        let mut v = img.crop_imm(m, m / 2, w - 2 * m, h - m);
        if i % 2 == 1 {
            v = v.fliph();
        }
        if i % 3 == 2 {
            v = v.brighten(20);
        }
        let mut buf = Vec::new();
        v.write_to(&mut Cursor::new(&mut buf), image::ImageFormat::Png).unwrap();
        out.push(buf);
    }
    out
}

async fn seed(app: &TestApp, collection: &str) {
    let (s, _) =
        app.json(reqwest::Method::POST, "/v1/collections", Some(json!({"name": collection, "description": "test"}))).await;
    assert_eq!(s, 201);
    for (file, label) in [("chelsea.png", "cat"), ("coffee.png", "coffee"), ("rocket.jpg", "rocket"), ("horse.png", "horse")] {
        for v in variants(&photo(file), 3) {
            let (s, body) = app.add(collection, v, label).await;
            assert_eq!(s, 201, "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_health_reports_models_providers_and_stores() {
    let app = TestApp::start("health", None).await;
    let (s, body) = app.json(reqwest::Method::GET, "/health", None).await;
    assert_eq!(s, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["models"]["encoder"]["bundle"], "pyxa-default-e5");
    assert!(body["models"]["encoder"]["space"].as_str().unwrap().starts_with("pyxa-default-e5@"), "{body}");
    assert!(body["models"]["execution_providers"].as_array().unwrap().iter().any(|p| p == "CPUExecutionProvider"));
    assert!(body["stores"]["vectors"]["backend"].as_str().unwrap().starts_with("qdrant-edge"), "{body}");
    assert_eq!(body["stores"]["sql"]["backend"], "sqlite");
    let (s, doc) = app.json(reqwest::Method::GET, "/openapi.json", None).await;
    assert_eq!(s, 200);
    for path in
        ["/v1/ask", "/v1/search", "/v1/collections/{collection}/items", "/v1/chat/completions", "/v1/answers/{id}/feedback"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    let metrics = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pyxa_http_request_duration_seconds"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_ingest_then_search_by_photo_and_by_text() {
    let app = TestApp::start("search", None).await;
    seed(&app, "pets").await;
    // The original photos were not ingested (only variants): the same kind must come first.
    for (file, label) in [("chelsea.png", "cat"), ("coffee.png", "coffee"), ("rocket.jpg", "rocket")] {
        let form =
            Form::new().part("image", Part::bytes(photo(file)).file_name("q.png")).text("collection", "pets").text("top_k", "3");
        let (s, body) = app.multipart("/v1/search", form).await;
        assert_eq!(s, 200, "{body}");
        let hits = body["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 3);
        assert!(hits.iter().all(|h| h["label"] == label), "{file}: {body}");
        assert!(hits[0]["thumbnail_url"].as_str().unwrap().starts_with("/v1/blobs/"));
    }
    for (text, label) in [("a photo of a cat", "cat"), ("a cup of coffee", "coffee"), ("a rocket launch", "rocket")] {
        let (s, body) =
            app.json(reqwest::Method::POST, "/v1/search", Some(json!({"collection": "pets", "text": text, "top_k": 2}))).await;
        assert_eq!(s, 200);
        assert_eq!(body["hits"][0]["label"], label, "{text}: {body}");
    }
    // Image + text together.
    let form = Form::new()
        .part("image", Part::bytes(photo("coffee.png")).file_name("q.png"))
        .text("text", "a cup of coffee")
        .text("collection", "pets")
        .text("top_k", "2");
    let (s, body) = app.multipart("/v1/search", form).await;
    assert_eq!(s, 200);
    assert_eq!(body["hits"][0]["label"], "coffee", "{body}");
    // Filter by label.
    let (_, body) = app
        .json(
            reqwest::Method::POST,
            "/v1/search",
            Some(json!({"collection": "pets", "text": "a cat", "top_k": 5, "filter": {"label": "horse"}})),
        )
        .await;
    assert!(body["hits"].as_array().unwrap().iter().all(|h| h["label"] == "horse"), "{body}");
    // The thumbnail is served.
    let thumb = body["hits"][0]["thumbnail_url"].as_str().unwrap().to_string();
    let res = app.http.get(format!("{}{thumb}", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");

    // Restart keeps everything.
    let dir = app.stop().await;
    let app = TestApp::start_in(dir, None).await;
    let (_, body) = app.json(reqwest::Method::GET, "/v1/collections/pets/items?limit=100", None).await;
    assert_eq!(body["total"], 12);
    let form = Form::new()
        .part("image", Part::bytes(photo("chelsea.png")).file_name("q.png"))
        .text("collection", "pets")
        .text("top_k", "1");
    let (_, body) = app.multipart("/v1/search", form).await;
    assert_eq!(body["hits"][0]["label"], "cat");
    app.stop().await;
}

/// A document of `models/qa/docs`.
fn qa_document(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/qa/docs").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_documents_are_split_found_by_meaning_and_by_words_cited_and_deleted() {
    let app = TestApp::start("documents", Some(local_llm())).await;
    let mut ids = Vec::new();
    for (file, title) in [
        ("office-handbook.md", "Lindqvist & Hale Design — Office Handbook"),
        ("会议室预订.html", "四楼会议室预订须知 - 上海林赫设计有限公司"),
        ("visitor-parking-policy.pdf", "visitor-parking-policy"),
    ] {
        let form = Form::new().part("file", Part::bytes(qa_document(file)).file_name(file.to_string()));
        let (s, body) = app.multipart("/v1/collections/default/documents", form).await;
        assert_eq!(s, 201, "{file}: {body}");
        assert_eq!(body["title"], title, "{body}");
        assert!(body["passages"].as_i64().unwrap() >= 3, "{file}: {body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    // A name the embedding does not know is found by its word; Chinese by meaning and words.
    let search = |text: &'static str| app.json(reqwest::Method::POST, "/v1/search", Some(json!({"text": text, "top_k": 3})));
    let (_, body) = search("HERON").await;
    let top = &body["hits"][0];
    assert!(top["text"].as_str().unwrap().contains("HERON") && top["keyword_match"] == true, "{body}");
    assert_eq!(top["document"]["id"], ids[0].as_str());
    let (_, body) = search("会议室可以提前几天预订？").await;
    assert_eq!(body["hits"][0]["document"]["id"], ids[1].as_str(), "{body}");
    // A question about a document is answered from it, citing the passage.
    let (s, body) = app.ask(None, "What is the printer on the third floor called?", "default").await;
    assert_eq!(s, 200, "{body}");
    assert!(body["answer"].as_str().unwrap().contains("HERON"), "{body}");
    let cited: Vec<&Value> =
        body["citations"].as_array().unwrap().iter().filter(|c| c["document"]["id"] == ids[0].as_str()).collect();
    assert!(!cited.is_empty() && cited[0]["snippet"].as_str().is_some(), "{body}");
    // Deleting a document takes its passages out of search at once.
    let (s, _) = app.json(reqwest::Method::DELETE, &format!("/v1/collections/default/documents/{}", ids[0]), None).await;
    assert_eq!(s, 204);
    let (_, body) = search("HERON").await;
    assert!(body["hits"].as_array().unwrap().iter().all(|h| h["document"]["id"] != ids[0].as_str()), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_hostile_input_gets_clear_4xx_and_changes_nothing() {
    let app = TestApp::start("hostile", None).await;
    let chelsea = photo("chelsea.png");
    let (s, first) = app.add("default", chelsea.clone(), "cat").await;
    assert_eq!(s, 201);
    // Duplicate upload.
    let (s, body) = app.add("default", chelsea.clone(), "cat").await;
    assert_eq!((s, body["error"]["code"].as_str()), (409, Some("duplicate_item")));
    // Path traversal in the file name: the name is ignored, storage is content-addressed.
    let form = Form::new()
        .part("image", Part::bytes(photo("coffee.png")).file_name("../../../../tmp/pyxa-escape.png"))
        .text("label", "coffee");
    let (s, body) = app.multipart("/v1/collections/default/items", form).await;
    assert_eq!(s, 201, "{body}");
    assert!(!std::path::Path::new("/tmp/pyxa-escape.png").exists());
    // Huge metadata.
    let big = json!({"x": "y".repeat(100_000)}).to_string();
    let form = Form::new().part("image", Part::bytes(photo("rocket.jpg")).file_name("r.jpg")).text("metadata", big);
    let (s, body) = app.multipart("/v1/collections/default/items", form).await;
    assert_eq!(s, 413, "{body}");
    // Not JSON metadata.
    let form = Form::new().text("text", "hello").text("metadata", "{not json");
    let (s, body) = app.multipart("/v1/collections/default/items", form).await;
    assert_eq!((s, body["error"]["code"].as_str()), (400, Some("invalid_metadata")));
    // Unknown collection.
    let (s, body) = app.add("nope", chelsea.clone(), "cat").await;
    assert_eq!((s, body["error"]["code"].as_str()), (404, Some("unknown_collection")));
    // A non-image.
    let (s, body) = app.add("default", b"just text pretending to be a png".to_vec(), "x").await;
    assert_eq!((s, body["error"]["code"].as_str()), (415, Some("not_an_image")));
    // Bad collection names and bad JSON.
    let (s, body) = app.json(reqwest::Method::POST, "/v1/collections", Some(json!({"name": "../etc"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (400, Some("invalid_collection_name")));
    let res = app
        .http
        .post(format!("{}/v1/collections", app.url))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (s, _) = app.json(reqwest::Method::GET, "/v1/collections/default/items/00000000-0000-0000-0000-000000000000", None).await;
    assert_eq!(s, 404);
    let (s, _) = app.json(reqwest::Method::GET, "/v1/blobs/..%2f..%2fetc%2fpasswd", None).await;
    assert!(s == 400 || s == 404, "{s}");
    // Nothing changed but the two good uploads.
    let (_, body) = app.json(reqwest::Method::GET, "/v1/collections/default/items", None).await;
    assert_eq!(body["total"], 2, "{body}");
    let id = first["id"].as_str().unwrap();
    let (s, _) = app.json(reqwest::Method::DELETE, &format!("/v1/collections/default/items/{id}"), None).await;
    assert_eq!(s, 204);
    let (_, body) = app.json(reqwest::Method::GET, "/v1/collections/default/items", None).await;
    assert_eq!(body["total"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_ask_a_photo_in_english_and_chinese_then_correct_it() {
    let app = TestApp::start("ask", Some(local_llm())).await;
    seed(&app, "pets").await;
    let (s, body) = app.ask(Some(photo("chelsea.png")), "This is an animal, what is it?", "pets").await;
    assert_eq!(s, 200, "{body}");
    let answer = body["answer"].as_str().unwrap().to_lowercase();
    assert!(answer.contains("cat"), "{body}");
    assert!(body["candidates"][0]["label"].as_str().unwrap().contains("cat"), "{body}");
    let citations = body["citations"].as_array().unwrap();
    assert!(!citations.is_empty());
    for c in citations {
        let (s, _) =
            app.json(reqwest::Method::GET, &format!("/v1/collections/pets/items/{}", c["item_id"].as_str().unwrap()), None).await;
        assert_eq!(s, 200, "citation points to a real item");
    }
    for stage in ["encode", "retrieve", "generate", "total"] {
        assert!(body["timings_ms"][stage].is_number(), "{stage}");
    }

    let (s, zh) = app.ask(Some(photo("chelsea.png")), "这是什么动物?", "pets").await;
    assert_eq!(s, 200);
    assert_eq!(zh["language"], "zh");
    assert!(zh["answer"].as_str().unwrap().contains('猫'), "{zh}");

    // With no labels of its own, the built-in classes answer at the level people name:
    // tiger cat 0.39 + Egyptian cat 0.36 + tabby 0.17 roll up to "cat".
    let (s, plain) = app.ask(Some(photo("chelsea.png")), "This is an animal, what is it?", "default").await;
    assert_eq!(s, 200, "{plain}");
    let top = &plain["candidates"][0];
    assert_eq!(top["label"], "cat", "{plain}");
    assert!(top["probability"].as_f64().unwrap() > 0.85, "{plain}");
    assert!(top["detail"]["label"].as_str().unwrap().contains("cat"), "{plain}");
    assert!(plain["confident"].as_bool().unwrap(), "{plain}");
    assert!(plain["answer"].as_str().unwrap().to_lowercase().contains("cat"), "{plain}");

    // A follow-up about the same photo without re-sending it.
    let cid = body["conversation_id"].as_str().unwrap();
    let form = Form::new().text("prompt", "Is it dangerous?").text("collection", "pets").text("conversation_id", cid.to_string());
    let (s, follow) = app.multipart("/v1/ask", form).await;
    assert_eq!(s, 200, "{follow}");
    assert!(follow["candidates"][0]["label"].as_str().unwrap().contains("cat"), "{follow}");
    let (_, conv) = app.json(reqwest::Method::GET, &format!("/v1/conversations/{cid}"), None).await;
    assert_eq!(conv["turns"].as_array().unwrap().len(), 2);

    // Teach by correcting: the same photo's next ask has the corrected label on top.
    let (s, fb) = app
        .json(
            reqwest::Method::POST,
            &format!("/v1/answers/{}/feedback", body["answer_id"].as_str().unwrap()),
            Some(json!({"label": "lynx"})),
        )
        .await;
    assert_eq!(s, 200, "{fb}");
    assert_eq!(fb["status"], "learned");
    let (_, again) = app.ask(Some(photo("chelsea.png")), "This is an animal, what is it?", "pets").await;
    assert_eq!(again["candidates"][0]["label"], "lynx", "{again}");
    app.stop().await;
}

/// Chinese zero-shot labels are embedded with their CC-CEDICT reading: the real dictionary
/// reads common labels right, and over the test photos the Chinese labels do at least as well
/// with their readings as without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chinese_labels_are_read_with_the_dictionary() {
    let lexicon = pyxa::bootstrap::read_lexicon(&home().lexicon()).expect("`pyxa models pull lexicon`");
    assert!(lexicon.len() > 100_000, "{} headwords", lexicon.len());
    for (zh, en) in [("月球", "the moon"), ("马", "horse"), ("鸟", "bird"), ("摩托车", "motorbike"), ("一只猫", "cat")]
    {
        assert_eq!(lexicon.english(zh).as_deref(), Some(en), "{zh}");
    }
    let photos = [
        ("astronaut.png", "宇航员"),
        ("camera.png", "摄影师"),
        ("chelsea.png", "猫"),
        ("coffee.png", "咖啡"),
        ("horse.png", "马"),
        ("motorcycle_left.png", "摩托车"),
        ("page.png", "文字页"),
        ("rocket.jpg", "火箭"),
    ];
    let encoder = encoder();
    let labels: Vec<String> = photos.iter().map(|(_, zh)| zh.to_string()).collect();
    let mut right = [0, 0];
    for (file, zh) in photos {
        let image = encoder.encode_image(photo(file)).await.unwrap().embedding;
        for (i, lexicon) in [None, Some(&lexicon)].into_iter().enumerate() {
            let ranked = pyxa_engine::zeroshot::classify_with_labels(encoder.as_ref(), lexicon, &image, &labels).await.unwrap();
            right[i] += usize::from(ranked[0].label == zh);
        }
    }
    eprintln!("Chinese zero-shot over the test photos: {} of 8 without readings, {} with", right[0], right[1]);
    assert!(right[1] >= right[0] && right[1] >= 6, "{right:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_streaming_sends_evidence_then_tokens_then_done() {
    let app = TestApp::start("stream", Some(local_llm())).await;
    seed(&app, "pets").await;
    let form = Form::new()
        .part("image", Part::bytes(photo("coffee.png")).file_name("c.png"))
        .text("prompt", "What drink is in the picture?")
        .text("collection", "pets")
        .text("stream", "true");
    let res = app.http.post(format!("{}/v1/ask", app.url)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let text = res.text().await.unwrap();
    let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events.first(), Some(&"evidence"), "{text}");
    assert_eq!(events.last(), Some(&"done"), "{text}");
    assert!(events.iter().filter(|e| **e == "token").count() >= 1, "{text}");
    let done = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap();
    let done: Value = serde_json::from_str(done).unwrap();
    assert!(
        done["answer"].as_str().unwrap().to_lowercase().contains("coffee")
            || done["answer"].as_str().unwrap().to_lowercase().contains("espresso"),
        "{done}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_bad_asks_get_stable_codes() {
    let app = TestApp::start("badask", None).await;
    let (s, body) = app.json(reqwest::Method::POST, "/v1/ask", Some(json!({"collection": "default"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (400, Some("empty_question")));
    let (s, body) = app.json(reqwest::Method::POST, "/v1/ask", Some(json!({"prompt": "hi", "collection": "missing"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (404, Some("unknown_collection")));
    let (s, body) = app.ask(Some(b"%PDF-1.4 not an image".to_vec()), "what is it?", "default").await;
    assert_eq!((s, body["error"]["code"].as_str()), (415, Some("not_an_image")));
    let (s, body) = app.json(reqwest::Method::POST, "/v1/ask", Some(json!({"prompt": "hi", "image_base64": "***"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (400, Some("invalid_base64")));
    let (s, body) = app.json(reqwest::Method::POST, "/v1/answers/nope/feedback", Some(json!({"label": "x"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (404, Some("unknown_answer")));
    // Query mode with an empty collection and no photo: no evidence, no answer.
    let (s, body) = app
        .json(reqwest::Method::POST, "/v1/ask", Some(json!({"prompt": "what is the capital of France?", "mode": "query"})))
        .await;
    assert_eq!(s, 200);
    assert!(body["candidates"].as_array().unwrap().is_empty());
    app.stop().await;

    // An unreachable OpenAI-compatible server is a 503 with a stable code.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = pyxa_llm::OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1"), "m");
    config.timeout = std::time::Duration::from_secs(5);
    let generator: Arc<dyn Generator> = Arc::new(pyxa_llm::OpenAiGenerator::new(config).unwrap());
    let app = TestApp::start("unreachable", Some(generator)).await;
    let (s, body) = app.ask(Some(photo("chelsea.png")), "what is it?", "default").await;
    assert_eq!((s, body["error"]["code"].as_str()), (503, Some("llm_unavailable")), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_the_official_openai_client_works_with_images() {
    let app = TestApp::start("openai", Some(local_llm())).await;
    seed(&app, "pets").await;
    let venv = home().root.join("test-openai-venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        assert!(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status().unwrap().success());
        let ok = std::process::Command::new(&py)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "openai==2.8.1"])
            .status()
            .unwrap()
            .success()
            || std::process::Command::new(&py)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "openai>=1.40,<3"])
                .status()
                .unwrap()
                .success();
        assert!(ok, "pip install openai");
    }
    let script = r#"
import base64, json, sys
from openai import OpenAI
url, photo = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url + "/v1", api_key="unused")
b64 = base64.b64encode(open(photo, "rb").read()).decode()
messages = [{"role": "user", "content": [
    {"type": "text", "text": "This is an animal, what is it?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64}}]}]
r = client.chat.completions.create(model="pets", messages=messages)
extra = r.model_extra or {}
out = {"answer": r.choices[0].message.content, "citations": extra.get("citations")}
text = ""
citations = None
for chunk in client.chat.completions.create(model="pets", messages=messages, stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    citations = (chunk.model_extra or {}).get("citations") or citations
out["streamed"] = text
out["streamed_citations"] = citations
print(json.dumps(out))
"#;
    let photo_path = home().root.join("test-photos/chelsea.png");
    let url = app.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&py).arg("-c").arg(script).arg(url).arg(photo_path).output().unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(out["answer"].as_str().unwrap().to_lowercase().contains("cat"), "{out}");
    assert!(!out["citations"].as_array().unwrap().is_empty(), "{out}");
    assert!(out["streamed"].as_str().unwrap().to_lowercase().contains("cat"), "{out}");
    assert!(out["streamed_citations"].is_array(), "{out}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_kill_during_ingest_loses_no_acknowledged_item() {
    let root = temp_dir("kill");
    let photos = root.join("photos");
    for (file, label) in [("chelsea.png", "cat"), ("coffee.png", "coffee"), ("rocket.jpg", "rocket")] {
        let d = photos.join(label);
        std::fs::create_dir_all(&d).unwrap();
        for (i, v) in variants(&photo(file), 12).into_iter().enumerate() {
            std::fs::write(d.join(format!("{i}.png")), v).unwrap();
        }
    }
    let data = root.join("data");
    let bin = env!("CARGO_BIN_EXE_pyxa");
    let mut child = std::process::Command::new(bin)
        .args(["ingest"])
        .arg(&photos)
        .args(["--collection", "pets", "--data-dir"])
        .arg(&data)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it acknowledge some items, then SIGKILL it mid-ingest.
    let db = data.join("pyxa.sqlite");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let n = count_rows(&db).await;
        if n >= 5 || std::time::Instant::now() > deadline {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let app = TestApp::start_in(data.clone(), None).await; // start-up repairs
    let kb = &app.state.kb;
    let (items, total) = kb.meta.list_items("pets", None, 500, 0).await.unwrap();
    assert!(total >= 5, "{total}");
    for item in &items {
        assert_eq!(item.state, pyxa_core::IndexState::Indexed);
        assert!(kb.vectors.contains("pets", &item.id).await.unwrap(), "{} in SQL but not in Qdrant", item.id);
    }
    let in_vectors = kb.vectors.count("pets", &Default::default()).await.unwrap();
    assert_eq!(in_vectors as i64, total, "SQL and Qdrant agree");
    let dir = app.stop().await;
    // Re-running the ingest finishes the job and skips what is there.
    let status = std::process::Command::new(bin)
        .args(["ingest"])
        .arg(&photos)
        .args(["--collection", "pets", "--data-dir"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let app = TestApp::start_in(dir, None).await;
    let (_, total) = app.state.kb.meta.list_items("pets", None, 500, 0).await.unwrap();
    assert_eq!(total, 36);
    app.stop().await;
}

async fn count_rows(db: &std::path::Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(pool) = sqlx::SqlitePool::connect(&url).await else { return 0 };
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE state = 'indexed'").fetch_one(&pool).await.unwrap_or(0);
    pool.close().await;
    n
}

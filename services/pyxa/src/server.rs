//! The HTTP layer: thin handlers over the knowledge base and the answer pipeline. Errors become
//! statuses in one table (`errors.rs`); every failure has a JSON body with a stable code.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Instant;

use actix_multipart::Multipart;
use actix_web::dev::Server;
use actix_web::http::header::{self, ContentType};
use actix_web::{middleware, web, App, HttpRequest, HttpResponse};
use anyhow::Context;
use base64::Engine as _;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use pyxa_core::text::Language;
use pyxa_core::{Error, ErrorKind, PayloadFilter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::ask::{AskEvent, AskRequest, Mode};
use crate::config::{CommonArgs, ServeArgs};
use crate::errors::{self, error_body, ApiError, ApiResult};
use crate::kb::{ItemInput, ItemView, MAX_TOP_K};
use crate::state::AppState;

pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

mod assets {
    include!(concat!(env!("OUT_DIR"), "/frontend_assets.rs"));
}

/// `pyxa serve`: open everything, then listen.
pub async fn serve(common: CommonArgs, args: ServeArgs) -> anyhow::Result<()> {
    let kb = crate::state::open_stores(&common, &args.stores).await?;
    let generator = crate::state::open_generator(&common, &args.generator).await?;
    let state = AppState::new(
        kb,
        generator,
        args.confidence_threshold,
        args.generator.max_answer_tokens,
        args.max_upload_bytes,
        args.allow_remote_images,
    );
    let listener = TcpListener::bind((args.host.as_str(), args.port)).with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "pyxa is listening: open http://{addr}/");
    eprintln!("pyxa: ready at http://{addr}/");
    run(state, listener, args.workers)?.await?;
    Ok(())
}

/// Starts the HTTP server on an already bound listener (tests bind port 0).
pub fn run(state: AppState, listener: TcpListener, workers: usize) -> std::io::Result<Server> {
    let server = actix_web::HttpServer::new(move || create_app(state.clone()))
        .workers(workers.max(1))
        .listen(listener)?
        .run();
    Ok(server)
}

/// The whole application: routes, limits, headers, metrics. Tests drive it in-process.
pub fn create_app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let json_limit = state.settings.max_upload_bytes * 4 / 3 + 64 * 1024;
    App::new()
        .app_data(web::Data::new(state))
        .app_data(errors::json_config(json_limit))
        .app_data(errors::query_config())
        .app_data(errors::path_config())
        .wrap(
            middleware::DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::X_FRAME_OPTIONS, "DENY"))
                .add((
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                )),
        )
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service as _;
            let started = Instant::now();
            let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                crate::metrics::HTTP_REQUESTS
                    .with_label_values(&[route.as_str(), res.status().as_str()])
                    .observe(started.elapsed().as_secs_f64());
                Ok(res)
            }
        })
        .route("/health", web::get().to(health))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi))
        .service(
            web::scope("/v1")
                .route("/collections", web::get().to(list_collections))
                .route("/collections", web::post().to(create_collection))
                .route("/collections/{collection}", web::get().to(get_collection))
                .route("/collections/{collection}", web::delete().to(delete_collection))
                .route("/collections/{collection}/items", web::get().to(list_items))
                .route("/collections/{collection}/items", web::post().to(add_item))
                .route("/collections/{collection}/items/{id}", web::get().to(get_item))
                .route("/collections/{collection}/items/{id}", web::delete().to(delete_item))
                .route("/blobs/{hash}", web::get().to(get_blob))
                .route("/blobs/{hash}/thumbnail", web::get().to(get_thumbnail))
                .route("/search", web::post().to(search))
                .route("/ask", web::post().to(ask))
                .route("/answers/{id}/feedback", web::post().to(feedback))
                .route("/conversations", web::get().to(list_conversations))
                .route("/conversations/{id}", web::get().to(get_conversation))
                .route("/chat/completions", web::post().to(crate::openai_api::chat_completions))
                .route("/models", web::get().to(crate::openai_api::list_models)),
        )
        .service(web::resource("/").route(web::get().to(frontend)).route(web::head().to(frontend)))
        .service(web::resource("/{file:[A-Za-z0-9_.-]+}").route(web::get().to(frontend)).route(web::head().to(frontend)))
        .default_service(web::to(not_found))
}

async fn not_found() -> ApiResult<HttpResponse> {
    Err(Error::not_found("route_not_found", "no such route").into())
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let encoder = state.kb.encoder.info();
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "models": {
            "encoder": encoder,
            "execution_providers": encoder.providers,
        },
        "generator": state.ask.generator.as_ref().map(|g| g.info()),
        "stores": {
            "vectors": state.kb.vectors.info(),
            "sql": {"backend": state.settings.sql_backend},
        },
    }))
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(crate::metrics::render())
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(OPENAPI_JSON)
}

async fn frontend(req: HttpRequest) -> ApiResult<HttpResponse> {
    let name = req.match_info().get("file").unwrap_or("index.html");
    let (bytes, mime) = assets::get(name).ok_or_else(|| Error::not_found("route_not_found", format!("no such page {name}")))?;
    let cache = if name == "index.html" { "no-cache" } else { "public, max-age=3600" };
    let etag = format!("\"{}\"", &crate::blobs::sha256_hex(bytes)[..16]);
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok(HttpResponse::NotModified().finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .body(bytes))
}

// ------------------------------------------------------------------ collections and items

#[derive(Deserialize)]
struct NewCollection {
    name: String,
    #[serde(default)]
    description: String,
}

async fn list_collections(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let collections = state.kb.meta.list_collections().await?;
    Ok(HttpResponse::Ok().json(json!({ "collections": collections })))
}

async fn create_collection(state: web::Data<AppState>, body: web::Json<NewCollection>) -> ApiResult<HttpResponse> {
    let c = state.kb.create_collection(&body.name, &body.description).await?;
    Ok(HttpResponse::Created().json(c))
}

async fn get_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.kb.collection(&path).await?))
}

async fn delete_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.kb.delete_collection(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    label: Option<String>,
}

fn default_limit() -> i64 {
    50
}

async fn list_items(state: web::Data<AppState>, path: web::Path<String>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    state.kb.collection(&path).await?;
    if !(1..=500).contains(&q.limit) || q.offset < 0 {
        return Err(Error::invalid("invalid_pagination", "limit must be 1-500 and offset >= 0").into());
    }
    let (items, total) = state.kb.meta.list_items(&path, q.label.as_deref(), q.limit, q.offset).await?;
    let items: Vec<ItemView> = items.iter().map(ItemView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "total": total })))
}

async fn add_item(state: web::Data<AppState>, path: web::Path<String>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    // Check the collection before reading a possibly large upload.
    state.kb.collection(&path).await?;
    let form = read_form(&req, payload, state.settings.max_upload_bytes).await?;
    let metadata = match form.field("metadata") {
        Some(raw) => Some(
            serde_json::from_str::<serde_json::Value>(raw)
                .map_err(|e| Error::invalid("invalid_metadata", format!("metadata is not valid JSON: {e}")))?,
        ),
        None => None,
    };
    let input = ItemInput {
        image: form.image,
        text: form.fields.get("text").cloned(),
        label: form.fields.get("label").cloned(),
        metadata,
        tenant: form.fields.get("tenant").cloned(),
    };
    let item = state.kb.add_item(&path, input).await?;
    Ok(HttpResponse::Created().json(ItemView::from(&item)))
}

async fn get_item(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    let item = state.kb.get_item(&collection, &id).await?;
    Ok(HttpResponse::Ok().json(ItemView::from(&item)))
}

async fn delete_item(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    state.kb.delete_item(&collection, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn immutable(bytes: Vec<u8>, mime: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes)
}

async fn get_blob(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let bytes = state.kb.blobs.read_original(&path)?;
    let mime = state.kb.meta.get_blob(&path).await?.map(|b| b.mime).unwrap_or_else(|| "application/octet-stream".into());
    Ok(immutable(bytes, &mime))
}

async fn get_thumbnail(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(immutable(state.kb.blobs.read_thumbnail(&path)?, "image/jpeg"))
}

// ------------------------------------------------------------------ forms

/// A request body that is either multipart (with an `image` file) or JSON (`image_base64`).
pub struct Form {
    pub fields: HashMap<String, String>,
    pub image: Option<Vec<u8>>,
    pub json: Option<serde_json::Value>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str).filter(|s| !s.is_empty())
    }
}

const MAX_FIELD_BYTES: usize = 64 * 1024;

pub async fn read_form(req: &HttpRequest, payload: web::Payload, max_upload: usize) -> Result<Form, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut fields = HashMap::new();
        let mut image = None;
        let mut multipart = Multipart::new(req.headers(), payload);
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(|e| Error::invalid("invalid_multipart", e.to_string()))?;
            let name = field.name().unwrap_or("").to_string();
            let limit = if name == "image" { max_upload } else { MAX_FIELD_BYTES };
            let mut buf = Vec::new();
            while let Some(chunk) = field.try_next().await.map_err(|e| Error::invalid("invalid_multipart", e.to_string()))? {
                if buf.len() + chunk.len() > limit {
                    return Err(Error::new(ErrorKind::TooLarge, if name == "image" { "upload_too_large" } else { "field_too_large" }, format!("field {name:?} is larger than {limit} bytes")).into());
                }
                buf.extend_from_slice(&chunk);
            }
            if name == "image" {
                image = Some(buf);
            } else {
                let text = String::from_utf8(buf).map_err(|_| Error::invalid("invalid_utf8", format!("field {name:?} is not UTF-8 text")))?;
                fields.insert(name, text);
            }
        }
        Ok(Form { fields, image, json: None })
    } else if content_type.starts_with("application/json") {
        let limit = max_upload * 4 / 3 + MAX_FIELD_BYTES;
        let body = read_body(payload, limit).await?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error::invalid("invalid_json", e.to_string()))?;
        let obj = value.as_object().ok_or_else(|| Error::invalid("invalid_json", "expected a JSON object"))?;
        let mut fields = HashMap::new();
        for (k, v) in obj {
            match v {
                serde_json::Value::String(s) => {
                    fields.insert(k.clone(), s.clone());
                }
                serde_json::Value::Number(n) => {
                    fields.insert(k.clone(), n.to_string());
                }
                serde_json::Value::Bool(b) => {
                    fields.insert(k.clone(), b.to_string());
                }
                serde_json::Value::Object(_) if k == "metadata" => {
                    fields.insert(k.clone(), v.to_string());
                }
                _ => {}
            }
        }
        let image = match fields.remove("image_base64") {
            Some(b64) => Some(decode_base64_image(&b64)?),
            None => None,
        };
        Ok(Form { fields, image, json: Some(value) })
    } else {
        Err(Error::new(ErrorKind::UnsupportedMedia, "unsupported_content_type", "send multipart/form-data or application/json").into())
    }
}

/// Base64 (optionally a `data:` URL) to bytes.
pub fn decode_base64_image(s: &str) -> Result<Vec<u8>, Error> {
    let data = match s.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, d)| d).ok_or_else(|| Error::invalid("invalid_base64", "malformed data URL"))?,
        None => s,
    };
    let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| Error::invalid("invalid_base64", format!("image_base64 is not valid base64: {e}")))
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, Error> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::invalid("invalid_body", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(ErrorKind::TooLarge, "body_too_large", format!("the request body is larger than {limit} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn parse_top_k(form: &Form, default: usize) -> Result<usize, Error> {
    match form.field("top_k") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=MAX_TOP_K).contains(k))
            .ok_or_else(|| Error::invalid("invalid_top_k", format!("top_k must be an integer between 1 and {MAX_TOP_K}"))),
        None => Ok(default),
    }
}

fn parse_bool(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1" | "yes" | "on"))
}

// ------------------------------------------------------------------ search

async fn search(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let form = read_form(&req, payload, state.settings.max_upload_bytes).await?;
    let collection = form.field("collection").unwrap_or(crate::kb::DEFAULT_COLLECTION).to_string();
    let top_k = parse_top_k(&form, 10)?;
    let filter: PayloadFilter = match (&form.json, form.field("filter")) {
        (Some(json), _) if json.get("filter").is_some_and(|f| !f.is_null()) => serde_json::from_value(json["filter"].clone())
            .map_err(|e| Error::invalid("invalid_filter", format!("filter: {e}")))?,
        (_, Some(raw)) => serde_json::from_str(raw).map_err(|e| Error::invalid("invalid_filter", format!("filter: {e}")))?,
        _ => PayloadFilter::default(),
    };
    state.kb.collection(&collection).await?;
    let text = form.field("text").map(str::to_string);
    if text.is_none() && form.image.is_none() {
        return Err(Error::invalid("empty_query", "search needs a text, an image, or both").into());
    }
    let started = Instant::now();
    let image_vector = match form.image {
        Some(bytes) => Some(state.kb.encoder.encode_image(bytes).await?.embedding),
        None => None,
    };
    let text_vector = match text {
        Some(t) => Some(state.kb.encoder.encode_texts(vec![t]).await?.remove(0)),
        None => None,
    };
    let query = crate::kb::KnowledgeBase::combine(image_vector, text_vector)
        .ok_or_else(|| Error::invalid("empty_query", "search needs a text, an image, or both"))?;
    let hits = state.kb.search_vectors(&collection, &query, top_k, &filter).await?;
    Ok(HttpResponse::Ok().json(json!({ "hits": hits, "took_ms": started.elapsed().as_secs_f64() * 1e3 })))
}

// ------------------------------------------------------------------ ask

pub fn ask_request_from_form(form: &Form, image: Option<Vec<u8>>) -> Result<(AskRequest, bool), Error> {
    let language = match form.field("lang") {
        Some(l) => Some(Language::parse(l).ok_or_else(|| Error::invalid("invalid_language", "lang must be en or zh"))?),
        None => None,
    };
    Ok((
        AskRequest {
            prompt: form.field("prompt").map(str::to_string),
            image,
            collection: form.field("collection").unwrap_or(crate::kb::DEFAULT_COLLECTION).to_string(),
            mode: Mode::parse(form.field("mode").unwrap_or("chat"))?,
            top_k: parse_top_k(form, 5)?,
            conversation_id: form.field("conversation_id").map(str::to_string),
            language,
        },
        parse_bool(form.field("stream")),
    ))
}

async fn ask(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let mut form = read_form(&req, payload, state.settings.max_upload_bytes).await?;
    let image = form.image.take();
    let (ask_req, stream) = ask_request_from_form(&form, image)?;
    if !stream {
        let response = state.ask.ask(ask_req, None).await?;
        return Ok(HttpResponse::Ok().json(response));
    }
    // Validate what can fail fast before committing to a 200 event stream.
    state.kb.collection(&ask_req.collection).await?;
    if let Some(bytes) = &ask_req.image {
        pyxa_encoders::preprocess::probe(bytes, state.kb.decode_limits)?;
    }
    let (tx, rx) = mpsc::channel::<AskEvent>(1024);
    let service = state.ask.clone();
    tokio::spawn(async move {
        let final_event = match service.ask(ask_req, Some(tx.clone())).await {
            Ok(response) => AskEvent::Done(serde_json::to_value(&response).unwrap_or_default()),
            Err(e) => AskEvent::Error(error_body(&e)["error"].clone()),
        };
        let _ = tx.send(final_event).await;
    });
    Ok(sse_response(rx))
}

fn sse_response(rx: mpsc::Receiver<AskEvent>) -> HttpResponse {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let (name, data) = match event {
            AskEvent::Evidence(v) => ("evidence", v),
            AskEvent::Token(t) => ("token", json!({ "text": t })),
            AskEvent::Done(v) => ("done", v),
            AskEvent::Error(v) => ("error", v),
        };
        let chunk = Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
        Some((Ok::<_, actix_web::Error>(chunk), rx))
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

// ------------------------------------------------------------------ feedback and history

#[derive(Deserialize)]
struct FeedbackBody {
    correct: Option<bool>,
    label: Option<String>,
}

async fn feedback(state: web::Data<AppState>, path: web::Path<String>, body: web::Json<FeedbackBody>) -> ApiResult<HttpResponse> {
    let answer = state
        .kb
        .meta
        .get_answer(&path)
        .await?
        .ok_or_else(|| Error::not_found("unknown_answer", format!("no answer {}", path.as_str())))?;
    let label = body.label.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    let confirmed_top = if body.correct == Some(true) && label.is_none() {
        answer.candidates.get(0).and_then(|c| c.get("label")).and_then(|l| l.as_str()).map(str::to_string)
    } else {
        None
    };
    if label.is_none() && body.correct.is_none() {
        return Err(Error::invalid("empty_feedback", "send {\"label\": \"...\"} or {\"correct\": true}").into());
    }
    let teach = label.clone().or(confirmed_top);
    let mut item_id = None;
    let mut status = "recorded";
    if let (Some(label), Some(hash)) = (&teach, &answer.image_hash) {
        // Teach: the photo joins the collection with the given label, at once.
        let bytes = state.kb.blobs.read_original(hash)?;
        let input = ItemInput {
            image: Some(bytes),
            label: Some(label.clone()),
            metadata: Some(json!({"source": "feedback", "answer_id": answer.answer_id})),
            ..Default::default()
        };
        match state.kb.add_item(&answer.collection, input).await {
            Ok(item) => item_id = Some(item.id),
            Err(e) if e.code == "duplicate_item" => {}
            Err(e) if e.code == "unknown_collection" => return Err(Error::conflict("collection_gone", "the answer's collection was deleted").into()),
            Err(e) => return Err(e.into()),
        }
        status = "learned";
    }
    state
        .kb
        .meta
        .insert_feedback(&pyxa_core::Feedback {
            id: uuid::Uuid::now_v7().to_string(),
            answer_id: answer.answer_id.clone(),
            correct: body.correct,
            label: label.clone(),
            item_id: item_id.clone(),
            created_at: pyxa_core::now(),
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": status, "item_id": item_id, "label": teach })))
}

async fn list_conversations(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let conversations = state.kb.meta.list_conversations(100).await?;
    Ok(HttpResponse::Ok().json(json!({ "conversations": conversations })))
}

async fn get_conversation(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (summary, turns) = state
        .kb
        .meta
        .get_conversation(&path)
        .await?
        .ok_or_else(|| Error::not_found("unknown_conversation", format!("no conversation {}", path.as_str())))?;
    let turns: Vec<serde_json::Value> = turns
        .iter()
        .map(|t| {
            json!({
                "answer_id": t.answer_id,
                "prompt": t.prompt,
                "answer": t.answer,
                "language": t.language,
                "mode": t.mode,
                "image_url": t.image_hash.as_deref().map(crate::blobs::image_url),
                "thumbnail_url": t.image_hash.as_deref().map(crate::blobs::thumbnail_url),
                "candidates": t.candidates,
                "citations": t.citations,
                "created_at": t.created_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "id": summary.id,
        "title": summary.title,
        "collection": summary.collection,
        "created_at": summary.created_at,
        "updated_at": summary.updated_at,
        "turns": turns,
    })))
}

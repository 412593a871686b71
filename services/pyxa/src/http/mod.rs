//! The HTTP layer: one module per resource, each with its own `configure`; handlers only parse
//! requests into typed values, call the domain and shape the answer. Errors become statuses in
//! one table (`errors`); every failure has a JSON body with a stable code.

pub mod answers;
pub mod ask;
pub mod auth;
pub mod body;
pub mod collections;
pub mod conversations;
pub mod documents;
pub mod errors;
pub mod forms;
pub mod health;
pub mod items;
pub mod keys;
pub mod metrics;
pub mod openai;
pub mod openapi;
pub mod portal;
pub mod search;
pub mod sse;
pub mod views;

use std::net::TcpListener;
use std::ops::Deref;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, Service as _, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{guard, web, Resource, Route};

use crate::bootstrap::App;

/// What the HTTP layer allows.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest photo upload in bytes.
    pub max_upload_bytes: usize,
    /// Whether `/v1/chat/completions` may fetch `image_url`s over http(s).
    pub allow_remote_images: bool,
    /// Longest wait for the next piece of a request body.
    pub body_idle_timeout: Duration,
    /// Longest time to receive a whole request body.
    pub body_deadline: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 25 << 20,
            allow_remote_images: false,
            body_idle_timeout: Duration::from_secs(15),
            body_deadline: Duration::from_secs(120),
        }
    }
}

/// Largest JSON body of routes that carry no photo (names, settings, feedback, keys).
pub const SMALL_JSON_BYTES: usize = 64 * 1024;

impl HttpLimits {
    /// Largest body that carries a photo: the photo in base64 plus the other fields.
    pub fn max_photo_body_bytes(&self) -> usize {
        self.max_upload_bytes * 4 / 3 + forms::MAX_NON_FILE_BYTES
    }

    /// The largest body any route accepts (a photo or a document, with the form around it).
    pub fn max_body_bytes(&self) -> usize {
        self.max_photo_body_bytes().max(pyxa_engine::kb::MAX_DOCUMENT_BYTES + forms::MAX_NON_FILE_BYTES)
    }
}

/// Everything the handlers need: the application, the HTTP limits and the key checks.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub limits: HttpLimits,
    pub auth: auth::AuthConfig,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// Runs work that must not stop half-way when the client disconnects (actix drops a handler's
/// future then): on its own task, which runs to the end whoever waits for it.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = pyxa_core::Result<T>> + Send + 'static,
) -> pyxa_core::Result<T> {
    tokio::spawn(work).await.map_err(|e| pyxa_core::Error::internal("a detached task failed").with_source(e))?
}

/// A resource that answers a method it does not route with a JSON 405.
pub(crate) fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(errors::method_not_allowed))
}

/// GET, and HEAD with the same headers.
pub(crate) fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The whole application: routes, limits, headers, metrics. Tests drive it in-process.
pub fn create_app(
    state: AppState,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limits = state.limits.clone();
    let error_statuses = [
        StatusCode::BAD_REQUEST,
        StatusCode::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        StatusCode::INTERNAL_SERVER_ERROR,
    ];
    let json_errors =
        error_statuses.into_iter().fold(ErrorHandlers::new(), |h, status| h.handler(status, errors::json_error_bodies));
    actix_web::App::new()
        .app_data(web::Data::new(state))
        .app_data(errors::json_config(SMALL_JSON_BYTES))
        .app_data(errors::query_config())
        .app_data(errors::path_config())
        .wrap(json_errors)
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::X_FRAME_OPTIONS, "DENY"))
                .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)),
        )
        .wrap(actix_web::middleware::from_fn(body::guard_body))
        .wrap_fn(|req, srv| {
            let started = Instant::now();
            let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                metrics::HTTP_REQUESTS
                    .with_label_values(&[route.as_str(), res.status().as_str()])
                    .observe(started.elapsed().as_secs_f64());
                Ok(res)
            }
        })
        .configure(health::configure)
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(auth::require_key))
                .configure(collections::configure)
                .configure(items::configure)
                .configure(documents::configure)
                .configure(search::configure)
                .configure(ask::configure)
                .configure(answers::configure)
                .configure(conversations::configure)
                .configure(|cfg| openai::configure(cfg, &limits))
                .configure(keys::configure),
        )
        .configure(portal::configure)
        .default_service(web::to(errors::route_not_found))
}

/// Starts the HTTP server on an already bound listener (tests bind port 0).
pub fn run(state: AppState, listener: TcpListener, workers: usize) -> std::io::Result<Server> {
    let server = actix_web::HttpServer::new(move || create_app(state.clone()))
        .workers(workers.max(1))
        // A client gets this long to send its request line and headers.
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(2))
        .listen(listener)?
        .run();
    Ok(server)
}

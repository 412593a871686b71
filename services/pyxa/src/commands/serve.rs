//! `pyxa serve`: build the application, then listen.

use std::net::TcpListener;

use anyhow::{Context, Result};

use crate::bootstrap::App;
use crate::config::{CommonArgs, ServeArgs};
use crate::http::auth::AuthConfig;
use crate::http::{self, AppState, HttpLimits};

pub async fn serve(common: CommonArgs, args: ServeArgs) -> Result<()> {
    let app = App::build(&common, &args.stores, &args.generator, args.answer_settings()).await?;
    super::reindex::in_background(app.kb.clone()).await?;
    sweep_photos_hourly(app.kb.clone());
    repair_now_and_then(app.kb.clone());
    let keys = app.kb.meta.list_api_keys().await?.len();
    let auth = AuthConfig {
        required: args.admin_key.is_some() || keys > 0,
        admin_key: args.admin_key.clone(),
        any_host: args.insecure_no_auth,
    };
    let loopback = match args.host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => args.host == "localhost",
    };
    match (auth.required, loopback, args.insecure_no_auth) {
        (true, _, _) => tracing::info!(keys, admin_key = auth.admin_key.is_some(), "API keys required on /v1"),
        (false, true, _) => {
            tracing::info!("no API keys configured: serving loopback only, every local caller may do everything")
        }
        (false, false, true) => {
            tracing::warn!(host = %args.host, "serving without API keys on a non-loopback address (--insecure-no-auth)")
        }
        (false, false, false) => anyhow::bail!(
            "refusing to serve {} without API keys: set --admin-key (PYXA_ADMIN_KEY) or create keys with `pyxa keys create`, \
             or pass --insecure-no-auth",
            args.host
        ),
    }
    let state = AppState {
        app,
        limits: HttpLimits {
            max_upload_bytes: args.max_upload_bytes,
            allow_remote_images: args.allow_remote_images,
            ..HttpLimits::default()
        },
        auth,
    };
    let listener =
        TcpListener::bind((args.host.as_str(), args.port)).with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "pyxa is listening: open http://{addr}/");
    eprintln!("pyxa: ready at http://{addr}/");
    http::run(state, listener, args.workers)?.await?;
    Ok(())
}

/// With other replicas sharing the stores, start-up repair leaves alone what may be their
/// writes in progress; what a crashed replica left is settled here once it is old enough.
fn repair_now_and_then(kb: pyxa_engine::kb::KnowledgeBase) {
    if !kb.has_other_writers() {
        return;
    }
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
        every_minute.tick().await;
        loop {
            every_minute.tick().await;
            if let Err(e) = kb.repair().await {
                tracing::warn!(cause = %e.chain(), "could not settle what a crashed replica left");
            }
        }
    });
}

/// Deletes photos past their retention now and every hour.
fn sweep_photos_hourly(kb: pyxa_engine::kb::KnowledgeBase) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = kb.sweep_photos().await {
                tracing::warn!(cause = %e.chain(), "could not delete photos past their retention");
            }
        }
    });
}

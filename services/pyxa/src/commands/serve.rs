//! `pyxa serve`: build the application, then listen.

use std::net::TcpListener;

use anyhow::{Context, Result};

use crate::bootstrap::App;
use crate::config::{CommonArgs, ServeArgs};
use crate::http::{self, AppState, HttpLimits};

pub async fn serve(common: CommonArgs, args: ServeArgs) -> Result<()> {
    let app = App::build(&common, &args.stores, &args.generator, args.answer_settings()).await?;
    super::reindex::in_background(app.kb.clone()).await?;
    let state = AppState {
        app,
        limits: HttpLimits { max_upload_bytes: args.max_upload_bytes, allow_remote_images: args.allow_remote_images },
    };
    let listener =
        TcpListener::bind((args.host.as_str(), args.port)).with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "pyxa is listening: open http://{addr}/");
    eprintln!("pyxa: ready at http://{addr}/");
    http::run(state, listener, args.workers)?.await?;
    Ok(())
}

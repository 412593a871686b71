//! The command line: each subcommand is a thin shell over the library.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use pyxa_core::Encoder;
use pyxa_encoders::{provision, OnnxEncoder};
use serde_json::json;

use crate::config::{ClassifyArgs, Cli, Command, CommonArgs, EmbedArgs, ModelsCommand};
use crate::zeroshot;

pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let common = cli.common;
    match cli.command {
        Command::Models { command } => models(&common, command),
        Command::Classify(args) => runtime.block_on(classify(&common, args)),
        Command::Embed(args) => runtime.block_on(embed(&common, args)),
        Command::Serve(args) => runtime.block_on(crate::server::serve(common, args)),
        Command::Ingest(args) => runtime.block_on(crate::ingest_cmd::ingest(common, args)),
        Command::Ask(args) => runtime.block_on(crate::ask_cmd::ask(common, args)),
        Command::Bench(args) => runtime.block_on(crate::bench::run(common, args)),
    }
}

fn models(common: &CommonArgs, command: ModelsCommand) -> Result<()> {
    let home = common.home();
    let registry = provision::registry()?;
    match command {
        ModelsCommand::Pull { names, force } => {
            let names: Vec<String> = if names.is_empty() {
                registry.iter().filter(|(_, a)| a.default).map(|(n, _)| n.clone()).collect()
            } else {
                names
            };
            // The converter needs ONNX Runtime's Python wheel, not the C library; order still
            // matters for readability of the output: runtime first.
            for name in names {
                let path = provision::pull(&home, &name, force)?;
                println!("{}", json!({"artifact": name, "path": path}));
            }
            Ok(())
        }
        ModelsCommand::List => {
            let mut rows = Vec::new();
            for (name, artifact) in &registry {
                rows.push(json!({
                    "artifact": name,
                    "installed": provision::installed(&home, artifact),
                    "path": home.target(artifact),
                    "description": artifact.description,
                    "pulled_by_default": artifact.default,
                }));
            }
            println!("{}", serde_json::to_string_pretty(&json!({"home": home.root, "artifacts": rows}))?);
            Ok(())
        }
    }
}

/// Loads the encoder on a blocking thread (ONNX Runtime start-up reads files).
pub async fn load_encoder(common: &CommonArgs) -> Result<Arc<OnnxEncoder>> {
    let config = common.encoder_config();
    Ok(tokio::task::spawn_blocking(move || OnnxEncoder::load(&config)).await??)
}

async fn classify(common: &CommonArgs, args: ClassifyArgs) -> Result<()> {
    let bytes = std::fs::read(&args.photo).with_context(|| format!("reading {}", args.photo.display()))?;
    let encoder = load_encoder(common).await?;
    let started = Instant::now();
    let (encoding, timings) = encoder.encode_image_timed(bytes).await?;
    let builtin = encoding
        .class_probs
        .as_deref()
        .map(|p| zeroshot::top_builtin(p, encoder.builtin_classes(), args.top))
        .unwrap_or_default();
    let candidates = match &args.labels {
        Some(labels) => {
            let labels: Vec<String> = labels.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
            if labels.is_empty() {
                bail!("--labels is empty");
            }
            zeroshot::classify_with_labels(encoder.as_ref(), &encoding.embedding, &labels).await?
        }
        None if !builtin.is_empty() => builtin.clone(),
        None => bail!("this bundle has no built-in classes; pass --labels"),
    };
    let info = encoder.info();
    let out = json!({
        "photo": args.photo,
        "candidates": candidates,
        "builtin_classes": builtin,
        "bundle": info.bundle,
        "providers": info.providers,
        "timings_ms": {
            "decode": timings.decode.as_secs_f64() * 1e3,
            "preprocess": timings.preprocess.as_secs_f64() * 1e3,
            "inference": timings.inference.as_secs_f64() * 1e3,
            "total": started.elapsed().as_secs_f64() * 1e3,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn embed(common: &CommonArgs, args: EmbedArgs) -> Result<()> {
    let encoder = load_encoder(common).await?;
    let (kind, vector) = match (&args.image, &args.text) {
        (Some(path), _) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            ("image", encoder.encode_image(bytes).await?.embedding)
        }
        (None, Some(text)) => ("text", encoder.encode_texts(vec![text.clone()]).await?.remove(0)),
        (None, None) => bail!("give --image PHOTO or --text TEXT"),
    };
    let info = encoder.info();
    println!("{}", json!({"kind": kind, "bundle": info.bundle, "dim": vector.len(), "providers": info.providers, "vector": vector}));
    Ok(())
}

//! `pyxa classify` and `pyxa embed`: the encoder alone.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use pyxa_core::Encoder;
use pyxa_engine::answer::candidate::builtin_candidates;
use pyxa_engine::zeroshot::classify_with_labels;
use serde_json::json;

use crate::bootstrap::load_encoder;
use crate::config::{ClassifyArgs, CommonArgs, EmbedArgs};

pub async fn classify(common: &CommonArgs, args: ClassifyArgs) -> Result<()> {
    let bytes = std::fs::read(&args.photo).with_context(|| format!("reading {}", args.photo.display()))?;
    let encoder = load_encoder(common).await?;
    let started = Instant::now();
    let (encoding, timings) = encoder.encode_image_timed(bytes).await?;
    let builtin =
        encoding.class_probs.as_deref().map(|p| builtin_candidates(p, encoder.builtin_classes(), args.top)).unwrap_or_default();
    let candidates = match &args.labels {
        Some(labels) => {
            let labels: Vec<String> = labels.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
            if labels.is_empty() {
                bail!("--labels is empty");
            }
            let lexicon = crate::bootstrap::load_lexicon(common).await?;
            classify_with_labels(encoder.as_ref(), lexicon.as_deref(), &encoding.embedding, &labels).await?
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

pub async fn embed(common: &CommonArgs, args: EmbedArgs) -> Result<()> {
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
    println!(
        "{}",
        json!({"kind": kind, "bundle": info.bundle, "dim": vector.len(), "providers": info.providers, "vector": vector})
    );
    Ok(())
}

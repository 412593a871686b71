//! `pyxa reindex`: re-embed stored items after the encoder bundle changed, with a progress bar.
//! `pyxa serve` runs the same in the background, so an upgraded data dir just works.

use anyhow::Result;
use pyxa_engine::KnowledgeBase;

use crate::config::{CommonArgs, ReindexArgs};

pub async fn reindex(common: CommonArgs, args: ReindexArgs) -> Result<()> {
    let encoder = crate::bootstrap::load_encoder(&common).await?;
    let kb = crate::bootstrap::open_knowledge_base(encoder, &args.stores, common.encoder_config().decode_limits).await?;
    let collection = args.collection.as_deref();
    let outdated = kb.outdated_items(collection).await?;
    eprintln!("pyxa: {outdated} items to re-embed into {}", kb.space());
    let bar = indicatif::ProgressBar::new(outdated.max(0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise}, eta {eta}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = kb
        .reindex(collection, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    println!("{}", serde_json::json!({"space": kb.space(), "reembedded": report.reembedded, "failed": report.failed}));
    if report.failed > 0 {
        anyhow::bail!("{} items could not be re-embedded (see the log)", report.failed);
    }
    Ok(())
}

/// Starts re-embedding outdated items in the background, when there are any.
pub async fn in_background(kb: KnowledgeBase) -> Result<()> {
    let outdated = kb.outdated_items(None).await?;
    if outdated == 0 {
        return Ok(());
    }
    tracing::warn!(outdated, space = %kb.space(), "items from another embedding space: re-embedding them in the background");
    tokio::spawn(async move {
        match kb.reindex(None, |_, _| {}).await {
            Ok(report) => tracing::info!(reembedded = report.reembedded, failed = report.failed, "re-embedding finished"),
            Err(e) => tracing::error!(code = %e.code, cause = %e.chain(), "re-embedding stopped; run `pyxa reindex`"),
        }
    });
    Ok(())
}

//! `pyxa ingest DIR --collection NAME`: photos with labels from sub-folder names or a CSV/JSONL
//! manifest, and documents (.txt, .md, .html, .pdf) split into passages; a progress bar,
//! idempotent by content hash (safe to interrupt and re-run).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use serde::Deserialize;

use pyxa_core::ErrorCode;
use pyxa_engine::ItemInput;

use crate::config::{CommonArgs, IngestArgs};

#[derive(Debug, Deserialize)]
struct ManifestRow {
    file: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif"];
/// Items ingested at once.
const INGEST_CONCURRENCY: usize = 4;

/// One photo or document to ingest, with what the folder or the manifest says about it.
struct Planned {
    file: PathBuf,
    label: Option<String>,
    text: Option<String>,
    metadata: Option<serde_json::Value>,
    /// A document (by its extension): its passages become items.
    document: bool,
}

fn is_document(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).and_then(pyxa_docs::DocumentFormat::from_file_name).is_some()
}

/// Every photo to ingest.
fn plan(dir: &Path, manifest: Option<&Path>) -> Result<Vec<Planned>> {
    let root = dir.canonicalize().with_context(|| format!("{} does not exist", dir.display()))?;
    let mut rows = Vec::new();
    if let Some(manifest) = manifest {
        let path = root.join(manifest);
        let raw = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let parsed: Vec<ManifestRow> = if path.extension().is_some_and(|e| e == "jsonl") {
            raw.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?
        } else {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(raw.as_bytes());
            reader.deserialize().collect::<Result<_, _>>()?
        };
        for row in parsed {
            let file =
                root.join(&row.file).canonicalize().with_context(|| format!("{} in the manifest does not exist", row.file))?;
            // Manifests may not point outside the folder being ingested.
            if !file.starts_with(&root) {
                bail!("{} is outside {}", row.file, root.display());
            }
            let document = is_document(&file);
            rows.push(Planned { file, label: row.label, text: row.text, metadata: row.metadata, document });
        }
    } else {
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&d)?.flatten().map(|e| e.path()).collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                {
                    let label = p
                        .parent()
                        .filter(|parent| *parent != root)
                        .and_then(|parent| parent.file_name())
                        .map(|n| n.to_string_lossy().into_owned());
                    rows.push(Planned { file: p, label, text: None, metadata: None, document: false });
                } else if is_document(&p) {
                    rows.push(Planned { file: p, label: None, text: None, metadata: None, document: true });
                }
            }
        }
    }
    Ok(rows)
}

pub async fn ingest(common: CommonArgs, args: IngestArgs) -> Result<()> {
    let rows = plan(&args.dir, args.manifest.as_deref())?;
    if rows.is_empty() {
        bail!("no photos or documents found in {}", args.dir.display());
    }
    let encoder = crate::bootstrap::load_encoder(&common).await?;
    let mut kb =
        crate::bootstrap::open_knowledge_base(encoder.clone(), &args.stores, common.encoder_config().decode_limits).await?;
    if let Some(reader) = crate::bootstrap::load_text_reader(&common).await? {
        kb = kb.with_text_reader(reader);
    }
    kb = kb.with_document_parser(crate::bootstrap::document_parser(&encoder)?);
    kb.ensure_collection(&args.collection).await?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // A few items in flight at once: the encoder batches their photos and the vector store
    // shares one flush among their writes (group commit).
    let results = futures::stream::iter(rows)
        .map(|Planned { file, label, text, metadata, document }| {
            let (kb, bar, collection) = (&kb, &bar, &args.collection);
            async move {
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let outcome = match std::fs::read(&file) {
                    Ok(bytes) if document => match kb.add_document(collection, &name, bytes).await {
                        Ok(_) => Ok(true),
                        Err(e) if e.code == ErrorCode::DuplicateDocument => Ok(false),
                        Err(e) => Err(e.to_string()),
                    },
                    Ok(bytes) => {
                        let mut metadata = metadata.unwrap_or_else(|| serde_json::json!({}));
                        if let Some(obj) = metadata.as_object_mut() {
                            obj.insert("source_file".into(), name.clone().into());
                        }
                        let input = ItemInput { image: Some(bytes), text, label, metadata: Some(metadata), tenant: None };
                        match kb.add_item(collection, input).await {
                            Ok(_) => Ok(true),
                            Err(e) if e.code == ErrorCode::DuplicateItem => Ok(false),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = &outcome {
                    bar.println(format!("{}: {e}", file.display()));
                }
                bar.set_message(name);
                bar.inc(1);
                outcome
            }
        })
        .buffer_unordered(INGEST_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let added = results.iter().filter(|r| matches!(r, Ok(true))).count();
    let skipped = results.iter().filter(|r| matches!(r, Ok(false))).count();
    let failed = results.iter().filter(|r| r.is_err()).count();
    bar.finish_and_clear();
    // The text printed on the photos is read in the background: it is part of the ingest.
    kb.settle_text_reading().await;
    kb.optimize(&args.collection).await?;
    println!(
        "{}",
        serde_json::json!({"collection": args.collection, "added": added, "already_present": skipped, "failed": failed})
    );
    if failed > 0 {
        bail!("{failed} files could not be ingested");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pyxa-ingest-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("cats")).unwrap();
        std::fs::write(d.join("cats/a.png"), b"x").unwrap();
        std::fs::write(d.join("b.jpg"), b"x").unwrap();
        std::fs::write(d.join("notes.txt"), b"x").unwrap();
        d
    }

    #[test]
    fn labels_come_from_sub_folders() {
        let d = scratch("folders");
        let rows = plan(&d, None).unwrap();
        let labels: Vec<Option<String>> = rows.iter().map(|r| r.label.clone()).collect();
        assert_eq!(rows.len(), 3, "two photos and a document");
        assert!(labels.contains(&Some("cats".into())) && labels.contains(&None), "{labels:?}");
        let documents: Vec<&Path> = rows.iter().filter(|r| r.document).map(|r| r.file.as_path()).collect();
        assert!(documents.len() == 1 && documents[0].ends_with("notes.txt"), "{documents:?}");
    }

    #[test]
    fn labels_come_from_csv_and_jsonl_manifests() {
        let d = scratch("manifest");
        std::fs::write(d.join("labels.csv"), "file,label,text\ncats/a.png,cat,a tabby\nb.jpg,dog,\n").unwrap();
        let rows = plan(&d, Some(Path::new("labels.csv"))).unwrap();
        assert_eq!(rows[0].label.as_deref(), Some("cat"));
        assert_eq!(rows[0].text.as_deref(), Some("a tabby"));
        assert_eq!(rows[1].label.as_deref(), Some("dog"));
        std::fs::write(d.join("labels.jsonl"), "{\"file\": \"b.jpg\", \"label\": \"dog\", \"metadata\": {\"k\": 1}}\n").unwrap();
        let rows = plan(&d, Some(Path::new("labels.jsonl"))).unwrap();
        assert_eq!(rows[0].metadata, Some(serde_json::json!({"k": 1})));
    }

    #[test]
    fn a_manifest_cannot_reach_outside_the_folder() {
        let d = scratch("escape");
        std::fs::write(d.join("labels.csv"), "file,label\n../../etc/passwd,x\n").unwrap();
        assert!(plan(&d, Some(Path::new("labels.csv"))).is_err());
    }
}

//! `pyxa eval`: accuracy figures of the running encoder bundle on the dev set
//! (`pyxa models pull devset`, labels in `models/devset/devset.json`):
//! - zero-shot top-1/top-5 over the dev set's label set, English and Chinese labels;
//! - few-shot "second view": one labelled view per thing is ingested into a scratch collection
//!   through the knowledge base, the other view is asked about through the real answer pipeline
//!   (no generator) and its top candidates are compared with the label;
//! - text -> image recall@1/@5 with "a photo of a {en}" / "一张{zh}的照片" over the photos;
//! - calibration: expected calibration error (10 bins) of the top candidate's probability and
//!   the accuracy of the answers at or above `--confidence-threshold`;
//! - Chinese names -> built-in classes, text only: how often a Chinese label lands on its class,
//!   with and without its dictionary reading, over 1000 names where the dev set has 20 photos.
//!
//! Everything runs in a scratch data dir that is removed at the end.

mod metrics;
mod qa;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use pyxa_core::text::Language;
use pyxa_core::{Encoder, ErrorCode, PayloadFilter};
use pyxa_engine::answer::candidate::Candidate;
use pyxa_engine::kb::SearchQuery;
use pyxa_engine::zeroshot::rank_by_similarity;
use pyxa_engine::{AnswerSettings, AskRequest, AskService, ItemInput};
use serde::{Deserialize, Serialize};
use serde_json::json;

use metrics::{accuracy_above, expected_calibration_error, first_relevant, recall_at_k, Prediction};

use crate::config::{CommonArgs, EvalArgs, EvalWhat, StoreArgs};

/// The committed dev-set manifest (a `devset.json` in `--devset DIR` takes precedence).
const DEVSET_JSON: &str = include_str!("../../../../models/devset/devset.json");
/// Share of the width each derived view keeps (left and right views overlap in the middle).
const VIEW_WIDTH: f64 = 0.6;
const ECE_BINS: usize = 10;
const FEW_SHOT_COLLECTION: &str = "eval-few-shot";
const RETRIEVAL_COLLECTION: &str = "eval-retrieval";

#[derive(Debug, Clone, Deserialize)]
struct DevsetPhoto {
    file: String,
    en: String,
    zh: String,
    /// The thing the photo shows; photos of one group are views of the same thing.
    group: String,
}

#[derive(Debug, Deserialize)]
struct Devset {
    photos: Vec<DevsetPhoto>,
}

/// One thing of the dev set: its labels and the indices of its photos.
#[derive(Debug, Clone)]
struct Thing {
    group: String,
    en: String,
    zh: String,
    photos: Vec<usize>,
}

fn things(photos: &[DevsetPhoto]) -> Vec<Thing> {
    let mut out: Vec<Thing> = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        match out.iter_mut().find(|t| t.group == p.group) {
            Some(t) => t.photos.push(i),
            None => out.push(Thing { group: p.group.clone(), en: p.en.clone(), zh: p.zh.clone(), photos: vec![i] }),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, Serialize)]
struct TopK {
    top1: f64,
    top5: f64,
    n: usize,
}

impl TopK {
    fn from_ranks(ranks: &[Option<usize>]) -> Self {
        TopK { top1: recall_at_k(ranks, 1), top5: recall_at_k(ranks, 5), n: ranks.len() }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
struct Calibration {
    ece: f64,
    threshold: f64,
    /// Share of answers at or above the threshold.
    coverage: f64,
    /// Their accuracy (none when no answer reaches the threshold).
    accuracy: Option<f64>,
    n: usize,
}

impl Calibration {
    fn of(predictions: &[Prediction], threshold: f64) -> Self {
        let (coverage, accuracy) = accuracy_above(predictions, threshold);
        Calibration {
            ece: expected_calibration_error(predictions, ECE_BINS),
            threshold,
            coverage,
            accuracy,
            n: predictions.len(),
        }
    }
}

fn same_label(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Where the right label is in a ranked candidate list (by the English or the Chinese label).
fn rank_of(candidates: &[Candidate], thing: &Thing) -> Option<usize> {
    first_relevant(candidates, |c| {
        same_label(&c.label, &thing.en)
            || same_label(&c.label, &thing.zh)
            || c.label_zh.as_deref().is_some_and(|z| same_label(z, &thing.zh))
    })
}

fn top_prediction(candidates: &[Candidate], rank: Option<usize>) -> Prediction {
    Prediction { confidence: candidates.first().map(|c| f64::from(c.probability)).unwrap_or(0.0), correct: rank == Some(0) }
}

/// The left and the right [`VIEW_WIDTH`] of a photo, as PNG: two views of the same thing.
fn two_views(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let img = image::load_from_memory(bytes).context("decoding a dev-set photo")?;
    let (w, h) = (img.width(), img.height());
    let cw = ((f64::from(w) * VIEW_WIDTH).round() as u32).clamp(1, w);
    let png = |view: image::DynamicImage| -> Result<Vec<u8>> {
        let mut out = Cursor::new(Vec::new());
        view.write_to(&mut out, image::ImageFormat::Png)?;
        Ok(out.into_inner())
    };
    Ok((png(img.crop_imm(0, 0, cw, h))?, png(img.crop_imm(w - cw, 0, cw, h))?))
}

fn load_devset(dir: &Path) -> Result<(Vec<DevsetPhoto>, Vec<Vec<u8>>)> {
    let local = dir.join("devset.json");
    let raw = if local.is_file() { std::fs::read_to_string(&local)? } else { DEVSET_JSON.to_string() };
    let devset: Devset = serde_json::from_str(&raw).context("parsing the dev-set manifest")?;
    if devset.photos.is_empty() {
        bail!("the dev-set manifest lists no photos");
    }
    let bytes = devset
        .photos
        .iter()
        .map(|p| {
            let path = dir.join(&p.file);
            std::fs::read(&path).with_context(|| format!("reading {} (run `pyxa models pull devset`)", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((devset.photos, bytes))
}

fn scratch_stores() -> Result<StoreArgs> {
    let dir = std::env::temp_dir().join(format!("pyxa-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(StoreArgs::embedded(dir))
}

pub async fn eval(common: CommonArgs, args: EvalArgs) -> Result<()> {
    if let Some(EvalWhat::Qa(qa)) = args.what {
        return qa::eval_qa(common, qa).await;
    }
    let dir: PathBuf = args.devset.clone().unwrap_or_else(|| common.home().root.join("devset"));
    let (photos, bytes) = load_devset(&dir)?;
    let things = things(&photos);
    let group_of: HashMap<&str, usize> = things.iter().enumerate().map(|(i, t)| (t.group.as_str(), i)).collect();
    // The f32 flag as the decimal it was written as (0.35, not 0.3499999940395355).
    let threshold = (f64::from(args.confidence_threshold) * 1e6).round() / 1e6;
    let encoder = crate::bootstrap::load_encoder(&common).await?;
    let info = encoder.info();
    eprintln!("pyxa eval: {} photos of {} things from {}, bundle {}", photos.len(), things.len(), dir.display(), info.bundle);

    // Zero-shot over the label set, each photo against every thing's label.
    let mut images = Vec::with_capacity(bytes.len());
    for b in &bytes {
        images.push(encoder.encode_image(b.clone()).await?.embedding);
    }
    let lexicon = crate::bootstrap::load_lexicon(&common).await?;
    let mut zero_shot = HashMap::new();
    let mut zero_shot_predictions = Vec::new();
    for (lang, labels) in [
        ("en", things.iter().map(|t| t.en.clone()).collect::<Vec<_>>()),
        ("zh", things.iter().map(|t| t.zh.clone()).collect::<Vec<_>>()),
    ] {
        // As `classify --labels` embeds them (a Chinese label with its English reading).
        let texts = pyxa_engine::zeroshot::embed_labels(encoder.as_ref(), lexicon.as_deref(), &labels).await?;
        let mut ranks = Vec::new();
        for (p, image) in photos.iter().zip(&images) {
            let ranked = rank_by_similarity(image, &labels, &texts, info.logit_scale);
            let thing = &things[group_of[p.group.as_str()]];
            let rank = rank_of(&ranked, thing);
            if lang == "en" {
                zero_shot_predictions.push(top_prediction(&ranked, rank));
            }
            ranks.push(rank);
        }
        zero_shot.insert(lang, TopK::from_ranks(&ranks));
    }

    let names_to_classes = chinese_names_to_classes(encoder.as_ref(), lexicon.as_deref()).await?;

    let stores = scratch_stores()?;
    let kb = crate::bootstrap::open_knowledge_base(
        encoder.clone() as Arc<dyn Encoder>,
        &stores,
        common.encoder_config().decode_limits,
    )
    .await?;
    let outcome = async {
        // Text -> image: every photo, unlabelled, in one collection.
        kb.ensure_collection(RETRIEVAL_COLLECTION).await?;
        let mut item_group: HashMap<String, usize> = HashMap::new();
        for (p, b) in photos.iter().zip(&bytes) {
            let input =
                ItemInput { image: Some(b.clone()), metadata: Some(json!({"source_file": p.file})), ..Default::default() };
            match kb.add_item(RETRIEVAL_COLLECTION, input).await {
                Ok(item) => {
                    item_group.insert(item.id, group_of[p.group.as_str()]);
                }
                Err(e) if e.code == ErrorCode::DuplicateItem => {}
                Err(e) => return Err(anyhow::Error::from(e).context(format!("ingesting {}", p.file))),
            }
        }
        kb.settle_text_reading().await;
        kb.optimize(RETRIEVAL_COLLECTION).await?;
        let mut retrieval = HashMap::new();
        for (lang, query) in [
            ("en", Box::new(|t: &Thing| format!("a photo of a {}", t.en)) as Box<dyn Fn(&Thing) -> String>),
            ("zh", Box::new(|t: &Thing| format!("一张{}的照片", t.zh))),
        ] {
            let mut ranks = Vec::new();
            for (i, thing) in things.iter().enumerate() {
                let result = kb
                    .search(SearchQuery {
                        collection: RETRIEVAL_COLLECTION.to_string(),
                        text: Some(query(thing)),
                        image: None,
                        top_k: 5,
                        filter: PayloadFilter::default(),
                    })
                    .await?;
                ranks.push(first_relevant(&result.hits, |h| item_group.get(&h.item_id) == Some(&i)));
            }
            retrieval.insert(lang, TopK::from_ranks(&ranks));
        }

        // Few-shot "second view": one labelled view per thing, the other one asked about.
        kb.ensure_collection(FEW_SHOT_COLLECTION).await?;
        let mut queries = Vec::with_capacity(things.len());
        let mut derived = 0;
        for thing in &things {
            let (shot, query) = match thing.photos.as_slice() {
                [a, b, ..] => (bytes[*a].clone(), bytes[*b].clone()),
                [a] => {
                    derived += 1;
                    two_views(&bytes[*a])?
                }
                [] => unreachable!("a thing has at least one photo"),
            };
            let input = ItemInput { image: Some(shot), label: Some(thing.en.clone()), ..Default::default() };
            match kb.add_item(FEW_SHOT_COLLECTION, input).await {
                Ok(_) => {}
                Err(e) if e.code == ErrorCode::DuplicateItem => {}
                Err(e) => return Err(anyhow::Error::from(e).context(format!("ingesting the shot of {}", thing.en))),
            }
            queries.push(query);
        }
        kb.settle_text_reading().await;
        kb.optimize(FEW_SHOT_COLLECTION).await?;
        let settings = AnswerSettings { confidence_threshold: args.confidence_threshold, ..Default::default() };
        let answers = AskService::new(kb.clone(), None, settings);
        let mut ranks = Vec::new();
        let mut few_shot_predictions = Vec::new();
        for (thing, query) in things.iter().zip(queries) {
            let mut req = AskRequest::new(FEW_SHOT_COLLECTION, None, Some(query));
            req.language = Some(Language::En);
            let response = answers.ask(req, None).await?;
            let rank = rank_of(&response.candidates, thing);
            few_shot_predictions.push(top_prediction(&response.candidates, rank));
            ranks.push(rank);
        }
        Ok::<_, anyhow::Error>((retrieval, TopK::from_ranks(&ranks), few_shot_predictions, derived))
    }
    .await;
    // Close the stores (Qdrant Edge flushes on drop) before removing their files.
    drop(kb);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = std::fs::remove_dir_all(&stores.data_dir);
    let (retrieval, few_shot, few_shot_predictions, derived) = outcome?;

    let calibration_zero = Calibration::of(&zero_shot_predictions, threshold);
    let calibration_few = Calibration::of(&few_shot_predictions, threshold);
    let report = json!({
        "bundle": info.bundle,
        "devset": {"dir": dir, "photos": photos.len(), "things": things.len(), "derived_views": derived},
        "zero_shot": {"en": zero_shot["en"], "zh": zero_shot["zh"]},
        "few_shot_second_view": few_shot,
        "text_to_image": {"en": retrieval["en"], "zh": retrieval["zh"]},
        "calibration": {"zero_shot_en": calibration_zero, "few_shot": calibration_few},
        "chinese_names_to_classes": names_to_classes,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    println!(
        "pyxa eval: bundle {} (image {}), {} photos of {} things ({} few-shot pairs derived as left/right {:.0}% crops)",
        info.bundle,
        info.image_precision,
        photos.len(),
        things.len(),
        derived,
        VIEW_WIDTH * 100.0
    );
    println!("{:<44} {:>8} {:>8} {:>5}", "measure", "@1", "@5", "n");
    let row = |name: &str, t: TopK| println!("{} {:>8} {:>8} {:>5}", pad(name, 44), pct(t.top1), pct(t.top5), t.n);
    row("zero-shot top-k, English labels", zero_shot["en"]);
    row("zero-shot top-k, Chinese labels", zero_shot["zh"]);
    row("few-shot second view (answer pipeline)", few_shot);
    row("text -> image recall, \"a photo of a {en}\"", retrieval["en"]);
    row("text -> image recall, \"一张{zh}的照片\"", retrieval["zh"]);
    println!("{:<44} {:>8} {:>9} {:>13}", "calibration (top candidate)", "ECE", "coverage", "acc >= thr");
    for (name, c) in [("zero-shot, English labels", calibration_zero), ("few-shot answer pipeline", calibration_few)] {
        println!("{name:<44} {:>8.3} {:>9} {:>13}", c.ece, pct(c.coverage), c.accuracy.map(pct).unwrap_or_else(|| "-".into()));
    }
    println!("confidence threshold {threshold}, ECE over {ECE_BINS} bins");
    if let Some(n) = names_to_classes {
        println!("{:<44} {:>8} {:>8} {:>5}", "Chinese names -> built-in classes (text only)", "@1", "@5", "n");
        row("Chinese name alone", n.chinese);
        row("Chinese name + its dictionary reading", n.with_reading);
        row("English name (ceiling: the class's own words)", n.english);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, Serialize)]
struct NamesToClasses {
    chinese: TopK,
    with_reading: TopK,
    english: TopK,
}

/// Chinese labels against the built-in classes, text only. A class's English description
/// ("a photo of a {en}: {definition}", the English half of what its photos are embedded as)
/// stands for a photo of it; its Chinese name, embedded as `classify --labels` embeds a label,
/// must find it among all classes. `None` when the bundle's classes lack Chinese names or
/// definitions, or no lexicon is provisioned.
async fn chinese_names_to_classes(
    encoder: &dyn Encoder,
    lexicon: Option<&pyxa_engine::lexicon::Lexicon>,
) -> Result<Option<NamesToClasses>> {
    let classes = encoder.builtin_classes();
    let named: Option<Vec<(String, String, String)>> =
        classes.iter().map(|c| Some((c.en.clone(), c.zh.clone()?, c.definition.clone()?))).collect();
    let (Some(named), Some(lexicon)) = (named, lexicon) else { return Ok(None) };
    if named.is_empty() {
        return Ok(None);
    }
    eprintln!("pyxa eval: embedding {} class descriptions and names", named.len());
    let photos = encoder.encode_texts(named.iter().map(|(en, _, def)| format!("a photo of a {en}: {def}")).collect()).await?;
    let chinese: Vec<String> = named.iter().map(|(_, zh, _)| zh.clone()).collect();
    let english: Vec<String> = named.iter().map(|(en, _, _)| en.clone()).collect();
    let ranks = |labels: &[pyxa_core::Embedding]| -> Vec<Option<usize>> {
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let own = pyxa_core::dot(label, &photos[i]);
                Some(photos.iter().filter(|p| pyxa_core::dot(label, p) > own).count())
            })
            .collect()
    };
    let embed = |lexicon| pyxa_engine::zeroshot::embed_labels(encoder, lexicon, &chinese);
    Ok(Some(NamesToClasses {
        chinese: TopK::from_ranks(&ranks(&embed(None).await?)),
        with_reading: TopK::from_ranks(&ranks(&embed(Some(lexicon)).await?)),
        english: TopK::from_ranks(&ranks(&pyxa_engine::zeroshot::embed_labels(encoder, None, &english).await?)),
    }))
}

/// `s` padded with spaces to `width` terminal columns (CJK characters take two).
fn pad(s: &str, width: usize) -> String {
    let columns: usize = s.chars().map(|c| if ('\u{2e80}'..='\u{ffef}').contains(&c) { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(columns)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_devset_parses_and_groups_views() {
        let devset: Devset = serde_json::from_str(DEVSET_JSON).unwrap();
        let things = things(&devset.photos);
        assert!(things.len() >= 10);
        assert!(things.iter().any(|t| t.photos.len() == 2), "the motorcycle stereo pair is one thing");
        let mut en: Vec<&str> = things.iter().map(|t| t.en.as_str()).collect();
        en.sort();
        en.dedup();
        assert_eq!(en.len(), things.len(), "one English label per thing");
    }

    #[test]
    fn two_views_are_overlapping_crops() {
        let img = image::RgbImage::from_fn(10, 4, |x, _| image::Rgb([x as u8 * 20, 0, 0]));
        let mut png = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut png, image::ImageFormat::Png).unwrap();
        let (left, right) = two_views(png.get_ref()).unwrap();
        let (left, right) = (image::load_from_memory(&left).unwrap(), image::load_from_memory(&right).unwrap());
        assert_eq!((left.width(), right.width()), (6, 6));
        assert_eq!(left.to_rgb8().get_pixel(0, 0)[0], 0);
        assert_eq!(right.to_rgb8().get_pixel(5, 0)[0], 180);
    }

    #[test]
    fn padding_counts_cjk_as_two_columns() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("一张", 6), "一张  ");
    }

    #[test]
    fn a_candidate_matches_by_english_or_chinese_label() {
        let thing = Thing { group: "cat".into(), en: "cat".into(), zh: "猫".into(), photos: vec![0] };
        // Through serde, so that fields the pipeline adds later keep their defaults.
        let c = |label: &str, zh: Option<&str>| -> Candidate {
            serde_json::from_value(json!({"label": label, "label_zh": zh, "probability": 0.5})).unwrap()
        };
        assert_eq!(rank_of(&[c("dog", None), c("Cat", None)], &thing), Some(1));
        assert_eq!(rank_of(&[c("tabby", Some("猫"))], &thing), Some(0));
        assert_eq!(rank_of(&[c("dog", None)], &thing), None);
    }
}

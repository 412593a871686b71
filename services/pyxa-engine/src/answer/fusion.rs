//! Candidate fusion: three views of a photo into one distribution over label names.
//! - kNN: the labels of the collection's nearest photos ([`knn_votes`]);
//! - zero-shot over the collection's labels (cosine between the photo and the label texts);
//! - the bundle's classifier head over its built-in classes.
//!
//! How much the collection counts grows with how close the nearest neighbour is: a near
//! duplicate of a labelled photo decides the answer (that is how corrections take effect).

use std::collections::HashMap;

use pyxa_core::{dot, softmax_scaled, BuiltinClass, Embedding};

use super::candidate::{knn_votes, sort_candidates, top_builtin, Candidate, Detail};
use crate::kb::Hit;

/// Cosine to the nearest labelled photo at or below which the collection says nothing.
const UNRELATED_NEIGHBOUR_COSINE: f32 = 0.5;
/// Cosine above [`UNRELATED_NEIGHBOUR_COSINE`] at which a neighbour counts as a near duplicate.
const NEAR_DUPLICATE_SPAN: f32 = 0.45;
/// Cosine between a photo and its best collection label at or below which no label fits
/// ("a cat" scores about 0.7 on a cat and 0.15 on a coffee cup).
const UNRELATED_LABEL_COSINE: f32 = 0.35;
/// Cosine above [`UNRELATED_LABEL_COSINE`] at which a label fits fully.
const RELEVANT_LABEL_SPAN: f32 = 0.3;
/// The most the collection's views may weigh against the built-in classifier.
const MAX_COLLECTION_WEIGHT: f32 = 0.95;
/// Weight of kNN votes against zero-shot when the nearest photo is unrelated; it grows to 1
/// for a near duplicate.
const BASE_KNN_WEIGHT: f32 = 0.5;
/// Built-in classes that take part (the rest carry negligible probability).
const BUILTIN_CLASSES_CONSIDERED: usize = 20;
/// Weight of a user's label on the identical photo.
pub const EXACT_MATCH_WEIGHT: f32 = 0.9;

/// Everything fusion looks at.
pub struct FusionInput<'a> {
    pub image: &'a Embedding,
    pub hits: &'a [Hit],
    /// The label a user gave this very photo, if any.
    pub exact: Option<&'a str>,
    /// The collection's labels and their text embeddings (same order).
    pub labels: &'a [String],
    pub label_vectors: &'a [Embedding],
    /// The classifier head's probabilities (none in query mode or without a head).
    pub class_probs: Option<&'a [f32]>,
    pub classes: &'a [BuiltinClass],
    /// The bundle's zero-shot softmax scale.
    pub logit_scale: f32,
}

/// 0 when the value is at `floor`, 1 at `floor + span`, linear between.
fn ramp(value: f32, floor: f32, span: f32) -> f32 {
    ((value - floor) / span).clamp(0.0, 1.0)
}

pub fn fuse_candidates(input: &FusionInput<'_>) -> Vec<Candidate> {
    let mut scores: HashMap<String, f32> = HashMap::new();
    let nearest = input.hits.iter().filter(|h| h.label.is_some()).map(|h| h.score).fold(0.0f32, f32::max);
    let closeness = ramp(nearest, UNRELATED_NEIGHBOUR_COSINE, NEAR_DUPLICATE_SPAN);
    let cosines: Vec<f32> = input.label_vectors.iter().map(|t| dot(input.image, t)).collect();
    // Unrelated labels must not outvote the classifier just because they are the only ones the
    // collection has.
    let best_cosine = cosines.iter().copied().fold(f32::MIN, f32::max);
    let relevance = ramp(best_cosine, UNRELATED_LABEL_COSINE, RELEVANT_LABEL_SPAN);
    let collection_weight = if input.labels.is_empty() {
        0.0
    } else if input.class_probs.is_some() {
        MAX_COLLECTION_WEIGHT * closeness.max(relevance)
    } else {
        1.0
    };

    if collection_weight > 0.0 {
        let knn = knn_votes(input.hits);
        let zero_shot = softmax_scaled(&cosines, input.logit_scale);
        let knn_weight = if knn.is_empty() { 0.0 } else { BASE_KNN_WEIGHT + (1.0 - BASE_KNN_WEIGHT) * closeness };
        for (label, zs) in input.labels.iter().zip(zero_shot) {
            let p = knn_weight * knn.get(label).copied().unwrap_or(0.0) + (1.0 - knn_weight) * zs;
            *scores.entry(label.clone()).or_default() += collection_weight * p;
        }
    }
    if let Some(probs) = input.class_probs {
        let builtin_weight = 1.0 - collection_weight;
        for (i, p) in top_builtin(probs, input.classes, BUILTIN_CLASSES_CONSIDERED) {
            let name = &input.classes[i].en;
            // A user label equal to a built-in class name is the same answer.
            let key = input.labels.iter().find(|l| l.eq_ignore_ascii_case(name)).unwrap_or(name).clone();
            *scores.entry(key).or_default() += builtin_weight * p;
        }
    }
    // The very same photo was labelled by a user (an upload or a correction): that label is
    // the answer; the other views keep a small share.
    if let Some(label) = input.exact {
        scores.values_mut().for_each(|p| *p *= 1.0 - EXACT_MATCH_WEIGHT);
        *scores.entry(label.to_string()).or_default() += EXACT_MATCH_WEIGHT;
    }
    let mut out: Vec<Candidate> =
        scores.into_iter().map(|(label, probability)| Candidate::new(label, None, probability)).collect();
    sort_candidates(&mut out);
    out
}

/// Names the answer at the level people use. The built-in candidates that share a roll-up
/// ("tiger cat", "tabby", "Egyptian cat" -> "cat"), plus a user label equal to the roll-up's
/// name, form a group; when the top candidate belongs to a group (or is its name) and the group
/// is more probable than the top alone, the roll-up becomes the top candidate with the summed
/// probability and the group's most probable class as its detail. The finer candidates stay
/// listed. A top candidate that is one of the collection's own `labels` ("lynx" after a
/// correction) was named by a user at that level: it stays. `candidates` must be sorted, most
/// probable first.
pub fn roll_up(candidates: Vec<Candidate>, classes: &[BuiltinClass], labels: &[String]) -> Vec<Candidate> {
    let Some(top) = candidates.first() else { return candidates };
    let rollup_of = |label: &str| classes.iter().find(|c| c.en.eq_ignore_ascii_case(label)).and_then(|c| c.rollup.as_ref());
    let names = |label: &str, r: &pyxa_core::Rollup| label.eq_ignore_ascii_case(&r.en) || r.zh.as_deref() == Some(label.trim());
    let users = labels.iter().any(|l| l.eq_ignore_ascii_case(&top.label));
    let rollup = match rollup_of(&top.label) {
        Some(r) if !users || names(&top.label, r) => r.clone(),
        Some(_) => return candidates,
        None => match candidates.iter().skip(1).filter_map(|c| rollup_of(&c.label)).find(|r| names(&top.label, r)) {
            Some(r) => r.clone(),
            None => return candidates,
        },
    };
    let members: Vec<&Candidate> =
        candidates.iter().filter(|c| !names(&c.label, &rollup) && rollup_of(&c.label) == Some(&rollup)).collect();
    let Some(finest) = members.first() else { return candidates };
    let sum: f32 = candidates.iter().filter(|c| names(&c.label, &rollup)).map(|c| c.probability).sum::<f32>()
        + members.iter().map(|c| c.probability).sum::<f32>();
    if sum <= top.probability {
        return candidates;
    }
    // A user's label of that name keeps its spelling.
    let label = candidates.iter().find(|c| names(&c.label, &rollup)).map_or_else(|| rollup.en.clone(), |c| c.label.clone());
    let head = Candidate {
        label_zh: rollup.zh.clone().or_else(|| candidates.iter().find(|c| c.label == label).and_then(|c| c.label_zh.clone())),
        label_en: candidates.iter().find(|c| c.label == label).and_then(|c| c.label_en.clone()),
        label,
        probability: sum,
        detail: Some(Detail { label: finest.label.clone(), label_zh: finest.label_zh.clone(), probability: finest.probability }),
    };
    let mut out = vec![head];
    out.extend(candidates.into_iter().filter(|c| !names(&c.label, &rollup)));
    out
}

/// The label of the newest item holding exactly this photo (UUIDv7 ids sort by time).
pub fn exact_label<'a>(hits: &'a [Hit], photo: Option<&str>) -> Option<&'a str> {
    let photo = photo?;
    hits.iter()
        .filter(|h| h.image.as_deref() == Some(photo))
        .filter_map(|h| h.label.as_deref().map(|l| (h.item_id.as_str(), l)))
        .max_by_key(|(id, _)| *id)
        .map(|(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyxa_core::ItemKind;

    fn hit(id: &str, label: &str, score: f32) -> Hit {
        Hit {
            document: None,
            keyword_match: false,
            item_id: id.into(),
            label: Some(label.into()),
            kind: ItemKind::Image,
            score,
            text: None,
            ocr_text: None,
            image: None,
        }
    }

    #[test]
    fn a_near_duplicate_decides_the_answer() {
        let image = vec![1.0, 0.0];
        let hits = vec![hit("a", "lynx", 1.0), hit("b", "cat", 0.8)];
        let labels = vec!["cat".to_string(), "lynx".to_string()];
        let label_vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let classes =
            vec![BuiltinClass { index: 0, en: "tiger cat".into(), zh: Some("山猫".into()), definition: None, rollup: None }];
        let c = fuse_candidates(&FusionInput {
            image: &image,
            hits: &hits,
            exact: None,
            labels: &labels,
            label_vectors: &label_vectors,
            class_probs: Some(&[1.0]),
            classes: &classes,
            logit_scale: 30.0,
        });
        assert_eq!(c[0].label, "lynx", "{c:?}");
        let sum: f32 = c.iter().map(|c| c.probability).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    }

    fn class(index: usize, en: &str, zh: &str, rollup: Option<(&str, &str)>) -> BuiltinClass {
        BuiltinClass {
            index,
            en: en.into(),
            zh: Some(zh.into()),
            definition: None,
            rollup: rollup.map(|(en, zh)| pyxa_core::Rollup { en: en.into(), zh: Some(zh.into()) }),
        }
    }

    #[test]
    fn fine_classes_roll_up_to_the_level_people_name() {
        let cat = Some(("cat", "猫"));
        let classes = vec![class(0, "tiger cat", "虎猫", cat), class(1, "tabby", "虎斑猫", cat), class(2, "lynx", "猞猁", None)];
        let c = |l: &str, p: f32| Candidate::new(l, None, p);
        let out = roll_up(vec![c("tiger cat", 0.4), c("tabby", 0.3), c("lynx", 0.2)], &classes, &[]);
        assert_eq!(out[0].label, "cat");
        assert_eq!(out[0].label_zh.as_deref(), Some("猫"));
        assert!((out[0].probability - 0.7).abs() < 1e-6);
        assert_eq!(out[0].detail.as_ref().unwrap().label, "tiger cat");
        assert_eq!(out.len(), 4, "the finer classes stay listed");
        // A user label "cat" merges with the roll-up, whichever of them leads.
        let out = roll_up(vec![c("cat", 0.3), c("tiger cat", 0.25), c("lynx", 0.2), c("tabby", 0.1)], &classes, &[]);
        assert_eq!((out[0].label.as_str(), out.len()), ("cat", 4));
        assert!((out[0].probability - 0.65).abs() < 1e-6);
        let out = roll_up(vec![c("tiger cat", 0.3), c("cat", 0.25)], &classes, &[]);
        assert_eq!(out[0].label, "cat");
        assert!((out[0].probability - 0.55).abs() < 1e-6);
        // A class without a roll-up, or a group no more probable than its top, stays as it is.
        let out = roll_up(vec![c("lynx", 0.5), c("tiger cat", 0.3), c("tabby", 0.2)], &classes, &[]);
        assert_eq!(out[0].label, "lynx");
        let out = roll_up(vec![c("tiger cat", 0.9), c("lynx", 0.1)], &classes, &[]);
        assert_eq!((out[0].label.as_str(), out[0].detail.is_none()), ("tiger cat", true));
        // A user's own label for a fine class ("tiger cat" as a correction) is kept.
        let out = roll_up(vec![c("tiger cat", 0.4), c("tabby", 0.3)], &classes, &["tiger cat".to_string()]);
        assert_eq!(out[0].label, "tiger cat");
    }

    #[test]
    fn the_exact_photo_label_wins() {
        let mut h = hit("b", "eileen collins", 0.99);
        h.image = Some("abc".into());
        let hits = vec![h];
        assert_eq!(exact_label(&hits, Some("abc")), Some("eileen collins"));
        assert_eq!(exact_label(&hits, Some("other")), None);
    }
}

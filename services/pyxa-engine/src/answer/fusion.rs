//! Candidate fusion: three views of a photo into one distribution over label names.
//! - kNN: the labels of the collection's nearest photos ([`knn_votes`]);
//! - zero-shot over the collection's labels (cosine between the photo and the label texts);
//! - the bundle's classifier head over its built-in classes.
//!
//! How much the collection counts grows with how close the nearest neighbour is: a near
//! duplicate of a labelled photo decides the answer (that is how corrections take effect).

use std::collections::HashMap;

use pyxa_core::{dot, softmax_scaled, BuiltinClass, Embedding};

use super::candidate::{knn_votes, sort_candidates, top_builtin, Candidate};
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
        scores.into_iter().map(|(label, probability)| Candidate { label, label_zh: None, probability }).collect();
    sort_candidates(&mut out);
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
        Hit { item_id: id.into(), label: Some(label.into()), kind: ItemKind::Image, score, text: None, image: None }
    }

    #[test]
    fn a_near_duplicate_decides_the_answer() {
        let image = vec![1.0, 0.0];
        let hits = vec![hit("a", "lynx", 1.0), hit("b", "cat", 0.8)];
        let labels = vec!["cat".to_string(), "lynx".to_string()];
        let label_vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let classes = vec![BuiltinClass { index: 0, en: "tiger cat".into(), zh: Some("山猫".into()), definition: None }];
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

    #[test]
    fn the_exact_photo_label_wins() {
        let mut h = hit("b", "eileen collins", 0.99);
        h.image = Some("abc".into());
        let hits = vec![h];
        assert_eq!(exact_label(&hits, Some("abc")), Some("eileen collins"));
        assert_eq!(exact_label(&hits, Some("other")), None);
    }
}

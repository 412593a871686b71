//! Candidate answers with probabilities, and the votes they are built from.

use std::collections::HashMap;

use pyxa_core::{softmax_scaled, BuiltinClass};
use serde::{Deserialize, Serialize};

use crate::kb::Hit;

/// Similarity scale for kNN votes (the bundle's logit scale is used for zero-shot; this one
/// sharpens neighbour votes the same way).
pub const KNN_SCALE: f32 = 30.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    /// For a label in Chinese: its English reading from the Chinese-English dictionary, which
    /// an English answer may name it by ("咖啡" -> "coffee").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    pub probability: f32,
    /// For a roll-up ("butterfly"): its most probable finer class ("admiral").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// The finer class under a rolled-up candidate, with its own probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Detail {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    pub probability: f32,
}

impl Candidate {
    pub fn new(label: impl Into<String>, label_zh: Option<String>, probability: f32) -> Self {
        Self { label: label.into(), label_zh, label_en: None, probability, detail: None }
    }
}

/// Most probable first; ties by label so the order is stable.
pub fn sort_candidates(c: &mut [Candidate]) {
    c.sort_by(|a, b| b.probability.total_cmp(&a.probability).then_with(|| a.label.cmp(&b.label)));
}

/// Neighbours' labels, each vote weighted by softmax(scale * similarity); sums to 1 over the
/// labelled hits (empty when none is labelled).
pub fn knn_votes(hits: &[Hit]) -> HashMap<String, f32> {
    let labelled: Vec<(&str, f32)> = hits.iter().filter_map(|h| h.label.as_deref().map(|l| (l, h.score))).collect();
    let weights = softmax_scaled(&labelled.iter().map(|(_, s)| *s).collect::<Vec<_>>(), KNN_SCALE);
    let mut votes: HashMap<String, f32> = HashMap::new();
    for ((label, _), w) in labelled.into_iter().zip(weights) {
        *votes.entry(label.to_string()).or_default() += w;
    }
    votes
}

/// Indices of the `k` most probable built-in classes with their probabilities.
pub fn top_builtin(class_probs: &[f32], classes: &[BuiltinClass], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<usize> = (0..class_probs.len().min(classes.len())).collect();
    idx.sort_by(|&a, &b| class_probs[b].total_cmp(&class_probs[a]));
    idx.into_iter().take(k).map(|i| (i, class_probs[i])).collect()
}

/// The top `k` built-in classes as candidates, with their Chinese names.
pub fn builtin_candidates(class_probs: &[f32], classes: &[BuiltinClass], k: usize) -> Vec<Candidate> {
    top_builtin(class_probs, classes, k)
        .into_iter()
        .map(|(i, p)| Candidate::new(classes[i].en.clone(), classes[i].zh.clone(), p))
        .collect()
}

/// Without a photo: the labels of the matching items, weighted like kNN votes.
pub fn text_candidates(hits: &[Hit]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> =
        knn_votes(hits).into_iter().map(|(label, probability)| Candidate::new(label, None, probability)).collect();
    sort_candidates(&mut out);
    out
}

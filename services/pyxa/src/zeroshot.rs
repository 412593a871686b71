//! Zero-shot classification: softmax over scaled cosines between a photo and label texts, and
//! the bundle's built-in classifier head.

use pyxa_core::{dot, softmax_scaled, BuiltinClass, Embedding, Encoder, Result};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    pub probability: f32,
}

/// Probabilities of `labels` for a photo embedding, most probable first.
pub async fn classify_with_labels(
    encoder: &dyn Encoder,
    image: &Embedding,
    labels: &[String],
) -> Result<Vec<Candidate>> {
    let texts = encoder.encode_texts(labels.to_vec()).await?;
    Ok(rank_by_similarity(image, labels, &texts, encoder.info().logit_scale))
}

/// Softmax of `scale * cosine` over `labels`, sorted.
pub fn rank_by_similarity(image: &Embedding, labels: &[String], texts: &[Embedding], scale: f32) -> Vec<Candidate> {
    let cosines: Vec<f32> = texts.iter().map(|t| dot(image, t)).collect();
    let probs = softmax_scaled(&cosines, scale);
    let mut out: Vec<Candidate> = labels
        .iter()
        .zip(probs)
        .map(|(l, p)| Candidate { label: l.clone(), label_zh: None, probability: p })
        .collect();
    sort_candidates(&mut out);
    out
}

/// The top `k` built-in classes from the classifier head.
pub fn top_builtin(class_probs: &[f32], classes: &[BuiltinClass], k: usize) -> Vec<Candidate> {
    let mut idx: Vec<usize> = (0..class_probs.len().min(classes.len())).collect();
    idx.sort_by(|&a, &b| class_probs[b].total_cmp(&class_probs[a]));
    idx.into_iter()
        .take(k)
        .map(|i| Candidate { label: classes[i].en.clone(), label_zh: classes[i].zh.clone(), probability: class_probs[i] })
        .collect()
}

pub fn sort_candidates(c: &mut [Candidate]) {
    c.sort_by(|a, b| b.probability.total_cmp(&a.probability).then_with(|| a.label.cmp(&b.label)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_cosine_and_sums_to_one() {
        let image = vec![1.0, 0.0];
        let labels = vec!["x".to_string(), "y".to_string()];
        let texts = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        let c = rank_by_similarity(&image, &labels, &texts, 30.0);
        assert_eq!(c[0].label, "y");
        let sum: f32 = c.iter().map(|c| c.probability).sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
}

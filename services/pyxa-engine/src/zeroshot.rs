//! Zero-shot classification of a photo over labels the caller names.

use pyxa_core::{dot, softmax_scaled, Embedding, Encoder, Result};

use crate::answer::candidate::{sort_candidates, Candidate};

/// Probabilities of `labels` for a photo embedding, most probable first.
pub async fn classify_with_labels(encoder: &dyn Encoder, image: &Embedding, labels: &[String]) -> Result<Vec<Candidate>> {
    let texts = encoder.encode_texts(labels.to_vec()).await?;
    Ok(rank_by_similarity(image, labels, &texts, encoder.info().logit_scale))
}

/// Softmax of `scale * cosine` over `labels`, sorted.
pub fn rank_by_similarity(image: &Embedding, labels: &[String], texts: &[Embedding], scale: f32) -> Vec<Candidate> {
    let cosines: Vec<f32> = texts.iter().map(|t| dot(image, t)).collect();
    let probs = softmax_scaled(&cosines, scale);
    let mut out: Vec<Candidate> = labels.iter().zip(probs).map(|(l, p)| Candidate::new(l.clone(), None, p)).collect();
    sort_candidates(&mut out);
    out
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

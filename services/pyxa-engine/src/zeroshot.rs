//! Zero-shot classification of a photo over labels the caller names.

use pyxa_core::{dot, l2_normalize, softmax_scaled, Embedding, Encoder, Error, Result};

use crate::answer::candidate::{sort_candidates, Candidate};
use crate::lexicon::Lexicon;

/// The text a label is embedded as: the photo-caption form the bundle's class descriptions use
/// ("a photo of a cat", "一张猫的照片"), so a bare word lands where photos of it do.
pub fn label_prompt(label: &str) -> String {
    let label = label.trim();
    if label.chars().any(pyxa_core::text::is_han) {
        return format!("一张{label}的照片");
    }
    let lower = label.to_lowercase();
    if ["a ", "an ", "the "].iter().any(|a| lower.starts_with(a)) {
        return format!("a photo of {label}");
    }
    let article = if lower.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("a photo of {article} {label}")
}

/// The captions a label is embedded as: its own, and for a Chinese label that the lexicon
/// reads, the caption of its English reading too ("月球" -> "一张月球的照片", "a photo of the
/// moon"; see `lexicon` for why).
pub fn label_prompts(label: &str, lexicon: Option<&Lexicon>) -> Vec<String> {
    let mut prompts = vec![label_prompt(label)];
    if let Some(english) = lexicon.and_then(|l| l.english(label)) {
        tracing::debug!(label, english, "a Chinese label's English reading");
        prompts.push(label_prompt(&english));
    }
    prompts
}

/// One embedding per label, same order: the normalised mean of its captions' embeddings.
pub async fn embed_labels(encoder: &dyn Encoder, lexicon: Option<&Lexicon>, labels: &[String]) -> Result<Vec<Embedding>> {
    let prompts: Vec<Vec<String>> = labels.iter().map(|l| label_prompts(l, lexicon)).collect();
    let vectors = encoder.encode_texts(prompts.iter().flatten().cloned().collect()).await?;
    let mut vectors = vectors.into_iter();
    prompts
        .iter()
        .map(|captions| {
            let mut mean: Option<Embedding> = None;
            for v in vectors.by_ref().take(captions.len()) {
                match &mut mean {
                    Some(m) => m.iter_mut().zip(&v).for_each(|(a, b)| *a += b),
                    None => mean = Some(v),
                }
            }
            let mut mean = mean.ok_or_else(|| Error::internal("the encoder returned fewer embeddings than captions"))?;
            l2_normalize(&mut mean);
            Ok(mean)
        })
        .collect()
}

/// Probabilities of `labels` for a photo embedding, most probable first.
pub async fn classify_with_labels(
    encoder: &dyn Encoder,
    lexicon: Option<&Lexicon>,
    image: &Embedding,
    labels: &[String],
) -> Result<Vec<Candidate>> {
    let texts = embed_labels(encoder, lexicon, labels).await?;
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
    fn labels_are_embedded_as_photo_captions_in_their_language() {
        assert_eq!(label_prompt("cat"), "a photo of a cat");
        assert_eq!(label_prompt("espresso"), "a photo of an espresso");
        assert_eq!(label_prompt("a cup of coffee"), "a photo of a cup of coffee");
        assert_eq!(label_prompt(" 猫 "), "一张猫的照片");
    }

    #[test]
    fn a_chinese_label_is_also_captioned_in_its_english_reading() {
        let lexicon = Lexicon::parse("月球 月球 [yue4 qiu2] /the moon/\n");
        assert_eq!(label_prompts("月球", Some(&lexicon)), ["一张月球的照片", "a photo of the moon"]);
        assert_eq!(label_prompts("月球", None), ["一张月球的照片"]);
        assert_eq!(label_prompts("moon", Some(&lexicon)), ["a photo of a moon"]);
        assert_eq!(label_prompts("火星", Some(&lexicon)), ["一张火星的照片"], "no reading, no second caption");
    }

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

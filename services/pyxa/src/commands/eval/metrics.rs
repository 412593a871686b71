//! The evaluation metrics, pure: ranks, top-k accuracy, recall@k, expected calibration error.

/// The 0-based position of the first ranked entry that `is_relevant` accepts.
pub fn first_relevant<T>(ranked: &[T], is_relevant: impl Fn(&T) -> bool) -> Option<usize> {
    ranked.iter().position(is_relevant)
}

/// Share of queries whose first relevant entry is within the top `k` (0 when there are none).
/// With one relevant entry per query this is top-k accuracy; with several it is the usual
/// retrieval recall@k ("a relevant entry was found in the first k").
pub fn recall_at_k(first_relevant: &[Option<usize>], k: usize) -> f64 {
    if first_relevant.is_empty() {
        return 0.0;
    }
    first_relevant.iter().filter(|r| r.is_some_and(|r| r < k)).count() as f64 / first_relevant.len() as f64
}

/// One prediction for calibration: the top candidate's probability and whether it was right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub confidence: f64,
    pub correct: bool,
}

/// Expected calibration error over `bins` equal-width confidence bins:
/// `sum_b |accuracy(b) - mean confidence(b)| * n_b / n` (0 when there are no predictions).
/// Bin `i` holds confidences in `[i/bins, (i+1)/bins)`; 1.0 goes to the last bin.
pub fn expected_calibration_error(predictions: &[Prediction], bins: usize) -> f64 {
    if predictions.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0f64; bins];
    let mut right = vec![0usize; bins];
    for p in predictions {
        let c = p.confidence.clamp(0.0, 1.0);
        let b = ((c * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += c;
        right[b] += usize::from(p.correct);
    }
    let n = predictions.len() as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let nb = count[b] as f64;
            (right[b] as f64 / nb - conf[b] / nb).abs() * nb / n
        })
        .sum()
}

/// Above a confidence threshold: the share of predictions kept (coverage) and their accuracy
/// (`None` when none is kept).
pub fn accuracy_above(predictions: &[Prediction], threshold: f64) -> (f64, Option<f64>) {
    if predictions.is_empty() {
        return (0.0, None);
    }
    let kept: Vec<&Prediction> = predictions.iter().filter(|p| p.confidence >= threshold).collect();
    let coverage = kept.len() as f64 / predictions.len() as f64;
    let accuracy = (!kept.is_empty()).then(|| kept.iter().filter(|p| p.correct).count() as f64 / kept.len() as f64);
    (coverage, accuracy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(confidence: f64, correct: bool) -> Prediction {
        Prediction { confidence, correct }
    }

    #[test]
    fn recall_counts_a_hit_within_k() {
        let ranks = [Some(0), Some(3), None, Some(1)];
        assert_eq!(recall_at_k(&ranks, 1), 0.25);
        assert_eq!(recall_at_k(&ranks, 2), 0.5);
        assert_eq!(recall_at_k(&ranks, 5), 0.75);
        assert_eq!(recall_at_k(&[], 5), 0.0);
    }

    #[test]
    fn first_relevant_finds_any_of_several() {
        let ranked = ["a", "b", "c", "b"];
        assert_eq!(first_relevant(&ranked, |x| *x == "b" || *x == "c"), Some(1));
        assert_eq!(first_relevant(&ranked, |x| *x == "z"), None);
    }

    #[test]
    fn ece_is_zero_when_confidence_matches_accuracy() {
        // Bin [0.7, 0.8): confidence 0.75, 3 of 4 right.
        let preds = [p(0.75, true), p(0.75, true), p(0.75, true), p(0.75, false)];
        assert!(expected_calibration_error(&preds, 10).abs() < 1e-12);
        assert_eq!(expected_calibration_error(&[], 10), 0.0);
    }

    #[test]
    fn ece_weights_each_bin_by_its_size() {
        // Bin 9: two at 0.95, one right -> |0.5 - 0.95| * 2/4; bin 1: two at 0.1, none right
        // -> |0 - 0.1| * 2/4; confidence 1.0 lands in the last bin.
        let preds = [p(0.95, true), p(0.95, false), p(0.1, false), p(0.1, false)];
        let want = 0.45 * 0.5 + 0.1 * 0.5;
        assert!((expected_calibration_error(&preds, 10) - want).abs() < 1e-12);
        assert!((expected_calibration_error(&[p(1.0, true)], 10)).abs() < 1e-12);
        assert!((expected_calibration_error(&[p(1.0, false)], 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn accuracy_above_keeps_confident_predictions() {
        let preds = [p(0.9, true), p(0.5, false), p(0.36, true), p(0.2, false)];
        let (coverage, accuracy) = accuracy_above(&preds, 0.35);
        assert_eq!(coverage, 0.75);
        assert!((accuracy.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(accuracy_above(&preds, 0.95), (0.0, None));
    }
}

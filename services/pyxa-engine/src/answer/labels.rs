//! Label names: their text embeddings (cached, labels repeat across questions) and their
//! Chinese names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pyxa_core::{BuiltinClass, Embedding, Encoder, Error, Result};

use crate::lexicon::Lexicon;

/// Past this many labels the cache starts over (a bound, not a tuning knob).
const MAX_CACHED_LABELS: usize = 50_000;
/// Labels encoded per request to the encoder.
const LABELS_PER_CHUNK: usize = 32;

#[derive(Clone, Default)]
pub struct LabelEmbeddings {
    cache: Arc<Mutex<HashMap<String, Embedding>>>,
}

impl LabelEmbeddings {
    /// The text embedding of each label, same order; only labels not seen before are encoded.
    pub async fn get(&self, encoder: &dyn Encoder, lexicon: Option<&Lexicon>, labels: &[String]) -> Result<Vec<Embedding>> {
        let poisoned = || Error::internal("label cache poisoned");
        let missing: Vec<String> = {
            let cache = self.cache.lock().map_err(|_| poisoned())?;
            labels.iter().filter(|l| !cache.contains_key(*l)).cloned().collect()
        };
        let mut fresh: HashMap<String, Embedding> = HashMap::new();
        // In chunks, each cached as it comes: work done survives a later chunk's failure (say,
        // a busy encoder), so the next ask carries on where this one stopped.
        for chunk in missing.chunks(LABELS_PER_CHUNK) {
            let vectors = crate::zeroshot::embed_labels(encoder, lexicon, chunk).await?;
            let mut cache = self.cache.lock().map_err(|_| poisoned())?;
            if cache.len() + chunk.len() > MAX_CACHED_LABELS {
                cache.clear();
            }
            for (label, vector) in chunk.iter().zip(vectors) {
                cache.insert(label.clone(), vector.clone());
                fresh.insert(label.clone(), vector);
            }
        }
        let cache = self.cache.lock().map_err(|_| poisoned())?;
        labels
            .iter()
            .map(|l| fresh.get(l).or_else(|| cache.get(l)).cloned().ok_or_else(|| Error::internal("label embedding missing")))
            .collect()
    }
}

/// A Chinese name for a label: the label itself when it is Chinese; a built-in class's name
/// when it matches; else the common ending of the Chinese names of the built-in classes that
/// are kinds of it ("tiger cat", "Persian cat" -> "...猫" for "cat").
pub fn zh_for_label(label: &str, classes: &[BuiltinClass]) -> Option<String> {
    if label.chars().any(pyxa_core::text::is_han) {
        return Some(label.to_string());
    }
    // Compared without allocating: this runs for every candidate of every ask, over every class.
    let lower = label.trim().to_lowercase();
    let head = lower.strip_prefix("a ").or_else(|| lower.strip_prefix("an ")).unwrap_or(&lower);
    if let Some(c) = classes.iter().find(|c| c.en.eq_ignore_ascii_case(head)) {
        return c.zh.clone();
    }
    let kind_of_head = |en: &str| {
        en.len() > head.len()
            && en.as_bytes()[en.len() - head.len() - 1] == b' '
            && en.get(en.len() - head.len()..).is_some_and(|end| end.eq_ignore_ascii_case(head))
    };
    let kinds: Vec<&str> = classes.iter().filter(|c| kind_of_head(&c.en)).filter_map(|c| c.zh.as_deref()).collect();
    if kinds.len() < 2 {
        return None;
    }
    common_ending(&kinds)
}

/// The longest ending (up to 4 characters) that at least 60% of the names share: one odd name
/// such as "Madagascar cat" (a lemur) must not spoil it.
fn common_ending(names: &[&str]) -> Option<String> {
    let mut best = String::new();
    for len in 1..=4usize {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for name in names {
            let chars: Vec<char> = name.chars().collect();
            if chars.len() >= len {
                *counts.entry(chars[chars.len() - len..].iter().collect()).or_default() += 1;
            }
        }
        match counts.into_iter().max_by_key(|(s, n)| (*n, s.clone())) {
            Some((ending, n)) if n * 10 >= names.len() * 6 && ending.ends_with(&best) => best = ending,
            _ => break,
        }
    }
    (!best.is_empty()).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(i: usize, en: &str, zh: &str) -> BuiltinClass {
        BuiltinClass { index: i, en: en.into(), zh: Some(zh.into()), definition: None, rollup: None }
    }

    #[test]
    fn chinese_names_for_user_labels() {
        let classes = vec![
            class(0, "tiger cat", "山猫"),
            class(1, "Persian cat", "波斯猫"),
            class(2, "Siamese cat", "暹罗猫"),
            class(3, "Madagascar cat", "环尾狐猴"),
            class(4, "espresso", "浓缩咖啡"),
        ];
        assert_eq!(zh_for_label("cat", &classes).as_deref(), Some("猫"));
        assert_eq!(zh_for_label("espresso", &classes).as_deref(), Some("浓缩咖啡"));
        assert_eq!(zh_for_label("猫", &classes).as_deref(), Some("猫"));
        assert_eq!(zh_for_label("rocket", &classes), None);
    }
}

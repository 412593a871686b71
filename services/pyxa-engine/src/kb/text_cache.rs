//! The vectors of recent short texts: questions repeat ("What is this?", "这是什么？"), and
//! encoding one costs about as much as the rest of a candidates-only ask.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use pyxa_core::Embedding;

/// Texts longer than this are not kept (documents' passages and long prompts rarely repeat).
pub(crate) const MAX_CACHED_TEXT_BYTES: usize = 512;

/// A bounded map from text to its vector; the oldest entry goes first when it is full.
pub(crate) struct TextVectorCache {
    capacity: usize,
    inner: Mutex<(HashMap<String, Embedding>, VecDeque<String>)>,
}

impl TextVectorCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, inner: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    pub(crate) fn get(&self, text: &str) -> Option<Embedding> {
        self.inner.lock().ok()?.0.get(text).cloned()
    }

    pub(crate) fn put(&self, text: &str, vector: &Embedding) {
        if text.len() > MAX_CACHED_TEXT_BYTES || self.capacity == 0 {
            return;
        }
        let Ok(mut guard) = self.inner.lock() else { return };
        let (map, order) = &mut *guard;
        if map.contains_key(text) {
            return;
        }
        while map.len() >= self.capacity {
            match order.pop_front() {
                Some(oldest) => {
                    map.remove(&oldest);
                }
                None => break,
            }
        }
        map.insert(text.to_string(), vector.clone());
        order.push_back(text.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_short_texts_only() {
        let cache = TextVectorCache::new(2);
        cache.put("a", &vec![1.0]);
        cache.put("b", &vec![2.0]);
        cache.put("a", &vec![9.0]);
        cache.put("c", &vec![3.0]);
        assert_eq!(cache.get("a"), None, "the oldest went first");
        assert_eq!(cache.get("b"), Some(vec![2.0]));
        assert_eq!(cache.get("c"), Some(vec![3.0]));
        cache.put(&"x".repeat(MAX_CACHED_TEXT_BYTES + 1), &vec![4.0]);
        assert_eq!(cache.get(&"x".repeat(MAX_CACHED_TEXT_BYTES + 1)), None);
    }
}

//! Keyword vectors for hybrid retrieval: a text as a sparse vector of hashed terms, so that the
//! vector store can rank by BM25 (it applies the inverse document frequency itself) what dense
//! embeddings miss: names, numbers, codes ("Mochi", "305", "E07").
//!
//! Terms: Latin-script words and numbers, lowercased, without common English stop words; Chinese
//! (and other CJK) text as single characters and pairs of adjacent characters, since it has no
//! spaces and a word is usually one or two characters. Term ids are FNV-1a hashes (stable across
//! processes and versions: stored vectors stay valid). Documents carry BM25's term-frequency
//! saturation, queries weight 1 per term.

use std::collections::BTreeMap;

/// A sparse vector: sorted, unique indices with their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl SparseVector {
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// The version of this encoding; a change to the terms or weights needs stored vectors redone.
pub const KEYWORDS_VERSION: u32 = 1;
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// BM25's average document length, fixed (as Qdrant's own BM25 does): passages are about this long.
const AVG_TERMS: f32 = 100.0;
/// Most terms taken from one text.
const MAX_TERMS: usize = 4096;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i", "in",
    "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "them", "there", "these", "they",
    "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "you", "your",
];

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{3040}'..='\u{30FF}' | '\u{AC00}'..='\u{D7AF}')
}

fn fnv1a(term: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in term.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The terms of a text, in order, with repeats.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut han: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() && !STOP_WORDS.contains(&word.as_str()) {
            out.push(std::mem::take(word));
        }
        word.clear();
    };
    let flush_han = |han: &mut Vec<char>, out: &mut Vec<String>| {
        for (i, c) in han.iter().enumerate() {
            out.push(c.to_string());
            if let Some(next) = han.get(i + 1) {
                out.push(format!("{c}{next}"));
            }
        }
        han.clear();
    };
    for c in text.chars() {
        if out.len() >= MAX_TERMS {
            break;
        }
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            han.push(c);
        } else if c.is_alphanumeric() {
            flush_han(&mut han, &mut out);
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut out);
            flush_han(&mut han, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_han(&mut han, &mut out);
    out.truncate(MAX_TERMS);
    out
}

/// Characters so common in Chinese that sharing one says nothing about a text (particles,
/// pronouns, question words, common verbs and measure words).
const COMMON_HAN: &str = "的是了在有和与及或我你他她它们这那个一不人什么吗呢吧啊哪谁几多少怎样为也都就还要会能可以到把被让给对从向之其而且但中上下里等着过很来去说";

/// Whether a Chinese character is one of the most common (`COMMON_HAN`): a pair of such
/// characters ("可以", "一个") says nothing about where a text came from.
pub fn is_common_han(c: char) -> bool {
    COMMON_HAN.contains(c)
}

/// Whether `text` holds a term of `query` that tells something: a word, a number, a pair of
/// Chinese characters, or a Chinese character that is not one of the most common. The store's
/// BM25 also ranks a passage that shares only "的" with a question, and in a collection of one
/// document nothing discounts it.
pub fn shares_a_telling_term(query: &str, text: &str) -> bool {
    let telling = |t: &String| {
        let mut chars = t.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if is_cjk(c) => !COMMON_HAN.contains(c),
            _ => true,
        }
    };
    let asked: std::collections::HashSet<String> = terms(query).into_iter().filter(telling).collect();
    !asked.is_empty() && terms(text).iter().any(|t| asked.contains(t))
}

/// A stored text's keyword vector: BM25 term-frequency saturation per term.
pub fn document_vector(text: &str) -> SparseVector {
    let terms = terms(text);
    let len = terms.len() as f32;
    let mut tf: BTreeMap<u32, f32> = BTreeMap::new();
    for t in &terms {
        *tf.entry(fnv1a(t)).or_default() += 1.0;
    }
    let norm = K1 * (1.0 - B + B * len / AVG_TERMS);
    let (indices, values) = tf.into_iter().map(|(i, f)| (i, f * (K1 + 1.0) / (f + norm))).unzip();
    SparseVector { indices, values }
}

/// A query's keyword vector: each distinct term once, weight 1 (the store adds the IDF).
pub fn query_vector(text: &str) -> SparseVector {
    let ids: BTreeMap<u32, f32> = terms(text).iter().map(|t| (fnv1a(t), 1.0)).collect();
    let (indices, values) = ids.into_iter().unzip();
    SparseVector { indices, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_and_chinese_characters_and_pairs() {
        assert_eq!(terms("The office cat is Mochi, room 305."), ["office", "cat", "mochi", "room", "305"]);
        assert_eq!(terms("猫叫摩卡"), ["猫", "猫叫", "叫", "叫摩", "摩", "摩卡", "卡"]);
        assert_eq!(terms("E07: 水箱"), ["e07", "水", "水箱", "箱"]);
    }

    #[test]
    fn only_telling_terms_make_a_keyword_match() {
        let notice = "花园每天早上七点开放。浇水请使用东门旁边的水龙头。";
        assert!(!shares_a_telling_term("它是什么颜色的？", notice), "的 alone tells nothing");
        assert!(shares_a_telling_term("花园几点关门？", notice), "花园");
        assert!(shares_a_telling_term("猫吃什么？", "猫"), "a label of one uncommon character");
        assert!(shares_a_telling_term("Where is room 305?", "Room 305 is upstairs."));
        assert!(!shares_a_telling_term("What is it?", "It is what it is."), "stop words only");
    }

    #[test]
    fn vectors_are_sorted_unique_and_saturate() {
        let d = document_vector("Mochi Mochi Mochi sleeps");
        assert!(d.indices.windows(2).all(|w| w[0] < w[1]));
        let mochi = d.values[d.indices.iter().position(|&i| i == fnv1a("mochi")).unwrap()];
        let sleeps = d.values[d.indices.iter().position(|&i| i == fnv1a("sleeps")).unwrap()];
        assert!(mochi > sleeps && mochi < 3.0 * sleeps, "{mochi} {sleeps}");
        let q = query_vector("mochi MOCHI the");
        assert_eq!((q.indices, q.values), (vec![fnv1a("mochi")], vec![1.0]));
        assert!(query_vector("the of ?").is_empty());
    }

    #[test]
    fn term_ids_are_stable() {
        // Stored vectors depend on these: a change here needs KEYWORDS_VERSION bumped.
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }
}

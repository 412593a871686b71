//! Evidence retrieval: the photo (new, or the conversation's last one), the question's vector,
//! the collection's nearest items and its labels. Independent steps run concurrently.

use std::time::Instant;

use pyxa_core::{AnswerRecord, ImageEncoding, PayloadFilter, Result};

use super::request::Question;
use super::types::Timings;
use crate::kb::{fuse_ranked, Hit, KnowledgeBase};

pub struct Gathered {
    /// The photo asked about (hash): new, or the one the conversation is about.
    pub image: Option<String>,
    /// Its encoding; a photo reused from the conversation has no class probabilities.
    pub image_encoding: Option<ImageEncoding>,
    /// Text read from a new photo.
    pub photo_text: Option<String>,
    pub hits: Vec<Hit>,
    /// The collection's labels.
    pub labels: Vec<String>,
}

pub(crate) fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e3 * 100.0).round() / 100.0
}

/// Whether a question is about the words printed on the photo ("what does the box say?",
/// "上面写着什么?").
pub fn asks_about_text(prompt: &str) -> bool {
    const EN: &[&str] = &[
        "say", "says", "written", "write", "text", "word", "words", "read", "label", "sign", "title", "name on", "printed",
        "brand", "letters",
    ];
    const ZH: &[&str] = &["写", "字", "文字", "文本", "标签", "招牌", "读", "印着", "品牌", "标题"];
    let lower = prompt.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    EN.iter().any(|k| if k.contains(' ') { lower.contains(k) } else { words.contains(k) })
        || ZH.iter().any(|k| prompt.contains(k))
}

/// The conversation's latest turn that was about a photo.
pub fn last_photo_turn(history: &[AnswerRecord]) -> Option<&AnswerRecord> {
    history.iter().rev().find(|a| a.image_vector.is_some())
}

/// What a question is searched by: in a conversation, the previous question too, so that a
/// follow-up ("What's his extension?") finds what the conversation is about.
pub fn retrieval_text(prompt: &str, history: &[AnswerRecord]) -> String {
    match history.last() {
        Some(previous) => format!("{}\n{prompt}", previous.prompt),
        None => prompt.to_string(),
    }
}

pub async fn gather(
    kb: &KnowledgeBase,
    q: &Question,
    history: &[AnswerRecord],
    translated: Option<&str>,
    timings: &mut Timings,
) -> Result<Gathered> {
    let started = Instant::now();
    let mut decode_ms = 0.0;
    let photo = async {
        match &q.image {
            Some(bytes) => {
                let t = Instant::now();
                let (hash, pixels) = kb.store_image(bytes.clone()).await?;
                decode_ms = ms(t);
                // Reading a photo costs more than embedding it: only when the question is about
                // what is written on it.
                let read = async {
                    match q.prompt.as_deref().is_some_and(asks_about_text) {
                        true => kb.read_text(pixels.clone()).await,
                        false => Ok(None),
                    }
                };
                let (encoding, text) = futures::try_join!(kb.embed_pixels(pixels.clone()), read)?;
                Ok((Some(hash), Some(encoding), text))
            }
            // A follow-up without a photo is about the conversation's last photo.
            None => Ok(match last_photo_turn(history) {
                Some(turn) => (
                    turn.image_hash.clone(),
                    Some(ImageEncoding { embedding: turn.image_vector.clone().unwrap_or_default(), class_probs: None }),
                    None,
                ),
                None => (None, None, None),
            }),
        }
    };
    let question = async {
        match &q.prompt {
            Some(p) => kb.embed_text(&retrieval_text(p, history)).await.map(Some),
            None => Ok(None),
        }
    };
    let translation = async {
        match translated {
            Some(t) => kb.embed_text(t).await.map(Some),
            None => Ok(None),
        }
    };
    let ((image, image_encoding, photo_text), question_vector, translated_vector) =
        futures::try_join!(photo, question, translation)?;
    timings.decode = decode_ms;
    timings.encode = (ms(started) - decode_ms).max(0.0);

    // "What is this?" looks for the photo's neighbours; any other question for what matches
    // the question (a follow-up about a cat's food is not answered by notes about cats). The
    // labels meanwhile.
    let t = Instant::now();
    let photo_vector = image_encoding.as_ref().map(|e| e.embedding.clone());
    let identify = q.prompt.as_deref().is_none_or(super::request::asks_what_it_is) && photo_vector.is_some();
    let query = if q.prompt.as_deref().is_none_or(super::request::asks_what_it_is) {
        photo_vector.or(question_vector)
    } else {
        question_vector.or(photo_vector)
    };
    // Dense search by the question (and its translation) fused with keyword search by the words
    // of both; "what is this?" about a photo searches by the photo alone.
    let keyword_text = match (&q.prompt, translated) {
        (Some(p), Some(t)) => Some(format!("{p}\n{t}")),
        (Some(p), None) => Some(p.clone()),
        _ => None,
    }
    .filter(|_| !identify);
    let retrieve = async {
        let no_filter = PayloadFilter::default();
        let Some(v) = &query else { return Ok(Vec::new()) };
        let other = async {
            match &translated_vector {
                Some(t) => kb.search_vectors(&q.collection, t, q.top_k, &no_filter).await,
                None => Ok(Vec::new()),
            }
        };
        let keywords = async {
            match &keyword_text {
                Some(text) => kb.search_keywords(&q.collection, text, q.top_k, &no_filter).await,
                None => Ok(Vec::new()),
            }
        };
        let (own, other, keywords) =
            futures::try_join!(kb.search_vectors(&q.collection, v, q.top_k, &no_filter), other, keywords)?;
        Ok(fuse_ranked(vec![own, other, keywords], q.top_k))
    };
    let (hits, labels) = futures::try_join!(retrieve, kb.meta.labels(&q.collection))?;
    timings.retrieve = ms(t);
    Ok(Gathered { image, image_encoding, photo_text, hits, labels: labels.into_iter().map(|l| l.label).collect() })
}

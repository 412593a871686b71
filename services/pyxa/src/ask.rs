//! The answer pipeline, p(y | x; a): encode the photo and question, retrieve evidence from the
//! collection, fuse kNN evidence with zero-shot scores into candidate answers with
//! probabilities, and let the LLM phrase the answer citing the evidence [n].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pyxa_core::text::{detect_language, Language};
use pyxa_core::{
    dot, softmax_scaled, AnswerRecord, BuiltinClass, ChatMessage, Embedding, Error, GenerationRequest, Generator, PayloadFilter,
    Result, Role,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::blobs;
use crate::kb::{Hit, KnowledgeBase, MAX_TOP_K};
use crate::zeroshot::{sort_candidates, Candidate};

const MAX_PROMPT_CHARS: usize = 2000;
/// Similarity scale for kNN votes and zero-shot softmaxes (the bundle's logit scale is used for
/// zero-shot; this one sharpens neighbour votes the same way).
const KNN_SCALE: f32 = 30.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Model knowledge plus evidence.
    Chat,
    /// Evidence only: no evidence, no answer.
    Query,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "" | "chat" => Ok(Mode::Chat),
            "query" => Ok(Mode::Query),
            other => Err(Error::invalid("invalid_mode", format!("mode {other:?} is not chat or query"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AskRequest {
    pub prompt: Option<String>,
    pub image: Option<Vec<u8>>,
    pub collection: String,
    pub mode: Mode,
    pub top_k: usize,
    pub conversation_id: Option<String>,
    pub language: Option<Language>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    pub n: usize,
    pub item_id: String,
    pub label: Option<String>,
    pub score: f32,
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub decode: f64,
    pub encode: f64,
    pub retrieve: f64,
    pub candidates: f64,
    pub generate: f64,
    pub total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AskResponse {
    pub answer_id: String,
    pub conversation_id: String,
    pub answer: String,
    pub language: Language,
    pub confident: bool,
    pub candidates: Vec<Candidate>,
    pub citations: Vec<Citation>,
    pub mode: Mode,
    pub timings_ms: Timings,
    pub models: serde_json::Value,
    /// Where the answer text came from: `llm`, or `template` when the LLM's text did not name
    /// the most probable answer (correctness before fluency) or no LLM is configured.
    pub answer_source: &'static str,
    pub image_url: Option<String>,
}

/// What streaming clients receive, in order: evidence, tokens, done.
#[derive(Debug, Clone)]
pub enum AskEvent {
    Evidence(serde_json::Value),
    Token(String),
    /// The whole response, after the last token.
    Done(serde_json::Value),
    /// A failure after the stream started: `{"code", "message"}`.
    Error(serde_json::Value),
}

#[derive(Clone)]
pub struct AskService {
    pub kb: KnowledgeBase,
    pub generator: Option<Arc<dyn Generator>>,
    pub confidence_threshold: f32,
    pub max_answer_tokens: usize,
    label_cache: Arc<Mutex<HashMap<String, Embedding>>>,
}

impl AskService {
    pub fn new(kb: KnowledgeBase, generator: Option<Arc<dyn Generator>>, confidence_threshold: f32, max_answer_tokens: usize) -> Self {
        Self { kb, generator, confidence_threshold, max_answer_tokens, label_cache: Arc::default() }
    }

    /// Text embeddings of labels, cached (labels repeat across questions).
    async fn label_embeddings(&self, labels: &[String]) -> Result<Vec<Embedding>> {
        let poisoned = || Error::internal("label cache poisoned");
        let mut found: HashMap<String, Embedding> = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.label_cache.lock().map_err(|_| poisoned())?;
            for l in labels {
                match cache.get(l) {
                    Some(v) => {
                        found.insert(l.clone(), v.clone());
                    }
                    None => missing.push(l.clone()),
                }
            }
        }
        if !missing.is_empty() {
            let vectors = self.kb.encoder.encode_texts(missing.clone()).await?;
            let mut cache = self.label_cache.lock().map_err(|_| poisoned())?;
            if cache.len() > 50_000 {
                cache.clear();
            }
            for (l, v) in missing.into_iter().zip(vectors) {
                cache.insert(l.clone(), v.clone());
                found.insert(l, v);
            }
        }
        labels.iter().map(|l| found.get(l).cloned().ok_or_else(|| Error::internal("label embedding missing"))).collect()
    }

    #[tracing::instrument(skip_all, fields(collection = %req.collection))]
    pub async fn ask(&self, req: AskRequest, events: Option<mpsc::Sender<AskEvent>>) -> Result<AskResponse> {
        let started = Instant::now();
        let mut timings = Timings::default();
        let prompt = req.prompt.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        if let Some(p) = &prompt {
            if p.chars().count() > MAX_PROMPT_CHARS {
                return Err(Error::invalid("prompt_too_long", format!("the prompt is longer than {MAX_PROMPT_CHARS} characters")));
            }
        }
        let image = req.image.filter(|b| !b.is_empty() || prompt.is_none());
        if prompt.is_none() && image.is_none() && req.conversation_id.is_none() {
            return Err(Error::invalid("empty_question", "send a prompt, an image, or both"));
        }
        if req.top_k == 0 || req.top_k > MAX_TOP_K {
            return Err(Error::invalid("invalid_top_k", format!("top_k must be between 1 and {MAX_TOP_K}")));
        }
        self.kb.collection(&req.collection).await?;
        let language = req.language.unwrap_or_else(|| detect_language(prompt.as_deref().unwrap_or("")));
        let prompt_text = prompt.clone().unwrap_or_else(|| match language {
            Language::Zh => "这是什么?".to_string(),
            Language::En => "What is this?".to_string(),
        });

        // A follow-up without a photo is about the conversation's last photo.
        let mut history: Vec<AnswerRecord> = Vec::new();
        if let Some(cid) = &req.conversation_id {
            let (_, turns) = self
                .kb
                .meta
                .get_conversation(cid)
                .await?
                .ok_or_else(|| Error::not_found("unknown_conversation", format!("no conversation {cid}")))?;
            history = turns;
        }
        let conversation_id = req.conversation_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string());

        // Encode.
        let t = Instant::now();
        let (image_hash, image_encoding) = match image {
            Some(bytes) => {
                let (hash, rgb) = self.kb.store_image(bytes).await?;
                timings.decode = ms(t);
                let t_enc = Instant::now();
                let encoding = self.kb.embed_rgb(rgb).await?;
                timings.encode = ms(t_enc);
                (Some(hash), Some(encoding))
            }
            None => match history.iter().rev().find(|a| a.image_vector.is_some()) {
                Some(previous) => (
                    previous.image_hash.clone(),
                    Some(pyxa_core::ImageEncoding { embedding: previous.image_vector.clone().unwrap_or_default(), class_probs: None }),
                ),
                None => (None, None),
            },
        };
        let t_text = Instant::now();
        let question_vector = match &prompt {
            Some(p) => Some(self.kb.encoder.encode_texts(vec![p.clone()]).await?.remove(0)),
            None => None,
        };
        timings.encode += ms(t_text);

        // Retrieve: image neighbours when there is a photo, else text matches.
        let t = Instant::now();
        let image_vector = image_encoding.as_ref().map(|e| e.embedding.clone());
        let query = image_vector.clone().or_else(|| question_vector.clone());
        let hits = match &query {
            Some(q) => self.kb.search_vectors(&req.collection, q, req.top_k, &PayloadFilter::default()).await?,
            None => Vec::new(),
        };
        timings.retrieve = ms(t);

        // Candidates.
        let t = Instant::now();
        let classes = self.kb.encoder.builtin_classes();
        let collection_labels: Vec<String> =
            self.kb.meta.labels(&req.collection).await?.into_iter().map(|l| l.label).collect();
        let mut candidates = match &image_vector {
            Some(iv) => {
                let label_vectors = self.label_embeddings(&collection_labels).await?;
                // Query mode answers from the collection alone: the built-in classifier is
                // model knowledge, so it only takes part in chat mode.
                let class_probs = match req.mode {
                    Mode::Chat => image_encoding.as_ref().and_then(|e| e.class_probs.clone()),
                    Mode::Query => None,
                };
                // Follow-ups reuse the stored vector; recover the classifier view from the
                // previous answer's candidates instead of re-running the model.
                let is_follow_up = image_encoding.as_ref().is_some_and(|e| e.class_probs.is_none()) && !history.is_empty();
                let previous = if is_follow_up { history.iter().rev().find(|a| a.image_vector.is_some()) } else { None };
                match previous {
                    Some(prev) if !hits.iter().any(|h| h.score > 0.999) => {
                        serde_json::from_value::<Vec<CandidateRecord>>(prev.candidates.clone())
                            .map(|v| v.into_iter().map(Candidate::from).collect())
                            .unwrap_or_default()
                    }
                    _ => fuse_candidates(
                        iv,
                        &hits,
                        exact_label(&hits, image_hash.as_deref()),
                        &collection_labels,
                        &label_vectors,
                        class_probs.as_deref(),
                        classes,
                        self.kb.encoder.info().logit_scale,
                    ),
                }
            }
            None => text_candidates(&hits),
        };
        for c in &mut candidates {
            if c.label_zh.is_none() {
                c.label_zh = zh_for_label(&c.label, classes);
            }
        }
        candidates.truncate(10);
        timings.candidates = ms(t);

        let citations: Vec<Citation> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| Citation { n: i + 1, item_id: h.item_id.clone(), label: h.label.clone(), score: h.score, thumbnail_url: h.thumbnail_url.clone() })
            .collect();
        let top = candidates.first().cloned();
        let confident = top.as_ref().map(|c| c.probability >= self.confidence_threshold).unwrap_or(false);
        let answer_id = uuid::Uuid::now_v7().to_string();
        if let Some(tx) = &events {
            let _ = tx
                .send(AskEvent::Evidence(serde_json::json!({
                    "answer_id": answer_id,
                    "conversation_id": conversation_id,
                    "candidates": candidates,
                    "citations": citations,
                    "language": language,
                    "confident": confident,
                    "mode": req.mode,
                })))
                .await;
        }

        // Answer.
        let t = Instant::now();
        let no_evidence = hits.is_empty();
        let (answer, answer_source) = if req.mode == Mode::Query && no_evidence {
            (no_evidence_answer(language), "template")
        } else {
            let template = template_answer(language, top.as_ref(), confident, &citations);
            match &self.generator {
                Some(generator) => {
                    let messages = build_messages(req.mode, language, &prompt_text, &candidates, &citations, &history);
                    let sink: Option<pyxa_core::TokenSink> = events.clone().map(|tx| {
                        // Never blocks the generator; a token dropped on a full channel is still in
                        // the final `done` event. A closed channel means the client left: stop.
                        Box::new(move |piece: &str| {
                            !matches!(tx.try_send(AskEvent::Token(piece.to_string())), Err(mpsc::error::TrySendError::Closed(_)))
                        }) as pyxa_core::TokenSink
                    });
                    let generation = generator
                        .generate(GenerationRequest { messages, max_tokens: self.max_answer_tokens, temperature: 0.0 }, sink)
                        .await?;
                    let text = generation.text.trim().to_string();
                    let sound = answer_names(&text, top.as_ref(), language)
                        && !echoes_context(&text)
                        && !names_another_candidate(&text, &candidates, language);
                    if sound && confident {
                        (with_citation(text, &citations, top.as_ref()), "llm")
                    } else {
                        (template, "template")
                    }
                }
                None => (template, "template"),
            }
        };
        timings.generate = ms(t);
        timings.total = ms(started);

        let response = AskResponse {
            answer_id: answer_id.clone(),
            conversation_id: conversation_id.clone(),
            answer: answer.clone(),
            language,
            confident,
            candidates: candidates.clone(),
            citations: citations.clone(),
            mode: req.mode,
            timings_ms: timings,
            models: serde_json::json!({
                "encoder": self.kb.encoder.info(),
                "generator": self.generator.as_ref().map(|g| g.info()),
            }),
            answer_source,
            image_url: image_hash.as_deref().map(blobs::image_url),
        };
        self.kb
            .meta
            .insert_answer(&AnswerRecord {
                answer_id,
                conversation_id,
                collection: req.collection.clone(),
                prompt: prompt_text,
                answer,
                language: language.as_str().to_string(),
                mode: match req.mode {
                    Mode::Chat => "chat".into(),
                    Mode::Query => "query".into(),
                },
                image_hash,
                image_vector,
                candidates: serde_json::to_value(&candidates).unwrap_or_default(),
                citations: serde_json::to_value(&citations).unwrap_or_default(),
                created_at: pyxa_core::now(),
            })
            .await?;
        crate::metrics::ASKS.inc();
        Ok(response)
    }
}

#[derive(Debug, Deserialize)]
struct CandidateRecord {
    label: String,
    #[serde(default)]
    label_zh: Option<String>,
    probability: f32,
}

impl From<CandidateRecord> for Candidate {
    fn from(c: CandidateRecord) -> Self {
        Candidate { label: c.label, label_zh: c.label_zh, probability: c.probability }
    }
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e3 * 100.0).round() / 100.0
}

/// Fuses three views into one distribution over label names:
/// - kNN: neighbours' labels, each vote weighted by softmax(scale * similarity);
/// - zero-shot over the collection's labels (cosine to their text embeddings);
/// - the bundle's classifier head over its built-in classes.
///
/// How much the collection counts grows with how close the nearest neighbour is: a near
/// duplicate of a labelled photo decides the answer (that is how corrections take effect).
pub fn fuse_candidates(
    image: &Embedding,
    hits: &[Hit],
    exact: Option<&str>,
    labels: &[String],
    label_vectors: &[Embedding],
    class_probs: Option<&[f32]>,
    classes: &[BuiltinClass],
    logit_scale: f32,
) -> Vec<Candidate> {
    let mut scores: HashMap<String, f32> = HashMap::new();
    let labelled: Vec<&Hit> = hits.iter().filter(|h| h.label.is_some()).collect();
    let nearest = labelled.iter().map(|h| h.score).fold(0.0f32, f32::max);
    // 0 when the nearest labelled photo is unrelated (cosine <= 0.5), 1 for a near duplicate.
    let closeness = ((nearest - 0.5) / 0.45).clamp(0.0, 1.0);
    let cosines: Vec<f32> = label_vectors.iter().map(|t| dot(image, t)).collect();
    // How well the best of the collection's labels describes the photo at all ("a cat" scores
    // about 0.7 on a cat and 0.15 on a coffee cup): unrelated labels must not outvote the
    // classifier just because they are the only ones the collection has.
    let best_cosine = cosines.iter().copied().fold(f32::MIN, f32::max);
    let relevance = ((best_cosine - 0.35) / 0.3).clamp(0.0, 1.0);
    let user_weight = if labels.is_empty() {
        0.0
    } else if class_probs.is_some() {
        0.95 * closeness.max(relevance)
    } else {
        1.0
    };

    if user_weight > 0.0 {
        let knn = if labelled.is_empty() {
            HashMap::new()
        } else {
            let sims: Vec<f32> = labelled.iter().map(|h| h.score).collect();
            let w = softmax_scaled(&sims, KNN_SCALE);
            let mut m: HashMap<String, f32> = HashMap::new();
            for (h, w) in labelled.iter().zip(w) {
                *m.entry(h.label.clone().unwrap_or_default()).or_default() += w;
            }
            m
        };
        let zero_shot = softmax_scaled(&cosines, logit_scale);
        let knn_weight = if knn.is_empty() { 0.0 } else { 0.5 + 0.5 * closeness };
        for (label, zs) in labels.iter().zip(zero_shot) {
            let p = knn_weight * knn.get(label).copied().unwrap_or(0.0) + (1.0 - knn_weight) * zs;
            *scores.entry(label.clone()).or_default() += user_weight * p;
        }
    }
    if let Some(probs) = class_probs {
        let builtin_weight = 1.0 - user_weight;
        let mut idx: Vec<usize> = (0..probs.len().min(classes.len())).collect();
        idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        for i in idx.into_iter().take(20) {
            // A user label equal to a built-in class name is the same answer.
            let key = labels.iter().find(|l| l.eq_ignore_ascii_case(&classes[i].en)).cloned().unwrap_or_else(|| classes[i].en.clone());
            *scores.entry(key).or_default() += builtin_weight * probs[i];
        }
    }
    // The very same photo was labelled by a user (an upload or a correction): that label is
    // the answer; the other views keep a small share.
    if let Some(label) = exact {
        scores.values_mut().for_each(|p| *p *= 1.0 - EXACT_MATCH_WEIGHT);
        *scores.entry(label.to_string()).or_default() += EXACT_MATCH_WEIGHT;
    }
    let mut out: Vec<Candidate> = scores
        .into_iter()
        .map(|(label, p)| Candidate { label_zh: None, label, probability: p })
        .collect();
    sort_candidates(&mut out);
    out
}

/// Weight of a user's label on the identical photo.
const EXACT_MATCH_WEIGHT: f32 = 0.9;

/// The label of the newest item holding exactly this photo (UUIDv7 ids sort by time).
fn exact_label<'a>(hits: &'a [Hit], photo: Option<&str>) -> Option<&'a str> {
    let photo = photo?;
    hits.iter()
        .filter(|h| h.blob_hash.as_deref() == Some(photo))
        .filter_map(|h| h.label.as_deref().map(|l| (h.item_id.as_str(), l)))
        .max_by_key(|(id, _)| *id)
        .map(|(_, label)| label)
}

/// Without a photo: the labels of the matching items, weighted like kNN votes.
fn text_candidates(hits: &[Hit]) -> Vec<Candidate> {
    let labelled: Vec<&Hit> = hits.iter().filter(|h| h.label.is_some()).collect();
    if labelled.is_empty() {
        return Vec::new();
    }
    let sims: Vec<f32> = labelled.iter().map(|h| h.score).collect();
    let w = softmax_scaled(&sims, KNN_SCALE);
    let mut m: HashMap<String, f32> = HashMap::new();
    for (h, w) in labelled.iter().zip(w) {
        *m.entry(h.label.clone().unwrap_or_default()).or_default() += w;
    }
    let mut out: Vec<Candidate> = m.into_iter().map(|(label, probability)| Candidate { label, label_zh: None, probability }).collect();
    sort_candidates(&mut out);
    out
}

/// A Chinese name for a label: the label itself when it is Chinese; a built-in class's name
/// when it matches; else the common ending of the Chinese names of the built-in classes that
/// are kinds of it ("tiger cat", "Persian cat" -> "...猫" for "cat").
pub fn zh_for_label(label: &str, classes: &[BuiltinClass]) -> Option<String> {
    if label.chars().any(pyxa_core::text::is_han) {
        return Some(label.to_string());
    }
    let lower = label.trim().to_lowercase();
    let head = lower.strip_prefix("a ").or_else(|| lower.strip_prefix("an ")).unwrap_or(&lower).to_string();
    if let Some(c) = classes.iter().find(|c| c.en.to_lowercase() == head) {
        return c.zh.clone();
    }
    let suffix = format!(" {head}");
    let kinds: Vec<&str> = classes
        .iter()
        .filter(|c| c.en.to_lowercase().ends_with(&suffix))
        .filter_map(|c| c.zh.as_deref())
        .collect();
    if kinds.len() < 2 {
        return None;
    }
    // The longest ending most of them share (one odd name such as "Madagascar cat" = a lemur
    // must not spoil it).
    let mut best = String::new();
    for len in 1..=4usize {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for k in &kinds {
            let chars: Vec<char> = k.chars().collect();
            if chars.len() >= len {
                *counts.entry(chars[chars.len() - len..].iter().collect()).or_default() += 1;
            }
        }
        match counts.into_iter().max_by_key(|(s, n)| (*n, s.clone())) {
            Some((suffix, n)) if n * 10 >= kinds.len() * 6 && suffix.ends_with(&best) => best = suffix,
            _ => break,
        }
    }
    (!best.is_empty()).then_some(best)
}

fn display_label(c: &Candidate, language: Language) -> String {
    match language {
        Language::Zh => c.label_zh.clone().unwrap_or_else(|| c.label.clone()),
        Language::En => c.label.clone(),
    }
}

fn percent(p: f32) -> String {
    format!("{:.0}%", p * 100.0)
}

/// The citation numbers of evidence items that carry the candidate's label.
fn supporting(citations: &[Citation], label: &str) -> Vec<usize> {
    citations.iter().filter(|c| c.label.as_deref() == Some(label)).map(|c| c.n).take(3).collect()
}

fn cite_marks(ns: &[usize]) -> String {
    ns.iter().map(|n| format!("[{n}]")).collect()
}

/// A correct, plain answer built from the candidates (used when the LLM's text does not name
/// the most probable answer, or without an LLM).
pub fn template_answer(language: Language, top: Option<&Candidate>, confident: bool, citations: &[Citation]) -> String {
    let Some(top) = top else { return no_evidence_answer(language) };
    let name = display_label(top, language);
    let marks = cite_marks(&supporting(citations, &top.label));
    let marks = if marks.is_empty() { String::new() } else { format!(" {marks}") };
    match (language, confident) {
        (Language::En, true) => format!("{} ({}).{marks}", english_is(&name), percent(top.probability)),
        (Language::En, false) => format!("I'm not sure. Perhaps: {name} ({}).{marks}", percent(top.probability)),
        (Language::Zh, true) => format!("这是{name}（{}）。{marks}", percent(top.probability)),
        (Language::Zh, false) => format!("我不确定，可能是{name}（{}）。{marks}", percent(top.probability)),
    }
}

/// "It is a cat" for a plain noun; names and longer labels ("eileen collins") get no article.
fn english_is(name: &str) -> String {
    let single_word = !name.contains(' ');
    let starts_lower = name.chars().next().is_some_and(char::is_lowercase);
    if single_word && starts_lower {
        format!("It is {} {name}", article(name))
    } else {
        format!("Most likely: {name}")
    }
}

fn article(name: &str) -> &'static str {
    match name.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn no_evidence_answer(language: Language) -> String {
    match language {
        Language::En => "I found nothing about this in the knowledge base, so I cannot answer.".into(),
        Language::Zh => "知识库中没有相关内容，无法回答。".into(),
    }
}

/// Whether the LLM's answer names the most probable candidate in the user's language.
fn answer_names(text: &str, top: Option<&Candidate>, language: Language) -> bool {
    let Some(top) = top else { return !text.is_empty() };
    if text.is_empty() {
        return false;
    }
    let lower = text.to_lowercase();
    match language {
        Language::Zh => match top.label_zh.as_deref() {
            Some(zh) => text.contains(zh),
            None => lower.contains(&top.label.to_lowercase()) && text.chars().any(pyxa_core::text::is_han),
        },
        Language::En => {
            let label = top.label.to_lowercase();
            let head = label.rsplit(' ').next().unwrap_or(&label).to_string();
            lower.contains(&label) || lower.contains(&head)
        }
    }
}

/// Whether the text also names a less probable candidate ("a coffee shop with a cat"): a small
/// model mixing up its evidence.
fn names_another_candidate(text: &str, candidates: &[Candidate], language: Language) -> bool {
    let Some(top) = candidates.first() else { return false };
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let top_en = top.label.to_lowercase();
    candidates.iter().skip(1).any(|c| {
        let other = c.label.to_lowercase();
        // "tiger cat" under "cat" is the same answer, not another one.
        if top_en.contains(&other) || other.contains(&top_en) {
            return false;
        }
        let english = if other.contains(' ') { lower.contains(&other) } else { words.contains(&other.as_str()) };
        let chinese = language == Language::Zh
            && c.label_zh.as_deref().is_some_and(|zh| text.contains(zh) && !top.label_zh.as_deref().is_some_and(|t| t.contains(zh) || zh.contains(t)));
        english || chinese
    })
}

/// Small models sometimes recite the context instead of answering.
fn echoes_context(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["image analysis", "top labels", "matching photos", "knowledge base", "similarity"].iter().any(|p| lower.contains(p))
}

fn with_citation(text: String, citations: &[Citation], top: Option<&Candidate>) -> String {
    if text.contains('[') || citations.is_empty() {
        return text;
    }
    let marks = top.map(|t| supporting(citations, &t.label)).unwrap_or_default();
    if marks.is_empty() {
        text
    } else {
        format!("{text} {}", cite_marks(&marks))
    }
}

/// The prompt: numbered evidence, the candidates with probabilities, the conversation so far.
fn build_messages(
    mode: Mode,
    language: Language,
    prompt: &str,
    candidates: &[Candidate],
    citations: &[Citation],
    history: &[AnswerRecord],
) -> Vec<ChatMessage> {
    let system = match (mode, language) {
        (Mode::Query, Language::En) => "You are a helpful assistant. Answer the question using only the context. Be brief: one sentence that names the most likely label.",
        (Mode::Chat, Language::En) => "You are a helpful assistant. Answer the question using the context and what you know. Be brief: one sentence that names the most likely label.",
        (Mode::Query, Language::Zh) => "你是一个有帮助的助手。只根据上下文回答问题。请用中文简短回答。",
        (Mode::Chat, Language::Zh) => "你是一个有帮助的助手。根据上下文和你的知识回答问题。请用中文简短回答。",
    };
    // The shape that made the small default model answer "This is a cat.": the photo's top
    // labels, then which knowledge-base photos match, by number.
    let mut context = String::new();
    if !candidates.is_empty() {
        let listed: Vec<String> = candidates
            .iter()
            .take(3)
            .map(|c| format!("{} ({:.2})", display_label(c, language), c.probability))
            .collect();
        context.push_str(&format!("Image analysis of the uploaded photo: top labels = {}.", listed.join(", ")));
    }
    let matches: Vec<String> = citations
        .iter()
        .take(5)
        .filter_map(|c| c.label.as_deref().map(|l| format!("[{}] {l}", c.n)))
        .collect();
    if !matches.is_empty() {
        context.push_str(&format!(" Matching photos in the knowledge base: {}.", matches.join(", ")));
    }
    let mut messages = vec![ChatMessage::system(system)];
    for turn in history.iter().rev().take(2).rev() {
        messages.push(ChatMessage { role: Role::User, content: turn.prompt.clone() });
        messages.push(ChatMessage { role: Role::Assistant, content: turn.answer.clone() });
    }
    messages.push(ChatMessage::user(format!("Context: {}\n\nQuestion: {prompt}", context.trim())));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyxa_core::ItemKind;

    fn class(i: usize, en: &str, zh: &str) -> BuiltinClass {
        BuiltinClass { index: i, en: en.into(), zh: Some(zh.into()), definition: None }
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

    #[test]
    fn a_near_duplicate_decides_the_answer() {
        let image = vec![1.0, 0.0];
        let hits = vec![
            Hit { item_id: "a".into(), label: Some("lynx".into()), kind: ItemKind::Image, score: 1.0, thumbnail_url: None, text: None, blob_hash: None },
            Hit { item_id: "b".into(), label: Some("cat".into()), kind: ItemKind::Image, score: 0.8, thumbnail_url: None, text: None, blob_hash: None },
        ];
        let labels = vec!["cat".to_string(), "lynx".to_string()];
        let label_vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let classes = vec![class(0, "tiger cat", "山猫")];
        let c = fuse_candidates(&image, &hits, None, &labels, &label_vectors, Some(&[1.0]), &classes, 30.0);
        assert_eq!(c[0].label, "lynx", "{c:?}");
        let sum: f32 = c.iter().map(|c| c.probability).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    }

    #[test]
    fn templates_name_the_label_in_the_user_language() {
        let top = Candidate { label: "cat".into(), label_zh: Some("猫".into()), probability: 0.9 };
        assert!(template_answer(Language::Zh, Some(&top), true, &[]).contains('猫'));
        assert!(template_answer(Language::En, Some(&top), false, &[]).starts_with("I'm not sure"));
    }
}

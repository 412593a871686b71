//! The answer pipeline, p(y | x; a): check the question, gather evidence (encode the photo and
//! the question, retrieve from the collection), fuse the evidence into candidate answers with
//! probabilities, let the LLM phrase the answer citing the evidence [n], verify it, keep it.
//!
//! Each step is its own module; [`AskService::ask`] calls them in order.

pub mod candidate;
pub mod events;
pub mod evidence;
pub mod fusion;
pub mod labels;
pub mod prompt;
pub mod request;
pub mod template;
pub mod translate;
pub mod types;
pub mod verify;

use std::sync::Arc;
use std::time::Instant;

use pyxa_core::text::Language;
use pyxa_core::{AnswerRecord, ChatMessage, Error, ErrorCode, ErrorKind, GenerationRequest, Generator, Result, TokenSink};
use tokio::sync::mpsc;

use candidate::{sort_candidates, text_candidates, Candidate};
use events::{AskEvent, Evidence};
use evidence::{gather, last_photo_turn, ms, Gathered};
use fusion::{exact_label, fuse_candidates, roll_up, FusionInput};
use labels::{zh_for_label, LabelEmbeddings};
use prompt::Passage;
use request::Question;
pub use types::{AnswerSource, AskRequest, AskResponse, Citation, Mode, ModelsUsed, Timings, DEFAULT_ASK_TOP_K};

use crate::kb::KnowledgeBase;

/// Below this similarity a retrieved text is not a passage about the question.
const MIN_PASSAGE_SCORE: f32 = 0.25;
/// Below this a photo found by a question's words is not shown as evidence. Words and photos
/// match on a lower scale than photos with photos: on the dev set "a photo of a {label}" scores
/// 0.24 against its photo at the median, and 0.15 or more against 70% of them but against only
/// 11% of the others (0.04 at the median).
const MIN_PHOTO_SCORE_BY_WORDS: f32 = 0.15;
/// What a Chinese text needs above the floor of any other, unless it shares a keyword with the
/// question: to multilingual-e5 Chinese texts are alike by their script alone. A garden notice
/// scored 0.28-0.31 against "它生活在哪里？" about a lion (and 0.33 against the translation of
/// "Where does it live?"), English texts unrelated to a question 0.01-0.10; a Chinese passage that
/// answers scores about 0.6.
const CHINESE_TEXT_MARGIN: f32 = 0.15;
/// Passages given to the LLM (a question in one language and its answer in the other share the
/// list: four leaves room for both).
const MAX_PASSAGES: usize = 4;
/// Support below this is only common Chinese character pairs: not enough to overrule the
/// model's own [n] marks (see [`verify::support`]).
const DECISIVE_SUPPORT: usize = 3;

/// What an answer is composed from.
struct EvidenceForAnswer<'a> {
    candidates: &'a [Candidate],
    citations: &'a [Citation],
    confident: bool,
    photo: Option<&'a Candidate>,
    /// Whether the question is about a photo (asked with one, or the conversation's last).
    has_photo: bool,
    /// The hits with text (their own or read from their photo), best first.
    passages: Vec<Passage<'a>>,
    photo_text: Option<&'a str>,
    history: &'a [AnswerRecord],
}

/// Whether a hit is evidence: a keyword in common with the question, or `min_similarity`, and
/// for a Chinese text (not a photo) [`CHINESE_TEXT_MARGIN`] more.
fn is_relevant(hit: &crate::kb::Hit, min_similarity: f32) -> bool {
    if hit.keyword_match {
        return true;
    }
    let chinese_text =
        hit.image.is_none() && hit.text.as_deref().is_some_and(|t| pyxa_core::text::detect_language(t) == Language::Zh);
    hit.score >= if chinese_text { min_similarity + CHINESE_TEXT_MARGIN } else { min_similarity }
}

/// The retrieved items that carry text relevant enough to answer from, numbered as cited.
fn passages<'a>(hits: &[&'a crate::kb::Hit], min_similarity: f32) -> Vec<Passage<'a>> {
    hits.iter()
        .enumerate()
        .filter(|(_, h)| is_relevant(h, min_similarity))
        .filter_map(|(i, h)| h.text.as_deref().or(h.ocr_text.as_deref()).map(|text| Passage { n: i + 1, text, score: h.score }))
        .take(MAX_PASSAGES)
        .collect()
}

/// The first letter upper-cased (after a lead-in is cut: "the cat is ..." -> "The cat is ...").
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The turns a client sent with its question, as history records (no photo, no evidence).
fn inline_history(q: &Question) -> Vec<AnswerRecord> {
    q.prior_turns
        .iter()
        .map(|(prompt, answer)| AnswerRecord {
            answer_id: String::new(),
            conversation_id: String::new(),
            collection: q.collection.clone(),
            prompt: prompt.clone(),
            answer: answer.clone(),
            language: q.language.as_str().to_string(),
            mode: q.mode.as_str().to_string(),
            image_hash: None,
            image_vector: None,
            candidates: serde_json::Value::Array(Vec::new()),
            citations: serde_json::Value::Array(Vec::new()),
            created_at: 0,
            owner: None,
        })
        .collect()
}

/// Candidates kept in an answer.
const MAX_CANDIDATES: usize = 10;
/// Longest an ask waits for its question's translation (a retrieval aid) before searching
/// without it.
const TRANSLATION_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// A neighbour this close is the same photo: its label counts afresh even in a follow-up.
const SAME_PHOTO_COSINE: f32 = 0.999;

#[derive(Debug, Clone, Copy)]
pub struct AnswerSettings {
    /// Below this top-candidate probability the answer says it is not sure.
    pub confidence_threshold: f32,
    /// Most tokens an answer may have.
    pub max_answer_tokens: usize,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        Self { confidence_threshold: 0.35, max_answer_tokens: 64 }
    }
}

#[derive(Clone)]
pub struct AskService {
    pub kb: KnowledgeBase,
    pub generator: Option<Arc<dyn Generator>>,
    pub settings: AnswerSettings,
    labels: LabelEmbeddings,
}

impl AskService {
    pub fn new(kb: KnowledgeBase, generator: Option<Arc<dyn Generator>>, settings: AnswerSettings) -> Self {
        Self { kb, generator, settings, labels: LabelEmbeddings::default() }
    }

    pub fn models(&self) -> ModelsUsed {
        ModelsUsed { encoder: self.kb.encoder.info(), generator: self.generator.as_ref().map(|g| g.info()) }
    }

    /// Answers one question; `events` (when given) receives the evidence and the LLM's pieces
    /// as they come.
    #[tracing::instrument(skip_all, fields(collection = %req.collection))]
    pub async fn ask(&self, req: AskRequest, events: Option<mpsc::Sender<AskEvent>>) -> Result<AskResponse> {
        let started = Instant::now();
        let collection = self.kb.collection(&req.collection).await?;
        let question = request::check(req, &collection.settings)?;
        let mut history = self.history(question.conversation_id.as_deref(), question.owner.as_deref()).await?;
        if history.is_empty() {
            history = inline_history(&question);
        }
        let conversation_id = question.conversation_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string());

        let mut timings = Timings::default();
        // A question that is not "what is this?" is searched for in both languages.
        let t = Instant::now();
        let translated = match (&self.generator, question.prompt.as_deref()) {
            (Some(generator), Some(prompt)) if !request::asks_what_it_is(prompt) || question.image.is_none() => {
                // One line: the translation keeps only its first line.
                let searched_for = evidence::retrieval_text(prompt, &history).replace('\n', " ");
                // The translation helps retrieval; under load it is skipped rather than waited
                // for (the answer itself still waits its turn).
                let translating = translate::translate(generator.as_ref(), &searched_for, question.language);
                match tokio::time::timeout(TRANSLATION_BUDGET, translating).await {
                    Ok(Ok(translated)) => translated,
                    Ok(Err(e)) if e.kind == ErrorKind::Overloaded => None,
                    Ok(Err(e)) => return Err(e),
                    Err(_) => {
                        tracing::debug!("the question was not translated in time: searched in its own language");
                        None
                    }
                }
            }
            _ => None,
        };
        timings.translate = ms(t);
        let gathered = gather(&self.kb, &question, &history, translated.as_deref(), &mut timings).await?;

        let t = Instant::now();
        let candidates = self.candidates(&question, &gathered, &history).await?;
        timings.candidates = ms(t);

        let min_similarity = question.settings.min_similarity.unwrap_or(MIN_PASSAGE_SCORE);
        // "What is this?" about a photo searches by the photo alone (any other question by its
        // words, whose similarity to a photo is on another scale).
        let identify = gathered.image_encoding.is_some() && question.prompt.as_deref().is_none_or(request::asks_what_it_is);
        // What is less similar than a passage must be is no evidence: neither cited nor shown (a
        // photo asked about in a collection of documents is not "like" any of them). Photos
        // found by a photo likewise: on the dev set another view of the same thing scores
        // 0.42-1.0 against it, an unrelated photo 0.06 at the median (a horse is no evidence
        // that a photo shows a cat). Photos found by words have a floor of their own.
        let evidence_hits: Vec<&crate::kb::Hit> = gathered
            .hits
            .iter()
            .filter(|h| match h.image.is_some() && !identify {
                true => h.score >= MIN_PHOTO_SCORE_BY_WORDS.min(min_similarity) || h.keyword_match,
                false => is_relevant(h, min_similarity),
            })
            .collect();
        let citations: Vec<Citation> = evidence_hits
            .iter()
            .enumerate()
            .map(|(i, h)| Citation {
                n: i + 1,
                item_id: h.item_id.clone(),
                label: h.label.clone(),
                score: h.score,
                image: h.image.clone(),
                ocr_text: h.ocr_text.clone(),
                snippet: h.text.as_deref().map(types::snippet),
                document: h.document.clone(),
            })
            .collect();
        let confident = candidates.first().is_some_and(|c| c.probability >= self.settings.confidence_threshold);
        let answer_id = uuid::Uuid::now_v7().to_string();
        if let Some(tx) = &events {
            let evidence = Evidence {
                answer_id: answer_id.clone(),
                conversation_id: conversation_id.clone(),
                candidates: candidates.clone(),
                citations: citations.clone(),
                language: question.language,
                confident,
                mode: question.mode,
            };
            // A client that left is noticed when the tokens stop being received.
            let _ = tx.send(AskEvent::Evidence(evidence)).await;
        }

        let t = Instant::now();
        let evidence = EvidenceForAnswer {
            candidates: &candidates,
            citations: &citations,
            confident,
            // What the photo shows, when there is a photo and its top candidate is probable.
            photo: candidates.first().filter(|_| gathered.image_encoding.is_some() && confident),
            has_photo: gathered.image_encoding.is_some(),
            passages: passages(&evidence_hits, min_similarity),
            photo_text: gathered.photo_text.as_deref(),
            history: &history,
        };
        // "What is this?" about a photo is answered by naming the most probable candidate;
        // any other question from the passages, the photo and the conversation.
        let (answer, answer_source) = if identify {
            self.name_the_photo(&question, &evidence, evidence_hits.is_empty(), events).await?
        } else {
            self.answer_the_question(&question, &evidence, translated.as_deref(), events).await?
        };
        timings.generate = ms(t);
        timings.total = ms(started);

        self.kb
            .meta
            .insert_answer(&AnswerRecord {
                answer_id: answer_id.clone(),
                conversation_id: conversation_id.clone(),
                collection: question.collection.clone(),
                prompt: question.prompt_text.clone(),
                answer: answer.clone(),
                language: question.language.as_str().to_string(),
                mode: question.mode.as_str().to_string(),
                image_hash: gathered.image.clone(),
                image_vector: gathered.image_encoding.as_ref().map(|e| e.embedding.clone()),
                candidates: serde_json::to_value(&candidates).map_err(|e| Error::internal("candidates").with_source(e))?,
                citations: serde_json::to_value(&citations).map_err(|e| Error::internal("citations").with_source(e))?,
                created_at: pyxa_core::now(),
                owner: question.owner.clone(),
            })
            .await?;
        Ok(AskResponse {
            answer_id,
            conversation_id,
            answer,
            language: question.language,
            confident,
            candidates,
            citations,
            mode: question.mode,
            timings_ms: timings,
            models: self.models(),
            answer_source,
            image: gathered.image,
            ocr_text: gathered.photo_text,
        })
    }

    /// The conversation's turns; another API key's conversation is not found (as if it did not
    /// exist: its id tells nothing).
    async fn history(&self, conversation_id: Option<&str>, owner: Option<&str>) -> Result<Vec<AnswerRecord>> {
        let Some(cid) = conversation_id else { return Ok(Vec::new()) };
        let unknown = || Error::new(ErrorCode::UnknownConversation, format!("no conversation {cid}"));
        let (summary, turns) = self.kb.meta.get_conversation(cid).await?.ok_or_else(unknown)?;
        if summary.owner.is_some() && summary.owner.as_deref() != owner {
            return Err(unknown());
        }
        Ok(turns)
    }

    async fn candidates(&self, q: &Question, gathered: &Gathered, history: &[AnswerRecord]) -> Result<Vec<Candidate>> {
        let classes = self.kb.encoder.builtin_classes();
        // Whether the built-in classifier took part (then its classes roll up to the level
        // people name them by).
        let mut classified = false;
        let mut candidates = match &gathered.image_encoding {
            Some(encoding) => {
                // A follow-up reuses the stored vector; its classifier view comes from the
                // previous answer's candidates instead of re-running the model.
                let follow_up_of = if encoding.class_probs.is_none() { last_photo_turn(history) } else { None };
                let same_photo_in_collection = gathered.hits.iter().any(|h| h.score > SAME_PHOTO_COSINE);
                match follow_up_of {
                    Some(turn) if !same_photo_in_collection => {
                        serde_json::from_value::<Vec<Candidate>>(turn.candidates.clone()).unwrap_or_default()
                    }
                    _ => {
                        let label_vectors =
                            self.labels.get(self.kb.encoder.as_ref(), self.kb.lexicon.as_deref(), &gathered.labels).await?;
                        // Query mode answers from the collection alone: the built-in classifier
                        // is model knowledge, so it only takes part in chat mode.
                        let class_probs = match q.mode {
                            Mode::Chat => encoding.class_probs.as_deref(),
                            Mode::Query => None,
                        };
                        classified = class_probs.is_some();
                        fuse_candidates(&FusionInput {
                            image: &encoding.embedding,
                            hits: &gathered.hits,
                            exact: exact_label(&gathered.hits, gathered.image.as_deref()),
                            labels: &gathered.labels,
                            label_vectors: &label_vectors,
                            class_probs,
                            classes,
                            logit_scale: self.kb.encoder.info().logit_scale,
                        })
                    }
                }
            }
            None => text_candidates(&gathered.hits),
        };
        for c in &mut candidates {
            if c.label_zh.is_none() {
                c.label_zh = zh_for_label(&c.label, classes);
            }
            if c.label_en.is_none() {
                c.label_en = self.kb.lexicon.as_ref().and_then(|l| l.english(&c.label));
            }
        }
        sort_candidates(&mut candidates);
        if classified {
            candidates = roll_up(candidates, classes, &gathered.labels);
        }
        candidates.truncate(MAX_CANDIDATES);
        Ok(candidates)
    }

    /// "What is this?": the LLM's words when they name the most probable candidate (and pass
    /// the other checks), else the template.
    async fn name_the_photo(
        &self,
        q: &Question,
        e: &EvidenceForAnswer<'_>,
        no_hits: bool,
        events: Option<mpsc::Sender<AskEvent>>,
    ) -> Result<(String, AnswerSource)> {
        if q.mode == Mode::Query && no_hits {
            return Ok((template::no_evidence_answer(q.language), AnswerSource::NoEvidence));
        }
        let top = e.candidates.first();
        let fallback = template::template_answer(q.language, top, e.confident, e.citations);
        let messages =
            prompt::build_messages(q.mode, q.language, &q.prompt_text, e.candidates, e.citations, e.photo_text, e.history);
        let Some(text) = self.generate(messages, events).await? else { return Ok((fallback, AnswerSource::Template)) };
        if e.confident && verify::is_sound(&text, e.candidates, q.language) {
            Ok((template::with_citation(text, e.citations, top), AnswerSource::Llm))
        } else {
            tracing::debug!(%text, confident = e.confident, "the model's answer does not name the top candidate soundly: the template instead");
            Ok((fallback, AnswerSource::Template))
        }
    }

    /// Any other question: the LLM answers from the passages, the photo and the conversation.
    /// When its text is not usable, the most relevant passage is quoted; without one, the
    /// answer says so (and what the photo shows, when there is one).
    async fn answer_the_question(
        &self,
        q: &Question,
        e: &EvidenceForAnswer<'_>,
        translated: Option<&str>,
        events: Option<mpsc::Sender<AskEvent>>,
    ) -> Result<(String, AnswerSource)> {
        let photo = e.photo;
        // Quoted when the model's text is not usable: the passage most similar to the question
        // (fused ranking favours the question's own language; similarity does not).
        let closest = e.passages.iter().max_by(|a, b| a.score.total_cmp(&b.score).then(b.n.cmp(&a.n)));
        let fallback = match (closest, photo) {
            (Some(p), _) => (template::passage_answer(q.language, p.n, p.text), AnswerSource::Passage),
            (None, Some(top)) => (template::photo_only_answer(q.language, top), AnswerSource::Template),
            (None, None) => (template::no_evidence_answer(q.language), AnswerSource::NoEvidence),
        };
        let no_evidence = e.passages.is_empty() && photo.is_none() && e.photo_text.is_none();
        if q.mode == Mode::Query && no_evidence {
            return Ok(fallback);
        }
        // A colour nothing but the photo could tell: said so, not guessed (naming what the
        // photo shows only when that is probable).
        if request::asks_colour(&q.prompt_text) && e.has_photo && e.passages.is_empty() && e.photo_text.is_none() {
            return Ok((template::colour_unknown_answer(q.language, photo), AnswerSource::Template));
        }
        let mut messages =
            prompt::build_question_messages(q.mode, q.language, &q.prompt_text, photo, &e.passages, e.photo_text, e.history);
        if let Some(system) = &q.settings.system_prompt {
            messages[0] = ChatMessage::system(system.clone());
        }
        let temperature = q.settings.temperature.unwrap_or(0.0);
        let Some(text) = self.generate_with(messages, temperature, events).await? else { return Ok(fallback) };
        let text = capitalise(verify::strip_lead_in(&text));
        // The model read the evidence and found no answer in it: say so plainly rather than
        // quote a passage that does not answer the question.
        if verify::is_refusal(&text) {
            let words = if e.passages.is_empty() {
                template::no_evidence_answer(q.language)
            } else {
                template::unanswered_answer(q.language)
            };
            return Ok((words, AnswerSource::NoEvidence));
        }
        if !verify::is_fluent(&text, q.language) {
            tracing::debug!(%text, "the model's answer is not fluent: quoting instead");
            return Ok(fallback);
        }
        // The passages the answer rests on are the ones sharing most with it (the model's own
        // [n] marks are often off by one); an answer in the other language than its passage
        // shares no words with it, and then the model's marks are all there is.
        let body = verify::without_marks(&text);
        // Nothing but citation marks ("[1]") is no answer.
        if !body.chars().any(char::is_alphanumeric) {
            tracing::debug!(%text, "the model's answer is only citation marks: quoting instead");
            return Ok(fallback);
        }
        let support: Vec<(usize, usize)> = e.passages.iter().map(|p| (p.n, verify::support(&body, p.text))).collect();
        let best = support.iter().map(|(_, s)| *s).max().unwrap_or(0);
        let drawn: Vec<usize> = support.iter().filter(|(_, s)| *s > 0 && *s == best).map(|(n, _)| *n).collect();
        let marked: Vec<usize> =
            verify::cited_numbers(&text).into_iter().filter(|n| e.passages.iter().any(|p| p.n == *n)).collect();
        // What the answer is checked against: the passages it shares something with (their
        // script decides which of its words must be theirs), else all of them.
        let floor = if best >= DECISIVE_SUPPORT { DECISIVE_SUPPORT } else { 1 };
        let drawn_on: Vec<&str> =
            e.passages.iter().zip(&support).filter(|(_, (_, s))| *s >= floor).map(|(p, _)| p.text).collect();
        let sources: Vec<&str> = if drawn_on.is_empty() { e.passages.iter().map(|p| p.text).collect() } else { drawn_on };
        let mut asked = vec![q.prompt_text.as_str()];
        asked.extend(translated);
        // An answer from the passages says nothing they do not; across languages, at least its
        // names and numbers must be theirs.
        // Common character pairs alone do not tell which passage an answer came from; the
        // model's marks do, when it gave any.
        let drawn = if best < DECISIVE_SUPPORT && !marked.is_empty() { Vec::new() } else { drawn };
        let cites = if !drawn.is_empty() {
            if !verify::grounded(&body, &sources, &asked) {
                tracing::debug!(%text, "the model's answer says what its passages do not: quoting instead");
                return Ok(fallback);
            }
            drawn
        } else {
            if !marked.is_empty() && verify::unsupported_names(&body, &[sources.as_slice(), asked.as_slice()].concat()) {
                tracing::debug!(%text, "the model's answer names what its passages do not: quoting instead");
                return Ok(fallback);
            }
            marked
        };
        // Query mode: a name asked for is one a passage has (chat mode may add what the model knows).
        if q.mode == Mode::Query {
            let passage_texts: Vec<&str> = e.passages.iter().map(|p| p.text).collect();
            if verify::names_the_unknown(&body, &q.prompt_text, &passage_texts) {
                tracing::debug!(%text, "the model's answer names someone no passage does: quoting instead");
                return Ok(fallback);
            }
        }
        let cites = about_the_question(&e.passages, &support, &asked.join("\n"), cites);
        // Query mode answers from the knowledge base only: an answer that draws on no passage
        // (and has no photo to speak about) is the model's own knowledge.
        if q.mode == Mode::Query && cites.is_empty() && photo.is_none() && e.photo_text.is_none() {
            tracing::debug!(%text, "the model's answer draws on no passage (query mode): quoting instead");
            return Ok(fallback);
        }
        let text = if cites.is_empty() { body } else { format!("{body} {}", template::cite_marks(&cites)) };
        Ok((text, AnswerSource::Llm))
    }

    /// Runs the generator greedily (streaming its pieces to `events`); none without a generator.
    async fn generate(&self, messages: Vec<ChatMessage>, events: Option<mpsc::Sender<AskEvent>>) -> Result<Option<String>> {
        self.generate_with(messages, 0.0, events).await
    }

    async fn generate_with(
        &self,
        messages: Vec<ChatMessage>,
        temperature: f32,
        events: Option<mpsc::Sender<AskEvent>>,
    ) -> Result<Option<String>> {
        let Some(generator) = &self.generator else { return Ok(None) };
        let sink: Option<TokenSink> = events.map(|tx| {
            // Never blocks the generator; a token dropped on a full channel is still in the
            // final response. A closed channel means the client left: stop.
            Box::new(move |piece: &str| {
                !matches!(tx.try_send(AskEvent::Token(piece.to_string())), Err(mpsc::error::TrySendError::Closed(_)))
            }) as TokenSink
        });
        let request = GenerationRequest { messages, max_tokens: self.settings.max_answer_tokens, temperature };
        Ok(Some(generator.generate(request, sink).await?.text.trim().to_string()))
    }
}

/// Of the passages an answer may rest on, the ones about what was asked: the question (and its
/// translation, which shares words with a passage in the other language) tells "the printer on
/// the 3rd floor is called HERON" from a note about HERON's paper jams, and finds the English
/// passage a Chinese answer came from when the answer shares no name or number with any.
/// `support[k]` is passage k's (number, what it shares with the answer).
fn about_the_question(passages: &[Passage<'_>], support: &[(usize, usize)], asked: &str, cites: Vec<usize>) -> Vec<usize> {
    // An answer that cites nothing (the model's own knowledge, in chat mode) gains no citation.
    if cites.is_empty() {
        return cites;
    }
    let relevance: Vec<usize> = passages.iter().map(|p| verify::support(asked, p.text)).collect();
    let best = support.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let pool: Vec<usize> = if best >= DECISIVE_SUPPORT {
        (0..passages.len()).filter(|&k| support[k].1 >= DECISIVE_SUPPORT).collect()
    } else {
        (0..passages.len()).filter(|&k| relevance[k] >= DECISIVE_SUPPORT).collect()
    };
    let score = |k: usize| support[k].1 + relevance[k];
    let Some(top) = pool.iter().map(|&k| score(k)).max() else { return cites };
    pool.into_iter().filter(|&k| score(k) == top).map(|k| passages[k].n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passages<'a>(texts: &[&'a str]) -> Vec<Passage<'a>> {
        texts.iter().enumerate().map(|(k, text)| Passage { n: k + 1, text, score: 0.5 }).collect()
    }

    fn cite(texts: &[&str], answer: &str, asked: &str, cites: Vec<usize>) -> Vec<usize> {
        let passages = passages(texts);
        let support: Vec<(usize, usize)> = passages.iter().map(|p| (p.n, verify::support(answer, p.text))).collect();
        about_the_question(&passages, &support, asked, cites)
    }

    #[test]
    fn the_passage_about_the_question_is_cited() {
        let texts = [
            "打印机 HERON 卡纸时，请先联系前台的刘晓燕（分机 101），不要自己拆开后盖。",
            "The shared printer on the 3rd floor is called HERON; it sits in the corridor next to room 303.",
        ];
        // A Chinese answer shares HERON with both and characters with the note; the question's
        // translation shares "printer" and "floor" with the handbook.
        let asked = "三楼的打印机叫什么名字？\nWhat is the name of the printer on the third floor?";
        assert_eq!(cite(&texts, "三楼的打印机叫HERON。", asked, vec![1]), vec![2]);

        // No name or number ties "每周三" to a passage: the one the question is about.
        let texts = [
            "会议室每周一上午九点前可以预订，每周五下午清洁。",
            "The fire alarm is tested every Wednesday at 11:00; you do not need to leave the building.",
        ];
        let asked = "火警测试是每周几？\nWhich day of the week is the fire alarm tested?";
        assert_eq!(cite(&texts, "每周三", asked, vec![1]), vec![2]);

        // An answer from the model's own knowledge gains no citation.
        assert_eq!(cite(&texts, "Paris.", asked, vec![]), Vec::<usize>::new());
    }
}

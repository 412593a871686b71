//! Deterministic fakes of the engine traits, so the orchestration (fusion, verification,
//! follow-ups, teaching, HTTP mapping) is tested in milliseconds without models.
//!
//! - [`FakeImageStore`] accepts "photos" whose bytes are `photo:<words>`; the words are the
//!   photo's content. Anything else is refused like a non-image.
//! - [`FakeEncoder`] embeds a text as a hashed bag of its words (Chinese characters count as
//!   words) and a photo as the bag of its words, so "photo:tabby cat" is close to "cat".
//! - [`MemoryVectorStore`] is an exact search over points in memory.
//! - [`ScriptedGenerator`] answers with whatever its script returns and records each request.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use pyxa_core::{
    dot, l2_normalize, softmax_scaled, Blob, BuiltinClass, Embedding, Encoder, EncoderInfo, Error, ErrorCode, Generation,
    GenerationRequest, Generator, GeneratorInfo, ImageEncoding, ImageStore, KeywordQuery, PayloadFilter, Result, RgbPixels,
    Rollup, ScoredPoint, TextReader, TokenSink, VectorName, VectorPoint, VectorQuery, VectorStore, VectorStoreInfo,
};
use sha2::{Digest, Sha256};

pub const FAKE_DIM: usize = 64;
const PHOTO_PREFIX: &[u8] = b"photo:";

/// A fake photo showing `what`.
pub fn photo(what: &str) -> Vec<u8> {
    [PHOTO_PREFIX, what.as_bytes()].concat()
}

fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.to_lowercase().chars() {
        if pyxa_core::text::is_han(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            word.push(c);
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Words that carry no content: the caption form labels are embedded in ("a photo of a cat",
/// "一张猫的照片") embeds like the bare label, as it does in a real joint space.
const STOPWORDS: &[&str] = &["a", "an", "the", "photo", "of", "一", "张", "的", "照", "片"];

/// A hashed bag of content words, L2-normalised.
pub fn bag_of_words(text: &str) -> Embedding {
    let mut v = vec![0.0f32; FAKE_DIM];
    for w in words(text).into_iter().filter(|w| !STOPWORDS.contains(&w.as_str())) {
        let h = Sha256::digest(w.as_bytes());
        v[h[0] as usize % FAKE_DIM] += if h[1] & 1 == 0 { 1.0 } else { -1.0 };
    }
    l2_normalize(&mut v);
    v
}

fn photo_words(bytes: &[u8]) -> Result<String> {
    if bytes.is_empty() {
        return Err(Error::new(ErrorCode::EmptyImage, "the image is empty"));
    }
    let rest = bytes.strip_prefix(PHOTO_PREFIX).ok_or_else(|| Error::new(ErrorCode::NotAnImage, "not a (fake) photo"))?;
    String::from_utf8(rest.to_vec()).map_err(|_| Error::new(ErrorCode::InvalidImage, "a fake photo holds UTF-8 words"))
}

#[derive(Default)]
pub struct FakeImageStore {
    blobs: Mutex<HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl ImageStore for FakeImageStore {
    fn probe(&self, bytes: &[u8]) -> Result<()> {
        photo_words(bytes).map(|_| ())
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<(Blob, RgbPixels)> {
        let words = photo_words(&bytes)?;
        let hash = hex::encode(Sha256::digest(&bytes));
        self.blobs.lock().map_err(|_| Error::internal("poisoned"))?.insert(hash.clone(), bytes.clone());
        let blob = Blob { hash, mime: "image/x-fake".into(), size: bytes.len() as i64, width: words.len() as i64, height: 1 };
        Ok((blob, RgbPixels { width: words.len() as u32, height: 1, data: words.into_bytes() }))
    }

    async fn read_original(&self, hash: &str) -> Result<Vec<u8>> {
        let blobs = self.blobs.lock().map_err(|_| Error::internal("poisoned"))?;
        blobs.get(hash).cloned().ok_or_else(|| Error::new(ErrorCode::UnknownBlob, format!("no blob {hash}")))
    }

    async fn read_thumbnail(&self, hash: &str) -> Result<Vec<u8>> {
        self.read_original(hash).await
    }

    async fn delete(&self, hash: &str) -> Result<()> {
        self.blobs.lock().map_err(|_| Error::internal("poisoned"))?.remove(hash);
        Ok(())
    }
}

/// Embeds photos and texts as bags of words; its built-in classifier is a softmax over the
/// cosine between the photo and each class name.
pub struct FakeEncoder {
    classes: Vec<BuiltinClass>,
    class_vectors: Vec<Embedding>,
    space: String,
    /// Photos (their exact words) with fixed classifier probabilities.
    fixed_probs: Vec<(String, Vec<f32>)>,
}

impl FakeEncoder {
    /// `classes`: (English, Chinese) names of the built-in classes.
    pub fn new(classes: &[(&str, &str)]) -> Self {
        let classes: Vec<BuiltinClass> = classes
            .iter()
            .enumerate()
            .map(|(index, (en, zh))| BuiltinClass {
                index,
                en: en.to_string(),
                zh: Some(zh.to_string()),
                definition: None,
                rollup: None,
            })
            .collect();
        let class_vectors = classes.iter().map(|c| bag_of_words(&c.en)).collect();
        Self { classes, class_vectors, space: "fake@1".into(), fixed_probs: Vec::new() }
    }

    /// Roll-ups of built-in classes: (class, roll-up English name, roll-up Chinese name), as
    /// the default bundle's WordNet hierarchy gives them ("tiger cat" -> "cat" / "猫").
    pub fn with_rollups(mut self, rollups: &[(&str, &str, &str)]) -> Self {
        for (class, en, zh) in rollups {
            if let Some(c) = self.classes.iter_mut().find(|c| c.en == *class) {
                c.rollup = Some(Rollup { en: en.to_string(), zh: Some(zh.to_string()) });
            }
        }
        self
    }

    /// The photo of exactly these words gets these classifier probabilities; the other classes
    /// share what is left equally.
    pub fn with_class_probs(mut self, photo_words: &str, probs: &[(&str, f32)]) -> Self {
        let given: f32 = probs.iter().map(|(_, p)| p).sum();
        let others = self.classes.len().saturating_sub(probs.len()).max(1) as f32;
        let v = self
            .classes
            .iter()
            .map(|c| probs.iter().find(|(n, _)| *n == c.en).map_or((1.0 - given).max(0.0) / others, |(_, p)| *p))
            .collect();
        self.fixed_probs.push((photo_words.to_string(), v));
        self
    }

    /// The same encoder claiming another embedding space (as after a bundle change).
    pub fn in_space(mut self, space: &str) -> Self {
        self.space = space.to_string();
        self
    }

    fn encode_words(&self, words: &str) -> ImageEncoding {
        let embedding = bag_of_words(words);
        if let Some((_, probs)) = self.fixed_probs.iter().find(|(w, _)| w == words) {
            return ImageEncoding { embedding, class_probs: Some(probs.clone()) };
        }
        let class_probs = (!self.classes.is_empty()).then(|| {
            let cosines: Vec<f32> = self.class_vectors.iter().map(|c| dot(&embedding, c)).collect();
            softmax_scaled(&cosines, 30.0)
        });
        ImageEncoding { embedding, class_probs }
    }
}

#[async_trait]
impl Encoder for FakeEncoder {
    fn info(&self) -> EncoderInfo {
        EncoderInfo {
            bundle: "fake".into(),
            space: self.space.clone(),
            dim: FAKE_DIM,
            providers: vec!["FakeExecutionProvider".into()],
            image_precision: "fp32".into(),
            logit_scale: 30.0,
        }
    }

    fn builtin_classes(&self) -> &[BuiltinClass] {
        &self.classes
    }

    async fn encode_image(&self, bytes: Vec<u8>) -> Result<ImageEncoding> {
        Ok(self.encode_words(&photo_words(&bytes)?))
    }

    async fn encode_rgb(&self, rgb: Vec<u8>, _width: u32, _height: u32) -> Result<ImageEncoding> {
        let words = String::from_utf8(rgb).map_err(|_| Error::new(ErrorCode::InvalidImage, "not fake pixels"))?;
        Ok(self.encode_words(&words))
    }

    async fn encode_texts(&self, texts: Vec<String>) -> Result<Vec<Embedding>> {
        Ok(texts.iter().map(|t| bag_of_words(t)).collect())
    }
}

/// Reads the words after "says" in a fake photo ("photo:cookie box says Crisp Almond
/// Cookies" reads "Crisp Almond Cookies"), nothing otherwise.
pub struct FakeTextReader;

#[async_trait]
impl TextReader for FakeTextReader {
    async fn read_text(&self, pixels: RgbPixels) -> Result<String> {
        let words = String::from_utf8(pixels.data).map_err(|_| Error::new(ErrorCode::InvalidImage, "not fake pixels"))?;
        Ok(words.split_once(" says ").map(|(_, said)| said.to_string()).unwrap_or_default())
    }
}

/// Exact search over points in memory, same contract as the Qdrant backends.
#[derive(Default)]
pub struct MemoryVectorStore {
    collections: Mutex<HashMap<String, HashMap<String, VectorPoint>>>,
}

fn matches(filter: &PayloadFilter, p: &VectorPoint) -> bool {
    filter.space.as_ref().is_none_or(|s| p.space.as_ref() == Some(s))
        && filter.label.as_ref().is_none_or(|l| p.label.as_ref() == Some(l))
        && filter.kind.is_none_or(|k| p.kind == k)
        && filter.tenant.as_ref().is_none_or(|t| p.tenant.as_ref() == Some(t))
}

impl MemoryVectorStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, HashMap<String, VectorPoint>>>> {
        self.collections.lock().map_err(|_| Error::internal("poisoned"))
    }
}

/// Highest score first (ties by id), at most `top_k`.
fn best_first(mut hits: Vec<ScoredPoint>, top_k: usize) -> Vec<ScoredPoint> {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.item_id.cmp(&b.item_id)));
    hits.truncate(top_k);
    hits
}

#[async_trait]
impl VectorStore for MemoryVectorStore {
    fn info(&self) -> VectorStoreInfo {
        VectorStoreInfo { backend: "memory".into(), location: "memory".into() }
    }

    async fn ensure_collection(&self, collection: &str, _dim: usize) -> Result<()> {
        self.lock()?.entry(collection.to_string()).or_default();
        Ok(())
    }

    async fn delete_collection(&self, collection: &str) -> Result<()> {
        self.lock()?.remove(collection);
        Ok(())
    }

    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        let mut collections = self.lock()?;
        for p in points {
            let c = collections
                .get_mut(&p.collection)
                .ok_or_else(|| Error::new(ErrorCode::VectorStoreNotFound, format!("no collection {}", p.collection)))?;
            c.insert(p.item_id.clone(), p);
        }
        Ok(())
    }

    async fn delete(&self, collection: &str, item_ids: &[String]) -> Result<()> {
        if let Some(c) = self.lock()?.get_mut(collection) {
            item_ids.iter().for_each(|id| {
                c.remove(id);
            });
        }
        Ok(())
    }

    async fn search(&self, query: VectorQuery) -> Result<Vec<ScoredPoint>> {
        let collections = self.lock()?;
        let Some(points) = collections.get(&query.collection) else { return Ok(Vec::new()) };
        let hits: Vec<ScoredPoint> = points
            .values()
            .filter(|p| matches(&query.filter, p))
            .filter_map(|p| {
                let v = match query.using {
                    VectorName::Image => p.image.as_ref(),
                    VectorName::Text => p.text.as_ref(),
                }?;
                Some(ScoredPoint {
                    item_id: p.item_id.clone(),
                    label: p.label.clone(),
                    kind: p.kind,
                    score: dot(v, &query.vector),
                })
            })
            .collect();
        Ok(best_first(hits, query.top_k))
    }

    /// Term overlap weighted by the stored values (no IDF: enough to rank a fake's handful).
    async fn search_keywords(&self, query: KeywordQuery) -> Result<Vec<ScoredPoint>> {
        let collections = self.lock()?;
        let Some(points) = collections.get(&query.collection) else { return Ok(Vec::new()) };
        let hits: Vec<ScoredPoint> = points
            .values()
            .filter(|p| matches(&query.filter, p))
            .filter_map(|p| {
                let k = p.keywords.as_ref()?;
                let score: f32 =
                    query.terms.indices.iter().filter_map(|t| k.indices.iter().position(|i| i == t).map(|at| k.values[at])).sum();
                (score > 0.0).then(|| ScoredPoint { item_id: p.item_id.clone(), label: p.label.clone(), kind: p.kind, score })
            })
            .collect();
        Ok(best_first(hits, query.top_k))
    }

    async fn count(&self, collection: &str, filter: &PayloadFilter) -> Result<usize> {
        Ok(self.lock()?.get(collection).map(|c| c.values().filter(|p| matches(filter, p)).count()).unwrap_or(0))
    }

    async fn contains(&self, collection: &str, item_id: &str) -> Result<bool> {
        Ok(self.lock()?.get(collection).is_some_and(|c| c.contains_key(item_id)))
    }

    async fn optimize(&self, _collection: &str) -> Result<()> {
        Ok(())
    }
}

type Script = Box<dyn Fn(&GenerationRequest) -> String + Send + Sync>;

/// Answers with what its script returns for each request, streaming it word by word, and
/// keeps every request for the test to inspect.
pub struct ScriptedGenerator {
    script: Script,
    requests: Mutex<Vec<GenerationRequest>>,
}

impl ScriptedGenerator {
    pub fn new(script: impl Fn(&GenerationRequest) -> String + Send + Sync + 'static) -> Self {
        Self { script: Box::new(script), requests: Mutex::default() }
    }

    /// Always the same reply.
    pub fn replying(reply: &str) -> Self {
        let reply = reply.to_string();
        Self::new(move |_| reply.clone())
    }

    pub fn requests(&self) -> Vec<GenerationRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Generator for ScriptedGenerator {
    fn info(&self) -> GeneratorInfo {
        GeneratorInfo { backend: "scripted".into(), model: "script".into() }
    }

    async fn generate(&self, request: GenerationRequest, mut on_token: Option<TokenSink>) -> Result<Generation> {
        let text = (self.script)(&request);
        if let Ok(mut r) = self.requests.lock() {
            r.push(request);
        }
        if let Some(sink) = on_token.as_mut() {
            for piece in text.split_inclusive(' ') {
                if !sink(piece) {
                    break;
                }
            }
        }
        let completion_tokens = text.split_whitespace().count();
        Ok(Generation { text, prompt_tokens: 0, completion_tokens })
    }

    async fn score(&self, _messages: Vec<pyxa_core::ChatMessage>, _candidates: Vec<String>) -> Result<Vec<f64>> {
        Err(Error::new(ErrorCode::ScoringUnsupported, "the scripted generator cannot score"))
    }
}

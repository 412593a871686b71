//! The ONNX encoder: inference threads, each owning its session, fed by a bounded queue per
//! modality. Requests that arrive together are run as one batch (micro-batching); a full queue
//! is an `overloaded` error rather than unbounded latency. Photos are queued view by view, so
//! that several image threads share one photo's views (its centre crop and its letterbox run
//! at once on two cores) as well as many photos.

use pyxa_core::ErrorCode;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ort::session::Session;
use ort::value::Tensor;
use pyxa_core::{l2_normalize, BuiltinClass, Embedding, Encoder, EncoderInfo, Error, ImageEncoding, Result};
use pyxa_models::manifest::{Pooling, TextBatching};
use tokenizers::Tokenizer;
use tokio::sync::{mpsc, oneshot};

use crate::bundle::Bundle;
use crate::preprocess::{self, DecodeLimits};
use crate::runtime::{self, Device};

/// How the encoder runs.
#[derive(Debug, Clone)]
pub struct EncoderConfig {
    pub bundle_dir: PathBuf,
    pub ort_library: PathBuf,
    pub device: Device,
    /// ONNX Runtime intra-op threads per session.
    pub threads: usize,
    /// Image inference threads, each with its own session (CPU; a GPU gets one).
    pub image_workers: usize,
    /// Largest batch one inference run takes.
    pub max_batch: usize,
    /// Photos (or texts) waiting per modality before `overloaded`.
    pub queue_capacity: usize,
    pub decode_limits: DecodeLimits,
    pub image_precision: ImagePrecision,
    /// Check every bundle file's sha256 at load (slower start, catches corruption).
    pub verify_checksums: bool,
}

impl EncoderConfig {
    pub fn new(bundle_dir: PathBuf, ort_library: PathBuf) -> Self {
        Self {
            bundle_dir,
            ort_library,
            device: Device::Cpu,
            threads: 1,
            image_workers: 1,
            max_batch: 8,
            queue_capacity: 64,
            decode_limits: DecodeLimits::default(),
            image_precision: ImagePrecision::Auto,
            verify_checksums: false,
        }
    }
}

/// Which of a bundle's image graphs runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImagePrecision {
    /// The int8 graph when the bundle has one and the photos run on the CPU, else fp32.
    #[default]
    Auto,
    /// The reference graph (`image.onnx`).
    Fp32,
    /// The int8 graph (`image.int8_onnx`); a bundle without one is an error.
    Int8,
}

impl std::str::FromStr for ImagePrecision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ImagePrecision::Auto),
            "fp32" => Ok(ImagePrecision::Fp32),
            "int8" => Ok(ImagePrecision::Int8),
            other => Err(format!("unknown image precision {other:?} (auto, fp32, int8)")),
        }
    }
}

/// Whether the image tower runs its int8 graph: asked for, or `auto` on a CPU. A GPU keeps
/// fp32 under `auto`: the int8 graph's speed and parity were measured on CPUs only. `--device
/// auto` counts as the CPU when no GPU build of ONNX Runtime is installed.
fn runs_int8(m: &pyxa_models::manifest::BundleManifest, config: &EncoderConfig) -> Result<bool> {
    let has_int8 = m.image.int8_onnx.is_some();
    match config.image_precision {
        ImagePrecision::Fp32 => Ok(false),
        ImagePrecision::Int8 if !has_int8 => Err(Error::new(
            ErrorCode::ModelBundleInvalid,
            format!("image precision int8: bundle {} has no int8 image graph (image.int8_onnx)", m.name),
        )),
        ImagePrecision::Int8 => Ok(true),
        ImagePrecision::Auto => Ok(has_int8
            && match config.device {
                Device::Cpu => true,
                Device::Auto => !runtime::gpu_providers_present(&config.ort_library),
                Device::Cuda | Device::Tensorrt => false,
            }),
    }
}

/// Timings of one image encode, for `timings_ms` and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageTimings {
    pub decode: Duration,
    pub preprocess: Duration,
    pub inference: Duration,
}

/// One view's embedding, its class probabilities (when the bundle has a head) and the time
/// its batch spent in inference.
type ViewOutput = (Embedding, Option<Vec<f32>>, Duration);

/// One view of a photo (see `Preprocess::views`): a CHW tensor.
struct ViewJob {
    pixels: Vec<f32>,
    reply: oneshot::Sender<Result<ViewOutput>>,
}

struct TextJob {
    text: String,
    reply: oneshot::Sender<Result<Embedding>>,
}

pub struct OnnxEncoder {
    bundle: Bundle,
    /// The bundle's embedding space (computed once: it hashes the manifest).
    space: String,
    classes: Vec<BuiltinClass>,
    providers: Vec<String>,
    image_precision: &'static str,
    /// The image graph that runs, relative to the bundle.
    image_onnx: String,
    image_tx: mpsc::Sender<ViewJob>,
    text_tx: mpsc::Sender<TextJob>,
    limits: DecodeLimits,
    max_batch: usize,
}

impl OnnxEncoder {
    /// Loads ONNX Runtime (once per process), the bundle and both sessions, and starts the
    /// inference threads. Blocking: call from a blocking context.
    pub fn load(config: &EncoderConfig) -> Result<Arc<OnnxEncoder>> {
        runtime::init(&config.ort_library)?;
        let bundle = Bundle::open(&config.bundle_dir)?;
        if config.verify_checksums {
            bundle.verify()?;
        }
        let classes = bundle.builtin_classes()?;
        let m = &bundle.manifest;
        // One session per image thread: ONNX Runtime runs a session's calls one at a time.
        let image_workers = if config.device == Device::Cpu { config.image_workers.max(1) } else { 1 };
        let int8 = runs_int8(m, config)?;
        let image_onnx = match (&m.image.int8_onnx, int8) {
            (Some(file), true) => file.clone(),
            _ => m.image.onnx.clone(),
        };
        let mut image_sessions = Vec::with_capacity(image_workers);
        let mut image_providers = Vec::new();
        for _ in 0..image_workers {
            let (session, providers) = runtime::open_session(&bundle.path(&image_onnx)?, config.device, config.threads)?;
            image_sessions.push(session);
            image_providers = providers;
        }
        let (text_session, _) = runtime::open_session(&bundle.path(&m.text.onnx)?, config.device, config.threads)?;
        let mut tokenizer = Tokenizer::from_file(bundle.path(&m.text.tokenizer)?)
            .map_err(|e| Error::new(ErrorCode::ModelBundleInvalid, format!("tokenizer: {e}")))?;
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length: m.text.max_length, ..Default::default() }))
            .map_err(|e| Error::new(ErrorCode::ModelBundleInvalid, format!("tokenizer truncation: {e}")))?;
        tokenizer.with_padding(Some(tokenizers::PaddingParams::default()));

        let views = m.image.preprocess.views.len().max(1);
        let (image_tx, image_rx) = mpsc::channel(config.queue_capacity.max(1) * views);
        let (text_tx, text_rx) = mpsc::channel(config.queue_capacity);
        let image_rx = Arc::new(std::sync::Mutex::new(image_rx));
        let max_batch = config.max_batch.max(1);
        for (i, session) in image_sessions.into_iter().enumerate() {
            let worker = ImageWorker {
                session,
                input: m.image.input.clone(),
                output: m.image.output.clone(),
                probs_output: m.image.probs_output.clone(),
                side: m.image.preprocess.crop as usize,
                dim: m.dim,
            };
            let rx = image_rx.clone();
            std::thread::Builder::new()
                .name(format!("pyxa-image-encoder-{i}"))
                .spawn(move || worker.run(&rx, max_batch, image_workers))
                .map_err(|e| Error::internal(format!("spawn image encoder: {e}")))?;
        }
        let text_worker = TextWorker {
            has_token_type_ids: text_session.inputs().iter().any(|i| i.name() == "token_type_ids"),
            session: text_session,
            tokenizer,
            output: m.text.output.clone(),
            pooling: m.text.pooling,
            batching: m.text.batching,
            prefix: m.text.prefix.clone(),
            dim: m.dim,
        };
        std::thread::Builder::new()
            .name("pyxa-text-encoder".into())
            .spawn(move || text_worker.run(text_rx, max_batch))
            .map_err(|e| Error::internal(format!("spawn text encoder: {e}")))?;
        let image_precision = if int8 { "int8" } else { "fp32" };
        tracing::info!(bundle = %m.name, providers = ?image_providers, image_workers, image_precision, "encoders ready");
        let space = if int8 { bundle.manifest.int8_embedding_space() } else { bundle.manifest.embedding_space() };
        Ok(Arc::new(OnnxEncoder {
            bundle,
            space,
            classes,
            providers: image_providers,
            image_precision,
            image_onnx,
            image_tx,
            text_tx,
            limits: config.decode_limits,
            max_batch,
        }))
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The image graph that runs (`image.onnx` or `image.int8_onnx`), relative to the bundle.
    pub fn image_onnx(&self) -> &str {
        &self.image_onnx
    }

    /// Decode + preprocess on a blocking thread, then queue for inference; returns timings.
    pub async fn encode_image_timed(&self, bytes: Vec<u8>) -> Result<(ImageEncoding, ImageTimings)> {
        let spec = self.bundle.manifest.image.preprocess.clone();
        let limits = self.limits;
        let (pixels, decode, prep) = tokio::task::spawn_blocking(move || -> Result<_> {
            let t0 = Instant::now();
            let img = preprocess::decode(&bytes, limits)?;
            let t1 = Instant::now();
            let views = preprocess::to_views(&img.rgb, &spec)?;
            Ok((views, t1 - t0, t1.elapsed()))
        })
        .await
        .map_err(|e| Error::internal(format!("preprocess task: {e}")))??;
        let (embedding, class_probs, inference) = self.infer_pixels(pixels).await?;
        Ok((ImageEncoding { embedding, class_probs }, ImageTimings { decode, preprocess: prep, inference }))
    }

    /// Queue the already preprocessed views of one photo (the benchmark uses it to time
    /// inference alone). The photo's embedding is the normalised mean of its views' (the
    /// whole photo and its centre both count for similarity); its class probabilities are the
    /// first view's (the centre crop the classifier was trained on: the letterbox of a tall
    /// rocket photo reads as a "drilling platform"). The inference time is the slowest view's.
    pub async fn infer_pixels(&self, views: Vec<Vec<f32>>) -> Result<(Embedding, Option<Vec<f32>>, Duration)> {
        if views.is_empty() {
            return Err(inference_error("a photo without views"));
        }
        // Room for all of its views or none: a photo is not half queued.
        let permits = self.image_tx.try_reserve_many(views.len()).map_err(queue_error)?;
        let mut replies = Vec::with_capacity(views.len());
        for (permit, pixels) in permits.zip(views) {
            let (reply, rx) = oneshot::channel();
            permit.send(ViewJob { pixels, reply });
            replies.push(rx);
        }
        let mut embedding = vec![0f32; self.bundle.manifest.dim];
        let mut probs = None;
        let mut inference = Duration::ZERO;
        for (i, reply) in replies.into_iter().enumerate() {
            let (view, view_probs, took) = reply.await.map_err(|_| Error::internal("image encoder thread stopped"))??;
            if view.len() != embedding.len() {
                return Err(inference_error(format!("a view embedding of {} values, expected {}", view.len(), embedding.len())));
            }
            embedding.iter_mut().zip(&view).for_each(|(a, b)| *a += b);
            if i == 0 {
                probs = view_probs;
            }
            inference = inference.max(took);
        }
        l2_normalize(&mut embedding);
        Ok((embedding, probs, inference))
    }
}

fn queue_error<T>(e: mpsc::error::TrySendError<T>) -> Error {
    match e {
        mpsc::error::TrySendError::Full(_) => Error::overloaded("the encoder queue is full; retry shortly"),
        mpsc::error::TrySendError::Closed(_) => Error::internal("encoder thread stopped"),
    }
}

#[async_trait]
impl Encoder for OnnxEncoder {
    fn info(&self) -> EncoderInfo {
        EncoderInfo {
            bundle: self.bundle.manifest.name.clone(),
            space: self.space.clone(),
            dim: self.bundle.manifest.dim,
            providers: self.providers.clone(),
            image_precision: self.image_precision.into(),
            logit_scale: self.bundle.manifest.logit_scale,
        }
    }

    fn builtin_classes(&self) -> &[BuiltinClass] {
        &self.classes
    }

    async fn encode_image(&self, bytes: Vec<u8>) -> Result<ImageEncoding> {
        Ok(self.encode_image_timed(bytes).await?.0)
    }

    async fn encode_rgb(&self, rgb: Vec<u8>, width: u32, height: u32) -> Result<ImageEncoding> {
        let spec = self.bundle.manifest.image.preprocess.clone();
        let pixels = tokio::task::spawn_blocking(move || {
            let img = image::RgbImage::from_raw(width, height, rgb)
                .ok_or_else(|| Error::new(ErrorCode::InvalidImage, "the pixel buffer does not match its size"))?;
            preprocess::to_views(&img, &spec)
        })
        .await
        .map_err(|e| Error::internal(format!("preprocess task: {e}")))??;
        let (embedding, class_probs, _) = self.infer_pixels(pixels).await?;
        Ok(ImageEncoding { embedding, class_probs })
    }

    async fn encode_texts(&self, texts: Vec<String>) -> Result<Vec<Embedding>> {
        // One batch at a time: a long list (a collection's hundred labels) waits for its own
        // batches instead of filling the shared queue and being refused.
        let mut out = Vec::with_capacity(texts.len());
        let mut texts = texts.into_iter().peekable();
        while texts.peek().is_some() {
            let mut pending = Vec::with_capacity(self.max_batch);
            for text in texts.by_ref().take(self.max_batch) {
                let (reply, rx) = oneshot::channel();
                self.text_tx.try_send(TextJob { text, reply }).map_err(queue_error)?;
                pending.push(rx);
            }
            for rx in pending {
                out.push(rx.await.map_err(|_| Error::internal("text encoder thread stopped"))??);
            }
        }
        Ok(out)
    }
}

/// Blocks for the first job, then takes whatever else is already queued, up to `max_batch`.
fn next_batch<T>(rx: &mut mpsc::Receiver<T>, max_batch: usize) -> Option<Vec<T>> {
    next_share(rx, max_batch, 1)
}

/// Blocks for the first job, then takes this thread's share of what else is queued: with
/// `threads` threads on one queue, one of every `threads` jobs (so that the two views of a
/// lone photo go to two threads), up to `max_batch`.
fn next_share<T>(rx: &mut mpsc::Receiver<T>, max_batch: usize, threads: usize) -> Option<Vec<T>> {
    let first = rx.blocking_recv()?;
    let share = (rx.len() + 1).div_ceil(threads.max(1)).clamp(1, max_batch);
    let mut batch = vec![first];
    while batch.len() < share {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn inference_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("inference failed: {e}"))
}

struct ImageWorker {
    session: Session,
    input: String,
    output: String,
    probs_output: Option<String>,
    side: usize,
    dim: usize,
}

impl ImageWorker {
    /// Takes batches of views from the queue it shares with `threads - 1` other workers (one
    /// waits on the queue at a time), until the encoder is dropped.
    fn run(mut self, rx: &std::sync::Mutex<mpsc::Receiver<ViewJob>>, max_batch: usize, threads: usize) {
        loop {
            let batch = match rx.lock() {
                Ok(mut rx) => next_share(&mut rx, max_batch, threads),
                Err(_) => None, // another worker panicked holding the queue
            };
            let Some(batch) = batch else { return };
            let started = Instant::now();
            let (views, replies): (Vec<Vec<f32>>, Vec<_>) = batch.into_iter().map(|j| (j.pixels, j.reply)).unzip();
            let result = self.infer(&views);
            let elapsed = started.elapsed();
            match result {
                Ok(rows) => {
                    for (reply, (emb, probs)) in replies.into_iter().zip(rows) {
                        let _ = reply.send(Ok((emb, probs, elapsed)));
                    }
                }
                Err(e) => {
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    fn infer(&mut self, images: &[Vec<f32>]) -> Result<Vec<(Embedding, Option<Vec<f32>>)>> {
        let n = images.len();
        let mut flat = Vec::with_capacity(n * 3 * self.side * self.side);
        for img in images {
            flat.extend_from_slice(img);
        }
        let tensor =
            Tensor::from_array((vec![n as i64, 3, self.side as i64, self.side as i64], flat)).map_err(inference_error)?;
        let outputs = self.session.run(ort::inputs![self.input.as_str() => tensor]).map_err(inference_error)?;
        let (_, emb) = outputs
            .get(self.output.as_str())
            .ok_or_else(|| inference_error(format!("no output {}", self.output)))?
            .try_extract_tensor::<f32>()
            .map_err(inference_error)?;
        if emb.len() != n * self.dim {
            return Err(inference_error(format!("image output has {} values, expected {}x{}", emb.len(), n, self.dim)));
        }
        let probs = match &self.probs_output {
            Some(name) => {
                let (_, p) = outputs
                    .get(name.as_str())
                    .ok_or_else(|| inference_error(format!("no output {name}")))?
                    .try_extract_tensor::<f32>()
                    .map_err(inference_error)?;
                Some(p.chunks(p.len() / n.max(1)).map(<[f32]>::to_vec).collect::<Vec<_>>())
            }
            None => None,
        };
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let mut v = emb[i * self.dim..(i + 1) * self.dim].to_vec();
            l2_normalize(&mut v);
            rows.push((v, probs.as_ref().map(|p| p[i].clone())));
        }
        Ok(rows)
    }
}

struct TextWorker {
    session: Session,
    tokenizer: Tokenizer,
    output: String,
    pooling: Pooling,
    batching: TextBatching,
    /// The manifest's `text.prefix`, put before every text (truncation applies after it).
    prefix: String,
    has_token_type_ids: bool,
    dim: usize,
}

impl TextWorker {
    fn run(mut self, mut rx: mpsc::Receiver<TextJob>, max_batch: usize) {
        while let Some(batch) = next_batch(&mut rx, max_batch) {
            let texts: Vec<&str> = batch.iter().map(|j| j.text.as_str()).collect();
            let result = match self.batching {
                TextBatching::Padded => self.infer(&texts),
                TextBatching::Sequential => texts.iter().map(|t| self.infer(&[t]).map(|mut v| v.remove(0))).collect(),
            };
            match result {
                Ok(rows) => {
                    for (job, emb) in batch.into_iter().zip(rows) {
                        let _ = job.reply.send(Ok(emb));
                    }
                }
                Err(e) => {
                    for job in batch {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    fn infer(&mut self, texts: &[&str]) -> Result<Vec<Embedding>> {
        let texts: Vec<String> = texts.iter().map(|t| format!("{}{t}", self.prefix)).collect();
        let encodings = self
            .tokenizer
            .encode_batch(texts, true)
            .map_err(|e| Error::new(ErrorCode::InvalidText, format!("cannot tokenize: {e}")))?;
        let n = encodings.len();
        let t = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(n * t);
        let mut mask = Vec::with_capacity(n * t);
        let mut types = Vec::with_capacity(n * t);
        for e in &encodings {
            let pad = t - e.get_ids().len();
            ids.extend(e.get_ids().iter().map(|&x| i64::from(x)).chain(std::iter::repeat_n(0, pad)));
            mask.extend(e.get_attention_mask().iter().map(|&x| i64::from(x)).chain(std::iter::repeat_n(0, pad)));
            types.extend(e.get_type_ids().iter().map(|&x| i64::from(x)).chain(std::iter::repeat_n(0, pad)));
        }
        let shape = vec![n as i64, t as i64];
        let mut inputs = ort::inputs![
            "input_ids" => Tensor::from_array((shape.clone(), ids)).map_err(inference_error)?,
            "attention_mask" => Tensor::from_array((shape.clone(), mask.clone())).map_err(inference_error)?,
        ];
        if self.has_token_type_ids {
            inputs.push(("token_type_ids".into(), Tensor::from_array((shape, types)).map_err(inference_error)?.into()));
        }
        let outputs = self.session.run(inputs).map_err(inference_error)?;
        let (out_shape, data) = outputs
            .get(self.output.as_str())
            .ok_or_else(|| inference_error(format!("no output {}", self.output)))?
            .try_extract_tensor::<f32>()
            .map_err(inference_error)?;
        let d = self.dim;
        let mut rows = Vec::with_capacity(n);
        match (self.pooling, out_shape.len()) {
            (Pooling::None, 2) => {
                for i in 0..n {
                    rows.push(data[i * d..(i + 1) * d].to_vec());
                }
            }
            (Pooling::Mean, 3) => {
                for i in 0..n {
                    let mut acc = vec![0f32; d];
                    let mut count = 0f32;
                    for j in 0..t {
                        if mask[i * t + j] == 0 {
                            continue;
                        }
                        count += 1.0;
                        let row = &data[(i * t + j) * d..][..d];
                        acc.iter_mut().zip(row).for_each(|(a, x)| *a += x);
                    }
                    acc.iter_mut().for_each(|a| *a /= count.max(1.0));
                    rows.push(acc);
                }
            }
            (Pooling::Cls, 3) => {
                for i in 0..n {
                    rows.push(data[(i * t) * d..][..d].to_vec());
                }
            }
            (pooling, rank) => {
                return Err(inference_error(format!("text output of rank {rank} does not fit pooling {pooling:?}")))
            }
        }
        for r in &mut rows {
            if r.len() != d {
                return Err(inference_error("text output has the wrong dimension"));
            }
            l2_normalize(r);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(int8: Option<&str>) -> pyxa_models::manifest::BundleManifest {
        let mut m: pyxa_models::manifest::BundleManifest =
            serde_json::from_str(include_str!("../../../models/pyxa-default/manifest.json")).unwrap();
        m.image.int8_onnx = int8.map(String::from);
        m
    }

    fn config(device: Device, image_precision: ImagePrecision) -> EncoderConfig {
        EncoderConfig { device, image_precision, ..EncoderConfig::new("/b".into(), "/no/such/libonnxruntime.so".into()) }
    }

    #[test]
    fn auto_runs_int8_on_a_cpu_only_and_int8_needs_the_graph() {
        let (with, without) = (manifest(Some("image_int8.onnx")), manifest(None));
        assert!(runs_int8(&with, &config(Device::Cpu, ImagePrecision::Auto)).unwrap());
        // No GPU build of ONNX Runtime beside the library: `--device auto` runs on the CPU.
        assert!(runs_int8(&with, &config(Device::Auto, ImagePrecision::Auto)).unwrap());
        assert!(!runs_int8(&with, &config(Device::Cuda, ImagePrecision::Auto)).unwrap());
        assert!(!runs_int8(&with, &config(Device::Cpu, ImagePrecision::Fp32)).unwrap());
        assert!(runs_int8(&with, &config(Device::Tensorrt, ImagePrecision::Int8)).unwrap());
        assert!(!runs_int8(&without, &config(Device::Cpu, ImagePrecision::Auto)).unwrap());
        let err = runs_int8(&without, &config(Device::Cpu, ImagePrecision::Int8)).unwrap_err();
        assert_eq!(err.code, "model_bundle_invalid", "{err}");
        assert_eq!("INT8".parse::<ImagePrecision>(), Ok(ImagePrecision::Int8));
        assert!("int4".parse::<ImagePrecision>().is_err());
    }
}

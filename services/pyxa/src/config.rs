//! pyxa's configuration: one clap struct, every flag also an environment variable `PYXA_*`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use pyxa_encoders::Device;

#[derive(Debug, Parser)]
#[command(name = "pyxa", version, about = "Answers questions about photos and text, grounded in what it knows")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// pyxa's home: downloads, ONNX Runtime, model bundles (default: the user's cache dir/pyxa).
    #[arg(long, env = "PYXA_HOME", global = true)]
    pub home: Option<PathBuf>,
    /// Where inference runs: cpu, cuda, tensorrt or auto (GPU when present, else CPU).
    #[arg(long, env = "PYXA_DEVICE", default_value = "cpu", global = true)]
    pub device: Device,
    /// The ONNX Runtime shared library (default: the one `pyxa models pull` installed; the GPU
    /// build for --device cuda/tensorrt/auto when installed).
    #[arg(long, env = "PYXA_ORT_LIBRARY", global = true)]
    pub ort_library: Option<PathBuf>,
    /// A model bundle folder (manifest.json + ONNX files), e.g. a CLIP export.
    #[arg(long, env = "PYXA_BUNDLE", global = true)]
    pub bundle: Option<PathBuf>,
    /// ONNX Runtime threads per encoder session.
    #[arg(long, env = "PYXA_ENCODER_THREADS", default_value_t = 1, global = true)]
    pub encoder_threads: usize,
    /// Image inference threads, each with its own session; a photo's views and concurrent
    /// photos run on them at once (CPU only; a GPU gets one). Default: one per core, up to 4.
    #[arg(long, env = "PYXA_IMAGE_WORKERS", default_value_t = default_image_workers(), global = true)]
    pub image_workers: usize,
    /// Which image graph runs: `auto` (int8 on a CPU when the bundle has one, as the default
    /// bundle does: about 1.5x faster, embeddings within cosine 0.99 of fp32), `fp32` or `int8`.
    /// Switching re-embeds stored photos (another embedding space).
    #[arg(long, env = "PYXA_IMAGE_PRECISION", default_value = "auto", global = true)]
    pub image_precision: pyxa_encoders::ImagePrecision,
    /// Largest encoder batch.
    #[arg(long, env = "PYXA_MAX_BATCH", default_value_t = 8, global = true)]
    pub max_batch: usize,
    /// Requests waiting per encoder before `overloaded`.
    #[arg(long, env = "PYXA_QUEUE_CAPACITY", default_value_t = 64, global = true)]
    pub queue_capacity: usize,
    /// Read text printed in photos (OCR): `auto` (when `pyxa models pull ocr` provisioned it),
    /// `on` (required) or `off`.
    #[arg(long, env = "PYXA_OCR", default_value = "auto", global = true)]
    pub ocr: String,
    /// Log filter (tracing env-filter syntax).
    #[arg(long, env = "PYXA_LOG", default_value = "info,qdrant_edge=error", global = true)]
    pub log: String,
}

/// One image thread per core, up to 4 (each holds its own copy of the image model).
fn default_image_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl CommonArgs {
    pub fn home(&self) -> pyxa_models::Home {
        match &self.home {
            Some(root) => pyxa_models::Home::new(root.clone()),
            None => pyxa_models::Home::from_env(),
        }
    }

    pub fn encoder_config(&self) -> pyxa_encoders::EncoderConfig {
        let home = self.home();
        let ort_library = self.ort_library.clone().unwrap_or_else(|| {
            let gpu = home.ort_gpu_library();
            if self.device != Device::Cpu && gpu.exists() {
                gpu
            } else {
                home.ort_library()
            }
        });
        let bundle = self.bundle.clone().unwrap_or_else(|| home.default_bundle());
        let mut config = pyxa_encoders::EncoderConfig::new(bundle, ort_library);
        config.device = self.device;
        config.threads = self.encoder_threads;
        config.image_workers = self.image_workers;
        config.image_precision = self.image_precision;
        config.max_batch = self.max_batch;
        config.queue_capacity = self.queue_capacity;
        config
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (REST API, OpenAI-compatible chat, web portal).
    Serve(ServeArgs),
    /// Classify a photo: label probabilities (zero-shot over --labels, or the built-in classes).
    Classify(ClassifyArgs),
    /// Print the embedding of a photo or a text as JSON.
    Embed(EmbedArgs),
    /// Add a folder of labelled photos to a collection.
    Ingest(IngestArgs),
    /// Ask a question about a photo (and/or text) against a running or embedded pyxa.
    Ask(AskArgs),
    /// Re-embed what is stored after the encoder bundle changed (resumable; `serve` also does
    /// this in the background at start).
    Reindex(ReindexArgs),
    /// Provision or list runtime and models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Benchmarks with comparable figures.
    Bench(BenchArgs),
    /// Accuracy on the dev set (`pyxa models pull devset`): zero-shot, few-shot, retrieval, calibration.
    Eval(EvalArgs),
    /// API keys: create (the key is shown once), list, revoke. Any key makes `serve` require keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key; prints it once (only its hash is stored).
    Create {
        /// What it may do: read, ask, write, teach, admin (repeat or comma-separate).
        #[arg(long = "scope", value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Only these collections (repeat or comma-separate; default: all).
        #[arg(long = "collection", value_delimiter = ',')]
        collections: Vec<String>,
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// Revoke a key by id.
    Revoke {
        id: String,
        #[command(flatten)]
        stores: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Fetch and build runtime and models (idempotent). No name: everything marked default.
    Pull {
        /// ort-cpu, ort-gpu, default (the encoder bundle), smollm2, test-photos, devset.
        names: Vec<String>,
        /// Rebuild even when installed.
        #[arg(long)]
        force: bool,
    },
    /// Show what is installed.
    List,
}

/// Longer than the slowest upload (whole body within 120 s, then decoding and embedding) and
/// than a large document's ingestion between two passage batches.
const DEFAULT_REPLICA_GRACE_SECS: u64 = 300;

/// Where state lives and which stores and generator to use.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Data directory: SQLite database, Qdrant Edge shards, blobs.
    #[arg(long, env = "PYXA_DATA_DIR", default_value = "pyxa-data")]
    pub data_dir: PathBuf,
    /// SQL database URL (default: SQLite in the data dir). `postgres://...` for Postgres.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// A Qdrant server or cluster: gRPC URL (e.g. http://localhost:6334), or the peers of a
    /// cluster comma-separated (requests move to the next when one cannot be reached).
    /// Default: Qdrant Edge in-process.
    #[arg(long, env = "PYXA_QDRANT_URL")]
    pub qdrant_url: Option<String>,
    /// API key for the Qdrant server.
    #[arg(long, env = "PYXA_QDRANT_API_KEY", hide_env_values = true)]
    pub qdrant_api_key: Option<String>,
    /// Shards per collection on a Qdrant cluster.
    #[arg(long, env = "PYXA_QDRANT_SHARDS", default_value_t = 1)]
    pub qdrant_shards: u32,
    /// Replication factor on a Qdrant cluster (3 on 3 peers keeps every acknowledged write
    /// and keeps answering with one peer down).
    #[arg(long, env = "PYXA_QDRANT_REPLICATION", default_value_t = 1)]
    pub qdrant_replication: u32,
    /// Replicas that must confirm a write before it is acknowledged. Default: a majority of
    /// `--qdrant-replication`.
    #[arg(long, env = "PYXA_QDRANT_WRITE_CONSISTENCY")]
    pub qdrant_write_consistency: Option<u32>,
    /// Replicas a read asks: all, majority, quorum or a number. Default: one active replica,
    /// which holds every acknowledged write (a replica that misses a write is marked dead and
    /// not read until it has caught up). `all` and `majority` need every replica to answer.
    #[arg(long, env = "PYXA_QDRANT_READ_CONSISTENCY")]
    pub qdrant_read_consistency: Option<pyxa_vectors::ReadConsistency>,
    /// Write ordering across replicas: weak, medium or strong. Default when replicated: medium
    /// (writes go through one live replica, so writes of two pyxa replicas to one point apply in
    /// one order; strong goes through a fixed leader and fails while that peer is down).
    #[arg(long, env = "PYXA_QDRANT_WRITE_ORDERING")]
    pub qdrant_write_ordering: Option<pyxa_vectors::WriteOrder>,
    /// Seconds another pyxa replica sharing the database may take over one write (an upload,
    /// a document's ingestion): start-up and periodic repair leave younger unsettled rows
    /// alone. Default: 300 with Postgres (replicas may share it), 0 with SQLite (one process).
    #[arg(long, env = "PYXA_REPLICA_GRACE_SECS")]
    pub replica_grace_secs: Option<u64>,
    /// Days a photo that was only asked about (no item holds it) is kept after its last use;
    /// 0 keeps such photos for ever. A photo goes at once when its last item is deleted.
    #[arg(long, env = "PYXA_PHOTO_RETENTION_DAYS", default_value_t = 30)]
    pub photo_retention_days: u64,
}

impl StoreArgs {
    /// The embedded defaults (SQLite, Qdrant Edge) in `data_dir`, keeping photos for ever.
    pub fn embedded(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database_url: None,
            qdrant_url: None,
            qdrant_api_key: None,
            qdrant_shards: 1,
            qdrant_replication: 1,
            qdrant_write_consistency: None,
            qdrant_read_consistency: None,
            qdrant_write_ordering: None,
            replica_grace_secs: None,
            photo_retention_days: 0,
        }
    }

    /// How long another replica's write may take (zero: this process is the only writer).
    pub fn replica_grace(&self) -> std::time::Duration {
        let shared_database = self.database_url.as_deref().is_some_and(|u| u.starts_with("postgres"));
        let default = if shared_database { DEFAULT_REPLICA_GRACE_SECS } else { 0 };
        std::time::Duration::from_secs(self.replica_grace_secs.unwrap_or(default))
    }

    /// `--photo-retention-days` as a duration (`None`: for ever).
    pub fn photo_retention(&self) -> Option<std::time::Duration> {
        (self.photo_retention_days > 0).then(|| std::time::Duration::from_secs(self.photo_retention_days * 24 * 3600))
    }
}

/// The answer generator.
#[derive(Debug, Clone, Args)]
pub struct GeneratorArgs {
    /// `local` (GGUF in-process), `openai` (any OpenAI-compatible server) or `none` (candidates only).
    #[arg(long, env = "PYXA_GENERATOR", default_value = "local")]
    pub generator: String,
    /// Which local model answers: `qwen` (Qwen2.5-Coder-1.5B-Instruct, `pyxa models pull
    /// qwen2.5-coder-1.5b`; follows grounded instructions in Chinese and English), `small`
    /// (SmolLM2-135M-Instruct: fast, English only), or `auto` (qwen when provisioned, else small).
    #[arg(long, env = "PYXA_LLM", default_value = "auto")]
    pub llm: String,
    /// A GGUF file for the local generator instead of `--llm`.
    #[arg(long, env = "PYXA_GGUF")]
    pub gguf: Option<PathBuf>,
    /// Threads for the local generator (1 is fastest on a small shared machine).
    #[arg(long, env = "PYXA_LLM_THREADS", default_value_t = 1)]
    pub llm_threads: usize,
    /// Questions the local generator answers at once (continuous batching); each holds a slot of
    /// `--llm-context` tokens in the KV cache.
    #[arg(long, env = "PYXA_LLM_PARALLEL", default_value_t = 8)]
    pub llm_parallel: usize,
    /// Tokens (prompt + answer) one question may use in the local generator.
    #[arg(long, env = "PYXA_LLM_CONTEXT", default_value_t = 2048)]
    pub llm_context: u32,
    /// Questions that may wait for a free slot; beyond that the answer is 429 with Retry-After.
    #[arg(long, env = "PYXA_LLM_QUEUE", default_value_t = 16)]
    pub llm_queue: usize,
    /// Seconds a question may wait for a free slot of the local generator; then it is answered
    /// 429 `llm_queue_timeout` with Retry-After.
    #[arg(long, env = "PYXA_LLM_MAX_WAIT_SECS", default_value_t = 30)]
    pub llm_max_wait_secs: u64,
    /// Base URL of the OpenAI-compatible server, e.g. http://localhost:11434/v1.
    #[arg(long, env = "PYXA_OPENAI_BASE_URL")]
    pub openai_base_url: Option<String>,
    /// Model name on the OpenAI-compatible server.
    #[arg(long, env = "PYXA_OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,
    /// API key for the OpenAI-compatible server (never logged).
    #[arg(long, env = "PYXA_OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Seconds before a request to the OpenAI-compatible server times out.
    #[arg(long, env = "PYXA_OPENAI_TIMEOUT_SECS", default_value_t = 60)]
    pub openai_timeout_secs: u64,
    /// Most tokens an answer may have.
    #[arg(long, env = "PYXA_MAX_ANSWER_TOKENS", default_value_t = 64)]
    pub max_answer_tokens: usize,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[arg(long, env = "PYXA_HOST", default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, env = "PYXA_PORT", default_value_t = 8080)]
    pub port: u16,
    #[command(flatten)]
    pub stores: StoreArgs,
    #[command(flatten)]
    pub generator: GeneratorArgs,
    /// Largest request body in bytes (uploads).
    #[arg(long, env = "PYXA_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Let /v1/chat/completions fetch `image_url` parts over http(s) (off: data URLs only).
    #[arg(long, env = "PYXA_ALLOW_REMOTE_IMAGES")]
    pub allow_remote_images: bool,
    /// Below this top-candidate probability the answer says it is not sure.
    #[arg(long, env = "PYXA_CONFIDENCE_THRESHOLD", default_value_t = 0.35)]
    pub confidence_threshold: f32,
    /// Worker threads of the HTTP server.
    #[arg(long, env = "PYXA_HTTP_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// The admin API key (may do everything, including managing keys with `/v1/keys`). With it,
    /// or with keys made by `pyxa keys create`, every `/v1` route needs a key.
    #[arg(long, env = "PYXA_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Serve a non-loopback address without API keys (anyone who can reach it may read, ask,
    /// write and delete).
    #[arg(long, env = "PYXA_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
}

impl ServeArgs {
    pub fn answer_settings(&self) -> pyxa_engine::AnswerSettings {
        pyxa_engine::AnswerSettings {
            confidence_threshold: self.confidence_threshold,
            max_answer_tokens: self.generator.max_answer_tokens,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ClassifyArgs {
    /// The photo.
    pub photo: PathBuf,
    /// Comma-separated candidate labels, e.g. "a cat,a dog". Default: the built-in classes.
    #[arg(long)]
    pub labels: Option<String>,
    /// How many candidates to print.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

#[derive(Debug, Clone, Args)]
pub struct EmbedArgs {
    /// A photo to embed.
    #[arg(long, conflicts_with = "text")]
    pub image: Option<PathBuf>,
    /// A text to embed.
    #[arg(long)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Folder of photos: labels from sub-folder names, or from a manifest.
    pub dir: PathBuf,
    #[arg(long, default_value = "default")]
    pub collection: String,
    /// CSV (`file,label[,text]`) or JSONL (`{"file","label","text","metadata"}`) manifest, relative to DIR.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub stores: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ReindexArgs {
    /// Only this collection (default: all).
    #[arg(long)]
    pub collection: Option<String>,
    #[command(flatten)]
    pub stores: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AskArgs {
    /// The question.
    pub prompt: String,
    #[arg(long)]
    pub image: Option<PathBuf>,
    #[arg(long, default_value = "default")]
    pub collection: String,
    /// chat (model knowledge plus evidence) or query (evidence only).
    #[arg(long, default_value = "chat")]
    pub mode: String,
    /// Print the whole JSON response instead of a readable answer.
    #[arg(long)]
    pub json: bool,
    /// Ask a running server instead of loading everything in-process.
    #[arg(long, env = "PYXA_URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub stores: StoreArgs,
    #[command(flatten)]
    pub generator: GeneratorArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// encoders, vectors, ask or load.
    #[arg(default_value = "encoders")]
    pub what: String,
    /// Concurrent clients (`load`).
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Folder of photos to use (default: the provisioned test photos).
    #[arg(long)]
    pub photos: Option<PathBuf>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Skip the Python onnxruntime + PIL baseline.
    #[arg(long)]
    pub no_baseline: bool,
    #[command(flatten)]
    pub stores: StoreArgs,
    #[command(flatten)]
    pub generator: GeneratorArgs,
}

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Folder of dev-set photos (default: the provisioned `devset`); a `devset.json` in it
    /// replaces the committed manifest `models/devset/devset.json`.
    #[arg(long, env = "PYXA_DEVSET")]
    pub devset: Option<PathBuf>,
    /// Accuracy is also reported for answers whose top probability is at least this.
    #[arg(long, env = "PYXA_CONFIDENCE_THRESHOLD", default_value_t = 0.35)]
    pub confidence_threshold: f32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub what: Option<EvalWhat>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EvalWhat {
    /// Question answering over a knowledge base (`models/qa/qa.json`): answer, citation and
    /// abstention accuracy, in English and Chinese, chat and query mode, with follow-ups.
    Qa(QaArgs),
}

#[derive(Debug, Clone, Args)]
pub struct QaArgs {
    /// The Q&A set: collections (documents, notes) and questions with accepted answers.
    #[arg(default_value = "models/qa/qa.json")]
    pub file: PathBuf,
    /// Only the first N questions (a quick look).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only these questions (comma-separated ids; the questions they follow up are asked too).
    #[arg(long, value_delimiter = ',')]
    pub ids: Vec<String>,
    /// Print every question with its answer.
    #[arg(long)]
    pub verbose: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub generator: GeneratorArgs,
}

//! The composition root: builds the engines from configuration and wires them into the domain.
//! `pyxa serve` and every CLI command start here; nothing below this module reads flags.

mod image_store;
mod text_reader;

use std::sync::Arc;

use anyhow::{Context, Result};
use pyxa_core::{Encoder, Generator, MetadataStore, VectorStore};
use pyxa_encoders::{DecodeLimits, OnnxEncoder};
use pyxa_engine::{AnswerSettings, AskService, KnowledgeBase};
use pyxa_vectors::{EdgeStoreConfig, ServerStoreConfig, VectorStoreConfig};

pub use image_store::FsImageStore;
pub use text_reader::OcrReader;

use crate::config::{CommonArgs, GeneratorArgs, StoreArgs};

/// Everything a running pyxa holds: the knowledge base and the answer pipeline over it.
#[derive(Clone)]
pub struct App {
    pub kb: KnowledgeBase,
    pub answers: AskService,
}

impl App {
    /// Loads the encoder, opens the stores (repairing what a crash left), loads the generator.
    pub async fn build(
        common: &CommonArgs,
        stores: &StoreArgs,
        generator: &GeneratorArgs,
        settings: AnswerSettings,
    ) -> Result<App> {
        let encoder = load_encoder(common).await?;
        let parser = document_parser(&encoder)?;
        let mut kb = open_knowledge_base(encoder, stores, common.encoder_config().decode_limits).await?;
        if let Some(reader) = load_text_reader(common).await? {
            kb = kb.with_text_reader(reader);
        }
        kb = kb.with_document_parser(parser);
        if let Some(lexicon) = load_lexicon(common).await? {
            kb = kb.with_lexicon(lexicon);
        }
        let generator = open_generator(common, generator).await?;
        Ok(App::new(kb, generator, settings))
    }

    pub fn new(kb: KnowledgeBase, generator: Option<Arc<dyn Generator>>, settings: AnswerSettings) -> App {
        let answers = AskService::new(kb.clone(), generator, settings);
        App { kb, answers }
    }
}

/// Loads the encoder on a blocking thread (ONNX Runtime start-up reads files).
pub async fn load_encoder(common: &CommonArgs) -> Result<Arc<OnnxEncoder>> {
    let config = common.encoder_config();
    Ok(tokio::task::spawn_blocking(move || OnnxEncoder::load(&config)).await??)
}

/// The Chinese-English dictionary that gives Chinese zero-shot labels an English reading,
/// when it is provisioned (it is by default); without it such labels are embedded as they are.
pub async fn load_lexicon(common: &CommonArgs) -> Result<Option<Arc<pyxa_engine::lexicon::Lexicon>>> {
    let path = common.home().lexicon();
    if !path.is_file() {
        tracing::info!(path = %path.display(), "the Chinese-English lexicon is not provisioned (`pyxa models pull lexicon`)");
        return Ok(None);
    }
    let lexicon = tokio::task::spawn_blocking(move || read_lexicon(&path)).await??;
    tracing::info!(words = lexicon.len(), "Chinese-English lexicon loaded");
    Ok(Some(Arc::new(lexicon)))
}

/// Reads CC-CEDICT as provisioned (gzip-compressed text).
pub fn read_lexicon(path: &std::path::Path) -> Result<pyxa_engine::lexicon::Lexicon> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(pyxa_engine::lexicon::Lexicon::parse(&text))
}

/// Reads documents, splitting them into passages counted in the text encoder's own tokens.
pub fn document_parser(encoder: &OnnxEncoder) -> Result<Arc<dyn pyxa_core::DocumentParser>> {
    let tokenizer = encoder.bundle().path(&encoder.bundle().manifest.text.tokenizer)?;
    Ok(Arc::new(pyxa_docs::Parser::with_tokenizer_file(&tokenizer, pyxa_docs::PassageSize::default())?))
}

/// The OCR reader per `--ocr`: `auto` loads it when its models are provisioned, `on` requires
/// them, `off` reads no text.
pub async fn load_text_reader(common: &CommonArgs) -> Result<Option<Arc<dyn pyxa_core::TextReader>>> {
    let dir = common.home().ocr_models();
    match common.ocr.as_str() {
        "off" => return Ok(None),
        "auto" if !dir.exists() => {
            tracing::info!(dir = %dir.display(), "OCR models not provisioned (`pyxa models pull ocr`): photos are not read");
            return Ok(None);
        }
        "auto" | "on" => {}
        other => anyhow::bail!("--ocr {other:?}: auto, on or off"),
    }
    let mut settings = pyxa_encoders::OcrSettings::new(common.encoder_config().ort_library);
    settings.threads = common.encoder_threads;
    let reader = tokio::task::spawn_blocking(move || pyxa_encoders::TextReader::load(&dir, &settings)).await??;
    Ok(Some(Arc::new(OcrReader(Arc::new(reader)))))
}

/// Opens (and migrates) the SQL store: `--database-url`, else SQLite in the data dir (made if
/// missing). Returns it with the data dir's canonical path.
pub async fn open_meta(stores: &StoreArgs) -> Result<(Arc<dyn MetadataStore>, std::path::PathBuf)> {
    std::fs::create_dir_all(&stores.data_dir).with_context(|| format!("creating {}", stores.data_dir.display()))?;
    let data_dir = stores.data_dir.canonicalize()?;
    let database_url =
        stores.database_url.clone().unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("pyxa.sqlite").display()));
    let meta: Arc<dyn MetadataStore> = Arc::new(pyxa_meta::SqlStore::connect(&database_url).await?);
    Ok((meta, data_dir))
}

/// Opens SQL, the vector store and the photo store in the data dir around a loaded encoder,
/// makes sure the default collection exists, and repairs what a crash left unsettled.
pub async fn open_knowledge_base(
    encoder: Arc<dyn Encoder>,
    stores: &StoreArgs,
    decode_limits: DecodeLimits,
) -> Result<KnowledgeBase> {
    let (meta, data_dir) = open_meta(stores).await?;
    let vector_config = match &stores.qdrant_url {
        Some(url) => {
            let mut c = ServerStoreConfig::new(url.clone());
            c.api_key = stores.qdrant_api_key.clone();
            let replicated = stores.qdrant_replication > 1;
            c.shard_number = Some(stores.qdrant_shards);
            c.replication_factor = Some(stores.qdrant_replication);
            c.write_consistency_factor = Some(stores.qdrant_write_consistency.unwrap_or(stores.qdrant_replication / 2 + 1));
            c.read_consistency = stores.qdrant_read_consistency;
            c.write_ordering = stores.qdrant_write_ordering.or(replicated.then_some(pyxa_vectors::WriteOrder::Medium));
            VectorStoreConfig::Server(c)
        }
        None => VectorStoreConfig::Edge(EdgeStoreConfig::new(data_dir.join("qdrant-edge"))),
    };
    let vectors: Arc<dyn VectorStore> = pyxa_vectors::open_store(vector_config).await?;
    let images = Arc::new(FsImageStore::open(&data_dir.join("blobs"), decode_limits)?);
    let kb = KnowledgeBase::new(encoder, vectors, meta, images)
        .with_photo_retention(stores.photo_retention())
        .with_other_writers(stores.replica_grace());
    kb.open().await?;
    Ok(kb)
}

/// The GGUF the local generator loads with these arguments (`None` for other generators).
pub fn local_gguf(common: &CommonArgs, args: &GeneratorArgs) -> Result<Option<std::path::PathBuf>> {
    if args.generator != "local" {
        return Ok(None);
    }
    match &args.gguf {
        Some(path) => Ok(Some(path.clone())),
        None => local_model(common, &args.llm).map(Some),
    }
}

/// The GGUF `--llm` names.
fn local_model(common: &CommonArgs, llm: &str) -> Result<std::path::PathBuf> {
    let home = common.home();
    let qwen = home.gguf(QWEN_ARTIFACT);
    match llm {
        "small" | "smollm2" => Ok(home.default_gguf()),
        "qwen" | QWEN_ARTIFACT if qwen.is_file() => Ok(qwen),
        "qwen" | QWEN_ARTIFACT => {
            anyhow::bail!("--llm qwen: the model is not provisioned; run `pyxa models pull {QWEN_ARTIFACT}`")
        }
        "auto" if qwen.is_file() => Ok(qwen),
        "auto" => {
            tracing::info!("--llm auto: {QWEN_ARTIFACT} is not provisioned (`pyxa models pull {QWEN_ARTIFACT}`); answering with SmolLM2-135M");
            Ok(home.default_gguf())
        }
        other => anyhow::bail!("--llm {other:?}: qwen, small or auto"),
    }
}

const QWEN_ARTIFACT: &str = "qwen2.5-coder-1.5b";

pub async fn open_generator(common: &CommonArgs, args: &GeneratorArgs) -> Result<Option<Arc<dyn Generator>>> {
    match args.generator.as_str() {
        "none" => Ok(None),
        "local" => {
            let path = local_gguf(common, args)?.context("a local generator has a GGUF")?;
            tracing::info!(model = %path.display(), "local generator");
            let config = pyxa_llm::LocalConfig {
                threads: args.llm_threads,
                parallel: args.llm_parallel,
                context_size: args.llm_context,
                queue_capacity: args.llm_queue,
                max_wait: std::time::Duration::from_secs(args.llm_max_wait_secs),
                ..Default::default()
            };
            let generator = tokio::task::spawn_blocking(move || pyxa_llm::LocalGenerator::load(&path, config)).await??;
            Ok(Some(Arc::new(generator)))
        }
        "openai" => {
            let base =
                args.openai_base_url.clone().context("--generator openai needs --openai-base-url (PYXA_OPENAI_BASE_URL)")?;
            let mut config = pyxa_llm::OpenAiConfig::new(base, args.openai_model.clone());
            config.api_key = args.openai_api_key.clone();
            config.timeout = std::time::Duration::from_secs(args.openai_timeout_secs);
            Ok(Some(Arc::new(pyxa_llm::OpenAiGenerator::new(config)?)))
        }
        other => anyhow::bail!("unknown generator {other:?}: local, openai or none"),
    }
}

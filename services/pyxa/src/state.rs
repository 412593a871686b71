//! Building the engines from configuration.

use std::sync::Arc;

use anyhow::{Context, Result};
use pyxa_core::{Generator, MetadataStore, VectorStore};
use pyxa_vectors::{EdgeStoreConfig, ServerStoreConfig, VectorStoreConfig};

use crate::ask::AskService;
use crate::blobs::BlobStore;
use crate::config::{CommonArgs, GeneratorArgs, StoreArgs};
use crate::kb::KnowledgeBase;

/// Everything the HTTP layer needs.
#[derive(Clone)]
pub struct AppState {
    pub kb: KnowledgeBase,
    pub ask: AskService,
    pub settings: Settings,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub max_upload_bytes: usize,
    pub allow_remote_images: bool,
    pub sql_backend: &'static str,
    pub vector_backend: String,
}

pub async fn open_stores(common: &CommonArgs, stores: &StoreArgs) -> Result<KnowledgeBase> {
    let encoder = crate::cli::load_encoder(common).await?;
    open_kb(encoder, stores, common.encoder_config().decode_limits).await
}

/// Opens SQL, the vector store and the blob store in the data dir around a loaded encoder,
/// makes sure the default collection exists, and repairs what a crash left unsettled.
pub async fn open_kb(
    encoder: Arc<dyn pyxa_core::Encoder>,
    stores: &StoreArgs,
    decode_limits: pyxa_encoders::DecodeLimits,
) -> Result<KnowledgeBase> {
    std::fs::create_dir_all(&stores.data_dir).with_context(|| format!("creating {}", stores.data_dir.display()))?;
    let data_dir = stores.data_dir.canonicalize()?;
    let database_url = stores
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("pyxa.sqlite").display()));
    let meta: Arc<dyn MetadataStore> = Arc::new(pyxa_meta::SqlStore::connect(&database_url).await?);
    let vector_config = match &stores.qdrant_url {
        Some(url) => {
            let mut c = ServerStoreConfig::new(url.clone());
            c.api_key = stores.qdrant_api_key.clone();
            c.shard_number = Some(stores.qdrant_shards);
            c.replication_factor = Some(stores.qdrant_replication);
            VectorStoreConfig::Server(c)
        }
        None => VectorStoreConfig::Edge(EdgeStoreConfig::new(data_dir.join("qdrant-edge"))),
    };
    let vectors: Arc<dyn VectorStore> = pyxa_vectors::open_store(vector_config).await?;
    let blobs = BlobStore::open(&data_dir.join("blobs"))?;
    let kb = KnowledgeBase { encoder, vectors, meta, blobs, decode_limits };
    kb.ensure_default_collection().await?;
    kb.repair().await?;
    Ok(kb)
}

pub async fn open_generator(common: &CommonArgs, args: &GeneratorArgs) -> Result<Option<Arc<dyn Generator>>> {
    match args.generator.as_str() {
        "none" => Ok(None),
        "local" => {
            let path = args.gguf.clone().unwrap_or_else(|| common.home().default_gguf());
            let config = pyxa_llm::LocalConfig { threads: args.llm_threads, ..Default::default() };
            let generator = tokio::task::spawn_blocking(move || pyxa_llm::LocalGenerator::load(&path, config)).await??;
            Ok(Some(Arc::new(generator)))
        }
        "openai" => {
            let base = args.openai_base_url.clone().context("--generator openai needs --openai-base-url (PYXA_OPENAI_BASE_URL)")?;
            let mut config = pyxa_llm::OpenAiConfig::new(base, args.openai_model.clone());
            config.api_key = args.openai_api_key.clone();
            config.timeout = std::time::Duration::from_secs(args.openai_timeout_secs);
            Ok(Some(Arc::new(pyxa_llm::OpenAiGenerator::new(config)?)))
        }
        other => anyhow::bail!("unknown generator {other:?}: local, openai or none"),
    }
}

impl AppState {
    pub fn new(kb: KnowledgeBase, generator: Option<Arc<dyn Generator>>, confidence_threshold: f32, max_answer_tokens: usize, max_upload_bytes: usize, allow_remote_images: bool) -> Self {
        let settings = Settings {
            max_upload_bytes,
            allow_remote_images,
            sql_backend: kb.meta.backend(),
            vector_backend: kb.vectors.info().backend,
        };
        let ask = AskService::new(kb.clone(), generator, confidence_threshold, max_answer_tokens);
        AppState { kb, ask, settings }
    }
}

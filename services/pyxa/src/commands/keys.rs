//! `pyxa keys create|list|revoke`: API keys in the SQL store (works while `serve` runs; a server
//! started without keys needs a restart to start requiring them).

use anyhow::Result;

use crate::config::KeysCommand;
use crate::http::keys::{create, KeyView};

pub async fn run(command: KeysCommand) -> Result<()> {
    let stores = match &command {
        KeysCommand::Create { stores, .. } | KeysCommand::List { stores } | KeysCommand::Revoke { stores, .. } => stores,
    };
    let (meta, _) = crate::bootstrap::open_meta(stores).await?;
    match command {
        KeysCommand::Create { scopes, collections, .. } => {
            let collections = (!collections.is_empty()).then_some(collections);
            let created = create(meta.as_ref(), &scopes, collections).await?;
            println!("{}", serde_json::to_string_pretty(&created)?);
            eprintln!("pyxa: the key is shown this once; send it as `Authorization: Bearer KEY`");
        }
        KeysCommand::List { .. } => {
            let keys: Vec<KeyView> = meta.list_api_keys().await?.into_iter().map(KeyView::from).collect();
            println!("{}", serde_json::to_string_pretty(&keys)?);
        }
        KeysCommand::Revoke { id, .. } => {
            meta.revoke_api_key(&id).await?;
            eprintln!("pyxa: revoked {id}");
        }
    }
    Ok(())
}

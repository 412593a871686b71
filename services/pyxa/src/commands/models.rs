//! `pyxa models pull|list`: provisioning of ONNX Runtime and the models.

use anyhow::Result;
use pyxa_models as provision;
use serde_json::json;

use crate::config::{CommonArgs, ModelsCommand};

pub fn run(common: &CommonArgs, command: ModelsCommand) -> Result<()> {
    let home = common.home();
    let registry = provision::registry()?;
    match command {
        ModelsCommand::Pull { names, force } => {
            let names: Vec<String> = if names.is_empty() {
                registry.iter().filter(|(_, a)| a.default).map(|(n, _)| n.clone()).collect()
            } else {
                names
            };
            // The converter needs ONNX Runtime's Python wheel, not the C library; order still
            // matters for readability of the output: runtime first.
            for name in names {
                let path = provision::pull(&home, &name, force)?;
                println!("{}", json!({"artifact": name, "path": path}));
            }
            Ok(())
        }
        ModelsCommand::List => {
            let mut rows = Vec::new();
            for (name, artifact) in &registry {
                rows.push(json!({
                    "artifact": name,
                    "installed": provision::installed(&home, artifact),
                    "path": home.target(artifact),
                    "description": artifact.description,
                    "pulled_by_default": artifact.default,
                }));
            }
            println!("{}", serde_json::to_string_pretty(&json!({"home": home.root, "artifacts": rows}))?);
            Ok(())
        }
    }
}

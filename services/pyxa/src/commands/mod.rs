//! The command line: each subcommand is a thin shell over the composition root
//! ([`crate::bootstrap`]) and the HTTP layer.

mod ask;
mod bench;
mod classify;
mod eval;
mod ingest;
mod keys;
mod load;
mod models;
mod reindex;
mod serve;

use anyhow::{Context, Result};

use crate::config::{Cli, Command};

pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let common = cli.common;
    match cli.command {
        Command::Models { command } => models::run(&common, command),
        Command::Classify(args) => runtime.block_on(classify::classify(&common, args)),
        Command::Embed(args) => runtime.block_on(classify::embed(&common, args)),
        Command::Serve(args) => runtime.block_on(serve::serve(common, args)),
        Command::Ingest(args) => runtime.block_on(ingest::ingest(common, args)),
        Command::Ask(args) => runtime.block_on(ask::ask(common, args)),
        Command::Reindex(args) => runtime.block_on(reindex::reindex(common, args)),
        Command::Bench(args) => runtime.block_on(bench::run(common, args)),
        Command::Eval(args) => runtime.block_on(eval::eval(common, args)),
        Command::Keys { command } => runtime.block_on(keys::run(command)),
    }
}

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = pyxa::config::Cli::parse();
    pyxa::commands::init_tracing(&cli.common.log);
    match pyxa::commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

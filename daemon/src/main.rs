//! The `maintaind` binary: parse arguments, run, exit with the documented code.

use clap::Parser;

fn main() {
    // Logs (the language server's stderr, skipped junk, restarts) go to stderr when asked for:
    // `MAINTAIND_LOG=debug maintaind blast ...`.
    if let Ok(filter) = std::env::var("MAINTAIND_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .with_target(true)
            .try_init();
    }
    let cli = maintaind::cli::Cli::parse();
    std::process::exit(maintaind::cli::run(cli));
}

//! The `maintaind` binary: parse arguments, run, exit with the documented code.

use clap::Parser;
use maintaind::cli::{Cli, Command, DaemonAction};

fn main() {
    // Everything maintaind creates for itself is private to the user (see state.rs).
    maintaind::state::private_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Under --json a usage error is also JSON on stdout, as every other failure is.
            let usage = !matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
            if usage && std::env::args_os().any(|a| a == "--json") {
                let message = maintaind::cli::output::clap_message(&e);
                println!("{}", serde_json::to_string_pretty(&maintaind::cli::output::json_error(maintaind::exit::EXIT_USAGE, &message)).expect("serialises"));
            }
            e.exit();
        }
    };
    // Logs (the language server's stderr, skipped junk, restarts) go to stderr when asked for:
    // `MAINTAIND_LOG=debug maintaind blast ...`. The daemon logs to .maintaind/daemon.log.
    let daemon_run = matches!(cli.command, Command::Daemon { action: DaemonAction::Run(_) });
    if !daemon_run && let Ok(filter) = std::env::var("MAINTAIND_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_writer(std::io::stderr).with_target(true).try_init();
    }
    std::process::exit(maintaind::cli::run(cli));
}

//! The `maintaind` binary: parse arguments, run, exit with the documented code.

use clap::Parser;

fn main() {
    let cli = maintaind::cli::Cli::parse();
    std::process::exit(maintaind::cli::run(cli));
}

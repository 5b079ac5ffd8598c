//! maintaind: the binary and everything that ties the registry, the language-server bridge, the
//! manifests and the write gate together.
//!
//! Start at [`workspace::Workspace`] (the state for one project root) and [`rpc::method`] (every
//! request a client can make). `blast.rs` computes blast radii, `synthesizer.rs` plans changes,
//! `apply.rs`/`journal.rs`/`safefs.rs` write them, `daemon.rs` and `lsp.rs` serve them, and
//! `cli.rs` parses arguments and maps results to exit codes. docs/ARCHITECTURE.md has the map.

pub mod apply;
pub mod blast;
pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod doctor;
pub mod edits;
pub mod exit;
pub mod gate;
pub mod hook;
pub mod journal;
pub mod links;
pub mod llm;
pub mod lsp;
pub mod manifest;
pub mod output;
pub mod planner;
pub mod rpc;
pub mod safefs;
pub mod semantic;
pub mod state;
pub mod store;
pub mod synthesizer;
pub mod walk;
pub mod workspace;

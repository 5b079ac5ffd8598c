//! maintaind: the binary and everything that ties the registry (and, later, the language
//! server bridge, manifests and gate) together.
//!
//! Start at [`workspace::Workspace`]: the state for one project root and the closed set of
//! requests it answers. `cli.rs` parses arguments and maps results to exit codes, `output.rs`
//! prints, `store.rs` persists the registry in SQLite, `walk.rs` finds files.

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

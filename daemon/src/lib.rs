//! maintaind: the binary and everything that ties the registry, the language-server bridge, the
//! manifests and the write gate together.
//!
//! Start at [`workspace::Workspace`] (the state for one project root) and [`rpc::method`] (every
//! request a client can make). `blast.rs` computes blast radii, `synthesizer.rs` plans changes,
//! `apply.rs`/`journal.rs`/`safefs.rs` write them, `daemon.rs` and `lsp.rs` serve them, and
//! `cli.rs` parses arguments and maps results to exit codes. docs/ARCHITECTURE.md has the map.

// The folders, bottom to top (data flows one way; `tests/cli/architecture.rs` checks that no
// two depend on each other): foundation files (`state`, `exit`, `config`, `safefs`,
// `semantic`) → `blast` → `workspace` → `plan` → `write` → `serve` → `cli`. Each leaf module is re-exported here, so a path names what it uses
// (`crate::gate`), not where it sits.
pub mod config;
pub mod exit;
pub mod memory;
pub mod safefs;
pub mod semantic;
pub mod state;

pub mod blast;
pub use blast::{links, scip_export};

pub mod workspace;
pub use workspace::{store, walk};

pub mod plan;
pub use plan::{llm, manifest, planner, synthesizer, tree};

pub mod write;
pub use write::{apply, check, edits, gate, hook, journal, mechanical, parameter, prisma_add, prisma_change, prisma_model};

pub mod serve;
pub use serve::{daemon, lsp, rpc};

pub mod cli;
pub use cli::{doctor, output};

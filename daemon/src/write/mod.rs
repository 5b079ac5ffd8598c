//! Writing a planned change and guarding commits: the edits (`edits.rs`), the write gate
//! (`gate.rs`) (writing through `crate::safefs`), the journal and its lock
//! (`journal.rs`), `apply` itself, the pre-commit `check` and its `hook`.

pub mod apply;
pub mod check;
pub mod edits;
pub mod gate;
pub mod hook;
pub mod journal;
pub mod mechanical;
pub mod parameter;
pub mod prisma_add;
pub mod prisma_change;
pub mod prisma_model;

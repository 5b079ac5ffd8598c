//! maintaind-registry: a tree-sitter symbol registry for generated TypeScript backends.
//!
//! Pure and synchronous: text in, symbols and parse diagnostics out. No I/O, no threads of its
//! own, no LSP types. Start at [`index_file`] (one file's bytes to a [`FileIndex`]) and
//! [`Registry`] (all files, search, import resolution, incremental updates). The daemon crate
//! owns reading files and persisting the registry.

mod context;
mod extract;
mod lang;
mod model;
mod pending;
mod prisma;
mod prisma_access;
mod registry;
mod resolve;
mod text;

pub use context::{RefContext, Syntax};
pub use lang::{classify, is_tsconfig, is_typescript};
pub use model::*;
pub use prisma_access::{AccessRole, PrismaAccess, PrismaModels};
pub use registry::{Delta, MAX_FILE_BYTES, Match, MatchTier, Registry, index_file, suggest_among};
pub use resolve::{TsConfig, TsConfigSet};
pub use text::hash_bytes;

/// Whether `text` holds the bytes of `word` (a name it may use, a route segment it may spell).
pub fn text_holds(text: &[u8], word: &str) -> bool {
    pending::may_name(text, word)
}

/// Parse `bytes` with the grammar for `path` and return the tree, without extracting anything.
/// This is the floor the indexing benchmark compares against; `None` for non-TypeScript paths.
pub fn parse_only(path: &str, bytes: &[u8]) -> Option<tree_sitter::Tree> {
    let config = lang::config_for(classify(path)?)?;
    Some(lang::parse(config, bytes, None))
}

#[cfg(test)]
mod tests;

//! The queries over one registry generation: blast radius, symbol search, the symbols of a
//! file and the symbol at an editor position. An [`Analysis`] is a view the host
//! ([`Workspace`](super::Workspace), which owns the registry, store, server and overlays)
//! hands out with `Workspace::analysis`; it refreshes nothing, so "bring the index up to date
//! first" is the caller's choice (`Workspace::refresh`), made once, not a twin of every query.
//! The host cannot change while a view is alive (it borrows the host), so one view answers from
//! one generation, as rust-analyzer's `Analysis` answers from one snapshot of its `AnalysisHost`.
//! The blast rules themselves are in `blast/`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use maintaind_registry::{FileIndex, MatchTier, Registry, SymbolKind};
use serde::Serialize;

use super::{MAX_QUERY, RequestError, check_length, check_query};
use crate::blast::{Blast, BlastReport, ChangeKind, Derived, SyntaxCache};
use crate::semantic::Semantic;

/// How many blast answers are kept (an answer is a few KB to a few hundred KB).
pub const BLAST_CACHE_ENTRIES: std::num::NonZeroUsize = std::num::NonZeroUsize::new(128).expect("non-zero");

/// What queries computed, each valid for one registry generation.
pub(super) struct Caches {
    /// Blast answers by (symbol, change, no_lsp, depth); the least recently used go first
    /// beyond [`BLAST_CACHE_ENTRIES`].
    pub(super) blast: lru::LruCache<(String, ChangeKind, bool, usize), (u64, BlastReport)>,
    /// Whole-registry facts (reverse imports, SDK routes).
    pub(super) derived: Option<(u64, Arc<Derived>)>,
    /// Parsed files.
    pub(super) syntax: (u64, SyntaxCache),
}

impl Caches {
    pub(super) fn new() -> Caches {
        Caches { blast: lru::LruCache::new(BLAST_CACHE_ENTRIES), derived: None, syntax: (0, SyntaxCache::unbounded()) }
    }

    /// Drop everything, as a registry change does.
    pub(super) fn forget(&mut self, generation: u64) {
        self.blast.clear();
        self.derived = None;
        self.syntax = (generation, SyntaxCache::unbounded());
    }
}

/// The queries over the registry of one generation; see the module doc.
pub struct Analysis<'a> {
    pub(super) root: &'a Path,
    pub(super) registry: &'a Registry,
    pub(super) semantic: Option<&'a Semantic>,
    pub(super) generation: u64,
    /// In-memory contents standing in for the disk (`check`); parsed files are seeded from them.
    pub(super) overlays: &'a HashMap<String, Option<Vec<u8>>>,
    pub(super) caches: &'a mut Caches,
    /// Notes from opening and indexing not yet reported; the next answer carries them.
    pub(super) notes: &'a mut Vec<String>,
}

/// Check a symbol argument before any work is done; returns it trimmed.
pub fn check_symbol(symbol: &str) -> Result<&str, RequestError> {
    check_length("symbol", symbol, MAX_QUERY)?;
    let symbol = symbol.trim();
    if symbol.is_empty() {
        return Err(RequestError::BadInput("empty symbol: give `Name`, `path/to/file.ts#Name` or `prisma:model[.field]`".into()));
    }
    Ok(symbol)
}

/// How many parsed files the syntax cache keeps between queries (one query parses what it needs).
const SYNTAX_CACHE_FILES: usize = 128;

impl<'a> Analysis<'a> {
    pub fn registry(&self) -> &'a Registry {
        self.registry
    }

    /// The project root.
    pub fn root(&self) -> &'a Path {
        self.root
    }

    /// The language server, when one is running.
    pub fn semantic(&self) -> Option<&'a Semantic> {
        self.semantic
    }

    /// The blast radius of a change to `symbol`, from the server when one is running (and not
    /// `no_lsp`), else from the registry alone (flagged approximate). Complete answers are
    /// cached for the generation.
    pub fn blast(&mut self, symbol: &str, change: ChangeKind, no_lsp: bool, depth: usize) -> Result<BlastReport, RequestError> {
        let symbol = check_symbol(symbol)?;
        let key = (symbol.to_string(), change, no_lsp, depth);
        if let Some((generation, cached)) = self.caches.blast.get(&key)
            && *generation == self.generation
        {
            return Ok(cached.clone());
        }
        let derived = match &self.caches.derived {
            Some((generation, d)) if *generation == self.generation => d.clone(),
            _ => {
                let d = Arc::new(Derived::new());
                self.caches.derived = Some((self.generation, d.clone()));
                d
            }
        };
        // Parsed files stay valid for one generation; a bound keeps memory in check (a parsed
        // file of a real backend holds ~100 KiB: 512 of them made the daemon 83 MiB). The most
        // recently used stay: queries about neighbouring symbols meet the same SDK and test
        // files. Overlays (in-memory contents) are put back if they went out.
        let syntax = &mut self.caches.syntax;
        if syntax.0 != self.generation {
            *syntax = (self.generation, SyntaxCache::unbounded());
        }
        while syntax.1.len() > SYNTAX_CACHE_FILES {
            syntax.1.pop_lru();
        }
        for (path, content) in self.overlays {
            if !syntax.1.contains(path) {
                syntax.1.put(path.clone(), content.as_deref().and_then(|b| maintaind_registry::Syntax::parse(path, b)));
            }
        }
        let semantic = if no_lsp { None } else { self.semantic };
        let mut answer = Blast::new(self.registry, self.root, semantic, change, depth, derived, &mut syntax.1).run(symbol, self.generation).map_err(|e| RequestError::BadInput(e.to_string()))?;
        answer.notes.append(self.notes);
        // Only complete answers are worth keeping; an approximate one is recomputed next time.
        if !answer.approximate {
            self.remember(key, &answer);
        }
        Ok(answer)
    }

    pub(super) fn remember(&mut self, key: (String, ChangeKind, bool, usize), answer: &BlastReport) {
        self.caches.blast.put(key, (self.generation, answer.clone()));
    }

    /// The symbols matching `query` (exact, then prefix, then fuzzy), with "did you mean"
    /// suggestions when nothing matched.
    pub fn search(&mut self, query: &str, kind: Option<SymbolKind>) -> Result<SymbolsReport, RequestError> {
        let query = query.trim();
        check_query(query)?;
        let hits: Vec<SymbolHit> = self.registry.search(query, kind).into_iter().map(|m| SymbolHit::new(m.file, m.symbol, m.tier)).collect();
        let suggestions = if hits.is_empty() { self.registry.suggest(query, 5) } else { Vec::new() };
        Ok(SymbolsReport { hits, suggestions, notes: std::mem::take(self.notes) })
    }
    /// The exported declarations of one file (code lenses).
    pub fn file_symbols(&self, rel: &str) -> Result<Vec<SymbolHit>, RequestError> {
        let file = self.registry.file(rel).ok_or_else(|| RequestError::BadInput(format!("`{rel}` is not in the registry (not a TypeScript or Prisma file under the root, or ignored)")))?;
        Ok(file.symbols.iter().filter(|s| s.exported && s.kind != SymbolKind::Reexport).map(|s| SymbolHit::new(file, s, MatchTier::Exact)).collect())
    }

    /// The symbol an editor position (0-based line, UTF-16 character) names, as a query for
    /// [`Analysis::blast`]: the declaration whose name is under the cursor, else the
    /// project-wide symbol spelled by the identifier there, else the innermost declaration
    /// around the cursor.
    pub fn symbol_at(&self, rel: &str, line: u32, character: u32) -> Result<String, RequestError> {
        let bytes = crate::safefs::read_regular(&self.root.join(rel)).map_err(|e| RequestError::BadInput(format!("cannot read {rel}: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        self.symbol_in(rel, &text, line, character)
    }

    /// [`Analysis::symbol_at`] against `text`, which the registry holds for `rel` (the disk,
    /// or an editor's unsaved buffer given as an overlay).
    pub fn symbol_in(&self, rel: &str, text: &str, line: u32, character: u32) -> Result<String, RequestError> {
        let file = self.registry.file(rel).ok_or_else(|| RequestError::BadInput(format!("`{rel}` is not in the registry (not a TypeScript or Prisma file under the root, or ignored)")))?;
        let Some(line_text) = text.split('\n').nth(line as usize) else {
            return Err(RequestError::BadInput(format!("{rel} has no line {}", line + 1)));
        };
        let col = crate::semantic::byte_col(line_text, character as usize) as u32;
        let at = |a: maintaind_registry::Pos, b: maintaind_registry::Pos| (a.line, a.col) <= (line, col) && (line, col) <= (b.line, b.col);
        let size = |s: &&maintaind_registry::Symbol| s.span.end_byte - s.span.start_byte;
        if let Some(s) = file.symbols.iter().filter(|s| at(s.name_span.start, s.name_span.end)).min_by_key(size) {
            return Ok(format!("{rel}#{}", s.name));
        }
        let word = identifier_at(line_text, col as usize);
        if !word.is_empty() && self.registry.search(word, None).iter().any(|m| m.tier == MatchTier::Exact && m.symbol.kind != SymbolKind::Reexport) {
            return Ok(word.to_string());
        }
        file.symbols
            .iter()
            .filter(|s| s.kind != SymbolKind::Reexport && at(s.span.start, s.span.end))
            .min_by_key(size)
            .map(|s| format!("{rel}#{}", s.name))
            .ok_or_else(|| RequestError::BadInput(format!("no symbol at {rel}:{}:{}", line + 1, character + 1)))
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SymbolsReport {
    pub hits: Vec<SymbolHit>,
    /// Closest names when nothing matched.
    pub suggestions: Vec<String>,
    pub notes: Vec<String>,
}

/// One symbol as the CLI contract prints it (`line`/`end_line`/`column` are 1-based).
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SymbolHit {
    pub name: String,
    pub kind: SymbolKind,
    pub file: String,
    pub line: u32,
    pub end_line: u32,
    pub column: u32,
    pub exported: bool,
    pub signature: String,
    /// Content hash of the declaration (hex): `apply`'s `expect_hash` for symbol ops.
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decorators: Vec<maintaind_registry::Decorator>,
    #[serde(rename = "match")]
    pub tier: MatchTier,
}

impl SymbolHit {
    pub fn new(file: &FileIndex, symbol: &maintaind_registry::Symbol, tier: MatchTier) -> SymbolHit {
        SymbolHit {
            name: symbol.name.clone(),
            kind: symbol.kind,
            file: file.path.clone(),
            line: symbol.span.start.line + 1,
            end_line: symbol.span.end.line + 1,
            column: symbol.name_span.start.col + 1,
            exported: symbol.exported,
            signature: symbol.signature.clone(),
            hash: format!("{:016x}", symbol.hash),
            doc: symbol.doc.clone(),
            decorators: symbol.decorators.clone(),
            tier,
        }
    }
}

/// The identifier around byte column `col` of `line` (empty when there is none).
fn identifier_at(line: &str, col: usize) -> &str {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let col = col.min(line.len());
    let start = line[..col].char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(col, |(i, _)| i);
    let end = line[col..].char_indices().find(|(_, c)| !is_ident(*c)).map_or(line.len(), |(i, _)| col + i);
    &line[start..end]
}

//! The in-memory registry: every indexed file's [`FileIndex`], symbol search, import
//! resolution, and incremental updates that report what changed.
//!
//! Cold indexing builds [`FileIndex`]es in parallel with [`index_file`] (a free, pure function)
//! and [`Registry::insert`]s them; the daemon's store persists them. Edits go through
//! [`Registry::update_file`], which keeps the trees of the last few edited files so a
//! re-parse reuses the unchanged parts (trees are not kept for every file: a tree costs many
//! times the size of its source).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::OnceLock;

use tree_sitter::{InputEdit, Point, Tree};

use crate::extract::extract_typescript;
use crate::lang::{classify, config_for, parse};
use crate::model::*;
use crate::prisma::extract_prisma;
use crate::resolve::TsConfigSet;
use crate::text::hash_bytes;

/// How many recently edited files keep their syntax tree for incremental re-parsing.
const TREE_CACHE: usize = 16;

/// Files at least this large are not parsed: a generated bundle of this size has no symbols a
/// person maintains, and parsing it would dominate indexing time and memory.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Index one file from its bytes. `None` when the path is not a TypeScript or Prisma file.
/// Never fails: unreadable content (binary, too large) yields a file with a diagnostic and no
/// symbols; syntax errors yield every recoverable symbol plus diagnostics.
pub fn index_file(path: &str, bytes: &[u8]) -> Option<FileIndex> {
    let lang = classify(path)?;
    Some(index_with_tree(path, lang, bytes, None).0)
}

fn index_with_tree(path: &str, lang: FileLang, bytes: &[u8], old: Option<&Tree>) -> (FileIndex, Option<Tree>) {
    if let Some(skip) = unparseable(path, lang, bytes) {
        return (skip, None);
    }
    match config_for(lang) {
        None => (extract_prisma(path, bytes), None),
        Some(config) => {
            let tree = parse(config, bytes, old);
            let mut file = extract_typescript(path, lang, bytes, &tree);
            if let Err(e) = std::str::from_utf8(bytes) {
                file.diagnostics.insert(0, Diagnostic { severity: Severity::Warning, message: format!("invalid UTF-8 at byte {}; shown as U+FFFD", e.valid_up_to()), pos: Pos::default() });
            }
            (file, Some(tree))
        }
    }
}

/// A file the registry refuses to parse, with the reason as its only diagnostic.
fn unparseable(path: &str, lang: FileLang, bytes: &[u8]) -> Option<FileIndex> {
    let message = if bytes.len() >= MAX_FILE_BYTES {
        format!("file is {} bytes (limit {}); not parsed", bytes.len(), MAX_FILE_BYTES)
    } else if let Some(at) = bytes.iter().take(8192).position(|b| *b == 0) {
        format!("binary content (NUL byte at offset {at}); not parsed")
    } else {
        return None;
    };
    Some(FileIndex {
        path: path.to_string(),
        lang,
        hash: hash_bytes(bytes),
        len: bytes.len() as u64,
        symbols: Vec::new(),
        imports: Vec::new(),
        references: References::default(),
        diagnostics: vec![Diagnostic { severity: Severity::Warning, message: message.clone(), pos: Pos::default() }],
        not_parsed: Some(message),
    })
}

/// Which symbols of a file appeared, disappeared or changed (by content hash) in an update.
/// Names are qualified; an overloaded name appears once per overload.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Delta {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// How well a search result matched; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchTier {
    /// The qualified name, exactly.
    Exact,
    /// One dotted segment exactly (`ICreate` for `IBbsArticle.ICreate`), or the whole name
    /// ignoring case.
    Segment,
    /// The name or a segment starts with the query.
    Prefix,
    /// The name contains the query.
    Substring,
    /// The name contains the query, ignoring case.
    CaseInsensitive,
}

#[derive(Debug, Clone, Copy)]
pub struct Match<'r> {
    pub file: &'r FileIndex,
    pub symbol: &'r Symbol,
    pub tier: MatchTier,
}

#[derive(Default)]
pub struct Registry {
    files: BTreeMap<String, Entry>,
    tsconfigs: TsConfigSet,
    trees: TreeCache,
    /// While files are pending (added by [`Registry::insert_pending`], not indexed yet): who
    /// may import whom, from their text.
    candidates: Option<crate::pending::Candidates>,
}

/// A file of the registry: indexed, or pending with its bytes until first use.
struct Entry {
    index: OnceLock<FileIndex>,
    /// The bytes of a pending file; dropped by [`Registry::settle`].
    text: Option<Box<[u8]>>,
}

impl Entry {
    fn indexed(file: FileIndex) -> Entry {
        Entry { index: OnceLock::from(file), text: None }
    }

    fn get(&self, path: &str) -> &FileIndex {
        self.index.get_or_init(|| {
            let text = self.text.as_deref().expect("a file without an index keeps its text");
            index_file(path, text).unwrap_or_else(|| unreachable!("only registry files are pending: {path}"))
        })
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Add or replace a file's index; report what changed against the previous version.
    pub fn insert(&mut self, file: FileIndex) -> Delta {
        self.settle();
        self.trees.forget_if_stale(&file.path, file.hash);
        let delta = diff(self.file(&file.path), Some(&file));
        self.files.insert(file.path.clone(), Entry::indexed(file));
        delta
    }

    /// Add or replace a file's index without computing what changed (bulk loading).
    pub fn insert_quiet(&mut self, file: FileIndex) {
        self.settle();
        self.trees.forget_if_stale(&file.path, file.hash);
        self.files.insert(file.path.clone(), Entry::indexed(file));
    }

    /// Hold files without indexing them: each is indexed on first use ([`Registry::file`]), or
    /// all at once by [`Registry::fill`]. Meanwhile the text answers who may import a file
    /// ([`Registry::importer_candidates`]) and whether a file may name something
    /// ([`Registry::pending_text`]), as supersets of the truth. Paths that are not registry files
    /// are ignored. Call with every file of the registry: any other change first indexes them
    /// all ([`Registry::settle`]).
    pub fn insert_pending(&mut self, files: Vec<(String, Vec<u8>)>) {
        self.settle();
        for (path, bytes) in files {
            if classify(&path).is_some() {
                self.trees.take(&path);
                self.files.insert(path, Entry { index: OnceLock::new(), text: Some(bytes.into_boxed_slice()) });
            }
        }
        let texts: Vec<(&str, &[u8])> = self.files.iter().filter_map(|(p, e)| Some((p.as_str(), e.text.as_deref()?))).collect();
        if texts.len() < self.files.len() {
            // Indexed files have no text to read: with them about, nothing stays pending.
            drop(texts);
            self.candidates = Some(Default::default());
            self.settle();
            return;
        }
        let files = &self.files;
        self.candidates = Some(crate::pending::candidates(&texts, &self.tsconfigs, &|p| files.contains_key(p)));
    }

    /// Files not indexed yet.
    pub fn pending_count(&self) -> usize {
        self.files.values().filter(|e| e.index.get().is_none()).count()
    }

    /// Index every pending file now, on rayon's pool.
    pub fn fill(&self) {
        use rayon::prelude::*;
        if self.candidates.is_none() {
            return;
        }
        let pending: Vec<(&String, &Entry)> = self.files.iter().filter(|(_, e)| e.index.get().is_none()).collect();
        pending.par_iter().for_each(|(p, e)| {
            e.get(p);
        });
    }

    /// Index the given files now (those pending), on rayon's pool: a query that knows which
    /// files it will read asks for them together.
    pub fn prefetch<'a>(&self, paths: impl IntoIterator<Item = &'a str>) {
        use rayon::prelude::*;
        if self.candidates.is_none() {
            return;
        }
        let pending: Vec<(&str, &Entry)> = paths.into_iter().filter_map(|p| self.files.get_key_value(p)).filter(|(_, e)| e.index.get().is_none()).map(|(p, e)| (p.as_str(), e)).collect();
        pending.par_iter().for_each(|(p, e)| {
            e.get(p);
        });
    }

    /// Index every pending file and drop the texts: the registry is a plain one again.
    pub fn settle(&mut self) {
        if self.candidates.is_none() {
            return;
        }
        self.fill();
        for e in self.files.values_mut() {
            e.text = None;
        }
        self.candidates = None;
    }

    /// Whether files are pending (the registry answers from their text where it can).
    pub fn is_filling(&self) -> bool {
        self.candidates.is_some()
    }

    /// The text of a file not indexed yet.
    pub fn pending_text(&self, path: &str) -> Option<&[u8]> {
        let e = self.files.get(path)?;
        if e.index.get().is_some() { None } else { e.text.as_deref() }
    }

    /// While files are pending: the files whose text may import or re-export `path` (a
    /// superset, in path order; possibly `path` itself). `None` once the registry is settled.
    pub fn importer_candidates(&self, path: &str) -> Option<Vec<&str>> {
        let c = self.candidates.as_ref()?;
        let mut out: Vec<&str> = c.importers.get(path).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
        out.extend(c.opaque.iter().map(String::as_str));
        out.sort();
        out.dedup();
        Some(out)
    }

    /// Whether the file at `path` may name `word`: the text of a pending file holds its bytes,
    /// an indexed file's references hold it. `false` for unknown files.
    pub fn may_name(&self, path: &str, word: &str) -> bool {
        match self.files.get(path) {
            Some(e) => match (e.index.get(), &e.text) {
                (None, Some(text)) => crate::pending::may_name(text, word),
                _ => e.get(path).references.index_of(word).is_some(),
            },
            None => false,
        }
    }

    /// Every path of the registry, in order, without indexing anything.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The indexed files only (a status line while files are pending).
    pub fn indexed(&self) -> impl Iterator<Item = &FileIndex> {
        self.files.values().filter_map(|e| e.index.get())
    }

    /// Re-index one file from its new bytes, reusing the previous tree when this file was
    /// edited recently. `None` when the path is not a registry file.
    pub fn update_file(&mut self, path: &str, bytes: &[u8]) -> Option<Delta> {
        let lang = classify(path)?;
        self.settle();
        let old = self.trees.take(path).map(|(mut tree, old_bytes)| {
            tree.edit(&edit_between(&old_bytes, bytes));
            tree
        });
        let (file, tree) = index_with_tree(path, lang, bytes, old.as_ref());
        let delta = diff(self.file(path), Some(&file));
        if let Some(tree) = tree {
            self.trees.put(path, tree, bytes.to_vec(), file.hash);
        }
        self.files.insert(path.to_string(), Entry::indexed(file));
        Some(delta)
    }

    pub fn remove_file(&mut self, path: &str) -> Delta {
        self.settle();
        self.trees.take(path);
        let delta = diff(self.file(path), None);
        self.files.remove(path);
        delta
    }

    /// A file's index (a pending file is indexed now).
    pub fn file(&self, path: &str) -> Option<&FileIndex> {
        self.files.get_key_value(path).map(|(p, e)| e.get(p))
    }

    /// Every file's index, in path order (pending files are indexed first, in parallel).
    pub fn files(&self) -> impl Iterator<Item = &FileIndex> {
        self.fill();
        self.files.iter().map(|(p, e)| e.get(p))
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    pub fn symbol_count(&self) -> usize {
        self.files().map(|f| f.symbols.len()).sum()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Replace the tsconfig set (`(root-relative path, text)` of every `tsconfig*.json`).
    pub fn set_tsconfigs(&mut self, files: &[(String, String)]) {
        self.settle();
        self.tsconfigs = TsConfigSet::new(files);
    }

    pub fn tsconfigs(&self) -> &TsConfigSet {
        &self.tsconfigs
    }

    /// The workspace file an import of `specifier` from `from` refers to, if it is one.
    pub fn resolve_import(&self, from: &str, specifier: &str) -> Option<String> {
        self.tsconfigs.resolve(from, specifier, &|p| self.files.contains_key(p))
    }

    /// Symbols matching `query`, best first: exact qualified name, then a dotted segment, then
    /// prefix, substring and case-insensitive matches. `path#Name` restricts to one file.
    /// Every symbol named exactly `name`, with its file, in path order: what
    /// [`Registry::search`] ranks [`MatchTier::Exact`], without ranking the rest.
    pub fn named(&self, name: &str) -> Vec<(&FileIndex, &Symbol)> {
        // A symbol's name is spelled in its file (`prisma:m.f` as `m` and `f`): while files
        // are pending, only those holding every segment are indexed.
        let segments: Vec<&str> = name.strip_prefix("prisma:").unwrap_or(name).split('.').collect();
        let spelled = segments.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$'));
        let candidates: Vec<&str> = if self.is_filling() && spelled {
            self.paths().filter(|p| self.pending_text(p).is_none_or(|t| segments.iter().all(|s| crate::pending::may_name(t, s)))).collect()
        } else {
            self.fill();
            self.paths().collect()
        };
        self.prefetch(candidates.iter().copied());
        candidates.into_iter().filter_map(|p| self.file(p)).flat_map(|f| f.symbols.iter().filter(|s| s.name == name).map(move |s| (f, s))).collect()
    }

    pub fn search(&self, query: &str, kind: Option<SymbolKind>) -> Vec<Match<'_>> {
        let (file_filter, name_query) = match query.split_once('#') {
            Some((f, n)) => (Some(f.trim_start_matches("./")), n),
            None => (None, query),
        };
        let lower = name_query.to_lowercase();
        let mut out: Vec<Match> = Vec::new();
        for file in self.files() {
            if file_filter.is_some_and(|f| f != file.path) {
                continue;
            }
            for symbol in &file.symbols {
                if kind.is_some_and(|k| k != symbol.kind) {
                    continue;
                }
                if let Some(tier) = match_tier(&symbol.name, name_query, &lower) {
                    out.push(Match { file, symbol, tier });
                }
            }
        }
        out.sort_by(|a, b| (a.tier, &a.symbol.name, &a.file.path, a.symbol.span.start_byte).cmp(&(b.tier, &b.symbol.name, &b.file.path, b.symbol.span.start_byte)));
        out
    }

    /// Up to `n` known names closest to `query` (for "did you mean"), best first.
    pub fn suggest(&self, query: &str, n: usize) -> Vec<String> {
        suggest_among(self.files().flat_map(|f| &f.symbols), query, n)
    }
}

#[cfg(test)]
mod pending_tests {
    use super::*;

    #[test]
    fn pending_files_beside_indexed_ones_are_indexed_at_once() {
        let mut r = Registry::new();
        r.insert(index_file("a.ts", b"export const a = 1;\n").unwrap());
        r.insert_pending(vec![("b.ts".into(), b"import { a } from './a';\nexport const b = a;\n".to_vec()), ("notes.md".into(), b"# no".to_vec())]);
        assert!(!r.is_filling());
        assert_eq!((r.pending_count(), r.file_count()), (0, 2));
        assert_eq!(r.file("b.ts").unwrap().imports.len(), 1);
    }

    #[test]
    fn a_change_while_files_are_pending_indexes_them_first() {
        let mut r = Registry::new();
        r.insert_pending(vec![("a.ts".into(), b"export const a = 1;\n".to_vec()), ("b.ts".into(), b"import { a } from './a';\n".to_vec())]);
        assert!(r.is_filling() && r.pending_count() == 2);
        assert_eq!(r.importer_candidates("a.ts"), Some(vec!["b.ts"]));
        let delta = r.update_file("a.ts", b"export const a = 2;\nexport const z = 3;\n").unwrap();
        assert_eq!(delta.added, vec!["z".to_string()]);
        assert!(!r.is_filling() && r.pending_count() == 0 && r.importer_candidates("a.ts").is_none());
        assert_eq!(r.named("z").len(), 1);
    }
}

/// The names among `symbols` closest to `query` (Jaro-Winkler on the whole name and on its last
/// segment, ≥ 0.75), best first.
pub fn suggest_among<'s>(symbols: impl Iterator<Item = &'s Symbol>, query: &str, n: usize) -> Vec<String> {
    let q = query.rsplit('#').next().unwrap_or(query).to_lowercase();
    let mut scored: HashMap<&str, f64> = HashMap::new();
    for symbol in symbols {
        let name = symbol.name.as_str();
        let last = name.rsplit(['.', ':']).next().unwrap_or(name).to_lowercase();
        let score = strsim::jaro_winkler(&q, &name.to_lowercase()).max(strsim::jaro_winkler(&q, &last));
        let e = scored.entry(name).or_insert(0.0);
        *e = e.max(score);
    }
    let mut best: Vec<(&str, f64)> = scored.into_iter().filter(|(_, s)| *s >= 0.75).collect();
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    best.into_iter().take(n).map(|(name, _)| name.to_string()).collect()
}

fn match_tier(name: &str, query: &str, lower_query: &str) -> Option<MatchTier> {
    if query.is_empty() {
        return None;
    }
    if name == query {
        return Some(MatchTier::Exact);
    }
    let bare = name.strip_prefix("prisma:").unwrap_or(name);
    let mut segments = bare.split('.');
    if bare == query || name.eq_ignore_ascii_case(query) || segments.clone().any(|s| s == query) {
        return Some(MatchTier::Segment);
    }
    if bare.starts_with(query) || segments.any(|s| s.starts_with(query)) {
        return Some(MatchTier::Prefix);
    }
    if name.contains(query) {
        return Some(MatchTier::Substring);
    }
    if name.to_lowercase().contains(lower_query) {
        return Some(MatchTier::CaseInsensitive);
    }
    None
}

/// Compare two versions of a file's symbols. A symbol is identified by (name, kind, n-th
/// occurrence), so overloads and merged declarations are told apart.
fn diff(old: Option<&FileIndex>, new: Option<&FileIndex>) -> Delta {
    fn keyed(file: Option<&FileIndex>) -> HashMap<(String, SymbolKind, usize), u64> {
        let mut seen: HashMap<(&str, SymbolKind), usize> = HashMap::new();
        let mut out = HashMap::new();
        for s in file.map(|f| f.symbols.as_slice()).unwrap_or_default() {
            let n = seen.entry((s.name.as_str(), s.kind)).or_insert(0);
            out.insert((s.name.clone(), s.kind, *n), s.hash);
            *n += 1;
        }
        out
    }
    let old = keyed(old);
    let new = keyed(new);
    let mut delta = Delta::default();
    for (key, hash) in &new {
        match old.get(key) {
            None => delta.added.push(key.0.clone()),
            Some(h) if h != hash => delta.changed.push(key.0.clone()),
            Some(_) => {}
        }
    }
    for key in old.keys() {
        if !new.contains_key(key) {
            delta.removed.push(key.0.clone());
        }
    }
    delta.added.sort();
    delta.removed.sort();
    delta.changed.sort();
    delta
}

/// The single edit that turns `old` into `new` (common prefix and suffix kept), in the form
/// tree-sitter needs to re-use an old tree.
fn edit_between(old: &[u8], new: &[u8]) -> InputEdit {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old.iter().rev().zip(new.iter().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    let old_end = old.len() - suffix;
    let new_end = new.len() - suffix;
    InputEdit {
        start_byte: prefix,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position: point_at(old, prefix),
        old_end_position: point_at(old, old_end),
        new_end_position: point_at(new, new_end),
    }
}

fn point_at(text: &[u8], byte: usize) -> Point {
    let before = &text[..byte];
    let row = before.iter().filter(|b| **b == b'\n').count();
    let column = byte - before.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
    Point { row, column }
}

/// Trees of recently edited files, oldest evicted first.
#[derive(Default)]
struct TreeCache {
    entries: VecDeque<(String, Tree, Vec<u8>, u64)>,
}

impl TreeCache {
    fn take(&mut self, path: &str) -> Option<(Tree, Vec<u8>)> {
        let i = self.entries.iter().position(|e| e.0 == path)?;
        self.entries.remove(i).map(|(_, tree, bytes, _)| (tree, bytes))
    }

    fn put(&mut self, path: &str, tree: Tree, bytes: Vec<u8>, hash: u64) {
        self.take(path);
        if self.entries.len() == TREE_CACHE {
            self.entries.pop_front();
        }
        self.entries.push_back((path.to_string(), tree, bytes, hash));
    }

    /// A file re-indexed by other means (a full index) invalidates its cached tree.
    fn forget_if_stale(&mut self, path: &str, hash: u64) {
        if self.entries.iter().any(|e| e.0 == path && e.3 != hash) {
            self.take(path);
        }
    }
}

//! The blast radius of a change to one symbol (DESIGN §4 `blast --json`).
//!
//! Sources, in order of trust:
//! 1. the language server's references at the symbol's name (declarations included, then the
//!    declarations themselves dropped);
//! 2. the registry's import-resolved references (imports, re-export barrels, then the name's
//!    tokens in each reaching file) — the *completeness guard*: a file the registry finds and
//!    the server does not is added with `via: "registry"` and listed under `completeness`;
//! 3. joins no reference can see: provider → controller route → SDK function (by its
//!    `METADATA` method and `@path`) → e2e tests, and Prisma model/field → delegate calls,
//!    their argument keys and row reads of that model, and the DTO families linked to it
//!    ([`crate::links`]).
//!
//! `must_change` comes from each reference's syntactic role ([`RefContext`]) and the kind of
//! change. Follow-through (depth-limited, labelled `through`) covers what a reference passes
//! on: a type alias of the target, and calls passing literals to a parameter typed by it.

pub mod links;
pub mod scip_export;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use maintaind_registry::{FileIndex, FileLang, Pos, RefContext, Registry, Symbol, SymbolKind, Syntax};
use serde::Serialize;

use crate::links::EntityLinks;
use crate::semantic::{Semantic, ServerStatus};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, clap::ValueEnum, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Rename,
    Signature,
    Shape,
    Return,
    Remove,
    /// The default (DESIGN §4): nothing must change, callers and tests are listed.
    #[default]
    Behavior,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Caller,
    Reference,
    Importer,
    Route,
    Prisma,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Lsp,
    Registry,
    Route,
    Prisma,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Impact {
    pub file: String,
    /// The innermost registry symbol around the reference; `(import)` / `(top level)` outside
    /// any symbol.
    pub symbol: String,
    /// 1-based.
    pub line: u32,
    pub relation: Relation,
    pub must_change: bool,
    pub via: Via,
    /// For follow-through: the symbol that passes the change on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Target {
    pub name: String,
    pub kind: SymbolKind,
    pub file: String,
    /// 1-based.
    pub line: u32,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Completeness {
    /// Files the registry's import-resolved references reach but the server did not return.
    pub added_by_registry: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BlastReport {
    pub target: Target,
    pub change: ChangeKind,
    pub impacted: Vec<Impact>,
    pub files: Vec<String>,
    pub must_change_files: Vec<String>,
    pub tests: Vec<String>,
    /// True when any part came from the registry alone (no server, a project not loaded, a
    /// failed request): the lists may be incomplete or imprecise.
    pub approximate: bool,
    pub completeness: Completeness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerStatus>,
    pub generation: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlastError {
    #[error("no symbol `{query}`{}", did_you_mean(.suggestions))]
    Unknown { query: String, suggestions: Vec<String> },
    #[error("`{query}` is ambiguous; name one of:\n  {}", .candidates.join("\n  "))]
    Ambiguous { query: String, candidates: Vec<String> },
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() { String::new() } else { format!("; did you mean: {}?", s.join(", ")) }
}

/// How deep follow-through goes (alias of an alias of the target is depth 2).
pub const DEFAULT_DEPTH: usize = 2;

pub struct Blast<'a> {
    registry: &'a Registry,
    root: &'a Path,
    semantic: Option<&'a Semantic>,
    change: ChangeKind,
    depth: usize,
    syntax: &'a mut SyntaxCache,
    approximate: bool,
    notes: BTreeSet<String>,
    added_by_registry: BTreeSet<String>,
    impacts: BTreeSet<Impact>,
    derived: Arc<Derived>,
    /// Contexts already worked out this query: the warm-up works out the registry's
    /// references while the server answers, and the server's are nearly always the same.
    contexts: HashMap<(String, Pos), RefContext>,
    /// The server's answers still to come (while the warm-up works).
    awaiting: Vec<crate::semantic::AnswerWatch>,
    /// When the query started, and when its phases ended (µs since), for the debug log.
    started: std::time::Instant,
    phases: Vec<(&'static str, u64)>,
}

/// file → the files importing or re-exporting it, with the index of the import statement.
pub type Importers = HashMap<String, Arc<[Importer]>>;

/// A file importing another (through which of its imports), and, when no other file imports
/// it in turn (a leaf: a reference walk ends there), a filter of the names it uses.
#[derive(Clone)]
pub struct Importer {
    pub file: String,
    /// `None`: a leaf not parsed yet whose text may import the file (while the registry
    /// fills); its text stands for the filter, and parsing it says through which imports.
    pub import: Option<usize>,
    pub leaf: Option<Arc<NameFilter>>,
}

impl Importer {
    /// Whether this importer, as a leaf, certainly does not name `name` (a reference walk
    /// passes it over without parsing it). Never for a file that others import.
    fn leaf_lacks(&self, registry: &Registry, name: &str) -> bool {
        match (&self.leaf, self.import) {
            (_, None) => !registry.may_name(&self.file, name),
            (Some(filter), Some(_)) => !filter.might_name(name),
            (None, Some(_)) => false,
        }
    }

    /// The imports of `f` (this importer's index) that name `target`.
    fn imports(&self, registry: &Registry, f: &FileIndex, target: &str) -> Vec<usize> {
        match self.import {
            Some(i) => vec![i],
            None => imports_of(registry, f, target),
        }
    }
}

/// The imports of `f` resolving to `target`, in order.
pub fn imports_of(registry: &Registry, f: &FileIndex, target: &str) -> Vec<usize> {
    f.imports.iter().enumerate().filter(|(_, i)| registry.resolve_import(&f.path, &i.specifier).as_deref() == Some(target)).map(|(n, _)| n).collect()
}

/// A Bloom filter of the names a file uses (1024 bits, two probes: about 6% false positives at
/// 150 names). "Does not name" is certain, so a reference walk passes over the files that
/// lack a qualifier without looking them up: walks through the SDK barrel reach every test.
pub struct NameFilter([u64; 16]);

impl NameFilter {
    fn of(refs: &maintaind_registry::References) -> NameFilter {
        let mut bits = [0u64; 16];
        for name in &refs.names {
            for bit in Self::probes(name) {
                bits[bit / 64] |= 1 << (bit % 64);
            }
        }
        NameFilter(bits)
    }

    pub fn might_name(&self, name: &str) -> bool {
        Self::probes(name).iter().all(|bit| self.0[bit / 64] & (1 << (bit % 64)) != 0)
    }

    fn probes(name: &str) -> [usize; 2] {
        use std::hash::Hasher;
        let mut h = rustc_hash::FxHasher::default();
        h.write(name.as_bytes());
        let h = h.finish();
        [(h & 1023) as usize, ((h >> 32) & 1023) as usize]
    }
}

/// A (file, symbol name) key.
type FileSymbol = (String, String);
/// What a provider's route join leads to: the impacts, plus notes.
type RouteJoin = (Vec<Impact>, Vec<String>);
/// Where a symbol is used: (file, position) pairs.
type Uses = Vec<(String, Pos)>;
/// Where to ask the server, when not at the declarations; whether that is away from them; and
/// the registry's references, when they were computed to choose ([`Blast::server_sites`]).
type ServerSites = (Option<(String, Pos)>, bool, Option<Uses>);

/// Facts derived from the whole registry, built once per registry generation and shared by
/// every query of that generation. While the registry fills (a first start), each fact is
/// built for what a query asks only, from the files that may hold it: the same facts, without
/// parsing the files that cannot.
#[derive(Default)]
pub struct Derived {
    /// The reverse import map of a settled registry, built on first use.
    importers: std::sync::OnceLock<Importers>,
    /// While the registry fills: the reverse imports of the files asked about so far, and
    /// whether a file is imported by another.
    partial: std::sync::Mutex<PartialImporters>,
    /// `(VERB, /route)` → SDK function (file, name), of a settled registry.
    sdk: std::sync::OnceLock<SdkIndex>,
    /// Route joins already made this generation: provider (file, name) → the route and test
    /// impacts it leads to (plus notes). They depend on the registry alone.
    routes: std::sync::Mutex<HashMap<FileSymbol, RouteJoin>>,
    /// Registry references already computed this generation: (file, symbol) → uses.
    refs: std::sync::Mutex<HashMap<FileSymbol, Arc<Uses>>>,
    /// Model ↔ DTO links, built on first use (only Prisma queries and planning need them).
    links: std::sync::OnceLock<Arc<EntityLinks>>,
}

#[derive(Default)]
struct PartialImporters {
    of: HashMap<String, Arc<[Importer]>>,
    imported: HashMap<String, bool>,
    filters: HashMap<String, Arc<NameFilter>>,
}

/// `(VERB, /route)` → SDK function (file, name).
pub type SdkIndex = HashMap<(String, String), (String, String)>;

impl Derived {
    pub fn new() -> Derived {
        Derived::default()
    }

    /// Build what a settled registry's queries read (the reverse imports and the SDK's
    /// routes) now, so that the first query does not; nothing while the registry fills.
    pub fn warm(&self, registry: &Registry) {
        if !registry.is_filling() {
            self.importers.get_or_init(|| importers(registry));
            self.sdk.get_or_init(|| sdk_index(registry.files()));
        }
    }

    pub fn links(&self, registry: &Registry) -> Arc<EntityLinks> {
        self.links.get_or_init(|| Arc::new(EntityLinks::build(registry))).clone()
    }

    /// The files importing or re-exporting `file`, in path order (then by import).
    pub fn importers_of(&self, registry: &Registry, file: &str) -> Arc<[Importer]> {
        let Some(candidates) = registry.importer_candidates(file) else {
            return self.importers.get_or_init(|| importers(registry)).get(file).cloned().unwrap_or_else(|| Arc::from([]));
        };
        if let Some(known) = self.partial.lock().unwrap().of.get(file) {
            return known.clone();
        }
        // Parse together what the checks below will read: each candidate that others may
        // import, and the first few of those others.
        let mut ahead: Vec<&str> = Vec::new();
        for c in &candidates {
            let others: Vec<&str> = registry.importer_candidates(c).unwrap_or_default().into_iter().filter(|d| d != c).take(4).collect();
            if !others.is_empty() {
                ahead.push(c);
                ahead.extend(others);
            }
        }
        registry.prefetch(ahead);
        let leaves: Vec<bool> = candidates.iter().map(|c| !self.imported(registry, c)).collect();
        // A leaf not parsed yet is listed unparsed: its text answers the walk's filter.
        registry.prefetch(candidates.iter().zip(&leaves).filter(|(_, leaf)| !**leaf).map(|(c, _)| *c));
        let mut out = Vec::new();
        for (c, leaf) in candidates.into_iter().zip(leaves) {
            if leaf && registry.pending_text(c).is_some() {
                out.push(Importer { file: c.to_string(), import: None, leaf: None });
                continue;
            }
            let Some(f) = registry.file(c) else { continue };
            let found = imports_of(registry, f, file);
            if found.is_empty() {
                continue;
            }
            let filter = leaf.then(|| self.partial.lock().unwrap().filters.entry(c.to_string()).or_insert_with(|| Arc::new(NameFilter::of(&f.references))).clone());
            out.extend(found.into_iter().map(|i| Importer { file: c.to_string(), import: Some(i), leaf: filter.clone() }));
        }
        let out: Arc<[Importer]> = out.into();
        self.partial.lock().unwrap().of.insert(file.to_string(), out.clone());
        out
    }

    /// Whether another file imports `file` (while the registry fills: its candidates parsed).
    fn imported(&self, registry: &Registry, file: &str) -> bool {
        if let Some(known) = self.partial.lock().unwrap().imported.get(file) {
            return *known;
        }
        let others: Vec<&str> = registry.importer_candidates(file).unwrap_or_default().into_iter().filter(|c| *c != file).collect();
        // One importer is enough: candidates are parsed a few at a time (the SDK's barrel has
        // every test as a candidate, and the first one imports it).
        let imported = others.chunks(4).any(|chunk| {
            registry.prefetch(chunk.iter().copied());
            chunk.iter().any(|c| registry.file(c).is_some_and(|f| !imports_of(registry, f, file).is_empty()))
        });
        self.partial.lock().unwrap().imported.insert(file.to_string(), imported);
        imported
    }

    /// The SDK function serving `(VERB, /route)`. While the registry fills, only the SDK files
    /// spelling every segment of the route are read.
    pub fn sdk_route(&self, registry: &Registry, verb: &str, route: &str) -> Option<(String, String)> {
        let key = (verb.to_string(), route.to_string());
        if !registry.is_filling() {
            return self.sdk.get_or_init(|| sdk_index(registry.files())).get(&key).cloned();
        }
        let segments: Vec<&str> = route.split('/').filter(|s| !s.is_empty()).collect();
        let files: Vec<&str> = registry.paths().filter(|p| is_sdk_file(p) && registry.pending_text(p).is_none_or(|t| segments.iter().all(|s| maintaind_registry::text_holds(t, s)))).collect();
        registry.prefetch(files.iter().copied());
        sdk_index(files.into_iter().filter_map(|p| registry.file(p))).remove(&key)
    }
}

/// How many reference walks or route joins one generation keeps: a long quiet session asks
/// about many symbols, and memory is bounded (issue 15). Past it, the memo starts over.
const MEMO_ENTRIES: usize = 4096;

fn remember_bounded<K: std::hash::Hash + Eq, V>(memo: &mut HashMap<K, V>, key: K, value: V) {
    if memo.len() >= MEMO_ENTRIES {
        memo.clear();
    }
    memo.insert(key, value);
}

/// Parsed files reused across queries of one registry generation, least recently used first
/// out (a query can need any number; between queries the cache is cut to its bound).
pub type SyntaxCache = lru::LruCache<String, Option<Syntax>>;

/// Build the reverse import map (resolving every import once).
fn importers(registry: &Registry) -> Importers {
    let mut edges: Vec<(String, &FileIndex, usize)> = Vec::new();
    for f in registry.files() {
        for (i, import) in f.imports.iter().enumerate() {
            if let Some(target) = registry.resolve_import(&f.path, &import.specifier) {
                edges.push((target, f, i));
            }
        }
    }
    // A leaf: imported by no other file (importing itself passes nothing on).
    let imported: std::collections::HashSet<&str> = edges.iter().filter(|(target, f, _)| *target != f.path).map(|(target, _, _)| target.as_str()).collect();
    let mut filters: HashMap<&str, Arc<NameFilter>> = HashMap::new();
    let mut map: HashMap<String, Vec<Importer>> = HashMap::new();
    for (target, f, i) in &edges {
        let leaf = (!imported.contains(f.path.as_str())).then(|| filters.entry(f.path.as_str()).or_insert_with(|| Arc::new(NameFilter::of(&f.references))).clone());
        map.entry(target.clone()).or_default().push(Importer { file: f.path.clone(), import: Some(*i), leaf });
    }
    map.into_iter().map(|(k, v)| (k, v.into())).collect()
}

/// The uses of `token` in one file that carry `quals`: each qualifier named on the use's line
/// before it (or up to two lines above, for a chain broken over lines), the last one right
/// before it (`articles.create`, not `articles.comments.create`). Names are compared by their
/// interned index; refs come in document order, which makes "the token right before" the
/// previous ref on the line (a file whose refs are out of order is scanned instead).
fn qualified_uses<'r>(refs: &'r maintaind_registry::References, token: &str, quals: &[String]) -> impl Iterator<Item = Pos> + 'r {
    let token = refs.index_of(token);
    // A qualifier the file never names rules every use out.
    let quals: Option<Vec<u32>> = quals.iter().map(|q| refs.index_of(q)).collect();
    let ordered = refs.refs.is_sorted_by_key(|r| (r.pos.line, r.pos.col));
    let all = &refs.refs;
    let hits = match (token, &quals) {
        (Some(t), Some(_)) => all.iter().enumerate().filter(move |(_, r)| r.name == t).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let quals = quals.unwrap_or_default();
    hits.into_iter()
        .filter(move |(i, r)| {
            let qualified =
                quals.iter().all(|&q| all.iter().any(|x| x.name == q && ((x.pos.line == r.pos.line && x.pos.col < r.pos.col) || (x.pos.line < r.pos.line && x.pos.line + 2 >= r.pos.line))));
            let before = if ordered {
                i.checked_sub(1).map(|j| &all[j]).filter(|x| x.pos.line == r.pos.line)
            } else {
                all.iter().filter(|x| x.pos.line == r.pos.line && x.pos.col < r.pos.col).max_by_key(|x| x.pos.col)
            };
            qualified && quals.last().is_none_or(|&q| before.is_none_or(|x| x.name == q))
        })
        .map(|(_, r)| r.pos)
}

/// Where a named import of `name` (declared in `file`) names it, in a file `usable` accepts:
/// the first such importing file in path order, at the imported name in its import clause.
/// Asked there, a server finds the uses of every meaning of the name (a type and a namespace
/// merged), and loads the importing file's project rather than the declaring file's.
pub fn import_site(registry: &Registry, derived: &Derived, file: &str, name: &str, usable: &dyn Fn(&str) -> bool) -> Option<(String, Pos)> {
    let importers = derived.importers_of(registry, file);
    let mut sites: Vec<&Importer> = importers.iter().filter(|i| usable(&i.file)).collect();
    sites.sort_by(|a, b| (&a.file, a.import).cmp(&(&b.file, b.import)));
    sites.into_iter().find_map(|imp| {
        let f = registry.file(&imp.file)?;
        imp.imports(registry, f, file).into_iter().find_map(|i| {
            let import = &f.imports[i];
            if import.reexport || !import.names.iter().any(|n| n.imported == name) {
                return None;
            }
            f.imported_name_at(import, name).map(|pos| (imp.file.clone(), pos))
        })
    })
}

/// A symbol as blast knows it: its file and every declaration with that name there.
struct Resolved<'r> {
    file: &'r FileIndex,
    decls: Vec<&'r Symbol>,
}

impl<'a> Blast<'a> {
    pub fn new(registry: &'a Registry, root: &'a Path, semantic: Option<&'a Semantic>, change: ChangeKind, depth: usize, derived: Arc<Derived>, syntax: &'a mut SyntaxCache) -> Blast<'a> {
        Blast {
            registry,
            root,
            semantic,
            change,
            depth,
            syntax,
            approximate: false,
            notes: BTreeSet::new(),
            added_by_registry: BTreeSet::new(),
            impacts: BTreeSet::new(),
            derived,
            contexts: HashMap::new(),
            awaiting: Vec::new(),
            started: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }

    pub fn run(mut self, query: &str, generation: u64) -> Result<BlastReport, BlastError> {
        let started = std::time::Instant::now();
        self.started = started;
        let pending_before = self.registry.pending_count();
        let target = resolve(self.registry, query)?;
        let first = target.decls[0];
        match self.semantic {
            None => {
                self.approximate = true;
                self.notes.insert("no language server (--no-lsp): references from the registry's import-resolved index".into());
            }
            Some(s) if !s.is_ready() => {
                self.approximate = true;
                self.notes.insert(format!("projects not loaded by the language server in time: {}; their files come from the registry", s.unloaded_projects().join(", ")));
            }
            Some(_) => {}
        }
        if target.file.lang == FileLang::Prisma {
            self.prisma(&target);
        } else {
            self.symbol_refs(&target, None, 0);
        }
        let refs_done = started.elapsed();
        self.route_join(&target);
        let phases = self.phases.iter().map(|(what, us)| format!("{what} {us}")).collect::<Vec<_>>().join(", ");
        let indexed_now = pending_before - self.registry.pending_count();
        tracing::debug!(
            refs_us = refs_done.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            impacts = self.impacts.len(),
            parsed = self.syntax.len(),
            indexed_now,
            phases,
            "blast"
        );

        let target_file = target.file.path.clone();
        let impacted: Vec<Impact> = {
            let mut v: Vec<Impact> = self.impacts.into_iter().collect();
            // One entry per (file, line, relation): the strongest claim wins.
            v.sort_by(|a, b| (&a.file, a.line, a.relation, !a.must_change).cmp(&(&b.file, b.line, b.relation, !b.must_change)));
            v.dedup_by(|b, a| a.file == b.file && a.line == b.line && a.relation == b.relation);
            v.sort_by(|a, b| (!a.must_change, &a.file, a.line).cmp(&(!b.must_change, &b.file, b.line)));
            v
        };
        let files: BTreeSet<String> = impacted.iter().filter(|i| i.file != target_file).map(|i| i.file.clone()).collect();
        let must: BTreeSet<String> = impacted.iter().filter(|i| i.must_change && i.file != target_file).map(|i| i.file.clone()).collect();
        let tests: BTreeSet<String> = impacted.iter().filter(|i| is_test_file(&i.file)).map(|i| i.file.clone()).collect();
        Ok(BlastReport {
            target: Target { name: first.name.clone(), kind: first.kind, file: target_file, line: first.span.start.line + 1 },
            change: self.change,
            impacted,
            files: files.into_iter().collect(),
            must_change_files: must.into_iter().collect(),
            tests: tests.into_iter().collect(),
            approximate: self.approximate,
            completeness: Completeness { added_by_registry: self.added_by_registry.into_iter().collect() },
            notes: self.notes.into_iter().collect(),
            server: self.semantic.map(Semantic::status),
            generation,
        })
    }

    /// References of a TypeScript symbol, classified; follow-through below `depth`.
    fn symbol_refs(&mut self, target: &Resolved, through: Option<&str>, depth: usize) {
        // The target's own references come from the server; what follow-through reaches
        // (aliases, callers of what passes the type on) from the registry's import graph,
        // which costs no round trips and matched the compiler on the accuracy corpus.
        let refs = if depth == 0 { self.references(target) } else { self.follow_references(target) };
        if depth == 0 {
            self.phase("references");
        }
        self.work_out(&refs.iter().map(|(f, p, _)| (f.clone(), *p)).collect::<Vec<_>>());
        for (file, pos, via) in refs {
            let cx = self.context(&file, pos);
            let enclosing = enclosing_symbol(self.registry.file(&file), pos);
            let symbol_name = enclosing.map(|s| s.name.clone()).unwrap_or_else(|| if cx.in_import { "(import)".into() } else { "(top level)".into() });
            let relation = if cx.in_import {
                Relation::Importer
            } else if cx.is_call {
                Relation::Caller
            } else {
                Relation::Reference
            };
            let direct = match self.change {
                ChangeKind::Rename | ChangeKind::Remove => true,
                ChangeKind::Signature => cx.is_call,
                ChangeKind::Shape => !cx.as_qualifier && (cx.builds_value || (cx.in_return_type && cx.returns_literal) || cx.destructures),
                ChangeKind::Return => cx.is_call && cx.call_result_used && !cx.call_result_only_checked,
                ChangeKind::Behavior => false,
            };
            // Beyond the target itself only a shape still has to be built where it flows; a
            // renamed or removed type merely erodes what passes it on (listed, not must-change).
            let must_change = direct && (depth == 0 || self.change == ChangeKind::Shape);
            self.impacts.insert(Impact { file: file.clone(), symbol: symbol_name, line: pos.line + 1, relation, must_change, via, through: through.map(str::to_string) });
            if depth + 1 > self.depth || matches!(self.change, ChangeKind::Behavior | ChangeKind::Signature | ChangeKind::Return) {
                continue;
            }
            // `T.X` uses the namespace T: a new shape of the type T does not flow through it.
            if self.change == ChangeKind::Shape && cx.as_qualifier {
                continue;
            }
            // Follow-through: what passes the changed type on.
            let Some(enc) = enclosing else { continue };
            let Some(enc_file) = self.registry.file(&file) else { continue };
            if cx.in_type_alias_value && enc.kind == SymbolKind::Type {
                // `type Body = T`: every use of the alias is a use of T.
                let alias = Resolved { file: enc_file, decls: vec![enc] };
                self.symbol_refs(&alias, Some(&enc.name), depth + 1);
            } else if cx.in_return_type && matches!(enc.kind, SymbolKind::Function | SymbolKind::Method) {
                // A function declared to return T: its callers consume a T. A renamed or removed T
                // leaves them an error type, which breaks the callbacks over it whose parameters
                // are not annotated (implicit `any` under `strict`).
                let gone = matches!(self.change, ChangeKind::Rename | ChangeKind::Remove);
                self.callers_through(enc_file, enc, |c| c.call_result_used, |c| gone && c.call_result_feeds_untyped_callback);
            } else if self.change != ChangeKind::Shape {
                continue;
            } else if cx.in_parameter_type && matches!(enc.kind, SymbolKind::Function | SymbolKind::Method) {
                // Callers that pass a literal where the type is expected must build the new shape.
                self.callers_through(enc_file, enc, |c| c.call_has_literal_argument, |_| true);
            } else if cx.in_property_type && enc.kind == SymbolKind::Property {
                // Whoever builds the owner type builds this property's value too.
                let Some((owner, _)) = enc.name.rsplit_once('.') else { continue };
                let decls: Vec<&Symbol> = enc_file.symbols.iter().filter(|s| s.name == owner && matches!(s.kind, SymbolKind::Type | SymbolKind::Interface)).collect();
                if !decls.is_empty() {
                    let owner_sym = Resolved { file: enc_file, decls };
                    self.symbol_refs(&owner_sym, Some(owner), depth + 1);
                }
            }
        }
    }

    /// Follow-through to the call sites of `callee` that `pick` selects, labelled with it.
    fn callers_through(&mut self, file: &FileIndex, callee: &Symbol, pick: fn(&RefContext) -> bool, must: impl Fn(&RefContext) -> bool) {
        let target = Resolved { file, decls: vec![callee] };
        let refs = self.follow_references(&target);
        self.work_out(&refs.iter().map(|(f, p, _)| (f.clone(), *p)).collect::<Vec<_>>());
        for (cfile, cpos, via) in refs {
            let cx = self.context(&cfile, cpos);
            if !(cx.is_call && pick(&cx)) {
                continue;
            }
            let symbol = enclosing_symbol(self.registry.file(&cfile), cpos).map(|s| s.name.clone()).unwrap_or_else(|| "(top level)".into());
            let must_change = must(&cx);
            self.impacts.insert(Impact { file: cfile, symbol, line: cpos.line + 1, relation: Relation::Caller, must_change, via, through: Some(callee.name.clone()) });
        }
    }

    /// Every reference to `target` except its declarations: the server's, plus whatever the
    /// registry finds in files the server did not return. The server is asked first and the
    /// registry works while it answers.
    fn references(&mut self, target: &Resolved) -> Vec<(String, Pos, Via)> {
        let decl_positions: BTreeSet<(String, Pos)> = target.decls.iter().map(|d| (target.file.path.clone(), d.name_span.start)).collect();
        let declarations = || {
            // One request per meaning: overloads and merged interfaces are one symbol of one
            // meaning; a type and a namespace of one name are two.
            let mut seen = BTreeSet::new();
            target.decls.iter().filter(|d| seen.insert(d.kind)).map(|d| (target.file.path.clone(), d.name_span.start)).collect::<BTreeSet<_>>()
        };
        let (positions, elsewhere, early_refs) = self.server_sites(target);
        let positions = positions.map(|at| BTreeSet::from([at])).unwrap_or_else(declarations);
        let pending: Vec<_> = match self.semantic {
            Some(s) => positions.iter().map(|(file, pos)| s.references_start(file, *pos)).collect(),
            None => Vec::new(),
        };
        self.phase("asked");
        let registry_refs = match early_refs {
            Some(r) => r,
            None => self.registry_refs(target),
        };
        self.phase("registry references");
        if !pending.is_empty() {
            self.awaiting = pending.iter().map(|p| p.watch()).collect();
            self.warm_up(&registry_refs, 0);
            self.awaiting.clear();
            self.phase("warmed up");
        }
        let server_refs = if let Some(semantic) = self.semantic {
            let mut all = Vec::new();
            let mut failed = None;
            for p in pending {
                match p.wait() {
                    Ok(r) => all.extend(r),
                    Err(e) => failed = Some(e),
                }
            }
            // An answer asked away from the declaration must hold it: otherwise the site named
            // something else (a shadowing local, a registry guess), and the declaration is asked.
            if failed.is_none() && elsewhere && !all.iter().any(|r| decl_positions.contains(&(r.file.clone(), r.pos))) {
                tracing::debug!(target = %target.decls[0].name, "the answer at a use site missed the declaration; asking at the declaration");
                all.clear();
                for (file, pos) in declarations() {
                    match semantic.references(&file, pos) {
                        Ok(r) => all.extend(r),
                        Err(e) => failed = Some(e),
                    }
                }
            }
            self.phase("answered");
            match failed {
                None => Some(all),
                Some(e) => {
                    self.approximate = true;
                    self.notes.insert(format!("the language server failed ({e}); those references come from the registry"));
                    None
                }
            }
        } else {
            None
        };
        let mut out: Vec<(String, Pos, Via)> = Vec::new();
        match server_refs {
            Some(server) => {
                let server_files: BTreeSet<&str> = server.iter().map(|r| r.file.as_str()).collect();
                for r in &server {
                    if !decl_positions.contains(&(r.file.clone(), r.pos)) {
                        out.push((r.file.clone(), r.pos, Via::Lsp));
                    }
                }
                for (file, pos) in &registry_refs {
                    if !server_files.contains(file.as_str()) && file != &target.file.path {
                        self.added_by_registry.insert(file.clone());
                        out.push((file.clone(), *pos, Via::Registry));
                    }
                }
            }
            None => {
                out.extend(registry_refs.into_iter().filter(|(f, p)| !decl_positions.contains(&(f.clone(), *p))).map(|(f, p)| (f, p, Via::Registry)));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Where to ask the server about `target`, when not at its declarations: `(site, away from
    /// the declaration, the registry's references when they were needed to choose)`.
    ///
    /// - Merged declarations (a type and a namespace of one name) are one symbol with two
    ///   meanings: asked at a declaration, the server finds the uses of that declaration's
    ///   meaning only (`T.ICreate` uses the namespace, not the type). Asked at a named import,
    ///   it finds every meaning's: one request instead of one per declaration.
    /// - With tsserver, a file of a covered project (`src/`, inside `test/tsconfig.json`'s) is
    ///   never asked at when another site exists: the file must be open to be asked about, and
    ///   opening it loads that project as well, checking each of its files twice, and each later
    ///   request would search both (issue 15, "load each file once"). A named import in a loaded
    ///   project's file is asked instead, else a use of the target there (an SDK function is
    ///   used as `api.functional.….fn(...)` in the tests). Only a target used in covered files
    ///   alone (a provider) loads that project, on demand. TypeScript 7 is asked at the
    ///   declaration without opening it, from the loaded project ([`Semantic::asking_loads_covered`]).
    fn server_sites(&mut self, target: &Resolved) -> ServerSites {
        let Some(semantic) = self.semantic else { return (None, false, None) };
        let tsconfigs = self.registry.tsconfigs();
        let loads = semantic.asking_loads_covered();
        let loaded = |file: &str| !loads || !semantic.is_covered(tsconfigs.nearest_dir(file).unwrap_or(""));
        let merged = target.decls.iter().map(|d| d.kind).collect::<BTreeSet<_>>().len() > 1;
        let away = !loaded(&target.file.path);
        if !merged && !away {
            return (None, false, None);
        }
        if let Some(at) = import_site(self.registry, &self.derived, &target.file.path, &target.decls[0].name, &loaded) {
            return (Some(at), true, None);
        }
        if merged || !away {
            return (None, false, None);
        }
        let refs = self.registry_refs(target);
        let decls: BTreeSet<Pos> = target.decls.iter().map(|d| d.name_span.start).collect();
        let site = refs.iter().find(|(f, p)| loaded(f) && !(f == &target.file.path && decls.contains(p))).cloned();
        (site.clone(), site.is_some(), Some(refs))
    }

    fn phase(&mut self, what: &'static str) {
        self.phases.push((what, self.started.elapsed().as_micros() as u64));
    }

    /// References for follow-through: the registry's import-resolved ones.
    fn follow_references(&mut self, target: &Resolved) -> Vec<(String, Pos, Via)> {
        let decls: BTreeSet<(String, Pos)> = target.decls.iter().map(|d| (target.file.path.clone(), d.name_span.start)).collect();
        self.registry_refs(target).into_iter().filter(|r| !decls.contains(r)).map(|(f, p)| (f, p, Via::Registry)).collect()
    }

    /// The registry's references: files reaching the target's file through imports and
    /// re-export barrels, and in each, the tokens naming the symbol — with the qualifiers a
    /// use there needs on the same line: the namespaces crossed (`export * as articles`), the
    /// local import name, and the symbol's outer segments (`IBbsArticle` of
    /// `IBbsArticle.ICreate`). `api.functional.bbs.articles.create(...)` is a use of
    /// `functional/bbs/articles#create`; `api.functional.bbs.members.create(...)` is not.
    fn registry_refs(&mut self, target: &Resolved) -> Vec<(String, Pos)> {
        let key = (target.file.path.clone(), target.decls[0].name.clone());
        if let Some(found) = self.derived.refs.lock().unwrap().get(&key) {
            return found.as_ref().clone();
        }
        let found = self.registry_refs_uncached(target);
        remember_bounded(&mut self.derived.refs.lock().unwrap(), key, Arc::new(found.clone()));
        found
    }

    fn registry_refs_uncached(&mut self, target: &Resolved) -> Vec<(String, Pos)> {
        let name = &target.decls[0].name;
        let segments: Vec<&str> = name.split('.').collect();
        let top = segments[0].to_string();
        let last = segments[segments.len() - 1].to_string();
        let derived = self.derived.clone();
        // (file, local name of `top`, qualifiers needed before it), breadth first.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut reach: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut queue: VecDeque<(String, String, Vec<String>, usize)> = VecDeque::from([(target.file.path.clone(), top.clone(), Vec::new(), 0)]);
        while let Some((file, exposed, quals, depth)) = queue.pop_front() {
            if depth > 8 {
                continue;
            }
            let importers = derived.importers_of(self.registry, &file);
            // A leaf lacking a qualifier the use needs (or the last segment of a member) holds
            // no use: passed over without looking it up. The others are parsed together.
            // An unparsed leaf is passed over, too, when its text lacks the name it would have
            // to import or use (`exposed`, which a named import spells and every other form
            // passes on as the name a use needs): the walk below would skip it after parsing.
            let lacks = |imp: &Importer| {
                (imp.leaf.is_some() || imp.import.is_none())
                    && (quals.iter().any(|q| imp.leaf_lacks(self.registry, q))
                        || (segments.len() > 1 && imp.leaf_lacks(self.registry, &last))
                        || (segments.len() == 1 && imp.import.is_none() && imp.leaf_lacks(self.registry, &exposed)))
            };
            let looked_at: Vec<&Importer> = importers.iter().filter(|imp| !lacks(imp)).collect();
            self.registry.prefetch(looked_at.iter().map(|imp| imp.file.as_str()));
            for imp in looked_at {
                let importer = &imp.file;
                let Some(f) = self.registry.file(importer) else { continue };
                for idx in imp.imports(self.registry, f, &file) {
                    let import = &f.imports[idx];
                    // The name the importer sees, and the qualifier it gains (a namespace, a default).
                    let (local, qualifier): (Option<&str>, Option<&String>) = if import.reexport {
                        match &import.namespace {
                            Some(ns) => (Some(&exposed), Some(ns)),
                            None if import.star => (Some(&exposed), None),
                            None => (import.names.iter().find(|n| n.imported == exposed).map(|n| n.local.as_str()), None),
                        }
                    } else if let Some(ns) = &import.namespace {
                        (Some(&exposed), Some(ns))
                    } else if let Some(default) = import.default.as_ref().filter(|_| file != target.file.path || target.decls.iter().any(|d| d.default_export)) {
                        // The target's own default export, or the default export of a barrel
                        // (nestia's `export default api` is the namespace of the SDK).
                        (Some(&exposed), (file != target.file.path).then_some(default))
                    } else {
                        (import.names.iter().find(|n| n.imported == exposed).map(|n| n.local.as_str()), None)
                    };
                    let Some(local) = local else { continue };
                    // A file nothing imports passes the name on to no one: it matters only if it
                    // names the token and every qualifier a use there needs (most files reached
                    // through an SDK barrel do not: they name `api` and `functional`, not the route's
                    // other segments). `qualified_uses` would find nothing in it.
                    let names = |n: &str| f.references.index_of(n).is_some();
                    if derived.importers_of(self.registry, importer).is_empty()
                        && !(names(if segments.len() == 1 { local } else { &last }) && qualifier.is_none_or(|q| names(q)) && quals.iter().all(|q| names(q)))
                    {
                        continue;
                    }
                    let mut q = Vec::with_capacity(quals.len() + 1);
                    q.extend(qualifier.cloned());
                    q.extend(quals.iter().cloned());
                    let local = local.to_string();
                    if seen.insert(format!("{importer}\0{local}\0{}", q.join("."))) {
                        reach.push((importer.clone(), local.clone(), q.clone()));
                        queue.push_back((importer.clone(), local, q, depth + 1));
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut files: Vec<(String, String, Vec<String>)> = vec![(target.file.path.clone(), top.clone(), Vec::new())];
        files.extend(reach);
        for (file, local_top, chain) in files {
            let Some(fi) = self.registry.file(&file) else { continue };
            // Qualifiers: the chain of namespaces, then the symbol's own outer segments (the
            // first under its local name).
            let mut quals = chain;
            if segments.len() > 1 {
                quals.push(local_top.clone());
                quals.extend(segments[1..segments.len() - 1].iter().map(|s| s.to_string()));
            }
            let token = if segments.len() == 1 { local_top.clone() } else { last.clone() };
            out.extend(qualified_uses(&fi.references, &token, &quals).map(|pos| (file.clone(), pos)));
        }
        out.sort();
        out.dedup();
        out
    }

    /// While the server answers: do for the registry's references (nearly always the server's
    /// too) the work classifying them will need, so that it is cached when the answer comes:
    /// parse their files, work out each reference's context, and walk the references
    /// follow-through starts from (the uses of an alias of the target, the callers of a
    /// function returning it) with theirs. Nothing is decided here.
    fn warm_up(&mut self, refs: &[(String, Pos)], depth: usize) {
        self.work_out(refs);
        let follows = depth < self.depth && !matches!(self.change, ChangeKind::Behavior | ChangeKind::Signature | ChangeKind::Return);
        let registry = self.registry;
        for (file, pos) in refs {
            let cx = self.context(file, *pos);
            if !follows || (self.change == ChangeKind::Shape && cx.as_qualifier) {
                continue;
            }
            let Some(fi) = registry.file(file) else { continue };
            let Some(enc) = enclosing_symbol(Some(fi), *pos) else { continue };
            let function = matches!(enc.kind, SymbolKind::Function | SymbolKind::Method);
            // As [`Blast::symbol_refs`] follows through: an alias's uses, a callee's callers.
            let next: Vec<(String, Pos)> = if cx.in_type_alias_value && enc.kind == SymbolKind::Type {
                let uses = self.follow_references(&Resolved { file: fi, decls: vec![enc] });
                self.warm_up(&uses.into_iter().map(|(f, p, _)| (f, p)).collect::<Vec<_>>(), depth + 1);
                continue;
            } else if (cx.in_return_type || (self.change == ChangeKind::Shape && cx.in_parameter_type)) && function {
                self.follow_references(&Resolved { file: fi, decls: vec![enc] }).into_iter().map(|(f, p, _)| (f, p)).collect()
            } else {
                continue;
            };
            self.work_out(&next);
        }
    }

    /// Work out the contexts of `refs` not known yet, parsing their files as needed (a first
    /// query meets a few dozen files), before [`Blast::context`] asks them one at a time. File
    /// by file, side by side, except while the server is still answering: then one file at a
    /// time on this thread (on two cores, the other one is the server's) until the answer is in.
    fn work_out(&mut self, refs: &[(String, Pos)]) {
        use rayon::prelude::*;
        let mut by_file: BTreeMap<&str, Vec<Pos>> = BTreeMap::new();
        for (file, pos) in refs {
            let key = (file.clone(), *pos);
            if self.contexts.contains_key(&key) {
                continue;
            }
            // A name in an import clause: the registry knows it, no tree needed (most of a
            // widely imported type's files name it there alone).
            if self.registry.file(file).is_some_and(|fi| in_import_clause(fi, *pos)) {
                self.contexts.insert(key, RefContext { in_import: true, ..RefContext::default() });
                continue;
            }
            by_file.entry(file.as_str()).or_default().push(*pos);
        }
        let mut todo: VecDeque<(&str, Vec<Pos>)> = by_file.into_iter().collect();
        let root = self.root;
        while self.awaiting.iter().any(|w| !w.answered())
            && let Some((file, positions)) = todo.pop_front()
        {
            let done = worked(root, self.syntax.peek(file), file, positions);
            self.keep(done);
        }
        let syntax = &*self.syntax;
        let done: Vec<Worked> = todo.into_par_iter().map(|(file, positions)| worked(root, syntax.peek(file), file, positions)).collect();
        for w in done {
            self.keep(w);
        }
    }

    fn keep(&mut self, w: Worked) {
        for (pos, cx) in w.contexts {
            self.contexts.insert((w.file.clone(), pos), cx);
        }
        if let Some(parsed) = w.parsed {
            self.syntax.put(w.file, parsed);
        }
    }

    fn context(&mut self, file: &str, pos: Pos) -> RefContext {
        let key = (file.to_string(), pos);
        if let Some(cx) = self.contexts.get(&key) {
            return *cx;
        }
        let cx = self.syntax_of(file).map(|s| s.context_at(pos)).unwrap_or_default();
        self.contexts.insert(key, cx);
        cx
    }

    /// `file` parsed, from the cache or read now (`None`: unreadable, or not TypeScript).
    fn syntax_of(&mut self, file: &str) -> Option<&Syntax> {
        if !self.syntax.contains(file) {
            let parsed = crate::safefs::read_regular(&self.root.join(file)).ok().and_then(|t| Syntax::parse(file, &t));
            self.syntax.put(file.to_string(), parsed);
        }
        self.syntax.get(file).and_then(Option::as_ref)
    }

    /// Provider → controller route → SDK function → e2e tests, for the target and for every
    /// provider function among the impacted symbols. A join over registry facts (imports,
    /// decorators, the SDK's `@path`), so it costs no server round trips.
    fn route_join(&mut self, target: &Resolved) {
        let mut providers: BTreeSet<(String, String)> = BTreeSet::new();
        if target.file.lang != FileLang::Prisma && target.decls[0].kind == SymbolKind::Function {
            providers.insert((target.file.path.clone(), target.decls[0].name.clone()));
        }
        for i in &self.impacts {
            if i.file.contains("providers/") && !i.symbol.contains('.') && !i.symbol.starts_with('(') {
                providers.insert((i.file.clone(), i.symbol.clone()));
            }
        }
        let derived = self.derived.clone();
        for provider in providers {
            let known = derived.routes.lock().unwrap().get(&provider).cloned();
            let (impacts, notes) = match known {
                Some(found) => found,
                None => {
                    let found = self.route_of_provider(&provider.0, &provider.1, &derived);
                    remember_bounded(&mut derived.routes.lock().unwrap(), provider.clone(), found.clone());
                    found
                }
            };
            self.impacts.extend(impacts);
            self.notes.extend(notes);
        }
    }

    /// The SDK functions and tests one provider's routes lead to.
    fn route_of_provider(&mut self, file: &str, name: &str, derived: &Derived) -> (Vec<Impact>, Vec<String>) {
        let mut impacts = Vec::new();
        let mut notes = Vec::new();
        let Some(fi) = self.registry.file(file) else { return (impacts, notes) };
        let decls: Vec<&Symbol> = fi.symbols.iter().filter(|s| s.name == name && s.kind == SymbolKind::Function).collect();
        if decls.is_empty() {
            return (impacts, notes);
        }
        let provider = Resolved { file: fi, decls };
        let mut tests_seen: BTreeSet<(String, String)> = BTreeSet::new();
        for (cfile, cpos) in self.registry_refs(&provider) {
            let Some(cfi) = self.registry.file(&cfile) else { continue };
            let Some(method) = enclosing_symbol(Some(cfi), cpos).filter(|s| s.kind == SymbolKind::Method) else { continue };
            let Some((verb, route)) = route_of(cfi, method) else { continue };
            let Some((sdk_file, sdk_name)) = derived.sdk_route(self.registry, &verb, &route) else {
                notes.push(format!("no SDK function in src/api/functional serves {verb} {route} (by its `METADATA` or `@path`; route of {})", method.name));
                continue;
            };
            impacts.push(Impact {
                file: sdk_file.clone(),
                symbol: sdk_name.clone(),
                line: self.registry.file(&sdk_file).and_then(|f| f.symbols.iter().find(|s| s.name == sdk_name)).map_or(1, |s| s.span.start.line + 1),
                relation: Relation::Route,
                must_change: false,
                via: Via::Route,
                through: Some(format!("{} → {verb} {route}", method.name)),
            });
            if !tests_seen.insert((sdk_file.clone(), sdk_name.clone())) {
                continue;
            }
            let Some(sfi) = self.registry.file(&sdk_file) else { continue };
            let sdecls: Vec<&Symbol> = sfi.symbols.iter().filter(|s| s.name == sdk_name && s.kind == SymbolKind::Function).collect();
            let sdk_fn = Resolved { file: sfi, decls: sdecls };
            for (tfile, tpos) in self.registry_refs(&sdk_fn) {
                if !is_test_file(&tfile) {
                    continue;
                }
                let tsym = enclosing_symbol(self.registry.file(&tfile), tpos).map(|s| s.name.clone()).unwrap_or_else(|| "(top level)".into());
                impacts.push(Impact {
                    file: tfile,
                    symbol: tsym,
                    line: tpos.line + 1,
                    relation: Relation::Test,
                    must_change: false,
                    via: Via::Route,
                    through: Some(format!("{sdk_name} ({verb} {route})")),
                });
            }
        }
        (impacts, notes)
    }

    /// `prisma:model[.field]`, by model: the model's delegate calls (`prisma.<model>.…`,
    /// `tx.<model>.…`) and row types, and for a field the keys and row reads that belong to
    /// that model (see `maintaind_registry::PrismaAccess`), never a same-named field of another
    /// model; other models' relation fields naming the model; the DTO families linked to the
    /// model ([`crate::links`]) and their properties of the field's name.
    fn prisma(&mut self, target: &Resolved) {
        let name = target.decls[0].name.trim_start_matches("prisma:").to_string();
        let (model, field) = match name.split_once('.') {
            Some((m, f)) => (m.to_string(), Some(f.to_string())),
            None => (name.clone(), None),
        };
        let must = matches!(self.change, ChangeKind::Rename | ChangeKind::Remove | ChangeKind::Shape | ChangeKind::Signature | ChangeKind::Return);
        let renamed = matches!(self.change, ChangeKind::Rename | ChangeKind::Remove);
        self.notes.insert("Prisma accesses are found from the syntax: delegate calls, their argument keys and the rows they return (no language server involved)".into());
        let links = self.derived.links(self.registry);
        let files: Vec<&FileIndex> = self.registry.files().collect();
        for f in files {
            if f.lang == FileLang::Prisma {
                // Relation fields of other models pointing at this model: they name it, so
                // only a rename or removal breaks them.
                if field.is_none() && f.path != target.file.path {
                    for r in f.references.of(&model) {
                        let enc = enclosing_symbol(Some(f), r.pos).map(|s| s.name.clone()).unwrap_or_default();
                        self.impacts.insert(Impact { file: f.path.clone(), symbol: enc, line: r.pos.line + 1, relation: Relation::Prisma, must_change: renamed, via: Via::Prisma, through: None });
                    }
                }
                continue;
            }
            if f.lang == FileLang::Declaration {
                // The generated client (or its stand-in) is regenerated, not edited.
                continue;
            }
            // Row types and generated input types named after the model
            // (`import { shop_products } from "@prisma/client"`, `Prisma.shop_productsWhereInput`).
            let type_refs: Vec<Pos> = f
                .references
                .iter()
                .filter(|(n, r)| r.kind == maintaind_registry::RefKind::Type && (*n == model || n.strip_prefix(model.as_str()).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))))
                .map(|(_, r)| r.pos)
                .collect();
            // Rows of the model are reached through any model's delegate (`include` of a
            // relation), so every file calling a delegate is read.
            let touches_model = !type_refs.is_empty() || f.references.iter().any(|(n, r)| r.kind == maintaind_registry::RefKind::Property && links.models.is_model(n));
            if !touches_model || field.as_ref().is_some_and(|fname| f.references.of(fname).next().is_none()) {
                continue;
            }
            let accesses = self.prisma_accesses(&f.path, &links.models);
            let mut lines: Vec<(Pos, bool)> = Vec::new();
            match &field {
                None => {
                    for a in accesses.iter().filter(|a| a.model == model && a.role == maintaind_registry::AccessRole::Delegate) {
                        // A new or changed column of the whole model only forces the calls
                        // that build rows; reads keep compiling.
                        lines.push((a.pos, must && (renamed || matches!(a.op.as_str(), "create" | "createMany" | "createManyAndReturn" | "upsert"))));
                    }
                    lines.extend(type_refs.iter().map(|p| (*p, renamed)));
                }
                Some(fname) => {
                    for a in accesses.iter().filter(|a| a.model == model && &a.field == fname) {
                        lines.push((a.pos, must));
                    }
                }
            }
            for (pos, must_here) in lines {
                let enc = enclosing_symbol(Some(f), pos).map(|s| s.name.clone()).unwrap_or_else(|| "(top level)".into());
                self.impacts.insert(Impact { file: f.path.clone(), symbol: enc, line: pos.line + 1, relation: Relation::Prisma, must_change: must_here, via: Via::Prisma, through: None });
            }
        }
        // The DTO families linked to the model: the family itself for the whole model, the
        // properties of the field's name (in the family and its variants) for a field. The
        // API keeps its names when a column changes, so they are listed, not must-change.
        for (dto, how) in links.dtos_of(&model) {
            let Some(df) = self.registry.file(&dto.file) else { continue };
            let how = match how {
                crate::links::LinkKind::Naming => format!("DTO of {model} by naming"),
                crate::links::LinkKind::TypeFlow(n) => format!("DTO of {model}: {n} provider(s) reading the model return it"),
            };
            for s in &df.symbols {
                let hit = match &field {
                    None => s.name == dto.name && matches!(s.kind, SymbolKind::Type | SymbolKind::Interface),
                    Some(fname) => s.kind == SymbolKind::Property && s.name.starts_with(&format!("{}.", dto.name)) && s.name.rsplit('.').next() == Some(fname.as_str()),
                };
                if hit {
                    self.impacts.insert(Impact {
                        file: df.path.clone(),
                        symbol: s.name.clone(),
                        line: s.span.start.line + 1,
                        relation: Relation::Prisma,
                        must_change: false,
                        via: Via::Prisma,
                        through: Some(how.clone()),
                    });
                }
            }
        }
    }

    /// The Prisma accesses of one file, from its parsed tree (cached with the other trees).
    fn prisma_accesses(&mut self, file: &str, models: &maintaind_registry::PrismaModels) -> Vec<maintaind_registry::PrismaAccess> {
        self.syntax_of(file).map(|s| s.prisma_accesses(models)).unwrap_or_default()
    }
}

/// Resolve a query to one symbol (all its declarations in one file).
/// The file declaring `query` and the declaration's name there (for `apply`).
/// Whether `pos` is a name in the clause of one of `file`'s imports (the imported name, its
/// local alias, a default or namespace name): the context [`Syntax::context_at`] gives there is
/// `in_import` alone. Not `export … from`: the name of `export * as ns` is a declaration, not
/// a reference, so the first reference after the statement can be a use elsewhere.
fn in_import_clause(file: &FileIndex, pos: Pos) -> bool {
    let Some(name) = file.references.refs.iter().find(|r| r.pos == pos).map(|r| file.references.names[r.name as usize].as_str()) else { return false };
    file.imports.iter().filter(|i| !i.reexport && i.line <= pos.line).any(|import| {
        let names = import.names.iter().flat_map(|n| [n.imported.as_str(), n.local.as_str()]).chain(import.default.as_deref()).chain(import.namespace.as_deref());
        names.filter(|n| *n == name).any(|n| file.imported_name_at(import, n) == Some(pos))
    })
}

/// One file's share of [`Blast::work_out`]: its contexts, and its tree when it was parsed for them.
struct Worked {
    file: String,
    parsed: Option<Option<Syntax>>,
    contexts: Vec<(Pos, RefContext)>,
}

fn worked(root: &Path, cached: Option<&Option<Syntax>>, file: &str, positions: Vec<Pos>) -> Worked {
    let parsed = match cached {
        Some(_) => None,
        None => Some(crate::safefs::read_regular(&root.join(file)).ok().and_then(|t| Syntax::parse(file, &t))),
    };
    let syntax = cached.or(parsed.as_ref()).and_then(Option::as_ref);
    let contexts = positions.into_iter().map(|pos| (pos, syntax.map(|s| s.context_at(pos)).unwrap_or_default())).collect();
    Worked { file: file.to_string(), parsed, contexts }
}

pub fn locate(registry: &Registry, query: &str) -> Result<(String, String), BlastError> {
    let r = resolve(registry, query)?;
    Ok((r.file.path.clone(), r.decls[0].name.clone()))
}

fn resolve<'r>(registry: &'r Registry, query: &str) -> Result<Resolved<'r>, BlastError> {
    // `path#Name`: one file to look in, no scan of the whole registry.
    if let Some((path, name)) = query.split_once('#')
        && let Some(file) = registry.file(path.trim_start_matches("./"))
    {
        let decls: Vec<&Symbol> = file.symbols.iter().filter(|s| s.name == name).collect();
        if decls.is_empty() {
            // The file exists: the name is what is wrong.
            return Err(BlastError::Unknown { query: format!("{name}` in `{}", file.path), suggestions: registry.suggest(name, 5) });
        }
        return Ok(Resolved { file, decls });
    }
    let mut groups: BTreeMap<String, Vec<&Symbol>> = BTreeMap::new();
    let mut files: HashMap<String, &FileIndex> = HashMap::new();
    for (file, symbol) in registry.named(query) {
        groups.entry(file.path.clone()).or_default().push(symbol);
        files.insert(file.path.clone(), file);
    }
    // A re-export of the name elsewhere is not a second definition.
    if groups.len() > 1 {
        let real: Vec<String> = groups.iter().filter(|(_, d)| d.iter().any(|s| s.kind != SymbolKind::Reexport)).map(|(f, _)| f.clone()).collect();
        if real.len() == 1 {
            groups.retain(|f, _| *f == real[0]);
        }
    }
    match groups.len() {
        0 => Err(BlastError::Unknown { query: query.to_string(), suggestions: registry.suggest(query, 5) }),
        1 => {
            let (file, decls) = groups.into_iter().next().unwrap();
            Ok(Resolved { file: files[&file], decls })
        }
        _ => Err(BlastError::Ambiguous { query: query.to_string(), candidates: groups.iter().map(|(f, d)| format!("{f}#{} ({})", d[0].name, d[0].kind)).collect() }),
    }
}

/// The innermost symbol whose span contains `pos` (a property inside a type, a method inside
/// a class, a function at top level).
fn enclosing_symbol(file: Option<&FileIndex>, pos: Pos) -> Option<&Symbol> {
    file?.symbols.iter().filter(|s| s.kind != SymbolKind::Reexport && s.span.start <= pos && pos < s.span.end).min_by_key(|s| s.span.end_byte - s.span.start_byte)
}

/// `(VERB, /route)` of a controller method: `@Controller(prefix)` on its class and
/// `@TypedRoute.Get(path)` (or NestJS `@Get(path)`) on the method.
pub(crate) fn route_of(file: &FileIndex, method: &Symbol) -> Option<(String, String)> {
    let (class_name, _) = method.name.rsplit_once('.')?;
    let class = file.symbols.iter().find(|s| s.name == class_name && s.kind == SymbolKind::Class)?;
    let prefix = class.decorators.iter().find(|d| d.name == "Controller")?.args.first().cloned().flatten().unwrap_or_default();
    let verbs = ["Get", "Post", "Put", "Patch", "Delete"];
    let deco = method.decorators.iter().find(|d| verbs.contains(&d.name.rsplit('.').next().unwrap_or("")))?;
    let verb = deco.name.rsplit('.').next()?.to_uppercase();
    let sub = deco.args.first().cloned().flatten().unwrap_or_default();
    Some((verb, normalize_route(&format!("{prefix}/{sub}"))))
}

fn normalize_route(r: &str) -> String {
    let parts: Vec<&str> = r.split('/').filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// `(VERB, /route)` → SDK function. nestia documents each SDK function with `@path /route` (no
/// verb) and `@accessor api.functional.…`, and declares the verb in the function's namespace:
/// `export namespace create { export const METADATA = { method: "POST", path: "/route", … } }`.
/// The verb comes from `METADATA.method`, the route from `@path` (else `METADATA.path`); a
/// `@path VERB /route` line (older nestia) carries both.
pub(crate) fn sdk_index<'r>(files: impl Iterator<Item = &'r FileIndex>) -> SdkIndex {
    let mut out = HashMap::new();
    for f in files.filter(|f| is_sdk_file(&f.path)) {
        for s in f.symbols.iter().filter(|s| s.kind == SymbolKind::Function) {
            let metadata = f.symbols.iter().find(|m| m.kind == SymbolKind::Variable && m.name == format!("{}.METADATA", s.name));
            let meta_field = |key: &str| metadata.and_then(|m| quoted_value(&m.signature, key));
            let mut verb = meta_field("method");
            let mut route = meta_field("path");
            for line in s.doc_full.as_deref().unwrap_or_default().lines() {
                let Some(rest) = line.trim().strip_prefix("@path ") else { continue };
                match rest.trim().split_once(' ') {
                    Some((v, r)) => {
                        verb = Some(v.to_string());
                        route = Some(r.trim().to_string());
                    }
                    None => route = Some(rest.trim().to_string()),
                }
            }
            if let (Some(verb), Some(route)) = (verb, route) {
                out.insert((verb.to_uppercase(), normalize_route(&route)), (f.path.clone(), s.name.clone()));
            }
        }
    }
    out
}

/// The string value of `key: "…"` in a declaration's folded text (`METADATA`'s `method`).
/// A file of nestia's SDK functions.
fn is_sdk_file(path: &str) -> bool {
    path.contains("api/functional/")
}

fn quoted_value(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("{key}: \""))? + key.len() + 3;
    let end = text[at..].find('"')?;
    Some(text[at..at + end].to_string())
}

/// Test files by the conventions of generated backends and common tools.
pub fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with("test/")
        || path.starts_with("tests/")
        || path.contains("/test/")
        || path.contains("/__tests__/")
        || name.starts_with("test_")
        || name.contains(".test.")
        || name.contains(".spec.")
}

#[cfg(test)]
mod spec;

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry's shortcut for names in import clauses gives what the tree gives there, on
    /// every file of the fixture, and covers each import's names.
    #[test]
    fn import_clause_names_have_the_tree_s_context() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend");
        let mut checked = 0;
        let mut files = vec![root.clone()];
        while let Some(dir) = files.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n != "node_modules" && n != ".maintaind") {
                        files.push(path);
                    }
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                if !rel.ends_with(".ts") {
                    continue;
                }
                let text = std::fs::read(&path).unwrap();
                let fi = maintaind_registry::index_file(&rel, &text).unwrap();
                let syntax = Syntax::parse(&rel, &text).unwrap();
                for r in &fi.references.refs {
                    if in_import_clause(&fi, r.pos) {
                        assert_eq!(syntax.context_at(r.pos), RefContext { in_import: true, ..RefContext::default() }, "{rel} {:?}", r.pos);
                        checked += 1;
                    }
                }
                for import in fi.imports.iter().filter(|i| !i.reexport) {
                    for n in &import.names {
                        let at = fi.imported_name_at(import, &n.local).unwrap();
                        assert!(in_import_clause(&fi, at), "{rel}: {} of line {}", n.local, import.line + 1);
                    }
                }
            }
        }
        assert!(checked > 500, "only {checked} import names checked");
    }

    #[test]
    fn routes_normalise() {
        assert_eq!(normalize_route("/bbs/articles/:articleId/comments/"), "/bbs/articles/:articleId/comments");
        assert_eq!(normalize_route("bbs//articles"), "/bbs/articles");
        assert!(is_test_file("test/features/api/x.ts") && is_test_file("src/a.spec.ts") && !is_test_file("src/testing.ts"));
    }
}

//! The `Workspace`: the host of the state maintaind keeps for one project root: the registry
//! and its SQLite store, the language server (`semantic.rs`), the overlays `check` uses, and the
//! caches. It changes that state (`refresh`, `update_file`, `overlay`); the queries over it are
//! an [`Analysis`] it hands out (`analysis.rs`). The daemon hosts one; without a daemon the CLI
//! opens one in-process (`cli::ask`). Nothing here knows how it is being called: the requests
//! are `rpc::method`, the blast rules are in `blast/`, planning is in `plan/synthesizer.rs`.

pub mod analysis;
pub mod store;
pub mod walk;

pub use analysis::{Analysis, BLAST_CACHE_ENTRIES, SymbolHit, SymbolsReport, check_symbol};

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use maintaind_registry::{Delta, FileIndex, Registry, index_file};
use rayon::prelude::*;
use serde::Serialize;

use crate::semantic::{Semantic, SemanticOptions, Unavailable};
use crate::state::state_dir;
use crate::store::{Encoded, FileStat, OpenNote, Store};
use crate::walk::Found;
use analysis::Caches;

/// A request that cannot be answered as asked; the message says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Bad input from the caller (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// Something about the environment (exit 3).
    #[error(transparent)]
    Environment(#[from] anyhow::Error),
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct IndexReport {
    pub files: usize,
    pub symbols: usize,
    /// Files parsed by this run.
    pub parsed: usize,
    /// Files taken from the store (unchanged on disk).
    pub reused: usize,
    /// Files dropped because they are gone (or no longer readable).
    pub removed: usize,
    pub elapsed_ms: u64,
    pub generation: u64,
    /// Indexed files with syntax errors (they still yield every recoverable symbol).
    pub files_with_syntax_errors: usize,
    /// The first syntax error of each such file.
    pub syntax_errors: Vec<SyntaxError>,
    /// Paths passed over, with the reason.
    pub skipped: Vec<Skipped>,
    /// One-line notes about the run (a rebuilt database, in-memory indexing).
    pub notes: Vec<String>,
    /// Paths changed, created or removed by this run (to keep the language server in step).
    #[serde(skip)]
    pub changed: Vec<String>,
    #[serde(skip)]
    pub created: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SyntaxError {
    pub file: String,
    /// 1-based.
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Receives indexing progress, and what a cold command waits for (the CLI draws a bar or a
/// spinner on a TTY; others ignore it).
pub trait Progress: Sync {
    fn start(&self, _total: u64) {}
    fn advance(&self) {}
    fn finish(&self) {}
    /// The work is waiting for something it does not control: `what` says for what
    /// ("loading TypeScript projects 1/2: test/tsconfig.json"). Ends with [`Progress::finish`].
    fn waiting(&self, _what: &str) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

pub struct Workspace {
    root: PathBuf,
    registry: Registry,
    store: Store,
    /// Whether `registry` holds every stored file (true after the first index in-process).
    loaded: bool,
    /// Notes from opening, reported with the next answer.
    pending_notes: Vec<String>,
    /// The TypeScript language server, once started.
    semantic: Option<Semantic>,
    /// Whether the server's projects were loaded against the current registry.
    projects_loaded: bool,
    generation: u64,
    /// What queries computed, kept for one registry generation.
    caches: Caches,
    /// In-memory contents that replace the disk for `check` (HEAD or staged blobs); never
    /// persisted. `None`: the file is absent in that state.
    overlays: HashMap<String, Option<Vec<u8>>>,
    /// Files of a first start held but not indexed yet ([`Workspace::refresh_first`]), with the
    /// stat the store records for each once [`Workspace::settle`] has indexed them.
    unsaved: Vec<(String, FileStat)>,
}

impl Workspace {
    /// Open the workspace at `root` (an existing directory). Creates `.maintaind/` and the
    /// store; a store that cannot be used is rebuilt or replaced by an in-memory one, with a
    /// note, never an error.
    pub fn open(root: &Path) -> Result<Workspace> {
        let root = root.canonicalize().with_context(|| format!("cannot open root {}", root.display()))?;
        let dir = state_dir(&root);
        let mut notes = Vec::new();
        let store = match prepare_state_dir(&dir).and_then(|()| Store::open(&dir)) {
            Ok((store, note)) => {
                notes.extend(note.as_ref().map(|n: &OpenNote| n.message().to_string()));
                store
            }
            Err(e) => {
                notes.push(format!("cannot use {} ({e:#}); indexing in memory this time (nothing saved)", dir.display()));
                Store::in_memory()?
            }
        };
        let generation = store.generation().unwrap_or(0);
        Ok(Workspace {
            root,
            registry: Registry::new(),
            store,
            loaded: false,
            pending_notes: notes,
            semantic: None,
            projects_loaded: false,
            generation,
            caches: Caches::new(),
            overlays: HashMap::new(),
            unsaved: Vec::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The queries over the registry as it is now (no refresh: call [`Workspace::refresh`]
    /// first unless a watcher keeps it current, as the daemon's does). The host cannot change
    /// while the returned view is alive, so every answer it gives is of one generation.
    pub fn analysis(&mut self) -> Analysis<'_> {
        Analysis {
            root: &self.root,
            registry: &self.registry,
            semantic: self.semantic.as_ref(),
            generation: self.generation,
            overlays: &self.overlays,
            caches: &mut self.caches,
            notes: &mut self.pending_notes,
        }
    }

    /// Start the TypeScript language server now, before indexing (it loads while we index).
    pub fn start_semantic(&mut self, options: &SemanticOptions, say: &dyn Fn(&str)) -> Result<(), Unavailable> {
        if self.semantic.is_none() {
            self.semantic = Some(Semantic::start(&self.root, options, say)?);
            self.projects_loaded = false;
        }
        Ok(())
    }

    /// Take a server started elsewhere ([`start_semantic_early`]); its projects are loaded by
    /// the next [`Workspace::refresh`].
    pub fn adopt_semantic(&mut self, semantic: Semantic) {
        self.stop_semantic();
        self.semantic = Some(semantic);
        self.projects_loaded = false;
    }

    pub fn semantic(&self) -> Option<&Semantic> {
        self.semantic.as_ref()
    }

    /// Drop cached blast answers (benchmarks measure uncached answers).
    pub fn forget_cached_answers(&mut self) {
        self.caches.blast.clear();
    }

    /// Drop cached answers and every per-generation fact (reverse imports, routes, registry
    /// reference walks, parsed files), as a registry change does.
    pub fn forget_derived(&mut self) {
        self.caches.forget(self.generation);
    }

    /// Stop the language server.
    pub fn stop_semantic(&mut self) {
        if let Some(s) = self.semantic.take() {
            s.stop();
        }
    }

    /// Have the server load every tsconfig project (once; see [`Semantic::load_projects`]).
    /// Meanwhile the facts every blast needs (reverse imports, the SDK's routes) are built on
    /// the other core, so the first answer does not build them.
    pub fn load_projects(&mut self, progress: &dyn Progress) {
        let Some(sem) = &mut self.semantic else { return };
        if self.projects_loaded {
            return;
        }
        let registry = &self.registry;
        let derived = std::thread::scope(|scope| {
            let derived = scope.spawn(|| {
                let derived = Arc::new(crate::blast::Derived::new());
                derived.warm(registry);
                derived
            });
            sem.load_projects(registry, &|what| progress.waiting(what));
            progress.finish();
            derived.join().expect("building the derived facts does not panic")
        });
        self.caches.derived = Some((self.generation, derived));
        self.projects_loaded = true;
    }

    /// Bring the registry up to date, load the server's projects on first use, and tell the
    /// server what changed on disk since.
    pub fn refresh(&mut self, progress: &dyn Progress) -> Result<IndexReport, RequestError> {
        self.refresh_suspects(progress, &HashSet::new())
    }

    /// [`Workspace::refresh`], re-reading `suspects` (root-relative paths a watcher reported)
    /// even when their size and mtime look unchanged: two writes within the filesystem's
    /// timestamp granularity can leave both equal.
    pub fn refresh_suspects(&mut self, progress: &dyn Progress, suspects: &HashSet<String>) -> Result<IndexReport, RequestError> {
        let report = self.index_suspects(progress, suspects)?;
        self.pending_notes.extend(report.notes.iter().cloned());
        if !self.projects_loaded {
            self.load_projects(progress);
        } else if let Some(sem) = &self.semantic {
            for path in &report.created {
                sem.file_changed(path, true);
            }
            for path in &report.changed {
                sem.file_changed(path, false);
            }
        }
        Ok(report)
    }

    /// The daemon's first refresh. On a first start (nothing stored, nothing indexed) the files
    /// are read but not parsed: each is indexed when a query first needs it, and the rest by
    /// [`Workspace::settle`] (the daemon calls it once its first question is answered), which
    /// also stores them.
    /// Answers are the same meanwhile; only what a question does not need waits. Otherwise
    /// the same as [`Workspace::refresh`].
    pub fn refresh_first(&mut self, progress: &dyn Progress) -> Result<IndexReport, RequestError> {
        if self.loaded || self.registry.file_count() > 0 || !self.store.stats()?.is_empty() {
            return self.refresh(progress);
        }
        let started = Instant::now();
        let walked = walk::walk(&self.root);
        let mut skipped: Vec<Skipped> = walked.skipped.iter().map(|(p, r)| Skipped { path: p.clone(), reason: r.clone() }).collect();
        let configs = read_tsconfigs(&walked, &mut skipped);
        self.registry.set_tsconfigs(&configs);
        let read: Vec<Result<ReadFile, Skipped>> = walked
            .sources
            .par_iter()
            .map(|f| match crate::safefs::read_regular(&f.abs) {
                Ok(bytes) => Ok((f.rel.clone(), FileStat { size: f.size, mtime_ns: f.mtime_ns, hash: maintaind_registry::hash_bytes(&bytes) }, bytes)),
                Err(e) => Err(Skipped { path: f.rel.clone(), reason: read_error(&e) }),
            })
            .collect();
        let mut texts = Vec::new();
        for r in read {
            match r {
                Ok((rel, stat, bytes)) => {
                    self.unsaved.push((rel.clone(), stat));
                    texts.push((rel, bytes));
                }
                Err(s) => skipped.push(s),
            }
        }
        let created: Vec<String> = texts.iter().map(|(p, _)| p.clone()).collect();
        let read_ms = started.elapsed().as_millis() as u64;
        self.registry.insert_pending(texts);
        tracing::debug!(read_ms, candidates_ms = started.elapsed().as_millis() as u64 - read_ms, "first start: files read, candidate imports found");
        self.loaded = true;
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let notes = std::mem::take(&mut self.pending_notes);
        let report = IndexReport {
            files: self.registry.file_count(),
            symbols: 0,
            parsed: 0,
            reused: 0,
            removed: 0,
            elapsed_ms: started.elapsed().as_millis() as u64,
            generation: self.generation,
            files_with_syntax_errors: 0,
            syntax_errors: Vec::new(),
            skipped,
            notes,
            changed: Vec::new(),
            created,
        };
        tracing::debug!(files = report.files, ms = report.elapsed_ms, "files read; each is parsed when a question needs it, the rest in the background");
        self.pending_notes.extend(report.notes.iter().cloned());
        if !self.projects_loaded {
            self.load_projects(progress);
        }
        Ok(report)
    }

    /// Files read by [`Workspace::refresh_first`] and not indexed yet.
    pub fn pending(&self) -> usize {
        if self.unsaved.is_empty() { 0 } else { self.registry.pending_count() }
    }

    /// Index whatever is still pending (on rayon's pool) and store every file read by
    /// [`Workspace::refresh_first`] (one transaction). Every change to the registry does this
    /// first, so the store never misses a file the registry holds.
    pub fn settle(&mut self) -> Result<()> {
        if self.unsaved.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        self.registry.settle();
        let unsaved = std::mem::take(&mut self.unsaved);
        let encoded: Vec<Encoded> = unsaved.par_iter().filter_map(|(rel, stat)| self.registry.file(rel).map(|f| Encoded::new(*stat, f))).collect();
        // The registry holds what it held (its files are only parsed now), so its generation
        // and every answer and fact cached for it stay; the store's own count moves on.
        self.store.write(&encoded.iter().collect::<Vec<_>>(), &[], &[])?;
        // What a settled registry's queries read is built now, not by the next query.
        if let Some((_, derived)) = &self.caches.derived {
            derived.warm(&self.registry);
        }
        tracing::info!(files = encoded.len(), ms = started.elapsed().as_millis() as u64, "every file indexed and stored");
        Ok(())
    }

    /// [`Workspace::settle`] where no error can be returned: a store that cannot be written is
    /// said in the next answer's notes (the registry itself is complete either way).
    fn settle_or_note(&mut self) {
        if let Err(e) = self.settle() {
            self.pending_notes.push(format!("could not store the index ({e:#}); the next start parses again"));
        }
    }

    /// Bring registry and store up to date with the disk: parse only files that are new or
    /// whose size/mtime and content hash changed; drop files that are gone.
    fn index_suspects(&mut self, progress: &dyn Progress, suspects: &HashSet<String>) -> Result<IndexReport> {
        self.settle()?;
        let started = Instant::now();
        let walked = walk::walk(&self.root);
        let mut skipped: Vec<Skipped> = walked.skipped.iter().map(|(p, r)| Skipped { path: p.clone(), reason: r.clone() }).collect();
        let mut notes = std::mem::take(&mut self.pending_notes);

        let configs = read_tsconfigs(&walked, &mut skipped);
        self.registry.set_tsconfigs(&configs);

        let stored = self.store.stats()?;
        let mut unchanged: Vec<&Found> = Vec::new();
        let mut todo: Vec<(&Found, Option<FileStat>)> = Vec::new();
        for f in &walked.sources {
            match stored.get(&f.rel) {
                Some(s) if s.size == f.size && s.mtime_ns == f.mtime_ns && (!self.loaded || self.registry.contains(&f.rel)) && !suspects.contains(&f.rel) => unchanged.push(f),
                other => todo.push((f, other.copied())),
            }
        }

        let phase = std::time::Instant::now();
        progress.start(todo.len() as u64);
        let outcomes: Vec<Outcome> = todo
            .par_iter()
            .map(|(f, before)| {
                let outcome = read_and_index(f, *before);
                progress.advance();
                outcome
            })
            .collect();
        progress.finish();
        let parsed_in = phase.elapsed();

        let mut upserts: Vec<(Encoded, FileIndex)> = Vec::new();
        let mut restat: Vec<(String, FileStat)> = Vec::new();
        let mut gone: HashSet<String> = stored.keys().cloned().collect();
        for f in &unchanged {
            gone.remove(&f.rel);
        }
        let mut reuse: Vec<String> = unchanged.iter().map(|f| f.rel.clone()).collect();
        for outcome in outcomes {
            match outcome {
                Outcome::Parsed(parsed) => {
                    let (encoded, file) = *parsed;
                    gone.remove(&file.path);
                    upserts.push((encoded, file));
                }
                Outcome::Restat(rel, stat) => {
                    gone.remove(&rel);
                    reuse.push(rel.clone());
                    restat.push((rel, stat));
                }
                Outcome::Skipped(rel, reason) => skipped.push(Skipped { path: rel, reason }),
            }
        }

        // Files the registry does not hold yet come from the store; a row that does not decode
        // is parsed again rather than trusted.
        let missing: Vec<&str> = reuse.iter().map(String::as_str).filter(|p| !self.registry.contains(p)).collect();
        let reused = reuse.len();
        let (loaded, undecodable) = self.store.load(&missing)?;
        for file in loaded {
            self.registry.insert_quiet(file);
        }
        if !undecodable.is_empty() {
            notes.push(format!("{} stored entries could not be read back; re-parsed them", undecodable.len()));
            let by_rel: HashMap<&str, &Found> = walked.sources.iter().map(|f| (f.rel.as_str(), f)).collect();
            for rel in &undecodable {
                if let Some(f) = by_rel.get(rel.as_str()) {
                    match read_and_index(f, None) {
                        Outcome::Parsed(parsed) => upserts.push(*parsed),
                        Outcome::Skipped(rel, reason) => {
                            gone.insert(rel.clone());
                            skipped.push(Skipped { path: rel, reason });
                        }
                        Outcome::Restat(..) => unreachable!("no previous stat given"),
                    }
                }
            }
        }
        let parsed = upserts.len();
        for (_, file) in &upserts {
            if let Some(reason) = &file.not_parsed {
                skipped.push(Skipped { path: file.path.clone(), reason: reason.clone() });
            }
        }
        let reused = reused - undecodable.len();

        // Gone from the store, and anything the in-memory registry still holds that the walk
        // did not find (the store may be an in-memory one that never had it).
        let on_disk: HashSet<&str> = walked.sources.iter().map(|f| f.rel.as_str()).collect();
        gone.extend(self.registry.files().map(|f| f.path.clone()).filter(|p| !on_disk.contains(p.as_str())));
        let mut removed: Vec<String> = gone.into_iter().collect();
        removed.sort();
        for rel in &removed {
            self.registry.remove_file(rel);
        }

        let before_write = phase.elapsed();
        let generation = self.store.write(
            &upserts.iter().map(|(e, _)| e).collect::<Vec<_>>(),
            &restat.iter().map(|(r, s)| (r.as_str(), *s)).collect::<Vec<_>>(),
            &removed.iter().map(String::as_str).collect::<Vec<_>>(),
        )?;
        tracing::debug!(parse_ms = parsed_in.as_millis() as u64, to_write_ms = before_write.as_millis() as u64, written_ms = phase.elapsed().as_millis() as u64, "index phases");
        let (created, mut changed): (Vec<String>, Vec<String>) = upserts.iter().map(|(_, f)| f.path.clone()).partition(|p| !stored.contains_key(p));
        changed.extend(removed.iter().cloned());
        for (_, file) in upserts {
            self.registry.insert_quiet(file);
        }
        self.loaded = true;
        self.generation = generation;
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let syntax_errors: Vec<SyntaxError> = self
            .registry
            .files()
            .filter_map(|f| {
                let d = f.diagnostics.iter().find(|d| d.severity == maintaind_registry::Severity::Error)?;
                Some(SyntaxError { file: f.path.clone(), line: d.pos.line + 1, message: d.message.clone() })
            })
            .collect();

        Ok(IndexReport {
            files: self.registry.file_count(),
            symbols: self.registry.symbol_count(),
            parsed,
            reused,
            removed: removed.len(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            generation,
            files_with_syntax_errors: syntax_errors.len(),
            syntax_errors,
            skipped,
            notes,
            changed,
            created,
        })
    }

    /// Re-index one root-relative file after it changed on disk (or was deleted), and persist
    /// it. This is the hot path for a saved file.
    pub fn update_file(&mut self, rel: &str) -> Result<Delta> {
        self.settle()?;
        let abs = self.root.join(rel);
        // As the walk does: a link, a FIFO or a directory under a source name is no source file.
        let meta = match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                let delta = self.registry.remove_file(rel);
                self.generation = self.store.write(&[], &[], &[rel])?;
                if let Some(sem) = &self.semantic {
                    sem.file_changed(rel, false);
                }
                return Ok(delta);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let delta = self.registry.remove_file(rel);
                self.generation = self.store.write(&[], &[], &[rel])?;
                if let Some(sem) = &self.semantic {
                    sem.file_changed(rel, false);
                }
                return Ok(delta);
            }
            Err(e) => return Err(e).with_context(|| format!("cannot stat {rel}")),
        };
        let bytes = crate::safefs::read_regular(&abs).with_context(|| format!("cannot read {rel}"))?;
        let created = !self.registry.contains(rel);
        let Some(delta) = self.registry.update_file(rel, &bytes) else {
            anyhow::bail!("{rel} is not a TypeScript or Prisma file");
        };
        let file = self.registry.file(rel).expect("just updated");
        let stat = FileStat { size: meta.len(), mtime_ns: walk::mtime_ns(&meta), hash: file.hash };
        self.generation = self.store.write(&[&Encoded::new(stat, file)], &[], &[])?;
        if let Some(sem) = &self.semantic {
            sem.file_changed(rel, created);
        }
        Ok(delta)
    }

    /// Answer as if `rel` held `content` (`None`: absent), without touching the disk or the
    /// store: the registry, the parsed-file cache and the language server all see it. For
    /// `check`, which compares HEAD with the staged state. Call after the last
    /// [`Workspace::refresh`]: a refresh re-reads the disk.
    pub fn overlay(&mut self, rel: &str, content: Option<&[u8]>) {
        self.settle_or_note();
        match content {
            Some(bytes) => {
                self.registry.update_file(rel, bytes);
            }
            None => {
                self.registry.remove_file(rel);
            }
        }
        self.caches.blast.clear();
        self.caches.derived = None;
        self.caches.syntax.1.put(rel.to_string(), content.and_then(|b| maintaind_registry::Syntax::parse(rel, b)));
        self.overlays.insert(rel.to_string(), content.map(<[u8]>::to_vec));
        if let Some(sem) = &self.semantic
            && maintaind_registry::is_typescript(rel)
            && let Err(e) = sem.set_text(rel, content.map(|b| String::from_utf8_lossy(b).into_owned()))
        {
            self.pending_notes.push(format!("the language server did not take the {rel} overlay: {e}"));
        }
    }

    /// Undo every [`Workspace::overlay`]: the registry, the parsed-file cache and the server
    /// see the disk again. The daemon calls it after each `check`, so no other client is
    /// answered from a commit's contents.
    pub fn clear_overlays(&mut self) {
        if self.overlays.is_empty() {
            return;
        }
        self.settle_or_note();
        let paths: Vec<String> = self.overlays.drain().map(|(p, _)| p).collect();
        for rel in &paths {
            match crate::safefs::read_regular(&self.root.join(rel)) {
                Ok(bytes) => {
                    self.registry.update_file(rel, &bytes);
                }
                Err(_) => {
                    self.registry.remove_file(rel);
                }
            }
            if let Some(sem) = &self.semantic
                && maintaind_registry::is_typescript(rel)
            {
                sem.restore(rel);
            }
        }
        self.forget_derived();
    }

    /// The registry generation (bumped by every persisted change).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Stored counts without indexing (for `doctor`).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The longest symbol query or symbol name accepted (bytes). Real names are a few dozen bytes;
/// the limit keeps every search (and its "did you mean", quadratic in the query) bounded.
pub const MAX_QUERY: usize = 1024;

/// The longest change request accepted (bytes).
pub const MAX_REQUEST: usize = 8 * 1024;

/// Refuse an over-long symbol query or name before any work is done.
/// Start the language server on a thread of its own and open one file per tsconfig project
/// ([`walk::early_files`]), so that the server starts and loads its projects while the caller
/// builds the registry. Progress messages (an install, the start) go to `say` as they come;
/// hand the server to [`Workspace::adopt_semantic`].
pub fn start_semantic_early(root: &Path, options: &SemanticOptions, say: std::sync::mpsc::Sender<String>) -> std::io::Result<std::thread::JoinHandle<Result<Semantic, Unavailable>>> {
    let (root, options) = (root.to_path_buf(), options.clone());
    std::thread::Builder::new().name("maintaind-server-start".into()).spawn(move || {
        let semantic = Semantic::start(&root, &options, &|m| {
            let _ = say.send(m.to_string());
        })?;
        semantic.open_early(&walk::early_files(&root));
        Ok(semantic)
    })
}

pub fn check_length(what: &str, text: &str, limit: usize) -> Result<(), RequestError> {
    if text.len() > limit {
        return Err(RequestError::BadInput(format!("the {what} is {} bytes long (limit {limit}); nothing was searched", text.len())));
    }
    Ok(())
}

/// Reject a symbol query that cannot match anything, before any work is done.
pub fn check_query(query: &str) -> Result<(), RequestError> {
    check_length("query", query, MAX_QUERY)?;
    let query = query.trim();
    if query.is_empty() {
        return Err(RequestError::BadInput("empty query: give a symbol name, e.g. `maintaind symbols IBbsArticle` or `prisma:bbs_articles`".into()));
    }
    if query.ends_with('#') {
        return Err(RequestError::BadInput(format!("`{query}` names a file but no symbol: write `path/to/file.ts#Name`")));
    }
    Ok(())
}

fn prepare_state_dir(dir: &Path) -> Result<()> {
    crate::state::ensure_private_dir(dir)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "# maintaind's local state; never commit it\n*\n").with_context(|| format!("cannot write {}", ignore.display()))?;
    }
    Ok(())
}

/// A file read for a first start: its path, the stat the store records, its bytes.
type ReadFile = (String, FileStat, Vec<u8>);

enum Outcome {
    Parsed(Box<(Encoded, FileIndex)>),
    /// Stat changed, content did not.
    Restat(String, FileStat),
    Skipped(String, String),
}

fn read_and_index(f: &Found, before: Option<FileStat>) -> Outcome {
    let bytes = match crate::safefs::read_regular(&f.abs) {
        Ok(b) => b,
        Err(e) => return Outcome::Skipped(f.rel.clone(), read_error(&e)),
    };
    // The walk's stat may be older than these bytes; that is safe: a later run sees a newer
    // mtime, re-hashes, and finds the content it already has.
    let hash = maintaind_registry::hash_bytes(&bytes);
    let stat = FileStat { size: f.size, mtime_ns: f.mtime_ns, hash };
    if before.is_some_and(|b| b.hash == hash) {
        return Outcome::Restat(f.rel.clone(), stat);
    }
    match index_file(&f.rel, &bytes) {
        Some(file) => Outcome::Parsed(Box::new((Encoded::new(stat, &file), file))),
        None => Outcome::Skipped(f.rel.clone(), "not a TypeScript or Prisma file".into()),
    }
}

/// Every `tsconfig*.json` the walk found, as `(path, text)`; an unreadable one is skipped.
fn read_tsconfigs(walked: &walk::Walk, skipped: &mut Vec<Skipped>) -> Vec<(String, String)> {
    walked
        .tsconfigs
        .iter()
        .filter_map(|f| match crate::safefs::read_regular(&f.abs) {
            Ok(bytes) => Some((f.rel.clone(), String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) => {
                skipped.push(Skipped { path: f.rel.clone(), reason: read_error(&e) });
                None
            }
        })
        .collect()
}

fn read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "deleted while indexing".into(),
        std::io::ErrorKind::PermissionDenied => "cannot read: permission denied".into(),
        _ => format!("cannot read: {e}"),
    }
}

/// Read-only report on the stored registry, for `doctor`.
pub fn inspect_store(root: &Path) -> store::DbInspection {
    store::inspect(&state_dir(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blast::ChangeKind;

    #[test]
    fn file_deleted_between_walk_and_read_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().join("gone.ts");
        std::fs::write(&abs, "export const a = 1;\n").unwrap();
        let meta = std::fs::metadata(&abs).unwrap();
        let found = Found { rel: "gone.ts".into(), abs: abs.clone(), size: meta.len(), mtime_ns: walk::mtime_ns(&meta) };
        std::fs::remove_file(&abs).unwrap();
        match read_and_index(&found, None) {
            Outcome::Skipped(rel, reason) => assert_eq!((rel.as_str(), reason.as_str()), ("gone.ts", "deleted while indexing")),
            _ => panic!("a vanished file must be skipped"),
        }
    }

    fn fixture_copy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend");
        let status = std::process::Command::new("cp").arg("-r").arg(format!("{}/.", src.display())).arg(dir.path()).status().unwrap();
        assert!(status.success());
        dir
    }

    /// A copy of the fixture, indexed.
    fn fixture_workspace() -> (tempfile::TempDir, Workspace) {
        let dir = fixture_copy();
        let mut ws = Workspace::open(dir.path()).unwrap();
        ws.refresh(&NoProgress).unwrap();
        (dir, ws)
    }

    #[test]
    fn every_import_in_the_fixture_resolves_through_paths_and_the_test_alias() {
        let (_dir, ws) = fixture_workspace();
        let reg = ws.registry();
        let mut unresolved = Vec::new();
        let mut resolved = 0;
        for file in reg.files() {
            for import in &file.imports {
                match reg.resolve_import(&file.path, &import.specifier) {
                    Some(_) => resolved += 1,
                    None => unresolved.push(format!("{}: {}", file.path, import.specifier)),
                }
            }
        }
        assert!(unresolved.is_empty(), "unresolved imports: {unresolved:#?}");
        assert!(resolved > 400, "{resolved}");
        let test = "test/features/api/article/test_api_article_creation.ts";
        assert_eq!(reg.resolve_import(test, "@ORGANIZATION/PROJECT-api").as_deref(), Some("src/api/index.ts"));
        assert_eq!(reg.resolve_import(test, "@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle").as_deref(), Some("src/api/structures/IBbsArticle.ts"));
        assert_eq!(reg.resolve_import("src/MyGlobal.ts", "@prisma/client").as_deref(), Some("stubs/prisma-client.d.ts"));
        // As in AutoBE output, the alias is the root project's: providers import DTOs through it.
        assert_eq!(reg.resolve_import("src/providers/postBbsMemberArticles.ts", "@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle").as_deref(), Some("src/api/structures/IBbsArticle.ts"));
    }

    /// A first start's registry (every file pending, parsed when a question needs it) gives
    /// the answers of a complete one: every exported symbol of the fixture, a fresh pending
    /// registry for each, against the settled one; and the reverse imports of every file.
    #[test]
    fn a_registry_filling_on_demand_answers_as_a_complete_one() {
        let (dir, ws) = fixture_workspace();
        let settled = ws.registry();
        let configs: Vec<(String, String)> = walk::walk(dir.path()).tsconfigs.iter().map(|f| (f.rel.clone(), std::fs::read_to_string(&f.abs).unwrap())).collect();
        let texts: Vec<(String, Vec<u8>)> = settled.paths().map(|p| (p.to_string(), std::fs::read(dir.path().join(p)).unwrap())).collect();
        let pending = || {
            let mut r = Registry::new();
            r.set_tsconfigs(&configs);
            r.insert_pending(texts.clone());
            assert!(r.is_filling() && r.pending_count() == texts.len());
            r
        };
        let eager = crate::blast::Derived::new();
        let lazy_registry = pending();
        let lazy = crate::blast::Derived::new();
        for path in settled.paths() {
            let names = |d: &crate::blast::Derived, r: &Registry| -> Vec<(String, Vec<usize>)> {
                d.importers_of(r, path).iter().map(|i| (i.file.clone(), i.import.map_or_else(|| crate::blast::imports_of(r, r.file(&i.file).unwrap(), path), |n| vec![n]))).collect()
            };
            assert_eq!(names(&lazy, &lazy_registry), names(&eager, settled), "importers of {path}");
        }
        assert!(lazy_registry.pending_count() > 0, "some files are never needed to say who imports whom");
        let mut asked = 0;
        let mut syntax = crate::blast::SyntaxCache::unbounded();
        for f in settled.files() {
            for s in f.symbols.iter().filter(|s| s.exported && !s.name.contains('.')) {
                let query = format!("{}#{}", f.path, s.name);
                for change in [ChangeKind::Rename, ChangeKind::Shape] {
                    let run = |r: &Registry, syntax: &mut crate::blast::SyntaxCache| {
                        let mut report = crate::blast::Blast::new(r, dir.path(), None, change, crate::blast::DEFAULT_DEPTH, Arc::new(crate::blast::Derived::new()), syntax).run(&query, 0).unwrap();
                        report.generation = 0;
                        serde_json::to_string(&report).unwrap()
                    };
                    let want = run(settled, &mut syntax);
                    assert_eq!(run(&pending(), &mut syntax), want, "{query} {change:?}");
                    asked += 1;
                }
                // A bare name is looked up in the files spelling it: the same declarations.
                let found = |r: &Registry| r.named(&s.name).into_iter().map(|(f, s)| (f.path.clone(), s.kind, s.name_span.start_byte)).collect::<Vec<_>>();
                assert_eq!(found(&lazy_registry), found(settled), "{}", s.name);
            }
        }
        assert!(asked > 200, "{asked}");
        // What it is for: a DTO's first blast parses the files that may name it, not the backend.
        let r = pending();
        crate::blast::Blast::new(&r, dir.path(), None, ChangeKind::Rename, crate::blast::DEFAULT_DEPTH, Arc::new(crate::blast::Derived::new()), &mut syntax)
            .run("src/api/structures/IBbsArticle.ts#IBbsArticle", 0)
            .unwrap();
        assert!(r.pending_count() * 2 > texts.len(), "{} of {} files parsed", texts.len() - r.pending_count(), texts.len());
    }

    /// A first start reads without parsing; what is pending is stored once indexed, and a
    /// change meanwhile indexes everything first (nothing pending is lost or stored stale).
    #[test]
    fn a_first_start_stores_every_file_once_indexed_and_a_change_meanwhile_settles_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.ts"), "export function a() {}\n").unwrap();
        std::fs::write(dir.path().join("b.ts"), "import { a } from './a';\nexport function b() { return a(); }\n").unwrap();
        std::fs::write(dir.path().join("c.ts"), "export const c = 1;\n").unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        let report = ws.refresh_first(&NoProgress).unwrap();
        assert_eq!((report.files, report.parsed, ws.pending()), (3, 0, 3));
        // A question parses what it needs.
        let hits = ws.analysis().blast("b.ts#b", ChangeKind::Signature, true, 1).unwrap();
        assert!(hits.impacted.is_empty() && ws.pending() > 0, "{}", ws.pending());
        ws.settle().unwrap();
        assert_eq!(ws.pending(), 0);
        let mut fresh = Workspace::open(dir.path()).unwrap();
        let again = fresh.refresh_first(&NoProgress).unwrap();
        assert_eq!((again.parsed, again.reused, fresh.pending()), (0, 3, 0), "stored once indexed: a restart parses nothing");

        // A change while files are pending: they are indexed and stored first.
        let other = tempfile::tempdir().unwrap();
        for f in ["a.ts", "b.ts", "c.ts"] {
            std::fs::copy(dir.path().join(f), other.path().join(f)).unwrap();
        }
        let mut ws = Workspace::open(other.path()).unwrap();
        ws.refresh_first(&NoProgress).unwrap();
        std::fs::write(other.path().join("c.ts"), "export const c = 2;\nexport const d = 3;\n").unwrap();
        assert_eq!(ws.update_file("c.ts").unwrap().added, vec!["d".to_string()]);
        assert_eq!(ws.pending(), 0);
        let mut fresh = Workspace::open(other.path()).unwrap();
        let again = fresh.refresh(&NoProgress).unwrap();
        assert_eq!((again.parsed, again.reused, again.symbols), (0, 3, 4));
    }

    #[test]
    fn update_file_persists_and_reports_the_delta() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.ts"), "export function a() {}\n").unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        ws.refresh(&NoProgress).unwrap();
        std::fs::write(dir.path().join("a.ts"), "export function a() { return 1; }\nexport function b() {}\n").unwrap();
        let delta = ws.update_file("a.ts").unwrap();
        assert_eq!((delta.added, delta.changed), (vec!["b".to_string()], vec!["a".to_string()]));
        // A fresh workspace sees the update without parsing: it was persisted with its stat.
        let mut fresh = Workspace::open(dir.path()).unwrap();
        let report = fresh.refresh(&NoProgress).unwrap();
        assert_eq!((report.parsed, report.reused, report.symbols), (0, 1, 2));
        std::fs::remove_file(dir.path().join("a.ts")).unwrap();
        assert_eq!(ws.update_file("a.ts").unwrap().removed, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn blast_answers_are_cached_within_a_bound() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.ts"), "export function a() {}\n").unwrap();
        std::fs::write(dir.path().join("b.ts"), "import { a } from './a';\nexport function b() { return a(); }\n").unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        ws.refresh(&NoProgress).unwrap();
        // One answer per depth, as a client asking for 3,000 depths would make (these are
        // registry-only, so approximate and never cached themselves: stored as if complete).
        let mut analysis = ws.analysis();
        for depth in 1..=400 {
            let answer = analysis.blast("a", ChangeKind::Signature, true, depth).unwrap();
            analysis.remember(("a".into(), ChangeKind::Signature, false, depth), &answer);
        }
        assert_eq!(ws.caches.blast.len(), BLAST_CACHE_ENTRIES.get(), "bounded, and actually caching");
    }

    #[test]
    fn over_long_queries_and_symbols_are_refused_before_any_search() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.ts"), "export function a() {}\n").unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        ws.refresh(&NoProgress).unwrap();
        let huge = "x".repeat(15 << 20);
        let started = std::time::Instant::now();
        let mut analysis = ws.analysis();
        let RequestError::BadInput(m) = analysis.search(&huge, None).unwrap_err() else { panic!() };
        assert!(m.contains("limit 1024"), "{m}");
        let RequestError::BadInput(m) = analysis.blast(&huge, ChangeKind::Signature, true, 1).unwrap_err() else { panic!() };
        assert!(m.contains("limit 1024"), "{m}");
        // The longest accepted query still answers (a "did you mean" over every name).
        assert!(analysis.search(&"q".repeat(MAX_QUERY), None).unwrap().hits.is_empty());
        let _ = started;
    }
}

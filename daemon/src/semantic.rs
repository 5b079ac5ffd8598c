//! The TypeScript language server as the workspace uses it: choosing and starting it,
//! loading *every* tsconfig project, deciding when its answers are complete, and converting
//! between registry positions (byte columns) and LSP positions (UTF-16 columns).
//!
//! Readiness: a server answers `references` early from whatever it has loaded (tsls from its
//! syntax server, both from only the projects of opened files). For each tsconfig directory we
//! open one file of that project that imports a symbol from another file, then ask, at the
//! import, for that symbol's references until its declaration appears. Until every project
//! passes, answers are flagged approximate.
//!
//! Each file is loaded once: a project whose files another project holds (a generated
//! backend's root project, inside `test/tsconfig.json`'s) is *covered* and not loaded, and
//! nothing is asked at its files while another site exists ([`Semantic::is_covered`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maintaind_lsp_bridge::{Bridge, BridgeError, Found, RestartPolicy, ServerChoice, ServerKind, server, uri_to_path};
use maintaind_registry::{FileLang, Pos, Registry, SymbolKind};
use serde::Serialize;
use serde_json::{Value, json};

/// Per-request timeout; a hung server becomes a typed error after this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SemanticOptions {
    pub choice: ServerChoice,
    pub offline: bool,
    pub ready_timeout: Duration,
}

/// A reference as the server reported it, in registry terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerRef {
    /// Root-relative.
    pub file: String,
    /// Zero-based line, byte column.
    pub pos: Pos,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProjectStatus {
    /// The tsconfig directory (`""` for the root).
    pub dir: String,
    /// The file opened to load the project, and the probe that proved it loaded.
    pub probe: Option<String>,
    pub loaded: bool,
    /// The project directory that holds every file of this one, when this one is not loaded
    /// for that reason (each file is checked once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ServerStatus {
    pub kind: ServerKind,
    pub version: String,
    pub origin: maintaind_lsp_bridge::Origin,
    pub state: maintaind_lsp_bridge::BridgeState,
    pub projects: Vec<ProjectStatus>,
    /// From start to every project loaded (`None` while some project is not).
    pub ready_ms: Option<u64>,
    pub restarts: usize,
    /// Documents the server has open: each project's anchor and overlays; a query's are
    /// closed after it.
    #[serde(default)]
    pub open_documents: usize,
}

pub struct Semantic {
    rt: tokio::runtime::Runtime,
    bridge: Arc<Bridge>,
    root: PathBuf,
    found: Found,
    started: Instant,
    projects: Vec<ProjectStatus>,
    /// Files opened to load their projects (early files, probes): kept open, since the server
    /// drops a project no open file needs.
    anchors: std::sync::Mutex<std::collections::HashSet<String>>,
    ready_after: Option<Duration>,
    ready_timeout: Duration,
    /// Covered project directory → the one holding its files.
    covered: std::collections::HashMap<String, String>,
}

/// Why the server could not be used at all (exit 3 at the CLI).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

impl Semantic {
    /// Find (or install) and start the server. Call [`Semantic::load_projects`] once the
    /// registry is current.
    pub fn start(root: &Path, options: &SemanticOptions, say: &dyn Fn(&str)) -> Result<Semantic, Unavailable> {
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().thread_name("maintaind-lsp").build().map_err(|e| Unavailable(format!("cannot start the async runtime: {e}")))?;
        let cache = server::cache_dir();
        let started = Instant::now();
        let kinds: &[ServerKind] = match options.choice {
            ServerChoice::Tsls => &[ServerKind::Tsls],
            ServerChoice::Native => &[ServerKind::Native],
            ServerChoice::Auto => &[ServerKind::Native, ServerKind::Tsls],
        };
        let mut last_error = String::new();
        for (i, kind) in kinds.iter().enumerate() {
            let found = match server::find_or_install(*kind, root, &cache, options.offline, say) {
                Ok(f) => f,
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            };
            let bridge = match rt.block_on(Bridge::start(found.launch.clone(), root, RestartPolicy::default())) {
                Ok(b) => b,
                Err(e) => {
                    last_error = format!("{} ({}): {e}", kind.as_str(), found.launch.program.display());
                    continue;
                }
            };
            // `auto` takes native only when it can answer what the blast radius asks.
            let enough = rt.block_on(async { bridge.client().await.map(|c| capabilities_suffice(&c)).unwrap_or(false) });
            if !enough && i + 1 < kinds.len() {
                say(&format!("{} {} lacks references or call hierarchy; trying the next server", kind.as_str(), found.version));
                rt.block_on(bridge.stop());
                continue;
            }
            return Ok(Semantic {
                rt,
                bridge: Arc::new(bridge),
                root: root.to_path_buf(),
                found,
                started,
                projects: Vec::new(),
                ready_after: None,
                ready_timeout: options.ready_timeout,
                covered: Default::default(),
                anchors: Default::default(),
            });
        }
        Err(Unavailable(last_error))
    }

    pub fn kind(&self) -> ServerKind {
        self.found.kind
    }

    /// Open `files` (root-relative) now, before the registry is built: each file's project
    /// starts loading in the server while maintaind parses. Files that cannot be read are
    /// passed over; [`Semantic::load_projects`] still proves every project loaded.
    pub fn open_early(&self, files: &[String]) {
        for rel in files {
            let abs = self.root.join(rel);
            if let Ok(text) = std::fs::read_to_string(&abs) {
                let _ = self.rt.block_on(self.bridge.open(&abs, text));
                self.anchors.lock().unwrap().insert(rel.clone());
            }
        }
    }

    /// Open one file per tsconfig project and wait until each project answers across files.
    /// `waiting` hears what is still loading before each round of probes.
    pub fn load_projects(&mut self, registry: &Registry, waiting: &dyn Fn(&str)) {
        self.covered = covered_projects(registry);
        let probes = choose_probes(registry, &self.covered);
        self.projects = probes
            .iter()
            .map(|p| {
                let covered_by = self.covered.get(&p.dir).cloned();
                ProjectStatus { dir: p.dir.clone(), probe: p.importer.clone(), loaded: covered_by.is_some(), covered_by }
            })
            .collect();
        for p in &probes {
            if let Some(importer) = &p.importer {
                let abs = self.root.join(importer);
                if self.bridge.is_open(&abs) {
                    continue;
                }
                if let Ok(text) = std::fs::read_to_string(&abs) {
                    let _ = self.rt.block_on(self.bridge.open(&abs, text));
                    self.anchors.lock().unwrap().insert(importer.clone());
                }
            }
        }
        let deadline = self.started + self.ready_timeout;
        loop {
            let pending: Vec<String> = self.unloaded_projects();
            // Covered projects are not loaded, so not counted.
            let to_load = self.projects.iter().filter(|p| p.covered_by.is_none()).count();
            waiting(&format!("loading TypeScript projects {}/{}: {}", to_load - pending.len(), to_load, pending.join(", ")));
            // Every project's probe at once: the server answers them side by side.
            let answers: Vec<(usize, bool)> = {
                let pending: Vec<(usize, Option<(&String, PendingRefs)>)> = probes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !self.projects[*i].loaded)
                    .map(|(i, probe)| match (&probe.importer, &probe.target) {
                        // Asked at the import, in the project's own file: asked at the
                        // declaration, the server would load the declaring file's project too.
                        (Some(importer), Some((target, _, at))) => (i, Some((target, self.references_start(importer, *at)))),
                        // A project with no cross-file import cannot be probed; nothing to miss.
                        _ => (i, None),
                    })
                    .collect();
                pending.into_iter().map(|(i, p)| (i, p.is_none_or(|(target, p)| p.wait().is_ok_and(|refs| refs.iter().any(|r| &r.file == target))))).collect()
            };
            for (i, loaded) in answers {
                self.projects[i].loaded = loaded;
            }
            if self.projects.iter().all(|p| p.loaded) {
                self.ready_after = Some(self.started.elapsed());
                return;
            }
            if Instant::now() > deadline {
                return;
            }
            // Polling the server is the only readiness signal both server kinds give.
            std::thread::park_timeout(Duration::from_millis(200));
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready_after.is_some()
    }

    /// Whether the project of tsconfig directory `dir` is covered by another (not loaded).
    pub fn is_covered(&self, dir: &str) -> bool {
        self.covered.contains_key(dir)
    }

    /// Whether asking at a file of a covered project would load that project. tsserver
    /// answers only about open files, and opening one loads its nearest project. TypeScript 7
    /// answers about files it does not have open from the loaded project holding them, so
    /// maintaind does not open them, and the covered project stays unloaded.
    pub fn asking_loads_covered(&self) -> bool {
        self.found.kind != ServerKind::Native
    }

    pub fn unloaded_projects(&self) -> Vec<String> {
        self.projects.iter().filter(|p| !p.loaded).map(|p| if p.dir.is_empty() { "tsconfig.json".into() } else { format!("{}/tsconfig.json", p.dir) }).collect()
    }

    /// `textDocument/references` (declarations included, as TypeScript 7 omits import-only
    /// files otherwise) at a registry position of a root-relative file.
    pub fn references(&self, file: &str, pos: Pos) -> Result<Vec<ServerRef>, BridgeError> {
        references_on(self.rt.handle(), &self.bridge, self.found.kind, &self.root, file, pos)
    }

    /// Start a references request and return at once; the caller does other work while the
    /// server answers, then [`PendingRefs::wait`]s.
    pub fn references_start(&self, file: &str, pos: Pos) -> PendingRefs<'_> {
        let bridge = self.bridge.clone();
        let root = self.root.clone();
        let file = file.to_string();
        let rt = self.rt.handle().clone();
        let kind = self.found.kind;
        let handle = self.rt.spawn_blocking(move || references_on(&rt, &bridge, kind, &root, &file, pos));
        PendingRefs { rt: &self.rt, handle }
    }

    /// `textDocument/rename` at a registry position of a root-relative file: the server's
    /// workspace edit as text edits per root-relative file (byte ranges on the disk's text).
    /// Asked like [`Semantic::references`]: TypeScript 7 without opening the file (the test
    /// project holding it answers, tests included), tsserver with the file leased. An edit
    /// outside the root is an error: nothing outside it is ever written.
    pub fn rename(&self, file: &str, pos: Pos, new_name: &str) -> Result<std::collections::BTreeMap<String, Vec<TextEdit>>, BridgeError> {
        let abs = self.root.join(file);
        let native = self.found.kind == ServerKind::Native;
        if !native {
            self.rt.block_on(self.bridge.lease(&abs, || std::fs::read_to_string(&abs).ok()))?;
        }
        let answer = self.rename_asked(&abs, pos, new_name);
        if !native {
            self.rt.block_on(self.bridge.release(&abs));
        }
        answer
    }

    fn rename_asked(&self, abs: &Path, pos: Pos, new_name: &str) -> Result<std::collections::BTreeMap<String, Vec<TextEdit>>, BridgeError> {
        let bad = |detail: String| BridgeError::BadResponse { method: "textDocument/rename".into(), detail };
        let line_text = line_of(abs, pos.line);
        let params = json!({
            "textDocument": {"uri": maintaind_lsp_bridge::path_to_uri(abs)},
            "position": {"line": pos.line, "character": utf16_col(&line_text, pos.col as usize)},
            "newName": new_name,
        });
        let answer = self.rt.block_on(self.bridge.request_raw("textDocument/rename", params, REQUEST_TIMEOUT))?;
        if answer.is_null() {
            return Err(bad("the server has nothing to rename at this position".into()));
        }
        let edit: lsp_types::WorkspaceEdit = serde_json::from_value(answer).map_err(|e| bad(format!("not a workspace edit: {e}")))?;
        let mut by_uri: Vec<(String, Vec<lsp_types::TextEdit>)> = edit.changes.unwrap_or_default().into_iter().map(|(u, e)| (u.as_str().to_string(), e)).collect();
        if let Some(lsp_types::DocumentChanges::Edits(docs)) = edit.document_changes {
            for d in docs {
                let edits = d.edits.into_iter().map(|e| match e {
                    lsp_types::OneOf::Left(e) => e,
                    lsp_types::OneOf::Right(a) => a.text_edit,
                });
                by_uri.push((d.text_document.uri.as_str().to_string(), edits.collect()));
            }
        }
        let mut out: std::collections::BTreeMap<String, Vec<TextEdit>> = std::collections::BTreeMap::new();
        for (uri, edits) in by_uri {
            let path = uri_to_path(&uri).ok_or_else(|| bad(format!("{uri} is not a file")))?;
            let rel = path.strip_prefix(&self.root).map_err(|_| bad(format!("the rename edits {}, outside the project root", path.display())))?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read {rel}: {e}")))?;
            let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
            let offset = |p: lsp_types::Position| -> Option<usize> {
                let start = *starts.get(p.line as usize)?;
                let end = starts.get(p.line as usize + 1).copied().unwrap_or(text.len());
                Some(start + byte_col(&text[start..end], p.character as usize))
            };
            let list = out.entry(rel.clone()).or_default();
            for e in edits {
                let (Some(from), Some(to)) = (offset(e.range.start), offset(e.range.end)) else { return Err(bad(format!("an edit past the end of {rel}"))) };
                list.push(TextEdit { from, to, text: e.new_text });
            }
        }
        Ok(out)
    }

    /// A file was created, changed or deleted on disk: keep the server in step.
    pub fn file_changed(&self, file: &str, created: bool) {
        let abs = self.root.join(file);
        let text = std::fs::read_to_string(&abs).ok();
        let _ = self.rt.block_on(self.bridge.changed(&abs, text, created));
    }

    /// Undo [`Semantic::set_text`]: the server sees the disk again. A project's anchor stays
    /// open with the disk's text; any other document is closed.
    pub fn restore(&self, file: &str) {
        if self.anchors.lock().unwrap().contains(file) {
            return self.file_changed(file, false);
        }
        let _ = self.rt.block_on(self.bridge.close(&self.root.join(file)));
    }

    /// Give the server `text` as the content of `file` without touching the disk (an open
    /// document overrides the file on disk). `None` stands for "absent in this state": an empty
    /// module, so importers of it fail as they would without it.
    pub fn set_text(&self, file: &str, text: Option<String>) -> Result<(), BridgeError> {
        let abs = self.root.join(file);
        self.rt.block_on(self.bridge.open(&abs, text.unwrap_or_default()))
    }

    /// The server's current errors and warnings for `file` (held open from disk for the
    /// request when it is not open, then closed). Asked, not waited for: TypeScript 7 answers `textDocument/diagnostic`;
    /// typescript-language-server has no pull diagnostics, so tsserver's own
    /// `syntacticDiagnosticsSync`/`semanticDiagnosticsSync` are asked through its
    /// `typescript.tsserverRequest` command. Either way the answer reflects every change sent
    /// before the request.
    pub fn diagnostics(&self, file: &str) -> Result<Vec<ServerDiagnostic>, BridgeError> {
        let abs = self.root.join(file);
        self.rt.block_on(self.bridge.lease(&abs, || Some(std::fs::read_to_string(&abs).unwrap_or_default())))?;
        let answer = self.diagnostics_open(file, &abs);
        self.rt.block_on(self.bridge.release(&abs));
        answer
    }

    fn diagnostics_open(&self, file: &str, abs: &Path) -> Result<Vec<ServerDiagnostic>, BridgeError> {
        let abs = abs.to_path_buf();
        let text = self.bridge.text_of(&abs).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let byte = |line: usize, utf16: usize| lines.get(line).map(|l| byte_col(l, utf16)).unwrap_or(utf16) as u32;
        let mut out = Vec::new();
        match self.found.kind {
            ServerKind::Native => {
                use lsp_types::{DiagnosticSeverity, DocumentDiagnosticReport, DocumentDiagnosticReportResult, NumberOrString};
                let params = lsp_types::DocumentDiagnosticParams {
                    text_document: lsp_types::TextDocumentIdentifier { uri: uri_of(&abs)? },
                    identifier: None,
                    previous_result_id: None,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                };
                let report = self.rt.block_on(self.bridge.request::<lsp_types::request::DocumentDiagnosticRequest>(params, REQUEST_TIMEOUT))?;
                // Without a previous result id the answer is always a full report.
                let items = match report {
                    DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(full)) => full.full_document_diagnostic_report.items,
                    _ => Vec::new(),
                };
                // Severity 3 and 4 (information, hints such as "declared but never read")
                // are editor decorations, not problems.
                for d in items.into_iter().filter(|d| d.severity.is_none_or(|s| s == DiagnosticSeverity::ERROR || s == DiagnosticSeverity::WARNING)) {
                    let (line, ch) = (d.range.start.line as usize, d.range.start.character as usize);
                    out.push(ServerDiagnostic {
                        file: file.to_string(),
                        line: line as u32 + 1,
                        col: byte(line, ch) + 1,
                        error: d.severity.is_none_or(|s| s == DiagnosticSeverity::ERROR),
                        code: d.code.map(|c| match c {
                            NumberOrString::Number(n) => n.to_string(),
                            NumberOrString::String(s) => s,
                        }),
                        message: d.message,
                    });
                }
            }
            ServerKind::Tsls => {
                for command in ["syntacticDiagnosticsSync", "semanticDiagnosticsSync"] {
                    // tsserver's own protocol, tunnelled through an LSP command: its answer is
                    // tsserver JSON, not an LSP type.
                    let params = lsp_types::ExecuteCommandParams {
                        command: "typescript.tsserverRequest".into(),
                        arguments: vec![json!(command), json!({"file": abs.to_string_lossy()})],
                        work_done_progress_params: Default::default(),
                    };
                    let value = self.rt.block_on(self.bridge.request::<lsp_types::request::ExecuteCommand>(params, REQUEST_TIMEOUT))?.unwrap_or(Value::Null);
                    let items = value.get("body").unwrap_or(&value);
                    for d in items.as_array().into_iter().flatten() {
                        let line = d.pointer("/start/line").and_then(Value::as_u64).unwrap_or(1).saturating_sub(1) as usize;
                        let ch = d.pointer("/start/offset").and_then(Value::as_u64).unwrap_or(1).saturating_sub(1) as usize;
                        out.push(ServerDiagnostic {
                            file: file.to_string(),
                            line: line as u32 + 1,
                            col: byte(line, ch) + 1,
                            error: d.get("category").and_then(Value::as_str).unwrap_or("error") == "error",
                            code: d.get("code").map(|c| c.to_string()),
                            message: d.get("text").and_then(Value::as_str).unwrap_or("").to_string(),
                        });
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    pub fn status(&self) -> ServerStatus {
        ServerStatus {
            kind: self.found.kind,
            version: self.found.version.clone(),
            origin: self.found.origin,
            state: self.bridge.state(),
            projects: self.projects.clone(),
            ready_ms: self.ready_after.map(|d| d.as_millis() as u64),
            restarts: self.bridge.restarts(),
            open_documents: self.bridge.open_documents(),
        }
    }

    /// The server's process id (tests kill it to check recovery).
    pub fn server_pid(&self) -> Option<u32> {
        self.rt.block_on(async { self.bridge.client().await.ok().and_then(|c| c.pid()) })
    }

    pub fn stop(self) {
        self.rt.block_on(self.bridge.stop());
    }
}

/// One diagnostic from the server, positions 1-based (byte columns).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ServerDiagnostic {
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// An error (else a warning or hint).
    pub error: bool,
    /// TypeScript's code, e.g. `2345`.
    pub code: Option<String>,
    pub message: String,
}

impl ServerDiagnostic {
    /// What stays the same when lines move: a diagnostic is "new" when this key was not
    /// reported before the change (as many times).
    pub fn key(&self) -> (String, bool, Option<String>, String) {
        (self.file.clone(), self.error, self.code.clone(), self.message.clone())
    }
}

/// The diagnostics in `after` that were not in `before`, matched by [`ServerDiagnostic::key`]
/// as multisets (a second copy of an old error counts as new).
pub fn new_diagnostics(before: &[ServerDiagnostic], after: &[ServerDiagnostic]) -> Vec<ServerDiagnostic> {
    let mut seen: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for d in before {
        *seen.entry(d.key()).or_default() += 1;
    }
    after
        .iter()
        .filter(|d| match seen.get_mut(&d.key()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// A references request in flight.
pub struct PendingRefs<'s> {
    rt: &'s tokio::runtime::Runtime,
    handle: tokio::task::JoinHandle<Result<Vec<ServerRef>, BridgeError>>,
}

impl PendingRefs<'_> {
    /// Whether the answer is in (without waiting for it).
    pub fn watch(&self) -> AnswerWatch {
        AnswerWatch(self.handle.abort_handle())
    }

    pub fn wait(self) -> Result<Vec<ServerRef>, BridgeError> {
        self.rt.block_on(self.handle).unwrap_or_else(|e| Err(BridgeError::StreamClosed(format!("request task failed: {e}"))))
    }
}

/// Tells whether a [`PendingRefs`] has its answer.
pub struct AnswerWatch(tokio::task::AbortHandle);

impl AnswerWatch {
    pub fn answered(&self) -> bool {
        self.0.is_finished()
    }
}

/// What the blast radius needs from a server: references and call hierarchy.
fn capabilities_suffice(c: &maintaind_lsp_bridge::Client) -> bool {
    c.capabilities.references_provider.is_some() && c.capabilities.call_hierarchy_provider.is_some()
}

fn references_on(rt: &tokio::runtime::Handle, bridge: &Bridge, kind: ServerKind, root: &Path, file: &str, pos: Pos) -> Result<Vec<ServerRef>, BridgeError> {
    let abs = root.join(file);
    // TypeScript 7 answers about a file it does not have open, from the loaded project that
    // holds it: nothing to open (an open would clone its snapshot, and opening a file of a
    // covered project would load that project). tsserver answers only about open files: the
    // file is held open for this request and closed after it.
    if kind == ServerKind::Native {
        return references_asked(rt, bridge, root, &abs, pos);
    }
    rt.block_on(bridge.lease(&abs, || std::fs::read_to_string(&abs).ok()))?;
    let answer = references_asked(rt, bridge, root, &abs, pos);
    rt.block_on(bridge.release(&abs));
    answer
}

fn references_asked(rt: &tokio::runtime::Handle, bridge: &Bridge, root: &Path, abs: &Path, pos: Pos) -> Result<Vec<ServerRef>, BridgeError> {
    let line_text = line_of(abs, pos.line);
    let character = utf16_col(&line_text, pos.col as usize);
    let params = lsp_types::ReferenceParams {
        text_document_position: lsp_types::TextDocumentPositionParams {
            text_document: lsp_types::TextDocumentIdentifier { uri: uri_of(abs)? },
            position: lsp_types::Position { line: pos.line, character: character as u32 },
        },
        context: lsp_types::ReferenceContext { include_declaration: true },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let asked = std::time::Instant::now();
    let locations = rt.block_on(bridge.request::<lsp_types::request::References>(params, REQUEST_TIMEOUT))?.unwrap_or_default();
    let answered = asked.elapsed();
    let mut out = Vec::new();
    // The server's columns are UTF-16; the registry's are bytes. Each referencing file is read
    // once, and only the lines named are looked at (this runs before the answer is handed over,
    // so it is on every blast's critical path).
    let mut texts: std::collections::HashMap<PathBuf, Option<LineIndex>> = std::collections::HashMap::new();
    for loc in locations {
        let Some(path) = uri_to_path(loc.uri.as_str()) else { continue };
        let Ok(rel) = path.strip_prefix(root) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let line = loc.range.start.line;
        let ch = loc.range.start.character as usize;
        let text = texts.entry(path.clone()).or_insert_with(|| std::fs::read_to_string(&path).ok().map(LineIndex::new));
        let col = text.as_ref().and_then(|t| t.line(line as usize)).map(|l| byte_col(l, ch)).unwrap_or(ch);
        out.push(ServerRef { file: rel, pos: Pos { line, col: col as u32 } });
    }
    out.sort();
    out.dedup();
    tracing::debug!(request_us = answered.as_micros() as u64, columns_us = (asked.elapsed() - answered).as_micros() as u64, locations = out.len(), "references");
    Ok(out)
}

/// The LSP URI of a path (`file://…`, percent-encoded).
fn uri_of(path: &Path) -> Result<lsp_types::Uri, BridgeError> {
    let text = maintaind_lsp_bridge::path_to_uri(path);
    text.parse().map_err(|e| BridgeError::BadResponse { method: "uri".into(), detail: format!("{text} is not a URI: {e:?}") })
}

/// A file's text with where each line starts, so that a line is found without splitting the
/// rest into strings.
struct LineIndex {
    text: String,
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: String) -> LineIndex {
        let starts = std::iter::once(0).chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// Line `n` (0-based) without its line end; `None` past the end.
    fn line(&self, n: usize) -> Option<&str> {
        let start = *self.starts.get(n)?;
        let end = self.starts.get(n + 1).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(start..end.max(start))?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

fn line_of(path: &Path, line: u32) -> String {
    std::fs::read_to_string(path).ok().and_then(|t| t.lines().nth(line as usize).map(str::to_string)).unwrap_or_default()
}

/// One edit of a file's text: bytes `from..to` become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub from: usize,
    pub to: usize,
    pub text: String,
}

/// Byte column → UTF-16 column within one line.
pub fn utf16_col(line: &str, byte_col: usize) -> usize {
    line.get(..byte_col.min(line.len())).map(|s| s.encode_utf16().count()).unwrap_or(byte_col)
}

/// UTF-16 column → byte column within one line.
pub fn byte_col(line: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    line.len()
}

struct Probe {
    dir: String,
    /// The file opened to load the project; it imports `target`.
    importer: Option<String>,
    /// (file, name position) of a symbol `importer` imports from another file, and the
    /// position of its name in `importer`'s import clause.
    target: Option<(String, Pos, Pos)>,
}

/// The covered projects of the registry's tsconfigs ([`maintaind_registry::TsConfigSet::covered`]),
/// over its TypeScript files.
pub fn covered_projects(registry: &Registry) -> std::collections::HashMap<String, String> {
    let files: Vec<&str> = registry.paths().filter(|p| maintaind_registry::classify(p).is_some_and(|l| l != FileLang::Prisma)).collect();
    registry.tsconfigs().covered(&files)
}

/// One probe per tsconfig directory that is not covered, deterministic (the first qualifying
/// file in path order); a covered one gets none.
fn choose_probes(registry: &Registry, covered: &std::collections::HashMap<String, String>) -> Vec<Probe> {
    let configs = registry.tsconfigs();
    let mut dirs = configs.dirs();
    if dirs.is_empty() {
        dirs.push(String::new());
    }
    // Without any config, every file is the root's.
    let nearest_dir = |file: &str| configs.nearest_dir(file).unwrap_or("");
    dirs.iter()
        .map(|dir| {
            if covered.contains_key(dir) {
                return Probe { dir: dir.clone(), importer: None, target: None };
            }
            let config = configs.main_config(dir);
            // Files the config includes first: one it does not include would be loaded into an
            // inferred project of its own.
            // By path first: only the files looked at are parsed (the registry may be filling).
            let (included, others): (Vec<&str>, Vec<&str>) = registry.paths().partition(|p| config.is_none_or(|c| c.includes(p)));
            for path in included.into_iter().chain(others) {
                if maintaind_registry::classify(path).is_none_or(|l| l == FileLang::Prisma || l == FileLang::Declaration) || nearest_dir(path) != dir.as_str() {
                    continue;
                }
                let Some(file) = registry.file(path) else { continue };
                for import in file.imports.iter().filter(|i| !i.reexport) {
                    let Some(target) = registry.resolve_import(&file.path, &import.specifier) else { continue };
                    let Some(tf) = registry.file(&target) else { continue };
                    if tf.lang == FileLang::Declaration {
                        continue;
                    }
                    for name in &import.names {
                        let Some(sym) = tf.symbols.iter().find(|s| s.name == name.imported && s.exported && s.kind != SymbolKind::Reexport) else { continue };
                        let Some(at) = file.imported_name_at(import, &name.imported) else { continue };
                        return Probe { dir: dir.clone(), importer: Some(file.path.clone()), target: Some((target.clone(), sym.name_span.start, at)) };
                    }
                }
            }
            Probe { dir: dir.clone(), importer: None, target: None }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_index_finds_lines_as_str_lines_does() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\nx\n", "é\n한국어\nz"] {
            let index = LineIndex::new(text.to_string());
            let expected: Vec<&str> = text.lines().collect();
            let got: Vec<&str> = (0..expected.len()).map(|n| index.line(n).unwrap()).collect();
            assert_eq!(got, expected, "{text:?}");
            assert!(index.line(expected.len() + 1).is_none());
        }
    }

    #[test]
    fn utf16_conversions() {
        let line = "const café = \"😀\"; x";
        let x = line.find('x').unwrap();
        let u = utf16_col(line, x);
        assert_eq!(u, x - 1 /* é is 2 bytes, 1 unit */ - 2 /* 😀 is 4 bytes, 2 units */);
        assert_eq!(byte_col(line, u), x);
        assert_eq!(byte_col("ab", 10), 2);
    }
}

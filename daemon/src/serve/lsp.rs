//! `maintaind lsp`: a language server on stdio for editors (tower-lsp-server), backed by the
//! daemon, which it starts when none is running.
//!
//! It adds what the TypeScript server does not know, next to it (editors run both):
//! - `workspace/executeCommand`: `maintaind.blastRadius`, `maintaind.planChange`,
//!   `maintaind.showManifest`, `maintaind.clearManifest`, `maintaind.status`;
//! - code lenses on exported declarations ("N references · M files in blast radius"),
//!   computed only when the editor resolves one;
//! - a warning diagnostic on a file edited outside the active manifest's scope;
//! - a `maintaind/status` notification with the daemon's status (`rpc::Status`, or
//!   `{"state": "not running" | "unreachable", ...}`) when the editor connects, again when the
//!   daemon is ready (`status` with `wait_ready`: no polling), and after every command, so an
//!   editor can show it without asking on a timer.
//!
//! Every handler does its blocking work (daemon calls, manifest reads) on tokio's blocking
//! pool; a panic there becomes an error reply for that request only. tower-lsp-server is the
//! router: one method, one handler, every request answered once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::blast::Relation;
use crate::daemon::DaemonOptions;
use crate::manifest::{Manifest, ManifestError, ManifestStore};
use crate::rpc::{self, CallError, method};

/// The daemon's status, pushed to the editor (see the module doc).
enum StatusNotification {}
impl notification::Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "maintaind/status";
}

/// The daemon's status as `maintaind.status` and `maintaind/status` give it; `wait_ready`
/// answers once the daemon has booted. Never starts a daemon.
fn daemon_status(state: &State, wait_ready: bool) -> Result<Value> {
    let root = state.root()?;
    match rpc::Client::connect(&root) {
        Ok(Some(mut c)) => c.request::<method::Status>(&rpc::StatusParams { wait_ready }).map(|s| serde_json::to_value(s).expect("a status serialises")).map_err(|e| internal(e.to_string())),
        Ok(None) => Ok(json!({"state": "not running", "root": root.display().to_string()})),
        Err(e) => Ok(json!({"state": "unreachable", "root": root.display().to_string(), "message": e.to_string()})),
    }
}

pub const COMMANDS: [&str; 5] = ["maintaind.blastRadius", "maintaind.planChange", "maintaind.showManifest", "maintaind.clearManifest", "maintaind.status"];

/// Serve LSP on stdin/stdout until the editor says `exit`.
pub fn serve(start: Start, root: Option<PathBuf>) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(async move {
        let (service, socket) =
            LspService::new(|client| Backend { client, state: Arc::new(State { root: RwLock::new(root), start, warned: Default::default(), starting: Default::default(), docs: Default::default() }) });
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    });
    Ok(())
}

/// How to start the daemon when none is running (the CLI's `--ts-server` and `--offline`).
#[derive(Clone, Copy)]
pub struct Start {
    pub ts_server: Option<maintaind_lsp_bridge::ServerChoice>,
    pub offline: bool,
}

struct State {
    root: RwLock<Option<PathBuf>>,
    start: Start,
    /// Documents currently carrying an out-of-scope warning (cleared with the manifest).
    warned: std::sync::Mutex<Vec<Uri>>,
    starting: std::sync::Mutex<()>,
    /// The text of each open document, as the editor has it (full sync).
    docs: std::sync::Mutex<std::collections::HashMap<Uri, String>>,
}

impl State {
    fn root(&self) -> Result<PathBuf> {
        self.root.read().unwrap().clone().ok_or_else(|| invalid("no project root: open a folder with .git or package.json"))
    }

    /// A connection to the daemon, starting one when none is running (one start at a time).
    fn daemon(&self) -> Result<rpc::Client> {
        let root = self.root()?;
        let _one_start = self.starting.lock().unwrap_or_else(|p| p.into_inner());
        match rpc::Client::connect(&root) {
            Ok(Some(c)) => return Ok(c),
            Ok(None) => {}
            Err(e) => return Err(internal(format!("cannot talk to the maintaind daemon: {e}"))),
        }
        let opts = DaemonOptions::on_behalf(&root);
        crate::daemon::spawn(&root, self.start.ts_server, self.start.offline, &opts).map_err(|e| internal(format!("cannot start the maintaind daemon: {e:#}")))?;
        rpc::Client::connect(&root).map_err(|e| internal(e.to_string()))?.ok_or_else(|| internal("the maintaind daemon started but does not answer"))
    }

    fn request<M: rpc::Method>(&self, params: &M::Params) -> Result<M::Result> {
        self.daemon()?.request::<M>(params).map_err(|e| match e {
            CallError::Rpc(r) if r.code == rpc::code::BAD_INPUT || r.code == rpc::code::INVALID_PARAMS => invalid(r.message),
            other => internal(other.to_string()),
        })
    }

    /// The root-relative path of a document, or `None` when it is outside the root.
    fn rel(&self, uri: &Uri) -> Option<String> {
        let root = self.root().ok()?;
        let path = uri.to_file_path()?;
        let rel = path.strip_prefix(&root).ok()?;
        Some(crate::walk::rel_path(Path::new(""), rel))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error { code: ErrorCode::InvalidParams, message: message.into().into(), data: None }
}

fn internal(message: impl Into<String>) -> Error {
    Error { code: ErrorCode::InternalError, message: message.into().into(), data: None }
}

/// Run blocking work off the async threads; a panic becomes an error reply.
async fn blocking<T: Send + 'static>(what: &'static str, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => {
            let message = crate::daemon::panic_message(e.into_panic().as_ref());
            tracing::error!("panic in {what}: {message}");
            Err(internal(format!("maintaind: internal error in {what}: {message}")))
        }
        Err(e) => Err(internal(format!("maintaind: {what} was cancelled: {e}"))),
    }
}

struct Backend {
    client: Client,
    state: Arc<State>,
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        #[allow(deprecated)]
        let folder = params.workspace_folders.as_ref().and_then(|f| f.first()).map(|f| f.uri.clone()).or(params.root_uri.clone());
        if let Some(dir) = folder.as_ref().and_then(|u| u.to_file_path()).map(|p| p.into_owned())
            && dir.is_dir()
        {
            let root = dir.canonicalize().ok().and_then(|r| {
                // The folder itself when it is a project, else its nearest project ancestor.
                r.ancestors().find(|d| d.join(".git").exists() || d.join("package.json").exists()).map(Path::to_path_buf).or(Some(r))
            });
            *self.state.root.write().unwrap() = root;
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::FULL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..Default::default()
                })),
                code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(true) }),
                execute_command_provider: Some(ExecuteCommandOptions { commands: COMMANDS.iter().map(|c| c.to_string()).collect(), ..Default::default() }),
                ..Default::default()
            },
            server_info: Some(ServerInfo { name: "maintaind".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Start (or reach) the daemon now, so the first command does not pay for it.
        let state = self.state.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let starting = state.clone();
            if let Err(e) = blocking("starting the daemon", move || starting.daemon().map(drop)).await {
                client.show_message(MessageType::WARNING, format!("maintaind: {}", e.message)).await;
            }
            let now = publish_status(&client, &state, false).await;
            if now.is_some_and(|s| s["state"] == "starting") {
                publish_status(&client, &state, true).await;
            }
        });
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.state.docs.lock().unwrap().insert(params.text_document.uri.clone(), params.text_document.text);
        // Opening is not editing: clear whatever an earlier session said.
        self.client.publish_diagnostics(params.text_document.uri, Vec::new(), None).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Full sync: the last change carries the whole text.
        if let Some(change) = params.content_changes.into_iter().last() {
            self.state.docs.lock().unwrap().insert(params.text_document.uri.clone(), change.text);
        }
        self.scope_diagnostic(params.text_document.uri).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.scope_diagnostic(params.text_document.uri).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.state.docs.lock().unwrap().remove(&params.text_document.uri);
        self.client.publish_diagnostics(params.text_document.uri, Vec::new(), None).await;
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let state = self.state.clone();
        let uri = params.text_document.uri;
        blocking("codeLens", move || {
            let Some(rel) = state.rel(&uri) else { return Ok(None) };
            if maintaind_registry::classify(&rel).is_none() {
                return Ok(None);
            }
            let hits = state.request::<method::FileSymbols>(&rpc::FileParams { file: rel.clone() })?;
            let lenses = hits
                .into_iter()
                .map(|h| {
                    let pos = Position { line: h.line - 1, character: h.column - 1 };
                    CodeLens {
                        range: Range { start: pos, end: pos },
                        command: None,
                        data: Some(json!({"uri": uri.as_str(), "file": rel, "name": h.name, "line": h.line - 1, "character": h.column - 1})),
                    }
                })
                .collect();
            Ok(Some(lenses))
        })
        .await
    }

    async fn code_lens_resolve(&self, lens: CodeLens) -> Result<CodeLens> {
        let state = self.state.clone();
        blocking("codeLens/resolve", move || {
            let data = lens.data.clone().ok_or_else(|| invalid("a maintaind code lens carries its symbol in `data`"))?;
            let (Some(file), Some(name)) = (data.get("file").and_then(Value::as_str), data.get("name").and_then(Value::as_str)) else {
                return Err(invalid("code lens data needs `file` and `name`"));
            };
            let report = state.request::<method::Blast>(&rpc::BlastParams::new(format!("{file}#{name}"), crate::blast::ChangeKind::Behavior))?;
            let references = report.impacted.iter().filter(|i| matches!(i.relation, Relation::Caller | Relation::Reference)).count();
            let title = format!(
                "{references} reference{} · {} file{} in blast radius{}",
                plural(references),
                report.files.len(),
                plural(report.files.len()),
                if report.approximate { " (approximate)" } else { "" }
            );
            let arguments = json!({"uri": data.get("uri"), "position": {"line": data.get("line"), "character": data.get("character")}});
            Ok(CodeLens { command: Some(Command { title, command: "maintaind.blastRadius".into(), arguments: Some(vec![arguments]) }), ..lens })
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let answer = self.run_command(params).await;
        publish_status(&self.client, &self.state, false).await;
        answer
    }
}

impl Backend {
    async fn run_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let state = self.state.clone();
        let command = params.command.clone();
        let answer = match command.as_str() {
            "maintaind.blastRadius" => blocking("maintaind.blastRadius", move || blast_radius(&state, &params.arguments)).await?,
            "maintaind.planChange" => blocking("maintaind.planChange", move || plan_change(&state, &params.arguments)).await?,
            "maintaind.showManifest" => blocking("maintaind.showManifest", move || show_manifest(&state)).await?,
            "maintaind.clearManifest" => {
                let answer = blocking("maintaind.clearManifest", move || {
                    let root = state.root()?;
                    let was = ManifestStore::new(&root).clear().map_err(|e| internal(e.to_string()))?;
                    Ok(json!({"cleared": was}))
                })
                .await?;
                // No manifest, no scope: the warnings no longer apply.
                let warned = std::mem::take(&mut *self.state.warned.lock().unwrap());
                for uri in warned {
                    self.client.publish_diagnostics(uri, Vec::new(), None).await;
                }
                answer
            }
            "maintaind.status" => blocking("maintaind.status", move || daemon_status(&state, false)).await?,
            #[cfg(debug_assertions)]
            "maintaind.debugPanic" => blocking("maintaind.debugPanic", || -> Result<Value> { panic!("deliberate panic (debug builds only, for tests)") }).await?,
            other => return Err(invalid(format!("unknown command `{other}` (maintaind offers {})", COMMANDS.join(", ")))),
        };
        Ok(Some(answer))
    }
}

/// Send the daemon's status to the editor; `None` when it could not be read.
async fn publish_status(client: &Client, state: &Arc<State>, wait_ready: bool) -> Option<Value> {
    let state = state.clone();
    let status = blocking("maintaind/status", move || daemon_status(&state, wait_ready)).await.ok()?;
    client.send_notification::<StatusNotification>(status.clone()).await;
    Some(status)
}

impl Backend {
    /// Warn when an edited file is outside the active manifest's scope; clear otherwise.
    async fn scope_diagnostic(&self, uri: Uri) {
        let state = self.state.clone();
        let target = uri.clone();
        let verdict = blocking("scope check", move || {
            let Some(rel) = state.rel(&target) else { return Ok(None) };
            let root = state.root()?;
            Ok(match ManifestStore::new(&root).active() {
                Ok(manifest) => {
                    let v = crate::gate::check(&root, &manifest, &rel);
                    (!v.allowed).then(|| format!("outside the active change `{}`: {}", manifest.id, v.reason))
                }
                Err(ManifestError::NoneActive) => None,
                Err(e) => Some(format!("the active change cannot authorise edits: {e}")),
            })
        })
        .await;
        let diagnostics = match verdict {
            Ok(Some(message)) => vec![Diagnostic {
                range: Range { start: Position { line: 0, character: 0 }, end: Position { line: 0, character: 0 } },
                severity: Some(DiagnosticSeverity::WARNING),
                code: Some(NumberOrString::String("out-of-scope".into())),
                source: Some("maintaind".into()),
                message,
                ..Default::default()
            }],
            Ok(None) => Vec::new(),
            Err(e) => {
                self.client.log_message(MessageType::WARNING, format!("maintaind: {}", e.message)).await;
                return;
            }
        };
        {
            let mut warned = self.state.warned.lock().unwrap();
            warned.retain(|u| u != &uri);
            if !diagnostics.is_empty() {
                warned.push(uri.clone());
            }
        }
        self.client.publish_diagnostics(uri, diagnostics, None).await;
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `[{uri, position: {line, character}, change?}]` or `[uri, position, change?]`.
fn blast_radius(state: &State, args: &[Value]) -> Result<Value> {
    let usage = || invalid("maintaind.blastRadius takes [{\"uri\": ..., \"position\": {\"line\": L, \"character\": C}, \"change\": KIND?}]");
    let (uri, position, change) = match args {
        [Value::Object(o)] => (o.get("uri").cloned(), o.get("position").cloned(), o.get("change").cloned()),
        [uri, position] => (Some(uri.clone()), Some(position.clone()), None),
        [uri, position, change] => (Some(uri.clone()), Some(position.clone()), Some(change.clone())),
        _ => return Err(usage()),
    };
    let uri: Uri = uri.and_then(|u| serde_json::from_value(u).ok()).ok_or_else(usage)?;
    let position: Position = position.and_then(|p| serde_json::from_value(p).ok()).ok_or_else(usage)?;
    let change = match change {
        None | Some(Value::Null) => crate::blast::ChangeKind::Behavior,
        Some(c) => serde_json::from_value(c.clone()).map_err(|_| invalid(format!("unknown change kind {c} (rename, signature, shape, return, remove, behavior)")))?,
    };
    let rel = state.rel(&uri).ok_or_else(|| invalid(format!("{} is not under the project root", uri.as_str())))?;
    // Positions are in the editor's buffer; when it differs from the disk, the daemon answers
    // in the buffer's state.
    let buffer = state.docs.lock().unwrap().get(&uri).cloned();
    let on_disk = std::fs::read_to_string(state.root()?.join(&rel)).ok();
    let text = buffer.filter(|b| on_disk.as_deref() != Some(b.as_str()));
    let report = state.request::<method::BlastAt>(&rpc::BlastAtParams { file: rel.clone(), line: position.line, character: position.character, change, text })?;
    let root = state.root()?;
    let locations = locations(&root, &report.impacted);
    let mut value = serde_json::to_value(&report).map_err(|e| internal(e.to_string()))?;
    value["root"] = json!(root.display().to_string());
    value["locations"] = json!(locations);
    Ok(value)
}

/// Impacts as editor locations: must-change first, then by file and line.
fn locations(root: &Path, impacts: &[crate::blast::Impact]) -> Vec<Value> {
    let mut sorted: Vec<&crate::blast::Impact> = impacts.iter().collect();
    sorted.sort_by(|a, b| b.must_change.cmp(&a.must_change).then(a.file.cmp(&b.file)).then(a.line.cmp(&b.line)));
    sorted.into_iter().map(|i| location(root, i)).collect()
}

fn location(root: &Path, i: &crate::blast::Impact) -> Value {
    let path = root.join(&i.file);
    json!({
        "uri": Uri::from_file_path(&path).map(|u| u.as_str().to_string()),
        "path": path.display().to_string(),
        "file": i.file,
        "line": i.line,
        "symbol": i.symbol,
        "relation": i.relation,
        "must_change": i.must_change,
        "via": i.via,
    })
}

/// `[request]` or `[{request, apply?}]`: plan with the offline planner; the manifest becomes
/// active. With `apply`, a mechanical plan is then carried out as `change --apply` does (in
/// the daemon, which writes the files; the editor reloads them) and `applied` says how it went.
fn plan_change(state: &State, args: &[Value]) -> Result<Value> {
    const TAKES: &str = "maintaind.planChange takes [\"REQUEST\"] or [{\"request\": \"REQUEST\", \"apply\": true}]";
    let (request, apply) = match args {
        [Value::String(s)] => (s.clone(), false),
        [Value::Object(o)] => {
            if let Some(k) = o.keys().find(|k| !["request", "apply"].contains(&k.as_str())) {
                return Err(invalid(format!("unknown field `{k}`: {TAKES}")));
            }
            let request = o.get("request").and_then(Value::as_str).map(str::to_string).ok_or_else(|| invalid(TAKES))?;
            let apply = match o.get("apply") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(invalid(format!("`apply` is true or false: {TAKES}"))),
            };
            (request, apply)
        }
        _ => return Err(invalid(TAKES)),
    };
    if request.trim().is_empty() {
        return Err(invalid("empty request: say what should change"));
    }
    let manifest = state.request::<method::Change>(&rpc::ChangeParams { request, dry_run: false, no_lsp: false, allow_no_tests: false, amend: false, decisions: None })?;
    // A rejected criterion leaves the plan stored but not active (as `maintaind change` does).
    let mut answer = manifest_answer(&state.root()?, &manifest, !manifest.has_rejection())?;
    if apply && !manifest.has_rejection() {
        let applied = state.request::<method::ChangeApply>(&rpc::ChangeApplyParams { manifest: Some(manifest.id.clone()), plan: None, request: Some(crate::journal::new_request_id()) })?;
        let line = applied_line(&applied);
        answer["summary"] = Value::String(format!("{line}\n\n{}", answer["summary"].as_str().unwrap_or_default()));
        answer["applied"] = serde_json::to_value(&applied).map_err(|e| invalid(e.to_string()))?;
    }
    Ok(answer)
}

/// One line on what `apply` did, for the editor's summary.
fn applied_line(r: &crate::mechanical::ChangeApplied) -> String {
    use crate::mechanical::Outcome;
    let files = r.applied.as_ref().map(|a| a.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    match r.outcome {
        Outcome::Applied => format!("APPLIED ({}): {files}; no new errors. Undo with `maintaind rollback`.", r.kinds.join(", ")),
        Outcome::RolledBack => {
            let errors = r.applied.as_ref().map(|a| a.diagnostics.new_errors.iter().map(|e| format!("{}:{}: {}", e.file, e.line, e.message)).collect::<Vec<_>>().join("; ")).unwrap_or_default();
            format!("ROLLED BACK: the change added errors ({errors}); nothing of it remains, the plan stays active for a coder.")
        }
        Outcome::Unverified => format!("ROLLED BACK: the change could not be checked ({}); the plan stays active.", r.applied.as_ref().map(|a| a.diagnostics.notes.join("; ")).unwrap_or_default()),
        Outcome::PlanOnly => format!("NOT APPLIED: {}", r.reason.as_deref().unwrap_or("plan only: needs a coder")),
        Outcome::DryRun => "not applied (dry run)".into(),
    }
}

fn show_manifest(state: &State) -> Result<Value> {
    let root = state.root()?;
    match ManifestStore::new(&root).active() {
        Ok(m) => manifest_answer(&root, &m, true),
        Err(ManifestError::NoneActive) => Ok(json!({"active": false, "summary": "no active manifest (plan one with maintaind.planChange)"})),
        Err(e) => Err(invalid(e.to_string())),
    }
}

/// The manifest, a plain-text summary, and the blast radius as locations, must-change first.
fn manifest_answer(root: &Path, m: &Manifest, active: bool) -> Result<Value> {
    let mut summary = vec![format!("{} — {}", m.id, m.decisions.summary), format!("request: {}", m.request), String::new(), "targets:".into()];
    summary.extend(m.facts.targets.iter().map(|t| format!("  {} {} ({}:{})", t.kind, t.symbol, t.file, t.start_line)));
    summary.push("files to modify:".into());
    summary.extend(m.facts.files_to_modify.iter().map(|f| format!("  {f}")));
    summary.push("tests:".into());
    summary.extend(m.facts.test_files.iter().map(|f| format!("  {f}")));
    if !m.feasibility.is_empty() {
        summary.push("acceptance criteria:".into());
        for f in &m.feasibility {
            match &f.verdict {
                crate::synthesizer::Verdict::Ok => summary.push(format!("  - {}", f.criterion)),
                crate::synthesizer::Verdict::Rejected { reason, alternative } => summary.push(format!("  - REJECTED {}: {reason}; instead: {alternative}", f.criterion)),
            }
        }
    }
    if !active && m.has_rejection() {
        summary.push(format!("not active: a criterion was rejected; activate anyway with `maintaind manifest activate {}`", m.id));
    }
    if m.provenance.approximate {
        summary.push("(approximate: planned partly from the registry alone)".into());
    }
    Ok(json!({
        "active": active,
        "manifest": m,
        "summary": summary.join("\n"),
        "locations": locations(root, &m.facts.blast_radius),
    }))
}

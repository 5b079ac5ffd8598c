//! `maintaind apply`: validate every edit against the manifest and the files (nothing written
//! if any fails), journal, write atomically, then ask the language server what broke.
//!
//! The server is asked for the diagnostics of the touched files and of every file in the
//! manifest's blast radius (must change and may be affected) *before* the write and again after; only diagnostics that were not there
//! before are reported, and new errors make the exit code 1 (the write stays: the journal
//! holds the way back, `maintaind rollback`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use maintaind_registry::is_typescript;

use crate::edits::{self, Edit, FileChange, OpError};
use crate::journal::Journal;
use crate::manifest::Manifest;
use crate::semantic::{ServerDiagnostic, new_diagnostics};
use crate::workspace::{RequestError, Workspace};

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplyReport {
    pub txn: String,
    pub manifest: String,
    pub files: Vec<WrittenFile>,
    pub diagnostics: DiagnosticsReport,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WrittenFile {
    pub path: String,
    /// `created`, `modified` or `deleted`.
    pub action: String,
    /// 1-based positions of the ops that touched it.
    pub ops: Vec<usize>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DiagnosticsReport {
    /// False with `--no-lsp`: nothing was checked, and the report says so.
    pub checked: bool,
    /// The files whose diagnostics were compared.
    pub files: Vec<String>,
    pub new_errors: Vec<ServerDiagnostic>,
    pub new_warnings: Vec<ServerDiagnostic>,
    /// Files the server gave no diagnostics for after the write: not checked (exit 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
    /// Set when the answer may be incomplete (a project not loaded, a request failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum ApplyError {
    /// Some ops cannot be applied; nothing was written.
    Invalid(Vec<OpError>),
    /// The manifest cannot authorise writes (stale); nothing was written.
    Manifest(String),
    /// The file system or the journal failed.
    Io(anyhow::Error),
}

/// Validate and apply `edits` under `manifest`; the caller holds the write lock and has
/// refreshed the workspace (and started the server unless `no_lsp`).
pub fn apply(ws: &mut Workspace, manifest: &Manifest, edits: &[Edit], no_lsp: bool, request: Option<&str>) -> Result<ApplyReport, ApplyError> {
    if let Some(problem) = crate::gate::manifest_problem(ws.root(), manifest, ws.registry()) {
        return Err(ApplyError::Manifest(problem));
    }
    let root = ws.root().to_path_buf();
    let registry = ws.registry();
    let locate = |q: &str| crate::blast::locate(registry, q).map_err(|e| e.to_string());
    let changes = edits::plan(&root, manifest, edits, &locate).map_err(ApplyError::Invalid)?;

    // The files whose diagnostics matter: those written, and every file the manifest says the
    // change reaches (what may be affected is where a wrong guess about "must" shows).
    let mut check: BTreeSet<String> = changes.keys().filter(|p| is_typescript(p)).cloned().collect();
    check.extend(manifest.facts.blast_radius.iter().filter(|i| is_typescript(&i.file)).map(|i| i.file.clone()));
    let mut notes = Vec::new();
    let semantic_ok = !no_lsp && ws.semantic().is_some();
    // Without a baseline nothing could be called new: fail before writing.
    let before = if semantic_ok {
        let mut failed = Vec::new();
        let before = diagnostics_of(ws, &check, &mut failed);
        if let Some(f) = failed.first() {
            return Err(ApplyError::Io(anyhow::anyhow!("nothing written; the language server gave no diagnostics before the write ({f}); retry, or pass --no-lsp to write unchecked")));
        }
        before
    } else {
        Vec::new()
    };

    let journal = Journal::new(&root);
    let mut txn = journal.prepare(Some(&manifest.id), request, &changes).map_err(|e| ApplyError::Io(e.context("nothing written: the journal could not record the old contents first")))?;
    journal.commit(&mut txn, &changes).map_err(ApplyError::Io)?;
    crate::journal::fault_point("after-commit");

    for path in changes.keys() {
        if maintaind_registry::classify(path).is_some()
            && let Err(e) = ws.update_file(path)
        {
            notes.push(format!("the registry could not take {path} in: {e:#}"));
        }
    }
    let files: Vec<WrittenFile> = changes.iter().map(|(path, c)| WrittenFile { path: path.clone(), action: action(c).to_string(), ops: c.ops.iter().map(|i| i + 1).collect() }).collect();
    check.retain(|p| changes.get(p).is_none_or(|c| c.after.is_some()));
    let diagnostics = if semantic_ok {
        if let Some(sem) = ws.semantic()
            && !sem.is_ready()
        {
            notes.push(format!("the language server had not loaded every project ({}); diagnostics may be incomplete", sem.unloaded_projects().join(", ")));
        }
        let mut unchecked = Vec::new();
        let after = diagnostics_of(ws, &check, &mut unchecked);
        let fresh = new_diagnostics(&before, &after);
        let (new_errors, new_warnings) = fresh.into_iter().partition(|d| d.error);
        DiagnosticsReport { checked: true, files: check.into_iter().collect(), new_errors, new_warnings, unchecked, notes }
    } else {
        notes.push("diagnostics not checked (--no-lsp): run `maintaind apply` without it, or your type checker, to see what broke".into());
        DiagnosticsReport { checked: false, files: Vec::new(), new_errors: Vec::new(), new_warnings: Vec::new(), unchecked: Vec::new(), notes }
    };
    Ok(ApplyReport { txn: txn.id, manifest: manifest.id.clone(), files, diagnostics })
}

/// The manifest that authorises an apply: `id`, else the active one.
pub fn load_manifest(root: &std::path::Path, id: Option<&str>) -> Result<Manifest, RequestError> {
    let store = crate::manifest::ManifestStore::new(root);
    match id {
        Some(id) => store.load(id),
        None => store.active(),
    }
    .map_err(|e| RequestError::BadInput(format!("{e} (apply writes only inside a planned change's scope)")))
}

/// Why no apply may run while an earlier one is half-done (`None`: none is).
pub fn interrupted(root: &std::path::Path) -> Option<String> {
    let t = Journal::new(root).interrupted().into_iter().next()?;
    Some(format!("apply {} was interrupted, so {} may be half-applied; run `maintaind rollback {}` first", t.id, t.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", "), t.id))
}

/// Everything `apply` does once the edits are parsed and the workspace is open (in the CLI's
/// process or the daemon's): take the write lock, refuse while an earlier apply is
/// half-done, bring the registry up to date, validate, write, check.
pub fn run(ws: &mut Workspace, manifest: &Manifest, ops: &[Edit], no_lsp: bool, who: &Requester) -> Result<ApplyReport, RequestError> {
    let root = ws.root().to_path_buf();
    let _lock = crate::journal::WriteLock::acquire(&crate::state::state_dir(&root), who.say, who.gone)?;
    if let Some(refusal) = interrupted(&root) {
        return Err(RequestError::BadInput(refusal));
    }
    let retention = crate::config::Config::load(&root).map(|c| c.journal_retention()).unwrap_or_default();
    for id in Journal::new(&root).clean(&retention) {
        who.say(&format!("pruned journal entry {id}"));
    }
    ws.refresh(&crate::workspace::NoProgress)?;
    apply(ws, manifest, ops, no_lsp, who.request).map_err(|e| match e {
        ApplyError::Invalid(errors) => RequestError::BadInput(format!(
            "nothing written; {} of {} edit(s) cannot be applied:\n{}",
            errors.len(),
            ops.len(),
            errors.iter().map(|e| format!("  op {} ({}): {}", e.op, e.kind, e.message)).collect::<Vec<_>>().join("\n")
        )),
        ApplyError::Manifest(m) => RequestError::BadInput(format!("nothing written; {m}")),
        ApplyError::Io(e) => RequestError::Environment(e),
    })
}

/// Who asked for an apply: where its progress goes, whether it is still there (a daemon's
/// client can hang up while the write waits for the lock), and the id it gave the request
/// (recorded in the journal, so it can ask what became of it).
pub struct Requester<'a> {
    pub say: &'a dyn Fn(&str),
    pub gone: &'a dyn Fn() -> bool,
    pub request: Option<&'a str>,
}

impl Requester<'_> {
    pub fn say(&self, m: &str) {
        (self.say)(m)
    }
}

fn action(c: &FileChange) -> &'static str {
    match (&c.before, &c.after) {
        (None, _) => "created",
        (_, None) => "deleted",
        _ => "modified",
    }
}

/// Diagnostics of `files`; those the server could not answer for go to `failed`.
fn diagnostics_of(ws: &Workspace, files: &BTreeSet<String>, failed: &mut Vec<String>) -> Vec<ServerDiagnostic> {
    let Some(sem) = ws.semantic() else { return Vec::new() };
    let mut out = Vec::new();
    for f in files {
        match sem.diagnostics(f) {
            Ok(d) => out.extend(d),
            Err(e) => failed.push(format!("{f}: {e}")),
        }
    }
    out
}

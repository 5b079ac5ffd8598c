//! `maintaind check [--staged | --base REF | --range A..B]`: the blast-radius check, before a
//! commit or on a branch in CI.
//!
//! 1. git lists what the commit changes (HEAD → index with `--staged`, HEAD → working tree
//!    without; with `--base`/`--range`, the merge base → the branch's tip, so what a merge of
//!    the base into the branch brought in is not the branch's change). Without a TypeScript or
//!    Prisma file among them, only the manifest scope is checked and the command returns at
//!    once.
//! 2. Each changed file is extracted twice by the registry (HEAD blob, new content); symbols
//!    are compared by name and hash and each change gets a kind: a name gone is `remove` (or
//!    `rename` when a new name has the same declaration text), a changed parameter list is
//!    `signature`, a changed return type `return`, changed members of a type `shape`, a body
//!    alone `behavior` (never breaks anything).
//! 3. The workspace is put in the HEAD state (in memory, and in the language server through
//!    open documents) and the blast radius of each change is computed there, where the old
//!    symbol still exists. Must-change files the commit does not touch are the candidates.
//! 4. With the server: the candidates' errors in the HEAD state are compared with their
//!    errors in the new state; a new error fails the check. With `--no-lsp`: a candidate that
//!    references a removed or renamed symbol fails it.
//! 5. An active manifest also fails the check for every committed path outside its scope, and
//!    for every file written outside its scope since it was activated (`gate audit`), committed
//!    or not: a write that bypassed every hook is caught here at the latest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use maintaind_registry::{FileIndex, FileLang, Symbol, SymbolKind, classify, index_file, is_typescript};
use serde::Serialize;

use crate::blast::ChangeKind;
use crate::semantic::{ServerDiagnostic, new_diagnostics};
use crate::workspace::{RequestError, Workspace};

/// Where the new content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The index (`git diff --cached`): what `git commit` would record.
    Staged,
    /// The working tree (`git diff HEAD`).
    WorkTree,
    /// A branch: `tip` against the merge base of `base` and `tip` (`--base REF` is `REF` and
    /// HEAD; `--range A..B` is `A` and `B`). Both are revisions as the user wrote them.
    Branch { base: String, tip: String },
}

impl Source {
    /// The source a `check` asks for: at most one of `--staged`, `--base`, `--range`.
    pub fn of(staged: bool, base: Option<&str>, range: Option<&str>) -> Result<Source, String> {
        match (staged, base, range) {
            (false, None, None) => Ok(Source::WorkTree),
            (true, None, None) => Ok(Source::Staged),
            (false, Some(b), None) => Ok(Source::Branch { base: revision(b)?, tip: "HEAD".into() }),
            (false, None, Some(r)) => {
                let (a, b) = r.split_once("...").or_else(|| r.split_once("..")).ok_or_else(|| format!("--range {r:?}: expected A..B (a base and a tip, such as origin/main..HEAD)"))?;
                let tip = if b.is_empty() { "HEAD" } else { b };
                Ok(Source::Branch { base: revision(a)?, tip: revision(tip)? })
            }
            _ => Err("choose one of --staged, --base and --range".into()),
        }
    }
}

/// A revision as a user or a CI job writes it; never something git would read as an option.
fn revision(r: &str) -> Result<String, String> {
    let r = r.trim();
    if r.is_empty() {
        return Err("an empty revision: give a branch, tag or commit (such as origin/main)".into());
    }
    if r.starts_with('-') || r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("{r:?} is not a revision: a branch, tag or commit name has no spaces and does not start with '-'"));
    }
    Ok(r.to_string())
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SymbolChange {
    pub file: String,
    pub symbol: String,
    pub kind: ChangeKind,
    /// For a rename: the new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// `broken-caller` or `out-of-scope`.
    pub rule: String,
    pub file: String,
    /// 1-based, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// What was compared, for a branch (`--base`, `--range`): `origin/main..HEAD (merge base
    /// …, tip …)`; absent for the staged state and the working tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<String>,
    /// Every path the commit changes (root-relative).
    pub committed: Vec<String>,
    pub changes: Vec<SymbolChange>,
    /// Must-change files outside the commit, by the blast radius.
    pub candidates: Vec<String>,
    pub violations: Vec<Violation>,
    /// Whether the language server decided (false with `--no-lsp`: removed/renamed
    /// references only, and the output says so).
    pub checked_with_server: bool,
    pub manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The paths the commit changes, with their HEAD and new contents.
pub struct Commit {
    pub paths: Vec<String>,
    /// Paths whose content differs between any two of HEAD, index and working tree: they get
    /// overlays so the workspace matches each state exactly.
    overlay: BTreeSet<String>,
    source: Source,
    /// The revision the commit is compared with: HEAD, or where HEAD was before a
    /// fast-forward merge (`HEAD@{1}`), or a branch's merge base (a commit id); `None` in a
    /// repository without commits.
    base: Option<String>,
    /// A branch's tip as a commit id (`--base`, `--range`).
    tip: Option<String>,
    /// What was compared, for the reader: `origin/main..HEAD (merge base 1a2b3c4)`.
    pub compared: Option<String>,
    /// What the reader should know about what was compared.
    pub notes: Vec<String>,
}

/// Why the commits to compare could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// A revision that does not name a commit (exit 2).
    #[error("{0}")]
    Usage(String),
    /// git or the repository cannot answer (exit 3).
    #[error("{0}")]
    Environment(String),
}

/// `git` in `root`, stdout as bytes; a failure is an environment problem (exit 3).
pub fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new("git").arg("-C").arg(root).args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(out.stdout)
}

fn names(bytes: &[u8]) -> Vec<String> {
    bytes.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
}

/// git's empty tree: the base of a repository without commits.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

impl Commit {
    pub fn read(root: &Path, source: Source) -> Result<Commit, CommitError> {
        git(root, &["rev-parse", "--git-dir"]).map_err(|_| CommitError::Environment(format!("{} is not in a git repository; `maintaind check` compares commits", root.display())))?;
        if let Source::Branch { base, tip } = &source {
            return Commit::branch(root, base, tip);
        }
        Commit::local(root, source).map_err(CommitError::Environment)
    }

    fn local(root: &Path, source: Source) -> Result<Commit, String> {
        let has_head = git(root, &["rev-parse", "--verify", "-q", "HEAD"]).is_ok();
        let mut notes = Vec::new();
        let mut base_rev = has_head.then(|| "HEAD".to_string());
        let list = |extra: &[&str]| -> Result<Vec<String>, String> {
            let mut args = vec!["diff", "--name-only", "--no-renames", "-z", "--relative"];
            args.extend_from_slice(extra);
            Ok(names(&git(root, &args)?))
        };
        let mut staged = list(&["--cached", base_rev.as_deref().unwrap_or(EMPTY_TREE)])?;
        // `git merge --no-commit` that fast-forwards moves HEAD and stages nothing: what the
        // merge brought in is between where HEAD was and where it is now. Checking only the
        // (empty) index would pass a broken merge. (Only asked when nothing is staged, so a
        // normal commit pays no extra git call.)
        if source == Source::Staged && has_head && staged.is_empty() {
            let last = git(root, &["reflog", "-1", "--format=%gs", "HEAD"]).map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
            if last.starts_with("merge ") && last.ends_with("Fast-forward") {
                let before = String::from_utf8_lossy(&git(root, &["rev-parse", "--short", "HEAD@{1}"])?).trim().to_string();
                notes.push(format!("HEAD was just fast-forwarded (`{last}`), so nothing is staged: checking what the merge brought in, {before}..HEAD"));
                base_rev = Some("HEAD@{1}".to_string());
                staged = list(&["--cached", "HEAD@{1}"])?;
            }
        }
        let base = base_rev.as_deref().unwrap_or(EMPTY_TREE);
        let head_to_tree = list(&[base])?;
        let index_to_tree = list(&[])?;
        let paths = match source {
            Source::Staged => staged.clone(),
            _ => head_to_tree.clone(),
        };
        let overlay = staged.into_iter().chain(head_to_tree).chain(index_to_tree).collect();
        Ok(Commit { paths, overlay, source, base: base_rev, tip: None, compared: None, notes })
    }

    /// A branch against its merge base. The working tree may be anywhere (CI checks out the
    /// tip, a developer may not): every path that differs between any two of base, tip and
    /// working tree gets an overlay, so the workspace is exactly the base, then the tip.
    fn branch(root: &Path, base: &str, tip: &str) -> Result<Commit, CommitError> {
        let commit = |r: &str| -> Result<String, CommitError> {
            git(root, &["rev-parse", "--verify", "-q", "--end-of-options", &format!("{r}^{{commit}}")])
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .map_err(|_| CommitError::Usage(format!("{r:?} is not a commit here (in CI, fetch it first: `git fetch origin main`, or check out with fetch-depth: 0)")))
        };
        let (base_id, tip_id) = (commit(base)?, commit(tip)?);
        let merge_base = git(root, &["merge-base", &base_id, &tip_id]).map(|b| String::from_utf8_lossy(&b).trim().to_string()).map_err(|_| {
            CommitError::Environment(format!("{base} and {tip} have no common ancestor here; in a shallow clone fetch the history (`git fetch --unshallow`, or actions/checkout with fetch-depth: 0)"))
        })?;
        let short = |id: &str| id.get(..10).unwrap_or(id).to_string();
        let list = |a: &str, b: Option<&str>| -> Result<Vec<String>, CommitError> {
            let mut args = vec!["diff", "--name-only", "--no-renames", "-z", "--relative", a];
            args.extend(b);
            Ok(names(&git(root, &args).map_err(CommitError::Environment)?))
        };
        let paths = list(&merge_base, Some(&tip_id))?;
        let overlay = paths.iter().cloned().chain(list(&merge_base, None)?).chain(list(&tip_id, None)?).collect();
        let mut notes = Vec::new();
        if merge_base != base_id {
            notes.push(format!("{base} has moved on since {tip} branched off: comparing with their merge base {}, so only the branch's own changes count", short(&merge_base)));
        }
        let compared = format!("{base}..{tip} (merge base {}, tip {})", short(&merge_base), short(&tip_id));
        Ok(Commit { paths, overlay, source: Source::Branch { base: base.into(), tip: tip.into() }, base: Some(merge_base), tip: Some(tip_id), compared: Some(compared), notes })
    }

    /// Whether the commit touches TypeScript or Prisma at all.
    pub fn touches_code(&self) -> bool {
        self.paths.iter().any(|p| classify(p).is_some())
    }

    fn head(&self, root: &Path, path: &str) -> Option<Vec<u8>> {
        let base = self.base.as_deref()?;
        git(root, &["show", &format!("{base}:./{path}")]).ok()
    }

    fn new_content(&self, root: &Path, path: &str) -> Option<Vec<u8>> {
        match (&self.source, &self.tip) {
            (Source::Staged, _) => git(root, &["show", &format!(":./{path}")]).ok(),
            (_, Some(tip)) => git(root, &["show", &format!("{tip}:./{path}")]).ok(),
            _ => crate::safefs::read_regular(&root.join(path)).ok(),
        }
    }
}

/// Run the check. The workspace is open and refreshed (and its server started unless
/// `no_lsp`); it is left in the new state, in memory only.
pub fn check(ws: &mut Workspace, commit: &Commit, no_lsp: bool) -> Result<CheckReport, RequestError> {
    let root = ws.root().to_path_buf();
    let mut notes = commit.notes.clone();
    let what = if commit.compared.is_some() { "branch" } else { "commit" };
    let code: Vec<&String> = commit.overlay.iter().filter(|p| classify(p).is_some()).collect();
    let head: BTreeMap<String, Option<Vec<u8>>> = code.iter().map(|p| (p.to_string(), commit.head(&root, p))).collect();
    let new: BTreeMap<String, Option<Vec<u8>>> = code.iter().map(|p| (p.to_string(), commit.new_content(&root, p))).collect();

    let mut changes = Vec::new();
    for path in commit.paths.iter().filter(|p| classify(p).is_some()) {
        let old = head[path].as_deref().and_then(|b| index_file(path, b));
        let now = new[path].as_deref().and_then(|b| index_file(path, b));
        changes.extend(diff_symbols(path, old.as_ref(), now.as_ref()));
    }

    // The HEAD state: every differing file as HEAD has it.
    for (path, content) in &head {
        ws.overlay(path, content.as_deref());
    }
    let committed: BTreeSet<&str> = commit.paths.iter().map(String::as_str).collect();
    let mut analysis = ws.analysis();
    let mut candidates: BTreeMap<String, Vec<(usize, u32)>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if c.kind == ChangeKind::Behavior {
            continue;
        }
        let report = analysis.blast(&format!("{}#{}", c.file, c.symbol), c.kind, no_lsp, crate::blast::DEFAULT_DEPTH)?;
        if report.approximate && !no_lsp {
            notes.push(format!("the blast radius of {} is approximate: {}", c.symbol, report.notes.join("; ")));
        }
        for impact in report.impacted.iter().filter(|i| i.must_change && !committed.contains(i.file.as_str())) {
            candidates.entry(impact.file.clone()).or_default().push((i, impact.line));
        }
    }

    let mut violations = Vec::new();
    let with_server = !no_lsp && ws.semantic().is_some();
    if with_server {
        let files: Vec<&String> = candidates.keys().filter(|f| is_typescript(f)).collect();
        let before = diagnostics(ws.semantic().expect("running"), &files)?;
        for (path, content) in &new {
            ws.overlay(path, content.as_deref());
        }
        let after = diagnostics(ws.semantic().expect("still running"), &files)?;
        for d in new_diagnostics(&before, &after).into_iter().filter(|d| d.error) {
            let because: Vec<String> = candidates[&d.file].iter().map(|(i, _)| describe(&changes[*i])).collect::<BTreeSet<_>>().into_iter().collect();
            violations.push(Violation {
                rule: "broken-caller".into(),
                file: d.file.clone(),
                line: Some(d.line),
                message: format!("{}{} — not in the {what}; it must change because {}", d.code.as_deref().map(|c| format!("TS{c}: ")).unwrap_or_default(), d.message, because.join(", ")),
            });
        }
        if changes.iter().any(|c| classify(&c.file) == Some(FileLang::Prisma) && c.kind == ChangeKind::Shape) {
            notes.push("a Prisma model's shape changed: the language server sees that only after `prisma generate`, so its must-change files are listed as candidates, not verified".into());
        }
    } else {
        for (path, content) in &new {
            ws.overlay(path, content.as_deref());
        }
        if !candidates.is_empty() {
            notes.push("--no-lsp: only references to removed or renamed symbols fail the check; other must-change files are listed as candidates".into());
        }
    }
    // The registry rule: references to a removed or renamed symbol. It decides everything
    // without the server, and Prisma changes with it (the server sees a schema change only
    // through the generated client).
    for (file, hits) in &candidates {
        for (i, line) in hits {
            let c = &changes[*i];
            let prisma = classify(&c.file) == Some(FileLang::Prisma);
            if matches!(c.kind, ChangeKind::Remove | ChangeKind::Rename) && (!with_server || prisma) {
                violations
                    .push(Violation { rule: "broken-caller".into(), file: file.clone(), line: Some(*line), message: format!("references `{}`, {} — not in the {what}", c.symbol, describe(c)) });
            }
        }
    }
    violations.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.message == b.message);

    let manifest = scope_violations(&root, &commit.paths, &mut violations);
    Ok(CheckReport {
        compared: commit.compared.clone(),
        committed: commit.paths.clone(),
        changes,
        candidates: candidates.into_keys().collect(),
        violations,
        checked_with_server: with_server,
        manifest,
        notes,
    })
}

/// The check for a commit without TypeScript or Prisma changes: the manifest scope only.
pub fn scope_only(root: &Path, commit: &Commit) -> CheckReport {
    let mut violations = Vec::new();
    let manifest = scope_violations(root, &commit.paths, &mut violations);
    CheckReport {
        compared: commit.compared.clone(),
        committed: commit.paths.clone(),
        changes: Vec::new(),
        candidates: Vec::new(),
        violations,
        checked_with_server: false,
        manifest,
        notes: commit.notes.iter().cloned().chain(["no TypeScript or Prisma file in the commit: no blast radius to check".to_string()]).collect(),
    }
}

/// Committed paths outside the active manifest's scope, and files written outside it since
/// its activation; returns the manifest's id.
fn scope_violations(root: &Path, paths: &[String], violations: &mut Vec<Violation>) -> Option<String> {
    let store = crate::manifest::ManifestStore::new(root);
    store.active_id()?;
    match store.active() {
        Ok(m) => {
            for p in paths {
                let v = crate::gate::check(root, &m, p);
                if !v.allowed {
                    violations.push(Violation { rule: "out-of-scope".into(), file: p.clone(), line: None, message: format!("outside the active manifest {}: {}", m.id, v.reason) });
                }
            }
            let audit = store.tree(&m.id).map_err(|e| e.to_string()).and_then(|tree| crate::tree::audit(root, &m, &tree).map_err(|e| format!("cannot read the tree: {e}")));
            match audit {
                Ok(a) => {
                    for t in a.touched.iter().filter(|t| !t.in_scope && !paths.contains(&t.path)) {
                        let change = serde_json::to_value(t.change).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                        violations.push(Violation {
                            rule: "out-of-scope-write".into(),
                            file: t.path.clone(),
                            line: None,
                            message: format!(
                                "{change} outside the active manifest {} since its activation (not in this commit); undo it, or `maintaind manifest widen {} --reason \"...\"`",
                                m.id, t.path
                            ),
                        });
                    }
                }
                Err(e) => violations.push(Violation {
                    rule: "out-of-scope-write".into(),
                    file: ".maintaind/manifests".into(),
                    line: None,
                    message: format!("cannot audit the writes since the manifest's activation: {e}"),
                }),
            }
            Some(m.id)
        }
        Err(e) => {
            violations.push(Violation { rule: "out-of-scope".into(), file: ".maintaind/manifests".into(), line: None, message: format!("the active manifest cannot be used: {e}") });
            None
        }
    }
}

fn describe(c: &SymbolChange) -> String {
    match (&c.kind, &c.renamed_to) {
        (ChangeKind::Rename, Some(to)) => format!("{} was renamed to {} in {}", c.symbol, to, c.file),
        (ChangeKind::Remove, _) => format!("{} was removed from {}", c.symbol, c.file),
        (kind, _) => format!("the {} of {} changed in {}", kind_word(*kind), c.symbol, c.file),
    }
}

fn kind_word(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Signature => "parameters",
        ChangeKind::Return => "return type",
        ChangeKind::Shape => "shape",
        ChangeKind::Behavior => "body",
        ChangeKind::Rename => "name",
        ChangeKind::Remove => "existence",
    }
}

/// The candidates' diagnostics; a file the server cannot answer for makes the check unable
/// to decide, which is an error (exit 3), never a pass.
fn diagnostics(sem: &crate::semantic::Semantic, files: &[&String]) -> Result<Vec<ServerDiagnostic>, RequestError> {
    let mut out = Vec::new();
    for f in files {
        let d = sem.diagnostics(f).map_err(|e| RequestError::Environment(anyhow::anyhow!("the language server gave no diagnostics for {f} ({e}); the check cannot decide")))?;
        out.extend(d);
    }
    Ok(out)
}

/// The symbol changes between two extractions of one file, with their kinds.
pub fn diff_symbols(path: &str, old: Option<&FileIndex>, new: Option<&FileIndex>) -> Vec<SymbolChange> {
    let empty = Vec::new();
    let old_syms = old.map_or(&empty, |f| &f.symbols);
    let new_syms = new.map_or(&empty, |f| &f.symbols);
    let first = |list: &'_ [Symbol], name: &str| -> Option<Symbol> { list.iter().find(|s| s.name == name).cloned() };
    let old_names: BTreeSet<&str> = old_syms.iter().map(|s| s.name.as_str()).collect();
    let new_names: BTreeSet<&str> = new_syms.iter().map(|s| s.name.as_str()).collect();
    let mut out = Vec::new();
    let mut changed_types: BTreeSet<String> = BTreeSet::new();
    for name in &old_names {
        let o = first(old_syms, name).expect("listed");
        if !visible(old_syms, &o) {
            continue;
        }
        let Some(n) = first(new_syms, name) else {
            // Gone: a rename when a new name of the same kind has the same declaration text
            // (with the name swapped).
            let renamed = new_syms
                .iter()
                .filter(|s| s.kind == o.kind && !old_names.contains(s.name.as_str()) && parent(&s.name) == parent(&o.name))
                .find(|s| without_ident(&decl_key(&o), leaf(&o.name)) == without_ident(&decl_key(s), leaf(&s.name)));
            // A member of a type that is itself gone or renamed is covered by the type.
            if parent(&o.name).is_some_and(|p| !new_names.contains(p)) {
                continue;
            }
            out.push(SymbolChange {
                file: path.to_string(),
                symbol: o.name.clone(),
                kind: if renamed.is_some() { ChangeKind::Rename } else { ChangeKind::Remove },
                renamed_to: renamed.map(|s| s.name.clone()),
            });
            continue;
        };
        let same_decls = old_syms.iter().filter(|s| s.name == **name).map(|s| s.hash).collect::<Vec<_>>() == new_syms.iter().filter(|s| s.name == **name).map(|s| s.hash).collect::<Vec<_>>();
        if same_decls {
            continue;
        }
        let kind = match o.kind {
            SymbolKind::Function | SymbolKind::Method => {
                let (op, or) = split_signature(&o.signature);
                let (np, nr) = split_signature(&n.signature);
                if op != np {
                    ChangeKind::Signature
                } else if or != nr {
                    ChangeKind::Return
                } else {
                    ChangeKind::Behavior
                }
            }
            SymbolKind::Type | SymbolKind::Interface | SymbolKind::Enum => ChangeKind::Shape,
            SymbolKind::Model => ChangeKind::Shape,
            SymbolKind::Property | SymbolKind::Field => {
                // A member's change is its owner's shape change (reported once, for the owner).
                if let Some(owner) = parent(&o.name)
                    && changed_types.insert(owner.to_string())
                    && !out.iter().any(|c: &SymbolChange| c.symbol == owner)
                {
                    out.push(SymbolChange { file: path.to_string(), symbol: owner.to_string(), kind: ChangeKind::Shape, renamed_to: None });
                }
                continue;
            }
            SymbolKind::Class => {
                if o.signature == n.signature {
                    continue; // members are compared one by one
                }
                ChangeKind::Shape
            }
            SymbolKind::Namespace | SymbolKind::Reexport => continue,
            _ => {
                if o.signature == n.signature {
                    ChangeKind::Behavior
                } else {
                    ChangeKind::Shape
                }
            }
        };
        if kind == ChangeKind::Shape && !changed_types.insert(o.name.clone()) {
            continue;
        }
        out.push(SymbolChange { file: path.to_string(), symbol: o.name.clone(), kind, renamed_to: None });
    }
    // A member's shape change was pushed before its owner's entry could be: keep one per name.
    let mut seen = BTreeSet::new();
    out.retain(|c| seen.insert((c.symbol.clone(), c.kind)));
    out
}

/// Whether other files can see the symbol: exported, a member of an exported symbol, or
/// anything in a Prisma schema (global to the client).
fn visible(all: &[Symbol], s: &Symbol) -> bool {
    if s.name.starts_with("prisma:") || s.exported {
        return true;
    }
    let top = s.name.split('.').next().unwrap_or(&s.name);
    all.iter().any(|o| o.name == top && o.exported)
}

fn parent(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(p, _)| p)
}

fn leaf(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(_, l)| l).trim_start_matches("prisma:")
}

/// What a rename keeps: kind and signature (the index keeps no declaration text). A symbol
/// removed while another of the same kind and signature is added counts as renamed; both
/// break the old name's references the same way.
fn decl_key(s: &Symbol) -> String {
    format!("{}|{}", s.kind, s.signature)
}

/// `text` with every whole-word occurrence of identifier `name` blanked.
fn without_ident(text: &str, name: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before_ok = rest[..i].chars().next_back().is_none_or(|c| !is_ident(c)) && (i > 0 || out.chars().next_back().is_none_or(|c| !is_ident(c)));
        let after_ok = rest[i + name.len()..].chars().next().is_none_or(|c| !is_ident(c));
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { "\u{0}" } else { name });
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

/// `(params)` and `: Return` of a function or method signature.
fn split_signature(sig: &str) -> (&str, &str) {
    let Some(open) = sig.find('(') else { return (sig, "") };
    let mut depth = 0;
    for (i, c) in sig[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let end = open + i + 1;
                    return (&sig[..end], &sig[end..]);
                }
            }
            _ => {}
        }
    }
    (sig, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(old: &str, new: &str) -> Vec<(String, ChangeKind, Option<String>)> {
        let a = index_file("src/a.ts", old.as_bytes());
        let b = index_file("src/a.ts", new.as_bytes());
        diff_symbols("src/a.ts", a.as_ref(), b.as_ref()).into_iter().map(|c| (c.symbol, c.kind, c.renamed_to)).collect()
    }

    #[test]
    fn change_kinds_are_inferred() {
        let base = "export function f(a: number): string { return `${a}`; }\nexport type T = { x: number };\nfunction local() {}\n";
        assert_eq!(kinds(base, &base.replace("return `${a}`", "return `${a + 1}`")), vec![("f".into(), ChangeKind::Behavior, None)]);
        assert_eq!(kinds(base, &base.replace("f(a: number)", "f(a: number, b: number)")), vec![("f".into(), ChangeKind::Signature, None)]);
        assert_eq!(kinds(base, &base.replace("): string", "): number").replace("`${a}`", "a")), vec![("f".into(), ChangeKind::Return, None)]);
        assert_eq!(kinds(base, &base.replace("x: number", "x: string")), vec![("T".into(), ChangeKind::Shape, None)]);
        assert_eq!(kinds(base, &base.replace("export function f", "export function g")), vec![("f".into(), ChangeKind::Rename, Some("g".into()))]);
        assert_eq!(kinds(base, &base.replace("export function f(a: number): string { return `${a}`; }\n", "")), vec![("f".into(), ChangeKind::Remove, None)]);
        assert!(kinds(base, &base.replace("function local() {}", "function local() { return 1; }")).is_empty(), "not exported: nobody else sees it");
        assert_eq!(without_ident("function f(fa: f): f", "f"), "function \u{0}(fa: \u{0}): \u{0}");
        assert_eq!(split_signature("(a: (x: number) => void): Promise<T>"), ("(a: (x: number) => void)", ": Promise<T>"));
    }
}

//! `maintaind-bench apply --corpora DIR`: `maintaind change "…" --apply` on real generated
//! backends, judged by each backend's own compiler.
//!
//! Every request of `bench/real-requests.json` (the planner's table) and of
//! `bench/apply-requests.json` (renames of TypeScript symbols) runs on a fresh copy of its backend (a git
//! repository, `node_modules` hard-linked) through a running daemon with TypeScript 7. A change
//! maintaind carries out is then type-checked by the backend's own `tsc` (TypeScript 5.9, `-p
//! test/tsconfig.json`, which includes `src`): its errors are compared with the unchanged
//! copy's. The transaction is then rolled back with `maintaind rollback` and the copy must be
//! exactly as committed (`git status`). A request that is not mechanical must be refused as
//! "plan only" with exit 2 and nothing written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

pub const BEGIN: &str = "<!-- apply:begin (maintaind-bench apply) -->";
pub const END: &str = "<!-- apply:end -->";

pub struct Options {
    pub corpora: PathBuf,
    pub out: Option<PathBuf>,
    /// Request tables (`{"requests": [{"backend", "request"}]}`), read in turn.
    pub requests: Vec<PathBuf>,
    pub maintaind: Option<PathBuf>,
}

struct Row {
    backend: String,
    request: String,
    exit: i32,
    outcome: String,
    kinds: Vec<String>,
    files: Vec<String>,
    ms: u128,
    /// The backend's own compiler: errors the change added (`None`: not written, not checked).
    new_tsc_errors: Option<usize>,
    /// After `maintaind rollback`, the copy is byte for byte as committed.
    restored: Option<bool>,
    written_when_refused: bool,
}

pub fn run(o: Options) -> Result<()> {
    let maintaind = o.maintaind.clone().unwrap_or_else(|| std::env::current_exe().unwrap().with_file_name("maintaind"));
    let mut by_backend: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &o.requests {
        let table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?)?;
        for r in table["requests"].as_array().with_context(|| format!("{}: no `requests` array", file.display()))? {
            let (Some(b), Some(q)) = (r["backend"].as_str(), r["request"].as_str()) else { bail!("a request without backend or request text: {r}") };
            by_backend.entry(b.to_string()).or_default().push(q.to_string());
        }
    }
    let mut rows = Vec::new();
    for (backend, requests) in &by_backend {
        let root = o.corpora.join(backend);
        if !root.join("package.json").exists() {
            eprintln!("apply: {backend} is not in {}; skipped", o.corpora.display());
            continue;
        }
        eprintln!("apply: {backend}: {} request(s)", requests.len());
        rows.extend(backend_rows(&maintaind, backend, &root, requests)?);
    }
    let md = markdown(&rows);
    crate::publish(o.out.as_deref(), BEGIN, END, &md, "apply")
}

fn backend_rows(maintaind: &Path, backend: &str, root: &Path, requests: &[String]) -> Result<Vec<Row>> {
    let work = tempfile::tempdir()?;
    let copy = work.path().join("backend");
    crate::copy_backend(root, &copy)?;
    git(&copy, &["init", "-q"])?;
    std::fs::write(copy.join(".git/info/exclude"), ".maintaind/\nnode_modules/\n")?;
    git(&copy, &["add", "-A"])?;
    git(&copy, &["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "as generated"])?;
    let baseline = tsc(&copy)?;
    let m = |args: &[&str]| Command::new(maintaind).arg("--root").arg(&copy).args(args).output();
    let started = m(&["daemon", "start", "--ts-server", "native"])?;
    anyhow::ensure!(started.status.success(), "daemon start failed: {}", String::from_utf8_lossy(&started.stderr));
    let mut rows = Vec::new();
    for request in requests {
        let t = Instant::now();
        let out = m(&["change", request, "--apply", "--json"])?;
        let ms = t.elapsed().as_millis();
        let exit = out.status.code().unwrap_or(-1);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        // Before any edit: a plan with a rejected criterion (stored, not carried out), or a
        // request the planner refuses.
        let outcome = match v["outcome"].as_str() {
            Some(o) => o.to_string(),
            None if v["feasibility"].is_array() => "plan rejected a criterion".to_string(),
            None => "planner refused the request".to_string(),
        };
        let kinds: BTreeSet<String> = v["kinds"].as_array().into_iter().flatten().filter_map(|k| k.as_str().map(str::to_string)).collect();
        let files: Vec<String> = v["applied"]["files"].as_array().into_iter().flatten().filter_map(|f| f["path"].as_str().map(str::to_string)).collect();
        let dirty = status(&copy)?;
        let mut row = Row {
            backend: backend.to_string(),
            request: request.clone(),
            exit,
            outcome,
            kinds: kinds.into_iter().collect(),
            files,
            ms,
            new_tsc_errors: None,
            restored: None,
            written_when_refused: false,
        };
        // A Prisma change regenerates the Prisma client; undone, the client must be the old
        // schema's again, which the compiler shows (the same errors as the unchanged copy).
        let prisma = row.kinds.iter().any(|k| matches!(k.as_str(), "column rename" | "model rename" | "new column"));
        if row.outcome == "applied" {
            let after = tsc(&copy)?;
            row.new_tsc_errors = Some(after.difference(&baseline).count());
            let txn = v["applied"]["txn"].as_str().context("an applied change names its transaction")?;
            let undone = m(&["rollback", txn])?;
            anyhow::ensure!(undone.status.success(), "rollback {txn} failed: {}", String::from_utf8_lossy(&undone.stderr));
            row.restored = Some(status(&copy)?.is_empty() && (!prisma || tsc(&copy)? == baseline));
        } else if prisma && matches!(row.outcome.as_str(), "rolled_back" | "unverified") {
            row.restored = Some(dirty.is_empty() && tsc(&copy)? == baseline);
        } else {
            row.written_when_refused = !dirty.is_empty();
            if !dirty.is_empty() {
                // Leave the next request a clean copy.
                git(&copy, &["checkout", "-q", "--", "."])?;
            }
        }
        eprintln!("apply: {} -> {} (exit {}, {} ms)", row.request, row.outcome, row.exit, row.ms);
        rows.push(row);
    }
    let _ = m(&["daemon", "stop"]);
    Ok(rows)
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    anyhow::ensure!(out.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Files that differ from the commit (maintaind's state directory excluded).
fn status(dir: &Path) -> Result<String> {
    git(dir, &["status", "--porcelain"])
}

/// The backend's own compiler's errors, keyed by file, position and code.
fn tsc(dir: &Path) -> Result<BTreeSet<(String, String, String)>> {
    let out = Command::new(dir.join("node_modules/.bin/tsc")).args(["--noEmit", "--pretty", "false", "-p", "test/tsconfig.json"]).current_dir(dir).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let (head, rest) = l.split_once("): error ")?;
            let (file, pos) = head.rsplit_once('(')?;
            let code = rest.split(':').next()?;
            Some((file.to_string(), pos.to_string(), code.to_string()))
        })
        .collect())
}

/// How many files, and which: the first two named (`src/…` before `test/…`, as sorted).
fn files_cell(files: &[String]) -> String {
    let named: Vec<String> = files.iter().take(2).map(|f| format!("`{f}`")).collect();
    match files.len() {
        0 => "—".into(),
        1 | 2 => format!("{}: {}", files.len(), named.join(", ")),
        n => format!("{n}: {}, …", named.join(", ")),
    }
}

fn markdown(rows: &[Row]) -> String {
    let mut md = String::new();
    md.push_str("## Surgical changes: `change --apply` on real backends (issue 16)\n\n");
    md.push_str(&format!(
        "Produced by `maintaind-bench apply --corpora DIR` on {}, commit `{}`: every request of `bench/real-requests.json` and `bench/apply-requests.json` (renames, new parameters and Prisma model renames) through `maintaind change \"…\" --apply --json` on a fresh git copy of its backend, with a running daemon (TypeScript 7 native). An applied change is judged by the backend's own compiler (its `tsc`, TypeScript 5.9, `-p test/tsconfig.json`, errors compared with the unchanged copy's), then undone with `maintaind rollback` and the copy compared with the commit (`git status`). A Prisma change (kinds `column rename`, `model rename`, `new column`) is judged inside `--apply` by the backend's own `tsc` over every tsconfig project, before the write and after `prisma generate --no-engine` (run offline by maintaind with the backend's own Prisma CLI); its rollback must also leave the compiler's errors as the unchanged copy's (the client regenerated from the restored schema). Time: the whole command (plan, edits, write, the check: the server's diagnostics before and after, or for a Prisma change the project's `tsc` two to four times and `prisma generate`), warm daemon.\n\n",
        crate::today(),
        crate::commit()
    ));
    md.push_str("| backend | request | outcome (exit) | kind | files changed | time | own compiler: new errors | rollback exact |\n|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let short = r.backend.split_once('+').map_or(r.backend.as_str(), |(_, rest)| rest);
        let outcome = if r.written_when_refused { format!("{} ({}) **WROTE FILES**", r.outcome, r.exit) } else { format!("{} ({})", r.outcome, r.exit) };
        md.push_str(&format!(
            "| {short} | {} | {outcome} | {} | {} | {} ms | {} | {} |\n",
            r.request,
            if r.kinds.is_empty() { "—".into() } else { r.kinds.join(", ") },
            files_cell(&r.files),
            r.ms,
            r.new_tsc_errors.map_or("—".into(), |n| if n == 0 { "**0**".into() } else { format!("**{n}**") }),
            r.restored.map_or("—", |b| if b { "yes" } else { "**no**" }),
        ));
    }
    let mut kinds: BTreeMap<&str, (usize, usize, Vec<u128>)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.outcome == "applied") {
        for k in r.kinds.iter().collect::<BTreeSet<_>>() {
            let e = kinds.entry(k.as_str()).or_default();
            e.0 += 1;
            e.1 += usize::from(r.new_tsc_errors == Some(0));
            e.2.push(r.ms);
        }
    }
    md.push_str("\n| kind | applied | no new compiler error | median time |\n|---|---|---|---|\n");
    for (k, (n, clean, mut ms)) in kinds {
        ms.sort();
        md.push_str(&format!("| {k} | {n} | {clean} | {} ms |\n", ms[ms.len() / 2]));
    }
    let applied = rows.iter().filter(|r| r.outcome == "applied").count();
    let clean = rows.iter().filter(|r| r.new_tsc_errors == Some(0)).count();
    let refused = rows.iter().filter(|r| r.outcome == "plan_only" && r.exit == 2).count();
    md.push_str(&format!(
        "\n**{applied} of {} requests applied, {clean} of them with no new error from the backend's own compiler; {refused} refused as \"plan only: needs a coder\" (exit 2) with nothing written.** Re-run with `maintaind-bench apply --corpora DIR --out docs/benchmarks.md` (backends from `bash scripts/real-corpora`).\n",
        rows.len()
    ));
    md
}

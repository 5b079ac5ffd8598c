//! Blast-radius accuracy against compiler ground truth (`../shared/tools/blast-truth`): for
//! each mutation of an exported symbol, the files that gained compiler errors. Recall of
//! `files` and precision of `must_change_files`, per kind of change. Used by the accuracy test
//! (fixture, committed truth) and by `maintaind-bench run` (report).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use maintaind::blast::ChangeKind;
use maintaind::workspace::{NoProgress, Workspace};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Truth {
    pub fixture_hash: String,
    pub tsc_version: Option<String>,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub file: String,
    pub symbol: String,
    pub mutation: String,
    pub change_kind: String,
    pub broken_files: Vec<String>,
}

pub fn load(path: &Path) -> Result<Truth> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a blast-truth summary", path.display()))
}

/// FNV-1a 64 over every file's path and bytes in path order (as `scripts/compact-truth.py`).
pub fn fixture_hash(root: &Path) -> String {
    let mut paths = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if name != ".maintaind" && name != "node_modules" {
                    stack.push(e.path());
                }
            } else {
                paths.push(e.path().strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    paths.sort();
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    for p in &paths {
        eat(p.as_bytes());
        eat(&[0]);
        eat(&std::fs::read(root.join(p)).unwrap_or_default());
        eat(&[0]);
    }
    format!("{h:016x}")
}

#[derive(Debug, Default, Clone)]
pub struct KindScore {
    pub records: usize,
    /// Records with at least one broken file.
    pub with_breakage: usize,
    pub broken: usize,
    /// Broken files that `files` listed.
    pub found: usize,
    /// Broken files that `must_change_files` listed.
    pub must_found: usize,
    pub must_predicted: usize,
    pub must_correct: usize,
    /// Records with a non-empty must_change list.
    pub with_must: usize,
}

impl KindScore {
    pub fn recall(&self) -> f64 {
        if self.broken == 0 { 1.0 } else { self.found as f64 / self.broken as f64 }
    }
    pub fn must_recall(&self) -> f64 {
        if self.broken == 0 { 1.0 } else { self.must_found as f64 / self.broken as f64 }
    }
    pub fn must_precision(&self) -> f64 {
        if self.must_predicted == 0 { 1.0 } else { self.must_correct as f64 / self.must_predicted as f64 }
    }
    pub fn add(&mut self, o: &KindScore) {
        self.records += o.records;
        self.with_breakage += o.with_breakage;
        self.broken += o.broken;
        self.found += o.found;
        self.must_found += o.must_found;
        self.must_predicted += o.must_predicted;
        self.must_correct += o.must_correct;
        self.with_must += o.with_must;
    }
}

#[derive(Debug, Default)]
pub struct Score {
    pub per_kind: BTreeMap<String, KindScore>,
    /// `file#symbol kind: missed file` for every broken file `files` did not list.
    pub misses: Vec<String>,
    /// Queries that failed (counted as predicting nothing).
    pub errors: Vec<String>,
    /// Broken files listed but not marked must-change, and must-change files the compiler did
    /// not break.
    pub must_misses: Vec<String>,
    pub approximate_answers: usize,
}

impl Score {
    pub fn overall(&self) -> KindScore {
        let mut all = KindScore::default();
        for k in self.per_kind.values() {
            all.add(k);
        }
        all
    }
}

/// Run `blast` for every record (the defining file ignored on both sides, as blast-truth does).
pub fn score(ws: &mut Workspace, truth: &Truth) -> Score {
    let mut s = Score::default();
    if let Err(e) = ws.refresh(&NoProgress) {
        s.errors.push(format!("cannot index the project: {e}"));
        return s;
    }
    let mut analysis = ws.analysis();
    for r in &truth.records {
        let kind = match r.change_kind.as_str() {
            "rename" => ChangeKind::Rename,
            "signature" => ChangeKind::Signature,
            "return" => ChangeKind::Return,
            "shape" => ChangeKind::Shape,
            other => {
                s.errors.push(format!("{}#{}: unknown change kind {other}", r.file, r.symbol));
                continue;
            }
        };
        let k = s.per_kind.entry(r.change_kind.clone()).or_default();
        k.records += 1;
        let broken: Vec<&String> = r.broken_files.iter().filter(|f| **f != r.file).collect();
        if !broken.is_empty() {
            k.with_breakage += 1;
        }
        k.broken += broken.len();
        let query = format!("{}#{}", r.file, r.symbol);
        let (files, must) = match analysis.blast(&query, kind, false, maintaind::blast::DEFAULT_DEPTH) {
            Ok(report) => {
                if report.approximate {
                    s.approximate_answers += 1;
                }
                (report.files, report.must_change_files)
            }
            Err(e) => {
                s.errors.push(format!("{query}: {e}"));
                (Vec::new(), Vec::new())
            }
        };
        let k = s.per_kind.get_mut(&r.change_kind).unwrap();
        for b in &broken {
            if files.contains(b) {
                k.found += 1;
            } else {
                s.misses.push(format!("{query} {}: missed {b} [{}]", r.change_kind, r.mutation));
            }
        }
        let must: Vec<&String> = must.iter().filter(|f| **f != r.file).collect();
        k.must_found += broken.iter().filter(|b| must.contains(b)).count();
        for b in broken.iter().filter(|b| files.contains(b) && !must.contains(b)) {
            s.must_misses.push(format!("{query} {}: {b} listed, not must-change [{}]", r.change_kind, r.mutation));
        }
        for m in must.iter().filter(|m| !broken.contains(m)) {
            s.must_misses.push(format!("{query} {}: {m} must-change, not broken [{}]", r.change_kind, r.mutation));
        }
        if !must.is_empty() {
            k.with_must += 1;
        }
        k.must_predicted += must.len();
        k.must_correct += must.iter().filter(|m| broken.contains(m)).count();
    }
    s
}

/// A markdown table of a score.
pub fn table(score: &Score) -> String {
    let mut t = format!("| change kind {HEADER}");
    for (name, k) in &score.per_kind {
        t.push_str(&row(name, k));
    }
    t.push_str(&row("**overall**", &score.overall()));
    t
}

/// The columns after the first of an accuracy table, with the separator line.
pub const HEADER: &str =
    "| records | broken files (compiler) | `files` recall | `must_change_files` recall | `must_change_files` precision | must-change predictions |\n|---|---|---|---|---|---|---|\n";

/// One line of an accuracy table.
pub fn row(name: &str, k: &KindScore) -> String {
    format!(
        "| {name} | {} | {} | {:.3} ({}/{}) | {:.3} ({}/{}) | {:.3} ({}/{}) | {} |\n",
        k.records,
        k.broken,
        k.recall(),
        k.found,
        k.broken,
        k.must_recall(),
        k.must_found,
        k.broken,
        k.must_precision(),
        k.must_correct,
        k.must_predicted,
        k.with_must
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use maintaind::semantic::SemanticOptions;
    use maintaind_lsp_bridge::ServerChoice;

    /// The fixture against its committed compiler truth (`bash scripts/truth` regenerates it):
    /// every file a rename or a signature change breaks is listed, and ≥ 98% overall.
    #[test]
    fn blast_recall_on_the_fixture_against_compiler_truth() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let truth = load(&repo.join("fixtures/bbs-backend.truth.json")).unwrap();
        let fixture = repo.join("fixtures/bbs-backend");
        assert_eq!(fixture_hash(&fixture), truth.fixture_hash, "the fixture changed since its truth was recorded: run `bash scripts/truth`");
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("cp").arg("-r").arg(format!("{}/.", fixture.display())).arg(dir.path()).status().unwrap();
        assert!(status.success());
        let mut ws = Workspace::open(dir.path()).unwrap();
        let options = SemanticOptions { choice: ServerChoice::Native, offline: false, ready_timeout: std::time::Duration::from_secs(120) };
        ws.start_semantic(&options, &|m| eprintln!("{m}")).unwrap();
        let s = score(&mut ws, &truth);
        eprintln!("{}", table(&s));
        assert!(s.errors.is_empty(), "queries failed: {:#?}", s.errors);
        assert_eq!(s.approximate_answers, 0, "every answer should be precise with the server loaded");
        let misses_of = |kind: &str| s.misses.iter().filter(|m| m.contains(&format!(" {kind}: "))).cloned().collect::<Vec<_>>();
        assert!(misses_of("rename").is_empty(), "rename misses: {:#?}", misses_of("rename"));
        assert!(misses_of("signature").is_empty(), "signature misses: {:#?}", misses_of("signature"));
        let overall = s.overall();
        assert!(overall.recall() >= 0.98, "overall recall {:.3}; misses: {:#?}", overall.recall(), s.misses);
    }
}

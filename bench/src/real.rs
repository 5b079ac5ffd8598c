//! `maintaind-bench real --corpora DIR`: maintaind measured on real AutoBE backends (exported
//! by `scripts/real-corpora`), every figure against the compiler or the code itself, never
//! against maintaind's own answers:
//!
//! - **blast accuracy**: a deterministic sample of symbols per backend mutated by
//!   `../shared/tools/blast-truth` with the backend's own `tsc` (`files` recall, must-change
//!   recall and precision);
//! - **Prisma field blast**: columns renamed in the schema, the client regenerated offline,
//!   `tsc` run ([`PrismaHarness`]); scored against `blast prisma:M.f --change rename`;
//! - **affected tests**: provider → controller route → SDK accessor → tests calling it, read
//!   from the code with regular expressions (not maintaind's registry), against `blast`'s
//!   `tests`;
//! - **the planner**: `bench/real-requests.json`, each request's expected changes written by
//!   hand and its files derived with the compiler (the mutations it lists);
//! - **entity links** found by naming and by type flow.
//!
//! Compiler results are cached in `DIR/.truth/` (they take minutes per backend). The report goes
//! to stdout, or between the `real` markers of `--out` (docs/benchmarks.md).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use maintaind::blast::ChangeKind;
use maintaind::semantic::SemanticOptions;
use maintaind::synthesizer::Planner;
use maintaind::workspace::{NoProgress, Workspace};
use maintaind_lsp_bridge::ServerChoice;
use regex::Regex;
use serde::{Deserialize, Serialize};

pub struct Options {
    pub corpora: PathBuf,
    pub out: Option<PathBuf>,
    /// Backends for blast accuracy, Prisma and affected tests (directory names); the planner
    /// runs on the backends its requests name.
    pub backends: Vec<String>,
    pub requests: PathBuf,
    pub sample: usize,
    pub prisma_fields: usize,
}

/// The backends measured by default: five generator models, 106 to 869 files. (Compiler truth
/// costs ~10 s per mutation on the large ones; these seven take about 90 minutes on 2 cores the
/// first time, then come from the cache.)
pub const DEFAULT_BACKENDS: &[&str] = &[
    "anthropic+claude-sonnet-4.5+shopping",
    "anthropic+claude-sonnet-4.5+bbs",
    "openai+gpt-4.1+reddit",
    "openai+gpt-5-mini+bbs",
    "qwen+qwen3-next-80b-a3b-instruct+reddit",
    "moonshotai+kimi-k2-0905+todo",
    "mistralai+codestral-2508+todo",
];

pub const BEGIN: &str = "<!-- real:begin (maintaind-bench real) -->";
pub const END: &str = "<!-- real:end -->";

#[derive(Debug, Deserialize)]
struct RequestFile {
    requests: Vec<RequestCase>,
}

#[derive(Debug, Clone, Deserialize)]
struct RequestCase {
    backend: String,
    request: String,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    refuse: bool,
    /// The plan must come back with a rejected criterion.
    #[serde(default)]
    reject: bool,
    #[serde(default)]
    truth: Vec<String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn blast_truth_tool() -> Result<PathBuf> {
    let p = repo().join("../shared/tools/blast-truth");
    anyhow::ensure!(p.exists(), "{} not found: the shared tools sit beside the repository", p.display());
    Ok(p)
}

pub fn run(o: Options) -> Result<()> {
    let cache = o.corpora.join(".truth");
    std::fs::create_dir_all(&cache)?;
    let requests: RequestFile = serde_json::from_str(&std::fs::read_to_string(&o.requests).with_context(|| format!("cannot read {}", o.requests.display()))?)
        .with_context(|| format!("{} is not a request table", o.requests.display()))?;
    let mut md = String::new();
    let (now, commit) = (crate::today(), crate::commit());
    let _ = writeln!(
        md,
        "## Real backends (issue 11)\n\nProduced by `maintaind-bench real --corpora DIR` on {now}, commit `{commit}`, over real AutoBE output exported with `bash scripts/real-corpora SRC DIR` from `wrtnlabs/autobe-examples` (MIT; none of it is committed). Native TypeScript 7 server. Compiler truth uses each backend's own `tsc` (TypeScript 5.9) on `test/tsconfig.json`, which includes `src`.\n"
    );
    let mut blast_rows = String::new();
    let mut blast_total = crate::accuracy::Score::default();
    let mut prisma_rows = String::new();
    let mut prisma_total = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut test_rows = String::new();
    let mut test_total = (0usize, 0usize, 0usize);
    let mut link_rows = String::new();
    let mut misses: Vec<String> = Vec::new();

    let mut backends: Vec<String> = o.backends.clone();
    for r in &requests.requests {
        if !backends.contains(&r.backend) {
            backends.push(r.backend.clone());
        }
    }
    let mut planner_rows: Vec<(RequestCase, PlanOutcome)> = Vec::new();
    for name in &backends {
        let root = o.corpora.join(name);
        anyhow::ensure!(root.join("package.json").exists(), "{} is not a backend exported by scripts/real-corpora", root.display());
        eprintln!("== {name}");
        let measured = o.backends.contains(name);
        // Compiler truth first (cached): it mutates files, so no workspace is open meanwhile.
        let truth = if measured { Some(ensure_blast_truth(&root, &cache.join(format!("{name}.json")), o.sample)?) } else { None };
        let mut ws = Workspace::open(&root)?;
        ws.refresh(&NoProgress)?;
        let links = maintaind::links::EntityLinks::build(ws.registry());
        let prisma_cases = if measured { prisma_truth(&root, &cache.join(format!("{name}.prisma.json")), &sample_fields(&links, o.prisma_fields))? } else { Vec::new() };
        let cases: Vec<&RequestCase> = requests.requests.iter().filter(|r| &r.backend == name).collect();
        let request_truth = request_truth(&root, &cache.join(format!("{name}.requests.json")), &cases)?;
        // The server only after every mutation is done and restored.
        ws.start_semantic(&SemanticOptions { choice: ServerChoice::Native, offline: false, ready_timeout: Duration::from_secs(600) }, &|m| eprintln!("{m}")).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Nothing changes on disk from here on: one refresh (which loads the server's projects).
        ws.refresh(&NoProgress)?;

        if measured {
            // Entity links.
            let models = links.models.models().count();
            let mut by_name = 0;
            let mut by_flow = 0;
            for m in links.models.models() {
                let l = links.dtos_of(m);
                if l.iter().any(|(_, k)| *k == maintaind::links::LinkKind::Naming) {
                    by_name += 1;
                } else if !l.is_empty() {
                    by_flow += 1;
                }
            }
            let _ = writeln!(link_rows, "| {} | {models} | `{}` | {} | {by_name} | {by_flow} | {} |", pretty(name), links.prefix, links.families().count(), models - by_name - by_flow);

            // Blast accuracy.
            let truth = truth.unwrap();
            let s = crate::accuracy::score(&mut ws, &truth);
            let k = s.overall();
            blast_rows.push_str(&crate::accuracy::row(&pretty(name), &k));
            if s.approximate_answers > 0 {
                misses.push(format!("{}: {} answer(s) approximate (a project not loaded or a failed request)", pretty(name), s.approximate_answers));
            }
            misses.extend(s.misses.iter().take(5).map(|m| format!("{}: {m}", pretty(name))));
            misses.extend(s.must_misses.iter().take(8).map(|m| format!("{}: {m}", pretty(name))));
            misses.extend(s.errors.iter().map(|m| format!("{}: error {m}", pretty(name))));
            for (kind, ks) in s.per_kind {
                blast_total.per_kind.entry(kind).or_default().add(&ks);
            }

            // Prisma fields, by model.
            let (mut broken, mut found, mut predicted, mut correct) = (0, 0, 0, 0);
            for c in &prisma_cases {
                let query = format!("prisma:{}", c.target);
                let report = ws.analysis().blast(&query, ChangeKind::Rename, false, maintaind::blast::DEFAULT_DEPTH).map_err(|e| anyhow::anyhow!("{query}: {e}"))?;
                let truth: BTreeSet<&String> = c.broken_files.iter().collect();
                broken += truth.len();
                found += report.must_change_files.iter().filter(|f| truth.contains(f)).count();
                predicted += report.must_change_files.len();
                correct += report.must_change_files.iter().filter(|f| truth.contains(f)).count();
                for f in truth.iter().filter(|f| !report.must_change_files.contains(f)) {
                    misses.push(format!("{}: {query} rename: missed {f}", pretty(name)));
                }
                for f in report.must_change_files.iter().filter(|f| !truth.contains(f)) {
                    misses.push(format!("{}: {query} rename: {f} predicted, not broken", pretty(name)));
                }
            }
            let _ = writeln!(prisma_rows, "| {} | {} | {broken} | {} | {} |", pretty(name), prisma_cases.len(), ratio(found, broken), ratio(correct, predicted));
            prisma_total.0 += prisma_cases.len();
            prisma_total.1 += broken;
            prisma_total.2 += found;
            prisma_total.3 += predicted;
            prisma_total.4 += correct;

            // Affected tests.
            let tests = tests_truth(&root)?;
            let (mut truth_links, mut got_links) = (0, 0);
            let mut providers_with_tests = 0;
            for (provider, expected) in &tests {
                if expected.is_empty() {
                    continue;
                }
                providers_with_tests += 1;
                let query = format!("src/providers/{provider}.ts#{provider}");
                let report = ws.analysis().blast(&query, ChangeKind::Behavior, false, maintaind::blast::DEFAULT_DEPTH).map_err(|e| anyhow::anyhow!("{query}: {e}"))?;
                truth_links += expected.len();
                got_links += expected.iter().filter(|t| report.tests.contains(t)).count();
                for t in expected.iter().filter(|t| !report.tests.contains(t)).take(2) {
                    misses.push(format!("{}: tests of {provider}: missed {t}", pretty(name)));
                }
            }
            let _ = writeln!(test_rows, "| {} | {} | {providers_with_tests} | {truth_links} | {} |", pretty(name), tests.len(), ratio(got_links, truth_links));
            test_total.0 += providers_with_tests;
            test_total.1 += truth_links;
            test_total.2 += got_links;
        }

        // The planner.
        for c in cases {
            let outcome = plan(&mut ws, c, &request_truth)?;
            planner_rows.push((c.clone(), outcome));
        }
        ws.stop_semantic();
    }

    // Report.
    let _ = writeln!(
        md,
        "### Blast accuracy against compiler truth\n\n{} symbols sampled per backend (`blast-truth --sample {} --seed maintaind --include 'src/**'`), every mutation that applies (rename, signature, return, shape). Targets: must-change recall ≥ 0.99, precision ≥ 0.95.\n",
        o.sample, o.sample
    );
    let _ = writeln!(md, "| backend {}{blast_rows}", crate::accuracy::HEADER);
    let _ = writeln!(md, "All backends, by kind of change:\n\n{}", crate::accuracy::table(&blast_total));
    let _ = writeln!(
        md,
        "### Prisma field blast, by model\n\nUp to {} columns per backend, chosen among the names several models share (`name`, `title`, `status`, …), each renamed in the schema, the client regenerated (`prisma generate --no-engine`) and `tsc` run. Scored: `blast prisma:M.f --change rename`'s `must_change_files`.\n",
        o.prisma_fields
    );
    let _ = writeln!(
        md,
        "| backend | columns | broken files | must-change recall | must-change precision |\n|---|---|---|---|---|\n{prisma_rows}| **all** | {} | {} | {} | {} |\n",
        prisma_total.0,
        prisma_total.1,
        ratio(prisma_total.2, prisma_total.1),
        ratio(prisma_total.4, prisma_total.3)
    );
    let _ = writeln!(
        md,
        "### Affected tests\n\nTruth read from the code with regular expressions, independently of maintaind: each provider's controller methods (`@Controller` path + `@TypedRoute` verb and path), the SDK function with that `METADATA` method and path, its `@accessor`, and the test files calling `<accessor>(`. Scored: the `tests` of `blast <provider>`. Target: recall ≥ 0.98.\n"
    );
    let _ = writeln!(
        md,
        "| backend | providers | providers with tests | provider → test links | recall |\n|---|---|---|---|---|\n{test_rows}| **all** | | {} | {} | {} |\n",
        test_total.0,
        test_total.1,
        ratio(test_total.2, test_total.1)
    );
    let _ = writeln!(md, "### Entity links\n\n| backend | models | prefix | DTO families | models linked by naming | by type flow only | unlinked |\n|---|---|---|---|---|---|---|\n{link_rows}");

    let right = planner_rows.iter().filter(|(_, p)| p.right).count();
    let (mut hit, mut expected) = (0usize, 0usize);
    for (_, p) in &planner_rows {
        hit += p.files_hit;
        expected += p.files_expected;
    }
    let mean_recall = {
        let with: Vec<f64> = planner_rows.iter().filter(|(c, _)| !c.refuse).map(|(_, p)| if p.files_expected == 0 { 1.0 } else { p.files_hit as f64 / p.files_expected as f64 }).collect();
        with.iter().sum::<f64>() / with.len().max(1) as f64
    };
    let backends_used: BTreeSet<&str> = planner_rows.iter().map(|(c, _)| c.backend.as_str()).collect();
    let _ = writeln!(
        md,
        "### The planner on real requests\n\n{} requests over {} backends (`bench/real-requests.json`): the expected changes written by hand, the expected files derived with the compiler (the files declaring the targets plus every file the listed mutations break). A request is planned right when the plan decides every expected change, nothing beyond the allowed ones, and a refusal only where one is expected. Targets: ≥ 90% planned right, files-to-modify recall ≥ 0.9.\n\n**{right} of {} planned right ({:.0}%); files-to-modify recall {:.3} averaged over requests, {} over all expected files.**\n",
        planner_rows.len(),
        backends_used.len(),
        planner_rows.len(),
        100.0 * right as f64 / planner_rows.len().max(1) as f64,
        mean_recall,
        ratio(hit, expected)
    );
    let _ = writeln!(md, "| backend | request | right | files recall | decided (or why not) |\n|---|---|---|---|---|");
    for (c, p) in &planner_rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            pretty(&c.backend),
            c.request.replace('|', "\\|"),
            if p.right { "yes" } else { "**no**" },
            if c.refuse { "—".into() } else { ratio(p.files_hit, p.files_expected) },
            p.decided.replace('|', "\\|")
        );
    }
    if !misses.is_empty() {
        let _ = writeln!(
            md,
            "\nMisses and wrong predictions (per backend: up to five `files` misses and eight must-change misses or false alarms of the sampled symbols; every Prisma and affected-test miss):\n"
        );
        for m in &misses {
            let _ = writeln!(md, "- {}", m.replace('|', "\\|"));
        }
    }
    crate::publish(o.out.as_deref(), BEGIN, END, &md, "real-backend")
}

fn pretty(name: &str) -> String {
    name.replacen('+', "/", 2)
}

fn ratio(a: usize, b: usize) -> String {
    if b == 0 { "—".into() } else { format!("{:.3} ({a}/{b})", a as f64 / b as f64) }
}

/// The sampled blast-truth of a backend, computed once and cached.
fn ensure_blast_truth(root: &Path, cache: &Path, sample: usize) -> Result<crate::accuracy::Truth> {
    if !cache.exists() {
        eprintln!("compiler truth for {} (blast-truth, {sample} symbols; minutes)", root.display());
        let partial = cache.with_extension("json.partial");
        let status = Command::new("python3")
            .arg(blast_truth_tool()?)
            .args(["--root"])
            .arg(root)
            .args(["--project", "test/tsconfig.json", "--tsc"])
            .arg(root.join("node_modules/.bin/tsc"))
            .args(["--include", "src/**", "--sample", &sample.to_string(), "--seed", "maintaind", "--force", "--out"])
            .arg(&partial)
            .status()?;
        anyhow::ensure!(status.success(), "blast-truth failed on {}", root.display());
        std::fs::rename(&partial, cache)?;
    }
    let mut truth: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(cache)?)?;
    // The raw blast-truth output: keep the records it trusts.
    let records: Vec<serde_json::Value> =
        truth["records"].as_array().cloned().unwrap_or_default().into_iter().filter(|r| r.get("suspect").is_none_or(|s| s.is_null() || s.as_array().is_some_and(|a| a.is_empty()))).collect();
    truth["records"] = serde_json::Value::Array(records);
    truth["fixture_hash"] = serde_json::Value::String(String::new());
    Ok(serde_json::from_value(truth)?)
}

/// One Prisma mutation and what it broke.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PrismaCase {
    /// `model.field` for a rename, `model` for a new required column.
    target: String,
    mutation: String,
    broken_files: Vec<String>,
}

/// Columns to rename: names several models share first (the case a model-blind answer gets
/// wrong), then the rest; never `id` or a column another model's relation references.
fn sample_fields(links: &maintaind::links::EntityLinks, n: usize) -> Vec<String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut all: Vec<(String, String)> = Vec::new();
    for m in links.models.models() {
        for f in links.models.fields(m) {
            if f == "id" || links.models.field(m, f).is_some_and(|t| t.is_some()) {
                continue;
            }
            *count.entry(f).or_default() += 1;
            all.push((m.to_string(), f.to_string()));
        }
    }
    all.sort_by_key(|(m, f)| (std::cmp::Reverse(count[f.as_str()]), f.ends_with("_at") || f.ends_with("_id"), f.clone(), m.clone()));
    let mut seen_fields = BTreeSet::new();
    let mut seen_models = BTreeSet::new();
    let mut out = Vec::new();
    for (m, f) in all {
        if out.len() >= n {
            break;
        }
        if seen_fields.insert(f.clone()) && seen_models.insert(m.clone()) {
            out.push(format!("{m}.{f}"));
        }
    }
    out
}

fn prisma_truth(root: &Path, cache: &Path, fields: &[String]) -> Result<Vec<PrismaCase>> {
    let mut cases: Vec<PrismaCase> = if cache.exists() { serde_json::from_str(&std::fs::read_to_string(cache)?)? } else { Vec::new() };
    let missing: Vec<&String> = fields.iter().filter(|f| !cases.iter().any(|c| &c.target == *f && c.mutation == "rename")).collect();
    if !missing.is_empty() {
        let h = PrismaHarness::new(root)?;
        for f in missing {
            let (model, field) = f.split_once('.').unwrap();
            eprintln!("prisma truth: rename {f}");
            let broken = h.mutate(|schema| rename_column(schema, model, field))?;
            cases.push(PrismaCase { target: f.clone(), mutation: "rename".into(), broken_files: broken });
            std::fs::write(cache, serde_json::to_string_pretty(&cases)?)?;
        }
    }
    Ok(cases.into_iter().filter(|c| c.mutation == "rename" && fields.contains(&c.target)).collect())
}

/// A scratch copy of a backend (sources copied, `node_modules` hard-linked, the generated
/// client its own) where the schema is mutated, the client regenerated and `tsc` run. New
/// errors are those not in the unmutated baseline, keyed by (file, line, column, code).
struct PrismaHarness {
    work: tempfile::TempDir,
    schemas: Vec<(PathBuf, String)>,
    baseline: BTreeSet<(String, String, String, String)>,
}

impl PrismaHarness {
    fn new(root: &Path) -> Result<PrismaHarness> {
        let work = tempfile::tempdir()?;
        crate::copy_backend(root, work.path())?;
        let mut schemas = Vec::new();
        for e in std::fs::read_dir(work.path().join("prisma/schema"))? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "prisma") {
                let text = std::fs::read_to_string(&p)?;
                schemas.push((p, text));
            }
        }
        let mut h = PrismaHarness { work, schemas, baseline: BTreeSet::new() };
        h.generate()?;
        h.baseline = h.tsc()?;
        Ok(h)
    }

    /// Regenerate the client into the copy's own `node_modules/.prisma` (the hard links to the
    /// shared one are removed first, never written through).
    fn generate(&self) -> Result<()> {
        let dir = self.work.path();
        let _ = std::fs::remove_dir_all(dir.join("node_modules/.prisma"));
        let dummy = dir.join(".no-engine");
        std::fs::write(&dummy, "")?;
        let out = Command::new(dir.join("node_modules/.bin/prisma"))
            .args(["generate", "--no-engine", "--generator", "client", "--schema", "prisma/schema"])
            .current_dir(dir)
            .env("PRISMA_QUERY_ENGINE_LIBRARY", &dummy)
            .env("PRISMA_QUERY_ENGINE_BINARY", &dummy)
            .env("PRISMA_SCHEMA_ENGINE_BINARY", &dummy)
            .env("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()?;
        if !out.status.success() {
            bail!("prisma generate failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    fn tsc(&self) -> Result<BTreeSet<(String, String, String, String)>> {
        let dir = self.work.path();
        let out = Command::new(dir.join("node_modules/.bin/tsc")).args(["--noEmit", "--pretty", "false", "-p", "test/tsconfig.json"]).current_dir(dir).output()?;
        let re = Regex::new(r"^(.+?)\((\d+),(\d+)\): error (TS\d+)").unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().filter_map(|l| re.captures(l)).map(|c| (c[1].replace('\\', "/"), c[2].to_string(), c[3].to_string(), c[4].to_string())).collect())
    }

    /// Apply `edit` to the schema file holding the model, regenerate, type-check, restore.
    fn mutate(&self, edit: impl Fn(&str) -> Option<String>) -> Result<Vec<String>> {
        let mut changed = None;
        for (path, text) in &self.schemas {
            if let Some(new) = edit(text) {
                std::fs::write(path, new)?;
                changed = Some((path.clone(), text.clone()));
                break;
            }
        }
        let Some((path, original)) = changed else { bail!("the mutation matched no schema file") };
        let result = self.generate().and_then(|_| self.tsc());
        std::fs::write(&path, original)?;
        let diags = result?;
        let files: BTreeSet<String> = diags.difference(&self.baseline).map(|d| d.0.clone()).filter(|f| !f.starts_with("node_modules/")).collect();
        Ok(files.into_iter().collect())
    }
}

/// The text of `model M { … }` in a schema file: (start, end) byte offsets.
fn model_block(schema: &str, model: &str) -> Option<(usize, usize)> {
    let start = schema.find(&format!("model {model} {{"))?;
    let end = schema[start..].find("\n}").map(|e| start + e + 2)?;
    Some((start, end))
}

/// Rename a column within its model: the declaration and its uses in the block's attributes.
fn rename_column(schema: &str, model: &str, field: &str) -> Option<String> {
    let (start, end) = model_block(schema, model)?;
    let block = &schema[start..end];
    let decl = Regex::new(&format!(r"(?m)^(\s+){field}(\s)")).unwrap();
    if !decl.is_match(block) {
        return None;
    }
    let renamed = decl.replace(block, format!("${{1}}{field}__x${{2}}").as_str()).to_string();
    // `@@index([a, field])`, `@@unique([...])`, `@relation(fields: [field], …)`.
    let list = Regex::new(r"\[[^\]]*\]").unwrap();
    let word = Regex::new(&format!(r"\b{field}\b")).unwrap();
    let renamed = list.replace_all(&renamed, |c: &regex::Captures| word.replace_all(&c[0], format!("{field}__x").as_str()).to_string()).to_string();
    Some(format!("{}{renamed}{}", &schema[..start], &schema[end..]))
}

/// Add a required column (no default) to a model.
fn add_required_column(schema: &str, model: &str) -> Option<String> {
    let (start, _) = model_block(schema, model)?;
    let line_end = start + schema[start..].find('\n')? + 1;
    Some(format!("{}  x__extra String\n{}", &schema[..line_end], &schema[line_end..]))
}

/// Provider → the test files exercising it, read from the code with regular expressions.
fn tests_truth(root: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let read_dir_rec = |dir: &Path| -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "ts") {
                    out.push((p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read_to_string(&p).unwrap_or_default()));
                }
            }
        }
        out
    };
    let providers: BTreeSet<String> =
        std::fs::read_dir(root.join("src/providers")).into_iter().flatten().flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".ts")).map(str::to_string)).collect();
    let norm = |p: &str| format!("/{}", p.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/"));
    // Controllers: (verb, route) of each method, and the providers its body calls.
    let controller = Regex::new(r#"@Controller\("([^"]*)"\)"#).unwrap();
    let route = Regex::new(r#"@TypedRoute\.(Get|Post|Put|Patch|Delete)\((?:"([^"]*)")?\)"#).unwrap();
    let call = Regex::new(r"\b([A-Za-z_$][\w$]*)\(").unwrap();
    let mut routes_of: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for (_, text) in read_dir_rec(&root.join("src/controllers")) {
        let Some(prefix) = controller.captures(&text).map(|c| c[1].to_string()) else { continue };
        let marks: Vec<(usize, String, String)> =
            route.captures_iter(&text).map(|c| (c.get(0).unwrap().start(), c[1].to_uppercase(), c.get(2).map(|m| m.as_str().to_string()).unwrap_or_default())).collect();
        for (i, (at, verb, sub)) in marks.iter().enumerate() {
            let end = marks.get(i + 1).map(|m| m.0).unwrap_or(text.len());
            let path = norm(&format!("{prefix}/{sub}"));
            for c in call.captures_iter(&text[*at..end]) {
                if providers.contains(&c[1]) {
                    routes_of.entry(c[1].to_string()).or_default().insert((verb.clone(), path.clone()));
                }
            }
        }
    }
    // SDK: (verb, route) → accessor.
    let accessor = Regex::new(r"@accessor (api\.functional[\w.$]*)").unwrap();
    let mut sdk: BTreeMap<(String, String), String> = BTreeMap::new();
    let meta = Regex::new(r#"method: "(\w+)",\s*path: "([^"]*)""#).unwrap();
    for (_, text) in read_dir_rec(&root.join("src/api/functional")) {
        for c in accessor.captures_iter(&text) {
            let acc = c[1].to_string();
            let name = acc.rsplit('.').next().unwrap_or_default();
            let Some(ns) = text.find(&format!("export namespace {name} {{")) else { continue };
            if let Some(m) = meta.captures(&text[ns..]) {
                sdk.insert((m[1].to_uppercase(), norm(&m[2])), acc);
            }
        }
    }
    // Calls in comments do not run: drop whole-line and block comments first.
    let comments = Regex::new(r"(?m)^\s*//.*$|/\*[\s\S]*?\*/").unwrap();
    let tests: Vec<(String, String)> = read_dir_rec(&root.join("test")).into_iter().map(|(p, t)| (p, comments.replace_all(&t, "").to_string())).collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &providers {
        let mut set = BTreeSet::new();
        for r in routes_of.get(p).into_iter().flatten() {
            let Some(acc) = sdk.get(r) else { continue };
            let needle = format!("{acc}(");
            for (path, text) in &tests {
                if text.contains(&needle) {
                    set.insert(path.clone());
                }
            }
        }
        out.insert(p.clone(), set);
    }
    Ok(out)
}

/// The compiler truth a backend's requests list, computed once per (operation) and cached.
fn request_truth(root: &Path, cache: &Path, cases: &[&RequestCase]) -> Result<BTreeMap<String, Vec<String>>> {
    let mut known: BTreeMap<String, Vec<String>> = if cache.exists() { serde_json::from_str(&std::fs::read_to_string(cache)?)? } else { BTreeMap::new() };
    let ops: BTreeSet<String> = cases.iter().flat_map(|c| c.truth.iter().cloned()).filter(|o| !known.contains_key(o)).collect();
    if ops.is_empty() {
        return Ok(known);
    }
    // Symbol mutations go to blast-truth in one run.
    let mutation_of = |kind: &str| match kind {
        "shape" => Some("add_required_property"),
        "signature" => Some("add_required_param"),
        "return" => Some("change_return_type"),
        "rename" => Some("rename"),
        _ => None,
    };
    let symbol_ops: Vec<(&str, &str)> = ops.iter().filter_map(|o| o.split_once(' ')).filter(|(k, _)| mutation_of(k).is_some()).collect();
    if !symbol_ops.is_empty() {
        let out = tempfile::NamedTempFile::new()?;
        let mutations: BTreeSet<&str> = symbol_ops.iter().filter_map(|(k, _)| mutation_of(k)).collect();
        let mut cmd = Command::new("python3");
        cmd.arg(blast_truth_tool()?).arg("--root").arg(root).args(["--project", "test/tsconfig.json", "--tsc"]).arg(root.join("node_modules/.bin/tsc")).arg("--force");
        cmd.arg("--mutations").arg(mutations.into_iter().collect::<Vec<_>>().join(","));
        for (_, sym) in &symbol_ops {
            cmd.arg("--symbol").arg(sym);
        }
        cmd.arg("--out").arg(out.path());
        eprintln!("compiler truth for {} request mutations in {}", symbol_ops.len(), root.display());
        anyhow::ensure!(cmd.status()?.success(), "blast-truth failed on {}", root.display());
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.path())?)?;
        for (kind, sym) in &symbol_ops {
            let mutation = mutation_of(kind).unwrap();
            let (file, name) = sym.split_once('#').context("FILE#SYMBOL")?;
            let rec = v["records"].as_array().into_iter().flatten().find(|r| r["file"] == file && r["symbol"] == name && r["mutation"] == mutation);
            let Some(rec) = rec else { bail!("blast-truth has no {mutation} record for {sym} (is the symbol exported and the mutation applicable?)") };
            let broken: Vec<String> = rec["broken_files"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)).collect();
            known.insert(format!("{kind} {sym}"), broken);
        }
    }
    let prisma_ops: Vec<&String> = ops.iter().filter(|o| o.starts_with("prisma-")).collect();
    if !prisma_ops.is_empty() {
        let h = PrismaHarness::new(root)?;
        for op in prisma_ops {
            let (kind, target) = op.split_once(' ').context("prisma-KIND TARGET")?;
            let broken = match kind {
                "prisma-add" => h.mutate(|s| add_required_column(s, target))?,
                "prisma-rename" => {
                    let (m, f) = target.split_once('.').context("MODEL.FIELD")?;
                    h.mutate(|s| rename_column(s, m, f))?
                }
                other => bail!("unknown truth operation {other}"),
            };
            known.insert(op.clone(), broken);
        }
    }
    std::fs::write(cache, serde_json::to_string_pretty(&known)?)?;
    Ok(known)
}

struct PlanOutcome {
    right: bool,
    files_hit: usize,
    files_expected: usize,
    decided: String,
}

fn plan(ws: &mut Workspace, c: &RequestCase, truth: &BTreeMap<String, Vec<String>>) -> Result<PlanOutcome> {
    let answer =
        maintaind::synthesizer::change(ws, &c.request, &Planner::Offline, &maintaind::synthesizer::ChangeOptions { dry_run: true, no_lsp: false, allow_no_tests: true, amend: false }, &NoProgress);
    let m = match answer {
        Err(e) => {
            let msg = e.to_string();
            return Ok(PlanOutcome { right: c.refuse, files_hit: 0, files_expected: 0, decided: format!("refused: {}", msg.chars().take(160).collect::<String>()) });
        }
        Ok(m) => m,
    };
    let got: Vec<String> = m.decisions.changes.iter().map(|d| format!("{}:{}", d.symbol, serde_json::to_value(d.kind).unwrap().as_str().unwrap())).collect();
    let right = !c.refuse && c.expect.iter().all(|e| got.contains(e)) && got.iter().all(|g| c.expect.contains(g) || c.allow.contains(g));
    // Expected files: where the expected targets are declared, plus what the compiler breaks.
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for e in &c.expect {
        let symbol = e.rsplit_once(':').map(|(s, _)| s).unwrap_or(e);
        if let Some(f) = maintaind::planner::symbol_file(ws.registry(), symbol) {
            expected.insert(f);
        }
    }
    for op in &c.truth {
        let broken = truth.get(op).with_context(|| format!("no compiler truth for `{op}`"))?;
        expected.extend(broken.iter().cloned());
    }
    let files: BTreeSet<&String> = m.facts.files_to_modify.iter().collect();
    let hit = expected.iter().filter(|f| files.contains(f)).count();
    let rejected = m.feasibility.iter().filter(|f| matches!(f.verdict, maintaind::synthesizer::Verdict::Rejected { .. })).count();
    let mut decided = got.join(", ");
    if rejected > 0 {
        decided.push_str(&format!(" ({rejected} criterion rejected)"));
    }
    Ok(PlanOutcome { right: right && (rejected > 0) == c.reject, files_hit: hit, files_expected: expected.len(), decided })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "model a_posts {\n  id String @id\n  title String\n  subtitle String?\n  author_id String\n\n  author a_users @relation(fields: [author_id], references: [id])\n  @@unique([author_id, title])\n  @@index([title], map: \"a_posts_title\")\n}\n\nmodel a_users {\n  id String @id\n  title String\n}\n";

    /// The regex join on the fixture (which has the real route shapes): a provider's tests are
    /// those calling the SDK accessor of its route.
    #[test]
    fn tests_truth_joins_providers_to_tests_through_routes() {
        let t = tests_truth(&repo().join("fixtures/bbs-backend")).unwrap();
        // Every article, comment and tag test creates an article first.
        assert_eq!(t["postBbsMemberArticles"].len(), 17, "{:?}", t["postBbsMemberArticles"]);
        assert_eq!(
            t["getBbsArticlesArticleId"].iter().map(String::as_str).collect::<Vec<_>>(),
            ["test/features/api/article/test_api_article_deletion.ts", "test/features/api/article/test_api_article_retrieval.ts"]
        );
        // The older naming style joins the same way.
        assert_eq!(t["post__bbs_member_reports"].len(), 6);
        assert!(t["postAuthMemberJoin"].len() > 20, "most tests join first");
    }

    #[test]
    fn schema_mutations_touch_only_their_model() {
        let renamed = rename_column(SCHEMA, "a_posts", "title").unwrap();
        assert!(renamed.contains("  title__x String\n  subtitle String?"), "{renamed}");
        assert!(renamed.contains("@@unique([author_id, title__x])") && renamed.contains("@@index([title__x], map: \"a_posts_title\")"), "{renamed}");
        assert!(renamed.ends_with("model a_users {\n  id String @id\n  title String\n}\n"), "the other model's title stays: {renamed}");
        assert!(rename_column(SCHEMA, "a_posts", "nothing").is_none());
        let added = add_required_column(SCHEMA, "a_users").unwrap();
        assert!(added.contains("model a_users {\n  x__extra String\n  id String @id"), "{added}");
    }
}

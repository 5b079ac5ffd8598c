//! The synthesizer: fills every fact of a manifest from the registry and the language server,
//! given the planner's decisions — targets (file, lines, signature, hash), the blast radius of
//! each change for its kind, files to modify and to read (what the targets import, and the
//! other side of each entity link: a model's DTOs, a DTO's model), tests, dependency signatures,
//! excluded patterns — and judges each acceptance criterion (the feasibility gate). It never
//! guesses: a decision naming an unknown symbol, or touching an excluded category, is an error
//! that goes back to the planner.

use std::collections::BTreeSet;

use maintaind_registry::{FileLang, MatchTier, Registry, SymbolKind};

use crate::blast::{DEFAULT_DEPTH, is_test_file};
use crate::manifest::{self as manifest_store, Manifest, ManifestError, ManifestStore, Widening};
use crate::manifest::{Decisions, ExclusionViolation, Facts, SignatureFact, TargetFact, excluded_by};
use crate::planner;
use crate::workspace::{Analysis, Progress, RequestError, Workspace};

pub use crate::manifest::{Feasibility, Provenance, Verdict};

/// Decisions the synthesizer refuses, with every reason (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    #[error("decision {field} names `{symbol}`, which does not exist{}", if .closest.is_empty() { String::new() } else { format!("; closest: {}", .closest.join(", ")) })]
    UnknownSymbol { field: String, symbol: String, closest: Vec<String> },
    #[error("the decisions touch excluded parts of the project:\n  {}", .0.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n  "))]
    Excluded(Vec<ExclusionViolation>),
    #[error("the project has no test files (nothing to learn from or to run); pass --allow-no-tests to plan anyway")]
    NoTests,
    #[error("{0}")]
    Blast(String),
}

/// Everything the synthesizer produces for one set of decisions.
pub struct Synthesis {
    pub facts: Facts,
    pub feasibility: Vec<Feasibility>,
    pub approximate: bool,
    pub language_server: String,
}

/// `done`: files already changed by the work an amended plan continues; a new symbol found
/// in one of them is that work, not a name collision.
pub fn synthesize(analysis: &mut Analysis, decisions: &Decisions, no_lsp: bool, allow_no_tests: bool, done: &BTreeSet<String>) -> Result<Synthesis, SynthError> {
    let registry = analysis.registry();
    if !allow_no_tests && !registry.files().any(|f| is_test_file(&f.path)) {
        return Err(SynthError::NoTests);
    }
    // Targets: every decided symbol must exist.
    let mut targets: Vec<TargetFact> = Vec::new();
    for (i, c) in decisions.changes.iter().enumerate() {
        let name = c.symbol.rsplit('#').next().unwrap_or(&c.symbol);
        let found = registry.search(&c.symbol, None).into_iter().find(|m| m.tier == MatchTier::Exact && m.symbol.name == name && m.file.lang != FileLang::Declaration);
        let Some(m) = found else {
            return Err(SynthError::UnknownSymbol { field: format!("changes[{i}].symbol"), symbol: c.symbol.clone(), closest: registry.suggest(&c.symbol, 5) });
        };
        targets.push(TargetFact {
            symbol: m.symbol.name.clone(),
            kind: m.symbol.kind.to_string(),
            file: m.file.path.clone(),
            start_line: m.symbol.span.start.line + 1,
            end_line: m.symbol.span.end.line + 1,
            signature: m.symbol.signature.clone(),
            hash: format!("{:016x}", m.symbol.hash),
            via: "registry".into(),
        });
    }
    // The exclusion gate.
    let violations: Vec<ExclusionViolation> = targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            excluded_by(&t.file, &decisions.excluded_categories).map(|(c, p)| ExclusionViolation { field: format!("changes[{i}].symbol"), path: t.file.clone(), category: c.as_str(), pattern: p })
        })
        .collect();
    if !violations.is_empty() {
        return Err(SynthError::Excluded(violations));
    }

    // Blast radius of each change, for its kind.
    let mut blast = Vec::new();
    let mut approximate = false;
    let mut language_server = if no_lsp { "none (--no-lsp)".to_string() } else { "none".to_string() };
    let mut tests: BTreeSet<String> = BTreeSet::new();
    let mut must: BTreeSet<String> = BTreeSet::new();
    for (c, t) in decisions.changes.iter().zip(&targets) {
        let query = format!("{}#{}", t.file, t.symbol);
        let report = analysis.blast(&query, c.kind, no_lsp, DEFAULT_DEPTH).map_err(|e| SynthError::Blast(e.to_string()))?;
        approximate |= report.approximate;
        if let Some(s) = &report.server {
            language_server = format!("{} {}", s.kind.as_str(), s.version);
        }
        tests.extend(report.tests.iter().cloned());
        must.extend(report.must_change_files.iter().cloned());
        blast.extend(report.impacted);
    }
    blast.sort();
    blast.dedup();

    // Files to modify: the targets' files and every must-change file, minus exclusions and
    // declaration files (dependencies and generated clients are regenerated, not edited).
    let mut to_modify: BTreeSet<String> = targets.iter().map(|t| t.file.clone()).collect();
    to_modify.extend(must);
    let mut generated: BTreeSet<String> = to_modify.iter().filter(|f| registry.file(f).is_some_and(|x| x.lang == FileLang::Declaration)).cloned().collect();
    to_modify.retain(|f| !generated.contains(f));
    let mut blocked: Vec<(String, &'static str, &'static str)> = Vec::new();
    to_modify.retain(|f| match excluded_by(f, &decisions.excluded_categories) {
        Some((c, p)) => {
            blocked.push((f.clone(), c.as_str(), p));
            false
        }
        None => true,
    });
    // Files to read and dependency signatures: what the target files import.
    let mut to_read: BTreeSet<String> = BTreeSet::new();
    let mut deps: Vec<SignatureFact> = Vec::new();
    for t in &targets {
        let Some(f) = registry.file(&t.file) else { continue };
        for import in &f.imports {
            let Some(dep) = registry.resolve_import(&f.path, &import.specifier) else { continue };
            let Some(df) = registry.file(&dep) else { continue };
            if df.lang == FileLang::Declaration || to_modify.contains(&dep) {
                continue;
            }
            to_read.insert(dep.clone());
            for n in &import.names {
                for s in df.symbols.iter().filter(|s| s.name == n.imported && s.kind != SymbolKind::Reexport) {
                    deps.push(SignatureFact { symbol: s.name.clone(), file: dep.clone(), signature: s.signature.clone(), via: "registry".into() });
                }
            }
        }
    }
    // The other side of each entity link: a model's DTO families, a DTO's model. A column
    // change is read against the DTO that exposes it, and the other way round.
    let links = crate::links::EntityLinks::build(registry);
    for t in &targets {
        let linked: Vec<String> = match t.symbol.strip_prefix("prisma:") {
            Some(m) => links.dtos_of(m.split('.').next().unwrap_or(m)).iter().map(|(d, _)| d.file.clone()).collect(),
            None => links.models_of(&t.symbol).iter().filter_map(|m| crate::planner::symbol_file(registry, &format!("prisma:{m}"))).collect(),
        };
        to_read.extend(linked.into_iter().filter(|f| !to_modify.contains(f)));
    }
    deps.sort_by(|a, b| (&a.file, &a.symbol).cmp(&(&b.file, &b.symbol)));
    deps.dedup();
    generated.extend(to_modify.iter().chain(to_read.iter()).filter(|f| f.contains("api/functional/")).cloned());
    let mut excluded_patterns: Vec<String> = decisions.excluded_categories.iter().flat_map(|c| c.patterns().iter().map(|p| p.to_string())).collect();
    excluded_patterns.dedup();

    let facts = Facts {
        targets,
        blast_radius: blast,
        files_to_modify: to_modify.into_iter().collect(),
        files_to_read: to_read.into_iter().collect(),
        test_files: tests.into_iter().collect(),
        dependency_signatures: deps,
        excluded_patterns,
        generated_files: generated.into_iter().collect(),
        registry_generation: 0,
    };
    let feasibility = judge(registry, decisions, &blocked, done);
    Ok(Synthesis { facts, feasibility, approximate, language_server })
}

/// The feasibility gate: one verdict per acceptance criterion.
fn judge(registry: &Registry, decisions: &Decisions, blocked: &[(String, &str, &str)], done: &BTreeSet<String>) -> Vec<Feasibility> {
    let new_names: BTreeSet<&str> = decisions.new_symbols.iter().map(|n| n.name.as_str()).collect();
    let exists = |name: &str| registry.search(name, None).iter().any(|m| m.tier == MatchTier::Exact);
    let exists_before_the_work = |name: &str| registry.search(name, None).iter().any(|m| m.tier == MatchTier::Exact && !done.contains(&m.file.path));
    decisions
        .acceptance_criteria
        .iter()
        .map(|criterion| {
            let named: Vec<&str> = criterion.split('`').skip(1).step_by(2).collect();
            let verdict = (|| {
                // Names a symbol that neither exists nor is being created.
                for n in &named {
                    let last = n.rsplit(['.', ':']).next().unwrap_or(n);
                    if !exists(n) && !new_names.contains(n) && !new_names.contains(last) && !n.contains(' ') && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.:#/$".contains(c)) {
                        return Verdict::Rejected {
                            reason: format!("`{n}` names no symbol of the project and none the plan creates"),
                            alternative: format!("name an existing symbol (closest: {})", registry.suggest(n, 3).join(", ")),
                        };
                    }
                }
                // "A calls B" / "A does not call B" within one module cannot be checked by a test.
                let lower = criterion.to_lowercase();
                if (lower.contains(" calls ") || lower.contains(" call ")) && named.len() >= 2 {
                    let files: Vec<Option<String>> = named.iter().take(2).map(|n| crate::planner::symbol_file(registry, n)).collect();
                    if files[0].is_some() && files[0] == files[1] {
                        return Verdict::Rejected {
                            reason: format!("`{}` and `{}` are in the same module: a test cannot mock the call between them", named[0], named[1]),
                            alternative: "state the observable result instead (what the endpoint returns or stores)".into(),
                        };
                    }
                }
                // A validation the property already carries: nothing would change.
                if let (Some(sym), Some(tag)) = (named.first(), criterion.split(" carries ").nth(1))
                    && registry.search(sym, None).iter().any(|m| m.tier == MatchTier::Exact && m.symbol.signature.contains(tag.trim()))
                {
                    return Verdict::Rejected {
                        reason: format!("`{sym}` already carries {}", tag.trim()),
                        alternative: "nothing to change: drop the request, or name the property that lacks it".into(),
                    };
                }
                // A new name that collides with an existing one where it is created.
                for ns in &decisions.new_symbols {
                    let qualified = if ns.near.starts_with("prisma:") || ns.kind == crate::manifest::NewSymbolKind::Property { format!("{}.{}", ns.near, ns.name) } else { ns.name.clone() };
                    if named.contains(&ns.name.as_str()) && named.contains(&ns.near.as_str()) && exists_before_the_work(&qualified) {
                        return Verdict::Rejected { reason: format!("`{qualified}` already exists"), alternative: format!("pick a name not used in `{}`", ns.near) };
                    }
                }
                // A must-change file in an excluded category.
                if lower.contains("type-checks") && !blocked.is_empty() {
                    let (f, c, p) = &blocked[0];
                    return Verdict::Rejected {
                        reason: format!("{f} must change to keep the project compiling, but {c} is excluded (`{p}`)"),
                        alternative: format!("allow {c} changes, or choose a change whose blast radius stays outside it"),
                    };
                }
                Verdict::Ok
            })();
            Feasibility { criterion: criterion.clone(), verdict }
        })
        .collect()
}

/// Who decides a change.
pub enum Planner {
    /// The embedded deterministic planner.
    Offline,
    /// An OpenAI-compatible model under the harness of `llm.rs`.
    Llm(crate::llm::LlmConfig),
    /// Decisions written elsewhere (`maintaind change --decisions FILE`: an agent planning
    /// itself), filled by the synthesizer exactly as the built-in planners' are.
    Given(Box<Decisions>),
}

/// How `change` stores its plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeOptions {
    /// Compute the manifest only: nothing stored or activated.
    pub dry_run: bool,
    /// Plan from the registry alone (recorded as approximate).
    pub no_lsp: bool,
    /// Plan even when the project has no test files.
    pub allow_no_tests: bool,
    /// Re-plan the active manifest's work: the new manifest keeps its starting tree and the
    /// files it already changed in its scope.
    pub amend: bool,
}

/// Plan a change: the planner decides, the synthesizer fills the facts and judges the
/// criteria. Unless `dry_run`, the manifest is stored, and made active when no criterion was
/// rejected.
pub fn change(ws: &mut Workspace, request: &str, planner: &Planner, opts: &ChangeOptions, progress: &dyn Progress) -> Result<Manifest, RequestError> {
    crate::workspace::check_length("request", request, crate::workspace::MAX_REQUEST)?;
    let request = request.trim();
    if request.is_empty() {
        return Err(RequestError::BadInput("empty request: say what should change, e.g. `maintaind change \"add view_count to the article model\"`".into()));
    }
    let store = ManifestStore::new(ws.root());
    let environment = |e: ManifestError| RequestError::Environment(anyhow::anyhow!(e));
    // The work under way, when amending: checked before anything else is done.
    let amending = if opts.amend {
        let previous = store.active().map_err(|e| RequestError::BadInput(format!("--amend re-plans the active manifest: {e}")))?;
        let tree = store.tree(&previous.id).map_err(|e| RequestError::BadInput(e.to_string()))?;
        Some((previous, tree))
    } else {
        None
    };
    ws.refresh(progress)?;
    let mut analysis = ws.analysis();
    let (decisions, planner_name) = match planner {
        Planner::Offline => (planner::plan_offline(request, analysis.registry()).map_err(|e| RequestError::BadInput(format!("cannot plan `{request}`: {e}")))?, "offline".to_string()),
        Planner::Llm(cfg) => {
            let (d, run) = crate::llm::plan_llm(request, analysis.registry(), cfg).map_err(|e| RequestError::Environment(anyhow::anyhow!(e)))?;
            (d, format!("llm:{} ({} attempt(s), {} tokens)", cfg.model, run.attempts, run.total_tokens))
        }
        Planner::Given(d) => ((**d).clone(), "decisions given".to_string()),
    };
    let done: BTreeSet<String> = match &amending {
        Some((previous, tree)) => crate::tree::audit(analysis.root(), previous, tree)
            .map_err(|e| RequestError::Environment(anyhow::anyhow!("cannot read the tree: {e}")))?
            .touched
            .into_iter()
            .filter(|t| t.in_scope)
            .map(|t| t.path)
            .collect(),
        None => BTreeSet::new(),
    };
    let synthesis = synthesize(&mut analysis, &decisions, opts.no_lsp, opts.allow_no_tests, &done).map_err(|e| RequestError::BadInput(e.to_string()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut facts = synthesis.facts;
    facts.registry_generation = ws.generation();
    let mut manifest = Manifest {
        id: store.unused_id(request, now),
        root: ws.root().display().to_string(),
        request: request.to_string(),
        created_unix: now,
        decisions,
        facts,
        feasibility: synthesis.feasibility,
        provenance: Provenance { planner: planner_name, language_server: synthesis.language_server, approximate: synthesis.approximate || opts.no_lsp, maintaind: env!("CARGO_PKG_VERSION").into() },
        widened: Vec::new(),
        amends: None,
        digest: String::new(),
    };
    if let Some((previous, _)) = &amending {
        carry_over(&mut manifest, previous, &done, now);
    }
    manifest.digest = manifest.compute_digest(&manifest_store::user_secret().map_err(environment)?);
    if !opts.dry_run {
        store.save(&manifest).map_err(environment)?;
        // A rejected criterion is a stop: the plan is kept for inspection, but nothing
        // may be written under it until someone activates it on purpose.
        if !manifest.has_rejection() {
            let start = amending.map(|(_, tree)| (tree.since_unix, tree.files));
            store.activate_from(&manifest.id, start).map_err(environment)?;
        }
    }
    Ok(manifest)
}

/// An amended plan keeps the work done so far: every file the previous manifest's scope
/// already changed, and every path it was widened by, stay in scope (as widenings that say so).
fn carry_over(manifest: &mut Manifest, previous: &Manifest, done: &BTreeSet<String>, now: u64) {
    manifest.amends = Some(previous.id.clone());
    let mut scope = crate::tree::scope(manifest);
    for w in &previous.widened {
        if scope.insert(w.path.clone()) {
            manifest.widened.push(w.clone());
        }
    }
    for path in done {
        if scope.insert(path.clone()) {
            manifest.widened.push(Widening { path: path.clone(), reason: format!("work done under {}", previous.id), by: "maintaind change --amend".into(), at_unix: now });
        }
    }
}

//! The command line (DESIGN §4): argument parsing, root discovery, exit codes, and the
//! dispatch of each command to the [`Workspace`]. Printing lives in `output.rs`.
//!
//! Exit codes: 0 ok; 1 the command ran and found nothing / found violations; 2 bad input or
//! usage (nothing written); 3 environment problem.

pub mod agent;
pub mod doctor;
pub mod mcp;
pub mod output;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};
use maintaind_registry::SymbolKind;

use crate::blast::ChangeKind;
use crate::config::Config;
pub use crate::daemon::DaemonOptions;
use crate::output::Out;
use crate::rpc::method;
use crate::semantic::SemanticOptions;
use crate::workspace::{Progress, RequestError, Workspace};
use maintaind_lsp_bridge::ServerChoice;

pub use crate::exit::{EXIT_ENV, EXIT_FOUND, EXIT_OK, EXIT_USAGE};

/// Print a planned manifest; exit 1 when a criterion was rejected (the manifest is stored but
/// not active, and the note says how to activate it anyway).
fn planned(out: &Out, manifest: &crate::manifest::Manifest, dry_run: bool) -> i32 {
    let rejected = manifest.has_rejection();
    output::manifest(out, manifest, !dry_run && !rejected, false);
    if !rejected {
        return EXIT_OK;
    }
    if dry_run {
        out.error("an acceptance criterion was rejected (see above); this plan cannot be carried out as asked");
    } else {
        out.error(&format!(
            "an acceptance criterion was rejected (see above): manifest {id} is stored but not active; change the request, or activate it anyway with `maintaind manifest activate {id}`",
            id = manifest.id
        ));
    }
    EXIT_FOUND
}

#[derive(Parser, Debug)]
#[command(name = "maintaind", version, about = "Keeps AI-generated TypeScript backends maintainable", long_about = None)]
#[command(after_help = "Exit codes: 0 ok · 1 nothing found / violations · 2 bad input or usage · 3 environment problem")]
pub struct Cli {
    /// Project root (default: nearest ancestor of the current directory with .git or package.json)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Machine-readable JSON on stdout (and nothing else on stdout)
    #[arg(long, global = true)]
    pub json: bool,
    /// TypeScript language server: auto (native TypeScript 7 when it can answer, else tsls), tsls, native
    #[arg(long, global = true, value_name = "KIND")]
    pub ts_server: Option<ServerChoice>,
    /// Never install a language server (exit 3 with the install command instead)
    #[arg(long, global = true)]
    pub offline: bool,
    /// Work in this process even when a daemon is running for the root
    #[arg(long, global = true, conflicts_with = "daemon")]
    pub no_daemon: bool,
    /// Require a running daemon (exit 3 when there is none) instead of falling back to
    /// in-process work
    #[arg(long, global = true)]
    pub daemon: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build or refresh the symbol registry (.maintaind/registry.db)
    Index,
    /// Search symbols: exact qualified name first, then segment, prefix, substring, any case
    Symbols {
        /// A name (`IBbsArticle.ICreate`), `path/to/file.ts#Name`, or `prisma:model[.field]`
        query: String,
        /// Only symbols of this kind
        #[arg(long, value_parser = kind_parser())]
        kind: Option<SymbolKind>,
        /// Human output shows at most this many rows (JSON shows all)
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Which files and symbols a change to SYMBOL breaks or touches
    Blast {
        /// `Name`, `Qualified.Name`, `path/to/file.ts#Name`, or `prisma:model[.field]`
        symbol: String,
        /// The kind of change: what must change follows from it
        #[arg(long, value_enum, default_value_t = ChangeKind::Behavior)]
        change: ChangeKind,
        /// Answer from the registry alone (no language server; flagged approximate)
        #[arg(long)]
        no_lsp: bool,
        /// How far follow-through goes (aliases of aliases, callers of callers)
        #[arg(long, default_value_t = crate::blast::DEFAULT_DEPTH)]
        depth: usize,
        /// List every file (the human form shows the first 25 of each list)
        #[arg(long)]
        all: bool,
    },
    /// Plan a change: decisions from the planner, facts from the registry and the language
    /// server, written to .maintaind/manifests/<id>.json and made active
    Change {
        /// What should change, in plain words (exclusions too: "…, but don't touch the tests")
        request: String,
        /// Who decides: the embedded deterministic planner
        #[arg(long, value_enum, default_value_t = PlannerChoice::Offline)]
        planner: PlannerChoice,
        /// Print the manifest without storing or activating it
        #[arg(long)]
        dry_run: bool,
        /// Plan from the registry alone (recorded as approximate)
        #[arg(long)]
        no_lsp: bool,
        /// Plan even when the project has no test files
        #[arg(long)]
        allow_no_tests: bool,
        /// Re-plan the active manifest's work from the tree as it is now: the new manifest
        /// keeps the work's starting tree and the files already changed in its scope
        #[arg(long)]
        amend: bool,
        /// Decisions written elsewhere (an agent planning itself): a JSON file in the planner
        /// schema (`-` for stdin); the synthesizer fills every fact. Fact fields are refused
        #[arg(long, value_name = "FILE", conflicts_with = "planner")]
        decisions: Option<String>,
        /// Carry the plan out when every decision is mechanical (a rename of a TypeScript symbol
        /// or a Prisma model or column, a new column exposed on its DTO, a validation tag, a new
        /// parameter): write the
        /// edits in one journalled transaction, keep them only if nothing new is wrong (the
        /// language server; for a Prisma change, the project's tsc after `prisma generate`), else roll
        /// back, exit 1; exit 2 "plan only: needs a coder" otherwise.
        /// With --dry-run, print the diff instead of writing
        #[arg(long, conflicts_with_all = ["amend", "no_lsp"])]
        apply: bool,
    },
    /// Show, list, activate or clear planned changes
    Manifest {
        #[command(subcommand)]
        action: ManifestAction,
    },
    /// The write gate: may these paths be written under the active manifest?
    Gate {
        #[command(subcommand)]
        action: GateAction,
    },
    /// Apply edit operations (EDITS.json, `-` for stdin) or a unified diff inside the active
    /// manifest's scope: all validated first, written atomically, journalled, then checked
    /// through the language server (exit 1 when new errors appeared)
    #[command(group = clap::ArgGroup::new("input").required(true).args(["edits", "patch"]))]
    Apply {
        /// The edits: {"edits": [{"op": "replace_symbol", ...}]} (docs/guide/apply.md)
        edits: Option<String>,
        /// A unified diff (`git diff` / `diff -u` output) instead of EDITS.json
        #[arg(long, value_name = "FILE")]
        patch: Option<String>,
        /// Authorise with this manifest instead of the active one
        #[arg(long, value_name = "ID")]
        manifest: Option<String>,
        /// Do not ask the language server for diagnostics afterwards (the output says so)
        #[arg(long)]
        no_lsp: bool,
    },
    /// Undo an apply: restore what transaction TXN (default: the latest) replaced
    Rollback {
        txn: Option<String>,
        /// Restore even files changed since the apply (their later changes are lost)
        #[arg(long)]
        force: bool,
        /// List the journal instead
        #[arg(long, conflicts_with_all = ["txn", "force"])]
        list: bool,
    },
    /// Pre-commit check: changed symbols (HEAD vs the commit), their blast radius, and the
    /// must-change files the commit leaves broken; exit 1 on a violation
    Check {
        /// Check what `git commit` would record (the index) rather than the working tree
        #[arg(long, conflicts_with_all = ["base", "range"])]
        staged: bool,
        /// Check a branch for CI: HEAD against its merge base with REF (`--base origin/main`);
        /// a merge of REF into the branch is not counted as the branch's change
        #[arg(long, value_name = "REF", conflicts_with = "range")]
        base: Option<String>,
        /// Check the commits A..B: B against its merge base with A (`A...B` means the same)
        #[arg(long, value_name = "A..B")]
        range: Option<String>,
        /// List every violation and change (the human form shows the first 25 of each list)
        #[arg(long)]
        all: bool,
        /// SARIF 2.1.0 on stdout (for CI code scanning)
        #[arg(long)]
        sarif: bool,
        /// Decide without the language server: only references to removed or renamed
        /// symbols fail the check
        #[arg(long)]
        no_lsp: bool,
    },
    /// Install maintaind into git hooks
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Write the registry in a format other tools ingest
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// The hash `replace_range` expects for lines START..=END of FILE (1-based)
    Hash { file: String, start: u32, end: u32 },
    /// Report the environment: node, TypeScript, the language server, the registry
    Doctor,
    /// The background daemon: one warm process per root that watches the files and answers
    /// `index`, `symbols`, `blast` and `change` for every client
    Daemon {
        #[command(subcommand)]
        action: DaemonAction,
    },
    /// Language server on stdio for editors (code lenses, blast radius, planned changes),
    /// backed by the daemon (started when needed)
    Lsp,
    /// MCP server on stdio for AI agents: the commands above as tools (symbols, blast, change,
    /// manifest, gate_check, gate_audit, apply, check), backed by the daemon (started when needed)
    Mcp,
    /// Configure an AI agent to use maintaind (MCP server, write hook)
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgentAction {
    /// Write the project's MCP (and, for Claude Code, hook) configuration for AGENT, merged into
    /// what is there (never replacing a setting; idempotent)
    Setup {
        #[arg(value_enum)]
        agent: agent::Agent,
        /// Show the diff; write nothing
        #[arg(long)]
        dry_run: bool,
        /// How the agent starts maintaind (default: `maintaind` on PATH)
        #[arg(long, default_value = "maintaind")]
        command: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DaemonAction {
    /// Start the daemon in the background (reports the running one if there is one)
    Start(DaemonOptions),
    /// Stop the running daemon (gracefully: it finishes the request in hand)
    Stop,
    /// pid, uptime, registry generation, language server state and versions (exit 1 when no
    /// daemon is running)
    Status,
    /// Run the daemon in the foreground (for systemd, launchd and tests); logs go to
    /// .maintaind/daemon.log
    Run(DaemonOptions),
}

#[derive(Subcommand, Debug)]
pub enum GateAction {
    /// Exit 0 when every PATH is writable, 1 when any is refused (one reason per path)
    Check {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Claude Code PreToolUse hook: reads the hook JSON on stdin; exit 2 blocks the write
    ClaudeHook,
    /// Every file created, changed or deleted since the active manifest was activated, however
    /// it was written; exit 1 when any lies outside the manifest's scope
    Audit,
}

#[derive(Subcommand, Debug)]
pub enum ExportWhat {
    /// A SCIP index (Sourcegraph `src code-intel upload`, Glean): one document per file, every
    /// definition, the references the registry resolves, and the route join (controller method
    /// and provider implement the SDK function)
    Scip {
        /// Where to write it, inside the project root and ending in `.scip`; `-` for stdout
        #[arg(long, default_value = "index.scip")]
        out: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum HookAction {
    /// Add `maintaind check --staged` to the pre-commit hook (core.hooksPath and husky
    /// respected; an existing hook is never replaced)
    Install {
        /// Add to a pre-commit hook that is not maintaind's (otherwise refused): before the
        /// line that hands the process away (`exec cmd`, a top-level `exit`), else at the end
        #[arg(long)]
        append: bool,
        /// When the maintaind binary is not there at commit time: refuse the commit, saying
        /// so, or let it through with the check skipped (never a bare "command not found")
        #[arg(long, value_enum, default_value_t = crate::hook::Missing::Block)]
        missing: crate::hook::Missing,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlannerChoice {
    /// Deterministic, embedded, no network
    Offline,
    /// An OpenAI-compatible model (MAINTAIND_LLM_BASE_URL, MAINTAIND_LLM_MODEL, MAINTAIND_LLM_API_KEY or [llm] in maintaind.toml)
    Llm,
}

#[derive(Subcommand, Debug)]
pub enum ManifestAction {
    /// The active manifest (or ID)
    Show {
        id: Option<String>,
        /// List every must-change file (the human form shows the first 25)
        #[arg(long)]
        all: bool,
    },
    /// Every stored manifest, newest first
    List,
    /// Make ID the active manifest (it must be intact)
    Activate { id: String },
    /// Deactivate (manifests stay on disk)
    Clear,
    /// Add PATHs to the active manifest's scope, recorded with who and why
    Widen {
        #[arg(required = true)]
        paths: Vec<String>,
        /// Why these files must change too (recorded in the manifest)
        #[arg(long)]
        reason: String,
        /// Who asks (default: $MAINTAIND_ACTOR, else $USER)
        #[arg(long)]
        by: Option<String>,
    },
    /// The JSON Schema of decisions: what `change --decisions` reads
    Schema,
}

fn kind_parser() -> impl clap::builder::TypedValueParser<Value = SymbolKind> {
    clap::builder::PossibleValuesParser::new(SymbolKind::ALL.map(|k| k.as_str())).map(|s: String| SymbolKind::parse(&s).expect("listed kind"))
}

/// A failure that maps to an exit code with a message for stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: EXIT_USAGE, message: message.into() }
    }
    pub fn env(message: impl Into<String>) -> Failure {
        Failure { code: EXIT_ENV, message: message.into() }
    }
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Failure {
        match e {
            RequestError::BadInput(m) => Failure::usage(m),
            RequestError::Environment(e) => Failure::env(format!("{e:#}")),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::env(format!("{e:#}"))
    }
}

/// Run the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let mut out = Out::new(cli.json);
    run_with(&cli, &mut out)
}

/// Run a parsed command line printing through `out` (a capturing `Out` keeps what it
/// printed: `maintaind mcp` runs its tools this way); returns the exit code.
pub fn run_with(cli: &Cli, out: &mut Out) -> i32 {
    // The Claude hook fails closed: Claude Code blocks a write only on exit 2, so every failure
    // of the hook (no root, a panic, anything) is exit 2, never a pass.
    let hook = matches!(&cli.command, Command::Gate { action: GateAction::ClaudeHook });
    let result = if hook {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli, out)))
            .unwrap_or_else(|p| Err(Failure { code: 2, message: format!("internal error: {}", crate::daemon::panic_message(p.as_ref())) }))
    } else {
        dispatch(cli, out)
    };
    match result {
        Ok(code) if hook && code != EXIT_OK => {
            out.error("maintaind gate claude-hook could not decide; write blocked");
            2
        }
        Ok(code) => code,
        Err(f) if hook => {
            let message = if f.code == 2 { f.message } else { format!("maintaind gate claude-hook failed ({}); write blocked", f.message) };
            out.error(&message);
            2
        }
        Err(f) => {
            out.failure(f.code, &f.message);
            f.code
        }
    }
}

fn dispatch(cli: &Cli, out: &mut Out) -> Result<i32, Failure> {
    if let Command::Lsp = cli.command {
        // An editor may start us anywhere; the workspace folder it names decides the root.
        let root = match &cli.root {
            Some(_) => Some(find_root(cli.root.as_deref())?),
            None => find_root(None).ok(),
        };
        return crate::lsp::serve(crate::lsp::Start { ts_server: cli.ts_server, offline: cli.offline }, root).map(|()| EXIT_OK).map_err(|e| Failure::env(format!("{e:#}")));
    }
    if let Command::Gate { action: GateAction::ClaudeHook } = cli.command {
        return claude_hook(cli, out);
    }
    let root = find_root(cli.root.as_deref())?;
    if let Command::Mcp = cli.command {
        let start = crate::lsp::Start { ts_server: cli.ts_server, offline: cli.offline };
        return crate::cli::mcp::serve(root, start).map(|()| EXIT_OK).map_err(|e| Failure::env(format!("{e:#}")));
    }
    match &cli.command {
        Command::Index => {
            let report = ask::<method::Index>(cli, &root, out, &crate::rpc::NoParams {}, |ws| Ok(ws.refresh(&BarProgress::new("indexing"))?))?;
            output::index(out, &report);
            Ok(EXIT_OK)
        }
        Command::Symbols { query, kind, limit } => {
            // Checked before touching the workspace: bad input writes nothing.
            crate::workspace::check_query(query)?;
            let params = crate::rpc::SymbolsParams { query: query.clone(), kind: kind.map(|k| k.as_str().to_string()) };
            let report = ask::<method::Symbols>(cli, &root, out, &params, |ws| {
                ws.refresh(&BarProgress::new("indexing"))?;
                Ok(ws.analysis().search(query, *kind)?)
            })?;
            output::symbols(out, query, &report, *limit);
            Ok(if report.hits.is_empty() { EXIT_FOUND } else { EXIT_OK })
        }
        Command::Blast { symbol, change, no_lsp, depth, all } => {
            crate::workspace::check_symbol(symbol)?;
            let config = Config::load(&root).map_err(Failure::usage)?;
            let params = crate::rpc::BlastParams { symbol: symbol.clone(), change: *change, no_lsp: *no_lsp, depth: *depth, fresh: false };
            let report = ask::<method::Blast>(cli, &root, out, &params, |ws| {
                if !no_lsp {
                    start_server(cli, &config, ws, out)?;
                }
                ws.refresh(&BarProgress::new("indexing"))?;
                Ok(ws.analysis().blast(symbol, *change, *no_lsp, *depth)?)
            })?;
            output::blast(out, &report, *all);
            Ok(EXIT_OK)
        }
        Command::Change { request, planner, dry_run, no_lsp, allow_no_tests, amend, decisions, apply: carry_out } => {
            crate::workspace::check_length("request", request, crate::workspace::MAX_REQUEST)?;
            if request.trim().is_empty() {
                return Err(Failure::usage("empty request: say what should change, e.g. `maintaind change \"add view_count to the article model\"`"));
            }
            let given = match decisions {
                Some(source) => Some(read_decisions(out, source)?),
                None => None,
            };
            let config = Config::load(&root).map_err(Failure::usage)?;
            let planner = match (planner, &given) {
                (_, Some(d)) => crate::synthesizer::Planner::Given(Box::new(d.clone())),
                (PlannerChoice::Offline, None) => crate::synthesizer::Planner::Offline,
                (PlannerChoice::Llm, None) => crate::synthesizer::Planner::Llm(crate::llm::LlmConfig::load(&config).map_err(Failure::env)?),
            };
            let opts = crate::synthesizer::ChangeOptions { dry_run: *dry_run, no_lsp: *no_lsp, allow_no_tests: *allow_no_tests, amend: *amend };
            let local = |ws: &mut Workspace| -> Result<crate::manifest::Manifest, Failure> {
                if !no_lsp {
                    start_server(cli, &config, ws, out)?;
                }
                Ok(crate::synthesizer::change(ws, request, &planner, &opts, &BarProgress::new("indexing"))?)
            };
            // The LLM planner runs here: it needs this process's environment for its key.
            let daemon = if matches!(planner, crate::synthesizer::Planner::Llm(_)) { None } else { daemon_client(cli, &root, out)? };
            let carry = |m: &crate::manifest::Manifest| *carry_out && !m.has_rejection();
            // An id for the write, recorded in the journal (what became of it if the daemon dies).
            let request_id = crate::journal::new_request_id();
            let (manifest, carried) = match daemon {
                Some(mut client) => {
                    let params = crate::rpc::ChangeParams { request: request.clone(), dry_run: *dry_run, no_lsp: *no_lsp, allow_no_tests: *allow_no_tests, amend: *amend, decisions: given };
                    let manifest = remote::<method::Change>(&mut client, &params)?;
                    let carried = if carry(&manifest) {
                        let p =
                            crate::rpc::ChangeApplyParams { manifest: (!dry_run).then(|| manifest.id.clone()), plan: dry_run.then(|| Box::new(manifest.clone())), request: Some(request_id.clone()) };
                        match client.request_synced::<method::ChangeApply>(&p) {
                            Ok(r) => Some(r),
                            Err(crate::rpc::CallError::Io(e)) => return Err(lost_apply(&root, &request_id, &e)),
                            Err(e) => return Err(remote_failure(e)),
                        }
                    } else {
                        None
                    };
                    (manifest, carried)
                }
                None => {
                    let mut ws = Workspace::open(&root)?;
                    let manifest = local(&mut ws)?;
                    let carried = if carry(&manifest) {
                        let who = crate::apply::Requester { say: &|m| out.note(m), gone: &|| false, request: Some(&request_id) };
                        Some(crate::mechanical::carry_out(&mut ws, &manifest, *dry_run, &who)?)
                    } else {
                        None
                    };
                    (manifest, carried)
                }
            };
            Ok(match carried {
                Some(report) => carried_out(out, &report, !dry_run),
                None => planned(out, &manifest, *dry_run),
            })
        }
        Command::Manifest { action } => {
            let store = crate::manifest::ManifestStore::new(&root);
            let usage = |e: crate::manifest::ManifestError| Failure::usage(e.to_string());
            match action {
                ManifestAction::Show { id, all } => {
                    let m = match id {
                        Some(id) => store.load(id).map_err(usage)?,
                        None => store.active().map_err(usage)?,
                    };
                    output::manifest(out, &m, store.active_id().as_deref() == Some(m.id.as_str()), *all);
                }
                ManifestAction::List => output::manifest_list(out, &store.list(), store.active_id().as_deref()),
                ManifestAction::Activate { id } => {
                    let m = store.activate(id).map_err(usage)?;
                    output::manifest(out, &m, true, false);
                }
                ManifestAction::Clear => {
                    let was = store.clear().map_err(usage)?;
                    if out.json {
                        output::json_always(out, &serde_json::json!({"cleared": was}));
                    } else {
                        out.note(if was { "no manifest is active now" } else { "no manifest was active" });
                    }
                }
                ManifestAction::Widen { paths, reason, by } => {
                    let by = by.clone().or_else(|| std::env::var("MAINTAIND_ACTOR").ok()).or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
                    let m = widen(&root, &store, paths, reason, &by)?;
                    output::manifest(out, &m, true, false);
                }
                ManifestAction::Schema => output::json_always(out, &crate::manifest::decisions_schema()),
            }
            Ok(EXIT_OK)
        }
        Command::Gate { action: GateAction::Audit } => {
            let store = crate::manifest::ManifestStore::new(&root);
            let manifest = store.active().map_err(|e| Failure::usage(e.to_string()))?;
            let tree = store.tree(&manifest.id).map_err(|e| Failure::usage(e.to_string()))?;
            let audit = crate::tree::audit(&root, &manifest, &tree).map_err(|e| Failure::env(format!("cannot read the tree: {e}")))?;
            output::audit(out, &audit);
            Ok(if audit.out_of_scope == 0 { EXIT_OK } else { EXIT_FOUND })
        }
        Command::Gate { action } => {
            let paths = match action {
                GateAction::Audit | GateAction::ClaudeHook => unreachable!("answered above"),
                GateAction::Check { paths } => paths.clone(),
            };
            let verdicts = gate_verdicts(&root, &paths);
            let refused = verdicts.iter().any(|v| !v.allowed);
            output::gate(out, &verdicts);
            Ok(if refused { EXIT_FOUND } else { EXIT_OK })
        }
        Command::Apply { edits, patch, manifest, no_lsp } => apply(cli, &root, out, edits.as_deref(), patch.as_deref(), manifest.as_deref(), *no_lsp),
        Command::Rollback { txn, force, list } => {
            let journal = crate::journal::Journal::new(&root);
            if *list {
                output::journal(out, &journal.list());
                return Ok(EXIT_OK);
            }
            let _lock = crate::journal::WriteLock::acquire(&crate::state::state_dir(&root), &|m| out.note(m), &|| false)?;
            let txn = journal.rollback(txn.as_deref(), *force).map_err(|e| Failure::usage(format!("{e:#}")))?;
            output::rolled_back(out, &txn);
            // A restored schema needs its client back, or the code is checked against the new one.
            let restored: Vec<String> = txn.files.iter().map(|f| f.path.clone()).collect();
            match crate::prisma_change::regenerate_after_rollback(&root, &restored) {
                Some(Ok(done)) => out.note(&done),
                Some(Err(e)) => out.note(&format!("warning: the Prisma schema was restored but its client was not regenerated ({e}); run `npx prisma generate` before type-checking")),
                None => {}
            }
            Ok(EXIT_OK)
        }
        Command::Check { staged, base, range, all, sarif, no_lsp } => {
            // `pre-commit run --from-ref A --to-ref B` (the framework in CI) hands its hooks the
            // range in the environment: the staged hook checks that range then, not the empty index.
            let framework_range = std::env::var("PRE_COMMIT_FROM_REF").ok().zip(std::env::var("PRE_COMMIT_TO_REF").ok()).filter(|_| *staged).map(|(a, b)| format!("{a}..{b}"));
            if let Some(r) = &framework_range {
                out.note(&format!("pre-commit passed --from-ref/--to-ref: checking {r} instead of the staged state"));
            }
            let (staged, range) = match &framework_range {
                Some(r) => (&false, &Some(r.clone())),
                None => (staged, range),
            };
            let source = crate::check::Source::of(*staged, base.as_deref(), range.as_deref()).map_err(Failure::usage)?;
            let commit = crate::check::Commit::read(&root, source).map_err(|e| match e {
                crate::check::CommitError::Usage(m) => Failure::usage(m),
                crate::check::CommitError::Environment(m) => Failure::env(m),
            })?;
            let params = crate::rpc::CheckParams { staged: *staged, base: base.clone(), range: range.clone(), no_lsp: *no_lsp };
            let report = if commit.touches_code() {
                ask::<method::Check>(cli, &root, out, &params, |ws| {
                    let config = Config::load(&root).map_err(Failure::usage)?;
                    if !no_lsp {
                        start_server(cli, &config, ws, out)?;
                    }
                    ws.refresh(&BarProgress::new("indexing"))?;
                    Ok(crate::check::check(ws, &commit, *no_lsp)?)
                })?
            } else {
                crate::check::scope_only(&root, &commit)
            };
            let rerun = match (staged, base, range) {
                (true, _, _) => "maintaind check --staged".to_string(),
                (_, Some(b), _) => format!("maintaind check --base {b}"),
                (_, _, Some(r)) => format!("maintaind check --range {r}"),
                _ => "maintaind check".to_string(),
            };
            // SARIF paths are the repository's, and the project may be a directory in it.
            let text = |args: &[&str]| crate::check::git(&root, args).ok().map(|b| String::from_utf8_lossy(&b).trim().to_string());
            let prefix = if *sarif { text(&["rev-parse", "--show-prefix"]).unwrap_or_default() } else { String::new() };
            let top = if *sarif { text(&["rev-parse", "--show-toplevel"]).map(PathBuf::from) } else { None };
            output::check(out, &report, *sarif, &output::CheckView { all: *all, rerun: &rerun, repo_prefix: &prefix, repo_top: top.as_deref() });
            Ok(if report.violations.is_empty() { EXIT_OK } else { EXIT_FOUND })
        }
        Command::Hook { action: HookAction::Install { append, missing } } => {
            let installed = crate::hook::install(&root, *append, *missing).map_err(|e| Failure { code: e.code(), message: e.to_string() })?;
            output::hook_installed(out, &installed);
            Ok(EXIT_OK)
        }
        Command::Export { what: ExportWhat::Scip { out: target } } => export_scip(&root, out, target),
        Command::Hash { file, start, end } => {
            let rel = crate::gate::resolve(&root, file).map_err(|e| Failure::usage(format!("{file}: {e}")))?;
            let text = std::fs::read_to_string(root.join(&rel)).map_err(|e| Failure::usage(format!("cannot read {rel}: {e}")))?;
            let (from, to) = crate::edits::line_range(&text, *start, *end).map_err(|e| Failure::usage(format!("{rel}: {e}")))?;
            output::hash(out, &rel, *start, *end, &crate::edits::hash_text(&text[from..to]));
            Ok(EXIT_OK)
        }
        Command::Daemon { action } => daemon_command(cli, &root, out, action),
        Command::Lsp | Command::Mcp => unreachable!("served above"),
        Command::Agent { action: AgentAction::Setup { agent, dry_run, command } } => {
            if command.trim().is_empty() || command.contains(['\n', '\0']) {
                return Err(Failure::usage("--command must be a program name or path"));
            }
            let changes = agent::plan(&root, *agent, command).map_err(Failure::usage)?;
            if !dry_run {
                agent::write(&root, &changes).map_err(Failure::env)?;
            }
            let on_path = command.contains('/') || std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(command).is_file()));
            if !on_path {
                out.note(&format!("`{command}` is not on PATH: the agent will not find it (pass --command /path/to/maintaind)"));
            }
            output::agent_setup(out, &changes, *dry_run);
            Ok(EXIT_OK)
        }
        Command::Doctor => {
            let report = doctor::report(&root);
            output::doctor(out, &report);
            Ok(EXIT_OK)
        }
    }
}

/// `maintaind apply`: parse first (bad input writes nothing and starts nothing), then lock,
/// refresh, validate, write, check.
fn apply(cli: &Cli, root: &Path, out: &Out, edits: Option<&str>, patch: Option<&str>, manifest_id: Option<&str>, no_lsp: bool) -> Result<i32, Failure> {
    let read = |source: &str| -> Result<String, Failure> {
        if source == "-" {
            out.read_stdin(u64::MAX).map_err(|e| Failure::usage(format!("cannot read the edits from stdin: {e}")))
        } else {
            std::fs::read_to_string(source).map_err(|e| Failure::usage(format!("cannot read {source}: {e}")))
        }
    };
    let (text, source, is_patch) = match (edits, patch) {
        (Some(e), _) => (read(e)?, e, false),
        (None, Some(p)) => (read(p)?, p, true),
        (None, None) => unreachable!("clap requires one"),
    };
    let ops = crate::edits::parse_ops(&text, is_patch).map_err(|m| Failure::usage(format!("{source}: {m}")))?;
    let manifest = crate::apply::load_manifest(root, manifest_id)?;
    // An id for this apply, recorded in the journal: if the daemon dies mid-way, the journal
    // says what became of it.
    let request = crate::journal::new_request_id();
    let report: crate::apply::ApplyReport = if let Some(mut client) = daemon_client(cli, root, out)? {
        let params = crate::rpc::ApplyParams { text: text.clone(), patch: is_patch, source: source.to_string(), manifest: manifest_id.map(str::to_string), no_lsp, request: Some(request.clone()) };
        match client.request_synced::<method::Apply>(&params) {
            Ok(r) => r,
            Err(crate::rpc::CallError::Io(e)) => return Err(lost_apply(root, &request, &e)),
            Err(e) => return Err(remote_failure(e)),
        }
    } else {
        let config = Config::load(root).map_err(Failure::usage)?;
        let mut ws = Workspace::open(root)?;
        if !no_lsp {
            start_server(cli, &config, &mut ws, out)?;
        }
        let who = crate::apply::Requester { say: &|m| out.note(m), gone: &|| false, request: Some(&request) };
        crate::apply::run(&mut ws, &manifest, &ops, no_lsp, &who)?
    };
    output::applied(out, &report);
    if !report.diagnostics.unchecked.is_empty() {
        return Err(Failure::env(format!(
            "written, but the language server gave no diagnostics for: {}; check them yourself or undo with `maintaind rollback {}`",
            report.diagnostics.unchecked.join("; "),
            report.txn
        )));
    }
    Ok(if report.diagnostics.new_errors.is_empty() { EXIT_OK } else { EXIT_FOUND })
}

/// `change --apply`'s output and exit code: 0 applied or shown, 1 rolled back for new errors,
/// 2 plan only, 3 not verifiable (rolled back).
fn carried_out(out: &Out, report: &crate::mechanical::ChangeApplied, stored: bool) -> i32 {
    use crate::mechanical::Outcome;
    output::change_applied(out, report, stored);
    match report.outcome {
        Outcome::Applied | Outcome::DryRun => EXIT_OK,
        Outcome::RolledBack => EXIT_FOUND,
        Outcome::PlanOnly => EXIT_USAGE,
        Outcome::Unverified => EXIT_ENV,
    }
}

/// The running daemon for `root`, when this command should use it: `None` with
/// `--no-daemon`, when none is running, or when `--ts-server` asks for another server than the
/// daemon's (in-process work then, with a note). `--daemon` turns "none running" into exit 3.
fn daemon_client(cli: &Cli, root: &Path, out: &Out) -> Result<Option<crate::rpc::Client>, Failure> {
    if cli.no_daemon {
        return Ok(None);
    }
    let client = match crate::rpc::Client::connect(root) {
        Ok(Some(c)) => c,
        Ok(None) if cli.daemon => return Err(Failure::env(format!("no maintaind daemon is running for {}; start one with `maintaind daemon start`", root.display()))),
        Ok(None) => return Ok(None),
        Err(e) if cli.daemon => return Err(Failure::env(format!("cannot talk to the daemon for {}: {e}", root.display()))),
        Err(e) => {
            out.note(&format!("cannot talk to the daemon ({e}); working in this process"));
            return Ok(None);
        }
    };
    if let Some(choice) = cli.ts_server
        && choice != ServerChoice::Auto
        && client.hello.server.as_deref() != Some(choice.as_str())
    {
        let running = client.hello.server.clone().unwrap_or_else(|| "no server".into());
        if cli.daemon {
            return Err(Failure::usage(format!("the daemon runs {running}, not --ts-server {}; restart it with that server or drop --daemon", choice.as_str())));
        }
        out.note(&format!("the daemon runs {running}; --ts-server {} is served in this process", choice.as_str()));
        return Ok(None);
    }
    Ok(Some(client))
}

/// `export scip`: the registry as it is now (refreshed first), written whole or not at all.
fn export_scip(root: &Path, out: &Out, target: &str) -> Result<i32, Failure> {
    // The destination is checked before any work: bad input writes nothing.
    let rel = if target == "-" {
        if out.json {
            return Err(Failure::usage("--out - writes the binary index to stdout, where --json promises JSON; write it to a file (--out index.scip) to get the JSON summary"));
        }
        None
    } else {
        let rel = crate::gate::resolve(root, target).map_err(|e| Failure::usage(format!("--out {target}: {e}")))?;
        if !rel.ends_with(".scip") {
            return Err(Failure::usage(format!("--out {target}: a SCIP index is written to a file ending in `.scip` (so a source file is never overwritten by mistake)")));
        }
        Some(rel)
    };
    let mut ws = Workspace::open(root)?;
    let report = ws.refresh(&BarProgress::new("indexing"))?;
    let (index, summary) = crate::scip_export::export(ws.registry(), ws.root());
    let bytes = protobuf::Message::write_to_bytes(&index).map_err(|e| Failure::env(format!("cannot encode the SCIP index: {e}")))?;
    // Honest output: what the index lacks is said.
    if !report.skipped.is_empty() {
        out.note(&format!("{} path(s) were passed over and are not in the index (`maintaind index` lists them)", report.skipped.len()));
    }
    let unparsed = ws.registry().files().filter(|f| f.not_parsed.is_some()).count();
    if unparsed > 0 {
        out.note(&format!("{unparsed} file(s) could not be parsed (binary or too large) and have no document"));
    }
    match rel {
        None => out.stdout_bytes(&bytes),
        Some(rel) => {
            let dir = crate::safefs::RootDir::open(ws.root()).map_err(|e| Failure::env(format!("cannot open the root: {e}")))?;
            let existing = dir.read(&rel).map_err(|e| Failure::usage(e.to_string()))?;
            let expect = crate::safefs::Expect::of(existing.map(|b| crate::safefs::hash_text(&String::from_utf8_lossy(&b))).as_deref());
            dir.create_parents(&rel).map_err(|e| Failure::env(e.to_string()))?;
            dir.replace(&rel, &bytes, &expect).map_err(|e| Failure::env(e.to_string()))?;
            output::exported(out, &rel, bytes.len(), &summary);
        }
    }
    Ok(EXIT_OK)
}

/// The one place a command chooses where it runs: through the running daemon (request `M`, with
/// the read-your-writes barrier), else in this process (`local`, on a freshly opened workspace).
fn ask<M: crate::rpc::Method>(cli: &Cli, root: &Path, out: &Out, params: &M::Params, local: impl FnOnce(&mut Workspace) -> Result<M::Result, Failure>) -> Result<M::Result, Failure> {
    if let Some(mut client) = daemon_client(cli, root, out)? {
        return remote::<M>(&mut client, params);
    }
    local(&mut Workspace::open(root)?)
}

/// Call the daemon; its errors map to the exit codes in-process work would give.
fn remote<M: crate::rpc::Method>(client: &mut crate::rpc::Client, params: &M::Params) -> Result<M::Result, Failure> {
    let _boot = BootWatch::start(Path::new(&client.hello.root));
    // Read-your-writes: a file saved just before this command is in the answer.
    client.request_synced::<M>(params).map_err(remote_failure)
}

/// A command sent to a daemon that is still starting waits for it: on a terminal, after a
/// moment without an answer, a spinner says what the daemon is doing (its status's `phase`),
/// asked on a second connection. Gone when the answer comes (dropped).
struct BootWatch {
    done: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long an answer may take before the spinner asks the daemon what it is doing: a warm
/// answer comes well before, and costs nothing but this thread.
const BOOT_WATCH_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

impl BootWatch {
    fn start(root: &Path) -> Option<BootWatch> {
        use std::sync::mpsc::RecvTimeoutError;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let root = root.to_path_buf();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if wait.recv_timeout(BOOT_WATCH_AFTER) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            let Ok(Some(mut client)) = crate::rpc::Client::connect(&root) else { return };
            let spinner = indicatif::ProgressBar::hidden();
            spinner.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
            while let Ok(status) = client.request::<crate::rpc::method::Status>(&crate::rpc::StatusParams::default()) {
                spinner.set_message(boot_message(&status));
                if spinner.is_hidden() {
                    spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
                }
                // The status is asked again until the answer comes (the sender is dropped).
                if wait.recv_timeout(std::time::Duration::from_millis(250)) != Err(RecvTimeoutError::Timeout) {
                    break;
                }
            }
            spinner.finish_and_clear();
        });
        Some(BootWatch { done: Some(done), thread: Some(thread) })
    }
}

impl Drop for BootWatch {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a command waiting on the daemon says: what a starting daemon is doing, else that the
/// request is being worked on.
fn boot_message(status: &crate::rpc::Status) -> String {
    match (status.state.as_str(), &status.phase) {
        ("starting", Some(phase)) => format!("waiting for the daemon to start: {phase}"),
        ("starting", None) => "waiting for the daemon to start".into(),
        ("stopping", _) => "the daemon is stopping".into(),
        _ => "waiting for the daemon's answer".into(),
    }
}

fn remote_failure(e: crate::rpc::CallError) -> Failure {
    use crate::rpc::{CallError, code};
    match e {
        CallError::Rpc(r) if r.code == code::BAD_INPUT || r.code == code::INVALID_PARAMS => Failure::usage(r.message),
        CallError::Rpc(r) => Failure::env(format!("the daemon: {}", r.message)),
        other => Failure::env(format!("{other} (retry with --no-daemon)")),
    }
}

/// The daemon went away during an apply: what the journal says happened to it, never a bare
/// "retry" (retrying a committed apply would apply its edits twice).
fn lost_apply(root: &Path, request: &str, e: &std::io::Error) -> Failure {
    use crate::journal::TxnState;
    let txn = crate::journal::Journal::new(root).list().into_iter().find(|t| t.request.as_deref() == Some(request));
    let files = |t: &crate::journal::Txn| t.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ");
    let message = match &txn {
        Some(t) if t.state == TxnState::Committed => format!(
            "lost the connection to the daemon ({e}) after the apply COMMITTED as transaction {}: {} written; diagnostics were not checked. Do not apply these edits again; run your type checker, or undo with `maintaind rollback {}`",
            t.id,
            files(t),
            t.id
        ),
        Some(t) if t.state == TxnState::RolledBack => format!("lost the connection to the daemon ({e}); the apply was ROLLED BACK (transaction {}): nothing changed", t.id),
        Some(t) => format!(
            "lost the connection to the daemon ({e}) while the apply was writing: transaction {} was INTERRUPTED, so {} may be half-applied. Run `maintaind rollback {}`, then apply again",
            t.id,
            files(t),
            t.id
        ),
        None => format!("lost the connection to the daemon ({e}) before the apply wrote anything (no journal entry for request {request}): nothing changed; it is safe to apply again"),
    };
    Failure::env(message)
}

fn daemon_command(cli: &Cli, root: &Path, out: &Out, action: &DaemonAction) -> Result<i32, Failure> {
    use crate::rpc::Client;
    match action {
        DaemonAction::Run(opts) => {
            let options = daemon_options(cli, root, opts)?;
            crate::daemon::init_log(root).map_err(|e| Failure::env(format!("{e:#}")))?;
            let stopped = crate::daemon::run(root, options, &|m| out.note(m)).map_err(|e| {
                tracing::error!("{e:#}");
                Failure::env(format!("{e:#}"))
            })?;
            out.note(&format!("maintaind daemon for {}: {stopped}", root.display()));
            Ok(EXIT_OK)
        }
        DaemonAction::Start(opts) => {
            if let Ok(Some(mut c)) = Client::connect(root) {
                let status: crate::rpc::Status = remote::<method::Status>(&mut c, &crate::rpc::StatusParams::default())?;
                out.note(&format!("a daemon is already running for {} (pid {})", root.display(), status.pid));
                output::daemon_status(out, &status);
                return Ok(EXIT_OK);
            }
            daemon_options(cli, root, opts)?; // bad options fail here, before anything starts
            let status = crate::daemon::spawn(root, cli.ts_server, cli.offline, opts).map_err(|e| Failure::env(format!("{e:#}")))?;
            output::daemon_status(out, &status);
            Ok(EXIT_OK)
        }
        DaemonAction::Stop => match Client::connect(root) {
            Ok(Some(mut c)) => {
                let pid = c.hello.pid;
                remote::<method::Shutdown>(&mut c, &crate::rpc::NoParams {})?;
                drop(c);
                crate::daemon::wait_gone(root, pid, std::time::Duration::from_secs(30)).map_err(|e| Failure::env(format!("{e:#}")))?;
                if out.json {
                    output::json(out, &serde_json::json!({"stopped": true, "pid": pid}));
                } else {
                    out.note(&format!("stopped the daemon for {} (pid {pid})", root.display()));
                }
                Ok(EXIT_OK)
            }
            Ok(None) => {
                if out.json {
                    output::json(out, &serde_json::json!({"stopped": false}));
                } else {
                    out.note(&format!("no daemon is running for {}", root.display()));
                }
                Ok(EXIT_OK)
            }
            Err(e) => Err(Failure::env(format!("cannot talk to the daemon for {}: {e}", root.display()))),
        },
        DaemonAction::Status => match Client::connect(root) {
            Ok(Some(mut c)) => {
                let status: crate::rpc::Status = remote::<method::Status>(&mut c, &crate::rpc::StatusParams::default())?;
                output::daemon_status(out, &status);
                Ok(EXIT_OK)
            }
            Ok(None) => {
                if out.json {
                    output::json(out, &serde_json::json!({"running": false, "root": root.display().to_string()}));
                } else {
                    out.note(&format!("no daemon is running for {} (start one with `maintaind daemon start`)", root.display()));
                }
                Ok(EXIT_FOUND)
            }
            Err(e) => Err(Failure::env(format!("cannot talk to the daemon for {}: {e}", root.display()))),
        },
    }
}

fn daemon_options(cli: &Cli, root: &Path, opts: &DaemonOptions) -> Result<crate::daemon::Options, Failure> {
    let config = Config::load(root).map_err(Failure::usage)?;
    if opts.debounce_ms == 0 || opts.debounce_ms > 10_000 {
        return Err(Failure::usage(format!("--debounce-ms {} is out of range (1..=10000)", opts.debounce_ms)));
    }
    let semantic = (!opts.no_lsp).then(|| SemanticOptions {
        choice: cli.ts_server.or(config.ts_server).unwrap_or(ServerChoice::Auto),
        offline: cli.offline || config.offline.unwrap_or(false),
        ready_timeout: std::time::Duration::from_secs(config.ready_timeout_secs.unwrap_or(120)),
    });
    let idle = opts.idle_exit.or(config.daemon.as_ref().and_then(|d| d.idle_exit_secs)).filter(|s| *s > 0);
    Ok(crate::daemon::Options { semantic, idle_exit: idle.map(std::time::Duration::from_secs), debounce: std::time::Duration::from_millis(opts.debounce_ms) })
}

/// `gate claude-hook`: a Claude Code `PreToolUse` hook. It reads the event on stdin and
/// answers in Claude Code's JSON (`hookSpecificOutput.permissionDecision`): `deny` with a reason
/// the model reads (the scope, and the command that widens it) for a write the gate refuses;
/// nothing (or `allow` with `[hook] allow_in_scope`) for one in scope; nothing for a write
/// outside the project (`[hook] outside_root = "deny"` blocks those) and for other tools. The
/// root is `--root`, else `$CLAUDE_PROJECT_DIR`, else the project around the event's `cwd`;
/// relative paths are the event's `cwd`'s. Every failure to decide is exit 2 (see `run`).
fn claude_hook(cli: &Cli, out: &Out) -> Result<i32, Failure> {
    let blocked = |m: String| Failure { code: 2, message: format!("maintaind gate: {m}; write blocked") };
    let input = out.read_stdin(16 << 20).map_err(|e| blocked(format!("cannot read the hook input: {e}")))?;
    let event: serde_json::Value = serde_json::from_str(&input).map_err(|e| blocked(format!("the hook input is not JSON ({e})")))?;
    let paths = crate::gate::hook_paths(&event).map_err(blocked)?;
    if paths.is_empty() {
        return Ok(EXIT_OK); // not a write
    }
    let cwd = event.get("cwd").and_then(|c| c.as_str()).filter(|c| !c.is_empty()).map(PathBuf::from);
    let root = match (&cli.root, std::env::var_os("CLAUDE_PROJECT_DIR").filter(|d| !d.is_empty())) {
        (Some(r), _) => find_root(Some(r)),
        (None, Some(dir)) => find_root(Some(Path::new(&dir))),
        (None, None) => match &cwd {
            Some(c) => c
                .ancestors()
                .find(|d| d.join(".git").exists() || d.join("package.json").exists())
                .map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf()))
                .ok_or_else(|| Failure::usage(format!("no project root above the event's cwd {} (no .git or package.json)", c.display()))),
            None => find_root(None),
        },
    }
    .map_err(|f| blocked(f.message))?;
    let config = Config::load(&root).map_err(|e| blocked(e.to_string()))?;
    let hook = config.hook.unwrap_or_default();
    let base = cwd.clone().unwrap_or_else(|| root.clone());
    let mut inside = Vec::new();
    for p in &paths {
        let abs = if Path::new(p).is_absolute() { PathBuf::from(p) } else { base.join(p) };
        // The directory as the kernel resolves it (links followed); the name itself is not
        // followed, so a link in the project stays in the project, where the gate refuses it.
        let normal = lexical(&abs);
        let normal = match (normal.parent(), normal.file_name()) {
            (Some(dir), Some(name)) => canonical_prefix(dir).join(name),
            _ => normal,
        };
        if normal.starts_with(&root) {
            inside.push(normal.display().to_string());
        } else if hook.outside_root == Some(crate::config::OutsideRoot::Deny) {
            output::hook_decision(out, "deny", &format!("maintaind: {p} is outside the project {} (`[hook] outside_root = \"deny\"` in maintaind.toml)", root.display()));
            return Ok(EXIT_OK);
        }
    }
    if inside.is_empty() {
        return Ok(EXIT_OK); // none of the project's business
    }
    let verdicts = gate_verdicts(&root, &inside);
    match verdicts.iter().find(|v| !v.allowed) {
        Some(v) => output::hook_decision(out, "deny", &format!("maintaind refused {}: {}", v.path.as_deref().unwrap_or(&v.input), v.reason)),
        None if hook.allow_in_scope == Some(true) => {
            output::hook_decision(out, "allow", &format!("maintaind: in the active manifest's scope ({})", verdicts.iter().map(|v| v.reason.as_str()).collect::<Vec<_>>().join("; ")))
        }
        None => {}
    }
    Ok(EXIT_OK)
}

/// `path` with its deepest existing ancestor canonicalised (links resolved), the rest as is.
fn canonical_prefix(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent().map(Path::to_path_buf)) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    out.extend(rest.iter().rev());
    out
}

/// `path` with `.` and `..` resolved without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// `manifest widen`: every path is checked first (inside the root, not `.git/` or
/// `.maintaind/`, not excluded); all or none are added, under the write lock.
fn widen(root: &Path, store: &crate::manifest::ManifestStore, paths: &[String], reason: &str, by: &str) -> Result<crate::manifest::Manifest, Failure> {
    crate::workspace::check_length("reason", reason, crate::workspace::MAX_REQUEST)?;
    if reason.trim().is_empty() {
        return Err(Failure::usage("say why with --reason \"...\": it is recorded in the manifest"));
    }
    let _lock = crate::journal::WriteLock::acquire(&crate::state::state_dir(root), &|_| {}, &|| false)?;
    let mut manifest = store.active().map_err(|e| Failure::usage(e.to_string()))?;
    let mut refused = Vec::new();
    let mut added = Vec::new();
    let scope = crate::tree::scope(&manifest);
    for p in paths {
        match crate::gate::widenable(root, &manifest, p) {
            Ok(rel) if scope.contains(&rel) || added.contains(&rel) => {}
            Ok(rel) => added.push(rel),
            Err(why) => refused.push(format!("{p}: {why}")),
        }
    }
    if !refused.is_empty() {
        return Err(Failure::usage(format!("nothing was widened: {}", refused.join("; "))));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    for path in added {
        manifest.widened.push(crate::manifest::Widening { path, reason: reason.trim().to_string(), by: by.to_string(), at_unix: now });
    }
    store.resave(&mut manifest).map_err(|e| Failure::env(e.to_string()))?;
    Ok(manifest)
}

/// The longest decisions file accepted (bytes): real ones are a few KB.
const MAX_DECISIONS: u64 = 1 << 20;

/// Read `--decisions FILE` (`-`: stdin) and parse it strictly (nothing is planned on error).
fn read_decisions(out: &Out, source: &str) -> Result<crate::manifest::Decisions, Failure> {
    let read = if source == "-" {
        out.read_stdin(MAX_DECISIONS + 1)
    } else {
        std::fs::File::open(source).and_then(|f| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(f, MAX_DECISIONS + 1), &mut text).map(|_| text)
        })
    };
    let text = read.map_err(|e| Failure::usage(format!("cannot read the decisions {source}: {e}")))?;
    if text.len() as u64 > MAX_DECISIONS {
        return Err(Failure::usage(format!("the decisions {source} are longer than {MAX_DECISIONS} bytes; nothing was planned")));
    }
    crate::manifest::parse_decisions(&text).map_err(|e| Failure::usage(format!("the decisions {source} are not valid ({e}); nothing was planned. The schema: maintaind manifest schema")))
}

/// Judge `paths` against the active manifest: every path is refused, with the manifest's
/// problem as the reason, when there is none, it is damaged, from elsewhere, or stale.
fn gate_verdicts(root: &Path, paths: &[String]) -> Vec<crate::gate::Verdict> {
    let refuse_all = |reason: String| paths.iter().map(|p| crate::gate::Verdict { input: p.clone(), path: None, allowed: false, reason: reason.clone() }).collect::<Vec<_>>();
    let store = crate::manifest::ManifestStore::new(root);
    let manifest = match store.active() {
        Ok(m) => m,
        Err(e) => return refuse_all(e.to_string()),
    };
    let mut ws = match Workspace::open(root) {
        Ok(ws) => ws,
        Err(e) => return refuse_all(format!("cannot read the project: {e:#}")),
    };
    if let Err(e) = ws.refresh(&crate::workspace::NoProgress) {
        return refuse_all(format!("cannot index the project: {e:#}"));
    }
    if let Some(problem) = crate::gate::manifest_problem(root, &manifest, ws.registry()) {
        return refuse_all(problem);
    }
    paths.iter().map(|p| crate::gate::check(root, &manifest, p)).collect()
}

/// Start the TypeScript server for a command that uses it: flags win over `maintaind.toml`.
fn start_server(cli: &Cli, config: &Config, ws: &mut Workspace, out: &Out) -> Result<(), Failure> {
    let options = SemanticOptions {
        choice: cli.ts_server.or(config.ts_server).unwrap_or(ServerChoice::Auto),
        offline: cli.offline || config.offline.unwrap_or(false),
        ready_timeout: std::time::Duration::from_secs(config.ready_timeout_secs.unwrap_or(120)),
    };
    let say = |m: &str| out.note(m);
    ws.start_semantic(&options, &say).map_err(|e| Failure::env(format!("no TypeScript language server: {e} (or pass --no-lsp for a registry-only answer)")))
}

/// `--root` as given (must be an existing directory), else the nearest ancestor of the
/// current directory with `.git` or `package.json`.
pub fn find_root(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = given {
        return match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => dir.canonicalize().map_err(|e| Failure::usage(format!("root `{}` cannot be opened: {e}", dir.display()))),
            Ok(_) => Err(Failure::usage(format!("root `{}` is not a directory", dir.display()))),
            Err(_) => Err(Failure::usage(format!("root `{}` does not exist", dir.display()))),
        };
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::env(format!("cannot read the current directory: {e}")))?;
    cwd.ancestors()
        .find(|d| d.join(".git").exists() || d.join("package.json").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| Failure::usage(format!("no project root above {} (no .git or package.json); pass --root DIR", cwd.display())))
}

/// A progress bar on stderr for indexing, drawn only on a terminal and only once the work has
/// run for about a second (short runs stay quiet), and a spinner saying what a cold command
/// waits for (the language server's projects), on a terminal only.
struct BarProgress {
    bar: Option<indicatif::ProgressBar>,
    spinner: std::sync::OnceLock<indicatif::ProgressBar>,
    started: std::time::Instant,
}

impl BarProgress {
    fn new(label: &'static str) -> BarProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::hidden();
            bar.set_style(indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} files ({eta})").expect("valid template").progress_chars("=> "));
            bar.set_message(label);
            bar
        });
        BarProgress { bar, spinner: std::sync::OnceLock::new(), started: std::time::Instant::now() }
    }
}

impl Progress for BarProgress {
    fn start(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }
    fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.is_hidden() && self.started.elapsed().as_millis() > 1000 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(spinner) = self.spinner.get() {
            spinner.finish_and_clear();
        }
    }
    fn waiting(&self, what: &str) {
        if self.bar.is_none() {
            return; // not a terminal
        }
        let spinner = self.spinner.get_or_init(|| {
            let s = indicatif::ProgressBar::hidden();
            s.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
            s
        });
        spinner.set_message(what.to_string());
        // Drawn at once: a project load is one blocking wait of a second or more on a real
        // backend, with no later call to reveal a spinner held back.
        if spinner.is_hidden() && !spinner.is_finished() {
            spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }
}

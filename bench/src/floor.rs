//! `maintaind-bench floor`: maintaind against the floor it sits on, raw TypeScript 7
//! (`tsc --lsp --stdio`) driven by a small LSP client here, in one run, on the same backend and
//! the same symbols (issue 15):
//! - peak resident memory of the process tree: the daemon and its server, against the raw
//!   server (sampled every 25 ms);
//! - cold start to the first complete cross-file answer: `maintaind daemon start` and a first
//!   `blast`, against spawn + initialize + open + `references` until the answer reaches another
//!   project's file;
//! - a restart: `daemon start` again with the registry stored by the first run (the server is
//!   cold again: TypeScript keeps nothing on disk), to the first complete answer;
//! - a warm uncached query: the first `blast --change rename` of a symbol, over one persistent
//!   daemon connection, and through the CLI (a process per query) for other symbols, against
//!   the raw server's first `textDocument/references` of the same symbols. Nothing about a
//!   symbol is computed before its query, on either side.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use maintaind::blast::ChangeKind;
use maintaind::rpc::{BlastParams, Client, method};
use maintaind::workspace::{NoProgress, Workspace};

/// Each run owns its section of docs/benchmarks.md (`run` keeps them as they are).
pub const BEGIN: &str = "<!-- floor:begin (maintaind-bench floor) -->";
pub const END: &str = "<!-- floor:end -->";
pub const REAL_BEGIN: &str = "<!-- floor-real:begin (maintaind-bench floor --root) -->";
pub const REAL_END: &str = "<!-- floor-real:end -->";

pub struct Options {
    pub entities: usize,
    pub root: Option<PathBuf>,
    pub symbols: usize,
    /// Each side is run this many times, fresh each time (the first start without a registry):
    /// times and peaks are the medians of the runs, warm queries the median of all of them.
    pub runs: usize,
    pub out: Option<PathBuf>,
    pub maintaind: Option<PathBuf>,
}

/// One symbol: root-relative file, 0-based line and column (ASCII names: bytes = UTF-16 units).
#[derive(Clone)]
struct Symbol {
    file: String,
    line: u32,
    col: u32,
    query: String,
    /// Where maintaind asks TypeScript 7 instead of the declaration: a type merged with a
    /// namespace is asked at a test file's import of it ([`maintaind::blast::import_site`]),
    /// one request for both meanings.
    site: Option<(String, u32, u32)>,
}

/// A position: root-relative file, zero-based line, UTF-16 column.
type Site = (String, u32, u32);

/// Where the raw server is asked: at each symbol's declaration with its file open, as an
/// editor asks (which loads the declaring file's project, the root one, beside the test one),
/// or as maintaind asks TypeScript 7: at its sites, without opening them.
#[derive(Clone, Copy, PartialEq)]
enum Ask {
    Declaration,
    AsMaintaind,
}

/// Samples the peak resident memory of a process tree until dropped.
struct PeakSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    fn start(pid: impl Fn() -> Option<u32> + Send + 'static) -> PeakSampler {
        let (peak, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    if let Some(p) = pid() {
                        peak.fetch_max(maintaind::memory::tree_rss_kib(p), Ordering::SeqCst);
                    }
                    // Sampling: /proc has no "tell me the peak of a tree" call.
                    std::thread::sleep(Duration::from_millis(25));
                }
            })
        };
        PeakSampler { peak, stop, thread: Some(thread) }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::SeqCst)
    }
}

struct Figures {
    peak_kib: u64,
    cold: Duration,
    /// maintaind only: a restart with the registry stored.
    restart: Duration,
    /// One per symbol of the socket set (raw: of every symbol but the cold-start one).
    warm: Vec<Duration>,
    /// One per symbol of the CLI set (maintaind only).
    cli: Vec<Duration>,
    /// How many of `warm` each run gave, in order (one run until combined).
    runs: Vec<usize>,
}

impl Figures {
    /// The runs of one side as one: medians of the peaks and cold starts, every warm query.
    fn combine(runs: Vec<Figures>) -> Figures {
        let mid = |mut v: Vec<u64>| {
            v.sort();
            v[v.len() / 2]
        };
        Figures {
            peak_kib: mid(runs.iter().map(|r| r.peak_kib).collect()),
            cold: median(&runs.iter().map(|r| r.cold).collect::<Vec<_>>()),
            restart: median(&runs.iter().map(|r| r.restart).collect::<Vec<_>>()),
            warm: runs.iter().flat_map(|r| r.warm.clone()).collect(),
            cli: runs.iter().flat_map(|r| r.cli.clone()).collect(),
            runs: runs.iter().map(|r| r.warm.len()).collect(),
        }
    }

    /// A raw side's warm queries split like maintaind's symbols (the socket set, the CLI set),
    /// run by run.
    fn raw_sets(&self) -> (Vec<Duration>, Vec<Duration>) {
        let (mut socket, mut cli) = (Vec::new(), Vec::new());
        let mut rest = self.warm.as_slice();
        for &n in &self.runs {
            let (run, after) = rest.split_at(n);
            let (a, b) = halves(run);
            socket.extend(a.into_iter().copied());
            cli.extend(b.into_iter().copied());
            rest = after;
        }
        (socket, cli)
    }
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The symbols to ask about (DTO types, the ones changes touch), and a test file importing the
/// first one's name (the raw server's cross-file probe).
fn symbols(root: &Path, n: usize) -> Result<(Vec<Symbol>, Site)> {
    let mut ws = Workspace::open(root)?;
    ws.refresh(&NoProgress)?;
    let reg = ws.registry();
    let derived = maintaind::blast::Derived::new();
    let covered = maintaind::semantic::covered_projects(reg);
    let loaded = |f: &str| !covered.contains_key(reg.tsconfigs().nearest_dir(f).unwrap_or(""));
    let mut out = Vec::new();
    let mut files: Vec<&maintaind_registry::FileIndex> = reg.files().filter(|f| f.path.starts_with("src/api/structures/") && f.path.ends_with(".ts")).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in files {
        if let Some(s) = f.symbols.iter().find(|s| s.exported && matches!(s.kind, maintaind_registry::SymbolKind::Type | maintaind_registry::SymbolKind::Interface) && !s.name.contains('.')) {
            let merged = f.symbols.iter().filter(|x| x.name == s.name).map(|x| x.kind).collect::<std::collections::BTreeSet<_>>().len() > 1;
            let site = merged.then(|| maintaind::blast::import_site(reg, &derived, &f.path, &s.name, &loaded)).flatten().map(|(file, pos)| (file, pos.line, pos.col));
            out.push(Symbol { file: f.path.clone(), line: s.name_span.start.line, col: s.name_span.start.col, query: format!("{}#{}", f.path, s.name), site });
        }
        if out.len() == n * 3 {
            break;
        }
    }
    if out.is_empty() {
        bail!("no DTO types under src/api/structures in {}", root.display());
    }
    // The first symbol is one a test file imports by name: the cross-file probe of the cold
    // start is asked at that import.
    let in_tests = |f: &str| f.starts_with("test/");
    let (first, probe) = out
        .iter()
        .enumerate()
        .find_map(|(i, s)| maintaind::blast::import_site(reg, &derived, &s.file, s.query.rsplit('#').next().unwrap_or(""), &in_tests).map(|(file, pos)| (i, (file, pos.line, pos.col))))
        .context("no test file imports any of the DTO types")?;
    out.swap(0, first);
    out.truncate(n);
    let _ = std::fs::remove_dir_all(root.join(".maintaind"));
    Ok((out, probe))
}

/// Raw TypeScript 7 over one connection: the floor.
fn raw_server(root: &Path, syms: &[Symbol], probe_site: &Site, ask: Ask) -> Result<Figures> {
    let probe = probe_site.0.as_str();
    use lsp_types::*;
    let found = maintaind_lsp_bridge::server::find_or_install(maintaind_lsp_bridge::ServerKind::Native, root, &maintaind_lsp_bridge::server::cache_dir(), false, &|m| eprintln!("{m}"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let started = Instant::now();
    let mut child = rt.block_on(async {
        tokio::process::Command::new(&found.launch.program)
            .args(&found.launch.args)
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
    })?;
    let pid = child.id().context("the raw server's pid")?;
    let sampler = PeakSampler::start(move || Some(pid));
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let client = rt.block_on(maintaind_lsp_bridge::client::Client::over(stdout, stdin, root, found.launch.init_options.clone(), Duration::from_secs(120))).map_err(|e| anyhow::anyhow!("{e}"))?;
    let uri = |rel: &str| -> Uri { maintaind_lsp_bridge::path_to_uri(&root.join(rel)).parse().expect("a file URI") };
    let mut opened = std::collections::HashSet::new();
    let mut open = |rel: &str| -> Result<()> {
        if opened.insert(rel.to_string()) {
            let text = std::fs::read_to_string(root.join(rel))?;
            client
                .notify::<notification::DidOpenTextDocument>(DidOpenTextDocumentParams { text_document: TextDocumentItem { uri: uri(rel), language_id: "typescript".into(), version: 1, text } })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    };
    let at = |s: &Symbol| -> (String, u32, u32) {
        match (&s.site, ask) {
            (Some(site), Ask::AsMaintaind) => site.clone(),
            _ => (s.file.clone(), s.line, s.col),
        }
    };
    let refs = |s: &Symbol| -> Result<Vec<Location>> {
        let (file, line, col) = at(s);
        let params = ReferenceParams {
            text_document_position: TextDocumentPositionParams { text_document: TextDocumentIdentifier { uri: uri(&file) }, position: Position { line, character: col } },
            context: ReferenceContext { include_declaration: true },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        Ok(rt.block_on(client.request::<request::References>(params, Duration::from_secs(120))).map_err(|e| anyhow::anyhow!("{e}"))?.unwrap_or_default())
    };
    // maintaind opens a file of each project to load it, and asks TypeScript 7 without
    // opening the files it asks at.
    let opens = ask == Ask::Declaration;
    open(probe)?;
    if opens {
        open(&at(&syms[0]).0)?;
    }
    // Complete when the answer crosses projects: asked at the declaration it reaches the test
    // file. Asked as maintaind asks: its readiness probe at the test file's import reaches the
    // declaration (the test project is loaded), then the symbol is asked.
    let (first, other) = match ask {
        Ask::Declaration => (syms[0].clone(), root.join(probe)),
        Ask::AsMaintaind => (Symbol { file: probe.to_string(), line: probe_site.1, col: probe_site.2, query: String::new(), site: None }, root.join(&syms[0].file)),
    };
    let cold = loop {
        if refs(&first)?.iter().any(|l| maintaind_lsp_bridge::uri_to_path(l.uri.as_str()).as_deref() == Some(other.as_path())) {
            if ask == Ask::AsMaintaind {
                std::hint::black_box(refs(&syms[0])?);
            }
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the raw server never answered across projects");
        }
        // Polling: the server has no "projects loaded" signal.
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut warm = Vec::new();
    for s in syms {
        if opens {
            open(&at(s).0)?;
        }
        let t = Instant::now();
        std::hint::black_box(refs(s)?);
        warm.push(t.elapsed());
    }
    drop(client);
    let peak_kib = sampler.finish();
    let _ = rt.block_on(child.kill());
    let warm = warm[1..].to_vec();
    Ok(Figures { peak_kib, cold, restart: Duration::ZERO, runs: vec![warm.len()], warm, cli: Vec::new() })
}

/// The socket set and the CLI set: alternate items (paths sort alike symbols together;
/// alternating gives both sets the same mix).
fn halves<T>(items: &[T]) -> (Vec<&T>, Vec<&T>) {
    let (mut even, mut odd) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        if i % 2 == 0 { even.push(item) } else { odd.push(item) }
    }
    (even, odd)
}

/// `maintaind daemon start`, then `blast` of the first symbol until the answer is complete:
/// the time from the start command to that answer.
fn start_and_answer(root: &Path, maintaind: &Path, first: &Symbol) -> Result<(Duration, Client)> {
    let started = Instant::now();
    let status = Command::new(maintaind).args(["--root", root.to_str().unwrap(), "daemon", "start", "--ts-server", "native"]).output()?;
    if !status.status.success() {
        bail!("daemon start failed: {}", String::from_utf8_lossy(&status.stderr));
    }
    let mut client = Client::connect(root)?.context("the daemon answers")?;
    loop {
        let r = client.request::<method::Blast>(&BlastParams { fresh: true, ..BlastParams::new(first.query.as_str(), ChangeKind::Rename) }).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !r.approximate {
            return Ok((started.elapsed(), client));
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("maintaind never answered completely: {:?}", r.notes);
        }
        // Polling, as the raw side does: an answer flagged approximate (a project still
        // loading) is no complete answer, so the cold start is when the first complete one comes.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// maintaind: the daemon with its native server.
fn ours(root: &Path, syms: &[Symbol], maintaind: &Path) -> Result<Figures> {
    let (cold, mut client) = start_and_answer(root, maintaind, &syms[0])?;
    let pid = client.hello.pid;
    let sampler = PeakSampler::start(move || Some(pid));
    let (socket_set, cli_set) = halves(&syms[1..]);
    let mut warm = Vec::new();
    for s in socket_set {
        let t = Instant::now();
        let r = client.request::<method::Blast>(&BlastParams { fresh: true, ..BlastParams::new(s.query.as_str(), ChangeKind::Rename) }).map_err(|e| anyhow::anyhow!("{e}"))?;
        warm.push(t.elapsed());
        anyhow::ensure!(!r.approximate, "{}: approximate: {:?}", s.query, r.notes);
    }
    let mut cli = Vec::new();
    for s in cli_set {
        let t = Instant::now();
        let out = Command::new(maintaind).args(["--root", root.to_str().unwrap(), "blast", &s.query, "--change", "rename", "--json"]).output()?;
        cli.push(t.elapsed());
        if !out.status.success() {
            bail!("blast {} failed: {}", s.query, String::from_utf8_lossy(&out.stderr));
        }
    }
    drop(client);
    let peak_kib = sampler.finish();
    let stop = |what: &str| -> Result<()> {
        let out = Command::new(maintaind).args(["--root", root.to_str().unwrap(), "daemon", "stop"]).output()?;
        anyhow::ensure!(out.status.success(), "daemon stop ({what}) failed: {}", String::from_utf8_lossy(&out.stderr));
        Ok(())
    };
    stop("first run")?;
    let (restart, client) = start_and_answer(root, maintaind, &syms[0])?;
    drop(client);
    stop("restart")?;
    Ok(Figures { peak_kib, cold, restart, runs: vec![warm.len()], warm, cli })
}

pub fn run(o: Options) -> Result<()> {
    let maintaind = o.maintaind.clone().unwrap_or_else(|| std::env::current_exe().unwrap().with_file_name("maintaind"));
    let tmp = std::env::temp_dir().join(format!("maintaind-floor-{}", std::process::id()));
    let (root, described, section) = match &o.root {
        Some(r) => (r.canonicalize()?, format!("the real backend `{}`", r.file_name().unwrap_or_default().to_string_lossy()), (REAL_BEGIN, REAL_END)),
        None => {
            let root = tmp.join("backend");
            let files = crate::generate::generate(&crate::generate::scale(o.entities), "floor-backend");
            crate::write_backend(&root, &files, true)?;
            (root, format!("a generated backend (`maintaind-bench gen --entities {}`, {} files)", o.entities, files.len()), (BEGIN, END))
        }
    };
    let (syms, probe) = symbols(&root, 2 * o.symbols + 1)?;
    anyhow::ensure!(syms.len() >= 3, "{} has too few DTO types for the comparison ({})", root.display(), syms.len());
    eprintln!("floor: {} symbols on {}; raw TypeScript 7 first", syms.len() - 1, root.display());
    // The sides take turns, run after run, so that a slow spell of the machine falls on both.
    let sited = syms.iter().filter(|s| s.site.is_some()).count();
    let (mut raws, mut raws_sited, mut ourses) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=o.runs {
        eprintln!("floor: run {run}/{}: raw TypeScript 7", o.runs);
        raws.push(raw_server(&root, &syms, &probe, Ask::Declaration)?);
        {
            eprintln!("floor: run {run}/{}: raw TypeScript 7 asked as maintaind asks", o.runs);
            raws_sited.push(raw_server(&root, &syms, &probe, Ask::AsMaintaind)?);
        }
        eprintln!("floor: run {run}/{}: maintaind", o.runs);
        // Each run's first start is a first start: no registry stored.
        let _ = std::fs::remove_dir_all(root.join(".maintaind"));
        ourses.push(ours(&root, &syms, &maintaind)?);
    }
    let raw = Figures::combine(raws);
    let raw_sites = (!raws_sited.is_empty()).then(|| Figures::combine(raws_sited));
    let ours = Figures::combine(ourses);
    let _ = std::fs::remove_dir_all(&tmp);
    let mib = |k: u64| k as f64 / 1024.0;
    let mut md = String::new();
    let _ = writeln!(md, "\n## At the floor: maintaind against raw TypeScript 7 (issue 15)\n");
    let _ = writeln!(
        md,
        "Produced by `maintaind-bench floor {}` on {}, commit `{}`: {}, the same {} DTO types on both sides. Raw: TypeScript 7's `tsc --lsp --stdio` driven over one connection by the bench's LSP client (a test file opened, then each symbol asked at its declaration). maintaind: the daemon with its native server, release build. {} runs of each side, taking turns, each from a cold process: peaks and cold starts are the medians of the runs, warm queries the median of every run's.\n",
        match &o.root {
            Some(r) => format!("--root {}", r.display()),
            None => format!("--entities {}", o.entities),
        },
        crate::today(),
        crate::commit(),
        described,
        syms.len() - 1,
        o.runs
    );
    let _ = writeln!(md, "| measure | maintaind | raw TypeScript 7 (same run) | ratio | target |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    let _ = writeln!(
        md,
        "| peak resident memory of the process tree | {:.0} MiB | {:.0} MiB | **{:.2}×** | ≤ 1.2× |",
        mib(ours.peak_kib),
        mib(raw.peak_kib),
        ours.peak_kib as f64 / raw.peak_kib.max(1) as f64
    );
    // One row of a time against its raw floor.
    let mut row = |label: String, ours: Duration, raw_label: &str, raw: Duration, digits: usize, target: &str| {
        let _ = writeln!(md, "| {label} | {:.*} ms | {raw_label}{:.*} ms | **{:.2}×** | {target} |", digits, ms(ours), digits, ms(raw), ours.as_secs_f64() / raw.as_secs_f64());
    };
    row("cold start → first complete cross-file answer: first start (no registry yet)".into(), ours.cold, "", raw.cold, 0, "≤ 1.2×");
    row("the same, a restart (registry stored; the language server starts cold, as TypeScript keeps nothing)".into(), ours.restart, "", raw.cold, 0, "≤ 1.2×");
    // The raw figures of the same two sets (raw.warm follows the symbols after the first).
    let (raw_socket, raw_cli) = raw.raw_sets();
    let (socket_n, cli_n) = (ours.warm.len(), ours.cli.len());
    row(format!("warm, a symbol's first `blast --change rename`, over the daemon's socket (median of {socket_n})"), median(&ours.warm), "its first `references`: ", median(&raw_socket), 1, "≤ 1.2×");
    row(format!("the same through the CLI, a process per query (other symbols, median of {cli_n})"), median(&ours.cli), "", median(&raw_cli), 1, "≤ 2×");
    if let Some(r) = &raw_sites {
        let (r_socket, r_cli) = r.raw_sets();
        let _ = writeln!(
            md,
            "\nRaw TypeScript 7 is asked at each symbol's declaration, as an editor asks: a `src` file's project is the root one, so the server loads it beside the test project that already holds every `src` file, and searches both on each request. maintaind loads each file once: it leaves the covered root project unloaded, and asks TypeScript 7 without opening the file it asks at, which the server answers from the test project holding it: the root project never loads. It asks at the declaration, or, for a type merged with a namespace, at a test file's import of it (one request for both meanings; {sited} of the {} symbols). The same raw server asked as maintaind asks, in the same run, for comparison:\n",
            syms.len(),
        );
        let _ = writeln!(md, "| measure | maintaind | raw TypeScript 7 asked as maintaind asks | ratio |");
        let _ = writeln!(md, "|---|---|---|---|");
        let _ = writeln!(md, "| peak resident memory of the process tree | {:.0} MiB | {:.0} MiB | {:.2}× |", mib(ours.peak_kib), mib(r.peak_kib), ours.peak_kib as f64 / r.peak_kib.max(1) as f64);
        let line = |md: &mut String, label: &str, ours: Duration, raw: Duration, digits: usize| {
            let _ = writeln!(md, "| {label} | {:.*} ms | {:.*} ms | {:.2}× |", digits, ms(ours), digits, ms(raw), ours.as_secs_f64() / raw.as_secs_f64());
        };
        line(&mut md, "cold start → first complete cross-file answer (first start)", ours.cold, r.cold, 0);
        line(&mut md, "warm, a symbol's first blast over the socket / first `references`", median(&ours.warm), median(&r_socket), 1);
        line(&mut md, "the same through the CLI", median(&ours.cli), median(&r_cli), 1);
    }
    let _ = writeln!(md, "\nRe-run with `maintaind-bench floor [--root BACKEND]` (release build).");
    crate::publish(o.out.as_deref(), section.0, section.1, &md, "floor")
}

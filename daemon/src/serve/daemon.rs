//! The background daemon: one warm process per root that hosts the [`Workspace`] (registry,
//! store, language server, manifests), keeps it current by watching the files, and answers
//! clients over the Unix socket in `.maintaind/` (protocol in `rpc.rs`).
//!
//! Threads:
//! - the **workspace thread** (the caller of [`run`]) owns the `Workspace` and does all work,
//!   one job at a time: client requests and coalesced file-change batches. Before answering
//!   requests it applies every file change already queued, so an answer never predates a
//!   change the watcher has delivered;
//! - one **connection thread** per client: reads lines, answers `hello`/`status` itself from
//!   shared state, forwards the rest to the workspace thread and writes the answer;
//! - the **watcher** (notify, inotify on Linux): one non-recursive watch per directory the walk
//!   enters (so `.gitignore`d trees such as `node_modules/` cost nothing); raw events are queued
//!   as paths and the workspace thread debounces them. (notify-debouncer-full was tried first:
//!   its fixed-rate tick thread kept an idle daemon at ~2% of a core.)
//! - a **signal thread** (SIGTERM, SIGINT, SIGHUP → graceful stop).
//!
//! A burst (a `git checkout`, a generator rewriting the tree) arrives as many batches; the
//! workspace thread drains the queue, so they coalesce into one update, and above
//! [`FULL_REFRESH_AT`] paths, or when the kernel's event queue overflowed, it re-walks the
//! tree instead of trusting the events: no update is lost.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufReader, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use serde_json::Value;

use crate::rpc::{self, HelloParams, Method, RpcError, Status, WatcherStats, code};
use crate::semantic::SemanticOptions;
use crate::state::state_dir;
use crate::walk::{self, IgnoreRules};
use crate::workspace::{NoProgress, RequestError, Workspace};

/// Above this many changed paths in one coalesced batch, re-walk instead of updating files
/// one by one (a walk stats every file but parses only changed ones, in parallel).
pub const FULL_REFRESH_AT: usize = 256;

/// How long file events must be quiet before the registry takes them in.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(5);

/// Time for the kernel's event to reach the workspace thread.
const SYNC_MARGIN: Duration = Duration::from_millis(2);

/// The longest a burst is collected before the registry is brought up to date anyway.
const SETTLE_MAX: Duration = Duration::from_millis(500);

/// How often the workspace thread wakes with nothing to do, to check the root still exists
/// and the idle timer.
const TICK: Duration = Duration::from_millis(500);

/// The options of `maintaind daemon start|run` (and what `maintaind lsp` starts with).
#[derive(clap::Args, Debug, Clone)]
pub struct DaemonOptions {
    /// Run without a language server (answers are flagged approximate)
    #[arg(long)]
    pub no_lsp: bool,
    /// Exit after this many seconds with no client connected (default: never, or
    /// `[daemon] idle_exit_secs` in maintaind.toml)
    #[arg(long, value_name = "SECS")]
    pub idle_exit: Option<u64>,
    /// How long a changed file must be quiet before it is re-indexed, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_DEBOUNCE.as_millis() as u64)]
    pub debounce_ms: u64,
}

/// How long a daemon started on behalf of an editor or an agent (`maintaind lsp`,
/// `maintaind mcp`) may sit idle before it exits, unless `[daemon] idle_exit_secs` says
/// otherwise (0: never). It holds the language server's memory, so it must not outlive its
/// user by long; the next request starts a new one.
pub const ON_BEHALF_IDLE_EXIT: Duration = Duration::from_secs(600);

impl DaemonOptions {
    /// The options of a daemon started on behalf of an editor or agent for `root`.
    pub fn on_behalf(root: &Path) -> DaemonOptions {
        let configured = crate::config::Config::load(root).ok().and_then(|c| c.daemon).and_then(|d| d.idle_exit_secs);
        let idle = configured.unwrap_or(ON_BEHALF_IDLE_EXIT.as_secs());
        DaemonOptions { no_lsp: false, idle_exit: (idle > 0).then_some(idle), debounce_ms: DEFAULT_DEBOUNCE.as_millis() as u64 }
    }
}

pub struct Options {
    /// The language server to start at boot; `None` runs registry-only (answers are flagged
    /// approximate).
    pub semantic: Option<SemanticOptions>,
    /// Exit after this long without a client connected or a request.
    pub idle_exit: Option<Duration>,
    pub debounce: Duration,
}

/// Why [`run`] returned (the CLI prints it; all are clean exits).
#[derive(Debug)]
pub enum Stopped {
    Signal(String),
    Shutdown,
    Idle(Duration),
    RootGone(String),
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Signal(s) => write!(f, "stopped by {s}"),
            Stopped::Shutdown => write!(f, "stopped by `maintaind daemon stop`"),
            Stopped::Idle(d) => write!(f, "stopped after {}s without clients (idle exit)", d.as_secs()),
            Stopped::RootGone(why) => write!(f, "stopped: {why}"),
        }
    }
}

enum Job {
    /// `barrier`: answer only after every file written before this instant has been seen
    /// (the request asked for `"sync": true`).
    /// `gone`: set by the connection thread when the client hangs up before its answer.
    Request {
        method: String,
        params: Value,
        reply: Sender<Result<Value, RpcError>>,
        barrier: Option<Barrier>,
        gone: Arc<AtomicBool>,
    },
    Paths(Vec<PathBuf>),
    /// The watcher saw the sync cookie with this number created.
    Cookie(u64),
    Rescan(String),
    Stop(Stopped),
}

/// A `sync` request's read-your-writes barrier. The connection thread creates a cookie file in
/// `.maintaind/cookies/` when the request arrives (watchman's technique): the watcher reports
/// events in the order they happened, so once the cookie's creation is seen, every write the
/// client made before asking has been seen too. Without a cookie (none could be written, or
/// the watch is missing) the barrier falls back to waiting one debounce plus a margin.
struct Barrier {
    arrived: Instant,
    cookie: Option<u64>,
}

/// A request taken from the queue, answered once its `sync` barrier has passed: its cookie was
/// seen, or `ready_at` came.
struct Pending {
    method: String,
    params: Value,
    reply: Sender<Result<Value, RpcError>>,
    ready_at: Option<Instant>,
    cookie: Option<u64>,
    gone: Arc<AtomicBool>,
}

impl Pending {
    fn ready(&self, now: Instant, cookies: &HashSet<u64>) -> bool {
        self.ready_at.is_none_or(|t| t <= now) || self.cookie.is_some_and(|c| cookies.contains(&c))
    }
}

/// What one round of the workspace thread took from the queue.
#[derive(Default)]
struct Round {
    paths: BTreeSet<PathBuf>,
    rescan: Option<String>,
    requests: VecDeque<Pending>,
    stop: Option<Stopped>,
}

impl Round {
    fn take(&mut self, job: Job, cookies: &mut HashSet<u64>, shared: &Shared, sync_wait: Duration) {
        match job {
            Job::Paths(p) => self.paths.extend(p),
            Job::Rescan(why) => self.rescan = Some(why),
            Job::Cookie(n) => {
                let _ = std::fs::remove_file(shared.cookies.join(format!("cookie-{n}")));
                cookies.insert(n);
            }
            Job::Request { method, params, reply, barrier, gone } => {
                let (ready_at, cookie) = barrier.map_or((None, None), |b| (Some(b.arrived + sync_wait), b.cookie));
                self.requests.push_back(Pending { method, params, reply, ready_at, cookie, gone })
            }
            Job::Stop(s) => self.stop = self.stop.take().or(Some(s)),
        }
    }

    /// Some request waits on a cookie, and every such cookie has been seen.
    fn synced_and_seen(&self, cookies: &HashSet<u64>) -> bool {
        let mut waiting = self.requests.iter().filter_map(|r| r.cookie).peekable();
        waiting.peek().is_some() && waiting.all(|c| cookies.contains(&c))
    }
}

/// The directory of sync cookies (see [`Barrier`]).
fn cookie_dir(root: &Path) -> PathBuf {
    state_dir(root).join("cookies")
}

/// The cookie number a watcher path names, when it is one of `dir`'s cookies.
fn cookie_of(dir: &Path, path: &Path) -> Option<u64> {
    (path.parent()? == dir).then_some(())?;
    path.file_name()?.to_str()?.strip_prefix("cookie-")?.parse().ok()
}

/// State the connection threads read without waiting for the workspace thread.
struct Shared {
    status: Mutex<Status>,
    clients: AtomicUsize,
    requests: AtomicU64,
    last_activity: Mutex<Instant>,
    started: Instant,
    stopping: AtomicBool,
    /// The socket this daemon bound (removed by a forced exit when still ours).
    socket: PathBuf,
    socket_id: Option<(u64, u64)>,
    /// Where sync cookies are planted, and the last cookie's number.
    cookies: PathBuf,
    cookie_seq: AtomicU64,
}

/// How long a stop waits for the request in progress before the process ends anyway.
const STOP_GRACE: Duration = Duration::from_secs(3);

impl Shared {
    /// The status as a client sees it now.
    fn snapshot(&self) -> Status {
        let mut s = self.status.lock().unwrap().clone();
        s.uptime_ms = self.started.elapsed().as_millis() as u64;
        s.clients = self.clients.load(Ordering::SeqCst);
        s.requests = self.requests.load(Ordering::Relaxed);
        s.memory = rpc::Memory { daemon_kib: crate::memory::rss_kib(s.pid), server_kib: s.server_pid.map(crate::memory::tree_rss_kib).unwrap_or(0) };
        s
    }

    fn touch(&self) {
        *self.last_activity.lock().unwrap() = Instant::now();
    }

    /// Create the next sync cookie (empty, owner-only); its number, or `None` when it cannot be
    /// written (the barrier then waits out the debounce instead).
    fn plant_cookie(&self) -> Option<u64> {
        let n = self.cookie_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let path = self.cookies.join(format!("cookie-{n}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(_) => Some(n),
            Err(e) => {
                tracing::debug!("cannot plant the sync cookie {}: {e}", path.display());
                None
            }
        }
    }

    /// End the process after [`STOP_GRACE`] if the workspace thread has not stopped by then
    /// (it is stuck in a request): the language server is killed and the socket removed, as a
    /// clean stop would. An apply cut short this way is left `prepared` in the journal, as
    /// after a crash (`maintaind rollback` restores it).
    fn arm_watchdog(self: &Arc<Self>, why: &str) {
        let shared = self.clone();
        let why = why.to_string();
        let _ = std::thread::Builder::new().name("maintaind-stop-watchdog".into()).spawn(move || {
            std::thread::sleep(STOP_GRACE);
            tracing::warn!("{why}: the daemon was still busy after {}s; exiting without waiting for the request in progress", STOP_GRACE.as_secs());
            if let Some(pid) = shared.status.lock().map(|s| s.server_pid).unwrap_or(None) {
                // SAFETY: signalling our own child.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
            if socket_id(&shared.socket) == shared.socket_id {
                let _ = std::fs::remove_file(&shared.socket);
            }
            std::process::exit(0);
        });
    }
}

/// The socket file's identity, to tell ours from one that replaced it.
fn socket_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The daemon's exclusive claim on a root: an advisory lock held for the process's life (the
/// kernel drops it when the process dies, so a killed daemon leaves nothing that blocks the
/// next one). It lives in the user's private claims directory ([`crate::state::claim_path`]),
/// not in `.maintaind/`: `git clean -fdX` cannot remove it, so a second daemon is refused for
/// as long as the first lives, and no other user can open it to take it.
pub struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    pub fn acquire(root: &Path) -> Result<DaemonLock> {
        crate::state::ensure_private_dir(&crate::state::claims_dir())?;
        let path = rpc::lock_path(root);
        let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                bail!("a maintaind daemon is already running for {} (pid {})", root.display(), pid.lines().next().unwrap_or("").trim());
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
        file.set_len(0)?;
        write!(file, "{}\n{}\n", std::process::id(), root.display())?;
        Ok(DaemonLock { _file: file })
    }
}

/// Progress of a booting daemon's project load, published as its status's `phase` (a CLI
/// command waiting on the daemon shows it).
struct PhaseProgress<'a>(&'a (dyn Fn(&str) + Sync));

impl crate::workspace::Progress for PhaseProgress<'_> {
    fn waiting(&self, what: &str) {
        (self.0)(what);
    }
}

/// How long a first start waits for its first question before parsing the pending files
/// anyway (a daemon started ahead of any question).
const FILL_AFTER: Duration = Duration::from_secs(1);

/// Run the daemon for `root` in the foreground until it is stopped. `say` reports progress
/// while booting (the log gets everything).
pub fn run(root: &Path, options: Options, say: &dyn Fn(&str)) -> Result<Stopped> {
    let root = root.canonicalize().with_context(|| format!("cannot open root {}", root.display()))?;
    let dir = state_dir(&root);
    crate::state::ensure_private_dir(&dir)?;
    let socket = rpc::socket_path(&root);
    if socket.as_os_str().len() > rpc::MAX_SOCKET_PATH {
        bail!("the socket path {} is {} bytes, longer than the {} a Unix socket allows; move the project to a shorter path", socket.display(), socket.as_os_str().len(), rpc::MAX_SOCKET_PATH);
    }
    let _lock = DaemonLock::acquire(&root)?;
    // We hold the lock, so a socket file left here belongs to a daemon that died.
    if std::fs::symlink_metadata(&socket).is_ok() {
        std::fs::remove_file(&socket).with_context(|| format!("cannot remove the stale socket {}", socket.display()))?;
        tracing::info!("removed a stale socket left by a previous daemon");
    }
    let listener = bind_owner_only(&socket)?;
    let boot_id = root_id(&root).context("cannot stat the root")?;

    let log = dir.join("daemon.log");
    let shared = Arc::new(Shared {
        status: Mutex::new(Status {
            pid: std::process::id(),
            root: root.display().to_string(),
            maintaind: env!("CARGO_PKG_VERSION").into(),
            protocol: rpc::PROTOCOL,
            uptime_ms: 0,
            state: "starting".into(),
            phase: Some("starting".into()),
            generation: 0,
            files: 0,
            symbols: 0,
            pending: 0,
            server: None,
            server_pid: None,
            server_note: None,
            watcher: WatcherStats::default(),
            clients: 0,
            requests: 0,
            log: log.display().to_string(),
            idle_exit_secs: options.idle_exit.map(|d| d.as_secs()),
            out_of_scope_writes: Vec::new(),
            memory: rpc::Memory::default(),
        }),
        clients: AtomicUsize::new(0),
        requests: AtomicU64::new(0),
        last_activity: Mutex::new(Instant::now()),
        started: Instant::now(),
        stopping: AtomicBool::new(false),
        socket: socket.clone(),
        socket_id: socket_id(&socket),
        cookies: cookie_dir(&root),
        cookie_seq: AtomicU64::new(0),
    });
    let (jobs, queue) = mpsc::channel::<Job>();

    // Accept clients from the start: they wait for boot in the queue; `status` answers now.
    {
        let shared = shared.clone();
        let jobs = jobs.clone();
        std::thread::Builder::new().name("maintaind-accept".into()).spawn(move || accept_loop(listener, shared, jobs))?;
    }
    {
        let jobs = jobs.clone();
        let shared = shared.clone();
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP])?;
        std::thread::Builder::new().name("maintaind-signals".into()).spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let name = match sig {
                    signal_hook::consts::SIGTERM => "SIGTERM",
                    signal_hook::consts::SIGINT => "SIGINT",
                    _ => "SIGHUP",
                };
                let _ = jobs.send(Job::Stop(Stopped::Signal(name.into())));
                shared.arm_watchdog(name);
            }
        })?;
    }

    tracing::info!(root = %root.display(), pid = std::process::id(), "daemon starting");
    let mut ws = Workspace::open(&root)?;
    let mut server_note = None;
    // The server starts, and loads its projects, on its own thread while the registry is built.
    let early = match &options.semantic {
        Some(opts) => {
            say("starting the TypeScript language server");
            let (tx, rx) = mpsc::channel();
            Some((crate::workspace::start_semantic_early(&root, opts, tx).context("cannot start a thread for the language server")?, rx))
        }
        None => {
            server_note = Some("started with --no-lsp; answers come from the registry alone (approximate)".into());
            None
        }
    };
    // Watching starts before the index, so a file written while it runs is an event taken
    // in right after boot rather than a change nobody saw.
    let mut watch = Watch::start(&root, jobs.clone())?;
    let phase = |what: &str| shared.status.lock().unwrap().phase = Some(what.to_string());
    say("indexing");
    phase(if early.is_some() { "indexing files while the TypeScript server starts" } else { "indexing files" });
    crate::journal::fault_point("daemon-indexing");
    // A first start reads the files and parses what each question needs; the rest is parsed
    // once the first question is answered (`Host::fill_step`).
    let report = ws.refresh_first(&NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(files = report.files, parsed = report.parsed, reused = report.reused, pending = ws.pending(), ms = report.elapsed_ms, "indexed");
    if let Some((thread, messages)) = early {
        phase("starting the TypeScript server");
        // Relayed as they come (a first-time install says what it downloads), until the thread ends.
        for m in messages {
            tracing::info!("{m}");
            say(&m);
            phase(&m);
        }
        match thread.join() {
            Ok(Ok(semantic)) => {
                ws.adopt_semantic(semantic);
                ws.load_projects(&PhaseProgress(&phase));
                tracing::info!(ms = shared.started.elapsed().as_millis() as u64, "language server projects loaded");
            }
            Ok(Err(e)) => {
                tracing::warn!("no language server: {e}");
                server_note = Some(format!("no language server: {e}; answers come from the registry alone (approximate)"));
            }
            Err(panic) => bail!("the language server's start panicked: {}", panic_message(panic.as_ref())),
        }
    }

    let mut host = Host {
        ws,
        root: root.clone(),
        shared: shared.clone(),
        watch_stats: WatcherStats { dirs: watch.watched.len(), ..Default::default() },
        server_note,
        out_of_scope: (String::new(), BTreeSet::new()),
    };
    host.publish("ready");
    let ready_at = Instant::now();
    // A first start parses its pending files once the first question is answered (its
    // client waits for nothing else), or after a moment with none.
    let mut fill_armed = false;
    tracing::info!(dirs = watch.watched.len(), "ready");
    say("ready");

    // A `sync` request is answered once every write made before it arrived has been taken in:
    // a margin for the event to arrive, then one debounce of quiet. Until then it waits here,
    // while other work goes on.
    let sync_wait = options.debounce + SYNC_MARGIN;
    let mut waiting: VecDeque<Pending> = VecDeque::new();
    // Cookies seen whose request has not been answered yet (the event can beat the request).
    let mut cookies: HashSet<u64> = HashSet::new();
    let stopped = loop {
        let now = Instant::now();
        fill_armed |= now.duration_since(ready_at) >= FILL_AFTER;
        if fill_armed && host.ws.pending() > 0 {
            // Before the next request, even one already queued: answered from a registry
            // still filling, every later one would pay for the facts it builds on demand.
            host.fill_step();
        }
        let fill_at = (!fill_armed && host.ws.pending() > 0).then(|| (ready_at + FILL_AFTER).saturating_duration_since(now));
        let wake = waiting.iter().filter_map(|r| r.ready_at).map(|t| t.saturating_duration_since(now)).chain(fill_at).min().map_or(TICK, |d| d.min(TICK));
        let first = match queue.recv_timeout(wake) {
            Ok(job) => Some(job),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break Stopped::Shutdown,
        };
        // The debounce: drain everything queued, and after a file event keep collecting until
        // the events are one debounce apart (up to SETTLE_MAX): a save's several events, or a
        // burst such as a `git checkout`, become one update, applied before any request.
        let mut round = Round { requests: std::mem::take(&mut waiting), ..Round::default() };
        let files_changed = matches!(&first, Some(Job::Paths(_)) | Some(Job::Rescan(_)));
        if let Some(job) = first {
            round.take(job, &mut cookies, &shared, sync_wait);
        }
        while let Ok(job) = queue.try_recv() {
            round.take(job, &mut cookies, &shared, sync_wait);
        }
        if files_changed {
            let settle_started = Instant::now();
            // A synced request whose cookie came has seen every write it must see: it does
            // not wait for the burst after it to settle.
            while settle_started.elapsed() < SETTLE_MAX && !round.synced_and_seen(&cookies) {
                match queue.recv_timeout(options.debounce) {
                    Ok(job) => round.take(job, &mut cookies, &shared, sync_wait),
                    Err(_) => break,
                }
            }
        }
        let Round { paths, rescan, requests, stop } = round;
        // Requests whose barrier has not passed wait for a later round.
        let now = Instant::now();
        let (ready, later): (VecDeque<Pending>, VecDeque<Pending>) = requests.into_iter().partition(|r| r.ready(now, &cookies));
        for r in ready.iter().filter(|r| r.ready_at.is_some()) {
            match r.cookie.filter(|c| cookies.remove(c)) {
                Some(_) => host.watch_stats.synced_by_cookie += 1,
                None => host.watch_stats.synced_by_wait += 1,
            }
        }
        // A cookie can be seen before its request is queued, and a request answered by its
        // deadline leaves its cookie behind: keep the newest few.
        while cookies.len() > 256 {
            let oldest = *cookies.iter().min().expect("not empty");
            cookies.remove(&oldest);
        }
        waiting = later;
        let requests = ready;
        if let Some(s) = stop {
            for r in requests.into_iter().chain(waiting.drain(..)) {
                let _ = r.reply.send(Err(RpcError::new(code::SHUTTING_DOWN, "the daemon is shutting down")));
            }
            break s;
        }
        if let Some(why) = root_gone(&root, boot_id).or_else(|| state_gone(&shared)) {
            for r in requests.into_iter().chain(waiting.drain(..)) {
                let _ = r.reply.send(Err(RpcError::new(code::SHUTTING_DOWN, format!("the daemon is shutting down: {why}"))));
            }
            break Stopped::RootGone(why);
        }
        if rescan.is_some() || !paths.is_empty() {
            host.apply_changes(&mut watch, paths, rescan);
        }
        host.retry_unreadable();
        let answered = requests.len();
        // A client waiting for `ready` asked no question yet.
        fill_armed |= requests.iter().any(|r| r.method != <rpc::method::Status as rpc::Method>::NAME);
        for r in requests {
            // A client that hung up before its turn asked for nothing any more: above all, an
            // apply nobody waits for is not carried out.
            if r.gone.load(Ordering::SeqCst) {
                tracing::info!(method = r.method, "the client went away before its request ran; not carried out");
                continue;
            }
            let mut answer = host.answer(&r.method, r.params, &r.gone);
            if let Ok(value) = &mut answer {
                host.flag_stale(value);
            }
            let _ = r.reply.send(answer);
        }
        if host.shutdown_requested() {
            break Stopped::Shutdown;
        }
        if answered > 0 {
            // A query's parse trees and walks are freed by now, but glibc keeps the pages in its
            // per-thread arenas (rayon's workers each have one): on a real backend the daemon
            // held 73 MiB after 20 queries, 46 MiB with this. Costs 0.3-3 ms, after the answers
            // went out. SAFETY: malloc_trim only hands free heap pages back to the kernel.
            unsafe { libc::malloc_trim(0) };
        }
        host.publish("ready");
        if let Some(idle) = options.idle_exit
            && shared.clients.load(Ordering::SeqCst) == 0
            && shared.last_activity.lock().unwrap().elapsed() >= idle
        {
            break Stopped::Idle(idle);
        }
    };

    tracing::info!("{stopped}");
    shared.stopping.store(true, Ordering::SeqCst);
    host.publish("stopping");
    drop(watch);
    host.ws.stop_semantic();
    // Remove the socket only while it is still ours (the root may be gone or reused).
    if matches!(root_id(&root), Some(id) if id == boot_id) {
        let _ = std::fs::remove_file(&socket);
    }
    Ok(stopped)
}

/// Bind the socket so that it is never reachable by others, even for a moment: the umask is
/// set for the `bind` (nothing else runs yet that creates files), then the mode is checked.
fn bind_owner_only(socket: &Path) -> Result<UnixListener> {
    // SAFETY: umask only swaps the process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(socket);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(old) };
    let listener = bound.with_context(|| format!("cannot listen on {}", socket.display()))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).with_context(|| format!("cannot restrict {}", socket.display()))?;
    Ok(listener)
}

/// `Some(why)` when the socket this daemon listens on was deleted or replaced (`git clean
/// -fdX` removes `.maintaind/`): no client can reach it any more, so it stops, and the next
/// client starts a fresh daemon. Its claim on the root is held until then.
fn state_gone(shared: &Shared) -> Option<String> {
    (socket_id(&shared.socket) != shared.socket_id).then(|| format!("its socket {} was deleted or replaced (was .maintaind/ removed?)", shared.socket.display()))
}

fn root_id(root: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(root).ok().map(|m| (m.dev(), m.ino()))
}

/// `Some(why)` when the root was deleted, or moved (the path is gone or is another directory).
fn root_gone(root: &Path, boot: (u64, u64)) -> Option<String> {
    match root_id(root) {
        None => Some(format!("the root {} was deleted or moved", root.display())),
        Some(id) if id != boot => Some(format!("the root {} was replaced by another directory", root.display())),
        Some(_) => None,
    }
}

struct Host {
    ws: Workspace,
    root: PathBuf,
    shared: Arc<Shared>,
    watch_stats: WatcherStats,
    server_note: Option<String>,
    /// Writes outside the active manifest's scope seen by the watcher: (manifest id, paths).
    out_of_scope: (String, BTreeSet<String>),
}

impl Host {
    /// Judge changed files against the active manifest and its recorded tree: a file outside
    /// the scope that differs from the tree is an out-of-scope write (reported in `status`);
    /// one back as it was is not any more.
    fn watch_scope(&mut self, changed: &[String]) {
        let store = crate::manifest::ManifestStore::new(&self.root);
        let Some(id) = store.active_id() else {
            self.out_of_scope = (String::new(), BTreeSet::new());
            return;
        };
        if self.out_of_scope.0 != id {
            self.out_of_scope = (id.clone(), BTreeSet::new());
        }
        let (Ok(manifest), Ok(tree)) = (store.load(&id), store.tree(&id)) else { return };
        let scope = crate::tree::scope(&manifest);
        for rel in changed.iter().filter(|r| !scope.contains(*r)) {
            let (now, was) = (crate::tree::mark_of(&self.root, rel), tree.files.get(rel));
            // Content, not time: a file put back as it was is no write.
            if now.map(|m| (m.size, m.hash)) != was.map(|m| (m.size, m.hash)) {
                if self.out_of_scope.1.insert(rel.clone()) {
                    tracing::warn!(path = rel, manifest = id, "written outside the active manifest's scope");
                }
            } else {
                self.out_of_scope.1.remove(rel);
            }
        }
    }

    fn shutdown_requested(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    /// Copy what `status` reports into the shared state.
    fn publish(&self, state: &str) {
        let mut s = self.shared.status.lock().unwrap();
        s.state = state.into();
        // Booting is over once anything else is published.
        s.phase = None;
        // Counting symbols walks every file: done when the registry changed, not every tick
        // (it was most of an idle daemon's CPU).
        let pending = self.ws.pending();
        if s.generation != self.ws.generation() || s.files == 0 || pending > 0 || s.pending > 0 {
            s.generation = self.ws.generation();
            s.files = self.ws.registry().file_count();
            s.pending = pending;
            // Counting the symbols of pending files would parse them: the indexed ones only.
            s.symbols = if pending > 0 { self.ws.registry().indexed().map(|f| f.symbols.len()).sum() } else { self.ws.registry().symbol_count() };
        }
        s.server = self.ws.semantic().map(|sem| sem.status());
        s.server_pid = self.ws.semantic().and_then(|sem| sem.server_pid());
        s.server_note = self.server_note.clone();
        s.watcher = self.watch_stats.clone();
        s.out_of_scope_writes = self.out_of_scope.1.iter().cloned().collect();
    }

    /// Parse the files a first start left pending, on both cores, and store them: all in one
    /// step. In smaller steps every request between two of them waits for one and is answered
    /// from a registry still filling (slower by the facts it builds on demand); at once, only
    /// the next request waits, once (~0.2 s on a 1,000-file backend).
    fn fill_step(&mut self) {
        match self.ws.settle() {
            Ok(()) => {
                // The texts are dropped: hand their pages back (as after answers).
                // SAFETY: malloc_trim only hands free heap pages back to the kernel.
                unsafe { libc::malloc_trim(0) };
                tracing::info!(ms = self.shared.started.elapsed().as_millis() as u64, "every file indexed");
            }
            Err(e) => tracing::warn!("cannot store the index ({e:#}); the next start parses again"),
        }
    }

    /// Bring the registry (and the server) in step with what the watcher saw.
    fn apply_changes(&mut self, watch: &mut Watch, paths: BTreeSet<PathBuf>, rescan: Option<String>) {
        // What the walk would pass over changes nothing (`.maintaind/`, `node_modules/`, ...).
        let paths: Vec<PathBuf> = paths.into_iter().filter(|p| p != &self.root && !watch.rules.is_ignored(p, p.is_dir())).collect();
        if paths.is_empty() && rescan.is_none() {
            return;
        }
        self.watch_stats.batches += 1;
        // A directory appearing or going, a .gitignore or a tsconfig: the walk decides again.
        let structural = paths.iter().any(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name == ".gitignore" || maintaind_registry::is_tsconfig(name) || (p.is_dir() && !watch.watched.contains(p)) || watch.watched.contains(p) && !p.exists()
        });
        let all: Vec<String> = paths.iter().filter(|p| p.to_str().is_some() && !p.is_dir()).map(|p| walk::rel_path(&self.root, p)).collect();
        self.watch_scope(&all);
        let wanted: Vec<String> = paths
            .iter()
            .filter(|p| {
                let utf8 = p.to_str().is_some();
                if !utf8 {
                    tracing::warn!("{}: {}", walk::rel_path(&self.root, p), walk::NOT_UTF8);
                }
                utf8
            })
            .map(|p| walk::rel_path(&self.root, p))
            .filter(|rel| maintaind_registry::classify(rel).is_some())
            .collect();
        if let Some(why) = &rescan {
            tracing::warn!("{why}; re-walking the tree");
        }
        if rescan.is_some() || structural || wanted.len() > FULL_REFRESH_AT {
            self.watch_stats.full_refreshes += 1;
            // Watch first, then walk: a file created in between is seen by one or the other.
            watch.resync(&self.root, &mut self.watch_stats);
            let suspects: std::collections::HashSet<String> = wanted.iter().cloned().collect();
            match self.ws.refresh_suspects(&NoProgress, &suspects) {
                Ok(r) => {
                    tracing::info!(parsed = r.parsed, removed = r.removed, "re-walked after {} changed path(s)", paths.len());
                    for s in r.skipped.iter().filter(|s| s.reason.starts_with("cannot read")) {
                        self.watch_stats.unreadable.insert(s.path.clone(), s.reason.clone());
                    }
                }
                Err(e) => {
                    tracing::error!("re-walk failed: {e}");
                    self.watch_stats.last_error = Some(format!("re-walk failed: {e}"));
                }
            }
            return;
        }
        for rel in wanted {
            self.update(&rel);
        }
    }

    /// Take one changed file in; one that cannot be read now (descriptors exhausted, a
    /// permission) is remembered, retried on every tick, and flags every answer approximate
    /// until it is read.
    fn update(&mut self, rel: &str) {
        match self.ws.update_file(rel) {
            Ok(_) => {
                self.watch_stats.files_updated += 1;
                self.watch_stats.unreadable.remove(rel);
            }
            Err(e) => {
                if !self.watch_stats.unreadable.contains_key(rel) {
                    tracing::warn!("cannot update {rel} (retrying): {e:#}");
                }
                self.watch_stats.last_error = Some(format!("{rel}: {e:#}"));
                self.watch_stats.unreadable.insert(rel.to_string(), format!("{e:#}"));
            }
        }
    }

    /// Retry the files that could not be read.
    fn retry_unreadable(&mut self) {
        let pending: Vec<String> = self.watch_stats.unreadable.keys().cloned().collect();
        for rel in pending {
            self.update(&rel);
            if !self.watch_stats.unreadable.contains_key(&rel) {
                tracing::info!("{rel} could be read again; the registry is current");
            }
        }
    }

    /// An answer given while some changed file could not be read says so: approximate, with
    /// the files named.
    fn flag_stale(&self, answer: &mut Value) {
        if self.watch_stats.unreadable.is_empty() {
            return;
        }
        let Some(o) = answer.as_object_mut() else { return };
        let files: Vec<&str> = self.watch_stats.unreadable.keys().map(String::as_str).take(5).collect();
        let note = format!(
            "approximate: {} changed file(s) could not be read yet ({}{}); maintaind retries them and answers from their previous content meanwhile",
            self.watch_stats.unreadable.len(),
            files.join(", "),
            if self.watch_stats.unreadable.len() > 5 { ", ..." } else { "" }
        );
        if o.contains_key("approximate") {
            o.insert("approximate".into(), Value::Bool(true));
        }
        match o.get_mut("notes") {
            Some(Value::Array(notes)) => notes.push(Value::String(note)),
            _ => {
                o.insert("notes".into(), Value::Array(vec![Value::String(note)]));
            }
        }
    }

    /// Answer one request; a panic becomes an internal-error answer and the daemon goes on.
    fn answer(&mut self, method: &str, params: Value, gone: &AtomicBool) -> Result<Value, RpcError> {
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(method, params, gone)));
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(method, "panic while answering: {message}");
                // Whatever the request had half-built is not trusted.
                self.ws.clear_overlays();
                self.ws.forget_derived();
                Err(RpcError::new(code::INTERNAL, format!("internal error while answering `{method}`: {message}")))
            }
        };
        tracing::debug!(method, ms = started.elapsed().as_secs_f64() * 1e3, ok = result.is_ok(), "answered");
        if let Err(e) = &result
            && [rpc::method::Apply::NAME, rpc::method::Change::NAME, rpc::method::ChangeApply::NAME, rpc::method::Check::NAME].contains(&method)
        {
            tracing::info!(method, "not done: {}", e.message);
        }
        result
    }

    fn dispatch(&mut self, method: &str, params: Value, gone: &AtomicBool) -> Result<Value, RpcError> {
        use rpc::Method;
        use rpc::method::*;
        fn parse<M: Method>(params: Value) -> Result<M::Params, RpcError> {
            serde_path_to_error::deserialize(null_as_empty(params)).map_err(|e| RpcError::new(code::INVALID_PARAMS, format!("`{}` params: {e}", M::NAME)))
        }
        fn answer<M: Method>(result: M::Result) -> Result<Value, RpcError> {
            serde_json::to_value(result).map_err(|e| RpcError::new(code::INTERNAL, e.to_string()))
        }
        match method {
            // Queued: the daemon is ready by the time the workspace thread takes it.
            Status::NAME => {
                parse::<Status>(params)?;
                answer::<Status>(self.shared.snapshot())
            }
            Index::NAME => {
                parse::<Index>(params)?;
                answer::<Index>(self.ws.refresh(&NoProgress).map_err(request_error)?)
            }
            Symbols::NAME => {
                let p = parse::<Symbols>(params)?;
                let kind = match p.kind.as_deref() {
                    None => None,
                    Some(k) => Some(maintaind_registry::SymbolKind::parse(k).ok_or_else(|| RpcError::new(code::BAD_INPUT, format!("unknown kind `{k}`")))?),
                };
                answer::<Symbols>(self.ws.analysis().search(&p.query, kind).map_err(request_error)?)
            }
            Blast::NAME => {
                let p = parse::<Blast>(params)?;
                if p.fresh {
                    self.ws.forget_cached_answers();
                }
                answer::<Blast>(self.ws.analysis().blast(&p.symbol, p.change, p.no_lsp, p.depth).map_err(request_error)?)
            }
            BlastAt::NAME => {
                let p = parse::<BlastAt>(params)?;
                let rel = crate::gate::resolve(&self.root, &p.file).map_err(|e| RpcError::new(code::BAD_INPUT, format!("{}: {e}", p.file)))?;
                let Some(text) = p.text else {
                    let mut analysis = self.ws.analysis();
                    let symbol = analysis.symbol_at(&rel, p.line, p.character).map_err(request_error)?;
                    return answer::<BlastAt>(analysis.blast(&symbol, p.change, false, crate::blast::DEFAULT_DEPTH).map_err(request_error)?);
                };
                // An editor's unsaved buffer: answer in that state, for this request only.
                self.ws.overlay(&rel, Some(text.as_bytes()));
                let mut analysis = self.ws.analysis();
                let result = analysis.symbol_in(&rel, &text, p.line, p.character).and_then(|symbol| analysis.blast(&symbol, p.change, false, crate::blast::DEFAULT_DEPTH));
                self.ws.clear_overlays();
                answer::<BlastAt>(result.map_err(request_error)?)
            }
            FileSymbols::NAME => {
                let p = parse::<FileSymbols>(params)?;
                let rel = crate::gate::resolve(&self.root, &p.file).map_err(|e| RpcError::new(code::BAD_INPUT, format!("{}: {e}", p.file)))?;
                answer::<FileSymbols>(self.ws.analysis().file_symbols(&rel).map_err(request_error)?)
            }
            Change::NAME => {
                let p = parse::<Change>(params)?;
                let planner = match p.decisions {
                    Some(d) => crate::synthesizer::Planner::Given(Box::new(d)),
                    None => crate::synthesizer::Planner::Offline,
                };
                let opts = crate::synthesizer::ChangeOptions { dry_run: p.dry_run, no_lsp: p.no_lsp, allow_no_tests: p.allow_no_tests, amend: p.amend };
                let manifest = crate::synthesizer::change(&mut self.ws, &p.request, &planner, &opts, &NoProgress).map_err(request_error)?;
                answer::<Change>(manifest)
            }
            Apply::NAME => {
                let p = parse::<Apply>(params)?;
                let ops = crate::edits::parse_ops(&p.text, p.patch).map_err(|m| RpcError::new(code::BAD_INPUT, format!("{}: {m}", p.source)))?;
                let manifest = crate::apply::load_manifest(&self.root, p.manifest.as_deref()).map_err(request_error)?;
                let who = crate::apply::Requester { say: &|m| tracing::info!("{m}"), gone: &|| gone.load(Ordering::SeqCst), request: p.request.as_deref() };
                answer::<Apply>(crate::apply::run(&mut self.ws, &manifest, &ops, p.no_lsp, &who).map_err(request_error)?)
            }
            ChangeApply::NAME => {
                let p = parse::<ChangeApply>(params)?;
                let who = crate::apply::Requester { say: &|m| tracing::info!("{m}"), gone: &|| gone.load(Ordering::SeqCst), request: p.request.as_deref() };
                let report = match p.plan {
                    Some(plan) => crate::mechanical::carry_out(&mut self.ws, &plan, true, &who),
                    None => {
                        let manifest = crate::apply::load_manifest(&self.root, p.manifest.as_deref()).map_err(request_error)?;
                        crate::mechanical::carry_out(&mut self.ws, &manifest, false, &who)
                    }
                };
                answer::<ChangeApply>(report.map_err(request_error)?)
            }
            Check::NAME => {
                let p = parse::<Check>(params)?;
                let source = crate::check::Source::of(p.staged, p.base.as_deref(), p.range.as_deref()).map_err(|e| RpcError::new(code::INVALID_PARAMS, e))?;
                let commit = crate::check::Commit::read(&self.root, source).map_err(|e| match e {
                    crate::check::CommitError::Usage(m) => RpcError::new(code::INVALID_PARAMS, m),
                    crate::check::CommitError::Environment(m) => RpcError::new(code::ENVIRONMENT, m),
                })?;
                if !commit.touches_code() {
                    return answer::<Check>(crate::check::scope_only(&self.root, &commit));
                }
                self.ws.refresh(&NoProgress).map_err(request_error)?;
                // The commit's states are overlays; they never outlive this request.
                let report = crate::check::check(&mut self.ws, &commit, p.no_lsp);
                self.ws.clear_overlays();
                answer::<Check>(report.map_err(request_error)?)
            }
            Shutdown::NAME => {
                parse::<Shutdown>(params)?;
                self.shared.stopping.store(true, Ordering::SeqCst);
                answer::<Shutdown>(())
            }
            #[cfg(debug_assertions)]
            "debug_panic" => panic!("deliberate panic (debug builds only, for tests)"),
            other => Err(RpcError::new(code::METHOD_NOT_FOUND, format!("unknown method `{other}`"))),
        }
    }
}

/// What a caught panic said (its `&str` or `String` payload).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_else(|| "unknown panic".into())
}

fn request_error(e: RequestError) -> RpcError {
    match e {
        RequestError::BadInput(m) => RpcError::new(code::BAD_INPUT, m),
        RequestError::Environment(e) => RpcError::new(code::ENVIRONMENT, format!("{e:#}")),
    }
}

/// The watcher: one non-recursive watch per directory the walk enters.
struct Watch {
    watcher: notify::RecommendedWatcher,
    watched: HashSet<PathBuf>,
    rules: IgnoreRules,
}

impl Watch {
    fn start(root: &Path, jobs: Sender<Job>) -> Result<Watch> {
        // Raw events, straight to the workspace thread, which debounces them (see `run`): the
        // watcher's own thread sleeps in the kernel until something changes.
        let cookies = cookie_dir(root);
        let handler = move |result: notify::Result<notify::Event>| match result {
            Ok(event) if event.paths.first().is_some_and(|p| p.parent() == Some(cookies.as_path())) => {
                if matches!(event.kind, EventKind::Create(_))
                    && let Some(n) = event.paths.first().and_then(|p| cookie_of(&cookies, p))
                {
                    let _ = jobs.send(Job::Cookie(n));
                }
            }
            Ok(event) if event.need_rescan() => {
                let _ = jobs.send(Job::Rescan(format!("the file watcher lost events ({:?})", event.kind)));
            }
            // Reads (our own walks open every directory) and metadata-only changes (atime,
            // permissions) change no content.
            Ok(event) if matches!(event.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))) => {}
            Ok(event) => {
                if !event.paths.is_empty() {
                    let _ = jobs.send(Job::Paths(event.paths));
                }
            }
            Err(e) => {
                let _ = jobs.send(Job::Rescan(format!("the file watcher failed: {e}")));
            }
        };
        let watcher = notify::RecommendedWatcher::new(handler, notify::Config::default()).context("cannot start the file watcher")?;
        let mut watch = Watch { watcher, watched: HashSet::new(), rules: IgnoreRules::new(root, &[]) };
        let mut stats = WatcherStats::default();
        watch.resync(root, &mut stats);
        if let Some(e) = stats.last_error {
            bail!("cannot watch the project: {e}");
        }
        // Sync cookies: a fresh directory (a crashed daemon's cookies are stale), watched apart
        // from the project's directories.
        let cookies = cookie_dir(root);
        let _ = std::fs::remove_dir_all(&cookies);
        match crate::state::ensure_private_dir(&cookies).map_err(|e| e.to_string()).and_then(|()| watch.watcher.watch(&cookies, RecursiveMode::NonRecursive).map_err(|e| e.to_string())) {
            Ok(()) => {}
            Err(e) => tracing::warn!("no sync cookies ({e}): `sync` requests wait one debounce instead"),
        }
        Ok(watch)
    }

    /// Watch exactly the directories the walk enters now; reload the ignore rules. Walks
    /// again until a walk finds no directory that was not watched before it began: then every
    /// directory created since has a watched parent, and its creation is an event.
    fn resync(&mut self, root: &Path, stats: &mut WatcherStats) {
        for _ in 0..16 {
            if !self.resync_once(root, stats) {
                return;
            }
        }
        tracing::warn!("directories keep appearing; the next event will resync again");
    }

    /// One walk; true when it added a watch.
    fn resync_once(&mut self, root: &Path, stats: &mut WatcherStats) -> bool {
        let w = walk::walk(root);
        self.rules = IgnoreRules::new(root, &w.gitignores);
        let now: HashSet<PathBuf> = w.dirs.into_iter().collect();
        let mut added = false;
        for gone in self.watched.difference(&now).cloned().collect::<Vec<_>>() {
            // A deleted directory's watch went with it; only a newly ignored one is removed.
            if gone.exists() {
                let _ = self.watcher.unwatch(&gone);
            }
            self.watched.remove(&gone);
        }
        for dir in now {
            if !self.watched.contains(&dir) {
                match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.watched.insert(dir);
                        added = true;
                    }
                    Err(e) => {
                        tracing::warn!("cannot watch {}: {e}", dir.display());
                        stats.last_error = Some(format!("cannot watch {}: {e} (raise fs.inotify.max_user_watches?)", dir.display()));
                    }
                }
            }
        }
        stats.dirs = self.watched.len();
        added
    }
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>, jobs: Sender<Job>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors (EMFILE) or a transient error: do not spin on it.
                tracing::warn!("cannot accept a client: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        // Only the user who runs the daemon is served (the socket is 0600 in a 0700
        // directory; this holds even if someone loosened those).
        // SAFETY: geteuid has no preconditions.
        match rpc::peer_credentials(&stream) {
            Ok((uid, _)) if uid == unsafe { libc::geteuid() } => {}
            Ok((uid, pid)) => {
                tracing::warn!(uid, pid, "refused a client run by another user");
                continue;
            }
            Err(e) => {
                tracing::warn!("refused a client whose credentials cannot be read: {e}");
                continue;
            }
        }
        let shared = shared.clone();
        let jobs = jobs.clone();
        shared.clients.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new().name("maintaind-client".into()).spawn({
            let shared = shared.clone();
            move || {
                if let Err(e) = serve_client(stream, &shared, &jobs) {
                    tracing::debug!("client connection ended: {e}");
                }
                shared.clients.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if spawned.is_err() {
            shared.clients.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One client: `hello` first, then requests until the client hangs up. A protocol error is
/// answered, then the connection is closed; the daemon goes on.
fn serve_client(stream: UnixStream, shared: &Arc<Shared>, jobs: &Sender<Job>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut greeted = false;
    loop {
        let line = match rpc::read_line(&mut reader) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                send(&mut writer, rpc::response(Value::Null, Err(RpcError::new(code::INVALID_REQUEST, e.to_string()))))?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let arrived = Instant::now();
        let request: rpc::IncomingRequest = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => {
                let shown: String = String::from_utf8_lossy(&line).chars().take(60).collect();
                tracing::warn!("a client sent something that is not JSON-RPC: {shown:?}");
                send(
                    &mut writer,
                    rpc::response(
                        Value::Null,
                        Err(RpcError::new(code::PARSE, format!("not a JSON-RPC message ({e}); maintaind's daemon speaks JSON-RPC 2.0, one message per line, protocol {}", rpc::PROTOCOL))),
                    ),
                )?;
                return Ok(());
            }
        };
        let id = request.id.clone().unwrap_or(Value::Null);
        let (Some("2.0"), Some(method), Some(_)) = (request.jsonrpc.as_deref(), request.method.as_deref(), request.id.as_ref()) else {
            send(&mut writer, rpc::response(id, Err(RpcError::new(code::INVALID_REQUEST, "a request needs \"jsonrpc\": \"2.0\", an \"id\" and a \"method\""))))?;
            return Ok(());
        };
        if !greeted {
            let hello: Result<HelloParams, _> = serde_json::from_value(request.params.clone());
            match (method, hello) {
                (rpc::method::Hello::NAME, Ok(h)) if h.protocol == rpc::PROTOCOL => {
                    greeted = true;
                    let s = shared.status.lock().unwrap().clone();
                    let server = s.server.as_ref().map(|sv| sv.kind.as_str().to_string());
                    let hello = rpc::Hello { protocol: rpc::PROTOCOL, maintaind: s.maintaind, pid: s.pid, root: s.root, server };
                    send(&mut writer, rpc::response(id, Ok(serde_json::to_value(hello).expect("serialisable"))))?;
                    continue;
                }
                (rpc::method::Hello::NAME, Ok(h)) => {
                    tracing::warn!(client = h.client, protocol = h.protocol, "refused a client speaking another protocol version");
                    send(
                        &mut writer,
                        rpc::response(
                            id,
                            Err(RpcError::new(
                                code::PROTOCOL_VERSION,
                                format!(
                                    "protocol {} is not supported: this daemon (maintaind {}) speaks protocol {}; use the same maintaind version for the client, or restart the daemon with `maintaind daemon stop` and `maintaind daemon start`",
                                    h.protocol,
                                    env!("CARGO_PKG_VERSION"),
                                    rpc::PROTOCOL
                                ),
                            )),
                        ),
                    )?;
                    return Ok(());
                }
                (rpc::method::Hello::NAME, Err(e)) => {
                    send(&mut writer, rpc::response(id, Err(RpcError::new(code::INVALID_PARAMS, format!("`hello` params: {e} (expected {{\"protocol\": {}, \"client\": \"...\"}})", rpc::PROTOCOL)))))?;
                    return Ok(());
                }
                _ => {
                    send(&mut writer, rpc::response(id, Err(RpcError::new(code::PROTOCOL_VERSION, format!("say `hello` with the protocol version ({}) before `{method}`", rpc::PROTOCOL)))))?;
                    return Ok(());
                }
            }
        }
        // Work keeps the daemon alive; asking how it is (a status bar, a monitor) does not.
        let work = method != rpc::method::Status::NAME;
        if work {
            shared.touch();
        }
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let result = match method {
            rpc::method::Hello::NAME => Err(RpcError::new(code::INVALID_REQUEST, "`hello` was already said on this connection")),
            // `sync` (a command-line client's read-your-writes barrier) means nothing to a
            // status answered at once.
            rpc::method::Status::NAME if !wants_ready(&request.params) => match serde_json::from_value::<rpc::StatusParams>(without_sync(null_as_empty(request.params))) {
                Ok(_) => Ok(serde_json::to_value(shared.snapshot()).expect("serialisable")),
                Err(e) => Err(RpcError::new(code::INVALID_PARAMS, format!("`status` params: {e}"))),
            },
            _ if shared.stopping.load(Ordering::SeqCst) => Err(RpcError::new(code::SHUTTING_DOWN, "the daemon is shutting down")),
            // The control path never waits behind a request: the stop is queued, and if the
            // workspace thread is still busy after a grace period the process ends anyway.
            rpc::method::Shutdown::NAME => {
                shared.stopping.store(true, Ordering::SeqCst);
                let _ = jobs.send(Job::Stop(Stopped::Shutdown));
                shared.arm_watchdog("`maintaind daemon stop`");
                Ok(Value::Null)
            }
            _ => {
                let (reply, answer) = mpsc::channel();
                let mut params = request.params;
                let sync = params.as_object_mut().and_then(|o| o.remove("sync")).is_some_and(|v| v == Value::Bool(true));
                let barrier = sync.then(|| Barrier { arrived, cookie: shared.plant_cookie() });
                let gone = Arc::new(AtomicBool::new(false));
                if jobs.send(Job::Request { method: method.to_string(), params, reply, barrier, gone: gone.clone() }).is_err() {
                    Err(RpcError::new(code::SHUTTING_DOWN, "the daemon is shutting down"))
                } else {
                    loop {
                        match answer.recv_timeout(Duration::from_millis(100)) {
                            Ok(a) => break a,
                            Err(RecvTimeoutError::Disconnected) => break Err(RpcError::new(code::SHUTTING_DOWN, "the daemon stopped before answering")),
                            Err(RecvTimeoutError::Timeout) if !gone.load(Ordering::SeqCst) && hung_up(&writer) => gone.store(true, Ordering::SeqCst),
                            Err(RecvTimeoutError::Timeout) => {}
                        }
                    }
                }
            }
        };
        if work {
            // Idle time counts from the end of the last request, not its start.
            shared.touch();
        }
        send(&mut writer, rpc::response(id, result))?;
    }
}

/// Whether a `status` request asks to wait until the daemon is ready.
fn wants_ready(params: &Value) -> bool {
    params.get("wait_ready") == Some(&Value::Bool(true))
}

fn without_sync(mut params: Value) -> Value {
    if let Some(o) = params.as_object_mut() {
        o.remove("sync");
    }
    params
}

/// A method without params may be sent none at all.
fn null_as_empty(params: Value) -> Value {
    if params.is_null() { Value::Object(Default::default()) } else { params }
}

/// Whether the client at the other end has closed its side (it was killed or gave up).
fn hung_up(stream: &UnixStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd { fd: stream.as_raw_fd(), events: libc::POLLRDHUP, revents: 0 };
    // SAFETY: one valid pollfd, zero timeout.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
}

fn send(writer: &mut UnixStream, message: Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&message).expect("serialisable");
    line.push(b'\n');
    writer.write_all(&line)
}

/// Send the daemon's logs to `.maintaind/daemon.log` (a link to the current day's file;
/// seven days are kept). Level from `MAINTAIND_LOG` (default `info`).
pub fn init_log(root: &Path) -> Result<()> {
    let dir = state_dir(root);
    crate::state::ensure_private_dir(&dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("daemon")
        .filename_suffix("log")
        .max_log_files(7)
        .latest_symlink("daemon.log")
        .build(&dir)
        .with_context(|| format!("cannot open the log in {}", dir.display()))?;
    let filter = std::env::var("MAINTAIND_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(appender)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    Ok(())
}

/// Start `maintaind daemon run` for `root` in the background (its own process group, so the
/// terminal's Ctrl-C does not reach it) and wait until it answers `ready`. What it prints
/// before that goes to `.maintaind/daemon.start.log`, shown when it fails to start.
pub fn spawn(root: &Path, ts_server: Option<maintaind_lsp_bridge::ServerChoice>, offline: bool, opts: &DaemonOptions) -> Result<Status> {
    use std::os::unix::process::CommandExt;
    let dir = state_dir(root);
    crate::state::ensure_private_dir(&dir)?;
    let start_log = dir.join("daemon.start.log");
    let log = File::create(&start_log).with_context(|| format!("cannot write {}", start_log.display()))?;
    let exe = std::env::current_exe().context("cannot find the maintaind executable")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("daemon").arg("run").arg("--root").arg(root).arg("--debounce-ms").arg(opts.debounce_ms.to_string());
    if opts.no_lsp {
        cmd.arg("--no-lsp");
    }
    if let Some(secs) = opts.idle_exit {
        cmd.arg("--idle-exit").arg(secs.to_string());
    }
    if let Some(choice) = ts_server {
        cmd.arg("--ts-server").arg(choice.as_str());
    }
    if offline {
        cmd.arg("--offline");
    }
    cmd.stdin(std::process::Stdio::null()).stdout(log.try_clone()?).stderr(log).process_group(0);
    let mut child = Some(cmd.spawn().context("cannot start `maintaind daemon run`")?);
    let mut respawns = 0;
    let started = Instant::now();
    // Long enough for a first-time language-server install and project load.
    let limit = Duration::from_secs(600);
    loop {
        if let Some(c) = &mut child
            && let Some(exit) = c.try_wait()?
        {
            child = None;
            let said = std::fs::read_to_string(&start_log).unwrap_or_default();
            // "already running" from a daemon that has left since: start ours below.
            if !lock_held(root) && !said.contains("already running") {
                let said = said.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n  ");
                bail!("the daemon exited while starting ({exit}):\n  {said}");
            }
            // Another daemon holds the root (a racing client's, or one that is stopping
            // because its socket was removed): wait for it below.
        }
        if child.is_none() && !lock_held(root) {
            // The daemon we waited for is gone without answering: start ours after all.
            respawns += 1;
            if respawns > 3 {
                bail!("the daemon for {} kept going away while starting; see {}", root.display(), dir.join("daemon.log").display());
            }
            child = Some(cmd.spawn().context("cannot start `maintaind daemon run`")?);
        }
        // Once the socket answers, the daemon says when it is ready (the request waits behind
        // its boot); a daemon that dies meanwhile closes the connection and is seen above.
        if let Ok(Some(mut client)) = rpc::Client::connect(root)
            && client.set_timeout(Some(limit.saturating_sub(started.elapsed()).max(Duration::from_millis(1)))).is_ok()
            && let Ok(status) = client.request::<rpc::method::Status>(&rpc::StatusParams { wait_ready: true })
            && status.state == "ready"
        {
            // Reap the child when it exits, so it never lingers as a zombie of ours.
            if let Some(mut c) = child {
                std::thread::spawn(move || c.wait());
            }
            return Ok(status);
        }
        if started.elapsed() > limit {
            bail!("the daemon did not become ready within {}s; see {}", limit.as_secs(), dir.join("daemon.log").display());
        }
        // Polling: the daemon has no channel back to us until its socket answers.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether some process holds the root's daemon lock (a daemon running or starting). When
/// two clients start a daemon at once, the loser's child exits and it waits for the winner's.
fn lock_held(root: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(rpc::lock_path(root)) else { return false };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// Wait until the daemon with `pid` has let go of the root (its socket no longer answers).
/// Whether `pid` has exited and waits to be reaped.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
}

pub fn wait_gone(root: &Path, pid: u32, limit: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        match rpc::Client::connect(root) {
            Ok(Some(c)) if c.hello.pid == pid => {}
            _ => {
                // The socket is gone or is another daemon's; wait for the process itself.
                // SAFETY: kill with signal 0 only checks that the process exists. A zombie has
                // exited: it only waits for whoever reaps it (an init that may take its time).
                if unsafe { libc::kill(pid as i32, 0) } != 0 || is_zombie(pid) {
                    return Ok(());
                }
            }
        }
        if started.elapsed() > limit {
            bail!("the daemon (pid {pid}) did not stop within {}s", limit.as_secs());
        }
        // Polling: a stopping process cannot tell us when it is gone.
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! The daemon's wire protocol and its client.
//!
//! JSON-RPC 2.0, one message per line (`\n`-terminated), over the Unix socket
//! `.maintaind/daemon.sock` (owner-only). The first request on every connection must be
//! `hello` with the client's protocol version; a daemon that speaks another version answers
//! with [`code::PROTOCOL_VERSION`] and closes the connection, so an old client gets a clear
//! error rather than a misread answer. Anything that is not JSON-RPC gets
//! [`code::PARSE`] / [`code::INVALID_REQUEST`] and the connection is closed; the daemon itself is
//! not affected.
//!
//! The methods, their params and their results are defined once, in [`method`]: the CLI, the
//! daemon, `maintaind lsp` and the bench all name them through it, so a mismatch is a compile
//! error. `hello` and `status` are answered by the connection thread, even while the daemon
//! works; `shutdown` too (the daemon then stops, within a grace period).
//!
//! Any request may carry `"sync": true` in its params: it is then answered only after every
//! file written before it arrived has reached the registry (a wait of about one debounce). The
//! CLI sets it, so `echo … > f.ts && maintaind symbols …` sees the new file; editors' code
//! lenses do not need it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped whenever a method's params or result change incompatibly.
pub const PROTOCOL: u32 = 1;

/// Longest accepted message line; a longer one is refused (and the connection closed).
pub const MAX_LINE: usize = 16 << 20;

/// JSON-RPC error codes: the standard ones, then maintaind's.
pub mod code {
    pub const PARSE: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL: i64 = -32603;
    /// The client speaks another protocol version (or skipped `hello`).
    pub const PROTOCOL_VERSION: i64 = -32001;
    /// The request was understood but cannot be answered as asked (CLI exit 2).
    pub const BAD_INPUT: i64 = -32002;
    /// Something about the environment (CLI exit 3).
    pub const ENVIRONMENT: i64 = -32003;
    /// The daemon is shutting down.
    pub const SHUTTING_DOWN: i64 = -32004;
}

pub fn socket_path(root: &Path) -> PathBuf {
    crate::state::state_dir(root).join("daemon.sock")
}

pub fn lock_path(root: &Path) -> PathBuf {
    crate::state::claim_path(root)
}

/// How long a daemon may take to answer `hello`.
pub const HELLO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `sun_path` holds 108 bytes on Linux, including the terminating NUL.
pub const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError { code, message: message.into() }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A request as it arrives: every field optional so a malformed one can be answered precisely.
#[derive(Debug, Deserialize)]
pub struct IncomingRequest {
    pub jsonrpc: Option<String>,
    pub id: Option<Value>,
    pub method: Option<String>,
    #[serde(default)]
    pub params: Value,
}

pub fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => serde_json::json!({"jsonrpc": "2.0", "id": id, "error": error}),
    }
}

/// One method of the protocol: its name, what it takes and what it answers.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

macro_rules! methods {
    ($($(#[$doc:meta])* $ty:ident = $name:literal, $params:ty => $result:ty;)*) => {
        $(
            $(#[$doc])*
            pub enum $ty {}
            impl Method for $ty {
                const NAME: &'static str = $name;
                type Params = $params;
                type Result = $result;
            }
        )*
        /// Every method name.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

/// The vocabulary: every request a client can make (the only place their names are spelled).
pub mod method {
    use super::*;
    use crate::workspace::{IndexReport, SymbolHit, SymbolsReport};

    methods! {
        /// First on every connection: the client's protocol version.
        Hello = "hello", HelloParams => super::Hello;
        /// The daemon's state: at once, even while it works; with `wait_ready`, once it has
        /// booted (queued behind the start, as every other request is).
        Status = "status", StatusParams => super::Status;
        /// A full walk (the watcher normally makes it unnecessary).
        Index = "index", NoParams => IndexReport;
        /// A symbol search against the watched registry (no walk).
        Symbols = "symbols", SymbolsParams => SymbolsReport;
        /// The blast radius of a change to one symbol.
        Blast = "blast", BlastParams => crate::blast::BlastReport;
        /// The blast radius of the symbol at an editor position (0-based line, UTF-16
        /// character); `text` is the unsaved buffer, an overlay for this request only.
        BlastAt = "blast_at", BlastAtParams => crate::blast::BlastReport;
        /// A file's exported declarations (code lenses).
        FileSymbols = "file_symbols", FileParams => Vec<SymbolHit>;
        /// Plan a change with the offline planner.
        Change = "change", ChangeParams => crate::manifest::Manifest;
        /// Validate, lock, write and check edits, as `maintaind apply` does.
        Apply = "apply", ApplyParams => crate::apply::ApplyReport;
        /// Carry a planned change out when it is mechanical (`change --apply`).
        ChangeApply = "change_apply", ChangeApplyParams => crate::mechanical::ChangeApplied;
        /// The pre-commit check; the commit's states are overlays for this request only.
        Check = "check", CheckParams => crate::check::CheckReport;
        /// Stop the daemon.
        Shutdown = "shutdown", NoParams => ();
    }
}

/// What the daemon and its language server hold in memory (resident, KiB).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub daemon_kib: u64,
    pub server_kib: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    /// Answer once the daemon is ready (indexed, language server loaded) instead of at once.
    #[serde(default)]
    pub wait_ready: bool,
}

/// The params of a method that takes none (`{}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolsParams {
    pub query: String,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlastParams {
    pub symbol: String,
    #[serde(default)]
    pub change: crate::blast::ChangeKind,
    #[serde(default)]
    pub no_lsp: bool,
    #[serde(default = "default_depth")]
    pub depth: usize,
    /// Ignore cached answers (benchmarks).
    #[serde(default)]
    pub fresh: bool,
}

impl SymbolsParams {
    /// A search for `query`, any kind.
    pub fn new(query: impl Into<String>) -> SymbolsParams {
        SymbolsParams { query: query.into(), kind: None }
    }
}

impl BlastParams {
    /// The blast radius of `change` to `symbol`, with the server, at the default depth.
    pub fn new(symbol: impl Into<String>, change: crate::blast::ChangeKind) -> BlastParams {
        BlastParams { symbol: symbol.into(), change, no_lsp: false, depth: default_depth(), fresh: false }
    }
}

fn default_depth() -> usize {
    crate::blast::DEFAULT_DEPTH
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlastAtParams {
    pub file: String,
    pub line: u32,
    pub character: u32,
    #[serde(default)]
    pub change: crate::blast::ChangeKind,
    /// The editor's buffer when it differs from the disk.
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// EDITS.json or a unified diff, as read by the client.
    pub text: String,
    #[serde(default)]
    pub patch: bool,
    /// Where the text came from, for messages.
    pub source: String,
    #[serde(default)]
    pub manifest: Option<String>,
    #[serde(default)]
    pub no_lsp: bool,
    /// The client's id for this apply, recorded in the journal.
    #[serde(default)]
    pub request: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckParams {
    #[serde(default)]
    pub staged: bool,
    /// A branch against its merge base with this revision (`check --base`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// `A..B`: B against its merge base with A (`check --range`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(default)]
    pub no_lsp: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileParams {
    pub file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeParams {
    pub request: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub no_lsp: bool,
    #[serde(default)]
    pub allow_no_tests: bool,
    /// Re-plan the active manifest's work (`change --amend`).
    #[serde(default)]
    pub amend: bool,
    /// Decisions written by the client (`change --decisions`); the offline planner otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<crate::manifest::Decisions>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeApplyParams {
    /// The stored manifest to carry out (the active one when absent).
    #[serde(default)]
    pub manifest: Option<String>,
    /// `--dry-run`: the plan itself (not stored), for a diff; nothing is written from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Box<crate::manifest::Manifest>>,
    /// The client's id for the write, recorded in the journal.
    #[serde(default)]
    pub request: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HelloParams {
    pub protocol: u32,
    pub client: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub maintaind: String,
    pub pid: u32,
    pub root: String,
    /// `native` / `tsls`, or `None` when the daemon runs without a language server.
    pub server: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub root: String,
    pub maintaind: String,
    pub protocol: u32,
    pub uptime_ms: u64,
    /// `starting` (indexing, loading the server), `ready`, `stopping`.
    pub state: String,
    /// While `starting`: what the daemon is doing (`indexing`, `loading TypeScript projects
    /// 0/1: test/tsconfig.json`), for a client waiting on it to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub generation: u64,
    pub files: usize,
    /// Symbols of the indexed files.
    pub symbols: usize,
    /// Files read but not indexed yet: a first start parses each when a question needs it,
    /// and the rest in the background (answers are complete meanwhile).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending: usize,
    /// The language server, or `None` when the daemon runs without one.
    pub server: Option<crate::semantic::ServerStatus>,
    /// The language server's process id (not counted in the daemon's memory).
    #[serde(default)]
    pub server_pid: Option<u32>,
    /// Why there is no server (`--no-lsp`, or the start failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_note: Option<String>,
    pub watcher: WatcherStats,
    pub clients: usize,
    pub requests: u64,
    pub log: String,
    /// Seconds of inactivity after which the daemon exits (`None`: never).
    pub idle_exit_secs: Option<u64>,
    /// Resident memory now: the daemon's own, and its language server's process tree (KiB).
    #[serde(default)]
    pub memory: Memory,
    /// Files the watcher saw written outside the active manifest's scope since its
    /// activation, as they happened (`gate audit` is the complete answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_scope_writes: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WatcherStats {
    /// Directories watched.
    pub dirs: usize,
    /// Coalesced batches processed.
    pub batches: u64,
    /// Files re-indexed one by one.
    pub files_updated: u64,
    /// Full walks (bursts, overflows, new directories, .gitignore or tsconfig changes).
    pub full_refreshes: u64,
    /// `sync` barriers passed by their cookie (the watcher saw every earlier write), and by
    /// waiting out the debounce (no cookie could be written, or its event never came).
    #[serde(default)]
    pub synced_by_cookie: u64,
    #[serde(default)]
    pub synced_by_wait: u64,
    /// The last watcher problem, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Changed files that could not be read yet (retried every tick), with the reason.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unreadable: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Rpc(RpcError),
    #[error("lost the connection to the daemon: {0}")]
    Io(#[from] std::io::Error),
    #[error("the daemon's answer cannot be read: {0}")]
    Decode(String),
}

/// A connection to a running daemon, after a successful `hello`.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    pub hello: Hello,
}

impl Client {
    /// Connect to the daemon for `root`. `Ok(None)`: no daemon is running (no socket, or
    /// nobody listening on it).
    pub fn connect(root: &Path) -> Result<Option<Client>, CallError> {
        let path = socket_path(root);
        let stream = match UnixStream::connect(&path) {
            Ok(s) => s,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => return Ok(None),
            Err(e) => return Err(CallError::Io(e)),
        };
        // Only a daemon run by this user is trusted: in a shared checkout another user could
        // have put their own listener at this path.
        let (uid, pid) = peer_credentials(&stream)?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if uid != me {
            return Err(CallError::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{} is served by uid {uid} (pid {pid}), not by you (uid {me}); its answers are not trusted. Remove the socket and retry", path.display()),
            )));
        }
        // A daemon that accepts but never greets (stopped, wedged) must not hang the client:
        // `hello` is answered by the connection thread at once, even while the daemon works.
        stream.set_read_timeout(Some(HELLO_TIMEOUT))?;
        let writer = stream.try_clone()?;
        let mut client = Client { reader: BufReader::new(stream), writer, next_id: 1, hello: Hello { protocol: 0, maintaind: String::new(), pid: 0, root: String::new(), server: None } };
        let params = HelloParams { protocol: PROTOCOL, client: format!("maintaind {}", env!("CARGO_PKG_VERSION")) };
        client.hello = client.request::<method::Hello>(&params)?;
        // Answers may take as long as the work (a first project load, a planned change).
        client.writer.set_read_timeout(None)?;
        Ok(Some(client))
    }

    /// Give up on an answer after `limit` (`None`: wait as long as the work takes).
    pub fn set_timeout(&mut self, limit: Option<std::time::Duration>) -> std::io::Result<()> {
        self.writer.set_read_timeout(limit)
    }

    /// Make request `M` and decode its answer.
    pub fn request<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, CallError> {
        self.call(M::NAME, serde_json::to_value(params).expect("params serialise"))
    }

    /// [`Client::request`], answered only once every file written before it has reached the
    /// registry (`"sync": true`): what a command-line client wants.
    pub fn request_synced<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, CallError> {
        let mut value = serde_json::to_value(params).expect("params serialise");
        if let Some(o) = value.as_object_mut() {
            o.insert("sync".into(), Value::Bool(true));
        }
        self.call(M::NAME, value)
    }

    /// Call `method` and decode its result.
    fn call<T: DeserializeOwned>(&mut self, method: &str, params: Value) -> Result<T, CallError> {
        let value = self.call_value(method, params)?;
        serde_json::from_value(value).map_err(|e| CallError::Decode(format!("{method}: {e}")))
    }

    fn call_value(&mut self, method: &str, params: Value) -> Result<Value, CallError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line = serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).expect("serialisable");
        line.push(b'\n');
        self.writer.write_all(&line)?;
        let reply = read_line(&mut self.reader)?.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the daemon closed the connection"))?;
        let reply: Value = serde_json::from_slice(&reply).map_err(|e| CallError::Decode(e.to_string()))?;
        if reply.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(CallError::Decode(format!("answer to another request: {reply}")));
        }
        if let Some(error) = reply.get("error") {
            return Err(CallError::Rpc(serde_json::from_value(error.clone()).map_err(|e| CallError::Decode(e.to_string()))?));
        }
        Ok(reply.get("result").cloned().unwrap_or(Value::Null))
    }
}

/// The uid and pid of the process at the other end of a Unix socket (`SO_PEERCRED`: the
/// kernel's word, set when the peer called `connect` or `listen`).
pub fn peer_credentials(stream: &UnixStream) -> std::io::Result<(u32, i32)> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, which is that large.
    let rc = unsafe { libc::getsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, (&mut cred as *mut libc::ucred).cast(), &mut len) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((cred.uid, cred.pid))
}

/// Read one `\n`-terminated line of at most [`MAX_LINE`] bytes. `Ok(None)` at a clean end of
/// stream; an over-long line is an `InvalidData` error.
pub fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        if line.len() > MAX_LINE {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("message longer than {MAX_LINE} bytes")));
        }
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed in the middle of a message"));
    }
    line.pop();
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_complete() {
        let mut r = BufReader::new(&b"{\"a\":1}\n{\"b\""[..]);
        assert_eq!(read_line(&mut r).unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(read_line(&mut r).unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        let long = vec![b'x'; MAX_LINE + 10];
        let mut r = BufReader::new(&long[..]);
        assert_eq!(read_line(&mut r).unwrap_err().kind(), std::io::ErrorKind::InvalidData);
        let mut r = BufReader::new(&b""[..]);
        assert!(read_line(&mut r).unwrap().is_none());
    }
}

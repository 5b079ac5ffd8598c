//! One connection to one language-server process.
//!
//! Three tasks per connection: one reads the server's stdout (responses go to the pending
//! table, notifications to [`ServerState`], server-to-client requests are answered), one
//! drains stderr into the log, one writes stdin. Request ids come from an atomic counter and
//! are entered in the pending table before the request is sent. Every request runs under a
//! timeout; a request future that is dropped or times out sends `$/cancelRequest`. On EOF every
//! pending request fails with [`BridgeError::StreamClosed`]. A [`Client`] only exists after
//! `initialize` has completed: that is the initialize gate.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lsp_types::ServerCapabilities;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::BridgeError;
use crate::transport::{Incoming, recv_server_message, send_to_server};
use crate::uri::path_to_uri;

type Reply = Result<Value, BridgeError>;
type PendingTable = Arc<Mutex<HashMap<i64, (String, oneshot::Sender<Reply>)>>>;

/// What the server has told us without being asked.
#[derive(Debug, Default)]
pub struct ServerState {
    /// Latest `publishDiagnostics` per document URI.
    pub diagnostics: HashMap<String, Vec<lsp_types::Diagnostic>>,
    /// Work-done progress tokens begun and not yet ended (project loading shows up here).
    pub active_progress: HashMap<String, String>,
    /// Progress titles seen so far (for the log and for readiness heuristics).
    pub progress_seen: Vec<String>,
    /// `$/typescriptVersion` from typescript-language-server: the tsserver it runs.
    pub typescript_version: Option<String>,
    /// Messages the reader skipped (junk on stdout, unknown response ids).
    pub skipped: Vec<String>,
}

/// How to start a server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: std::path::PathBuf,
    pub args: Vec<String>,
    /// `initializationOptions` for `initialize`.
    pub init_options: Option<Value>,
}

pub struct Client {
    outgoing: mpsc::UnboundedSender<Value>,
    pending: PendingTable,
    next_id: AtomicI64,
    exited: watch::Receiver<Option<String>>,
    state: Arc<Mutex<ServerState>>,
    pub capabilities: ServerCapabilities,
    /// `serverInfo` from the initialize result: (name, version).
    pub server_info: Option<(String, Option<String>)>,
    child: Option<Child>,
    tasks: Vec<JoinHandle<()>>,
}

impl Client {
    /// Spawn the server (killed when the client is dropped) and initialize it for `root`.
    pub async fn spawn(launch: &Launch, root: &Path, timeout: Duration) -> Result<Client, BridgeError> {
        let mut child = Command::new(&launch.program)
            .args(&launch.args)
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BridgeError::Spawn(format!("{}: {e}", launch.program.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let name = launch.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let drain = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "maintaind::lsp::stderr", server = %name, "{line}");
            }
        });
        let mut client = Client::over(stdout, stdin, root, launch.init_options.clone(), timeout).await?;
        client.child = Some(child);
        client.tasks.push(drain);
        Ok(client)
    }

    /// Run the protocol over any pair of streams (the process pipes, or a test's duplex).
    pub async fn over<R, W>(reader: R, writer: W, root: &Path, init_options: Option<Value>, timeout: Duration) -> Result<Client, BridgeError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (outgoing, mut to_write) = mpsc::unbounded_channel::<Value>();
        let pending: PendingTable = Arc::default();
        let state: Arc<Mutex<ServerState>> = Arc::default();
        let (exit_tx, exited) = watch::channel(None);

        let writer_task = tokio::spawn(async move {
            let mut writer = writer;
            while let Some(msg) = to_write.recv().await {
                if let Err(e) = send_to_server(&mut writer, &msg).await {
                    tracing::warn!("cannot write to the language server: {e}");
                    break;
                }
            }
        });
        let reader_task = tokio::spawn(read_loop(BufReader::new(reader), pending.clone(), state.clone(), outgoing.clone(), exit_tx));

        let mut client =
            Client { outgoing, pending, next_id: AtomicI64::new(1), exited, state, capabilities: ServerCapabilities::default(), server_info: None, child: None, tasks: vec![writer_task, reader_task] };
        let result = client.request_raw("initialize", initialize_params(root, init_options), timeout).await?;
        client.capabilities =
            serde_json::from_value(result.get("capabilities").cloned().unwrap_or(Value::Null)).map_err(|e| BridgeError::BadResponse { method: "initialize".into(), detail: e.to_string() })?;
        client.server_info = result.get("serverInfo").and_then(|i| Some((i.get("name")?.as_str()?.to_string(), i.get("version").and_then(Value::as_str).map(str::to_string))));
        client.notify_raw("initialized", json!({}))?;
        Ok(client)
    }

    /// Send a request and wait for its answer, at most `timeout`.
    pub async fn request<R: lsp_types::request::Request>(&self, params: R::Params, timeout: Duration) -> Result<R::Result, BridgeError> {
        let params = serde_json::to_value(params).expect("LSP params serialise");
        let value = self.request_raw(R::METHOD, params, timeout).await?;
        serde_json::from_value(value).map_err(|e| BridgeError::BadResponse { method: R::METHOD.into(), detail: e.to_string() })
    }

    pub async fn request_raw(&self, method: &str, params: Value, timeout: Duration) -> Result<Value, BridgeError> {
        if let Some(reason) = self.exit_reason() {
            return Err(BridgeError::StreamClosed(reason));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, (method.to_string(), tx));
        // The reader may have drained the table between the check above and the insert.
        if let Some(reason) = self.exit_reason() {
            self.pending.lock().unwrap().remove(&id);
            return Err(BridgeError::StreamClosed(reason));
        }
        let mut guard = CancelOnDrop { client: self, id, armed: true };
        self.outgoing.send(message(Some(id), method, params)).map_err(|_| BridgeError::StreamClosed("writer stopped".into()))?;
        let answer = tokio::time::timeout(timeout, rx).await;
        match answer {
            Ok(Ok(reply)) => {
                guard.armed = false;
                reply
            }
            Ok(Err(_)) => {
                guard.armed = false;
                Err(BridgeError::StreamClosed(self.exit_reason().unwrap_or_else(|| "reader stopped".into())))
            }
            Err(_) => Err(BridgeError::Timeout { method: method.to_string(), timeout }),
        }
    }

    pub fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) -> Result<(), BridgeError> {
        self.notify_raw(N::METHOD, serde_json::to_value(params).expect("LSP params serialise"))
    }

    pub fn notify_raw(&self, method: &str, params: Value) -> Result<(), BridgeError> {
        self.outgoing.send(message(None, method, params)).map_err(|_| BridgeError::StreamClosed("writer stopped".into()))
    }

    /// `Some(reason)` once the server's stream has closed.
    pub fn exit_reason(&self) -> Option<String> {
        self.exited.borrow().clone()
    }

    /// Resolves when the server's stream closes.
    pub async fn closed(&self) {
        let mut rx = self.exited.clone();
        let _ = rx.wait_for(Option::is_some).await;
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Ask the server to shut down and exit; kill it if it does not within `grace`.
    pub async fn shutdown(mut self, grace: Duration) {
        if self.exit_reason().is_none() {
            let _ = self.request_raw("shutdown", Value::Null, grace).await;
            let _ = self.notify_raw("exit", Value::Null);
        }
        if let Some(mut child) = self.child.take()
            && tokio::time::timeout(grace, child.wait()).await.is_err()
        {
            let _ = child.kill().await;
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A JSON-RPC request (`id`) or notification. `null` params are left out: `shutdown` and `exit`
/// take none, and TypeScript 7 refuses `"params": null` ("expected no params"), which left it
/// running until the grace period ran out.
fn message(id: Option<i64>, method: &str, params: Value) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "method": method});
    if let Some(id) = id {
        m["id"] = json!(id);
    }
    if !params.is_null() {
        m["params"] = params;
    }
    m
}

/// Sends `$/cancelRequest` for a request whose future goes away before its answer arrives.
struct CancelOnDrop<'a> {
    client: &'a Client,
    id: i64,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed && self.client.pending.lock().unwrap().remove(&self.id).is_some() {
            let _ = self.client.notify_raw("$/cancelRequest", json!({"id": self.id}));
        }
    }
}

async fn read_loop<R: tokio::io::AsyncBufRead + Unpin>(
    mut reader: R,
    pending: PendingTable,
    state: Arc<Mutex<ServerState>>,
    outgoing: mpsc::UnboundedSender<Value>,
    exit_tx: watch::Sender<Option<String>>,
) {
    let reason = loop {
        let msg = match recv_server_message(&mut reader).await {
            Ok(Incoming::Message(m)) => m,
            Ok(Incoming::Skipped(why)) => {
                tracing::warn!("language server: {why}");
                state.lock().unwrap().skipped.push(why);
                continue;
            }
            Ok(Incoming::Eof) => break "the server closed its output".to_string(),
            Err(e) => break format!("reading from the server failed: {e}"),
        };
        let method = msg.get("method").and_then(Value::as_str).map(str::to_string);
        let id = msg.get("id").cloned();
        match (method, id) {
            (None, Some(id)) => {
                let Some(id) = id.as_i64() else {
                    state.lock().unwrap().skipped.push(format!("response with a non-numeric id {id}"));
                    continue;
                };
                let Some((method, tx)) = pending.lock().unwrap().remove(&id) else {
                    // An answer to a request we cancelled or never sent: log, never panic.
                    tracing::warn!("language server answered unknown request id {id}");
                    state.lock().unwrap().skipped.push(format!("response to unknown id {id}"));
                    continue;
                };
                let reply = match msg.get("error") {
                    Some(err) => {
                        Err(BridgeError::Server { method, code: err.get("code").and_then(Value::as_i64).unwrap_or(0), message: err.get("message").and_then(Value::as_str).unwrap_or("").to_string() })
                    }
                    None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = tx.send(reply);
            }
            (Some(method), Some(id)) => {
                let _ = outgoing.send(answer_server_request(&method, id, msg.get("params")));
            }
            (Some(method), None) => on_notification(&method, msg.get("params").cloned().unwrap_or(Value::Null), &state),
            (None, None) => state.lock().unwrap().skipped.push(format!("message with neither id nor method: {msg}")),
        }
    };
    // Say the stream is gone *before* failing what waits, so a woken requester that retries
    // sees a dead client rather than queueing on it.
    let _ = exit_tx.send(Some(reason.clone()));
    let waiting: Vec<_> = pending.lock().unwrap().drain().collect();
    for (_, (_, tx)) in waiting {
        let _ = tx.send(Err(BridgeError::StreamClosed(reason.clone())));
    }
}

/// Requests the server sends us. We answer what servers need to make progress; anything else
/// gets "method not found", which servers handle.
fn answer_server_request(method: &str, id: Value, params: Option<&Value>) -> Value {
    let result = match method {
        "workspace/configuration" => {
            let n = params.and_then(|p| p.get("items")).and_then(Value::as_array).map_or(0, Vec::len);
            Value::Array(vec![Value::Null; n])
        }
        "window/workDoneProgress/create" | "client/registerCapability" | "client/unregisterCapability" => Value::Null,
        "workspace/workspaceFolders" => Value::Null,
        _ => {
            return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("maintaind does not handle {method}")}});
        }
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn on_notification(method: &str, params: Value, state: &Mutex<ServerState>) {
    let mut s = state.lock().unwrap();
    match method {
        "textDocument/publishDiagnostics" => {
            if let (Some(uri), Some(diags)) = (params.get("uri").and_then(Value::as_str), params.get("diagnostics")) {
                let diags: Vec<lsp_types::Diagnostic> = serde_json::from_value(diags.clone()).unwrap_or_default();
                s.diagnostics.insert(uri.to_string(), diags);
            }
        }
        "$/progress" => {
            let token = params.get("token").map(|t| t.to_string()).unwrap_or_default();
            let value = params.get("value").cloned().unwrap_or(Value::Null);
            match value.get("kind").and_then(Value::as_str) {
                Some("begin") => {
                    let title = value.get("title").and_then(Value::as_str).unwrap_or("").to_string();
                    s.progress_seen.push(title.clone());
                    s.active_progress.insert(token, title);
                }
                Some("end") => {
                    s.active_progress.remove(&token);
                }
                _ => {}
            }
        }
        "$/typescriptVersion" => {
            s.typescript_version = params.get("version").and_then(Value::as_str).map(str::to_string);
        }
        "window/logMessage" | "window/showMessage" => {
            tracing::debug!(target: "maintaind::lsp::log", "{}", params.get("message").and_then(serde_json::Value::as_str).unwrap_or(""));
        }
        _ => {}
    }
}

fn initialize_params(root: &Path, init_options: Option<Value>) -> Value {
    let uri = path_to_uri(root);
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "root".into());
    json!({
        "processId": std::process::id(),
        "clientInfo": {"name": "maintaind", "version": env!("CARGO_PKG_VERSION")},
        "rootUri": uri,
        "rootPath": root.display().to_string(),
        "workspaceFolders": [{"uri": uri, "name": name}],
        "initializationOptions": init_options.unwrap_or(Value::Null),
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "window": {"workDoneProgress": true},
            "workspace": {
                "configuration": true,
                "workspaceFolders": true,
                "didChangeWatchedFiles": {"dynamicRegistration": false}
            },
            "textDocument": {
                "synchronization": {"didSave": true, "dynamicRegistration": false},
                "references": {"dynamicRegistration": false},
                "callHierarchy": {"dynamicRegistration": false},
                "publishDiagnostics": {"relatedInformation": false},
                "diagnostic": {"dynamicRegistration": false}
            }
        }
    })
}

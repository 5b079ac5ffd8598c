//! The supervisor: one [`Client`] at a time for one workspace, restarted when it crashes.
//!
//! It remembers the documents it opened and replays them into a restarted server. Restarts
//! back off (250 ms, 500 ms, 1 s, …) and stop after five crashes within three minutes, as
//! editors do; then the state is `Failed` and every request says why. Stopping on purpose is a
//! different state (`Stopped`) from crashing.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::client::{Client, Launch};
use crate::error::BridgeError;
use crate::uri::path_to_uri;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum BridgeState {
    Running,
    /// Restarted after a crash (the count so far); projects must be re-probed.
    Restarted(usize),
    Failed(String),
    Stopped,
}

#[derive(Debug, Clone)]
pub struct RestartPolicy {
    pub max_crashes: usize,
    pub window: Duration,
    pub first_backoff: Duration,
    /// Timeout of `initialize` (project loading happens after it).
    pub init_timeout: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy { max_crashes: 5, window: Duration::from_secs(180), first_backoff: Duration::from_millis(250), init_timeout: Duration::from_secs(60) }
    }
}

struct Doc {
    version: i32,
    text: String,
    language_id: String,
    /// Queries holding the document open ([`Bridge::lease`]); `None` for a document opened for
    /// good ([`Bridge::open`]: a project's anchor, an overlay), which no query closes.
    leases: Option<usize>,
}

pub struct Bridge {
    launch: Launch,
    root: PathBuf,
    policy: RestartPolicy,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
    docs: Mutex<HashMap<String, Doc>>,
    crashes: Mutex<VecDeque<Instant>>,
    state: Mutex<BridgeState>,
    restarts: Mutex<usize>,
}

impl Bridge {
    /// Start the server now (not at first use).
    pub async fn start(launch: Launch, root: &Path, policy: RestartPolicy) -> Result<Bridge, BridgeError> {
        let client = Client::spawn(&launch, root, policy.init_timeout).await?;
        Ok(Bridge {
            launch,
            root: root.to_path_buf(),
            policy,
            client: tokio::sync::Mutex::new(Some(Arc::new(client))),
            docs: Mutex::default(),
            crashes: Mutex::default(),
            state: Mutex::new(BridgeState::Running),
            restarts: Mutex::new(0),
        })
    }

    pub fn state(&self) -> BridgeState {
        self.state.lock().unwrap().clone()
    }

    /// How many times the server was restarted after a crash.
    pub fn restarts(&self) -> usize {
        *self.restarts.lock().unwrap()
    }

    /// The live client, restarting a crashed server first (with backoff and the crash budget).
    pub async fn client(&self) -> Result<Arc<Client>, BridgeError> {
        let mut slot = self.client.lock().await;
        match &*self.state.lock().unwrap() {
            BridgeState::Stopped => return Err(BridgeError::Stopped),
            BridgeState::Failed(why) => return Err(BridgeError::StreamClosed(why.clone())),
            _ => {}
        }
        if let Some(c) = &*slot
            && c.exit_reason().is_none()
        {
            return Ok(c.clone());
        }
        // The server is gone: count the crash, then restart unless the budget is spent.
        let crashes = {
            let mut crashes = self.crashes.lock().unwrap();
            let now = Instant::now();
            crashes.push_back(now);
            while crashes.front().is_some_and(|t| now.duration_since(*t) > self.policy.window) {
                crashes.pop_front();
            }
            crashes.len()
        };
        if crashes >= self.policy.max_crashes {
            let err = BridgeError::GaveUp { crashes, window: self.policy.window };
            *self.state.lock().unwrap() = BridgeState::Failed(err.to_string());
            *slot = None;
            return Err(err);
        }
        let backoff = self.policy.first_backoff * 2u32.pow((crashes as u32).saturating_sub(1));
        tracing::warn!("language server exited; restarting in {backoff:?} (crash {crashes} of {})", self.policy.max_crashes);
        // Backoff before a restart is the point here (a crash loop must not spin), not a wait
        // for some condition.
        tokio::time::sleep(backoff).await;
        let client = Arc::new(Client::spawn(&self.launch, &self.root, self.policy.init_timeout).await?);
        // Replay what the old server had open.
        for (uri, doc) in self.docs.lock().unwrap().iter() {
            client.notify_raw("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": doc.language_id, "version": doc.version, "text": doc.text}}))?;
        }
        *slot = Some(client.clone());
        let mut restarts = self.restarts.lock().unwrap();
        *restarts += 1;
        *self.state.lock().unwrap() = BridgeState::Restarted(*restarts);
        Ok(client)
    }

    /// A typed request (`lsp_types::request::*`); if the server dies under it, restart and ask
    /// once more. An answer that does not fit the type is `BadResponse`.
    pub async fn request<R: lsp_types::request::Request>(&self, params: R::Params, timeout: Duration) -> Result<R::Result, BridgeError> {
        let mut params = serde_json::to_value(params).expect("LSP params serialise");
        // lsp-types writes an unset optional field as `null`; the spec's optional fields are
        // omitted instead, and TypeScript 7's server refuses `null` there.
        omit_nulls(&mut params);
        let value = self.request_raw(R::METHOD, params, timeout).await?;
        serde_json::from_value(value).map_err(|e| BridgeError::BadResponse { method: R::METHOD.into(), detail: e.to_string() })
    }

    /// A request by method name, for what lsp-types does not describe; if the server dies under
    /// it, restart and ask once more.
    pub async fn request_raw(&self, method: &str, params: Value, timeout: Duration) -> Result<Value, BridgeError> {
        let client = self.client().await?;
        match client.request_raw(method, params.clone(), timeout).await {
            Err(e) if e.is_disconnect() => {
                let client = self.client().await?;
                client.request_raw(method, params, timeout).await
            }
            other => other,
        }
    }

    /// Open a document (and remember it for replay after a restart).
    pub async fn open(&self, path: &Path, text: String) -> Result<(), BridgeError> {
        let uri = path_to_uri(path);
        let language_id = language_id(path).to_string();
        let client = self.client().await?;
        let known = match self.docs.lock().unwrap().get_mut(&uri) {
            Some(doc) => {
                doc.leases = None;
                true
            }
            None => false,
        };
        if known {
            return self.changed(path, Some(text), false).await;
        }
        client.notify_raw("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": language_id, "version": 1, "text": text}}))?;
        self.docs.lock().unwrap().insert(uri, Doc { version: 1, text, language_id, leases: None });
        Ok(())
    }

    /// Hold `path` open for one query: opened from `text` unless it is open already. Pair with
    /// [`Bridge::release`]; the document is closed when its last lease ends, unless it was
    /// opened for good meanwhile. A document left open costs the server memory and keeps its
    /// project loaded (TypeScript 7 drops a project only when no open file needs it).
    pub async fn lease(&self, path: &Path, text: impl FnOnce() -> Option<String>) -> Result<(), BridgeError> {
        let uri = path_to_uri(path);
        let client = self.client().await?;
        let mut docs = self.docs.lock().unwrap();
        if let Some(doc) = docs.get_mut(&uri) {
            if let Some(n) = &mut doc.leases {
                *n += 1;
            }
            return Ok(());
        }
        let Some(text) = text() else { return Ok(()) };
        let language_id = language_id(path).to_string();
        // Sent under the lock, so a release racing this lease cannot close it in between.
        client.notify_raw("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": language_id, "version": 1, "text": text}}))?;
        docs.insert(uri, Doc { version: 1, text, language_id, leases: Some(1) });
        Ok(())
    }

    /// End a [`Bridge::lease`]: the last one closes the document.
    pub async fn release(&self, path: &Path) {
        let uri = path_to_uri(path);
        let Ok(client) = self.client().await else { return };
        let mut docs = self.docs.lock().unwrap();
        let Some(doc) = docs.get_mut(&uri) else { return };
        let Some(n) = &mut doc.leases else { return };
        *n = n.saturating_sub(1);
        if *n == 0 {
            docs.remove(&uri);
            let _ = client.notify_raw("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
        }
    }

    /// Close `path` whatever holds it: the server reads it from the disk again.
    pub async fn close(&self, path: &Path) -> Result<(), BridgeError> {
        let uri = path_to_uri(path);
        let client = self.client().await?;
        if self.docs.lock().unwrap().remove(&uri).is_some() {
            client.notify_raw("textDocument/didClose", json!({"textDocument": {"uri": uri}}))?;
        }
        Ok(())
    }

    /// How many documents the server has open (`daemon status`, tests).
    pub fn open_documents(&self) -> usize {
        self.docs.lock().unwrap().len()
    }

    /// The text the server has for an open document.
    pub fn text_of(&self, path: &Path) -> Option<String> {
        self.docs.lock().unwrap().get(&path_to_uri(path)).map(|d| d.text.clone())
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.docs.lock().unwrap().contains_key(&path_to_uri(path))
    }

    /// A file changed on disk outside any editor: tell the server (watched-files: created,
    /// changed or deleted), and re-sync it if it is open. `text` is the new content, `None`
    /// when the file was deleted.
    pub async fn changed(&self, path: &Path, text: Option<String>, created: bool) -> Result<(), BridgeError> {
        let uri = path_to_uri(path);
        let client = self.client().await?;
        let change_type = match (&text, created) {
            (None, _) => 3,
            (Some(_), true) => 1,
            (Some(_), false) => 2,
        };
        let resync = {
            let mut docs = self.docs.lock().unwrap();
            match (docs.get_mut(&uri), &text) {
                (Some(doc), Some(new)) if doc.text != *new => {
                    doc.version += 1;
                    doc.text = new.clone();
                    Some(json!({"textDocument": {"uri": uri, "version": doc.version}, "contentChanges": [{"text": new}]}))
                }
                (Some(_), None) => {
                    docs.remove(&uri);
                    client.notify_raw("textDocument/didClose", json!({"textDocument": {"uri": uri}}))?;
                    None
                }
                _ => None,
            }
        };
        if let Some(params) = resync {
            client.notify_raw("textDocument/didChange", params)?;
        }
        client.notify_raw("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri, "type": change_type}]}))
    }

    /// Shut the server down on purpose.
    pub async fn stop(&self) {
        let client = self.client.lock().await.take();
        *self.state.lock().unwrap() = BridgeState::Stopped;
        if let Some(c) = client {
            match Arc::try_unwrap(c) {
                // Short: a stop must return within a second (`daemon stop`); the server keeps no state
                // worth waiting for, and `shutdown` kills it when the grace runs out.
                Ok(c) => c.shutdown(Duration::from_millis(400)).await,
                Err(c) => drop(c),
            }
        }
    }
}

fn language_id(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("tsx") => "typescriptreact",
        Some("js" | "mjs" | "cjs") => "javascript",
        _ => "typescript",
    }
}

/// Remove every `null` member of every object in `value` (not `null` array elements).
fn omit_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(omit_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(omit_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_optional_fields_are_omitted_not_null() {
        let params = lsp_types::DocumentDiagnosticParams {
            text_document: lsp_types::TextDocumentIdentifier { uri: "file:///a.ts".parse().unwrap() },
            identifier: None,
            previous_result_id: None,
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        let mut value = serde_json::to_value(params).unwrap();
        assert!(value.to_string().contains("null"), "lsp-types writes null: {value}");
        omit_nulls(&mut value);
        assert_eq!(value, serde_json::json!({"textDocument": {"uri": "file:///a.ts"}}));
        let mut v = serde_json::json!({"a": [null, {"b": null, "c": 1}]});
        omit_nulls(&mut v);
        assert_eq!(v, serde_json::json!({"a": [null, {"c": 1}]}));
    }
}

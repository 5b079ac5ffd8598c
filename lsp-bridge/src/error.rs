//! The bridge's typed errors. Every one says what happened in words a user can act on.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    #[error("the language server did not answer `{method}` within {timeout:?}")]
    Timeout { method: String, timeout: std::time::Duration },
    #[error("the language server's stream closed: {0}")]
    StreamClosed(String),
    #[error("the language server answered `{method}` with error {code}: {message}")]
    Server { method: String, code: i64, message: String },
    #[error("the language server's answer to `{method}` does not parse: {detail}")]
    BadResponse { method: String, detail: String },
    #[error("cannot start the language server: {0}")]
    Spawn(String),
    /// No server found and installing is not allowed; the message has the command to run.
    #[error("{0}")]
    NotInstalled(String),
    #[error("installing the language server failed: {0}")]
    Install(String),
    #[error("the language server crashed {crashes} times within {window:?}; gave up (restart maintaind to try again)")]
    GaveUp { crashes: usize, window: std::time::Duration },
    #[error("the language server was stopped")]
    Stopped,
}

impl BridgeError {
    /// Whether the server process is gone (a restart may help), as opposed to a bad answer.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, BridgeError::StreamClosed(_))
    }
}

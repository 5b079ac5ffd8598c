//! maintaind-lsp-bridge: a client for the TypeScript language server that survives.
//!
//! Knows LSP and processes, nothing of the registry. Start at [`Bridge`] (a supervised server:
//! restarts after crashes, replays open documents) and [`server`] (which server, where it is,
//! installing it). [`Client`] is one connection; `transport.rs` is the framing.

pub mod bridge;
pub mod client;
pub mod error;
pub mod server;
pub mod transport;
pub mod uri;

pub use bridge::{Bridge, BridgeState, RestartPolicy};
pub use client::{Client, Launch, ServerState};
pub use error::BridgeError;
pub use server::{Found, Origin, ServerChoice, ServerKind};
pub use uri::{path_to_uri, uri_to_path};

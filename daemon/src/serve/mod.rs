//! Serving clients: the protocol and its vocabulary (`rpc.rs`), the background daemon
//! (`daemon.rs`) and the editor's language server, `maintaind lsp` (`lsp.rs`).

pub mod daemon;
pub mod lsp;
pub mod rpc;

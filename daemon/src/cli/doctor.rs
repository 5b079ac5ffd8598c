//! `maintaind doctor`: what is installed and how the registry looks, without changing
//! anything (the database is opened read-only and never rebuilt from here).

use std::path::{Path, PathBuf};

use serde::Serialize;

use maintaind_lsp_bridge::{ServerKind, server};

use crate::store::DbInspection;
use crate::workspace::inspect_store;

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub maintaind: String,
    pub root: PathBuf,
    pub tools: Vec<Tool>,
    /// The TypeScript language servers `blast` would launch, per kind.
    pub servers: Vec<ServerReport>,
    /// Where missing servers are installed.
    pub cache_dir: PathBuf,
    pub registry: DbInspection,
    /// The running daemon's status (`None`: none answers for this root).
    pub daemon: Option<crate::rpc::Status>,
}

#[derive(Debug, Serialize)]
pub struct ServerReport {
    pub kind: &'static str,
    pub found: Option<FoundServer>,
    /// How to install it when missing (maintaind does it on first use unless --offline).
    pub install: String,
}

#[derive(Debug, Serialize)]
pub struct FoundServer {
    pub program: PathBuf,
    pub version: String,
    pub origin: maintaind_lsp_bridge::Origin,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: String,
    pub path: Option<PathBuf>,
    pub version: Option<String>,
    /// Where it was looked for, or how to get it.
    pub hint: String,
}

pub fn report(root: &Path) -> DoctorReport {
    let dirs = search_dirs(root);
    let tools =
        [("node", "--version", "install Node.js 20 or newer"), ("npm", "--version", "comes with Node.js"), ("tsc", "--version", "npm install typescript (the project's own, or maintaind's cache)")]
            .into_iter()
            .map(|(name, flag, hint)| {
                let path = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
                let version = path.as_deref().and_then(|p| version_of(p, flag));
                Tool { name: name.into(), path, version, hint: hint.into() }
            })
            .collect();
    let cache_dir = server::cache_dir();
    let servers = [ServerKind::Native, ServerKind::Tsls]
        .into_iter()
        .map(|kind| ServerReport {
            kind: kind.as_str(),
            found: server::discover(kind, root, &cache_dir).map(|f| FoundServer { program: f.launch.program, version: f.version, origin: f.origin }),
            install: server::install_command(kind, &cache_dir),
        })
        .collect();
    DoctorReport { maintaind: env!("CARGO_PKG_VERSION").into(), root: root.to_path_buf(), tools, servers, cache_dir, registry: inspect_store(root), daemon: daemon_status(root) }
}

/// Ask a running daemon for its status (read-only; never starts one).
fn daemon_status(root: &Path) -> Option<crate::rpc::Status> {
    let mut client = crate::rpc::Client::connect(root).ok()??;
    client.request::<crate::rpc::method::Status>(&crate::rpc::StatusParams::default()).ok()
}

/// The project's `node_modules/.bin`, maintaind's cache, then `PATH`.
fn search_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("node_modules/.bin")];
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(cache) = cache {
        dirs.push(cache.join("maintaind/node/node_modules/.bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs
}

/// `tool --version`, first line, waiting at most five seconds.
fn version_of(path: &Path, flag: &str) -> Option<String> {
    maintaind_lsp_bridge::server::probe_version(path, flag, maintaind_lsp_bridge::server::PROBE_TIMEOUT)
}

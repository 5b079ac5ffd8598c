//! Which TypeScript language server to run, where to find it, and installing it.
//!
//! Two kinds: `tsls` (typescript-language-server 5.x, which runs on node 20, driving tsserver
//! from `typescript` 5.9) and `native` (TypeScript 7's `tsc --lsp --stdio`; TypeScript 7 ships
//! no tsserver). Discovery order: the project's `node_modules/.bin`, then `PATH`, then
//! maintaind's cache dir, where a missing server is installed at pinned versions with npm on
//! first use — unless offline, in which case the error names the command to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::Launch;
use crate::error::BridgeError;

/// Pinned versions installed into the cache.
pub const TSLS_VERSION: &str = "5.3.0";
pub const TSLS_TYPESCRIPT_VERSION: &str = "5.9.3";
pub const NATIVE_TYPESCRIPT_VERSION: &str = "7.0.2";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Tsls,
    Native,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Tsls => "tsls",
            ServerKind::Native => "native",
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerChoice {
    /// Native when its capabilities suffice, else tsls.
    Auto,
    Tsls,
    Native,
}

impl ServerChoice {
    /// The spelling `FromStr` reads (`--ts-server`, `maintaind.toml`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerChoice::Auto => "auto",
            ServerChoice::Tsls => "tsls",
            ServerChoice::Native => "native",
        }
    }
}

impl std::str::FromStr for ServerChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ServerChoice::Auto),
            "tsls" => Ok(ServerChoice::Tsls),
            "native" => Ok(ServerChoice::Native),
            other => Err(format!("unknown TypeScript server `{other}` (expected auto, tsls or native)")),
        }
    }
}

/// Where a server was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Project,
    Path,
    Cache,
}

/// A server ready to launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: ServerKind,
    pub launch: Launch,
    pub version: String,
    pub origin: Origin,
}

/// maintaind's cache directory: `$MAINTAIND_CACHE_DIR`, else `$XDG_CACHE_HOME/maintaind`,
/// else `~/.cache/maintaind`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MAINTAIND_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"))).unwrap_or_else(std::env::temp_dir);
    base.join("maintaind")
}

fn install_dir(kind: ServerKind, cache: &Path) -> PathBuf {
    match kind {
        ServerKind::Tsls => cache.join(format!("servers/tsls-{TSLS_VERSION}-ts{TSLS_TYPESCRIPT_VERSION}")),
        ServerKind::Native => cache.join(format!("servers/native-{NATIVE_TYPESCRIPT_VERSION}")),
    }
}

fn packages(kind: ServerKind) -> Vec<String> {
    match kind {
        ServerKind::Tsls => vec![format!("typescript-language-server@{TSLS_VERSION}"), format!("typescript@{TSLS_TYPESCRIPT_VERSION}")],
        ServerKind::Native => vec![format!("typescript@{NATIVE_TYPESCRIPT_VERSION}")],
    }
}

/// The npm command that installs `kind` where maintaind looks for it.
pub fn install_command(kind: ServerKind, cache: &Path) -> String {
    format!("npm install --prefix {} --no-audit --no-fund {}", install_dir(kind, cache).display(), packages(kind).join(" "))
}

/// Find an installed server of `kind` for the project at `root`.
pub fn discover(kind: ServerKind, root: &Path, cache: &Path) -> Option<Found> {
    let bin = match kind {
        ServerKind::Tsls => "typescript-language-server",
        ServerKind::Native => "tsc",
    };
    let mut candidates: Vec<(PathBuf, Origin)> = vec![(root.join("node_modules/.bin").join(bin), Origin::Project)];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| (d.join(bin), Origin::Path)));
    }
    candidates.push((install_dir(kind, cache).join("node_modules/.bin").join(bin), Origin::Cache));
    for (program, origin) in candidates {
        if !program.is_file() {
            continue;
        }
        // The package's own manifest says the version without starting node (~100 ms a probe,
        // twice when the project pins a TypeScript 5); a shim outside any package is asked.
        let Some(version) = package_version(&program, bin).or_else(|| version_of(&program)) else { continue };
        match kind {
            ServerKind::Native if !version.starts_with('7') => continue, // a tsc 5/6: no --lsp
            _ => {}
        }
        // TypeScript 7's `tsc` is a node shim around a platform binary (it only `execve`s it on
        // node >= 22.15; older node keeps a node parent holding the pipes). Run the binary itself.
        let program = if kind == ServerKind::Native { native_binary(&program).unwrap_or(program) } else { program };
        let mut init_options = None;
        if kind == ServerKind::Tsls && origin == Origin::Cache {
            // Point the cached server at the tsserver installed beside it.
            let tsserver = install_dir(kind, cache).join("node_modules/typescript/lib/tsserver.js");
            init_options = Some(json!({"tsserver": {"path": tsserver}}));
        }
        let args = match kind {
            ServerKind::Tsls => vec!["--stdio".to_string()],
            ServerKind::Native => vec!["--lsp".to_string(), "--stdio".to_string()],
        };
        return Some(Found { kind, launch: Launch { program, args, init_options }, version, origin });
    }
    None
}

/// Find `kind`, installing it into the cache when missing and `offline` is false. `say`
/// receives one line per thing done (the user is told before npm runs).
pub fn find_or_install(kind: ServerKind, root: &Path, cache: &Path, offline: bool, say: &dyn Fn(&str)) -> Result<Found, BridgeError> {
    if let Some(found) = discover(kind, root, cache) {
        return Ok(found);
    }
    if offline {
        return Err(BridgeError::NotInstalled(format!(
            "no {} TypeScript language server found (project node_modules, PATH, {}) and --offline forbids installing; run: {}",
            kind.as_str(),
            install_dir(kind, cache).display(),
            install_command(kind, cache)
        )));
    }
    install(kind, cache, say)?;
    discover(kind, root, cache).ok_or_else(|| BridgeError::Install(format!("installed into {} but the server is not there", install_dir(kind, cache).display())))
}

/// Install `kind` into the cache with npm: into a temporary directory, then renamed into place,
/// so a half-finished install is never used. Concurrent installers wait on a lock directory.
pub fn install(kind: ServerKind, cache: &Path, say: &dyn Fn(&str)) -> Result<(), BridgeError> {
    let target = install_dir(kind, cache);
    let parent = target.parent().expect("install dir has a parent");
    std::fs::create_dir_all(parent).map_err(|e| BridgeError::Install(format!("cannot create {}: {e}", parent.display())))?;
    let _lock = InstallLock::acquire(&target.with_extension("lock"))?;
    if target.join("node_modules/.bin").exists() {
        return Ok(()); // another process finished it while we waited
    }
    say(&format!("installing the TypeScript language server ({}) with npm into {}", packages(kind).join(", "), target.display()));
    let staging = target.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| BridgeError::Install(format!("cannot create {}: {e}", staging.display())))?;
    std::fs::write(staging.join("package.json"), "{\"name\":\"maintaind-server\",\"private\":true}\n").map_err(|e| BridgeError::Install(e.to_string()))?;
    let output = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&staging)
        .args(["--no-audit", "--no-fund", "--save-exact", "--loglevel=error"])
        .args(packages(kind))
        .output()
        .map_err(|e| BridgeError::Install(format!("cannot run npm ({e}); install Node.js and npm, or run: {}", install_command(kind, cache))))?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(BridgeError::Install(format!("npm exited with {}: {}", output.status, String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or(""))));
    }
    std::fs::rename(&staging, &target).map_err(|e| BridgeError::Install(format!("cannot move the install into {}: {e}", target.display())))?;
    say(&format!("installed into {}", target.display()));
    Ok(())
}

/// A lock directory (atomic to create); stale after ten minutes.
struct InstallLock(PathBuf);

impl InstallLock {
    fn acquire(path: &Path) -> Result<InstallLock, BridgeError> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return Ok(InstallLock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(path).and_then(|m| m.modified()).map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(600)).unwrap_or(false);
                    if stale {
                        let _ = std::fs::remove_dir(path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(BridgeError::Install(format!("another install holds {} for too long", path.display())));
                    }
                    // Waiting for another process's npm install; polling a lock directory is the
                    // portable way to wait on it.
                    std::thread::park_timeout(Duration::from_millis(200));
                }
                Err(e) => return Err(BridgeError::Install(format!("cannot create {}: {e}", path.display()))),
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The platform executable behind a TypeScript 7 `tsc` shim, if it is installed beside it.
fn native_binary(shim: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(shim).ok()?; // node_modules/typescript/bin/tsc
    let package = real.parent()?.parent()?; // node_modules/typescript
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let platform = format!("@typescript/typescript-{}-{arch}", std::env::consts::OS);
    [package.join("node_modules").join(&platform), package.parent()?.join(&platform)].into_iter().map(|dir| dir.join("lib/tsc")).find(|exe| exe.is_file())
}

/// How long a version probe may take: a binary that never exits must not hang a request.
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The version in the `package.json` of the npm package a `node_modules/.bin` shim belongs to
/// (`typescript` for `tsc`, `typescript-language-server` for itself).
fn package_version(shim: &Path, bin: &str) -> Option<String> {
    let package = if bin == "tsc" { "typescript" } else { bin };
    let real = std::fs::canonicalize(shim).ok()?;
    let dir = real.ancestors().skip(1).find(|d| d.file_name().is_some_and(|n| n == package))?;
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("package.json")).ok()?).ok()?;
    (manifest.get("name")?.as_str()? == package).then_some(())?;
    manifest.get("version")?.as_str().map(str::to_string)
}

/// `program --version`, first line without a leading "Version ".
fn version_of(program: &Path) -> Option<String> {
    probe_version(program, "--version", PROBE_TIMEOUT)
}

/// `program FLAG`'s first line (without a leading "Version "), or `None` when it fails or
/// does not exit within `timeout` (it is killed then).
pub fn probe_version(program: &Path, flag: &str, timeout: std::time::Duration) -> Option<String> {
    use std::process::Stdio;
    let mut child = Command::new(program).arg(flag).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
    let deadline = std::time::Instant::now() + timeout;
    // Polling: std has no wait with a timeout, and a probe is a one-off of a few milliseconds.
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => {
                tracing::warn!("{} {flag} did not answer within {}s; not used", program.display(), timeout.as_secs());
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.trim_start_matches("Version ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shims_version_comes_from_its_package_without_running_it() {
        let dir = tempfile::tempdir().unwrap();
        let nm = dir.path().join("node_modules");
        std::fs::create_dir_all(nm.join("typescript/bin")).unwrap();
        std::fs::create_dir_all(nm.join(".bin")).unwrap();
        // Not executable, and not a program: running it would fail.
        std::fs::write(nm.join("typescript/bin/tsc"), "not a program").unwrap();
        std::fs::write(nm.join("typescript/package.json"), r#"{"name": "typescript", "version": "7.0.2"}"#).unwrap();
        std::os::unix::fs::symlink("../typescript/bin/tsc", nm.join(".bin/tsc")).unwrap();
        assert_eq!(package_version(&nm.join(".bin/tsc"), "tsc").as_deref(), Some("7.0.2"));
        // Another package's manifest on the way is not taken for it.
        std::fs::write(nm.join("typescript/package.json"), r#"{"name": "other", "version": "1.0.0"}"#).unwrap();
        assert_eq!(package_version(&nm.join(".bin/tsc"), "tsc"), None);
        // A shim outside any package: no version from a manifest.
        std::fs::write(dir.path().join("tsc"), "").unwrap();
        assert_eq!(package_version(&dir.path().join("tsc"), "tsc"), None);
    }
}

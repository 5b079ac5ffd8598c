//! `maintaind hook install`: run `maintaind check --staged` before every commit.
//!
//! Where it goes: husky's `.husky/pre-commit` when the repository uses husky (husky runs that
//! file with `sh -e`, so one appended line is the expected way in); otherwise the
//! `pre-commit` file in the hooks directory git uses (`core.hooksPath`, else `.git/hooks`).
//! A hook file that is not maintaind's is never replaced: without `--append` the install is
//! refused with the line to add by hand; with it the line is appended.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The marker that makes an install idempotent.
const MARKER: &str = "# maintaind: pre-commit blast-radius check";

#[derive(Debug, Serialize)]
pub struct Installed {
    pub path: PathBuf,
    /// `created`, `appended` or `already installed`.
    pub action: &'static str,
    pub via: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{0}")]
    Environment(String),
    #[error("{path} already exists and is not maintaind's; nothing changed. Add this line to it yourself:\n  {line}\nor run `maintaind hook install --append` to append it")]
    Foreign { path: String, line: String },
}

impl HookError {
    pub fn code(&self) -> i32 {
        match self {
            HookError::Environment(_) => crate::exit::EXIT_ENV,
            HookError::Foreign { .. } => crate::exit::EXIT_USAGE,
        }
    }
}

fn git(root: &Path, args: &[&str]) -> Result<String, HookError> {
    let out = crate::check::git(root, args).map_err(HookError::Environment)?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// Install the hook for the project at `root`.
pub fn install(root: &Path, append: bool) -> Result<Installed, HookError> {
    let top = git(root, &["rev-parse", "--show-toplevel"]).map_err(|_| HookError::Environment(format!("{} is not in a git repository; there is no commit to check", root.display())))?;
    let top = PathBuf::from(top);
    // The project may be a subdirectory of the repository.
    let rel_root = root.strip_prefix(&top).ok().filter(|r| !r.as_os_str().is_empty()).map(|r| r.to_string_lossy().into_owned());
    let root_arg = rel_root.as_deref().map(|r| format!(" --root \"$(git rev-parse --show-toplevel)/{r}\"")).unwrap_or_default();

    let husky = top.join(".husky");
    if husky.is_dir() {
        // Shared with the team through the repository: `maintaind` from PATH.
        let line = format!("maintaind{root_arg} check --staged");
        return add(&husky.join("pre-commit"), &line, true, "husky");
    }
    let hooks_path = git(root, &["config", "--get", "core.hooksPath"]).ok().filter(|p| !p.is_empty());
    let (dir, via) = match hooks_path {
        Some(p) => (if Path::new(&p).is_absolute() { PathBuf::from(p) } else { top.join(p) }, "core.hooksPath"),
        None => (PathBuf::from(git(root, &["rev-parse", "--path-format=absolute", "--git-path", "hooks"])?), ".git/hooks"),
    };
    // Local to this clone: the binary that installed it, so the hook works without PATH.
    let exe = std::env::current_exe().map_err(|e| HookError::Environment(format!("cannot find the maintaind binary: {e}")))?;
    let line = format!("\"{}\"{root_arg} check --staged || exit 1", exe.display());
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| HookError::Environment(format!("cannot create {}: {e}", dir.display())))?;
        // The repository's directory gets the user's umask, not maintaind's private 077.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777 & !crate::state::user_umask()));
    }
    add(&dir.join("pre-commit"), &line, append, via)
}

fn add(path: &Path, line: &str, append: bool, via: &'static str) -> Result<Installed, HookError> {
    let block = format!("{MARKER}\n{line}\n");
    let io = |e: std::io::Error| HookError::Environment(format!("cannot write {}: {e}", path.display()));
    let action = match std::fs::read_to_string(path) {
        Ok(existing) if existing.contains(MARKER) => "already installed",
        Ok(existing) => {
            if !append {
                return Err(HookError::Foreign { path: path.display().to_string(), line: line.to_string() });
            }
            let sep = if existing.ends_with('\n') || existing.is_empty() { "" } else { "\n" };
            std::fs::write(path, format!("{existing}{sep}{block}")).map_err(io)?;
            "appended"
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(path, format!("#!/bin/sh\n{block}")).map_err(io)?;
            "created"
        }
        Err(e) => return Err(io(e)),
    };
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o755)).map_err(io)?;
    Ok(Installed { path: path.to_path_buf(), action, via })
}

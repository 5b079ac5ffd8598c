//! maintaind's own files: private to the user who runs it, whatever the umask.
//!
//! - Every maintaind process runs with umask `077` ([`private_process`]), so everything it
//!   creates (the journal's copies of your files, `registry.db`, the logs, the locks, the
//!   socket) is `0600`/`0700` from the first byte. Files it writes *into the project* for you
//!   get the mode your umask would have given ([`project_file_mode`]). (maintaind runs `git`
//!   for reading only; nothing git writes inherits the narrower mask.)
//! - `.maintaind/` is `0700` and must belong to you: a state directory another user created
//!   (a group-writable checkout) is refused, never used: its locks, socket and journal would
//!   be theirs to replace.
//! - The daemon's claim on a root lives outside the project ([`claims_dir`]), in a directory
//!   only you can enter: `git clean -fdX` cannot remove it, and no other user can take it.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Result, bail};

static USER_UMASK: OnceLock<u32> = OnceLock::new();

/// The per-project state directory, `<root>/.maintaind`.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(".maintaind")
}

/// The umask the user started maintaind with (read once, before [`private_process`]).
pub fn user_umask() -> u32 {
    *USER_UMASK.get_or_init(|| {
        // SAFETY: umask only swaps the process's file-creation mask; the old one is put back.
        let old = unsafe { libc::umask(0o077) };
        unsafe { libc::umask(old) };
        old as u32
    })
}

/// Make everything this process creates private (umask `077`), remembering the user's umask
/// for the project files written on their behalf.
pub fn private_process() {
    let _ = user_umask();
    // SAFETY: as above.
    unsafe { libc::umask(0o077) };
}

/// The mode a new project file gets: what the user's umask gives a plain file.
pub fn project_file_mode() -> u32 {
    0o666 & !user_umask()
}

/// Create `dir` (mode `0700`) or check an existing one: it must be a real directory owned by
/// this user; a mode open to others is narrowed to `0700`.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return ensure_private_dir(dir),
                Err(e) => bail!("cannot create {}: {e}", dir.display()),
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", dir.display()))?;
            Ok(())
        }
        Err(e) => bail!("cannot inspect {}: {e}", dir.display()),
        Ok(meta) => {
            if meta.file_type().is_symlink() || !meta.is_dir() {
                bail!("{} is not a directory (a symbolic link or a file); maintaind keeps its state only in a real directory: remove it and retry", dir.display());
            }
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            if meta.uid() != me {
                bail!(
                    "{} belongs to uid {}, not to you (uid {me}); its locks, socket and journal could be another user's. Remove it (or have its owner remove it) and retry",
                    dir.display(),
                    meta.uid()
                );
            }
            if meta.mode() & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", dir.display()))?;
            }
            Ok(())
        }
    }
}

/// Where daemons record their claim on a root: `$XDG_RUNTIME_DIR/maintaind` when set, else
/// `<cache dir>/claims` (both private to the user).
pub fn claims_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty() && std::env::var_os("MAINTAIND_CACHE_DIR").is_none()) {
        Some(d) => PathBuf::from(d).join("maintaind"),
        None => maintaind_lsp_bridge::server::cache_dir().join("claims"),
    }
}

/// The claim file of `root` (canonical): one per root path.
pub fn claim_path(root: &Path) -> PathBuf {
    let key = blake3::hash(root.as_os_str().as_encoded_bytes()).to_hex();
    claims_dir().join(format!("{}.lock", &key[..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_created_narrowed_and_checked() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/.maintaind");
        ensure_private_dir(&d).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, 0o700);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&d).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, 0o700, "an open mode is narrowed");
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(ensure_private_dir(&link).unwrap_err().to_string().contains("not a directory"));
        // Another user's directory (only root can make one to test with).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
            assert!(ensure_private_dir(&d).unwrap_err().to_string().contains("belongs to uid 65534"));
        }
    }
}

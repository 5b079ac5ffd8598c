//! Every write under the project root, and every read the writer validates against, goes
//! through a handle on the root directory (cap-std: `openat`-style resolution that refuses
//! to leave the directory, whatever a symbolic link or `..` says) instead of a path string.
//!
//! The rules (docs/SECURITY.md):
//! - the final component is opened with `O_NOFOLLOW`: a symbolic link there is refused, never
//!   written through; so is anything that is not a regular file (a FIFO, a device) and a file
//!   with more than one hard link (writing it in place would change the other name too);
//! - a directory component that is a link out of the root fails inside the kernel's
//!   resolution, at the moment of the write, so swapping a directory for a link between
//!   validation and write cannot redirect it;
//! - new content goes to a temporary file with an unpredictable name created exclusively
//!   (`O_CREAT|O_EXCL`, which never follows a link) beside the target, and is renamed over it;
//! - compare-and-swap: the target is opened and compared with the content validated just
//!   before the rename; the same descriptor is read again after it, so a write that landed in
//!   the old file in between is noticed and put back, and the write fails as `Changed`.
//!   A new file is linked into place, which fails if a file appeared meanwhile.

use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, File, MetadataExt, OpenOptions, OpenOptionsExt};

/// Why a write did not happen (nothing of it is on disk).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file is not what was validated: someone else changed it meanwhile.
    #[error("{path} changed while maintaind was writing it (someone else wrote it meanwhile); their content is kept")]
    Changed { path: String },
    /// The target is something maintaind never writes (a link, a FIFO, a hard-linked file).
    #[error("{path}: {reason}")]
    Refused { path: String, reason: String },
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// What the target must be just before it is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Absent (a new file).
    Absent,
    /// Present with content hashing to this ([`hash_text`] of the lossy text).
    Hash(String),
}

impl Expect {
    pub fn of(hash: Option<&str>) -> Expect {
        hash.map_or(Expect::Absent, |h| Expect::Hash(h.to_string()))
    }
}

/// The project root, opened once; every path is root-relative and `/`-separated.
pub struct RootDir {
    dir: Dir,
    root: PathBuf,
}

/// The hash of a text as maintaind records it: xxh3-64 of its bytes, hex (journal entries, the
/// `expect_hash` of `replace_range` over lines with their line ends, `maintaind hash`).
pub fn hash_text(text: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// The hash [`Expect::Hash`] compares (the journal's).
pub fn content_hash(bytes: &[u8]) -> String {
    hash_text(&String::from_utf8_lossy(bytes))
}

impl RootDir {
    pub fn open(root: &Path) -> std::io::Result<RootDir> {
        Ok(RootDir { dir: Dir::open_ambient_dir(root, cap_std::ambient_authority())?, root: root.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The directory holding `rel` and the file's name, resolved inside the root.
    fn parent(&self, rel: &str) -> Result<(Dir, String), WriteError> {
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, rel),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(refused(rel, "not a file name"));
        }
        let dir = match parent {
            None => self.dir.try_clone(),
            Some(p) => self.dir.open_dir(p),
        }
        .map_err(|e| io_error(rel, e))?;
        Ok((dir, name.to_string()))
    }

    /// The current content of `rel` (`None`: absent), read the way the writer reads it: no
    /// link followed, a regular file with one link only, never blocking on a FIFO.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, WriteError> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(WriteError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match open_existing(&dir, &name, rel)? {
            None => Ok(None),
            Some(mut f) => Ok(Some(read_all(&mut f, rel)?)),
        }
    }

    /// Judge `rel` as the writer will, without writing: `Err` names why it would be refused.
    pub fn check_writable(&self, rel: &str) -> Result<(), WriteError> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            // A directory not there yet is created by the writer, inside the root.
            Err(WriteError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        open_existing(&dir, &name, rel).map(|_| ())
    }

    /// Create the directories above `rel` that are missing (inside the root only).
    /// Each directory created gets the mode the user's umask gives a directory (maintaind itself
    /// runs with umask 077, which must not leak into the project).
    pub fn create_parents(&self, rel: &str) -> Result<(), WriteError> {
        use cap_std::fs::PermissionsExt as _;
        let Some((parent, _)) = rel.rsplit_once('/') else { return Ok(()) };
        let mut path = String::new();
        for part in parent.split('/') {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
            match self.dir.create_dir(&path) {
                Ok(()) => {
                    let mode = 0o777 & !crate::state::user_umask();
                    self.dir.set_permissions(&path, cap_std::fs::Permissions::from_mode(mode)).map_err(|e| io_error(rel, e))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(rel, e)),
            }
        }
        Ok(())
    }

    /// Replace `rel` with `bytes` if it is what `expect` says (compare-and-swap, see the
    /// module header). Keeps the permissions of the file it replaces.
    pub fn replace(&self, rel: &str, bytes: &[u8], expect: &Expect) -> Result<(), WriteError> {
        let (dir, name) = self.parent(rel)?;
        let mut current = open_existing(&dir, &name, rel)?;
        let seen = match (&mut current, expect) {
            (None, Expect::Absent) => None,
            (Some(f), Expect::Hash(h)) => {
                let seen = read_all(f, rel)?;
                if &content_hash(&seen) != h {
                    return Err(WriteError::Changed { path: rel.to_string() });
                }
                Some(seen)
            }
            _ => return Err(WriteError::Changed { path: rel.to_string() }),
        };
        let (tmp_name, mut tmp) = create_temp(&dir, &name, rel)?;
        if current.is_none() {
            // A new file gets what the user's umask gives (maintaind itself runs with 077).
            use cap_std::fs::PermissionsExt as _;
            let _ = tmp.set_permissions(cap_std::fs::Permissions::from_mode(crate::state::project_file_mode()));
        }
        let cleanup = |e: WriteError| {
            let _ = dir.remove_file(&tmp_name);
            e
        };
        tmp.write_all(bytes).and_then(|()| tmp.sync_all()).map_err(|e| cleanup(io_error(rel, e)))?;
        if let Some(f) = &current {
            let perms = f.metadata().map_err(|e| cleanup(io_error(rel, e)))?.permissions();
            tmp.set_permissions(perms).map_err(|e| cleanup(io_error(rel, e)))?;
        }
        match (&mut current, &seen) {
            (Some(f), Some(seen)) => {
                // The last look before the swap: the same file, still the same bytes.
                if !still(f, seen) || !same_entry(&dir, &name, f) {
                    return Err(cleanup(WriteError::Changed { path: rel.to_string() }));
                }
                dir.rename(&tmp_name, &dir, &name).map_err(|e| cleanup(io_error(rel, e)))?;
                sync(&dir);
                // A write into the old file between that look and now would be lost with it:
                // put it back and fail. (Looking after the directory's fsync leaves only a
                // writer that opened before the rename and writes after this look.)
                if !still(f, seen) {
                    let mut theirs = Vec::new();
                    let _ = f.rewind().and_then(|()| f.read_to_end(&mut theirs));
                    let _ = self.replace(rel, &theirs, &Expect::Hash(content_hash(bytes)));
                    return Err(WriteError::Changed { path: rel.to_string() });
                }
            }
            _ => {
                // A hard link fails if a file appeared meanwhile: never clobber it.
                let linked = dir.hard_link(&tmp_name, &dir, &name);
                let _ = dir.remove_file(&tmp_name);
                match linked {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(WriteError::Changed { path: rel.to_string() }),
                    Err(e) => return Err(io_error(rel, e)),
                }
                sync(&dir);
            }
        }
        Ok(())
    }

    /// Delete `rel` if its content hashes to `expect` (absent already: done).
    pub fn remove(&self, rel: &str, expect: &str) -> Result<(), WriteError> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(WriteError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(mut f) = open_existing(&dir, &name, rel)? else { return Ok(()) };
        let seen = read_all(&mut f, rel)?;
        if content_hash(&seen) != expect || !same_entry(&dir, &name, &f) {
            return Err(WriteError::Changed { path: rel.to_string() });
        }
        dir.remove_file(&name).map_err(|e| io_error(rel, e))?;
        sync(&dir);
        Ok(())
    }

    /// Remove the empty directory `rel` (a rollback undoing what it created); anything else
    /// is left alone.
    pub fn remove_empty_dir(&self, rel: &str) {
        let _ = self.dir.remove_dir(rel);
    }

    /// Remove temporary files an interrupted write left beside `rel`.
    pub fn remove_stray_temps(&self, rel: &str) {
        let Ok((dir, name)) = self.parent(rel) else { return };
        let prefix = format!(".{name}.maintaind-");
        let Ok(entries) = dir.entries() else { return };
        for e in entries.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if n.starts_with(&prefix) && n.ends_with(".tmp") {
                let _ = dir.remove_file(&*n);
            }
        }
    }
}

fn refused(rel: &str, reason: &str) -> WriteError {
    WriteError::Refused { path: rel.to_string(), reason: reason.to_string() }
}

fn io_error(rel: &str, error: std::io::Error) -> WriteError {
    WriteError::Io { path: rel.to_string(), error }
}

/// Open `name` in `dir` for reading without following a link; `None` when absent.
fn open_existing(dir: &Dir, name: &str, rel: &str) -> Result<Option<File>, WriteError> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    let file = match dir.open_with(name, &options) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is "not found" to open but is still a link.
            if dir.symlink_metadata(name).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(refused(rel, "is a symbolic link; maintaind never writes through a link (it could lead outside the root)"));
            }
            return Ok(None);
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) || dir.symlink_metadata(name).is_ok_and(|m| m.file_type().is_symlink()) => {
            return Err(refused(rel, "is a symbolic link; maintaind never writes through a link (it could lead outside the root)"));
        }
        Err(e) => return Err(io_error(rel, e)),
    };
    let meta = file.metadata().map_err(|e| io_error(rel, e))?;
    if !meta.is_file() {
        return Err(refused(rel, "is not a regular file (a directory, FIFO, socket or device); maintaind writes regular files only"));
    }
    if meta.nlink() > 1 {
        return Err(refused(rel, &format!("has {} hard links; writing it would change the other names too (possibly outside the root)", meta.nlink())));
    }
    Ok(Some(file))
}

fn read_all(f: &mut File, rel: &str) -> Result<Vec<u8>, WriteError> {
    let mut bytes = Vec::new();
    f.rewind().and_then(|()| f.read_to_end(&mut bytes)).map_err(|e| io_error(rel, e))?;
    Ok(bytes)
}

/// Whether the open file still holds `seen`.
fn still(f: &mut File, seen: &[u8]) -> bool {
    let mut now = Vec::with_capacity(seen.len());
    f.rewind().and_then(|()| f.read_to_end(&mut now)).is_ok() && now == seen
}

/// Whether `name` in `dir` is still the file `f` is open on.
fn same_entry(dir: &Dir, name: &str, f: &File) -> bool {
    match (dir.symlink_metadata(name), f.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// A new file beside `name` with a name nobody can predict, created exclusively (never
/// through a link, never over an existing file).
fn create_temp(dir: &Dir, name: &str, rel: &str) -> Result<(String, File), WriteError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true).follow(FollowSymlinks::No).mode(0o600);
    for _ in 0..16 {
        let tmp = format!(".{name}.maintaind-{:016x}.tmp", unpredictable());
        match dir.open_with(&tmp, &options) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(rel, e)),
        }
    }
    Err(refused(rel, "cannot create a temporary file beside it (16 names taken)"))
}

/// 64 bits from the standard library's randomly keyed hasher (seeded by the OS).
fn unpredictable() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish()
}

fn sync(dir: &Dir) {
    if let Ok(d) = dir.try_clone() {
        let _ = d.into_std_file().sync_all();
    }
}

/// Read a project file for indexing: no link followed, regular files only, never blocking
/// (a FIFO named `*.ts` is refused instead of hanging the reader).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file (a FIFO, socket or device)"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, RootDir) {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/a.ts"), "a\n").unwrap();
        let r = RootDir::open(root.path()).unwrap();
        (root, outside, r)
    }

    #[test]
    fn links_out_are_never_written_through() {
        let (root, outside, r) = setup();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "mine\n").unwrap();
        // A file in scope replaced by a link out (live and dangling), and a hard link.
        std::os::unix::fs::symlink(&secret, root.path().join("src/live.ts")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("nothing"), root.path().join("src/dangling.ts")).unwrap();
        std::fs::hard_link(&secret, root.path().join("src/hard.ts")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("src/out")).unwrap();
        for (rel, expect) in
            [("src/live.ts", Expect::Hash(content_hash(b"mine\n"))), ("src/dangling.ts", Expect::Absent), ("src/hard.ts", Expect::Hash(content_hash(b"mine\n"))), ("src/out/new.ts", Expect::Absent)]
        {
            let e = r.replace(rel, b"evil\n", &expect).unwrap_err();
            assert!(matches!(e, WriteError::Refused { .. } | WriteError::Io { .. }), "{rel}: {e}");
            assert!(r.check_writable(rel).is_err(), "{rel}");
        }
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "mine\n");
        assert!(!outside.path().join("nothing").exists() && !outside.path().join("new.ts").exists());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "no stray temporary file outside");
    }

    #[test]
    fn compare_and_swap() {
        let (root, _outside, r) = setup();
        let a = root.path().join("src/a.ts");
        // Stale expectation: refused, file untouched.
        assert!(matches!(r.replace("src/a.ts", b"b\n", &Expect::Hash(content_hash(b"old\n"))), Err(WriteError::Changed { .. })));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a\n");
        // A file that appeared is never clobbered by a create.
        assert!(matches!(r.replace("src/a.ts", b"b\n", &Expect::Absent), Err(WriteError::Changed { .. })));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600)).unwrap();
        r.replace("src/a.ts", b"b\n", &Expect::Hash(content_hash(b"a\n"))).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "b\n");
        assert_eq!(std::fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600, "permissions kept");
        r.create_parents("src/new/dir/x.ts").unwrap();
        r.replace("src/new/dir/x.ts", b"x\n", &Expect::Absent).unwrap();
        assert!(matches!(r.remove("src/new/dir/x.ts", &content_hash(b"other")), Err(WriteError::Changed { .. })));
        r.remove("src/new/dir/x.ts", &content_hash(b"x\n")).unwrap();
        let names: Vec<String> = std::fs::read_dir(root.path().join("src")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn directories_created_for_the_project_get_the_users_umask_not_maintainds() {
        use std::os::unix::fs::PermissionsExt;
        let (root, _outside, r) = setup();
        let user = crate::state::user_umask();
        crate::state::private_process(); // what main() does: umask 077
        let made = r.create_parents("src/new/deeper/x.ts").and_then(|()| r.replace("src/new/deeper/x.ts", b"x\n", &Expect::Absent));
        // SAFETY: restoring this test process's umask.
        unsafe { libc::umask(user as libc::mode_t) };
        made.unwrap();
        for dir in ["src/new", "src/new/deeper"] {
            assert_eq!(std::fs::metadata(root.path().join(dir)).unwrap().permissions().mode() & 0o777, 0o777 & !user, "{dir}");
        }
        assert_eq!(std::fs::metadata(root.path().join("src/new/deeper/x.ts")).unwrap().permissions().mode() & 0o777, 0o666 & !user);
    }

    #[test]
    fn fifos_are_refused_not_waited_on() {
        let (root, _outside, r) = setup();
        let fifo = root.path().join("src/pipe.ts");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(read_regular(&fifo).unwrap_err().to_string().contains("not a regular file"));
        assert!(matches!(r.read("src/pipe.ts"), Err(WriteError::Refused { .. })));
    }
}

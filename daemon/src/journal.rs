//! The write path's durability: one lock for every writer, a journal entry per transaction
//! under `.maintaind/journal/<txn>/`, and atomic file replacement.
//!
//! Order of a transaction: the entry (every touched file's old content, the hashes of old and
//! new) is written and fsynced with state `prepared`; each file is then written to a temp file
//! beside it, fsynced and renamed over the original (the directory fsynced after); last the
//! entry becomes `committed`. A `kill -9` at any point leaves every file either old or new
//! (a rename is atomic) and the entry `prepared`: the next `apply` refuses until
//! `maintaind rollback` has restored the old contents. Rollback refuses a file whose content
//! is neither what the transaction wrote nor what it replaced: that is someone's later work.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::edits::{FileChange, hash_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnState {
    /// Written before the files: an entry still `prepared` was interrupted.
    Prepared,
    Committed,
    RolledBack,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxnFile {
    /// Root-relative.
    pub path: String,
    /// Name of the saved old content under the entry's `before/`; `None`: the file was created.
    pub before: Option<String>,
    pub before_hash: Option<String>,
    /// `None`: the transaction deleted the file.
    pub after_hash: Option<String>,
    /// Directories the transaction created for a new file (removed again by rollback when empty).
    #[serde(default)]
    pub created_dirs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Txn {
    pub id: String,
    pub created_unix_ms: u64,
    /// The manifest that authorised it.
    pub manifest: Option<String>,
    pub state: TxnState,
    pub files: Vec<TxnFile>,
}

/// The exclusive writer lock (`.maintaind/write.lock`), held until dropped. A second writer
/// waits, and says so on stderr.
pub struct WriteLock {
    _file: File,
}

impl WriteLock {
    pub fn acquire(state_dir: &Path, say: &dyn Fn(&str)) -> Result<WriteLock> {
        fs::create_dir_all(state_dir).with_context(|| format!("cannot create {}", state_dir.display()))?;
        let path = state_dir.join("write.lock");
        let mut file = fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                say(&format!("waiting for another maintaind write to finish ({})", if holder.trim().is_empty() { "pid unknown".to_string() } else { format!("pid {}", holder.trim()) }));
                file.lock().with_context(|| format!("cannot lock {}", path.display()))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        Ok(WriteLock { _file: file })
    }
}

pub struct Journal {
    dir: PathBuf,
    root: PathBuf,
}

impl Journal {
    pub fn new(root: &Path) -> Journal {
        Journal { dir: crate::workspace::state_dir(root).join("journal"), root: root.to_path_buf() }
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Vec<Txn> {
        let mut out: Vec<Txn> = fs::read_dir(&self.dir)
            .map(|rd| rd.flatten().filter_map(|e| fs::read(e.path().join("txn.json")).ok()).filter_map(|b| serde_json::from_slice(&b).ok()).collect())
            .unwrap_or_default();
        out.sort_by(|a: &Txn, b: &Txn| a.id.cmp(&b.id));
        out
    }

    /// Entries left `prepared` by an interrupted apply.
    pub fn interrupted(&self) -> Vec<Txn> {
        self.list().into_iter().filter(|t| t.state == TxnState::Prepared).collect()
    }

    fn entry_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Record the transaction (old contents first), durably, before any file is touched.
    pub fn prepare(&self, manifest: Option<&str>, changes: &std::collections::BTreeMap<String, FileChange>) -> Result<Txn> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut id = format!("{}-{}", now.as_millis(), std::process::id());
        let mut n = 1;
        while self.entry_dir(&id).exists() {
            n += 1;
            id = format!("{}-{}-{n}", now.as_millis(), std::process::id());
        }
        let dir = self.entry_dir(&id);
        fs::create_dir_all(dir.join("before")).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut files = Vec::new();
        for (i, (path, change)) in changes.iter().enumerate() {
            let before = match &change.before {
                Some(text) => {
                    let name = format!("{i}");
                    write_durably(&dir.join("before").join(&name), text.as_bytes())?;
                    Some(name)
                }
                None => None,
            };
            let created_dirs = if change.before.is_none() { missing_dirs(&self.root, path) } else { Vec::new() };
            files.push(TxnFile { path: path.clone(), before, before_hash: change.before.as_deref().map(hash_text), after_hash: change.after.as_deref().map(hash_text), created_dirs });
        }
        let txn = Txn { id, created_unix_ms: now.as_millis() as u64, manifest: manifest.map(str::to_string), state: TxnState::Prepared, files };
        self.save(&txn)?;
        sync_dir(&self.dir);
        Ok(txn)
    }

    pub fn save(&self, txn: &Txn) -> Result<()> {
        let json = serde_json::to_vec_pretty(txn).expect("a transaction serialises");
        write_atomically(&self.entry_dir(&txn.id).join("txn.json"), &json, &txn.id)
    }

    /// Write every file of the transaction (atomically each), then mark it committed. Tests
    /// can pause it before a given file (see [`fault_pause`]).
    pub fn commit(&self, txn: &mut Txn, changes: &std::collections::BTreeMap<String, FileChange>) -> Result<()> {
        let pause = fault_pause();
        for (i, f) in txn.files.iter().enumerate() {
            if pause == Some(i) {
                pause_here(&f.path);
            }
            let abs = self.root.join(&f.path);
            match &changes[&f.path].after {
                Some(text) => {
                    if let Some(parent) = abs.parent() {
                        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
                    }
                    write_atomically(&abs, text.as_bytes(), &txn.id)?;
                }
                None => remove_durably(&abs)?,
            }
        }
        txn.state = TxnState::Committed;
        self.save(txn)
    }

    /// Restore the old contents of transaction `id` (default: the newest not rolled back).
    pub fn rollback(&self, id: Option<&str>, force: bool) -> Result<Txn> {
        let list = self.list();
        let mut txn = match id {
            Some(id) => list.into_iter().find(|t| t.id == id).with_context(|| format!("no transaction `{id}` in {}", self.dir.display()))?,
            None => list.into_iter().rev().find(|t| t.state != TxnState::RolledBack).context("nothing to roll back: every transaction in the journal is rolled back (or there is none)")?,
        };
        if txn.state == TxnState::RolledBack {
            bail!("transaction {} was already rolled back", txn.id);
        }
        let dir = self.entry_dir(&txn.id);
        // Check every file first: all are restored or none.
        let mut restores: Vec<(PathBuf, Option<Vec<u8>>, &TxnFile)> = Vec::new();
        for f in &txn.files {
            // The journal is a file on disk like any other: its paths go through the gate's
            // canonicalisation before anything is written.
            let rel = crate::gate::resolve(&self.root, &f.path).map_err(|e| anyhow::anyhow!("the journal entry names `{}`: {e}", f.path))?;
            let abs = self.root.join(&rel);
            let now = fs::read(&abs).ok().map(|b| hash_text(&String::from_utf8_lossy(&b)));
            let ours = now == f.after_hash || now == f.before_hash;
            if !ours && !force {
                bail!(
                    "{} changed after transaction {} (its content is neither what apply wrote nor what it replaced); rolling back would lose that work. Pass --force to restore the old content anyway",
                    f.path,
                    txn.id
                );
            }
            let old = match &f.before {
                Some(name) => Some(fs::read(dir.join("before").join(name)).with_context(|| format!("the journal lost the old content of {}", f.path))?),
                None => None,
            };
            restores.push((abs, old, f));
        }
        for (abs, old, f) in &restores {
            match old {
                Some(bytes) => write_atomically(abs, bytes, &txn.id)?,
                None => {
                    remove_durably(abs)?;
                    for d in f.created_dirs.iter().rev() {
                        let _ = fs::remove_dir(self.root.join(d)); // only when empty
                    }
                }
            }
            let _ = fs::remove_file(temp_path(abs, &txn.id)); // left by an interrupted write
        }
        txn.state = TxnState::RolledBack;
        self.save(&txn)?;
        Ok(txn)
    }
}

/// The directories (root-relative, outermost first) that do not exist yet above `path`.
fn missing_dirs(root: &Path, path: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut p = Path::new(path).parent();
    while let Some(d) = p {
        if d.as_os_str().is_empty() || root.join(d).exists() {
            break;
        }
        dirs.push(d.to_string_lossy().into_owned());
        p = d.parent();
    }
    dirs.reverse();
    dirs
}

fn temp_path(target: &Path, txn: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.maintaind-{txn}.tmp"))
}

/// Temp file beside `target`, fsync, rename over it, fsync the directory.
fn write_atomically(target: &Path, bytes: &[u8], txn: &str) -> Result<()> {
    let tmp = temp_path(target, txn);
    let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    // Keep the permissions of the file being replaced (an executable script stays executable).
    if let Ok(meta) = fs::metadata(target) {
        let _ = fs::set_permissions(&tmp, meta.permissions());
    }
    fs::rename(&tmp, target).with_context(|| format!("cannot replace {}", target.display()))?;
    if let Some(parent) = target.parent() {
        sync_dir(parent);
    }
    Ok(())
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}

fn remove_durably(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot delete {}", path.display())),
    }
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Fault injection for the crash tests: `MAINTAIND_FAULT_PAUSE_BEFORE_WRITE=N` stops a
/// transaction before it writes its N-th file (0-based): it prints `paused` on stderr and
/// waits for a line on stdin, so a test can `kill -9` it at a known point (or let it go on).
fn fault_pause() -> Option<usize> {
    std::env::var("MAINTAIND_FAULT_PAUSE_BEFORE_WRITE").ok()?.parse().ok()
}

fn pause_here(path: &str) {
    eprintln!("maintaind: paused before writing {path} (MAINTAIND_FAULT_PAUSE_BEFORE_WRITE)");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

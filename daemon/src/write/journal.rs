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

use crate::config::Retention;
use crate::edits::{FileChange, hash_text};
use crate::safefs::{Expect, RootDir, content_hash};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxnState {
    /// Written before the files: an entry still `prepared` was interrupted.
    Prepared,
    Committed,
    RolledBack,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Txn {
    pub id: String,
    pub created_unix_ms: u64,
    /// The manifest that authorised it.
    pub manifest: Option<String>,
    /// The id the client gave its apply request, so a client that lost its daemon can ask
    /// the journal what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    pub state: TxnState,
    pub files: Vec<TxnFile>,
}

/// The exclusive writer lock (`.maintaind/write.lock`), held until dropped. A second writer
/// waits, and says so on stderr.
pub struct WriteLock {
    _file: File,
}

impl WriteLock {
    /// Take the lock, waiting for another writer. `gone()` is asked while waiting: when it
    /// says the one who asked for the write is gone (its client hung up), the wait ends with
    /// an error and nothing is written.
    pub fn acquire(state_dir: &Path, say: &dyn Fn(&str), gone: &dyn Fn() -> bool) -> Result<WriteLock> {
        crate::state::ensure_private_dir(state_dir)?;
        let path = state_dir.join("write.lock");
        let mut file = fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if !said {
                        let holder = fs::read_to_string(&path).unwrap_or_default();
                        say(&format!("waiting for another maintaind write to finish ({})", if holder.trim().is_empty() { "pid unknown".to_string() } else { format!("pid {}", holder.trim()) }));
                        said = true;
                    }
                    if gone() {
                        bail!("the client that asked for this write went away while it waited for the write lock; nothing was written");
                    }
                    // Polling: flock has no wait-with-cancel.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
            }
        }
        if gone() {
            bail!("the client that asked for this write went away before it started; nothing was written");
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        Ok(WriteLock { _file: file })
    }
}

/// A fresh, unpredictable id for one apply request.
pub fn new_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("{:016x}", h.finish())
}

pub struct Journal {
    dir: PathBuf,
    root: PathBuf,
}

impl Journal {
    pub fn new(root: &Path) -> Journal {
        Journal { dir: crate::state::state_dir(root).join("journal"), root: root.to_path_buf() }
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Vec<Txn> {
        let mut out: Vec<Txn> =
            fs::read_dir(&self.dir).map(|rd| rd.flatten().filter_map(|e| fs::read(e.path().join("txn.json")).ok()).filter_map(|b| serde_json::from_slice(&b).ok()).collect()).unwrap_or_default();
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
    pub fn prepare(&self, manifest: Option<&str>, request: Option<&str>, changes: &std::collections::BTreeMap<String, FileChange>) -> Result<Txn> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut id = format!("{}-{}", now.as_millis(), std::process::id());
        let mut n = 1;
        while self.entry_dir(&id).exists() {
            n += 1;
            id = format!("{}-{}-{n}", now.as_millis(), std::process::id());
        }
        let dir = self.entry_dir(&id);
        crate::state::ensure_private_dir(&self.dir)?;
        fs::create_dir_all(dir.join("before")).with_context(|| format!("cannot create {}", dir.display()))?;
        let prepared = self.prepare_in(&dir, id, now.as_millis() as u64, manifest, request, changes);
        if prepared.is_err() {
            // Half a journal entry is no way back: remove it (nothing has been written yet).
            let _ = fs::remove_dir_all(&dir);
            sync_dir(&self.dir);
        }
        prepared
    }

    fn prepare_in(&self, dir: &Path, id: String, created_unix_ms: u64, manifest: Option<&str>, request: Option<&str>, changes: &std::collections::BTreeMap<String, FileChange>) -> Result<Txn> {
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
        let txn = Txn { id, created_unix_ms, request: request.map(str::to_string), manifest: manifest.map(str::to_string), state: TxnState::Prepared, files };
        self.save(&txn)?;
        sync_dir(&self.dir);
        Ok(txn)
    }

    pub fn save(&self, txn: &Txn) -> Result<()> {
        let json = serde_json::to_vec_pretty(txn).expect("a transaction serialises");
        write_atomically(&self.entry_dir(&txn.id).join("txn.json"), &json, &txn.id)
    }

    /// Write every file of the transaction (atomically each, compare-and-swap against the
    /// content validated), then mark it committed. If a write fails midway, the files already
    /// written are restored and the entry is marked rolled back; if even that fails, the error
    /// says the change is half-applied and names the rollback. Tests can pause it before a
    /// given file (see [`fault_pause`]).
    pub fn commit(&self, txn: &mut Txn, changes: &std::collections::BTreeMap<String, FileChange>) -> Result<()> {
        let pause = fault_pause();
        let root = RootDir::open(&self.root).with_context(|| format!("cannot open the root {}", self.root.display()))?;
        let mut written = 0;
        let mut failure = None;
        for (i, f) in txn.files.iter().enumerate() {
            if pause == Some(i) {
                pause_here(&f.path);
            }
            let result = match &changes[&f.path].after {
                Some(text) => root.create_parents(&f.path).and_then(|()| root.replace(&f.path, text.as_bytes(), &Expect::of(f.before_hash.as_deref()))),
                None => root.remove(&f.path, f.before_hash.as_deref().unwrap_or_default()),
            };
            if let Err(e) = result {
                failure = Some(e);
                break;
            }
            written += 1;
        }
        let Some(failure) = failure else {
            fault_point("after-commit-writes");
            txn.state = TxnState::Committed;
            return self.save(txn);
        };
        // Undo what this transaction wrote, newest first.
        let mut undo_failed = Vec::new();
        for f in txn.files[..written].iter().rev() {
            if let Err(e) = restore(&root, &self.dir.join(&txn.id), f, f.after_hash.clone()) {
                undo_failed.push(format!("{}: {e}", f.path));
            }
        }
        if undo_failed.is_empty() {
            txn.state = TxnState::RolledBack;
            let _ = self.save(txn);
            bail!(
                "nothing changed: {failure}; {} transaction {} was rolled back",
                if written == 0 { "no file had been written yet, and".to_string() } else { format!("the {written} file(s) already written were restored and") },
                txn.id
            );
        }
        bail!(
            "HALF-APPLIED: {failure}; {written} of {} file(s) were written ({}) and restoring them failed ({}). Run `maintaind rollback {}` to restore the old contents",
            txn.files.len(),
            txn.files[..written].iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", "),
            undo_failed.join("; "),
            txn.id
        )
    }

    /// Restore the old contents of transaction `id` (default: the newest not rolled back).
    /// A file that already holds its old content is left alone (not rewritten).
    pub fn rollback(&self, id: Option<&str>, force: bool) -> Result<Txn> {
        let list = self.list();
        let mut txn = match id {
            Some(id) => list.into_iter().find(|t| t.id == id).with_context(|| format!("no transaction `{id}` in {}", self.dir.display()))?,
            None => list.into_iter().rev().find(|t| t.state != TxnState::RolledBack).context("nothing to roll back: every transaction in the journal is rolled back (or there is none)")?,
        };
        if txn.state == TxnState::RolledBack {
            bail!("transaction {} was already rolled back", txn.id);
        }
        let root = RootDir::open(&self.root).with_context(|| format!("cannot open the root {}", self.root.display()))?;
        // Check every file first: all are restored or none.
        let mut restores: Vec<(&TxnFile, Option<String>)> = Vec::new();
        for f in &txn.files {
            // The journal is a file on disk like any other: its paths go through the gate's
            // canonicalisation before anything is written.
            crate::gate::resolve(&self.root, &f.path).map_err(|e| anyhow::anyhow!("the journal entry names `{}`: {e}", f.path))?;
            let now = root.read(&f.path).map_err(|e| anyhow::anyhow!("{e}"))?.map(|b| content_hash(&b));
            if now == f.before_hash {
                continue; // already the old content
            }
            if now != f.after_hash && !force {
                bail!(
                    "{} changed after transaction {} (its content is neither what apply wrote nor what it replaced); rolling back would lose that work. Pass --force to restore the old content anyway",
                    f.path,
                    txn.id
                );
            }
            restores.push((f, now));
        }
        let dir = self.entry_dir(&txn.id);
        for (f, now) in &restores {
            restore(&root, &dir, f, now.clone())?;
        }
        for f in &txn.files {
            root.remove_stray_temps(&f.path); // left by an interrupted write
        }
        txn.state = TxnState::RolledBack;
        self.save(&txn)?;
        Ok(txn)
    }

    /// Remove what an interrupted `prepare` left (an entry without a readable `txn.json`), and
    /// prune finished entries: beyond the newest `keep`, or older than `keep_days`. Entries
    /// still `prepared` are never pruned: they are the way back from an interrupted apply.
    /// Call with the write lock held.
    pub fn clean(&self, retention: &Retention) -> Vec<String> {
        let mut removed = Vec::new();
        let Ok(rd) = fs::read_dir(&self.dir) else { return removed };
        let mut entries: Vec<(String, Option<Txn>)> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| {
                let id = e.file_name().to_string_lossy().into_owned();
                let txn = fs::read(e.path().join("txn.json")).ok().and_then(|b| serde_json::from_slice::<Txn>(&b).ok());
                (id, txn)
            })
            .collect();
        entries.sort_by(|a, b| b.0.cmp(&a.0)); // newest first
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let max_age = retention.keep_days.saturating_mul(86_400_000);
        let mut kept = 0;
        for (id, txn) in entries {
            let drop = match &txn {
                None => true,
                Some(t) if t.state == TxnState::Prepared => false,
                Some(t) => {
                    kept += 1;
                    kept > retention.keep || now.saturating_sub(t.created_unix_ms) > max_age
                }
            };
            if drop && fs::remove_dir_all(self.dir.join(&id)).is_ok() {
                removed.push(id);
            }
        }
        removed
    }
}

/// Put back the old content of one file the transaction wrote, if the file holds `expect`
/// (its hash now; `None`: absent).
fn restore(root: &RootDir, entry: &Path, f: &TxnFile, expect: Option<String>) -> Result<()> {
    let expect = Expect::of(expect.as_deref());
    match &f.before {
        Some(name) => {
            let old = fs::read(entry.join("before").join(name)).with_context(|| format!("the journal lost the old content of {}", f.path))?;
            root.create_parents(&f.path).and_then(|()| root.replace(&f.path, &old, &expect)).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        None => {
            if let Expect::Hash(h) = &expect {
                root.remove(&f.path, h).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            for d in f.created_dirs.iter().rev() {
                root.remove_empty_dir(d);
            }
        }
    }
    Ok(())
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

/// Write a file under the journal atomically (temp file, fsync, rename).
fn write_atomically(target: &Path, bytes: &[u8], txn: &str) -> Result<()> {
    let tmp = target.with_extension(format!("{txn}.tmp"));
    write_durably(&tmp, bytes)?;
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

/// Fault injection for the outcome tests: `MAINTAIND_FAULT_STALL=POINT` makes the process
/// stop at that point for good (until killed), e.g. `after-commit-writes`: every file is
/// written but the entry is not yet marked committed.
pub fn fault_point(point: &str) {
    if std::env::var("MAINTAIND_FAULT_STALL").is_ok_and(|p| p == point) {
        eprintln!("maintaind: stalled at {point} (MAINTAIND_FAULT_STALL)");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

fn pause_here(path: &str) {
    eprintln!("maintaind: paused before writing {path} (MAINTAIND_FAULT_PAUSE_BEFORE_WRITE)");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(before: Option<&str>, after: Option<&str>) -> std::collections::BTreeMap<String, FileChange> {
        [("a.ts".to_string(), FileChange { before: before.map(str::to_string), after: after.map(str::to_string), ops: vec![0] })].into_iter().collect()
    }

    #[test]
    fn orphans_are_cleaned_and_finished_entries_pruned() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.ts"), "0\n").unwrap();
        let journal = Journal::new(root.path());
        // 25 finished transactions, one interrupted, and what a failed prepare left.
        for i in 0..25 {
            let c = change(Some(&format!("{i}\n")), Some(&format!("{}\n", i + 1)));
            let mut t = journal.prepare(None, None, &c).unwrap();
            journal.commit(&mut t, &c).unwrap();
        }
        let c = change(Some("25\n"), Some("26\n"));
        let interrupted = journal.prepare(None, None, &c).unwrap();
        std::fs::create_dir_all(journal.dir.join("1-1/before")).unwrap();
        std::fs::write(journal.dir.join("1-1/before/0"), "half").unwrap();
        let removed = journal.clean(&Retention { keep: 20, keep_days: 3 });
        assert_eq!(removed.len(), 6, "5 beyond the newest 20, and the orphan: {removed:?}");
        let left = journal.list();
        assert_eq!(left.len(), 21);
        assert!(left.iter().any(|t| t.id == interrupted.id), "an interrupted entry is never pruned");
        // Age: finished entries older than keep_days go however few there are. Backdate the
        // five oldest by four days (and the interrupted one, which stays anyway).
        let mut aged: Vec<String> = Vec::new();
        for mut t in journal.list().into_iter().take(5).chain([interrupted.clone()]) {
            t.created_unix_ms -= 4 * 86_400_000;
            journal.save(&t).unwrap();
            if t.state != TxnState::Prepared {
                aged.push(t.id);
            }
        }
        let mut removed = journal.clean(&Retention { keep: 100, keep_days: 3 });
        removed.sort();
        assert_eq!(removed, aged);
        assert_eq!(journal.list().len(), 16);
        assert!(journal.list().iter().any(|t| t.id == interrupted.id));
    }
}

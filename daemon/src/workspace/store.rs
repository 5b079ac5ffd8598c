//! The persisted registry: SQLite at `<root>/.maintaind/registry.db`.
//!
//! One row per indexed file: the stat we last saw (size, mtime), the content hash, and the
//! file's [`FileIndex`] as a postcard blob. A warm start compares stats (and, when a stat
//! changed, the content hash) and decodes blobs instead of parsing. The registry is always
//! rebuilt from these rows; no query runs against SQL, so there is one source of truth.
//!
//! A database that cannot be used is never an error for the user: a corrupt file or an older
//! schema is moved out of the way and rebuilt (one line on stderr says so); a database locked
//! by another process past the busy timeout is left alone and this run indexes in memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use maintaind_registry::FileIndex;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// Bump when the table layout or the blob format ([`FileIndex`] and everything in it)
/// changes; an older database is then rebuilt rather than misread.
/// 2: reference names sorted ([`maintaind_registry::References::new`]).
pub const SCHEMA_VERSION: i64 = 2;

/// How long to wait for another process's write lock before indexing in memory instead.
fn busy_timeout() -> Duration {
    let ms = std::env::var("MAINTAIND_DB_BUSY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    Duration::from_millis(ms)
}

/// What we last saw of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: u64,
}

/// A file's index ready to store. Encoding happens where the file was parsed (on a worker
/// thread), so the single-threaded write only copies bytes.
pub struct Encoded {
    pub path: String,
    pub stat: FileStat,
    pub symbols: usize,
    pub blob: Vec<u8>,
}

impl Encoded {
    pub fn new(stat: FileStat, file: &FileIndex) -> Encoded {
        let blob = postcard::to_stdvec(file).expect("a file index always encodes");
        Encoded { path: file.path.clone(), stat, symbols: file.symbols.len(), blob }
    }
}

pub struct Store {
    conn: Connection,
    /// `None` for an in-memory store (the database was locked).
    path: Option<PathBuf>,
}

/// What opening the database had to do; `message` is the one line to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenNote {
    Rebuilt { message: String },
    InMemory { message: String },
}

impl OpenNote {
    pub fn message(&self) -> &str {
        match self {
            OpenNote::Rebuilt { message } | OpenNote::InMemory { message } => message,
        }
    }
}

impl Store {
    /// Open or create the database in `dir` (the workspace's `.maintaind/`).
    pub fn open(dir: &Path) -> Result<(Store, Option<OpenNote>)> {
        let path = dir.join("registry.db");
        match try_open(&path) {
            Ok(store) => Ok((store, None)),
            Err(OpenError::Locked) => {
                let message = format!("registry database {} is locked by another process; indexing in memory this time (nothing saved)", path.display());
                Ok((Store::in_memory()?, Some(OpenNote::InMemory { message })))
            }
            Err(OpenError::Unusable(reason)) => {
                remove_database(&path)?;
                let store = try_open(&path).map_err(|e| anyhow::anyhow!("cannot recreate {}: {e:?}", path.display()))?;
                let message = format!("registry database was {reason}; rebuilt {}", path.display());
                Ok((store, Some(OpenNote::Rebuilt { message })))
            }
            Err(OpenError::Io(e)) => Err(e),
        }
    }

    pub fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        create_schema(&conn)?;
        Ok(Store { conn, path: None })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The stat and hash of every stored file.
    pub fn stats(&self) -> Result<HashMap<String, FileStat>> {
        let mut stmt = self.conn.prepare_cached("SELECT path, size, mtime_ns, hash FROM files")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, FileStat { size: r.get::<_, i64>(1)? as u64, mtime_ns: r.get(2)?, hash: r.get::<_, i64>(3)? as u64 })))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Decode the stored index of each path in `paths`. A row that does not decode (written by
    /// a different build with the same schema number, or damaged) is reported in the second
    /// list so the caller re-parses it instead of trusting it.
    pub fn load(&self, paths: &[&str]) -> Result<(Vec<FileIndex>, Vec<String>)> {
        let mut stmt = self.conn.prepare_cached("SELECT data FROM files WHERE path = ?1")?;
        let mut good = Vec::with_capacity(paths.len());
        let mut bad = Vec::new();
        for path in paths {
            let blob: Option<Vec<u8>> = stmt.query_row([path], |r| r.get(0)).optional()?;
            match blob.as_deref().map(postcard::from_bytes::<FileIndex>) {
                Some(Ok(file)) if file.path == *path => good.push(file),
                _ => bad.push(path.to_string()),
            }
        }
        Ok((good, bad))
    }

    /// Apply one indexing run in a single transaction: new or changed files, files whose stat
    /// changed but content did not, and removed files. Returns the new generation, which only
    /// moves when something changed.
    pub fn write(&mut self, upserts: &[&Encoded], restat: &[(&str, FileStat)], removed: &[&str]) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let changed = !upserts.is_empty() || !removed.is_empty();
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO files(path, size, mtime_ns, hash, symbols, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, hash=excluded.hash,
                 symbols=excluded.symbols, data=excluded.data",
            )?;
            for e in upserts {
                put.execute(params![e.path, e.stat.size as i64, e.stat.mtime_ns, e.stat.hash as i64, e.symbols as i64, e.blob])?;
            }
            let mut touch = tx.prepare_cached("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE path = ?1")?;
            for (path, stat) in restat {
                touch.execute(params![path, stat.size as i64, stat.mtime_ns])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM files WHERE path = ?1")?;
            for path in removed {
                del.execute([path])?;
            }
            if changed {
                tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'", [])?;
            }
        }
        tx.commit()?;
        self.generation()
    }

    /// Increases every time the stored registry changes.
    pub fn generation(&self) -> Result<u64> {
        let g: i64 = self.conn.query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'", [], |r| r.get(0))?;
        Ok(g as u64)
    }

    /// (files, symbols) stored.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let (f, s): (i64, i64) = self.conn.query_row("SELECT COUNT(*), COALESCE(SUM(symbols), 0) FROM files", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((f as u64, s as u64))
    }
}

#[derive(Debug)]
enum OpenError {
    Locked,
    /// Corrupt, not a database, or an older schema: to be rebuilt.
    Unusable(String),
    Io(anyhow::Error),
}

fn try_open(path: &Path) -> std::result::Result<Store, OpenError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Io(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE).map_err(|e| classify(e, path))?;
    conn.busy_timeout(busy_timeout()).map_err(|e| classify(e, path))?;
    check_and_init(&conn).map_err(|e| classify(e, path))?;
    Ok(Store { conn, path: Some(path.to_path_buf()) })
}

/// Sort a SQLite failure into "wait/locked", "rebuild" and "real I/O problem".
fn classify(e: rusqlite::Error, path: &Path) -> OpenError {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => OpenError::Locked,
        Some(NotADatabase | DatabaseCorrupt) => OpenError::Unusable("corrupt".into()),
        Some(CannotOpen | PermissionDenied | ReadOnly | DiskFull) => OpenError::Io(anyhow::anyhow!("cannot use {}: {e}", path.display())),
        _ => match e {
            rusqlite::Error::SqliteFailure(_, Some(ref msg)) if msg.starts_with("schema ") => OpenError::Unusable(msg.clone()),
            other => OpenError::Unusable(format!("unreadable ({other})")),
        },
    }
}

fn check_and_init(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_tables: bool = conn.query_row("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))?;
    if has_tables && version != SCHEMA_VERSION {
        return Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH), Some(format!("schema version {version}, this maintaind uses {SCHEMA_VERSION}"))));
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    create_schema(conn)?;
    // Touch every row so a damaged table is found now, not halfway through a query.
    let ok: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), Some(ok)));
    }
    Ok(())
}

fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS files(
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            hash INTEGER NOT NULL,
            symbols INTEGER NOT NULL,
            data BLOB NOT NULL
         );
         CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', '0');
         PRAGMA user_version = {SCHEMA_VERSION};"
    ))
}

/// Remove a database and its WAL/SHM side files.
fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove unusable database {}", p.display())),
        }
    }
    Ok(())
}

/// Read-only look at a database for `doctor`: never creates, rebuilds or locks it.
pub fn inspect(dir: &Path) -> DbInspection {
    let path = dir.join("registry.db");
    if !path.exists() {
        return DbInspection { path, state: "missing".into(), schema_version: None, files: 0, symbols: 0, generation: 0, size_bytes: 0 };
    }
    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let result = (|| -> rusqlite::Result<(i64, u64, u64, u64)> {
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if v != SCHEMA_VERSION {
            return Ok((v, 0, 0, 0));
        }
        let (f, s): (i64, i64) = conn.query_row("SELECT COUNT(*), COALESCE(SUM(symbols), 0) FROM files", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let g: i64 = conn.query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'", [], |r| r.get(0))?;
        Ok((v, f as u64, s as u64, g as u64))
    })();
    match result {
        Ok((v, files, symbols, generation)) => DbInspection {
            path,
            state: if v == SCHEMA_VERSION { "ok".into() } else { format!("older schema ({v}); rebuilt on next index") },
            schema_version: Some(v),
            files,
            symbols,
            generation,
            size_bytes,
        },
        Err(e) => DbInspection { path, state: format!("unreadable ({e}); rebuilt on next index"), schema_version: None, files: 0, symbols: 0, generation: 0, size_bytes },
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DbInspection {
    pub path: PathBuf,
    pub state: String,
    pub schema_version: Option<i64>,
    pub files: u64,
    pub symbols: u64,
    pub generation: u64,
    pub size_bytes: u64,
}

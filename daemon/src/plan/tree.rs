//! The tree a manifest works against: what every file under the root was when the manifest
//! was activated (`.maintaind/manifests/<id>.tree`, keyed like the manifest so it cannot be
//! edited unnoticed). Two questions are answered from it, both without a daemon:
//!
//! - **audit** ([`audit`]): which files were created, changed or deleted since, however they
//!   were written (an editor, `sed -i`, another process), and which of those lie outside the
//!   manifest's scope;
//! - **staleness** ([`stale`]): whether the tree changed in a way the plan did not foresee.
//!   The plan's own edits never make it stale: files in its scope may change at will. It goes
//!   stale when a file it *read but does not write* changed or went away (its facts were
//!   computed from that file), or when a file outside its scope that did not exist at
//!   activation now imports one of the targets' files (a caller the blast radius never saw).
//!
//! "The root" is what the indexer walks, extended to every file: `.gitignore`d paths,
//! `node_modules/`, `.git/` and `.maintaind/` are not part of it (docs/GAPS.md says what that
//! leaves unseen).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::manifest::Manifest;

/// One file as it was: size, modification time and content hash (the registry's xxh3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mark {
    pub size: u64,
    pub mtime_ns: i64,
    /// Content hash; for a symbolic link, the hash of its target's name.
    pub hash: u64,
}

/// The recorded tree of one activation.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// The manifest this tree belongs to.
    pub manifest: String,
    /// When the work started: the activation of the first manifest in an `--amend` chain.
    pub since_unix: u64,
    /// Every file at the start of the work (what `audit` compares against). An amended
    /// manifest keeps its predecessor's, so the work done so far stays visible.
    pub files: BTreeMap<String, Mark>,
    /// The files this manifest's plan read without writing, as they were when it was
    /// activated (what `stale` compares against).
    pub read: BTreeMap<String, Mark>,
    /// Keyed hash (the user's secret) of the fields above.
    pub digest: String,
}

impl Tree {
    fn compute_digest(&self, key: &[u8; 32]) -> String {
        let body = serde_json::json!([self.manifest, self.since_unix, self.files, self.read]);
        blake3::keyed_hash(key, body.to_string().as_bytes()).to_hex().to_string()
    }

    /// The tree of `manifest` activated now: `start` is the work's starting tree (`None`: the
    /// tree as it is now, for a fresh plan).
    pub fn record(root: &Path, manifest: &Manifest, start: Option<(u64, BTreeMap<String, Mark>)>, key: &[u8; 32]) -> std::io::Result<Tree> {
        let now = snapshot(root, None)?;
        let read: BTreeMap<String, Mark> = read_only_files(manifest).into_iter().filter_map(|p| now.get(&p).map(|m| (p, *m))).collect();
        let (since_unix, files) = start.unwrap_or_else(|| (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0), now));
        let mut tree = Tree { manifest: manifest.id.clone(), since_unix, files, read, digest: String::new() };
        tree.digest = tree.compute_digest(key);
        Ok(tree)
    }

    /// Whether the digest matches (the file was not edited by hand).
    pub fn intact(&self, key: &[u8; 32]) -> bool {
        self.compute_digest(key) == self.digest
    }
}

/// Every file the manifest's scope lets be written: files to modify, test files (unless
/// tests are excluded) and widened paths.
pub fn scope(manifest: &Manifest) -> BTreeSet<String> {
    let mut scope: BTreeSet<String> = manifest.facts.files_to_modify.iter().cloned().collect();
    if !manifest.decisions.excluded_categories.contains(&super::manifest::Category::Tests) {
        scope.extend(manifest.facts.test_files.iter().cloned());
    }
    scope.extend(manifest.widened.iter().map(|w| w.path.clone()));
    scope
}

/// The files the plan's facts were computed from that it does not write: the blast radius,
/// the files to read and the dependency signatures' files, minus the scope.
pub fn read_only_files(manifest: &Manifest) -> BTreeSet<String> {
    let scope = scope(manifest);
    let f = &manifest.facts;
    f.blast_radius.iter().map(|i| i.file.clone()).chain(f.files_to_read.iter().cloned()).chain(f.dependency_signatures.iter().map(|s| s.file.clone())).filter(|p| !scope.contains(p)).collect()
}

/// The tree under `root` now: every file the walk sees, hashed in parallel. With `reuse`, a
/// file whose size and modification time equal its mark there keeps that mark unread (what
/// the gate does on every write); without, every file is read (what the audit does, so a
/// rewrite that restores the old size and time is still seen).
pub fn snapshot(root: &Path, reuse: Option<&BTreeMap<String, Mark>>) -> std::io::Result<BTreeMap<String, Mark>> {
    let walked = crate::walk::walk_everything(root);
    let found: Vec<&crate::walk::Found> = walked.sources.iter().chain(&walked.tsconfigs).chain(&walked.others).collect();
    Ok(found
        .par_iter()
        .filter_map(|f| match reuse.and_then(|r| r.get(&f.rel)) {
            Some(m) if m.size == f.size && m.mtime_ns == f.mtime_ns => Some((f.rel.clone(), *m)),
            _ => mark(f).map(|m| (f.rel.clone(), m)),
        })
        .collect())
}

/// The mark of one root-relative path now (`None`: absent).
pub fn mark_of(root: &Path, rel: &str) -> Option<Mark> {
    let abs = root.join(rel);
    let meta = std::fs::symlink_metadata(&abs).ok()?;
    mark(&crate::walk::Found { rel: rel.to_string(), abs, size: meta.len(), mtime_ns: crate::walk::mtime_ns(&meta) })
}

/// A file's mark, or `None` when it vanished meanwhile or cannot be read (an unreadable file
/// is recorded by size and time alone, hash 0).
fn mark(f: &crate::walk::Found) -> Option<Mark> {
    let meta = std::fs::symlink_metadata(&f.abs).ok()?;
    let hash = if meta.file_type().is_symlink() {
        maintaind_registry::hash_bytes(std::fs::read_link(&f.abs).ok()?.as_os_str().as_encoded_bytes())
    } else {
        match crate::safefs::read_regular(&f.abs) {
            Ok(bytes) => maintaind_registry::hash_bytes(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(_) => 0,
        }
    };
    Some(Mark { size: meta.len(), mtime_ns: crate::walk::mtime_ns(&meta), hash })
}

/// How one path differs from the recorded tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Changed,
    Deleted,
}

/// Every path that differs between `before` and `now` (same size and time: unchanged without
/// reading; otherwise compared by content).
pub fn diff(before: &BTreeMap<String, Mark>, now: &BTreeMap<String, Mark>) -> BTreeMap<String, Change> {
    let mut out = BTreeMap::new();
    for (path, mark) in now {
        match before.get(path) {
            None => {
                out.insert(path.clone(), Change::Created);
            }
            Some(b) if b.hash != mark.hash || b.size != mark.size => {
                out.insert(path.clone(), Change::Changed);
            }
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|p| !now.contains_key(*p)) {
        out.insert(path.clone(), Change::Deleted);
    }
    out
}

/// One file changed since the work started, and whether the scope covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Touched {
    pub path: String,
    pub change: Change,
    pub in_scope: bool,
}

/// What `maintaind gate audit` reports.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Audit {
    pub manifest: String,
    pub since_unix: u64,
    /// Every file created, changed or deleted since, in scope or not.
    pub touched: Vec<Touched>,
    /// How many of them lie outside the scope (the audit fails when any does).
    pub out_of_scope: usize,
}

/// Compare the tree now with the one recorded for `manifest`.
pub fn audit(root: &Path, manifest: &Manifest, tree: &Tree) -> std::io::Result<Audit> {
    let now = snapshot(root, None)?;
    Ok(audit_against(manifest, tree, &now))
}

pub fn audit_against(manifest: &Manifest, tree: &Tree, now: &BTreeMap<String, Mark>) -> Audit {
    let scope = scope(manifest);
    let touched: Vec<Touched> = diff(&tree.files, now).into_iter().map(|(path, change)| Touched { in_scope: scope.contains(&path), path, change }).collect();
    let out_of_scope = touched.iter().filter(|t| !t.in_scope).count();
    Audit { manifest: manifest.id.clone(), since_unix: tree.since_unix, touched, out_of_scope }
}

/// Why the manifest no longer describes the tree, or `None` while it does (see the module doc).
/// `now` is the tree as it is; `imports_target` says whether a file imports one of the
/// targets' files (the registry knows).
pub fn stale(manifest: &Manifest, tree: &Tree, now: &BTreeMap<String, Mark>, imports_target: &dyn Fn(&str) -> bool) -> Option<String> {
    for (path, was) in &tree.read {
        match now.get(path) {
            None => return Some(format!("the manifest is stale: {path}, which the plan read but does not change, was deleted since activation; re-plan with `maintaind change --amend \"...\"`")),
            Some(m) if m.hash != was.hash || m.size != was.size => {
                return Some(format!("the manifest is stale: {path}, which the plan read but does not change, changed since activation; re-plan with `maintaind change --amend \"...\"`"));
            }
            Some(_) => {}
        }
    }
    let scope = scope(manifest);
    for path in now.keys().filter(|p| !tree.files.contains_key(*p) && !scope.contains(*p)) {
        if imports_target(path) {
            return Some(format!(
                "the manifest is stale: {path} is new since activation and imports a file the plan changes, a caller its blast radius never saw; re-plan with `maintaind change --amend \"...\"`"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(hash: u64) -> Mark {
        Mark { size: 1, mtime_ns: 0, hash }
    }

    #[test]
    fn diff_names_created_changed_and_deleted() {
        let before: BTreeMap<String, Mark> = [("a".to_string(), m(1)), ("b".to_string(), m(2)), ("c".to_string(), m(3))].into();
        let now: BTreeMap<String, Mark> = [("a".to_string(), m(1)), ("b".to_string(), m(9)), ("d".to_string(), m(4))].into();
        let d = diff(&before, &now);
        assert_eq!(d.into_iter().collect::<Vec<_>>(), vec![("b".into(), Change::Changed), ("c".into(), Change::Deleted), ("d".into(), Change::Created)]);
        // A touch that keeps the content is no change.
        let touched: BTreeMap<String, Mark> = [("a".to_string(), Mark { mtime_ns: 5, ..m(1) })].into();
        assert!(diff(&[("a".to_string(), m(1))].into(), &touched).is_empty());
    }
}

//! The write gate (DESIGN §6): the one function every write path goes through.
//!
//! A path is writable only when, after canonicalisation, it is inside the root (no `..` out,
//! no absolute path elsewhere, no symbolic link leading out), its case matches the file on
//! disk and the manifest exactly, it is not under `.maintaind/` or `.git/`, it matches no
//! excluded pattern, and it is in the active manifest's scope: its `files_to_modify`, its
//! `test_files` (unless tests are excluded), or a path widened since (`widen`). The manifest
//! itself must be intact (keyed digest), planned for this root, and not stale. A manifest is
//! a work order: its own edits never make it stale; the tree changing in a way the plan did
//! not foresee does (`tree.rs` defines it), and that refuses every write until the change is
//! planned again (`maintaind change --amend`).

use std::path::{Component, Path, PathBuf};

use maintaind_registry::Registry;
use serde::Serialize;

use crate::manifest::{Category, Manifest, excluded_by};

/// Longest path accepted (bytes); longer input is refused before touching the file system.
const MAX_PATH: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The path as given.
    pub input: String,
    /// Root-relative, when it resolved inside the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub allowed: bool,
    /// Why it is refused (or `in files_to_modify` / `in test_files`).
    pub reason: String,
}

/// Why the manifest as a whole cannot authorise writes: its tree is missing or damaged, or it
/// is stale (`tree::stale`). `registry` is current (refreshed by the caller); `root` is
/// canonical.
pub fn manifest_problem(root: &Path, manifest: &Manifest, registry: &Registry) -> Option<String> {
    let tree = match crate::manifest::ManifestStore::new(root).tree(&manifest.id) {
        Ok(t) => t,
        Err(e) => return Some(e.to_string()),
    };
    let now = match crate::tree::snapshot(root, Some(&tree.files)) {
        Ok(n) => n,
        Err(e) => return Some(format!("cannot read the tree to judge the manifest: {e}")),
    };
    let targets: std::collections::BTreeSet<&str> = manifest.facts.targets.iter().map(|t| t.file.as_str()).collect();
    let imports_target = |p: &str| registry.file(p).is_some_and(|f| f.imports.iter().any(|i| registry.resolve_import(p, &i.specifier).is_some_and(|r| targets.contains(r.as_str()))));
    crate::tree::stale(manifest, &tree, &now, &imports_target)
}

/// Decide one path against an intact, current manifest.
pub fn check(root: &Path, manifest: &Manifest, input: &str) -> Verdict {
    let refuse = |path: Option<String>, reason: String| Verdict { input: input.to_string(), path, allowed: false, reason };
    let rel = match resolve(root, input) {
        Ok(rel) => rel,
        Err(reason) => return refuse(None, reason),
    };
    let first = rel.split('/').next().unwrap_or("");
    if first == ".maintaind" || first == ".git" {
        return refuse(Some(rel.clone()), format!("{first}/ is maintaind's or git's own state, never written through the gate"));
    }
    // What is on disk there, judged as the writer judges it (a FIFO, a hard-linked file).
    match crate::safefs::RootDir::open(root) {
        Ok(dir) => {
            if let Err(e) = dir.check_writable(&rel) {
                return refuse(Some(rel.clone()), e.to_string().trim_start_matches(&format!("{rel}: ")).to_string());
            }
        }
        Err(e) => return refuse(Some(rel.clone()), format!("cannot open the root: {e}")),
    }
    let excluded = &manifest.decisions.excluded_categories;
    if let Some((c, p)) = excluded_by(&rel, excluded) {
        return refuse(Some(rel.clone()), format!("excluded by the manifest ({}: `{p}`)", c.as_str()));
    }
    if manifest.facts.files_to_modify.contains(&rel) {
        return Verdict { input: input.to_string(), path: Some(rel), allowed: true, reason: "in files_to_modify".into() };
    }
    if !excluded.contains(&Category::Tests) && manifest.facts.test_files.contains(&rel) {
        return Verdict { input: input.to_string(), path: Some(rel), allowed: true, reason: "in test_files".into() };
    }
    if let Some(w) = manifest.widened.iter().find(|w| w.path == rel) {
        return Verdict { input: input.to_string(), path: Some(rel), allowed: true, reason: format!("widened by {}: {}", w.by, w.reason) };
    }
    let scope = crate::tree::scope(manifest);
    let case_twin = scope.iter().find(|f| f.eq_ignore_ascii_case(&rel));
    match case_twin {
        Some(twin) => refuse(Some(rel.clone()), format!("case differs from `{twin}` in the manifest; paths are case-exact")),
        None => refuse(Some(rel.clone()), format!("not in the active manifest's scope ({} files); to add it: maintaind manifest widen {} --reason \"...\"", scope.len(), shell_word(&rel))),
    }
}

/// `path` as one shell word (quoted when it needs to be).
fn shell_word(path: &str) -> String {
    if path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+@".contains(c)) { path.to_string() } else { format!("'{}'", path.replace('\'', "'\\''")) }
}

/// Why `path` cannot be added to a manifest's scope, or its root-relative form: it must
/// resolve inside the root, not under `.git/` or `.maintaind/`, and match no excluded category.
pub fn widenable(root: &Path, manifest: &Manifest, path: &str) -> Result<String, String> {
    let rel = resolve(root, path)?;
    let first = rel.split('/').next().unwrap_or("");
    if first == ".maintaind" || first == ".git" {
        return Err(format!("{first}/ is maintaind's or git's own state; no manifest can include it"));
    }
    if let Some((c, p)) = excluded_by(&rel, &manifest.decisions.excluded_categories) {
        return Err(format!("{rel} is excluded by the manifest ({}: `{p}`); plan a change that does not exclude {} instead", c.as_str(), c.as_str()));
    }
    Ok(rel)
}

/// Canonicalise `input` against `root`: a root-relative, `/`-separated path, or why not.
pub fn resolve(root: &Path, input: &str) -> Result<String, String> {
    if input.is_empty() {
        return Err("empty path".into());
    }
    if input.contains('\0') {
        return Err("the path contains a NUL byte".into());
    }
    if input.len() > MAX_PATH {
        return Err(format!("the path is {} bytes long (limit {MAX_PATH})", input.len()));
    }
    let root = root.canonicalize().map_err(|e| format!("cannot resolve the root: {e}"))?;
    let given = Path::new(input);
    let joined = if given.is_absolute() { given.to_path_buf() } else { root.join(given) };
    // Lexical normalisation first: `..` may not climb out of the root.
    let mut normal = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                if !normal.pop() {
                    return Err("`..` leaves the file system root".into());
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    if !normal.starts_with(&root) {
        return Err(if given.is_absolute() { format!("absolute path outside the root ({})", root.display()) } else { "`..` leads outside the root".into() });
    }
    // Then the file system: no component may be a symbolic link (live or dangling, inside or
    // out): the writer never follows one, so the gate refuses what the writer would.
    let mut prefix = root.clone();
    for c in normal.strip_prefix(&root).map_err(|_| "outside the root".to_string())?.components() {
        prefix.push(c);
        match std::fs::symlink_metadata(&prefix) {
            Ok(m) if m.file_type().is_symlink() => {
                let shown = prefix.strip_prefix(&root).unwrap_or(&prefix).display().to_string();
                let to = std::fs::read_link(&prefix).map(|t| format!(" (to {})", t.display())).unwrap_or_default();
                return Err(format!("`{shown}` is a symbolic link{to}; maintaind never writes through a link, which could lead outside the root"));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    // The deepest existing ancestor is canonicalised (the file itself may be new).
    let mut existing = normal.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    while !existing.exists() {
        let Some(name) = existing.file_name().map(|n| n.to_os_string()) else { break };
        rest.push(name);
        existing.pop();
    }
    let mut real = existing.canonicalize().map_err(|e| format!("cannot resolve {}: {e}", existing.display()))?;
    for name in rest.into_iter().rev() {
        real.push(name);
    }
    if !real.starts_with(&root) {
        return Err(format!("a symbolic link leads outside the root (to {})", real.display()));
    }
    // Exact case: every existing component must match a directory entry byte for byte.
    let rel = real.strip_prefix(&root).map_err(|_| "outside the root".to_string())?;
    let mut dir = root.clone();
    for c in rel.components() {
        let name = c.as_os_str();
        let entries: Vec<std::ffi::OsString> = std::fs::read_dir(&dir).map(|rd| rd.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
        if !entries.iter().any(|e| e == name) {
            // Absent byte for byte: a case-insensitive twin means a case variant (which a
            // case-insensitive file system would silently map onto the real file).
            let lower = name.to_string_lossy().to_lowercase();
            if let Some(twin) = entries.iter().find(|e| e.to_string_lossy().to_lowercase() == lower) {
                return Err(format!("`{}` differs in case from `{}` on disk", name.to_string_lossy(), twin.to_string_lossy()));
            }
        }
        dir.push(name);
    }
    let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
    if rel.is_empty() {
        return Err("the root itself is not a file".into());
    }
    Ok(rel)
}

/// The file paths a Claude Code `PreToolUse` hook event wants to write (Write, Edit,
/// MultiEdit, NotebookEdit); empty for other tools.
pub fn hook_paths(event: &serde_json::Value) -> Result<Vec<String>, String> {
    let tool = event.get("tool_name").and_then(|t| t.as_str()).ok_or("the hook input has no `tool_name`")?;
    let key = match tool {
        "Write" | "Edit" | "MultiEdit" => "file_path",
        "NotebookEdit" => "notebook_path",
        _ => return Ok(Vec::new()),
    };
    let path = event.pointer(&format!("/tool_input/{key}")).and_then(|p| p.as_str()).ok_or(format!("the {tool} hook input has no `tool_input.{key}`"))?;
    Ok(vec![path.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_refuses_escapes_and_normalises() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src/providers")).unwrap();
        std::fs::write(root.join("src/providers/a.ts"), "").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("src/out")).unwrap();
        assert_eq!(resolve(&root, "src/providers/a.ts").unwrap(), "src/providers/a.ts");
        assert_eq!(resolve(&root, "./src/../src/providers/a.ts").unwrap(), "src/providers/a.ts");
        assert_eq!(resolve(&root, root.join("src/providers/new.ts").to_str().unwrap()).unwrap(), "src/providers/new.ts");
        assert!(resolve(&root, "../x.ts").unwrap_err().contains("outside the root"));
        assert!(resolve(&root, "src/../../x.ts").unwrap_err().contains("outside the root"));
        assert!(resolve(&root, "/etc/passwd").unwrap_err().contains("absolute path outside the root"));
        assert!(resolve(&root, "src/out/evil.ts").unwrap_err().contains("`src/out` is a symbolic link"));
        // A file in scope replaced by a link, live or dangling, inside or out.
        std::os::unix::fs::symlink(outside.path().join("gone.ts"), root.join("src/providers/dangling.ts")).unwrap();
        std::os::unix::fs::symlink(root.join("src/providers/a.ts"), root.join("src/providers/inside.ts")).unwrap();
        assert!(resolve(&root, "src/providers/dangling.ts").unwrap_err().contains("is a symbolic link"));
        assert!(resolve(&root, "src/providers/inside.ts").unwrap_err().contains("is a symbolic link"));
        assert!(resolve(&root, "src/Providers/a.ts").unwrap_err().contains("differs in case"));
        assert!(resolve(&root, "src/a\0.ts").unwrap_err().contains("NUL"));
        assert!(resolve(&root, &"a/".repeat(2600)).unwrap_err().contains("limit 4096"));
        assert!(resolve(&root, "").unwrap_err().contains("empty"));
    }

    #[test]
    fn hook_events() {
        let write = serde_json::json!({"tool_name": "Write", "tool_input": {"file_path": "/r/src/a.ts", "content": "x"}});
        assert_eq!(hook_paths(&write).unwrap(), vec!["/r/src/a.ts"]);
        let nb = serde_json::json!({"tool_name": "NotebookEdit", "tool_input": {"notebook_path": "n.ipynb"}});
        assert_eq!(hook_paths(&nb).unwrap(), vec!["n.ipynb"]);
        assert!(hook_paths(&serde_json::json!({"tool_name": "Bash", "tool_input": {}})).unwrap().is_empty());
        assert!(hook_paths(&serde_json::json!({"tool_name": "Edit", "tool_input": {}})).unwrap_err().contains("tool_input.file_path"));
        assert!(hook_paths(&serde_json::json!({})).unwrap_err().contains("tool_name"));
    }
}

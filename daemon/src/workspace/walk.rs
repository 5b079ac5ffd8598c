//! Finding the workspace's files: TypeScript, Prisma and tsconfig files under the root,
//! honouring `.gitignore`, never entering `node_modules/`, `.git/` or `.maintaind/`.
//!
//! Symbolic links are not followed (a link can point outside the root or into a loop); each
//! one met is reported in `skipped` so nothing disappears silently.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use maintaind_registry::{classify, is_tsconfig};

/// Directories never indexed, whatever `.gitignore` says.
pub const NEVER_INDEXED: [&str; 3] = ["node_modules", ".git", ".maintaind"];

/// Why a path whose name is not valid UTF-8 is skipped.
pub const NOT_UTF8: &str = "the name is not valid UTF-8; maintaind indexes UTF-8 names only (rename it to be indexed)";

#[derive(Debug, Clone)]
pub struct Found {
    /// Root-relative, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub sources: Vec<Found>,
    pub tsconfigs: Vec<Found>,
    /// Every other regular file and every symbolic link (only from [`walk_everything`]).
    pub others: Vec<Found>,
    /// Paths passed over, each with the reason (`symlink not followed`, `cannot read ...`).
    pub skipped: Vec<(String, String)>,
    /// Every directory entered (the root first): what the daemon's watcher watches.
    pub dirs: Vec<PathBuf>,
    /// Every `.gitignore` met, so a watcher can judge new files as the walk would.
    pub gitignores: Vec<PathBuf>,
}

/// The files maintaind indexes (sources and tsconfigs) under `root`.
pub fn walk(root: &Path) -> Walk {
    walk_with(root, false)
}

/// One TypeScript source per tsconfig directory, for a language server to load that project
/// early: the first in path order whose nearest tsconfig is that one, preferring one its
/// `include` names (a file it does not include lands in an inferred project of its own, which
/// costs the server memory for nothing) and one in a subdirectory (`src/…`, not a config file
/// beside the tsconfig), never a declaration file; none for a project another one covers
/// ([`maintaind_registry::TsConfigSet::covered`]).
pub fn early_files(root: &Path) -> Vec<String> {
    let w = walk(root);
    let texts: Vec<(String, String)> = w.tsconfigs.iter().filter_map(|f| Some((f.rel.clone(), String::from_utf8_lossy(&crate::safefs::read_regular(&f.abs).ok()?).into_owned()))).collect();
    let configs = maintaind_registry::TsConfigSet::new(&texts);
    let typescript: Vec<&str> = w.sources.iter().map(|f| f.rel.as_str()).filter(|r| r.ends_with(".ts") || r.ends_with(".tsx")).collect();
    // A covered project is not loaded (each file once): it gets no early file.
    let covered = configs.covered(&typescript);
    let mut sources: Vec<&str> = typescript.into_iter().filter(|r| !r.ends_with(".d.ts")).collect();
    sources.sort_unstable();
    configs
        .dirs()
        .iter()
        .filter(|dir| !covered.contains_key(*dir))
        .filter_map(|dir| {
            let config = configs.main_config(dir)?;
            let own = |f: &&&str| configs.nearest_dir(f) == Some(dir.as_str());
            let included = |f: &&&str| own(f) && config.includes(f);
            let nested = |f: &&&str| included(f) && f[if dir.is_empty() { 0 } else { dir.len() + 1 }..].contains('/');
            sources.iter().find(nested).or_else(|| sources.iter().find(included)).or_else(|| sources.iter().find(own)).map(|f| f.to_string())
        })
        .collect()
}

/// Every file under `root` the walk would see (sources, tsconfigs and all others, links
/// included but not followed), for the tree a manifest's audit compares against.
pub fn walk_everything(root: &Path) -> Walk {
    walk_with(root, true)
}

fn walk_with(root: &Path, everything: bool) -> Walk {
    let mut out = Walk::default();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .ignore(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| !(e.depth() > 0 && e.file_type().is_some_and(|t| t.is_dir()) && NEVER_INDEXED.iter().any(|n| e.file_name() == *n)))
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = error_path(&err).map(|p| rel_path(root, &p)).unwrap_or_default();
                out.skipped.push((path, err.to_string()));
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else { continue };
        let rel = rel_path(root, entry.path());
        // Names are kept as UTF-8 throughout (the registry, manifests, JSON): a name that is
        // not would be mangled into another file's name, so it is refused loudly instead.
        if entry.path().to_str().is_none() {
            if file_type.is_dir() || classify(&rel).is_some() || is_tsconfig(&rel) {
                out.skipped.push((rel, NOT_UTF8.into()));
            }
            continue;
        }
        if file_type.is_symlink() {
            if everything {
                let meta = entry.path().symlink_metadata();
                out.others.push(Found { rel: rel.clone(), abs: entry.path().to_path_buf(), size: meta.as_ref().map(|m| m.len()).unwrap_or(0), mtime_ns: meta.as_ref().map(mtime_ns).unwrap_or(0) });
            }
            if classify(&rel).is_some() || is_tsconfig(&rel) || std::fs::metadata(entry.path()).map(|m| m.is_dir()).unwrap_or(false) {
                out.skipped.push((rel, "symbolic link not followed".into()));
            }
            continue;
        }
        if file_type.is_dir() {
            out.dirs.push(entry.path().to_path_buf());
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        if entry.file_name() == ".gitignore" {
            out.gitignores.push(entry.path().to_path_buf());
        }
        let wanted_source = classify(&rel).is_some();
        let wanted_config = is_tsconfig(&rel);
        if !wanted_source && !wanted_config && !everything {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                out.skipped.push((rel, format!("cannot stat: {e}")));
                continue;
            }
        };
        let found = Found { rel, abs: entry.path().to_path_buf(), size: meta.len(), mtime_ns: mtime_ns(&meta) };
        if wanted_source {
            out.sources.push(found);
        } else if wanted_config {
            out.tsconfigs.push(found);
        } else {
            out.others.push(found);
        }
    }
    out.sources.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.tsconfigs.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.others.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

pub fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// The walk's ignore rules, for judging one path later (a file the watcher reports): the
/// directories it never enters, and each `.gitignore` applied from its own directory, the
/// deepest match deciding, as git does.
pub struct IgnoreRules {
    root: PathBuf,
    rules: Vec<(PathBuf, ignore::gitignore::Gitignore)>,
}

impl IgnoreRules {
    pub fn new(root: &Path, gitignores: &[PathBuf]) -> IgnoreRules {
        let mut files: Vec<PathBuf> = gitignores.to_vec();
        files.push(root.join(".git/info/exclude"));
        let mut rules: Vec<(PathBuf, ignore::gitignore::Gitignore)> = files
            .iter()
            .filter(|f| f.is_file())
            .filter_map(|f| {
                let dir = if f.ends_with(".git/info/exclude") { root.to_path_buf() } else { f.parent()?.to_path_buf() };
                let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
                builder.add(f);
                Some((dir, builder.build().ok()?))
            })
            .collect();
        // Shallow first, so the deepest match is the last one seen.
        rules.sort_by_key(|(dir, _)| dir.components().count());
        IgnoreRules { root: root.to_path_buf(), rules }
    }

    /// Whether the walk would pass over `path` (absolute, under the root).
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else { return true };
        if rel.components().any(|c| NEVER_INDEXED.iter().any(|n| c.as_os_str() == *n)) {
            return true;
        }
        let mut ignored = false;
        for (dir, rules) in &self.rules {
            if path.starts_with(dir) {
                match rules.matched_path_or_any_parents(path, is_dir) {
                    ignore::Match::Ignore(_) => ignored = true,
                    ignore::Match::Whitelist(_) => ignored = false,
                    ignore::Match::None => {}
                }
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_rules_follow_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/gen")).unwrap();
        std::fs::write(root.join(".gitignore"), "dist/\n*.gen.ts\n").unwrap();
        std::fs::write(root.join("src/gen/.gitignore"), "secret.ts\n!keep.gen.ts\n").unwrap();
        std::fs::write(root.join("src/a.ts"), "export const a = 1;\n").unwrap();
        let w = walk(root);
        assert!(w.dirs.iter().any(|d| d.ends_with("src/gen")));
        let rules = IgnoreRules::new(root, &w.gitignores);
        assert!(!rules.is_ignored(&root.join("src/a.ts"), false));
        assert!(rules.is_ignored(&root.join("dist/a.ts"), false));
        assert!(rules.is_ignored(&root.join("src/x.gen.ts"), false));
        assert!(rules.is_ignored(&root.join("src/gen/secret.ts"), false));
        assert!(!rules.is_ignored(&root.join("src/gen/keep.gen.ts"), false));
        assert!(rules.is_ignored(&root.join("node_modules/x/index.ts"), false));
        assert!(rules.is_ignored(&root.join(".maintaind/registry.db"), false));
    }

    #[test]
    fn early_files_are_one_source_per_tsconfig_below_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (rel, text) in [
            ("tsconfig.json", "{\"include\": [\"src\"]}"),
            ("nestia.config.ts", "export default {};\n"),
            ("build/env.ts", "export const env = 1;\n"),
            ("src/z.ts", "export const z = 1;\n"),
            ("src/api/a.ts", "export const a = 1;\n"),
            ("src/types.d.ts", "declare const d: number;\n"),
            ("test/tsconfig.json", "{}"),
            ("test/index.ts", "export {};\n"),
            ("test/features/t.ts", "export {};\n"),
            ("empty/tsconfig.json", "{}"),
        ] {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::write(root.join(rel), text).unwrap();
        }
        // A file the config includes, in a subdirectory, in path order, never a declaration,
        // never another project's; a tsconfig with no source of its own opens nothing.
        assert_eq!(early_files(root), vec!["src/api/a.ts".to_string(), "test/features/t.ts".to_string()]);
        // AutoBE's layout: the test project extends the root and includes `../src`, so the
        // root project is covered and only the test project is loaded.
        std::fs::write(root.join("test/tsconfig.json"), "{ \"extends\": \"../tsconfig.json\", \"include\": [\".\", \"../src\"] }").unwrap();
        assert_eq!(early_files(root), vec!["test/features/t.ts".to_string()]);
    }
}

//! Import resolution: module specifiers to files of the workspace, through relative paths and
//! every `tsconfig*.json`'s `baseUrl`, `paths` and `extends` (JSONC: comments and trailing
//! commas are allowed, as `tsc` allows them).
//!
//! Resolution is pure: it checks candidates against the set of files the registry knows, never
//! the file system. A generated backend compiles its tests under `test/tsconfig.json` with a
//! path alias (`@ORGANIZATION/PROJECT-api` → `../src/api`); that alias only applies to files
//! under `test/`, so each file is resolved with the configs of its own directory and its
//! ancestors, nearest first.

use std::collections::HashMap;

use serde_json::Value;

/// One tsconfig after following `extends`: where `baseUrl` and `paths` point, root-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsConfig {
    /// Root-relative path of the tsconfig file.
    pub path: String,
    /// Root-relative directory of the tsconfig file (`""` for the root).
    pub dir: String,
    /// Root-relative `baseUrl`, if any config in the chain sets one.
    pub base_url: Option<String>,
    /// `paths` patterns with their targets, root-relative.
    pub paths: Vec<(String, Vec<String>)>,
    /// Problems reading it (bad JSONC, an `extends` that is not in the workspace).
    pub problems: Vec<String>,
    /// The directories its own `include` patterns start from (root-relative: `src/**/*.ts` and
    /// `./src` give `src`); `None` when it has no `include` of its own (everything under `dir`).
    pub include: Option<Vec<String>>,
    /// The workspace configs it extends, directly or through others (root-relative paths).
    pub extends: Vec<String>,
}

impl TsConfig {
    /// Whether `file` (root-relative) is under one of the directories the config includes.
    /// An approximation of TypeScript's matching (no `exclude`, no `files`, no inheritance),
    /// enough to tell `src/x.ts` from a `build/env.ts` beside an `"include": ["src"]`.
    pub fn includes(&self, file: &str) -> bool {
        match &self.include {
            None => is_within(file, &self.dir),
            Some(dirs) => dirs.iter().any(|d| is_within(file, d)),
        }
    }
}

/// One `compilerOptions.paths` entry: the pattern and its target patterns.
type PathMapping = (String, Vec<String>);

/// The raw, unmerged options of one file.
#[derive(Debug, Clone, Default)]
struct RawConfig {
    extends: Vec<String>,
    /// Root-relative, already joined with the file's own directory.
    base_url: Option<String>,
    /// Patterns and the raw targets, plus the directory they are relative to when there is no
    /// `baseUrl` (the directory of the config that defines `paths`).
    paths: Option<(Vec<PathMapping>, String)>,
    problem: Option<String>,
    include: Option<Vec<String>>,
}

/// Every tsconfig in the workspace, resolved.
#[derive(Debug, Clone, Default)]
pub struct TsConfigSet {
    configs: Vec<TsConfig>,
}

impl TsConfigSet {
    /// Build from `(root-relative path, text)` pairs.
    pub fn new(files: &[(String, String)]) -> TsConfigSet {
        let raw: HashMap<&str, RawConfig> = files.iter().map(|(p, t)| (p.as_str(), parse_raw(p, t))).collect();
        let mut configs: Vec<TsConfig> = files
            .iter()
            .map(|(path, _)| {
                let mut problems = Vec::new();
                let mut extends = Vec::new();
                let (base_url, paths) = effective(path, &raw, &mut problems, &mut extends, 0);
                let paths = paths
                    .map(|(patterns, defined_in)| {
                        let base = base_url.clone().unwrap_or(defined_in);
                        patterns
                            .into_iter()
                            .map(|(pat, targets)| {
                                let targets = targets.iter().filter_map(|t| join(&base, t)).collect();
                                (pat, targets)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let include = raw.get(path.as_str()).and_then(|r| r.include.clone());
                TsConfig { path: path.clone(), dir: parent(path).to_string(), base_url, paths, problems, include, extends }
            })
            .collect();
        // Nearest first: deeper directories before shallower; `tsconfig.json` before variants.
        configs.sort_by(|a, b| {
            let depth = |c: &TsConfig| if c.dir.is_empty() { 0 } else { c.dir.matches('/').count() + 1 };
            depth(b)
                .cmp(&depth(a))
                .then_with(|| a.dir.cmp(&b.dir))
                .then_with(|| (!a.path.ends_with("/tsconfig.json") && a.path != "tsconfig.json").cmp(&(!b.path.ends_with("/tsconfig.json") && b.path != "tsconfig.json")))
                .then_with(|| a.path.cmp(&b.path))
        });
        TsConfigSet { configs }
    }

    pub fn configs(&self) -> &[TsConfig] {
        &self.configs
    }

    /// The directories that hold a config, each once, in path order.
    pub fn dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = self.configs.iter().map(|c| c.dir.clone()).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The directory of the config nearest above `file` (root-relative): its project's, as
    /// `tsc` and the language servers pick it.
    pub fn nearest_dir(&self, file: &str) -> Option<&str> {
        self.configs.iter().find(|c| is_within(file, &c.dir)).map(|c| c.dir.as_str())
    }

    /// The main config of `dir`: its `tsconfig.json` before variants such as `tsconfig.build.json`.
    pub fn main_config(&self, dir: &str) -> Option<&TsConfig> {
        self.configs.iter().find(|c| c.dir == dir)
    }

    /// The project directories a language server need not load, each with the one whose
    /// project holds all of its files (`files`: root-relative, the workspace's sources). A
    /// project is covered when another one's main config extends its own (the same compiler
    /// options, a few overridden) and includes every file of `files` that it includes:
    /// a generated backend's `test/tsconfig.json` extends `../tsconfig.json` and includes
    /// `../src`, so loading both would check each `src` file twice (issue 15). Covering is
    /// followed to its end (`a` in `b` in `c` gives `a → c`).
    pub fn covered(&self, files: &[&str]) -> HashMap<String, String> {
        let dirs = self.dirs();
        let mains: Vec<&TsConfig> = dirs.iter().filter_map(|d| self.main_config(d)).collect();
        let mut direct: HashMap<String, String> = HashMap::new();
        for small in &mains {
            let mine: Vec<&&str> = files.iter().filter(|f| small.includes(f)).collect();
            let by = mains.iter().filter(|big| big.dir != small.dir && big.extends.contains(&small.path) && mine.iter().all(|f| big.includes(f))).map(|big| big.dir.clone()).min();
            if let Some(by) = by {
                direct.insert(small.dir.clone(), by);
            }
        }
        // `extends` has no cycles that reach here (a cycle stops at depth 16 with a problem),
        // but a bound keeps a malformed set from looping.
        let mut out = HashMap::new();
        for dir in direct.keys() {
            let mut end = &direct[dir];
            for _ in 0..mains.len() {
                match direct.get(end) {
                    Some(next) if next != dir => end = next,
                    _ => break,
                }
            }
            if end != dir {
                out.insert(dir.clone(), end.clone());
            }
        }
        out
    }

    /// Resolve `specifier` imported from `from` (root-relative) to a known file.
    pub fn resolve(&self, from: &str, specifier: &str, exists: &dyn Fn(&str) -> bool) -> Option<String> {
        if specifier.starts_with("./") || specifier.starts_with("../") || specifier == "." || specifier == ".." {
            return probe(&join(parent(from), specifier)?, exists);
        }
        // The file belongs to the project(s) of the nearest directory that has a tsconfig, as
        // with tsc; configs further up only apply through `extends`.
        let nearest = self.nearest_dir(from)?;
        for config in self.configs.iter().filter(|c| c.dir == nearest) {
            for (pattern, targets) in &config.paths {
                let Some(star) = match_pattern(pattern, specifier) else { continue };
                for target in targets {
                    let candidate = target.replacen('*', star, 1);
                    if let Some(found) = probe(&candidate, exists) {
                        return Some(found);
                    }
                }
            }
            if let Some(base) = &config.base_url
                && let Some(found) = join(base, specifier).and_then(|c| probe(&c, exists))
            {
                return Some(found);
            }
        }
        None
    }
}

fn parse_raw(path: &str, text: &str) -> RawConfig {
    let dir = parent(path);
    let value: Value = match jsonc_parser::parse_to_serde_value::<Option<Value>>(text, &Default::default()) {
        Ok(Some(v)) => v,
        Ok(None) => return RawConfig { problem: Some(format!("{path}: empty tsconfig")), ..Default::default() },
        Err(e) => return RawConfig { problem: Some(format!("{path}: {e}")), ..Default::default() },
    };
    let mut raw = RawConfig::default();
    match value.get("extends") {
        Some(Value::String(s)) => raw.extends.push(s.clone()),
        Some(Value::Array(items)) => raw.extends.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string))),
        _ => {}
    }
    if let Some(Value::Array(patterns)) = value.get("include") {
        // The literal directory each pattern starts from: up to its first wildcard segment.
        let dirs = patterns
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|p| {
                let literal: Vec<&str> = p.split('/').take_while(|seg| !seg.contains('*') && !seg.contains('?')).collect();
                let literal = literal.join("/");
                // A pattern naming a file (`src/main.ts`) includes that file's directory.
                let literal = if literal.ends_with(".ts") || literal.ends_with(".tsx") { parent(&literal).to_string() } else { literal };
                join(dir, if literal.is_empty() { "." } else { &literal })
            })
            .collect();
        raw.include = Some(dirs);
    }
    let options = value.get("compilerOptions");
    if let Some(base) = options.and_then(|o| o.get("baseUrl")).and_then(Value::as_str) {
        raw.base_url = join(dir, base);
    }
    if let Some(Value::Object(map)) = options.and_then(|o| o.get("paths")) {
        let patterns = map
            .iter()
            .map(|(k, v)| {
                let targets = v.as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default();
                (k.clone(), targets)
            })
            .collect();
        raw.paths = Some((patterns, dir.to_string()));
    }
    raw
}

type Effective = (Option<String>, Option<(Vec<(String, Vec<String>)>, String)>);

/// Merge a config with what it extends: own settings win over inherited ones.
fn effective(path: &str, raw: &HashMap<&str, RawConfig>, problems: &mut Vec<String>, chain: &mut Vec<String>, depth: usize) -> Effective {
    let Some(me) = raw.get(path) else {
        problems.push(format!("extends `{path}`, which is not in the workspace"));
        return (None, None);
    };
    if let Some(p) = &me.problem {
        problems.push(p.clone());
    }
    if depth > 16 {
        problems.push(format!("{path}: `extends` chain deeper than 16 (a cycle?)"));
        return (me.base_url.clone(), me.paths.clone());
    }
    let mut base_url = None;
    let mut paths = None;
    for ext in &me.extends {
        if !(ext.starts_with("./") || ext.starts_with("../")) {
            // A package (`@tsconfig/node20`): it cannot set paths into this workspace.
            continue;
        }
        let Some(mut target) = join(parent(path), ext) else { continue };
        if !target.ends_with(".json") {
            target.push_str(".json");
        }
        if raw.contains_key(target.as_str()) && !chain.contains(&target) {
            chain.push(target.clone());
        }
        let (b, p) = effective(&target, raw, problems, chain, depth + 1);
        if b.is_some() {
            base_url = b;
        }
        if p.is_some() {
            paths = p;
        }
    }
    if me.base_url.is_some() {
        base_url = me.base_url.clone();
    }
    if me.paths.is_some() {
        paths = me.paths.clone();
    }
    (base_url, paths)
}

/// `@api/*` against `@api/lib/x` → `Some("lib/x")`; an exact pattern matches with `""`.
fn match_pattern<'a>(pattern: &str, specifier: &'a str) -> Option<&'a str> {
    match pattern.split_once('*') {
        None => (pattern == specifier).then_some(""),
        Some((prefix, suffix)) => {
            if specifier.len() >= prefix.len() + suffix.len() && specifier.starts_with(prefix) && specifier.ends_with(suffix) {
                Some(&specifier[prefix.len()..specifier.len() - suffix.len()])
            } else {
                None
            }
        }
    }
}

/// Try the ways TypeScript turns a path into a file: as is, with an extension, as a directory
/// with an index, and `.js` written for a `.ts` file (ESM style).
fn probe(candidate: &str, exists: &dyn Fn(&str) -> bool) -> Option<String> {
    let candidate = candidate.trim_end_matches('/');
    for (js, ts) in [(".js", &[".ts", ".tsx", ".d.ts"][..]), (".mjs", &[".mts", ".d.mts"]), (".cjs", &[".cts", ".d.cts"]), (".jsx", &[".tsx"])] {
        if let Some(stem) = candidate.strip_suffix(js) {
            for ext in ts {
                let c = format!("{stem}{ext}");
                if exists(&c) {
                    return Some(c);
                }
            }
        }
    }
    if exists(candidate) {
        return Some(candidate.to_string());
    }
    for ext in [".ts", ".tsx", ".d.ts", ".mts", ".cts", ".d.mts", ".d.cts"] {
        let c = format!("{candidate}{ext}");
        if exists(&c) {
            return Some(c);
        }
    }
    for index in ["index.ts", "index.tsx", "index.d.ts"] {
        let c = if candidate.is_empty() { index.to_string() } else { format!("{candidate}/{index}") };
        if exists(&c) {
            return Some(c);
        }
    }
    None
}

/// The directory part of a root-relative path (`""` at the root).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

fn is_within(file: &str, dir: &str) -> bool {
    dir.is_empty() || (file.starts_with(dir) && file.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// Join a root-relative directory and a relative path, folding `.` and `..`. `None` when the
/// result would leave the root.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') { Vec::new() } else { dir.split('/').filter(|p| !p.is_empty()).collect() };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> TsConfigSet {
        TsConfigSet::new(&files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect::<Vec<_>>())
    }

    fn resolver<'a>(known: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
        move |p: &str| known.contains(&p)
    }

    #[test]
    fn relative_and_index_and_js_extension() {
        let s = set(&[]);
        let known = ["src/a.ts", "src/lib/index.ts", "src/b.tsx", "src/c.d.ts"];
        let e = resolver(&known);
        assert_eq!(s.resolve("src/x.ts", "./a", &e).as_deref(), Some("src/a.ts"));
        assert_eq!(s.resolve("src/x.ts", "./a.js", &e).as_deref(), Some("src/a.ts"));
        assert_eq!(s.resolve("src/x.ts", "./lib", &e).as_deref(), Some("src/lib/index.ts"));
        assert_eq!(s.resolve("src/sub/x.ts", "../b", &e).as_deref(), Some("src/b.tsx"));
        assert_eq!(s.resolve("src/x.ts", "./c", &e).as_deref(), Some("src/c.d.ts"));
        assert_eq!(s.resolve("src/x.ts", "../../../etc/passwd", &e), None);
        assert_eq!(s.resolve("src/x.ts", "typia", &e), None);
    }

    #[test]
    fn paths_and_base_url_through_extends_with_jsonc() {
        let s = set(&[
            ("tsconfig.json", "{\n // comment\n \"compilerOptions\": { \"baseUrl\": \"./src\", \"paths\": { \"@stub/*\": [\"../stubs/*\"], }, },\n}"),
            ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", /* alias */ \"compilerOptions\": { \"paths\": { \"@ORG/api\": [\"../src/api\"], \"@ORG/api/lib/*\": [\"../src/api/*\"] } } }"),
        ]);
        let known = ["src/api/index.ts", "src/api/structures/IUser.ts", "stubs/typia.d.ts", "src/MyGlobal.ts"];
        let e = resolver(&known);
        // The test config inherits baseUrl (src) and its own paths are relative to that baseUrl.
        let test_cfg = s.configs().iter().find(|c| c.path == "test/tsconfig.json").unwrap();
        assert_eq!(test_cfg.base_url.as_deref(), Some("src"));
        // Inherited baseUrl `src`: `../src/api` is taken relative to it, as tsc does.
        assert_eq!(s.resolve("test/features/t.ts", "@ORG/api", &e).as_deref(), Some("src/api/index.ts"));
        assert_eq!(s.resolve("src/providers/p.ts", "@stub/typia", &e).as_deref(), Some("stubs/typia.d.ts"));
        assert_eq!(s.resolve("src/providers/p.ts", "MyGlobal", &e).as_deref(), Some("src/MyGlobal.ts"));
    }

    #[test]
    fn paths_without_base_url_are_relative_to_the_defining_config() {
        let s = set(&[
            ("tsconfig.json", "{ \"compilerOptions\": { \"paths\": { \"typia\": [\"./stubs/typia.d.ts\"] } } }"),
            ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", \"compilerOptions\": { \"paths\": { \"@ORG/api\": [\"../src/api\"], \"@ORG/api/lib/*\": [\"../src/api/*\"] } } }"),
        ]);
        let known = ["src/api/index.ts", "src/api/structures/IUser.ts", "stubs/typia.d.ts"];
        let e = resolver(&known);
        assert_eq!(s.resolve("test/features/t.ts", "@ORG/api", &e).as_deref(), Some("src/api/index.ts"));
        assert_eq!(s.resolve("test/features/t.ts", "@ORG/api/lib/structures/IUser", &e).as_deref(), Some("src/api/structures/IUser.ts"));
        // The alias belongs to the test project only.
        assert_eq!(s.resolve("src/a.ts", "@ORG/api", &e), None);
        // Overridden `paths` replace the inherited ones, as in tsc.
        assert_eq!(s.resolve("test/t.ts", "typia", &e), None);
        assert_eq!(s.resolve("src/a.ts", "typia", &e).as_deref(), Some("stubs/typia.d.ts"));
    }

    #[test]
    fn broken_and_cyclic_configs_are_reported_not_fatal() {
        let s = set(&[
            ("tsconfig.json", "{ not json"),
            ("a/tsconfig.json", "{ \"extends\": \"./tsconfig.b.json\" }"),
            ("a/tsconfig.b.json", "{ \"extends\": \"./tsconfig.json\" }"),
            ("b/tsconfig.json", "{ \"extends\": \"./missing.json\" }"),
        ]);
        let root = s.configs().iter().find(|c| c.path == "tsconfig.json").unwrap();
        assert!(!root.problems.is_empty());
        let a = s.configs().iter().find(|c| c.path == "a/tsconfig.json").unwrap();
        assert!(a.problems.iter().any(|p| p.contains("cycle")), "{:?}", a.problems);
        let b = s.configs().iter().find(|c| c.path == "b/tsconfig.json").unwrap();
        assert!(b.problems.iter().any(|p| p.contains("not in the workspace")), "{:?}", b.problems);
    }

    #[test]
    fn a_project_whose_files_another_extending_project_includes_is_covered() {
        let files = ["src/a.ts", "src/api/b.ts", "test/t.ts", "test/features/u.ts", "build/env.ts", "tools/x.ts"];
        // AutoBE's layout: test extends the root and includes `../src`.
        let s = set(&[
            ("tsconfig.json", "{ \"include\": [\"src\"] }"),
            ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", \"include\": [\".\", \"../src\"] }"),
            ("tools/tsconfig.json", "{ \"include\": [\".\", \"../src\"] }"),
        ]);
        let covered = s.covered(&files);
        assert_eq!(covered.get(""), Some(&"test".to_string()));
        // Including the root's files is not enough without extending it (other options).
        assert_eq!(covered.len(), 1, "{covered:?}");
        // A test project that does not include `../src` covers nothing: the root loads.
        let s = set(&[("tsconfig.json", "{ \"include\": [\"src\"] }"), ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", \"include\": [\".\"] }")]);
        assert!(s.covered(&files).is_empty());
        // A root without `include` holds everything under it, `build/` too: not covered.
        let s = set(&[("tsconfig.json", "{}"), ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", \"include\": [\".\", \"../src\"] }")]);
        assert!(s.covered(&files).is_empty());
        // Covering is followed to its end.
        let s = set(&[
            ("tsconfig.json", "{ \"include\": [\"src\"] }"),
            ("test/tsconfig.json", "{ \"extends\": \"../tsconfig.json\", \"include\": [\".\", \"../src\"] }"),
            ("all/tsconfig.json", "{ \"extends\": \"../test/tsconfig.json\", \"include\": [\"../test\", \"../src\", \"../build\"] }"),
        ]);
        let covered = s.covered(&files);
        assert_eq!(covered.get(""), Some(&"all".to_string()));
        assert_eq!(covered.get("test"), Some(&"all".to_string()));
    }

    #[test]
    fn join_folds_dots() {
        assert_eq!(join("a/b", "../c/./d").as_deref(), Some("a/c/d"));
        assert_eq!(join("", "..").as_deref(), None);
        assert_eq!(join("a", "..").as_deref(), Some(""));
    }
}

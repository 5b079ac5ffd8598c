//! The manifest of one planned change (DESIGN §5): the planner's *decisions*, the
//! synthesizer's *facts*, one feasibility verdict per acceptance criterion, and provenance.
//!
//! [`Decisions`] is the only thing a planner writes. It has no fact fields at all, rejects
//! unknown fields, and its JSON Schema (generated from the Rust type with schemars) is exactly
//! what an LLM planner is asked to fill — so a model cannot smuggle in paths or callers.
//! Exclusion categories map to file patterns of the generated-backend layout here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::blast::{ChangeKind, Impact};

/// What the planner decides. Nothing here is a fact the code already knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decisions {
    /// One sentence: what the change does.
    pub summary: String,
    /// Existing symbols to change, each with the kind of change and why.
    pub changes: Vec<DecidedChange>,
    /// Symbols to create.
    #[serde(default)]
    pub new_symbols: Vec<NewSymbol>,
    /// What must be true when the change is done (checkable statements).
    #[serde(default)]
    pub acceptance_criteria: Vec<String>,
    /// Parts of the project the change must not touch.
    #[serde(default)]
    pub excluded_categories: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecidedChange {
    /// A registry symbol: `Name`, `Qualified.Name`, `path/to/file.ts#Name` or
    /// `prisma:model[.field]`.
    pub symbol: String,
    pub kind: ChangeKind,
    /// What the change is meant to achieve for this symbol.
    pub intent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSymbol {
    pub name: String,
    pub kind: NewSymbolKind,
    /// The existing symbol it belongs next to (its owner for a field or property).
    pub near: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewSymbolKind {
    Field,
    Property,
    Parameter,
    Function,
    Type,
}

/// The fixed vocabulary of things a request can put off limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The database schema and migrations.
    Persistence,
    /// The HTTP API: controllers, DTOs and the generated SDK.
    Api,
    /// The e2e tests.
    Tests,
    /// Project configuration.
    Config,
    /// Build, packaging and dependency files.
    Build,
}

impl Category {
    pub const ALL: [Category; 5] = [Category::Persistence, Category::Api, Category::Tests, Category::Config, Category::Build];

    /// File patterns (root-relative globs) of this category in a generated backend.
    pub fn patterns(self) -> &'static [&'static str] {
        match self {
            Category::Persistence => &["prisma/**", "**/schema.prisma"],
            Category::Api => &["src/controllers/**", "src/api/**"],
            Category::Tests => &["test/**", "tests/**", "**/*.spec.ts", "**/*.test.ts"],
            Category::Config => &["tsconfig*.json", "**/tsconfig*.json", "package.json", ".env*", "maintaind.toml", "nest-cli.json", "*.config.*"],
            Category::Build => &["package-lock.json", "pnpm-lock.yaml", "yarn.lock", "Dockerfile", ".github/**", "dist/**", "scripts/**"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Persistence => "persistence",
            Category::Api => "api",
            Category::Tests => "tests",
            Category::Config => "config",
            Category::Build => "build",
        }
    }
}

/// The first pattern of `categories` that `path` matches: `(category, pattern)`.
pub fn excluded_by(path: &str, categories: &[Category]) -> Option<(Category, &'static str)> {
    for c in categories {
        for p in c.patterns() {
            let glob = globset::GlobBuilder::new(p).literal_separator(true).build().expect("category patterns are valid globs").compile_matcher();
            if glob.is_match(path) {
                return Some((*c, p));
            }
        }
    }
    None
}

/// A decision that touches an excluded category, named precisely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, schemars::JsonSchema)]
#[error("{field} touches {path}, which the request excluded ({category}: `{pattern}`)")]
pub struct ExclusionViolation {
    /// The decision field, e.g. `changes[0].symbol`.
    pub field: String,
    pub path: String,
    pub category: &'static str,
    pub pattern: &'static str,
}

/// Parse planner output strictly: unknown fields (facts included) are errors, named by their
/// JSON path (`$.changes[0]: unknown field ...`); a fact field says it is one.
pub fn parse_decisions(json: &str) -> Result<Decisions, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    let decisions: Decisions = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "$".to_string() } else { format!("$.{path}") };
        let inner = e.inner().to_string();
        match FACT_FIELDS.iter().find(|f| inner.contains(&format!("unknown field `{f}`"))) {
            Some(f) => format!("{path}: `{f}` is a fact, not a decision: the synthesizer fills it from the registry and the language server ({inner})"),
            None => format!("{path}: {inner}"),
        }
    })?;
    // Trailing garbage after the object is not a decision either.
    de.end().map_err(|e| format!("$: {e}"))?;
    Ok(decisions)
}

/// The manifest's fact fields, which a planner may never write.
pub const FACT_FIELDS: [&str; 14] = [
    "targets",
    "blast_radius",
    "files_to_modify",
    "files_to_read",
    "test_files",
    "dependency_signatures",
    "excluded_patterns",
    "generated_files",
    "registry_generation",
    "file",
    "hash",
    "line",
    "start_line",
    "end_line",
];

/// The JSON Schema an LLM planner fills (generated from [`Decisions`]).
pub fn decisions_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Decisions)).expect("schemas serialise")
}

/// Facts the synthesizer filled from the registry and the language server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Facts {
    pub targets: Vec<TargetFact>,
    pub blast_radius: Vec<Impact>,
    pub files_to_modify: Vec<String>,
    pub files_to_read: Vec<String>,
    pub test_files: Vec<String>,
    pub dependency_signatures: Vec<SignatureFact>,
    pub excluded_patterns: Vec<String>,
    /// Files generated by tools (the nestia SDK): change their source, not them.
    pub generated_files: Vec<String>,
    pub registry_generation: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetFact {
    pub symbol: String,
    pub kind: String,
    pub file: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub signature: String,
    /// Content hash of the declaration (hex): a manifest is stale when it changes.
    pub hash: String,
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignatureFact {
    pub symbol: String,
    pub file: String,
    pub signature: String,
    pub via: String,
}

/// One verdict per acceptance criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Feasibility {
    pub criterion: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Rejected { reason: String, alternative: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Provenance {
    /// `offline` or `llm:<model>`.
    pub planner: String,
    /// `native 7.0.2`, `tsls 5.3.0`, or `none (--no-lsp)`.
    pub language_server: String,
    /// Some fact came from the registry alone (no server, projects not loaded).
    pub approximate: bool,
    pub maintaind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_reject_unknown_and_fact_fields() {
        let ok = r#"{"summary":"s","changes":[{"symbol":"IBbsArticle","kind":"shape","intent":"add view_count"}]}"#;
        assert_eq!(parse_decisions(ok).unwrap().changes[0].kind, ChangeKind::Shape);
        let smuggled = r#"{"summary":"s","changes":[],"files_to_modify":["src/x.ts"]}"#;
        assert!(parse_decisions(smuggled).unwrap_err().contains("unknown field `files_to_modify`"));
        let nested = r#"{"summary":"s","changes":[{"symbol":"a","kind":"rename","intent":"i","file":"x.ts"}]}"#;
        assert!(parse_decisions(nested).unwrap_err().contains("unknown field `file`"));
        let bad_kind = r#"{"summary":"s","changes":[{"symbol":"a","kind":"rewrite","intent":"i"}]}"#;
        assert!(parse_decisions(bad_kind).unwrap_err().contains("unknown variant `rewrite`"));
    }

    #[test]
    fn schema_has_no_fact_fields_and_forbids_extras() {
        let schema = decisions_schema();
        let text = schema.to_string();
        for fact in ["files_to_modify", "blast_radius", "targets", "test_files", "registry_generation"] {
            assert!(!text.contains(fact), "the planner schema must not mention {fact}");
        }
        assert_eq!(schema["additionalProperties"], false);
        let mut required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        required.sort();
        assert_eq!(required, vec!["changes", "summary"]);
    }

    #[test]
    fn categories_map_to_backend_patterns() {
        assert_eq!(excluded_by("prisma/schema/schema-02-articles.prisma", &[Category::Persistence]), Some((Category::Persistence, "prisma/**")));
        assert_eq!(excluded_by("src/api/structures/IBbsArticle.ts", &[Category::Api]), Some((Category::Api, "src/api/**")));
        assert_eq!(excluded_by("test/features/api/bbs/x.ts", &[Category::Tests]).map(|x| x.0), Some(Category::Tests));
        assert_eq!(excluded_by("test/tsconfig.json", &[Category::Config]).map(|x| x.0), Some(Category::Config));
        assert_eq!(excluded_by("src/providers/postBbsArticles.ts", &Category::ALL), None);
    }
}

/// One planned change, as stored in `.maintaind/manifests/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    /// The canonical project root it was planned for; a manifest from another root is refused.
    pub root: String,
    /// The user's words.
    pub request: String,
    pub created_unix: u64,
    pub decisions: Decisions,
    pub facts: Facts,
    pub feasibility: Vec<Feasibility>,
    pub provenance: Provenance,
    /// Files added to the scope after planning (`maintaind manifest widen`), with who and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<Widening>,
    /// The manifest this one re-planned (`maintaind change --amend`); its work stays in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    /// Keyed hash (BLAKE3, the user's secret) of everything above: a manifest edited by hand
    /// no longer matches, and without the secret a matching digest cannot be recomputed.
    pub digest: String,
}

impl Manifest {
    /// Some acceptance criterion was judged infeasible.
    pub fn has_rejection(&self) -> bool {
        self.feasibility.iter().any(|f| matches!(f.verdict, Verdict::Rejected { .. }))
    }

    pub fn compute_digest(&self, key: &[u8; 32]) -> String {
        let mut body = serde_json::json!([self.id, self.root, self.request, self.created_unix, self.decisions, self.facts, self.feasibility, self.provenance]);
        // Appended only when present, so manifests planned before these fields keep their digest.
        if !self.widened.is_empty() || self.amends.is_some() {
            body.as_array_mut().expect("an array").extend([serde_json::json!(self.widened), serde_json::json!(self.amends)]);
        }
        blake3::keyed_hash(key, body.to_string().as_bytes()).to_hex().to_string()
    }
}

/// One path added to a manifest's scope after planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Widening {
    /// Root-relative.
    pub path: String,
    pub reason: String,
    /// Who asked (`--by`, else `$MAINTAIND_ACTOR`, else `$USER`).
    pub by: String,
    pub at_unix: u64,
}

/// The per-user secret that keys manifest digests: 32 random bytes in
/// `$MAINTAIND_STATE_DIR` (else `$XDG_STATE_HOME/maintaind`, else `~/.local/state/maintaind`),
/// outside any repository, created on first use with owner-only permissions.
pub fn user_secret() -> Result<[u8; 32], ManifestError> {
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = std::env::var_os("MAINTAIND_STATE_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("XDG_STATE_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/state")))
            .unwrap_or_else(std::env::temp_dir)
            .join("maintaind")
    });
    let io = |p: &std::path::Path, e: std::io::Error| ManifestError::Io { path: p.display().to_string(), detail: e.to_string() };
    let path = dir.join("secret");
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)).map_err(|e| io(std::path::Path::new("/dev/urandom"), e))?;
    // Written to a private temp file and renamed: concurrent first uses end with one secret.
    let tmp = dir.join(format!(".secret.{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).and_then(|mut f| std::io::Write::write_all(&mut f, &key)).map_err(|e| io(&tmp, e))?;
    match std::fs::hard_link(&tmp, &path) {
        Ok(()) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(key)
        }
        Err(_) => {
            // Someone else created it first: use theirs.
            let _ = std::fs::remove_file(&tmp);
            let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| ManifestError::Io { path: path.display().to_string(), detail: "the secret is not 32 bytes".into() })
        }
    }
}

/// Why a stored manifest cannot be used (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("no manifest `{0}` (see `maintaind manifest list`)")]
    Missing(String),
    #[error("manifest `{id}` is malformed ({detail}); re-plan with `maintaind change`")]
    Malformed { id: String, detail: String },
    #[error("manifest `{0}` was edited by hand (its digest no longer matches); re-plan with `maintaind change`")]
    Edited(String),
    #[error("manifest `{id}` was planned for {planned}, not this project ({here}); re-plan here")]
    OtherRoot { id: String, planned: String, here: String },
    #[error("no active manifest (plan one with `maintaind change \"...\"`)")]
    NoneActive,
    #[error("manifest `{0}` has no tree recorded at its activation (activated by an older maintaind); activate it again with `maintaind manifest activate {0}`")]
    NoTree(String),
    #[error("the tree recorded for manifest `{0}` was edited by hand or is damaged; activate it again with `maintaind manifest activate {0}` (its audit then starts from now)")]
    TreeEdited(String),
    #[error("cannot write {path}: {detail}")]
    Io { path: String, detail: String },
}

/// `.maintaind/manifests/<id>.json` and the `active` pointer beside them.
pub struct ManifestStore {
    dir: std::path::PathBuf,
    /// The canonical root the store belongs to.
    root: String,
}

impl ManifestStore {
    /// The store of the project at `root` (canonical).
    pub fn new(root: &std::path::Path) -> ManifestStore {
        ManifestStore { dir: crate::state::state_dir(root).join("manifests"), root: root.display().to_string() }
    }

    fn path(&self, id: &str) -> std::path::PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Write atomically (temp file + rename).
    pub fn save(&self, m: &Manifest) -> Result<std::path::PathBuf, ManifestError> {
        let io = |e: std::io::Error, p: &std::path::Path| ManifestError::Io { path: p.display().to_string(), detail: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(e, &self.dir))?;
        let path = self.path(&m.id);
        let tmp = self.dir.join(format!(".{}.tmp", m.id));
        std::fs::write(&tmp, serde_json::to_string_pretty(m).expect("manifests serialise")).map_err(|e| io(e, &tmp))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))?;
        Ok(path)
    }

    /// Read and verify a manifest: well-formed and not edited since it was written.
    pub fn load(&self, id: &str) -> Result<Manifest, ManifestError> {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(ManifestError::Missing(id.to_string()));
        }
        let text = std::fs::read_to_string(self.path(id)).map_err(|_| ManifestError::Missing(id.to_string()))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| ManifestError::Malformed { id: id.to_string(), detail: e.to_string() })?;
        if m.id != id {
            return Err(ManifestError::Malformed { id: id.to_string(), detail: format!("its id says `{}`", m.id) });
        }
        if m.compute_digest(&user_secret()?) != m.digest {
            return Err(ManifestError::Edited(id.to_string()));
        }
        if m.root != self.root {
            return Err(ManifestError::OtherRoot { id: id.to_string(), planned: m.root.clone(), here: self.root.clone() });
        }
        Ok(m)
    }

    pub fn active_id(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("active")).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    pub fn active(&self) -> Result<Manifest, ManifestError> {
        self.load(&self.active_id().ok_or(ManifestError::NoneActive)?)
    }

    /// Make `id` active after verifying it, recording the tree as it is now: the work it
    /// orders starts here (see `tree.rs`).
    pub fn activate(&self, id: &str) -> Result<Manifest, ManifestError> {
        self.activate_from(id, None)
    }

    /// [`ManifestStore::activate`]; `start` is the starting tree of work already under way
    /// (an amended manifest keeps its predecessor's), `None` for now.
    pub fn activate_from(&self, id: &str, start: Option<(u64, std::collections::BTreeMap<String, super::tree::Mark>)>) -> Result<Manifest, ManifestError> {
        let m = self.load(id)?;
        let tree = super::tree::Tree::record(std::path::Path::new(&self.root), &m, start, &user_secret()?)
            .map_err(|e| ManifestError::Io { path: self.root.clone(), detail: format!("cannot read the tree: {e}") })?;
        self.write_atomic(&self.dir.join(format!("{id}.tree")), serde_json::to_string(&tree).expect("trees serialise").as_bytes())?;
        let pointer = self.dir.join("active");
        self.write_atomic(&pointer, format!("{id}\n").as_bytes())?;
        Ok(m)
    }

    /// The tree recorded when `id` was last activated, verified.
    pub fn tree(&self, id: &str) -> Result<super::tree::Tree, ManifestError> {
        let path = self.dir.join(format!("{id}.tree"));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ManifestError::NoTree(id.to_string())),
            Err(e) => return Err(ManifestError::Io { path: path.display().to_string(), detail: e.to_string() }),
        };
        let tree: super::tree::Tree = serde_json::from_str(&text).map_err(|_| ManifestError::TreeEdited(id.to_string()))?;
        if tree.manifest != id || !tree.intact(&user_secret()?) {
            return Err(ManifestError::TreeEdited(id.to_string()));
        }
        Ok(tree)
    }

    /// A new id for `request` planned at `now` that no stored manifest has: the same request
    /// twice in one second (an `--amend` of it) gets `-2`, `-3`, … rather than replacing.
    pub fn unused_id(&self, request: &str, now_unix: u64) -> String {
        let base = new_id(request, now_unix);
        (1..).map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") }).find(|id| !self.path(id).exists()).expect("some suffix is free")
    }

    /// Store a manifest changed after planning (widened) under a new digest.
    pub fn resave(&self, m: &mut Manifest) -> Result<(), ManifestError> {
        m.digest = m.compute_digest(&user_secret()?);
        self.save(m).map(drop)
    }

    fn write_atomic(&self, path: &std::path::Path, bytes: &[u8]) -> Result<(), ManifestError> {
        let io = |e: std::io::Error, p: &std::path::Path| ManifestError::Io { path: p.display().to_string(), detail: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(e, &self.dir))?;
        let tmp = self.dir.join(format!(".{}.{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("x"), std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| io(e, &tmp))?;
        std::fs::rename(&tmp, path).map_err(|e| io(e, path))
    }

    pub fn clear(&self) -> Result<bool, ManifestError> {
        let pointer = self.dir.join("active");
        match std::fs::remove_file(&pointer) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ManifestError::Io { path: pointer.display().to_string(), detail: e.to_string() }),
        }
    }

    /// Every stored manifest id, newest first, with its request (unreadable ones say so).
    pub fn list(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String, u64)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).filter(|n| !n.starts_with('.')).map(str::to_string))
            .map(|id| match self.load(&id) {
                Ok(m) => (id, m.request, m.created_unix),
                Err(e) => (id, format!("({e})"), 0),
            })
            .collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        out.into_iter().map(|(id, r, _)| (id, r)).collect()
    }
}

/// `m-<unix seconds>-<hash of the request>`: sortable, unique enough, no clock formatting.
pub fn new_id(request: &str, now_unix: u64) -> String {
    format!("m-{now_unix}-{:08x}", xxhash_rust::xxh3::xxh3_64(request.as_bytes()) as u32)
}

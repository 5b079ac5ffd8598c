//! `maintaind apply`'s input and its validation: edit operations (or a unified diff) turned
//! into the full new content of every touched file, in memory, before anything is written.
//!
//! Every op is checked first: the write gate for its path, that the symbol it names exists,
//! that a hash it carries still matches, and that the resulting file has no syntax error the
//! original did not have (tree-sitter, through the registry's extractor). One failing op fails
//! the whole set; the caller writes nothing then. Ops that add or replace text splice bytes:
//! the rest of the file is kept byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use maintaind_registry::{FileIndex, Severity, Symbol, SymbolKind, index_file};
use serde::{Deserialize, Serialize};

use crate::gate;
use crate::manifest::Manifest;

/// One edit operation, as an agent writes it in `EDITS.json` (see docs/guide/apply.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Replace a declaration (from its decorators and `export` to its end; the JSDoc above it
    /// stays) with `text`.
    ReplaceSymbol {
        symbol: String,
        text: String,
        /// The symbol's hash as `maintaind symbols --json` reported it; refused if it moved.
        #[serde(default)]
        expect_hash: Option<String>,
    },
    /// Add `text` as new lines next to a symbol, or at the `start` (after the imports) or
    /// `end` of `file`. Exactly one of `after`, `before`, `at`.
    InsertSymbol {
        file: String,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        before: Option<String>,
        #[serde(default)]
        at: Option<At>,
        text: String,
    },
    /// Remove a declaration with its JSDoc and the line(s) it stood on.
    DeleteSymbol {
        symbol: String,
        #[serde(default)]
        expect_hash: Option<String>,
    },
    /// A new file; refused if it exists.
    CreateFile { path: String, text: String },
    /// Replace lines `start_line..=end_line` (1-based) whose current text hashes to
    /// `expect_hash` (`maintaind hash FILE START END`).
    ReplaceRange { file: String, start_line: u32, end_line: u32, expect_hash: String, text: String },
    /// From `--patch` only: file number `index` of the unified diff `patch`. (The whole
    /// diff is kept, because diffy's `Patch` does not survive a print-and-parse round trip
    /// when hunk headers carry function context.)
    #[serde(skip)]
    PatchFile { path: String, patch: String, index: usize },
    /// From `--patch` only: `+++ /dev/null`.
    #[serde(skip)]
    DeleteFile { path: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum At {
    Start,
    End,
}

impl Edit {
    pub fn name(&self) -> &'static str {
        match self {
            Edit::ReplaceSymbol { .. } => "replace_symbol",
            Edit::InsertSymbol { .. } => "insert_symbol",
            Edit::DeleteSymbol { .. } => "delete_symbol",
            Edit::CreateFile { .. } => "create_file",
            Edit::ReplaceRange { .. } => "replace_range",
            Edit::PatchFile { .. } => "patch",
            Edit::DeleteFile { .. } => "patch (delete)",
        }
    }
}

/// The `EDITS.json` document: `{"edits": [...]}` (a bare array is accepted too).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditsDoc {
    edits: Vec<Edit>,
}

/// Parse `EDITS.json`; errors name the JSON path of the problem (`edits[2].op: unknown variant ...`).
/// EDITS.json (`patch` false) or a unified diff (`patch` true).
pub fn parse_ops(text: &str, patch: bool) -> Result<Vec<Edit>, String> {
    if patch { parse_patch(text) } else { parse_edits(text) }
}

pub fn parse_edits(json: &str) -> Result<Vec<Edit>, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("the edits are not valid JSON: {e}"))?;
    let edits = if value.is_array() {
        serde_path_to_error::deserialize::<_, Vec<Edit>>(value).map_err(|e| format!("edits{}: {}", bracket(&e.path().to_string()), e.inner()))?
    } else {
        serde_path_to_error::deserialize::<_, EditsDoc>(value).map_err(|e| format!("{}: {}", e.path(), e.inner()))?.edits
    };
    if edits.is_empty() {
        return Err("no edits: the list is empty".into());
    }
    Ok(edits)
}

fn bracket(path: &str) -> String {
    if path == "." {
        String::new()
    } else if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

/// Turn a unified diff (`git diff` or `diff -u` output) into file-level edits.
pub fn parse_patch(text: &str) -> Result<Vec<Edit>, String> {
    use diffy::patch_set::{FileOperation, ParseOptions, PatchKind, PatchSet};
    let mut edits = Vec::new();
    for (i, fp) in PatchSet::parse(text, ParseOptions::gitdiff()).enumerate() {
        let fp = fp.map_err(|e| format!("the patch does not parse (file {}): {e}", i + 1))?;
        let strip = |p: &str| -> String { p.strip_prefix("a/").or_else(|| p.strip_prefix("b/")).unwrap_or(p).to_string() };
        let PatchKind::Text(patch) = fp.patch() else {
            return Err(format!("file {} of the patch is binary; apply only writes text", i + 1));
        };
        match fp.operation() {
            FileOperation::Create(path) => {
                let text = diffy::apply("", patch).map_err(|e| format!("the patch creating {} does not apply: {e}", strip(path)))?;
                edits.push(Edit::CreateFile { path: strip(path), text });
            }
            FileOperation::Delete(path) => edits.push(Edit::DeleteFile { path: strip(path) }),
            FileOperation::Modify { original, modified } => {
                let (from, to) = (strip(original), strip(modified));
                if from != to {
                    return Err(format!("the patch renames {from} to {to}; apply does not rename files (create the new one and delete the old one)"));
                }
                edits.push(Edit::PatchFile { path: to, patch: text.to_string(), index: i });
            }
            FileOperation::Rename { from, to } | FileOperation::Copy { from, to } => {
                return Err(format!("the patch renames or copies {from} to {to}; apply does not rename or copy files"));
            }
        }
    }
    if edits.is_empty() {
        return Err("the patch contains no file changes".into());
    }
    Ok(edits)
}

/// A file's content before and after the edits (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub before: Option<String>,
    pub after: Option<String>,
    /// Indices of the ops that touched it.
    pub ops: Vec<usize>,
}

/// Why an op cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpError {
    /// 1-based position in the edit list.
    pub op: usize,
    pub kind: &'static str,
    pub message: String,
}

pub use crate::safefs::hash_text;

/// Byte range of lines `start..=end` (1-based) in `text`, or why not.
pub fn line_range(text: &str, start: u32, end: u32) -> Result<(usize, usize), String> {
    let count = text.lines().count() as u32;
    if start == 0 || end < start {
        return Err(format!("lines {start}-{end} are not a range (1-based, start ≤ end)"));
    }
    if end > count {
        return Err(format!("line {end} is past the end of the file ({count} lines)"));
    }
    let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let from = starts[start as usize - 1];
    let to = starts.get(end as usize).copied().unwrap_or(text.len());
    Ok((from, to))
}

/// Validate every op and compute the new content of each touched file. `locate` resolves a
/// symbol query to the file that declares it and the declaration's name (the registry as it
/// is on disk).
pub fn plan(root: &Path, manifest: &Manifest, edits: &[Edit], locate: &Locate<'_>) -> Result<BTreeMap<String, FileChange>, Vec<OpError>> {
    let mut files: BTreeMap<String, FileChange> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let fail = |message: String| OpError { op: i + 1, kind: edit.name(), message };
        match apply_one(root, manifest, edit, &mut files, locate) {
            Ok(path) => files.get_mut(&path).expect("apply_one records the file").ops.push(i),
            Err(m) => errors.push(fail(m)),
        }
    }
    // The syntax gate, once per file on its final content.
    for (path, change) in &files {
        let Some(after) = &change.after else { continue };
        if let Some(message) = new_syntax_error(path, change.before.as_deref(), after) {
            let op = change.ops.last().map_or(0, |i| i + 1);
            errors.push(OpError { op, kind: edits.get(op.saturating_sub(1)).map_or("edit", Edit::name), message });
        }
    }
    if errors.is_empty() {
        files.retain(|_, c| c.before != c.after);
        Ok(files)
    } else {
        errors.sort_by_key(|e| e.op);
        Err(errors)
    }
}

/// Resolves a symbol query to the file that declares it and the declaration's name.
pub type Locate<'a> = dyn Fn(&str) -> Result<(String, String), String> + 'a;

/// The gate's verdict for `input`, as a root-relative path or the reason it is refused.
fn gated(root: &Path, manifest: &Manifest, input: &str) -> Result<String, String> {
    let v = gate::check(root, manifest, input);
    if v.allowed { Ok(v.path.expect("allowed paths resolve")) } else { Err(format!("{input}: refused by the gate: {}", v.reason)) }
}

/// The current text of `path` in this plan (edited earlier, or from disk).
fn current<'f>(root: &Path, files: &'f mut BTreeMap<String, FileChange>, path: &str) -> Result<&'f mut FileChange, String> {
    if !files.contains_key(path) {
        // Read as the writer will read it (no link followed, a regular file with one link),
        // so what is validated is what is compared before the swap.
        let dir = crate::safefs::RootDir::open(root).map_err(|e| format!("cannot open the root: {e}"))?;
        let before = match dir.read(path).map_err(|e| e.to_string())? {
            Some(bytes) => Some(String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text; apply only edits text files"))?),
            None => None,
        };
        files.insert(path.to_string(), FileChange { after: before.clone(), before, ops: Vec::new() });
    }
    Ok(files.get_mut(path).expect("inserted"))
}

fn apply_one(root: &Path, manifest: &Manifest, edit: &Edit, files: &mut BTreeMap<String, FileChange>, locate: &Locate<'_>) -> Result<String, String> {
    match edit {
        Edit::ReplaceSymbol { symbol, text, expect_hash } => {
            let (path, name) = locate(symbol)?;
            let path = gated(root, manifest, &path)?;
            let change = current(root, files, &path)?;
            let content = change.after.clone().ok_or(format!("{path} was deleted by an earlier op"))?;
            let (start, end) = declaration(&path, &content, &name, expect_hash.as_deref())?;
            let text = text.strip_suffix('\n').unwrap_or(text);
            change.after = Some(splice(&content, start, end, text));
            Ok(path)
        }
        Edit::DeleteSymbol { symbol, expect_hash } => {
            let (path, name) = locate(symbol)?;
            let path = gated(root, manifest, &path)?;
            let change = current(root, files, &path)?;
            let content = change.after.clone().ok_or(format!("{path} was deleted by an earlier op"))?;
            let (start, end) = declaration(&path, &content, &name, expect_hash.as_deref())?;
            let (from, to) = whole_lines(&content, doc_start(&content, start), end);
            change.after = Some(splice(&content, from, to, ""));
            Ok(path)
        }
        Edit::InsertSymbol { file, after, before, at, text } => {
            let anchors = after.is_some() as u8 + before.is_some() as u8 + at.is_some() as u8;
            if anchors != 1 {
                return Err("give exactly one of `after` (a symbol), `before` (a symbol) or `at` (`start` or `end`)".into());
            }
            let path = gated(root, manifest, file)?;
            let change = current(root, files, &path)?;
            let content = change.after.clone().ok_or(format!("{path} does not exist; use create_file"))?;
            let body = if text.ends_with('\n') { text.clone() } else { format!("{text}\n") };
            let anchor_name = |q: &str| -> String { q.rsplit_once('#').map_or(q, |(_, n)| n).to_string() };
            let new = if let Some(sym) = after {
                let (_, end) = declaration(&path, &content, &anchor_name(sym), None)?;
                let (_, line_end) = whole_lines(&content, end, end);
                let lead = if line_end == content.len() && !content.ends_with('\n') { "\n\n" } else { "\n" };
                splice(&content, line_end, line_end, &format!("{lead}{body}"))
            } else if let Some(sym) = before {
                let (start, _) = declaration(&path, &content, &anchor_name(sym), None)?;
                let (line_start, _) = whole_lines(&content, doc_start(&content, start), start);
                splice(&content, line_start, line_start, &format!("{body}\n"))
            } else if *at == Some(At::Start) {
                match imports_end(&path, &content) {
                    Some(end) => {
                        let (_, line_end) = whole_lines(&content, end, end);
                        splice(&content, line_end, line_end, &format!("\n{body}"))
                    }
                    None => splice(&content, 0, 0, &format!("{body}\n")),
                }
            } else {
                let lead = match (content.is_empty(), content.ends_with('\n')) {
                    (true, _) => "",
                    (false, true) => "\n",
                    (false, false) => "\n\n",
                };
                format!("{content}{lead}{body}")
            };
            change.after = Some(new);
            Ok(path)
        }
        Edit::CreateFile { path, text } => {
            let path = gated(root, manifest, path)?;
            let change = current(root, files, &path)?;
            if change.after.is_some() {
                return Err(format!("{path} already exists; use replace_range, replace_symbol or insert_symbol to change it"));
            }
            change.after = Some(text.clone());
            Ok(path)
        }
        Edit::ReplaceRange { file, start_line, end_line, expect_hash, text } => {
            let path = gated(root, manifest, file)?;
            let change = current(root, files, &path)?;
            let content = change.after.clone().ok_or(format!("{path} does not exist"))?;
            let (from, to) = line_range(&content, *start_line, *end_line).map_err(|e| format!("{path}: {e}"))?;
            let actual = hash_text(&content[from..to]);
            if !actual.eq_ignore_ascii_case(expect_hash.trim()) {
                return Err(format!("{path}: lines {start_line}-{end_line} changed since they were read (hash {actual}, expected {expect_hash}); read them again"));
            }
            let mut text = text.clone();
            if content[from..to].ends_with('\n') && !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            change.after = Some(splice(&content, from, to, &text));
            Ok(path)
        }
        Edit::PatchFile { path, patch, index } => {
            use diffy::patch_set::{ParseOptions, PatchKind, PatchSet};
            let path = gated(root, manifest, path)?;
            let change = current(root, files, &path)?;
            let content = change.after.clone().ok_or(format!("the patch modifies {path}, which does not exist"))?;
            let fp = PatchSet::parse(patch, ParseOptions::gitdiff()).nth(*index).and_then(Result::ok).ok_or(format!("{path}: the patch does not parse"))?;
            let PatchKind::Text(p) = fp.patch() else { return Err(format!("{path}: the patch is binary")) };
            change.after = Some(diffy::apply(&content, p).map_err(|e| format!("{path}: the patch does not apply to the file as it is ({e})"))?);
            Ok(path)
        }
        Edit::DeleteFile { path } => {
            let path = gated(root, manifest, path)?;
            let change = current(root, files, &path)?;
            if change.after.is_none() {
                return Err(format!("the patch deletes {path}, which does not exist"));
            }
            change.after = None;
            Ok(path)
        }
    }
}

fn splice(content: &str, from: usize, to: usize, with: &str) -> String {
    let mut s = String::with_capacity(content.len() + with.len());
    s.push_str(&content[..from]);
    s.push_str(with);
    s.push_str(&content[to..]);
    s
}

/// The byte span of the declaration(s) of `name` in `content`: overloads count as one span.
fn declaration(path: &str, content: &str, name: &str, expect_hash: Option<&str>) -> Result<(usize, usize), String> {
    let index = index_file(path, content.as_bytes()).ok_or(format!("{path} is not a TypeScript or Prisma file"))?;
    let decls: Vec<&Symbol> = index.symbols.iter().filter(|s| s.name == name && s.kind != SymbolKind::Reexport).collect();
    let Some(first) = decls.first() else {
        return Err(format!("no symbol `{name}` in {path}{}", suggest(&index, name)));
    };
    if let Some(expected) = expect_hash {
        let actual = format!("{:016x}", first.hash);
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            return Err(format!("`{name}` in {path} changed since it was read (hash {actual}, expected {expected}); read it again"));
        }
    }
    let overloads = decls.iter().all(|s| matches!(s.kind, SymbolKind::Function | SymbolKind::Method));
    if decls.len() > 1 && !overloads {
        let kinds: Vec<String> = decls.iter().map(|s| format!("{} at line {}", s.kind, s.span.start.line + 1)).collect();
        return Err(format!("`{name}` has {} declarations in {path} ({}); use replace_range for one of them", decls.len(), kinds.join(", ")));
    }
    let start = decls.iter().map(|s| s.span.start_byte).min().unwrap_or(0) as usize;
    let end = decls.iter().map(|s| s.span.end_byte).max().unwrap_or(0) as usize;
    Ok((start, end))
}

fn suggest(index: &FileIndex, name: &str) -> String {
    let close = maintaind_registry::suggest_among(index.symbols.iter(), name, 3);
    if close.is_empty() { String::new() } else { format!("; did you mean: {}?", close.join(", ")) }
}

/// Where a declaration's JSDoc begins (or the declaration itself when it has none).
fn doc_start(content: &str, start: usize) -> usize {
    let before = content[..start].trim_end();
    if before.ends_with("*/")
        && let Some(open) = before.rfind("/**")
    {
        // Only when nothing but whitespace separates the comment from the line it opens on.
        let line_start = content[..open].rfind('\n').map_or(0, |i| i + 1);
        if content[line_start..open].trim().is_empty() {
            return open;
        }
    }
    start
}

/// Widen `[from, to)` to whole lines (`to` past the line end), when only whitespace shares
/// those lines with it; otherwise keep the exact span.
fn whole_lines(content: &str, from: usize, to: usize) -> (usize, usize) {
    let line_start = content[..from].rfind('\n').map_or(0, |i| i + 1);
    let line_end = content[to..].find('\n').map_or(content.len(), |i| to + i + 1);
    let head_blank = content[line_start..from].trim().is_empty();
    let tail_blank = content[to..line_end].trim().is_empty();
    (if head_blank { line_start } else { from }, if tail_blank { line_end } else { to })
}

/// The end of the last top-level import statement.
fn imports_end(path: &str, content: &str) -> Option<usize> {
    let tree = maintaind_registry::parse_only(path, content.as_bytes())?;
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.children(&mut cursor).filter(|n| n.kind() == "import_statement").map(|n| n.end_byte()).max()
}

/// A syntax error in `after` that `before` did not have, described for the user.
fn new_syntax_error(path: &str, before: Option<&str>, after: &str) -> Option<String> {
    let errors = |text: &str| -> Vec<(u32, String)> {
        index_file(path, text.as_bytes()).map(|f| f.diagnostics.into_iter().filter(|d| d.severity == Severity::Error).map(|d| (d.pos.line + 1, d.message)).collect()).unwrap_or_default()
    };
    let old = before.map(errors).unwrap_or_default();
    let new = errors(after);
    if new.len() <= old.len() {
        return None;
    }
    let fresh = new.iter().find(|(_, m)| !old.iter().any(|(_, o)| o == m)).unwrap_or(&new[0]);
    Some(format!("{path}: the result has a syntax error at line {}: {} (the file had {} before, now {})", fresh.0, fresh.1, old.len(), new.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_unknown_ops_and_fields_with_paths() {
        let ok = parse_edits(r#"{"edits":[{"op":"create_file","path":"a.ts","text":"x"}]}"#).unwrap();
        assert_eq!(ok, vec![Edit::CreateFile { path: "a.ts".into(), text: "x".into() }]);
        assert_eq!(parse_edits(r#"[{"op":"delete_symbol","symbol":"f"}]"#).unwrap().len(), 1);
        let e = parse_edits(r#"{"edits":[{"op":"create_file","path":"a.ts","text":"x"},{"op":"explode"}]}"#).unwrap_err();
        assert!(e.starts_with("edits[1]") && e.contains("unknown variant `explode`"), "{e}");
        let e = parse_edits(r#"{"edits":[{"op":"create_file","path":"a.ts","text":"x","mode":"0777"}]}"#).unwrap_err();
        assert!(e.contains("unknown field `mode`"), "{e}");
        let e = parse_edits(r#"{"edits":[{"op":"replace_range","file":"a.ts","start_line":1,"end_line":2,"text":""}]}"#).unwrap_err();
        assert!(e.contains("missing field `expect_hash`"), "{e}");
        assert!(parse_edits(r#"{"edits":[]}"#).unwrap_err().contains("empty"));
        assert!(parse_edits("{edits:").unwrap_err().contains("not valid JSON"));
        // The patch-only ops cannot be written in JSON.
        assert!(parse_edits(r#"[{"op":"delete_file","path":"a.ts"}]"#).is_err());
    }

    #[test]
    fn line_ranges_and_whole_lines() {
        let t = "a\nbb\nccc\n";
        assert_eq!(line_range(t, 2, 3).unwrap(), (2, 9));
        assert_eq!(&t[line_range(t, 1, 1).unwrap().0..line_range(t, 1, 1).unwrap().1], "a\n");
        assert!(line_range(t, 3, 4).unwrap_err().contains("past the end"));
        assert!(line_range(t, 0, 1).is_err());
        assert!(line_range(t, 2, 1).is_err());
        let src = "x;\n/** doc */\nexport function f() {}\ny;\n";
        let start = src.find("export").unwrap();
        assert_eq!(doc_start(src, start), src.find("/**").unwrap());
        let (from, to) = whole_lines(src, doc_start(src, start), src.find("{}").unwrap() + 2);
        assert_eq!(splice(src, from, to, ""), "x;\ny;\n");
    }

    #[test]
    fn patches_become_file_edits() {
        let patch = "diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1,1 +1,1 @@\n-x\n+y\ndiff --git a/src/n.ts b/src/n.ts\nnew file mode 100644\n--- /dev/null\n+++ b/src/n.ts\n@@ -0,0 +1,1 @@\n+new\n";
        let edits = parse_patch(patch).unwrap();
        assert!(matches!(&edits[0], Edit::PatchFile { path, .. } if path == "src/a.ts"));
        assert_eq!(edits[1], Edit::CreateFile { path: "src/n.ts".into(), text: "new\n".into() });
        let e = parse_patch("just words\n").unwrap_err();
        assert!(e.contains("no file changes") || e.contains("does not parse"), "{e}");
    }
}

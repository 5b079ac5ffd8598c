//! The Prisma side of `change --apply`: renaming a column (a model's field) in the schema and in
//! every piece of code that reaches it through the client, regenerating the client offline
//! with the project's own Prisma CLI, and judging the result with the project's own `tsc`.
//!
//! - **Schema:** the field's name in its model, the model's own attribute lists that name it
//!   (`@@unique([a, name])`, `@@index`, `@@id`, `@relation(fields: [name], …)`), and
//!   `references: [name]` of other models' relations to the model. The schema is
//!   line-oriented, read as the registry reads it (`maintaind_registry`'s Prisma scanner).
//! - **Code:** every key and row read [`maintaind_registry::PrismaAccess`] finds for the
//!   model's field (`select`/`data`/`where`/`orderBy` keys, `row.name`, destructuring), edited
//!   on its syntax node: a key or member name is renamed, a shorthand (`{ name }` as a key or a
//!   pattern) becomes `title: name`, so the local variable keeps its name. The API's DTOs keep
//!   their property names; their mapping (`name: row.title`) follows.
//! - **What the syntax cannot follow** (rows kept in a `Map`, passed through helpers): the
//!   project's compiler names it. After the first write, a new "property `name` does not exist"
//!   error on a `name` token is the column read through the old name, and is renamed the same
//!   way ([`compiler_fixes`]); the whole change is then written again as one transaction.
//!
//! The judge is the project's pinned `tsc` over every tsconfig project, before and after, with
//! the client regenerated first: the language server keeps the old client's types after a
//! regeneration (measured on TypeScript 7), and TypeScript 7 accepts a `select` key that 5.9
//! rejects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use maintaind_registry::{AccessRole, FileLang, PrismaModels, Registry};
use tree_sitter::{Node, Point};

use crate::semantic::ServerDiagnostic;

/// A column of `model` renamed from `field` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    pub model: String,
    pub field: String,
    pub to: String,
}

impl ColumnRename {
    /// `prisma:model.field` renamed to `to`, or why that is not a column rename.
    pub fn of(symbol: &str, to: &str) -> Option<ColumnRename> {
        let (model, field) = symbol.strip_prefix("prisma:")?.split_once('.')?;
        (identifier(model) && identifier(field) && identifier(to)).then(|| ColumnRename { model: model.into(), field: field.into(), to: to.into() })
    }

    /// Why the rename cannot be made on these models (`None`: it can).
    pub fn problem(&self, models: &PrismaModels) -> Option<String> {
        if !models.is_model(&self.model) {
            return Some(format!("the schema has no model `{}`", self.model));
        }
        match models.field(&self.model, &self.field) {
            None => return Some(format!("model `{}` has no field `{}`", self.model, self.field)),
            Some(Some(_)) => {
                return Some(format!("`{}.{}` is a relation field, not a column: renaming it changes `include`/`connect` keys, which maintaind does not carry out itself", self.model, self.field));
            }
            Some(None) => {}
        }
        if models.field(&self.model, &self.to).is_some() {
            return Some(format!("model `{}` already has a field `{}`", self.model, self.to));
        }
        None
    }
}

/// Whether `s` is a name the Prisma schema accepts for a model or a field.
pub(crate) fn identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A Prisma schema file with the column renamed: its declaration, its model's attribute lists
/// and the `references` of relations to its model.
pub fn schema_edit(text: &str, r: &ColumnRename) -> String {
    let mut out = String::with_capacity(text.len());
    let mut model: Option<String> = None;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let code_end = comment_start(line);
        let code = &line[..code_end];
        let trimmed = code.trim();
        let indent = code.len() - code.trim_start().len();
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        match &model {
            None => {
                let mut words = trimmed.split_whitespace();
                if matches!(words.next(), Some("model" | "view" | "type")) && trimmed.ends_with('{') {
                    model = words.next().map(str::to_string);
                }
            }
            Some(_) if trimmed == "}" => model = None,
            Some(m) => {
                let own = *m == r.model;
                if trimmed.starts_with("@@") {
                    if own {
                        for (from, to) in bracket_lists(code) {
                            edits.extend(list_renames(code, from, to, r));
                        }
                    }
                } else if let Some(name_end) = trimmed.find(char::is_whitespace) {
                    let name = &trimmed[..name_end];
                    if own && name == r.field {
                        edits.push((indent, indent + name_end, r.to.clone()));
                    }
                    let ty = trimmed[name_end..].split_whitespace().next().unwrap_or("").trim_end_matches('?').trim_end_matches("[]");
                    if let Some(rel) = code.find("@relation(") {
                        // `fields` name this model's columns; `references` the related model's.
                        for (key, applies) in [("fields:", own), ("references:", ty == r.model)] {
                            if !applies {
                                continue;
                            }
                            if let Some(k) = code[rel..].find(key).map(|k| rel + k)
                                && let Some((from, to)) = bracket_lists(code).into_iter().find(|(from, _)| *from > k)
                            {
                                edits.extend(list_renames(code, from, to, r));
                            }
                        }
                    }
                }
            }
        }
        let mut line_out = line.to_string();
        edits.sort();
        edits.dedup();
        for (from, to, text) in edits.into_iter().rev() {
            line_out.replace_range(from..to, &text);
        }
        out.push_str(&line_out);
        out.push_str(&raw[line.len()..]);
    }
    out
}

/// Where a `//` comment starts on a schema line (outside strings), or the line's length.
pub(crate) fn comment_start(line: &str) -> usize {
    let mut in_str = false;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return i,
            _ => {}
        }
    }
    line.len()
}

/// The byte ranges inside each `[…]` of `code` (outside strings).
fn bracket_lists(code: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut in_str = false;
    let mut open = None;
    for (i, c) in code.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '[' if !in_str => open = Some(i + 1),
            ']' if !in_str => {
                if let Some(o) = open.take() {
                    out.push((o, i));
                }
            }
            _ => {}
        }
    }
    out
}

/// The field's name as an element of the list `code[from..to]` (`a, name(sort: Desc)`): the
/// identifiers right after `[` or `,`, never an argument inside an element's parentheses.
fn list_renames(code: &str, from: usize, to: usize, r: &ColumnRename) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut element_start = true;
    let mut i = from;
    let bytes = code.as_bytes();
    while i < to {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < to && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if depth == 0 && element_start && code[start..i] == r.field {
                out.push((start, i, r.to.clone()));
            }
            element_start = false;
            continue;
        }
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => element_start = true,
            _ => {}
        }
        i += 1;
    }
    out
}

/// A TypeScript file with every key and row read of the column renamed (`None`: the file does
/// not reach it). `text` is the file's current text.
pub fn code_edit(path: &str, text: &str, models: &PrismaModels, r: &ColumnRename) -> Result<Option<String>, String> {
    let Some(syntax) = maintaind_registry::Syntax::parse(path, text.as_bytes()) else { return Ok(None) };
    let points: BTreeSet<(usize, usize)> = syntax
        .prisma_accesses(models)
        .into_iter()
        .filter(|a| a.model == r.model && a.field == r.field && matches!(a.role, AccessRole::Key | AccessRole::Read))
        .map(|a| (a.pos.line as usize, a.pos.col as usize))
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    rename_tokens(path, text, &points, r).map(Some)
}

/// `text` with the column's name at each `(row, byte column)` renamed on its syntax node.
fn rename_tokens(path: &str, text: &str, points: &BTreeSet<(usize, usize)>, r: &ColumnRename) -> Result<String, String> {
    let tree = maintaind_registry::parse_only(path, text.as_bytes()).ok_or_else(|| format!("{path} is not a TypeScript file"))?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for &(row, column) in points {
        let point = Point { row, column };
        let node = tree.root_node().descendant_for_point_range(point, point).ok_or_else(|| format!("{path}:{}: no syntax node", row + 1))?;
        if let Some(ty) = declared_type_of_object(text, node) {
            return Err(format!(
                "{path}:{}: `{}` is a key of an object typed `{ty}`, not the client's input; renaming it would break that type, and keeping it would pass an unknown key to the client: map the value by hand",
                row + 1,
                r.field
            ));
        }
        edits.push(token_edit(text, node, r).ok_or_else(|| format!("{path}:{}: `{}` here is a {}, which maintaind does not rename itself", row + 1, &text[node.byte_range()], node.kind()))?);
    }
    apply_edits(path, text, edits.into_iter().collect())
}

/// `text` with each `(from, to, new)` byte range replaced; overlapping ranges are an error.
pub(crate) fn apply_edits(path: &str, text: &str, edits: BTreeSet<(usize, usize, String)>) -> Result<String, String> {
    let mut out = text.to_string();
    let mut last = usize::MAX;
    for (from, to, new) in edits.into_iter().rev() {
        if to > last {
            return Err(format!("{path}: overlapping edits"));
        }
        out.replace_range(from..to, &new);
        last = from;
    }
    Ok(out)
}

/// The declared type of the variable whose object literal holds the key at `node`
/// (`const data: ITodoListTask.IUpdate = { description: … }`), when it is not one of the
/// client's own input types (`Prisma.…`): such an object is the API's, spread into a query.
fn declared_type_of_object<'t>(text: &'t str, node: Node) -> Option<&'t str> {
    let key = if node.kind() == "string_fragment" { node.parent()? } else { node };
    let object = match key.kind() {
        "shorthand_property_identifier" => key.parent()?,
        _ if key.parent()?.kind() == "pair" && key.parent()?.child_by_field_name("key") == Some(key) => key.parent()?.parent()?,
        _ => return None,
    };
    if object.kind() != "object" {
        return None;
    }
    let declarator = object.parent().filter(|p| p.kind() == "variable_declarator")?;
    let ty = declarator.child_by_field_name("type")?.named_child(0)?;
    let ty = &text[ty.byte_range()];
    (!ty.starts_with("Prisma.")).then_some(ty)
}

/// The edit that renames the column at `node`: a key or member name renamed, a shorthand
/// spelled out so the local keeps its name. `None` when `node` is not the column's name.
fn token_edit(text: &str, node: Node, r: &ColumnRename) -> Option<(usize, usize, String)> {
    // A quoted key (`"name": …`) is its string's fragment.
    let node = match node.kind() {
        "\"" | "string" => {
            let string = if node.kind() == "string" { node } else { node.parent()? };
            string.named_child(0).filter(|n| n.kind() == "string_fragment")?
        }
        _ => node,
    };
    if text[node.byte_range()] != r.field {
        return None;
    }
    match node.kind() {
        "property_identifier" | "string_fragment" => Some((node.start_byte(), node.end_byte(), r.to.clone())),
        "shorthand_property_identifier" | "shorthand_property_identifier_pattern" => Some((node.start_byte(), node.end_byte(), format!("{}: {}", r.to, r.field))),
        _ => None,
    }
}

/// TypeScript's codes for a name a type lacks: TS2339 (`Property 'x' does not exist on type`),
/// TS2551 (the same with "Did you mean"), TS2353 and TS2561 (an object literal's unknown key).
const MISSING_NAME: &[&str] = &["2339", "2551", "2353", "2561"];

/// Whether `d` is the compiler saying a type lacks one of `columns`' old names.
pub fn names_missing(d: &ServerDiagnostic, columns: &[ColumnRename]) -> bool {
    d.error && d.code.as_deref().is_some_and(|c| MISSING_NAME.contains(&c)) && columns.iter().any(|r| d.message.contains(&format!("'{}'", r.field)))
}

/// The files of `errors` with the column's old name renamed where the compiler says a type
/// lacks it, from their `texts` (the files as written): `(path, new text)`, only files that
/// change. An error elsewhere, or on a token that is not the old name, is left alone.
pub fn compiler_fixes(errors: &[ServerDiagnostic], texts: &dyn Fn(&str) -> Option<String>, r: &ColumnRename) -> Vec<(String, String)> {
    let mut by_file: std::collections::BTreeMap<&str, BTreeSet<(usize, usize)>> = Default::default();
    for e in errors.iter().filter(|e| names_missing(e, std::slice::from_ref(r))) {
        if maintaind_registry::is_typescript(&e.file) && !e.file.ends_with(".d.ts") && e.line > 0 {
            by_file.entry(e.file.as_str()).or_default().insert((e.line as usize - 1, e.col as usize));
        }
    }
    let mut out = Vec::new();
    for (file, points) in by_file {
        let Some(text) = texts(file) else { continue };
        // The compiler counts UTF-16 units from 1; the tree wants bytes from 0.
        let lines: Vec<&str> = text.split('\n').collect();
        let points: BTreeSet<(usize, usize)> = points.into_iter().filter_map(|(row, col)| Some((row, crate::semantic::byte_col(lines.get(row)?, col.saturating_sub(1))))).collect();
        // Only the tokens that are the old name: anything else is not this rename's to fix.
        let Some(tree) = maintaind_registry::parse_only(file, text.as_bytes()) else { continue };
        let points: BTreeSet<(usize, usize)> = points
            .into_iter()
            .filter(|&(row, column)| {
                let p = Point { row, column };
                tree.root_node().descendant_for_point_range(p, p).is_some_and(|n| token_edit(&text, n, r).is_some())
            })
            .collect();
        if let Ok(new) = rename_tokens(file, &text, &points, r)
            && new != text
        {
            out.push((file.to_string(), new));
        }
    }
    out
}

/// After `maintaind rollback` restored `restored` (root-relative paths): when a Prisma schema
/// file is among them, the client regenerated from the restored schema (the schema's whole
/// folder). `None` when no schema file was restored; otherwise what was done, for the user.
pub fn regenerate_after_rollback(root: &Path, restored: &[String]) -> Option<Result<String, String>> {
    let schema = restored.iter().find(|p| p.ends_with(".prisma"))?;
    let dir = schema.rsplit_once('/').map_or("", |(d, _)| d);
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .map(|rd| rd.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.ends_with(".prisma")).map(|n| if dir.is_empty() { n } else { format!("{dir}/{n}") }).collect())
        .unwrap_or_default();
    files.sort();
    // A lone `schema.prisma` beside other files is still the schema by itself.
    if files.len() > 1 && !dir.ends_with("schema") {
        files = vec![schema.clone()];
    }
    Some(PrismaCli::for_schema(root, &files).and_then(|cli| cli.generate(root).map(|()| format!("regenerated the Prisma client from the restored schema ({})", cli.describe()))))
}

/// The Prisma schema files of the registry, in path order.
pub fn schema_files(registry: &Registry) -> Vec<String> {
    registry.files().filter(|f| f.lang == FileLang::Prisma).map(|f| f.path.clone()).collect()
}

/// The project's own Prisma CLI and what it regenerates: the client generator of the schema.
pub struct PrismaCli {
    bin: PathBuf,
    schema: String,
    generator: String,
}

impl PrismaCli {
    /// `node_modules/.bin/prisma` of the project, the schema (the folder of a multi-file
    /// schema, or the file) and the name of its `prisma-client-js` generator.
    pub fn find(root: &Path, registry: &Registry) -> Result<PrismaCli, String> {
        PrismaCli::for_schema(root, &schema_files(registry))
    }

    /// The CLI for the schema made of `files` (root-relative `.prisma` paths).
    pub fn for_schema(root: &Path, files: &[String]) -> Result<PrismaCli, String> {
        let bin = root.join("node_modules/.bin/prisma");
        if !bin.is_file() {
            return Err("the project has no Prisma CLI (node_modules/.bin/prisma) to regenerate the client with; run `npm install` in the project first".into());
        }
        let schema = match files {
            [] => return Err("the project has no Prisma schema".into()),
            [one] => one.clone(),
            many => {
                let dir = |p: &str| p.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
                let first = dir(&many[0]);
                if many.iter().any(|p| dir(p) != first) || first.is_empty() {
                    return Err(format!("the schema's files are in several folders ({}); maintaind regenerates a schema held in one folder", many.join(", ")));
                }
                first
            }
        };
        let mut generator = None;
        for f in files {
            let text = std::fs::read_to_string(root.join(f)).map_err(|e| format!("cannot read {f}: {e}"))?;
            if let Some(g) = client_generator(&text) {
                generator = Some(g);
                break;
            }
        }
        let generator = generator.ok_or("the schema has no `prisma-client-js` generator to regenerate")?;
        Ok(PrismaCli { bin, schema, generator })
    }

    /// `prisma generate` of the client alone, offline: no engine is downloaded (the engine
    /// variables point at an empty file, `--no-engine`), no other generator runs (AutoBE's
    /// `prisma-markdown` writes docs/ERD.md).
    pub fn generate(&self, root: &Path) -> Result<(), String> {
        let mut command = Command::new(&self.bin);
        // The client is the project's, written as `npm run build:prisma` would write it: with
        // the user's umask, not maintaind's private one.
        let mask = crate::state::user_umask() as libc::mode_t;
        // SAFETY: `umask` is async-signal-safe and only sets the child's file-creation mask.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                libc::umask(mask);
                Ok(())
            });
        }
        let out = command
            .args(["generate", "--no-engine", "--generator", &self.generator, "--schema", &self.schema])
            .current_dir(root)
            .env("PRISMA_QUERY_ENGINE_LIBRARY", "/dev/null")
            .env("PRISMA_QUERY_ENGINE_BINARY", "/dev/null")
            .env("PRISMA_SCHEMA_ENGINE_BINARY", "/dev/null")
            .env("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err = err.lines().filter(|l| !l.trim().is_empty()).take(6).collect::<Vec<_>>().join(" / ");
            return Err(format!("`prisma generate` failed ({}): {err}", out.status));
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        format!("`prisma generate --no-engine --generator {} --schema {}`", self.generator, self.schema)
    }
}

/// The name of the first `generator NAME { provider = "prisma-client-js" … }` (or the newer
/// `prisma-client`) block of a schema file.
fn client_generator(text: &str) -> Option<String> {
    let mut current: Option<&str> = None;
    for line in text.lines() {
        let code = line[..comment_start(line)].trim();
        if let Some(rest) = code.strip_prefix("generator ") {
            current = rest.trim_end_matches('{').split_whitespace().next();
            continue;
        }
        if code == "}" {
            current = None;
            continue;
        }
        if let (Some(name), Some(value)) = (current, code.strip_prefix("provider").map(str::trim_start).and_then(|v| v.strip_prefix('='))) {
            let value = value.trim().trim_matches('"');
            if value == "prisma-client-js" || value == "prisma-client" {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// The project's own TypeScript compiler over each of its tsconfig projects: the final judge of
/// a change that reaches the Prisma client.
pub struct Compiler {
    tsc: PathBuf,
    version: String,
    projects: Vec<String>,
}

impl Compiler {
    pub fn find(root: &Path, registry: &Registry) -> Result<Compiler, String> {
        let tsc = root.join("node_modules/.bin/tsc");
        if !tsc.is_file() {
            return Err("the project has no TypeScript compiler of its own (node_modules/.bin/tsc) to judge a Prisma change with; run `npm install` in the project first".into());
        }
        let version = std::fs::read_to_string(root.join("node_modules/typescript/package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["version"].as_str().map(str::to_string))
            .unwrap_or_else(|| "version unknown".into());
        let configs = registry.tsconfigs();
        let projects: Vec<String> = configs.dirs().iter().filter_map(|d| configs.main_config(d)).map(|c| c.path.clone()).collect();
        if projects.is_empty() {
            return Err("the project has no tsconfig.json to type-check".into());
        }
        Ok(Compiler { tsc, version, projects })
    }

    pub fn describe(&self) -> String {
        format!("the project's tsc {} over {}", self.version, self.projects.join(", "))
    }

    pub fn projects(&self) -> &[String] {
        &self.projects
    }

    /// Every error and warning of every project, each project's `tsc` run at once. A `tsc`
    /// that cannot run, or ends other than with "errors found", fails the whole answer.
    pub fn diagnostics(&self, root: &Path) -> Result<Vec<ServerDiagnostic>, String> {
        let children: Vec<(String, std::io::Result<std::process::Child>)> = self
            .projects
            .iter()
            .map(|p| {
                let child = Command::new(&self.tsc)
                    .args(["--noEmit", "--pretty", "false", "-p", p])
                    .current_dir(root)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn();
                (p.clone(), child)
            })
            .collect();
        let mut out = Vec::new();
        let mut failed = None;
        for (project, child) in children {
            let result = child.and_then(|c| c.wait_with_output());
            match result {
                Ok(o) if matches!(o.status.code(), Some(0..=2)) => out.extend(parse_tsc(&String::from_utf8_lossy(&o.stdout), root)),
                Ok(o) => {
                    failed.get_or_insert(format!("tsc -p {project} ended with {}: {}", o.status, String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("")));
                }
                Err(e) => {
                    failed.get_or_insert(format!("cannot run {} -p {project}: {e}", self.tsc.display()));
                }
            }
        }
        match failed {
            Some(f) => Err(f),
            None => Ok(out),
        }
    }
}

/// `tsc --pretty false` output: `file(line,col): error TS1234: message`, continuation lines
/// indented; errors without a place (`error TS5083: …`) keep an empty file.
pub fn parse_tsc(output: &str, root: &Path) -> Vec<ServerDiagnostic> {
    let mut out: Vec<ServerDiagnostic> = Vec::new();
    let root = format!("{}/", root.display());
    for line in output.lines() {
        if line.starts_with(' ') {
            if let Some(last) = out.last_mut() {
                last.message.push('\n');
                last.message.push_str(line.trim());
            }
            continue;
        }
        let (place, rest) = match line.find("): ") {
            Some(i) if line[..i].contains('(') => (&line[..i + 1], &line[i + 3..]),
            _ => ("", line),
        };
        let (severity, rest) = match rest.split_once(' ') {
            Some((s @ ("error" | "warning"), rest)) => (s, rest),
            _ => continue,
        };
        let (code, message) = match rest.split_once(": ") {
            Some((c, m)) if c.starts_with("TS") => (Some(c.trim_start_matches("TS").to_string()), m.to_string()),
            _ => (None, rest.to_string()),
        };
        let (file, line_no, col) = match place.rsplit_once('(') {
            Some((file, pos)) => {
                let mut nums = pos.trim_end_matches(')').split(',').map(|n| n.parse::<u32>().unwrap_or(0));
                (file.strip_prefix(root.as_str()).unwrap_or(file).to_string(), nums.next().unwrap_or(0), nums.next().unwrap_or(0))
            }
            None => (String::new(), 0, 0),
        };
        out.push(ServerDiagnostic { file, line: line_no, col, error: severity == "error", code, message });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename(model: &str, field: &str, to: &str) -> ColumnRename {
        ColumnRename { model: model.into(), field: field.into(), to: to.into() }
    }

    #[test]
    fn the_schema_renames_the_field_its_lists_and_references_to_it() {
        let schema = "model shop_products {\n  id String @id\n  name String // the name\n  seller_id String\n  seller shop_sellers @relation(fields: [seller_id, name], references: [id])\n  @@unique([seller_id, name(sort: Desc)])\n  @@index([name])\n}\nmodel shop_images {\n  id String @id\n  product_name String\n  product shop_products @relation(fields: [product_name], references: [name])\n  name String\n  @@index([name])\n}\n";
        let out = schema_edit(schema, &rename("shop_products", "name", "title"));
        assert_eq!(
            out,
            "model shop_products {\n  id String @id\n  title String // the name\n  seller_id String\n  seller shop_sellers @relation(fields: [seller_id, title], references: [id])\n  @@unique([seller_id, title(sort: Desc)])\n  @@index([title])\n}\nmodel shop_images {\n  id String @id\n  product_name String\n  product shop_products @relation(fields: [product_name], references: [title])\n  name String\n  @@index([name])\n}\n"
        );
    }

    #[test]
    fn shorthands_are_spelled_out_and_keys_renamed() {
        let models = PrismaModels::from_files(std::iter::once(&maintaind_registry::index_file("prisma/schema.prisma", b"model shop_products {\n  id String @id\n  name String\n}\n").expect("prisma")));
        let code = "import { MyGlobal } from \"../MyGlobal\";\nexport async function f(name: string) {\n  const row = await MyGlobal.prisma.shop_products.create({ data: { id: \"1\", name } });\n  const { name: n } = row;\n  return { name: row.name, n };\n}\n";
        let out = code_edit("src/providers/f.ts", code, &models, &rename("shop_products", "name", "title")).unwrap().unwrap();
        assert!(out.contains("data: { id: \"1\", title: name }"), "{out}");
        assert!(out.contains("const { title: n } = row;"), "{out}");
        assert!(out.contains("return { name: row.title, n };"), "{out}");
    }

    #[test]
    fn a_key_of_an_api_typed_object_is_refused_not_renamed() {
        let models = PrismaModels::from_files(std::iter::once(&maintaind_registry::index_file("prisma/schema.prisma", b"model tasks {\n  id String @id\n  description String?\n}\n").expect("prisma")));
        let code = "import { MyGlobal } from \"../MyGlobal\";\nexport async function f(body: ITask.IUpdate) {\n  const updateData: ITask.IUpdate = { description: body.description ?? undefined };\n  await MyGlobal.prisma.tasks.update({ where: { id: \"1\" }, data: { ...updateData } });\n}\n";
        let err = code_edit("src/providers/f.ts", code, &models, &rename("tasks", "description", "details")).unwrap_err();
        assert!(err.contains("src/providers/f.ts:3: `description` is a key of an object typed `ITask.IUpdate`"), "{err}");
        // The client's own input type is the client's: renamed.
        let typed = code.replace("const updateData: ITask.IUpdate", "const updateData: Prisma.tasksUpdateInput");
        assert!(code_edit("src/providers/f.ts", &typed, &models, &rename("tasks", "description", "details")).unwrap().unwrap().contains("{ details: body.description ?? undefined }"));
    }

    #[test]
    fn compiler_errors_name_the_reads_the_syntax_missed() {
        let text = "const m = new Map<string, { name: string }>();\nfor (const r of m.values()) console.log(r.name, r.other);\n";
        let errors = vec![
            ServerDiagnostic { file: "src/a.ts".into(), line: 2, col: 43, error: true, code: Some("2339".into()), message: "Property 'name' does not exist on type 'x'.".into() },
            ServerDiagnostic { file: "src/a.ts".into(), line: 2, col: 51, error: true, code: Some("2339".into()), message: "Property 'other' does not exist on type 'x'.".into() },
        ];
        let fixed = compiler_fixes(&errors, &|_| Some(text.to_string()), &rename("m", "name", "title"));
        assert_eq!(fixed, vec![("src/a.ts".to_string(), text.replace("r.name", "r.title"))]);
    }

    #[test]
    fn tsc_output_is_read_with_continuations() {
        let out = "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n  Some detail.\n/r/src/b.ts(1,1): warning TS6133: 'x' is declared but its value is never read.\nerror TS5083: Cannot read file 'x'.\n";
        let d = parse_tsc(out, Path::new("/r"));
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].file.as_str(), d[0].line, d[0].col, d[0].code.as_deref()), ("src/a.ts", 3, 7, Some("2322")));
        assert!(d[0].message.ends_with("\nSome detail."));
        assert_eq!((d[1].file.as_str(), d[1].error), ("src/b.ts", false));
        assert_eq!((d[2].file.as_str(), d[2].code.as_deref()), ("", Some("5083")));
    }

    #[test]
    fn the_client_generator_is_found_by_provider() {
        assert_eq!(client_generator("generator markdown {\n  provider = \"prisma-markdown\"\n}\ngenerator client {\n  provider   = \"prisma-client-js\"\n}\n").as_deref(), Some("client"));
        assert_eq!(client_generator("generator db {\n  provider = \"prisma-client\" // new\n}\n").as_deref(), Some("db"));
        assert_eq!(client_generator("datasource db {\n  provider = \"sqlite\"\n}\n"), None);
    }
}

//! The Prisma side of `change --apply` for a model: renaming `model M` to `N` in the schema and
//! in every piece of code that reaches it through the client, judged like a column rename
//! ([`crate::prisma_change`]: the client regenerated offline, the project's own `tsc`).
//!
//! - **Schema:** the `model` line, and every field typed by the model (`author M`, `posts M[]`,
//!   `parent M?`) in any model. The table keeps its name: `@@map("M")` is added to the model
//!   (unless it maps itself already), so the database is not touched and no migration is
//!   needed; relation fields keep their names (`include: { M: true }` stays valid, the API
//!   does not change). An implicit many-to-many relation is refused: its join table
//!   (`_MToX`) is named after the models.
//! - **Code:** the delegates ([`maintaind_registry::PrismaAccess`]'s `Delegate` role:
//!   `MyGlobal.prisma.M.findMany`, `tx.M.create`) and the client's generated names built from
//!   the model's (`Prisma.MWhereInput`, `Prisma.MGetPayload<…>`, `Prisma.MScalarFieldEnum`, the
//!   row type `M` imported from `@prisma/client`), each edited on its syntax node. A generated
//!   name is the model's when the model is the longest model name it starts with, followed by
//!   an upper-case letter (`UserProfileWhereInput` belongs to `UserProfile`, not `User`).
//! - **What the syntax cannot follow** (a delegate kept in a variable, `typeof prisma.M`): the
//!   compiler names it ("property `M` does not exist on type `PrismaClient`", "`Prisma` has no
//!   exported member `MWhereInput`"), and [`compiler_fixes`] renames that token too.

use std::collections::{BTreeMap, BTreeSet};

use maintaind_registry::{AccessRole, PrismaModels};
use tree_sitter::{Node, Point};

use crate::prisma_add::all;
use crate::prisma_change::{apply_edits, comment_start, identifier};
use crate::semantic::ServerDiagnostic;

/// Prisma model `model` renamed to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRename {
    pub model: String,
    pub to: String,
}

impl ModelRename {
    /// `prisma:model` renamed to `to` (`None`: not a model's symbol or not identifiers).
    pub fn of(symbol: &str, to: &str) -> Option<ModelRename> {
        let model = symbol.strip_prefix("prisma:").filter(|m| !m.contains('.'))?;
        (identifier(model) && identifier(to)).then(|| ModelRename { model: model.into(), to: to.into() })
    }

    /// Why the rename cannot be made on these models and schema files (`None`: it can).
    pub fn problem(&self, models: &PrismaModels, schemas: &[&str]) -> Option<String> {
        if !models.is_model(&self.model) {
            return Some(format!("the schema has no model `{}`", self.model));
        }
        if self.to == self.model {
            return Some(format!("`{}` is already the model's name", self.to));
        }
        if let Some((kind, _)) = schemas.iter().flat_map(|t| blocks(t)).find(|(_, name)| *name == self.to) {
            return Some(format!("the schema already has a {kind} `{}`", self.to));
        }
        if self.to == "Prisma" || self.to == "PrismaClient" || self.to.starts_with('$') {
            return Some(format!("`{}` is a name of the Prisma client itself", self.to));
        }
        // An implicit many-to-many relation (a list on both sides) has a join table named
        // after both models; renaming one of them loses its rows.
        for field in models.fields(&self.model) {
            if let Some(Some(other)) = models.field(&self.model, field)
                && models.is_list(&self.model, field)
                && models.fields(other).any(|back| models.field(other, back) == Some(Some(self.model.as_str())) && models.is_list(other, back))
            {
                return Some(format!(
                    "`{}.{field}` is an implicit many-to-many relation with `{other}`: its join table is named after both models, so the rename would lose its rows; a coder writes that migration",
                    self.model
                ));
            }
        }
        None
    }

    /// The new spelling of a client-generated name `name` that belongs to the model (`None`:
    /// it belongs to another model or to none). `exact` admits the model's own name (the row
    /// type imported from `@prisma/client`).
    fn generated(&self, name: &str, models: &PrismaModels, exact: bool) -> Option<String> {
        let owner = |candidate: &str| -> Option<(usize, bool)> {
            let capital = capitalized(candidate);
            for (prefix, cap) in [(candidate.to_string(), false), (capital, true)] {
                if let Some(rest) = name.strip_prefix(prefix.as_str())
                    && ((exact && rest.is_empty() && !cap) || rest.starts_with(|c: char| c.is_ascii_uppercase()))
                {
                    return Some((candidate.len(), cap));
                }
            }
            None
        };
        let (len, cap) = owner(&self.model)?;
        // The longest model the name starts with owns it.
        if models.models().any(|m| m.len() > len && owner(m).is_some()) {
            return None;
        }
        let to = if cap { capitalized(&self.to) } else { self.to.clone() };
        Some(format!("{to}{}", &name[len..]))
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The `(kind, name)` of every block of a schema file: `model`, `view`, `type`, `enum`.
fn blocks(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| {
            let code = line[..comment_start(line)].trim();
            let mut words = code.split_whitespace();
            let kind = words.next().filter(|k| matches!(*k, "model" | "view" | "type" | "enum"))?;
            let name = words.next()?.trim_end_matches('{');
            code.ends_with('{').then_some((kind, name))
        })
        .collect()
}

/// A Prisma schema file with the model renamed: its `model` line (and `@@map("old")` so the
/// table keeps its name) and every field typed by it.
pub fn schema_edit(text: &str, r: &ModelRename) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // A closing `}` on the file's last line has no line end of its own to give the new line.
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + 32);
    // The block being read: (is it the renamed model, does it map its table, field indent).
    let mut block: Option<(bool, bool, String)> = None;
    let mut previous_code = String::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let eol = &raw[line.len()..];
        let code = &line[..comment_start(line)];
        let trimmed = code.trim();
        let indent = &code[..code.len() - code.trim_start().len()];
        let mut line_out = line.to_string();
        match &mut block {
            None => {
                let mut words = trimmed.split_whitespace();
                let kind = words.next();
                if matches!(kind, Some("model" | "view" | "type" | "enum")) && trimmed.ends_with('{') {
                    let name = words.next().unwrap_or("").trim_end_matches('{');
                    let own = kind == Some("model") && name == r.model;
                    let maps = own && lines[i + 1..].iter().map(|l| l[..comment_start(l)].trim()).take_while(|l| *l != "}").any(|l| l.starts_with("@@map("));
                    if own {
                        // After the keyword: a model may be named `mode` or `del`.
                        let after = code.find("model").expect("the keyword is on the line") + "model".len();
                        let at = after + code[after..].find(name).expect("the name is on the line");
                        line_out.replace_range(at..at + name.len(), &r.to);
                    }
                    block = Some((own, maps || kind != Some("model"), String::new()));
                }
            }
            Some((own, maps, field_indent)) if trimmed == "}" => {
                if *own && !*maps {
                    let indent = if field_indent.is_empty() { "  " } else { field_indent.as_str() };
                    // `prisma format` keeps block attributes apart from the fields.
                    if !previous_code.starts_with("@@") && !previous_code.is_empty() {
                        out.push_str(newline);
                    }
                    out.push_str(&format!("{indent}@@map(\"{}\"){newline}", r.model));
                }
                block = None;
            }
            Some((_, _, field_indent)) => {
                if !trimmed.is_empty() && !trimmed.starts_with("@@") && !trimmed.starts_with("///") {
                    if field_indent.is_empty() {
                        *field_indent = indent.to_string();
                    }
                    // `name Type`, `name Type?`, `name Type[]`.
                    let mut words = trimmed.split_whitespace();
                    if let (Some(_), Some(ty)) = (words.next(), words.next())
                        && ty.trim_end_matches('?').trim_end_matches("[]") == r.model
                    {
                        let name_end = indent.len() + trimmed.find(char::is_whitespace).unwrap_or(0);
                        let at = name_end + code[name_end..].find(ty).expect("the type is on the line");
                        line_out.replace_range(at..at + r.model.len(), &r.to);
                    }
                }
            }
        }
        if !trimmed.is_empty() {
            previous_code = trimmed.to_string();
        }
        let line_out = relinked(&line_out, r);
        out.push_str(&line_out);
        out.push_str(eol);
    }
    out
}

/// Where the model's name starts in each `{@link M.field}` and `{@link M}` of `text`.
fn link_spans<'a>(text: &'a str, r: &'a ModelRename) -> impl Iterator<Item = usize> + 'a {
    let tag = "{@link ";
    text.match_indices(tag).map(move |(at, _)| at + tag.len()).filter(move |&at| text[at..].strip_prefix(r.model.as_str()).is_some_and(|rest| rest.starts_with(['.', '}', ' ', '|'])))
}

/// `line` with every `{@link M.field}` and `{@link M}` pointing at the new name.
fn relinked(line: &str, r: &ModelRename) -> String {
    let edits = link_spans(line, r).map(|at| (at, at + r.model.len(), r.to.clone())).collect();
    apply_edits("", line, edits).expect("links do not overlap")
}

/// A TypeScript file with the model's delegates and generated names renamed (`None`: the file
/// does not name the model).
pub fn code_edit(path: &str, text: &str, models: &PrismaModels, r: &ModelRename) -> Result<Option<String>, String> {
    if !text.contains(r.model.as_str()) && !text.contains(capitalized(&r.model).as_str()) {
        return Ok(None);
    }
    let Some(syntax) = maintaind_registry::Syntax::parse(path, text.as_bytes()) else { return Ok(None) };
    let mut edits: BTreeSet<(usize, usize, String)> = BTreeSet::new();
    let tree = syntax.tree();
    for a in syntax.prisma_accesses(models).into_iter().filter(|a| a.model == r.model && a.role == AccessRole::Delegate) {
        let p = Point { row: a.pos.line as usize, column: a.pos.col as usize };
        let node = tree.root_node().descendant_for_point_range(p, p).filter(|n| text[n.byte_range()] == r.model).ok_or_else(|| format!("{path}:{}: no delegate `{}` here", p.row + 1, r.model))?;
        edits.insert((node.start_byte(), node.end_byte(), r.to.clone()));
    }
    generated_names(text, tree.root_node(), models, r, &mut edits);
    // Docs follow in a file the rename changes; a file whose only mention is a doc link is
    // outside the change's blast radius and its scope ([`stale_doc_links`] names it).
    if edits.is_empty() {
        return Ok(None);
    }
    doc_links(text, tree.root_node(), r, &mut edits);
    apply_edits(path, text, edits).map(Some)
}

/// The client's generated names of the model in `root`: `Prisma.X` (as a type or a value) and
/// names imported from `@prisma/client` (with every use of an un-aliased one in the file).
fn generated_names(text: &str, root: Node, models: &PrismaModels, r: &ModelRename, edits: &mut BTreeSet<(usize, usize, String)>) {
    let src = |n: Node| &text[n.byte_range()];
    let mut imported: BTreeMap<String, String> = BTreeMap::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let qualified = match n.kind() {
            "nested_type_identifier" => n.child_by_field_name("module").zip(n.child_by_field_name("name")),
            "member_expression" => n.child_by_field_name("object").zip(n.child_by_field_name("property")),
            _ => None,
        };
        if let Some((module, name)) = qualified
            && src(module) == "Prisma"
            && let Some(new) = r.generated(src(name), models, false)
        {
            edits.insert((name.start_byte(), name.end_byte(), new));
        }
        if n.kind() == "import_statement" && n.child_by_field_name("source").is_some_and(|s| src(s).trim_matches(|c| c == '"' || c == '\'') == "@prisma/client") {
            let mut specifiers = Vec::new();
            all(n, &|m| m.kind() == "import_specifier", &mut specifiers);
            for s in specifiers {
                let Some(name) = s.child_by_field_name("name") else { continue };
                if let Some(new) = r.generated(src(name), models, true) {
                    edits.insert((name.start_byte(), name.end_byte(), new.clone()));
                    if s.child_by_field_name("alias").is_none() {
                        imported.insert(src(name).to_string(), new);
                    }
                }
            }
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    if imported.is_empty() {
        return;
    }
    // Every use of an imported name: types, and values (`Prisma.…` enums used as values).
    let mut uses = Vec::new();
    all(root, &|n| matches!(n.kind(), "type_identifier" | "identifier"), &mut uses);
    for u in uses {
        if let Some(new) = imported.get(src(u))
            && u.parent().is_none_or(|p| p.kind() != "import_specifier")
        {
            edits.insert((u.start_byte(), u.end_byte(), new.clone()));
        }
    }
}

/// Whether `text` links the model in its docs (`{@link M.field}`, `{@link M}`): a file the
/// rename leaves alone still pointing at the old name.
pub fn links_model(text: &str, r: &ModelRename) -> bool {
    link_spans(text, r).next().is_some()
}

/// `{@link M.field}` and `{@link M}` in comments (AutoBE's DTO and SDK docs point at columns so).
fn doc_links(text: &str, root: Node, r: &ModelRename, edits: &mut BTreeSet<(usize, usize, String)>) {
    let mut comments = Vec::new();
    all(root, &|n| n.kind() == "comment", &mut comments);
    for c in comments {
        for at in link_spans(&text[c.byte_range()], r) {
            let from = c.start_byte() + at;
            edits.insert((from, from + r.model.len(), r.to.clone()));
        }
    }
}

/// TypeScript's codes for a name the client lacks once the model is renamed: a property of the
/// client (TS2339, TS2551), a member of the `Prisma` namespace (TS2694, TS2724) or of the module
/// (TS2305, TS2614).
const MISSING: &[&str] = &["2339", "2551", "2694", "2724", "2305", "2614"];

/// The name `d` says is missing, when it is one the rename took away.
fn missing_name<'d>(d: &'d ServerDiagnostic, models: &PrismaModels, r: &ModelRename) -> Option<&'d str> {
    if !d.error || !d.code.as_deref().is_some_and(|c| MISSING.contains(&c)) {
        return None;
    }
    // "Property 'M' does not exist on type …"; "Namespace '….Prisma' has no exported member
    // 'MWhereInput'" names the namespace first.
    let named = d.message.split_once("has no exported member").map_or(d.message.as_str(), |(_, rest)| rest);
    let name = named.split('\'').nth(1)?;
    let client = d.message.contains("PrismaClient") || d.message.contains("TransactionClient");
    if name == r.model {
        // The delegate on the client, or the row type imported from the module.
        return (client || d.message.contains("has no exported member")).then_some(name);
    }
    r.generated(name, models, false).is_some().then_some(name)
}

/// Whether `d` is the compiler saying the client lacks a name of the renamed model.
pub fn names_missing(d: &ServerDiagnostic, models: &PrismaModels, r: &ModelRename) -> bool {
    missing_name(d, models, r).is_some()
}

/// The files of `errors` with the model's old names renamed where the compiler says the client
/// lacks them, from their `texts` (the files as written): `(path, new text)`, only files that
/// change.
pub fn compiler_fixes(errors: &[ServerDiagnostic], texts: &dyn Fn(&str) -> Option<String>, models: &PrismaModels, r: &ModelRename) -> Vec<(String, String)> {
    let mut by_file: BTreeMap<&str, Vec<(usize, usize, &str)>> = BTreeMap::new();
    for e in errors {
        if let Some(name) = missing_name(e, models, r)
            && maintaind_registry::is_typescript(&e.file)
            && !e.file.ends_with(".d.ts")
            && e.line > 0
        {
            by_file.entry(e.file.as_str()).or_default().push((e.line as usize - 1, e.col as usize, name));
        }
    }
    let mut out = Vec::new();
    for (file, points) in by_file {
        let Some(text) = texts(file) else { continue };
        let Some(tree) = maintaind_registry::parse_only(file, text.as_bytes()) else { continue };
        let lines: Vec<&str> = text.split('\n').collect();
        let mut edits = BTreeSet::new();
        for (row, col, name) in points {
            // The compiler counts UTF-16 units from 1; the tree wants bytes from 0.
            let Some(line) = lines.get(row) else { continue };
            let p = Point { row, column: crate::semantic::byte_col(line, col.saturating_sub(1)) };
            let Some(node) = tree.root_node().descendant_for_point_range(p, p) else { continue };
            if &text[node.byte_range()] != name || !matches!(node.kind(), "property_identifier" | "type_identifier" | "identifier") {
                continue;
            }
            let new = if name == r.model { Some(r.to.clone()) } else { r.generated(name, models, false) };
            if let Some(new) = new {
                edits.insert((node.start_byte(), node.end_byte(), new));
            }
        }
        if let Ok(new) = apply_edits(file, &text, edits)
            && new != text
        {
            out.push((file.to_string(), new));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(schema: &str) -> PrismaModels {
        let file = maintaind_registry::index_file("prisma/schema.prisma", schema.as_bytes()).expect("a schema indexes");
        PrismaModels::from_files(std::iter::once(&file))
    }

    const SCHEMA: &str = "model bbs_articles {\n  id String @id @db.Uuid\n  title String\n  comments bbs_article_comments[]\n\n  @@index([title])\n}\n\nmodel bbs_article_comments {\n  id String @id @db.Uuid\n  bbs_article_id String @db.Uuid\n  article bbs_articles @relation(fields: [bbs_article_id], references: [id])\n  parent bbs_articles? // a comment\n  /// The {@link bbs_articles.id}.\n  x String\n}\n";

    fn rename() -> ModelRename {
        ModelRename::of("prisma:bbs_articles", "bbs_posts").expect("a model rename")
    }

    #[test]
    fn the_schema_renames_the_model_its_relation_types_and_keeps_the_table() {
        let out = schema_edit(SCHEMA, &rename());
        assert_eq!(
            out,
            "model bbs_posts {\n  id String @id @db.Uuid\n  title String\n  comments bbs_article_comments[]\n\n  @@index([title])\n  @@map(\"bbs_articles\")\n}\n\nmodel bbs_article_comments {\n  id String @id @db.Uuid\n  bbs_article_id String @db.Uuid\n  article bbs_posts @relation(fields: [bbs_article_id], references: [id])\n  parent bbs_posts? // a comment\n  /// The {@link bbs_posts.id}.\n  x String\n}\n"
        );
        // A model that maps its table keeps its mapping; one with fields only gets a blank line.
        let mapped = "model bbs_articles {\n  id String @id\n  @@map(\"articles\")\n}\n";
        assert_eq!(schema_edit(mapped, &rename()), "model bbs_posts {\n  id String @id\n  @@map(\"articles\")\n}\n");
        let bare = "model bbs_articles {\n  id String @id\n}\n";
        assert_eq!(schema_edit(bare, &rename()), "model bbs_posts {\n  id String @id\n\n  @@map(\"bbs_articles\")\n}\n");
        // The file's last line, with no line end (AutoBE's schema files end so).
        assert_eq!(schema_edit("model bbs_articles {\n  id String @id\n}", &rename()), "model bbs_posts {\n  id String @id\n\n  @@map(\"bbs_articles\")\n}");
        // A model named like a piece of the keyword.
        let del = ModelRename::of("prisma:del", "removal").expect("well formed");
        assert_eq!(schema_edit("model del {\n  id String @id\n  @@map(\"d\")\n}\n", &del), "model removal {\n  id String @id\n  @@map(\"d\")\n}\n");
    }

    #[test]
    fn what_cannot_be_renamed_is_refused_with_the_reason() {
        let m = models(SCHEMA);
        let taken = ModelRename::of("prisma:bbs_articles", "bbs_article_comments").expect("well formed");
        assert!(taken.problem(&m, &[SCHEMA]).expect("refused").contains("already has a model"));
        assert!(ModelRename::of("prisma:nope", "x").expect("well formed").problem(&m, &[SCHEMA]).expect("refused").contains("no model"));
        assert!(ModelRename::of("prisma:bbs_articles.title", "x").is_none());
        assert!(ModelRename::of("prisma:bbs_articles", "a-b").is_none());
        let implicit = "model a {\n  id String @id\n  bs b[]\n}\nmodel b {\n  id String @id\n  as a[]\n}\n";
        assert!(ModelRename::of("prisma:a", "c").expect("well formed").problem(&models(implicit), &[implicit]).expect("refused").contains("many-to-many"));
        assert_eq!(rename().problem(&m, &[SCHEMA]), None);
    }

    #[test]
    fn delegates_and_generated_names_are_renamed_in_code() {
        let m = models(SCHEMA);
        let code = "import { Prisma, bbs_articles } from \"@prisma/client\";\n\nexport async function f(tx: Prisma.TransactionClient, where: Prisma.bbs_articlesWhereInput, c: Prisma.bbs_article_commentsWhereInput): Promise<bbs_articles[]> {\n  const rows = await MyGlobal.prisma.bbs_articles.findMany({ where, include: { comments: true } });\n  await tx.bbs_articles.count({ orderBy: { title: Prisma.SortOrder.asc } });\n  const keys = Object.values(Prisma.Bbs_articlesScalarFieldEnum);\n  return rows.filter((r) => r.bbs_articles !== keys);\n}\n/** The {@link bbs_articles.id} of a {@link bbs_articles}, not a {@link bbs_articles_x}. */\n";
        let out = code_edit("src/f.ts", code, &m, &rename()).expect("edits").expect("the file names the model");
        assert_eq!(
            out,
            "import { Prisma, bbs_posts } from \"@prisma/client\";\n\nexport async function f(tx: Prisma.TransactionClient, where: Prisma.bbs_postsWhereInput, c: Prisma.bbs_article_commentsWhereInput): Promise<bbs_posts[]> {\n  const rows = await MyGlobal.prisma.bbs_posts.findMany({ where, include: { comments: true } });\n  await tx.bbs_posts.count({ orderBy: { title: Prisma.SortOrder.asc } });\n  const keys = Object.values(Prisma.Bbs_postsScalarFieldEnum);\n  return rows.filter((r) => r.bbs_articles !== keys);\n}\n/** The {@link bbs_posts.id} of a {@link bbs_posts}, not a {@link bbs_articles_x}. */\n"
        );
        assert_eq!(code_edit("src/g.ts", "export const x = 1;\n", &m, &rename()).expect("no edits"), None);
        // A DTO whose only mention is a doc link is not the change's to touch.
        let dto = "export type IArticle = {\n  /** The {@link bbs_articles.id}. */\n  id: string;\n};\n";
        assert_eq!(code_edit("src/api/structures/IArticle.ts", dto, &m, &rename()).expect("no edits"), None);
        assert!(links_model(dto, &rename()));
        assert!(!links_model("/** {@link bbs_articles_x} */", &rename()));
    }

    #[test]
    fn the_longest_model_owns_a_generated_name() {
        let schema = "model User {\n  id String @id\n}\nmodel UserProfile {\n  id String @id\n}\n";
        let m = models(schema);
        let r = ModelRename::of("prisma:User", "Member").expect("well formed");
        assert_eq!(r.generated("UserWhereInput", &m, false).as_deref(), Some("MemberWhereInput"));
        assert_eq!(r.generated("UserProfileWhereInput", &m, false), None);
        assert_eq!(r.generated("User", &m, false), None);
        assert_eq!(r.generated("User", &m, true).as_deref(), Some("Member"));
        assert_eq!(r.generated("Users", &m, true), None);
    }

    #[test]
    fn the_compiler_names_what_the_syntax_missed() {
        let m = models(SCHEMA);
        let code = "const d = MyGlobal.prisma.bbs_articles;\ntype W = Prisma.bbs_articlesWhereInput;\n";
        let errors = vec![
            ServerDiagnostic {
                file: "src/f.ts".into(),
                line: 1,
                col: 27,
                error: true,
                code: Some("2339".into()),
                message: "Property 'bbs_articles' does not exist on type 'PrismaClient<PrismaClientOptions, never, DefaultArgs>'.".into(),
            },
            ServerDiagnostic {
                file: "src/f.ts".into(),
                line: 2,
                col: 17,
                error: true,
                code: Some("2694".into()),
                message: "Namespace '\"/p/node_modules/.prisma/client/default\".Prisma' has no exported member 'bbs_articlesWhereInput'.".into(),
            },
            // A relation field of the same name on a row is not the delegate.
            ServerDiagnostic { file: "src/f.ts".into(), line: 1, col: 1, error: true, code: Some("2339".into()), message: "Property 'bbs_articles' does not exist on type '{ id: string; }'.".into() },
        ];
        let fixes = compiler_fixes(&errors, &|_| Some(code.to_string()), &m, &rename());
        assert_eq!(fixes, vec![("src/f.ts".to_string(), "const d = MyGlobal.prisma.bbs_posts;\ntype W = Prisma.bbs_postsWhereInput;\n".to_string())]);
    }
}

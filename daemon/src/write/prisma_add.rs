//! A new column exposed on its DTO, for `change --apply`: "add a view_count column to
//! econ_political_forum_threads and expose it on IEconPoliticalForumThread", "products should
//! have a weight".
//!
//! What is written, from the planner's decisions (`prisma:M` "add column F", each DTO type
//! "add property F"):
//! - **the schema field**, after the model's last column, documented like its neighbours. Its
//!   type and default follow the name ([`ColumnType::of`], documented in docs/guide/change.md):
//!   a count is `Int @default(0)`, a flag `Boolean @default(false)`; anything else is nullable
//!   (`DateTime?` for `*_at`, `Float?` for measures, `String?` otherwise), so no existing
//!   `create` has to supply it;
//! - **the DTO property** with its typia tags: required on the type the API returns (a count
//!   `number & tags.Type<"int32"> & tags.Minimum<0>`, a nullable column `T | null`), optional
//!   on `ICreate`/`IUpdate` when the plan has clients set it;
//! - **every provider that builds the DTO** maps it from the row: the project's compiler names
//!   each object literal that lacks the now required property, and the row is the one the
//!   literal's other properties read ([`mapping_fixes`]); a row fetched with a `select` gets
//!   `F: true` where the compiler says the row lacks it ([`select_fixes`]);
//! - **every `create`/`update` of the model** whose `data` is written from the request body
//!   passes the client's value when the plan has clients set it.
//!
//! The verdict is the same as a column rename's: the project's own `tsc` after the client is
//! regenerated offline ([`crate::prisma_change`]).

use std::collections::{BTreeMap, BTreeSet};

use maintaind_registry::{AccessRole, PrismaAccess, PrismaModels};
use tree_sitter::{Node, Point};

use crate::mechanical::find;
use crate::semantic::ServerDiagnostic;

/// A new column of `model`, exposed on `dtos` (`(type, clients set it)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddColumn {
    pub model: String,
    pub field: String,
    pub dtos: Vec<String>,
}

/// The column's Prisma type and the DTO property's TypeScript type, chosen from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `*_count`, `count`: `Int @default(0)`.
    Count,
    /// `is_*`, `has_*`, `*_flag`, `locked`, `pinned`…: `Boolean @default(false)`.
    Flag,
    /// `*_at`, `*_date`, `deadline`, `due`: `DateTime?`.
    Time,
    /// A measure (`weight`, `price`, `*_amount`, `rating`…): `Float?`.
    Measure,
    /// Anything else: `String?`.
    Text,
}

const FLAGS: &[&str] = &["locked", "pinned", "archived", "hidden", "featured", "verified", "published", "active", "enabled", "visible", "flagged", "closed", "resolved"];
const MEASURES: &[&str] =
    &["weight", "height", "width", "length", "depth", "price", "amount", "rating", "score", "latitude", "longitude", "cost", "fee", "total", "balance", "discount", "rate", "volume", "size"];

impl ColumnType {
    pub fn of(field: &str) -> ColumnType {
        let last = field.rsplit('_').next().unwrap_or(field);
        if field == "count" || field.ends_with("_count") {
            ColumnType::Count
        } else if field.starts_with("is_") || field.starts_with("has_") || field.starts_with("can_") || field.ends_with("_flag") || FLAGS.contains(&field) {
            ColumnType::Flag
        } else if field.ends_with("_at") || field == "date" || field.ends_with("_date") || field == "deadline" || field == "due" {
            ColumnType::Time
        } else if MEASURES.contains(&last) {
            ColumnType::Measure
        } else {
            ColumnType::Text
        }
    }

    fn prisma(self) -> &'static str {
        match self {
            ColumnType::Count => "Int @default(0)",
            ColumnType::Flag => "Boolean @default(false)",
            ColumnType::Time => "DateTime?",
            ColumnType::Measure => "Float?",
            ColumnType::Text => "String?",
        }
    }

    /// The DTO property's type on the type the API returns.
    fn read_type(self) -> &'static str {
        match self {
            ColumnType::Count => "number & tags.Type<\"int32\"> & tags.Minimum<0>",
            ColumnType::Flag => "boolean",
            ColumnType::Time => "(string & tags.Format<\"date-time\">) | null",
            ColumnType::Measure => "number | null",
            ColumnType::Text => "string | null",
        }
    }

    /// The property's type on a request body (`ICreate`, `IUpdate`), optional there.
    fn request_type(self) -> &'static str {
        match self {
            ColumnType::Count => "(number & tags.Type<\"int32\"> & tags.Minimum<0>) | undefined",
            ColumnType::Flag => "boolean | undefined",
            ColumnType::Time => "(string & tags.Format<\"date-time\">) | null | undefined",
            ColumnType::Measure => "number | null | undefined",
            ColumnType::Text => "string | null | undefined",
        }
    }

    /// The row's value as the DTO wants it (`row` is the row expression).
    fn read_value(self, row: &str, field: &str) -> String {
        match self {
            ColumnType::Time => format!("{row}.{field}?.toISOString() ?? null"),
            _ => format!("{row}.{field}"),
        }
    }

    fn uses_tags(self) -> bool {
        matches!(self, ColumnType::Count | ColumnType::Time)
    }
}

/// `view_count` → `View count.`
fn doc_words(field: &str) -> String {
    let words = field.replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// Why the column cannot be added (`None`: it can).
pub fn problem(models: &PrismaModels, a: &AddColumn) -> Option<String> {
    let ident = !a.field.is_empty() && a.field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') && !a.field.starts_with(|c: char| c.is_ascii_digit());
    if !ident {
        return Some(format!("`{}` is not a column name in AutoBE's form (snake_case)", a.field));
    }
    if !models.is_model(&a.model) {
        return Some(format!("the schema has no model `{}`", a.model));
    }
    if models.field(&a.model, &a.field).is_some() {
        return Some(format!("model `{}` already has a field `{}`", a.model, a.field));
    }
    None
}

/// The schema file declaring the model, with the column after its last scalar field.
pub fn schema_edit(text: &str, a: &AddColumn, models: &PrismaModels) -> Option<String> {
    let mut in_model = false;
    let mut last_scalar: Option<usize> = None;
    let mut indent = "  ".to_string();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let code = line.trim();
        if !in_model {
            let mut w = code.split_whitespace();
            in_model = w.next() == Some("model") && w.next() == Some(a.model.as_str()) && code.ends_with('{');
        } else if code == "}" {
            break;
        } else if !code.starts_with("//") && !code.starts_with("@@") && !code.is_empty() {
            let name = code.split_whitespace().next().unwrap_or("");
            if models.field(&a.model, name) == Some(None) {
                last_scalar = Some(offset + raw.len());
                indent = line[..line.len() - line.trim_start().len()].to_string();
            }
        }
        offset += raw.len();
    }
    let at = last_scalar?;
    let t = ColumnType::of(&a.field);
    let insert = format!("{indent}\n{indent}/// {}\n{indent}{} {}\n", doc_words(&a.field), a.field, t.prisma());
    Some(format!("{}{insert}{}", &text[..at], &text[at..]))
}

/// The DTO file with the property added to `dto` (`IX` or `IX.ICreate`), declared on line
/// `line` (1-based). `request`: a request body's variant (optional property).
pub fn dto_edit(path: &str, text: &str, dto: &str, line: u32, field: &str, request: bool) -> Result<String, String> {
    let name = dto.rsplit('.').next().unwrap_or(dto);
    let tree = maintaind_registry::parse_only(path, text.as_bytes()).ok_or("not a TypeScript file")?;
    let row = line.checked_sub(1).ok_or("the target has no line")? as usize;
    let decl = find(tree.root_node(), &|n| {
        matches!(n.kind(), "type_alias_declaration" | "interface_declaration") && n.start_position().row == row && n.child_by_field_name("name").is_some_and(|m| &text[m.byte_range()] == name)
    })
    .ok_or_else(|| format!("no type `{name}` on line {line} of {path}; plan again"))?;
    let body = match decl.kind() {
        "interface_declaration" => decl.child_by_field_name("body"),
        _ => decl.child_by_field_name("value").filter(|v| v.kind() == "object_type"),
    }
    .ok_or_else(|| format!("`{dto}` is not an object type maintaind can add a property to"))?;
    let mut cursor = body.walk();
    let props: Vec<Node> = body.named_children(&mut cursor).filter(|c| c.kind() == "property_signature").collect();
    if props.iter().any(|p| p.child_by_field_name("name").is_some_and(|n| &text[n.byte_range()] == field)) {
        return Err(format!("`{dto}` already has `{field}`"));
    }
    let t = ColumnType::of(field);
    let (prop, ty) = if request { (format!("{field}?"), t.request_type()) } else { (field.to_string(), t.read_type()) };
    let doc = doc_words(field);
    let out = match props.last() {
        Some(last) => {
            let line_start = text[..last.start_byte()].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..last.start_byte()];
            // After the property and its `;`.
            let mut end = last.end_byte();
            if text[end..].starts_with(';') {
                end += 1;
            }
            format!("{}\n\n{indent}/** {doc} */\n{indent}{prop}: {ty};{}", &text[..end], &text[end..])
        }
        None => {
            let open = body.start_byte() + 1;
            let line_start = text[..decl.start_byte()].rfind('\n').map_or(0, |i| i + 1);
            let indent = format!("{}  ", &text[line_start..decl.start_byte()]);
            format!("{}\n{indent}/** {doc} */\n{indent}{prop}: {ty};\n{}", &text[..open], &text[open..].trim_start_matches([' ', '\n']))
        }
    };
    Ok(if t.uses_tags() && !crate::mechanical::has_tags_import(path, &out) { crate::mechanical::with_tags_import(&out) } else { out })
}

/// Every node under `node` (itself included) that `pred` accepts, in document order.
pub(crate) fn all<'t>(node: Node<'t>, pred: &dyn Fn(Node<'t>) -> bool, out: &mut Vec<Node<'t>>) {
    if pred(node) {
        out.push(node);
    }
    let mut cursor = node.walk();
    for c in node.named_children(&mut cursor) {
        all(c, pred, out);
    }
}

/// The keys of an object literal.
fn keys(text: &str, object: Node) -> BTreeSet<String> {
    let mut cursor = object.walk();
    object
        .named_children(&mut cursor)
        .filter_map(|c| match c.kind() {
            "pair" => c.child_by_field_name("key").map(|k| text[k.byte_range()].trim_matches(['"', '\'']).to_string()),
            "shorthand_property_identifier" => Some(text[c.byte_range()].to_string()),
            _ => None,
        })
        .collect()
}

/// `text` with `entry` (`key: value`) appended to `object`, on a line of its own when the
/// object is written one entry per line.
pub(crate) fn append_entry(text: &str, object: Node, entry: &str) -> (usize, String) {
    let mut cursor = object.walk();
    let entries: Vec<Node> = object.named_children(&mut cursor).filter(|c| c.kind() != "comment").collect();
    let close = object.end_byte() - 1;
    match entries.last() {
        Some(last) if object.start_position().row != object.end_position().row => {
            let line_start = text[..last.start_byte()].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..last.start_byte()];
            let mut end = last.end_byte();
            let comma = text[end..close].trim_start().starts_with(',');
            if comma {
                end += text[end..].find(',').unwrap_or(0) + 1;
                (end, format!("\n{indent}{entry},"))
            } else {
                (end, format!(",\n{indent}{entry}"))
            }
        }
        Some(last) => (last.end_byte(), format!(", {entry}")),
        None => (object.start_byte() + 1, format!(" {entry} ")),
    }
}

fn apply_inserts(text: &str, mut inserts: Vec<(usize, String)>) -> String {
    inserts.sort_by_key(|(at, _)| *at);
    inserts.dedup();
    let mut out = text.to_string();
    for (at, s) in inserts.into_iter().rev() {
        out.insert_str(at, &s);
    }
    out
}

/// The row expression the pairs of `object` read the model's columns from (`product` of
/// `name: product.name`), the most used one; reads nested in inner objects do not count.
fn row_of(text: &str, object: Node, reads: &[&PrismaAccess]) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for a in reads {
        let p = Point { row: a.pos.line as usize, column: a.pos.col as usize };
        let Some(node) = object.descendant_for_point_range(p, p) else { continue };
        // The innermost object literal around the read must be this one.
        let mut up = node.parent();
        while let Some(n) = up {
            if n.kind() == "object" {
                break;
            }
            up = n.parent();
        }
        if up != Some(object) {
            continue;
        }
        let Some(member) = node.parent().filter(|m| m.kind() == "member_expression") else { continue };
        let Some(row) = member.child_by_field_name("object") else { continue };
        *counts.entry(text[row.byte_range()].to_string()).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(r, _)| r)
}

/// Whether `d` says a DTO lacks the new property (the literal that builds it does not set it).
fn lacks_property(d: &ServerDiagnostic, field: &str) -> bool {
    d.error && matches!(d.code.as_deref(), Some("2741" | "2322" | "2345" | "1360" | "2739")) && d.message.contains(&format!("'{field}'")) && d.message.contains("is missing")
}

/// Each file the compiler names as building a DTO without the new property, with the property
/// mapped from the row in every object literal there: under the error's statement (a
/// `return`, a declarator, a `map` callback), the literals whose own properties read a row of
/// the model. `texts` reads a file as written.
pub fn mapping_fixes(errors: &[ServerDiagnostic], texts: &dyn Fn(&str) -> Option<String>, models: &PrismaModels, a: &AddColumn) -> Vec<(String, String)> {
    let mut by_file: BTreeMap<&str, BTreeSet<(usize, usize)>> = BTreeMap::new();
    for e in errors.iter().filter(|e| lacks_property(e, &a.field) && e.line > 0) {
        by_file.entry(e.file.as_str()).or_default().insert((e.line as usize - 1, e.col as usize));
    }
    let t = ColumnType::of(&a.field);
    let mut out = Vec::new();
    for (file, points) in by_file {
        let Some(text) = texts(file) else { continue };
        let Some(syntax) = maintaind_registry::Syntax::parse(file, text.as_bytes()) else { continue };
        let accesses = syntax.prisma_accesses(models);
        let reads: Vec<&PrismaAccess> = accesses.iter().filter(|x| x.model == a.model && x.role == AccessRole::Read).collect();
        let Some(tree) = maintaind_registry::parse_only(file, text.as_bytes()) else { continue };
        let lines: Vec<&str> = text.split('\n').collect();
        let mut inserts = Vec::new();
        let mut done: BTreeSet<usize> = BTreeSet::new();
        for (row, col) in points {
            let column = crate::semantic::byte_col(lines.get(row).copied().unwrap_or(""), col.saturating_sub(1));
            let p = Point { row, column };
            let Some(at) = tree.root_node().descendant_for_point_range(p, p) else { continue };
            for object in literals_for(&text, at) {
                if !done.insert(object.start_byte()) || keys(&text, object).contains(&a.field) {
                    continue;
                }
                if let Some(row) = row_of(&text, object, &reads) {
                    inserts.push(append_entry(&text, object, &format!("{}: {}", a.field, t.read_value(&row, &a.field))));
                }
            }
        }
        let new = apply_inserts(&text, inserts);
        if new != text {
            out.push((file.to_string(), new));
        }
    }
    out
}

/// The object literals an error at `at` is about: every literal under the statement or
/// declarator the error points at (a `return`, `const x: T = …`, an arrow's body, an
/// expression); for `return name;`, the literal `name` was declared with.
fn literals_for<'t>(text: &str, at: Node<'t>) -> Vec<Node<'t>> {
    // The largest node starting where the error points (`return` → its statement, a
    // declarator's name → the declarator, `rows` → `rows.map(…)`).
    let mut scope = at;
    while let Some(p) = scope.parent() {
        if p.start_byte() != scope.start_byte() || matches!(p.kind(), "program" | "statement_block" | "class_body") {
            break;
        }
        scope = p;
    }
    let mut out = Vec::new();
    all(scope, &|n| n.kind() == "object", &mut out);
    // A variable named there (`return out;`, `{ pagination, data }`): the literals it was
    // declared with (`const data = rows.map((r) => ({ … }))`).
    let named = match scope.kind() {
        "identifier" | "shorthand_property_identifier" => Some(scope),
        "return_statement" => scope.named_child(0).filter(|n| n.kind() == "identifier"),
        _ => None,
    };
    if out.is_empty()
        && let Some(id) = named
    {
        let name = &text[id.byte_range()];
        if let Some(f) = enclosing_function(scope)
            && let Some(decl) = find(f, &|n| n.kind() == "variable_declarator" && n.start_byte() < id.start_byte() && n.child_by_field_name("name").is_some_and(|m| &text[m.byte_range()] == name))
            && let Some(value) = decl.child_by_field_name("value")
        {
            all(value, &|n| n.kind() == "object", &mut out);
        }
    }
    out
}

/// The innermost function (declaration, arrow, method, expression) around `node`.
fn enclosing_function(node: Node) -> Option<Node> {
    let mut up = node.parent();
    while let Some(f) = up {
        if matches!(f.kind(), "function_declaration" | "arrow_function" | "method_definition" | "function_expression") {
            return Some(f);
        }
        up = f.parent();
    }
    None
}

/// Whether `d` says a row lacks the new column (it was fetched with a `select`).
fn row_lacks(d: &ServerDiagnostic, field: &str) -> bool {
    d.error && matches!(d.code.as_deref(), Some("2339" | "2551")) && d.message.contains(&format!("'{field}'"))
}

/// Each file where the compiler says a row lacks the new column, with `F: true` added to the
/// `select` of the model that fetched it: the one in the declaration of the row's variable
/// (`const created = await …create({ select: {…} })`), or, when the row cannot be traced to
/// one (a callback's parameter), every `select` of the model in the file.
pub fn select_fixes(errors: &[ServerDiagnostic], texts: &dyn Fn(&str) -> Option<String>, models: &PrismaModels, a: &AddColumn) -> Vec<(String, String)> {
    let mut by_file: BTreeMap<&str, BTreeSet<(usize, usize)>> = BTreeMap::new();
    for e in errors.iter().filter(|e| row_lacks(e, &a.field) && e.line > 0) {
        by_file.entry(e.file.as_str()).or_default().insert((e.line as usize - 1, e.col as usize));
    }
    let mut out = Vec::new();
    for (file, points) in by_file {
        let Some(text) = texts(file) else { continue };
        let Some(syntax) = maintaind_registry::Syntax::parse(file, text.as_bytes()) else { continue };
        let keys_of_model: Vec<PrismaAccess> = syntax.prisma_accesses(models).into_iter().filter(|x| x.model == a.model && x.role == AccessRole::Key).collect();
        let Some(tree) = maintaind_registry::parse_only(file, text.as_bytes()) else { continue };
        // Every `select` object of the model in the file.
        let mut selects: Vec<Node> = Vec::new();
        for k in &keys_of_model {
            let p = Point { row: k.pos.line as usize, column: k.pos.col as usize };
            let Some(key) = tree.root_node().descendant_for_point_range(p, p) else { continue };
            let Some(object) = key.parent().and_then(|pair| if pair.kind() == "pair" { pair.parent() } else { Some(pair) }).filter(|o| o.kind() == "object") else { continue };
            let is_select = object.parent().filter(|p| p.kind() == "pair").and_then(|p| p.child_by_field_name("key")).is_some_and(|k| &text[k.byte_range()] == "select");
            if is_select && !selects.contains(&object) {
                selects.push(object);
            }
        }
        let lines: Vec<&str> = text.split('\n').collect();
        let mut chosen: Vec<Node> = Vec::new();
        for (row, col) in points {
            let column = crate::semantic::byte_col(lines.get(row).copied().unwrap_or(""), col.saturating_sub(1));
            let p = Point { row, column };
            let declared = tree.root_node().descendant_for_point_range(p, p).and_then(|n| declaration_of_row(&text, n));
            let mine: Vec<Node> = match declared {
                Some(decl) => selects.iter().copied().filter(|o| o.start_byte() >= decl.start_byte() && o.end_byte() <= decl.end_byte()).collect(),
                None => selects.clone(),
            };
            for o in if mine.is_empty() { selects.clone() } else { mine } {
                if !chosen.contains(&o) {
                    chosen.push(o);
                }
            }
        }
        let inserts: Vec<(usize, String)> = chosen.into_iter().filter(|o| !keys(&text, *o).contains(&a.field)).map(|o| append_entry(&text, o, &format!("{}: true", a.field))).collect();
        let new = apply_inserts(&text, inserts);
        if new != text {
            out.push((file.to_string(), new));
        }
    }
    out
}

/// The declarator of the variable a row read (`created.view_count`) reads, in the enclosing
/// functions, when the row is a plain variable.
fn declaration_of_row<'t>(text: &str, at: Node<'t>) -> Option<Node<'t>> {
    let member = if at.kind() == "member_expression" { at } else { at.parent().filter(|m| m.kind() == "member_expression")? };
    let object = member.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
    let name = &text[object.byte_range()];
    let mut scope = member.parent();
    while let Some(s) = scope {
        if matches!(s.kind(), "function_declaration" | "arrow_function" | "method_definition" | "function_expression" | "program") {
            let mut found = Vec::new();
            all(s, &|n| n.kind() == "variable_declarator" && n.child_by_field_name("name").is_some_and(|m| &text[m.byte_range()] == name), &mut found);
            if let Some(d) = found.into_iter().find(|d| d.start_byte() < member.start_byte()) {
                return Some(d);
            }
        }
        scope = s.parent();
    }
    None
}

/// Each `create`/`update` of the model in a file that takes the request body the plan gives
/// the property (`create_dto`: `IX.ICreate`, `update_dto`: `IX.IUpdate`), passing the
/// client's value: a pair `F: P.F` in a `data` literal written from the body (`title:
/// props.body.title`), or in the literal a `data` variable is declared with, or, where the
/// variable is filled field by field (`if (P.k !== undefined) data.k = P.k;`), one more such
/// statement. `Err`: the places where the value cannot be passed that way (`file:line`).
pub fn body_edit(path: &str, text: &str, models: &PrismaModels, a: &AddColumn, create_dto: Option<&str>, update_dto: Option<&str>) -> Result<Option<String>, Vec<String>> {
    let Some(syntax) = maintaind_registry::Syntax::parse(path, text.as_bytes()) else { return Ok(None) };
    let delegates: Vec<PrismaAccess> = syntax.prisma_accesses(models).into_iter().filter(|x| x.model == a.model && x.role == AccessRole::Delegate).collect();
    let Some(tree) = maintaind_registry::parse_only(path, text.as_bytes()) else { return Ok(None) };
    let takes = |dto: Option<&str>| dto.is_some_and(|d| text.contains(d));
    let mut inserts = Vec::new();
    let mut unmapped = Vec::new();
    for d in delegates {
        let wanted = match d.op.as_str() {
            "create" => takes(create_dto),
            "update" => takes(update_dto),
            _ => false,
        };
        if !wanted {
            continue;
        }
        let p = Point { row: d.pos.line as usize, column: d.pos.col as usize };
        let Some(mut call) = tree.root_node().descendant_for_point_range(p, p) else { continue };
        while call.kind() != "call_expression" {
            match call.parent() {
                Some(n) => call = n,
                None => break,
            }
        }
        match body_insert(text, call, &a.field) {
            Some(Some(insert)) => inserts.push(insert),
            Some(None) => {}
            None => unmapped.push(format!("{path}:{}", d.pos.line + 1)),
        }
    }
    if !unmapped.is_empty() {
        return Err(unmapped);
    }
    let new = apply_inserts(text, inserts);
    Ok((new != text).then_some(new))
}

/// Where the client's value goes in `call`'s `data`: `Some(None)` when it is there already,
/// `None` when no place is found.
fn body_insert(text: &str, call: Node, field: &str) -> Option<Option<(usize, String)>> {
    let args = call.child_by_field_name("arguments")?.named_child(0).filter(|a| a.kind() == "object")?;
    let mut cursor = args.walk();
    let data = args.named_children(&mut cursor).find(|c| match c.kind() {
        "pair" => c.child_by_field_name("key").is_some_and(|k| &text[k.byte_range()] == "data"),
        "shorthand_property_identifier" => &text[c.byte_range()] == "data",
        _ => false,
    })?;
    let value = if data.kind() == "pair" { data.child_by_field_name("value")? } else { data };
    let literal = |object: Node| -> Option<Option<(usize, String)>> {
        if keys(text, object).contains(field) {
            return Some(None);
        }
        if let Some(body) = body_of(text, object) {
            return Some(Some(append_entry(text, object, &format!("{field}: {body}.{field}"))));
        }
        // Conditional spreads: `...(body.k !== undefined && { k: body.k })`.
        let body = spread_body_of(text, object)?;
        Some(Some(append_entry(text, object, &format!("...({body}.{field} !== undefined && {{ {field}: {body}.{field} }})"))))
    };
    if value.kind() == "object" {
        return literal(value);
    }
    // `data` names a variable of the enclosing function.
    if !matches!(value.kind(), "identifier" | "shorthand_property_identifier") {
        return None;
    }
    let name = &text[value.byte_range()];
    let function = enclosing_function(call)?;
    let decl = find(function, &|n| n.kind() == "variable_declarator" && n.child_by_field_name("name").is_some_and(|m| &text[m.byte_range()] == name))?;
    let init = decl.child_by_field_name("value").filter(|v| v.kind() == "object");
    if let Some(object) = init
        && let Some(done) = literal(object)
    {
        return Some(done);
    }
    // Filled field by field: `if (P.k !== undefined) data.k = P.k;`, the last one copied.
    let mut assignments = Vec::new();
    all(function, &|n| n.kind() == "assignment_expression", &mut assignments);
    let mut last: Option<(Node, String)> = None;
    for asg in assignments {
        let (Some(left), Some(right)) = (asg.child_by_field_name("left"), asg.child_by_field_name("right")) else { continue };
        let (Some(lo), Some(lp)) = (left.child_by_field_name("object"), left.child_by_field_name("property")) else { continue };
        let (Some(ro), Some(rp)) = (right.child_by_field_name("object"), right.child_by_field_name("property")) else { continue };
        let body = &text[ro.byte_range()];
        if &text[lo.byte_range()] != name || text[lp.byte_range()] != text[rp.byte_range()] || !(body == "body" || body.ends_with(".body")) {
            continue;
        }
        if &text[lp.byte_range()] == field {
            return Some(None);
        }
        // The statement holding it: the `if` around it when there is one.
        let mut stmt = asg;
        while let Some(p) = stmt.parent() {
            if matches!(stmt.kind(), "expression_statement") && p.kind() != "if_statement" {
                break;
            }
            if stmt.kind() == "if_statement" {
                break;
            }
            stmt = p;
        }
        last = Some((stmt, body.to_string()));
    }
    let (stmt, body) = last?;
    let line_start = text[..stmt.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..stmt.start_byte()];
    let statement = if stmt.kind() == "if_statement" { format!("if ({body}.{field} !== undefined) {name}.{field} = {body}.{field};") } else { format!("{name}.{field} = {body}.{field};") };
    Some(Some((stmt.end_byte(), format!("\n{indent}{statement}"))))
}

/// The request body a `data` literal copies from through conditional spreads:
/// `P` of `...(P.k !== undefined && { k: P.k })`.
fn spread_body_of(text: &str, data: Node) -> Option<String> {
    let mut cursor = data.walk();
    for spread in data.named_children(&mut cursor).filter(|c| c.kind() == "spread_element") {
        let Some(mut inner) = spread.named_child(0) else { continue };
        if inner.kind() == "parenthesized_expression" {
            let Some(i) = inner.named_child(0) else { continue };
            inner = i;
        }
        if inner.kind() != "binary_expression" || inner.child_by_field_name("operator").is_some_and(|o| &text[o.byte_range()] != "&&") {
            continue;
        }
        let Some(object) = inner.child_by_field_name("right").filter(|r| r.kind() == "object") else { continue };
        if let Some(body) = body_of(text, object) {
            return Some(body);
        }
    }
    None
}

/// The request body a `data` literal copies from: `P` of a pair `k: P.k` (or `P.k ?? …`).
fn body_of(text: &str, data: Node) -> Option<String> {
    let mut cursor = data.walk();
    for pair in data.named_children(&mut cursor).filter(|c| c.kind() == "pair") {
        let (Some(key), Some(mut value)) = (pair.child_by_field_name("key"), pair.child_by_field_name("value")) else { continue };
        if value.kind() == "binary_expression" {
            value = value.child_by_field_name("left")?;
        }
        if value.kind() != "member_expression" {
            continue;
        }
        let (Some(object), Some(prop)) = (value.child_by_field_name("object"), value.child_by_field_name("property")) else { continue };
        let object_text = &text[object.byte_range()];
        if text[prop.byte_range()] == text[key.byte_range()] && (object_text == "body" || object_text.ends_with(".body")) {
            return Some(object_text.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(schema: &str) -> PrismaModels {
        PrismaModels::from_files(std::iter::once(&maintaind_registry::index_file("prisma/schema.prisma", schema.as_bytes()).expect("prisma")))
    }

    const SCHEMA: &str = "model posts {\n  //----\n  // COLUMNS\n  //----\n  /// Primary Key.\n  id String @id\n  \n  /// Title.\n  title String\n  \n  //----\n  // RELATIONS\n  //----\n  author members @relation(fields: [title], references: [id])\n  @@index([title])\n}\nmodel members {\n  id String @id\n  posts posts[]\n}\n";

    /// A compiler error in `src/p.ts`.
    fn error_at(line: u32, col: u32, code: &str, message: &str) -> ServerDiagnostic {
        ServerDiagnostic { file: "src/p.ts".into(), line, col, error: true, code: Some(code.into()), message: message.into() }
    }

    fn add(field: &str) -> AddColumn {
        AddColumn { model: "posts".into(), field: field.into(), dtos: vec![] }
    }

    #[test]
    fn types_follow_the_name() {
        assert_eq!(ColumnType::of("view_count"), ColumnType::Count);
        assert_eq!(ColumnType::of("is_locked"), ColumnType::Flag);
        assert_eq!(ColumnType::of("locked"), ColumnType::Flag);
        assert_eq!(ColumnType::of("shipped_at"), ColumnType::Time);
        assert_eq!(ColumnType::of("due_date"), ColumnType::Time);
        assert_eq!(ColumnType::of("weight"), ColumnType::Measure);
        assert_eq!(ColumnType::of("gift_message"), ColumnType::Text);
    }

    #[test]
    fn the_column_goes_after_the_last_column_documented() {
        let m = models(SCHEMA);
        let out = schema_edit(SCHEMA, &add("view_count"), &m).unwrap();
        assert!(out.contains("  /// Title.\n  title String\n  \n  /// View count.\n  view_count Int @default(0)\n  \n  //----\n  // RELATIONS"), "{out}");
        assert_eq!(problem(&m, &add("title")).as_deref(), Some("model `posts` already has a field `title`"));
        assert!(problem(&m, &add("ViewCount")).is_some());
    }

    #[test]
    fn the_property_joins_the_type_with_its_tags() {
        let dto = "export type IPost = {\n  /** Id. */\n  id: string;\n};\nexport namespace IPost {\n  export type ICreate = {\n    /** Title. */\n    title: string;\n  };\n}\n";
        let out = dto_edit("src/api/structures/IPost.ts", dto, "IPost", 1, "view_count", false).unwrap();
        assert!(out.starts_with("import { tags } from \"typia\";\n"), "{out}");
        assert!(out.contains("  id: string;\n\n  /** View count. */\n  view_count: number & tags.Type<\"int32\"> & tags.Minimum<0>;\n};"), "{out}");
        let out = dto_edit("src/api/structures/IPost.ts", dto, "IPost.ICreate", 6, "weight", true).unwrap();
        assert!(out.contains("    title: string;\n\n    /** Weight. */\n    weight?: number | null | undefined;\n  };"), "{out}");
        assert!(dto_edit("src/api/structures/IPost.ts", dto, "IPost", 1, "id", false).unwrap_err().contains("already has"));
    }

    #[test]
    fn the_compiler_names_the_literals_that_build_the_dto() {
        let m = models(SCHEMA);
        let text = "import { MyGlobal } from \"../MyGlobal\";\nexport async function get(): Promise<IPost> {\n  const post = await MyGlobal.prisma.posts.findFirstOrThrow({ select: { id: true, title: true } });\n  return {\n    id: post.id,\n    title: post.title,\n  };\n}\n";
        let errors = vec![error_at(4, 3, "2741", "Property 'view_count' is missing in type '{ id: string; }' but required in type 'IPost'.")];
        let fixed = mapping_fixes(&errors, &|_| Some(text.to_string()), &m, &add("view_count"));
        let mapped = &fixed[0].1;
        assert!(mapped.contains("    title: post.title,\n    view_count: post.view_count,\n  };"), "{mapped}");
        // An existence check's `select` elsewhere in the file is left alone.
        let mapped = mapped.replace("  const post =", "  const other = await MyGlobal.prisma.posts.findFirst({ select: { id: true } });\n  const post =");
        let errors = vec![error_at(8, 23, "2339", "Property 'view_count' does not exist on type '{ id: string; title: string; }'.")];
        let selected = select_fixes(&errors, &|_| Some(mapped.clone()), &m, &add("view_count"));
        assert!(selected[0].1.contains("select: { id: true, title: true, view_count: true }"), "{}", selected[0].1);
        assert!(selected[0].1.contains("findFirst({ select: { id: true } })"), "{}", selected[0].1);
    }

    #[test]
    fn a_list_built_in_a_variable_is_followed() {
        let m = models(SCHEMA);
        let text = "export async function list(): Promise<IPage> {\n  const [total, rows] = await Promise.all([\n    MyGlobal.prisma.posts.count({}),\n    MyGlobal.prisma.posts.findMany({}),\n  ]);\n  const data = rows.map((post) => ({\n    id: post.id,\n    title: post.title,\n  }));\n  return {\n    total,\n    data,\n  };\n}\n";
        let errors = vec![error_at(
            12,
            5,
            "2322",
            "Type '{ id: string; title: string; }[]' is not assignable to type 'IPost[]'. Property 'view_count' is missing in type '{ id: string; title: string; }' but required in type 'IPost'.",
        )];
        let fixed = mapping_fixes(&errors, &|_| Some(text.to_string()), &m, &add("view_count"));
        assert!(fixed[0].1.contains("    title: post.title,\n    view_count: post.view_count,\n  }));"), "{fixed:?}");
    }

    #[test]
    fn a_create_passes_the_clients_value() {
        let m = models(SCHEMA);
        let text =
            "export async function post(props: { body: IPost.ICreate }) {\n  return MyGlobal.prisma.posts.create({\n    data: {\n      id: v4(),\n      title: props.body.title,\n    },\n  });\n}\n";
        let out = body_edit("src/p.ts", text, &m, &add("weight"), Some("IPost.ICreate"), None).unwrap().unwrap();
        assert!(out.contains("      title: props.body.title,\n      weight: props.body.weight,\n    },"), "{out}");
        assert_eq!(body_edit("src/p.ts", text, &m, &add("weight"), None, Some("IPost.IUpdate")), Ok(None));
        // A `data` variable filled field by field gets one more field.
        let update = "export async function put(props: { body: IPost.IUpdate }) {\n  const data: Prisma.postsUpdateInput = {\n    updated_at: new Date(),\n  };\n  if (props.body.title !== undefined) data.title = props.body.title;\n  return MyGlobal.prisma.posts.update({ where: { id: \"1\" }, data });\n}\n";
        let out = body_edit("src/p.ts", update, &m, &add("weight"), None, Some("IPost.IUpdate")).unwrap().unwrap();
        assert!(out.contains("  if (props.body.title !== undefined) data.title = props.body.title;\n  if (props.body.weight !== undefined) data.weight = props.body.weight;\n"), "{out}");
        // Conditional spreads get one more.
        let spreads = "export async function put(props: { body: IPost.IUpdate }) {\n  const body = props.body;\n  return MyGlobal.prisma.posts.update({\n    where: { id: \"1\" },\n    data: {\n      ...(body.title !== undefined && { title: body.title }),\n      updated_at: new Date(),\n    },\n  });\n}\n";
        let out = body_edit("src/p.ts", spreads, &m, &add("weight"), None, Some("IPost.IUpdate")).unwrap().unwrap();
        assert!(out.contains("      updated_at: new Date(),\n      ...(body.weight !== undefined && { weight: body.weight }),\n    },"), "{out}");
        // Data built some other way is named, not guessed.
        let other = update.replace("  if (props.body.title !== undefined) data.title = props.body.title;\n", "  Object.assign(data, props.body);\n");
        assert_eq!(body_edit("src/p.ts", &other, &m, &add("weight"), None, Some("IPost.IUpdate")), Err(vec!["src/p.ts:6".to_string()]));
    }
}

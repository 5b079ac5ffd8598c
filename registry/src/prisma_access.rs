//! Which Prisma model and field a piece of TypeScript touches, read from the syntax alone.
//!
//! Generated providers reach the database through delegate calls
//! (`MyGlobal.prisma.shopping_mall_products.findMany({ where: { name } })`, `tx.<model>.create`
//! inside `$transaction`) and read the rows they get back (`row.name`, `rows.map((r) => r.name)`).
//! A field name alone (`name`) is shared by many models; the model is known only from where the
//! key or the read sits. [`Syntax::prisma_accesses`] follows that:
//!
//! - the object keys of a delegate call's argument, through `where`/`data`/`select`/`include`/
//!   `orderBy`/…, `AND`/`OR`/`NOT`, spreads (`...(cond && { a })`, ternaries), local variables
//!   holding such objects (`const where = {…}`; `where.a = …`), and relation fields into the
//!   related model (`author: { select: { name: true } }` is `name` of the author's model);
//! - objects declared with a Prisma input type (`const data: Prisma.<model>CreateInput = {…}`);
//! - reads of the rows a call returns: `row.f`, `row.relation.f`, destructuring, callbacks over
//!   an array of rows (`rows.map((r) => r.f)`, `for (const r of rows)`), and the rows of
//!   `const [rows, total] = await Promise.all([<call>, <call>])`.
//!
//! Pure like the rest of the registry: it reads one parsed file and the models' field lists.

use std::collections::{BTreeSet, HashMap};

use tree_sitter::Node;

use crate::context::Syntax;
use crate::model::{FileIndex, FileLang, Pos, SymbolKind};

/// Every model's fields; a relation field maps to the model it points at.
#[derive(Debug, Clone, Default)]
pub struct PrismaModels {
    models: HashMap<String, HashMap<String, Option<String>>>,
    /// `(model, field)` of the list relations (`skus shop_skus[]`).
    lists: BTreeSet<(String, String)>,
}

impl PrismaModels {
    /// The models of every Prisma file among `files`.
    pub fn from_files<'a>(files: impl Iterator<Item = &'a FileIndex>) -> PrismaModels {
        let mut fields: Vec<(String, String, String, bool)> = Vec::new();
        let mut models: HashMap<String, HashMap<String, Option<String>>> = HashMap::new();
        for f in files.filter(|f| f.lang == FileLang::Prisma) {
            for s in &f.symbols {
                let Some(name) = s.name.strip_prefix("prisma:") else { continue };
                match (s.kind, name.split_once('.')) {
                    (SymbolKind::Model, None) => {
                        models.entry(name.to_string()).or_default();
                    }
                    (SymbolKind::Field, Some((m, field))) => {
                        let ty = s.prisma.as_ref().map(|p| p.type_name.clone()).unwrap_or_default();
                        fields.push((m.to_string(), field.to_string(), ty, s.prisma.as_ref().is_some_and(|p| p.list)));
                    }
                    _ => {}
                }
            }
        }
        let mut lists = BTreeSet::new();
        for (m, field, ty, list) in fields {
            let target = models.contains_key(&ty).then_some(ty);
            if list && target.is_some() {
                lists.insert((m.clone(), field.clone()));
            }
            models.entry(m).or_default().insert(field, target);
        }
        PrismaModels { models, lists }
    }

    pub fn is_model(&self, name: &str) -> bool {
        self.models.contains_key(name)
    }

    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// `Some(None)` for a scalar field, `Some(Some(target))` for a relation, `None` when the
    /// model has no such field.
    pub fn field(&self, model: &str, field: &str) -> Option<Option<&str>> {
        self.models.get(model)?.get(field).map(|t| t.as_deref())
    }

    pub fn fields(&self, model: &str) -> impl Iterator<Item = &str> {
        self.models.get(model).into_iter().flat_map(|m| m.keys().map(String::as_str))
    }

    /// Whether `model.field` is a list relation (`skus shop_skus[]`).
    pub fn is_list(&self, model: &str, field: &str) -> bool {
        self.lists.contains(&(model.to_string(), field.to_string()))
    }
}

/// How a position touches a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// The model's delegate: the `M` of `prisma.M.findMany(…)`; `op` says which call.
    Delegate,
    /// A key naming the field in a query argument or a typed input object.
    Key,
    /// A read of the field on a row the file got from the model.
    Read,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct PrismaAccess {
    pub model: String,
    /// Empty for [`AccessRole::Delegate`].
    pub field: String,
    pub pos: Pos,
    pub role: AccessRole,
    /// For a delegate: the operation (`create`, `findMany`, …).
    pub op: String,
}

/// Delegate operations of a Prisma model client.
const OPS: &[&str] = &[
    "findUnique",
    "findUniqueOrThrow",
    "findFirst",
    "findFirstOrThrow",
    "findMany",
    "create",
    "createMany",
    "createManyAndReturn",
    "update",
    "updateMany",
    "updateManyAndReturn",
    "upsert",
    "delete",
    "deleteMany",
    "count",
    "aggregate",
    "groupBy",
];

/// Operations whose result is a list of rows.
const LIST_OPS: &[&str] = &["findMany", "createManyAndReturn", "updateManyAndReturn"];

/// Operations whose result is one row (or null).
const ROW_OPS: &[&str] = &["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "create", "update", "upsert", "delete"];

/// Argument keys whose value is about the same model (or, inside a relation field, about the
/// related one): query arguments, relation filters and nested writes.
const NESTED_KEYS: &[&str] = &[
    "where",
    "data",
    "select",
    "include",
    "omit",
    "orderBy",
    "cursor",
    "having",
    "create",
    "update",
    "upsert",
    "connect",
    "connectOrCreate",
    "set",
    "disconnect",
    "delete",
    "updateMany",
    "deleteMany",
    "createMany",
    "some",
    "every",
    "none",
    "is",
    "isNot",
    "AND",
    "OR",
    "NOT",
    "_count",
    "_sum",
    "_avg",
    "_min",
    "_max",
];

/// Argument keys that list field names as strings: `distinct: ["a"]`, `by: ["a"]`.
const NAME_LIST_KEYS: &[&str] = &["distinct", "by"];

/// Suffixes of the generated `Prisma.<model><Suffix>` input types.
const INPUT_SUFFIXES: &[&str] = &[
    "WhereInput",
    "WhereUniqueInput",
    "CreateInput",
    "UncheckedCreateInput",
    "UpdateInput",
    "UncheckedUpdateInput",
    "CreateManyInput",
    "UpdateManyMutationInput",
    "OrderByWithRelationInput",
    "Select",
    "Include",
    "Omit",
];

/// Array methods whose callback's first parameter is an element.
const ELEMENT_CALLBACKS: &[&str] = &["map", "forEach", "filter", "find", "findLast", "some", "every", "flatMap", "sort", "findIndex"];

impl Syntax {
    /// Every position where this file touches a Prisma model: delegates, keys and row reads.
    pub fn prisma_accesses(&self, models: &PrismaModels) -> Vec<PrismaAccess> {
        let mut w = Walker { text: self.text(), models, out: BTreeSet::new(), visited: BTreeSet::new() };
        let root = self.tree().root_node();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "call_expression" => w.delegate_call(n),
                "variable_declarator" => w.typed_input(n),
                _ => {}
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        w.out.into_iter().collect()
    }
}

struct Walker<'t, 'm> {
    text: &'t [u8],
    models: &'m PrismaModels,
    out: BTreeSet<PrismaAccess>,
    /// Object nodes already walked for a model (a variable used twice, recursion guards).
    visited: BTreeSet<(usize, String)>,
}

fn pos(n: Node) -> Pos {
    Pos { line: n.start_position().row as u32, col: n.start_position().column as u32 }
}

impl<'t> Walker<'t, '_> {
    fn text(&self, n: Node) -> &'t str {
        std::str::from_utf8(&self.text[n.byte_range()]).unwrap_or("")
    }

    fn record(&mut self, model: &str, field: &str, node: Node, role: AccessRole, op: &str) {
        self.out.insert(PrismaAccess { model: model.to_string(), field: field.to_string(), pos: pos(node), role, op: op.to_string() });
    }

    /// `<anything>.M.op(args)`: the delegate, the argument's keys, and the rows it returns.
    fn delegate_call(&mut self, call: Node<'t>) {
        let Some(callee) = call.child_by_field_name("function").filter(|f| f.kind() == "member_expression") else { return };
        let Some(op) = callee.child_by_field_name("property") else { return };
        let op = self.text(op);
        if !OPS.contains(&op) {
            return;
        }
        let Some(delegate) = callee.child_by_field_name("object").filter(|o| o.kind() == "member_expression") else { return };
        let Some(model_node) = delegate.child_by_field_name("property") else { return };
        let model = self.text(model_node).to_string();
        if !self.models.is_model(&model) {
            return;
        }
        self.record(&model, "", model_node, AccessRole::Delegate, op);
        if let Some(arg) = call.child_by_field_name("arguments").and_then(|a| a.named_child(0)) {
            self.walk_value(arg, &model);
        }
        let list = LIST_OPS.contains(&op);
        if !(list || ROW_OPS.contains(&op)) {
            return;
        }
        // Where the result goes: `const x = await call`, or position i of
        // `const [a, b] = await Promise.all([call, …])`.
        let mut n = call;
        loop {
            match n.parent() {
                Some(p) if matches!(p.kind(), "await_expression" | "parenthesized_expression" | "non_null_expression" | "as_expression") => n = p,
                // `call.catch(…)` / `.finally(…)` resolve to the same rows (or throw).
                Some(p)
                    if p.kind() == "member_expression"
                        && p.child_by_field_name("object") == Some(n)
                        && p.child_by_field_name("property").is_some_and(|q| matches!(self.text(q), "catch" | "finally"))
                        && p.parent().is_some_and(|c| c.kind() == "call_expression" && c.child_by_field_name("function") == Some(p)) =>
                {
                    n = p.parent().unwrap();
                }
                _ => break,
            }
        }
        let Some(parent) = n.parent() else { return };
        match parent.kind() {
            "variable_declarator" => {
                if let Some(name) = parent.child_by_field_name("name") {
                    self.bind(name, &model, list);
                }
            }
            // `let row; … row = await call(…)`: the rows are read after the assignment, in the
            // block that declares the variable.
            "assignment_expression" if parent.child_by_field_name("right") == Some(n) => {
                if let Some(left) = parent.child_by_field_name("left").filter(|l| l.kind() == "identifier") {
                    let name = self.text(left).to_string();
                    let scope = self.declaration_of(left, &name).and_then(enclosing_block).or_else(|| enclosing_block(left));
                    if let Some(scope) = scope {
                        self.reads_of(scope, &name, &model, list, left.end_byte());
                    }
                }
            }
            "array" => {
                let index = {
                    let mut c = parent.walk();
                    parent.named_children(&mut c).position(|x| x == n)
                };
                let all_call = parent.parent().and_then(|args| args.parent()).filter(|c| c.kind() == "call_expression");
                let Some(all_call) = all_call.filter(|c| c.child_by_field_name("function").is_some_and(|f| self.text(f) == "Promise.all")) else { return };
                let mut m = all_call;
                while let Some(p) = m.parent().filter(|p| matches!(p.kind(), "await_expression" | "parenthesized_expression")) {
                    m = p;
                }
                let pattern = m.parent().filter(|d| d.kind() == "variable_declarator").and_then(|d| d.child_by_field_name("name")).filter(|p| p.kind() == "array_pattern");
                if let (Some(pattern), Some(i)) = (pattern, index) {
                    let mut c = pattern.walk();
                    if let Some(el) = pattern.named_children(&mut c).nth(i) {
                        self.bind(el, &model, list);
                    }
                }
            }
            _ => {}
        }
    }

    /// `const x: Prisma.<model>WhereInput = {…}`: the object is about that model.
    fn typed_input(&mut self, declarator: Node<'t>) {
        let Some(ty) = declarator.child_by_field_name("type") else { return };
        let ty_text = self.text(ty).trim_start_matches(':').trim();
        let Some(rest) = ty_text.strip_prefix("Prisma.") else { return };
        let Some(model) = INPUT_SUFFIXES.iter().find_map(|s| rest.strip_suffix(s)).filter(|m| self.models.is_model(m)) else { return };
        let model = model.to_string();
        if let Some(v) = declarator.child_by_field_name("value") {
            self.walk_value(v, &model);
        }
        if let Some(name) = declarator.child_by_field_name("name").filter(|n| n.kind() == "identifier") {
            self.member_assignments(declarator, self.text(name), &model);
        }
    }

    /// A value standing for an argument object of `model`.
    fn walk_value(&mut self, v: Node<'t>, model: &str) {
        match v.kind() {
            "object" => {
                if !self.visited.insert((v.start_byte(), model.to_string())) {
                    return;
                }
                let mut c = v.walk();
                let children: Vec<Node> = v.named_children(&mut c).collect();
                for child in children {
                    match child.kind() {
                        "pair" => {
                            let (Some(k), Some(val)) = (child.child_by_field_name("key"), child.child_by_field_name("value")) else { continue };
                            let key = self.text(k).trim_matches(|c| c == '"' || c == '\'').to_string();
                            self.key(&key, k, Some(val), model);
                        }
                        "shorthand_property_identifier" => {
                            let key = self.text(child).to_string();
                            self.key(&key, child, None, model);
                        }
                        "spread_element" => {
                            if let Some(x) = child.named_child(0) {
                                self.walk_value(x, model);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "array" => {
                let mut c = v.walk();
                let items: Vec<Node> = v.named_children(&mut c).collect();
                for x in items {
                    self.walk_value(x, model);
                }
            }
            "parenthesized_expression" | "as_expression" | "satisfies_expression" | "non_null_expression" | "await_expression" => {
                if let Some(x) = v.named_child(0) {
                    self.walk_value(x, model);
                }
            }
            "binary_expression" => {
                // `cond && { a }`, `x ?? { a }`: the object side is the argument.
                for field in ["left", "right"] {
                    if let Some(x) = v.child_by_field_name(field) {
                        self.walk_value(x, model);
                    }
                }
            }
            "ternary_expression" => {
                for field in ["consequence", "alternative"] {
                    if let Some(x) = v.child_by_field_name(field) {
                        self.walk_value(x, model);
                    }
                }
            }
            "identifier" => self.local_object(v, model),
            _ => {}
        }
    }

    /// One key of an argument object of `model`.
    fn key(&mut self, key: &str, key_node: Node<'t>, value: Option<Node<'t>>, model: &str) {
        match self.models.field(model, key) {
            Some(target) => {
                self.record(model, key, key_node, AccessRole::Key, "");
                if let (Some(target), Some(val)) = (target, value) {
                    let target = target.to_string();
                    self.walk_value(val, &target);
                }
                // `{ a }` names a local too, but its value is the field's value, not an argument.
            }
            None if NESTED_KEYS.contains(&key) => match value {
                Some(val) => self.walk_value(val, model),
                None => self.local_object(key_node, model),
            },
            None if NAME_LIST_KEYS.contains(&key) => {
                let Some(val) = value.filter(|v| v.kind() == "array") else { return };
                let mut c = val.walk();
                let items: Vec<Node> = val.named_children(&mut c).collect();
                for s in items.into_iter().filter(|s| s.kind() == "string") {
                    let name = self.text(s).trim_matches(|c| c == '"' || c == '\'').to_string();
                    if self.models.field(model, &name).is_some() {
                        self.record(model, &name, s, AccessRole::Key, "");
                    }
                }
            }
            None => {}
        }
    }

    /// An identifier used as an argument object: the local it names, declared in an enclosing
    /// block with an object value, and the `name.key = …` assignments made to it there.
    fn local_object(&mut self, ident: Node<'t>, model: &str) {
        let name = self.text(ident);
        let Some(decl) = self.declaration_of(ident, name) else { return };
        if let Some(v) = decl.child_by_field_name("value") {
            self.walk_value(v, model);
        }
        self.member_assignments(decl, name, model);
    }

    /// The `variable_declarator` of `name` visible at `at` (innermost enclosing block first).
    fn declaration_of(&self, at: Node<'t>, name: &str) -> Option<Node<'t>> {
        let mut scope = at.parent();
        while let Some(s) = scope {
            if matches!(s.kind(), "statement_block" | "program") {
                let mut c = s.walk();
                for stmt in s.named_children(&mut c) {
                    if stmt.start_byte() > at.start_byte() {
                        break;
                    }
                    if !matches!(stmt.kind(), "lexical_declaration" | "variable_declaration") {
                        continue;
                    }
                    let mut c2 = stmt.walk();
                    for d in stmt.named_children(&mut c2).filter(|d| d.kind() == "variable_declarator") {
                        if d.child_by_field_name("name").is_some_and(|n| n.kind() == "identifier" && self.text(n) == name) {
                            return Some(d);
                        }
                    }
                }
            }
            scope = s.parent();
        }
        None
    }

    /// `name.key = value` in the block declaring `name` (objects built up step by step).
    fn member_assignments(&mut self, decl: Node<'t>, name: &str, model: &str) {
        let Some(block) = enclosing_block(decl) else { return };
        let mut stack = vec![block];
        while let Some(n) = stack.pop() {
            if n.kind() == "assignment_expression"
                && let Some(left) = n.child_by_field_name("left").filter(|l| l.kind() == "member_expression")
                && left.child_by_field_name("object").is_some_and(|o| self.text(o) == name)
                && let Some(prop) = left.child_by_field_name("property")
            {
                let key = self.text(prop).to_string();
                self.key(&key, prop, n.child_by_field_name("right"), model);
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
    }

    /// A name (or pattern) bound to the result of a delegate call: one row, or a list of rows.
    fn bind(&mut self, pattern: Node<'t>, model: &str, list: bool) {
        match pattern.kind() {
            "identifier" => {
                let name = self.text(pattern).to_string();
                let Some(scope) = enclosing_block(pattern) else { return };
                self.reads_of(scope, &name, model, list, pattern.end_byte());
            }
            "object_pattern" if !list => self.destructured(pattern, model),
            _ => {}
        }
    }

    /// `const { a, b: c } = row`.
    fn destructured(&mut self, pattern: Node<'t>, model: &str) {
        let mut c = pattern.walk();
        let parts: Vec<Node> = pattern.named_children(&mut c).collect();
        for p in parts {
            let key = match p.kind() {
                "shorthand_property_identifier_pattern" => Some(p),
                "pair_pattern" => p.child_by_field_name("key"),
                _ => None,
            };
            if let Some(k) = key {
                let name = self.text(k).to_string();
                if self.models.field(model, &name).is_some() {
                    self.record(model, &name, k, AccessRole::Read, "");
                }
            }
        }
    }

    /// Reads of `name` (a row, or a list of rows, of `model`) in `scope` after `from`.
    fn reads_of(&mut self, scope: Node<'t>, name: &str, model: &str, list: bool, from: usize) {
        let mut stack = vec![scope];
        while let Some(n) = stack.pop() {
            if n.end_byte() <= from {
                continue;
            }
            if n.kind() == "identifier" && n.start_byte() >= from && self.text(n) == name {
                self.use_of_row(n, model, list);
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
    }

    /// One use of a row (or list) variable: `row.f`, `row.rel.f`, `rows[i].f`,
    /// `rows.map((r) => r.f)`, `for (const r of rows)`, `const { f } = row`.
    fn use_of_row(&mut self, ident: Node<'t>, model: &str, list: bool) {
        let ident = transparent(ident);
        if list {
            self.use_of_list(ident, model);
            return;
        }
        let Some(parent) = ident.parent() else { return };
        match parent.kind() {
            "member_expression" if parent.child_by_field_name("object") == Some(ident) => self.row_member(ident, model),
            "variable_declarator" if parent.child_by_field_name("value") == Some(ident) => {
                if let Some(p) = parent.child_by_field_name("name").filter(|p| p.kind() == "object_pattern") {
                    self.destructured(p, model);
                }
            }
            _ => {}
        }
    }

    /// An expression that is a list of rows of `model`: its elements reached through array
    /// callbacks, `for … of` and subscripts.
    fn use_of_list(&mut self, expr: Node<'t>, model: &str) {
        let Some(parent) = expr.parent() else { return };
        match parent.kind() {
            "member_expression" if parent.child_by_field_name("object") == Some(expr) => {
                // `rows.map(cb)`: the callback's first parameter is a row.
                let method = parent.child_by_field_name("property").map(|p| self.text(p)).unwrap_or("");
                let call = parent.parent().filter(|c| c.kind() == "call_expression" && c.child_by_field_name("function") == Some(parent));
                if let Some(call) = call.filter(|_| ELEMENT_CALLBACKS.contains(&method))
                    && let Some(cb) = call.child_by_field_name("arguments").and_then(|a| a.named_child(0))
                {
                    self.callback_rows(cb, model);
                }
            }
            "subscript_expression" if parent.child_by_field_name("object") == Some(expr) => self.row_member(parent, model),
            "for_in_statement" if parent.child_by_field_name("right") == Some(expr) => {
                if let (Some(left), Some(body)) = (parent.child_by_field_name("left"), parent.child_by_field_name("body")) {
                    if left.kind() == "identifier" {
                        let name = self.text(left).to_string();
                        self.reads_of(body, &name, model, false, body.start_byte());
                    } else if left.kind() == "object_pattern" {
                        self.destructured(left, model);
                    }
                }
            }
            _ => {}
        }
    }

    /// `<row>.f` where `row_expr` evaluates to a row of `model`; follows `.rel.f` into the
    /// related model (a list relation as a list of rows).
    fn row_member(&mut self, row_expr: Node<'t>, model: &str) {
        let Some(member) = row_expr.parent().filter(|p| p.kind() == "member_expression" && p.child_by_field_name("object") == Some(row_expr)) else { return };
        let Some(prop) = member.child_by_field_name("property") else { return };
        let field = self.text(prop).to_string();
        let Some(target) = self.models.field(model, &field) else { return };
        self.record(model, &field, prop, AccessRole::Read, "");
        let Some(target) = target.map(str::to_string) else { return };
        let member = transparent(member);
        if self.models.lists.contains(&(model.to_string(), field.clone())) {
            self.use_of_list(member, &target);
        } else {
            self.row_member(member, &target);
        }
    }

    /// `(r) => …r.f…` / `function (r) {…}` over rows of `model`.
    fn callback_rows(&mut self, cb: Node<'t>, model: &str) {
        if !matches!(cb.kind(), "arrow_function" | "function_expression") {
            return;
        }
        let param = cb.child_by_field_name("parameter").or_else(|| cb.child_by_field_name("parameters").and_then(|ps| ps.named_child(0)).and_then(|p| p.child_by_field_name("pattern")));
        let (Some(param), Some(body)) = (param, cb.child_by_field_name("body")) else { return };
        match param.kind() {
            "identifier" => {
                let name = self.text(param).to_string();
                self.reads_of(body, &name, model, false, body.start_byte());
            }
            "object_pattern" => self.destructured(param, model),
            _ => {}
        }
    }
}

/// The outermost expression around `n` that has the same value: `x!`, `(x)`, `x as T`.
fn transparent(mut n: Node) -> Node {
    while let Some(p) = n.parent().filter(|p| matches!(p.kind(), "non_null_expression" | "parenthesized_expression" | "as_expression" | "satisfies_expression")) {
        n = p;
    }
    n
}

/// The block (or program) a node sits in.
fn enclosing_block(n: Node) -> Option<Node> {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if matches!(p.kind(), "statement_block" | "program") {
            return Some(p);
        }
        cur = p.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index_file;

    const SCHEMA: &str = "model shop_products {\n  id String @id\n  name String\n  price Int\n  seller_id String\n  seller shop_sellers @relation(fields: [seller_id], references: [id])\n  skus shop_skus[]\n}\n\nmodel shop_skus {\n  id String @id\n  name String\n  product_id String\n  product shop_products @relation(fields: [product_id], references: [id])\n}\n\nmodel shop_sellers {\n  id String @id\n  name String\n  products shop_products[]\n}\n";

    /// Render each access as `line:col role model.field` (1-based line), marking a delegate's op.
    fn check(src: &str, expect: expect_test::Expect) {
        let schema = index_file("prisma/schema/schema.prisma", SCHEMA.as_bytes()).unwrap();
        let models = PrismaModels::from_files(std::iter::once(&schema));
        let syntax = Syntax::parse("src/providers/p.ts", src.as_bytes()).unwrap();
        let mut accesses = syntax.prisma_accesses(&models);
        accesses.sort_by_key(|a| a.pos);
        let out: Vec<String> = accesses
            .iter()
            .map(|a| match a.role {
                AccessRole::Delegate => format!("{}:{} delegate {} {}", a.pos.line + 1, a.pos.col, a.model, a.op),
                r => format!("{}:{} {:?} {}.{}", a.pos.line + 1, a.pos.col, r, a.model, a.field).to_lowercase(),
            })
            .collect();
        expect.assert_eq(&out.join("\n"));
    }

    #[test]
    fn keys_follow_the_model_through_relations() {
        check(
            r#"export async function f(props: { name: string }) {
  const rows = await MyGlobal.prisma.shop_products.findMany({
    where: { name: props.name, seller: { name: "x" }, skus: { some: { name: "y" } } },
    select: { id: true, seller: { select: { name: true } } },
    orderBy: { price: "desc" },
  });
  return rows.map((r) => ({ name: r.name, seller: r.seller.name }));
}
"#,
            expect_test::expect![[r#"
                2:37 delegate shop_products findMany
                3:13 key shop_products.name
                3:31 key shop_products.seller
                3:41 key shop_sellers.name
                3:54 key shop_products.skus
                3:70 key shop_skus.name
                4:14 key shop_products.id
                4:24 key shop_products.seller
                4:44 key shop_sellers.name
                5:15 key shop_products.price
                7:36 read shop_products.name
                7:52 read shop_products.seller
                7:59 read shop_sellers.name"#]],
        );
    }

    #[test]
    fn locals_spreads_transactions_and_promise_all() {
        check(
            r#"export async function f(body: any) {
  const where = {
    ...(body.name !== undefined && { name: { contains: body.name } }),
    ...(body.min ? { price: { gte: body.min } } : {}),
  };
  const [items, total] = await Promise.all([
    MyGlobal.prisma.shop_products.findMany({ where }),
    MyGlobal.prisma.shop_products.count({ where }),
  ]);
  await MyGlobal.prisma.$transaction(async (tx) => {
    const created = await tx.shop_skus.create({ data: { id: "1", name: "n", product_id: "p" } });
    return created.name;
  });
  for (const item of items) item.price;
  const seller = await MyGlobal.prisma.shop_sellers.findFirst({ include: { products: { include: { skus: true } } } });
  for (const p of seller!.products) p.skus.map((k) => k.name);
  const { seller_id } = await MyGlobal.prisma.shop_products.findFirstOrThrow({ where: { id: "1" } });
  return { total, n: items[0].name };
}
"#,
            expect_test::expect![[r#"
                3:37 key shop_products.name
                4:21 key shop_products.price
                7:20 delegate shop_products findMany
                8:20 delegate shop_products count
                11:29 delegate shop_skus create
                11:56 key shop_skus.id
                11:65 key shop_skus.name
                11:76 key shop_skus.product_id
                12:19 read shop_skus.name
                14:33 read shop_products.price
                15:39 delegate shop_sellers findFirst
                15:75 key shop_sellers.products
                15:98 key shop_products.skus
                16:26 read shop_sellers.products
                16:38 read shop_products.skus
                16:56 read shop_skus.name
                17:10 read shop_products.seller_id
                17:46 delegate shop_products findFirstOrThrow
                17:88 key shop_products.id
                18:30 read shop_products.name"#]],
        );
    }

    #[test]
    fn typed_inputs_and_step_by_step_objects() {
        check(
            r#"export async function f(body: any) {
  const data: Prisma.shop_productsUncheckedUpdateInput = { name: body.name };
  const found = await MyGlobal.prisma.shop_products.findFirstOrThrow({ where: { id: body.id } }).catch(() => null);
  found.price;
  let later;
  try { later = await MyGlobal.prisma.shop_products.findFirst({}); } catch { later = null; }
  later!.seller_id;
  if (body.price !== undefined) data.price = body.price;
  const other = { name: "not an argument" };
  return MyGlobal.prisma.shop_products.update({ where: { id: body.id }, data });
}
"#,
            expect_test::expect![[r#"
                2:59 key shop_products.name
                3:38 delegate shop_products findFirstOrThrow
                3:80 key shop_products.id
                4:8 read shop_products.price
                6:38 delegate shop_products findFirst
                7:9 read shop_products.seller_id
                8:37 key shop_products.price
                10:25 delegate shop_products update
                10:57 key shop_products.id"#]],
        );
    }
}

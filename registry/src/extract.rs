//! TypeScript extraction: one tree walk turns a parsed file into symbols, imports, references
//! and parse diagnostics.
//!
//! Declarations are found by walking statement lists (program, namespace bodies, class and
//! type bodies) rather than by running a tags query over the whole tree: on the generated
//! 1000-file backend, running `tags.scm` alone costs 1.6x a raw parse (docs/benchmarks.md), while
//! under callgrind the declaration walk is ~16% of parse instructions and the reference pass
//! below ~26% (docs/GAPS.md). `queries/typescript/tags.scm` is kept as the declarative
//! statement of what counts as a definition and a test checks the walk finds at least what the
//! query finds. References come from a single cursor pass over every token.
//!
//! Extraction never fails: an ERROR node is reported as a diagnostic and the walk carries on
//! with whatever tree-sitter recovered around it.

use tree_sitter::{Node, Tree, TreeCursor};

use crate::lang::{FieldIds, LanguageConfig, config_for};
use crate::model::*;
use crate::text::{fold_ws, hash_bytes, jsdoc_lines, lossy, strip_quotes, truncate};

/// Most parse diagnostics kept per file; a file that is mostly garbage says so in one line
/// rather than in thousands.
const MAX_DIAGNOSTICS: usize = 50;

pub(crate) fn extract_typescript(path: &str, lang: FileLang, src: &[u8], tree: &Tree) -> FileIndex {
    let config = config_for(lang).expect("a TypeScript-family file");
    let mut cx =
        Cx { src, f: &config.fields, prev: None, symbols: Vec::new(), imports: Vec::new(), diagnostics: Vec::new(), local_exports: Vec::new(), default_ident: None, private_members: Vec::new() };
    let root = tree.root_node();
    let ambient = lang == FileLang::Declaration;
    cx.statements(root, &Scope { prefix: String::new(), exported: true, ambient, top: true });
    cx.apply_local_exports();
    if root.has_error() {
        collect_errors(root, src, &mut cx.diagnostics);
    }
    let references = collect_references(tree, src, &cx.symbols, config);
    FileIndex { path: path.to_string(), lang, hash: hash_bytes(src), len: src.len() as u64, symbols: cx.symbols, imports: cx.imports, references, diagnostics: cx.diagnostics, not_parsed: None }
}

struct Cx<'s, 't> {
    src: &'s [u8],
    f: &'static FieldIds,
    /// The named sibling before the node being declared, kept while iterating a statement or
    /// member list (`prev_named_sibling` re-scans the parent's children on every call).
    prev: Option<Node<'t>>,
    symbols: Vec<Symbol>,
    imports: Vec<Import>,
    diagnostics: Vec<Diagnostic>,
    /// `export { a, b as c }` without a source: local names made public after the walk.
    local_exports: Vec<String>,
    /// `export default a;`
    default_ident: Option<String>,
    /// Indices of `private` class members: they stay unexported when their class is exported
    /// after the fact (`class C {}; export { C }`).
    private_members: Vec<usize>,
}

/// Where a statement list sits: the qualified-name prefix (`IBbsArticle.`), whether its
/// contents are reachable from outside (an `export`ed namespace), and whether it is ambient.
#[derive(Clone)]
struct Scope {
    prefix: String,
    /// Whether a member exported from this scope is visible from outside the file.
    exported: bool,
    ambient: bool,
    /// The file's top level (only there do `import` statements and local exports apply).
    top: bool,
}

impl Scope {
    fn qualify(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_string() } else { format!("{}.{}", self.prefix, name) }
    }
}

/// What surrounds one declaration: the node whose span is the symbol's span (the `export`
/// statement when there is one) and whatever that wrapper contributed.
struct Decl<'t> {
    outer: Node<'t>,
    exported: bool,
    default: bool,
    ambient: bool,
    decorators: Vec<Decorator>,
}

impl<'s, 't> Cx<'s, 't> {
    fn text(&self, node: Node) -> String {
        lossy(&self.src[node.byte_range()])
    }

    fn statements(&mut self, container: Node<'t>, scope: &Scope) {
        let mut cursor = container.walk();
        let mut prev = None;
        for stmt in container.named_children(&mut cursor) {
            self.prev = prev;
            prev = Some(stmt);
            match stmt.kind() {
                "export_statement" => self.export_statement(stmt, scope),
                "import_statement" if scope.top => self.import_statement(stmt),
                "expression_statement" => {
                    // `namespace X {}` parses as an expression statement.
                    if let Some(inner) = stmt.named_child(0).filter(|n| n.kind() == "internal_module") {
                        self.declaration(inner, scope, Decl::plain(stmt, scope.ambient));
                    }
                }
                _ => self.declaration(stmt, scope, Decl::plain(stmt, scope.ambient)),
            }
        }
    }

    fn export_statement(&mut self, stmt: Node<'t>, scope: &Scope) {
        let default = has_token(stmt, "default");
        let decorators = decorators_of(stmt, self.src, self.f);
        if let Some(decl) = stmt.child_by_field_id(self.f.declaration) {
            let d = Decl { outer: stmt, exported: true, default, ambient: scope.ambient, decorators };
            self.declaration(decl, scope, d);
            return;
        }
        let source = stmt.child_by_field_id(self.f.source).map(|s| strip_quotes(&self.text(s)));
        let type_only = has_token(stmt, "type");
        if let Some(value) = stmt.child_by_field_id(self.f.value) {
            // `export default <expression>`.
            if value.kind() == "identifier" {
                self.default_ident = Some(self.text(value));
                return;
            }
            let kind = match value.kind() {
                "function_expression" | "arrow_function" | "generator_function" => SymbolKind::Function,
                "class" => SymbolKind::Class,
                _ => SymbolKind::Variable,
            };
            let sig = match kind {
                SymbolKind::Function => self.function_signature("default", value),
                _ => format!("default = {}", truncate(&fold_ws(&self.text(value)), 80)),
            };
            let mut sym = self.symbol(scope.qualify("default"), kind, stmt, value, sig, scope.exported);
            sym.default_export = true;
            self.symbols.push(sym);
            return;
        }
        let line = stmt.start_position().row as u32;
        let mut cursor = stmt.walk();
        let mut names = Vec::new();
        let mut namespace = None;
        let mut star = false;
        for child in stmt.children(&mut cursor) {
            match child.kind() {
                "export_clause" => {
                    let mut c2 = child.walk();
                    for spec in child.named_children(&mut c2).filter(|n| n.kind() == "export_specifier") {
                        let Some(name_node) = spec.child_by_field_id(self.f.name) else { continue };
                        let name = strip_quotes(&self.text(name_node));
                        let alias = spec.child_by_field_id(self.f.alias).map(|a| strip_quotes(&self.text(a)));
                        let public = alias.clone().unwrap_or_else(|| name.clone());
                        let spec_type_only = type_only || has_token(spec, "type");
                        if source.is_some() || alias.is_some() {
                            let sig = fold_ws(&self.text(stmt));
                            let mut sym = self.symbol(scope.qualify(&public), SymbolKind::Reexport, stmt, spec, sig, scope.exported);
                            sym.source = source.clone();
                            self.symbols.push(sym);
                        }
                        if source.is_none() && scope.top {
                            self.local_exports.push(name.clone());
                        }
                        names.push(ImportedName { imported: name, local: public, type_only: spec_type_only });
                    }
                }
                "namespace_export" => {
                    // `export * as ns from "x"`.
                    if let Some(id) = child.named_child(0) {
                        let ns = strip_quotes(&self.text(id));
                        let sig = fold_ws(&self.text(stmt));
                        let mut sym = self.symbol(scope.qualify(&ns), SymbolKind::Reexport, stmt, id, sig, scope.exported);
                        sym.source = source.clone();
                        self.symbols.push(sym);
                        namespace = Some(ns);
                    }
                }
                "*" => star = true,
                _ => {}
            }
        }
        if let Some(specifier) = source {
            self.imports.push(Import { specifier, names, default: None, star: star && namespace.is_none(), namespace, type_only, reexport: true, line });
        }
    }

    fn import_statement(&mut self, stmt: Node<'t>) {
        let Some(source) = stmt.child_by_field_id(self.f.source) else { return };
        let mut import = Import {
            specifier: strip_quotes(&self.text(source)),
            names: Vec::new(),
            default: None,
            namespace: None,
            type_only: has_token(stmt, "type"),
            reexport: false,
            star: false,
            line: stmt.start_position().row as u32,
        };
        let mut cursor = stmt.walk();
        for child in stmt.named_children(&mut cursor) {
            if child.kind() != "import_clause" {
                continue;
            }
            let mut c2 = child.walk();
            for part in child.named_children(&mut c2) {
                match part.kind() {
                    "identifier" => import.default = Some(self.text(part)),
                    "namespace_import" => import.namespace = part.named_child(0).map(|n| self.text(n)),
                    "named_imports" => {
                        let mut c3 = part.walk();
                        for spec in part.named_children(&mut c3).filter(|n| n.kind() == "import_specifier") {
                            let Some(name) = spec.child_by_field_id(self.f.name) else { continue };
                            let imported = strip_quotes(&self.text(name));
                            let local = spec.child_by_field_id(self.f.alias).map(|a| self.text(a)).unwrap_or_else(|| imported.clone());
                            let type_only = import.type_only || has_token(spec, "type");
                            import.names.push(ImportedName { imported, local, type_only });
                        }
                    }
                    _ => {}
                }
            }
        }
        self.imports.push(import);
    }

    fn declaration(&mut self, node: Node<'t>, scope: &Scope, d: Decl<'t>) {
        match node.kind() {
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let name_text = self.text(name);
                let sig = self.function_signature(&name_text, node);
                self.push(scope, &d, name_text, SymbolKind::Function, name, sig);
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let name_text = self.text(name);
                let header = self.header(node, node.child_by_field_id(self.f.body));
                let mut decorators = d.decorators.clone();
                decorators.extend(decorators_of(node, self.src, self.f));
                let qualified = scope.qualify(&name_text);
                let class_exported = scope.exported && d.exported;
                let mut sym = self.symbol(qualified.clone(), SymbolKind::Class, d.outer, name, header, class_exported);
                sym.decorators = decorators;
                sym.default_export = d.default;
                sym.declaration = d.ambient;
                self.symbols.push(sym);
                if let Some(body) = node.child_by_field_id(self.f.body) {
                    self.class_members(body, &qualified, class_exported, d.ambient);
                }
            }
            "interface_declaration" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let name_text = self.text(name);
                let header = self.header(node, node.child_by_field_id(self.f.body));
                let qualified = scope.qualify(&name_text);
                self.push(scope, &d, name_text, SymbolKind::Interface, name, header);
                if let Some(body) = node.child_by_field_id(self.f.body) {
                    self.type_members(body, &qualified, scope.exported && d.exported, d.ambient);
                }
            }
            "type_alias_declaration" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let name_text = self.text(name);
                let value = node.child_by_field_id(self.f.value);
                let qualified = scope.qualify(&name_text);
                let sig = self.type_alias_signature(node, value);
                self.push(scope, &d, name_text, SymbolKind::Type, name, sig);
                if let Some(value) = value {
                    for object in object_parts(value) {
                        self.type_members(object, &qualified, scope.exported && d.exported, d.ambient);
                    }
                }
            }
            "enum_declaration" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let header = self.header(node, node.child_by_field_id(self.f.body));
                self.push(scope, &d, self.text(name), SymbolKind::Enum, name, header);
            }
            "internal_module" | "module" => {
                let Some(name) = node.child_by_field_id(self.f.name) else { return };
                let name_text = strip_quotes(&self.text(name));
                let header = self.header(node, node.child_by_field_id(self.f.body));
                let qualified = scope.qualify(&name_text);
                let ambient = d.ambient || node.kind() == "module";
                let exported = scope.exported && (d.exported || ambient);
                self.push(scope, &Decl { ambient, ..d }, name_text, SymbolKind::Namespace, name, header);
                if let Some(body) = node.child_by_field_id(self.f.body) {
                    let inner = Scope { prefix: qualified, exported, ambient, top: false };
                    self.statements(body, &inner);
                }
            }
            "ambient_declaration" => {
                // `declare ...`: the wrapped declaration, or `declare global { ... }`.
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() == "statement_block" {
                        let inner = Scope { ambient: true, top: false, ..scope.clone() };
                        self.statements(child, &inner);
                    } else {
                        let d2 = Decl { outer: d.outer, exported: d.exported, default: d.default, ambient: true, decorators: d.decorators.clone() };
                        self.declaration(child, scope, d2);
                    }
                }
            }
            "lexical_declaration" | "variable_declaration" => self.variables(node, scope, &d),
            _ => {}
        }
    }

    fn variables(&mut self, node: Node<'t>, scope: &Scope, d: &Decl<'t>) {
        let keyword = node.child(0).map(|k| self.text(k)).unwrap_or_default();
        let mut cursor = node.walk();
        for declarator in node.named_children(&mut cursor).filter(|n| n.kind() == "variable_declarator") {
            let Some(name) = declarator.child_by_field_id(self.f.name).filter(|n| n.kind() == "identifier") else {
                continue; // destructuring patterns declare no single symbol
            };
            let name_text = self.text(name);
            let value = declarator.child_by_field_id(self.f.value);
            let is_function = value.is_some_and(|v| matches!(v.kind(), "arrow_function" | "function_expression"));
            let explicit_type = declarator.child_by_field_id(self.f.type_);
            // A module-level `const x = 1` that nobody can import is not part of the registry;
            // functions are, exported or not, because other symbols in the file call them.
            let local_export_later = scope.top; // `export { x }` may make it public after the walk
            if !(d.exported || d.ambient || is_function || local_export_later) {
                continue;
            }
            let (kind, sig) = match (is_function, explicit_type) {
                (true, None) => (SymbolKind::Function, self.function_signature(&name_text, value.unwrap())),
                _ => {
                    let mut sig = format!("{keyword} {name_text}");
                    if let Some(t) = explicit_type {
                        sig.push_str(&fold_ws(&self.text(t)));
                    } else if let Some(v) = value {
                        sig.push_str(" = ");
                        sig.push_str(&truncate(&fold_ws(&self.text(v)), 80));
                    }
                    (SymbolKind::Variable, sig)
                }
            };
            let outer = if node.named_child_count() == 1 { d.outer } else { declarator };
            let mut sym = self.symbol(scope.qualify(&name_text), kind, outer, name, sig, scope.exported && d.exported);
            sym.declaration = d.ambient;
            sym.default_export = d.default;
            self.symbols.push(sym);
        }
    }

    fn class_members(&mut self, body: Node<'t>, class: &str, class_exported: bool, ambient: bool) {
        let mut pending: Vec<Node> = Vec::new();
        let mut cursor = body.walk();
        let mut prev = None;
        for member in body.named_children(&mut cursor) {
            // A member's JSDoc sits before its first decorator.
            if pending.is_empty() {
                self.prev = prev;
            }
            prev = Some(member);
            let kind = match member.kind() {
                "decorator" => {
                    pending.push(member);
                    continue;
                }
                "method_definition" | "method_signature" | "abstract_method_signature" => SymbolKind::Method,
                "public_field_definition" => SymbolKind::Property,
                _ => {
                    pending.clear();
                    continue;
                }
            };
            let Some(name) = member.child_by_field_id(self.f.name) else {
                pending.clear();
                continue;
            };
            let name_text = strip_quotes(&self.text(name));
            let mut decorators: Vec<Decorator> = pending.iter().filter_map(|n| decorator(*n, self.src, self.f)).collect();
            decorators.extend(decorators_of(member, self.src, self.f));
            let private = has_private_modifier(member, self.src) || name.kind() == "private_property_identifier";
            let sig = if kind == SymbolKind::Method { self.function_signature(&name_text, member) } else { self.property_signature(member) };
            let mut sym = self.symbol(format!("{class}.{name_text}"), kind, member, name, sig, class_exported && !private);
            if let Some(first) = pending.first() {
                // The decorators are siblings in the class body; the member's span covers them.
                sym.span = span_between(*first, member);
                sym.hash = hash_bytes(&self.src[first.start_byte()..member.end_byte()]);
                (sym.doc, sym.doc_full) = self.doc_before(*first);
            }
            sym.decorators = decorators;
            sym.declaration = ambient;
            if private {
                self.private_members.push(self.symbols.len());
            }
            self.symbols.push(sym);
            pending.clear();
        }
    }

    /// Properties and methods of an interface body or object type literal.
    fn type_members(&mut self, body: Node<'t>, owner: &str, exported: bool, ambient: bool) {
        let mut cursor = body.walk();
        let mut prev = None;
        for member in body.named_children(&mut cursor) {
            self.prev = prev;
            prev = Some(member);
            let kind = match member.kind() {
                "property_signature" => SymbolKind::Property,
                "method_signature" => SymbolKind::Method,
                _ => continue,
            };
            let Some(name) = member.child_by_field_id(self.f.name) else { continue };
            let name_text = strip_quotes(&self.text(name));
            let sig = if kind == SymbolKind::Method { self.function_signature(&name_text, member) } else { self.property_signature(member) };
            let mut sym = self.symbol(format!("{owner}.{name_text}"), kind, member, name, sig, exported);
            sym.declaration = ambient;
            self.symbols.push(sym);
        }
    }

    fn push(&mut self, scope: &Scope, d: &Decl<'t>, name: String, kind: SymbolKind, name_node: Node<'t>, sig: String) {
        let mut sym = self.symbol(scope.qualify(&name), kind, d.outer, name_node, sig, scope.exported && d.exported);
        sym.default_export = d.default;
        sym.declaration = d.ambient;
        if !d.decorators.is_empty() {
            sym.decorators = d.decorators.clone();
        }
        self.symbols.push(sym);
    }

    fn symbol(&self, name: String, kind: SymbolKind, outer: Node<'t>, name_node: Node<'t>, signature: String, exported: bool) -> Symbol {
        let (doc, doc_full) = self.doc_before(outer);
        Symbol {
            name,
            kind,
            exported,
            default_export: false,
            declaration: false,
            span: span_of(outer),
            name_span: span_of(name_node),
            signature,
            doc,
            doc_full,
            hash: hash_bytes(&self.src[outer.byte_range()]),
            decorators: Vec::new(),
            source: None,
            prisma: None,
        }
    }

    /// The JSDoc block directly above `node` (no blank line in between): first line and all lines.
    fn doc_before(&self, node: Node) -> (Option<String>, Option<String>) {
        let Some(prev) = self.prev else { return (None, None) };
        if prev.kind() != "comment" || prev.end_position().row + 1 < node.start_position().row {
            return (None, None);
        }
        let text = self.text(prev);
        if !text.starts_with("/**") {
            return (None, None);
        }
        let lines = jsdoc_lines(&text);
        let first = lines.iter().find(|l| !l.is_empty()).cloned();
        let full = if lines.is_empty() { None } else { Some(lines.join("\n")) };
        (first, full)
    }

    /// `name<T>(params): Return` for anything with `parameters`/`return_type` fields.
    fn function_signature(&self, name: &str, node: Node) -> String {
        let mut sig = name.to_string();
        if let Some(tp) = node.child_by_field_id(self.f.type_parameters) {
            sig.push_str(&self.text(tp));
        }
        match node.child_by_field_id(self.f.parameters) {
            Some(p) => sig.push_str(&self.text(p)),
            // `x => x`: a lone identifier parameter.
            None => match node.child_by_field_id(self.f.parameter) {
                Some(p) => {
                    sig.push('(');
                    sig.push_str(&self.text(p));
                    sig.push(')');
                }
                None => sig.push_str("()"),
            },
        }
        if let Some(rt) = node.child_by_field_id(self.f.return_type) {
            sig.push_str(&self.text(rt));
        }
        fold_ws(&sig)
    }

    fn property_signature(&self, member: Node) -> String {
        let end = member.child_by_field_id(self.f.type_).or_else(|| member.child_by_field_id(self.f.name)).map(|n| n.end_byte()).unwrap_or(member.end_byte());
        let start = member
            .child_by_field_id(self.f.name)
            .map(|n| {
                // Keep modifiers such as `static readonly` that precede the name.
                let mut start = n.start_byte();
                let mut cursor = member.walk();
                for child in member.children(&mut cursor) {
                    if child.start_byte() >= n.start_byte() {
                        break;
                    }
                    if child.kind() != "decorator" {
                        start = start.min(child.start_byte());
                    }
                }
                start
            })
            .unwrap_or(member.start_byte());
        let mut sig = fold_ws(&lossy(&self.src[start..end]));
        if member.child_by_field_id(self.f.type_).is_none()
            && let Some(value) = member.child_by_field_id(self.f.value)
        {
            sig.push_str(" = ");
            sig.push_str(&truncate(&fold_ws(&self.text(value)), 80));
        }
        sig
    }

    /// Declaration text up to its body: `class A<T> extends B`, `interface I extends J`.
    fn header(&self, node: Node, body: Option<Node>) -> String {
        let start = first_non_decorator_start(node);
        let end = body.map(|b| b.start_byte()).unwrap_or(node.end_byte());
        fold_ws(&lossy(&self.src[start..end.max(start)]))
    }

    fn type_alias_signature(&self, node: Node, value: Option<Node>) -> String {
        let Some(value) = value else { return fold_ws(&self.text(node)) };
        let head = fold_ws(&lossy(&self.src[node.start_byte()..value.start_byte()]));
        let body = match value.kind() {
            "object_type" => "{…}".to_string(),
            _ => {
                let t = fold_ws(&self.text(value));
                truncate(&t, 160)
            }
        };
        format!("{head} {body}")
    }

    fn apply_local_exports(&mut self) {
        // Top-level symbols made public by `export { a }` / `export default a` after their
        // declaration; their members become reachable with them.
        let mut newly_public: Vec<String> = Vec::new();
        for sym in &mut self.symbols {
            if sym.name.contains('.') || sym.kind == SymbolKind::Reexport || sym.exported {
                continue;
            }
            let listed = self.local_exports.contains(&sym.name);
            let default = self.default_ident.as_deref() == Some(sym.name.as_str());
            if listed || default {
                sym.exported = true;
                sym.default_export |= default;
                newly_public.push(format!("{}.", sym.name));
            }
        }
        if !newly_public.is_empty() {
            for (i, sym) in self.symbols.iter_mut().enumerate() {
                if !sym.exported && newly_public.iter().any(|p| sym.name.starts_with(p.as_str())) && !self.private_members.contains(&i) {
                    sym.exported = true;
                }
            }
        }
        // Plain module-level variables were kept only in case a local export named them.
        self.symbols.retain(|s| s.exported || s.kind != SymbolKind::Variable || s.declaration || s.name.contains('.'));
    }
}

impl<'t> Decl<'t> {
    fn plain(outer: Node<'t>, ambient: bool) -> Self {
        Decl { outer, exported: false, default: false, ambient, decorators: Vec::new() }
    }
}

/// The object type literals of a type alias value: `{...}`, or each `{...}` in `A & {...}`.
fn object_parts(value: Node) -> Vec<Node> {
    match value.kind() {
        "object_type" => vec![value],
        "intersection_type" | "parenthesized_type" => {
            let mut cursor = value.walk();
            value.named_children(&mut cursor).flat_map(object_parts).collect()
        }
        _ => Vec::new(),
    }
}

fn has_token(node: Node, token: &str) -> bool {
    let mut cursor = node.walk();
    node.children(&mut cursor).any(|c| !c.is_named() && c.kind() == token)
}

fn has_private_modifier(member: Node, src: &[u8]) -> bool {
    let mut cursor = member.walk();
    member.children(&mut cursor).any(|c| c.kind() == "accessibility_modifier" && &src[c.byte_range()] == b"private")
}

fn first_non_decorator_start(node: Node) -> usize {
    let mut cursor = node.walk();
    node.children(&mut cursor).find(|c| c.kind() != "decorator" && c.kind() != "comment").map(|c| c.start_byte()).unwrap_or(node.start_byte())
}

fn decorators_of(node: Node, src: &[u8], f: &FieldIds) -> Vec<Decorator> {
    let mut cursor = node.walk();
    node.children(&mut cursor).filter(|c| c.kind() == "decorator").filter_map(|c| decorator(c, src, f)).collect()
}

/// `@Name`, `@A.B`, `@A.B("x", 1)` → name and string arguments.
fn decorator(node: Node, src: &[u8], f: &FieldIds) -> Option<Decorator> {
    let expr = node.named_child(0)?;
    let text = |n: Node| lossy(&src[n.byte_range()]);
    match expr.kind() {
        "call_expression" => {
            let name = fold_ws(&text(expr.child_by_field_id(f.function)?));
            let mut args = Vec::new();
            if let Some(arguments) = expr.child_by_field_id(f.arguments) {
                let mut cursor = arguments.walk();
                for arg in arguments.named_children(&mut cursor) {
                    if arg.kind() == "comment" {
                        continue;
                    }
                    let literal = match arg.kind() {
                        "string" => Some(strip_quotes(&text(arg))),
                        "template_string" if arg.named_child_count() == 0 || no_substitution(arg) => Some(strip_quotes(&text(arg))),
                        _ => None,
                    };
                    args.push(literal);
                }
            }
            Some(Decorator { name, args })
        }
        _ => Some(Decorator { name: fold_ws(&text(expr)), args: Vec::new() }),
    }
}

fn no_substitution(template: Node) -> bool {
    let mut cursor = template.walk();
    template.named_children(&mut cursor).all(|c| c.kind() != "template_substitution")
}

pub(crate) fn pos(p: tree_sitter::Point) -> Pos {
    Pos { line: p.row as u32, col: p.column as u32 }
}

pub(crate) fn span_of(node: Node) -> Span {
    Span { start_byte: node.start_byte() as u32, end_byte: node.end_byte() as u32, start: pos(node.start_position()), end: pos(node.end_position()) }
}

fn span_between(first: Node, last: Node) -> Span {
    Span { start_byte: first.start_byte() as u32, end_byte: last.end_byte() as u32, start: pos(first.start_position()), end: pos(last.end_position()) }
}

/// Parse errors as diagnostics: an ERROR node is "unexpected", a MISSING node "missing".
/// Only subtrees that contain an error are visited.
fn collect_errors(node: Node, src: &[u8], out: &mut Vec<Diagnostic>) {
    if out.len() >= MAX_DIAGNOSTICS {
        return;
    }
    if node.is_missing() {
        out.push(Diagnostic { severity: Severity::Error, message: format!("syntax error: missing `{}`", node.kind()), pos: pos(node.start_position()) });
        return;
    }
    if node.is_error() {
        let snippet = truncate(&fold_ws(&lossy(&src[node.byte_range()])), 40);
        out.push(Diagnostic { severity: Severity::Error, message: format!("syntax error: unexpected `{snippet}`"), pos: pos(node.start_position()) });
        if out.len() == MAX_DIAGNOSTICS {
            out.push(Diagnostic { severity: Severity::Error, message: format!("more than {MAX_DIAGNOSTICS} syntax errors; the rest are not listed"), pos: pos(node.start_position()) });
        }
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.has_error() || child.is_missing() {
            collect_errors(child, src, out);
        }
    }
}

/// Every identifier-like token with its position, except the names that declare symbols.
/// One cursor pass over the whole tree; identifiers are leaves, so the walk never descends
/// below one.
fn collect_references(tree: &Tree, src: &[u8], symbols: &[Symbol], config: &LanguageConfig) -> References {
    let mut declared: Vec<u32> = symbols.iter().map(|s| s.name_span.start_byte).collect();
    declared.sort_unstable();
    let mut names: Vec<String> = Vec::new();
    let mut index: rustc_hash::FxHashMap<&[u8], u32> = rustc_hash::FxHashMap::default();
    let mut refs = Vec::new();
    let mut cursor: TreeCursor = tree.walk();
    loop {
        let node = cursor.node();
        let kind = config.ref_kinds.classify(node.kind_id());
        if let Some(kind) = kind
            && declared.binary_search(&(node.start_byte() as u32)).is_err()
        {
            let bytes = &src[node.byte_range()];
            let id = *index.entry(bytes).or_insert_with(|| {
                names.push(lossy(bytes));
                (names.len() - 1) as u32
            });
            refs.push(Ref { name: id, kind, pos: pos(node.start_position()) });
        }
        if kind.is_none() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return References::new(names, refs);
            }
        }
    }
}

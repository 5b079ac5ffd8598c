//! The syntactic role of a reference: is it a call, an import, the return type of a function
//! that builds values, the annotation of an object literal, a parameter's type, the value of a
//! type alias? The blast radius decides `must_change` by kind of change from these facts.
//!
//! Pure like the rest of the registry: a [`Syntax`] holds one file's tree, built on demand for
//! the files a query touches (trees are not kept by the registry).

use tree_sitter::{Node, Point, Tree};

use crate::lang::{classify, config_for, parse};
use crate::model::Pos;

/// Facts about the token at a position. All false when nothing is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefContext {
    /// Inside an `import` or an `export … from` statement.
    pub in_import: bool,
    /// The callee of a call or `new` (directly, or as the property of `a.b.name(...)`).
    pub is_call: bool,
    /// For a call: its value is used (not a bare expression statement such as `await f();`).
    pub call_result_used: bool,
    /// For a call whose value is bound to a local (`const x = await f()`): every later use of
    /// that local is a type-agnostic check (`typia.assert(x)`), or there is none. E2E tests do
    /// this with most SDK calls; a different return type breaks none of them.
    pub call_result_only_checked: bool,
    /// For a call: its result (directly, or through the local it is bound to) is the object of
    /// a method call given a callback with an unannotated parameter (`page.data.some((s) => …)`).
    /// When the result's type stops resolving (a renamed return type), that parameter becomes
    /// an implicit `any` — an error under `strict`.
    pub call_result_feeds_untyped_callback: bool,
    /// For a call: one of its arguments is an object or array literal.
    pub call_has_literal_argument: bool,
    /// Inside the declared return type of a function or method.
    pub in_return_type: bool,
    /// With `in_return_type`: that function returns an object or array literal.
    pub returns_literal: bool,
    /// The whole type of a parameter (`body: T`, `body: ns.T`), not a part of it
    /// (`props: { body: T }`): a caller passing a literal there builds a T.
    pub in_parameter_type: bool,
    /// Types a value built right there: the annotation of a declarator or property initialised
    /// with an object/array literal, `satisfies T`, or `<literal> as T`.
    pub builds_value: bool,
    /// Inside the value of a type alias (`type A = T`): A passes T on.
    pub in_type_alias_value: bool,
    /// Inside the declared type of a property (`pagination: IPage.IPagination`): building the
    /// owner type builds this one.
    pub in_property_type: bool,
    /// Used as a namespace: the qualifier of `T.X` (in a type or a value). Not a use of the
    /// type `T` that shares the name.
    pub as_qualifier: bool,
    /// Destructured from (`const { a } = x` where the reference is in the pattern or the
    /// annotation of such a declarator).
    pub destructures: bool,
}

/// One parsed file, for asking about many positions.
pub struct Syntax {
    tree: Tree,
    text: Vec<u8>,
}

impl Syntax {
    /// `None` for files that are not TypeScript.
    pub fn parse(path: &str, text: &[u8]) -> Option<Syntax> {
        let config = config_for(classify(path)?)?;
        Some(Syntax { tree: parse(config, text, None), text: text.to_vec() })
    }

    pub fn text(&self) -> &[u8] {
        &self.text
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The context of the identifier-like token at `pos` (byte column).
    pub fn context_at(&self, pos: Pos) -> RefContext {
        let point = Point { row: pos.line as usize, column: pos.col as usize };
        let Some(node) = self.tree.root_node().descendant_for_point_range(point, point) else { return RefContext::default() };
        let mut cx = RefContext::default();

        // Calls: `f(...)`, `a.b.f(...)`, `new F(...)`.
        let mut callee = node;
        if let Some(p) = callee.parent()
            && p.kind() == "member_expression"
            && p.child_by_field_name("property") == Some(callee)
        {
            callee = p;
        }
        if let Some(p) = callee.parent() {
            let is_callee = match p.kind() {
                "call_expression" => p.child_by_field_name("function") == Some(callee),
                "new_expression" => p.child_by_field_name("constructor") == Some(callee),
                _ => false,
            };
            if is_callee {
                cx.is_call = true;
                cx.call_result_used = !result_discarded(p);
                cx.call_result_only_checked = cx.call_result_used && self.result_only_checked(p);
                cx.call_result_feeds_untyped_callback = cx.call_result_used && self.result_feeds_untyped_callback(p);
                cx.call_has_literal_argument = p.child_by_field_name("arguments").is_some_and(|args| {
                    let mut c = args.walk();
                    args.named_children(&mut c).any(|a| is_literal(a))
                });
            }
        }

        if let Some(p) = node.parent() {
            cx.as_qualifier = match p.kind() {
                "nested_type_identifier" | "nested_identifier" => p.child_by_field_name("module") == Some(node) || p.named_child(0) == Some(node),
                "member_expression" => p.child_by_field_name("object") == Some(node),
                _ => false,
            };
        }
        let mut child = node;
        let mut cur = node.parent();
        while let Some(n) = cur {
            match n.kind() {
                "import_statement" => cx.in_import = true,
                "export_statement" if n.child_by_field_name("source").is_some() => cx.in_import = true,
                "satisfies_expression" | "as_expression"
                    // `{...} satisfies T` / `{...} as T`: the type side builds the literal.
                    if n.named_child(0).is_some_and(|v| v != child && is_literal(v)) => {
                        cx.builds_value = true;
                    }
                "type_alias_declaration" if n.child_by_field_name("value").is_some_and(|v| contains(v, node)) => {
                    cx.in_type_alias_value = true;
                }
                "variable_declarator" | "public_field_definition" | "property_signature" => {
                    let in_annotation = n.child_by_field_name("type").is_some_and(|t| contains(t, node));
                    if in_annotation && n.kind() != "variable_declarator" {
                        cx.in_property_type = true;
                    }
                    if in_annotation && n.child_by_field_name("value").is_some_and(is_literal) {
                        cx.builds_value = true;
                    }
                    if n.child_by_field_name("name").is_some_and(|p| p.kind() == "object_pattern" || p.kind() == "array_pattern") {
                        cx.destructures = true;
                    }
                }
                "required_parameter" | "optional_parameter" => {
                    let whole_type = n.child_by_field_name("type").and_then(|t| t.named_child(0));
                    if whole_type.is_some_and(|t| t == node || (t.kind() == "nested_type_identifier" && t.end_byte() == node.end_byte())) {
                        cx.in_parameter_type = true;
                    }
                    if n.child_by_field_name("pattern").is_some_and(|p| p.kind() == "object_pattern" || p.kind() == "array_pattern") {
                        cx.destructures = true;
                    }
                }
                "function_declaration" | "function_expression" | "arrow_function" | "method_definition" | "function_signature" | "method_signature" | "generator_function_declaration" => {
                    if n.child_by_field_name("return_type").is_some_and(|t| contains(t, node)) {
                        cx.in_return_type = true;
                        cx.returns_literal = returns_literal(n);
                    }
                    // The innermost function decides; outer functions are other scopes.
                    break;
                }
                _ => {}
            }
            child = n;
            cur = n.parent();
        }
        cx
    }
}

/// Calls that accept a value of any type: using a result only in them does not depend on it.
const TYPE_AGNOSTIC_CHECKS: &[&str] = &["typia.assert", "typia.assertGuard", "typia.is", "typia.validate", "typia.assertEquals", "typia.equals", "console.log"];

/// What a call's value becomes: the expression around it (through `await`, parentheses, `!`),
/// and, when that is bound to a local without a type annotation, the local's declarator and
/// every later use of it in the declaring block (`{ x }` included).
struct ResultUses<'t> {
    value: Node<'t>,
    local: Option<(Node<'t>, Vec<Node<'t>>)>,
}

impl Syntax {
    fn result_uses<'t>(&'t self, call: Node<'t>) -> ResultUses<'t> {
        let mut value = call;
        while let Some(p) = value.parent().filter(|p| matches!(p.kind(), "await_expression" | "parenthesized_expression" | "non_null_expression")) {
            value = p;
        }
        let mut out = ResultUses { value, local: None };
        let Some(decl) = value.parent().filter(|p| p.kind() == "variable_declarator" && p.child_by_field_name("value") == Some(value)) else { return out };
        // `const x: T = await f()` checks the value against T right there: no untyped local.
        if decl.child_by_field_name("type").is_some() {
            return out;
        }
        let Some(name) = decl.child_by_field_name("name").filter(|x| x.kind() == "identifier") else { return out };
        let name = self.node_text(name);
        let mut scope = decl.parent();
        while let Some(s) = scope.filter(|s| !matches!(s.kind(), "statement_block" | "program")) {
            scope = s.parent();
        }
        let Some(scope) = scope else { return out };
        let mut uses = Vec::new();
        let mut stack = vec![scope];
        while let Some(x) = stack.pop() {
            if matches!(x.kind(), "identifier" | "shorthand_property_identifier") && x.start_byte() > decl.end_byte() && self.node_text(x) == name {
                uses.push(x);
            }
            let mut c = x.walk();
            stack.extend(x.named_children(&mut c));
        }
        out.local = Some((decl, uses));
        out
    }

    fn node_text(&self, n: Node) -> &str {
        std::str::from_utf8(&self.text[n.byte_range()]).unwrap_or("")
    }

    /// `const x = await call(…)` where every later use of `x` in the block is the argument of a
    /// type-agnostic check (or there is none).
    fn result_only_checked(&self, call: Node) -> bool {
        let Some((_, uses)) = self.result_uses(call).local else { return false };
        uses.iter().all(|x| {
            x.kind() == "identifier"
                && x.parent()
                    .filter(|a| a.kind() == "arguments")
                    .and_then(|a| a.parent())
                    .and_then(|c| c.child_by_field_name("function"))
                    .is_some_and(|f| TYPE_AGNOSTIC_CHECKS.contains(&self.node_text(f)))
        })
    }

    /// See [`RefContext::call_result_feeds_untyped_callback`]. A local with a type annotation
    /// keeps its callbacks typed whatever the call returns.
    fn result_feeds_untyped_callback(&self, call: Node) -> bool {
        let r = self.result_uses(call);
        chain_has_untyped_callback(r.value) || r.local.is_some_and(|(_, uses)| uses.into_iter().any(|x| x.kind() == "identifier" && chain_has_untyped_callback(x)))
    }
}

/// `x.a.b(…, (p) => …)`: a member chain starting at `x` ends in a call given a callback with an
/// unannotated parameter.
fn chain_has_untyped_callback(start: Node) -> bool {
    let mut n = start;
    while let Some(p) = n.parent() {
        match p.kind() {
            "member_expression" if p.child_by_field_name("object") == Some(n) => n = p,
            "subscript_expression" | "non_null_expression" if p.named_child(0) == Some(n) => n = p,
            "call_expression" if p.child_by_field_name("function") == Some(n) => {
                let untyped = p.child_by_field_name("arguments").is_some_and(|args| {
                    let mut c = args.walk();
                    args.named_children(&mut c).any(|a| {
                        matches!(a.kind(), "arrow_function" | "function_expression")
                            && (a.child_by_field_name("parameter").is_some()
                                || a.child_by_field_name("parameters").is_some_and(|ps| {
                                    let mut c2 = ps.walk();
                                    ps.named_children(&mut c2).any(|q| q.child_by_field_name("type").is_none())
                                }))
                    })
                });
                if untyped {
                    return true;
                }
                n = p;
            }
            _ => return false,
        }
    }
    false
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

fn is_literal(n: Node) -> bool {
    match n.kind() {
        "object" | "array" => true,
        // `{…} as any` (nestia's simulator returns its error object so) builds nothing typed.
        "as_expression" if n.named_child(1).is_some_and(|t| t.kind() == "predefined_type" && t.child(0).is_some_and(|k| matches!(k.kind(), "any" | "unknown"))) => false,
        "parenthesized_expression" | "satisfies_expression" | "as_expression" => n.named_child(0).is_some_and(is_literal),
        _ => false,
    }
}

/// Whether a call's value is thrown away: `f();`, `await f();`, `void f();`.
fn result_discarded(call: Node) -> bool {
    let mut n = call;
    while let Some(p) = n.parent() {
        match p.kind() {
            "await_expression" | "parenthesized_expression" | "non_null_expression" => n = p,
            "expression_statement" => return true,
            "unary_expression" => return p.child(0).is_some_and(|op| op.kind() == "void"),
            _ => return false,
        }
    }
    false
}

/// Whether a function returns an object or array literal (an expression body counts), without
/// looking into nested functions.
fn returns_literal(function: Node) -> bool {
    let Some(body) = function.child_by_field_name("body") else { return false };
    if body.kind() != "statement_block" {
        return is_literal(body);
    }
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        let mut c = n.walk();
        for child in n.named_children(&mut c) {
            match child.kind() {
                "return_statement" => {
                    if child.named_child(0).is_some_and(|v| is_literal(v) || (v.kind() == "await_expression" && v.named_child(0).is_some_and(is_literal))) {
                        return true;
                    }
                }
                "function_declaration" | "function_expression" | "arrow_function" | "method_definition" | "class_declaration" => {}
                _ => stack.push(child),
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$0` marks the position asked about.
    fn at(src: &str) -> RefContext {
        let offset = src.find("$0").expect("a $0 marker");
        let text = src.replace("$0", "");
        let before = &text[..offset];
        let line = before.matches('\n').count() as u32;
        let col = (offset - before.rfind('\n').map_or(0, |i| i + 1)) as u32;
        Syntax::parse("a.ts", text.as_bytes()).unwrap().context_at(Pos { line, col })
    }

    #[test]
    fn calls_and_their_use() {
        let c = at("async function g() { await $0f(1); }");
        assert!(c.is_call && !c.call_result_used && !c.call_has_literal_argument);
        let c = at("function g() { return api.functional.$0create(c, { title: 'x' }); }");
        assert!(c.is_call && c.call_result_used && c.call_has_literal_argument);
        let c = at("async function t() { const x = await api.$0create(c); typia.assert(x); }");
        assert!(c.is_call && c.call_result_used && c.call_result_only_checked);
        let c = at("async function t() { const x = await api.$0create(c); typia.assert(x); return x.id; }");
        assert!(c.call_result_used && !c.call_result_only_checked);
        assert!(!at("async function t() { const x: T = await api.$0create(c); typia.assert(x); }").call_result_only_checked);
        let c = at("function t() { const at = $0iso(d); return { at }; }");
        assert!(c.call_result_used && !c.call_result_only_checked);
        let c = at("async function t() { const page = await api.$0index(c); page.data.some((s) => s.id === 1); }");
        assert!(c.call_result_feeds_untyped_callback);
        let c = at("async function t() { const page = await api.$0index(c); page.data.some((s: T) => s.id === 1); }");
        assert!(!c.call_result_feeds_untyped_callback);
        assert!(!at("async function t() { const page: P = await api.$0index(c); page.data.map((s) => s); }").call_result_feeds_untyped_callback);
        assert!(at("async function t() { (await api.$0index(c)).map((x) => x); }").call_result_feeds_untyped_callback);
        let c = at("const x = new $0Foo();");
        assert!(c.is_call && c.call_result_used);
        assert!(!at("const x = $0f;").is_call);
    }

    #[test]
    fn imports_and_reexports() {
        assert!(at("import { $0A } from './a';").in_import);
        assert!(at("export { $0A } from './a';").in_import);
        assert!(!at("export { $0A };").in_import);
    }

    #[test]
    fn shapes_built_here() {
        assert!(at("const x: $0T = { a: 1 };").builds_value);
        assert!(!at("const x: $0T = make();").builds_value);
        assert!(at("const x = { a: 1 } satisfies $0T;").builds_value);
        let c = at("function f(): $0T { return { a: 1 }; }");
        assert!(c.in_return_type && c.returns_literal);
        assert!(!at("function f(): $0T { return { a: 1 } as any; }").returns_literal);
        let c = at("async function f(): Promise<$0T> { const r = await g(); return r; }");
        assert!(c.in_return_type && !c.returns_literal);
        let c = at("const f = (): $0T => ({ a: 1 });");
        assert!(c.in_return_type && c.returns_literal);
        let c = at("function f(x: $0T): void {}");
        assert!(c.in_parameter_type && !c.in_return_type);
        assert!(at("function f(x: ns.$0T): void {}").in_parameter_type);
        assert!(!at("function f(x: Partial<$0T>): void {}").in_parameter_type);
        assert!(!at("function f(props: { body: $0T }): void {}").in_parameter_type);
        assert!(at("export type Body = $0T;").in_type_alias_value);
        assert!(at("export type Body = $0T.ICreate;").as_qualifier);
        assert!(at("const x = $0api.functional;").as_qualifier);
        assert!(!at("export type Body = T.$0ICreate;").as_qualifier);
        assert!(at("export type P = { pagination: IPage.$0IPagination };").in_property_type);
        assert!(!at("const x: $0T = y;").in_property_type);
        assert!(at("const { a }: $0T = x;").destructures);
    }
}

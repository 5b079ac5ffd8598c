//! The registry's data model: what one file yields (symbols, imports, references, parse
//! diagnostics). Everything here is plain data, serialisable, with no tree-sitter types in it, so
//! it can be persisted by the daemon's store and sent over the wire. Extraction lives in
//! `extract.rs` (TypeScript) and `prisma.rs`.

use serde::{Deserialize, Serialize};

/// A zero-based position. `col` counts bytes from the start of the line (tree-sitter's unit);
/// a consumer that needs UTF-16 columns (LSP) converts with the line's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A half-open source range, in bytes and in positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct Span {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start: Pos,
    pub end: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Function,
    Class,
    Method,
    Property,
    Interface,
    Type,
    Enum,
    Namespace,
    Variable,
    Reexport,
    /// A Prisma model (`prisma:bbs_articles`).
    Model,
    /// A Prisma model field (`prisma:bbs_articles.title`).
    Field,
}

impl SymbolKind {
    pub const ALL: [SymbolKind; 12] = [
        SymbolKind::Function,
        SymbolKind::Class,
        SymbolKind::Method,
        SymbolKind::Property,
        SymbolKind::Interface,
        SymbolKind::Type,
        SymbolKind::Enum,
        SymbolKind::Namespace,
        SymbolKind::Variable,
        SymbolKind::Reexport,
        SymbolKind::Model,
        SymbolKind::Field,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Class => "class",
            SymbolKind::Method => "method",
            SymbolKind::Property => "property",
            SymbolKind::Interface => "interface",
            SymbolKind::Type => "type",
            SymbolKind::Enum => "enum",
            SymbolKind::Namespace => "namespace",
            SymbolKind::Variable => "variable",
            SymbolKind::Reexport => "reexport",
            SymbolKind::Model => "model",
            SymbolKind::Field => "field",
        }
    }

    pub fn parse(s: &str) -> Option<SymbolKind> {
        SymbolKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decorator on a class, method or property, with its string-literal arguments, e.g.
/// `@TypedRoute.Get(":id")` is `{ name: "TypedRoute.Get", args: [":id"] }`. Non-string
/// arguments are kept as `None` so positions still line up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decorator {
    pub name: String,
    pub args: Vec<Option<String>>,
}

/// Details of a Prisma model field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrismaField {
    /// The field's type name without `?`/`[]` (`String`, `bbs_members`, an enum name).
    pub type_name: String,
    pub optional: bool,
    pub list: bool,
    /// Every attribute as written, e.g. `@id`, `@db.Uuid`, `@relation(fields: [a], references: [id])`.
    pub attributes: Vec<String>,
    /// Set when the field carries `@relation(...)`.
    pub relation: Option<PrismaRelation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrismaRelation {
    pub name: Option<String>,
    pub fields: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Symbol {
    /// Qualified name: `IBbsArticle.ICreate`, `BbsArticlesController.at`,
    /// `prisma:bbs_articles.title`. Overloads and declaration merging (a type alias and a
    /// namespace of the same name) give several symbols with one name.
    pub name: String,
    pub kind: SymbolKind,
    pub exported: bool,
    /// `export default ...`.
    pub default_export: bool,
    /// Ambient: in a `.d.ts` file or under `declare`.
    pub declaration: bool,
    /// The whole declaration (including `export`, decorators and modifiers).
    pub span: Span,
    /// Just the name token.
    pub name_span: Span,
    /// Parameters and return type for functions and methods, the header for types and classes,
    /// `name: Type` for properties; whitespace folded.
    pub signature: String,
    /// The first line of the symbol's JSDoc (or Prisma `///` comment).
    pub doc: Option<String>,
    /// All JSDoc lines with the comment markers stripped, joined by `\n` (e.g. to find
    /// "Maps to bbs_articles.title" on a DTO property).
    pub doc_full: Option<String>,
    /// Hash of the declaration's text; equal hashes mean the symbol did not change.
    pub hash: u64,
    pub decorators: Vec<Decorator>,
    /// For re-exports: the module specifier (`export { a } from "./x"`).
    pub source: Option<String>,
    pub prisma: Option<PrismaField>,
}

/// One imported name: `import { a as b }` is `{ imported: "a", local: "b" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImportedName {
    pub imported: String,
    pub local: String,
    pub type_only: bool,
}

/// An `import` or `export ... from` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Import {
    pub specifier: String,
    pub names: Vec<ImportedName>,
    /// `import x from` — the local name of the default import.
    pub default: Option<String>,
    /// `import * as x from` or `export * as x from` — the local (or exported) name.
    pub namespace: Option<String>,
    /// `import type ...` / `export type ... from`.
    pub type_only: bool,
    /// `export ... from` rather than `import`.
    pub reexport: bool,
    /// `export * from "x"`.
    pub star: bool,
    pub line: u32,
}

/// What kind of token a reference is; the registry's reference index is approximate (it is a
/// list of name tokens, not resolved bindings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// A value identifier (`foo`, `foo()`).
    Value,
    /// A type identifier (`Foo` in a type position).
    Type,
    /// A property name (`x.foo`, `{ foo: 1 }`, `{ foo }`).
    Property,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ref {
    /// Index into [`References::names`].
    pub name: u32,
    pub kind: RefKind,
    pub pos: Pos,
}

/// Identifier references of one file, with names interned per file to keep the index small.
/// `names` is sorted ([`References::new`]), so a name is found by binary search: a blast asks
/// every file a walk reaches whether it names the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct References {
    pub names: Vec<String>,
    pub refs: Vec<Ref>,
}

impl References {
    /// From names in any order and references into them: the names are sorted and the
    /// references renumbered.
    pub fn new(names: Vec<String>, mut refs: Vec<Ref>) -> References {
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let mut renumber = vec![0u32; names.len()];
        for (new, old) in order.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        for r in &mut refs {
            r.name = renumber[r.name as usize];
        }
        let mut slots: Vec<Option<String>> = names.into_iter().map(Some).collect();
        let names = order.iter().map(|old| slots[*old as usize].take().unwrap_or_default()).collect();
        References { names, refs }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Ref)> {
        self.refs.iter().map(|r| (self.names[r.name as usize].as_str(), r))
    }

    /// The interned index of `name`, when the file names it at all.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok().map(|i| i as u32)
    }

    pub fn of<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Ref> + 'a {
        let idx = self.index_of(name);
        self.refs.iter().filter(move |r| Some(r.name) == idx)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found while reading or parsing a file. Parse problems never stop extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileLang {
    TypeScript,
    Tsx,
    /// A `.d.ts` (or `.d.mts`/`.d.cts`) declaration file.
    Declaration,
    Prisma,
}

/// Everything the registry knows about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileIndex {
    /// Root-relative, `/`-separated.
    pub path: String,
    pub lang: FileLang,
    /// Hash of the file's bytes.
    pub hash: u64,
    pub len: u64,
    pub symbols: Vec<Symbol>,
    pub imports: Vec<Import>,
    pub references: References,
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the file was not parsed at all (binary content, too large), with the reason.
    pub not_parsed: Option<String>,
}

impl FileIndex {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// Where `import` (one of this file's) names `name` in its clause: the first use of the
    /// name at or after the statement's line.
    pub fn imported_name_at(&self, import: &Import, name: &str) -> Option<Pos> {
        self.references.of(name).filter(|r| r.pos.line >= import.line).min_by_key(|r| (r.pos.line, r.pos.col)).map(|r| r.pos)
    }
}

#[cfg(test)]
mod references_tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_references_follow_them() {
        let at = |line| Pos { line, col: 0 };
        let refs = vec![
            Ref { name: 0, kind: RefKind::Value, pos: at(0) },
            Ref { name: 1, kind: RefKind::Type, pos: at(1) },
            Ref { name: 2, kind: RefKind::Value, pos: at(2) },
            Ref { name: 0, kind: RefKind::Value, pos: at(3) },
        ];
        let r = References::new(vec!["zeta".into(), "alpha".into(), "mid".into()], refs);
        assert_eq!(r.names, ["alpha", "mid", "zeta"]);
        let lines = |name: &str| r.of(name).map(|x| x.pos.line).collect::<Vec<_>>();
        assert_eq!(lines("zeta"), [0, 3]);
        assert_eq!(lines("alpha"), [1]);
        assert_eq!(lines("mid"), [2]);
        assert!(lines("absent").is_empty() && r.index_of("absent").is_none());
        assert_eq!(r.iter().map(|(n, x)| (n, x.pos.line)).collect::<Vec<_>>(), [("zeta", 0), ("alpha", 1), ("mid", 2), ("zeta", 3)]);
    }
}

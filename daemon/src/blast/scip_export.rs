//! `maintaind export scip`: the registry as a SCIP index (https://github.com/scip-code/scip),
//! the format Sourcegraph, Glean and other code-intelligence engines ingest.
//!
//! - **One document per indexed file** (TypeScript and Prisma), so a consumer that keeps
//!   documents by path can swap in a changed file's document alone.
//! - **Definitions**: every declared symbol of the registry (functions, classes and their
//!   methods, interfaces, type aliases, namespaces and their members, DTO variants such as
//!   `IBbsArticle.ICreate`, Prisma models and fields), with its kind, signature and doc, the
//!   name's range as the occurrence and the declaration's as its enclosing range.
//! - **References**: every use of a name the file imports from another workspace file (resolved
//!   through tsconfig paths as the registry resolves imports), of a name the file itself
//!   declares, and of a member right after such a name (`IBbsArticle.ICreate`,
//!   `MyGlobal.prisma`: the registry's tokens are adjacent, and the member is looked up under the
//!   qualifier's name in its file). A member of a member of something imported under another
//!   name (`api.functional.bbs.articles.create` through `export * as`) is not followed; the
//!   language server is not asked (an export of a whole backend would ask it hundreds of
//!   thousands of questions).
//! - **Relationships**: the route join. A controller method that serves `VERB /route` and the
//!   provider function it calls *implement* the nestia SDK function that calls that route, so
//!   "find implementations" on an SDK function (in a frontend that imports the SDK) lands on the
//!   backend code that answers it.
//!
//! Symbols are `maintaind npm <package.json name> <version> <file>/<path>`: a file is a
//! namespace descriptor, a type is `T#`, a namespace `N/`, a function or method `f().`, a
//! property, field or variable `x.`. Positions are UTF-8 byte offsets from the line start (the
//! registry's), declared per document.
//!
//! **The published SDK.** nestia builds `src/api` into the package `packages/api/package.json`
//! names (`@ORGANIZATION/PROJECT-api` in every AutoBE backend), with `lib/` mirroring `src/api/`.
//! A frontend that imports it and is indexed by scip-typescript names, say, the SDK function
//! `create` as ``scip-typescript npm @ORGANIZATION/PROJECT-api 0.1.0
//! lib/functional/bbs/member/articles/`index.d.ts`/create().`` (read off scip-typescript 0.4.0's
//! own output). Each symbol under `src/api/` is related to that name (`is_reference` and
//! `is_definition`), and the route join's implementers to the published SDK function too
//! (`is_implementation`): a code-intelligence engine that holds both indexes can go from a
//! frontend's call to the backend's SDK function, its controller method and its provider.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use maintaind_registry::{FileIndex, FileLang, RefKind, Registry, Symbol, SymbolKind};
use protobuf::{EnumOrUnknown, MessageField};
use scip::types::{self as t, descriptor::Suffix, symbol_information::Kind};

/// What an export holds, for the command's summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportSummary {
    pub documents: usize,
    pub definitions: usize,
    pub references: usize,
    pub relationships: usize,
    /// Symbols related to their name in the published SDK package.
    pub published: usize,
}

/// The SCIP package of the project: its `package.json` name and version (a backend without
/// them is `.` and `0.0.0`, as SCIP spells an unnamed package's parts).
fn package(root: &Path) -> t::Package {
    let json: serde_json::Value = std::fs::read(root.join("package.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let field = |k: &str, or: &str| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.trim().is_empty() && !s.contains(' ')).unwrap_or(or).to_string();
    t::Package { manager: "npm".into(), name: field("name", "."), version: field("version", "0.0.0"), ..Default::default() }
}

/// nestia's SDK package (`packages/api/package.json`), when the backend has one.
fn sdk_package(root: &Path) -> Option<t::Package> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("packages/api/package.json")).ok()?).ok()?;
    let name = json.get("name")?.as_str().filter(|s| !s.is_empty() && !s.contains(' '))?;
    let version = json.get("version").and_then(|v| v.as_str()).filter(|s| !s.is_empty() && !s.contains(' ')).unwrap_or("HEAD");
    Some(t::Package { manager: "npm".into(), name: name.into(), version: version.into(), ..Default::default() })
}

/// The name scip-typescript gives `symbol` (one of ours, in a file under `src/api/`) in a project
/// that imports the published SDK: its package, `lib/`, each directory, the `.d.ts` file, then
/// the same descriptors as ours.
fn published(sdk: &t::Package, file: &str, symbol: &str) -> Option<String> {
    let rest = file.strip_prefix("src/api/")?.strip_suffix(".ts").filter(|r| !r.ends_with(".d"))?;
    let ours = scip::symbol::parse_symbol(symbol).ok()?;
    let mut descriptors = vec![descriptor("lib", Suffix::Namespace)];
    let mut parts: Vec<&str> = rest.split('/').collect();
    let stem = parts.pop()?;
    descriptors.extend(parts.into_iter().map(|d| descriptor(d, Suffix::Namespace)));
    descriptors.push(descriptor(&format!("{stem}.d.ts"), Suffix::Namespace));
    descriptors.extend(ours.descriptors.into_iter().skip(1));
    Some(scip::symbol::format_symbol(t::Symbol { scheme: "scip-typescript".into(), package: MessageField::some(sdk.clone()), descriptors, ..Default::default() }))
}

fn descriptor(name: &str, suffix: Suffix) -> t::Descriptor {
    t::Descriptor { name: name.into(), suffix: EnumOrUnknown::new(suffix), ..Default::default() }
}

/// Where a registry kind sits in a SCIP symbol.
fn suffix(kind: SymbolKind) -> Suffix {
    match kind {
        SymbolKind::Class | SymbolKind::Interface | SymbolKind::Type | SymbolKind::Enum | SymbolKind::Model => Suffix::Type,
        SymbolKind::Namespace => Suffix::Namespace,
        SymbolKind::Function | SymbolKind::Method => Suffix::Method,
        SymbolKind::Property | SymbolKind::Field | SymbolKind::Variable | SymbolKind::Reexport => Suffix::Term,
    }
}

fn kind(kind: SymbolKind) -> Kind {
    match kind {
        SymbolKind::Class => Kind::Class,
        SymbolKind::Interface => Kind::Interface,
        SymbolKind::Type => Kind::TypeAlias,
        SymbolKind::Enum => Kind::Enum,
        SymbolKind::Model => Kind::Struct,
        SymbolKind::Namespace => Kind::Namespace,
        SymbolKind::Function => Kind::Function,
        SymbolKind::Method => Kind::Method,
        SymbolKind::Property => Kind::Property,
        SymbolKind::Field => Kind::Field,
        SymbolKind::Variable => Kind::Variable,
        SymbolKind::Reexport => Kind::UnspecifiedKind,
    }
}

/// The SCIP symbol of one registry symbol: the file, then each dotted segment of its name as
/// what the file declares under that name (a namespace when one exists, else a type).
fn symbol_of(package: &t::Package, file: &FileIndex, s: &Symbol) -> String {
    let mut descriptors = vec![descriptor(&file.path, Suffix::Namespace)];
    let segments = segments(s);
    for i in 0..segments.len() - 1 {
        let prefix = segments[..=i].join(".");
        // The declaration of that name that holds this one (a class and a namespace merged
        // under one name each hold their own members).
        let named: Vec<&Symbol> = file.symbols.iter().filter(|x| x.name.strip_prefix("prisma:").unwrap_or(&x.name) == prefix).collect();
        let holder = named.iter().find(|x| x.span.start_byte <= s.span.start_byte && s.span.end_byte <= x.span.end_byte);
        let is_namespace = match holder {
            Some(h) => h.kind == SymbolKind::Namespace,
            None => {
                let declared = |k: SymbolKind| named.iter().any(|x| x.kind == k);
                declared(SymbolKind::Namespace) || !(declared(SymbolKind::Class) || declared(SymbolKind::Interface) || declared(SymbolKind::Type) || declared(SymbolKind::Model))
            }
        };
        descriptors.push(descriptor(segments[i], if is_namespace { Suffix::Namespace } else { Suffix::Type }));
    }
    descriptors.push(descriptor(segments[segments.len() - 1], suffix(s.kind)));
    scip::symbol::format_symbol(t::Symbol { scheme: "maintaind".into(), package: MessageField::some(package.clone()), descriptors, ..Default::default() })
}

/// A qualified name's segments. The registry keeps a quoted member's name without its quotes
/// (`tags.TagBase.typia.tag` for `"typia.tag"?: …`), so the last segment is as long as the
/// name's token (less its quotes), and the dots before it separate the rest.
fn segments(s: &Symbol) -> Vec<&str> {
    let name = s.name.strip_prefix("prisma:").unwrap_or(&s.name);
    let token = (s.name_span.end_byte - s.name_span.start_byte) as usize;
    let split_at = [token, token.saturating_sub(2)].into_iter().find(|&leaf| leaf > 0 && leaf < name.len() && name.as_bytes()[name.len() - leaf - 1] == b'.');
    match split_at {
        Some(leaf) => {
            let mut out: Vec<&str> = name[..name.len() - leaf - 1].split('.').collect();
            out.push(&name[name.len() - leaf..]);
            out
        }
        None => name.split('.').collect(),
    }
}

fn range(start: maintaind_registry::Pos, end: maintaind_registry::Pos) -> Vec<i32> {
    if start.line == end.line { vec![start.line as i32, start.col as i32, end.col as i32] } else { vec![start.line as i32, start.col as i32, end.line as i32, end.col as i32] }
}

/// A symbol the file defines (a re-export only passes another file's on).
fn defined(s: &Symbol) -> bool {
    s.kind != SymbolKind::Reexport
}

/// The symbol a use of `name` (of `ref_kind`) in `file` names: what the file imports under that
/// name from a workspace file, else what the file declares. A type use prefers the type of a
/// type merged with a namespace, a value use the namespace (or function, class, variable).
fn resolve<'r>(registry: &'r Registry, file: &'r FileIndex, name: &str, ref_kind: RefKind) -> Option<(&'r FileIndex, &'r Symbol)> {
    for import in file.imports.iter().filter(|i| !i.reexport) {
        let Some(imported) = import.names.iter().find(|n| n.local == name) else { continue };
        let target = registry.resolve_import(&file.path, &import.specifier)?;
        return named(registry.file(&target)?, &imported.imported, ref_kind);
    }
    named(file, name, ref_kind)
}

/// `owner.name` as `file` declares it (`IBbsArticle.ICreate`, `MyGlobal.prisma`).
fn member_of<'r>(file: &'r FileIndex, owner: &Symbol, name: &str, ref_kind: RefKind) -> Option<(&'r FileIndex, &'r Symbol)> {
    named(file, &format!("{}.{name}", owner.name), ref_kind)
}

/// The symbol `file` defines under `name` for a use of `ref_kind`: of a type merged with a
/// namespace (or function, variable), a type use means the type, any other use the value side
/// (a class is both).
fn named<'r>(file: &'r FileIndex, name: &str, ref_kind: RefKind) -> Option<(&'r FileIndex, &'r Symbol)> {
    let all: Vec<&Symbol> = file.symbols.iter().filter(|s| defined(s) && s.name == name).collect();
    let typed = |s: &Symbol| matches!(s.kind, SymbolKind::Type | SymbolKind::Interface | SymbolKind::Class | SymbolKind::Enum);
    let best = match ref_kind {
        RefKind::Type => all.iter().copied().find(|s| typed(s)),
        _ => all.iter().copied().find(|s| !typed(s) || s.kind == SymbolKind::Class),
    };
    best.or(all.first().copied()).map(|s| (file, s))
}

/// The index for the registry of the project at `root`.
pub fn export(registry: &Registry, root: &Path) -> (t::Index, ExportSummary) {
    let package = package(root);
    let sdk_package = sdk_package(root);
    let mut summary = ExportSummary::default();
    let mut documents: BTreeMap<String, t::Document> = BTreeMap::new();
    let mut infos: HashMap<String, (String, usize)> = HashMap::new();
    for file in registry.files().filter(|f| f.not_parsed.is_none()) {
        let language = match file.lang {
            FileLang::Prisma => "prisma",
            _ => "TypeScript",
        };
        let mut doc = t::Document {
            language: language.into(),
            relative_path: file.path.clone(),
            position_encoding: EnumOrUnknown::new(t::PositionEncoding::UTF8CodeUnitOffsetFromLineStart),
            ..Default::default()
        };
        // The file itself, as a module (defined at its start, as scip-typescript does).
        let module = scip::symbol::format_symbol(t::Symbol {
            scheme: "maintaind".into(),
            package: MessageField::some(package.clone()),
            descriptors: vec![descriptor(&file.path, Suffix::Namespace)],
            ..Default::default()
        });
        doc.occurrences.push(t::Occurrence { range: vec![0, 0, 0], symbol: module.clone(), symbol_roles: t::SymbolRole::Definition as i32, ..Default::default() });
        let mut module_info = t::SymbolInformation { symbol: module.clone(), kind: EnumOrUnknown::new(Kind::Module), display_name: file.path.clone(), ..Default::default() };
        if let Some(name) = sdk_package.as_ref().and_then(|p| published(p, &file.path, &module)) {
            module_info.relationships.push(t::Relationship { symbol: name, is_reference: true, is_definition: true, ..Default::default() });
            summary.published += 1;
        }
        doc.symbols.push(module_info);
        for s in file.symbols.iter().filter(|s| defined(s)) {
            let symbol = symbol_of(&package, file, s);
            doc.occurrences.push(t::Occurrence {
                range: range(s.name_span.start, s.name_span.end),
                symbol: symbol.clone(),
                symbol_roles: t::SymbolRole::Definition as i32,
                enclosing_range: range(s.span.start, s.span.end),
                ..Default::default()
            });
            let mut info = t::SymbolInformation {
                symbol: symbol.clone(),
                kind: EnumOrUnknown::new(kind(s.kind)),
                display_name: segments(s).last().copied().unwrap_or_default().into(),
                documentation: s.doc_full.iter().chain(s.doc.iter()).take(1).cloned().collect(),
                ..Default::default()
            };
            if !s.signature.is_empty() {
                info.signature_documentation = MessageField::some(t::Signature { language: language.into(), text: s.signature.clone(), ..Default::default() });
            }
            if let Some(name) = sdk_package.as_ref().and_then(|p| published(p, &file.path, &symbol)) {
                info.relationships.push(t::Relationship { symbol: name, is_reference: true, is_definition: true, ..Default::default() });
                summary.published += 1;
            }
            summary.definitions += 1;
            if infos.insert(symbol.clone(), (file.path.clone(), doc.symbols.len())).is_none() {
                doc.symbols.push(info);
            }
        }
        let definitions: std::collections::HashSet<(u32, u32)> = file.symbols.iter().filter(|s| defined(s)).map(|s| (s.name_span.start.line, s.name_span.start.col)).collect();
        // In document order, so a member right after a resolved name (`IBbsArticle.ICreate`)
        // is looked up under that name in the same file.
        let mut refs: Vec<(&str, &maintaind_registry::Ref)> = file.references.iter().collect();
        refs.sort_by_key(|(_, r)| (r.pos.line, r.pos.col));
        let mut previous: Option<(maintaind_registry::Pos, &FileIndex, &Symbol)> = None;
        for (name, r) in refs {
            let end = maintaind_registry::Pos { line: r.pos.line, col: r.pos.col + name.len() as u32 };
            let member = previous.filter(|(prev_end, _, _)| prev_end.line == r.pos.line && prev_end.col + 1 == r.pos.col).and_then(|(_, f, owner)| member_of(f, owner, name, r.kind));
            let found = match member {
                Some(m) => {
                    // A member declared in a namespace is reached through the namespace, whatever
                    // kind of use the qualifier is (`IBbsArticle` in `x: IBbsArticle.ICreate`).
                    if let (Some((_, f, owner)), Some(last)) = (previous, doc.occurrences.last_mut())
                        && owner.kind != SymbolKind::Namespace
                        && let Some(ns) =
                            f.symbols.iter().find(|s| s.kind == SymbolKind::Namespace && s.name == owner.name && s.span.start_byte <= m.1.span.start_byte && m.1.span.end_byte <= s.span.end_byte)
                    {
                        last.symbol = symbol_of(&package, f, ns);
                    }
                    Some(m)
                }
                None if r.kind == RefKind::Property || definitions.contains(&(r.pos.line, r.pos.col)) => None,
                None => resolve(registry, file, name, r.kind),
            };
            previous = found.map(|(f, s)| (end, f, s));
            let Some((target_file, target)) = found else { continue };
            doc.occurrences.push(t::Occurrence { range: range(r.pos, end), symbol: symbol_of(&package, target_file, target), ..Default::default() });
            summary.references += 1;
        }
        documents.insert(file.path.clone(), doc);
    }

    // The route join: controller method and provider implement the SDK function.
    let sdk = crate::blast::sdk_index(registry.files());
    for file in registry.files().filter(|f| f.path.contains("controllers/")) {
        for method in file.symbols.iter().filter(|s| s.kind == SymbolKind::Method) {
            let Some(route) = crate::blast::route_of(file, method) else { continue };
            let Some((sdk_file, sdk_name)) = sdk.get(&route) else { continue };
            let Some(sdk_fn) = registry.file(sdk_file).and_then(|f| f.symbols.iter().find(|s| s.kind == SymbolKind::Function && &s.name == sdk_name).map(|s| (f, s))) else { continue };
            let sdk_symbol = symbol_of(&package, sdk_fn.0, sdk_fn.1);
            let published_fn = sdk_package.as_ref().and_then(|p| published(p, &sdk_fn.0.path, &sdk_symbol));
            let mut implementers = vec![(file, method)];
            // The provider: a function the method's body calls, imported from another file.
            for (name, r) in file.references.iter().filter(|(_, r)| r.kind == RefKind::Value && r.pos >= method.span.start && r.pos < method.span.end) {
                if let Some((pf, ps)) = resolve(registry, file, name, r.kind).filter(|(pf, ps)| pf.path != file.path && ps.kind == SymbolKind::Function && pf.path.contains("providers/"))
                    && !implementers.iter().any(|(f, s)| f.path == pf.path && s.name == ps.name)
                {
                    implementers.push((pf, ps));
                }
            }
            for (f, s) in implementers {
                let symbol = symbol_of(&package, f, s);
                let Some((path, i)) = infos.get(&symbol) else { continue };
                let info = &mut documents.get_mut(path).expect("a document per file").symbols[*i];
                if !info.relationships.iter().any(|r| r.symbol == sdk_symbol) {
                    info.relationships.push(t::Relationship { symbol: sdk_symbol.clone(), is_implementation: true, ..Default::default() });
                    summary.relationships += 1;
                    if let Some(name) = &published_fn {
                        info.relationships.push(t::Relationship { symbol: name.clone(), is_implementation: true, ..Default::default() });
                    }
                }
            }
        }
    }

    summary.documents = documents.len();
    let index = t::Index {
        metadata: MessageField::some(t::Metadata {
            version: EnumOrUnknown::new(t::ProtocolVersion::UnspecifiedProtocolVersion),
            tool_info: MessageField::some(t::ToolInfo { name: "maintaind".into(), version: env!("CARGO_PKG_VERSION").into(), ..Default::default() }),
            project_root: {
                let mut uri = maintaind_lsp_bridge::uri::path_to_uri(root);
                if !uri.ends_with('/') {
                    uri.push('/');
                }
                uri
            },
            text_document_encoding: EnumOrUnknown::new(t::TextEncoding::UTF8),
            ..Default::default()
        }),
        documents: documents.into_values().collect(),
        ..Default::default()
    };
    (index, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_follow_scip_grammar_and_round_trip() {
        let package = t::Package { manager: "npm".into(), name: "@org/bbs-backend".into(), version: "1.0.0".into(), ..Default::default() };
        let file = maintaind_registry::index_file(
            "src/api/structures/IBbsArticle.ts",
            b"export type IBbsArticle = { id: string };\nexport namespace IBbsArticle {\n  export type ICreate = { title: string };\n}\n",
        )
        .unwrap();
        let create = file.symbols.iter().find(|s| s.name == "IBbsArticle.ICreate").unwrap();
        let symbol = symbol_of(&package, &file, create);
        assert_eq!(symbol, "maintaind npm @org/bbs-backend 1.0.0 `src/api/structures/IBbsArticle.ts`/IBbsArticle/ICreate#");
        let parsed = scip::symbol::parse_symbol(&symbol).unwrap();
        assert_eq!(scip::symbol::format_symbol(parsed), symbol);
        // As scip-typescript 0.4.0 names it in a frontend that imports the built SDK package.
        let sdk = t::Package { manager: "npm".into(), name: "@ORGANIZATION/PROJECT-api".into(), version: "0.1.0".into(), ..Default::default() };
        let create = "maintaind npm @ORGANIZATION/PROJECT 0.1.0 `src/api/functional/bbs/member/articles/index.ts`/create().";
        assert_eq!(
            published(&sdk, "src/api/functional/bbs/member/articles/index.ts", create).unwrap(),
            "scip-typescript npm @ORGANIZATION/PROJECT-api 0.1.0 lib/functional/bbs/member/articles/`index.d.ts`/create()."
        );
        assert_eq!(published(&sdk, "src/providers/x.ts", create), None);
        let tags = maintaind_registry::index_file("typia.d.ts", b"export declare namespace tags {\n  type TagBase<K> = {\n    \"typia.tag\"?: K;\n  };\n}\n").unwrap();
        let tag = tags.symbols.iter().find(|s| s.kind == SymbolKind::Property).unwrap();
        assert_eq!(segments(tag), ["tags", "TagBase", "typia.tag"]);
        assert!(symbol_of(&package, &tags, tag).ends_with("`typia.d.ts`/tags/TagBase#`typia.tag`."));
    }
}

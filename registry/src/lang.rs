//! Which files the registry reads and with which grammar. One [`LanguageConfig`] per grammar;
//! parsers are kept one per thread (a tree-sitter `Parser` is not `Sync`, and creating one per
//! file would cost more than parsing a small file).

use std::cell::RefCell;

use tree_sitter::{Language, Parser, Tree};

use crate::model::{FileLang, RefKind};

/// Per-grammar configuration. Each field says why it exists.
pub struct LanguageConfig {
    /// The tree-sitter grammar. TSX is a different grammar from TypeScript (angle-bracket
    /// casts are JSX there), so a `.tsx` file must never be parsed with the `.ts` grammar.
    pub language: Language,
    /// Index into the thread-local parser table, so each thread keeps one parser per grammar
    /// and never pays `set_language` on the hot path.
    slot: usize,
    /// Node kind ids of the tokens the reference index records. The reference pass visits
    /// every node of every file, so it compares ids, not kind strings. (Running the same
    /// selection as a tree-sitter query was measured at 2.5× the cost of this cursor loop.)
    pub ref_kinds: RefKindIds,
    /// Field ids, looked up once: `child_by_field_name` scans the grammar's field names on
    /// every call, and extraction asks for fields on every declaration.
    pub fields: FieldIds,
}

/// Grammar-specific ids of identifier-like node kinds (they differ between TS and TSX).
pub struct RefKindIds {
    pub identifier: u16,
    pub type_identifier: u16,
    pub property_identifier: u16,
    pub shorthand_property_identifier: u16,
    pub shorthand_property_identifier_pattern: u16,
}

impl RefKindIds {
    fn of(language: &Language) -> RefKindIds {
        let id = |name: &str| {
            let id = language.id_for_node_kind(name, true);
            assert_ne!(id, 0, "grammar has no named node `{name}`");
            id
        };
        RefKindIds {
            identifier: id("identifier"),
            type_identifier: id("type_identifier"),
            property_identifier: id("property_identifier"),
            shorthand_property_identifier: id("shorthand_property_identifier"),
            shorthand_property_identifier_pattern: id("shorthand_property_identifier_pattern"),
        }
    }

    /// The reference kind of a node kind id, if it is one the index records.
    pub fn classify(&self, id: u16) -> Option<RefKind> {
        if id == self.identifier {
            Some(RefKind::Value)
        } else if id == self.type_identifier {
            Some(RefKind::Type)
        } else if id == self.property_identifier || id == self.shorthand_property_identifier || id == self.shorthand_property_identifier_pattern {
            Some(RefKind::Property)
        } else {
            None
        }
    }
}

/// Grammar field ids the extractor uses (they can differ between TS and TSX).
pub struct FieldIds {
    pub alias: u16,
    pub arguments: u16,
    pub body: u16,
    pub declaration: u16,
    pub function: u16,
    pub name: u16,
    pub parameter: u16,
    pub parameters: u16,
    pub return_type: u16,
    pub source: u16,
    pub type_: u16,
    pub type_parameters: u16,
    pub value: u16,
}

impl FieldIds {
    fn of(language: &Language) -> FieldIds {
        let id = |name: &str| language.field_id_for_name(name).unwrap_or_else(|| panic!("grammar has no field `{name}`")).get();
        FieldIds {
            alias: id("alias"),
            arguments: id("arguments"),
            body: id("body"),
            declaration: id("declaration"),
            function: id("function"),
            name: id("name"),
            parameter: id("parameter"),
            parameters: id("parameters"),
            return_type: id("return_type"),
            source: id("source"),
            type_: id("type"),
            type_parameters: id("type_parameters"),
            value: id("value"),
        }
    }
}

impl LanguageConfig {
    fn new(language: Language, slot: usize) -> LanguageConfig {
        let ref_kinds = RefKindIds::of(&language);
        let fields = FieldIds::of(&language);
        LanguageConfig { language, slot, ref_kinds, fields }
    }
}

fn typescript() -> &'static LanguageConfig {
    static CONFIG: std::sync::OnceLock<LanguageConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| LanguageConfig::new(tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(), 0))
}

fn tsx() -> &'static LanguageConfig {
    static CONFIG: std::sync::OnceLock<LanguageConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| LanguageConfig::new(tree_sitter_typescript::LANGUAGE_TSX.into(), 1))
}

/// The grammar for a TypeScript-family file, `None` for Prisma.
pub fn config_for(lang: FileLang) -> Option<&'static LanguageConfig> {
    match lang {
        FileLang::TypeScript | FileLang::Declaration => Some(typescript()),
        FileLang::Tsx => Some(tsx()),
        FileLang::Prisma => None,
    }
}

/// Classify a path by its name: `.ts/.mts/.cts` (with `.d.*` as declarations), `.tsx`, and
/// `.prisma`. Everything else is not the registry's business.
/// Whether the language server reads `path`: TypeScript of any flavour, not Prisma.
pub fn is_typescript(path: &str) -> bool {
    matches!(classify(path), Some(lang) if lang != FileLang::Prisma)
}

pub fn classify(path: &str) -> Option<FileLang> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.ends_with(".prisma") {
        return Some(FileLang::Prisma);
    }
    if name.ends_with(".tsx") {
        return Some(FileLang::Tsx);
    }
    for ext in [".ts", ".mts", ".cts"] {
        if let Some(stem) = name.strip_suffix(ext) {
            if stem.is_empty() {
                return None;
            }
            return Some(if stem.ends_with(".d") { FileLang::Declaration } else { FileLang::TypeScript });
        }
    }
    None
}

/// Whether a file name is a tsconfig the resolver reads (`tsconfig.json`, `tsconfig.*.json`).
pub fn is_tsconfig(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("tsconfig") && name.ends_with(".json")
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 2]> = const { RefCell::new([None, None]) };
}

/// Parse `text` with this thread's parser for `config`. `old` is a previous tree of the same
/// file that has already been `edit`ed to match `text`; tree-sitter reuses its unchanged parts.
pub fn parse(config: &LanguageConfig, text: &[u8], old: Option<&Tree>) -> Tree {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = parsers[config.slot].get_or_insert_with(|| {
            let mut p = Parser::new();
            p.set_language(&config.language).expect("bundled grammar matches the tree-sitter ABI");
            p
        });
        // `parse` only returns None when cancelled or without a language; neither can happen.
        parser.parse(text, old).expect("parser has a language and no cancellation")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_extension() {
        assert_eq!(classify("src/a.ts"), Some(FileLang::TypeScript));
        assert_eq!(classify("src/a.d.ts"), Some(FileLang::Declaration));
        assert_eq!(classify("a.d.mts"), Some(FileLang::Declaration));
        assert_eq!(classify("src/a.tsx"), Some(FileLang::Tsx));
        assert_eq!(classify("x.mts"), Some(FileLang::TypeScript));
        assert_eq!(classify("prisma/schema/schema-01.prisma"), Some(FileLang::Prisma));
        assert_eq!(classify("src/a.js"), None);
        assert_eq!(classify(".ts"), None);
        assert!(is_tsconfig("test/tsconfig.json"));
        assert!(is_tsconfig("tsconfig.build.json"));
        assert!(!is_tsconfig("package.json"));
    }

    #[test]
    fn every_grammar_has_the_kinds_and_fields_extraction_uses() {
        // Building a config looks up every node kind and field the extractor needs (and
        // panics if one is missing); tags.scm is compiled by `walk_finds_every_tags_definition`.
        for lang in [FileLang::TypeScript, FileLang::Tsx] {
            let config = config_for(lang).unwrap();
            assert_eq!(config.ref_kinds.classify(config.ref_kinds.identifier), Some(RefKind::Value));
        }
    }
}

//! Which files the registry reads and with which grammar. One [`LanguageConfig`] per grammar;
//! parsers are kept one per thread (a tree-sitter `Parser` is not `Sync`, and creating one per
//! file would cost more than parsing a small file).

use std::cell::RefCell;

use tree_sitter::{Language, Parser, Tree};

use crate::model::FileLang;

/// Per-grammar configuration. Each field says why it exists.
pub struct LanguageConfig {
    /// The tree-sitter grammar. TSX is a different grammar from TypeScript (angle-bracket
    /// casts are JSX there), so a `.tsx` file must never be parsed with the `.ts` grammar.
    pub language: Language,
    /// Index into the thread-local parser table, so each thread keeps one parser per grammar
    /// and never pays `set_language` on the hot path.
    slot: usize,
}

fn typescript() -> &'static LanguageConfig {
    static CONFIG: std::sync::OnceLock<LanguageConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| LanguageConfig {
        language: tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        slot: 0,
    })
}

fn tsx() -> &'static LanguageConfig {
    static CONFIG: std::sync::OnceLock<LanguageConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| LanguageConfig { language: tree_sitter_typescript::LANGUAGE_TSX.into(), slot: 1 })
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
}

//! Entity links: which Prisma model a DTO family stands for, read from the code.
//!
//! Generated backends write no machine-readable link between a table and its DTOs (the DTO's
//! doc comment names the table in prose, if at all). Two things do link them, and both are
//! used here:
//! - **naming**: `shopping_mall_products` ↔ `IShoppingMallProduct` (the table's last word
//!   singular, PascalCase, `I` in front; the backend-wide prefix is part of both names);
//! - **type flow**: a provider that calls the model's delegate (`prisma.<model>.…`) and
//!   returns the DTO (`Promise<IX>`, `Promise<IPageIX.ISummary>`) turns rows into that DTO.
//!
//! A DTO family no model's name matches is linked to the model its providers read most; a
//! model no DTO's name matches, to the DTO its providers return most. The planner uses the
//! links to turn "products" into the model and its DTOs, the blast radius to reach DTO
//! properties from a column, and the synthesizer to widen a plan to both sides.
//!
//! Also here: the backend's model prefix and the words → model lookup the planner uses
//! ("content reports" → `discussion_board_content_reports`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heck::ToUpperCamelCase;
use maintaind_registry::{FileLang, PrismaModels, RefKind, Registry, SymbolKind};

/// A DTO family: the root type (`IShoppingMallProduct`) and its file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dto {
    pub name: String,
    pub file: String,
    /// Only `export namespace IX { … }` (variants, no `IX` type of its own); some generated
    /// families have no root type.
    pub namespace_only: bool,
}

/// Why a model and a DTO are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkKind {
    Naming,
    /// Providers reading the model return the DTO (how many providers).
    TypeFlow(usize),
}

#[derive(Debug, Default)]
pub struct EntityLinks {
    pub models: PrismaModels,
    /// The prefix most model names share (`shopping_mall_`), or empty.
    pub prefix: String,
    /// model → linked DTO families.
    dtos: BTreeMap<String, Vec<(Dto, LinkKind)>>,
    /// DTO family root name → linked models.
    models_of: BTreeMap<String, Vec<String>>,
    /// Every DTO family root in `src/api/structures` (and wherever `I*` types with namespace
    /// variants live), by name.
    families: BTreeMap<String, Dto>,
}

/// Candidate singulars of a word: the English rule (`categories` → `category`), and plain
/// `s` stripping for the words that rule keeps (`skus` stays `skus` for it).
pub fn singulars(word: &str) -> Vec<String> {
    let mut out = vec![pluralizer::pluralize(word, 1, false)];
    if let Some(stem) = word.strip_suffix('s')
        && !out.iter().any(|s| s == stem)
    {
        out.push(stem.to_string());
    }
    if !out.iter().any(|s| s == word) {
        out.push(word.to_string());
    }
    out
}

/// Candidate plurals of a word (`category` → `categories`, and `word` itself for names that
/// are already plural or uncountable).
pub fn plurals(word: &str) -> Vec<String> {
    let mut out = vec![pluralizer::pluralize(word, 2, false)];
    for extra in [format!("{word}s"), word.to_string()] {
        if !out.contains(&extra) {
            out.push(extra);
        }
    }
    out
}

/// `IShoppingMallProduct` for `shopping_mall_products` (each candidate singular); then the
/// same with the backend prefix doubled (`IDiscussionBoardDiscussionBoardPost` for
/// `discussion_board_posts`: some generator runs name DTOs so).
pub fn dto_names_for(model: &str, prefix: &str) -> Vec<String> {
    let (head, last) = match model.rsplit_once('_') {
        Some((h, l)) => (format!("{h}_"), l),
        None => (String::new(), model),
    };
    let plain: Vec<String> = singulars(last).into_iter().map(|s| format!("I{}", format!("{head}{s}").to_upper_camel_case())).collect();
    let doubled: Vec<String> = if prefix.is_empty() { Vec::new() } else { plain.iter().map(|p| format!("I{}{}", prefix.to_upper_camel_case(), &p[1..])).collect() };
    plain.into_iter().chain(doubled).collect()
}

impl EntityLinks {
    pub fn build(registry: &Registry) -> EntityLinks {
        let models = PrismaModels::from_files(registry.files());
        let prefix = common_prefix(models.models());
        // DTO families: exported types/interfaces named `I…` in non-declaration files whose
        // name is not a page wrapper.
        let mut families: BTreeMap<String, Dto> = BTreeMap::new();
        for f in registry.files().filter(|f| f.lang != FileLang::Declaration && f.lang != FileLang::Prisma && f.path.contains("structures/")) {
            for s in f.symbols.iter().filter(|s| !s.name.contains('.') && matches!(s.kind, SymbolKind::Type | SymbolKind::Interface | SymbolKind::Namespace)) {
                if s.name.starts_with('I') && !s.name.starts_with("IPage") {
                    let typed = matches!(s.kind, SymbolKind::Type | SymbolKind::Interface);
                    let entry = families.entry(s.name.clone()).or_insert(Dto { name: s.name.clone(), file: f.path.clone(), namespace_only: !typed });
                    entry.namespace_only &= !typed;
                }
            }
        }
        let folded: HashMap<String, &Dto> = families.values().map(|d| (fold(&d.name), d)).collect();
        let mut dtos: BTreeMap<String, Vec<(Dto, LinkKind)>> = BTreeMap::new();
        for m in models.models() {
            if let Some(d) = dto_names_for(m, &prefix).iter().find_map(|n| folded.get(&fold(n))) {
                dtos.entry(m.to_string()).or_default().push(((*d).clone(), LinkKind::Naming));
            }
        }
        // Type flow: (model, dto) → providers reading the model and returning the DTO.
        let mut flow: BTreeMap<(String, String), usize> = BTreeMap::new();
        for f in registry.files().filter(|f| f.lang != FileLang::Declaration && f.lang != FileLang::Prisma && f.path.contains("providers/")) {
            let read: BTreeSet<&str> = f.references.iter().filter(|(n, r)| r.kind == RefKind::Property && models.is_model(n)).map(|(n, _)| n).collect();
            if read.is_empty() {
                continue;
            }
            for s in f.symbols.iter().filter(|s| s.kind == SymbolKind::Function && s.exported) {
                let Some(ret) = s.signature.rsplit_once("):").map(|(_, r)| r) else { continue };
                for dto in returned_families(ret, &families) {
                    for m in &read {
                        *flow.entry((m.to_string(), dto.clone())).or_default() += 1;
                    }
                }
            }
        }
        let named_dtos: BTreeSet<String> = dtos.values().flatten().map(|(d, _)| d.name.clone()).collect();
        let mut by_dto: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
        let mut by_model: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
        for ((m, d), n) in &flow {
            by_dto.entry(d).or_default().push((m, *n));
            by_model.entry(m).or_default().push((d, *n));
        }
        let mut extra: Vec<(String, String, usize)> = Vec::new();
        for (d, ms) in &by_dto {
            if named_dtos.contains(*d) {
                continue;
            }
            let best = ms.iter().map(|(_, n)| *n).max().unwrap_or(0);
            extra.extend(ms.iter().filter(|(_, n)| *n == best).map(|(m, n)| (m.to_string(), d.to_string(), *n)));
        }
        for (m, ds) in &by_model {
            if dtos.contains_key(*m) {
                continue;
            }
            let best = ds.iter().map(|(_, n)| *n).max().unwrap_or(0);
            extra.extend(ds.iter().filter(|(_, n)| *n == best).map(|(d, n)| (m.to_string(), d.to_string(), *n)));
        }
        for (m, d, n) in extra {
            let entry = dtos.entry(m).or_default();
            if !entry.iter().any(|(x, _)| x.name == d) {
                entry.push((families[&d].clone(), LinkKind::TypeFlow(n)));
            }
        }
        let mut models_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (m, ds) in &dtos {
            for (d, _) in ds {
                models_of.entry(d.name.clone()).or_default().push(m.clone());
            }
        }
        EntityLinks { models, prefix, dtos, models_of, families }
    }

    /// The DTO families linked to a model (naming first).
    pub fn dtos_of(&self, model: &str) -> &[(Dto, LinkKind)] {
        self.dtos.get(model).map(Vec::as_slice).unwrap_or_default()
    }

    /// The models linked to a DTO family root (`IShoppingMallProduct`; a variant such as
    /// `IShoppingMallProduct.ICreate` is looked up by its root).
    pub fn models_of(&self, dto: &str) -> &[String] {
        let root = dto.split('.').next().unwrap_or(dto);
        self.models_of.get(root).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn family(&self, name: &str) -> Option<&Dto> {
        self.families.get(name)
    }

    pub fn families(&self) -> impl Iterator<Item = &Dto> {
        self.families.values()
    }

    /// The models everyday words name: `["products"]`, `["content", "reports"]`,
    /// `["shopping_mall_products"]`, with or without the backend's prefix, singular or plural.
    /// Exact names first; then a model whose name after the prefix is the words; then one
    /// that ends with them (`reports` → `content_reports` when no `reports` model exists).
    pub fn models_named(&self, words: &[&str]) -> Vec<String> {
        if words.is_empty() {
            return Vec::new();
        }
        let joined = words.join("_").to_lowercase();
        let (head, last) = match joined.rsplit_once('_') {
            Some((h, l)) => (format!("{h}_"), l.to_string()),
            None => (String::new(), joined.clone()),
        };
        let forms: BTreeSet<String> = plurals(&last).into_iter().chain(singulars(&last)).map(|l| format!("{head}{l}")).collect();
        let models: Vec<&str> = self.models.models().collect();
        // Underscores folded away too: "registered users" is `…_registereduser`.
        let folded: BTreeSet<String> = forms.iter().flat_map(|f| [fold(f), fold(&format!("{}{f}", self.prefix))]).collect();
        let exact: Vec<String> =
            models.iter().filter(|m| forms.contains(**m) || forms.iter().any(|f| format!("{}{f}", self.prefix) == **m) || folded.contains(&fold(m))).map(|m| m.to_string()).collect();
        if !exact.is_empty() {
            return sorted(exact);
        }
        let suffix: Vec<String> = models.iter().filter(|m| forms.iter().any(|f| m.ends_with(&format!("_{f}")))).map(|m| m.to_string()).collect();
        sorted(suffix)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    v
}

/// Lower case without underscores: naming compares `IShoppingmallProduct` and
/// `IShoppingMallProduct` alike (generators are not consistent about inner capitals).
fn fold(name: &str) -> String {
    name.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
}

/// DTO family roots a return type mentions: `Promise<IPageIX.ISummary>` → `IX`.
fn returned_families(ret: &str, families: &BTreeMap<String, Dto>) -> Vec<String> {
    let mut out = Vec::new();
    for word in ret.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
        let root = word.split('.').next().unwrap_or(word);
        let root = root.strip_prefix("IPage").filter(|r| r.starts_with('I')).unwrap_or(root);
        if families.contains_key(root) && !out.iter().any(|x| x == root) {
            out.push(root.to_string());
        }
    }
    out
}

/// The underscore-separated prefix shared by most model names: each segment is kept while at
/// least 90% of the models (and at least half of them overall) start with it and keep a name
/// after it.
pub fn common_prefix<'a>(models: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = models.collect();
    if names.len() < 2 {
        return String::new();
    }
    let mut prefix = String::new();
    loop {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for n in &names {
            if let Some(rest) = n.strip_prefix(prefix.as_str())
                && let Some((seg, tail)) = rest.split_once('_')
                && !tail.is_empty()
            {
                *counts.entry(seg).or_default() += 1;
            }
        }
        let Some((seg, n)) = counts.into_iter().max_by_key(|(s, n)| (*n, std::cmp::Reverse(*s))) else { break };
        let with_prefix = names.iter().filter(|m| m.starts_with(prefix.as_str())).count();
        if n * 10 < with_prefix * 9 || n * 2 < names.len() {
            break;
        }
        prefix = format!("{prefix}{seg}_");
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflection_keeps_both_candidates() {
        assert_eq!(singulars("categories")[0], "category");
        assert!(singulars("skus").contains(&"sku".to_string()));
        assert!(singulars("statuses").contains(&"status".to_string()));
        assert!(plurals("history").contains(&"histories".to_string()));
        assert_eq!(dto_names_for("shopping_mall_categories", "shopping_mall_")[0], "IShoppingMallCategory");
        assert!(dto_names_for("shopping_mall_skus", "shopping_mall_").contains(&"IShoppingMallSku".to_string()));
        assert_eq!(dto_names_for("todo_list_karma_history", "")[0], "ITodoListKarmaHistory");
        assert!(dto_names_for("discussion_board_posts", "discussion_board_").contains(&"IDiscussionBoardDiscussionBoardPost".to_string()));
    }

    #[test]
    fn prefixes_are_the_shared_segments() {
        assert_eq!(common_prefix(["shopping_mall_products", "shopping_mall_skus", "shopping_mall_admins"].into_iter()), "shopping_mall_");
        assert_eq!(common_prefix(["todo_list_users", "todo_list_todos"].into_iter()), "todo_list_");
        assert_eq!(common_prefix(["users", "todos"].into_iter()), "");
        assert_eq!(common_prefix(["bbs_members", "bbs_articles", "bbs_article_comments"].into_iter()), "bbs_");
        // One odd model out of ten does not break the prefix.
        let many: Vec<String> = (0..9).map(|i| format!("econ_forum_t{i}s")).chain(["sessions".to_string()]).collect();
        assert_eq!(common_prefix(many.iter().map(String::as_str)), "econ_forum_");
    }
}

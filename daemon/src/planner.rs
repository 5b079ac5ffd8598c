//! The offline planner: a change request in plain words → [`Decisions`], deterministically and
//! without a network. It decides *what* changes (targets, kinds, new names, criteria,
//! exclusions); every fact about the code is left to the synthesizer.
//!
//! Everyday words reach symbols through the registry: exact identifiers first; then entity
//! words ("the article model", "article comments") singularised and matched to Prisma models,
//! and from a model to its DTO through the "Maps to <model>.<column>" JSDoc the generator
//! writes. A target it cannot resolve is an error with the closest symbols — never a guess.

use maintaind_registry::{MatchTier, Registry, SymbolKind};

use crate::blast::ChangeKind;
use crate::manifest::{Category, DecidedChange, Decisions, NewSymbol, NewSymbolKind, excluded_by};

/// Why a request could not be planned (exit 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", if .closest.is_empty() { String::new() } else { format!("; closest symbols: {}", .closest.join(", ")) })]
pub struct PlanError {
    pub message: String,
    pub closest: Vec<String>,
}

fn err(message: impl Into<String>, closest: Vec<String>) -> PlanError {
    PlanError { message: message.into(), closest }
}

/// Exclusion phrases → categories. Matched on the lower-cased request with `'` normalised.
const EXCLUSIONS: &[(&str, Category)] = &[
    ("don't touch the database", Category::Persistence),
    ("do not touch the database", Category::Persistence),
    ("leave the database alone", Category::Persistence),
    ("without touching the database", Category::Persistence),
    ("no database changes", Category::Persistence),
    ("no db changes", Category::Persistence),
    ("don't change the schema", Category::Persistence),
    ("do not change the schema", Category::Persistence),
    ("no schema changes", Category::Persistence),
    ("no migrations", Category::Persistence),
    ("no prisma changes", Category::Persistence),
    ("no api changes", Category::Api),
    ("don't change the api", Category::Api),
    ("do not change the api", Category::Api),
    ("don't touch the api", Category::Api),
    ("leave the api alone", Category::Api),
    ("keep the api stable", Category::Api),
    ("without changing the api", Category::Api),
    ("leave the tests alone", Category::Tests),
    ("don't touch the tests", Category::Tests),
    ("do not touch the tests", Category::Tests),
    ("don't change the tests", Category::Tests),
    ("without touching the tests", Category::Tests),
    ("no test changes", Category::Tests),
    ("no config changes", Category::Config),
    ("no configuration changes", Category::Config),
    ("don't touch the config", Category::Config),
    ("do not touch the config", Category::Config),
    ("leave the config alone", Category::Config),
    ("no build changes", Category::Build),
    ("don't touch the build", Category::Build),
    ("no dependency changes", Category::Build),
    ("don't add dependencies", Category::Build),
];

/// Words that carry no target meaning inside a phrase naming a thing.
const FILLER: &[&str] = &[
    "the", "a", "an", "to", "of", "in", "on", "for", "from", "model", "models", "table", "tables", "dto", "dtos", "type", "types", "entity", "entities",
    "record", "records", "schema", "field", "fields", "column", "columns", "property", "properties", "new", "nullable", "optional", "required",
    "function", "provider", "parameter", "param", "argument", "and", "its", "it", "so", "that", "which", "with", "called", "named",
];

/// Plan a request with the embedded deterministic planner.
pub fn plan_offline(request: &str, registry: &Registry) -> Result<Decisions, PlanError> {
    let request = request.trim();
    if request.is_empty() {
        return Err(err("empty request: say what should change, e.g. `add view_count to the article model`", vec![]));
    }
    let (text, excluded) = strip_exclusions(request);
    let words = tokens(&text);
    if words.is_empty() {
        return Err(err(format!("`{request}` says only what not to touch; say what should change"), vec![]));
    }
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let has = |w: &str| lower.iter().any(|x| x == w);
    let pos = |w: &str| lower.iter().position(|x| x == w);
    let after = |i: usize| words[i + 1..].to_vec();

    let mut d = if let Some(i) = pos("rename") {
        rename(registry, &words[i + 1..])?
    } else if has("validation") || has("validate") || has("validates") {
        validation(registry, &words, &lower)?
    } else if (has("parameter") || has("param") || has("argument")) && (has("add") || has("remove") || has("drop")) {
        parameter(registry, &words, &lower)?
    } else if has("returns") || has("return") {
        returns(registry, &words, &lower)?
    } else if let Some(i) = pos("add").filter(|_| lower.contains(&"to".to_string())) {
        add_fields(registry, &after(i))?
    } else if let Some(i) = ["remove", "delete", "drop"].iter().find_map(|w| pos(w)) {
        remove(registry, &after(i))?
    } else {
        behavior(registry, &words)?
    };
    // Honour the exclusions: a target that lives in an excluded category is not decided on
    // (the synthesizer's validator would refuse it).
    if !excluded.is_empty() {
        let before: Vec<String> = d.changes.iter().map(|c| c.symbol.clone()).collect();
        d.changes.retain(|c| symbol_file(registry, &c.symbol).is_none_or(|f| excluded_by(&f, &excluded).is_none()));
        if d.changes.is_empty() {
            let names: Vec<&str> = excluded.iter().map(|c| c.as_str()).collect();
            return Err(err(format!("every target of this request ({}) is in an excluded category ({})", before.join(", "), names.join(", ")), vec![]));
        }
        d.new_symbols.retain(|n| d.changes.iter().any(|c| c.symbol == n.near));
        d.acceptance_criteria.retain(|a| d.changes.iter().any(|c| a.contains(&format!("`{}`", c.symbol))));
    }
    d.excluded_categories = excluded;
    d.acceptance_criteria.push("every tsconfig project type-checks (tsc --noEmit)".into());
    d.acceptance_criteria.push("the e2e tests that exercise the changed symbols pass".into());
    Ok(d)
}

/// Remove exclusion phrases (and the "but"/"and" joining them) from the request.
fn strip_exclusions(request: &str) -> (String, Vec<Category>) {
    let mut text = request.replace(['’', '`'], "'").to_string();
    let mut found = Vec::new();
    for (phrase, category) in EXCLUSIONS {
        loop {
            let lower = text.to_lowercase();
            let Some(at) = lower.find(phrase) else { break };
            text.replace_range(at..at + phrase.len(), " ");
            if !found.contains(category) {
                found.push(*category);
            }
        }
    }
    found.sort();
    (text, found)
}

/// Words of the request; punctuation around them dropped, identifiers kept whole
/// (`IBbsArticle.ICreate`, `prisma:bbs_articles.title`, `src/x.ts#f`).
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '!' | '?' | '"' | '\'' | '(' | ')' | ':' | '`')))
        .filter(|w| !w.is_empty() && !matches!(w.to_lowercase().as_str(), "but" | "please" | "and" | "also"))
        .map(str::to_string)
        .collect()
}

/// The file declaring `symbol` (exact name, not a dependency's declaration).
pub fn symbol_file(registry: &Registry, symbol: &str) -> Option<String> {
    let name = symbol.rsplit('#').next().unwrap_or(symbol);
    registry
        .search(symbol, None)
        .into_iter()
        .find(|m| m.tier == MatchTier::Exact && (m.symbol.name == name) && m.file.lang != maintaind_registry::FileLang::Declaration)
        .map(|m| m.file.path.clone())
}

fn is_identifier(w: &str) -> bool {
    w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && w.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '#' | '/' | '$'))
}

/// A symbol named exactly by a word (`IBbsArticle.ICreate`, `getBbsArticlesArticleId`).
/// Declarations of dependencies (`.d.ts`, e.g. the generated Prisma client's row types) are
/// never planning targets.
fn exact_symbol(registry: &Registry, word: &str) -> Option<(String, SymbolKind)> {
    let hits = registry.search(word, None);
    let exact: Vec<_> = hits
        .iter()
        .filter(|m| m.tier == MatchTier::Exact && m.symbol.kind != SymbolKind::Reexport && m.file.lang != maintaind_registry::FileLang::Declaration)
        .collect();
    let first = exact.first()?;
    Some((first.symbol.name.clone(), first.symbol.kind))
}

/// An entity named in everyday words → its Prisma model and its main DTO type.
struct Entity {
    model: String,
    dto: Option<String>,
}

fn entity(registry: &Registry, words: &[String]) -> Option<Entity> {
    let meaningful: Vec<String> = words.iter().map(|w| w.to_lowercase()).filter(|w| !FILLER.contains(&w.as_str()) && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).collect();
    if meaningful.is_empty() {
        return None;
    }
    let stem: Vec<String> = meaningful.iter().map(|w| singular(w)).collect();
    let wanted = format!("{}s", stem.join("_"));
    let wanted_y = stem.last().filter(|l| l.ends_with('y')).map(|_| format!("{}ies", stem.join("_").trim_end_matches('y')));
    let models: Vec<String> = registry.files().flat_map(|f| f.symbols.iter()).filter(|s| s.kind == SymbolKind::Model).map(|s| s.name.clone()).collect();
    let model = models.iter().find(|m| {
        let bare = m.trim_start_matches("prisma:");
        let matches = |w: &str| bare == w || bare.ends_with(&format!("_{w}"));
        matches(&wanted) || wanted_y.as_deref().is_some_and(matches)
    })?;
    let table = model.trim_start_matches("prisma:");
    let needle = format!("Maps to {table}.");
    // The DTO whose properties map to the table's columns.
    let dto = registry
        .files()
        .flat_map(|f| f.symbols.iter())
        .filter(|s| s.kind == SymbolKind::Property && s.doc_full.as_deref().is_some_and(|d| d.contains(&needle)))
        .filter_map(|s| s.name.split('.').next().map(str::to_string))
        .next();
    Some(Entity { model: model.clone(), dto })
}

fn singular(w: &str) -> String {
    if let Some(stem) = w.strip_suffix("ies") {
        format!("{stem}y")
    } else if w.ends_with("ss") {
        w.to_string()
    } else {
        w.strip_suffix('s').unwrap_or(w).to_string()
    }
}

/// Resolve a phrase to symbols: an exact identifier in it, else an entity (model + DTO).
fn resolve_phrase(registry: &Registry, words: &[String]) -> Result<Vec<String>, PlanError> {
    for w in words.iter().filter(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str())) {
        if let Some((name, _)) = exact_symbol(registry, w) {
            return Ok(vec![name]);
        }
    }
    if let Some(e) = entity(registry, words) {
        let mut out = vec![e.model];
        out.extend(e.dto);
        return Ok(out);
    }
    let phrase = words.join(" ");
    let probe = words.iter().filter(|w| !FILLER.contains(&w.to_lowercase().as_str())).cloned().collect::<Vec<_>>().join("_");
    Err(err(format!("nothing in the project matches `{phrase}`"), registry.suggest(if probe.is_empty() { &phrase } else { &probe }, 5)))
}

fn change(symbol: &str, kind: ChangeKind, intent: impl Into<String>) -> DecidedChange {
    DecidedChange { symbol: symbol.to_string(), kind, intent: intent.into() }
}

fn decisions(summary: String, changes: Vec<DecidedChange>) -> Decisions {
    Decisions { summary, changes, new_symbols: Vec::new(), acceptance_criteria: Vec::new(), excluded_categories: Vec::new() }
}

/// "rename A to B", "rename A as B".
fn rename(registry: &Registry, rest: &[String]) -> Result<Decisions, PlanError> {
    let split = rest.iter().position(|w| matches!(w.to_lowercase().as_str(), "to" | "as" | "into"));
    let (from, to) = match split {
        Some(i) if i + 1 < rest.len() => (&rest[..i], rest[i + 1..].iter().find(|w| !FILLER.contains(&w.to_lowercase().as_str()))),
        _ => return Err(err("a rename needs `rename OLD to NEW`", vec![])),
    };
    let Some(to) = to else { return Err(err("a rename needs the new name after `to`", vec![])) };
    let targets = resolve_phrase(registry, from)?;
    let target = &targets[0];
    let short = target.rsplit(['.', ':']).next().unwrap_or(target);
    let mut d = decisions(format!("Rename `{target}` to `{to}`."), vec![change(target, ChangeKind::Rename, format!("rename to `{to}`"))]);
    let kind = match exact_symbol(registry, target).map(|(_, k)| k) {
        Some(SymbolKind::Function | SymbolKind::Method) => NewSymbolKind::Function,
        Some(SymbolKind::Property) => NewSymbolKind::Property,
        Some(SymbolKind::Field | SymbolKind::Model) => NewSymbolKind::Field,
        _ => NewSymbolKind::Type,
    };
    d.new_symbols.push(NewSymbol { name: to.clone(), kind, near: target.clone() });
    d.acceptance_criteria.push(format!("no reference to `{short}` remains; `{to}` is used where it was"));
    Ok(d)
}

/// "add email validation to IUser.ICreate", "validate the email in IBbsMember.ICreate".
fn validation(registry: &Registry, words: &[String], lower: &[String]) -> Result<Decisions, PlanError> {
    let format = ["email", "uuid", "url", "uri", "date-time", "date"].into_iter().find(|f| lower.iter().any(|w| w == f));
    let tag = match format {
        Some("url") => "tags.Format<\"uri\">".to_string(),
        Some(f) => format!("tags.Format<\"{f}\">"),
        None => "a typia validation tag".to_string(),
    };
    let targets = resolve_phrase(registry, words)?;
    let target = targets.iter().find(|t| !t.starts_with("prisma:")).unwrap_or(&targets[0]).clone();
    // A type named with a format that is also one of its properties: target the property.
    let target = match format {
        Some(f) if !target.ends_with(&format!(".{f}")) => {
            let prop = format!("{target}.{f}");
            if exact_symbol(registry, &prop).is_some() { prop } else { target }
        }
        _ => target,
    };
    let mut d = decisions(format!("Add {tag} validation to `{target}`."), vec![change(&target, ChangeKind::Shape, format!("add {tag} to the type"))]);
    d.acceptance_criteria.push(format!("`{target}` carries {tag}"));
    Ok(d)
}

/// "add a limit parameter to F", "remove the limit parameter from F".
fn parameter(registry: &Registry, words: &[String], lower: &[String]) -> Result<Decisions, PlanError> {
    let adding = lower.iter().any(|w| w == "add");
    let pi = lower.iter().position(|w| matches!(w.as_str(), "parameter" | "param" | "argument")).unwrap();
    // The parameter's name: the identifier right before or after the word `parameter`.
    let name = words[..pi]
        .iter()
        .rev()
        .chain(words[pi + 1..].iter())
        .find(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str()) && !matches!(w.to_lowercase().as_str(), "add" | "remove" | "drop") && exact_symbol(registry, w).is_none())
        .cloned();
    let fi = lower.iter().rposition(|w| matches!(w.as_str(), "to" | "from" | "of")).map(|i| i + 1).unwrap_or(0);
    let targets = resolve_phrase(registry, &words[fi..])?;
    let target = &targets[0];
    let Some(name) = name else { return Err(err("name the parameter, e.g. `add a limit parameter to getBbsArticles`", vec![])) };
    let verb = if adding { "add" } else { "remove" };
    let mut d = decisions(format!("{} parameter `{name}` {} `{target}`.", if adding { "Add" } else { "Remove" }, if adding { "to" } else { "from" }), vec![change(target, ChangeKind::Signature, format!("{verb} parameter `{name}`"))]);
    if adding {
        d.new_symbols.push(NewSymbol { name: name.clone(), kind: NewSymbolKind::Parameter, near: target.clone() });
    }
    d.acceptance_criteria.push(format!("every call of `{target}` {} `{name}`", if adding { "passes" } else { "no longer passes" }));
    Ok(d)
}

/// "change what F returns", "make F return X", "change the return type of F".
fn returns(registry: &Registry, words: &[String], _lower: &[String]) -> Result<Decisions, PlanError> {
    let function = words.iter().filter(|w| is_identifier(w)).find_map(|w| exact_symbol(registry, w).filter(|(_, k)| matches!(k, SymbolKind::Function | SymbolKind::Method)));
    let Some((target, _)) = function else {
        let probe = words.iter().filter(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str())).max_by_key(|w| w.len()).cloned().unwrap_or_default();
        return Err(err("name the function whose return changes", registry.suggest(&probe, 5)));
    };
    let mut d = decisions(format!("Change what `{target}` returns."), vec![change(&target, ChangeKind::Return, "change the return type")]);
    d.acceptance_criteria.push(format!("every consumer of `{target}`'s result compiles against the new return type"));
    Ok(d)
}

/// "add view_count to the article model", "add a subtitle and a summary to IBbsArticle".
fn add_fields(registry: &Registry, rest: &[String]) -> Result<Decisions, PlanError> {
    let to = rest.iter().rposition(|w| w.eq_ignore_ascii_case("to")).unwrap();
    let fields: Vec<String> = rest[..to].iter().filter(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str()) && !is_type_word(w)).cloned().collect();
    if fields.is_empty() {
        return Err(err("name the field(s) to add, e.g. `add view_count to the article model`", vec![]));
    }
    let targets = resolve_phrase(registry, &rest[to + 1..])?;
    let mut changes = Vec::new();
    let mut news = Vec::new();
    for t in &targets {
        let (kind, what) = if t.starts_with("prisma:") { (NewSymbolKind::Field, "column") } else { (NewSymbolKind::Property, "property") };
        changes.push(change(t, ChangeKind::Shape, format!("add {what} {}", fields.join(", "))));
        for f in &fields {
            news.push(NewSymbol { name: f.clone(), kind, near: t.clone() });
        }
    }
    let mut d = decisions(format!("Add {} to {}.", fields.join(", "), targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" and ")), changes);
    for t in &targets {
        for f in &fields {
            d.acceptance_criteria.push(format!("`{t}` has `{f}`"));
        }
    }
    d.new_symbols = news;
    Ok(d)
}

fn is_type_word(w: &str) -> bool {
    matches!(w.to_lowercase().as_str(), "string" | "int" | "integer" | "number" | "boolean" | "bool" | "date" | "datetime" | "uuid" | "text" | "counter" | "flag")
}

/// "remove X", "drop view_limit from the article model".
fn remove(registry: &Registry, rest: &[String]) -> Result<Decisions, PlanError> {
    let from = rest.iter().position(|w| w.eq_ignore_ascii_case("from"));
    let changes = match from {
        Some(i) => {
            // A field of an entity: the column and every DTO property of that name.
            let fields: Vec<String> = rest[..i].iter().filter(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str())).cloned().collect();
            let owners = resolve_phrase(registry, &rest[i + 1..])?;
            let mut out = Vec::new();
            for f in &fields {
                for o in &owners {
                    let candidate = format!("{o}.{f}");
                    if exact_symbol(registry, &candidate).is_some() {
                        out.push(change(&candidate, ChangeKind::Remove, format!("remove `{f}`")));
                    }
                }
            }
            if out.is_empty() {
                return Err(err(format!("`{}` has no {}", owners.join("`/`"), fields.join(", ")), registry.suggest(fields.first().map(String::as_str).unwrap_or(""), 5)));
            }
            out
        }
        None => resolve_phrase(registry, rest)?.into_iter().map(|t| change(&t, ChangeKind::Remove, "remove it")).collect(),
    };
    let names: Vec<String> = changes.iter().map(|c| format!("`{}`", c.symbol)).collect();
    let mut d = decisions(format!("Remove {}.", names.join(" and ")), changes);
    d.acceptance_criteria.push(format!("{} no longer exist and nothing references them", names.join(", ")));
    Ok(d)
}

/// Anything else that names symbols: a behaviour change of each.
fn behavior(registry: &Registry, words: &[String]) -> Result<Decisions, PlanError> {
    let mut targets: Vec<String> = Vec::new();
    for w in words.iter().filter(|w| is_identifier(w)) {
        if let Some((name, _)) = exact_symbol(registry, w)
            && !targets.contains(&name)
        {
            targets.push(name);
        }
    }
    if targets.is_empty() {
        let probe = words.iter().filter(|w| is_identifier(w) && !FILLER.contains(&w.to_lowercase().as_str())).max_by_key(|w| w.len()).cloned().unwrap_or_default();
        return Err(err(format!("`{}` names nothing in the project: name the symbols to change", words.join(" ")), registry.suggest(&probe, 5)));
    }
    let changes = targets.iter().map(|t| change(t, ChangeKind::Behavior, words.join(" "))).collect();
    Ok(decisions(format!("Change the behaviour of {}.", targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")), changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// The fixture's registry, built in memory (nothing written to the fixture).
    fn registry() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend");
            let walked = crate::walk::walk(&root);
            let mut reg = Registry::new();
            for f in &walked.sources {
                reg.insert(maintaind_registry::index_file(&f.rel, &std::fs::read(&f.abs).unwrap()).unwrap());
            }
            let configs: Vec<(String, String)> = walked.tsconfigs.iter().map(|f| (f.rel.clone(), std::fs::read_to_string(&f.abs).unwrap())).collect();
            reg.set_tsconfigs(&configs);
            reg
        })
    }

    /// (request, expected changes as `symbol:kind`, expected exclusions).
    const TABLE: &[(&str, &[&str], &[Category])] = &[
        ("add view_count to the article model", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
        ("Add view_count to the articles", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
        ("add a view_count field to bbs_articles", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
        ("add view_count and like_count to the article model", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
        ("add a nullable subtitle column to the article table", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
        ("add pinned to article comments", &["prisma:bbs_article_comments:shape", "IBbsArticleComment:shape"], &[]),
        ("add a color to the categories", &["prisma:bbs_categories:shape", "IBbsCategory:shape"], &[]),
        ("add avatar_url to members", &["prisma:bbs_members:shape", "IBbsMember:shape"], &[]),
        ("add severity to the report model, but don't touch the tests", &["prisma:bbs_reports:shape", "IBbsReport:shape"], &[Category::Tests]),
        ("add subtitle to IBbsArticle", &["IBbsArticle:shape"], &[]),
        ("add summary to IBbsArticle.ICreate", &["IBbsArticle.ICreate:shape"], &[]),
        ("add email validation to IBbsMember.ICreate", &["IBbsMember.ICreate.email:shape"], &[]),
        ("add uuid validation to IBbsArticle.ICreate", &["IBbsArticle.ICreate:shape"], &[]),
        ("validate the email in IBbsMember.IUpdate", &["IBbsMember.IUpdate:shape"], &[]),
        ("add url validation to IBbsMember.ICreate.introduction", &["IBbsMember.ICreate.introduction:shape"], &[]),
        ("rename IBbsArticle.ISummary to IBbsArticle.IBrief", &["IBbsArticle.ISummary:rename"], &[]),
        ("rename postBbsArticles to createBbsArticle", &["postBbsArticles:rename"], &[]),
        ("Rename transformBbsArticle as toArticleDto", &["transformBbsArticle:rename"], &[]),
        ("rename the article model to posts", &["prisma:bbs_articles:rename"], &[]),
        ("rename toISOStringSafe to toIsoString; no config changes", &["toISOStringSafe:rename"], &[Category::Config]),
        ("change what getBbsArticlesArticleId returns", &["getBbsArticlesArticleId:return"], &[]),
        ("make transformBbsArticleSummary return a richer summary", &["transformBbsArticleSummary:return"], &[]),
        ("change the return type of patchBbsArticles", &["patchBbsArticles:return"], &[]),
        ("getBbsMembersMemberId should return the member with its articles", &["getBbsMembersMemberId:return"], &[]),
        ("add a locale parameter to patchBbsArticles", &["patchBbsArticles:signature"], &[]),
        ("add parameter tenant to postBbsArticles", &["postBbsArticles:signature"], &[]),
        ("remove the props parameter from toISOStringSafe", &["toISOStringSafe:signature"], &[]),
        ("add a dryRun argument to deleteBbsArticlesArticleId, leave the tests alone", &["deleteBbsArticlesArticleId:signature"], &[Category::Tests]),
        ("remove deleteBbsArticlesArticleId", &["deleteBbsArticlesArticleId:remove"], &[]),
        ("delete transformBbsReportSummary", &["transformBbsReportSummary:remove"], &[]),
        ("drop view_limit from the article model", &["prisma:bbs_articles.view_limit:remove", "IBbsArticle.view_limit:remove"], &[]),
        ("remove introduction from members", &["prisma:bbs_members.introduction:remove", "IBbsMember.introduction:remove"], &[]),
        ("remove the report model", &["prisma:bbs_reports:remove", "IBbsReport:remove"], &[]),
        ("make memberAuthorize reject expired sessions", &["memberAuthorize:behavior"], &[]),
        ("fix patchBbsArticles so search is case-insensitive", &["patchBbsArticles:behavior"], &[]),
        ("change how postBbsArticles and transformBbsArticle handle empty bodies", &["postBbsArticles:behavior", "transformBbsArticle:behavior"], &[]),
        ("log every call to putBbsArticlesArticleId, don't touch the database", &["putBbsArticlesArticleId:behavior"], &[Category::Persistence]),
        ("speed up patchBbsArticleComments? no api changes", &[], &[]),
        ("make patchBbsArticlesArticleIdComments page by 20, no API changes and leave the tests alone", &["patchBbsArticlesArticleIdComments:behavior"], &[Category::Api, Category::Tests]),
        ("add view_count to the article model without touching the database", &["IBbsArticle:shape"], &[Category::Persistence]),
        ("add view_count to articles, no schema changes, no build changes", &["IBbsArticle:shape"], &[Category::Persistence, Category::Build]),
        ("Add `view_count` to the article model.", &["prisma:bbs_articles:shape", "IBbsArticle:shape"], &[]),
    ];

    #[test]
    fn table_of_phrasings_on_the_fixture() {
        let reg = registry();
        let mut failures = Vec::new();
        for (request, expected, excluded) in TABLE {
            match plan_offline(request, reg) {
                Ok(d) => {
                    let got: Vec<String> = d.changes.iter().map(|c| format!("{}:{}", c.symbol, serde_json::to_value(c.kind).unwrap().as_str().unwrap())).collect();
                    if expected.is_empty() {
                        failures.push(format!("{request:?}: expected a refusal, got {got:?}"));
                    } else if got != expected.iter().map(|s| s.to_string()).collect::<Vec<_>>() || d.excluded_categories != excluded.to_vec() {
                        failures.push(format!("{request:?}: got {got:?} excluding {:?}", d.excluded_categories));
                    }
                }
                Err(e) if expected.is_empty() => assert!(!e.closest.is_empty(), "{request:?}: a refusal lists close symbols: {e}"),
                Err(e) => failures.push(format!("{request:?}: {e}")),
            }
        }
        assert!(TABLE.len() >= 40);
        assert!(failures.is_empty(), "{} of {} phrasings wrong:\n{}", failures.len(), TABLE.len(), failures.join("\n"));
    }

    #[test]
    fn refusals_say_why_and_list_close_symbols() {
        let reg = registry();
        assert!(plan_offline("   ", reg).unwrap_err().message.starts_with("empty request"));
        assert!(plan_offline("don't touch the tests", reg).unwrap_err().message.contains("says only what not to touch"));
        let e = plan_offline("add view_count to the widget model", reg).unwrap_err();
        assert!(e.message.contains("nothing in the project matches"), "{e}");
        let e = plan_offline("rename postBbsArticle to x", reg).unwrap_err();
        assert_eq!(e.closest.first().map(String::as_str), Some("postBbsArticles"), "{e}");
        let e = plan_offline("make things faster", reg).unwrap_err();
        assert!(e.message.contains("names nothing in the project"), "{e}");
        let e = plan_offline("add subtitle to IBbsArticle, no api changes", reg).unwrap_err();
        assert!(e.message.contains("every target of this request (IBbsArticle) is in an excluded category (api)"), "{e}");
    }

    #[test]
    fn new_symbols_and_criteria_are_decided() {
        let d = plan_offline("add view_count to the article model", registry()).unwrap();
        assert_eq!(d.new_symbols.len(), 2);
        assert_eq!(d.new_symbols[0].name, "view_count");
        assert!(d.acceptance_criteria.iter().any(|c| c == "`IBbsArticle` has `view_count`"));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(crate::manifest::parse_decisions(&json).unwrap(), d, "planner output satisfies its own strict parser");
    }
}

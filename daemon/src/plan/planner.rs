//! The offline planner: a change request in plain words → [`Decisions`], deterministically and
//! without a network. It decides *what* changes (targets, kinds, new names, criteria,
//! exclusions); every fact about the code is left to the synthesizer.
//!
//! Requests are read the way people write them about generated backends, and the vocabulary
//! is data, not code:
//! - [`INTENTS`]: the kinds of request in the order they are tried, each with the cue words that
//!   signal it (`rename`; `… parameter`; validations such as "limit … to 120 characters" or "a
//!   MaxLength"; `add`/"should have"; "include/expose/show X in Y"; `return`; `remove`). A
//!   reader that finds the request is not of its shape passes it on to the next.
//! - [`FILLER`], [`VARIANT_WORDS`], [`SYSTEM_MANAGED`], [`TAG_WORDS`], [`FORMATS`]: words that
//!   name nothing, words that pick a DTO variant ("summaries" → `ISummary`), fields the
//!   server fills itself (so clients do not send them), typia tags and formats.
//!
//! Words reach symbols through [`Resolver`]: exact identifiers (`IShoppingMallProduct.ICreate`,
//! `todo_list_todos`, `prisma:m.f`); "the C column of M", "the F field of T", "M's F",
//! "post titles"; and entity words ("products", "content reports", with or without the
//! backend's prefix) → the Prisma model and its DTO family through [`crate::links`]. A new
//! field on an entity changes the model and its DTO, plus `ICreate`/`IUpdate` when clients send
//! it. A target it cannot resolve with confidence is an error listing the closest symbols —
//! never a guess, and never a silently narrower plan.

use maintaind_registry::{FileLang, MatchTier, Registry, SymbolKind};

use crate::blast::ChangeKind;
use crate::links::EntityLinks;
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

/// Words that name nothing inside a phrase naming a thing.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "to",
    "of",
    "in",
    "on",
    "for",
    "from",
    "model",
    "models",
    "table",
    "tables",
    "dto",
    "dtos",
    "type",
    "types",
    "entity",
    "entities",
    "record",
    "records",
    "schema",
    "field",
    "fields",
    "column",
    "columns",
    "property",
    "properties",
    "new",
    "nullable",
    "optional",
    "required",
    "function",
    "provider",
    "parameter",
    "param",
    "argument",
    "and",
    "its",
    "it",
    "so",
    "that",
    "which",
    "with",
    "called",
    "named",
    "each",
    "every",
    "all",
    "their",
    "our",
    "this",
    "these",
    "those",
    "should",
    "must",
    "be",
    "is",
    "are",
    "have",
    "has",
    "carry",
    "carries",
    "also",
    "too",
    "as",
    "value",
    "values",
    "string",
    "text",
    "int",
    "integer",
    "number",
    "numeric",
    "boolean",
    "bool",
    "date",
    "datetime",
    "uuid",
    "flag",
    "object",
];

/// Words that pick a DTO variant of an entity ("article summaries" → `IBbsArticle.ISummary`).
/// `""` is the family's root type.
const VARIANT_WORDS: &[(&str, &str)] = &[
    ("summary", "ISummary"),
    ("summaries", "ISummary"),
    ("list", "ISummary"),
    ("lists", "ISummary"),
    ("listing", "ISummary"),
    ("listings", "ISummary"),
    ("page", "ISummary"),
    ("pages", "ISummary"),
    ("feed", "ISummary"),
    ("creation", "ICreate"),
    ("create", "ICreate"),
    ("requests", "IRequest"),
    ("search", "IRequest"),
    ("filter", "IRequest"),
    ("filters", "IRequest"),
    ("update", "IUpdate"),
    ("updates", "IUpdate"),
    ("detail", ""),
    ("details", ""),
    ("response", ""),
    ("responses", ""),
];

/// Field names (or parts) the server fills itself: clients never send them, so a new such field
/// does not go into `ICreate`/`IUpdate`.
const SYSTEM_MANAGED: &[&str] = &["count", "counter", "views", "score", "rank", "ranking", "total", "at", "by", "karma", "hash", "version", "sequence_no"];

/// Request words that say the field is computed by the server (same effect as above).
const SYSTEM_WORDS: &[&str] = &["counter", "computed", "derived", "read-only", "readonly", "cached", "automatically", "timestamp"];

/// typia tag names, as people write them ("a MaxLength", "minlength", "max length").
const TAG_WORDS: &[(&str, &str)] = &[
    ("maxlength", "MaxLength"),
    ("minlength", "MinLength"),
    ("maximum", "Maximum"),
    ("minimum", "Minimum"),
    ("pattern", "Pattern"),
    ("format", "Format"),
    ("maxitems", "MaxItems"),
    ("minitems", "MinItems"),
    ("multipleof", "MultipleOf"),
];

/// Formats typia knows, by the words people use.
const FORMATS: &[(&str, &str)] = &[
    ("email", "email"),
    ("e-mail", "email"),
    ("uuid", "uuid"),
    ("url", "uri"),
    ("uri", "uri"),
    ("date-time", "date-time"),
    ("datetime", "date-time"),
    ("ipv4", "ipv4"),
    ("ipv6", "ipv6"),
    ("hostname", "hostname"),
];

/// Words that mean a length or size limit on a string ("120 characters").
const LENGTH_WORDS: &[&str] = &["character", "characters", "chars", "char", "letters", "long", "length"];

/// One kind of request: the words that signal it and its reader. A reader returns `Ok(None)`
/// when the request is not of its shape after all, and the next intent is tried.
struct Intent {
    name: &'static str,
    cues: &'static [&'static str],
    read: fn(&Resolver, &Request) -> Result<Option<Decisions>, PlanError>,
}

/// The kinds of request, in the order they are tried.
const INTENTS: &[Intent] = &[
    Intent { name: "rename", cues: &["rename", "renamed"], read: rename },
    Intent { name: "parameter", cues: &["parameter", "param", "argument", "arg", "parameters", "arguments"], read: parameter },
    Intent {
        name: "validation",
        cues: &[
            "validation",
            "validate",
            "validates",
            "validated",
            "enforce",
            "limit",
            "limits",
            "at most",
            "at least",
            "no longer than",
            "no shorter than",
            "up to",
            "characters",
            "chars",
            "maxlength",
            "minlength",
            "max length",
            "min length",
            "maximum",
            "minimum",
            "pattern",
            "format",
            "must be a valid",
            "a valid",
        ],
        read: validation,
    },
    Intent { name: "return", cues: &["return", "returns", "returned"], read: returns },
    Intent {
        name: "add",
        cues: &["add", "adds", "should have", "should carry", "should store", "should record", "should track", "needs", "need", "must have", "must carry", "give", "store", "track", "record"],
        read: add_fields,
    },
    Intent { name: "expose", cues: &["include", "includes", "expose", "exposes", "show", "shows", "display", "surface"], read: expose },
    Intent { name: "remove", cues: &["remove", "delete", "drop", "get rid of"], read: remove },
];

/// A request, tokenised: `words` as written (identifiers whole), `lower` lower-cased, with
/// possessives split off (`author's` → `author`, `'s`).
struct Request {
    words: Vec<String>,
    lower: Vec<String>,
    text: String,
}

impl Request {
    fn new(text: &str) -> Request {
        let mut words = Vec::new();
        for w in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            let w = w.trim_matches(|c: char| matches!(c, '.' | '!' | '?' | '"' | '(' | ')' | ':' | '`' | '\''));
            if w.is_empty() {
                continue;
            }
            if let Some(stem) = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")) {
                words.push(stem.to_string());
                words.push("'s".into());
            } else {
                words.push(w.to_string());
            }
        }
        words.retain(|w| !matches!(w.to_lowercase().as_str(), "but" | "please" | "also"));
        let lower = words.iter().map(|w| w.to_lowercase()).collect();
        Request { words, lower, text: text.to_string() }
    }

    /// Index of the first occurrence of a cue (one or more words).
    fn find(&self, cue: &str) -> Option<usize> {
        let parts: Vec<&str> = cue.split(' ').collect();
        (0..self.lower.len()).find(|&i| parts.iter().enumerate().all(|(k, p)| self.lower.get(i + k).is_some_and(|w| w == p)))
    }

    fn has(&self, w: &str) -> bool {
        self.find(w).is_some()
    }

    fn pos_any(&self, ws: &[&str]) -> Option<usize> {
        ws.iter().filter_map(|w| self.find(w)).min()
    }

    fn slice(&self, from: usize, to: usize) -> Vec<String> {
        self.words[from.min(self.words.len())..to.min(self.words.len())].to_vec()
    }
}

/// Plan a request with the embedded deterministic planner.
pub fn plan_offline(request: &str, registry: &Registry) -> Result<Decisions, PlanError> {
    let request = request.trim();
    if request.is_empty() {
        return Err(err("empty request: say what should change, e.g. `add view_count to the article model`", vec![]));
    }
    let (text, excluded) = strip_exclusions(request);
    let req = Request::new(&text);
    if req.words.is_empty() {
        return Err(err(format!("`{request}` says only what not to touch; say what should change"), vec![]));
    }
    let links = EntityLinks::build(registry);
    let r = Resolver { registry, links: &links };
    let mut decided = None;
    for intent in INTENTS {
        if intent.cues.iter().any(|c| req.has(c))
            && let Some(d) = (intent.read)(&r, &req)?
        {
            tracing::debug!(intent = intent.name, "planned");
            decided = Some(d);
            break;
        }
    }
    let mut d = match decided {
        Some(d) => d,
        None => behavior(&r, &req)?,
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

/// The file declaring `symbol` (exact name, not a dependency's declaration).
pub fn symbol_file(registry: &Registry, symbol: &str) -> Option<String> {
    let name = symbol.rsplit('#').next().unwrap_or(symbol);
    registry.search(symbol, None).into_iter().find(|m| m.tier == MatchTier::Exact && (m.symbol.name == name) && m.file.lang != FileLang::Declaration).map(|m| m.file.path.clone())
}

fn is_identifier(w: &str) -> bool {
    w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$') && w.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '#' | '/' | '$'))
}

fn is_filler(w: &str) -> bool {
    FILLER.contains(&w.to_lowercase().as_str())
}

/// `display name` → `display_name`, `viewCount` stays.
fn snake(words: &[String]) -> String {
    words.iter().map(|w| w.trim_matches('\'').to_string()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join("_")
}

/// What a phrase names.
#[derive(Debug, Clone)]
enum Named {
    /// An exact symbol (DTO, variant, property, function, model, column).
    Symbol(String),
    /// A Prisma model named by everyday words, with its DTO families.
    Entity { model: String, dtos: Vec<String> },
}

/// Turns words into symbols, through the registry and the entity links.
struct Resolver<'a> {
    registry: &'a Registry,
    links: &'a EntityLinks,
}

impl Resolver<'_> {
    /// A symbol named exactly by one word (`IBbsArticle.ICreate`, `getBbsArticlesArticleId`,
    /// `bbs_articles`, `bbs_articles.title`). Declarations of dependencies (`.d.ts`) are never
    /// targets.
    fn exact(&self, word: &str) -> Option<(String, SymbolKind)> {
        if !is_identifier(word) || is_filler(word) {
            return None;
        }
        // A plain lower-case word ("update", "title") is English, not a reference to the SDK's
        // `update` or some `title` property; models are the exception (`todo_list_todos` has an
        // underscore, and `prisma:` addresses are explicit).
        let plain = word.chars().all(|c| c.is_ascii_lowercase());
        let hits = if plain { Vec::new() } else { self.registry.search(word, None) };
        let exact = hits.iter().find(|m| m.tier == MatchTier::Exact && m.symbol.kind != SymbolKind::Reexport && m.file.lang != FileLang::Declaration);
        if let Some(m) = exact {
            return Some((m.symbol.name.clone(), m.symbol.kind));
        }
        // A model or column written without `prisma:`.
        let (model, field) = match word.split_once('.') {
            Some((m, f)) => (m, Some(f)),
            None => (word, None),
        };
        if self.links.models.is_model(model) {
            return match field {
                None => Some((format!("prisma:{model}"), SymbolKind::Model)),
                Some(f) if self.links.models.field(model, f).is_some() => Some((format!("prisma:{model}.{f}"), SymbolKind::Field)),
                Some(_) => None,
            };
        }
        None
    }

    /// Entity words → the models they name (exactly one, or an ambiguity error).
    fn entity(&self, words: &[String]) -> Result<Option<Named>, PlanError> {
        let meaningful: Vec<String> = words.iter().map(|w| w.to_lowercase()).filter(|w| w != "'s" && !is_filler(w) && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).collect();
        // The longest run of trailing words that names a model ("article comments" before
        // "comments").
        for start in 0..meaningful.len() {
            let tail: Vec<&str> = meaningful[start..].iter().map(String::as_str).collect();
            let models = self.links.models_named(&tail);
            match models.len() {
                0 => continue,
                1 => {
                    let model = models[0].clone();
                    let dtos = self.links.dtos_of(&model).iter().map(|(d, _)| d.name.clone()).collect();
                    return Ok(Some(Named::Entity { model, dtos }));
                }
                _ => {
                    // `posts` → `x_posts` and `x_post_tags`? `models_named` returns exact
                    // matches only when there are some; several exact ones are a real choice.
                    return Err(err(format!("`{}` names several models: {}; name one", tail.join(" "), models.join(", ")), models.iter().map(|m| format!("prisma:{m}")).collect()));
                }
            }
        }
        Ok(None)
    }

    /// A phrase naming one thing: an identifier in it, else an entity.
    fn phrase(&self, words: &[String]) -> Result<Option<Named>, PlanError> {
        for w in words {
            if let Some((name, _)) = self.exact(w) {
                return Ok(Some(Named::Symbol(name)));
            }
        }
        self.entity(words)
    }

    /// Every identifier a phrase names, in order (a model and a DTO can both be named).
    fn identifiers(&self, words: &[String]) -> Vec<(String, SymbolKind)> {
        let mut out: Vec<(String, SymbolKind)> = Vec::new();
        for w in words {
            if let Some(hit) = self.exact(w)
                && !out.iter().any(|(n, _)| *n == hit.0)
            {
                out.push(hit);
            }
        }
        out
    }

    fn unresolved(&self, words: &[String]) -> PlanError {
        let phrase = words.join(" ");
        let probe: String = words.iter().filter(|w| !is_filler(w) && *w != "'s").cloned().collect::<Vec<_>>().join("_");
        let probe = if probe.is_empty() { phrase.clone() } else { probe };
        let mut closest: Vec<String> = self.links.models_named(&[probe.as_str()]).into_iter().map(|m| format!("prisma:{m}")).collect();
        closest.extend(self.registry.suggest(&probe, 5));
        closest.truncate(5);
        err(format!("nothing in the project matches `{phrase}`"), closest)
    }

    /// The member of an owner: `prisma:M.f` for a model, `T.f` (or `T.V.f`) for a type; tried
    /// singular and plural ("titles" → `title`).
    fn member(&self, owner: &str, words: &[String]) -> Option<String> {
        let name = member_name(words);
        if name.is_empty() {
            return None;
        }
        let forms = crate::links::singulars(&name);
        for f in forms.iter().chain(std::iter::once(&name)) {
            let candidate = if let Some(model) = owner.strip_prefix("prisma:") { format!("prisma:{model}.{f}") } else { format!("{owner}.{f}") };
            if self.exact(&candidate).is_some() {
                return Some(candidate);
            }
        }
        None
    }

    /// The DTO variant a list of words picks in a family (`ISummary` for "summaries").
    fn variant(&self, family: &str, words: &[String]) -> Option<String> {
        words
            .iter()
            .find_map(|w| VARIANT_WORDS.iter().find(|(v, _)| *v == w.to_lowercase()).map(|(_, s)| if s.is_empty() { family.to_string() } else { format!("{family}.{s}") }))
            .filter(|v| self.exact(v).is_some())
    }

    /// The variants clients send of a family that exist: `ICreate`, `IUpdate`, and an actor's
    /// `IJoin`.
    fn request_variants(&self, family: &str) -> Vec<String> {
        // Some generators name them after the entity: `ITodoTodo.ITodoCreate`.
        let entity = family.rfind(|c: char| c.is_ascii_uppercase()).map(|i| &family[i..]).unwrap_or("");
        ["ICreate", "IUpdate", "IJoin"].iter().flat_map(|v| [format!("{family}.{v}"), format!("{family}.I{entity}{}", &v[1..])]).filter(|v| self.exact(v).is_some()).collect()
    }

    /// Every property named `field` in a DTO family: `T.f` and `T.V.f` for each variant `V`.
    fn family_members(&self, family: &str, field: &str) -> Vec<String> {
        let Some(file) = symbol_file(self.registry, family) else { return Vec::new() };
        let Some(fi) = self.registry.file(&file) else { return Vec::new() };
        let prefix = format!("{family}.");
        let mut out: Vec<String> = fi
            .symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Property && s.name.starts_with(&prefix) && s.name.rsplit('.').next() == Some(field) && s.name[prefix.len()..].matches('.').count() <= 1)
            .map(|s| s.name.clone())
            .collect();
        out.sort_by_key(|n| (n.matches('.').count(), n.clone()));
        out.dedup();
        out
    }
}

/// The snake_case name a member phrase spells ("the view limit column" → `view_limit`).
fn member_name(words: &[String]) -> String {
    snake(&words.iter().filter(|w| !is_filler(w) && *w != "'s").cloned().collect::<Vec<_>>()).to_lowercase()
}

/// "the C column of M", "the F field of T", "M's C", "C in T", or compound entity words
/// ("post titles"): (owner words, member words).
fn member_phrase(words: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    if let Some(i) = lower.iter().position(|w| w == "'s") {
        return Some((words[..i].to_vec(), words[i + 1..].to_vec()));
    }
    if let Some(i) = lower.iter().position(|w| matches!(w.as_str(), "of" | "in" | "on")) {
        return Some((words[i + 1..].to_vec(), words[..i].to_vec()));
    }
    None
}

fn change(symbol: &str, kind: ChangeKind, intent: impl Into<String>) -> DecidedChange {
    DecidedChange { symbol: symbol.to_string(), kind, intent: intent.into() }
}

fn decisions(summary: String, changes: Vec<DecidedChange>) -> Decisions {
    Decisions { summary, changes, new_symbols: Vec::new(), acceptance_criteria: Vec::new(), excluded_categories: Vec::new() }
}

fn listing(targets: &[String]) -> String {
    targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" and ")
}

/// A phrase that names one thing to act on: a member ("the C column of M"), an identifier, or
/// an entity (the model). Used by rename and remove.
fn one_target(r: &Resolver, words: &[String]) -> Result<Vec<String>, PlanError> {
    if let Some((owner, member)) = member_phrase(words)
        && !member.iter().all(|w| is_filler(w))
        && let Some(named) = r.phrase(&owner)?
    {
        let owners = match &named {
            Named::Symbol(s) => vec![s.clone()],
            Named::Entity { model, dtos } => {
                // "the title column of posts" is the column; "the title field of posts" the
                // column and the DTO property.
                let mut v = vec![format!("prisma:{model}")];
                if !words.iter().any(|w| w.eq_ignore_ascii_case("column")) {
                    v.extend(dtos.iter().cloned());
                }
                v
            }
        };
        let found: Vec<String> = owners.iter().filter_map(|o| r.member(o, &member)).collect();
        if !found.is_empty() {
            return Ok(found);
        }
        let name = member_name(&member);
        return Err(err(format!("{} has no `{name}`", listing(&owners)), r.registry.suggest(&name, 5)));
    }
    match r.phrase(words)? {
        Some(Named::Symbol(s)) => Ok(vec![s]),
        Some(Named::Entity { model, .. }) => Ok(vec![format!("prisma:{model}")]),
        None => Err(r.unresolved(words)),
    }
}

/// "rename A to B", "rename the C column of M to B", "rename the F field of T as B".
fn rename(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let Some(i) = req.find("rename").or_else(|| req.find("renamed")) else { return Ok(None) };
    let rest = &req.words[i + 1..];
    let split = rest.iter().rposition(|w| matches!(w.to_lowercase().as_str(), "to" | "as" | "into"));
    let (from, to) = match split {
        Some(k) if k + 1 < rest.len() => (&rest[..k], rest[k + 1..].iter().find(|w| !is_filler(w))),
        _ => return Err(err("a rename needs `rename OLD to NEW`", vec![])),
    };
    let Some(to) = to else { return Err(err("a rename needs the new name after `to`", vec![])) };
    let targets = one_target(r, from)?;
    let mut d = decisions(format!("Rename {} to `{to}`.", listing(&targets)), targets.iter().map(|t| change(t, ChangeKind::Rename, format!("rename to `{to}`"))).collect());
    for t in &targets {
        let kind = match r.exact(t).map(|(_, k)| k) {
            Some(SymbolKind::Function | SymbolKind::Method) => NewSymbolKind::Function,
            Some(SymbolKind::Property) => NewSymbolKind::Property,
            Some(SymbolKind::Field | SymbolKind::Model) => NewSymbolKind::Field,
            _ => NewSymbolKind::Type,
        };
        d.new_symbols.push(NewSymbol { name: to.clone(), kind, near: t.clone() });
        d.acceptance_criteria.push(format!("no reference to `{t}` remains; `{to}` is used where it was"));
    }
    Ok(Some(d))
}

/// "add a limit parameter to F", "F needs a required tenant parameter", "remove the props
/// parameter from F", "F should take a locale argument".
fn parameter(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let functions: Vec<String> = r.identifiers(&req.words).into_iter().filter(|(_, k)| matches!(k, SymbolKind::Function | SymbolKind::Method)).map(|(n, _)| n).collect();
    let Some(target) = functions.first().cloned() else {
        let probe = req.words.iter().filter(|w| is_identifier(w) && !is_filler(w)).max_by_key(|w| w.len()).cloned().unwrap_or_default();
        return Err(err("name the function whose parameters change", r.registry.suggest(&probe, 5)));
    };
    let removing = req.pos_any(&["remove", "drop", "delete"]).is_some();
    let pi = req.pos_any(&["parameter", "param", "argument", "arg", "parameters", "arguments"]).unwrap();
    // The parameter's name: the words right before the word `parameter` (after "a", "the",
    // "required", "new"), else the word right after it.
    let stop = |w: &String| is_filler(w) || matches!(w.to_lowercase().as_str(), "add" | "remove" | "drop" | "needs" | "need" | "take" | "takes" | "accept" | "accepts") || r.exact(w).is_some();
    let before: Vec<String> = req.words[..pi].iter().rev().take_while(|w| !stop(w)).cloned().collect::<Vec<_>>().into_iter().rev().collect();
    let name = if !before.is_empty() { Some(snake(&before)) } else { req.words.get(pi + 1).filter(|w| !stop(w) && is_identifier(w)).cloned() };
    let Some(name) = name else { return Err(err(format!("name the parameter, e.g. `{target} needs a required locale parameter`"), vec![])) };
    // "an optional locale parameter"; "a required sort parameter with value "asc"": what the
    // callers pass, so the change can be carried out without a coder.
    let optional = !removing && req.has("optional");
    let value = if removing || optional { None } else { literal_after(&req.text, &req.words[pi]) };
    let intent = match (removing, optional, &value) {
        (true, _, _) => format!("remove parameter `{name}`"),
        (false, true, _) => format!("add optional parameter `{name}`"),
        (false, false, Some(v)) => format!("add parameter `{name}` = {v}"),
        (false, false, None) => format!("add parameter `{name}`"),
    };
    let mut d =
        decisions(format!("{} parameter `{name}` {} `{target}`.", if removing { "Remove" } else { "Add" }, if removing { "from" } else { "to" }), vec![change(&target, ChangeKind::Signature, intent)]);
    if !removing {
        d.new_symbols.push(NewSymbol { name: name.clone(), kind: NewSymbolKind::Parameter, near: target.clone() });
    }
    d.acceptance_criteria.push(format!("every call of `{target}` {} `{name}`", if removing { "no longer passes" } else { "passes" }));
    Ok(Some(d))
}

/// The first literal the request gives after the word `after` (`parameter`): a quoted string
/// (`"asc"`, `'asc'`, written back with double quotes), a number or `true`/`false`.
fn literal_after(text: &str, after: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let start = lower.find(&after.to_lowercase())? + after.len();
    let rest = &text[start..];
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' | '“' => {
                let close = match c {
                    '“' => '”',
                    other => other,
                };
                let body_start = i + c.len_utf8();
                let end = rest[body_start..].find(close)?;
                let body = &rest[body_start..body_start + end];
                if body.contains(['"', '\\', '\n']) {
                    return None;
                }
                return Some(format!("\"{body}\""));
            }
            _ if c.is_ascii_digit() || (c == '-' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit())) => {
                let before_ok = i == 0 || rest[..i].ends_with(|p: char| p.is_whitespace() || p == '=');
                let token: String = rest[i..].chars().take_while(|d| d.is_ascii_digit() || *d == '.' || *d == '-').collect();
                let token = token.trim_end_matches('.');
                if before_ok && token.parse::<f64>().is_ok() {
                    return Some(token.to_string());
                }
            }
            _ if c.is_alphabetic() => {
                let word: String = rest[i..].chars().take_while(|d| d.is_alphanumeric()).collect();
                let before_ok = i == 0 || rest[..i].ends_with(char::is_whitespace);
                if before_ok && (word == "true" || word == "false") {
                    return Some(word);
                }
                for _ in 1..word.chars().count() {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    None
}

/// A typia constraint read from the request: `tags.MaxLength<120>`, `tags.Format<"email">`, …
struct Constraint {
    tags: Vec<String>,
    /// The words naming the constraint, to be removed from the target phrase.
    words: Vec<usize>,
}

/// Numbers and ranges in a request: "5-150", "120", "between 3 and 50".
fn numbers(req: &Request) -> Vec<(usize, Vec<u64>)> {
    let mut out = Vec::new();
    for (i, w) in req.lower.iter().enumerate() {
        let parts: Vec<&str> = w.split(['-', '–']).collect();
        let nums: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
        if !nums.is_empty() && nums.len() == parts.len() {
            out.push((i, nums));
        }
    }
    out
}

fn constraint(req: &Request, numeric: bool) -> Constraint {
    let mut tags = Vec::new();
    let mut used = Vec::new();
    let (min_tag, max_tag) = if numeric { ("Minimum", "Maximum") } else { ("MinLength", "MaxLength") };
    // Formats first: "email validation", "must be a valid url".
    for (i, w) in req.lower.iter().enumerate() {
        if let Some((_, f)) = FORMATS.iter().find(|(k, _)| k == w) {
            tags.push(format!("tags.Format<\"{f}\">"));
            used.push(i);
        }
    }
    // Tag names written out: "a MaxLength", "tags.MaxLength<20>", "max length 20".
    for (i, w) in req.lower.iter().enumerate() {
        let bare = w.trim_start_matches("tags.");
        let (head, arg) = match bare.split_once('<') {
            Some((h, a)) => (h, Some(a.trim_end_matches('>'))),
            None => (bare, None),
        };
        let two = format!("{head}{}", req.lower.get(i + 1).cloned().unwrap_or_default());
        let (tag, span) = match TAG_WORDS.iter().find(|(k, _)| *k == head) {
            Some((_, t)) => (Some(*t), 1),
            None => (TAG_WORDS.iter().find(|(k, _)| *k == two).map(|(_, t)| *t), 2),
        };
        let Some(tag) = tag else { continue };
        if tag == "Format" && !tags.is_empty() {
            continue;
        }
        let value = arg.map(str::to_string).or_else(|| req.lower.get(i + span).filter(|n| n.parse::<u64>().is_ok()).cloned());
        tags.push(match value {
            Some(v) => format!("tags.{tag}<{v}>"),
            None => format!("tags.{tag}"),
        });
        used.extend(i..i + span);
    }
    if tags.iter().any(|t| t.contains("Length") || t.contains("imum")) {
        return Constraint { tags, words: used };
    }
    // Limits in words: "5-150 character limit", "120 characters", "at most 120", "at least 8",
    // "between 3 and 50", "up to 300".
    let nums = numbers(req);
    let near = |i: usize, ws: &[&str]| ws.iter().any(|w| req.lower.get(i.wrapping_sub(1)).is_some_and(|x| x == w) || (i >= 2 && format!("{} {}", req.lower[i - 2], req.lower[i - 1]) == *w));
    for (i, ns) in &nums {
        used.push(*i);
        match ns.as_slice() {
            [a, b] => {
                tags.push(format!("tags.{min_tag}<{a}>"));
                tags.push(format!("tags.{max_tag}<{b}>"));
            }
            [n] if near(*i, &["least", "min", "minimum", "than"]) && req.has("at least") || near(*i, &["no shorter than"]) => tags.push(format!("tags.{min_tag}<{n}>")),
            [n] if near(*i, &["between"]) => {
                if let Some((j, m)) = nums.iter().find(|(j, _)| *j > *i) {
                    used.push(*j);
                    tags.push(format!("tags.{min_tag}<{n}>"));
                    tags.push(format!("tags.{max_tag}<{}>", m[0]));
                }
                break;
            }
            [n] => tags.push(format!("tags.{max_tag}<{n}>")),
            _ => {}
        }
    }
    for (i, w) in req.lower.iter().enumerate() {
        if LENGTH_WORDS.contains(&w.as_str()) || matches!(w.as_str(), "limit" | "limits" | "most" | "least" | "up" | "between" | "validation" | "validate" | "enforce" | "valid" | "max" | "min") {
            used.push(i);
        }
    }
    tags.dedup();
    Constraint { tags, words: used }
}

/// "add email validation to IUser.ICreate", "limit product names to 120 characters",
/// "enforce the 5-150 character limit on post titles", "add a MaxLength to password in
/// ITodoUser.ICreate", "usernames must be at least 3 characters".
fn validation(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let first = constraint(req, false);
    if first.tags.is_empty() {
        // "validate the order before saving" is not a typia constraint: another intent's.
        return Ok(None);
    }
    // The target phrase: the request without the constraint words and the intent's verbs.
    let verbs = [
        "add",
        "enforce",
        "limit",
        "limits",
        "validate",
        "validates",
        "validated",
        "validation",
        "must",
        "should",
        "be",
        "a",
        "valid",
        "at",
        "to",
        "up",
        "no",
        "than",
        "longer",
        "shorter",
        "character",
        "characters",
        "chars",
        "long",
        "length",
        "tag",
        "tags",
        "constraint",
        "rule",
        "check",
        "between",
        "and",
        "of",
        "on",
        "in",
        "for",
        "the",
        "with",
        "'s",
        "have",
    ];
    let rest: Vec<String> = req.words.iter().enumerate().filter(|(i, w)| !first.words.contains(i) && !verbs.contains(&w.to_lowercase().as_str())).map(|(_, w)| w.clone()).collect();
    // Owner and member: an identifier (a property, a variant, a type), then the other words
    // as the member.
    let ids = r.identifiers(&rest);
    let mut targets: Vec<String> = Vec::new();
    let member_words: Vec<String> = rest.iter().filter(|w| r.exact(w).is_none()).cloned().collect();
    if let Some((id, kind)) = ids.first() {
        match kind {
            SymbolKind::Property => targets.push(id.clone()),
            SymbolKind::Type | SymbolKind::Interface => {
                let found = r.member(id, &member_words).or_else(|| {
                    // A format word names its property: "email validation" on `IUser.ICreate`.
                    FORMATS.iter().find_map(|(w, _)| req.has(w).then(|| format!("{id}.{w}"))).filter(|p| r.exact(p).is_some())
                });
                match found {
                    Some(p) => targets.push(p),
                    None if member_words.is_empty() => targets.push(id.clone()),
                    None => return Err(err(format!("`{id}` has no `{}`", member_name(&member_words)), r.registry.suggest(&member_name(&member_words), 5))),
                }
            }
            _ => return Err(err(format!("a validation tag goes on a DTO property; `{id}` is a {kind}"), vec![])),
        }
    } else {
        // Entity words plus a field: "post titles", "product names", "the username of users".
        let (owner, member) = match member_phrase(&rest) {
            Some((o, m)) => (o, m),
            None if rest.len() >= 2 => (rest[..rest.len() - 1].to_vec(), rest[rest.len() - 1..].to_vec()),
            None => (Vec::new(), rest.clone()),
        };
        let named = if owner.is_empty() { None } else { r.entity(&owner)? };
        let Some(Named::Entity { dtos, model }) = named else {
            return Err(err(
                format!("say which DTO property the validation belongs to (e.g. `limit post titles to 150 characters` or `… to IPost.ICreate.title`); `{}` names none", rest.join(" ")),
                r.unresolved(&rest).closest,
            ));
        };
        for dto in &dtos {
            // Clients send values through the request variants; validate there.
            for v in r.request_variants(dto) {
                if let Some(p) = r.member(&v, &member) {
                    targets.push(p);
                }
            }
        }
        if targets.is_empty() {
            for dto in &dtos {
                if let Some(p) = r.member(dto, &member) {
                    targets.push(p);
                }
            }
        }
        if targets.is_empty() {
            return Err(err(format!("the DTOs of {model} ({}) have no `{}`", dtos.join(", "), member_name(&member)), r.registry.suggest(&member_name(&member), 5)));
        }
    }
    // Numbers mean lengths for strings and bounds for numbers.
    let numeric = targets.iter().all(|t| r.registry.search(t, None).iter().any(|m| m.tier == MatchTier::Exact && m.symbol.signature.contains("number")));
    let tags = if numeric { constraint(req, true).tags } else { first.tags };
    let tag = tags.join(" & ");
    // A variant that already carries every tag needs nothing; when all do, they stay targets
    // and the synthesizer's judge says so ("already carries").
    let carries = |t: &String| r.registry.search(t, None).iter().any(|m| m.tier == MatchTier::Exact && m.symbol.name == *t && tags.iter().all(|g| m.symbol.signature.contains(g.as_str())));
    if targets.iter().any(|t| !carries(t)) {
        targets.retain(|t| !carries(t));
    }
    let changes = targets.iter().map(|t| change(t, ChangeKind::Shape, format!("add {tag} to the type"))).collect();
    let mut d = decisions(format!("Add {tag} to {}.", listing(&targets)), changes);
    for t in &targets {
        d.acceptance_criteria.push(format!("`{t}` carries {tag}"));
    }
    Ok(Some(d))
}

/// "change what F returns", "make F return X", "F should return its comments".
fn returns(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let function = r.identifiers(&req.words).into_iter().find(|(_, k)| matches!(k, SymbolKind::Function | SymbolKind::Method));
    let Some((target, _)) = function else {
        // "return the view count in post details" is about a DTO, not a function.
        if req.pos_any(&["in", "on", "with"]).is_some() {
            return Ok(None);
        }
        let probe = req.words.iter().filter(|w| is_identifier(w) && !is_filler(w)).max_by_key(|w| w.len()).cloned().unwrap_or_default();
        return Err(err("name the function whose return changes", r.registry.suggest(&probe, 5)));
    };
    let mut d = decisions(format!("Change what `{target}` returns."), vec![change(&target, ChangeKind::Return, "change the return type")]);
    d.acceptance_criteria.push(format!("every consumer of `{target}`'s result compiles against the new return type"));
    Ok(Some(d))
}

/// The new fields a phrase names: `view_count and like_count`, `a display name`, `a priority
/// column`, `tags.Default<0>`-free words only.
fn new_fields(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    for w in words {
        let l = w.to_lowercase();
        if l == "and" || l == "or" {
            if !cur.is_empty() {
                out.push(snake(&cur));
                cur.clear();
            }
            continue;
        }
        if is_filler(&l) || SYSTEM_WORDS.contains(&l.as_str()) || !is_identifier(w) || w.contains('.') {
            continue;
        }
        cur.push(w.clone());
    }
    if !cur.is_empty() {
        out.push(snake(&cur));
    }
    out.dedup();
    out
}

/// Whether clients send a new field (so it belongs in `ICreate`/`IUpdate`).
fn client_sent(field: &str, req: &Request) -> bool {
    if SYSTEM_WORDS.iter().any(|w| req.has(w)) {
        return false;
    }
    let parts: Vec<&str> = field.split('_').collect();
    !parts.iter().any(|p| SYSTEM_MANAGED.contains(p)) && !SYSTEM_MANAGED.contains(&field)
}

/// "add view_count to the article model", "products should have a weight", "add a priority
/// column to todo_list_todos and expose it on ITodoListTodo", "give members an avatar_url".
fn add_fields(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    // Where the new thing is, and what it is: "add X to Y", "Y should have X", "give Y X".
    let (field_words, owner_words): (Vec<String>, Vec<String>) = if let Some(i) = req.find("add").or_else(|| req.find("adds")) {
        let to = req.lower.iter().enumerate().skip(i + 1).find(|(_, w)| matches!(w.as_str(), "to" | "on" | "for" | "in")).map(|(k, _)| k);
        match to {
            Some(k) => (req.slice(i + 1, k), req.slice(k + 1, req.words.len())),
            None => return Ok(None),
        }
    } else if let Some(i) = req.find("give") {
        // "give members an avatar_url": the owner is the first noun phrase.
        let rest = req.slice(i + 1, req.words.len());
        let split = rest.iter().position(|w| matches!(w.to_lowercase().as_str(), "a" | "an")).unwrap_or(1.min(rest.len()));
        (rest[split..].to_vec(), rest[..split].to_vec())
    } else {
        let cue = ["should have", "should carry", "should store", "should record", "should track", "must have", "must carry", "needs", "need", "store", "track", "record"]
            .iter()
            .filter_map(|c| req.find(c).map(|i| (i, c.split(' ').count())))
            .min();
        let Some((i, n)) = cue else { return Ok(None) };
        (req.slice(i + n, req.words.len()), req.slice(0, i))
    };
    // "… and expose it on ITodoListTodo": the DTO named there is a target too.
    let (field_words, extra_owner) = match field_words.iter().position(|w| matches!(w.to_lowercase().as_str(), "expose" | "include" | "show")) {
        Some(k) => (field_words[..k].to_vec(), field_words[k..].to_vec()),
        None => (field_words, Vec::new()),
    };
    let (owner_words, extra_owner) = match owner_words.iter().position(|w| matches!(w.to_lowercase().as_str(), "expose" | "include" | "show")) {
        Some(k) => (owner_words[..k].to_vec(), [extra_owner, owner_words[k..].to_vec()].concat()),
        None => (owner_words, extra_owner),
    };
    let fields = new_fields(&field_words);
    if fields.is_empty() {
        return Err(err("name the field(s) to add, e.g. `add view_count to the article model`", vec![]));
    }
    // Explicit identifiers win; every one named is a target (a model and a DTO both).
    let mut targets: Vec<String> = Vec::new();
    let named = r.identifiers(&[owner_words.clone(), extra_owner.clone()].concat());
    let mut entity_model: Option<String> = None;
    for (n, k) in &named {
        match k {
            SymbolKind::Model => {
                targets.push(n.clone());
                entity_model = Some(n.trim_start_matches("prisma:").to_string());
            }
            SymbolKind::Type | SymbolKind::Interface => targets.push(n.clone()),
            other => return Err(err(format!("`{n}` is a {other}: a field goes on a model or a DTO type"), vec![])),
        }
    }
    let mut entity_models: Vec<String> = Vec::new();
    if targets.is_empty() {
        // "posts and comments should have …": every entity named, or a refusal — never the
        // last one alone.
        for group in owner_words.split(|w| w.eq_ignore_ascii_case("and") || w == "&").filter(|g| g.iter().any(|w| !is_filler(w))) {
            match r.entity(group)? {
                Some(Named::Entity { model, .. }) => entity_models.push(model),
                _ => return Err(r.unresolved(group)),
            }
        }
        if entity_models.is_empty() {
            return Err(r.unresolved(&owner_words));
        }
        targets.extend(entity_models.iter().map(|m| format!("prisma:{m}")));
        entity_model = entity_models.first().cloned();
    }
    // A model named alone (or by entity words) brings its DTO family: the new column is
    // exposed, and sent by clients unless the server fills it.
    let dto_named = targets.iter().any(|t| !t.starts_with("prisma:"));
    // Families with no root type of their own (only `export namespace IX { … }`): the new
    // field shows in their listing variant instead.
    let mut families: Vec<String> = Vec::new();
    let models: Vec<String> = if entity_models.is_empty() { entity_model.into_iter().collect() } else { entity_models };
    for model in models.iter().filter(|_| !dto_named) {
        let Some((dto, _)) = r.links.dtos_of(model).first() else { continue };
        families.push(dto.name.clone());
        if dto.namespace_only {
            targets.extend(r.variant(&dto.name, &["summary".to_string()]));
        } else {
            targets.push(dto.name.clone());
        }
    }
    families.extend(targets.iter().filter(|t| !t.starts_with("prisma:") && !t.contains('.')).cloned());
    families.dedup();
    if fields.iter().any(|f| client_sent(f, req)) {
        for family in families {
            for v in r.request_variants(&family) {
                if !targets.contains(&v) {
                    targets.push(v);
                }
            }
        }
    }
    let mut changes = Vec::new();
    let mut news = Vec::new();
    for t in &targets {
        let (kind, what) = if t.starts_with("prisma:") { (NewSymbolKind::Field, "column") } else { (NewSymbolKind::Property, "property") };
        changes.push(change(t, ChangeKind::Shape, format!("add {what} {}", fields.join(", "))));
        for f in &fields {
            news.push(NewSymbol { name: f.clone(), kind, near: t.clone() });
        }
    }
    let mut d = decisions(format!("Add {} to {}.", fields.join(", "), listing(&targets)), changes);
    for t in &targets {
        for f in &fields {
            d.acceptance_criteria.push(format!("`{t}` has `{f}`"));
        }
    }
    d.new_symbols = news;
    Ok(Some(d))
}

/// "include the author's nickname in article summaries", "expose view_count on IPost", "show
/// the comment count in the post list": the DTO (variant) gains a property; the providers that
/// build it follow from the blast radius.
fn expose(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let Some(i) = req.pos_any(&["include", "includes", "expose", "exposes", "show", "shows", "display", "surface", "return", "returns"]) else { return Ok(None) };
    let Some(k) = req.lower.iter().enumerate().skip(i + 1).find(|(_, w)| matches!(w.as_str(), "in" | "on" | "with" | "to")).map(|(k, _)| k) else {
        return Err(err("say where to expose it: `include X in Y`", vec![]));
    };
    let what = req.slice(i + 1, k);
    let place = req.slice(k + 1, req.words.len());
    let target = match r.identifiers(&place).first() {
        Some((n, SymbolKind::Type | SymbolKind::Interface)) => n.clone(),
        Some((n, SymbolKind::Model)) => match r.links.dtos_of(n.trim_start_matches("prisma:")).first() {
            Some((d, _)) => d.name.clone(),
            None => return Err(err(format!("`{n}` has no DTO to expose anything on"), vec![])),
        },
        Some((n, kind)) => return Err(err(format!("`{n}` is a {kind}: say which DTO exposes it"), vec![])),
        None => match r.entity(&place.iter().filter(|w| !VARIANT_WORDS.iter().any(|(v, _)| v.eq_ignore_ascii_case(w))).cloned().collect::<Vec<_>>())? {
            Some(Named::Entity { dtos, model }) => {
                let Some(family) = dtos.first() else { return Err(err(format!("{model} has no DTO to expose anything on"), vec![])) };
                r.variant(family, &place).unwrap_or_else(|| family.clone())
            }
            _ => return Err(r.unresolved(&place)),
        },
    };
    let name = new_fields(&what).join("_");
    if name.is_empty() {
        return Err(err("say what to expose, e.g. `include view_count in IPost`", vec![]));
    }
    let exists = r.member(&target, std::slice::from_ref(&name)).is_some();
    let mut d = decisions(format!("Expose `{name}` on `{target}`."), vec![change(&target, ChangeKind::Shape, format!("add property {name}"))]);
    if !exists {
        d.new_symbols.push(NewSymbol { name: name.clone(), kind: NewSymbolKind::Property, near: target.clone() });
    }
    d.acceptance_criteria.push(format!("`{target}` has `{name}`"));
    Ok(Some(d))
}

/// "remove X", "drop view_limit from the article model", "delete the report model".
fn remove(r: &Resolver, req: &Request) -> Result<Option<Decisions>, PlanError> {
    let Some(i) = req.pos_any(&["remove", "delete", "drop", "get rid of"]) else { return Ok(None) };
    let skip = if req.find("get rid of") == Some(i) { 3 } else { 1 };
    let rest = req.slice(i + skip, req.words.len());
    let from = rest.iter().position(|w| w.eq_ignore_ascii_case("from"));
    let targets = match from {
        Some(k) => {
            // A field of an entity: the column and every DTO property of that name.
            let fields: Vec<String> = rest[..k].iter().filter(|w| is_identifier(w) && !is_filler(w)).cloned().collect();
            let owners: Vec<String> = match r.phrase(&rest[k + 1..])? {
                Some(Named::Symbol(s)) => vec![s],
                Some(Named::Entity { model, dtos }) => std::iter::once(format!("prisma:{model}")).chain(dtos).collect(),
                None => return Err(r.unresolved(&rest[k + 1..])),
            };
            let mut out = Vec::new();
            for f in &fields {
                for o in &owners {
                    if o.starts_with("prisma:") || o.contains('.') {
                        out.extend(r.member(o, std::slice::from_ref(f)));
                    } else {
                        // A DTO family loses the property in every variant that has it.
                        out.extend(r.family_members(o, &crate::links::singulars(&f.to_lowercase()).into_iter().find(|s| r.member(o, std::slice::from_ref(s)).is_some()).unwrap_or_else(|| f.clone())));
                    }
                }
            }
            out.dedup();
            if out.is_empty() {
                return Err(err(format!("{} has no {}", listing(&owners), fields.join(", ")), r.registry.suggest(fields.first().map(String::as_str).unwrap_or(""), 5)));
            }
            out
        }
        None => match one_target(r, &rest) {
            Ok(t) if t.len() == 1 && t[0].starts_with("prisma:") && !t[0].contains('.') => {
                // A whole model goes with its DTO family.
                let model = t[0].trim_start_matches("prisma:");
                std::iter::once(t[0].clone()).chain(r.links.dtos_of(model).iter().map(|(d, _)| d.name.clone())).collect()
            }
            other => other?,
        },
    };
    let names = listing(&targets);
    let mut d = decisions(format!("Remove {names}."), targets.iter().map(|t| change(t, ChangeKind::Remove, "remove it")).collect());
    d.acceptance_criteria.push(format!("{} no longer exist and nothing references them", targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")));
    Ok(Some(d))
}

/// Anything else that names symbols: a behaviour change of each.
fn behavior(r: &Resolver, req: &Request) -> Result<Decisions, PlanError> {
    let targets: Vec<String> = r.identifiers(&req.words).into_iter().map(|(n, _)| n).collect();
    if targets.is_empty() {
        let probe = req.words.iter().filter(|w| is_identifier(w) && !is_filler(w)).max_by_key(|w| w.len()).cloned().unwrap_or_default();
        return Err(err(
            format!("`{}` names nothing in the project: name the symbols to change, or say what to add, rename, remove, validate or expose", req.text.trim()),
            r.registry.suggest(&probe, 5),
        ));
    }
    let changes = targets.iter().map(|t| change(t, ChangeKind::Behavior, req.words.join(" "))).collect();
    Ok(decisions(format!("Change the behaviour of {}.", targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")), changes))
}

#[cfg(test)]
mod tests;

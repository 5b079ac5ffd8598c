//! `maintaind change --apply`: the edits of a planned change whose every decision is of a
//! mechanical kind maintaind knows, made from the manifest's facts and the files' syntax trees,
//! with no model in the loop.
//!
//! Each decision is recognised exactly (the form the offline planner writes, or the same words
//! from any planner), or the whole change is [`NotMechanical`]: a plan for a coder. Edits are
//! AST-guided (tree-sitter ranges) and come out as `replace_range` ops carrying the hash of the
//! lines they replace, so `apply` validates them like any other (gate, hash, syntax) and writes
//! them in one journalled transaction.
//!
//! Kinds known today:
//! - **rename** of a function, type, namespace member or DTO property (`rename` with the intent
//!   ``rename to `NEW` ``): the language server's rename at the declaration, asked where the
//!   test project answers, so tests are renamed too.
//! - **column rename**: `rename` of `prisma:model.field` (a scalar column) with the same intent:
//!   the schema, every client key and row read, the client regenerated offline and the
//!   project's own `tsc` as judge ([`crate::prisma_change`]).
//! - **model rename**: `rename` of `prisma:model`: the schema (the table kept with
//!   `@@map`), every delegate and every client-generated name built from the model's, judged
//!   like a column rename ([`crate::prisma_model`]).
//! - **new column**: `shape` of `prisma:model` with `add column F` and of the DTO types that
//!   expose it with `add property F` ([`crate::prisma_add`]), judged like a column rename.
//! - **new parameter**: `signature` with `add optional parameter `P`` or `add parameter `P` =
//!   VALUE` ([`crate::parameter`]): the provider's `props` type, and every call passing VALUE.
//! - **validation**: `shape` of a DTO property with the intent `add tags.X<…> [& tags.Y<…>] to
//!   the type`: the tags join the property's type (`string` → `string & tags.MaxLength<120>`,
//!   `string | undefined` → `(string & tags.MaxLength<120>) | undefined`); a tag of the same
//!   name already there is replaced, not doubled; `import { tags } from "typia"` is added when
//!   the file lacks it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tree_sitter::Node;

use crate::blast::ChangeKind;
use crate::edits::Edit;
use crate::manifest::{DecidedChange, Manifest, TargetFact};
use crate::workspace::{RequestError, Workspace};

/// Why a planned change is left to a coder: the first decision maintaind cannot carry out
/// itself, and what would have to be true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, thiserror::Error)]
#[error("plan only: needs a coder ({reason})")]
pub struct NotMechanical {
    pub reason: String,
}

/// What `change --apply` did, for the CLI's output (human or `--json`).
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeApplied {
    pub manifest: Manifest,
    pub outcome: Outcome,
    /// The mechanical kind of each decision, in order (empty when the plan is not mechanical).
    pub kinds: Vec<String>,
    /// Why the plan was left to a coder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `--dry-run`: the unified diff that would be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The transaction written (rolled back again unless `outcome` is `applied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<crate::apply::ApplyReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written, and the language server found no new error (exit 0).
    Applied,
    /// `--dry-run`: the diff, nothing written (exit 0).
    DryRun,
    /// Written, new errors found, rolled back (exit 1).
    RolledBack,
    /// Written, but the server could not check every file: rolled back (exit 3).
    Unverified,
    /// Not mechanical: the plan is stored for a coder (exit 2).
    PlanOnly,
}

/// A decision maintaind can carry out itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanical {
    /// Join typia tags to a DTO property's type.
    AddTags { property: String, tags: Vec<String> },
    /// Rename a TypeScript symbol and every reference to it.
    Rename { symbol: String, to: String },
    /// Rename a Prisma column in the schema and every access through the client.
    RenameColumn(crate::prisma_change::ColumnRename),
    /// Rename a Prisma model in the schema, its delegates and the client's names built from it.
    RenameModel(crate::prisma_model::ModelRename),
    /// Add columns to a Prisma model (the DTO properties that expose them are `AddProperty`).
    AddColumn { model: String, fields: Vec<String> },
    /// Add properties to a DTO type, exposing the columns of an `AddColumn`.
    AddProperty { dto: String, fields: Vec<String> },
    /// Add a parameter to a provider's `props` (optional, or passed by every caller).
    AddParameter(crate::parameter::AddParameter),
}

impl Mechanical {
    /// The kind's name, as reports and docs say it.
    pub fn kind(&self) -> &'static str {
        match self {
            Mechanical::AddTags { .. } => "validation",
            Mechanical::Rename { .. } => "rename",
            Mechanical::RenameColumn(_) => "column rename",
            Mechanical::RenameModel(_) => "model rename",
            Mechanical::AddColumn { .. } | Mechanical::AddProperty { .. } => "new column",
            Mechanical::AddParameter(_) => "new parameter",
        }
    }
}

/// Each decision of `manifest` as a mechanical change, or why the plan needs a coder.
pub fn recognise(manifest: &Manifest) -> Result<Vec<Mechanical>, NotMechanical> {
    let d = &manifest.decisions;
    let refuse = |reason: String| Err(NotMechanical { reason });
    if d.changes.is_empty() {
        return refuse("the plan decides no change to an existing symbol".into());
    }
    let mut out = Vec::new();
    for c in &d.changes {
        match recognise_one(c) {
            Some(m) => out.push(m),
            None if c.kind == ChangeKind::Signature && c.intent.trim().starts_with("add parameter `") && !c.intent.contains("` = ") => {
                return refuse(format!(
                    "`{}`: a required parameter needs the value every caller passes: say it (`… a required {} parameter with value \"x\"`), or make it optional",
                    c.symbol,
                    c.intent.trim().trim_start_matches("add parameter `").trim_end_matches('`')
                ));
            }
            None => {
                return refuse(format!(
                    "`{}`: {} `{}` is not a change maintaind makes itself; it carries out renames of TypeScript symbols and Prisma models and columns (rename to `NEW`), new columns exposed on their DTOs (add column F, add property F), new parameters (add optional parameter `P`, add parameter `P` = VALUE) and validation tags (add tags.MaxLength<120> to the type)",
                    c.symbol,
                    kind_name(c.kind),
                    c.intent
                ));
            }
        }
    }
    // New symbols other than a rename's new name need someone to write them.
    let renamed = |n: &crate::manifest::NewSymbol| {
        out.iter().any(|m| match m {
            Mechanical::Rename { symbol, to } => *symbol == n.near && *to == n.name,
            Mechanical::RenameColumn(r) => n.near == format!("prisma:{}.{}", r.model, r.field) && n.name == r.to,
            Mechanical::RenameModel(r) => n.near == format!("prisma:{}", r.model) && n.name == r.to,
            Mechanical::AddColumn { model, fields } => n.near == format!("prisma:{model}") && fields.contains(&n.name),
            Mechanical::AddProperty { dto, fields } => n.near == *dto && fields.contains(&n.name),
            Mechanical::AddParameter(p) => n.near == p.function && n.name == p.name,
            Mechanical::AddTags { .. } => false,
        })
    };
    if let Some(n) = d.new_symbols.iter().find(|n| !renamed(n)) {
        return refuse(format!("the plan creates `{}` near `{}`, which maintaind does not write itself", n.name, n.near));
    }
    // A column rename is judged by the project's compiler after the client is regenerated,
    // the others by the language server, which keeps the old client's types.
    if out.len() > 1 && out.iter().any(|m| matches!(m, Mechanical::RenameColumn(_) | Mechanical::RenameModel(_))) {
        return refuse("a Prisma rename is carried out alone; plan the other changes after it".into());
    }
    // A new column comes with the DTO properties that expose it, and nothing else.
    let columns: Vec<&Vec<String>> = out.iter().filter_map(|m| if let Mechanical::AddColumn { fields, .. } = m { Some(fields) } else { None }).collect();
    let adds_properties = out.iter().any(|m| matches!(m, Mechanical::AddProperty { .. }));
    if columns.len() > 1 {
        return refuse("the plan adds columns to several models; carry them out one model at a time".into());
    }
    if let Some(fields) = columns.first() {
        for m in &out {
            match m {
                Mechanical::AddColumn { .. } => {}
                Mechanical::AddProperty { dto, fields: props } if props.iter().all(|p| fields.contains(p)) => {
                    let _ = dto;
                }
                Mechanical::AddProperty { dto, .. } => return refuse(format!("`{dto}` gets a property that is not one of the new columns; a coder maps it")),
                other => return refuse(format!("a new column is carried out with the DTO properties that expose it, not with a {}", other.kind())),
            }
        }
    } else if adds_properties {
        return refuse("the plan adds DTO properties without a new column: mapping them from existing data needs a coder".into());
    }
    Ok(out)
}

fn kind_name(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Rename => "rename",
        ChangeKind::Signature => "signature",
        ChangeKind::Shape => "shape",
        ChangeKind::Return => "return",
        ChangeKind::Remove => "remove",
        ChangeKind::Behavior => "behavior",
    }
}

fn recognise_one(c: &DecidedChange) -> Option<Mechanical> {
    if c.kind == ChangeKind::Rename {
        let to = c.intent.trim().strip_prefix("rename to `")?.strip_suffix('`')?;
        let identifier = to.chars().next().is_some_and(|f| f.is_alphabetic() || f == '_' || f == '$') && to.chars().all(|x| x.is_alphanumeric() || x == '_' || x == '$');
        if !identifier {
            return None;
        }
        // A Prisma column renames the schema and the client's keys; a model its delegates and
        // the client's names built from it.
        if c.symbol.starts_with("prisma:") {
            return crate::prisma_change::ColumnRename::of(&c.symbol, to).map(Mechanical::RenameColumn).or_else(|| crate::prisma_model::ModelRename::of(&c.symbol, to).map(Mechanical::RenameModel));
        }
        return Some(Mechanical::Rename { symbol: c.symbol.clone(), to: to.to_string() });
    }
    if c.kind == ChangeKind::Signature {
        return crate::parameter::AddParameter::of(&c.symbol, &c.intent).map(Mechanical::AddParameter);
    }
    if c.kind != ChangeKind::Shape {
        return None;
    }
    // `add column a, b` on `prisma:M`; `add property a, b` on a DTO type.
    let names = |list: &str| -> Option<Vec<String>> {
        let fields: Vec<String> = list.split(',').map(|f| f.trim().to_string()).collect();
        fields.iter().all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(fields)
    };
    if let Some(list) = c.intent.trim().strip_prefix("add column ") {
        let model = c.symbol.strip_prefix("prisma:").filter(|m| !m.contains('.'))?;
        return Some(Mechanical::AddColumn { model: model.to_string(), fields: names(list)? });
    }
    if let Some(list) = c.intent.trim().strip_prefix("add property ") {
        return (!c.symbol.starts_with("prisma:")).then_some(Mechanical::AddProperty { dto: c.symbol.clone(), fields: names(list)? });
    }
    let tags = c.intent.trim().strip_prefix("add ")?.strip_suffix(" to the type")?;
    let tags: Vec<String> = tags.split(" & ").map(|t| t.trim().to_string()).collect();
    if tags.iter().all(|t| tag_name(t).is_some()) { Some(Mechanical::AddTags { property: c.symbol.clone(), tags }) } else { None }
}

/// The name of a typia tag written `tags.Name` or `tags.Name<…>`.
fn tag_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("tags.")?;
    let name = rest.split('<').next()?;
    let well_formed = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && (rest.len() == name.len() || (rest.ends_with('>') && rest.len() > name.len() + 2));
    well_formed.then_some(name)
}

/// The edits that carry out `changes` on the files as they are: one `replace_range` per touched
/// region, each with the hash of the lines it replaces. Validations read the files the
/// manifest's targets name; renames ask the workspace's language server.
pub fn edits(ws: &Workspace, manifest: &Manifest, changes: &[Mechanical]) -> Result<Vec<Edit>, NotMechanical> {
    let refuse = |reason: String| NotMechanical { reason };
    let dir = crate::safefs::RootDir::open(ws.root()).map_err(|e| refuse(format!("cannot open the project root: {e}")))?;
    // (before, after) of each file, edited in turn.
    let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let load = |files: &mut BTreeMap<String, (String, String)>, path: &str| -> Result<(), NotMechanical> {
        if !files.contains_key(path) {
            let bytes = dir.read(path).map_err(|e| refuse(format!("cannot read {path}: {e}")))?.ok_or_else(|| refuse(format!("{path} no longer exists")))?;
            let text = String::from_utf8(bytes).map_err(|_| refuse(format!("{path} is not UTF-8 text")))?;
            files.insert(path.to_string(), (text.clone(), text));
        }
        Ok(())
    };
    // Files given tags: their typia import is added last, so that no line moves under a target
    // fact's line number while the edits are made.
    let mut tagged_files: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for change in changes {
        match change {
            Mechanical::AddTags { property, tags } => {
                let target = target_of(manifest, property).ok_or_else(|| refuse(format!("the manifest has no target fact for `{property}`")))?;
                load(&mut files, &target.file)?;
                let (_, after) = files.get_mut(&target.file).expect("loaded above");
                *after = add_tags(&target.file, after, target, tags).map_err(|m| refuse(format!("`{property}`: {m}")))?;
                tagged_files.insert(target.file.clone());
            }
            Mechanical::Rename { symbol, to } => {
                let sem = ws.semantic().ok_or_else(|| refuse(format!("renaming `{symbol}` needs the language server, which is not running")))?;
                let (file, decls) = declarations(ws, symbol).map_err(refuse)?;
                // One request per meaning (a type and a namespace of one name are two); the
                // answers overlap where both meanings are used, so edits are kept once each.
                let mut by_file: BTreeMap<String, Vec<crate::semantic::TextEdit>> = BTreeMap::new();
                for pos in decls {
                    for (path, list) in sem.rename(&file, pos, to).map_err(|e| refuse(format!("the language server cannot rename `{symbol}`: {e}")))? {
                        by_file.entry(path).or_default().extend(list);
                    }
                }
                for (path, mut list) in by_file {
                    if files.get(&path).is_some_and(|(b, a)| b != a) {
                        return Err(refuse(format!("{path} is edited by two decisions; carry them out one at a time")));
                    }
                    load(&mut files, &path)?;
                    list.sort_by_key(|e| (e.from, e.to));
                    list.dedup();
                    let (before, after) = files.get_mut(&path).expect("loaded above");
                    let mut text = before.clone();
                    let mut last = usize::MAX;
                    for e in list.iter().rev() {
                        if e.to > last || e.to > text.len() || e.from > e.to {
                            return Err(refuse(format!("the language server's rename edits of {path} overlap")));
                        }
                        text.replace_range(e.from..e.to, &e.text);
                        last = e.from;
                    }
                    *after = text;
                }
            }
            Mechanical::AddProperty { .. } => {
                // Made with its column, below: the DTO's lines must not move first.
            }
            Mechanical::AddParameter(p) => {
                let target = target_of(manifest, &p.function).ok_or_else(|| refuse(format!("the manifest has no target fact for `{}`", p.function)))?;
                load(&mut files, &target.file)?;
                let (_, after) = files.get_mut(&target.file).expect("loaded above");
                *after = crate::parameter::declaration_edit(&target.file, after, target.start_line, p).map_err(refuse)?;
                if p.value.is_some() {
                    let callers: Vec<String> = ws
                        .registry()
                        .files()
                        .filter(|f| !matches!(f.lang, maintaind_registry::FileLang::Prisma | maintaind_registry::FileLang::Declaration))
                        .filter(|f| f.references.of(&p.function).next().is_some())
                        .map(|f| f.path.clone())
                        .collect();
                    for path in callers {
                        load(&mut files, &path)?;
                        let (_, after) = files.get_mut(&path).expect("loaded above");
                        match crate::parameter::calls_edit(&path, after, p) {
                            Ok(Some(text)) => *after = text,
                            Ok(None) => {}
                            Err(places) => {
                                return Err(refuse(format!("`{}` is called at {} with something other than an object literal; a coder passes `{}` there", p.function, places.join(", "), p.name)));
                            }
                        }
                    }
                }
            }
            Mechanical::AddColumn { model, fields } => {
                let registry = ws.registry();
                let models = maintaind_registry::PrismaModels::from_files(registry.files());
                let schema = target_of(manifest, &format!("prisma:{model}")).ok_or_else(|| refuse(format!("the manifest has no target fact for `prisma:{model}`")))?;
                load(&mut files, &schema.file)?;
                let mut dtos: Vec<&TargetFact> = Vec::new();
                for m in changes {
                    if let Mechanical::AddProperty { dto, .. } = m {
                        dtos.push(target_of(manifest, dto).ok_or_else(|| refuse(format!("the manifest has no target fact for `{dto}`")))?);
                    }
                }
                // Bottom up in each file, so that no declaration moves before its turn.
                dtos.sort_by_key(|t| std::cmp::Reverse(t.start_line));
                // Request bodies, as the planner names them: `ICreate`, `IUpdate`, `IJoin` (a
                // sign-up creates the row), and the entity-named spellings (`ITodoTodo.ITodoCreate`).
                let variant_of = |dto: &str, word: &str| dto.contains('.') && dto.rsplit('.').next().is_some_and(|n| n.contains(word));
                let request = |dto: &str| variant_of(dto, "Create") || variant_of(dto, "Update") || variant_of(dto, "Join");
                let variant = |word: &str| dtos.iter().find(|t| variant_of(&t.symbol, word)).map(|t| t.symbol.clone());
                let (create_dto, update_dto) = (variant("Create").or_else(|| variant("Join")), variant("Update"));
                for field in fields {
                    let add = crate::prisma_add::AddColumn { model: model.clone(), field: field.clone(), dtos: dtos.iter().map(|t| t.symbol.clone()).collect() };
                    if let Some(problem) = crate::prisma_add::problem(&models, &add) {
                        return Err(refuse(format!("adding `{field}` to `prisma:{model}`: {problem}")));
                    }
                    let (_, after) = files.get_mut(&schema.file).expect("loaded above");
                    *after = crate::prisma_add::schema_edit(after, &add, &models).ok_or_else(|| refuse(format!("`prisma:{model}` has no column to put `{field}` after in {}", schema.file)))?;
                    for t in &dtos {
                        let wants = changes.iter().any(|m| matches!(m, Mechanical::AddProperty { dto, fields } if *dto == t.symbol && fields.contains(field)));
                        if !wants {
                            continue;
                        }
                        load(&mut files, &t.file)?;
                        let (_, after) = files.get_mut(&t.file).expect("loaded above");
                        *after = crate::prisma_add::dto_edit(&t.file, after, &t.symbol, t.start_line, field, request(&t.symbol)).map_err(|m| refuse(format!("`{}`: {m}", t.symbol)))?;
                    }
                    if create_dto.is_some() || update_dto.is_some() {
                        let writers: Vec<String> = registry
                            .files()
                            .filter(|f| !matches!(f.lang, maintaind_registry::FileLang::Prisma | maintaind_registry::FileLang::Declaration))
                            .filter(|f| f.references.of(model).next().is_some())
                            .map(|f| f.path.clone())
                            .collect();
                        for path in writers {
                            load(&mut files, &path)?;
                            let (_, after) = files.get_mut(&path).expect("loaded above");
                            match crate::prisma_add::body_edit(&path, after, &models, &add, create_dto.as_deref(), update_dto.as_deref()) {
                                Ok(Some(text)) => *after = text,
                                Ok(None) => {}
                                Err(places) => {
                                    return Err(refuse(format!(
                                        "clients set `{field}`, but the data written at {} is not built from the request body field by field; a coder passes it there",
                                        places.join(", ")
                                    )));
                                }
                            }
                        }
                    }
                }
            }
            Mechanical::RenameModel(r) => {
                let registry = ws.registry();
                let models = maintaind_registry::PrismaModels::from_files(registry.files());
                let schemas = crate::prisma_change::schema_files(registry);
                for path in &schemas {
                    load(&mut files, path)?;
                }
                let texts: Vec<&str> = schemas.iter().map(|p| files[p].1.as_str()).collect();
                if let Some(problem) = r.problem(&models, &texts) {
                    return Err(refuse(format!("renaming `prisma:{}`: {problem}", r.model)));
                }
                for path in &schemas {
                    let (_, after) = files.get_mut(path).expect("loaded above");
                    *after = crate::prisma_model::schema_edit(after, r);
                }
                // Any file may name the model: a delegate, a `Prisma.<model>WhereInput`.
                let code: Vec<String> =
                    registry.files().filter(|f| !matches!(f.lang, maintaind_registry::FileLang::Prisma | maintaind_registry::FileLang::Declaration)).map(|f| f.path.clone()).collect();
                for path in code {
                    let bytes = dir.read(&path).map_err(|e| refuse(format!("cannot read {path}: {e}")))?.unwrap_or_default();
                    if !String::from_utf8_lossy(&bytes).contains(r.model.as_str()) && !files.contains_key(&path) {
                        continue;
                    }
                    load(&mut files, &path)?;
                    let (_, after) = files.get_mut(&path).expect("loaded above");
                    if let Some(text) = crate::prisma_model::code_edit(&path, after, &models, r).map_err(|m| refuse(format!("renaming `prisma:{}`: {m}", r.model)))? {
                        *after = text;
                    }
                }
            }
            Mechanical::RenameColumn(r) => {
                let registry = ws.registry();
                let models = maintaind_registry::PrismaModels::from_files(registry.files());
                if let Some(problem) = r.problem(&models) {
                    return Err(refuse(format!("renaming `prisma:{}.{}`: {problem}", r.model, r.field)));
                }
                for path in crate::prisma_change::schema_files(registry) {
                    load(&mut files, &path)?;
                    let (_, after) = files.get_mut(&path).expect("loaded above");
                    *after = crate::prisma_change::schema_edit(after, r);
                }
                // Rows are reached through any model's delegate (an `include` of a relation), so
                // every file calling one and naming the field is read.
                let reaching: Vec<String> = registry
                    .files()
                    .filter(|f| !matches!(f.lang, maintaind_registry::FileLang::Prisma | maintaind_registry::FileLang::Declaration))
                    .filter(|f| f.references.of(&r.field).next().is_some())
                    .filter(|f| f.references.iter().any(|(n, x)| x.kind == maintaind_registry::RefKind::Property && models.is_model(n)))
                    .map(|f| f.path.clone())
                    .collect();
                for path in reaching {
                    load(&mut files, &path)?;
                    let (_, after) = files.get_mut(&path).expect("loaded above");
                    if let Some(text) = crate::prisma_change::code_edit(&path, after, &models, r).map_err(|m| refuse(format!("renaming `prisma:{}.{}`: {m}", r.model, r.field)))? {
                        *after = text;
                    }
                }
            }
        }
    }
    for path in &tagged_files {
        let (_, after) = files.get_mut(path).expect("tagged files are loaded");
        if !has_tags_import(path, after) {
            *after = with_tags_import(after);
        }
    }
    Ok(files.into_iter().filter(|(_, (before, after))| before != after).map(|(file, (before, after))| replace_range(&file, &before, &after)).collect())
}

/// The file declaring `symbol` and the position of each of its meanings' names.
fn declarations(ws: &Workspace, symbol: &str) -> Result<(String, Vec<maintaind_registry::Pos>), String> {
    let registry = ws.registry();
    let (file, name) = crate::blast::locate(registry, symbol).map_err(|e| e.to_string())?;
    let index = registry.file(&file).ok_or_else(|| format!("{file} is not in the registry"))?;
    let mut kinds = Vec::new();
    let mut positions = Vec::new();
    for s in index.symbols.iter().filter(|s| s.name == name) {
        if !kinds.contains(&s.kind) {
            kinds.push(s.kind);
            positions.push(s.name_span.start);
        }
    }
    if positions.is_empty() {
        return Err(format!("`{symbol}` has no declaration in {file}"));
    }
    Ok((file, positions))
}

fn target_of<'m>(manifest: &'m Manifest, symbol: &str) -> Option<&'m TargetFact> {
    manifest.facts.targets.iter().find(|t| t.symbol == symbol)
}

/// `text` with `tags` joined to the type of the property `target` names (found by name on its
/// first line: the edits made before it change lines in place, never their number).
fn add_tags(path: &str, text: &str, target: &TargetFact, tags: &[String]) -> Result<String, String> {
    let name = target.symbol.rsplit('.').next().unwrap_or(&target.symbol);
    let tree = maintaind_registry::parse_only(path, text.as_bytes()).ok_or("not a TypeScript file")?;
    let line = target.start_line.checked_sub(1).ok_or("the target has no line")? as usize;
    let prop = find(tree.root_node(), &|n| n.kind() == "property_signature" && n.start_position().row == line && n.child_by_field_name("name").is_some_and(|m| &text[m.byte_range()] == name))
        .ok_or_else(|| format!("no property `{name}` on line {} of {path}; plan again", target.start_line))?;
    let ty = prop.child_by_field_name("type").and_then(|a| a.named_child(0)).ok_or_else(|| format!("`{name}` has no type annotation to tag"))?;
    let new_type = tagged(text, ty, tags)?;
    Ok(format!("{}{}{}", &text[..ty.start_byte()], new_type, &text[ty.end_byte()..]))
}

/// The first node under `node` (itself included), in document order, that `pred` accepts.
pub(crate) fn find<'t>(node: Node<'t>, pred: &dyn Fn(Node<'t>) -> bool) -> Option<Node<'t>> {
    if pred(node) {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
    children.into_iter().find_map(|c| find(c, pred))
}

/// The members of a union (or intersection) type, nested ones flattened, parentheses kept.
fn members<'t>(node: Node<'t>, kind: &str, out: &mut Vec<Node<'t>>) {
    if node.kind() == kind {
        let mut cursor = node.walk();
        for c in node.named_children(&mut cursor) {
            members(c, kind, out);
        }
    } else {
        out.push(node);
    }
}

/// The type text with `tags` joined: an existing tag of the same name is replaced.
fn tagged(text: &str, ty: Node, tags: &[String]) -> Result<String, String> {
    let src = |n: Node| text[n.byte_range()].to_string();
    let mut union = Vec::new();
    members(ty, "union_type", &mut union);
    let nullish = |n: &Node| matches!(text[n.byte_range()].trim(), "null" | "undefined");
    let values: Vec<usize> = (0..union.len()).filter(|&i| !nullish(&union[i])).collect();
    let [value] = values[..] else {
        return Err(format!("its type `{}` is a union of several values; say which one the tag is for", src(ty)));
    };
    let mut inner = union[value];
    while inner.kind() == "parenthesized_type" {
        inner = inner.named_child(0).ok_or("an empty parenthesized type")?;
    }
    let mut parts = Vec::new();
    members(inner, "intersection_type", &mut parts);
    let mut texts: Vec<String> = parts.iter().map(|&p| src(p)).collect();
    if texts.iter().all(|t| tag_name(t).is_some()) {
        return Err(format!("its type `{}` has no value type to tag", src(ty)));
    }
    for tag in tags {
        let name = tag_name(tag).expect("recognised tags are well formed");
        match texts.iter().position(|t| tag_name(t) == Some(name)) {
            Some(i) => texts[i] = tag.clone(),
            None => texts.push(tag.clone()),
        }
    }
    let joined = texts.join(" & ");
    if union.len() == 1 {
        return Ok(joined);
    }
    // In a union the intersection needs its parentheses: `(string & tags.X) | undefined`.
    Ok(union.iter().enumerate().map(|(i, &m)| if i == value { format!("({joined})") } else { src(m) }).collect::<Vec<_>>().join(" | "))
}

/// Whether `tags` is imported from typia (`import { tags } from "typia"`, possibly among others).
pub(crate) fn has_tags_import(path: &str, text: &str) -> bool {
    let Some(tree) = maintaind_registry::parse_only(path, text.as_bytes()) else { return false };
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.named_children(&mut cursor).filter(|n| n.kind() == "import_statement").any(|n| {
        let from_typia = n.child_by_field_name("source").is_some_and(|s| text[s.byte_range()].trim_matches(|c| c == '"' || c == '\'') == "typia");
        from_typia
            && find(n, &|m| m.kind() == "import_specifier" && m.child_by_field_name("alias").is_none() && m.child_by_field_name("name").is_some_and(|x| &text[x.byte_range()] == "tags")).is_some()
    })
}

/// `text` with `import { tags } from "typia";` as its first line (AutoBE's DTO files start so).
pub(crate) fn with_tags_import(text: &str) -> String {
    format!("import {{ tags }} from \"typia\";\n{}{text}", if text.starts_with("import ") { "" } else { "\n" })
}

/// One `replace_range` covering the lines where `before` and `after` differ.
fn replace_range(file: &str, before: &str, after: &str) -> Edit {
    let b: Vec<&str> = before.split_inclusive('\n').collect();
    let a: Vec<&str> = after.split_inclusive('\n').collect();
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let old = b[prefix..b.len() - suffix].concat();
    let new = a[prefix..a.len() - suffix].concat();
    if old.is_empty() {
        // Pure insertion: replace the line after it (or before it, at the end) together with it.
        return if prefix < b.len() {
            Edit::ReplaceRange { file: file.into(), start_line: prefix as u32 + 1, end_line: prefix as u32 + 1, expect_hash: crate::safefs::hash_text(b[prefix]), text: format!("{new}{}", b[prefix]) }
        } else {
            Edit::ReplaceRange { file: file.into(), start_line: prefix as u32, end_line: prefix as u32, expect_hash: crate::safefs::hash_text(b[prefix - 1]), text: format!("{}{new}", b[prefix - 1]) }
        };
    }
    Edit::ReplaceRange { file: file.into(), start_line: prefix as u32 + 1, end_line: (b.len() - suffix) as u32, expect_hash: crate::safefs::hash_text(&old), text: new }
}

/// `change --apply` once the plan is made (in the CLI's process or the daemon's): the edits of
/// a mechanical plan, shown (`dry_run`) or written through `apply` and kept only when the
/// language server finds no new error; otherwise rolled back exactly.
pub fn carry_out(ws: &mut Workspace, manifest: &Manifest, dry_run: bool, who: &crate::apply::Requester) -> Result<ChangeApplied, RequestError> {
    let mut report = ChangeApplied { manifest: manifest.clone(), outcome: Outcome::PlanOnly, kinds: Vec::new(), reason: None, diff: None, applied: None };
    let changes = match recognise(manifest) {
        Ok(m) => m,
        Err(e) => {
            report.reason = Some(e.to_string());
            return Ok(report);
        }
    };
    report.kinds = changes.iter().map(|c| c.kind().to_string()).collect();
    let columns: Vec<crate::prisma_change::ColumnRename> = changes.iter().filter_map(|m| if let Mechanical::RenameColumn(r) = m { Some(r.clone()) } else { None }).collect();
    let added: Vec<crate::prisma_add::AddColumn> = changes
        .iter()
        .filter_map(|m| if let Mechanical::AddColumn { model, fields } = m { Some((model, fields)) } else { None })
        .flat_map(|(model, fields)| fields.iter().map(|f| crate::prisma_add::AddColumn { model: model.clone(), field: f.clone(), dtos: Vec::new() }))
        .collect();
    let renamed_models: Vec<crate::prisma_model::ModelRename> = changes.iter().filter_map(|m| if let Mechanical::RenameModel(r) = m { Some(r.clone()) } else { None }).collect();
    let prisma = !columns.is_empty() || !added.is_empty() || !renamed_models.is_empty();
    // A rename asked of a server missing a project misses that project's files, and the check
    // after the write would miss their errors: nothing is made or written until it is ready.
    // (A column rename asks the syntax and the project's compiler, not the server.)
    if !prisma
        && let Some(sem) = ws.semantic()
        && !sem.is_ready()
    {
        return Err(RequestError::Environment(anyhow::anyhow!(
            "nothing written: the language server has not loaded every project ({}), so the edits and their check could miss files; retry when `maintaind daemon status` says ready",
            sem.unloaded_projects().join(", ")
        )));
    }
    let ops = match edits(ws, manifest, &changes) {
        Ok(ops) => ops,
        Err(e) => {
            report.reason = Some(e.to_string());
            return Ok(report);
        }
    };
    if ops.is_empty() {
        report.reason = Some(NotMechanical { reason: "the edits change nothing".into() }.to_string());
        return Ok(report);
    }
    let root = ws.root().to_path_buf();
    if dry_run {
        // Validated exactly as the write would be (gate, hashes, syntax), then shown.
        let no_symbols = |q: &str| -> Result<(String, String), String> { Err(format!("`{q}`: mechanical edits name no symbol")) };
        let changes = crate::edits::plan(&root, manifest, &ops, &no_symbols)
            .map_err(|errors| RequestError::BadInput(format!("nothing written; the edits do not apply: {}", errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))))?;
        report.outcome = Outcome::DryRun;
        report.diff = Some(diff(&changes));
        return Ok(report);
    }
    if prisma {
        let mut notes = Vec::new();
        for r in &renamed_models {
            let stale = stale_doc_links(ws, &ops, r);
            if let Some(first) = stale.first() {
                notes.push(format!(
                    "docs in {} file(s) the change does not otherwise touch still say {{@link {}…}} ({first}{}): comments only, outside the change's scope, left as they are",
                    stale.len(),
                    r.model,
                    if stale.len() > 1 { ", …" } else { "" }
                ));
            }
        }
        let models = maintaind_registry::PrismaModels::from_files(ws.registry().files());
        // What the compiler names after a write, made right on the files as written.
        let fix = move |found: &[crate::semantic::ServerDiagnostic], current: &dyn Fn(&str) -> Option<String>| -> Vec<(String, String)> {
            let mut done: BTreeMap<String, String> = BTreeMap::new();
            for r in &columns {
                let now = |p: &str| done.get(p).cloned().or_else(|| current(p));
                let fixes = crate::prisma_change::compiler_fixes(found, &now, r);
                done.extend(fixes);
            }
            for r in &renamed_models {
                let now = |p: &str| done.get(p).cloned().or_else(|| current(p));
                let fixes = crate::prisma_model::compiler_fixes(found, &now, &models, r);
                done.extend(fixes);
            }
            for a in &added {
                let now = |p: &str| done.get(p).cloned().or_else(|| current(p));
                let mapped = crate::prisma_add::mapping_fixes(found, &now, &models, a);
                done.extend(mapped);
                let now = |p: &str| done.get(p).cloned().or_else(|| current(p));
                let selected = crate::prisma_add::select_fixes(found, &now, &models, a);
                done.extend(selected);
            }
            done.into_iter().collect()
        };
        return carry_out_prisma(ws, manifest, ops, &fix, notes, report, who);
    }
    let applied = crate::apply::run(ws, manifest, &ops, false, who)?;
    let unchecked = !applied.diagnostics.checked || !applied.diagnostics.unchecked.is_empty();
    let failed = unchecked || !applied.diagnostics.new_errors.is_empty();
    if failed {
        rollback(ws, &applied, who)?;
    }
    report.outcome = if !failed {
        Outcome::Applied
    } else if unchecked {
        Outcome::Unverified
    } else {
        Outcome::RolledBack
    };
    report.applied = Some(applied);
    Ok(report)
}

/// Undo the transaction `applied` wrote, exactly, and take the files back into the registry;
/// the manifest stays active for a coder.
fn rollback(ws: &mut Workspace, applied: &crate::apply::ApplyReport, who: &crate::apply::Requester) -> Result<(), RequestError> {
    let root = ws.root().to_path_buf();
    let _lock = crate::journal::WriteLock::acquire(&crate::state::state_dir(&root), who.say, who.gone)?;
    crate::journal::Journal::new(&root)
        .rollback(Some(&applied.txn), false)
        .map_err(|e| RequestError::Environment(anyhow::anyhow!("the change broke the project and its rollback failed: {e:#}; undo with `maintaind rollback {}`", applied.txn)))?;
    for f in &applied.files {
        if maintaind_registry::classify(&f.path).is_some() {
            let _ = ws.update_file(&f.path);
        }
    }
    Ok(())
}

/// Given the compiler's new errors and a reader of the files as written: the files made right
/// where the errors name a place the change must reach, `(path, new text)`.
type CompilerFix = dyn Fn(&[crate::semantic::ServerDiagnostic], &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)>;

/// A Prisma change (a column renamed or added), written and judged as the issue asks: the
/// project's own compiler over every tsconfig project before the write, the client regenerated
/// offline with the project's own Prisma CLI after it, the compiler again. What the syntax did
/// not reach shows as new errors `fix` knows (a read of the old name in a row kept in a `Map`;
/// a DTO built without the new property, a row fetched without it): made right on the files as
/// written, and the whole change written again as one transaction, a few rounds at most. Any
/// new error left rolls everything back, and the client is regenerated from the old schema.
/// The TypeScript files outside `ops` whose docs link the renamed model by its old name.
fn stale_doc_links(ws: &Workspace, ops: &[Edit], r: &crate::prisma_model::ModelRename) -> Vec<String> {
    let Ok(dir) = crate::safefs::RootDir::open(ws.root()) else { return Vec::new() };
    let touched: std::collections::BTreeSet<&str> = ops.iter().filter_map(|e| if let Edit::ReplaceRange { file, .. } = e { Some(file.as_str()) } else { None }).collect();
    ws.registry()
        .files()
        .filter(|f| !matches!(f.lang, maintaind_registry::FileLang::Prisma | maintaind_registry::FileLang::Declaration) && !touched.contains(f.path.as_str()))
        .filter(|f| dir.read(&f.path).ok().flatten().is_some_and(|b| crate::prisma_model::links_model(&String::from_utf8_lossy(&b), r)))
        .map(|f| f.path.clone())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn carry_out_prisma(
    ws: &mut Workspace,
    manifest: &Manifest,
    ops: Vec<Edit>,
    fix: &CompilerFix,
    extra_notes: Vec<String>,
    mut report: ChangeApplied,
    who: &crate::apply::Requester,
) -> Result<ChangeApplied, RequestError> {
    use crate::prisma_change::{Compiler, PrismaCli};
    let root = ws.root().to_path_buf();
    let env = |m: String| RequestError::Environment(anyhow::anyhow!("nothing written: {m}"));
    let cli = PrismaCli::find(&root, ws.registry()).map_err(env)?;
    let judge = Compiler::find(&root, ws.registry()).map_err(env)?;
    // The baseline is the schema's own client: one generated earlier from another schema (a
    // rollback without regeneration, a `git checkout`) would hide the change's errors as old.
    who.say(&format!("regenerating the Prisma client from the current schema, then type-checking with {}", judge.describe()));
    cli.generate(&root).map_err(|e| env(format!("the Prisma client could not be generated from the current schema: {e}")))?;
    let before = judge.diagnostics(&root).map_err(|e| env(format!("the project's compiler gave no baseline: {e}")))?;
    let mut applied = crate::apply::run(ws, manifest, &ops, true, who)?;
    let mut notes = vec![format!("judged by {} after {} (the language server keeps the old client's types)", judge.describe(), cli.describe())];
    notes.extend(extra_notes);
    let verdict = || -> Result<Vec<crate::semantic::ServerDiagnostic>, String> {
        who.say("regenerating the Prisma client and type-checking again");
        cli.generate(&root)?;
        let after = judge.diagnostics(&root)?;
        Ok(crate::semantic::new_diagnostics(&before, &after))
    };
    let mut fresh = verdict();
    // What the syntax could not reach, the compiler names: made right on the files as written,
    // and the whole change written again as one transaction. A few rounds at most (a mapping
    // added, then the `select` its row needs).
    for _ in 0..3 {
        let Ok(found) = &fresh else { break };
        if !found.iter().any(|d| d.error) {
            break;
        }
        let dir = crate::safefs::RootDir::open(&root).map_err(|e| RequestError::Environment(anyhow::anyhow!("cannot open the project root: {e}")))?;
        let read = |p: &str| dir.read(p).ok().flatten().and_then(|b| String::from_utf8(b).ok());
        let fixes = fix(found, &read);
        if fixes.is_empty() {
            break;
        }
        let named: std::collections::BTreeSet<String> = found.iter().filter(|d| d.error && fixes.iter().any(|(p, _)| *p == d.file)).map(|d| format!("{}:{}", d.file, d.line)).collect();
        let named: Vec<String> = named.into_iter().collect();
        notes.push(format!("the compiler named places the change must reach that the syntax did not ({}); made right there", named.join(", ")));
        // The files as written, with the fixes.
        let mut finals: BTreeMap<String, String> = fixes.into_iter().collect();
        for f in applied.files.iter().filter(|f| f.action == "modified") {
            if !finals.contains_key(&f.path)
                && let Some(text) = read(&f.path)
            {
                finals.insert(f.path.clone(), text);
            }
        }
        rollback(ws, &applied, who)?;
        let mut ops = Vec::new();
        for (path, after) in &finals {
            let before = read(path).ok_or_else(|| RequestError::Environment(anyhow::anyhow!("cannot read {path} again after the first write was undone")))?;
            if before != *after {
                ops.push(replace_range(path, &before, after));
            }
        }
        applied = match crate::apply::run(ws, manifest, &ops, true, who) {
            Ok(a) => a,
            Err(e) => {
                // Nothing of the change is on disk: the client goes back to the schema's.
                let _ = cli.generate(&root);
                return Err(e);
            }
        };
        fresh = verdict();
    }
    let (new_errors, new_warnings): (Vec<_>, Vec<_>) = fresh.as_ref().map(|f| f.iter().cloned().partition(|d| d.error)).unwrap_or_default();
    let checked = fresh.is_ok();
    if let Err(e) = &fresh {
        notes.push(format!("not verified: {e}"));
    }
    if !checked || !new_errors.is_empty() {
        rollback(ws, &applied, who)?;
        if let Err(e) = cli.generate(&root) {
            notes.push(format!("the client could not be regenerated from the restored schema ({e}); run {} yourself", cli.describe()));
        }
    }
    report.outcome = match (checked, new_errors.is_empty()) {
        (false, _) => Outcome::Unverified,
        (true, false) => Outcome::RolledBack,
        (true, true) => Outcome::Applied,
    };
    if report.outcome == Outcome::Applied {
        if report.kinds.iter().any(|k| k == "model rename") {
            notes.push("`maintaind rollback` restores the schema and regenerates the client; the table keeps its name through the `@@map` added to the model, so the database needs no migration (to rename the table as well, drop the `@@map` and write the migration as a RENAME TABLE to keep the data)".into());
        } else {
            notes.push("`maintaind rollback` restores the schema and regenerates the client; the database follows at your next migration (for a renamed column, `prisma migrate dev` would drop and add it: write the migration as a RENAME COLUMN to keep the data)".into());
        }
    }
    applied.diagnostics =
        crate::apply::DiagnosticsReport { checked, files: judge.projects().to_vec(), new_errors, new_warnings, unchecked: if checked { Vec::new() } else { judge.projects().to_vec() }, notes };
    report.applied = Some(applied);
    Ok(report)
}

/// The unified diff of a set of planned file changes, for `--dry-run`.
pub fn diff(changes: &BTreeMap<String, crate::edits::FileChange>) -> String {
    let mut out = String::new();
    for (path, c) in changes {
        let before = c.before.as_deref().unwrap_or("");
        let after = c.after.as_deref().unwrap_or("");
        let patch = diffy::create_patch(before, after).to_string();
        // diffy writes `--- original` / `+++ modified`; name the file as git does.
        let body = patch.split_once('\n').and_then(|(_, rest)| rest.split_once('\n')).map_or(patch.as_str(), |(_, rest)| rest);
        out.push_str(&format!("--- a/{path}\n+++ b/{path}\n{body}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str, line: u32, symbol: &str, tags: &[&str]) -> Result<String, String> {
        let target =
            TargetFact { symbol: symbol.into(), kind: "property".into(), file: "a.ts".into(), start_line: line, end_line: line, signature: String::new(), hash: String::new(), via: String::new() };
        add_tags("a.ts", text, &target, &tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn tags_join_the_type_as_autobe_writes_them() {
        let src = "import { tags } from \"typia\";\nexport type A = {\n  name: string;\n  title?: string | undefined;\n  id?: (string & tags.Format<\"uuid\">) | null | undefined;\n  n: number & tags.Type<\"int32\"> & tags.Maximum<10>;\n};\n";
        assert!(tag(src, 3, "A.name", &["tags.MaxLength<120>"]).unwrap().contains("  name: string & tags.MaxLength<120>;\n"));
        assert!(tag(src, 4, "A.title", &["tags.MinLength<5>", "tags.MaxLength<150>"]).unwrap().contains("  title?: (string & tags.MinLength<5> & tags.MaxLength<150>) | undefined;\n"));
        assert!(tag(src, 5, "A.id", &["tags.MaxLength<36>"]).unwrap().contains("  id?: (string & tags.Format<\"uuid\"> & tags.MaxLength<36>) | null | undefined;\n"));
        // A tag of the same name is replaced, not doubled.
        assert!(tag(src, 6, "A.n", &["tags.Maximum<100>"]).unwrap().contains("  n: number & tags.Type<\"int32\"> & tags.Maximum<100>;\n"));
    }

    #[test]
    fn what_cannot_be_tagged_is_refused_with_the_reason() {
        let src = "type A = {\n  k: \"a\" | \"b\";\n  m: string;\n};\n";
        assert!(tag(src, 2, "A.k", &["tags.MaxLength<1>"]).unwrap_err().contains("union of several values"));
        assert!(tag(src, 2, "A.m", &["tags.MaxLength<1>"]).unwrap_err().contains("no property `m` on line 2"));
    }

    #[test]
    fn the_typia_import_is_found_or_added() {
        assert!(has_tags_import("a.ts", "import { tags } from \"typia\";\n"));
        assert!(has_tags_import("a.ts", "import typia, { tags } from 'typia';\n"));
        assert!(!has_tags_import("a.ts", "import { tags as t } from \"typia\";\n"));
        assert!(!has_tags_import("a.ts", "import { tags } from \"./typia\";\n"));
        assert_eq!(with_tags_import("/** doc */\nexport type A = {};\n"), "import { tags } from \"typia\";\n\n/** doc */\nexport type A = {};\n");
    }

    #[test]
    fn decisions_are_recognised_exactly() {
        let c = |kind, intent: &str| DecidedChange { symbol: "A.name".into(), kind, intent: intent.into() };
        assert_eq!(
            recognise_one(&c(ChangeKind::Shape, "add tags.MaxLength<120> & tags.Format<\"email\"> to the type")),
            Some(Mechanical::AddTags { property: "A.name".into(), tags: vec!["tags.MaxLength<120>".into(), "tags.Format<\"email\">".into()] })
        );
        assert_eq!(recognise_one(&c(ChangeKind::Shape, "add view_count")), None);
        assert_eq!(recognise_one(&c(ChangeKind::Shape, "add tags.MaxLength<120 to the type")), None);
        assert_eq!(recognise_one(&c(ChangeKind::Shape, "add tags.<1> to the type")), None);
        assert_eq!(recognise_one(&c(ChangeKind::Rename, "add tags.MaxLength<1> to the type")), None);
    }

    #[test]
    fn a_replace_range_covers_only_the_changed_lines() {
        let Edit::ReplaceRange { start_line, end_line, text, .. } = replace_range("a.ts", "a\nb\nc\n", "a\nB\nc\n") else { panic!() };
        assert_eq!((start_line, end_line, text.as_str()), (2, 2, "B\n"));
        let Edit::ReplaceRange { start_line, end_line, text, .. } = replace_range("a.ts", "a\nb\n", "x\na\nb\n") else { panic!() };
        assert_eq!((start_line, end_line, text.as_str()), (1, 1, "x\na\n"));
    }
}

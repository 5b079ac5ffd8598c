//! `maintaind mcp`: an MCP server on stdio (rmcp, the official Rust SDK) for AI agents.
//!
//! It is a thin adapter over the command line, so it cannot drift from it:
//! - each tool is a CLI command (`symbols`, `blast`, `change`, `manifest`, `gate_check`,
//!   `gate_audit`, `apply`, `check`); its input schema is generated from that command's clap
//!   arguments (the flags are the arguments), and its output schema from the Rust type the
//!   command prints with `--json` (schemars);
//! - a call builds the command line, parses it with clap, and runs it in this process through
//!   `cli::run_with` with a capturing [`Out`]: `structuredContent` *is* the CLI's `--json`
//!   output (an array is held in one field, as MCP wants an object), and a failure is a tool
//!   error carrying the CLI's message. The commands reach the daemon the way the CLI does
//!   (`cli::ask` over `rpc::method`); the server starts the daemon when none runs.
//!
//! `-` (stdin) is never read: stdin is the transport. `apply` and `change` take the edits and
//! the decisions inline instead (`edits_text`, `decisions_json`).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use clap::CommandFactory;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, Implementation, JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use super::Cli;
use super::output::Out;
use crate::lsp::Start;

/// One tool: a CLI command and how its output and input map to MCP.
struct Spec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    /// The command line after `maintaind` (for `manifest`, the action comes from `action`).
    argv: &'static [&'static str],
    read_only: bool,
    destructive: bool,
    /// The CLI prints an array: MCP gets `{field: [...]}`.
    array_field: Option<&'static str>,
    /// An inline field standing for a `-` (stdin) argument: (clap argument id, MCP field, is JSON).
    inline: Option<(&'static str, &'static str, bool)>,
    output: fn() -> Value,
}

const TOOLS: [Spec; 8] = [
    Spec {
        name: "symbols",
        title: "Search symbols",
        description: "Search the symbol registry: exact qualified name first, then segment, prefix, substring, any case. Returns the hits with file, lines, signature and hash (`apply`'s expect_hash).",
        argv: &["symbols"],
        read_only: true,
        destructive: false,
        array_field: Some("hits"),
        inline: None,
        output: || wrapped::<crate::workspace::SymbolHit>("hits"),
    },
    Spec {
        name: "blast",
        title: "Blast radius",
        description: "Which files and symbols a change of the given kind to SYMBOL breaks (must_change) or touches, from the TypeScript language server when it runs (else the registry alone: `approximate` says so), with the tests that exercise it.",
        argv: &["blast"],
        read_only: true,
        destructive: false,
        array_field: None,
        inline: None,
        output: schema::<crate::blast::BlastReport>,
    },
    Spec {
        name: "change",
        title: "Plan a change",
        description: "Plan a change from plain words (or from your own decisions in `decisions_json`, the planner schema: `manifest` with action `schema` prints it). Facts come from the registry and the language server; the manifest is stored and made active unless `dry_run`. `amend` re-plans the active manifest's work from the tree as it is. `apply` carries a mechanical plan out itself (a rename of a TypeScript symbol or a Prisma model or column, a new column exposed on its DTO, a validation tag, a new parameter): written in one transaction and kept only when nothing new is wrong (the language server's verdict; for a Prisma change, the project's own tsc after the client is regenerated offline), else rolled back, `outcome` says so; a plan that is not mechanical is an error \"plan only: needs a coder\" with the plan stored and active for you to code.",
        argv: &["change"],
        read_only: false,
        destructive: false,
        array_field: None,
        inline: Some(("decisions", "decisions_json", true)),
        output: change_output,
    },
    Spec {
        name: "manifest",
        title: "Manifests",
        description: "The active manifest (`show`), every stored one (`list`), `activate` ID, `clear`, `widen` PATHS with a `reason` (adds files to the scope, recorded with who and why), or the decisions `schema`.",
        argv: &["manifest"],
        read_only: false,
        destructive: false,
        array_field: Some("manifests"),
        inline: None,
        output: manifest_output,
    },
    Spec {
        name: "gate_check",
        title: "May these paths be written?",
        description: "One verdict per path: allowed only inside the active manifest's scope (no `..` out, no link, exact case, not .git/ or .maintaind/, no excluded category), with the reason and, when refused, how to widen the scope.",
        argv: &["gate", "check"],
        read_only: true,
        destructive: false,
        array_field: Some("verdicts"),
        inline: None,
        output: || wrapped::<crate::gate::Verdict>("verdicts"),
    },
    Spec {
        name: "gate_audit",
        title: "Audit writes since activation",
        description: "Every file created, changed or deleted under the root since the active manifest was activated, however it was written, and whether the scope covers it (`out_of_scope` counts those it does not).",
        argv: &["gate", "audit"],
        read_only: true,
        destructive: false,
        array_field: None,
        inline: None,
        output: schema::<crate::tree::Audit>,
    },
    Spec {
        name: "apply",
        title: "Apply edits",
        description: "Apply edit operations ({\"edits\": [...]}, docs/guide/apply.md) or a unified diff (`patch` true) given in `edits_text`, inside the active manifest's scope: all validated first, written atomically and journalled, then checked through the language server (new errors are reported). Undo with `maintaind rollback`.",
        argv: &["apply"],
        read_only: false,
        destructive: true,
        array_field: None,
        inline: Some(("edits", "edits_text", false)),
        output: schema::<crate::apply::ApplyReport>,
    },
    Spec {
        name: "check",
        title: "Pre-commit check",
        description: "The changed symbols (HEAD against the index with `staged`; a branch against its merge base with `base`, e.g. \"origin/main\", or `range` \"A..B\"; else the working tree), their blast radius, the must-change files the change leaves broken, and writes outside the active manifest's scope. `violations` empty means the change is fine.",
        argv: &["check"],
        read_only: true,
        destructive: false,
        array_field: None,
        inline: None,
        output: schema::<crate::check::CheckReport>,
    },
];

/// Arguments of every command that are not the tool's: the globals the server sets itself,
/// and what would print something else than JSON.
const NOT_ARGUMENTS: [&str; 9] = ["root", "json", "ts_server", "offline", "no_daemon", "daemon", "help", "sarif", "all"];

fn generator() -> schemars::SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12().into_generator()
}

fn schema<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(generator().root_schema_for::<T>()).expect("schemas serialise")
}

/// `{field: [T]}` with T's definitions hoisted.
fn wrapped<T: schemars::JsonSchema>(field: &str) -> Value {
    let mut g = generator();
    let item = g.subschema_for::<T>();
    let mut v = json!({"type": "object", "properties": {field: {"type": "array", "items": item}}, "required": [field]});
    let defs = g.take_definitions(true);
    if !defs.is_empty() {
        v["$defs"] = Value::Object(defs);
    }
    v
}

/// `change` prints the manifest, or with `apply` what became of it (the manifest inside).
fn change_output() -> Value {
    let mut g = generator();
    let manifest = g.subschema_for::<crate::manifest::Manifest>();
    let applied = g.subschema_for::<crate::mechanical::ChangeApplied>();
    let mut v = json!({"type": "object", "anyOf": [manifest, applied]});
    v["$defs"] = Value::Object(g.take_definitions(true));
    v
}

/// `manifest` prints a manifest (show, activate, widen), a list, `{"cleared": bool}` or the
/// decisions schema.
fn manifest_output() -> Value {
    let mut g = generator();
    let manifest = g.subschema_for::<crate::manifest::Manifest>();
    let mut v = json!({
        "type": "object",
        "anyOf": [
            manifest,
            {"type": "object", "properties": {"manifests": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "request": {"type": "string"}, "active": {"type": "boolean"}}}}}, "required": ["manifests"]},
            {"type": "object", "properties": {"cleared": {"type": "boolean"}}, "required": ["cleared"]},
            {"type": "object", "description": "the JSON Schema of decisions (action `schema`)"}
        ]
    });
    v["$defs"] = Value::Object(g.take_definitions(true));
    v
}

/// The clap command a tool runs (`manifest`: the group of actions).
fn command_of(spec: &Spec) -> clap::Command {
    let mut cmd = Cli::command();
    // Built, so positional arguments have their indices.
    cmd.build();
    for part in spec.argv {
        cmd = cmd.find_subcommand(part).unwrap_or_else(|| panic!("`{part}` is a maintaind command")).clone();
    }
    cmd
}

/// The JSON Schema of one clap argument.
fn arg_schema(arg: &clap::Arg) -> Value {
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    let values: Vec<String> = arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
    let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
    let flag = matches!(arg.get_action(), clap::ArgAction::SetTrue);
    let id = arg.get_value_parser().type_id();
    let integer = id == std::any::TypeId::of::<usize>() || id == std::any::TypeId::of::<u32>();
    let one = if flag {
        json!({"type": "boolean"})
    } else if !values.is_empty() {
        json!({"type": "string", "enum": values})
    } else if integer {
        json!({"type": "integer", "minimum": 0})
    } else {
        json!({"type": "string"})
    };
    let mut s = if many { json!({"type": "array", "items": one, "minItems": 1}) } else { one };
    s["description"] = Value::String(help);
    if let Some(d) = arg.get_default_values().first() {
        s["default"] = if flag {
            Value::Bool(d == "true")
        } else if integer {
            d.to_str().and_then(|d| d.parse::<u64>().ok()).map(Value::from).unwrap_or(Value::Null)
        } else {
            Value::String(d.to_string_lossy().into_owned())
        };
    }
    s
}

fn tool_args(cmd: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    cmd.get_arguments().filter(|a| !a.is_global_set() && !NOT_ARGUMENTS.contains(&a.get_id().as_str()))
}

/// The input schema: the command's arguments by their clap id (`no_lsp`), plus the inline
/// field; `manifest` takes an `action` and the union of its actions' arguments.
fn input_schema(spec: &Spec) -> Value {
    let cmd = command_of(spec);
    let mut properties = serde_json::Map::new();
    let mut required: Vec<String> = Vec::new();
    let mut add = |c: &clap::Command, required: &mut Vec<String>, optional: bool| {
        for a in tool_args(c) {
            let id = a.get_id().as_str().to_string();
            if a.is_required_set() && !optional && spec.inline.is_none_or(|(arg, _, _)| arg != id) {
                required.push(id.clone());
            }
            properties.insert(id, arg_schema(a));
        }
    };
    if spec.name == "manifest" {
        let actions: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        for sub in cmd.get_subcommands() {
            add(sub, &mut required, true);
        }
        properties.insert(
            "action".into(),
            json!({"type": "string", "enum": actions, "description": "show (the active manifest, or `id`), list, activate `id`, clear, widen `paths` with a `reason`, schema"}),
        );
        required.push("action".into());
    } else {
        add(&cmd, &mut required, false);
    }
    if let Some((arg, field, is_json)) = spec.inline {
        properties.insert(
            field.into(),
            if is_json {
                json!({"type": "object", "description": format!("inline instead of a file for `{arg}`")})
            } else {
                json!({"type": "string", "description": format!("the text itself, instead of a file for `{arg}`")})
            },
        );
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn as_object(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(o) => Arc::new(o),
        _ => unreachable!("schemas are objects"),
    }
}

/// The command line of a call, and what `-` reads; or why the arguments are wrong.
fn command_line(spec: &Spec, root: &std::path::Path, args: &JsonObject) -> Result<(Vec<String>, Option<String>), String> {
    let mut argv: Vec<String> = vec!["maintaind".into(), "--json".into(), "--root".into(), root.display().to_string()];
    argv.extend(spec.argv.iter().map(|s| s.to_string()));
    let mut cmd = command_of(spec);
    let mut input = None;
    let mut given: Vec<(String, Value)> = args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if spec.name == "manifest" {
        let action = args.get("action").and_then(Value::as_str).ok_or("`action` is required: show, list, activate, clear, widen or schema")?;
        cmd = cmd.find_subcommand(action).cloned().ok_or_else(|| format!("unknown action `{action}` (show, list, activate, clear, widen, schema)"))?;
        argv.push(action.to_string());
        given.retain(|(k, _)| k != "action");
    }
    if let Some((key, _)) = given.iter().find(|(_, v)| v.as_str() == Some("-")) {
        let instead = spec.inline.filter(|(arg, _, _)| arg == key).map(|(_, field, _)| format!("; give the text in `{field}`")).unwrap_or_default();
        return Err(format!("`{key}`: `-` (stdin) is the MCP transport here; pass a file path{instead}"));
    }
    if let Some((arg, field, is_json)) = spec.inline
        && let Some(pos) = given.iter().position(|(k, _)| k == field)
    {
        let (_, v) = given.remove(pos);
        if given.iter().any(|(k, _)| k == arg) {
            return Err(format!("give `{arg}` (a file) or `{field}`, not both"));
        }
        input = Some(match (is_json, v) {
            (true, v @ Value::Object(_)) => v.to_string(),
            (false, Value::String(s)) => s,
            (_, other) => return Err(format!("`{field}` must be {}, not {other}", if is_json { "an object" } else { "a string" })),
        });
        given.push((arg.to_string(), Value::String("-".into())));
    }
    let known: Vec<&clap::Arg> = tool_args(&cmd).collect();
    let mut positional: Vec<(usize, Vec<String>)> = Vec::new();
    for (key, value) in &given {
        let Some(arg) = known.iter().find(|a| a.get_id().as_str() == key) else {
            let names: Vec<&str> = known.iter().map(|a| a.get_id().as_str()).collect();
            return Err(format!("unknown argument `{key}` (this tool takes: {})", names.join(", ")));
        };
        let words: Vec<String> = match value {
            Value::Bool(_) if matches!(arg.get_action(), clap::ArgAction::SetTrue) => Vec::new(),
            Value::String(s) => vec![s.clone()],
            Value::Number(n) => vec![n.to_string()],
            Value::Array(items) => items.iter().map(|i| i.as_str().map(str::to_string).ok_or_else(|| format!("`{key}` takes strings"))).collect::<Result<_, _>>()?,
            other => return Err(format!("`{key}`: unexpected value {other}")),
        };
        match (arg.get_long(), arg.get_index()) {
            (Some(long), _) if matches!(arg.get_action(), clap::ArgAction::SetTrue) => {
                if value.as_bool() == Some(true) {
                    argv.push(format!("--{long}"));
                } else if !value.is_boolean() {
                    return Err(format!("`{key}` is true or false"));
                }
            }
            (Some(long), _) => {
                // `--long=value`: a value that starts with `-` is still the value, never a flag.
                for w in words {
                    argv.push(format!("--{long}={w}"));
                }
            }
            (None, Some(index)) => positional.push((index, words)),
            (None, None) => return Err(format!("`{key}` cannot be given here")),
        }
    }
    positional.sort();
    if !positional.is_empty() {
        // After `--`, so a value that starts with `-` is never read as a flag.
        argv.push("--".into());
        argv.extend(positional.into_iter().flat_map(|(_, w)| w));
    }
    Ok((argv, input))
}

/// Run one tool call to its MCP result.
fn call(spec: &Spec, root: &std::path::Path, start: Start, args: &JsonObject) -> CallToolResult {
    let fail = |message: String| CallToolResult::error(vec![ContentBlock::text(message)]);
    let (argv, input) = match command_line(spec, root, args) {
        Ok(x) => x,
        Err(m) => return fail(format!("{}: {m}; nothing was done", spec.name)),
    };
    let mut cli = match <Cli as clap::Parser>::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => return fail(format!("{}: {}; nothing was done", spec.name, super::output::clap_message(&e))),
    };
    cli.ts_server = start.ts_server;
    cli.offline = start.offline;
    let mut out = Out::capturing(true, input);
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::run_with(&cli, &mut out))).unwrap_or_else(|p| {
        out.error(&format!("internal error: {}", crate::daemon::panic_message(p.as_ref())));
        crate::exit::EXIT_ENV
    });
    let printed = out.captured();
    // What the CLI says on stderr beside its answer: notes, and why a "no" is a no.
    let notes: Vec<&str> = printed.stderr.lines().filter(|l| l.starts_with("note: ") || l.starts_with("error: ")).map(|l| l.trim_start_matches("note: ").trim_start_matches("error: ")).collect();
    let parsed: Option<Value> = serde_json::from_str(&printed.stdout).ok();
    if code != crate::exit::EXIT_OK && code != crate::exit::EXIT_FOUND {
        let message = parsed.as_ref().and_then(|v| v["error"]["message"].as_str().map(str::to_string)).unwrap_or_else(|| printed.stderr.trim().to_string());
        return fail(message);
    }
    let Some(value) = parsed else {
        return fail(format!("{} printed no JSON (exit {code}): {}", spec.name, printed.stderr.trim()));
    };
    let structured = match (value, spec.array_field) {
        (Value::Array(items), Some(field)) => json!({ field: items }),
        (v @ Value::Object(_), _) => v,
        (other, _) => json!({ "value": other }),
    };
    let mut content = vec![ContentBlock::text(serde_json::to_string_pretty(&structured).expect("JSON serialises"))];
    if !notes.is_empty() {
        content.push(ContentBlock::text(format!("notes:\n- {}", notes.join("\n- "))));
    }
    let mut result = CallToolResult::structured(structured);
    result.content = content;
    result
}

struct Server {
    root: PathBuf,
    start: Start,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("maintaind", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(format!(
            "maintaind for the TypeScript backend at {}. Plan before editing: `change` (or your own decisions), then write only inside the active manifest's scope (`gate_check` says why a path is refused; `manifest` with action `widen` adds one, with a reason), `apply` edits, `gate_audit` and `check` before you finish. `blast` answers which files a change breaks.",
            self.root.display()
        ));
        info
    }

    async fn list_tools(&self, _: Option<PaginatedRequestParams>, _: RequestContext<RoleServer>) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(&self, request: CallToolRequestParams, _: RequestContext<RoleServer>) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        let Some(spec) = TOOLS.iter().find(|t| t.name == request.name) else {
            return Err(ErrorData::invalid_params(format!("unknown tool `{}` (maintaind offers {})", request.name, TOOLS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")), None));
        };
        let (root, start) = (self.root.clone(), self.start);
        let args = request.arguments.unwrap_or_default();
        let result = tokio::task::spawn_blocking(move || call(spec, &root, start, &args)).await.unwrap_or_else(|e| CallToolResult::error(vec![ContentBlock::text(format!("internal error: {e}"))]));
        Ok(result.into())
    }
}

/// Every tool with its schemas and hints.
pub fn tools() -> Vec<Tool> {
    TOOLS
        .iter()
        .map(|s| {
            Tool::new_with_raw(Cow::Borrowed(s.name), Some(Cow::Borrowed(s.description)), as_object(input_schema(s)))
                .with_title(s.title)
                .with_raw_output_schema(as_object((s.output)()))
                .with_annotations(ToolAnnotations::with_title(s.title).read_only(s.read_only).destructive(s.destructive))
        })
        .collect()
}

/// Serve MCP on stdin/stdout for the project at `root` until the client closes the stream.
/// The daemon is started (or reached) in the background, so the first answer does not wait
/// for it; until it answers, commands run in this process, as the CLI's do.
pub fn serve(root: PathBuf, start: Start) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(async move {
        let daemon_root = root.clone();
        tokio::task::spawn_blocking(move || {
            if let Ok(None) = crate::rpc::Client::connect(&daemon_root) {
                let opts = crate::daemon::DaemonOptions::on_behalf(&daemon_root);
                if let Err(e) = crate::daemon::spawn(&daemon_root, start.ts_server, start.offline, &opts) {
                    eprintln!("maintaind mcp: cannot start the daemon ({e:#}); answering in this process");
                }
            }
        });
        let service = Server { root, start }.serve(rmcp::transport::stdio()).await.map_err(|e| anyhow::anyhow!("MCP initialisation failed: {e}"))?;
        service.waiting().await.map_err(|e| anyhow::anyhow!("the MCP server stopped: {e}"))?;
        Ok(())
    })
}

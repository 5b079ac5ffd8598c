//! The LLM planner: an OpenAI-compatible chat-completions model fills [`Decisions`] — and only
//! decisions — under a harness that does not trust it.
//!
//! - The prompt carries the JSON Schema generated from `Decisions` and the registry's facts as
//!   compact data (candidate symbols with kind and file); the model is never asked for facts.
//! - The reply is parsed leniently: markdown fences and chatter stripped, broken JSON repaired
//!   (`jsonrepair`: trailing commas, unquoted keys, truncation), nested values a model
//!   double-serialised into strings decoded.
//! - It is then validated strictly (unknown fields — facts included — refused; every symbol must
//!   exist). Errors go back onto the model's own output as `path: expected …` marks.
//! - Budgets: attempts, a timeout per call, and a token cap for the run counted from `usage`.
//!   Any exhausted budget is a hard stop with a clear message; nothing is written.

use std::time::Duration;

use maintaind_registry::{FileLang, MatchTier, Registry, SymbolKind};
use serde_json::{Value, json};

use crate::manifest::{Decisions, decisions_schema};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1` (the `/chat/completions` path is appended).
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
    pub max_attempts: usize,
    pub max_total_tokens: u64,
}

impl LlmConfig {
    /// From `MAINTAIND_LLM_BASE_URL`, `MAINTAIND_LLM_MODEL`, `MAINTAIND_LLM_API_KEY` (or the
    /// `[llm]` table of `maintaind.toml`, environment first).
    pub fn load(config: &crate::config::Config) -> Result<LlmConfig, String> {
        let table = config.llm.clone().unwrap_or_default();
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let base_url = env("MAINTAIND_LLM_BASE_URL")
            .or(table.base_url)
            .ok_or("the LLM planner is not configured: set MAINTAIND_LLM_BASE_URL and MAINTAIND_LLM_MODEL (and MAINTAIND_LLM_API_KEY), or an [llm] table in maintaind.toml")?;
        let model = env("MAINTAIND_LLM_MODEL").or(table.model).ok_or("the LLM planner has no model: set MAINTAIND_LLM_MODEL or `model` in the [llm] table of maintaind.toml")?;
        let api_key = env("MAINTAIND_LLM_API_KEY").or_else(|| table.api_key_env.as_deref().and_then(env));
        Ok(LlmConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            model,
            api_key,
            timeout: Duration::from_secs(table.timeout_secs.unwrap_or(60)),
            max_attempts: table.max_attempts.unwrap_or(3).max(1),
            max_total_tokens: table.max_total_tokens.unwrap_or(60_000),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("{0}")]
    NotConfigured(String),
    #[error("the LLM planner stopped: {budget} exhausted after {attempts} attempt(s); last problems:\n  {}", .last.join("\n  "))]
    Budget { budget: String, attempts: usize, last: Vec<String> },
}

/// What one run cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmRun {
    pub attempts: usize,
    pub total_tokens: u64,
}

pub fn plan_llm(request: &str, registry: &Registry, cfg: &LlmConfig) -> Result<(Decisions, LlmRun), LlmError> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(cfg.timeout)).http_status_as_error(false).build().into();
    let schema = decisions_schema();
    let mut messages = vec![
        json!({"role": "system", "content": system_prompt(&schema)}),
        json!({"role": "user", "content": format!("Request: {request}\n\nRegistry facts (choose symbols only from these):\n{}", facts(registry, request))}),
    ];
    let mut run = LlmRun::default();
    let mut last: Vec<String> = Vec::new();
    while run.attempts < cfg.max_attempts {
        run.attempts += 1;
        let body = json!({
            "model": cfg.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {"type": "json_schema", "json_schema": {"name": "decisions", "strict": true, "schema": schema}},
        });
        let mut call = agent.post(format!("{}/chat/completions", cfg.base_url)).header("Content-Type", "application/json");
        if let Some(key) = &cfg.api_key {
            call = call.header("Authorization", format!("Bearer {key}"));
        }
        let reply = match call.send_json(&body) {
            Ok(mut r) if r.status().is_success() => r.body_mut().read_json::<Value>().map_err(|e| format!("the reply is not JSON: {e}")),
            Ok(r) => Err(format!("the model endpoint answered HTTP {}", r.status().as_u16())),
            Err(ureq::Error::Timeout(_)) => Err(format!("the call timed out after {:?}", cfg.timeout)),
            Err(e) => Err(format!("the call failed: {e}")),
        };
        let reply = match reply {
            Ok(v) => v,
            Err(e) => {
                last = vec![e];
                continue;
            }
        };
        run.total_tokens += reply.pointer("/usage/total_tokens").and_then(Value::as_u64).unwrap_or(0);
        let content = reply.pointer("/choices/0/message/content").and_then(Value::as_str).unwrap_or("").to_string();
        match check(&content, registry) {
            Ok(d) => return Ok((d, run)),
            Err((repaired, problems)) => {
                last = problems.clone();
                if run.total_tokens > cfg.max_total_tokens {
                    return Err(LlmError::Budget { budget: format!("the token budget ({} > {} tokens)", run.total_tokens, cfg.max_total_tokens), attempts: run.attempts, last });
                }
                messages.push(json!({"role": "assistant", "content": content}));
                messages.push(json!({"role": "user", "content": feedback(&repaired, &problems)}));
            }
        }
        if run.total_tokens > cfg.max_total_tokens {
            return Err(LlmError::Budget { budget: format!("the token budget ({} > {} tokens)", run.total_tokens, cfg.max_total_tokens), attempts: run.attempts, last });
        }
    }
    Err(LlmError::Budget { budget: format!("the retry budget ({} attempts)", cfg.max_attempts), attempts: run.attempts, last })
}

fn system_prompt(schema: &Value) -> String {
    format!(
        "You plan changes to a TypeScript backend (NestJS + Prisma + nestia). You decide WHAT changes; \
         the tool fills every fact (files, lines, callers, tests) itself. Reply with one JSON object that \
         matches this JSON Schema exactly — no other fields, no prose:\n{schema}\n\
         Use only symbol names listed in the registry facts (qualified names such as `IBbsArticle.ICreate`, \
         or `prisma:model[.field]`). `kind` is one of rename, signature, shape, return, remove, behavior. \
         `excluded_categories` uses only persistence, api, tests, config, build."
    )
}

/// Compact registry facts for the prompt: symbols whose names share a word with the request,
/// and every Prisma model.
fn facts(registry: &Registry, request: &str) -> String {
    let words: Vec<String> = request.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|w| w.len() > 2).map(|w| w.trim_end_matches('s').to_lowercase()).collect();
    // What a planner chooses among comes first: models, types, functions; members after.
    let rank = |k: SymbolKind| match k {
        SymbolKind::Model => 0,
        SymbolKind::Type | SymbolKind::Interface | SymbolKind::Enum => 1,
        SymbolKind::Function | SymbolKind::Class => 2,
        SymbolKind::Field | SymbolKind::Method => 3,
        _ => 4,
    };
    let mut lines: Vec<(usize, String)> = Vec::new();
    for f in registry.files().filter(|f| f.lang != FileLang::Declaration) {
        for s in &f.symbols {
            let lower = s.name.to_lowercase();
            let relevant = s.kind == SymbolKind::Model || words.iter().any(|w| lower.contains(w.as_str()));
            if relevant && s.kind != SymbolKind::Reexport && !(s.kind == SymbolKind::Property && s.name.matches('.').count() > 1) {
                lines.push((rank(s.kind), format!("{} {} {}", s.kind, s.name, f.path)));
            }
        }
    }
    lines.sort();
    lines.dedup();
    lines.truncate(150);
    lines.into_iter().map(|(_, l)| l).collect::<Vec<_>>().join("\n")
}

/// Parse a reply leniently, then validate strictly. On failure: the repaired JSON (what the
/// model will see its marks against) and the `path: problem` marks.
pub fn check(content: &str, registry: &Registry) -> Result<Decisions, (String, Vec<String>)> {
    let value = match lenient_parse(content) {
        Ok(v) => v,
        Err(e) => return Err((content.to_string(), vec![format!("$: {e}")])),
    };
    let repaired = serde_json::to_string_pretty(&value).unwrap_or_default();
    let decisions: Decisions = match serde_path_to_error::deserialize(value) {
        Ok(d) => d,
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { "$".to_string() } else { format!("$.{path}") };
            return Err((repaired, vec![format!("{path}: {}", e.inner())]));
        }
    };
    let mut problems = Vec::new();
    for (i, c) in decisions.changes.iter().enumerate() {
        let name = c.symbol.rsplit('#').next().unwrap_or(&c.symbol);
        let exists = registry.search(&c.symbol, None).iter().any(|m| m.tier == MatchTier::Exact && m.symbol.name == name && m.file.lang != FileLang::Declaration);
        if !exists {
            problems.push(format!("$.changes[{i}].symbol: expected an existing symbol, got `{}` (closest: {})", c.symbol, registry.suggest(&c.symbol, 3).join(", ")));
        }
    }
    if decisions.changes.is_empty() {
        problems.push("$.changes: expected at least one change".into());
    }
    if problems.is_empty() { Ok(decisions) } else { Err((repaired, problems)) }
}

/// Markdown fences and chatter off, broken JSON repaired, double-serialised values decoded.
pub fn lenient_parse(content: &str) -> Result<Value, String> {
    let start = content.find('{').ok_or("no JSON object in the reply")?;
    let mut body = &content[start..];
    if let Some(end) = body.rfind("```") {
        body = &body[..end];
    }
    let repaired = jsonrepair::repair_json(body, &jsonrepair::Options::default()).map_err(|e| format!("unrepairable JSON: {e}"))?;
    let mut value: Value = serde_json::from_str(&repaired).map_err(|e| format!("not JSON after repair: {e}"))?;
    undo_double_serialisation(&mut value);
    Ok(value)
}

fn undo_double_serialisation(v: &mut Value) {
    match v {
        Value::String(s) if (s.trim_start().starts_with('{') || s.trim_start().starts_with('[')) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                *v = inner;
                undo_double_serialisation(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(undo_double_serialisation),
        Value::Object(map) => map.values_mut().for_each(undo_double_serialisation),
        _ => {}
    }
}

fn feedback(repaired: &str, problems: &[String]) -> String {
    format!("Your reply, as parsed:\n{repaired}\n\nIt does not validate:\n{}\n\nReply with the corrected JSON object only.", problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n"))
}

//! `maintaind agent setup claude-code|cursor|codex`: the project-level configuration that puts
//! an agent on maintaind, merged into what is there.
//!
//! | agent | MCP server (`maintaind mcp`) | write gate |
//! |---|---|---|
//! | Claude Code | `.mcp.json` `mcpServers.maintaind` | `.claude/settings.json` `PreToolUse` hook `maintaind gate claude-hook \|\| exit 2` |
//! | Cursor | `.cursor/mcp.json` `mcpServers.maintaind` | none (no hook); `gate audit` and `check` catch writes |
//! | Codex | `.codex/config.toml` `[mcp_servers.maintaind]` (read in trusted projects) | none; as Cursor |
//!
//! Existing settings are never replaced: an entry already named `maintaind` is kept as it is
//! (and reported when it differs), other keys are left alone, a file that does not parse is
//! refused with nothing written. Running it twice changes nothing. `--dry-run` prints the diff.
//! Every write goes through `safefs` (inside the root, no link followed, compare-and-swap).

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

/// The agents `setup` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    ClaudeCode,
    Cursor,
    Codex,
}

/// The hook command documented in docs/guide/gate.md: a missing binary blocks too.
pub const HOOK_COMMAND: &str = "maintaind gate claude-hook || exit 2";
const HOOK_MATCHER: &str = "Write|Edit|MultiEdit|NotebookEdit";

/// One file `setup` creates or updates.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Root-relative.
    pub path: String,
    /// `created`, `updated` or `unchanged`.
    pub action: &'static str,
    /// What was (or, with `--dry-run`, would be) done, and anything kept as it was.
    pub notes: Vec<String>,
    /// Unified diff of the file (empty when unchanged).
    pub diff: String,
    #[serde(skip)]
    before: Option<String>,
    #[serde(skip)]
    after: String,
}

/// What `setup` would write for `agent` under `root` (nothing is written here).
pub fn plan(root: &Path, agent: Agent, command: &str) -> Result<Vec<Change>, String> {
    let dir = crate::safefs::RootDir::open(root).map_err(|e| format!("cannot open the root: {e}"))?;
    let read = |rel: &str| -> Result<Option<String>, String> {
        match dir.read(rel).map_err(|e| e.to_string())? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| format!("{rel} is not UTF-8 text; nothing was written")),
        }
    };
    let server = json!({"command": command, "args": ["mcp"]});
    let mut out = Vec::new();
    match agent {
        Agent::ClaudeCode => {
            out.push(mcp_json(".mcp.json", read(".mcp.json")?, &server)?);
            out.push(claude_settings(read(".claude/settings.json")?)?);
        }
        Agent::Cursor => out.push(mcp_json(".cursor/mcp.json", read(".cursor/mcp.json")?, &server)?),
        Agent::Codex => out.push(codex_toml(read(".codex/config.toml")?, command)?),
    }
    Ok(out)
}

/// Write the planned changes (each file compare-and-swapped against what `plan` read).
pub fn write(root: &Path, changes: &[Change]) -> Result<(), String> {
    let dir = crate::safefs::RootDir::open(root).map_err(|e| format!("cannot open the root: {e}"))?;
    for c in changes.iter().filter(|c| c.action != "unchanged") {
        dir.create_parents(&c.path).map_err(|e| e.to_string())?;
        let expect = crate::safefs::Expect::of(c.before.as_deref().map(crate::safefs::hash_text).as_deref());
        dir.replace(&c.path, c.after.as_bytes(), &expect).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn change(path: &str, before: Option<String>, after: String, notes: Vec<String>) -> Change {
    let action = match &before {
        None => "created",
        Some(b) if *b == after => "unchanged",
        Some(_) => "updated",
    };
    let diff = if action == "unchanged" { String::new() } else { diffy::create_patch(before.as_deref().unwrap_or(""), &after).to_string() };
    let diff = diff.replacen("--- original", &format!("--- a/{path}"), 1).replacen("+++ modified", &format!("+++ b/{path}"), 1);
    Change { path: path.to_string(), action, notes, diff, before, after }
}

/// The object a JSON settings file holds (`{}` when absent); refused when it is anything else.
fn json_object(path: &str, text: Option<&str>) -> Result<serde_json::Map<String, Value>, String> {
    match text {
        None => Ok(serde_json::Map::new()),
        Some(t) if t.trim().is_empty() => Ok(serde_json::Map::new()),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(o)) => Ok(o),
            Ok(_) => Err(format!("{path} does not hold a JSON object; nothing was written")),
            Err(e) => Err(format!("{path} is not valid JSON ({e}); fix it first, nothing was written")),
        },
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON serialises") + "\n"
}

/// `mcpServers.maintaind` in an MCP JSON file (Claude Code's `.mcp.json`, Cursor's).
fn mcp_json(path: &str, before: Option<String>, server: &Value) -> Result<Change, String> {
    let mut root = json_object(path, before.as_deref())?;
    let servers = root.entry("mcpServers").or_insert_with(|| json!({}));
    let Some(servers) = servers.as_object_mut() else { return Err(format!("{path}: `mcpServers` is not an object; nothing was written")) };
    let mut notes = Vec::new();
    match servers.get("maintaind") {
        Some(existing) if existing == server => {}
        Some(existing) => notes.push(format!("kept the existing `mcpServers.maintaind` ({existing}); ours would be {server}")),
        None => {
            servers.insert("maintaind".into(), server.clone());
            notes.push("added the maintaind MCP server".into());
        }
    }
    let after = if before.is_some() && notes.iter().all(|n| n.starts_with("kept")) { before.clone().unwrap_or_default() } else { pretty(&Value::Object(root)) };
    Ok(change(path, before, after, notes))
}

/// Claude Code's `.claude/settings.json`: the `PreToolUse` hook, added unless a hook already
/// runs `maintaind gate claude-hook`.
fn claude_settings(before: Option<String>) -> Result<Change, String> {
    let path = ".claude/settings.json";
    let mut root = json_object(path, before.as_deref())?;
    let hooks = root.entry("hooks").or_insert_with(|| json!({}));
    let Some(hooks) = hooks.as_object_mut() else { return Err(format!("{path}: `hooks` is not an object; nothing was written")) };
    let pre = hooks.entry("PreToolUse").or_insert_with(|| json!([]));
    let Some(pre) = pre.as_array_mut() else { return Err(format!("{path}: `hooks.PreToolUse` is not a list; nothing was written")) };
    let present = pre.iter().any(|entry| entry["hooks"].as_array().is_some_and(|hs| hs.iter().any(|h| h["command"].as_str().is_some_and(|c| c.contains("maintaind gate claude-hook")))));
    let mut notes = Vec::new();
    if present {
        notes.push("a PreToolUse hook already runs `maintaind gate claude-hook`; kept".into());
    } else {
        pre.push(json!({"matcher": HOOK_MATCHER, "hooks": [{"type": "command", "command": HOOK_COMMAND}]}));
        notes.push(format!("added the PreToolUse hook `{HOOK_COMMAND}` for {HOOK_MATCHER}"));
    }
    let after = if present { before.clone().unwrap_or_default() } else { pretty(&Value::Object(root)) };
    Ok(change(path, before, after, notes))
}

/// Codex's project `.codex/config.toml`: `[mcp_servers.maintaind]`, appended as text so the
/// rest of the file keeps its formatting.
fn codex_toml(before: Option<String>, command: &str) -> Result<Change, String> {
    let path = ".codex/config.toml";
    let table: toml::Table = match &before {
        None => toml::Table::new(),
        Some(t) => t.parse().map_err(|e| format!("{path} is not valid TOML ({e}); fix it first, nothing was written"))?,
    };
    let ours = format!("[mcp_servers.maintaind]\ncommand = {}\nargs = [\"mcp\"]\n", toml::Value::String(command.to_string()));
    let existing = table.get("mcp_servers").and_then(|s| s.get("maintaind"));
    let (after, notes) = match existing {
        Some(e) => {
            let same = e.get("command").and_then(|c| c.as_str()) == Some(command) && e.get("args").and_then(|a| a.as_array()).is_some_and(|a| a.len() == 1 && a[0].as_str() == Some("mcp"));
            let note = if same {
                "`[mcp_servers.maintaind]` is already there".to_string()
            } else {
                format!("kept the existing `[mcp_servers.maintaind]` ({e}); ours would be command = \"{command}\", args = [\"mcp\"]")
            };
            (before.clone().unwrap_or_default(), vec![note])
        }
        None => {
            let mut text = before.clone().unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("# maintaind's MCP server (Codex reads a project's .codex/config.toml once the project is trusted)\n");
            text.push_str(&ours);
            (text, vec!["added the maintaind MCP server".to_string()])
        }
    };
    Ok(change(path, before, after, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_what_is_there() {
        let server = json!({"command": "maintaind", "args": ["mcp"]});
        let other = r#"{"mcpServers": {"db": {"command": "pg-mcp"}}, "x": 1}"#;
        let c = mcp_json(".mcp.json", Some(other.into()), &server).unwrap();
        assert_eq!(c.action, "updated");
        let v: Value = serde_json::from_str(&c.after).unwrap();
        assert_eq!(v["mcpServers"]["db"]["command"], "pg-mcp");
        assert_eq!(v["x"], 1);
        assert_eq!(v["mcpServers"]["maintaind"], server);
        // Idempotent, and a different maintaind entry is kept.
        assert_eq!(mcp_json(".mcp.json", Some(c.after.clone()), &server).unwrap().action, "unchanged");
        let theirs = r#"{"mcpServers": {"maintaind": {"command": "/opt/maintaind", "args": ["mcp"]}}}"#;
        let kept = mcp_json(".mcp.json", Some(theirs.into()), &server).unwrap();
        assert_eq!((kept.action, kept.after.as_str()), ("unchanged", theirs));
        assert!(kept.notes[0].contains("kept the existing"));
        assert!(mcp_json(".mcp.json", Some("[1]".into()), &server).unwrap_err().contains("does not hold a JSON object"));
        assert!(mcp_json(".mcp.json", Some("{".into()), &server).unwrap_err().contains("not valid JSON"));
        assert!(mcp_json(".mcp.json", Some(r#"{"mcpServers": []}"#.into()), &server).unwrap_err().contains("`mcpServers` is not an object"));
    }

    #[test]
    fn codex_table_is_appended_once() {
        let before = "model = \"o4\"\n\n[mcp_servers.db]\ncommand = \"pg\"\n";
        let c = codex_toml(Some(before.into()), "maintaind").unwrap();
        assert!(c.after.starts_with(before));
        let t: toml::Table = c.after.parse().unwrap();
        assert_eq!(t["mcp_servers"]["maintaind"]["args"][0].as_str(), Some("mcp"));
        assert_eq!(t["mcp_servers"]["db"]["command"].as_str(), Some("pg"));
        assert_eq!(codex_toml(Some(c.after), "maintaind").unwrap().action, "unchanged");
        assert!(codex_toml(Some("[broken".into()), "maintaind").unwrap_err().contains("not valid TOML"));
    }
}

//! `maintaind mcp` over real stdio, driven by a small scripted MCP client written here from
//! the specification (newline-delimited JSON-RPC), not by the SDK the server uses: the tool
//! list, structured results equal to the CLI's `--json`, every bad argument refused with
//! nothing written, and an agent's whole session (plan → blast → apply every planned file →
//! check) with its escape attempts.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::editor::StopDaemon;
use crate::*;

struct Mcp {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: u64,
    /// The protocol version the server answered `initialize` with.
    protocol: String,
}

impl Mcp {
    fn start(env: &Env, protocol: &str) -> Mcp {
        let mut child = Command::new(bin()).args(["mcp", "--ts-server", "native"]).current_dir(env.root()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if tx.send(serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line}"))).is_err() {
                    return;
                }
            }
        });
        let mut mcp = Mcp { child, stdin, incoming, next_id: 1, protocol: String::new() };
        let init = mcp.request("initialize", json!({"protocolVersion": protocol, "capabilities": {}, "clientInfo": {"name": "maintaind-test", "version": "1"}}));
        mcp.protocol = init["result"]["protocolVersion"].as_str().unwrap_or_else(|| panic!("{init}")).to_string();
        assert_eq!(init["result"]["serverInfo"]["name"], "maintaind");
        assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
        mcp.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    }

    fn send(&mut self, message: Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            // Bounds a hang only; a call answers in milliseconds to a few seconds.
            let m = self.incoming.recv_timeout(Duration::from_secs(180)).unwrap_or_else(|_| panic!("no answer to {method}"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
        }
    }

    /// A tool's result (`isError` included); a JSON-RPC error fails the test.
    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        assert!(r.get("error").is_none(), "{tool}: {r}");
        r["result"].clone()
    }

    /// A successful tool's structured result.
    fn ok(&mut self, tool: &str, arguments: Value) -> Value {
        let r = self.call(tool, arguments.clone());
        assert_eq!(r["isError"], false, "{tool} {arguments}: {r}");
        let s = r["structuredContent"].clone();
        assert!(s.is_object(), "{r}");
        // The text content is the same JSON, for clients that only read text.
        assert_eq!(serde_json::from_str::<Value>(r["content"][0]["text"].as_str().unwrap()).unwrap(), s);
        s
    }

    /// A failed tool's message.
    fn error(&mut self, tool: &str, arguments: Value) -> String {
        let r = self.call(tool, arguments.clone());
        assert_eq!(r["isError"], true, "{tool} {arguments} should fail: {r}");
        r["content"][0]["text"].as_str().unwrap().to_string()
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tools_mirror_the_cli_and_protocol_versions_are_negotiated() {
    let env = setup();
    let _stop = StopDaemon(&env);
    // An older client gets its own version back; the current one, the current one.
    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let mcp = Mcp::start(&env, version);
        assert_eq!(mcp.protocol, version);
    }
    let mut mcp = Mcp::start(&env, "2025-06-18");
    let tools = mcp.request("tools/list", json!({}))["result"]["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["symbols", "blast", "change", "manifest", "gate_check", "gate_audit", "apply", "check"]);
    for t in &tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
        assert_eq!(t["inputSchema"]["additionalProperties"], false, "{t}");
        let read_only = t["annotations"]["readOnlyHint"].as_bool().unwrap();
        let destructive = t["annotations"]["destructiveHint"].as_bool().unwrap();
        let name = t["name"].as_str().unwrap();
        assert_eq!(read_only, ["symbols", "blast", "gate_check", "gate_audit", "check"].contains(&name), "{name}");
        assert_eq!(destructive, name == "apply", "{name}");
    }
    // The CLI's flags are the arguments.
    let blast = &tools[1]["inputSchema"];
    assert_eq!(blast["required"], json!(["symbol"]));
    assert_eq!(blast["properties"]["change"]["enum"], json!(["rename", "signature", "shape", "return", "remove", "behavior"]));
    assert_eq!(blast["properties"]["no_lsp"]["type"], "boolean");
    assert_eq!(blast["properties"]["depth"]["type"], "integer");
    assert_eq!(tools[4]["inputSchema"]["properties"]["paths"]["type"], "array");
}

#[test]
fn structured_content_is_the_clis_json() {
    let env = setup();
    let _stop = StopDaemon(&env);
    let mut mcp = Mcp::start(&env, "2025-06-18");
    let hits = mcp.ok("symbols", json!({"query": "IBbsArticle.ICreate"}));
    assert_eq!(hits, json!({"hits": env.run(&["symbols", "IBbsArticle.ICreate", "--json"]).expect_code(0).json()}));
    // No match is an answer (empty), not an error: the CLI's exit 1.
    assert_eq!(mcp.ok("symbols", json!({"query": "NoSuchThingAnywhere"})), json!({"hits": []}));
    let blast = mcp.ok("blast", json!({"symbol": "IBbsArticle.ICreate", "change": "rename", "no_lsp": true}));
    let cli = env.run(&["blast", "IBbsArticle.ICreate", "--change", "rename", "--no-lsp", "--json"]).expect_code(0).json();
    assert_eq!(blast["files"], cli["files"]);
    assert_eq!(blast["must_change_files"], cli["must_change_files"]);
    assert_eq!(blast["approximate"], true, "a registry-only answer says so");
    let plan = mcp.ok("change", json!({"request": "add view_count to the article model, but leave the tests alone", "no_lsp": true}));
    let shown = mcp.ok("manifest", json!({"action": "show"}));
    assert_eq!(shown, env.run(&["manifest", "show", "--json"]).expect_code(0).json());
    assert_eq!(shown["id"], plan["id"]);
    let verdicts = mcp.ok("gate_check", json!({"paths": ["src/MyGlobal.ts", "src/providers/postBbsMemberArticles.ts"]}));
    assert_eq!(verdicts, json!({"verdicts": env.run(&["gate", "check", "src/MyGlobal.ts", "src/providers/postBbsMemberArticles.ts", "--json"]).expect_code(1).json()}));
    assert_eq!(mcp.ok("gate_audit", json!({})), env.run(&["gate", "audit", "--json"]).expect_code(0).json());
    assert_eq!(mcp.ok("manifest", json!({"action": "list"}))["manifests"][0]["id"], plan["id"]);
    assert_eq!(mcp.ok("manifest", json!({"action": "clear"})), json!({"cleared": true}));
}

#[test]
fn bad_arguments_are_tool_errors_and_write_nothing() {
    let env = setup();
    let _stop = StopDaemon(&env);
    let mut mcp = Mcp::start(&env, "2025-06-18");
    let unknown = mcp.request("tools/call", json!({"name": "frobnicate", "arguments": {}}));
    assert!(unknown["error"]["message"].as_str().unwrap().contains("unknown tool `frobnicate`"), "{unknown}");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("blast", json!({}), "the following required arguments were not provided"),
        ("blast", json!({"symbol": "IBbsArticle", "change": "rewrite"}), "invalid value 'rewrite'"),
        ("blast", json!({"symbol": "IBbsArticle", "colour": "red"}), "unknown argument `colour`"),
        ("blast", json!({"symbol": "IBbsArticle", "no_lsp": "yes"}), "`no_lsp` is true or false"),
        ("blast", json!({"symbol": "   "}), "empty symbol"),
        ("symbols", json!({"query": {"nested": 1}}), "unexpected value"),
        ("change", json!({"request": ""}), "empty request"),
        ("change", json!({"request": "x", "decisions_json": "not an object"}), "`decisions_json` must be an object"),
        ("change", json!({"request": "x", "decisions_json": {"summary": "s", "changes": [], "files_to_modify": ["a.ts"]}}), "`files_to_modify` is a fact"),
        ("change", json!({"request": "x", "decisions": "-"}), "`-` (stdin) is the MCP transport"),
        ("apply", json!({"edits": "-"}), "`-` (stdin) is the MCP transport"),
        ("apply", json!({"edits_text": "{\"edits\": [{\"op\": \"frob\"}]}"}), "unknown variant `frob`"),
        ("manifest", json!({}), "`action` is required"),
        ("manifest", json!({"action": "explode"}), "unknown action `explode`"),
        ("manifest", json!({"action": "widen", "paths": ["src/MyGlobal.ts"]}), "--reason"),
        ("gate_audit", json!({}), "no active manifest"),
        ("check", json!({"sarif": true}), "unknown argument `sarif`"),
        ("check", json!({"all": true}), "unknown argument `all`"),
        ("check", json!({"base": "--output=/tmp/x"}), "is not a revision"),
        ("check", json!({"range": "main"}), "expected A..B"),
        ("check", json!({"staged": true, "base": "main"}), "cannot be used with"),
    ];
    for (tool, args, says) in cases {
        let message = mcp.error(tool, args.clone());
        assert!(message.contains(says), "{tool} {args}: {message}");
    }
    assert!(!env.path(".maintaind/manifests").exists(), "nothing was planned");
    assert!(env.run(&["rollback", "--list", "--json"]).json().as_array().unwrap().is_empty(), "nothing was applied");
}

/// An agent's session over MCP on the fixture: plan, look at the blast radius, apply an edit to
/// every planned file, then the pre-commit check passes; and its escape attempts: a file out of
/// scope, `.git/`, and a write that bypasses every hook, which the audit and `check` catch.
#[test]
fn an_agents_session_plans_applies_every_planned_file_and_checks() {
    let env = setup();
    git_init(&env);
    let _stop = StopDaemon(&env);
    let mut mcp = Mcp::start(&env, "2025-11-25");

    let plan = mcp.ok("change", json!({"request": "add view_count to the article model, but leave the tests alone"}));
    let files: Vec<String> = plan["facts"]["files_to_modify"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    assert!(files.len() >= 4, "{files:?}");
    let blast = mcp.ok("blast", json!({"symbol": "IBbsArticle", "change": "shape"}));
    assert!(!blast["files"].as_array().unwrap().is_empty(), "{blast}");

    // One edit per planned file: the Prisma model gains the column (replace_symbol with the
    // hash `symbols` gave), every TypeScript file a note constant (valid TypeScript).
    let model = mcp.ok("symbols", json!({"query": "prisma:bbs_articles"}))["hits"][0].clone();
    let schema_file = model["file"].as_str().unwrap();
    let lines: Vec<String> = std::fs::read_to_string(env.path(schema_file)).unwrap().lines().map(str::to_string).collect();
    let text = lines[model["line"].as_u64().unwrap() as usize - 1..model["end_line"].as_u64().unwrap() as usize].join("\n");
    let new_model = format!("{}\n  view_count Int @default(0)\n}}", text.trim_end().trim_end_matches('}').trim_end());
    let mut edits = vec![json!({"op": "replace_symbol", "symbol": "prisma:bbs_articles", "expect_hash": model["hash"], "text": new_model})];
    for (i, f) in files.iter().filter(|f| f.ends_with(".ts")).enumerate() {
        edits.push(json!({"op": "insert_symbol", "file": f, "at": "end", "text": format!("export const VIEW_COUNT_NOTE_{i} = \"view_count\";")}));
    }
    let applied = mcp.ok("apply", json!({"edits_text": json!({"edits": edits}).to_string()}));
    let written: Vec<&str> = applied["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(written.len(), files.len(), "every planned file: {applied}");
    assert!(applied["diagnostics"]["new_errors"].as_array().is_none_or(|e| e.is_empty()), "{applied}");

    // Escapes: out of scope and .git/ are refused; nothing is written.
    let out_of_scope = mcp.error("apply", json!({"edits_text": json!({"edits": [{"op": "insert_symbol", "file": "src/MyGlobal.ts", "at": "end", "text": "export const X = 1;"}]}).to_string()}));
    assert!(out_of_scope.contains("not in the active manifest's scope"), "{out_of_scope}");
    let git = mcp.ok("gate_check", json!({"paths": [".git/config", "../outside.ts"]}));
    assert!(git["verdicts"].as_array().unwrap().iter().all(|v| v["allowed"] == false), "{git}");
    assert_eq!(mcp.ok("gate_audit", json!({}))["out_of_scope"], 0);
    let clean = mcp.ok("check", json!({}));
    assert_eq!(clean["violations"], json!([]), "{clean}");

    // A write that no hook saw (as `sed -i` or another process would make).
    env.write("src/MyGlobal.ts", std::fs::read_to_string(env.path("src/MyGlobal.ts")).unwrap() + "\n// bypassing write\n");
    let audit = mcp.ok("gate_audit", json!({}));
    assert_eq!(audit["out_of_scope"], 1, "{audit}");
    let caught = mcp.ok("check", json!({}));
    let rules: Vec<&str> = caught["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"out-of-scope-write") || rules.contains(&"out-of-scope"), "{caught}");
}

#[test]
fn an_agent_has_a_mechanical_change_carried_out_and_a_coders_plan_kept() {
    let env = setup();
    git_init(&env);
    let _stop = StopDaemon(&env);
    let mut mcp = Mcp::start(&env, "2025-06-18");
    let done = mcp.ok("change", json!({"request": "limit article titles to 60 characters", "apply": true}));
    assert_eq!(done["outcome"], "applied", "{done}");
    assert_eq!(done["applied"]["files"][0]["path"], "src/api/structures/IBbsArticle.ts");
    assert!(std::fs::read_to_string(env.path("src/api/structures/IBbsArticle.ts")).unwrap().contains("tags.MaxLength<60>"));
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    let refused = mcp.error("change", json!({"request": "change what getBbsArticlesArticleId returns", "apply": true}));
    assert!(refused.contains("plan only: needs a coder"), "{refused}");
    assert_untouched(&env);
    assert!(mcp.ok("manifest", json!({"action": "show"}))["request"].as_str().unwrap().contains("returns"), "the plan is stored and active");
}

//! A manifest as a work order (issue 14): `manifest widen`, `gate audit`, `change --amend` and
//! `change --decisions`, each with its bad input refused and nothing written.

use crate::*;

const REQUEST: &str = "add view_count to the article model, but leave the tests alone";
const PROVIDER: &str = "src/providers/postBbsMemberArticles.ts";

fn planned() -> (Env, serde_json::Value) {
    let env = setup();
    let m = env.run(&["change", REQUEST, "--no-lsp", "--json"]).expect_code(0).json();
    (env, m)
}

fn manifest_bytes(env: &Env, m: &serde_json::Value) -> Vec<u8> {
    std::fs::read(env.path(&format!(".maintaind/manifests/{}.json", m["id"].as_str().unwrap()))).unwrap()
}

fn append(env: &Env, rel: &str, text: &str) {
    let before = std::fs::read_to_string(env.path(rel)).unwrap_or_default();
    env.write(rel, before + text);
}

#[test]
fn widen_adds_paths_with_who_and_why_and_refuses_escapes() {
    let (env, m) = planned();
    env.run(&["gate", "check", "src/MyGlobal.ts"]).expect_code(1).stdout_has("maintaind manifest widen src/MyGlobal.ts --reason");
    let before = manifest_bytes(&env, &m);
    // Every escape is refused, and the manifest is left as it was (all or nothing).
    for (path, says) in [
        (".git/config", "git's own state"),
        (".maintaind/manifests/active", "maintaind's or git's own state"),
        ("/etc/passwd", "outside the root"),
        ("../elsewhere.ts", "outside the root"),
        ("test/features/api/article/test_api_article_creation.ts", "excluded by the manifest (tests"),
    ] {
        env.run(&["manifest", "widen", "src/MyGlobal.ts", path, "--reason", "x"]).expect_code(2).stderr_has(says).stderr_has("nothing was widened");
        assert_eq!(manifest_bytes(&env, &m), before, "{path}: nothing written");
    }
    env.run(&["manifest", "widen", "src/MyGlobal.ts", "--reason", "  "]).expect_code(2).stderr_has("say why");
    env.run(&["manifest", "widen", "src/MyGlobal.ts"]).expect_code(2).stderr_has("--reason");
    assert_eq!(manifest_bytes(&env, &m), before);

    let w = env.run(&["manifest", "widen", "src/MyGlobal.ts", "src/providers/new/helper.ts", "--reason", "the helper the providers share", "--by", "agent-7", "--json"]).expect_code(0).json();
    assert_eq!(w["widened"][0], serde_json::json!({"path": "src/MyGlobal.ts", "reason": "the helper the providers share", "by": "agent-7", "at_unix": w["widened"][0]["at_unix"]}));
    assert_eq!(w["widened"][1]["path"], "src/providers/new/helper.ts", "a file to create may be widened too");
    env.run(&["gate", "check", "src/MyGlobal.ts", "src/providers/new/helper.ts"]).expect_code(0).stdout_has("widened by agent-7: the helper the providers share");
    // Re-digested: still intact, and shown.
    env.run(&["manifest", "show"]).expect_code(0).stdout_has("widened (2)");
    // Widening again is idempotent.
    let again = env.run(&["manifest", "widen", "src/MyGlobal.ts", "--reason", "again", "--json"]).expect_code(0).json();
    assert_eq!(again["widened"].as_array().unwrap().len(), 2);
}

#[test]
fn audit_sees_every_write_however_it_was_made() {
    let (env, _) = planned();
    env.run(&["gate", "audit"]).expect_code(0).stdout_has("0 files touched");
    // In scope, through nothing maintaind knows of (as `sed -i` would).
    append(&env, PROVIDER, "\n// edited in place\n");
    // Out of scope: changed, created, deleted; a link too.
    append(&env, "src/MyGlobal.ts", "\n// not planned\n");
    env.write("notes/todo.md", "- nothing planned this\n");
    std::fs::remove_file(env.path("src/providers/patchBbsArticles.ts")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", env.path("src/link.ts")).unwrap();
    let r = env.run(&["gate", "audit", "--json"]);
    r.expect_code(1);
    let a = r.json();
    let touched: Vec<(String, String, bool)> =
        a["touched"].as_array().unwrap().iter().map(|t| (t["path"].as_str().unwrap().to_string(), t["change"].as_str().unwrap().to_string(), t["in_scope"].as_bool().unwrap())).collect();
    assert_eq!(
        touched,
        vec![
            ("notes/todo.md".into(), "created".into(), false),
            ("src/MyGlobal.ts".into(), "changed".into(), false),
            ("src/link.ts".into(), "created".into(), false),
            ("src/providers/patchBbsArticles.ts".into(), "deleted".into(), false),
            (PROVIDER.into(), "changed".into(), true),
        ]
    );
    assert_eq!(a["out_of_scope"], 4);
    env.run(&["gate", "audit"]).expect_code(1).stdout_has("out of scope  created  notes/todo.md").stdout_has("4 changes outside the manifest's scope");
    // A rewrite that restores size and modification time is still seen (the audit reads).
    let global = env.path("src/MyGlobal.ts");
    let meta = std::fs::metadata(&global).unwrap();
    let text = std::fs::read_to_string(&global).unwrap().replace("not planned", "NOT PLANNED");
    std::fs::write(&global, text).unwrap();
    let f = std::fs::File::options().write(true).open(&global).unwrap();
    f.set_modified(meta.modified().unwrap()).unwrap();
    env.run(&["gate", "audit", "--json"]).expect_code(1);
    // Without a manifest, or with a damaged tree, the audit cannot run: it says so.
    let id = a["manifest"].as_str().unwrap();
    let tree = env.path(&format!(".maintaind/manifests/{id}.tree"));
    let kept = std::fs::read(&tree).unwrap();
    std::fs::write(&tree, String::from_utf8(kept.clone()).unwrap().replacen("\"since_unix\":", "\"since_unix\":1", 1)).unwrap();
    env.run(&["gate", "audit"]).expect_code(2).stderr_has("edited by hand or is damaged");
    env.run(&["gate", "check", PROVIDER]).expect_code(1).stdout_has("edited by hand or is damaged");
    std::fs::remove_file(&tree).unwrap();
    env.run(&["gate", "audit"]).expect_code(2).stderr_has("has no tree recorded");
    env.run(&["manifest", "clear"]).expect_code(0);
    env.run(&["gate", "audit", "--json"]).expect_code(2).stderr_has("no active manifest");
}

#[test]
fn amend_replans_from_the_current_tree_keeping_the_work_done() {
    let (env, first) = planned();
    // Work under the first manifest: the DTO and a provider in scope, and a widened file.
    let dto = "src/api/structures/IBbsArticle.ts";
    env.write(dto, std::fs::read_to_string(env.path(dto)).unwrap().replacen("export type IBbsArticle = {", "export type IBbsArticle = {\n  view_count: number;", 1));
    append(&env, PROVIDER, "\n// view_count returned\n");
    env.run(&["manifest", "widen", "README.md", "--reason", "document view_count"]).expect_code(0);
    append(&env, "README.md", "\nview_count counts views.\n");
    // Amending without an active manifest, or with bad input, plans nothing.
    let fresh = setup();
    fresh.run(&["change", "--amend", REQUEST, "--no-lsp"]).expect_code(2).stderr_has("--amend re-plans the active manifest");
    assert!(!fresh.path(".maintaind/manifests").exists());

    // The same request again (the work changed the DTO it adds view_count to): the property
    // found in a file the work already changed is that work, not a name collision.
    let second = env.run(&["change", "--amend", REQUEST, "--no-lsp", "--json"]).expect_code(0).json();
    assert_eq!(second["amends"], first["id"]);
    assert_ne!(second["id"], first["id"], "a distinct manifest, even within the same second");
    assert!(env.path(&format!(".maintaind/manifests/{}.json", first["id"].as_str().unwrap())).exists(), "the amended one is kept");
    assert!(second["feasibility"].as_array().unwrap().iter().all(|f| f["verdict"] == "ok"), "{}", second["feasibility"]);
    let widened: Vec<(String, String)> = second["widened"].as_array().unwrap().iter().map(|w| (w["path"].as_str().unwrap().to_string(), w["reason"].as_str().unwrap().to_string())).collect();
    assert!(widened.contains(&("README.md".into(), "document view_count".into())), "{widened:?}");
    // A different request: the files the work changed that the new plan does not cover stay
    // in scope, as work done.
    let third = env.run(&["change", "--amend", "add like_count to the article comment model, but leave the tests alone", "--no-lsp", "--json"]).expect_code(0).json();
    assert_eq!(third["amends"], second["id"]);
    let carried: Vec<(String, String)> = third["widened"].as_array().unwrap().iter().map(|w| (w["path"].as_str().unwrap().to_string(), w["reason"].as_str().unwrap().to_string())).collect();
    assert!(carried.contains(&(PROVIDER.into(), format!("work done under {}", second["id"].as_str().unwrap()))), "{carried:?}");
    assert!(carried.contains(&("README.md".into(), "document view_count".into())), "{carried:?}");
    // The new manifest is active, the earlier work is still writable, and the audit still
    // starts from the first activation.
    assert_eq!(std::fs::read_to_string(env.path(".maintaind/manifests/active")).unwrap().trim(), third["id"].as_str().unwrap());
    env.run(&["gate", "check", PROVIDER, "README.md"]).expect_code(0);
    let a = env.run(&["gate", "audit", "--json"]).expect_code(0).json();
    assert_eq!(a["touched"].as_array().unwrap().len(), 3, "{a}");
}

#[test]
fn decisions_from_an_agent_are_filled_like_the_planners() {
    let env = setup();
    let good = serde_json::json!({
        "summary": "Add view_count to articles",
        "changes": [{"symbol": "IBbsArticle", "kind": "shape", "intent": "expose view_count"}],
        "acceptance_criteria": ["the article DTO has view_count"],
        "excluded_categories": ["tests"]
    });
    let path = env.path("decisions.json");
    std::fs::write(&path, good.to_string()).unwrap();
    let m = env.run(&["change", "add view_count", "--decisions", path.to_str().unwrap(), "--no-lsp", "--json"]).expect_code(0).json();
    assert_eq!(m["provenance"]["planner"], "decisions given");
    assert_eq!(
        m["decisions"],
        serde_json::json!({"summary": "Add view_count to articles", "changes": [{"symbol": "IBbsArticle", "kind": "shape", "intent": "expose view_count"}], "new_symbols": [], "acceptance_criteria": ["the article DTO has view_count"], "excluded_categories": ["tests"]})
    );
    assert_eq!(m["facts"]["targets"][0]["file"], "src/api/structures/IBbsArticle.ts", "facts come from the registry");
    assert!(!m["facts"]["files_to_modify"].as_array().unwrap().is_empty());
    // From stdin too.
    let r = run_with_stdin(&env, &["change", "add view_count", "--decisions", "-", "--no-lsp", "--dry-run", "--json"], &good.to_string());
    r.expect_code(0);
    env.run(&["manifest", "schema"]).expect_code(0).stdout_has("\"additionalProperties\": false");

    // Bad decisions: refused with the path, nothing planned.
    let bad = setup();
    let cases: Vec<(String, &str)> = vec![
        (r#"{"summary":"s","changes":[],"files_to_modify":["src/MyGlobal.ts"]}"#.into(), "$.files_to_modify: `files_to_modify` is a fact, not a decision"),
        (r#"{"summary":"s","changes":[{"symbol":"IBbsArticle","kind":"shape","intent":"i","file":"x.ts"}]}"#.into(), "$.changes[0].file: `file` is a fact"),
        (r#"{"summary":"s","changes":[{"symbol":"IBbsArticle","kind":"rewrite","intent":"i"}]}"#.into(), "$.changes[0].kind: unknown variant `rewrite`"),
        (r#"{"summary":"s","changes":[{"symbol":"NoSuchSymbol","kind":"shape","intent":"i"}]}"#.into(), "NoSuchSymbol"),
        ("{ not json".into(), "not valid"),
        (format!("{} trailing", good), "trailing characters"),
        ("x".repeat((1 << 20) + 1), "longer than 1048576 bytes"),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let p = bad.path(&format!("d{i}.json"));
        std::fs::write(&p, text).unwrap();
        bad.run(&["change", "x", "--decisions", p.to_str().unwrap(), "--no-lsp"]).expect_code(2).stderr_has(says);
    }
    bad.run(&["change", "x", "--decisions", "/nonexistent/d.json", "--no-lsp"]).expect_code(2).stderr_has("cannot read the decisions");
    bad.run(&["change", "x", "--decisions", "d0.json", "--planner", "llm"]).expect_code(2).stderr_has("cannot be used with");
    assert!(!bad.path(".maintaind/manifests").exists(), "nothing planned");
}

fn run_with_stdin(env: &Env, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = std::process::Command::new(bin())
        .arg("--root")
        .arg(env.root())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Run { args: args.iter().map(|a| a.to_string()).collect(), cwd: env.root().to_path_buf(), output }
}

#[test]
fn agent_setup_merges_is_idempotent_and_refuses_what_it_cannot_read() {
    let env = setup();
    std::fs::create_dir_all(env.path(".claude")).unwrap();
    std::fs::write(
        env.path(".claude/settings.json"),
        r#"{"permissions": {"allow": ["Bash(npm test)"]}, "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]}}"#,
    )
    .unwrap();
    // --dry-run shows the diff and writes nothing.
    let dry = env.run(&["agent", "setup", "claude-code", "--dry-run"]);
    dry.expect_code(0).stdout_has(".mcp.json  would be created").stdout_has("+++ b/.claude/settings.json").stdout_has("+            \"command\": \"maintaind gate claude-hook || exit 2\"");
    assert!(!env.path(".mcp.json").exists());
    let r = env.run(&["agent", "setup", "claude-code", "--json"]).expect_code(0).json();
    assert_eq!(r.as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect::<Vec<_>>(), ["created", "updated"]);
    let mcp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(env.path(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["mcpServers"]["maintaind"], serde_json::json!({"command": "maintaind", "args": ["mcp"]}));
    let settings: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(env.path(".claude/settings.json")).unwrap()).unwrap();
    assert_eq!(settings["permissions"]["allow"][0], "Bash(npm test)", "kept");
    assert_eq!(settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"], "./guard.sh", "kept");
    assert_eq!(
        settings["hooks"]["PreToolUse"][1],
        serde_json::json!({"matcher": "Write|Edit|MultiEdit|NotebookEdit", "hooks": [{"type": "command", "command": "maintaind gate claude-hook || exit 2"}]})
    );
    // Twice: nothing changes.
    let again = env.run(&["agent", "setup", "claude-code", "--json"]).expect_code(0).json();
    assert!(again.as_array().unwrap().iter().all(|c| c["action"] == "unchanged"), "{again}");
    // Cursor and Codex: their project files.
    env.run(&["agent", "setup", "cursor"]).expect_code(0);
    assert!(std::fs::read_to_string(env.path(".cursor/mcp.json")).unwrap().contains("\"maintaind\""));
    std::fs::create_dir_all(env.path(".codex")).unwrap();
    std::fs::write(env.path(".codex/config.toml"), "model = \"o4-mini\"\n").unwrap();
    env.run(&["agent", "setup", "codex"]).expect_code(0);
    let codex = std::fs::read_to_string(env.path(".codex/config.toml")).unwrap();
    assert!(codex.starts_with("model = \"o4-mini\"\n") && codex.contains("[mcp_servers.maintaind]\ncommand = \"maintaind\"\nargs = [\"mcp\"]"), "{codex}");
    // What it cannot read or must not write through is refused, and nothing is written.
    let bad = setup();
    bad.write(".mcp.json", "{ not json");
    bad.run(&["agent", "setup", "claude-code"]).expect_code(2).stderr_has(".mcp.json is not valid JSON").stderr_has("nothing was written");
    assert!(!bad.path(".claude").exists());
    assert_eq!(std::fs::read_to_string(bad.path(".mcp.json")).unwrap(), "{ not json");
    std::fs::remove_file(bad.path(".mcp.json")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path().join("mcp.json"), bad.path(".mcp.json")).unwrap();
    bad.run(&["agent", "setup", "claude-code"]).expect_code(2).stderr_has("symbolic link");
    assert!(!outside.path().join("mcp.json").exists());
    bad.run(&["agent", "setup", "emacs"]).expect_code(2).stderr_has("invalid value 'emacs'");
    bad.run(&["agent", "setup", "cursor", "--command", ""]).expect_code(2).stderr_has("--command");
}

/// The daemon reports writes outside the scope as the watcher sees them, whoever made them.
#[test]
fn the_daemon_reports_out_of_scope_writes_as_they_happen() {
    let (env, _) = planned();
    let (_guard, _) = crate::daemon::start(&env, &["--no-lsp"]);
    let status = || env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    append(&env, PROVIDER, "\n// in scope\n");
    append(&env, "src/MyGlobal.ts", "\n// out of scope\n");
    crate::daemon::eventually("the out-of-scope write in the status", || status()["out_of_scope_writes"] == serde_json::json!(["src/MyGlobal.ts"]));
    env.write("NOTES.md", "not planned\n");
    crate::daemon::eventually("a new file outside the scope", || status()["out_of_scope_writes"] == serde_json::json!(["NOTES.md", "src/MyGlobal.ts"]));
    // Put back as it was: no longer a write.
    let text = std::fs::read_to_string(env.path("src/MyGlobal.ts")).unwrap().replace("\n// out of scope\n", "");
    std::fs::write(env.path("src/MyGlobal.ts"), text).unwrap();
    crate::daemon::eventually("the restored file dropped", || status()["out_of_scope_writes"] == serde_json::json!(["NOTES.md"]));
    env.run(&["daemon", "stop"]).expect_code(0);
}

//! `maintaind gate check` and `maintaind gate claude-hook`: writes only inside the active
//! manifest's scope, every escape attempt refused with its reason.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::*;

/// A temp fixture with an active manifest: add view_count to the article model, tests excluded.
fn planned() -> (Env, serde_json::Value) {
    let env = setup();
    let r = env.run(&["change", "add view_count to the article model, but leave the tests alone", "--no-lsp", "--json"]);
    r.expect_code(0);
    let m = r.json();
    (env, m)
}

fn verdicts(r: &Run) -> Vec<(String, bool, String)> {
    r.json().as_array().unwrap().iter().map(|v| (v["input"].as_str().unwrap().to_string(), v["allowed"].as_bool().unwrap(), v["reason"].as_str().unwrap().to_string())).collect()
}

fn hook(env: &Env, event: &str) -> Run {
    let mut child = Command::new(bin())
        .args(["--root", env.root().to_str().unwrap(), "gate", "claude-hook"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(event.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Run { args: vec!["gate claude-hook".into()], cwd: env.root().to_path_buf(), output }
}

#[test]
fn manifest_scope_decides_and_every_escape_is_refused() {
    let (env, m) = planned();
    let allowed: Vec<String> = m["facts"]["files_to_modify"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    assert!(allowed.contains(&"src/providers/postBbsMemberArticles.ts".to_string()), "{allowed:?}");
    env.run(&["gate", "check", "src/providers/postBbsMemberArticles.ts"]).expect_code(0).stdout_has("allowed  src/providers/postBbsMemberArticles.ts  in files_to_modify");

    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), env.path("src/providers/out")).unwrap();
    let abs_inside = env.path("src/providers/postBbsMemberArticles.ts").display().to_string();
    let long = format!("src/{}.ts", "x".repeat(5000));
    let attempts: Vec<(&str, &str)> = vec![
        ("src/MyGlobal.ts", "not in the active manifest's scope"),
        ("../bbs-backend/src/providers/postBbsMemberArticles.ts", "outside the root"),
        ("src/../../x.ts", "`..` leads outside the root"),
        ("/etc/passwd", "absolute path outside the root"),
        ("src/providers/out/postBbsMemberArticles.ts", "`src/providers/out` is a symbolic link"),
        ("src/Providers/postBbsMemberArticles.ts", "differs in case from `providers` on disk"),
        ("src/providers/PostBbsMemberArticles.ts", "differs in case from `postBbsMemberArticles.ts` on disk"),
        (&long, "limit 4096"),
        (".maintaind/registry.db", ".maintaind/ is maintaind's or git's own state"),
        (".git/config", ".git/ is maintaind's or git's own state"),
        ("test/features/api/article/test_api_article_creation.ts", "excluded by the manifest (tests: `test/**`)"),
    ];
    let mut args = vec!["gate", "check", "--json", abs_inside.as_str()];
    args.extend(attempts.iter().map(|(p, _)| *p));
    let r = env.run(&args);
    r.expect_code(1);
    let got = verdicts(&r);
    assert!(got[0].1, "an absolute path inside the root is fine: {:?}", got[0]);
    for ((path, expected), (input, allowed, reason)) in attempts.iter().zip(&got[1..]) {
        assert_eq!(path, input);
        assert!(!allowed, "{path} must be refused");
        assert!(reason.contains(expected), "{path}: {reason:?} lacks {expected:?}");
    }
}

#[test]
fn no_active_or_hand_edited_or_foreign_manifest_refuses_everything() {
    let env = setup();
    env.run(&["gate", "check", "src/MyGlobal.ts"]).expect_code(1).stdout_has("no active manifest");

    let (env, m) = planned();
    let id = m["id"].as_str().unwrap().to_string();
    let path = env.path(&format!(".maintaind/manifests/{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    // Widen the scope by hand, digest untouched.
    std::fs::write(&path, text.replacen("\"files_to_modify\": [", "\"files_to_modify\": [\n      \"src/MyGlobal.ts\",", 1)).unwrap();
    env.run(&["gate", "check", "src/MyGlobal.ts", "src/providers/postBbsMemberArticles.ts"]).expect_code(1).stdout_has("edited by hand");
    std::fs::write(&path, &text).unwrap();
    env.run(&["gate", "check", "src/providers/postBbsMemberArticles.ts"]).expect_code(0);

    // The same manifest in another copy of the project.
    let other = setup();
    std::fs::create_dir_all(other.path(".maintaind/manifests")).unwrap();
    std::fs::copy(&path, other.path(&format!(".maintaind/manifests/{id}.json"))).unwrap();
    std::fs::write(other.path(".maintaind/manifests/active"), &id).unwrap();
    other.run(&["gate", "check", "src/providers/postBbsMemberArticles.ts"]).expect_code(1).stdout_has("was planned for");
    other.run(&["manifest", "activate", &id]).expect_code(2).stderr_has("was planned for");
}

/// A manifest is a work order: its own edits (the targets included) never make it stale; a
/// file it read but does not write changing does, and so does a new caller it never saw.
#[test]
fn a_manifest_goes_stale_only_on_what_the_plan_did_not_foresee() {
    let (env, _) = planned();
    let provider = "src/providers/postBbsMemberArticles.ts";
    // The plan's own work: the target DTO and a provider, both in scope.
    let dto = "src/api/structures/IBbsArticle.ts";
    env.write(dto, std::fs::read_to_string(env.path(dto)).unwrap().replacen("export type IBbsArticle = {", "export type IBbsArticle = {\n  view_count: number & tags.Type<\"int32\">;", 1));
    env.write(provider, &(std::fs::read_to_string(env.path(provider)).unwrap() + "\n// view_count is returned\n"));
    env.run(&["gate", "check", provider]).expect_code(0).stdout_has("in files_to_modify");
    // An unrelated file outside the scope: not stale (the audit names it).
    env.write("src/MyGlobal.ts", &(std::fs::read_to_string(env.path("src/MyGlobal.ts")).unwrap() + "\n// unrelated\n"));
    env.run(&["gate", "check", provider]).expect_code(0);
    // A file the plan read but does not change: stale, until it is back as it was.
    let read_only = "src/providers/patchBbsArticles.ts";
    let before = std::fs::read_to_string(env.path(read_only)).unwrap();
    env.write(read_only, &(before.clone() + "\n// changed behind the plan's back\n"));
    env.run(&["gate", "check", provider])
        .expect_code(1)
        .stdout_has(&format!("the manifest is stale: {read_only}, which the plan read but does not change, changed since activation"))
        .stdout_has("change --amend");
    env.write(read_only, &before);
    env.run(&["gate", "check", provider]).expect_code(0);
    // A new file outside the scope that imports a target's file: a caller the plan never saw.
    env.write("src/providers/extraCaller.ts", "import { IBbsArticle } from \"@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle\";\n\nexport const extra = (a: IBbsArticle): string => a.title;\n");
    env.run(&["gate", "check", provider]).expect_code(1).stdout_has("src/providers/extraCaller.ts is new since activation and imports a file the plan changes");
}

/// The first failure: after step 1 of a planned rename (the definition), the callers
/// in scope stay writable.
#[test]
fn a_rename_plan_survives_renaming_its_definition() {
    let env = setup();
    let m = env.run(&["change", "rename IBbsArticle.ICreate to IBbsArticle.ICreateBody", "--no-lsp", "--json"]).expect_code(0).json();
    let scope: Vec<String> = m["facts"]["files_to_modify"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    let dto = "src/api/structures/IBbsArticle.ts";
    assert!(scope.contains(&dto.to_string()), "{scope:?}");
    let callers: Vec<&String> = scope.iter().filter(|f| *f != dto).collect();
    assert!(!callers.is_empty(), "{scope:?}");
    env.write(dto, std::fs::read_to_string(env.path(dto)).unwrap().replace("ICreate", "ICreateBody"));
    for caller in &callers {
        env.run(&["gate", "check", caller]).expect_code(0).stdout_has("allowed");
    }
    env.run(&["gate", "audit"]).expect_code(0).stdout_has(&format!("in scope      changed  {dto}"));
}

/// The hook's JSON decision (`None`: it said nothing, Claude Code asks as usual).
fn decision(r: &Run) -> Option<(String, String)> {
    r.expect_code(0);
    let out = String::from_utf8_lossy(&r.output.stdout);
    if out.trim().is_empty() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PreToolUse");
    Some((v["hookSpecificOutput"]["permissionDecision"].as_str().unwrap().to_string(), v["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap().to_string()))
}

/// The hook run as Claude Code runs it: no `--root`, from `cwd`, with `env`.
fn hook_as_claude(cwd: &std::path::Path, event: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(["gate", "claude-hook"]).current_dir(cwd).env("NO_COLOR", "1").env_remove("CLAUDE_PROJECT_DIR").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(event.as_bytes()).unwrap();
    Run { args: vec!["gate claude-hook".into()], cwd: cwd.to_path_buf(), output: child.wait_with_output().unwrap() }
}

#[test]
fn claude_code_hook_denies_with_a_reason_and_passes_what_is_not_its_business() {
    let (env, _) = planned();
    let inside = env.path("src/providers/postBbsMemberArticles.ts").display().to_string();
    let outside = env.path("src/MyGlobal.ts").display().to_string();
    let event = |tool: &str, key: &str, path: &str, cwd: &str| {
        serde_json::json!({"session_id": "s", "hook_event_name": "PreToolUse", "cwd": cwd, "tool_name": tool, "tool_input": {key: path, "content": "x"}}).to_string()
    };
    let root = env.root().to_str().unwrap();
    // In scope: no answer, Claude Code's own permissions apply.
    assert_eq!(decision(&hook(&env, &event("Write", "file_path", &inside, root))), None);
    // Out of scope: deny, with the scope and the command that widens it.
    for tool in ["Edit", "MultiEdit", "Write"] {
        let (d, reason) = decision(&hook(&env, &event(tool, "file_path", &outside, root))).unwrap();
        assert_eq!(d, "deny", "{tool}");
        assert!(reason.contains("not in the active manifest's scope") && reason.contains("maintaind manifest widen src/MyGlobal.ts --reason"), "{reason}");
    }
    let (d, reason) = decision(&hook(&env, &event("NotebookEdit", "notebook_path", &env.path("notes/analysis.ipynb").display().to_string(), root))).unwrap();
    assert_eq!(d, "deny", "{reason}");
    // Relative paths are the event's cwd's.
    let src = env.path("src").display().to_string();
    assert_eq!(decision(&hook(&env, &event("Edit", "file_path", "providers/postBbsMemberArticles.ts", &src))), None);
    let (_, reason) = decision(&hook(&env, &event("Edit", "file_path", "MyGlobal.ts", &src))).unwrap();
    assert!(reason.contains("src/MyGlobal.ts"), "{reason}");
    // A link in the project is the project's (refused), even when it points outside.
    std::os::unix::fs::symlink("/etc/hostname", env.path("src/providers/link.ts")).unwrap();
    assert_eq!(decision(&hook(&env, &event("Write", "file_path", &env.path("src/providers/link.ts").display().to_string(), root))).unwrap().0, "deny");
    std::fs::remove_file(env.path("src/providers/link.ts")).unwrap();
    // Outside the project (notes in /tmp, ~/.claude): none of its business...
    assert_eq!(decision(&hook(&env, &event("Write", "file_path", "/tmp/agent-notes.md", root))), None);
    assert_eq!(decision(&hook(&env, &event("Write", "file_path", "../elsewhere/x.ts", root))), None);
    // ...unless configured; and `allow_in_scope` answers allow.
    std::fs::write(env.path("maintaind.toml"), "[hook]\noutside_root = \"deny\"\nallow_in_scope = true\n").unwrap();
    let (d, reason) = decision(&hook(&env, &event("Write", "file_path", "/tmp/agent-notes.md", root))).unwrap();
    assert_eq!(d, "deny");
    assert!(reason.contains("outside the project"), "{reason}");
    let (d, reason) = decision(&hook(&env, &event("Write", "file_path", &inside, root))).unwrap();
    assert_eq!(d, "allow");
    assert!(reason.contains("in files_to_modify"), "{reason}");
    std::fs::remove_file(env.path("maintaind.toml")).unwrap();
    // Without --root: $CLAUDE_PROJECT_DIR, else the event's cwd, decides the root.
    let elsewhere = tempfile::tempdir().unwrap();
    let (d, _) = decision(&hook_as_claude(elsewhere.path(), &event("Edit", "file_path", &outside, "/"), &[("CLAUDE_PROJECT_DIR", root)])).unwrap();
    assert_eq!(d, "deny");
    let (d, _) = decision(&hook_as_claude(elsewhere.path(), &event("Edit", "file_path", &outside, &src), &[])).unwrap();
    assert_eq!(d, "deny");
    // Other tools pass; input it cannot judge blocks (exit 2), as does a broken configuration.
    assert_eq!(decision(&hook(&env, &serde_json::json!({"tool_name": "Bash", "tool_input": {"command": "ls"}}).to_string())), None);
    hook(&env, "{ not json").expect_code(2).stderr_has("the hook input is not JSON").stderr_has("write blocked");
    hook(&env, &serde_json::json!({"tool_name": "Write", "tool_input": {}}).to_string()).expect_code(2).stderr_has("no `tool_input.file_path`");
    assert_eq!(decision(&hook(&env, &serde_json::json!({"tool_name": "Write", "tool_input": {"file_path": "src/a\u{0}.ts"}}).to_string())).unwrap().0, "deny");
    std::fs::write(env.path("maintaind.toml"), "[hook]\noutside_root = \"maybe\"\n").unwrap();
    hook(&env, &event("Write", "file_path", &inside, root)).expect_code(2).stderr_has("write blocked");
}

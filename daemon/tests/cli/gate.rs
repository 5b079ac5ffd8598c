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

#[test]
fn claude_code_hook_allows_blocks_and_ignores_other_tools() {
    let (env, _) = planned();
    let inside = env.path("src/providers/postBbsMemberArticles.ts").display().to_string();
    let outside = env.path("src/MyGlobal.ts").display().to_string();
    let event = |tool: &str, path: &str| serde_json::json!({"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": {"file_path": path, "content": "x"}}).to_string();
    hook(&env, &event("Write", &inside)).expect_code(0);
    hook(&env, &event("Edit", &outside)).expect_code(2).stderr_has("maintaind gate refused").stderr_has("not in the active manifest");
    hook(&env, &event("MultiEdit", "/etc/passwd")).expect_code(2).stderr_has("absolute path outside the root");
    hook(&env, &serde_json::json!({"tool_name": "Write", "tool_input": {"file_path": "src/a\u{0}.ts"}}).to_string()).expect_code(2).stderr_has("NUL byte");
    hook(&env, &serde_json::json!({"tool_name": "Bash", "tool_input": {"command": "ls"}}).to_string()).expect_code(0);
    hook(&env, "{ not json").expect_code(2).stderr_has("the hook input is not JSON");
    hook(&env, &serde_json::json!({"tool_name": "Write", "tool_input": {}}).to_string()).expect_code(2).stderr_has("no `tool_input.file_path`");
}

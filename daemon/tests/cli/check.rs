//! `maintaind check` and `maintaind hook install` with real git on a copy of the fixture:
//! the staged state is what counts, broken callers outside the commit fail it, the active
//! manifest's scope is enforced, and the installed hook really stops `git commit`.

use std::process::Command;

use crate::*;

/// A helper with callers in two other files: the authorizers call `jwtAuthorize`.
const HELPER: &str = "src/providers/authorize/jwtAuthorize.ts";
const CALLERS: [&str; 2] = ["src/providers/authorize/adminAuthorize.ts", "src/providers/authorize/memberAuthorize.ts"];

fn repo() -> Env {
    let env = setup();
    git_init(&env);
    env
}

fn edit(env: &Env, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(env.path(rel)).unwrap();
    assert!(text.contains(from), "{rel} lacks {from:?}");
    std::fs::write(env.path(rel), text.replace(from, to)).unwrap();
}

fn violations(r: &Run) -> Vec<(String, String)> {
    r.json()["violations"].as_array().unwrap().iter().map(|v| (v["file"].as_str().unwrap().to_string(), v["message"].as_str().unwrap().to_string())).collect()
}

#[test]
fn a_signature_change_fails_until_its_callers_are_in_the_commit() {
    let env = repo();
    edit(&env, HELPER, "export function jwtAuthorize(", "export function jwtAuthorize(extra: number, ");
    git(&env, &["add", HELPER]);
    let r = env.run(&["check", "--staged", "--json"]);
    r.expect_code(1);
    let report = r.json();
    assert_eq!(report["changes"][0]["kind"], "signature", "{report:#}");
    assert_eq!(report["checked_with_server"], true);
    let v = violations(&r);
    assert_eq!(v.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), CALLERS, "{v:#?}");
    assert!(v.iter().all(|(_, m)| m.contains("TS2554: Expected 2 arguments, but got 1.") && m.contains("not in the commit")), "{v:#?}");

    // Fixing the callers in the working tree only: the commit is still broken.
    for c in CALLERS {
        edit(&env, c, "jwtAuthorize({ request })", "jwtAuthorize(0, { request })");
    }
    let files = env.run(&["check", "--staged", "--json"]).expect_code(1).json();
    assert_eq!(files["committed"].as_array().unwrap().len(), 1);
    env.run(&["check"]).expect_code(0).stdout_has("ok: nothing outside the commit breaks");
    // Staged with the fix: it passes.
    git(&env, &["add", "-A"]);
    env.run(&["check", "--staged"]).expect_code(0).stdout_has("ok: nothing outside the commit breaks");
}

#[test]
fn without_the_server_removed_and_renamed_symbols_fail_and_bodies_pass() {
    let env = repo();
    edit(&env, HELPER, "export function jwtAuthorize(", "export function verifyBearer(");
    git(&env, &["add", "-A"]);
    let r = env.run(&["check", "--staged", "--no-lsp", "--json"]);
    r.expect_code(1);
    let report = r.json();
    assert_eq!(report["changes"][0]["kind"], "rename");
    assert_eq!(report["changes"][0]["renamed_to"], "verifyBearer");
    assert_eq!(report["checked_with_server"], false);
    let files: std::collections::BTreeSet<String> = violations(&r).into_iter().map(|(f, _)| f).collect();
    assert_eq!(files.iter().map(String::as_str).collect::<Vec<_>>(), CALLERS);
    // The human form says what was not checked.
    env.run(&["check", "--staged", "--no-lsp"]).expect_code(1).stdout_has("without the language server").stdout_has("references `jwtAuthorize`, jwtAuthorize was renamed to verifyBearer");

    // A body-only change breaks nobody.
    git(&env, &["reset", "-q", "--hard"]);
    edit(&env, HELPER, "return jwt.verify(", "return /* same call */ jwt.verify(");
    git(&env, &["add", "-A"]);
    let r = env.run(&["check", "--staged", "--no-lsp", "--json"]);
    r.expect_code(0);
    assert_eq!(r.json()["changes"][0]["kind"], "behavior");

    // A removed export referenced elsewhere.
    git(&env, &["reset", "-q", "--hard"]);
    let text = std::fs::read_to_string(env.path(HELPER)).unwrap();
    let start = text.find("export function jwtAuthorize(").unwrap();
    std::fs::write(env.path(HELPER), format!("{}export {{}};\n", &text[..start])).unwrap();
    git(&env, &["add", "-A"]);
    let r = env.run(&["check", "--staged", "--no-lsp", "--json"]);
    r.expect_code(1);
    assert_eq!(r.json()["changes"][0]["kind"], "remove");
}

#[test]
fn a_commit_without_code_passes_at_once_and_the_manifest_scope_is_enforced() {
    let env = repo();
    std::fs::write(env.path("NOTES.md"), "notes\n").unwrap();
    git(&env, &["add", "NOTES.md"]);
    env.run(&["check", "--staged"]).expect_code(0).stderr_has("no TypeScript or Prisma file in the commit");
    assert!(!env.path(".maintaind/registry.db").exists(), "a commit without code does not even open the registry");

    // With an active manifest, committed files outside its scope fail the check.
    env.run(&["change", "add view_count to the article model, but leave the tests alone", "--no-lsp"]).expect_code(0);
    let r = env.run(&["check", "--staged", "--json"]);
    r.expect_code(1);
    let v = violations(&r);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].0, "NOTES.md");
    assert!(v[0].1.contains("outside the active manifest"), "{v:?}");

    // SARIF 2.1.0 for code scanning.
    let sarif = env.run(&["check", "--staged", "--sarif"]);
    sarif.expect_code(1);
    let log = sarif.json();
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "maintaind/out-of-scope");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "NOTES.md");
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(rules.contains(&"maintaind/out-of-scope"));

    // A write outside the scope that no hook saw (and that is not even staged) fails it too.
    std::fs::write(env.path("src/MyGlobal.ts"), std::fs::read_to_string(env.path("src/MyGlobal.ts")).unwrap() + "\n// sed -i\n").unwrap();
    let r = env.run(&["check", "--staged", "--json"]);
    r.expect_code(1);
    let v = violations(&r);
    assert_eq!(v.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["NOTES.md", "src/MyGlobal.ts"], "{v:?}");
    assert!(v[1].1.contains("changed outside the active manifest") && v[1].1.contains("not in this commit"), "{v:?}");
    git(&env, &["checkout", "--", "src/MyGlobal.ts"]);

    // A manifest edited by hand cannot authorise a commit either.
    let id = std::fs::read_to_string(env.path(".maintaind/manifests/active")).unwrap();
    let path = env.path(&format!(".maintaind/manifests/{}.json", id.trim()));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"files_to_modify\": [", "\"files_to_modify\": [\n      \"NOTES.md\",", 1)).unwrap();
    env.run(&["check", "--staged"]).expect_code(1).stdout_has("the active manifest cannot be used").stdout_has("edited by hand");
}

#[test]
fn check_outside_git_is_an_environment_error() {
    let env = setup();
    env.run(&["check", "--staged"]).expect_code(3).stderr_has("is not in a git repository");
}

fn git_commit(env: &Env, message: &str) -> std::process::Output {
    Command::new("git")
        .args(["commit", "-q", "-m", message])
        .current_dir(env.root())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_installed_hook_stops_a_breaking_commit() {
    let env = repo();
    env.run(&["hook", "install"]).expect_code(0).stdout_has("created").stdout_has(".git/hooks/pre-commit");
    env.run(&["hook", "install"]).expect_code(0).stdout_has("already installed");
    let hook = env.path(".git/hooks/pre-commit");
    use std::os::unix::fs::PermissionsExt;
    assert!(std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111 != 0, "executable");

    edit(&env, HELPER, "export function jwtAuthorize(", "export function verifyBearer(");
    git(&env, &["add", "-A"]);
    let out = git_commit(&env, "rename without the callers");
    assert!(!out.status.success(), "the hook must block the commit");
    // git sends a hook's stdout to its stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken-caller src/providers/authorize/adminAuthorize.ts:4"), "{stderr}");
    for c in CALLERS {
        edit(&env, c, "{ jwtAuthorize }", "{ verifyBearer }");
        edit(&env, c, "jwtAuthorize({ request })", "verifyBearer({ request })");
    }
    git(&env, &["add", "-A"]);
    let out = git_commit(&env, "rename with the callers");
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn hook_install_never_clobbers_and_follows_hooks_path_and_husky() {
    // A foreign hook: refused and left alone, appended only when asked.
    let env = repo();
    let hook = env.path(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nnpm run lint\n").unwrap();
    env.run(&["hook", "install"]).expect_code(2).stderr_has("already exists and is not maintaind's; nothing changed").stderr_has("check --staged");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), "#!/bin/sh\nnpm run lint\n");
    env.run(&["hook", "install", "--append"]).expect_code(0).stdout_has("appended");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh\nnpm run lint\n# maintaind: pre-commit blast-radius check\n"), "{text}");

    // core.hooksPath is where git looks, so that is where the hook goes.
    let env = repo();
    git(&env, &["config", "core.hooksPath", "githooks"]);
    env.run(&["hook", "install"]).expect_code(0).stdout_has("core.hooksPath");
    assert!(env.path("githooks/pre-commit").exists());
    assert!(!env.path(".git/hooks/pre-commit").exists());

    // husky: one line in .husky/pre-commit, after what is there.
    let env = repo();
    env.write(".husky/pre-commit", "npm test\n");
    env.run(&["hook", "install"]).expect_code(0).stdout_has("appended").stdout_has("husky");
    assert_eq!(std::fs::read_to_string(env.path(".husky/pre-commit")).unwrap(), "npm test\n# maintaind: pre-commit blast-radius check\nmaintaind check --staged\n");

    // Not a repository.
    let env = setup();
    env.run(&["hook", "install"]).expect_code(3).stderr_has("not in a git repository");
}

#[test]
fn pre_commit_framework_manifest_is_valid() {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.pre-commit-hooks.yaml")).unwrap();
    for needle in ["- id: maintaind-check", "entry: maintaind check --staged", "language: system", "pass_filenames: false", "require_serial: true"] {
        assert!(text.lines().any(|l| l.trim_start_matches("- ").trim() == needle.trim_start_matches("- ") || l.trim() == needle), "{needle:?} missing from .pre-commit-hooks.yaml:\n{text}");
    }
}

#[test]
fn a_removed_prisma_field_fails_even_with_the_server() {
    // The server sees a schema change only through the generated client; the registry's
    // reference rule decides for Prisma.
    let env = repo();
    edit(&env, "prisma/schema/schema-02-articles.prisma", "  view_limit Int\n", "");
    git(&env, &["add", "-A"]);
    let r = env.run(&["check", "--staged", "--json"]);
    r.expect_code(1);
    let report = r.json();
    assert!(report["changes"].as_array().unwrap().iter().any(|c| c["symbol"] == "prisma:bbs_articles.view_limit" && c["kind"] == "remove"), "{report:#}");
    let files: std::collections::BTreeSet<String> = violations(&r).into_iter().map(|(f, _)| f).collect();
    assert!(files.contains("src/providers/postBbsMemberArticles.ts") && files.contains("src/providers/getBbsArticlesArticleId.ts"), "{files:?}");
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("prisma generate")));
}

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
    // GitHub refuses a result without a region: a file-level violation is at line 1.
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert!(result["partialFingerprints"]["maintaindViolation/v1"].is_string());
    for rule in log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        for key in ["text", "markdown"] {
            assert!(rule["help"][key].as_str().is_some_and(|h| h.len() > 40), "{rule:#}");
        }
        assert!(rule["helpUri"].as_str().unwrap().contains("docs/guide/ci.md#"), "{rule:#}");
    }

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
    git_commit_with(env, message, &[])
}

/// `git commit` with more environment (PATH, PYTHONPATH for the hooks it runs).
fn git_commit_with(env: &Env, message: &str, vars: &[(&str, &str)]) -> std::process::Output {
    Command::new("git")
        .args(["commit", "-q", "-m", message])
        .current_dir(env.root())
        .envs(vars.iter().copied())
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
    assert!(text.starts_with("#!/bin/sh\nnpm run lint\n# maintaind: pre-commit blast-radius check (--missing block)\nif [ -x '"), "{text}");
    // A hook that ends by handing the process away: the lines go before that.
    std::fs::write(&hook, "#!/bin/sh\nnpm run lint\nexec npx lint-staged\n").unwrap();
    env.run(&["hook", "install", "--append"]).expect_code(0).stdout_has("inserted before line 3 (`exec npx lint-staged`)");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.ends_with("; fi\nexec npx lint-staged\n"), "{text}");
    // One whose hand-off cannot be placed: refused with the lines to add, nothing changed.
    let odd = "#!/bin/sh\nnpm run lint && \\\n  exec npx lint-staged\n";
    std::fs::write(&hook, odd).unwrap();
    env.run(&["hook", "install", "--append"]).expect_code(2).stderr_has("hands the process away at line 3").stderr_has("check --staged || exit 1");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), odd);

    // core.hooksPath is where git looks, so that is where the hook goes.
    let env = repo();
    git(&env, &["config", "core.hooksPath", "githooks"]);
    env.run(&["hook", "install"]).expect_code(0).stdout_has("core.hooksPath");
    assert!(env.path("githooks/pre-commit").exists());
    assert!(!env.path(".git/hooks/pre-commit").exists());

    // husky: two lines in .husky/pre-commit, after what is there.
    let env = repo();
    env.write(".husky/pre-commit", "npm test\n");
    env.run(&["hook", "install"]).expect_code(0).stdout_has("appended").stdout_has("husky");
    let text = std::fs::read_to_string(env.path(".husky/pre-commit")).unwrap();
    assert!(
        text.starts_with("npm test\n# maintaind: pre-commit blast-radius check (--missing block)\nif command -v maintaind >/dev/null 2>&1; then maintaind check --staged || exit 1; else echo"),
        "{text}"
    );
    // An install from an older maintaind (one bare line) is brought up to date, in place.
    env.write(".husky/pre-commit", "npm test\n# maintaind: pre-commit blast-radius check\nmaintaind check --staged\nnpm run lint\n");
    env.run(&["hook", "install", "--missing", "skip"]).expect_code(0).stdout_has("updated").stdout_has("the check is skipped");
    let text = std::fs::read_to_string(env.path(".husky/pre-commit")).unwrap();
    assert!(text.starts_with("npm test\n# maintaind: pre-commit blast-radius check (--missing skip)\nif command") && text.ends_with("; fi\nnpm run lint\n"), "{text}");

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

/// A CI job: the branch against its merge base with main. The branch's own changes count,
/// what main did meanwhile (merged in or not) does not, and the working tree can be anywhere.
#[test]
fn check_base_blocks_a_breaking_branch_and_passes_a_clean_one() {
    let env = repo();
    git(&env, &["checkout", "-q", "-b", "feature"]);
    edit(&env, HELPER, "export function jwtAuthorize(", "export function jwtAuthorize(extra: number, ");
    git(&env, &["commit", "-q", "-am", "a parameter, callers forgotten"]);
    // main moves on with a change of its own, and the branch merges it in.
    git(&env, &["checkout", "-q", "main"]);
    std::fs::write(env.path("NOTES.md"), "main's notes\n").unwrap();
    edit(&env, "src/MyGlobal.ts", "export class MyGlobal", "/** main's doc */\nexport class MyGlobal");
    git(&env, &["add", "-A"]);
    git(&env, &["commit", "-q", "-m", "main moves on"]);
    git(&env, &["checkout", "-q", "feature"]);
    git(&env, &["merge", "-q", "--no-edit", "main"]);

    let r = env.run(&["check", "--base", "main", "--json"]);
    r.expect_code(1);
    let report = r.json();
    assert_eq!(report["committed"], serde_json::json!([HELPER]), "main's files are not the branch's: {report:#}");
    assert!(report["compared"].as_str().unwrap().starts_with("main..HEAD (merge base "), "{report:#}");
    assert_eq!(violations(&r).iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), CALLERS);
    // The human form says what it compared, one line per broken file, and what to do.
    env.run(&["check", "--base", "main"])
        .expect_code(1)
        .stdout_has("main..HEAD (merge base")
        .stdout_has("2 violations in 2 files")
        .stdout_has("refused: 2 files outside the branch break")
        .stdout_has(&format!("fix: update them in this branch (`maintaind blast {HELPER}#jwtAuthorize --change signature` lists every place)"))
        .stdout_has("then: `maintaind check --base main`");

    // SARIF for code scanning: each broken caller at its line, with a fingerprint and its rule's help.
    let sarif = env.run(&["check", "--base", "main", "--sarif"]);
    sarif.expect_code(1);
    let log = sarif.json();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{log:#}");
    for (result, caller) in results.iter().zip(CALLERS) {
        assert_eq!(result["ruleId"], "maintaind/broken-caller");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], caller);
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let line = location["region"]["startLine"].as_u64().unwrap();
        let text = std::fs::read_to_string(env.path(caller)).unwrap();
        assert!(text.lines().nth(line as usize - 1).unwrap().contains("jwtAuthorize("), "line {line} of {caller} is the call");
        assert!(result["partialFingerprints"]["maintaindViolation/v1"].as_str().unwrap().len() > 16);
        let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
    }
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap().starts_with("file:///"), "{log:#}");

    // The same range from elsewhere: the working tree is on main, the tip is named.
    git(&env, &["checkout", "-q", "main"]);
    let r = env.run(&["check", "--range", "main..feature", "--json"]);
    r.expect_code(1);
    assert_eq!(violations(&r).iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), CALLERS);
    assert!(!std::fs::read_to_string(env.path(HELPER)).unwrap().contains("extra: number"), "the working tree is left as it was");
    // Before the merge, main had moved on: the note says the merge base is used.
    let r = env.run(&["check", "--range", "main...feature~1", "--json"]);
    r.expect_code(1);
    assert!(r.json()["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("has moved on")), "{:#}", r.json());

    // The callers fixed on the branch: it passes.
    git(&env, &["checkout", "-q", "feature"]);
    for c in CALLERS {
        edit(&env, c, "jwtAuthorize({ request })", "jwtAuthorize(0, { request })");
    }
    git(&env, &["commit", "-q", "-am", "callers"]);
    env.run(&["check", "--base", "main"]).expect_code(0).stdout_has("ok: nothing outside the branch breaks");
    // A branch that changes no code passes at once.
    env.run(&["check", "--base", "HEAD"]).expect_code(0).stderr_has("no TypeScript or Prisma file");
}

#[test]
fn check_base_and_range_refuse_what_is_not_a_revision_and_write_nothing() {
    let env = repo();
    for (args, says) in [
        (vec!["check", "--base", "no-such-branch"], "\"no-such-branch\" is not a commit here"),
        (vec!["check", "--base=--output=/tmp/x"], "is not a revision"),
        (vec!["check", "--base", "main branch"], "is not a revision"),
        (vec!["check", "--base", ""], "an empty revision"),
        (vec!["check", "--range", "main"], "expected A..B"),
        (vec!["check", "--range", "..HEAD"], "an empty revision"),
        (vec!["check", "--staged", "--base", "main"], "cannot be used with"),
        (vec!["check", "--base", "main", "--range", "main..HEAD"], "cannot be used with"),
    ] {
        env.run(&args).expect_code(2).stderr_has(says);
    }
    assert!(!env.path(".maintaind").exists(), "bad input must not create state");
    assert_untouched(&env);
}

fn tool(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools").join(rel)
}

/// PATH with maintaind on it (as a teammate who installed it has), or without it.
fn path_with_maintaind(with: bool) -> String {
    let dir = std::path::Path::new(bin()).parent().unwrap().display().to_string();
    if with { format!("{dir}:/usr/local/bin:/usr/bin:/bin") } else { "/usr/local/bin:/usr/bin:/bin".to_string() }
}

fn output_of(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// husky 9 for real (its own install, its `sh -e` runner): a project hook ending in `exec` gets
/// the check before that line, the check stops a breaking commit, and a teammate without the
/// binary is told why the commit is refused (or, with `--missing skip`, that it was skipped);
/// never a bare exit 127.
#[test]
fn under_husky_the_check_runs_before_a_trailing_exec_and_a_missing_binary_is_explained() {
    let env = repo();
    let husky = Command::new("node").arg(tool("node/node_modules/husky/bin.js")).current_dir(env.root()).env("GIT_CONFIG_GLOBAL", "/dev/null").output().unwrap();
    assert!(husky.status.success(), "husky's install: {}", output_of(&husky));
    assert_eq!(git(&env, &["config", "core.hooksPath"]).trim(), ".husky/_");
    env.write(".husky/pre-commit", "echo project-checks\nexec true\n");
    env.run(&["hook", "install"]).expect_code(0).stdout_has("inserted before line 2 (`exec true`)").stdout_has("husky");

    edit(&env, HELPER, "export function jwtAuthorize(", "export function verifyBearer(");
    git(&env, &["add", HELPER]);
    let out = git_commit_with(&env, "rename without the callers", &[("PATH", &path_with_maintaind(true))]);
    let said = output_of(&out);
    assert!(!out.status.success() && said.contains("broken-caller src/providers/authorize/adminAuthorize.ts:4"), "{said}");
    assert!(said.contains("project-checks"), "the project's own lines still run: {said}");

    // A teammate without maintaind: refused, and told why.
    let out = git_commit_with(&env, "rename without the callers", &[("PATH", &path_with_maintaind(false))]);
    let said = output_of(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("maintaind: maintaind is not on PATH; the blast-radius check cannot run, so the commit is refused"), "{said}");
    assert!(!said.contains("127") && !said.contains("not found"), "{said}");

    // Installed with --missing skip: the commit goes through, with a warning.
    env.run(&["hook", "install", "--missing", "skip"]).expect_code(0).stdout_has("updated");
    let out = git_commit_with(&env, "rename without the callers", &[("PATH", &path_with_maintaind(false))]);
    let said = output_of(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("the blast-radius check was skipped"), "{said}");
}

/// The pre-commit framework for real: maintaind refuses to edit the framework's generated hook
/// and prints the entry instead; the published `.pre-commit-hooks.yaml` hook, cloned by the
/// framework from a repository, stops a breaking commit and passes a fixed one.
#[test]
fn the_pre_commit_framework_runs_the_published_hook() {
    let env = repo();
    let home = tempfile::tempdir().unwrap();
    let hooks_repo = home.path().join("maintaind-hooks");
    std::fs::create_dir_all(&hooks_repo).unwrap();
    std::fs::copy(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.pre-commit-hooks.yaml"), hooks_repo.join(".pre-commit-hooks.yaml")).unwrap();
    let in_hooks = |args: &[&str]| git_in(&hooks_repo, args).trim().to_string();
    in_hooks(&["init", "-q"]);
    in_hooks(&["add", "-A"]);
    in_hooks(&["commit", "-q", "-m", "hooks"]);
    let rev = in_hooks(&["rev-parse", "HEAD"]);
    env.write(".pre-commit-config.yaml", format!("repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: maintaind-check\n", hooks_repo.display()));
    git(&env, &["add", ".pre-commit-config.yaml"]);
    git(&env, &["commit", "-q", "-m", "pre-commit config"]);

    let pythonpath = tool("precommit").display().to_string();
    let cache = home.path().join("cache").display().to_string();
    let vars = [("PYTHONPATH", pythonpath.as_str()), ("PRE_COMMIT_HOME", cache.as_str()), ("PATH", &path_with_maintaind(true))];
    let install = Command::new("python3").args(["-m", "pre_commit", "install"]).current_dir(env.root()).envs(vars.iter().copied()).env("GIT_CONFIG_GLOBAL", "/dev/null").output().unwrap();
    assert!(install.status.success(), "pre-commit install: {}", output_of(&install));
    let hook = env.path(".git/hooks/pre-commit");
    let generated = std::fs::read_to_string(&hook).unwrap();

    // maintaind does not edit the framework's hook; it says what to put in the config.
    env.run(&["hook", "install", "--append"]).expect_code(2).stderr_has("the pre-commit framework's hook").stderr_has("id: maintaind-check").stderr_has("entry: maintaind check --staged");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), generated, "nothing changed");

    edit(&env, HELPER, "export function jwtAuthorize(", "export function verifyBearer(");
    git(&env, &["add", HELPER]);
    let out = git_commit_with(&env, "rename without the callers", &vars);
    let said = output_of(&out);
    assert!(!out.status.success(), "the framework's hook must block the commit: {said}");
    assert!(said.contains("maintaind blast-radius check") && said.contains("broken-caller src/providers/authorize/adminAuthorize.ts:4"), "{said}");
    // In CI, the framework's --from-ref/--to-ref: the same hook checks the range.
    git(&env, &["commit", "-q", "--no-verify", "-m", "rename without the callers"]);
    let run = |from: &str| {
        Command::new("python3")
            .args(["-m", "pre_commit", "run", "maintaind-check", "--from-ref", from, "--to-ref", "HEAD"])
            .current_dir(env.root())
            .envs(vars.iter().copied())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    };
    let out = run("HEAD~1");
    let said = output_of(&out);
    assert!(!out.status.success() && said.contains("broken-caller src/providers/authorize/adminAuthorize.ts:4"), "{said}");
    assert!(said.contains("checking HEAD~1..HEAD instead of the staged state"), "{said}");

    for c in CALLERS {
        edit(&env, c, "{ jwtAuthorize }", "{ verifyBearer }");
        edit(&env, c, "jwtAuthorize({ request })", "verifyBearer({ request })");
    }
    git(&env, &["add", "-A"]);
    let out = git_commit_with(&env, "the callers", &vars);
    assert!(out.status.success(), "{}", output_of(&out));
    let out = run("HEAD~2");
    assert!(out.status.success(), "the range with the callers passes: {}", output_of(&out));
}

/// Microsoft's SARIF validator (the SARIF SDK's Multitool, from npm), with the schema, the
/// SARIF rules and GitHub's ingestion rules (`Gh`: help, regions, relative URIs,
/// fingerprints), finds nothing in either kind of result maintaind writes.
#[test]
fn the_sarif_passes_microsofts_validator_with_githubs_rules() {
    let env = repo();
    // A broken caller, and a committed file outside an active manifest's scope.
    env.run(&["change", "add view_count to the article model, but leave the tests alone", "--no-lsp"]).expect_code(0);
    edit(&env, HELPER, "export function jwtAuthorize(", "export function verifyBearer(");
    std::fs::write(env.path("NOTES.md"), "notes\n").unwrap();
    git(&env, &["add", "-A"]);
    let sarif = env.run(&["check", "--staged", "--no-lsp", "--sarif"]);
    sarif.expect_code(1);
    let rules: std::collections::BTreeSet<String> = sarif.json()["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap().to_string()).collect();
    assert!(rules.contains("maintaind/broken-caller") && rules.contains("maintaind/out-of-scope"), "{rules:?}");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("maintaind.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, &sarif.output.stdout).unwrap();
    let validator = tool("node/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    let run = Command::new(&validator)
        .args(["validate", "--rule-kind", "Sarif;Gh", "--output"])
        .arg(&output)
        .arg(&input)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", validator.display()));
    assert!(run.status.success(), "{}", output_of(&run));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let findings: Vec<&serde_json::Value> = report["runs"].as_array().unwrap().iter().flat_map(|r| r["results"].as_array().into_iter().flatten()).collect();
    assert!(findings.is_empty(), "the validator found: {findings:#?}");
    // It is not a validator that finds nothing: a result without its region and a rule without help are found.
    let mut log = sarif.json();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"].as_object_mut().unwrap().remove("region");
    log["runs"][0]["tool"]["driver"]["rules"][0].as_object_mut().unwrap().remove("help");
    std::fs::write(&input, serde_json::to_vec(&log).unwrap()).unwrap();
    std::fs::remove_file(&output).unwrap();
    let run = Command::new(&validator).args(["validate", "--rule-kind", "Sarif;Gh", "--output"]).arg(&output).arg(&input).env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1").output().unwrap();
    assert!(run.status.success(), "{}", output_of(&run));
    let report = std::fs::read_to_string(&output).unwrap();
    assert!(report.contains("Error_MissingHelp") && report.contains("Warning_MissingRegion"), "{report}");
}

/// A backend in a directory of a bigger repository: the branch is read from the repository,
/// the report's paths are the project's, and SARIF's are the repository's (code scanning
/// resolves them against the checkout).
#[test]
fn a_project_in_a_subdirectory_gets_repository_paths_in_sarif() {
    let repo = tempfile::tempdir().unwrap();
    let backend = repo.path().join("services/bbs");
    std::fs::create_dir_all(&backend).unwrap();
    assert!(Command::new("cp").arg("-r").arg(format!("{}/.", fixture().display())).arg(&backend).status().unwrap().success());
    let in_repo = |args: &[&str]| git_in(repo.path(), args);
    std::fs::write(repo.path().join("README.md"), "monorepo\n").unwrap();
    in_repo(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join(".git/info/exclude"), ".maintaind/\n").unwrap();
    in_repo(&["add", "-A"]);
    in_repo(&["commit", "-q", "-m", "init"]);
    in_repo(&["checkout", "-q", "-b", "feature"]);
    let helper = backend.join(HELPER);
    std::fs::write(&helper, std::fs::read_to_string(&helper).unwrap().replace("export function jwtAuthorize(", "export function verifyBearer(")).unwrap();
    in_repo(&["commit", "-q", "-am", "rename"]);

    let r = run_in(&backend, &["check", "--base", "main", "--no-lsp", "--json"], &[]);
    r.expect_code(1);
    assert_eq!(r.json()["committed"], serde_json::json!([HELPER]));
    let sarif = run_in(&backend, &["check", "--base", "main", "--no-lsp", "--sarif"], &[]);
    sarif.expect_code(1);
    let log = sarif.json();
    let uris: std::collections::BTreeSet<String> =
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().to_string()).collect();
    assert_eq!(uris, CALLERS.iter().map(|c| format!("services/bbs/{c}")).collect(), "{log:#}");
    let top = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(top.ends_with('/') && !top.contains("services/bbs"), "{top}");
}

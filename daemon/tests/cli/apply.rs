//! `maintaind apply` and `maintaind rollback` on a git copy of the fixture: scoped writes,
//! byte-exact splicing, new diagnostics from the real language server, refusals that write
//! nothing, a `kill -9` in the middle, and two applies at once.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use crate::*;

pub(crate) const PROVIDER: &str = "src/providers/postBbsMemberArticles.ts";
/// Another provider that builds the article DTO: in files_to_modify too.
pub(crate) const READER: &str = "src/providers/getBbsArticlesArticleId.ts";

/// A git copy of the fixture with an active manifest (article view_count, tests excluded):
/// `PROVIDER` and `READER` are in its files_to_modify.
pub(crate) fn planned() -> Env {
    let env = setup();
    git_init(&env);
    env.run(&["change", "add view_count to the article model, but leave the tests alone", "--no-lsp"]).expect_code(0);
    env
}

pub(crate) fn edits(env: &Env, name: &str, value: serde_json::Value) -> String {
    let path = env.path(&format!(".maintaind/{name}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, value.to_string()).unwrap();
    path.display().to_string()
}

pub(crate) fn read(env: &Env, rel: &str) -> String {
    std::fs::read_to_string(env.path(rel)).unwrap()
}

#[test]
fn apply_splices_checks_through_the_server_and_rolls_back() {
    for server in ["native", "tsls"] {
        let env = planned();
        let before = read(&env, PROVIDER);
        let helper = "export function articleViewCount(): number {\n  return 0;\n}";
        let clean = edits(
            &env,
            "clean",
            serde_json::json!({"edits": [
                {"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": helper},
            ]}),
        );
        let r = env.run(&["--ts-server", server, "apply", &clean, "--json"]);
        r.expect_code(0);
        let report = r.json();
        assert_eq!(report["files"][0]["path"], PROVIDER);
        assert_eq!(report["diagnostics"]["checked"], true);
        assert!(report["diagnostics"]["new_errors"].as_array().unwrap().is_empty(), "{report:#}");
        let checked: Vec<&str> = report["diagnostics"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert!(checked.contains(&PROVIDER) && checked.contains(&READER), "the written file and the manifest's must-change files: {checked:?}");
        // Adding a symbol keeps every existing byte where it was.
        let after = read(&env, PROVIDER);
        assert_eq!(after, format!("{before}\n{helper}\n"), "server {server}");

        let broken = edits(
            &env,
            "broken",
            serde_json::json!({"edits": [
                {"op": "insert_symbol", "file": PROVIDER, "before": "postBbsMemberArticles", "text": "const BROKEN: string = 42;"},
            ]}),
        );
        let r = env.run(&["--ts-server", server, "apply", &broken]);
        r.expect_code(1).stdout_has("1 new error(s)").stdout_has("src/providers/postBbsMemberArticles.ts:8:7: error TS2322: Type 'number' is not assignable to type 'string'.");
        let txn = r.stdout().split_whitespace().nth(2).unwrap().to_string();
        assert!(read(&env, PROVIDER).contains("const BROKEN: string = 42;\n\n/**\n * Create an article:"), "inserted before the JSDoc:\n{}", read(&env, PROVIDER));

        let list = env.run(&["rollback", "--list", "--json"]);
        let states: Vec<String> = list.expect_code(0).json().as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap().to_string()).collect();
        assert_eq!(states, ["committed", "committed"]);
        env.run(&["rollback"]).expect_code(0).stdout_has(&format!("rolled back transaction {txn}"));
        assert_eq!(read(&env, PROVIDER), after, "the latest transaction is undone first");
        env.run(&["rollback"]).expect_code(0);
        assert_untouched(&env);
        env.run(&["rollback"]).expect_code(2).stderr_has("nothing to roll back");
    }
}

#[test]
fn symbol_ops_range_ops_and_patches() {
    let env = planned();
    let hit = env.run(&["symbols", "getBbsArticlesArticleId", "--json"]).json()[0].clone();
    let hash = hit["hash"].as_str().unwrap();
    let (line, end) = (hit["line"].as_u64().unwrap() as usize, hit["end_line"].as_u64().unwrap() as usize);
    let declaration = read(&env, READER).lines().skip(line - 1).take(end - line + 1).collect::<Vec<_>>().join("\n");
    let range_hash = env.run(&["hash", PROVIDER, "15", "15"]).expect_code(0).stdout().trim().to_string();
    let e = edits(
        &env,
        "mixed",
        serde_json::json!({"edits": [
            {"op": "replace_symbol", "symbol": format!("{READER}#getBbsArticlesArticleId"), "expect_hash": hash,
             "text": declaration.replace("getBbsArticlesArticleId(", "getBbsArticlesArticleId(\n  /* reviewed */ ")},
            {"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 15, "expect_hash": range_hash,
             "text": "  const now = toISOStringSafe(new Date()); // creation time"},
            {"op": "create_file", "path": "src/providers/articleViews.ts", "text": "export const ARTICLE_VIEWS = 0;\n"},
        ]}),
    );
    // The new file is not in the manifest's scope: the whole set is refused, nothing written.
    env.run(&["apply", &e, "--no-lsp"]).expect_code(2).stderr_has("op 3 (create_file): src/providers/articleViews.ts: refused by the gate");
    assert_untouched(&env);

    let mut ops: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&e).unwrap()).unwrap();
    ops["edits"].as_array_mut().unwrap().pop();
    let e = edits(&env, "mixed2", ops);
    env.run(&["apply", &e, "--no-lsp"]).expect_code(0).stderr_has("diagnostics not checked (--no-lsp)");
    assert!(read(&env, READER).contains("getBbsArticlesArticleId(\n  /* reviewed */ "));
    assert!(read(&env, PROVIDER).contains("new Date()); // creation time\n  const created"));
    let diff = git(&env, &["diff", "--stat"]);
    assert!(diff.contains("2 files changed, 3 insertions(+), 2 deletions(-)"), "{diff}");

    // A unified diff, as `git diff` prints it, goes through the same gate and checks.
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    std::fs::write(env.path(PROVIDER), read(&env, PROVIDER).replace("updated_at: now,", "updated_at: now, // never updated at creation")).unwrap();
    let patch = git(&env, &["diff"]);
    git(&env, &["checkout", "--", PROVIDER]);
    let patch_path = env.path(".maintaind/change.patch");
    std::fs::write(&patch_path, &patch).unwrap();
    env.run(&["apply", "--patch", patch_path.to_str().unwrap(), "--no-lsp"]).expect_code(0).stdout_has("modified  src/providers/postBbsMemberArticles.ts");
    assert!(read(&env, PROVIDER).contains("// never updated at creation"));
    // The same patch again no longer applies: nothing written.
    let now = read(&env, PROVIDER);
    env.run(&["apply", "--patch", patch_path.to_str().unwrap(), "--no-lsp"]).expect_code(2).stderr_has("does not apply to the file as it is");
    assert_eq!(read(&env, PROVIDER), now);
    // A patch to a file outside the scope.
    let outside = patch.replace("src/providers/postBbsMemberArticles.ts", "src/MyGlobal.ts");
    std::fs::write(&patch_path, outside).unwrap();
    env.run(&["apply", "--patch", patch_path.to_str().unwrap(), "--no-lsp"]).expect_code(2).stderr_has("src/MyGlobal.ts: refused by the gate");
}

#[test]
fn bad_edits_are_refused_and_nothing_is_written() {
    let env = planned();
    let range_hash = env.run(&["hash", PROVIDER, "15", "15"]).stdout().trim().to_string();
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (serde_json::json!({"edits": [{"op": "rename_everything"}]}), "edits[0].op: unknown variant `rename_everything`"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": "a.ts"}]}), "missing field `text`"),
        (serde_json::json!({"edits": [{"op": "replace_symbol", "symbol": "postBbsMemberArticles", "text": "x", "force": true}]}), "unknown field `force`"),
        (serde_json::json!({"edits": []}), "the list is empty"),
        (serde_json::json!({"edits": [{"op": "replace_symbol", "symbol": "postBbsMemberArticle", "text": "x"}]}), "no symbol `postBbsMemberArticle`; did you mean"),
        (serde_json::json!({"edits": [{"op": "delete_symbol", "symbol": format!("{PROVIDER}#nothingHere")}]}), "no symbol `nothingHere` in `src/providers/postBbsMemberArticles.ts`"),
        (
            serde_json::json!({"edits": [{"op": "replace_symbol", "symbol": "postBbsMemberArticles", "text": "export function postBbsMemberArticles() {}", "expect_hash": "0123456789abcdef"}]}),
            "changed since it was read",
        ),
        (
            serde_json::json!({"edits": [{"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 15, "expect_hash": "0123456789abcdef", "text": "x"}]}),
            "lines 15-15 changed since they were read",
        ),
        (serde_json::json!({"edits": [{"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 999, "expect_hash": range_hash, "text": "x"}]}), "past the end of the file"),
        (
            serde_json::json!({"edits": [{"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 15, "expect_hash": range_hash, "text": "  const now = {{{"}]}),
            "the result has a syntax error at line",
        ),
        (serde_json::json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "after": "postBbsMemberArticles", "text": "x"}]}), "exactly one of `after`"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": PROVIDER, "text": "x"}]}), "already exists"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": "../escape.ts", "text": "x"}]}), "`..` leads outside the root"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": "/tmp/escape.ts", "text": "x"}]}), "absolute path outside the root"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": ".git/hooks/pre-commit", "text": "x"}]}), ".git/ is maintaind's or git's own state"),
        (serde_json::json!({"edits": [{"op": "create_file", "path": ".maintaind/manifests/active", "text": "x"}]}), ".maintaind/ is maintaind's or git's own state"),
        (serde_json::json!({"edits": [{"op": "insert_symbol", "file": "src/Providers/postBbsMemberArticles.ts", "at": "end", "text": "x"}]}), "differs in case"),
        (serde_json::json!({"edits": [{"op": "insert_symbol", "file": "src/MyGlobal.ts", "at": "end", "text": "x"}]}), "not in the active manifest's scope"),
        (serde_json::json!({"edits": [{"op": "insert_symbol", "file": "test/features/api/article/test_api_article_creation.ts", "at": "end", "text": "x"}]}), "excluded by the manifest (tests"),
        // One good op and one bad: the good one is not written either.
        (
            serde_json::json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const fine = 1;"}, {"op": "delete_symbol", "symbol": "missingSymbol"}]}),
            "1 of 2 edit(s) cannot be applied",
        ),
    ];
    for (i, (value, expected)) in cases.into_iter().enumerate() {
        let path = edits(&env, &format!("bad{i}"), value);
        env.run(&["apply", &path, "--no-lsp"]).expect_code(2).stderr_has(expected);
        assert_untouched(&env);
    }
    // Paths with a NUL byte or 5 kB long.
    let nul = edits(&env, "nul", serde_json::json!({"edits": [{"op": "create_file", "path": "src/a\u{0}.ts", "text": "x"}]}));
    env.run(&["apply", &nul, "--no-lsp"]).expect_code(2).stderr_has("NUL byte");
    let long = edits(&env, "long", serde_json::json!({"edits": [{"op": "create_file", "path": format!("src/{}.ts", "x".repeat(5000)), "text": "x"}]}));
    env.run(&["apply", &long, "--no-lsp"]).expect_code(2).stderr_has("limit 4096");
    // A symbolic link out of the root.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), env.path("src/providers/out")).unwrap();
    let link = edits(&env, "link", serde_json::json!({"edits": [{"op": "create_file", "path": "src/providers/out/x.ts", "text": "x"}]}));
    env.run(&["apply", &link, "--no-lsp"]).expect_code(2).stderr_has("is a symbolic link");
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    std::fs::remove_file(env.path("src/providers/out")).unwrap();
    // Not JSON, no such file, no journal entries from any of it.
    std::fs::write(env.path(".maintaind/garbage.json"), "{\"edits\": [").unwrap();
    env.run(&["apply", env.path(".maintaind/garbage.json").to_str().unwrap()]).expect_code(2).stderr_has("not valid JSON");
    env.run(&["apply", "/nonexistent/edits.json"]).expect_code(2).stderr_has("cannot read /nonexistent/edits.json");
    assert!(env.run(&["rollback", "--list", "--json"]).json().as_array().unwrap().is_empty());
    assert_untouched(&env);
}

#[test]
fn no_manifest_a_hand_edited_one_or_a_stale_one_refuses_apply() {
    let env = setup();
    git_init(&env);
    let e = edits(&env, "e", serde_json::json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const x = 1;"}]}));
    env.run(&["apply", &e, "--no-lsp"]).expect_code(2).stderr_has("no active manifest");

    let env = planned();
    let e = edits(&env, "e", serde_json::json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const x = 1;"}]}));
    let id = std::fs::read_to_string(env.path(".maintaind/manifests/active")).unwrap();
    let path = env.path(&format!(".maintaind/manifests/{}.json", id.trim()));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"files_to_modify\": [", "\"files_to_modify\": [\n      \"src/MyGlobal.ts\",", 1)).unwrap();
    env.run(&["apply", &e, "--no-lsp"]).expect_code(2).stderr_has("edited by hand");
    std::fs::write(&path, &text).unwrap();
    // A file the plan read but does not change was changed since: stale.
    let read_only = "src/providers/patchBbsArticles.ts";
    std::fs::write(env.path(read_only), read(&env, read_only) + "\n// behind the plan's back\n").unwrap();
    env.run(&["apply", &e, "--no-lsp"]).expect_code(2).stderr_has(&format!("the manifest is stale: {read_only}"));
    git(&env, &["checkout", "--", read_only]);
    assert_untouched(&env);
    env.run(&["apply", &e, "--no-lsp"]).expect_code(0);
}

/// Start `apply` paused (fault injection) before it writes file number `before` of its
/// transaction; returns once it says so.
fn paused_apply(env: &Env, edits: &str, before: usize) -> Child {
    let mut child = Command::new(bin())
        .args(["--root", env.root().to_str().unwrap(), "apply", edits, "--no-lsp"])
        .env("NO_COLOR", "1")
        .env("MAINTAIND_FAULT_PAUSE_BEFORE_WRITE", before.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "apply ended without pausing");
        if line.contains("paused before writing") {
            break;
        }
    }
    child
}

#[test]
fn kill_9_in_the_middle_leaves_old_or_new_files_and_rollback_restores() {
    let env = planned();
    let (provider, reader) = (read(&env, PROVIDER), read(&env, READER));
    let e = edits(
        &env,
        "two",
        serde_json::json!({"edits": [
            {"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const one = 1;"},
            {"op": "insert_symbol", "file": READER, "at": "end", "text": "export const two = 2;"},
        ]}),
    );
    // Files are written in path order: getBbs… first, then postBbs….
    let mut child = paused_apply(&env, &e, 1);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(read(&env, READER), format!("{reader}\nexport const two = 2;\n"), "the first file is wholly new");
    assert_eq!(read(&env, PROVIDER), provider, "the second is wholly old");

    // The next apply refuses until the interrupted one is rolled back.
    env.run(&["apply", &e, "--no-lsp"]).expect_code(2).stderr_has("was interrupted").stderr_has("maintaind rollback");
    env.run(&["rollback"]).expect_code(0).stdout_has("restored src/providers/getBbsArticlesArticleId.ts");
    assert_untouched(&env);
    env.run(&["apply", &e, "--no-lsp"]).expect_code(0);

    // A kill before the first file: nothing changed, rollback is still clean.
    env.run(&["rollback"]).expect_code(0);
    let mut child = paused_apply(&env, &e, 0);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_untouched(&env);
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
}

#[test]
fn a_second_apply_waits_for_the_first_and_then_sees_its_writes() {
    let env = planned();
    let hash = env.run(&["hash", PROVIDER, "15", "15"]).stdout().trim().to_string();
    let first = edits(
        &env,
        "first",
        serde_json::json!({"edits": [
            {"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 15, "expect_hash": hash, "text": "  const now = toISOStringSafe(new Date()); // first"},
        ]}),
    );
    let second = edits(
        &env,
        "second",
        serde_json::json!({"edits": [
            {"op": "replace_range", "file": PROVIDER, "start_line": 15, "end_line": 15, "expect_hash": hash, "text": "  const now = toISOStringSafe(new Date()); // second"},
        ]}),
    );
    let mut a = paused_apply(&env, &first, 0);
    let mut b = Command::new(bin()).args(["--root", env.root().to_str().unwrap(), "apply", &second, "--no-lsp"]).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut b_err = BufReader::new(b.stderr.take().unwrap());
    let mut line = String::new();
    b_err.read_line(&mut line).unwrap();
    assert!(line.contains("waiting for another maintaind write to finish"), "{line}");
    a.stdin.take().unwrap().write_all(b"\n").unwrap(); // let the first go on
    assert!(a.wait().unwrap().success());
    let status = b.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut b_err, &mut rest).unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(rest.contains("lines 15-15 changed since they were read"), "{rest}");
    assert!(read(&env, PROVIDER).contains("// first\n"));
}

//! `maintaind change "…" --apply` on the fixture with the real TypeScript 7 server and the
//! pinned TypeScript compiler as the judge.

use crate::*;

const ARTICLE: &str = "src/api/structures/IBbsArticle.ts";

/// The pinned compiler (tools/node, installed by scripts/setup) on both tsconfig projects.
#[track_caller]
fn compiles(env: &Env) {
    let tsc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/node/node_modules/.bin/tsc");
    for project in ["tsconfig.json", "test/tsconfig.json"] {
        let out = std::process::Command::new(&tsc).args(["--noEmit", "-p", project]).current_dir(env.root()).output().expect("the pinned tsc runs (bash scripts/setup)");
        assert!(out.status.success(), "tsc -p {project}:\n{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// An agent's decisions in a file outside the project.
fn decisions(json: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), json).unwrap();
    f
}

fn active_manifest(env: &Env) -> Option<String> {
    std::fs::read_to_string(env.path(".maintaind/manifests/active")).ok().map(|s| s.trim().to_string())
}

#[test]
fn a_validation_is_applied_and_the_compiler_agrees() {
    let env = setup();
    git_init(&env);
    let r = env.run(&["change", "limit article titles to 60 characters", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["outcome"], "applied");
    assert_eq!(j["kinds"], serde_json::json!(["validation", "validation"]));
    assert_eq!(j["applied"]["diagnostics"]["checked"], true);
    assert!(j["applied"]["diagnostics"]["new_errors"].as_array().unwrap().is_empty());
    // The tag of the same name is replaced, in place, in both request variants; nothing else moves.
    let diff = git(&env, &["diff", "--unified=0"]);
    let changed: Vec<&str> = diff.lines().filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")).collect();
    assert_eq!(
        changed,
        [
            "-    title: string & tags.MinLength<1> & tags.MaxLength<80>;",
            "+    title: string & tags.MinLength<1> & tags.MaxLength<60>;",
            "-    title?: (string & tags.MinLength<1> & tags.MaxLength<80>) | undefined;",
            "+    title?: (string & tags.MinLength<1> & tags.MaxLength<60>) | undefined;",
        ],
        "{diff}"
    );
    assert_eq!(git(&env, &["status", "--porcelain"]).trim(), format!("M {ARTICLE}"));
    compiles(&env);
    // One transaction, undone exactly.
    env.run(&["rollback", j["applied"]["txn"].as_str().unwrap()]).expect_code(0);
    assert_untouched(&env);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let env = setup();
    git_init(&env);
    let r = env.run(&["change", "limit article titles to 60 characters", "--apply", "--dry-run", "--ts-server", "native"]);
    r.expect_code(0)
        .stdout_has("would apply (validation")
        .stdout_has(&format!("--- a/{ARTICLE}\n+++ b/{ARTICLE}"))
        .stdout_has("+    title?: (string & tags.MinLength<1> & tags.MaxLength<60>) | undefined;");
    assert_untouched(&env);
    assert_eq!(active_manifest(&env), None);
    assert!(!env.path(".maintaind/journal").exists() || std::fs::read_dir(env.path(".maintaind/journal")).unwrap().next().is_none());
}

#[test]
fn a_plan_that_is_not_mechanical_is_kept_for_a_coder() {
    let env = setup();
    git_init(&env);
    let r = env.run(&["change", "change what getBbsArticlesArticleId returns", "--apply", "--ts-server", "native"]);
    r.expect_code(2).stderr_has("plan only: needs a coder").stderr_has("is active");
    assert_untouched(&env);
    assert!(active_manifest(&env).is_some(), "the plan stays, active, for whoever codes it");
}

/// The fixture as a real backend has it for Prisma: the generated client of its schema in its
/// own `node_modules` (tools/node's Prisma CLI, client and TypeScript, linked in; the client
/// generated offline into the copy), the stand-in's mapping gone from tsconfig.json.
fn with_prisma_client(env: &Env) {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/node/node_modules");
    let dest = env.path("node_modules");
    let linked = std::process::Command::new("cp").arg("-al").arg(&tools).arg(&dest).status().is_ok_and(|s| s.success());
    if !linked {
        let _ = std::fs::remove_dir_all(&dest);
        assert!(std::process::Command::new("cp").arg("-a").arg(&tools).arg(&dest).status().unwrap().success(), "copy {}", tools.display());
    }
    let _ = std::fs::remove_dir_all(dest.join(".prisma"));
    let tsconfig = std::fs::read_to_string(env.path("tsconfig.json")).unwrap();
    let stub = "      \"@prisma/client\": [\"./stubs/prisma-client.d.ts\"],\n";
    assert!(tsconfig.contains(stub), "the fixture maps @prisma/client to its stand-in");
    env.write("tsconfig.json", tsconfig.replace(stub, ""));
    generate(env);
}

/// `prisma generate` of the client alone, offline, as maintaind runs it.
fn generate(env: &Env) {
    let out = std::process::Command::new(env.path("node_modules/.bin/prisma"))
        .args(["generate", "--no-engine", "--generator", "client", "--schema", "prisma/schema"])
        .current_dir(env.root())
        .envs([
            ("PRISMA_QUERY_ENGINE_LIBRARY", "/dev/null"),
            ("PRISMA_QUERY_ENGINE_BINARY", "/dev/null"),
            ("PRISMA_SCHEMA_ENGINE_BINARY", "/dev/null"),
            ("PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING", "1"),
            ("CHECKPOINT_DISABLE", "1"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "prisma generate: {}", String::from_utf8_lossy(&out.stderr));
}

/// Git of the copy, `node_modules` left out as a backend's .gitignore does.
fn git_init_with_client(env: &Env) {
    git_init(env);
    std::fs::write(env.path(".git/info/exclude"), ".maintaind/\nnode_modules/\n").unwrap();
    git(env, &["rm", "-r", "-q", "--cached", "node_modules"]);
    git(env, &["commit", "-q", "-m", "no node_modules"]);
}

#[test]
fn a_column_rename_regenerates_the_client_and_the_projects_compiler_agrees() {
    let env = setup();
    with_prisma_client(&env);
    git_init_with_client(&env);
    compiles(&env);
    let r = env.run(&["change", "rename the title column of bbs_articles to headline", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(j["kinds"], serde_json::json!(["column rename"]));
    let d = &j["applied"]["diagnostics"];
    assert_eq!(d["checked"], true);
    assert_eq!(d["files"], serde_json::json!(["tsconfig.json", "test/tsconfig.json"]), "both projects judged by the project's tsc");
    assert!(d["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("prisma generate --no-engine")), "{d}");
    // The schema's field; the client's keys and row reads; the API's names stay.
    let diff = git(&env, &["diff", "--unified=0"]);
    assert!(diff.contains("-  title String") && diff.contains("+  headline String"), "{diff}");
    assert!(diff.contains("+      headline: props.body.title,"), "a data key is renamed, its value (the DTO's) is not:\n{diff}");
    assert!(!diff.lines().any(|l| l.starts_with('+') && l.contains("IBbsArticle")), "{diff}");
    let changed = git(&env, &["diff", "--name-only"]);
    assert!(changed.lines().all(|f| f.starts_with("src/providers/") || f.starts_with("prisma/schema/")), "{changed}");
    let client = std::fs::read_to_string(env.path("node_modules/.prisma/client/index.d.ts")).unwrap();
    assert!(client.contains("headline: string"), "the client was regenerated from the new schema");
    // With the user's umask, as `npm run build:prisma` would write it, not maintaind's private one.
    use std::os::unix::fs::PermissionsExt;
    env.write("mode-probe", "");
    let mode = |p: &str| std::fs::metadata(env.path(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("node_modules/.prisma/client/index.d.ts"), mode("mode-probe"));
    std::fs::remove_file(env.path("mode-probe")).unwrap();
    compiles(&env);
    // Rolled back exactly, and the client follows the restored schema again.
    env.run(&["rollback"]).expect_code(0).stderr_has("regenerated the Prisma client");
    assert_untouched(&env);
    compiles(&env);
}

/// The fixture with its generated client, in git, compiling, and a file that names the row
/// type `bbs_articles` imported from the client and its columns by string (`keyof`).
fn with_article_keys() -> Env {
    let env = setup();
    with_prisma_client(&env);
    env.write("src/utils/articleKeys.ts", "import { bbs_articles } from \"@prisma/client\";\n\nexport const SORTABLE: (keyof bbs_articles)[] = [\"title\", \"created_at\"];\n");
    git_init_with_client(&env);
    compiles(&env);
    env
}

#[test]
fn a_column_rename_the_compiler_refuses_is_rolled_back_with_the_client() {
    // A use of the column's name neither the syntax nor the compiler's "does not exist" names.
    let env = with_article_keys();
    let r = env.run(&["change", "rename the title column of bbs_articles to headline", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(1).stderr_has("rolled back");
    let j = r.json();
    assert_eq!(j["outcome"], "rolled_back");
    let errors = j["applied"]["diagnostics"]["new_errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["file"] == "src/utils/articleKeys.ts"), "{errors:?}");
    assert_untouched(&env);
    assert!(active_manifest(&env).is_some(), "the plan stays for a coder");
    // The client is the old schema's again.
    compiles(&env);
}

#[test]
fn a_model_rename_keeps_its_table_and_the_projects_compiler_agrees() {
    // The row type imported from the client, used by name; a relation field named like the model.
    let env = with_article_keys();
    let r = env.run(&["change", "rename the bbs_articles model to bbs_posts", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(j["kinds"], serde_json::json!(["model rename"]));
    let d = &j["applied"]["diagnostics"];
    assert_eq!(d["files"], serde_json::json!(["tsconfig.json", "test/tsconfig.json"]));
    assert!(d["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("@@map")), "{d}");
    let diff = git(&env, &["diff", "--unified=0"]);
    for line in [
        "+model bbs_posts {",
        "+  @@map(\"bbs_articles\")",
        "+  article bbs_posts @relation(fields: [bbs_article_id], references: [id], onDelete: Cascade)",
        // The relation field keeps its name: `include: { bbs_articles: … }` still holds.
        "+  bbs_articles bbs_posts[]",
        "+  const data: Prisma.bbs_postsUncheckedUpdateInput = {",
        "+    await tx.bbs_posts.update({",
        "+import { bbs_posts } from \"@prisma/client\";",
        "+export const SORTABLE: (keyof bbs_posts)[] = [\"title\", \"created_at\"];",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line} in:\n{diff}");
    }
    assert!(!diff.lines().any(|l| l.starts_with('+') && l.contains("prisma.bbs_articles")), "every delegate renamed:\n{diff}");
    assert!(!diff.lines().any(|l| l.starts_with('+') && l.contains("IBbsArticle")), "the API's names stay:\n{diff}");
    let client = std::fs::read_to_string(env.path("node_modules/.prisma/client/index.d.ts")).unwrap();
    assert!(client.contains("get bbs_posts()"), "the client was regenerated from the new schema");
    compiles(&env);
    env.run(&["rollback"]).expect_code(0).stderr_has("regenerated the Prisma client");
    assert_untouched(&env);
    compiles(&env);
}

/// Each of an agent's decisions (`(json, what the refusal says)`) is refused as "plan only"
/// (exit 2) with the reason, and nothing is written.
#[track_caller]
fn refused_decisions(env: &Env, cases: &[(&str, &str)], dry_run: bool) {
    for (decisions_json, says) in cases {
        let d = decisions(decisions_json);
        let mut args = vec!["change", "add", "--decisions", d.path().to_str().unwrap(), "--apply", "--ts-server", "native", "--json"];
        if dry_run {
            args.push("--dry-run");
        }
        let j = env.run(&args).expect_code(2).json();
        assert!(j["reason"].as_str().unwrap_or_default().contains(says), "{decisions_json}: {j}");
        assert_untouched(env);
    }
}

/// The lines `git diff` adds, without the `+`.
fn added_lines(env: &Env) -> Vec<String> {
    git(env, &["diff", "--unified=0"]).lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).map(|l| l[1..].to_string()).collect()
}

#[test]
fn a_new_column_is_exposed_mapped_and_passed_and_the_projects_compiler_agrees() {
    let env = setup();
    with_prisma_client(&env);
    git_init_with_client(&env);
    // Clients set a subtitle: the column, the DTO and its request bodies, every provider that
    // builds the DTO, the create and the update.
    let r = env.run(&["change", "articles should have a subtitle", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(j["kinds"], serde_json::json!(["new column", "new column", "new column", "new column"]));
    let added = added_lines(&env);
    for line in [
        "  subtitle String?",
        "  subtitle: string | null;",
        "    subtitle?: string | null | undefined;",
        "      subtitle: props.body.subtitle,",
        "  if (props.body.subtitle !== undefined) data.subtitle = props.body.subtitle;",
        "    subtitle: article.subtitle,",
        "    subtitle: created.subtitle,",
        "    subtitle: updated.subtitle,",
    ] {
        assert!(added.iter().any(|l| l == line), "`{line}` is not among the added lines:\n{}", added.join("\n"));
    }
    let changed = git(&env, &["diff", "--name-only"]);
    assert!(changed.lines().all(|f| f.starts_with("src/providers/") || f.starts_with("prisma/schema/") || f == "src/api/structures/IBbsArticle.ts"), "{changed}");
    compiles(&env);
    env.run(&["rollback"]).expect_code(0).stderr_has("regenerated the Prisma client");
    assert_untouched(&env);
    // A count the server fills: a default, a tagged read-only property, no request body.
    let j = env.run(&["change", "add a view_count column to bbs_articles and expose it on IBbsArticle", "--apply", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    let added = added_lines(&env);
    assert!(added.iter().any(|l| l == "  view_count Int @default(0)"), "{added:?}");
    assert!(added.iter().any(|l| l == "  view_count: number & tags.Type<\"int32\"> & tags.Minimum<0>;"), "{added:?}");
    assert!(!added.iter().any(|l| l.contains("view_count?")), "no request body gets it: {added:?}");
    compiles(&env);
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    compiles(&env);
}

#[test]
fn a_column_rename_without_the_projects_prisma_cli_writes_nothing() {
    // The fixture as committed: no node_modules, so no Prisma CLI to regenerate the client with.
    let env = setup();
    git_init(&env);
    let r = env.run(&["change", "rename the title column of bbs_articles to headline", "--apply", "--ts-server", "native"]);
    r.expect_code(3).stderr_has("nothing written").stderr_has("node_modules/.bin/prisma");
    assert_untouched(&env);
    // The diff needs no compiler: --dry-run shows it.
    env.run(&["change", "rename the title column of bbs_articles to headline", "--apply", "--dry-run", "--ts-server", "native"])
        .expect_code(0)
        .stdout_has("would apply (column rename")
        .stdout_has("+  headline String");
    assert_untouched(&env);
    // A column that is not there, or a name the model already has, is refused by the plan's decisions.
    let d = decisions(r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles.title","kind":"rename","intent":"rename to `body`"}]}"#);
    let j = env.run(&["change", "rename", "--decisions", d.path().to_str().unwrap(), "--apply", "--dry-run", "--ts-server", "native", "--json"]).expect_code(2).json();
    assert!(j["reason"].as_str().unwrap().contains("already has a field `body`"), "{j}");
    assert_untouched(&env);
    env.run(&["change", "rename the bbs_articles model to bbs_posts", "--apply", "--ts-server", "native"]).expect_code(3).stderr_has("nothing written");
    assert_untouched(&env);
    // A new column needs the CLI and the compiler too; its decisions are checked first.
    env.run(&["change", "articles should have a subtitle", "--apply", "--ts-server", "native"]).expect_code(3).stderr_has("nothing written").stderr_has("node_modules/.bin/prisma");
    assert_untouched(&env);
    refused_decisions(
        &env,
        &[
            (r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles","kind":"shape","intent":"add column title"}]}"#, "already has a field `title`"),
            (r#"{"summary":"s","changes":[{"symbol":"IBbsArticle","kind":"shape","intent":"add property subtitle"}]}"#, "DTO properties without a new column"),
            (
                r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles","kind":"shape","intent":"add column subtitle"},{"symbol":"IBbsArticle","kind":"shape","intent":"add property headline"}]}"#,
                "not one of the new columns",
            ),
            (r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles","kind":"shape","intent":"add column Sub Title"}]}"#, "is not a change maintaind makes itself"),
            // A model renamed to a name the schema has, or with another change.
            (r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles","kind":"rename","intent":"rename to `bbs_article_comments`"}]}"#, "already has a model `bbs_article_comments`"),
            (
                r#"{"summary":"s","changes":[{"symbol":"prisma:bbs_articles","kind":"rename","intent":"rename to `bbs_nope`"},{"symbol":"IBbsArticle","kind":"rename","intent":"rename to `IBbsPost`"}]}"#,
                "carried out alone",
            ),
        ],
        true,
    );
}

#[test]
fn a_change_that_adds_an_error_is_rolled_back_and_its_plan_kept() {
    let env = setup();
    git_init(&env);
    // An agent's decision, mechanical in form, that the compiler refuses: MaxLength takes a number.
    let decisions = decisions(r#"{"summary":"s","changes":[{"symbol":"IBbsArticle.ICreate.title","kind":"shape","intent":"add tags.MaxLength<\"ten\"> to the type"}]}"#);
    let r = env.run(&["change", "limit titles", "--decisions", decisions.path().to_str().unwrap(), "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(1).stderr_has("rolled back");
    let j = r.json();
    assert_eq!(j["outcome"], "rolled_back");
    let errors = j["applied"]["diagnostics"]["new_errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["file"] == ARTICLE), "{errors:?}");
    assert_untouched(&env);
    assert_eq!(active_manifest(&env).as_deref(), j["manifest"]["id"].as_str());
    let journal = env.run(&["rollback", "--list", "--json"]).expect_code(0).json();
    assert_eq!(journal[0]["state"], "rolled_back", "{journal}");
}

#[test]
fn apply_options_that_cannot_hold_are_refused_before_anything_is_written() {
    let env = setup();
    git_init(&env);
    for (args, says) in [(vec!["--apply", "--no-lsp"], "cannot be used with"), (vec!["--apply", "--amend"], "cannot be used with")] {
        let mut full = vec!["change", "limit article titles to 60 characters"];
        full.extend(args);
        env.run(&full).expect_code(2).stderr_has(says);
        assert_untouched(&env);
        assert_eq!(active_manifest(&env), None);
    }
    // A decision that only looks mechanical is a plan for a coder, not a guess.
    let decisions = decisions(r#"{"summary":"s","changes":[{"symbol":"IBbsArticle.ICreate.title","kind":"shape","intent":"add tags.MaxLength<60 to the type"}]}"#);
    env.run(&["change", "x", "--decisions", decisions.path().to_str().unwrap(), "--apply", "--ts-server", "native"]).expect_code(2).stderr_has("plan only: needs a coder");
    assert_untouched(&env);
}

#[test]
fn a_running_daemon_carries_it_out_too() {
    let env = setup();
    git_init(&env);
    let _stop = crate::editor::StopDaemon(&env);
    env.run(&["daemon", "start", "--ts-server", "native"]).expect_code(0);
    let j = env.run(&["change", "limit article titles to 60 characters", "--apply", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied");
    assert!(std::fs::read_to_string(env.path(ARTICLE)).unwrap().contains("title: string & tags.MinLength<1> & tags.MaxLength<60>;"));
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    env.run(&["change", "change what getBbsArticlesArticleId returns", "--apply"]).expect_code(2).stderr_has("plan only: needs a coder");
    assert_untouched(&env);
}

#[test]
fn a_rename_goes_through_the_server_tests_included_and_compiles() {
    let env = setup();
    git_init(&env);
    let j = env.run(&["change", "rename postBbsMemberArticles to createBbsArticle", "--apply", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(j["kinds"], serde_json::json!(["rename"]));
    let status = git(&env, &["status", "--porcelain"]);
    assert!(status.contains("src/providers/postBbsMemberArticles.ts") && status.contains("src/controllers/"), "the declaration and its caller:\n{status}");
    let provider = std::fs::read_to_string(env.path("src/providers/postBbsMemberArticles.ts")).unwrap();
    assert!(provider.contains("export async function createBbsArticle(") && !provider.contains("postBbsMemberArticles("), "{provider}");
    compiles(&env);
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);

    // A DTO property: the API's name changes, the row it is read from does not.
    let j = env.run(&["change", "rename IBbsArticle.title to headline", "--apply", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    let files: Vec<&str> = j["applied"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.contains(&ARTICLE), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("src/providers/")), "a provider maps the row to the DTO: {files:?}");
    assert!(files.iter().any(|f| f.starts_with("test/")), "the tests read the property: {files:?}");
    let dto = std::fs::read_to_string(env.path(ARTICLE)).unwrap();
    assert!(dto.contains("  headline: string & tags.MinLength<1> & tags.MaxLength<80>;"), "{dto}");
    assert!(dto.contains("    title: string & tags.MinLength<1> & tags.MaxLength<80>;"), "ICreate.title is another property: {dto}");
    let diff = git(&env, &["diff", "src/providers"]);
    assert!(diff.lines().any(|l| l.starts_with('+') && l.contains("headline: ") && l.contains(".title")), "{diff}");
    compiles(&env);
}

#[test]
fn a_rename_through_typescript_language_server_reaches_the_tests_too() {
    let env = setup();
    git_init(&env);
    let j = env.run(&["change", "rename IBbsArticle.title to headline", "--apply", "--ts-server", "tsls", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    let files: Vec<&str> = j["applied"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.iter().any(|f| f.starts_with("test/")), "{files:?}");
    compiles(&env);
}

#[test]
fn bad_change_apply_requests_get_clear_errors_and_write_nothing() {
    use crate::daemon::{HELLO, raw};
    let env = setup();
    git_init(&env);
    let _stop = crate::editor::StopDaemon(&env);
    env.run(&["daemon", "start", "--ts-server", "native"]).expect_code(0);
    let a = raw(
        &env,
        &[
            HELLO,
            r#"{"jsonrpc":"2.0","id":2,"method":"change_apply","params":{"manifest":"m-1-deadbeef","files":["src/MyGlobal.ts"]}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"change_apply","params":{"manifest":"../../etc/passwd"}}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"change_apply","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"change_apply","params":{"plan":{"id":"x"}}}"#,
        ],
    );
    assert_eq!(a[1]["error"]["code"], -32602, "an unknown field is refused: {a:?}");
    assert_eq!(a[2]["error"]["code"], -32002, "{a:?}");
    assert_eq!(a[3]["error"]["code"], -32002, "no active manifest: {a:?}");
    assert!(a[3]["error"]["message"].as_str().unwrap().contains("manifest"), "{a:?}");
    assert_eq!(a[4]["error"]["code"], -32602, "a plan that is not a manifest: {a:?}");
    assert_untouched(&env);
}

#[test]
fn a_rename_that_reaches_an_excluded_category_writes_nothing() {
    let env = setup();
    git_init(&env);
    // The tests read the property, and the request puts them off limits: the plan says it cannot
    // hold, so nothing is carried out.
    let r = env.run(&["change", "rename IBbsArticle.title to headline, but leave the tests alone", "--apply", "--ts-server", "native"]);
    r.expect_code(1).stderr_has("an acceptance criterion was rejected");
    assert_untouched(&env);
    // An agent's decisions without that criterion: the gate refuses the edits in test/, so
    // none is written.
    let decisions = decisions(
        r#"{"summary":"s","changes":[{"symbol":"IBbsArticle.title","kind":"rename","intent":"rename to `headline`"}],"new_symbols":[{"name":"headline","kind":"property","near":"IBbsArticle.title"}],"excluded_categories":["tests"]}"#,
    );
    let r = env.run(&["change", "rename the title", "--decisions", decisions.path().to_str().unwrap(), "--apply", "--ts-server", "native"]);
    r.expect_code(2).stderr_has("nothing written").stderr_has("refused by the gate").stderr_has("test/");
    assert_untouched(&env);
}

#[test]
fn tags_in_a_file_without_the_typia_import_get_it_once() {
    let env = setup();
    let text = std::fs::read_to_string(env.path(ARTICLE)).unwrap();
    let without: String = text.lines().filter(|l| !l.contains("from \"typia\"")).map(|l| format!("{l}\n")).collect();
    assert_ne!(without, text, "the fixture's DTO imports tags");
    env.write(ARTICLE, &without);
    git_init(&env);
    let j = env.run(&["change", "limit article titles to 60 characters", "--apply", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    let after = std::fs::read_to_string(env.path(ARTICLE)).unwrap();
    assert_eq!(after.matches("import { tags } from \"typia\";").count(), 1, "{after}");
    assert!(after.contains("    title?: (string & tags.MinLength<1> & tags.MaxLength<60>) | undefined;"), "both variants tagged: {after}");
    assert!(after.contains("    title: string & tags.MinLength<1> & tags.MaxLength<60>;"), "{after}");
}

#[test]
fn a_new_parameter_joins_the_props_and_every_caller_passes_its_value() {
    let env = setup();
    git_init(&env);
    let r = env.run(&["change", "postBbsMemberArticles needs a required channel parameter with value \"web\"", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(j["kinds"], serde_json::json!(["new parameter"]));
    let added = added_lines(&env);
    assert_eq!(added, ["        channel: \"web\",", "  channel: string;"], "the controller passes it; the provider takes it");
    compiles(&env);
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    // An optional one: no caller changes.
    let j = env.run(&["change", "patchBbsArticles needs an optional limit parameter", "--apply", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["outcome"], "applied", "{j}");
    assert_eq!(added_lines(&env), ["  limit?: number | undefined;"]);
    compiles(&env);
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    // Required without a value: the callers' value is not known, so a coder's.
    let r = env.run(&["change", "postBbsMemberArticles needs a required tenant parameter", "--apply", "--ts-server", "native", "--json"]);
    r.expect_code(2);
    assert!(r.json()["reason"].as_str().unwrap().contains("a required parameter needs the value every caller passes"), "{}", r.stdout());
    assert_untouched(&env);
    // Decisions an agent wrote badly are refused, nothing written.
    refused_decisions(
        &env,
        &[
            (r#"{"summary":"s","changes":[{"symbol":"postBbsMemberArticles","kind":"signature","intent":"add parameter `body` = 1"}]}"#, "already takes `body`"),
            (r#"{"summary":"s","changes":[{"symbol":"postBbsMemberArticles","kind":"signature","intent":"add parameter `x` = web"}]}"#, "is not a change maintaind makes itself"),
            (r#"{"summary":"s","changes":[{"symbol":"toISOStringSafe","kind":"signature","intent":"add optional parameter `locale`"}]}"#, "one `props` object"),
        ],
        false,
    );
}

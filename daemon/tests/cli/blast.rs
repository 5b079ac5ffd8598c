//! `maintaind blast` against the real TypeScript servers (installed into maintaind's cache on
//! first use) on a temp copy of the fixture.

use maintaind::blast::ChangeKind;
use maintaind::semantic::SemanticOptions;
use maintaind::workspace::{NoProgress, Workspace};
use maintaind_lsp_bridge::ServerChoice;

use crate::*;

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

const ARTICLE_CREATE_RENAME: [&str; 5] = [
    "src/api/functional/bbs/articles/index.ts",
    "src/controllers/bbs/articles/BbsArticlesController.ts",
    "src/providers/postBbsArticles.ts",
    "test/features/api/bbs/articles/prepare_random_bbs_article.ts",
    "test/features/api/bbs/articles/test_api_bbs_article_create.ts",
];

#[test]
fn rename_of_a_dto_variant_follows_the_contract_with_the_native_server() {
    let env = setup();
    let r = env.run(&["blast", "IBbsArticle.ICreate", "--change", "rename", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    for key in ["target", "change", "impacted", "files", "must_change_files", "tests", "approximate"] {
        assert!(j.get(key).is_some(), "missing {key}: {j}");
    }
    assert_eq!(j["target"]["name"], "IBbsArticle.ICreate");
    assert_eq!(j["target"]["file"], "src/api/structures/IBbsArticle.ts");
    assert_eq!(j["change"], "rename");
    assert_eq!(j["approximate"], false, "{j}");
    assert_eq!(j["server"]["kind"], "native");
    // Every reference must change for a rename, including the test project's files.
    assert_eq!(strings(&j["must_change_files"]), ARTICLE_CREATE_RENAME);
    assert!(strings(&j["tests"]).contains(&"test/features/api/bbs/articles/test_api_bbs_article_create.ts".to_string()));
    for i in j["impacted"].as_array().unwrap() {
        for key in ["file", "symbol", "line", "relation", "must_change", "via"] {
            assert!(i.get(key).is_some(), "impact lacks {key}: {i}");
        }
    }
}

#[test]
fn tsls_waits_for_the_test_project_and_agrees_with_native() {
    let env = setup();
    let r = env.run(&["blast", "IBbsArticle.ICreate", "--change", "rename", "--ts-server", "tsls", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["server"]["kind"], "tsls");
    assert_eq!(j["approximate"], false, "{j}");
    assert_eq!(strings(&j["must_change_files"]), ARTICLE_CREATE_RENAME);
    let projects = j["server"]["projects"].as_array().unwrap();
    assert!(projects.iter().any(|p| p["dir"] == "test" && p["loaded"] == true), "{j}");
}

#[test]
fn signature_change_of_a_provider_reaches_tests_through_the_route() {
    let env = setup();
    let j = env.run(&["blast", "postBbsArticles", "--change", "signature", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), vec!["src/controllers/bbs/articles/BbsArticlesController.ts"]);
    let impacted = j["impacted"].as_array().unwrap();
    assert!(impacted.iter().any(|i| i["relation"] == "route" && i["file"] == "src/api/functional/bbs/articles/index.ts" && i["symbol"] == "create"), "{j}");
    let tests = strings(&j["tests"]);
    assert!(tests.contains(&"test/features/api/bbs/articles/test_api_bbs_article_create.ts".to_string()), "{tests:?}");
    // Comment tests create an article first: they exercise this provider too.
    assert!(tests.contains(&"test/features/api/bbs/articles/comments/test_api_bbs_article_comment_at.ts".to_string()), "{tests:?}");
}

#[test]
fn return_change_breaks_consumers_of_the_result() {
    let env = setup();
    let j = env.run(&["blast", "getBbsArticlesArticleId", "--change", "return", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), vec!["src/controllers/bbs/articles/BbsArticlesController.ts"]);
}

#[test]
fn shape_change_must_change_only_where_values_are_built() {
    let env = setup();
    let j = env.run(&["blast", "IBbsArticle.ICreate", "--change", "shape", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), vec!["test/features/api/bbs/articles/prepare_random_bbs_article.ts"], "{j}");
    // The transformer builds IBbsArticle values: a shape change of the main type reaches it.
    let j = env.run(&["blast", "IBbsArticle", "--change", "shape", "--ts-server", "native", "--json"]).json();
    assert!(strings(&j["must_change_files"]).contains(&"src/providers/transformers/transformBbsArticle.ts".to_string()), "{j}");
}

#[test]
fn prisma_field_reaches_accesses_and_mapped_dto_properties() {
    let env = setup();
    let j = env.run(&["blast", "prisma:bbs_articles.title", "--change", "rename", "--ts-server", "native", "--json"]).json();
    assert_eq!(
        strings(&j["must_change_files"]),
        vec![
            "src/providers/patchBbsArticles.ts",
            "src/providers/postBbsArticles.ts",
            "src/providers/putBbsArticlesArticleId.ts",
            "src/providers/transformers/transformBbsArticle.ts",
        ]
    );
    let impacted = j["impacted"].as_array().unwrap();
    assert!(impacted.iter().any(|i| i["symbol"] == "IBbsArticle.ICreate.title" && i["relation"] == "prisma"), "{j}");
    assert!(!strings(&j["tests"]).is_empty(), "tests reach the providers through their routes");
}

#[test]
fn no_lsp_answers_from_the_registry_flagged_approximate() {
    let env = setup();
    let j = env.run(&["blast", "IBbsArticle.ICreate", "--change", "rename", "--no-lsp", "--json"]).json();
    assert_eq!(j["approximate"], true);
    assert!(j.get("server").is_none());
    assert_eq!(strings(&j["must_change_files"]), ARTICLE_CREATE_RENAME, "the registry alone finds the same files here");
}

#[test]
fn human_output_lists_must_change_first() {
    let env = setup();
    let r = env.run(&["blast", "postBbsArticles", "--change", "signature", "--ts-server", "native"]);
    r.expect_code(0).stdout_has("must change (").stdout_has("BbsArticlesController.ts").stdout_has("tests");
}

#[test]
fn unknown_and_ambiguous_symbols_are_usage_errors() {
    let env = setup();
    env.run(&["blast", "postBbsArticle", "--no-lsp"]).expect_code(2).stderr_has("no symbol `postBbsArticle`; did you mean: postBbsArticles");
    let r = env.run(&["blast", "create", "--no-lsp"]);
    r.expect_code(2).stderr_has("`create` is ambiguous").stderr_has("src/api/functional/bbs/articles/index.ts#create (function)");
    env.run(&["blast", "", "--no-lsp"]).expect_code(2).stderr_has("empty symbol");
    env.run(&["blast", "x", "--change", "rewrite", "--no-lsp"]).expect_code(2).stderr_has("invalid value 'rewrite'");
}

#[test]
fn symbol_in_a_file_with_syntax_errors_still_answers() {
    let env = setup();
    let r = env.run(&["blast", "src/api/module.ts#functional", "--change", "rename", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["target"]["file"], "src/api/module.ts");
}

#[test]
fn offline_without_a_server_exits_3_with_the_install_command() {
    let env = setup();
    let cache = tempfile::tempdir().unwrap();
    let r = env.run_env(
        &["blast", "postBbsArticles", "--offline", "--ts-server", "tsls"],
        &[("MAINTAIND_CACHE_DIR", cache.path().to_str().unwrap()), ("PATH", "/usr/sbin:/sbin")],
    );
    r.expect_code(3).stderr_has("--offline forbids installing; run: npm install --prefix").stderr_has("typescript-language-server@");
}

#[test]
fn broken_config_file_is_a_usage_error() {
    let env = setup();
    env.write("maintaind.toml", "ts_server = \"emacs\"\n");
    env.run(&["blast", "postBbsArticles"]).expect_code(2).stderr_has("maintaind.toml");
}

/// The server killed between two requests: the next answer comes from a restarted server and
/// is still precise.
#[test]
fn killed_server_is_restarted_and_answers_precisely() {
    let env = setup();
    let mut ws = Workspace::open(env.root()).unwrap();
    let options = SemanticOptions { choice: ServerChoice::Native, offline: false, ready_timeout: std::time::Duration::from_secs(120) };
    ws.start_semantic(&options, &|m| eprintln!("{m}")).unwrap();
    let before = ws.blast("IBbsArticle.ICreate", ChangeKind::Rename, false, 2, &NoProgress).unwrap();
    let pid = ws.semantic().unwrap().server_pid().expect("a running server");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    // A different query, so the cache cannot answer it.
    let after = ws.blast("IBbsArticle.ICreate", ChangeKind::Signature, false, 2, &NoProgress).unwrap();
    assert!(!after.approximate, "{:?}", after.notes);
    assert_eq!(after.files, before.files);
    assert_eq!(after.server.as_ref().unwrap().restarts, 1);
}

/// An edit made outside any editor (a new test file using the DTO) shows up in the next answer.
#[test]
fn edits_outside_an_editor_reach_the_server() {
    let env = setup();
    let mut ws = Workspace::open(env.root()).unwrap();
    let options = SemanticOptions { choice: ServerChoice::Native, offline: false, ready_timeout: std::time::Duration::from_secs(120) };
    ws.start_semantic(&options, &|m| eprintln!("{m}")).unwrap();
    let before = ws.blast("IBbsArticle.ICreate", ChangeKind::Rename, false, 2, &NoProgress).unwrap();
    let new_file = "test/features/api/bbs/articles/test_api_bbs_article_extra.ts";
    env.write(
        new_file,
        "import { IBbsArticle } from \"@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle\";\n\nexport function extra(input: IBbsArticle.ICreate): string {\n  return input.title;\n}\n",
    );
    let after = ws.blast("IBbsArticle.ICreate", ChangeKind::Rename, false, 2, &NoProgress).unwrap();
    assert!(!before.files.contains(&new_file.to_string()));
    assert!(after.files.contains(&new_file.to_string()), "{:?}", after.files);
    assert!(!after.completeness.added_by_registry.contains(&new_file.to_string()), "the server itself found it: {:?}", after.completeness);
}

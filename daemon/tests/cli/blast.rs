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

/// What a rename of `IBbsArticle.ICreate` breaks (compiler truth): the SDK's `Body` alias, the
/// controller and provider taking it, and every test that creates an article (the comment and
/// tag tests create one first).
const ARTICLE_CREATE_RENAME: [&str; 20] = [
    "src/api/functional/bbs/member/articles/index.ts",
    "src/controllers/bbs/member/articles/BbsMemberArticlesController.ts",
    "src/providers/postBbsMemberArticles.ts",
    "test/features/api/article/test_api_article_creation.ts",
    "test/features/api/article/test_api_article_deletion.ts",
    "test/features/api/article/test_api_article_list.ts",
    "test/features/api/article/test_api_article_retrieval.ts",
    "test/features/api/article/test_api_article_search.ts",
    "test/features/api/article/test_api_article_update.ts",
    "test/features/api/article_comment/test_api_article_comment_creation.ts",
    "test/features/api/article_comment/test_api_article_comment_deletion.ts",
    "test/features/api/article_comment/test_api_article_comment_list.ts",
    "test/features/api/article_comment/test_api_article_comment_retrieval.ts",
    "test/features/api/article_comment/test_api_article_comment_search.ts",
    "test/features/api/article_comment/test_api_article_comment_update.ts",
    "test/features/api/article_tag/test_api_article_tag_creation.ts",
    "test/features/api/article_tag/test_api_article_tag_deletion.ts",
    "test/features/api/article_tag/test_api_article_tag_list.ts",
    "test/features/api/article_tag/test_api_article_tag_retrieval.ts",
    "test/features/api/article_tag/test_api_article_tag_search.ts",
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
    assert!(strings(&j["tests"]).contains(&"test/features/api/article/test_api_article_creation.ts".to_string()));
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
    let j = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), vec!["src/controllers/bbs/member/articles/BbsMemberArticlesController.ts"]);
    // The route join: `@Controller` path + `@TypedRoute.Post()` = the SDK function whose
    // `METADATA` says POST at that path (its `@path` has no verb, as in real nestia output).
    let impacted = j["impacted"].as_array().unwrap();
    assert!(impacted.iter().any(|i| i["relation"] == "route" && i["file"] == "src/api/functional/bbs/member/articles/index.ts" && i["symbol"] == "create"), "{j}");
    let tests = strings(&j["tests"]);
    assert!(tests.contains(&"test/features/api/article/test_api_article_creation.ts".to_string()), "{tests:?}");
    // Comment tests create an article first: they exercise this provider too.
    assert!(tests.contains(&"test/features/api/article_comment/test_api_article_comment_retrieval.ts".to_string()), "{tests:?}");
    // Providers named in the older style reach their tests the same way.
    let j = env.run(&["blast", "post__bbs_member_reports", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["tests"]).len(), 6, "{j}");
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
    // The tests build `ICreate` literals (`satisfies IBbsArticle.ICreate`); the provider and
    // the SDK only pass the value on.
    assert_eq!(strings(&j["must_change_files"]), ARTICLE_CREATE_RENAME[3..], "{j}");
    // The providers build IBbsArticle values (object literals returned as the DTO); the SDK's
    // simulator returns `{…} as any`, which builds nothing typed.
    let j = env.run(&["blast", "IBbsArticle", "--change", "shape", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), ["src/providers/getBbsArticlesArticleId.ts", "src/providers/postBbsMemberArticles.ts", "src/providers/putBbsMemberArticlesArticleId.ts"], "{j}");
}

#[test]
fn prisma_field_reaches_accesses_of_its_model_and_linked_dto_properties() {
    let env = setup();
    let j = env.run(&["blast", "prisma:bbs_articles.title", "--change", "rename", "--ts-server", "native", "--json"]).json();
    // Keys and row reads of bbs_articles only: the search filter, the create data, the rows
    // mapped to DTOs, the step-by-step update input.
    assert_eq!(
        strings(&j["must_change_files"]),
        vec!["src/providers/getBbsArticlesArticleId.ts", "src/providers/patchBbsArticles.ts", "src/providers/postBbsMemberArticles.ts", "src/providers/putBbsMemberArticlesArticleId.ts"]
    );
    // `body` is a column of articles and of comments: a rename of the articles' one never
    // reaches the comment providers.
    let j2 = env.run(&["blast", "prisma:bbs_articles.body", "--change", "rename", "--ts-server", "native", "--json"]).json();
    assert!(strings(&j2["must_change_files"]).iter().all(|f| !f.contains("Comments")), "{j2}");
    // The DTO family linked to the model by naming carries the property: listed, not
    // must-change (the API keeps its names).
    let impacted = j["impacted"].as_array().unwrap();
    assert!(impacted.iter().any(|i| i["symbol"] == "IBbsArticle.ICreate.title" && i["relation"] == "prisma" && i["must_change"] == false), "{j}");
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
    let r = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--ts-server", "native"]);
    r.expect_code(0).stdout_has("must change (").stdout_has("BbsMemberArticlesController.ts").stdout_has("tests");
}

/// One line per file (its places and relations merged), must-change files first, each list
/// capped at 25 files with a count, and `--all` for the rest.
#[test]
fn human_output_lists_each_file_once_and_caps_long_lists() {
    let env = setup();
    let args = ["blast", "MyGlobal", "--change", "rename", "--ts-server", "native"];
    let report = env.run(&[&args[..], &["--json"]].concat()).json();
    let mut files: std::collections::BTreeSet<String> = strings(&report["files"]).into_iter().collect();
    files.insert(report["target"]["file"].as_str().unwrap().to_string());
    let must: std::collections::BTreeSet<&str> = report["impacted"].as_array().unwrap().iter().filter(|i| i["must_change"] == true).map(|i| i["file"].as_str().unwrap()).collect();
    assert!(must.len() > 25 && files.len() - must.len() > 25, "the case needs two long lists: {} must, {} files", must.len(), files.len());

    let listed = |text: &str| -> Vec<String> { text.lines().filter(|l| l.starts_with("  ")).map(|l| l.trim_start().split(':').next().unwrap().to_string()).collect() };
    let capped = env.run(&args);
    capped.expect_code(0).stdout_has(&format!("must change ({} files, ", must.len())).stdout_has(&format!("… {} more (--all lists them)", must.len() - 25));
    let text = String::from_utf8_lossy(&capped.output.stdout).into_owned();
    assert_eq!(listed(&text).iter().filter(|l| !l.starts_with('…')).count(), 50, "25 of each list:\n{text}");

    let all = env.run(&[&args[..], &["--all"]].concat());
    all.expect_code(0).stdout_has(&format!("{} files ({} must change)", files.len(), must.len()));
    let text = String::from_utf8_lossy(&all.output.stdout).into_owned();
    let lines = listed(&text);
    assert_eq!(lines.len(), files.len(), "each file once:\n{text}");
    assert_eq!(lines.iter().cloned().collect::<std::collections::BTreeSet<_>>(), files);
    // Must-change files come first.
    let first_touched = lines.iter().position(|f| !must.contains(f.as_str())).unwrap();
    assert!(lines[..first_touched].iter().all(|f| must.contains(f.as_str())) && first_touched == must.len(), "{text}");
}

#[test]
fn unknown_and_ambiguous_symbols_are_usage_errors() {
    let env = setup();
    env.run(&["blast", "postBbsMemberArticle", "--no-lsp"]).expect_code(2).stderr_has("no symbol `postBbsMemberArticle`; did you mean: postBbsMemberArticles");
    let r = env.run(&["blast", "create", "--no-lsp"]);
    r.expect_code(2).stderr_has("`create` is ambiguous").stderr_has("src/api/functional/bbs/member/articles/index.ts#create (function)");
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
    let r = env.run_env(&["blast", "postBbsMemberArticles", "--offline", "--ts-server", "tsls"], &[("MAINTAIND_CACHE_DIR", cache.path().to_str().unwrap()), ("PATH", "/usr/sbin:/sbin")]);
    r.expect_code(3).stderr_has("--offline forbids installing; run: npm install --prefix").stderr_has("typescript-language-server@");
}

#[test]
fn broken_config_file_is_a_usage_error() {
    let env = setup();
    env.write("maintaind.toml", "ts_server = \"emacs\"\n");
    env.run(&["blast", "postBbsMemberArticles"]).expect_code(2).stderr_has("maintaind.toml");
}

/// What `maintaind blast IBbsArticle.ICreate --depth 2` does without a daemon: refresh, then ask.
fn refreshed_blast(ws: &mut Workspace, change: ChangeKind) -> maintaind::blast::BlastReport {
    ws.refresh(&NoProgress).unwrap();
    ws.analysis().blast("IBbsArticle.ICreate", change, false, 2).unwrap()
}

/// The server killed between two requests: the next answer comes from a restarted server and
/// is still precise.
#[test]
fn killed_server_is_restarted_and_answers_precisely() {
    let env = setup();
    let mut ws = Workspace::open(env.root()).unwrap();
    start_native(&mut ws);
    let before = refreshed_blast(&mut ws, ChangeKind::Rename);
    let pid = ws.semantic().unwrap().server_pid().expect("a running server");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    // A different query, so the cache cannot answer it.
    let after = refreshed_blast(&mut ws, ChangeKind::Signature);
    assert!(!after.approximate, "{:?}", after.notes);
    assert_eq!(after.files, before.files);
    assert_eq!(after.server.as_ref().unwrap().restarts, 1);
}

/// A type merged with a namespace of its name is one symbol with two meanings: the server is
/// asked once, at an import of the name, and its answer holds the uses of both (`T` as a type
/// and `T.ICreate`), with nothing left for the registry to add.
#[test]
fn a_type_merged_with_its_namespace_is_found_whole_by_the_server() {
    let env = empty();
    env.write("tsconfig.json", "{\"compilerOptions\": {\"strict\": true, \"module\": \"commonjs\", \"target\": \"es2020\"}, \"include\": [\"src\"]}\n");
    env.write("src/dto.ts", "export type IThing = { name: string };\nexport namespace IThing {\n  export type ICreate = { name: string };\n}\n");
    env.write("src/a_type_use.ts", "import { IThing } from \"./dto\";\n\nexport const thing: IThing = { name: \"a\" };\n");
    env.write("src/b_namespace_use.ts", "import { IThing } from \"./dto\";\n\nexport const input: IThing.ICreate = { name: \"b\" };\n");
    let j = env.run(&["blast", "src/dto.ts#IThing", "--change", "rename", "--ts-server", "native", "--json"]).expect_code(0).json();
    assert_eq!(j["approximate"], false, "{j}");
    assert_eq!(j["files"], serde_json::json!(["src/a_type_use.ts", "src/b_namespace_use.ts"]), "{j}");
    assert_eq!(j["completeness"]["added_by_registry"], serde_json::json!([]), "the server found both meanings' uses: {j}");
    let via: std::collections::BTreeSet<&str> = j["impacted"].as_array().unwrap().iter().map(|i| i["via"].as_str().unwrap()).collect();
    assert_eq!(via, std::collections::BTreeSet::from(["lsp"]), "{j}");
}

/// Start TypeScript 7's server for `ws`, as the daemon would.
fn start_native(ws: &mut Workspace) {
    let options = SemanticOptions { choice: ServerChoice::Native, offline: false, ready_timeout: std::time::Duration::from_secs(120) };
    ws.start_semantic(&options, &|m| eprintln!("{m}")).unwrap();
}

/// A cold command says what it waits for: the projects the language server is still loading
/// (the CLI shows it as a spinner on a terminal).
#[test]
fn a_cold_start_says_which_projects_it_waits_for() {
    struct Recording(std::sync::Mutex<Vec<String>>);
    impl maintaind::workspace::Progress for Recording {
        fn waiting(&self, what: &str) {
            self.0.lock().unwrap().push(what.to_string());
        }
    }
    let env = setup();
    let mut ws = Workspace::open(env.root()).unwrap();
    start_native(&mut ws);
    let said = Recording(Default::default());
    ws.refresh(&said).unwrap();
    let said = said.0.into_inner().unwrap();
    // The root project is covered by the test project (which extends it and includes `../src`):
    // only the test project is loaded, each file once.
    assert_eq!(said.first().map(String::as_str), Some("loading TypeScript projects 0/1: test/tsconfig.json"), "{said:?}");
    let semantic = ws.semantic().unwrap();
    assert!(semantic.is_ready());
    let projects = semantic.status().projects;
    let root = projects.iter().find(|p| p.dir.is_empty()).expect("the root project is listed");
    assert_eq!(root.covered_by.as_deref(), Some("test"), "{projects:?}");
    assert!(semantic.is_covered("") && !semantic.is_covered("test"));
}

/// An edit made outside any editor (a new test file using the DTO) shows up in the next answer.
#[test]
fn edits_outside_an_editor_reach_the_server() {
    let env = setup();
    let mut ws = Workspace::open(env.root()).unwrap();
    start_native(&mut ws);
    let before = refreshed_blast(&mut ws, ChangeKind::Rename);
    let new_file = "test/features/api/article/test_api_article_extra.ts";
    env.write(
        new_file,
        "import { IBbsArticle } from \"@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle\";\n\nexport function extra(input: IBbsArticle.ICreate): string {\n  return input.title;\n}\n",
    );
    let after = refreshed_blast(&mut ws, ChangeKind::Rename);
    assert!(!before.files.contains(&new_file.to_string()));
    assert!(after.files.contains(&new_file.to_string()), "{:?}", after.files);
    assert!(!after.completeness.added_by_registry.contains(&new_file.to_string()), "the server itself found it: {:?}", after.completeness);
}

/// Affected tests reach DTOs and SDK functions too: a DTO's tests are those of the providers
/// that build it (through their routes) and those naming it; an SDK function's, its callers.
#[test]
fn dtos_and_sdk_functions_reach_their_tests() {
    let env = setup();
    let j = env.run(&["blast", "IBbsArticle.ISummary", "--change", "shape", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["must_change_files"]), ["src/providers/patchBbsArticles.ts"], "{j}");
    assert_eq!(strings(&j["tests"]), ["test/features/api/article/test_api_article_list.ts", "test/features/api/article/test_api_article_search.ts"], "{j}");
    let j = env.run(&["blast", "src/api/functional/bbs/articles/index.ts#at", "--change", "signature", "--ts-server", "native", "--json"]).json();
    assert_eq!(strings(&j["tests"]), ["test/features/api/article/test_api_article_deletion.ts", "test/features/api/article/test_api_article_retrieval.ts"], "{j}");
    assert_eq!(strings(&j["must_change_files"]), strings(&j["tests"]), "every call of the SDK function must pass the new parameter");
}

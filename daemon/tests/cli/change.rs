//! `maintaind change` and `maintaind manifest` on the fixture with the real server.

use crate::*;

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

fn manifests(env: &Env) -> Vec<String> {
    let dir = env.path(".maintaind/manifests");
    let mut v: Vec<String> = std::fs::read_dir(&dir).map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn add_field_plans_decisions_and_facts_and_activates() {
    let env = setup();
    let r = env.run(&["change", "add view_count to the article model, but leave the tests alone", "--ts-server", "native", "--json"]);
    r.expect_code(0);
    let m = r.json();
    assert_eq!(m["decisions"]["excluded_categories"], serde_json::json!(["tests"]));
    let changes: Vec<String> = m["decisions"]["changes"].as_array().unwrap().iter().map(|c| format!("{}:{}", c["symbol"].as_str().unwrap(), c["kind"].as_str().unwrap())).collect();
    assert_eq!(changes, vec!["prisma:bbs_articles:shape", "IBbsArticle:shape"]);
    assert_eq!(
        strings(&m["facts"]["files_to_modify"]),
        vec![
            "prisma/schema/schema-02-articles.prisma",
            "src/api/structures/IBbsArticle.ts",
            "src/providers/getBbsArticlesArticleId.ts",
            "src/providers/postBbsMemberArticles.ts",
            "src/providers/putBbsMemberArticlesArticleId.ts",
        ]
    );
    assert!(!strings(&m["facts"]["test_files"]).is_empty());
    assert_eq!(m["facts"]["targets"][0]["file"], "prisma/schema/schema-02-articles.prisma");
    assert_eq!(m["provenance"]["planner"], "offline");
    assert_eq!(m["provenance"]["approximate"], false);
    assert!(m["feasibility"].as_array().unwrap().iter().all(|f| f["verdict"] == "ok"), "{}", m["feasibility"]);
    let id = m["id"].as_str().unwrap().to_string();
    assert_eq!(manifests(&env), vec!["active".to_string(), format!("{id}.json"), format!("{id}.tree")], "the manifest, and the tree it was activated on");
    // show / list / clear / activate round trip.
    env.run(&["manifest", "show"]).expect_code(0).stdout_has(&format!("manifest {id} (active)")).stdout_has("must change (3 files, 4 places)");
    let list = env.run(&["manifest", "list", "--json"]).json();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["active"], true);
    env.run(&["manifest", "clear"]).expect_code(0);
    env.run(&["manifest", "show"]).expect_code(2).stderr_has("no active manifest");
    env.run(&["manifest", "activate", &id]).expect_code(0);
}

#[test]
fn dry_run_writes_nothing() {
    let env = setup();
    let r = env.run(&["change", "rename postBbsMemberArticles to createBbsArticle", "--dry-run", "--ts-server", "native"]);
    r.expect_code(0).stdout_has("Rename `postBbsMemberArticles` to `createBbsArticle`.").stdout_has("must change (");
    assert!(manifests(&env).is_empty());
}

#[test]
fn criteria_that_cannot_hold_are_rejected_with_an_alternative() {
    let env = setup();
    // The new name already exists where it would be created.
    let r = env.run(&["change", "add title to the article model", "--ts-server", "native", "--json", "--dry-run"]);
    r.expect_code(1).stderr_has("an acceptance criterion was rejected");
    let m = r.json();
    let verdicts: Vec<(String, String)> = m["feasibility"].as_array().unwrap().iter().map(|f| (f["criterion"].as_str().unwrap().to_string(), f["verdict"].as_str().unwrap().to_string())).collect();
    assert!(verdicts.contains(&("`IBbsArticle` has `title`".into(), "rejected".into())), "{verdicts:?}");
    let rejected = m["feasibility"].as_array().unwrap().iter().find(|f| f["verdict"] == "rejected").unwrap();
    assert!(rejected["reason"].as_str().unwrap().contains("already exists"));
    assert!(!rejected["alternative"].as_str().unwrap().is_empty());
    assert!(manifests(&env).is_empty(), "a dry run stores nothing");
}

/// A rejected criterion is a stop: exit 1, the manifest stored but not active, and the way to
/// activate it anyway said.
#[test]
fn a_rejected_criterion_stores_the_plan_without_activating_it() {
    let env = setup();
    let r = env.run(&["change", "add title to the article model", "--no-lsp"]);
    r.expect_code(1).stdout_has("rejected").stderr_has("is stored but not active").stderr_has("maintaind manifest activate m-");
    let stored = manifests(&env);
    assert_eq!(stored.len(), 1, "one manifest, no `active` pointer: {stored:?}");
    assert!(!env.path(".maintaind/manifests/active").exists());
    env.run(&["gate", "check", "src/api/structures/IBbsArticle.ts"]).expect_code(1).stdout_has("no active manifest");
    let id = stored[0].trim_end_matches(".json").to_string();
    env.run(&["manifest", "activate", &id]).expect_code(0);
    env.run(&["gate", "check", "src/api/structures/IBbsArticle.ts"]).expect_code(0);
}

#[test]
fn bad_requests_are_refused_and_write_nothing() {
    let env = setup();
    env.run(&["change", "  ", "--no-lsp"]).expect_code(2).stderr_has("empty request");
    env.run(&["change", "add view_count to the widget model", "--no-lsp"]).expect_code(2).stderr_has("nothing in the project matches");
    env.run(&["change", "make things faster", "--no-lsp"]).expect_code(2).stderr_has("names nothing in the project");
    env.run(&["change", "add subtitle to IBbsArticle, no api changes", "--no-lsp"]).expect_code(2).stderr_has("is in an excluded category (api)");
    // Never narrowed to what resolves, never a guess at a column or a tag's property.
    env.run(&["change", "articles and widgets should have a pinned flag", "--no-lsp"]).expect_code(2).stderr_has("nothing in the project matches `widgets`");
    env.run(&["change", "rename the colour column of bbs_articles to hue", "--no-lsp"]).expect_code(2).stderr_has("has no `colour`");
    env.run(&["change", "limit article colors to 20 characters", "--no-lsp"]).expect_code(2).stderr_has("have no `colors`");
    assert!(manifests(&env).is_empty(), "refusals write no manifest");
}

#[test]
fn project_without_tests_needs_allow_no_tests() {
    let env = setup();
    std::fs::remove_dir_all(env.path("test")).unwrap();
    env.run(&["change", "remove deleteBbsMemberArticlesArticleId", "--no-lsp"]).expect_code(2).stderr_has("no test files");
    assert!(manifests(&env).is_empty());
    let r = env.run(&["change", "remove deleteBbsMemberArticlesArticleId", "--no-lsp", "--allow-no-tests", "--json"]);
    r.expect_code(0);
    assert_eq!(r.json()["provenance"]["approximate"], true, "--no-lsp is recorded as approximate");
}

#[test]
fn malformed_or_hand_edited_manifests_are_not_activated() {
    let env = setup();
    let m = env.run(&["change", "remove deleteBbsMemberArticlesArticleId", "--no-lsp", "--json"]).json();
    let id = m["id"].as_str().unwrap().to_string();
    env.run(&["manifest", "clear"]).expect_code(0);
    let path = env.path(&format!(".maintaind/manifests/{id}.json"));
    // Widen the scope by hand.
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("\"files_to_modify\": [", "\"files_to_modify\": [\n      \"src/MyGlobal.ts\",", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, &edited).unwrap();
    env.run(&["manifest", "activate", &id]).expect_code(2).stderr_has("edited by hand");
    assert!(!env.path(".maintaind/manifests/active").exists(), "nothing activated");
    std::fs::write(&path, "{ not json").unwrap();
    env.run(&["manifest", "activate", &id]).expect_code(2).stderr_has("is malformed");
    env.run(&["manifest", "activate", "../../etc/passwd"]).expect_code(2).stderr_has("no manifest");
    env.run(&["manifest", "activate", "m-0-nothing"]).expect_code(2).stderr_has("no manifest `m-0-nothing`");
    assert!(!env.path(".maintaind/manifests/active").exists());
}

/// A validation changes the DTO only; the model behind it (an entity link) is to be read.
#[test]
fn a_validation_plans_the_request_variants_and_reads_the_linked_model() {
    let env = setup();
    let r = env.run(&["change", "limit article titles to 60 characters", "--no-lsp", "--json", "--dry-run"]);
    r.expect_code(0);
    let m = r.json();
    let changes: Vec<String> = m["decisions"]["changes"].as_array().unwrap().iter().map(|c| format!("{}:{}", c["symbol"].as_str().unwrap(), c["intent"].as_str().unwrap())).collect();
    assert_eq!(changes, ["IBbsArticle.ICreate.title:add tags.MaxLength<60> to the type", "IBbsArticle.IUpdate.title:add tags.MaxLength<60> to the type"]);
    assert_eq!(strings(&m["facts"]["files_to_modify"]), ["src/api/structures/IBbsArticle.ts"]);
    assert!(strings(&m["facts"]["files_to_read"]).contains(&"prisma/schema/schema-02-articles.prisma".to_string()), "{}", m["facts"]);
}

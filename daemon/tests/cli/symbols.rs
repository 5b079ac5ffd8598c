//! `maintaind symbols`: ordering, kinds, file-qualified names, Prisma addresses.

use crate::*;

#[test]
fn exact_name_comes_first_then_its_members() {
    let env = setup();
    let r = env.run(&["symbols", "IBbsArticle.ICreate", "--json"]);
    r.expect_code(0);
    let v = r.json();
    let n = names(&v);
    assert_eq!(n[0], "IBbsArticle.ICreate");
    assert_eq!(v[0]["match"], "exact");
    assert_eq!(v[0]["kind"], "type");
    assert_eq!(v[0]["file"], "src/api/structures/IBbsArticle.ts");
    assert!(n[1..].iter().all(|m| m.starts_with("IBbsArticle.ICreate.")), "{n:?}");
    let first = &v[0];
    for key in ["name", "kind", "file", "line", "end_line", "exported", "signature"] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
}

#[test]
fn kind_filter_and_segment_match() {
    let env = setup();
    let v = env.run(&["symbols", "ICreate", "--kind", "type", "--json"]).json();
    let n = names(&v);
    assert_eq!(n.len(), 6, "one ICreate per entity: {n:?}");
    assert!(n.iter().all(|x| x.ends_with(".ICreate")));
}

#[test]
fn file_qualified_and_prisma_addresses() {
    let env = setup();
    let v = env.run(&["symbols", "src/providers/getBbsArticlesArticleId.ts#getBbsArticlesArticleId", "--json"]).json();
    assert_eq!(names(&v), vec!["getBbsArticlesArticleId"]);
    assert_eq!(v[0]["kind"], "function");
    assert!(v[0]["signature"].as_str().unwrap().contains("Promise<IBbsArticle>"), "{v}");

    let v = env.run(&["symbols", "prisma:bbs_articles", "--json"]).json();
    assert_eq!(names(&v)[0], "prisma:bbs_articles");
    assert_eq!(v[0]["kind"], "model");
    let v = env.run(&["symbols", "prisma:bbs_articles.title", "--json"]).json();
    assert_eq!(names(&v), vec!["prisma:bbs_articles.title"]);
}

#[test]
fn route_decorators_are_reported() {
    let env = setup();
    let v = env.run(&["symbols", "BbsArticlesCommentsController", "--kind", "class", "--json"]).json();
    assert_eq!(v[0]["decorators"][0]["name"], "Controller");
    assert_eq!(v[0]["decorators"][0]["args"][0], "/bbs/articles/:articleId/comments");
    let v = env.run(&["symbols", "BbsArticlesCommentsController.at", "--json"]).json();
    assert_eq!(v[0]["decorators"][0]["name"], "TypedRoute.Get");
    assert_eq!(v[0]["decorators"][0]["args"][0], ":commentId");
}

#[test]
fn case_insensitive_matches_come_last() {
    let env = setup();
    let v = env.run(&["symbols", "postbbsmemberarticles", "--json"]).json();
    // The whole name ignoring case ranks with segment matches; partial ones come last.
    assert_eq!((v[0]["name"].as_str(), v[0]["match"].as_str()), (Some("postBbsMemberArticles"), Some("segment")));
    let rest = &v.as_array().unwrap()[1..];
    assert!(!rest.is_empty() && rest.iter().all(|h| h["match"] == "case_insensitive"), "{v}");
}

#[test]
fn human_output_is_a_table_with_a_limit() {
    let env = setup();
    let r = env.run(&["symbols", "Bbs", "--limit", "3"]);
    r.expect_code(0).stdout_has("more (narrow the query");
    assert_eq!(r.stdout().lines().count(), 4, "{}", r.stdout());
}

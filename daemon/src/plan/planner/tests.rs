//! The planner on the fixture: one table of requests in the shapes people write them, each
//! with the changes and exclusions it must decide. (The same shapes on real backends, with
//! expected answers derived with the compiler, are in `bench/real-requests.json` and
//! docs/benchmarks.md.)

use std::sync::OnceLock;

use super::*;

/// The fixture's registry, built in memory (nothing written to the fixture).
fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend");
        let walked = crate::walk::walk(&root);
        let mut reg = Registry::new();
        for f in &walked.sources {
            reg.insert(maintaind_registry::index_file(&f.rel, &std::fs::read(&f.abs).unwrap()).unwrap());
        }
        let configs: Vec<(String, String)> = walked.tsconfigs.iter().map(|f| (f.rel.clone(), std::fs::read_to_string(&f.abs).unwrap())).collect();
        reg.set_tsconfigs(&configs);
        reg
    })
}

const ARTICLE_FIELD: &[&str] = &["prisma:bbs_articles:shape", "IBbsArticle:shape", "IBbsArticle.ICreate:shape", "IBbsArticle.IUpdate:shape"];
const ARTICLE_COUNTER: &[&str] = &["prisma:bbs_articles:shape", "IBbsArticle:shape"];

/// (request, expected changes as `symbol:kind`, expected exclusions). An empty list expects a
/// refusal that names close symbols.
const TABLE: &[(&str, &[&str], &[Category])] = &[
    // A new field on an entity: the model and its DTO, plus the variants clients send unless
    // the server fills the field (counters, timestamps).
    ("add view_count to the article model", ARTICLE_COUNTER, &[]),
    ("Add view_count to the articles", ARTICLE_COUNTER, &[]),
    ("add a view_count field to bbs_articles", ARTICLE_COUNTER, &[]),
    ("add view_count and like_count to the article model", ARTICLE_COUNTER, &[]),
    ("Add `view_count` to the article model.", ARTICLE_COUNTER, &[]),
    ("add a nullable subtitle column to the article table", ARTICLE_FIELD, &[]),
    ("add pinned to article comments", &["prisma:bbs_article_comments:shape", "IBbsArticleComment:shape", "IBbsArticleComment.ICreate:shape", "IBbsArticleComment.IUpdate:shape"], &[]),
    ("add a color to the categories", &["prisma:bbs_categories:shape", "IBbsCategory:shape", "IBbsCategory.ICreate:shape", "IBbsCategory.IUpdate:shape"], &[]),
    // Everyday entity words, singular or plural, with "should have"/"should carry"/"give".
    ("members should have a display name", &["prisma:bbs_members:shape", "IBbsMember:shape", "IBbsMember.ICreate:shape", "IBbsMember.IUpdate:shape", "IBbsMember.IJoin:shape"], &[]),
    ("give members an avatar_url", &["prisma:bbs_members:shape", "IBbsMember:shape", "IBbsMember.ICreate:shape", "IBbsMember.IUpdate:shape", "IBbsMember.IJoin:shape"], &[]),
    ("reports should carry a severity level", &["prisma:bbs_reports:shape", "IBbsReport:shape", "IBbsReport.ICreate:shape", "IBbsReport.IUpdate:shape"], &[]),
    ("an article should track its share_count", ARTICLE_COUNTER, &[]),
    (
        "articles and comments should have a pinned flag",
        &[
            "prisma:bbs_articles:shape",
            "prisma:bbs_article_comments:shape",
            "IBbsArticle:shape",
            "IBbsArticleComment:shape",
            "IBbsArticle.ICreate:shape",
            "IBbsArticle.IUpdate:shape",
            "IBbsArticleComment.ICreate:shape",
            "IBbsArticleComment.IUpdate:shape",
        ],
        &[],
    ),
    ("add severity to the report model, but don't touch the tests", &["prisma:bbs_reports:shape", "IBbsReport:shape", "IBbsReport.ICreate:shape", "IBbsReport.IUpdate:shape"], &[Category::Tests]),
    // A model and a DTO both named: both are targets.
    ("add a priority column to bbs_articles and expose it on IBbsArticle", ARTICLE_FIELD, &[]),
    ("add subtitle to IBbsArticle", &["IBbsArticle:shape", "IBbsArticle.ICreate:shape", "IBbsArticle.IUpdate:shape"], &[]),
    ("add summary to IBbsArticle.ICreate", &["IBbsArticle.ICreate:shape"], &[]),
    ("add view_count to the article model without touching the database", &["IBbsArticle:shape"], &[Category::Persistence]),
    ("add view_count to articles, no schema changes, no build changes", &["IBbsArticle:shape"], &[Category::Persistence, Category::Build]),
    // Validations are typia tags on the properties clients send, never field names.
    ("add email validation to IBbsMember.ICreate", &["IBbsMember.ICreate.email:shape"], &[]),
    ("add uuid validation to IBbsArticle.ICreate", &["IBbsArticle.ICreate:shape"], &[]),
    ("validate the email in IBbsMember.IUpdate", &["IBbsMember.IUpdate:shape"], &[]),
    ("add url validation to IBbsMember.ICreate.introduction", &["IBbsMember.ICreate.introduction:shape"], &[]),
    ("limit article titles to 60 characters", &["IBbsArticle.ICreate.title:shape", "IBbsArticle.IUpdate.title:shape"], &[]),
    ("enforce the 5-80 character limit on article titles", &["IBbsArticle.ICreate.title:shape", "IBbsArticle.IUpdate.title:shape"], &[]),
    ("add a MaxLength to nickname in IBbsMember.ICreate", &["IBbsMember.ICreate.nickname:shape"], &[]),
    ("comment bodies must be at most 500 characters", &["IBbsArticleComment.ICreate.body:shape", "IBbsArticleComment.IUpdate.body:shape"], &[]),
    ("category sequence must be at least 0", &["IBbsCategory.ICreate.sequence:shape", "IBbsCategory.IUpdate.sequence:shape"], &[]),
    // Renames: a symbol, a model, "the C column of M", "the F field of T" (never the whole T).
    ("rename IBbsArticle.ISummary to IBbsArticle.IBrief", &["IBbsArticle.ISummary:rename"], &[]),
    ("rename postBbsMemberArticles to createBbsArticle", &["postBbsMemberArticles:rename"], &[]),
    ("rename post__bbs_member_reports to createReport", &["post__bbs_member_reports:rename"], &[]),
    ("rename the article model to posts", &["prisma:bbs_articles:rename"], &[]),
    ("rename toISOStringSafe to toIsoString; no config changes", &["toISOStringSafe:rename"], &[Category::Config]),
    ("rename the title column of bbs_articles to headline", &["prisma:bbs_articles.title:rename"], &[]),
    ("rename the view_limit column of articles to max_views", &["prisma:bbs_articles.view_limit:rename"], &[]),
    ("rename the body field of IBbsArticle to content", &["IBbsArticle.body:rename"], &[]),
    // Returns.
    ("change what getBbsArticlesArticleId returns", &["getBbsArticlesArticleId:return"], &[]),
    ("change the return type of patchBbsArticles", &["patchBbsArticles:return"], &[]),
    ("getBbsMembersMemberId should return the member with its articles", &["getBbsMembersMemberId:return"], &[]),
    // Signatures: "F needs a required P parameter" and the other phrasings.
    ("add a locale parameter to patchBbsArticles", &["patchBbsArticles:signature"], &[]),
    ("postBbsMemberArticles needs a required tenant parameter", &["postBbsMemberArticles:signature"], &[]),
    ("add parameter tenant to postBbsMemberArticles", &["postBbsMemberArticles:signature"], &[]),
    ("remove the props parameter from toISOStringSafe", &["toISOStringSafe:signature"], &[]),
    ("add a dryRun argument to deleteBbsMemberArticlesArticleId, leave the tests alone", &["deleteBbsMemberArticlesArticleId:signature"], &[Category::Tests]),
    // Removals: a symbol, a column with every DTO property of that name, a whole model.
    ("remove deleteBbsMemberArticlesArticleId", &["deleteBbsMemberArticlesArticleId:remove"], &[]),
    (
        "drop view_limit from the article model",
        &["prisma:bbs_articles.view_limit:remove", "IBbsArticle.view_limit:remove", "IBbsArticle.ICreate.view_limit:remove", "IBbsArticle.ISummary.view_limit:remove"],
        &[],
    ),
    (
        "remove introduction from members",
        &[
            "prisma:bbs_members.introduction:remove",
            "IBbsMember.introduction:remove",
            "IBbsMember.ICreate.introduction:remove",
            "IBbsMember.IJoin.introduction:remove",
            "IBbsMember.IUpdate.introduction:remove",
        ],
        &[],
    ),
    ("remove the report model", &["prisma:bbs_reports:remove", "IBbsReport:remove"], &[]),
    // Include/expose/show: the DTO (variant) gains a property.
    ("include the author's nickname in article summaries", &["IBbsArticle.ISummary:shape"], &[]),
    ("show the comment count in the article list", &["IBbsArticle.ISummary:shape"], &[]),
    ("expose the tag count on IBbsArticle", &["IBbsArticle:shape"], &[]),
    // Behaviour of named symbols.
    ("make memberAuthorize reject expired sessions", &["memberAuthorize:behavior"], &[]),
    ("fix patchBbsArticles so search is case-insensitive", &["patchBbsArticles:behavior"], &[]),
    ("fix get__bbs_reports_$reportId so dismissed reports stay hidden", &["get__bbs_reports_$reportId:behavior"], &[]),
    ("change how postBbsMemberArticles and toISOStringSafe handle empty bodies", &["postBbsMemberArticles:behavior", "toISOStringSafe:behavior"], &[]),
    ("log every call to putBbsMemberArticlesArticleId, don't touch the database", &["putBbsMemberArticlesArticleId:behavior"], &[Category::Persistence]),
    ("make patchBbsArticlesArticleIdComments page by 20, no API changes and leave the tests alone", &["patchBbsArticlesArticleIdComments:behavior"], &[Category::Api, Category::Tests]),
    ("speed up patchBbsArticleComments? no api changes", &[], &[]),
];

fn decided(d: &Decisions) -> Vec<String> {
    d.changes.iter().map(|c| format!("{}:{}", c.symbol, serde_json::to_value(c.kind).unwrap().as_str().unwrap())).collect()
}

#[test]
fn table_of_phrasings_on_the_fixture() {
    let reg = registry();
    let mut failures = Vec::new();
    for (request, expected, excluded) in TABLE {
        match plan_offline(request, reg) {
            Ok(d) => {
                let got = decided(&d);
                if expected.is_empty() {
                    failures.push(format!("{request:?}: expected a refusal, got {got:?}"));
                } else if got != expected.iter().map(|s| s.to_string()).collect::<Vec<_>>() || d.excluded_categories != excluded.to_vec() {
                    failures.push(format!("{request:?}: got {got:?} excluding {:?}", d.excluded_categories));
                }
            }
            Err(e) if expected.is_empty() => assert!(!e.closest.is_empty(), "{request:?}: a refusal lists close symbols: {e}"),
            Err(e) => failures.push(format!("{request:?}: {e}")),
        }
    }
    assert!(TABLE.len() >= 50);
    assert!(failures.is_empty(), "{} of {} phrasings wrong:\n{}", failures.len(), TABLE.len(), failures.join("\n"));
}

#[test]
fn validations_carry_the_tags_the_words_say() {
    let reg = registry();
    let intent = |request: &str| plan_offline(request, reg).unwrap().changes[0].intent.clone();
    assert_eq!(intent("limit article titles to 60 characters"), "add tags.MaxLength<60> to the type");
    assert_eq!(intent("enforce the 5-80 character limit on article titles"), "add tags.MinLength<5> & tags.MaxLength<80> to the type");
    assert_eq!(intent("add a MaxLength to nickname in IBbsMember.ICreate"), "add tags.MaxLength to the type");
    assert_eq!(intent("add email validation to IBbsMember.ICreate"), "add tags.Format<\"email\"> to the type");
    assert_eq!(intent("category sequence must be at least 0"), "add tags.Minimum<0> to the type");
    // A tag name is never a new field.
    let d = plan_offline("add a MaxLength to nickname in IBbsMember.ICreate", reg).unwrap();
    assert!(d.new_symbols.is_empty(), "{:?}", d.new_symbols);
}

#[test]
fn new_fields_get_their_names_from_the_words() {
    let reg = registry();
    let names = |request: &str| {
        let mut v: Vec<String> = plan_offline(request, reg).unwrap().new_symbols.into_iter().map(|n| n.name).collect();
        v.dedup();
        v
    };
    assert_eq!(names("members should have a display name"), ["display_name"]);
    assert_eq!(names("reports should carry a severity level"), ["severity_level"]);
    assert_eq!(names("add view_count and like_count to the article model"), ["view_count", "like_count", "view_count", "like_count"]);
    assert_eq!(names("include the author's nickname in article summaries"), ["author_nickname"]);
    assert_eq!(names("postBbsMemberArticles needs a required tenant parameter"), ["tenant"]);
}

#[test]
fn refusals_say_why_and_list_close_symbols() {
    let reg = registry();
    assert!(plan_offline("   ", reg).unwrap_err().message.starts_with("empty request"));
    assert!(plan_offline("don't touch the tests", reg).unwrap_err().message.contains("says only what not to touch"));
    let e = plan_offline("add view_count to the widget model", reg).unwrap_err();
    assert!(e.message.contains("nothing in the project matches"), "{e}");
    let e = plan_offline("rename postBbsMemberArticle to x", reg).unwrap_err();
    assert_eq!(e.closest.first().map(String::as_str), Some("postBbsMemberArticles"), "{e}");
    let e = plan_offline("make things faster", reg).unwrap_err();
    assert!(e.message.contains("names nothing in the project"), "{e}");
    let e = plan_offline("add subtitle to IBbsArticle, no api changes", reg).unwrap_err();
    assert!(e.message.contains("every target of this request (IBbsArticle, IBbsArticle.ICreate, IBbsArticle.IUpdate) is in an excluded category (api)"), "{e}");
    // A validation whose property does not exist is refused, not moved to the whole type.
    let e = plan_offline("limit article colors to 20 characters", reg).unwrap_err();
    assert!(e.message.contains("have no `colors`"), "{e}");
    // Two entities, one unknown: refused, not narrowed to the one that resolves.
    let e = plan_offline("articles and widgets should have a pinned flag", reg).unwrap_err();
    assert!(e.message.contains("nothing in the project matches `widgets`"), "{e}");
    // A column that does not exist is refused, not the whole model renamed.
    let e = plan_offline("rename the colour column of bbs_articles to hue", reg).unwrap_err();
    assert!(e.message.contains("has no `colour`"), "{e}");
}

#[test]
fn new_symbols_and_criteria_are_decided() {
    let d = plan_offline("add view_count to the article model", registry()).unwrap();
    assert_eq!(d.new_symbols.len(), 2);
    assert_eq!(d.new_symbols[0].name, "view_count");
    assert!(d.acceptance_criteria.iter().any(|c| c == "`IBbsArticle` has `view_count`"));
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(crate::manifest::parse_decisions(&json).unwrap(), d, "planner output satisfies its own strict parser");
}

#[test]
fn a_parameter_says_what_callers_pass() {
    let intent = |req: &str| plan_offline(req, registry()).unwrap().changes[0].intent.clone();
    assert_eq!(intent("postBbsMemberArticles needs a required channel parameter with value \"web\""), "add parameter `channel` = \"web\"");
    assert_eq!(intent("add a limit parameter of 20 to patchBbsArticles"), "add parameter `limit` = 20");
    assert_eq!(intent("postBbsMemberArticles needs an optional locale parameter"), "add optional parameter `locale`");
    assert_eq!(intent("postBbsMemberArticles needs a required tenant parameter"), "add parameter `tenant`");
    assert_eq!(intent("add a dryRun argument set to true to deleteBbsMemberArticlesArticleId"), "add parameter `dryRun` = true");
    assert_eq!(literal_after("a channel parameter with value 'web' now", "parameter"), Some("\"web\"".into()));
    assert_eq!(literal_after("a channel parameter to postV2", "parameter"), None);
    assert_eq!(literal_after("a parameter \"a\\\"b\"", "parameter"), None);
}

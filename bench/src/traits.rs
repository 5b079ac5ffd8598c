//! What real AutoBE output contains, as checks that count a trait in a backend directory.
//!
//! One table ([`TRAITS`]) serves two purposes:
//! - `maintaind-bench traits --corpora DIR --fixture DIR --write docs/real-output.md` counts
//!   every trait over the real backends exported by `scripts/real-corpora` and over the
//!   fixture, and writes the table into `docs/real-output.md` (between its markers);
//! - a test requires the committed fixture to carry every trait real output has
//!   ([`Expect::Present`]) and none it never has ([`Expect::Absent`]), and the document to
//!   list exactly the traits of this table.
//!
//! Each check is a count over files chosen by path, mostly a regular expression; what it
//! counts ("files", "functions", …) is in the table. Traits are about the shapes maintaind's
//! promises depend on (routes, SDK tags, model ↔ DTO naming, test calls), not about prose.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

/// Whether real output has the trait (so the fixture must) or never has it (so it must not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Present,
    Absent,
}

pub struct Trait {
    pub id: &'static str,
    pub what: &'static str,
    /// What one count is.
    pub unit: &'static str,
    pub expect: Expect,
    count: fn(&Backend) -> usize,
}

/// A backend's text files, by root-relative path (no `node_modules`, no `autobe/`).
pub struct Backend {
    pub files: BTreeMap<String, String>,
}

impl Backend {
    pub fn read(root: &Path) -> std::io::Result<Backend> {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().to_string();
                let path = e.path();
                if e.file_type()?.is_dir() {
                    if !matches!(name.as_str(), "node_modules" | ".git" | ".maintaind" | "autobe" | "docs" | "packages") {
                        stack.push(path);
                    }
                } else if [".ts", ".prisma", ".json"].iter().any(|x| name.ends_with(x)) {
                    let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        files.insert(rel, text);
                    }
                }
            }
        }
        Ok(Backend { files })
    }

    fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a String)> + 'a {
        self.files.iter().filter(move |(p, _)| p.starts_with(prefix))
    }

    /// Files under `prefix` (ending `.ts` or `.prisma`) whose text matches `re`.
    fn files_matching(&self, prefix: &str, re: &str) -> usize {
        let re = Regex::new(re).expect("trait regex");
        self.under(prefix).filter(|(p, t)| !p.ends_with(".json") && re.is_match(t)).count()
    }

    /// Matches of `re` in the files under `prefix`.
    fn matches(&self, prefix: &str, re: &str) -> usize {
        let re = Regex::new(re).expect("trait regex");
        self.under(prefix).filter(|(p, _)| !p.ends_with(".json")).map(|(_, t)| re.find_iter(t).count()).sum()
    }

    /// Paths under `prefix` whose path (relative to `prefix`) matches `re`.
    fn paths(&self, prefix: &str, re: &str) -> usize {
        let re = Regex::new(re).expect("trait regex");
        self.under(prefix).filter(|(p, _)| re.is_match(&p[prefix.len()..])).count()
    }

    fn models(&self) -> Vec<String> {
        let re = Regex::new(r"(?m)^model (\w+) \{").unwrap();
        self.under("prisma/").flat_map(|(_, t)| re.captures_iter(t).map(|c| c[1].to_string()).collect::<Vec<_>>()).collect()
    }
}

impl Trait {
    pub fn count(&self, b: &Backend) -> usize {
        (self.count)(b)
    }
}

macro_rules! t {
    ($id:literal, $expect:ident, $unit:literal, $what:literal, $f:expr) => {
        Trait { id: $id, what: $what, unit: $unit, expect: Expect::$expect, count: $f }
    };
}

/// Every trait, grouped by where it lives.
pub static TRAITS: &[Trait] = &[
    // Prisma schema.
    t!("prisma.multi-file", Present, "schema files", "the schema is split over several files in `prisma/schema/`", |b| b.paths("prisma/schema/", r"\.prisma$")),
    t!("prisma.main-file", Present, "files", "`prisma/schema/main.prisma` holds the generator and datasource blocks only", |b| b
        .files
        .get("prisma/schema/main.prisma")
        .map_or(0, |t| usize::from(t.contains("generator client") && t.contains("datasource db") && !t.contains("\nmodel ")))),
    t!("prisma.numbered-files", Present, "schema files", "the other schema files are `schema-NN-<area>.prisma`", |b| b.paths("prisma/schema/", r"^schema-\d\d-[a-z0-9-]+\.prisma$")),
    t!("prisma.model-prefix", Present, "models", "models are snake_case plural tables sharing a backend-wide prefix (`shopping_mall_`, `todo_list_`)", |b| {
        let models = b.models();
        let prefix = crate::traits::prefix_of(&models);
        if prefix.is_empty() { 0 } else { models.iter().filter(|m| m.starts_with(&prefix)).count() }
    }),
    t!("prisma.namespace-tag", Present, "models", "each model's `///` doc ends with `@namespace <Area>`", |b| b.matches("prisma/", r"(?m)^/// @namespace \w+")),
    t!("prisma.author-tag", Present, "models", "each model's doc carries `@author AutoBE - https://github.com/wrtnlabs/autobe`", |b| b.matches("prisma/", r"(?m)^/// @author AutoBE")),
    t!("prisma.column-sections", Present, "models", "model bodies are sectioned by `//----` / `// COLUMNS` / `// RELATIONS` comments", |b| b.matches("prisma/", r"(?m)^  // COLUMNS")),
    t!("prisma.link-doc", Present, "fields", "foreign-key fields are documented with `{@link other_table.id}`", |b| b.matches("prisma/", r"\{@link \w+\.id\}")),
    t!("prisma.relation", Present, "relations", "relations are declared with `@relation(fields: [...], references: [id], onDelete: …)`", |b| b.matches("prisma/", r"@relation\(fields: \[")),
    t!("prisma.named-index", Present, "indexes", "composite indexes and uniques, some named with `map: \"…\"`", |b| b.matches("prisma/", r"(?m)^  @@(index|unique)\(")),
    // DTOs (src/api/structures).
    t!("dto.type-and-namespace", Present, "files", "a DTO is `export type IX = {…}` plus `export namespace IX { export type ICreate = {…}; … }`", |b| {
        let ty = Regex::new(r"(?m)^export type (I\w+) = \{").unwrap();
        b.under("src/api/structures/").filter(|(_, t)| ty.captures(t).is_some_and(|c| t.contains(&format!("export namespace {} {{", &c[1])))).count()
    }),
    t!("dto.variant-create", Present, "types", "`ICreate` variants (what clients send to create)", |b| b.matches("src/api/structures/", r"(?m)^  export type ICreate = ")),
    t!("dto.variant-update", Present, "types", "`IUpdate` variants", |b| b.matches("src/api/structures/", r"(?m)^  export type IUpdate = ")),
    t!("dto.variant-summary", Present, "types", "`ISummary` variants (list entries)", |b| b.matches("src/api/structures/", r"(?m)^  export type ISummary = ")),
    t!("dto.variant-request", Present, "types", "`IRequest` variants (search and pagination bodies of PATCH index routes)", |b| b.matches("src/api/structures/", r"(?m)^  export type IRequest = ")),
    t!("dto.variant-authorized", Present, "types", "`IAuthorized` variants of actor DTOs (join/login answers carrying `token: IAuthorizationToken`)", |b| b
        .matches("src/api/structures/", r"(?m)^  export type IAuthorized = ")),
    t!("dto.typia-tags", Present, "properties", "properties carry typia tags (`string & tags.Format<\"uuid\">`, `tags.MaxLength<80>`)", |b| b
        .matches("src/api/structures/", r"(?m)^ +\w+\??: .*tags\.\w+<")),
    t!("dto.optional-undefined", Present, "properties", "optional properties are written `p?: T | undefined` (often `| null | undefined`)", |b| b
        .matches("src/api/structures/", r"(?m)^ +\w+\?: .*\| undefined;")),
    t!("dto.table-in-prose", Present, "files", "the DTO's doc comment names its table in prose (`… from community_platform_posts.`)", |b| {
        let models = b.models();
        b.under("src/api/structures/").filter(|(_, t)| models.iter().any(|m| t.contains(m.as_str()))).count()
    }),
    t!(
        "dto.maps-to-convention",
        Absent,
        "files",
        "a machine-readable link: every property of a DTO documented \"Maps to <table>.<column>\" (some models write it in prose on a few properties)",
        |b| {
            let prop = Regex::new(r"(?m)^ +\w+\??: ").unwrap();
            let maps = Regex::new(r"Maps to \w+\.\w+").unwrap();
            b.under("src/api/structures/")
                .filter(|(_, t)| {
                    let props = prop.find_iter(t).count();
                    props > 0 && maps.find_iter(t).count() >= props
                })
                .count()
        }
    ),
    t!("dto.autobe-tag", Present, "files", "DTO docs end with `@autobe Generated by AutoBE - https://github.com/wrtnlabs/autobe`", |b| b
        .files_matching("src/api/structures/", r"@autobe Generated by AutoBE")),
    t!("dto.page", Present, "files", "page wrappers `IPageIX.ts`: `{ pagination: IPage.IPagination; data: IX.ISummary[] }`", |b| b.paths("src/api/structures/", r"^IPageI\w+\.ts$")),
    // nestia SDK (src/api/functional).
    t!("sdk.path-tag", Present, "functions", "SDK functions are documented `@path /route` with no verb", |b| b.matches("src/api/functional/", r"(?m)^ \* @path /")),
    t!("sdk.path-with-verb", Absent, "functions", "`@path VERB /route` (the verb lives in `METADATA.method` instead)", |b| b
        .matches("src/api/functional/", r"(?m)^ \* @path (GET|POST|PUT|PATCH|DELETE) ")),
    t!("sdk.accessor-tag", Present, "functions", "`@accessor api.functional.<route segments>.<name>` names the call tests make", |b| b
        .matches("src/api/functional/", r"(?m)^ \* @accessor api\.functional\.")),
    t!("sdk.metadata", Present, "functions", "`export namespace f { export const METADATA = { method: \"POST\", path: \"/route\", request, response } as const }`", |b| b
        .matches("src/api/functional/", r#"export const METADATA = \{\n +method: "(GET|POST|PUT|PATCH|DELETE)""#)),
    t!("sdk.props", Present, "functions", "functions take `(connection, props: f.Props)`; path parameters and `body` are members of `Props`", |b| b
        .matches("src/api/functional/", r"(?m)^export async function \w+\(\n  connection: IConnection,\n  props: \w+\.Props,")),
    t!("sdk.connection-only", Present, "functions", "functions without parameters or body take `connection` only", |b| b
        .matches("src/api/functional/", r"(?m)^export async function \w+\(\n?\s*connection: IConnection,?\n?\)")),
    t!("sdk.simulate", Present, "functions", "each function's namespace has `random` and `simulate` (nestia's simulator)", |b| b.matches("src/api/functional/", r"(?m)^  export const simulate = \(")),
    t!("sdk.barrel", Present, "re-exports", "route folders re-export their children: `export * as products from \"./products/index\"`", |b| b
        .matches("src/api/functional/", r#"(?m)^export \* as \w+ from "\./\w+(/index)?";"#)),
    t!("sdk.controller-tag", Absent, "functions", "an `@controller Class.method` doc tag", |b| b.matches("src/api/functional/", r"(?m)^ \* @controller ")),
    t!("sdk.type-star-export", Present, "files", "`src/api/module.ts` has `export type * from \"./IConnection\"` (tree-sitter-typescript 0.23 reports it as a syntax error)", |b| b
        .files_matching("src/api/module.ts", r#"export type \* from "\./IConnection""#)),
    // Controllers.
    t!("controller.class-path", Present, "controllers", "`@Controller(\"/prefix/role/resource\")` carries the whole collection path (path parameters of parents included)", |b| b
        .matches("src/controllers/", r#"@Controller\("/\w+/[\w/:]+"\)"#)),
    t!("controller.route-arg", Present, "methods", "item routes name the parameter in the verb decorator: `@TypedRoute.Put(\":postId\")`", |b| b
        .matches("src/controllers/", r#"@TypedRoute\.(Get|Post|Put|Patch|Delete)\(":"#)),
    t!("controller.route-empty", Present, "methods", "collection routes have an empty verb decorator: `@TypedRoute.Post()`", |b| b
        .matches("src/controllers/", r"@TypedRoute\.(Get|Post|Put|Patch|Delete)\(\)")),
    t!("controller.decorator-own-line", Present, "parameters", "parameter decorators sit on their own line above the parameter", |b| b
        .matches("src/controllers/", r"(?m)^    @(Typed\w+|\w+Auth)\([^)]*\)\n    \w+: ")),
    t!("controller.try-catch", Present, "methods", "each method wraps its provider call: `try { return await p({…}); } catch (error) { console.log(error); throw error; }`", |b| b
        .matches("src/controllers/", r"catch \(error\) \{\n +console\.log\(error\);\n +throw error;")),
    t!("controller.class-name", Present, "controllers", "class names capitalise each route segment and lower-case the rest (`ShoppingmallAdminProductsController`)", |b| b
        .matches("src/controllers/", r"(?m)^export class [A-Z][a-z0-9]+([A-Z][a-z0-9]+)*Controller \{")),
    t!("controller.auth-param", Present, "parameters", "role routes take the actor through an `@XAuth()` parameter decorator", |b| b.matches("src/controllers/", r"(?m)^    @[A-Z]\w*Auth\(\)")),
    // Providers.
    t!("provider.name-verb-path", Present, "files", "providers are named verb + route in PascalCase: `postShoppingMallSellerProducts`, `getTodoListTodosTodoId`", |b| b
        .paths("src/providers/", r"^(get|post|put|patch|delete)[A-Z]\w*\.ts$")),
    t!("provider.props", Present, "functions", "one exported async function per file taking one `props: { … }` object", |b| b
        .matches("src/providers/", r"(?m)^export async function \w+\(props: \{")),
    t!("provider.myglobal-prisma", Present, "calls", "database access through `MyGlobal.prisma.<model>.<op>({ where, select, data, … })`", |b| b
        .matches("src/providers/", r"MyGlobal\.prisma\.[a-z_]+\.[a-zA-Z]+\(")),
    t!("provider.transaction", Present, "calls", "`MyGlobal.prisma.$transaction(async (tx) => …)` with `tx.<model>.<op>` inside", |b| b.matches("src/providers/", r"\btx\.[a-z_]+\.[a-zA-Z]+\(")),
    t!("provider.promise-all", Present, "calls", "list providers page with `const [rows, total] = await Promise.all([findMany, count])`", |b| b
        .matches("src/providers/", r"= await Promise\.all\(\[\n +MyGlobal\.prisma\.")),
    t!("provider.const-where", Present, "files", "filters built in a local `const where = {…}` (spreads of `cond && { … }`) passed as `{ where }`", |b| b
        .files_matching("src/providers/", r"const where\w* = \{")),
    t!("provider.prisma-input-type", Present, "files", "objects typed with generated inputs: `Prisma.<model>WhereInput`, `…UpdateInput`", |b| b
        .files_matching("src/providers/", r"Prisma\.[a-z_]+(WhereInput|UpdateInput|CreateInput|UncheckedUpdateInput|UncheckedCreateInput)")),
    t!("provider.inline-mapping", Present, "files", "rows are mapped to DTOs inline, dates through `toISOStringSafe(…)` (no shared transformer modules)", |b| b
        .files_matching("src/providers/", r"toISOStringSafe\(\w+\.\w+\)")),
    t!("provider.transformers", Absent, "files", "a `src/providers/transformers/` folder of shared row → DTO functions", |b| b.paths("src/providers/", r"^transformers/")),
    t!("provider.api-alias-import", Present, "files", "DTOs imported through the alias `@ORGANIZATION/PROJECT-api/lib/structures/IX`", |b| b
        .files_matching("src/providers/", r#"from "@ORGANIZATION/PROJECT-api/lib/structures/I\w+""#)),
    t!("provider.http-exception", Present, "files", "errors thrown as `new HttpException(message, status)`", |b| b.files_matching("src/providers/", r"throw new HttpException\(")),
    // Authorization.
    t!("auth.authorize", Present, "files", "`src/providers/authorize/<role>Authorize.ts` checks the JWT payload's type and the actor's row", |b| b
        .paths("src/providers/authorize/", r"^[a-z]\w*Authorize\.ts$")),
    t!("auth.jwt-authorize", Present, "files", "`src/providers/authorize/jwtAuthorize.ts` verifies the bearer token", |b| b.paths("src/providers/authorize/", r"^jwtAuthorize\.ts$")),
    t!("auth.decorator", Present, "files", "`src/decorators/<Role>Auth.ts`: a parameter decorator calling the authorizer", |b| b.paths("src/decorators/", r"^[A-Z]\w*Auth\.ts$")),
    t!("auth.payload", Present, "files", "`src/decorators/payload/<Role>Payload.ts`: `{ id; type: \"<role>\" }`", |b| b.paths("src/decorators/payload/", r"^[A-Z]\w*Payload\.ts$")),
    t!("auth.join-route", Present, "functions", "actors join and log in through `/auth/<role>/join` and `/auth/<role>/login` SDK functions", |b| b
        .matches("src/api/functional/auth/", r"(?m)^ \* @path /auth/\w+/(join|login)$")),
    // E2E tests.
    t!("test.layout", Present, "files", "`test/features/api/<group>/test_api_<what>.ts`, one exported test function each", |b| b.paths("test/features/api/", r"^[\w-]+/test_api_\w+\.ts$")),
    t!("test.default-import", Present, "files", "tests import the SDK as `import api from \"@ORGANIZATION/PROJECT-api\"`", |b| b
        .files_matching("test/features/", r#"(?m)^import api from "@ORGANIZATION/PROJECT-api";"#)),
    t!("test.sdk-call", Present, "calls", "tests call `api.functional.<route>.<name>(connection, { … })` on one line", |b| b.matches("test/features/", r"api\.functional(\.\w+)+\(")),
    t!("test.satisfies", Present, "files", "request bodies are literals checked with `satisfies IX.ICreate`", |b| b.files_matching("test/features/", r"\} satisfies I\w+\.\w+")),
    t!(
        "test.page-type",
        Present,
        "files",
        "a test listing or searching types the page it gets and imports that type: `const page: IPageIX.ISummary =` then `await api.functional….index(…)` on the next line",
        |b| b.files_matching("test/features/", r": IPageI\w+(\.\w+)? =\n")
    ),
    t!("test.typia-assert", Present, "files", "answers are checked with `typia.assert(x)`", |b| b.files_matching("test/features/", r"typia\.assert\(")),
    t!("test.validator", Present, "files", "`TestValidator.*` from `@nestia/e2e`", |b| b.files_matching("test/features/", r"TestValidator\.")),
    t!("test.tsconfig", Present, "files", "`test/tsconfig.json` extends the root one and includes `../src` (a second project)", |b| b
        .files
        .get("test/tsconfig.json")
        .map_or(0, |t| usize::from(t.contains("\"extends\": \"../tsconfig.json\"") && t.contains("../src")))),
    t!("test.api-alias", Present, "files", "`@ORGANIZATION/PROJECT-api` → `./src/api` is a `paths` alias of the root tsconfig", |b| b
        .files
        .get("tsconfig.json")
        .map_or(0, |t| usize::from(t.contains("\"@ORGANIZATION/PROJECT-api\": [\"./src/api\"]")))),
    // Shared code.
    t!("global.prisma-getter", Present, "files", "`MyGlobal` exposes the client as `public static get prisma(): PrismaClient`", |b| b
        .files_matching("src/MyGlobal.ts", r"public static get prisma\(\): PrismaClient")),
    t!("utils.to-iso-string-safe", Present, "files", "`src/utils/toISOStringSafe.ts` turns dates into ISO strings", |b| b.paths("src/utils/", r"^toISOStringSafe\.ts$")),
];

/// The shared underscore prefix of model names (the same rule as `maintaind::links`).
pub fn prefix_of(models: &[String]) -> String {
    maintaind::links::common_prefix(models.iter().map(String::as_str))
}

/// One line per backend: its size and model prefix.
pub fn sizes(real: &[(String, Backend)]) -> String {
    let mut s = String::from("| backend | models | prefix | DTO files | providers | controllers | SDK functions | e2e test files |\n|---|---|---|---|---|---|---|---|\n");
    for (name, b) in real {
        let models = b.models();
        let sdk = b.matches("src/api/functional/", r"(?m)^export async function ");
        let _ = std::fmt::Write::write_fmt(
            &mut s,
            format_args!(
                "| {} | {} | `{}` | {} | {} | {} | {sdk} | {} |\n",
                name.replace('+', "/"),
                models.len(),
                prefix_of(&models),
                b.paths("src/api/structures/", r"\.ts$"),
                b.paths("src/providers/", r"^[^/]+\.ts$"),
                b.paths("src/controllers/", r"Controller\.ts$"),
                b.paths("test/features/", r"/test_api_\w+\.ts$"),
            ),
        );
    }
    s
}

/// Markers around the generated table in `docs/real-output.md`.
pub const BEGIN: &str = "<!-- traits:begin (maintaind-bench traits) -->";
pub const END: &str = "<!-- traits:end -->";
pub const SIZES_BEGIN: &str = "<!-- backends:begin (maintaind-bench traits) -->";
pub const SIZES_END: &str = "<!-- backends:end -->";

/// The trait table as Markdown: per trait, the real backends carrying it, the total count,
/// and the fixture's count.
pub fn table(real: &[(String, Backend)], fixture: &Backend) -> String {
    let mut s = String::new();
    s.push_str(&format!("| trait | what | expected | real backends with it (of {}) | count over them | unit | fixture |\n|---|---|---|---|---|---|---|\n", real.len()));
    for t in TRAITS {
        let counts: Vec<usize> = real.iter().map(|(_, b)| t.count(b)).collect();
        let with = counts.iter().filter(|c| **c > 0).count();
        let total: usize = counts.iter().sum();
        s.push_str(&format!(
            "| `{}` | {} | {} | {with} | {total} | {} | {} |\n",
            t.id,
            t.what.replace('|', "\\|"),
            if t.expect == Expect::Present { "present" } else { "absent" },
            t.unit,
            t.count(fixture)
        ));
    }
    s
}

/// Replace the text between two markers of `doc`.
pub fn splice(doc: &str, begin: &str, end: &str, table: &str) -> Option<String> {
    let b = doc.find(begin)? + begin.len();
    let e = doc.find(end)?;
    (b <= e).then(|| format!("{}\n{}{}", &doc[..b], table, &doc[e..]))
}

/// The trait ids listed between the markers of `doc`.
#[cfg(test)]
pub fn listed(doc: &str) -> Vec<String> {
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else { return Vec::new() };
    doc[b..e].lines().filter_map(|l| l.strip_prefix("| `").and_then(|r| r.split_once('`')).map(|(id, _)| id.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The committed fixture imitates real output: every trait real backends have, none they
    /// never have (docs/real-output.md says what each is and how often it occurs).
    #[test]
    fn fixture_carries_every_trait_of_real_output() {
        let fixture = Backend::read(&root().join("fixtures/bbs-backend")).unwrap();
        let wrong: Vec<String> = TRAITS
            .iter()
            .filter_map(|t| {
                let n = t.count(&fixture);
                let ok = match t.expect {
                    Expect::Present => n > 0,
                    Expect::Absent => n == 0,
                };
                (!ok).then(|| format!("{} ({:?}, fixture count {n}): {}", t.id, t.expect, t.what))
            })
            .collect();
        assert!(wrong.is_empty(), "the fixture differs from real output in:\n{}", wrong.join("\n"));
    }

    #[test]
    fn the_document_lists_exactly_these_traits() {
        let doc = std::fs::read_to_string(root().join("docs/real-output.md")).unwrap();
        let ids: Vec<String> = TRAITS.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(listed(&doc), ids, "regenerate the table with `maintaind-bench traits --corpora DIR --fixture fixtures/bbs-backend --write docs/real-output.md`");
    }

    #[test]
    fn ids_are_unique_and_regexes_compile() {
        let empty = Backend { files: BTreeMap::new() };
        let mut seen = std::collections::BTreeSet::new();
        for t in TRAITS {
            assert!(seen.insert(t.id), "duplicate {}", t.id);
            assert_eq!(t.count(&empty), 0, "{} counts something in an empty backend", t.id);
        }
    }
}

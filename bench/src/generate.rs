//! The backend generator: writes a NestJS + Prisma + nestia backend in the shape real AutoBE
//! output has (`docs/real-output.md`, checked trait by trait by `traits.rs`). `--preset bbs`
//! is the committed fixture `fixtures/bbs-backend` (a discussion board); `--entities N` is the
//! scale backend for the benchmarks (about 17 files per entity, deterministic, never
//! committed).
//!
//! The shape, as real output has it: a multi-file Prisma schema (`main.prisma` plus
//! `schema-NN-<area>.prisma`, models documented with `@namespace`/`@author`, column sections,
//! `{@link}` foreign keys); DTOs as `export type IX = {…}` plus a namespace of variants, no
//! machine-readable model link; public read routes (`PATCH /bbs/articles`,
//! `GET /bbs/articles/:articleId`) and role write routes (`POST /bbs/member/articles`) in one
//! controller per path, each method wrapping its provider in try/catch; one provider per
//! route named verb + route (one entity in the older `post__bbs_member_reports` style),
//! mapping rows to DTOs inline; the nestia SDK with `@path` (no verb), `@accessor`,
//! `METADATA`, `Props` and `simulate`; JWT actors (`/auth/<role>/join|login`, authorizers,
//! decorators, payloads); e2e tests in `test/features/api/<group>/test_api_*.ts` calling
//! `api.functional.…(connection, { … })` under their own tsconfig.
//!
//! Framework packages are replaced by small declaration stubs under `stubs/` mapped through
//! tsconfig `paths` (the one thing real output does not have), so the output type-checks with
//! nothing but the `typescript` package.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One column of a model and its DTO property.
#[derive(Clone)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub nullable: bool,
    /// Written by the client on create / update.
    pub create: bool,
    pub update: bool,
    /// Shown in `ISummary`.
    pub summary: bool,
    /// Stored but never exposed (a password hash).
    pub hidden: bool,
    pub doc: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Ty {
    /// A short string with a length limit.
    Str(u32),
    Text,
    Email,
    Int,
    /// A status string out of a closed set (SQLite has no enums; AutoBE writes strings).
    Status(&'static [&'static str]),
}

/// How the entity's providers are named.
#[derive(Clone, Copy, PartialEq)]
pub enum Naming {
    /// `postBbsMemberArticles` (what every backend in docs/real-output.md has).
    VerbPath,
    /// `post__bbs_member_reports`, `get__bbs_reports_$reportId` (older AutoBE output).
    Underscore,
}

#[derive(Clone)]
pub struct Entity {
    /// snake singular without prefix, e.g. `article`, `article_comment`.
    pub singular: String,
    /// Table prefix, e.g. `bbs`.
    pub prefix: String,
    /// Route segment, e.g. `articles` or `comments`.
    pub segment: String,
    /// Index of the parent entity (routes and FK nest under it).
    pub parent: Option<usize>,
    /// The actor entity whose role writes this entity (routes under `/<prefix>/<role>/…`).
    pub writer: usize,
    /// Rows carry the writer's FK (`bbs_member_id`) and only their author may change them.
    pub authored: bool,
    /// This entity is an actor: it joins and logs in (`/auth/<role>/…`), has a payload, an
    /// authorizer and a decorator.
    pub actor: bool,
    /// Ordinary CRUD routes (actors other than the first have join/login only).
    pub crud: bool,
    pub fields: Vec<Field>,
    /// Which `schema-NN-<area>.prisma` file holds the model, and its `@namespace`.
    pub schema_file: String,
    pub area: String,
    pub description: String,
    pub naming: Naming,
}

impl Entity {
    pub fn table(&self) -> String {
        format!("{}_{}", self.prefix, plural(&self.singular))
    }
    pub fn pascal(&self) -> String {
        pascal(&format!("{}_{}", self.prefix, self.singular))
    }
    pub fn dto(&self) -> String {
        format!("I{}", self.pascal())
    }
    pub fn id_param(&self) -> String {
        format!("{}Id", camel(&singular(&self.segment)))
    }
    pub fn fk(&self) -> String {
        format!("{}_{}_id", self.prefix, self.singular)
    }
    /// The role name of an actor entity (`member`).
    pub fn role(&self) -> String {
        self.singular.clone()
    }
    fn human(&self) -> String {
        self.singular.replace('_', " ")
    }
    fn searchable(&self) -> Option<&Field> {
        self.fields.iter().find(|f| matches!(f.ty, Ty::Str(_)) && !f.nullable && !f.hidden)
    }
    fn exposed(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.hidden)
    }
}

pub fn plural(word: &str) -> String {
    match word.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{word}s"),
    }
}

fn singular(word: &str) -> String {
    match word.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => word.strip_suffix('s').unwrap_or(word).to_string(),
    }
}

fn pascal(snake: &str) -> String {
    snake
        .split(['_', '-', '/'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn camel(snake: &str) -> String {
    let p = pascal(snake);
    let mut c = p.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

/// nestia's controller class naming: each route segment capitalised, the rest lower-cased
/// (`shoppingMall` → `Shoppingmall`).
fn class_segment(seg: &str) -> String {
    let mut c = seg.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()).unwrap_or_default()
}

const fn field(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, nullable: false, create: true, update: true, summary: false, hidden: false, doc }
}

fn actor_fields(nickname_doc: &'static str) -> Vec<Field> {
    vec![
        Field { summary: true, update: false, ..field("email", Ty::Email, "Login e-mail address, unique across the board.") },
        Field { hidden: true, update: false, ..field("password_hash", Ty::Text, "Hashed password; never exposed through the API.") },
        Field { summary: true, ..field("nickname", Ty::Str(40), nickname_doc) },
    ]
}

/// The discussion-board fixture: members and admins (actors), categories, articles, comments,
/// tags and reports.
pub fn bbs() -> Vec<Entity> {
    const STATUS: Ty = Ty::Status(&["open", "resolved", "dismissed"]);
    let e = |singular: &str, segment: &str, parent: Option<usize>, writer: usize, authored: bool, schema: &str, area: &str, description: &str, fields: Vec<Field>| Entity {
        singular: singular.into(),
        prefix: "bbs".into(),
        segment: segment.into(),
        parent,
        writer,
        authored,
        actor: false,
        crud: true,
        fields,
        schema_file: schema.into(),
        area: area.into(),
        description: description.into(),
        naming: Naming::VerbPath,
    };
    let mut member = e("member", "members", None, 1, false, "schema-01-actors", "Actors", "A registered member of the board who writes articles and comments.", {
        let mut f = actor_fields("Name shown next to everything the member writes.");
        f.push(Field { nullable: true, ..field("introduction", Ty::Text, "Free-text self introduction shown on the member's profile.") });
        f
    });
    member.actor = true;
    let mut admin =
        e("admin", "admins", None, 1, false, "schema-01-actors", "Actors", "An administrator who curates categories and handles reports.", actor_fields("Name shown on moderation actions."));
    admin.actor = true;
    admin.crud = false;
    let mut report = e(
        "report",
        "reports",
        None,
        0,
        true,
        "schema-03-moderation",
        "Moderation",
        "A member's report of an article to the moderators.",
        vec![
            Field { summary: true, ..field("reason", Ty::Str(200), "Why the article was reported, in the reporter's words.") },
            Field { summary: true, create: false, ..field("status", STATUS, "Moderation state of the report: open, resolved or dismissed.") },
        ],
    );
    report.naming = Naming::Underscore;
    vec![
        member,
        admin,
        e(
            "category",
            "categories",
            None,
            1,
            false,
            "schema-02-articles",
            "Articles",
            "A board category articles are filed under.",
            vec![
                Field { summary: true, ..field("name", Ty::Str(60), "Category name, unique on the board.") },
                Field { nullable: true, ..field("description", Ty::Text, "What belongs in this category.") },
                field("sequence", Ty::Int, "Display order among categories, ascending."),
            ],
        ),
        e(
            "article",
            "articles",
            None,
            0,
            true,
            "schema-02-articles",
            "Articles",
            "An article written by a member.",
            vec![
                Field { summary: true, ..field("title", Ty::Str(80), "Title of the article, 1 to 80 characters.") },
                field("body", Ty::Text, "Body of the article in markdown."),
                Field { summary: true, update: false, ..field("view_limit", Ty::Int, "How many views the author allows; 0 means unlimited.") },
            ],
        ),
        e(
            "article_comment",
            "comments",
            Some(3),
            0,
            true,
            "schema-02-articles",
            "Articles",
            "A comment a member wrote on an article.",
            vec![Field { summary: true, ..field("body", Ty::Str(1000), "Text of the comment, up to 1000 characters.") }],
        ),
        e(
            "article_tag",
            "tags",
            Some(3),
            0,
            false,
            "schema-02-articles",
            "Articles",
            "A tag attached to an article.",
            vec![Field { summary: true, update: false, ..field("label", Ty::Str(30), "Tag text, lower case, up to 30 characters.") }],
        ),
        report,
    ]
}

/// `n` entities for the scale benchmark: a members entity first (the actor), then a rotating
/// set of shapes, every third one nested under the entity before it.
pub fn scale(n: usize) -> Vec<Entity> {
    const WORDS: [&str; 8] = ["order", "product", "invoice", "ticket", "shipment", "review", "coupon", "refund"];
    const STATE: Ty = Ty::Status(&["draft", "active", "archived"]);
    let mut member = Entity {
        singular: "member".into(),
        prefix: "shop".into(),
        segment: "members".into(),
        parent: None,
        writer: 0,
        authored: false,
        actor: true,
        crud: true,
        fields: actor_fields("Display name."),
        schema_file: "schema-01-actors".into(),
        area: "Actors".into(),
        description: "A customer account.".into(),
        naming: Naming::VerbPath,
    };
    member.fields[2].doc = "Display name.";
    let mut out = vec![member];
    for i in 1..n.max(1) {
        let word = format!("{}{}", WORDS[i % WORDS.len()], i);
        let parent = (i % 3 == 0 && out[i - 1].parent.is_none() && i > 1).then_some(i - 1);
        out.push(Entity {
            singular: word.clone(),
            prefix: "shop".into(),
            segment: format!("{word}s"),
            parent,
            writer: 0,
            authored: i % 2 == 1,
            actor: false,
            crud: true,
            fields: vec![
                Field { summary: true, ..field("title", Ty::Str(120), "Short title.") },
                field("description", Ty::Text, "Long description."),
                Field { summary: true, ..field("amount", Ty::Int, "Amount in cents.") },
                Field { nullable: true, ..field("note", Ty::Text, "Internal note.") },
                Field { create: false, summary: true, ..field("state", STATE, "Lifecycle state.") },
            ],
            schema_file: format!("schema-{:02}-area{}", 2 + i / 25, i / 25),
            area: format!("Area{}", i / 25),
            description: format!("A {word} record."),
            naming: Naming::VerbPath,
        });
    }
    out
}

/// Generated files, path → text, sorted.
pub fn generate(entities: &[Entity], title: &str) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let g = Gen { entities };
    g.common(&mut files, title);
    for (i, e) in entities.iter().enumerate() {
        g.dto(i, &mut files);
        if e.actor {
            g.actor(i, &mut files);
        }
        if e.crud {
            g.routes(i, &mut files);
            g.tests(i, &mut files);
        }
    }
    g.prisma(&mut files);
    g.sdk_barrels(&mut files);
    files
}

struct Gen<'a> {
    entities: &'a [Entity],
}

/// Relative import path from one file to another module (both root-relative, no extension).
fn rel(from_file: &str, to_module: &str) -> String {
    let from_dir: Vec<&str> = from_file.split('/').collect();
    let from_dir = &from_dir[..from_dir.len() - 1];
    let to: Vec<&str> = to_module.split('/').collect();
    let common = from_dir.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = from_dir.len() - common;
    let mut s = if ups == 0 { "./".to_string() } else { "../".repeat(ups) };
    s.push_str(&to[common..].join("/"));
    s
}

/// The five routes of an entity: (kind, HTTP verb, item route, written by the role).
const ROUTES: [(&str, &str, bool, bool); 5] =
    [("index", "PATCH", false, false), ("at", "GET", true, false), ("create", "POST", false, true), ("update", "PUT", true, true), ("erase", "DELETE", true, true)];

/// One route, as the controller, the provider and the SDK see it.
struct Route {
    kind: &'static str,
    verb: &'static str,
    /// `/bbs/member/articles/:articleId/comments/:commentId`.
    path: String,
    /// The controller's collection path and the method's own segment (`:commentId` or "").
    controller_path: String,
    method_path: String,
    /// Path parameters, outermost first: (name, owning entity).
    params: Vec<(String, usize)>,
    /// The writing role's actor entity, for role routes.
    role: Option<usize>,
    provider: String,
    body: Option<String>,
    response: Option<String>,
}

impl Route {
    /// `api.functional.bbs.member.articles.comments` (without the function name).
    fn sdk_namespace(&self) -> String {
        let segs: Vec<&str> = self.controller_path.split('/').filter(|s| !s.is_empty() && !s.starts_with(':')).collect();
        format!("api.functional.{}", segs.join("."))
    }
    fn sdk_dir(&self) -> String {
        let segs: Vec<&str> = self.controller_path.split('/').filter(|s| !s.is_empty() && !s.starts_with(':')).collect();
        format!("src/api/functional/{}", segs.join("/"))
    }
    fn controller_file(&self) -> String {
        let segs: Vec<&str> = self.controller_path.split('/').filter(|s| !s.is_empty() && !s.starts_with(':')).collect();
        format!("src/controllers/{}/{}Controller.ts", segs.join("/"), self.controller_class().trim_end_matches("Controller"))
    }
    fn controller_class(&self) -> String {
        let segs: String = self.controller_path.split('/').filter(|s| !s.is_empty() && !s.starts_with(':')).map(class_segment).collect();
        format!("{segs}Controller")
    }
}

impl<'a> Gen<'a> {
    /// The route prefix: the table prefix in camelCase (`shopping_mall` → `shoppingMall`).
    fn route_prefix(&self, e: &Entity) -> String {
        camel(&e.prefix)
    }

    /// Collection path segments below the prefix: `articles/:articleId/comments`.
    fn nested(&self, i: usize) -> Vec<String> {
        let e = &self.entities[i];
        let mut segs = match e.parent {
            Some(p) => {
                let mut s = self.nested(p);
                s.push(format!(":{}", self.entities[p].id_param()));
                s
            }
            None => Vec::new(),
        };
        segs.push(e.segment.clone());
        segs
    }

    fn parent_params(&self, i: usize) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut cur = self.entities[i].parent;
        while let Some(p) = cur {
            out.insert(0, (self.entities[p].id_param(), p));
            cur = self.entities[p].parent;
        }
        out
    }

    fn route(&self, i: usize, kind: &'static str) -> Route {
        let e = &self.entities[i];
        let (_, verb, item, by_role) = *ROUTES.iter().find(|r| r.0 == kind).unwrap();
        let role = by_role.then_some(e.writer);
        let mut base = vec![self.route_prefix(e)];
        if let Some(r) = role {
            base.push(self.entities[r].role());
        }
        base.extend(self.nested(i));
        let controller_path = format!("/{}", base.join("/"));
        let method_path = if item { format!(":{}", e.id_param()) } else { String::new() };
        let path = if item { format!("{controller_path}/{method_path}") } else { controller_path.clone() };
        let mut params = self.parent_params(i);
        if item {
            params.push((e.id_param(), i));
        }
        let provider = match e.naming {
            Naming::VerbPath => {
                let segs: String = path.split('/').filter(|s| !s.is_empty()).map(|s| pascal(s.trim_start_matches(':'))).collect();
                format!("{}{segs}", verb.to_lowercase())
            }
            Naming::Underscore => {
                let segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(|s| s.strip_prefix(':').map_or_else(|| s.to_string(), |p| format!("${p}"))).collect();
                format!("{}__{}", verb.to_lowercase(), segs.join("_"))
            }
        };
        let dto = e.dto();
        let (body, response) = match kind {
            "index" => (Some(format!("{dto}.IRequest")), Some(format!("IPage{dto}.ISummary"))),
            "at" => (None, Some(dto.clone())),
            "create" => (Some(format!("{dto}.ICreate")), Some(dto.clone())),
            "update" => (Some(format!("{dto}.IUpdate")), Some(dto.clone())),
            _ => (None, None),
        };
        Route { kind, verb, path, controller_path, method_path, params, role, provider, body, response }
    }

    fn auth_routes(&self, i: usize) -> Vec<Route> {
        let e = &self.entities[i];
        let role = e.role();
        let dto = e.dto();
        let mut out: Vec<Route> = ["join", "login"]
            .into_iter()
            .map(|kind| Route {
                kind,
                verb: "POST",
                path: format!("/auth/{role}/{kind}"),
                controller_path: format!("/auth/{role}"),
                method_path: kind.to_string(),
                params: Vec::new(),
                role: None,
                provider: format!("postAuth{}{}", pascal(&role), pascal(kind)),
                body: Some(format!("{dto}.{}", if kind == "join" { "IJoin" } else { "ILogin" })),
                response: Some(format!("{dto}.IAuthorized")),
            })
            .collect();
        // A route with neither parameters nor body: its SDK function takes `connection` only.
        out.push(Route {
            kind: "logout",
            verb: "POST",
            path: format!("/auth/{role}/logout"),
            controller_path: format!("/auth/{role}"),
            method_path: "logout".into(),
            params: Vec::new(),
            role: Some(i),
            provider: format!("postAuth{}Logout", pascal(&role)),
            body: None,
            response: None,
        });
        out
    }

    fn ts_type(&self, f: &Field) -> String {
        match f.ty {
            Ty::Str(max) => format!("string & tags.MinLength<1> & tags.MaxLength<{max}>"),
            Ty::Text => "string".into(),
            Ty::Email => "string & tags.Format<\"email\">".into(),
            Ty::Int => "number & tags.Type<\"int32\">".into(),
            Ty::Status(values) => values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(" | "),
        }
    }

    /// A property line: `name: T;`, or `name?: (T) | null | undefined;` when optional.
    #[allow(clippy::too_many_arguments)] // one call shape per DTO property; a struct would only rename them
    fn prop(&self, out: &mut String, indent: &str, name: &str, ty: &str, doc: &str, optional: bool, nullable: bool) {
        let _ = writeln!(out, "{indent}/** {doc} */");
        if optional || nullable {
            let inner = if ty.contains('&') || ty.contains('|') { format!("({ty})") } else { ty.to_string() };
            let _ = writeln!(out, "{indent}{name}?: {inner}{} | undefined;", if nullable { " | null" } else { "" });
        } else {
            let _ = writeln!(out, "{indent}{name}: {ty};");
        }
        out.push('\n');
    }

    fn sample(&self, f: &Field) -> String {
        match f.ty {
            Ty::Str(_) => "RandomGenerator.paragraph({ sentences: 2 })".into(),
            Ty::Text => "RandomGenerator.content({ paragraphs: 2 })".into(),
            Ty::Email => "typia.random<string & tags.Format<\"email\">>()".into(),
            Ty::Int => "typia.random<number & tags.Type<\"int32\">>()".into(),
            Ty::Status(values) => format!("\"{}\"", values[0]),
        }
    }

    /// FK columns of a model: (column, referenced entity).
    fn fks(&self, i: usize) -> Vec<(String, usize)> {
        let e = &self.entities[i];
        let mut out = Vec::new();
        if let Some(p) = e.parent {
            out.push((self.entities[p].fk(), p));
        }
        if e.authored {
            out.push((self.entities[e.writer].fk(), e.writer));
        }
        out
    }

    fn common(&self, files: &mut BTreeMap<String, String>, title: &str) {
        let paths = [
            ("@nestjs/common", "nestjs-common.d.ts"),
            ("@nestia/core", "nestia-core.d.ts"),
            ("@nestia/fetcher", "nestia-fetcher.d.ts"),
            ("@nestia/fetcher/lib/PlainFetcher", "nestia-fetcher-plain.d.ts"),
            ("@nestia/fetcher/lib/NestiaSimulator", "nestia-fetcher-simulator.d.ts"),
            ("@nestia/e2e", "nestia-e2e.d.ts"),
            ("@prisma/client", "prisma-client.d.ts"),
            ("typia", "typia.d.ts"),
            ("uuid", "uuid.d.ts"),
            ("jsonwebtoken", "jsonwebtoken.d.ts"),
            ("tstl", "tstl.d.ts"),
        ];
        let map = paths.iter().map(|(m, f)| format!("      \"{m}\": [\"./stubs/{f}\"],")).collect::<Vec<_>>().join("\n");
        files.insert(
            "package.json".into(),
            format!("{{\n  \"private\": true,\n  \"name\": \"@ORGANIZATION/PROJECT\",\n  \"version\": \"0.1.0\",\n  \"description\": \"{title}: AutoBE-shaped backend generated by maintaind-bench (fixture, not a real service)\"\n}}\n"),
        );
        // nestia's SDK package, as in every real backend: built from src/api into lib/.
        files.insert(
            "packages/api/package.json".into(),
            "{\n  \"name\": \"@ORGANIZATION/PROJECT-api\",\n  \"version\": \"0.1.0\",\n  \"description\": \"SDK library generated by Nestia\",\n  \"main\": \"lib/index.js\",\n  \"typings\": \"lib/index.d.ts\",\n  \"files\": [\"lib\", \"package.json\", \"README.md\"]\n}\n".into(),
        );
        files.insert(
            "tsconfig.json".into(),
            format!(
                "{{\n  // The application project. As in AutoBE output, `@ORGANIZATION/PROJECT-api` maps to src/api;\n  // framework packages resolve to local stubs (the one thing real output does not have).\n  \"compilerOptions\": {{\n    \"target\": \"ES2022\",\n    \"module\": \"commonjs\",\n    \"moduleResolution\": \"node\",\n    \"lib\": [\"ES2022\", \"DOM\"],\n    \"types\": [],\n    \"strict\": true,\n    \"noEmit\": true,\n    \"esModuleInterop\": true,\n    \"experimentalDecorators\": true,\n    \"emitDecoratorMetadata\": true,\n    \"paths\": {{\n      \"@ORGANIZATION/PROJECT-api/lib/*\": [\"./src/api/*\"],\n      \"@ORGANIZATION/PROJECT-api\": [\"./src/api\"],\n{map}\n    }},\n  }},\n  \"include\": [\"src\", \"stubs\"],\n}}\n"
            ),
        );
        files.insert(
            "test/tsconfig.json".into(),
            "{\n  \"extends\": \"../tsconfig.json\",\n  \"compilerOptions\": {\n    \"noUnusedLocals\": false,\n    \"noUnusedParameters\": false,\n  },\n  \"include\": [\".\", \"../src\", \"../stubs\"]\n}\n".into(),
        );
        for (name, text) in STUBS {
            files.insert(format!("stubs/{name}"), text.to_string());
        }
        files.insert("src/MyGlobal.ts".into(), MY_GLOBAL.into());
        files.insert("src/utils/toISOStringSafe.ts".into(), TO_ISO.into());
        files.insert("src/utils/PasswordUtil.ts".into(), PASSWORD_UTIL.into());
        files.insert("src/api/IConnection.ts".into(), "export type { IConnection } from \"@nestia/fetcher\";\n".into());
        // `export type * from` is valid TypeScript 5 that tree-sitter-typescript 0.23.2 cannot
        // parse; every real backend's module.ts has it, so the fixture does too.
        files.insert("src/api/module.ts".into(), "export type * from \"./IConnection\";\n\nexport * as functional from \"./functional\";\n".into());
        files.insert("src/api/index.ts".into(), "import * as api from \"./module\";\n\nexport * from \"./module\";\nexport default api;\n".into());
        files.insert("src/api/structures/IPage.ts".into(), IPAGE.into());
        files.insert("src/api/structures/IAuthorizationToken.ts".into(), IAUTHORIZATION_TOKEN.into());
        files.insert("src/providers/authorize/jwtAuthorize.ts".into(), JWT_AUTHORIZE.into());
    }

    fn dto(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let table = e.table();
        let human = e.human();
        let a_human = with_article(&human);
        let mut s = String::from("import { tags } from \"typia\";\n\n");
        if e.actor {
            s.push_str("import { IAuthorizationToken } from \"./IAuthorizationToken\";\n\n");
        }
        let _ = writeln!(
            s,
            "/**\n * {} Records live in {table}.\n *\n * Every property mirrors a column of the table except those the API never\n * exposes; timestamps are ISO 8601 strings.\n *\n * @autobe Generated by AutoBE - https://github.com/wrtnlabs/autobe\n */\nexport type {dto} = {{",
            e.description
        );
        self.prop(&mut s, "  ", "id", "string & tags.Format<\"uuid\">", "Primary Key.", false, false);
        for (fk, target) in self.fks(i) {
            let t = &self.entities[target];
            self.prop(&mut s, "  ", &fk, "string & tags.Format<\"uuid\">", &format!("The {}'s {{@link {}.id}}.", t.human(), t.table()), false, false);
        }
        for f in e.exposed() {
            self.prop(&mut s, "  ", f.name, &self.ts_type(f), f.doc, false, f.nullable);
        }
        self.prop(&mut s, "  ", "created_at", "string & tags.Format<\"date-time\">", "Creation time of the record.", false, false);
        self.prop(&mut s, "  ", "updated_at", "string & tags.Format<\"date-time\">", "Last update time of the record.", false, false);
        self.prop(&mut s, "  ", "deleted_at", "string & tags.Format<\"date-time\">", "Deletion time (soft delete); null while the record is active.", false, true);
        trim_blank(&mut s);
        s.push_str("};\n");
        let _ = writeln!(s, "export namespace {dto} {{");
        if e.actor {
            let _ = writeln!(
                s,
                "  /**\n   * Join request of {a_human}: the {table} row to create, with the password\n   * in plain text (the server stores only its hash).\n   */\n  export type IJoin = {{"
            );
            for f in e.exposed().filter(|f| f.create) {
                self.prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, false, f.nullable);
            }
            self.prop(&mut s, "    ", "password", "string & tags.MinLength<8>", "Password in plain text, at least 8 characters.", false, false);
            trim_blank(&mut s);
            s.push_str("  };\n\n");
            let _ = writeln!(s, "  /** Login request of {a_human}. */\n  export type ILogin = {{");
            self.prop(&mut s, "    ", "email", "string & tags.Format<\"email\">", "Login e-mail address.", false, false);
            self.prop(&mut s, "    ", "password", "string", "Password in plain text.", false, false);
            trim_blank(&mut s);
            s.push_str("  };\n\n");
            let _ = writeln!(s, "  /** {} who joined or logged in, with the tokens to use. */\n  export type IAuthorized = {{", capitalized(&a_human));
            self.prop(&mut s, "    ", "id", "string & tags.Format<\"uuid\">", &format!("The {human}'s {{@link {table}.id}}."), false, false);
            self.prop(&mut s, "    ", "token", "IAuthorizationToken", "Access and refresh tokens.", false, false);
            trim_blank(&mut s);
            s.push_str("  };\n\n");
        }
        if e.crud {
            let _ = writeln!(s, "  /**\n   * Create DTO for {a_human}. System-managed columns (id, author, timestamps)\n   * are set by the server.\n   */\n  export type ICreate = {{");
            for f in e.exposed().filter(|f| f.create) {
                self.prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, f.nullable, f.nullable);
            }
            trim_blank(&mut s);
            s.push_str("  };\n\n");
            let _ = writeln!(s, "  /** Update DTO for {a_human}; absent properties stay as they are. */\n  export type IUpdate = {{");
            for f in e.exposed().filter(|f| f.update) {
                self.prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, true, f.nullable);
            }
            trim_blank(&mut s);
            s.push_str("  };\n\n");
        }
        let _ = writeln!(s, "  /** {} as listed. */\n  export type ISummary = {{", capitalized(&a_human));
        self.prop(&mut s, "    ", "id", "string & tags.Format<\"uuid\">", "Primary Key.", false, false);
        for f in e.exposed().filter(|f| f.summary) {
            self.prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, false, f.nullable);
        }
        self.prop(&mut s, "    ", "created_at", "string & tags.Format<\"date-time\">", "Creation time of the record.", false, false);
        trim_blank(&mut s);
        s.push_str("  };\n");
        if e.crud {
            s.push_str("\n  /** Search and pagination of the list. */\n  export type IRequest = {\n");
            self.prop(&mut s, "    ", "page", "number & tags.Type<\"int32\"> & tags.Minimum<1>", "Page number, from 1.", true, false);
            self.prop(&mut s, "    ", "limit", "number & tags.Type<\"int32\"> & tags.Minimum<1> & tags.Maximum<100>", "Records per page.", true, false);
            if let Some(f) = e.searchable() {
                self.prop(&mut s, "    ", "search", "string", &format!("Only records whose {} contains this text.", f.name), true, true);
            }
            trim_blank(&mut s);
            s.push_str("  };\n");
        }
        s.push_str("}\n");
        files.insert(format!("src/api/structures/{dto}.ts"), s);

        if e.crud {
            let page = format!("IPage{dto}");
            files.insert(
                format!("src/api/structures/{page}.ts"),
                format!(
                    "import {{ IPage }} from \"./IPage\";\nimport {{ {dto} }} from \"./{dto}\";\n\nexport namespace {page} {{\n  /**\n   * A page.\n   *\n   * Collection of records with pagination information.\n   */\n  export type ISummary = {{\n    /** Page information. */\n    pagination: IPage.IPagination;\n\n    /** List of records. */\n    data: {dto}.ISummary[];\n  }};\n}}\n"
                ),
            );
        }
    }

    /// Payload, authorizer, decorator, and the join/login/logout routes of an actor.
    fn actor(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let role = e.role();
        let a_role = with_article(&role);
        let class = pascal(&role);
        let table = e.table();
        files.insert(
            format!("src/decorators/payload/{class}Payload.ts"),
            format!("import {{ tags }} from \"typia\";\n\n/** JWT payload of an authenticated {role}. */\nexport interface {class}Payload {{\n  /** The {role}'s {{@link {table}.id}}. */\n  id: string & tags.Format<\"uuid\">;\n\n  /** Discriminator for the role. */\n  type: \"{role}\";\n}}\n"),
        );
        files.insert(
            format!("src/providers/authorize/{role}Authorize.ts"),
            format!(
                "import {{ ForbiddenException }} from \"@nestjs/common\";\n\nimport {{ MyGlobal }} from \"../../MyGlobal\";\nimport {{ jwtAuthorize }} from \"./jwtAuthorize\";\nimport {{ {class}Payload }} from \"../../decorators/payload/{class}Payload\";\n\n/**\n * Authenticates {a_role} ({table}): a valid JWT of type \"{role}\" whose\n * {role} still exists.\n */\nexport async function {role}Authorize(request: {{\n  headers: {{\n    authorization?: string;\n  }};\n}}): Promise<{class}Payload> {{\n  const payload: {class}Payload = jwtAuthorize({{ request }}) as {class}Payload;\n\n  if (payload.type !== \"{role}\") {{\n    throw new ForbiddenException(`You're not ${{payload.type}}`);\n  }}\n\n  const {role} = await MyGlobal.prisma.{table}.findFirst({{\n    where: {{\n      id: payload.id,\n      deleted_at: null,\n    }},\n  }});\n  if ({role} === null) {{\n    throw new ForbiddenException(\"You're not enrolled\");\n  }}\n\n  return payload;\n}}\n"
            ),
        );
        files.insert(
            format!("src/decorators/{class}Auth.ts"),
            format!(
                "import {{ SwaggerCustomizer }} from \"@nestia/core\";\nimport {{ ExecutionContext, createParamDecorator }} from \"@nestjs/common\";\nimport {{ Singleton }} from \"tstl\";\n\nimport {{ {role}Authorize }} from \"../providers/authorize/{role}Authorize\";\n\n/** Parameter decorator: the authenticated {role} of the request. */\nexport const {class}Auth =\n  (): ParameterDecorator =>\n  (\n    target: object,\n    propertyKey: string | symbol | undefined,\n    parameterIndex: number,\n  ): void => {{\n    SwaggerCustomizer((props) => {{\n      props.route.security ??= [];\n      props.route.security.push({{\n        bearer: [],\n      }});\n    }})(target, propertyKey as string, undefined!);\n    singleton.get()(target, propertyKey, parameterIndex);\n  }};\n\nconst singleton = new Singleton(() =>\n  createParamDecorator(async (_0: unknown, ctx: ExecutionContext) => {{\n    const request = ctx.switchToHttp().getRequest();\n    return {role}Authorize(request);\n  }})(),\n);\n"
            ),
        );
        let routes = self.auth_routes(i);
        for r in &routes {
            self.provider(i, r, files);
        }
        self.controller(&routes, files);
        self.sdk(&routes, files);
    }

    fn routes(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let routes: Vec<Route> = ROUTES.iter().map(|r| self.route(i, r.0)).collect();
        for r in &routes {
            self.provider(i, r, files);
        }
        // One controller (and one SDK file) per collection path: public reads, role writes.
        let mut groups: BTreeMap<String, Vec<Route>> = BTreeMap::new();
        for r in routes {
            groups.entry(r.controller_path.clone()).or_default().push(r);
        }
        for group in groups.values() {
            self.controller(group, files);
            self.sdk(group, files);
        }
    }

    /// The imports a provider needs, from its body's text.
    fn provider_imports(&self, path: &str, body: &str, dto: &str) -> String {
        let up = |m: &str| rel(path, m);
        let mut lines = Vec::new();
        if body.contains("HttpException") {
            lines.push("import { HttpException } from \"@nestjs/common\";".to_string());
        }
        if body.contains("Prisma.") {
            lines.push("import { Prisma } from \"@prisma/client\";".into());
        }
        if body.contains("jwt.") {
            lines.push("import jwt from \"jsonwebtoken\";".into());
        }
        if body.contains("tags.") {
            lines.push("import { tags } from \"typia\";".into());
        }
        if body.contains("v4()") {
            lines.push("import { v4 } from \"uuid\";".into());
        }
        lines.push(format!("import {{ MyGlobal }} from \"{}\";", up("src/MyGlobal")));
        if body.contains("PasswordUtil") {
            lines.push(format!("import {{ PasswordUtil }} from \"{}\";", up("src/utils/PasswordUtil")));
        }
        if body.contains("toISOStringSafe") {
            lines.push(format!("import {{ toISOStringSafe }} from \"{}\";", up("src/utils/toISOStringSafe")));
        }
        lines.push(String::new());
        lines.push(format!("import {{ {dto} }} from \"@ORGANIZATION/PROJECT-api/lib/structures/{dto}\";"));
        if body.contains("IAuthorizationToken") {
            lines.push("import { IAuthorizationToken } from \"@ORGANIZATION/PROJECT-api/lib/structures/IAuthorizationToken\";".into());
        }
        if body.contains(&format!("IPage{dto}")) {
            lines.push(format!("import {{ IPage{dto} }} from \"@ORGANIZATION/PROJECT-api/lib/structures/IPage{dto}\";"));
        }
        for a in self.entities.iter().filter(|a| a.actor) {
            let class = pascal(&a.role());
            if body.contains(&format!("{class}Payload")) {
                lines.push(format!("import {{ {class}Payload }} from \"{}\";", up(&format!("src/decorators/payload/{class}Payload"))));
            }
        }
        lines.join("\n")
    }

    /// `{ id: row.id, …, created_at: toISOStringSafe(row.created_at), … }` for the DTO.
    fn mapping(&self, i: usize, row: &str, indent: &str, summary: bool) -> String {
        let e = &self.entities[i];
        let mut s = format!("{indent}id: {row}.id,\n");
        if !summary {
            for (fk, _) in self.fks(i) {
                let _ = writeln!(s, "{indent}{fk}: {row}.{fk},");
            }
        }
        for f in e.exposed().filter(|f| !summary || f.summary) {
            if f.nullable {
                let _ = writeln!(s, "{indent}{}: {row}.{} ?? null,", f.name, f.name);
            } else if let Ty::Status(values) = f.ty {
                let _ = writeln!(s, "{indent}{}: {row}.{} as {},", f.name, f.name, values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(" | "));
            } else {
                let _ = writeln!(s, "{indent}{}: {row}.{},", f.name, f.name);
            }
        }
        let _ = writeln!(s, "{indent}created_at: toISOStringSafe({row}.created_at),");
        if !summary {
            let _ = writeln!(s, "{indent}updated_at: toISOStringSafe({row}.updated_at),");
            let _ = writeln!(s, "{indent}deleted_at: {row}.deleted_at ? toISOStringSafe({row}.deleted_at) : null,");
        }
        s
    }

    fn provider(&self, i: usize, r: &Route, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let (dto, table) = (e.dto(), e.table());
        let human = e.human();
        let a_human = with_article(&human);
        let path = format!("src/providers/{}.ts", r.provider);
        let mut props = String::new();
        if let Some(role) = r.role {
            let a = &self.entities[role];
            let _ = writeln!(props, "  {}: {}Payload;", a.role(), pascal(&a.role()));
        }
        for (p, _) in &r.params {
            let _ = writeln!(props, "  {p}: string & tags.Format<\"uuid\">;");
        }
        if let Some(b) = &r.body {
            let _ = writeln!(props, "  body: {b};");
        }
        let own = e.id_param();
        let parent_where: String = self.parent_params(i).last().map(|(p, owner)| format!("      {}: props.{p},\n", self.entities[*owner].fk())).unwrap_or_default();
        let actor_var = r.role.map(|a| self.entities[a].role()).unwrap_or_default();
        let find_own = |var: &str| {
            let mut s = format!(
                "  const {var} = await MyGlobal.prisma.{table}.findFirst({{\n    where: {{\n      id: props.{own},\n{parent_where}      deleted_at: null,\n    }},\n  }});\n  if ({var} === null) {{\n    throw new HttpException(\"{} not found\", 404);\n  }}\n",
                pascal(&human)
            );
            if e.authored {
                let fk = self.entities[e.writer].fk();
                let _ = write!(s, "  if ({var}.{fk} !== props.{actor_var}.id) {{\n    throw new HttpException(\"You can only change your own {human}\", 403);\n  }}\n");
            }
            s
        };
        let body = match r.kind {
            "index" => {
                let search = e
                    .searchable()
                    .map(|f| format!("    ...(props.body.search !== undefined &&\n      props.body.search !== null && {{\n        {}: {{ contains: props.body.search }},\n      }}),\n", f.name))
                    .unwrap_or_default();
                format!(
                    "  const page = props.body.page ?? 1;\n  const limit = props.body.limit ?? 100;\n  const skip = (page - 1) * limit;\n  const where = {{\n{}    deleted_at: null,\n{search}  }};\n  const [rows, total] = await Promise.all([\n    MyGlobal.prisma.{table}.findMany({{\n      where,\n      orderBy: {{ created_at: \"desc\" }},\n      skip,\n      take: limit,\n    }}),\n    MyGlobal.prisma.{table}.count({{ where }}),\n  ]);\n  return {{\n    pagination: {{\n      current: Number(page),\n      limit: Number(limit),\n      records: total,\n      pages: Math.ceil(total / limit),\n    }},\n    data: rows.map((row) => ({{\n{}    }})),\n  }};\n",
                    parent_where.replace("      ", "    "),
                    self.mapping(i, "row", "      ", true)
                )
            }
            "at" => format!(
                "  const {var} = await MyGlobal.prisma.{table}.findFirst({{\n    where: {{\n      id: props.{own},\n{parent_where}      deleted_at: null,\n    }},\n  }});\n  if ({var} === null) {{\n    throw new HttpException(\"{} not found\", 404);\n  }}\n  return {{\n{}  }};\n",
                pascal(&human),
                self.mapping(i, &camel(&e.singular), "    ", false),
                var = camel(&e.singular),
            ),
            "create" => {
                let mut data = String::from("      id: v4(),\n");
                for (col, owner) in self.fks(i) {
                    if Some(owner) == r.role {
                        let _ = writeln!(data, "      {col}: props.{actor_var}.id,");
                    } else {
                        let _ = writeln!(data, "      {col}: props.{},", self.entities[owner].id_param());
                    }
                }
                for f in &e.fields {
                    let value = match (f.create, f.nullable, f.ty) {
                        _ if f.hidden => "await PasswordUtil.hash(v4())".to_string(),
                        (true, true, _) => format!("props.body.{} ?? null", f.name),
                        (true, false, _) => format!("props.body.{}", f.name),
                        (false, _, Ty::Status(values)) => format!("\"{}\"", values[0]),
                        (false, true, _) => "null".into(),
                        (false, false, Ty::Int) => "0".into(),
                        (false, false, _) => "\"\"".into(),
                    };
                    let _ = writeln!(data, "      {}: {value},", f.name);
                }
                data.push_str("      created_at: now,\n      updated_at: now,\n");
                format!(
                    "  const now = toISOStringSafe(new Date());\n  const created = await MyGlobal.prisma.{table}.create({{\n    data: {{\n{data}    }},\n  }});\n  return {{\n{}  }};\n",
                    self.mapping(i, "created", "    ", false)
                )
            }
            "update" => {
                let var = camel(&format!("existing_{}", e.singular));
                let mut s = find_own(&var);
                if e.authored && e.parent.is_none() {
                    // Built step by step, typed with the generated input (as real providers do).
                    let _ = writeln!(s, "  const data: Prisma.{table}UncheckedUpdateInput = {{\n    updated_at: toISOStringSafe(new Date()),\n  }};");
                    for f in e.exposed().filter(|f| f.update) {
                        let _ = writeln!(s, "  if (props.body.{n} !== undefined) data.{n} = props.body.{n};", n = f.name);
                    }
                    let _ = write!(s, "  const updated = await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{own} }},\n    data,\n  }});\n");
                } else {
                    let mut data = String::new();
                    for f in e.exposed().filter(|f| f.update) {
                        let _ = writeln!(data, "      {n}: props.body.{n} ?? undefined,", n = f.name);
                    }
                    let _ = write!(
                        s,
                        "  const updated = await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{own} }},\n    data: {{\n{data}      updated_at: toISOStringSafe(new Date()),\n    }},\n  }});\n"
                    );
                }
                let _ = write!(s, "  return {{\n{}  }};\n", self.mapping(i, "updated", "    ", false));
                s
            }
            "erase" => {
                let var = camel(&format!("existing_{}", e.singular));
                let mut s = find_own(&var);
                let children: Vec<&Entity> = self.entities.iter().filter(|c| c.parent == Some(i) && c.crud).collect();
                if children.is_empty() {
                    let _ = write!(s, "  await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{own} }},\n    data: {{ deleted_at: toISOStringSafe(new Date()) }},\n  }});\n");
                } else {
                    // Children go with their parent, in one transaction.
                    let _ = write!(s, "  const now = toISOStringSafe(new Date());\n  await MyGlobal.prisma.$transaction(async (tx) => {{\n");
                    for c in children {
                        let _ = write!(s, "    await tx.{}.updateMany({{\n      where: {{ {}: props.{own}, deleted_at: null }},\n      data: {{ deleted_at: now }},\n    }});\n", c.table(), e.fk());
                    }
                    let _ = write!(s, "    await tx.{table}.update({{\n      where: {{ id: props.{own} }},\n      data: {{ deleted_at: now }},\n    }});\n  }});\n");
                }
                s
            }
            "join" => {
                let mut data = String::from("      id: v4(),\n");
                for f in &e.fields {
                    let value = match (f.name, f.nullable) {
                        ("password_hash", _) => "await PasswordUtil.hash(props.body.password)".to_string(),
                        (n, true) => format!("props.body.{n} ?? null"),
                        (n, false) => format!("props.body.{n}"),
                    };
                    let _ = writeln!(data, "      {}: {value},", f.name);
                }
                data.push_str("      created_at: now,\n      updated_at: now,\n");
                format!(
                    "  const duplicate = await MyGlobal.prisma.{table}.findFirst({{\n    where: {{ email: props.body.email }},\n  }});\n  if (duplicate !== null) {{\n    throw new HttpException(\"Email already registered\", 409);\n  }}\n  const now = toISOStringSafe(new Date());\n  const created = await MyGlobal.prisma.{table}.create({{\n    data: {{\n{data}    }},\n  }});\n  return {{\n    id: created.id,\n    token: issue(created.id),\n  }};\n}}\n\n{}",
                    issue_fn(&e.role())
                )
            }
            "login" => format!(
                "  const {role} = await MyGlobal.prisma.{table}.findFirst({{\n    where: {{ email: props.body.email, deleted_at: null }},\n  }});\n  if ({role} === null) {{\n    throw new HttpException(\"Invalid credentials\", 401);\n  }}\n  const valid = await PasswordUtil.verify(props.body.password, {role}.password_hash);\n  if (!valid) {{\n    throw new HttpException(\"Invalid credentials\", 401);\n  }}\n  return {{\n    id: {role}.id,\n    token: issue({role}.id),\n  }};\n}}\n\n{}",
                issue_fn(&e.role()),
                role = e.role()
            ),
            _ => format!("  await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{role}.id }},\n    data: {{ updated_at: toISOStringSafe(new Date()) }},\n  }});\n", role = e.role()),
        };
        let ret = match &r.response {
            Some(t) => t.clone(),
            None => "void".into(),
        };
        let doc = match r.kind {
            "index" => format!("List {table}, newest first, optionally filtered by text."),
            "at" => format!("Read one {human} from {table}; a soft-deleted one is not found."),
            "create" => format!("Create {a_human}: inserts one row into {table}."),
            "update" => format!("Update {a_human} in {table}{}.", if e.authored { " written by the caller" } else { "" }),
            "erase" => format!("Delete {a_human} (soft delete: sets {table}.deleted_at)."),
            "join" => format!("Register a new {human} in {table} and issue its tokens."),
            "login" => format!("Authenticate {a_human} from {table} and issue its tokens."),
            _ => format!("Log {a_human} out (touches {table}.updated_at)."),
        };
        let imports = self.provider_imports(&path, &format!("{props}{body}{ret}"), &dto);
        // join/login close the function themselves (they append a token helper).
        let close = if matches!(r.kind, "join" | "login") { "" } else { "}\n" };
        files.insert(path, format!("{imports}\n\n/**\n * {doc}\n */\nexport async function {}(props: {{\n{props}}}): Promise<{ret}> {{\n{body}{close}", r.provider));
    }

    fn controller(&self, routes: &[Route], files: &mut BTreeMap<String, String>) {
        let first = &routes[0];
        let path = first.controller_file();
        let up = |m: &str| rel(&path, m);
        let mut imports = vec!["import { Controller } from \"@nestjs/common\";".to_string()];
        let mut core = vec!["TypedRoute"];
        if routes.iter().any(|r| r.body.is_some()) {
            core.push("TypedBody");
        }
        if routes.iter().any(|r| !r.params.is_empty()) {
            core.push("TypedParam");
        }
        imports.push(format!("import {{ {} }} from \"@nestia/core\";", core.join(", ")));
        if routes.iter().any(|r| !r.params.is_empty()) {
            imports.push("import typia, { tags } from \"typia\";".into());
        }
        for r in routes {
            imports.push(format!("import {{ {} }} from \"{}\";", r.provider, up(&format!("src/providers/{}", r.provider))));
        }
        let mut roles: Vec<usize> = routes.iter().filter_map(|r| r.role).collect();
        roles.dedup();
        for a in roles {
            let class = pascal(&self.entities[a].role());
            imports.push(format!("import {{ {class}Auth }} from \"{}\";", up(&format!("src/decorators/{class}Auth"))));
            imports.push(format!("import {{ {class}Payload }} from \"{}\";", up(&format!("src/decorators/payload/{class}Payload"))));
        }
        let types = dto_roots(routes);
        imports.push(String::new());
        for t in &types {
            imports.push(format!("import {{ {t} }} from \"{}\";", up(&format!("src/api/structures/{t}"))));
        }
        let mut methods = String::new();
        for r in routes {
            let mut params: Vec<String> = Vec::new();
            let mut args: Vec<String> = Vec::new();
            if let Some(a) = r.role {
                let role = self.entities[a].role();
                params.push(format!("@{}Auth()\n    {role}: {}Payload", pascal(&role), pascal(&role)));
                args.push(role);
            }
            for (p, _) in &r.params {
                params.push(format!("@TypedParam(\"{p}\")\n    {p}: string & tags.Format<\"uuid\">"));
                args.push(p.clone());
            }
            if let Some(b) = &r.body {
                params.push(format!("@TypedBody()\n    body: {b}"));
                args.push("body".into());
            }
            let ret = r.response.clone().unwrap_or_else(|| "void".into());
            let route_arg = if r.method_path.is_empty() { String::new() } else { format!("\"{}\"", r.method_path) };
            let call = if args.is_empty() { format!("{}({{}})", r.provider) } else { format!("{}({{\n        {},\n      }})", r.provider, args.join(",\n        ")) };
            let params = if params.is_empty() { String::new() } else { format!("\n    {},\n  ", params.join(",\n    ")) };
            let _ = write!(
                methods,
                "\n  /**\n   * {} {}.\n   *\n   * @nestia Generated by Nestia - https://github.com/samchon/nestia\n   */\n  @TypedRoute.{}({route_arg})\n  public async {}({params}): Promise<{ret}> {{\n    try {{\n      return await {call};\n    }} catch (error) {{\n      console.log(error);\n      throw error;\n    }}\n  }}\n",
                r.verb,
                r.path,
                pascal(&r.verb.to_lowercase()),
                r.kind
            );
        }
        files.insert(path, format!("{}\n\n@Controller(\"{}\")\nexport class {} {{{methods}}}\n", imports.join("\n"), first.controller_path, first.controller_class()));
    }

    fn sdk(&self, routes: &[Route], files: &mut BTreeMap<String, String>) {
        let first = &routes[0];
        let dir = first.sdk_dir();
        let path = format!("{dir}/index.ts");
        let types = dto_roots(routes);
        let mut s = String::from(
            "import { IConnection, HttpError } from \"@nestia/fetcher\";\nimport { PlainFetcher } from \"@nestia/fetcher/lib/PlainFetcher\";\nimport typia, { tags } from \"typia\";\nimport { NestiaSimulator } from \"@nestia/fetcher/lib/NestiaSimulator\";\n\n",
        );
        for t in &types {
            let _ = writeln!(s, "import {{ {t} }} from \"{}\";", rel(&path, &format!("src/api/structures/{t}")));
        }
        // Sub-resources below this collection are re-exported here (`export * as comments`).
        let children: Vec<String> = self.sdk_children(&dir);
        for c in &children {
            let _ = writeln!(s, "export * as {c} from \"./{c}/index\";");
        }
        for r in routes {
            let name = r.kind;
            let has_props = !r.params.is_empty() || r.body.is_some();
            let accessor = format!("{}.{name}", r.sdk_namespace());
            let mut doc = format!("/**\n * {} {}.\n *\n * Calls the {} route of the backend.\n *\n", r.verb, r.path, r.provider);
            if has_props {
                doc.push_str(" * @param props.connection\n");
                for (p, owner) in &r.params {
                    let _ = writeln!(doc, " * @param props.{p} Target {}'s {{@link {}.id}}", self.entities[*owner].human(), self.entities[*owner].table());
                }
                if r.body.is_some() {
                    doc.push_str(" * @param props.body Request body\n");
                }
            } else {
                doc.push_str(" * @param connection\n");
            }
            let _ = write!(doc, " * @path {}\n * @accessor {accessor}\n * @autobe Generated by AutoBE - https://github.com/wrtnlabs/autobe\n */\n", r.path);
            let ret = if r.response.is_some() { format!("{name}.Response") } else { "void".into() };
            let path_args = if r.params.is_empty() { String::new() } else { "props".into() };
            let fetch_body = if r.body.is_some() { "\n          props.body," } else { "" };
            let fetch = |indent: &str| {
                format!(
                    "{indent}await PlainFetcher.fetch(\n{indent}    {{\n{indent}      ...connection,\n{indent}      headers: {{\n{indent}        ...connection.headers,\n{indent}        \"Content-Type\": \"application/json\",\n{indent}      }},\n{indent}    }},\n{indent}    {{\n{indent}      ...{name}.METADATA,\n{indent}      path: {name}.path({path_args}),\n{indent}      status: null,\n{indent}    }},{}\n{indent}  )",
                    fetch_body.replace("\n          ", &format!("\n{indent}    "))
                )
            };
            let signature = if has_props { format!("(\n  connection: IConnection,\n  props: {name}.Props,\n)") } else { "(\n  connection: IConnection,\n)".to_string() };
            let simulate_args = if has_props { "connection, props" } else { "connection" };
            let fn_body = if matches!(name, "join" | "login") {
                format!(
                    "  const output: {name}.Response =\n    true === connection.simulate\n      ? {name}.simulate({simulate_args})\n      : {};\n  connection.headers ??= {{}};\n  connection.headers.Authorization = output.token.access;\n  return output;\n",
                    fetch("        ").trim_start()
                )
            } else {
                format!("  return true === connection.simulate\n    ? {name}.simulate({simulate_args})\n    : {};\n", fetch("      ").trim_start())
            };
            let _ = write!(s, "\n{doc}export async function {name}{signature}: Promise<{ret}> {{\n{fn_body}}}\nexport namespace {name} {{\n");
            if has_props {
                s.push_str("  export type Props = {\n");
                for (p, owner) in &r.params {
                    let _ = writeln!(s, "    /** Target {}'s {{@link {}.id}} */\n    {p}: string & tags.Format<\"uuid\">;\n", self.entities[*owner].human(), self.entities[*owner].table());
                }
                if let Some(b) = &r.body {
                    let _ = writeln!(s, "    /** Request body */\n    body: {b};");
                } else {
                    trim_blank(&mut s);
                }
                s.push_str("  };\n");
            }
            if let Some(b) = &r.body {
                let _ = writeln!(s, "  export type Body = {b};");
            }
            if let Some(t) = &r.response {
                let _ = writeln!(s, "  export type Response = {t};");
            }
            let request = if r.body.is_some() { "{\n      type: \"application/json\",\n      encrypted: false,\n    }" } else { "null" };
            let _ = write!(
                s,
                "\n  export const METADATA = {{\n    method: \"{}\",\n    path: \"{}\",\n    request: {request},\n    response: {{\n      type: \"application/json\",\n      encrypted: false,\n    }},\n  }} as const;\n\n",
                r.verb, r.path
            );
            let mut url = String::new();
            for seg in r.path.split('/').filter(|s| !s.is_empty()) {
                match seg.strip_prefix(':') {
                    Some(p) => {
                        let _ = write!(url, "/${{encodeURIComponent(props.{p} ?? \"null\")}}");
                    }
                    None => {
                        let _ = write!(url, "/{seg}");
                    }
                }
            }
            if r.params.is_empty() {
                let _ = writeln!(s, "  export const path = () => \"{}\";", r.path);
            } else {
                let props_ty = if r.body.is_some() { "Omit<Props, \"body\">" } else { "Props" };
                let _ = writeln!(s, "  export const path = (props: {props_ty}) =>\n    `{url}`;");
            }
            let (rt, random) = match &r.response {
                Some(t) => (t.clone(), format!("typia.random<{t}>()")),
                None => ("void".into(), "typia.random<void>()".into()),
            };
            let _ = writeln!(s, "  export const random = (): {rt} => {random};");
            let sim_params = if has_props { format!("\n    connection: IConnection,\n    props: {name}.Props,\n  ") } else { "\n    connection: IConnection,\n  ".into() };
            let sim_ret = if r.response.is_some() { "Response" } else { "void" };
            let mut asserts = String::new();
            for (p, _) in &r.params {
                let _ = writeln!(asserts, "      assert.param(\"{p}\")(() => typia.assert(props.{p}));");
            }
            if r.body.is_some() {
                asserts.push_str("      assert.body(() => typia.assert(props.body));\n");
            }
            let _ = write!(
                s,
                "  export const simulate = ({sim_params}): {sim_ret} => {{\n    const assert = NestiaSimulator.assert({{\n      method: METADATA.method,\n      host: connection.host,\n      path: {name}.path({path_args}),\n      contentType: \"application/json\",\n    }});\n    try {{\n{asserts}    }} catch (exp) {{\n      if (!typia.is<HttpError>(exp)) throw exp;\n      return {{\n        success: false,\n        status: exp.status,\n        headers: exp.headers,\n        data: exp.toJSON().message,\n      }} as any;\n    }}\n    return random();\n  }};\n}}\n"
            );
        }
        files.insert(path, s);
    }

    /// Route segments directly below an SDK directory that have SDK files of their own.
    fn sdk_children(&self, dir: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in self.entities.iter().enumerate() {
            if !e.crud {
                continue;
            }
            for (kind, ..) in ROUTES {
                let r = self.route(i, kind);
                if let Some(rest) = r.sdk_dir().strip_prefix(&format!("{dir}/"))
                    && !rest.contains('/')
                    && !out.contains(&rest.to_string())
                {
                    out.push(rest.to_string());
                }
            }
        }
        out
    }

    /// Barrels for SDK directories that hold no routes of their own (`functional/bbs/member`),
    /// and `functional/index.ts`.
    fn sdk_barrels(&self, files: &mut BTreeMap<String, String>) {
        let mut dirs: Vec<String> = Vec::new();
        let sdk_files: Vec<String> = files.keys().filter(|p| p.starts_with("src/api/functional/") && p.ends_with("/index.ts")).cloned().collect();
        for f in &sdk_files {
            let mut d = f.trim_end_matches("/index.ts").to_string();
            while let Some((parent, _)) = d.rsplit_once('/') {
                if parent == "src/api" {
                    break;
                }
                if !dirs.contains(&parent.to_string()) {
                    dirs.push(parent.to_string());
                }
                d = parent.to_string();
            }
        }
        dirs.sort();
        for dir in dirs {
            let path = format!("{dir}/index.ts");
            if files.contains_key(&path) {
                continue;
            }
            let mut kids: Vec<String> = files.keys().chain(sdk_files.iter()).filter_map(|p| p.strip_prefix(&format!("{dir}/")).and_then(|r| r.split_once('/')).map(|(k, _)| k.to_string())).collect();
            kids.sort();
            kids.dedup();
            let mut s = String::new();
            for k in kids {
                let _ = writeln!(s, "export * as {k} from \"./{k}/index\";");
            }
            files.insert(path, s);
        }
    }

    fn tests(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let group = e.singular.clone();
        // Everything a test needs before touching this entity: the writer's join, then the
        // parent chain created through its own routes.
        let writer = &self.entities[e.writer];
        let mut setup = format!(
            "  const {role} = await api.functional.auth.{role}.join(connection, {{\n    body: {{\n{}      password: RandomGenerator.alphaNumeric(12),\n    }} satisfies {}.IJoin,\n  }});\n  typia.assert({role});\n",
            writer.exposed().filter(|f| f.create).map(|f| format!("      {}: {},\n", f.name, self.sample(f))).collect::<String>(),
            writer.dto(),
            role = writer.role()
        );
        let mut dtos = vec![writer.dto(), dto.clone()];
        let mut parent_props: Vec<String> = Vec::new();
        let mut chain = Vec::new();
        let mut cur = e.parent;
        while let Some(p) = cur {
            chain.push(p);
            cur = self.entities[p].parent;
        }
        chain.reverse();
        for p in chain {
            let pe = &self.entities[p];
            let var = camel(&pe.singular);
            let r = self.route(p, "create");
            let _ = write!(
                setup,
                "  const {var} = await {}.create(connection, {{\n{}    body: {{\n{}    }} satisfies {}.ICreate,\n  }});\n  typia.assert({var});\n",
                r.sdk_namespace(),
                parent_props.iter().map(|p| format!("    {p},\n")).collect::<String>(),
                pe.exposed().filter(|f| f.create).map(|f| format!("      {}: {},\n", f.name, self.sample(f))).collect::<String>(),
                pe.dto()
            );
            parent_props.push(format!("{}: {var}.id", pe.id_param()));
            dtos.push(pe.dto());
        }
        let pp = parent_props.iter().map(|p| format!("    {p},\n")).collect::<String>();
        let ns = |kind| self.route(i, kind).sdk_namespace();
        let own = e.id_param();
        // The joined actor keeps its name; a record of the actor's own table gets another.
        let var = if camel(&e.singular) == writer.role() { "record".to_string() } else { camel(&e.singular) };
        let create_body = e.exposed().filter(|f| f.create).map(|f| format!("      {}: {},\n", f.name, self.sample(f))).collect::<String>();
        let create = format!("  const {var} = await {}.create(connection, {{\n{pp}    body: {{\n{create_body}    }} satisfies {dto}.ICreate,\n  }});\n  typia.assert({var});\n", ns("create"));
        let check = e.exposed().find(|f| f.create).map(|f| f.name).unwrap_or("id");
        let mut cases: Vec<(&str, String)> = vec![
            ("creation", format!("{create}  TestValidator.predicate(\"{check} is set\", {var}.{check} !== undefined);\n")),
            (
                "retrieval",
                format!(
                    "{create}  const read = await {}.at(connection, {{\n{pp}    {own}: {var}.id,\n  }});\n  typia.assert(read);\n  TestValidator.equals(\"same record\", read.id, {var}.id);\n",
                    ns("at")
                ),
            ),
            (
                "list",
                format!(
                    "{create}  const page: IPage{dto}.ISummary =\n    await {}.index(connection, {{\n{}      body: {{ page: 1, limit: 10 }} satisfies {dto}.IRequest,\n    }});\n  typia.assert(page);\n  TestValidator.predicate(\"has records\", page.data.length > 0);\n",
                    ns("index"),
                    pp.replace("    ", "      ")
                ),
            ),
            (
                "deletion",
                format!(
                    "{create}  await {}.erase(connection, {{\n{pp}    {own}: {var}.id,\n  }});\n  await TestValidator.error(\"deleted record is gone\", async () => {{\n    await {}.at(connection, {{\n{}      {own}: {var}.id,\n    }});\n  }});\n",
                    ns("erase"),
                    ns("at"),
                    pp.replace("    ", "      ")
                ),
            ),
        ];
        if let Some(f) = e.exposed().find(|f| f.update && f.create) {
            cases.push((
                "update",
                format!(
                    "{create}  const updated = await {}.update(connection, {{\n{pp}    {own}: {var}.id,\n    body: {{\n      {}: {},\n    }} satisfies {dto}.IUpdate,\n  }});\n  typia.assert(updated);\n  TestValidator.equals(\"same record\", updated.id, {var}.id);\n",
                    ns("update"),
                    f.name,
                    self.sample(f)
                ),
            ));
        }
        if let Some(f) = e.searchable().filter(|f| f.create) {
            cases.push((
                "search",
                format!(
                    "{create}  const page: IPage{dto}.ISummary =\n    await {}.index(connection, {{\n{}      body: {{ search: {var}.{} }} satisfies {dto}.IRequest,\n    }});\n  typia.assert(page);\n  TestValidator.predicate(\"found\", page.data.some((s) => s.id === {var}.id));\n",
                    ns("index"),
                    pp.replace("    ", "      "),
                    f.name
                ),
            ));
        }
        // A list or search test types its page as real ones do (`const page: IPageIX.ISummary =
        // await …index(…)`; all 67 such tests of the real shopping backend import their page
        // type), and imports come in name order, as theirs do.
        dtos.push(format!("IPage{dto}"));
        dtos.sort();
        dtos.dedup();
        for (case, body) in cases {
            let name = format!("test_api_{group}_{case}");
            let text = format!("{setup}{body}");
            let mut imports = vec![
                format!("import {{ {} }} from \"@nestia/e2e\";", ["RandomGenerator", "TestValidator"].iter().filter(|w| text.contains(*w)).copied().collect::<Vec<_>>().join(", ")),
                "import { IConnection } from \"@nestia/fetcher\";".into(),
                "import typia, { tags } from \"typia\";".into(),
                String::new(),
                "import api from \"@ORGANIZATION/PROJECT-api\";".into(),
            ];
            for d in &dtos {
                if text.contains(&format!("{d}.")) {
                    imports.push(format!("import type {{ {d} }} from \"@ORGANIZATION/PROJECT-api/lib/structures/{d}\";"));
                }
            }
            files.insert(format!("test/features/api/{group}/{name}.ts"), format!("{}\n\nexport async function {name}(\n  connection: api.IConnection,\n) {{\n{text}}}\n", imports.join("\n")));
        }
    }

    fn prisma(&self, files: &mut BTreeMap<String, String>) {
        let mut schemas: BTreeMap<String, String> = BTreeMap::new();
        schemas.insert(
            "main".into(),
            "generator client {\n  provider   = \"prisma-client-js\"\n  engineType = \"client\"\n}\ndatasource db {\n  provider = \"sqlite\"\n  url      = \"file:../db.sqlite\"\n}\n".into(),
        );
        let mut client = String::from(STUB_PRISMA_HEAD);
        let mut delegates = String::new();
        let mut inputs = String::new();
        let back = |target: usize| -> Vec<String> { self.entities.iter().enumerate().filter(|(j, _)| self.fks(*j).iter().any(|(_, t)| *t == target)).map(|(_, c)| c.table()).collect() };
        for (i, e) in self.entities.iter().enumerate() {
            let table = e.table();
            let mut s = format!(
                "/// {} Stored as one row per {}.\n///\n/// @namespace {}\n/// @author AutoBE - https://github.com/wrtnlabs/autobe\nmodel {table} {{\n  //----\n  // COLUMNS\n  //----\n  /// Primary Key.\n  id String @id\n\n",
                e.description,
                e.human(),
                e.area
            );
            let mut row = format!("export type {table} = {{\n  id: string;\n");
            for (fk, target) in self.fks(i) {
                let t = &self.entities[target];
                let _ = writeln!(s, "  /// The {}'s {{@link {}.id}}.\n  {fk} String\n", t.human(), t.table());
                let _ = writeln!(row, "  {fk}: string;");
            }
            for f in &e.fields {
                let (ty, attr) = match f.ty {
                    Ty::Int => ("Int", ""),
                    Ty::Email => ("String", " @unique"),
                    _ => ("String", ""),
                };
                let _ = writeln!(s, "  /// {}\n  {} {ty}{}{attr}\n", f.doc, f.name, if f.nullable { "?" } else { "" });
                let ts = if ty == "Int" { "number" } else { "string" };
                let _ = writeln!(row, "  {}: {ts}{};", f.name, if f.nullable { " | null" } else { "" });
            }
            s.push_str("  /// Creation time of the record.\n  created_at DateTime\n\n  /// Last update time of the record.\n  updated_at DateTime\n\n  /// Deletion time of the record (soft delete).\n  deleted_at DateTime?\n");
            row.push_str("  created_at: Date;\n  updated_at: Date;\n  deleted_at: Date | null;\n};\n");
            let mut rels = String::new();
            for (fk, target) in self.fks(i) {
                let t = &self.entities[target];
                let _ = writeln!(rels, "  {} {} @relation(fields: [{fk}], references: [id], onDelete: Cascade)", t.singular, t.table());
            }
            for child in back(i) {
                let _ = writeln!(rels, "  {child} {child}[]");
            }
            if !rels.is_empty() {
                s.push_str("\n  //----\n  // RELATIONS\n  //----\n");
                s.push_str(&rels);
            }
            let fks = self.fks(i);
            if !fks.is_empty() || e.searchable().is_some() {
                s.push('\n');
            }
            for (n, (fk, _)) in fks.iter().enumerate() {
                if n == 0 {
                    let _ = writeln!(s, "  @@index([{fk}, created_at], map: \"{table}_{fk}_created_at_idx\")");
                } else {
                    let _ = writeln!(s, "  @@index([{fk}])");
                }
            }
            if fks.is_empty()
                && let Some(f) = e.searchable()
            {
                let _ = writeln!(s, "  @@index([{}])", f.name);
            }
            s.push_str("}\n");
            let entry = schemas.entry(e.schema_file.clone()).or_default();
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(&s);
            client.push_str(&row);
            let _ = writeln!(delegates, "  readonly {table}: Delegate<{table}, Prisma.{table}WhereInput, Prisma.{table}UncheckedCreateInput, Prisma.{table}UncheckedUpdateInput>;");
            let _ = write!(
                inputs,
                "  type {table}WhereInput = Where<{table}>;\n  type {table}UncheckedCreateInput = CreateInput<{table}>;\n  type {table}UncheckedUpdateInput = UpdateInput<{table}>;\n  type {table}UpdateInput = UpdateInput<{table}>;\n"
            );
        }
        let _ = write!(
            client,
            "\nexport declare namespace Prisma {{\n{inputs}}}\n\nexport type TransactionClient = {{\n{delegates}}};\n\nexport declare class PrismaClient {{\n{delegates}  $transaction<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T>;\n}}\n"
        );
        files.insert("stubs/prisma-client.d.ts".into(), client);
        for (name, text) in schemas {
            files.insert(format!("prisma/schema/{name}.prisma"), text);
        }
    }
}

/// `issue(id)`: the token pair a join or login returns.
fn issue_fn(role: &str) -> String {
    format!(
        "function issue(id: string): IAuthorizationToken {{\n  const expired_at = toISOStringSafe(new Date(Date.now() + 60 * 60 * 1000));\n  const refreshable_until = toISOStringSafe(\n    new Date(Date.now() + 7 * 24 * 60 * 60 * 1000),\n  );\n  return {{\n    access: jwt.sign({{ id, type: \"{role}\" }}, MyGlobal.env.JWT_SECRET_KEY, {{\n      expiresIn: \"1h\",\n      issuer: \"autobe\",\n    }}),\n    refresh: jwt.sign(\n      {{ id, type: \"{role}\", token_type: \"refresh\" }},\n      MyGlobal.env.JWT_SECRET_KEY,\n      {{ expiresIn: \"7d\", issuer: \"autobe\" }},\n    ),\n    expired_at,\n    refreshable_until,\n  }};\n}}\n"
    )
}

/// The DTO families the routes' bodies and responses use, in first-use order.
fn dto_roots(routes: &[Route]) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();
    for t in routes.iter().flat_map(|r| r.body.iter().chain(r.response.iter())) {
        let root = t.split('.').next().unwrap_or(t).to_string();
        if !types.contains(&root) {
            types.push(root);
        }
    }
    types
}

/// "an article", "a member".
fn with_article(noun: &str) -> String {
    let an = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if an { "an" } else { "a" })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// Drop the blank line a property leaves before a closing brace.
fn trim_blank(s: &mut String) {
    while s.ends_with("\n\n") {
        s.pop();
    }
}

const STUB_PRISMA_HEAD: &str = "// Stand-in for the generated @prisma/client: one row type, input types and one delegate\n// per model.\n\ntype Filter<V> = V | null | { contains?: string; in?: V[]; not?: V | null; gte?: V; lte?: V };\ntype Where<Row> = { [K in keyof Row]?: Filter<Row[K]> } & {\n  AND?: Where<Row>[];\n  OR?: Where<Row>[];\n  NOT?: Where<Row>;\n};\ntype Writable<V> = V extends Date ? Date | string : V extends Date | null ? Date | string | null : V;\ntype RequiredKeys<Row> = { [K in keyof Row]: null extends Row[K] ? never : K }[keyof Row];\ntype CreateInput<Row> = { [K in RequiredKeys<Row>]: Writable<Row[K]> } & {\n  [K in Exclude<keyof Row, RequiredKeys<Row>>]?: Writable<Row[K]>;\n};\ntype UpdateInput<Row> = { [K in keyof Row]?: Writable<Row[K]> };\ntype OrderBy<Row> = { [K in keyof Row]?: \"asc\" | \"desc\" };\n\nexport interface Delegate<Row, W, C, U> {\n  findMany(args?: { where?: W; orderBy?: OrderBy<Row>; skip?: number; take?: number }): Promise<Row[]>;\n  findFirst(args?: { where?: W }): Promise<Row | null>;\n  findUniqueOrThrow(args: { where: W }): Promise<Row>;\n  count(args?: { where?: W }): Promise<number>;\n  create(args: { data: C }): Promise<Row>;\n  update(args: { where: W; data: U }): Promise<Row>;\n  updateMany(args: { where?: W; data: U }): Promise<{ count: number }>;\n  delete(args: { where: W }): Promise<Row>;\n}\n\n";

const STUBS: &[(&str, &str)] = &[
    (
        "nestjs-common.d.ts",
        "// Stand-in for @nestjs/common: only what the backend uses.\n\nexport declare function Controller(prefix?: string): ClassDecorator;\n\nexport interface ExecutionContext {\n  switchToHttp(): { getRequest<T = any>(): T };\n}\n\nexport declare function createParamDecorator<T = unknown>(\n  factory: (data: T, ctx: ExecutionContext) => unknown,\n): (data?: T) => ParameterDecorator;\n\nexport declare class HttpException extends Error {\n  constructor(message: string, status: number);\n}\nexport declare class ForbiddenException extends HttpException {\n  constructor(message?: string);\n}\nexport declare class UnauthorizedException extends HttpException {\n  constructor(message?: string);\n}\n",
    ),
    (
        "nestia-core.d.ts",
        "// Stand-in for @nestia/core.\n\nexport declare namespace TypedRoute {\n  function Get(path?: string): MethodDecorator;\n  function Post(path?: string): MethodDecorator;\n  function Put(path?: string): MethodDecorator;\n  function Patch(path?: string): MethodDecorator;\n  function Delete(path?: string): MethodDecorator;\n}\nexport declare function TypedBody(): ParameterDecorator;\nexport declare function TypedParam(name: string): ParameterDecorator;\nexport declare function SwaggerCustomizer(\n  closure: (props: { route: { security?: Record<string, string[]>[] } }) => void,\n): (target: object, propertyKey: string, descriptor: undefined) => void;\n",
    ),
    (
        "nestia-fetcher.d.ts",
        "// Stand-in for @nestia/fetcher.\n\nexport interface IConnection {\n  host: string;\n  headers?: Record<string, string>;\n  simulate?: boolean;\n}\nexport declare class HttpError extends Error {\n  readonly status: number;\n  readonly headers: Record<string, string>;\n  toJSON(): { message: string };\n}\n",
    ),
    (
        "nestia-fetcher-plain.d.ts",
        "// Stand-in for @nestia/fetcher/lib/PlainFetcher.\nimport type { IConnection } from \"@nestia/fetcher\";\n\nexport declare namespace PlainFetcher {\n  function fetch<Output = any>(\n    connection: IConnection,\n    route: { method: string; path: string; status: number | null },\n    input?: unknown,\n  ): Promise<Output>;\n}\n",
    ),
    (
        "nestia-fetcher-simulator.d.ts",
        "// Stand-in for @nestia/fetcher/lib/NestiaSimulator.\n\nexport declare namespace NestiaSimulator {\n  function assert(props: { method: string; host: string; path: string; contentType: string }): {\n    param(name: string): (task: () => unknown) => void;\n    body(task: () => unknown): void;\n  };\n}\n",
    ),
    (
        "nestia-e2e.d.ts",
        "// Stand-in for @nestia/e2e.\n\nexport declare namespace TestValidator {\n  function equals<T>(title: string, x: T, y: T): void;\n  function predicate(title: string, condition: boolean): void;\n  function error(title: string, task: () => Promise<unknown>): Promise<void>;\n}\nexport declare namespace RandomGenerator {\n  function alphaNumeric(length: number): string;\n  function name(words?: number): string;\n  function paragraph(props?: { sentences?: number }): string;\n  function content(props?: { paragraphs?: number }): string;\n}\n",
    ),
    (
        "typia.d.ts",
        "// Stand-in for typia: type tags, assert, is, random.\n\nexport declare namespace tags {\n  type TagBase<Kind extends string, Value> = {\n    \"typia.tag\"?: { kind: Kind; value: Value };\n  };\n  type Format<V extends \"uuid\" | \"email\" | \"date-time\" | \"uri\"> = TagBase<\"format\", V>;\n  type MinLength<N extends number> = TagBase<\"minLength\", N>;\n  type MaxLength<N extends number> = TagBase<\"maxLength\", N>;\n  type Minimum<N extends number> = TagBase<\"minimum\", N>;\n  type Maximum<N extends number> = TagBase<\"maximum\", N>;\n  type Pattern<P extends string> = TagBase<\"pattern\", P>;\n  type Type<V extends \"int32\" | \"uint32\" | \"double\"> = TagBase<\"type\", V>;\n}\ndeclare const typia: {\n  assert<T>(input: T): T;\n  is<T>(input: unknown): input is T;\n  random<T>(): T;\n};\nexport default typia;\n",
    ),
    ("uuid.d.ts", "// Stand-in for uuid.\n\nexport declare function v4(): string;\n"),
    (
        "jsonwebtoken.d.ts",
        "// Stand-in for jsonwebtoken.\n\ndeclare const jwt: {\n  sign(payload: object, secret: string, options?: { expiresIn?: string | number; issuer?: string }): string;\n  verify(token: string, secret: string): unknown;\n};\nexport default jwt;\n",
    ),
    ("tstl.d.ts", "// Stand-in for tstl.\n\nexport declare class Singleton<T> {\n  constructor(closure: () => T);\n  get(): T;\n}\n"),
];

const MY_GLOBAL: &str = "import { PrismaClient } from \"@prisma/client\";\nimport { Singleton } from \"tstl\";\nimport typia from \"typia\";\n\n/* eslint-disable */\nexport class MyGlobal {\n  public static testing: boolean = false;\n\n  public static get env(): MyGlobal.IEnvironments {\n    return environments.get();\n  }\n\n  public static get prisma(): PrismaClient {\n    return prisma.get();\n  }\n}\nexport namespace MyGlobal {\n  export interface IEnvironments {\n    API_PORT: `${number}`;\n    JWT_SECRET_KEY: string;\n  }\n}\nconst environments = new Singleton(() =>\n  typia.assert<MyGlobal.IEnvironments>({\n    API_PORT: \"37001\",\n    JWT_SECRET_KEY: \"fixture-secret\",\n  }),\n);\nconst prisma = new Singleton(() => new PrismaClient());\n";

const TO_ISO: &str = "import { tags } from \"typia\";\n\n/**\n * Transforms a value that is either a Date or a string into an ISO 8601\n * formatted string. If it's already a string, it assumes it's already in ISO\n * format.\n */\nexport function toISOStringSafe(\n  value: Date | (string & tags.Format<\"date-time\">),\n): string & tags.Format<\"date-time\"> {\n  if (value instanceof Date) {\n    return value.toISOString() as string & tags.Format<\"date-time\">;\n  }\n  return value;\n}\n";

const PASSWORD_UTIL: &str = "/** Password hashing (a stand-in for bcrypt in this fixture). */\nexport namespace PasswordUtil {\n  export async function hash(plain: string): Promise<string> {\n    return `hashed:${plain}`;\n  }\n\n  export async function verify(plain: string, hashed: string): Promise<boolean> {\n    return hashed === `hashed:${plain}`;\n  }\n}\n";

const IPAGE: &str = "import { tags } from \"typia\";\n\nexport namespace IPage {\n  /** Page information. */\n  export type IPagination = {\n    /** Current page number. */\n    current: number & tags.Type<\"int32\"> & tags.Minimum<0>;\n\n    /** Limitation of records per a page. */\n    limit: number & tags.Type<\"int32\"> & tags.Minimum<0>;\n\n    /** Total records in the database. */\n    records: number & tags.Type<\"int32\"> & tags.Minimum<0>;\n\n    /** Total pages. */\n    pages: number & tags.Type<\"int32\"> & tags.Minimum<0>;\n  };\n}\n";

const IAUTHORIZATION_TOKEN: &str = "import { tags } from \"typia\";\n\n/**\n * Authorization token response structure.\n *\n * @autobe Generated by AutoBE - https://github.com/wrtnlabs/autobe\n */\nexport type IAuthorizationToken = {\n  /** JWT access token for authenticated requests. */\n  access: string;\n\n  /** Refresh token for obtaining new access tokens. */\n  refresh: string;\n\n  /** Access token expiration timestamp. */\n  expired_at: string & tags.Format<\"date-time\">;\n\n  /** Refresh token expiration timestamp. */\n  refreshable_until: string & tags.Format<\"date-time\">;\n};\n";

const JWT_AUTHORIZE: &str = "import { ForbiddenException, UnauthorizedException } from \"@nestjs/common\";\nimport jwt from \"jsonwebtoken\";\n\nimport { MyGlobal } from \"../../MyGlobal\";\n\nexport function jwtAuthorize(props: {\n  request: {\n    headers: { authorization?: string };\n  };\n}) {\n  if (!props.request.headers.authorization)\n    throw new ForbiddenException(\"No token value exists\");\n\n  try {\n    const token: string = props.request.headers.authorization.startsWith(BEARER_PREFIX)\n      ? props.request.headers.authorization.substring(BEARER_PREFIX.length)\n      : props.request.headers.authorization;\n    return jwt.verify(token, MyGlobal.env.JWT_SECRET_KEY);\n  } catch {\n    throw new UnauthorizedException(\"Invalid token\");\n  }\n}\n\nconst BEARER_PREFIX = \"Bearer \";\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(rel("src/providers/a.ts", "src/MyGlobal"), "../MyGlobal");
        assert_eq!(rel("src/controllers/bbs/articles/C.ts", "src/api/structures/I"), "../../../api/structures/I");
    }

    #[test]
    fn names_follow_autobe() {
        let entities = bbs();
        let g = Gen { entities: &entities };
        let r = g.route(4, "create");
        assert_eq!(r.provider, "postBbsMemberArticlesArticleIdComments");
        assert_eq!(r.path, "/bbs/member/articles/:articleId/comments");
        assert_eq!(r.controller_class(), "BbsMemberArticlesCommentsController");
        assert_eq!(r.sdk_namespace(), "api.functional.bbs.member.articles.comments");
        assert_eq!(g.route(4, "at").provider, "getBbsArticlesArticleIdCommentsCommentId");
        assert_eq!(g.route(6, "create").provider, "post__bbs_member_reports");
        assert_eq!(g.route(6, "at").provider, "get__bbs_reports_$reportId");
        assert_eq!(g.route(2, "update").provider, "putBbsAdminCategoriesCategoryId");
        assert_eq!(entities[2].table(), "bbs_categories");
        assert_eq!(entities[4].fk(), "bbs_article_comment_id");
        assert_eq!(class_segment("shoppingMall"), "Shoppingmall");
    }

    #[test]
    fn scale_output_is_deterministic_and_about_seventeen_files_per_entity() {
        let a = generate(&scale(10), "scale");
        let b = generate(&scale(10), "scale");
        assert_eq!(a, b);
        assert!(a.len() >= 10 * 15, "{} files", a.len());
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// `fixtures/bbs-backend` is exactly the generator's `--preset bbs` output, so a change to
    /// the generator is a change to the fixture (regenerate with
    /// `cargo run -p maintaind-bench -- gen --preset bbs --out fixtures/bbs-backend --force`).
    #[test]
    fn fixture_is_the_generator_output() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend");
        let expected = generate(&bbs(), "bbs-backend");
        for (rel, text) in &expected {
            let on_disk = std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(&on_disk, text, "{rel} differs from the generator output");
        }
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let name = e.file_name();
                if name == ".maintaind" || name == "node_modules" {
                    continue;
                }
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    on_disk.push(e.path().strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let extra: Vec<&String> = on_disk.iter().filter(|p| !expected.contains_key(*p)).collect();
        assert!(extra.is_empty(), "files in the fixture the generator does not write: {extra:?}");
    }

    #[test]
    fn fixture_meets_the_minimums() {
        let files = generate(&bbs(), "bbs-backend");
        let count = |prefix: &str| files.keys().filter(|p| p.starts_with(prefix)).count();
        let models: usize = files.iter().filter(|(p, _)| p.ends_with(".prisma")).map(|(_, t)| t.lines().filter(|l| l.starts_with("model ")).count()).sum();
        assert!(models >= 6, "{models} models");
        assert!(files.keys().filter(|p| p.starts_with("prisma/schema/") && p.ends_with(".prisma")).count() >= 3);
        assert!(count("src/api/structures/I") >= 8);
        assert!(files.keys().filter(|p| p.starts_with("src/providers/") && !p.contains("/authorize/")).count() >= 25);
        let tests = files.keys().filter(|p| p.starts_with("test/features/") && p.contains("/test_api_")).count();
        assert!(tests >= 25, "{tests} tests");
    }
}

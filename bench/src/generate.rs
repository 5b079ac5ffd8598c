//! The backend generator: writes an AutoBE-shaped NestJS + Prisma + nestia backend
//! (DESIGN §3) for a list of entities. `--preset bbs` is the committed fixture
//! `fixtures/bbs-backend` (a discussion board); `--entities N` is the scale backend for the
//! benchmarks (about 17 files per entity, deterministic, never committed).
//!
//! Framework packages are replaced by small declaration stubs under `stubs/` mapped through
//! tsconfig `paths`, so the output type-checks with nothing but the `typescript` package.

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
    pub doc: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Ty {
    /// A short string with a length limit.
    Str(u32),
    Text,
    Email,
    Int,
    Enum(&'static str, &'static [&'static str]),
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
    /// Rows are owned by a member (FK `<prefix>_member_id`, member auth on writes).
    pub authored: bool,
    pub fields: Vec<Field>,
    /// Which `schema-NN-<area>.prisma` file holds the model.
    pub schema_file: String,
    pub description: String,
}

impl Entity {
    pub fn table(&self) -> String {
        format!("{}_{}", self.prefix, plural(&self.singular))
    }
    /// `bbs_article_comment`: the table's singular, used in test names.
    pub fn snake(&self) -> String {
        format!("{}_{}", self.prefix, self.singular)
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
        format!("{}_id", self.snake())
    }
    fn searchable(&self) -> Option<&Field> {
        self.fields.iter().find(|f| matches!(f.ty, Ty::Str(_)) && !f.nullable)
    }
}

fn plural(word: &str) -> String {
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

const fn field(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, nullable: false, create: true, update: true, summary: false, doc }
}

/// The discussion-board fixture: members, categories, articles, comments, tags, reports, plus
/// a sessions table used by the member authorizer.
pub fn bbs() -> Vec<Entity> {
    const STATUS: Ty = Ty::Enum("bbs_report_status", &["open", "resolved", "dismissed"]);
    let e = |singular: &str, segment: &str, parent: Option<usize>, authored: bool, schema: &str, description: &str, fields: Vec<Field>| Entity {
        singular: singular.into(),
        prefix: "bbs".into(),
        segment: segment.into(),
        parent,
        authored,
        fields,
        schema_file: schema.into(),
        description: description.into(),
    };
    vec![
        e("member", "members", None, false, "schema-01-actors", "A registered member of the board.", vec![
            Field { summary: false, update: false, ..field("email", Ty::Email, "Login e-mail address, unique.") },
            Field { summary: true, ..field("nickname", Ty::Str(40), "Name shown next to everything the member writes.") },
            Field { nullable: true, ..field("introduction", Ty::Text, "Free-text self introduction.") },
        ]),
        e("category", "categories", None, false, "schema-02-articles", "A board category articles are filed under.", vec![
            Field { summary: true, ..field("name", Ty::Str(60), "Category name, unique.") },
            Field { nullable: true, ..field("description", Ty::Text, "What belongs in this category.") },
            field("sequence", Ty::Int, "Display order among categories."),
        ]),
        e("article", "articles", None, true, "schema-02-articles", "An article written by a member.", vec![
            Field { summary: true, ..field("title", Ty::Str(80), "Title of the article.") },
            field("body", Ty::Text, "Body of the article (markdown)."),
            Field { summary: true, update: false, ..field("view_limit", Ty::Int, "How many views the author allows; 0 means unlimited.") },
        ]),
        e("article_comment", "comments", Some(2), true, "schema-02-articles", "A comment on an article.", vec![
            Field { summary: true, ..field("body", Ty::Str(1000), "Text of the comment.") },
        ]),
        e("article_tag", "tags", Some(2), false, "schema-02-articles", "A tag attached to an article.", vec![
            Field { summary: true, update: false, ..field("label", Ty::Str(30), "Tag text, lower case.") },
        ]),
        e("report", "reports", None, true, "schema-03-moderation", "A member's report of an article to moderators.", vec![
            Field { summary: true, ..field("reason", Ty::Str(200), "Why the article was reported.") },
            Field { summary: true, create: false, ..field("status", STATUS, "Moderation state of the report.") },
        ]),
    ]
}

/// `n` entities for the scale benchmark: a members entity first (authors), then a rotating set
/// of shapes, every third one nested under the entity before it.
pub fn scale(n: usize) -> Vec<Entity> {
    const WORDS: [&str; 8] = ["order", "product", "invoice", "ticket", "shipment", "review", "coupon", "refund"];
    const STATE: Ty = Ty::Enum("shop_state", &["draft", "active", "archived"]);
    let mut out = vec![Entity {
        singular: "member".into(),
        prefix: "shop".into(),
        segment: "members".into(),
        parent: None,
        authored: false,
        fields: vec![Field { summary: true, ..field("nickname", Ty::Str(40), "Display name.") }, Field { update: false, ..field("email", Ty::Email, "Login e-mail.") }],
        schema_file: "schema-01-actors".into(),
        description: "A customer account.".into(),
    }];
    for i in 1..n.max(1) {
        let word = format!("{}{}", WORDS[i % WORDS.len()], i);
        let parent = (i % 3 == 0 && out[i - 1].parent.is_none() && i > 1).then_some(i - 1);
        out.push(Entity {
            singular: word.clone(),
            prefix: "shop".into(),
            segment: format!("{word}s"),
            parent,
            authored: i % 2 == 1,
            fields: vec![
                Field { summary: true, ..field("title", Ty::Str(120), "Short title.") },
                field("description", Ty::Text, "Long description."),
                Field { summary: true, ..field("amount", Ty::Int, "Amount in cents.") },
                Field { nullable: true, ..field("note", Ty::Text, "Internal note.") },
                Field { create: false, summary: true, ..field("state", STATE, "Lifecycle state.") },
            ],
            schema_file: format!("schema-{:02}-area{}", 2 + i / 25, i / 25),
            description: format!("A {word} record."),
        });
    }
    out
}

/// Generated files, path → text, sorted.
pub fn generate(entities: &[Entity], title: &str) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let members = entities.iter().position(|e| e.singular == "member").expect("a member entity");
    let g = Gen { entities, members };
    g.common(&mut files, title);
    for (i, _) in entities.iter().enumerate() {
        g.entity(i, &mut files);
    }
    g.prisma(&mut files);
    g.sdk_indexes(&mut files);
    files
}

struct Gen<'a> {
    entities: &'a [Entity],
    members: usize,
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

impl<'a> Gen<'a> {
    /// Route segments from the root, parameters as `:xId`.
    fn route(&self, i: usize, with_id: bool) -> Vec<String> {
        let e = &self.entities[i];
        let mut segs = match e.parent {
            Some(p) => self.route(p, true),
            None => vec![e.prefix.clone()],
        };
        segs.push(e.segment.clone());
        if with_id {
            segs.push(format!(":{}", e.id_param()));
        }
        segs
    }

    /// Path parameters of a route: (name, owning entity).
    fn params(&self, i: usize, with_id: bool) -> Vec<(String, usize)> {
        let e = &self.entities[i];
        let mut out = match e.parent {
            Some(p) => self.params(p, true),
            None => Vec::new(),
        };
        if with_id {
            out.push((e.id_param(), i));
        }
        out
    }

    fn provider_name(&self, method: &str, i: usize, with_id: bool) -> String {
        let segs: Vec<String> = self.route(i, with_id).iter().map(|s| pascal(s.trim_start_matches(':'))).collect();
        format!("{method}{}", segs.concat())
    }

    /// Directory of the controller / SDK for an entity: `bbs/articles/comments`.
    fn dir(&self, i: usize) -> String {
        let e = &self.entities[i];
        match e.parent {
            Some(p) => format!("{}/{}", self.dir(p), e.segment),
            None => format!("{}/{}", e.prefix, e.segment),
        }
    }

    fn sdk_path(&self, i: usize) -> String {
        self.dir(i).replace('/', ".")
    }

    fn ts_type(&self, f: &Field) -> String {
        let base = match f.ty {
            Ty::Str(max) => format!("string & tags.MinLength<1> & tags.MaxLength<{max}>"),
            Ty::Text => "string".into(),
            Ty::Email => "string & tags.Format<\"email\">".into(),
            Ty::Int => "number & tags.Type<\"int32\">".into(),
            Ty::Enum(_, values) => values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(" | "),
        };
        if f.nullable { format!("({base}) | null") } else { base }
    }

    fn row_type(&self, f: &Field) -> String {
        let base = match f.ty {
            Ty::Int => "number".into(),
            Ty::Enum(_, values) => values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(" | "),
            _ => "string".into(),
        };
        if f.nullable { format!("{base} | null") } else { base }
    }

    fn sample(&self, f: &Field) -> String {
        match f.ty {
            Ty::Str(max) => format!("RandomGenerator.alphabets({})", max.min(12)),
            Ty::Text => "RandomGenerator.paragraph(3)".into(),
            Ty::Email => "`${RandomGenerator.alphabets(10)}@example.com`".into(),
            Ty::Int => "1".into(),
            Ty::Enum(_, values) => format!("\"{}\"", values[0]),
        }
    }

    /// FK columns of a model: (column, referenced entity, doc).
    fn fks(&self, i: usize) -> Vec<(String, usize)> {
        let e = &self.entities[i];
        let mut out = Vec::new();
        if let Some(p) = e.parent {
            out.push((self.entities[p].fk(), p));
        }
        if e.authored {
            out.push((self.entities[self.members].fk(), self.members));
        }
        out
    }

    fn common(&self, files: &mut BTreeMap<String, String>, title: &str) {
        let paths = [
            ("@nestjs/common", "nestjs-common.d.ts"),
            ("@nestia/core", "nestia-core.d.ts"),
            ("@nestia/fetcher", "nestia-fetcher.d.ts"),
            ("@nestia/fetcher/lib/PlainFetcher", "nestia-fetcher-plain.d.ts"),
            ("@nestia/e2e", "nestia-e2e.d.ts"),
            ("@prisma/client", "prisma-client.d.ts"),
            ("typia", "typia.d.ts"),
            ("uuid", "uuid.d.ts"),
        ];
        let map = |prefix: &str| paths.iter().map(|(m, f)| format!("      \"{m}\": [\"{prefix}stubs/{f}\"],")).collect::<Vec<_>>().join("\n");
        files.insert(
            "package.json".into(),
            format!("{{\n  \"name\": \"{title}\",\n  \"version\": \"0.0.0\",\n  \"private\": true,\n  \"description\": \"AutoBE-shaped backend generated by maintaind-bench (fixture, not a real service)\"\n}}\n"),
        );
        files.insert(
            "tsconfig.json".into(),
            format!(
                "{{\n  // The application project. Framework packages resolve to local stubs.\n  \"compilerOptions\": {{\n    \"target\": \"ES2022\",\n    \"module\": \"commonjs\",\n    \"moduleResolution\": \"node\",\n    \"lib\": [\"ES2022\"],\n    \"types\": [],\n    \"strict\": true,\n    \"noEmit\": true,\n    \"experimentalDecorators\": true,\n    \"paths\": {{\n{}\n    }},\n  }},\n  \"include\": [\"src\", \"stubs\"],\n}}\n",
                map("./")
            ),
        );
        files.insert(
            "test/tsconfig.json".into(),
            format!(
                "{{\n  // The e2e test project: compiled on its own, reaching the SDK through a path alias.\n  \"extends\": \"../tsconfig.json\",\n  \"compilerOptions\": {{\n    \"paths\": {{\n      \"@ORGANIZATION/PROJECT-api\": [\"../src/api\"],\n      \"@ORGANIZATION/PROJECT-api/lib/*\": [\"../src/api/*\"],\n{}\n    }},\n  }},\n  \"include\": [\".\", \"../stubs\"],\n}}\n",
                map("../")
            ),
        );
        files.insert("stubs/nestjs-common.d.ts".into(), STUB_NEST.into());
        files.insert("stubs/nestia-core.d.ts".into(), STUB_NESTIA_CORE.into());
        files.insert("stubs/nestia-fetcher.d.ts".into(), STUB_FETCHER.into());
        files.insert("stubs/nestia-fetcher-plain.d.ts".into(), STUB_PLAIN_FETCHER.into());
        files.insert("stubs/nestia-e2e.d.ts".into(), STUB_E2E.into());
        files.insert("stubs/typia.d.ts".into(), STUB_TYPIA.into());
        files.insert("stubs/uuid.d.ts".into(), STUB_UUID.into());
        files.insert("src/MyGlobal.ts".into(), MY_GLOBAL.into());
        files.insert("src/utils/toISOStringSafe.ts".into(), TO_ISO.into());
        files.insert("src/api/IConnection.ts".into(), "export type { IConnection } from \"@nestia/fetcher\";\n".into());
        // `export type * from` is valid TypeScript 5 that tree-sitter-typescript 0.23.2 cannot
        // parse; generated SDKs contain it, so the fixture does too.
        files.insert("src/api/module.ts".into(), "export type * from \"./IConnection\";\nexport * as functional from \"./functional\";\n".into());
        files.insert("src/api/index.ts".into(), "import * as api from \"./module\";\n\nexport * from \"./module\";\nexport default api;\n".into());
        files.insert("src/api/structures/IPage.ts".into(), IPAGE.into());
        let m = &self.entities[self.members];
        files.insert(
            "src/decorators/payload/MemberPayload.ts".into(),
            format!("import {{ tags }} from \"typia\";\n\n/** The authenticated member, as the authorizer returns it. */\nexport interface MemberPayload {{\n  /** {table}.id of the member. */\n  id: string & tags.Format<\"uuid\">;\n  type: \"member\";\n}}\n", table = m.table()),
        );
        files.insert(
            "src/providers/authorize/memberAuthorize.ts".into(),
            format!(
                "import {{ ForbiddenException }} from \"@nestjs/common\";\n\nimport {{ MyGlobal }} from \"../../MyGlobal\";\nimport {{ MemberPayload }} from \"../../decorators/payload/MemberPayload\";\n\n/**\n * Resolve the member behind a request's bearer token.\n *\n * Looks the token up in {prefix}_member_sessions; a missing or expired session is refused.\n */\nexport async function memberAuthorize(request: {{\n  headers: {{ authorization?: string }};\n}}): Promise<MemberPayload> {{\n  const token: string = (request.headers.authorization ?? \"\").replace(/^Bearer /, \"\");\n  const session = await MyGlobal.prisma.{prefix}_member_sessions.findFirst({{\n    where: {{ token, deleted_at: null }},\n  }});\n  if (session === null) throw new ForbiddenException(\"You are not a member.\");\n  return {{ id: session.{fk}, type: \"member\" }};\n}}\n",
                prefix = m.prefix,
                fk = m.fk()
            ),
        );
        files.insert(
            "src/decorators/MemberAuth.ts".into(),
            "import { ExecutionContext, createParamDecorator } from \"@nestjs/common\";\n\nimport { memberAuthorize } from \"../providers/authorize/memberAuthorize\";\n\n/** Parameter decorator: the authenticated member of the request. */\nexport const MemberAuth = (): ParameterDecorator =>\n  createParamDecorator(async (_0: unknown, ctx: ExecutionContext) =>\n    memberAuthorize(ctx.switchToHttp().getRequest()),\n  )();\n".into(),
        );
    }

    fn entity(&self, i: usize, files: &mut BTreeMap<String, String>) {
        self.dto(i, files);
        self.transformer(i, files);
        self.providers(i, files);
        self.controller(i, files);
        self.sdk(i, files);
        self.tests(i, files);
    }

    fn dto(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let table = e.table();
        let prop = |out: &mut String, indent: &str, name: &str, ty: &str, doc: &str, column: Option<&str>, optional: bool| {
            let _ = writeln!(out, "{indent}/**\n{indent} * {doc}");
            if let Some(col) = column {
                let _ = writeln!(out, "{indent} *\n{indent} * Maps to {table}.{col}");
            }
            let _ = writeln!(out, "{indent} */\n{indent}{name}{}: {ty};", if optional { "?" } else { "" });
        };
        let mut s = String::from("import { tags } from \"typia\";\n\n");
        let _ = writeln!(s, "/** {} */\nexport type {dto} = {{", e.description);
        prop(&mut s, "  ", "id", "string & tags.Format<\"uuid\">", "Primary key.", Some("id"), false);
        for (fk, target) in self.fks(i) {
            let what = &self.entities[target].singular;
            prop(&mut s, "  ", &fk, "string & tags.Format<\"uuid\">", &format!("The {} this belongs to.", what.replace('_', " ")), Some(&fk), false);
        }
        for f in &e.fields {
            prop(&mut s, "  ", f.name, &self.ts_type(f), f.doc, Some(f.name), false);
        }
        prop(&mut s, "  ", "created_at", "string & tags.Format<\"date-time\">", "Creation time.", Some("created_at"), false);
        prop(&mut s, "  ", "updated_at", "string & tags.Format<\"date-time\">", "Last update time.", Some("updated_at"), false);
        s.push_str("};\n");
        let _ = writeln!(s, "export namespace {dto} {{");
        let _ = writeln!(s, "  /** Information to create a {}. */\n  export type ICreate = {{", e.singular.replace('_', " "));
        for f in e.fields.iter().filter(|f| f.create) {
            prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, Some(f.name), f.nullable);
        }
        s.push_str("  };\n\n");
        let _ = writeln!(s, "  /** Changes to a {}; absent properties stay as they are. */\n  export type IUpdate = {{", e.singular.replace('_', " "));
        for f in e.fields.iter().filter(|f| f.update) {
            prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, Some(f.name), true);
        }
        s.push_str("  };\n\n");
        let _ = writeln!(s, "  /** A {} as listed. */\n  export type ISummary = {{", e.singular.replace('_', " "));
        prop(&mut s, "    ", "id", "string & tags.Format<\"uuid\">", "Primary key.", Some("id"), false);
        for f in e.fields.iter().filter(|f| f.summary) {
            prop(&mut s, "    ", f.name, &self.ts_type(f), f.doc, Some(f.name), false);
        }
        prop(&mut s, "    ", "created_at", "string & tags.Format<\"date-time\">", "Creation time.", Some("created_at"), false);
        s.push_str("  };\n\n");
        s.push_str("  /** Search and pagination of the list. */\n  export type IRequest = {\n");
        prop(&mut s, "    ", "page", "number & tags.Type<\"int32\"> & tags.Minimum<1>", "Page number, from 1.", None, true);
        prop(&mut s, "    ", "limit", "number & tags.Type<\"int32\"> & tags.Minimum<1>", "Records per page.", None, true);
        if let Some(f) = e.searchable() {
            prop(&mut s, "    ", "search", "string", &format!("Only records whose {} contains this text.", f.name), None, true);
        }
        s.push_str("  };\n}\n");
        files.insert(format!("src/api/structures/{dto}.ts"), s);

        let page = format!("IPage{dto}");
        files.insert(
            format!("src/api/structures/{page}.ts"),
            format!(
                "import {{ IPage }} from \"./IPage\";\nimport {{ {dto} }} from \"./{dto}\";\n\n/** A page of {table}. */\nexport type {page} = {{\n  pagination: IPage.IPagination;\n  data: {dto}[];\n}};\nexport namespace {page} {{\n  /** A page of summaries. */\n  export type ISummary = {{\n    pagination: IPage.IPagination;\n    data: {dto}.ISummary[];\n  }};\n}}\n"
            ),
        );
    }

    fn transformer(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let (dto, table, pascal) = (e.dto(), e.table(), e.pascal());
        let path = format!("src/providers/transformers/transform{pascal}.ts");
        let mut body = String::new();
        let mut cols: Vec<String> = vec!["id".into()];
        cols.extend(self.fks(i).into_iter().map(|(c, _)| c));
        cols.extend(e.fields.iter().map(|f| f.name.to_string()));
        cols.extend(["created_at".into(), "updated_at".into()]);
        for c in &cols {
            let _ = writeln!(body, "    {c}: row.{c},");
        }
        let summary: Vec<String> = std::iter::once("id".to_string())
            .chain(e.fields.iter().filter(|f| f.summary).map(|f| f.name.to_string()))
            .chain(std::iter::once("created_at".to_string()))
            .map(|c| format!("    {c}: row.{c},"))
            .collect();
        files.insert(
            path.clone(),
            format!(
                "import {{ {table} }} from \"@prisma/client\";\n\nimport {{ {dto} }} from \"{}\";\n\n/** A {table} row as the API returns it. */\nexport function transform{pascal}(row: {table}): {dto} {{\n  return {{\n{body}  }};\n}}\n\n/** A {table} row as a list entry. */\nexport function transform{pascal}Summary(row: {table}): {dto}.ISummary {{\n  return {{\n{}\n  }};\n}}\n",
                rel(&path, &format!("src/api/structures/{dto}")),
                summary.join("\n")
            ),
        );
    }

    fn providers(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let (dto, table, pascal) = (e.dto(), e.table(), e.pascal());
        let human = e.singular.replace('_', " ");
        let parents = self.params(i, false);
        let with_id = self.params(i, true);
        let own_id = e.id_param();
        let param_decl = |ps: &[(String, usize)]| ps.iter().map(|(p, _)| format!("  {p}: string & tags.Format<\"uuid\">;\n")).collect::<String>();
        let parent_where: String = parents.iter().filter(|(_, owner)| Some(*owner) == e.parent).map(|(p, owner)| format!("{}: props.{p}, ", self.entities[*owner].fk())).collect();
        let member_prop = if e.authored { "  member: MemberPayload;\n" } else { "" };

        for (method, kind) in [("patch", "index"), ("get", "at"), ("post", "create"), ("put", "update"), ("delete", "erase")] {
            let name = self.provider_name(method, i, matches!(kind, "at" | "update" | "erase"));
            let path = format!("src/providers/{name}.ts");
            let up = |m: &str| rel(&path, m);
            let mut imports = vec![format!("import {{ MyGlobal }} from \"{}\";", up("src/MyGlobal"))];
            let needs_tags = kind != "index" && kind != "create" || !parents.is_empty();
            let (doc, props, ret, body) = match kind {
                "index" => {
                    imports.push(format!("import {{ {dto} }} from \"{}\";", up(&format!("src/api/structures/{dto}"))));
                    imports.push(format!("import {{ IPage{dto} }} from \"{}\";", up(&format!("src/api/structures/IPage{dto}"))));
                    imports.push(format!("import {{ transform{pascal}Summary }} from \"./transformers/transform{pascal}\";"));
                    let search = e
                        .searchable()
                        .map(|f| format!("\n    ...(props.body.search !== undefined\n      ? {{ {}: {{ contains: props.body.search }} }}\n      : {{}}),", f.name))
                        .unwrap_or_default();
                    (
                        format!("List {table}, newest first, {}.", if e.searchable().is_some() { "optionally filtered by text" } else { "page by page" }),
                        format!("{}  body: {dto}.IRequest;\n", param_decl(&parents)),
                        format!("IPage{dto}.ISummary"),
                        format!(
                            "  const page: number = props.body.page ?? 1;\n  const limit: number = props.body.limit ?? 100;\n  const where = {{\n    {parent_where}deleted_at: null,{search}\n  }};\n  const [rows, records] = await Promise.all([\n    MyGlobal.prisma.{table}.findMany({{\n      where,\n      orderBy: {{ created_at: \"desc\" }},\n      skip: (page - 1) * limit,\n      take: limit,\n    }}),\n    MyGlobal.prisma.{table}.count({{ where }}),\n  ]);\n  return {{\n    pagination: {{\n      current: page,\n      limit,\n      records,\n      pages: Math.ceil(records / limit),\n    }},\n    data: rows.map(transform{pascal}Summary),\n  }};\n"
                        ),
                    )
                }
                "at" => {
                    imports.push(format!("import {{ {dto} }} from \"{}\";", up(&format!("src/api/structures/{dto}"))));
                    imports.push(format!("import {{ transform{pascal} }} from \"./transformers/transform{pascal}\";"));
                    (
                        format!("Read one {human}; a deleted one is not found."),
                        param_decl(&with_id),
                        dto.clone(),
                        format!("  const row = await MyGlobal.prisma.{table}.findUniqueOrThrow({{\n    where: {{ id: props.{own_id}, {parent_where}deleted_at: null }},\n  }});\n  return transform{pascal}(row);\n"),
                    )
                }
                "create" => {
                    imports.insert(0, "import { v4 } from \"uuid\";\n".into());
                    imports.push(format!("import {{ {dto} }} from \"{}\";", up(&format!("src/api/structures/{dto}"))));
                    if e.authored {
                        imports.push(format!("import {{ MemberPayload }} from \"{}\";", up("src/decorators/payload/MemberPayload")));
                    }
                    imports.push(format!("import {{ toISOStringSafe }} from \"{}\";", up("src/utils/toISOStringSafe")));
                    imports.push(format!("import {{ transform{pascal} }} from \"./transformers/transform{pascal}\";"));
                    let mut data = String::from("      id: v4(),\n");
                    for (col, owner) in self.fks(i) {
                        if owner == self.members {
                            let _ = writeln!(data, "      {col}: props.member.id,");
                        } else {
                            let p = &self.entities[owner].id_param();
                            let _ = writeln!(data, "      {col}: props.{p},");
                        }
                    }
                    for f in &e.fields {
                        let value = match (f.create, f.nullable, f.ty) {
                            (true, true, _) => format!("props.body.{} ?? null", f.name),
                            (true, false, _) => format!("props.body.{}", f.name),
                            (false, _, Ty::Enum(_, values)) => format!("\"{}\"", values[0]),
                            (false, true, _) => "null".into(),
                            (false, false, Ty::Int) => "0".into(),
                            (false, false, _) => "\"\"".into(),
                        };
                        let _ = writeln!(data, "      {}: {value},", f.name);
                    }
                    data.push_str("      created_at: now,\n      updated_at: now,\n      deleted_at: null,\n");
                    (
                        format!("Create a {human}.\n *\n * Inserts one row into {table}."),
                        format!("{member_prop}{}  body: {dto}.ICreate;\n", param_decl(&parents)),
                        dto.clone(),
                        format!("  const now: string = toISOStringSafe(new Date());\n  const created = await MyGlobal.prisma.{table}.create({{\n    data: {{\n{data}    }},\n  }});\n  return transform{pascal}(created);\n"),
                    )
                }
                "update" => {
                    imports.push(format!("import {{ {dto} }} from \"{}\";", up(&format!("src/api/structures/{dto}"))));
                    if e.authored {
                        imports.push(format!("import {{ MemberPayload }} from \"{}\";", up("src/decorators/payload/MemberPayload")));
                    }
                    imports.push(format!("import {{ toISOStringSafe }} from \"{}\";", up("src/utils/toISOStringSafe")));
                    imports.push(format!("import {{ transform{pascal} }} from \"./transformers/transform{pascal}\";"));
                    let mut data = String::new();
                    for f in e.fields.iter().filter(|f| f.update) {
                        let _ = writeln!(data, "      {}: props.body.{} ?? undefined,", f.name, f.name);
                    }
                    data.push_str("      updated_at: toISOStringSafe(new Date()),\n");
                    let owner = if e.authored { format!(", {}: props.member.id", self.entities[self.members].fk()) } else { String::new() };
                    (
                        format!("Update a {human}{}.", if e.authored { " written by the member" } else { "" }),
                        format!("{member_prop}{}  body: {dto}.IUpdate;\n", param_decl(&with_id)),
                        dto.clone(),
                        format!("  const updated = await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{own_id}{owner} }},\n    data: {{\n{data}    }},\n  }});\n  return transform{pascal}(updated);\n"),
                    )
                }
                _ => {
                    if e.authored {
                        imports.push(format!("import {{ MemberPayload }} from \"{}\";", up("src/decorators/payload/MemberPayload")));
                    }
                    imports.push(format!("import {{ toISOStringSafe }} from \"{}\";", up("src/utils/toISOStringSafe")));
                    let owner = if e.authored { format!(", {}: props.member.id", self.entities[self.members].fk()) } else { String::new() };
                    (
                        format!("Delete a {human} (soft delete: sets deleted_at)."),
                        format!("{member_prop}{}", param_decl(&with_id)),
                        "void".into(),
                        format!("  await MyGlobal.prisma.{table}.update({{\n    where: {{ id: props.{own_id}{owner} }},\n    data: {{ deleted_at: toISOStringSafe(new Date()) }},\n  }});\n"),
                    )
                }
            };
            if needs_tags {
                imports.insert(0, "import { tags } from \"typia\";\n".into());
            }
            files.insert(
                path,
                format!("{}\n\n/**\n * {doc}\n */\nexport async function {name}(props: {{\n{props}}}): Promise<{ret}> {{\n{body}}}\n", imports.join("\n")),
            );
        }
    }

    fn controller(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let dir = self.dir(i);
        let class = format!("{}Controller", pascal(&dir));
        let path = format!("src/controllers/{dir}/{class}.ts");
        let up = |m: &str| rel(&path, m);
        let base = self.route(i, false).join("/");
        let parents = self.params(i, false);
        let own = e.id_param();
        let mut imports = vec![
            "import { Controller } from \"@nestjs/common\";".to_string(),
            "import { TypedBody, TypedParam, TypedRoute } from \"@nestia/core\";".into(),
            "import { tags } from \"typia\";\n".into(),
            format!("import {{ {dto} }} from \"{}\";", up(&format!("src/api/structures/{dto}"))),
            format!("import {{ IPage{dto} }} from \"{}\";", up(&format!("src/api/structures/IPage{dto}"))),
        ];
        if e.authored {
            imports.push(format!("import {{ MemberAuth }} from \"{}\";", up("src/decorators/MemberAuth")));
            imports.push(format!("import {{ MemberPayload }} from \"{}\";", up("src/decorators/payload/MemberPayload")));
        }
        let mut methods = String::new();
        for (method, kind, verb) in [("patch", "index", "Patch"), ("get", "at", "Get"), ("post", "create", "Post"), ("put", "update", "Put"), ("delete", "erase", "Delete")] {
            let with_id = matches!(kind, "at" | "update" | "erase");
            let provider = self.provider_name(method, i, with_id);
            imports.push(format!("import {{ {provider} }} from \"{}\";", up(&format!("src/providers/{provider}"))));
            let mut params: Vec<String> = Vec::new();
            let mut args: Vec<String> = Vec::new();
            if e.authored && matches!(kind, "create" | "update" | "erase") {
                params.push("@MemberAuth() member: MemberPayload".into());
                args.push("member".into());
            }
            let mut ps = parents.clone();
            if with_id {
                ps.push((own.clone(), i));
            }
            for (p, _) in &ps {
                params.push(format!("@TypedParam(\"{p}\") {p}: string & tags.Format<\"uuid\">"));
                args.push(p.clone());
            }
            let (body_ty, ret) = match kind {
                "index" => (Some(format!("{dto}.IRequest")), format!("IPage{dto}.ISummary")),
                "at" => (None, dto.clone()),
                "create" => (Some(format!("{dto}.ICreate")), dto.clone()),
                "update" => (Some(format!("{dto}.IUpdate")), dto.clone()),
                _ => (None, "void".into()),
            };
            if let Some(b) = body_ty {
                params.push(format!("@TypedBody() body: {b}"));
                args.push("body".into());
            }
            let route_arg = if with_id { format!("\":{own}\"") } else { String::new() };
            let _ = write!(
                methods,
                "\n  /** {} */\n  @TypedRoute.{verb}({route_arg})\n  public async {kind}(\n    {},\n  ): Promise<{ret}> {{\n    return {provider}({{ {} }});\n  }}\n",
                match kind {
                    "index" => "List, search and paginate.",
                    "at" => "Read one.",
                    "create" => "Create one.",
                    "update" => "Update one.",
                    _ => "Delete one.",
                },
                params.join(",\n    "),
                args.join(", ")
            );
        }
        files.insert(path, format!("{}\n\n@Controller(\"/{base}\")\nexport class {class} {{{methods}}}\n", imports.join("\n")));
    }

    fn sdk(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let dir = self.dir(i);
        let path = format!("src/api/functional/{dir}/index.ts");
        let up = |m: &str| rel(&path, m);
        let class = format!("{}Controller", pascal(&dir));
        let mut s = format!(
            "/**\n * @packageDocumentation\n * @module api.functional.{}\n * @nestia Generated by Nestia - https://github.com/samchon/nestia\n */\nimport type {{ IConnection }} from \"@nestia/fetcher\";\nimport {{ PlainFetcher }} from \"@nestia/fetcher/lib/PlainFetcher\";\nimport type {{ tags }} from \"typia\";\n\nimport type {{ {dto} }} from \"{}\";\nimport type {{ IPage{dto} }} from \"{}\";\n",
            self.sdk_path(i),
            up(&format!("src/api/structures/{dto}")),
            up(&format!("src/api/structures/IPage{dto}"))
        );
        let children: Vec<&Entity> = self.entities.iter().filter(|c| c.parent == Some(i)).collect();
        if !children.is_empty() {
            s.push('\n');
        }
        for c in children {
            let _ = writeln!(s, "export * as {} from \"./{}/index\";", c.segment, c.segment);
        }
        let parents = self.params(i, false);
        let own = e.id_param();
        for (kind, http, with_id) in [("index", "PATCH", false), ("at", "GET", true), ("create", "POST", false), ("update", "PUT", true), ("erase", "DELETE", true)] {
            let mut ps = parents.clone();
            if with_id {
                ps.push((own.clone(), i));
            }
            let (input, output) = match kind {
                "index" => (Some(format!("{dto}.IRequest")), format!("IPage{dto}.ISummary")),
                "at" => (None, dto.clone()),
                "create" => (Some(format!("{dto}.ICreate")), dto.clone()),
                "update" => (Some(format!("{dto}.IUpdate")), dto.clone()),
                _ => (None, "void".into()),
            };
            let route = self.route(i, with_id).join("/");
            let params: String = ps.iter().map(|(p, _)| format!(",\n  {p}: string & tags.Format<\"uuid\">")).collect();
            let body_param = if input.is_some() { format!(",\n  body: {kind}.Body") } else { String::new() };
            let path_args = ps.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>().join(", ");
            let path_fn_params = ps.iter().map(|(p, _)| format!("{p}: string")).collect::<Vec<_>>().join(", ");
            let mut url = String::new();
            for seg in self.route(i, with_id) {
                if let Some(p) = seg.strip_prefix(':') {
                    let _ = write!(url, "/${{encodeURIComponent({p} ?? \"null\")}}");
                } else {
                    let _ = write!(url, "/{seg}");
                }
            }
            let _ = write!(
                s,
                "\n/**\n * @controller {class}.{kind}\n * @path {http} /{route}\n */\nexport async function {kind}(\n  connection: IConnection{params}{body_param},\n): Promise<{kind}.Output> {{\n  return PlainFetcher.fetch(\n    connection,\n    {{ ...{kind}.METADATA, path: {kind}.path({path_args}) }},\n    {},\n  );\n}}\nexport namespace {kind} {{\n{}  export type Output = {output};\n  export const METADATA = {{ method: \"{http}\", path: \"/{route}\" }} as const;\n  export const path = ({path_fn_params}): string => `{url}`;\n}}\n",
                if input.is_some() { "body" } else { "undefined" },
                input.map(|t| format!("  export type Body = {t};\n")).unwrap_or_default()
            );
        }
        files.insert(path, s);
    }

    /// `src/api/functional/index.ts` and one index per prefix.
    fn sdk_indexes(&self, files: &mut BTreeMap<String, String>) {
        let mut prefixes: Vec<&str> = self.entities.iter().map(|e| e.prefix.as_str()).collect();
        prefixes.dedup();
        let mut root = String::from("/**\n * @packageDocumentation\n * @module api.functional\n */\n");
        for p in &prefixes {
            let _ = writeln!(root, "export * as {p} from \"./{p}/index\";");
            let mut s = format!("/**\n * @packageDocumentation\n * @module api.functional.{p}\n */\n");
            for e in self.entities.iter().filter(|e| e.prefix == *p && e.parent.is_none()) {
                let _ = writeln!(s, "export * as {} from \"./{}/index\";", e.segment, e.segment);
            }
            files.insert(format!("src/api/functional/{p}/index.ts"), s);
        }
        files.insert("src/api/functional/index.ts".into(), root);
    }

    fn tests(&self, i: usize, files: &mut BTreeMap<String, String>) {
        let e = &self.entities[i];
        let dto = e.dto();
        let dir = format!("test/features/api/{}", self.dir(i));
        let snake = e.snake();
        let sdk = format!("api.functional.{}", self.sdk_path(i));
        let prepare = format!("prepare_random_{snake}");
        // Test data helper.
        let mut values = String::new();
        for f in e.fields.iter().filter(|f| f.create) {
            let _ = writeln!(values, "    {}: {},", f.name, self.sample(f));
        }
        files.insert(
            format!("{dir}/{prepare}.ts"),
            format!(
                "import {{ RandomGenerator }} from \"@nestia/e2e\";\nimport {{ {dto} }} from \"@ORGANIZATION/PROJECT-api/lib/structures/{dto}\";\n\n/** Random creation input for {table}, with optional overrides. */\nexport function {prepare}(input?: Partial<{dto}.ICreate>): {dto}.ICreate {{\n  return {{\n{values}    ...input,\n  }};\n}}\n",
                table = e.table()
            ),
        );
        // The parent chain is created first; each test gets the path arguments it needs.
        let mut setup = String::new();
        let mut parent_args: Vec<String> = Vec::new();
        let mut imports = vec![
            "import { TestValidator } from \"@nestia/e2e\";".to_string(),
            "import api from \"@ORGANIZATION/PROJECT-api\";".into(),
            format!("import {{ {dto} }} from \"@ORGANIZATION/PROJECT-api/lib/structures/{dto}\";"),
        ];
        let mut chain = Vec::new();
        let mut cur = e.parent;
        while let Some(p) = cur {
            chain.push(p);
            cur = self.entities[p].parent;
        }
        chain.reverse();
        for p in chain {
            let pe = &self.entities[p];
            let psnake = pe.snake();
            let pvar = camel(&pe.singular);
            let rel_dir = rel(&format!("{dir}/x.ts"), &format!("test/features/api/{}/prepare_random_{psnake}", self.dir(p)));
            imports.push(format!("import {{ prepare_random_{psnake} }} from \"{rel_dir}\";"));
            let args = parent_args.iter().map(|a| format!("{a}, ")).collect::<String>();
            let _ = writeln!(setup, "  const {pvar} = await api.functional.{}.create(connection, {args}prepare_random_{psnake}());", self.sdk_path(p));
            parent_args.push(format!("{pvar}.id"));
        }
        imports.push(format!("import {{ {prepare} }} from \"./{prepare}\";"));
        let pa = parent_args.iter().map(|a| format!("{a}, ")).collect::<String>();
        let check_field = e.fields.iter().find(|f| f.create).map(|f| f.name).unwrap_or("id");
        let cases: Vec<(&str, String)> = vec![
            ("create", format!("  const input: {dto}.ICreate = {prepare}();\n  const created: {dto} = await {sdk}.create(connection, {pa}input);\n  TestValidator.equals(\"{check_field}\")(input.{check_field})(created.{check_field});\n")),
            ("at", format!("  const created: {dto} = await {sdk}.create(connection, {pa}{prepare}());\n  const read: {dto} = await {sdk}.at(connection, {pa}created.id);\n  TestValidator.equals(\"id\")(created.id)(read.id);\n")),
            ("index", format!("  await {sdk}.create(connection, {pa}{prepare}());\n  const page = await {sdk}.index(connection, {pa}{{ page: 1, limit: 10 }});\n  TestValidator.predicate(\"has records\")(page.data.length > 0);\n")),
            ("update", {
                let upd = e.fields.iter().find(|f| f.update && f.create);
                let set = upd.map(|f| format!("{}: {}", f.name, self.sample(f))).unwrap_or_default();
                format!("  const created: {dto} = await {sdk}.create(connection, {pa}{prepare}());\n  const updated: {dto} = await {sdk}.update(connection, {pa}created.id, {{ {set} }});\n  TestValidator.equals(\"id\")(created.id)(updated.id);\n")
            }),
            ("erase", format!("  const created: {dto} = await {sdk}.create(connection, {pa}{prepare}());\n  await {sdk}.erase(connection, {pa}created.id);\n  await TestValidator.error(\"erased\")(() => {sdk}.at(connection, {pa}created.id));\n")),
        ];
        let mut cases = cases;
        if let Some(f) = e.searchable()
            && f.create
        {
            cases.push((
                "index_search",
                format!(
                    "  const created: {dto} = await {sdk}.create(connection, {pa}{prepare}());\n  const page = await {sdk}.index(connection, {pa}{{ search: created.{} }});\n  TestValidator.predicate(\"found\")(page.data.some((s) => s.id === created.id));\n",
                    f.name
                ),
            ));
        }
        for (case, body) in cases {
            let name = format!("test_api_{snake}_{case}");
            let mut im = imports.clone();
            if body.contains("RandomGenerator") {
                im[0] = "import { RandomGenerator, TestValidator } from \"@nestia/e2e\";".into();
            }
            if !body.contains(&prepare) {
                im.retain(|l| !l.contains(&format!("{{ {prepare} }}")));
            }
            if !body.contains(&format!("{dto}")) || !body.contains(&format!(": {dto}")) && !body.contains(&format!("{dto}.")) {
                im.retain(|l| !l.contains(&format!("{{ {dto} }}")));
            }
            files.insert(
                format!("{dir}/{name}.ts"),
                format!("{}\n\nexport async function {name}(connection: api.IConnection): Promise<void> {{\n{setup}{body}}}\n", im.join("\n")),
            );
        }
    }

    fn prisma(&self, files: &mut BTreeMap<String, String>) {
        let mut schemas: BTreeMap<String, String> = BTreeMap::new();
        schemas.insert(
            "schema-00-main".into(),
            "datasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\n\ngenerator client {\n  provider = \"prisma-client-js\"\n}\n".into(),
        );
        let mut client = String::from(STUB_PRISMA_HEAD);
        let mut delegates = String::new();
        let mut enums: BTreeMap<&str, &[&str]> = BTreeMap::new();
        let m = &self.entities[self.members];
        // The session table the authorizer reads.
        let sessions = format!("{}_member_sessions", m.prefix);
        let back = |target: usize| -> Vec<(String, String)> {
            self.entities
                .iter()
                .enumerate()
                .filter(|(j, _)| self.fks(*j).iter().any(|(_, t)| *t == target))
                .map(|(_, c)| (plural(&c.singular), c.table()))
                .collect()
        };
        for (i, e) in self.entities.iter().enumerate() {
            let table = e.table();
            let mut s = format!("/// {}\nmodel {table} {{\n  /// Primary key.\n  id {} @id @db.Uuid\n", e.description, "String");
            let mut row = format!("export type {table} = {{\n  id: string;\n");
            for (fk, target) in self.fks(i) {
                let _ = writeln!(s, "  /// The owning {}.\n  {fk} String @db.Uuid", self.entities[target].table());
                let _ = writeln!(row, "  {fk}: string;");
            }
            for f in &e.fields {
                let (ty, attr) = match f.ty {
                    Ty::Str(max) => ("String".to_string(), format!(" @db.VarChar({max})")),
                    Ty::Text => ("String".into(), String::new()),
                    Ty::Email => ("String".into(), " @unique @db.VarChar(320)".into()),
                    Ty::Int => ("Int".into(), String::new()),
                    Ty::Enum(name, values) => {
                        enums.insert(name, values);
                        (name.to_string(), String::new())
                    }
                };
                let _ = writeln!(s, "  /// {}\n  {} {ty}{}{attr}", f.doc, f.name, if f.nullable { "?" } else { "" });
                let _ = writeln!(row, "  {}: {};", f.name, self.row_type(f));
            }
            s.push_str("  created_at DateTime @db.Timestamptz\n  updated_at DateTime @db.Timestamptz\n  deleted_at DateTime? @db.Timestamptz\n");
            row.push_str("  created_at: string;\n  updated_at: string;\n  deleted_at: string | null;\n};\n");
            let mut rels = String::new();
            for (fk, target) in self.fks(i) {
                let t = &self.entities[target];
                let _ = writeln!(rels, "  {} {} @relation(fields: [{fk}], references: [id], onDelete: Cascade)", t.singular, t.table());
            }
            for (name, child) in back(i) {
                let _ = writeln!(rels, "  {name} {child}[]");
            }
            if i == self.members {
                let _ = writeln!(rels, "  sessions {sessions}[]");
            }
            if !rels.is_empty() {
                s.push('\n');
                s.push_str(&rels);
            }
            for (fk, _) in self.fks(i) {
                let _ = writeln!(s, "\n  @@index([{fk}])");
            }
            s.push_str("}\n");
            let entry = schemas.entry(e.schema_file.clone()).or_default();
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(&s);
            client.push_str(&row);
            let _ = writeln!(delegates, "  readonly {table}: Delegate<{table}>;");
        }
        // Sessions live with the members.
        let actors = schemas.entry(m.schema_file.clone()).or_default();
        let _ = write!(
            actors,
            "\n/// A login session of a member; the bearer token maps here.\nmodel {sessions} {{\n  id String @id @db.Uuid\n  {fk} String @db.Uuid\n  /// Opaque bearer token.\n  token String @unique\n  created_at DateTime @db.Timestamptz\n  deleted_at DateTime? @db.Timestamptz\n\n  member {members} @relation(fields: [{fk}], references: [id], onDelete: Cascade)\n}}\n",
            fk = m.fk(),
            members = m.table()
        );
        let _ = write!(client, "export type {sessions} = {{\n  id: string;\n  {}: string;\n  token: string;\n  created_at: string;\n  deleted_at: string | null;\n}};\n", m.fk());
        let _ = writeln!(delegates, "  readonly {sessions}: Delegate<{sessions}>;");
        for (name, values) in &enums {
            let last = schemas.keys().last().cloned().unwrap();
            let _ = write!(schemas.get_mut(&last).unwrap(), "\nenum {name} {{\n{}}}\n", values.iter().map(|v| format!("  {v}\n")).collect::<String>());
        }
        let _ = write!(client, "\nexport declare class PrismaClient {{\n{delegates}}}\n");
        files.insert("stubs/prisma-client.d.ts".into(), client);
        for (name, text) in schemas {
            files.insert(format!("prisma/schema/{name}.prisma"), text);
        }
    }
}

const STUB_PRISMA_HEAD: &str = "// Stand-in for the generated @prisma/client: one row type and one delegate per model.\n\ntype Where<Row> = {\n  [K in keyof Row]?: Row[K] | null | { contains?: string; in?: Row[K][] };\n};\ntype OrderBy<Row> = { [K in keyof Row]?: \"asc\" | \"desc\" };\n\nexport interface Delegate<Row> {\n  findMany(args?: { where?: Where<Row>; orderBy?: OrderBy<Row>; skip?: number; take?: number }): Promise<Row[]>;\n  findFirst(args?: { where?: Where<Row> }): Promise<Row | null>;\n  findUniqueOrThrow(args: { where: Where<Row> }): Promise<Row>;\n  count(args?: { where?: Where<Row> }): Promise<number>;\n  create(args: { data: Row }): Promise<Row>;\n  update(args: { where: Where<Row>; data: Partial<Row> }): Promise<Row>;\n  delete(args: { where: Where<Row> }): Promise<Row>;\n}\n\n";

const STUB_NEST: &str = "// Stand-in for @nestjs/common: only what the backend uses.\n\nexport declare function Controller(prefix?: string): ClassDecorator;\n\nexport interface ExecutionContext {\n  switchToHttp(): { getRequest<T = any>(): T };\n}\n\nexport declare function createParamDecorator<T = unknown>(\n  factory: (data: T, ctx: ExecutionContext) => unknown,\n): (data?: T) => ParameterDecorator;\n\nexport declare class HttpException extends Error {\n  constructor(message: string, status: number);\n}\nexport declare class ForbiddenException extends HttpException {\n  constructor(message?: string);\n}\nexport declare class NotFoundException extends HttpException {\n  constructor(message?: string);\n}\n";

const STUB_NESTIA_CORE: &str = "// Stand-in for @nestia/core.\n\nexport declare namespace TypedRoute {\n  function Get(path?: string): MethodDecorator;\n  function Post(path?: string): MethodDecorator;\n  function Put(path?: string): MethodDecorator;\n  function Patch(path?: string): MethodDecorator;\n  function Delete(path?: string): MethodDecorator;\n}\nexport declare function TypedBody(): ParameterDecorator;\nexport declare function TypedParam(name: string): ParameterDecorator;\n";

const STUB_FETCHER: &str = "// Stand-in for @nestia/fetcher.\n\nexport interface IConnection {\n  host: string;\n  headers?: Record<string, string>;\n}\n";

const STUB_PLAIN_FETCHER: &str = "// Stand-in for @nestia/fetcher/lib/PlainFetcher.\nimport type { IConnection } from \"@nestia/fetcher\";\n\nexport declare namespace PlainFetcher {\n  function fetch<Output = any>(\n    connection: IConnection,\n    route: { method: string; path: string },\n    input?: unknown,\n  ): Promise<Output>;\n}\n";

const STUB_E2E: &str = "// Stand-in for @nestia/e2e.\n\nexport declare namespace TestValidator {\n  function equals(title: string): <T>(expected: T) => (actual: T) => void;\n  function predicate(title: string): (condition: boolean) => void;\n  function error(title: string): (task: () => Promise<unknown>) => Promise<void>;\n}\nexport declare namespace RandomGenerator {\n  function alphabets(length: number): string;\n  function paragraph(sentences: number): string;\n}\n";

const STUB_TYPIA: &str = "// Stand-in for typia's type tags.\n\nexport declare namespace tags {\n  type TagBase<Kind extends string, Value> = {\n    \"typia.tag\"?: { kind: Kind; value: Value };\n  };\n  type Format<V extends \"uuid\" | \"email\" | \"date-time\" | \"uri\"> = TagBase<\"format\", V>;\n  type MinLength<N extends number> = TagBase<\"minLength\", N>;\n  type MaxLength<N extends number> = TagBase<\"maxLength\", N>;\n  type Minimum<N extends number> = TagBase<\"minimum\", N>;\n  type Type<V extends \"int32\" | \"uint32\" | \"double\"> = TagBase<\"type\", V>;\n}\nexport declare function assert<T>(input: unknown): T;\n";

const STUB_UUID: &str = "// Stand-in for uuid.\n\nexport declare function v4(): string;\n";

const MY_GLOBAL: &str = "import { PrismaClient } from \"@prisma/client\";\n\n/** Process-wide singletons: the database client and the environment. */\nexport class MyGlobal {\n  public static readonly prisma: PrismaClient = new PrismaClient();\n\n  public static get env(): MyGlobal.IEnvironments {\n    return environments;\n  }\n}\nexport namespace MyGlobal {\n  export interface IEnvironments {\n    API_PORT: `${number}`;\n    JWT_SECRET_KEY: string;\n  }\n}\n\nconst environments: MyGlobal.IEnvironments = {\n  API_PORT: \"37001\",\n  JWT_SECRET_KEY: \"fixture-secret\",\n};\n";

const TO_ISO: &str = "/** An ISO 8601 string for a date, or for now when the date is invalid. */\nexport function toISOStringSafe(date: Date): string {\n  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();\n}\n";

const IPAGE: &str = "import { tags } from \"typia\";\n\n/** A page of records with its pagination info. */\nexport type IPage<T> = {\n  pagination: IPage.IPagination;\n  data: T[];\n};\nexport namespace IPage {\n  /** Where a page sits in the whole list. */\n  export interface IPagination {\n    current: number & tags.Type<\"uint32\">;\n    limit: number & tags.Type<\"uint32\">;\n    records: number & tags.Type<\"uint32\">;\n    pages: number & tags.Type<\"uint32\">;\n  }\n}\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(rel("src/providers/a.ts", "src/MyGlobal"), "../MyGlobal");
        assert_eq!(rel("src/providers/a.ts", "src/providers/transformers/t"), "./transformers/t");
        assert_eq!(rel("src/controllers/bbs/articles/C.ts", "src/api/structures/I"), "../../../api/structures/I");
    }

    #[test]
    fn names_follow_autobe() {
        let entities = bbs();
        let g = Gen { entities: &entities, members: 0 };
        assert_eq!(g.provider_name("post", 3, false), "postBbsArticlesArticleIdComments");
        assert_eq!(g.provider_name("get", 3, true), "getBbsArticlesArticleIdCommentsCommentId");
        assert_eq!(g.dir(3), "bbs/articles/comments");
        assert_eq!(entities[1].id_param(), "categoryId");
        assert_eq!(entities[1].table(), "bbs_categories");
        assert_eq!(entities[3].fk(), "bbs_article_comment_id");
    }

    #[test]
    fn scale_output_is_deterministic_and_about_twenty_files_per_entity() {
        let a = generate(&scale(10), "scale");
        let b = generate(&scale(10), "scale");
        assert_eq!(a, b);
        assert!(a.len() >= 10 * 16, "{} files", a.len());
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
    fn fixture_meets_the_issue_minimums() {
        let files = generate(&bbs(), "bbs-backend");
        let count = |prefix: &str| files.keys().filter(|p| p.starts_with(prefix)).count();
        let models: usize = files.iter().filter(|(p, _)| p.ends_with(".prisma")).map(|(_, t)| t.lines().filter(|l| l.starts_with("model ")).count()).sum();
        assert!(models >= 6, "{models} models");
        assert!(files.keys().filter(|p| p.starts_with("prisma/schema/") && p.ends_with(".prisma")).count() >= 3);
        assert!(count("src/api/structures/I") >= 8);
        assert!(files.keys().filter(|p| p.starts_with("src/providers/") && !p.contains("/transformers/") && !p.contains("/authorize/")).count() >= 25);
        let tests = files.keys().filter(|p| p.starts_with("test/features/") && p.contains("/test_api_")).count();
        assert!(tests >= 25, "{tests} tests");
        assert!(files.values().any(|t| t.contains("Maps to bbs_articles.title")));
    }
}

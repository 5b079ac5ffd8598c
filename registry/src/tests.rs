//! Extraction tests: each feeds a small file to [`index_file`] and compares a compact rendering
//! of what came out with an inline snapshot. Update snapshots with `UPDATE_EXPECT=1 cargo test`.

use expect_test::{Expect, expect};

use crate::*;

/// Render symbols, imports and diagnostics one per line.
fn render(file: &FileIndex) -> String {
    let mut out = String::new();
    for s in &file.symbols {
        let mut flags = Vec::new();
        if s.exported {
            flags.push("export");
        }
        if s.default_export {
            flags.push("default");
        }
        if s.declaration {
            flags.push("declare");
        }
        out.push_str(&format!("{} {} [{}] {}-{} `{}`", s.kind, s.name, flags.join(","), s.span.start.line + 1, s.span.end.line + 1, s.signature));
        if let Some(doc) = &s.doc {
            out.push_str(&format!(" doc={doc:?}"));
        }
        for d in &s.decorators {
            out.push_str(&format!(" @{}{:?}", d.name, d.args));
        }
        if let Some(src) = &s.source {
            out.push_str(&format!(" from={src:?}"));
        }
        out.push('\n');
    }
    for i in &file.imports {
        out.push_str(&format!(
            "{} {:?} names={:?} default={:?} ns={:?} type_only={} star={}\n",
            if i.reexport { "reexport" } else { "import" },
            i.specifier,
            i.names.iter().map(|n| if n.imported == n.local { n.imported.clone() } else { format!("{} as {}", n.imported, n.local) }).collect::<Vec<_>>(),
            i.default,
            i.namespace,
            i.type_only,
            i.star
        ));
    }
    for d in &file.diagnostics {
        out.push_str(&format!("diag {}:{} {}\n", d.pos.line + 1, d.pos.col, d.message));
    }
    out
}

fn check(path: &str, src: &str, expect: Expect) {
    let file = index_file(path, src.as_bytes()).expect("a registry file");
    expect.assert_eq(&render(&file));
}

#[test]
fn dto_type_with_namespace_variants_and_jsdoc() {
    check(
        "src/api/structures/IBbsArticle.ts",
        r#"import { tags } from "typia";

/** An article of the board. */
export type IBbsArticle = {
  /**
   * Primary key.
   *
   * Maps to bbs_articles.id
   */
  id: string & tags.Format<"uuid">;
  title: string;
};
export namespace IBbsArticle {
  /** Creation info. */
  export type ICreate = {
    title: string & tags.MinLength<3>;
  };
  export namespace IRequest {
    export type ISort = "title" | "created_at";
  }
}
"#,
        expect![[r#"
            type IBbsArticle [export] 4-12 `type IBbsArticle = {…}` doc="An article of the board."
            property IBbsArticle.id [export] 10-10 `id: string & tags.Format<"uuid">` doc="Primary key."
            property IBbsArticle.title [export] 11-11 `title: string`
            namespace IBbsArticle [export] 13-21 `namespace IBbsArticle`
            type IBbsArticle.ICreate [export] 15-17 `type ICreate = {…}` doc="Creation info."
            property IBbsArticle.ICreate.title [export] 16-16 `title: string & tags.MinLength<3>`
            namespace IBbsArticle.IRequest [export] 18-20 `namespace IRequest`
            type IBbsArticle.IRequest.ISort [export] 19-19 `type ISort = "title" | "created_at"`
            import "typia" names=["tags"] default=None ns=None type_only=false star=false
        "#]],
    );
}

#[test]
fn controller_with_route_decorators() {
    check(
        "src/controllers/bbs/articles/BbsArticlesController.ts",
        r#"import { Controller } from "@nestjs/common";
import core from "@nestia/core";

@Controller("bbs/articles")
export class BbsArticlesController {
  /** Read one article. */
  @core.TypedRoute.Get(":id")
  public async at(@core.TypedParam("id") id: string): Promise<IBbsArticle> {
    return getBbsArticlesById({ id });
  }

  @core.TypedRoute.Patch()
  @Auth(`member`, other)
  public index(@core.TypedBody() body: IBbsArticle.IRequest) {}

  private readonly cache = new Map<string, number>();
  public static count: number = 0;
}
"#,
        expect![[r#"
            class BbsArticlesController [export] 4-18 `class BbsArticlesController` @Controller[Some("bbs/articles")]
            method BbsArticlesController.at [export] 7-10 `at(@core.TypedParam("id") id: string): Promise<IBbsArticle>` doc="Read one article." @core.TypedRoute.Get[Some(":id")]
            method BbsArticlesController.index [export] 12-14 `index(@core.TypedBody() body: IBbsArticle.IRequest)` @core.TypedRoute.Patch[] @Auth[Some("member"), None]
            property BbsArticlesController.cache [] 16-16 `private readonly cache = new Map<string, number>()`
            property BbsArticlesController.count [export] 17-17 `public static count: number`
            import "@nestjs/common" names=["Controller"] default=None ns=None type_only=false star=false
            import "@nestia/core" names=[] default=Some("core") ns=None type_only=false star=false
        "#]],
    );
}

#[test]
fn functions_overloads_arrows_and_variables() {
    check(
        "src/utils/x.ts",
        r#"export function pick(a: string): string;
export function pick(a: number): number;
export function pick(a: any): any { return a; }
export const double = (x: number): number => x * 2;
export const LIMIT = 100;
const hidden = 1;
const helper = async (p: { id: string }) => p.id;
export async function getBbsArticles(props: { body: IBbsArticle.IRequest }): Promise<IPage<IBbsArticle.ISummary>> {
  function nested() {}
  return helper(props);
}
"#,
        expect![[r#"
            function pick [export] 1-1 `pick(a: string): string`
            function pick [export] 2-2 `pick(a: number): number`
            function pick [export] 3-3 `pick(a: any): any`
            function double [export] 4-4 `double(x: number): number`
            variable LIMIT [export] 5-5 `const LIMIT = 100`
            function helper [] 7-7 `helper(p: { id: string })`
            function getBbsArticles [export] 8-11 `getBbsArticles(props: { body: IBbsArticle.IRequest }): Promise<IPage<IBbsArticle.ISummary>>`
        "#]],
    );
}

#[test]
fn class_with_static_members_and_merged_namespace() {
    check(
        "src/MyGlobal.ts",
        r#"import { PrismaClient } from "@prisma/client";

export class MyGlobal {
  public static readonly prisma: PrismaClient = new PrismaClient();
  public static get env(): MyGlobal.IEnvironments { return {} as any; }
}
export namespace MyGlobal {
  export interface IEnvironments {
    API_PORT: `${number}`;
    secret(): string;
  }
  export enum Mode { Dev, Prod }
}
"#,
        expect![[r#"
            class MyGlobal [export] 3-6 `class MyGlobal`
            property MyGlobal.prisma [export] 4-4 `public static readonly prisma: PrismaClient`
            method MyGlobal.env [export] 5-5 `env(): MyGlobal.IEnvironments`
            namespace MyGlobal [export] 7-13 `namespace MyGlobal`
            interface MyGlobal.IEnvironments [export] 8-11 `interface IEnvironments`
            property MyGlobal.IEnvironments.API_PORT [export] 9-9 `API_PORT: `${number}``
            method MyGlobal.IEnvironments.secret [export] 10-10 `secret(): string`
            enum MyGlobal.Mode [export] 12-12 `enum Mode`
            import "@prisma/client" names=["PrismaClient"] default=None ns=None type_only=false star=false
        "#]],
    );
}

#[test]
fn imports_reexports_and_defaults() {
    check(
        "src/api/index.ts",
        r#"import * as api from "./module";
import type { IConnection } from "@nestia/fetcher";
import def, { type A, b as c } from "./x";
import "./side-effect";
export * from "./module";
export * as functional from "./functional";
export { a, b as bee } from "./y";
export type { T } from "./t";
function local() {}
export { local, local as alias };
export default api;
"#,
        expect![[r#"
            reexport functional [export] 6-6 `export * as functional from "./functional";` from="./functional"
            reexport a [export] 7-7 `export { a, b as bee } from "./y";` from="./y"
            reexport bee [export] 7-7 `export { a, b as bee } from "./y";` from="./y"
            reexport T [export] 8-8 `export type { T } from "./t";` from="./t"
            function local [export] 9-9 `local()`
            reexport alias [export] 10-10 `export { local, local as alias };`
            import "./module" names=[] default=None ns=Some("api") type_only=false star=false
            import "@nestia/fetcher" names=["IConnection"] default=None ns=None type_only=true star=false
            import "./x" names=["A", "b as c"] default=Some("def") ns=None type_only=false star=false
            import "./side-effect" names=[] default=None ns=None type_only=false star=false
            reexport "./module" names=[] default=None ns=None type_only=false star=true
            reexport "./functional" names=[] default=None ns=Some("functional") type_only=false star=false
            reexport "./y" names=["a", "b as bee"] default=None ns=None type_only=false star=false
            reexport "./t" names=["T"] default=None ns=None type_only=true star=false
        "#]],
    );
}

#[test]
fn members_of_a_class_exported_later_follow_it_except_private_ones() {
    check(
        "src/c.ts",
        "class C {\n  private hidden(): void {}\n  private secret = 1;\n  shown(): void {}\n}\nexport { C };\n",
        expect![[r#"
            class C [export] 1-5 `class C`
            method C.hidden [] 2-2 `hidden(): void`
            property C.secret [] 3-3 `private secret = 1`
            method C.shown [export] 4-4 `shown(): void`
        "#]],
    );
}

#[test]
fn default_exports() {
    check(
        "src/d.ts",
        "export default function main(): void {}\n",
        expect![[r#"
            function main [export,default] 1-1 `main(): void`
        "#]],
    );
    check(
        "src/e.ts",
        "export default class {}\n",
        expect![[r#"
            class default [export,default] 1-1 `default = class {}`
        "#]],
    );
    check(
        "src/f.ts",
        "export default async () => 1;\n",
        expect![[r#"
            function default [export,default] 1-1 `default()`
        "#]],
    );
}

#[test]
fn declaration_files_and_ambient_modules() {
    check(
        "stubs/nestjs-common.d.ts",
        r#"export declare function Controller(path?: string): ClassDecorator;
export declare class Logger { log(message: string): void; }
declare global {
  interface Array<T> { last(): T }
}
declare module "uuid" {
  export function v4(): string;
}
"#,
        expect![[r#"
            function Controller [export,declare] 1-1 `Controller(path?: string): ClassDecorator`
            class Logger [export,declare] 2-2 `class Logger`
            method Logger.log [export,declare] 2-2 `log(message: string): void`
            interface Array [declare] 4-4 `interface Array<T>`
            method Array.last [declare] 4-4 `last(): T`
            namespace uuid [declare] 6-8 `module "uuid"`
            function uuid.v4 [export,declare] 7-7 `v4(): string`
        "#]],
    );
}

#[test]
fn broken_code_yields_symbols_and_diagnostics() {
    // tree-sitter-typescript 0.23.2 cannot parse `export type * from`; the rest must survive.
    check(
        "src/api/module.ts",
        r#"export type * from "./IConnection";
export * as functional from "./functional";
export function ok(a: string): void {}
export function broken(a: string {
export interface IStill { x: number }
"#,
        expect![[r#"
            reexport functional [export] 2-2 `export * as functional from "./functional";` from="./functional"
            function ok [export] 3-3 `ok(a: string): void`
            function broken [export] 4-5 `broken(a: string`
            reexport "./IConnection" names=[] default=None ns=None type_only=false star=true
            reexport "./functional" names=[] default=None ns=Some("functional") type_only=false star=false
            diag 1:7 syntax error: unexpected `type`
            diag 4:32 syntax error: missing `)`
            diag 5:37 syntax error: missing `}`
        "#]],
    );
}

#[test]
fn tsx_uses_the_tsx_grammar() {
    check(
        "src/view.tsx",
        "export const View = (p: { n: number }) => <div>{p.n}</div>;\n",
        expect![[r#"
            function View [export] 1-1 `View(p: { n: number })`
        "#]],
    );
}

#[test]
fn prisma_models_fields_relations_and_enums() {
    check(
        "prisma/schema/schema-02-articles.prisma",
        r#"/// An article written by a member.
model bbs_articles {
  /// Primary key.
  id            String   @id @db.Uuid
  bbs_member_id String   @db.Uuid
  title         String   @db.VarChar(80) // shown in lists
  views         Int?
  member        bbs_members @relation("author", fields: [bbs_member_id], references: [id], onDelete: Cascade)
  comments      bbs_article_comments[]

  @@index([bbs_member_id])
}

enum bbs_article_status {
  draft
  published
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
"#,
        expect![[r#"
            model prisma:bbs_articles [export] 2-12 `model bbs_articles` doc="An article written by a member."
            field prisma:bbs_articles.id [export] 4-4 `id String @id @db.Uuid` doc="Primary key."
            field prisma:bbs_articles.bbs_member_id [export] 5-5 `bbs_member_id String @db.Uuid`
            field prisma:bbs_articles.title [export] 6-6 `title String @db.VarChar(80)`
            field prisma:bbs_articles.views [export] 7-7 `views Int?`
            field prisma:bbs_articles.member [export] 8-8 `member bbs_members @relation("author", fields: [bbs_member_id], references: [id], onDelete: Cascade)`
            field prisma:bbs_articles.comments [export] 9-9 `comments bbs_article_comments[]`
            enum prisma:bbs_article_status [export] 14-17 `enum bbs_article_status`
        "#]],
    );
    let file = index_file("schema.prisma", b"model a {\n  b bs[]\n  c  x? @relation(fields: [d], references: [id])\n}\n").unwrap();
    let c = file.symbols.iter().find(|s| s.name == "prisma:a.c").unwrap().prisma.clone().unwrap();
    assert!(c.optional && !c.list && c.type_name == "x");
    let rel = c.relation.unwrap();
    assert_eq!((rel.name, rel.fields, rel.references), (None, vec!["d".to_string()], vec!["id".to_string()]));
    let b = file.symbols.iter().find(|s| s.name == "prisma:a.b").unwrap().prisma.clone().unwrap();
    assert!(b.list && !b.optional);
}

#[test]
fn prisma_errors_are_diagnostics() {
    check(
        "schema.prisma",
        "model a {\n  ok String\n  ???\n}\nwhat is this\nmodel b {\n  x Int\n",
        expect![[r#"
            model prisma:a [export] 1-4 `model a`
            field prisma:a.ok [export] 2-2 `ok String`
            model prisma:b [export] 6-6 `model b`
            field prisma:b.x [export] 7-7 `x Int`
            diag 3:2 prisma: cannot read field `???`
            diag 5:0 prisma: unexpected `what is this`
            diag 6:0 prisma: block `b` is not closed
        "#]],
    );
}

#[test]
fn binary_invalid_utf8_and_huge_files() {
    let bin = index_file("src/bin.ts", b"export const a = 1;\0\0\x01\x02").unwrap();
    assert!(bin.symbols.is_empty());
    assert_eq!(bin.diagnostics[0].message, "binary content (NUL byte at offset 19); not parsed");

    let bad = index_file("src/bad.ts", b"export const caf\xe9 = 1;\nexport function ok(): void {}\n").unwrap();
    assert!(bad.diagnostics[0].message.starts_with("invalid UTF-8 at byte 16"), "{:?}", bad.diagnostics);
    assert!(bad.symbols.iter().any(|s| s.name == "ok" && s.span.start.line == 1), "{:?}", bad.symbols);

    let huge = vec![b' '; MAX_FILE_BYTES];
    let f = index_file("src/huge.ts", &huge).unwrap();
    assert!(f.symbols.is_empty() && f.diagnostics[0].message.contains("not parsed"));
}

#[test]
fn references_skip_declaring_names() {
    let f = index_file("src/a.ts", b"export function f(x: IUser) { return g(x.name, { select: { title: true } }); }").unwrap();
    let names: Vec<(&str, RefKind)> = f.references.iter().map(|(n, r)| (n, r.kind)).collect();
    assert_eq!(
        names,
        vec![("x", RefKind::Value), ("IUser", RefKind::Type), ("g", RefKind::Value), ("x", RefKind::Value), ("name", RefKind::Property), ("select", RefKind::Property), ("title", RefKind::Property),]
    );
    assert_eq!(f.references.of("x").count(), 2);
}

#[test]
fn update_reports_added_removed_changed_and_reuses_trees() {
    let mut reg = Registry::new();
    let v1 = "export function a() {}\nexport function b() {}\nexport type T = { x: number };\n";
    let d = reg.update_file("src/m.ts", v1.as_bytes()).unwrap();
    assert_eq!(d.added, vec!["T", "T.x", "a", "b"]);
    // Edit b's body, remove a, add c, change T.x: the cached tree is reused for the re-parse.
    let v2 = "export function b() { return 1; }\nexport type T = { x: string };\nexport function c() {}\n";
    let d = reg.update_file("src/m.ts", v2.as_bytes()).unwrap();
    assert_eq!(d, Delta { added: vec!["c".into()], removed: vec!["a".into()], changed: vec!["T".into(), "T.x".into(), "b".into()] });
    // Same text again: nothing changed.
    assert!(reg.update_file("src/m.ts", v2.as_bytes()).unwrap().is_empty());
    // The incremental result equals a from-scratch index of the same text.
    assert_eq!(reg.file("src/m.ts").unwrap(), &index_file("src/m.ts", v2.as_bytes()).unwrap());
    let d = reg.remove_file("src/m.ts");
    assert_eq!(d.removed, vec!["T", "T.x", "b", "c"]);
    assert_eq!(reg.file_count(), 0);
    assert!(reg.update_file("README.md", b"x").is_none());
}

#[test]
fn incremental_reparse_matches_cold_parse_over_many_edits() {
    // A deterministic series of edits (insertions, deletions, replacements at varying places);
    // after each, the incrementally updated file must equal a cold index of the same text.
    let mut text = String::from("export namespace N {\n  export type A = { a: string };\n}\nexport function f(x: number): number { return x; }\n");
    let mut reg = Registry::new();
    reg.update_file("src/e.ts", text.as_bytes());
    let mut seed = 7u64;
    for i in 0..60 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = (seed >> 33) as usize % (text.len() + 1);
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap();
        match i % 3 {
            0 => text.insert_str(at, &format!("\nexport const v{i} = {i};\n")),
            1 => {
                let end = (at + 5).min(text.len());
                let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap();
                text.replace_range(at..end, "");
            }
            _ => text.insert_str(at, "{ "),
        }
        reg.update_file("src/e.ts", text.as_bytes());
        assert_eq!(reg.file("src/e.ts").unwrap(), &index_file("src/e.ts", text.as_bytes()).unwrap(), "edit {i}: {text}");
    }
}

#[test]
fn search_orders_exact_segment_prefix_substring_case() {
    let mut reg = Registry::new();
    reg.update_file("src/api/structures/IBbsArticle.ts", b"export type IBbsArticle = {};\nexport namespace IBbsArticle { export type ICreate = {}; export type ICreateLater = {}; }\n");
    reg.update_file("src/providers/x.ts", b"export function postBbsArticles() {}\nexport function articleICreateHelper() {}\n");
    reg.update_file("prisma/schema/a.prisma", b"model bbs_articles {\n  id String\n}\n");
    let names = |q: &str, k: Option<SymbolKind>| reg.search(q, k).iter().map(|m| format!("{}:{:?}", m.symbol.name, m.tier)).collect::<Vec<_>>();
    assert_eq!(names("ICreate", None), vec!["IBbsArticle.ICreate:Segment", "IBbsArticle.ICreateLater:Prefix", "articleICreateHelper:Substring"]);
    assert_eq!(names("IBbsArticle", Some(SymbolKind::Namespace)), vec!["IBbsArticle:Exact"]);
    assert_eq!(names("bbs_articles", None), vec!["prisma:bbs_articles:Segment", "prisma:bbs_articles.id:Segment"]);
    assert_eq!(names("prisma:bbs_articles.id", None), vec!["prisma:bbs_articles.id:Exact"]);
    assert_eq!(names("postbbs", None), vec!["postBbsArticles:CaseInsensitive"]);
    assert_eq!(names("src/providers/x.ts#postBbsArticles", None), vec!["postBbsArticles:Exact"]);
    assert!(names("src/other.ts#postBbsArticles", None).is_empty());
    assert!(names("", None).is_empty());
    assert_eq!(reg.suggest("IBbsArticel", 3)[0], "IBbsArticle");
}

#[test]
fn walk_finds_every_tags_definition() {
    use tree_sitter::{Query, QueryCursor, StreamingIterator};
    let source = include_str!("../queries/typescript/tags.scm");
    let language: tree_sitter::Language = tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into();
    let query = Query::new(&language, source).expect("tags.scm compiles");
    let name_idx = query.capture_index_for_name("name").unwrap();
    let corpus = [
        "export type IA = { a: string } & { b: number };\nexport namespace IA { export type ICreate = { c: string }; }\n",
        "export class C { @D() m(): void {} p = 1; static q: number; }\nfunction f() {}\nconst g = () => 1;\nexport const h = 2;\n",
        "export interface I { x: number; y(): void }\nexport enum E { A }\nexport function o(a: string): void;\nexport function o(a: any) {}\n",
        "export abstract class B { abstract m(): void; }\nnamespace Inner { export const z = 1; }\n",
    ];
    for text in corpus {
        let tree = parse_only("src/t.ts", text.as_bytes()).unwrap();
        let file = index_file("src/t.ts", text.as_bytes()).unwrap();
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&query, tree.root_node(), text.as_bytes());
        while let Some(m) = matches.next() {
            for cap in m.captures().iter().filter(|c| c.index == name_idx) {
                let at = cap.node.start_byte() as u32;
                assert!(file.symbols.iter().any(|s| s.name_span.start_byte == at), "the walk missed `{}` in {text:?}", cap.node.utf8_text(text.as_bytes()).unwrap());
            }
        }
    }
}

//! The blast rules as specifications: each test is an inline multi-file project, a cursor on
//! the symbol that changes, a change kind, and the answer the registry path gives (no language
//! server), rendered as text. Change a rule, run `cargo test -p maintaind --lib blast::spec`
//! (seconds), read the diffs; `UPDATE_EXPECT=1` rewrites the expectations when the new answer
//! is the intended one.
//!
//! Fixture syntax: `//- /path/to/file.ts` starts a file; `$0` marks the cursor (exactly one).

use std::fmt::Write as _;
use std::sync::Arc;

use expect_test::{Expect, expect};
use maintaind_registry::{Registry, Syntax};

use super::{Blast, ChangeKind, DEFAULT_DEPTH, Derived};

/// The files of `fixture`, and the cursor as (file, byte offset).
fn parse_fixture(fixture: &str) -> (Vec<(String, String)>, (String, usize)) {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in fixture.lines() {
        if let Some(path) = line.trim().strip_prefix("//- /") {
            files.push((path.trim().to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line.strip_prefix("        ").unwrap_or(line.trim_start()));
            text.push('\n');
        }
    }
    let mut cursor = None;
    for (path, text) in &mut files {
        if let Some(at) = text.find("$0") {
            assert!(cursor.is_none(), "more than one $0 cursor");
            text.replace_range(at..at + 2, "");
            cursor = Some((path.clone(), at));
        }
    }
    (files, cursor.expect("the fixture needs a $0 cursor on the symbol that changes"))
}

/// Run the blast rules on the registry path and render the answer.
fn blast(fixture: &str, change: ChangeKind) -> String {
    let (files, (cursor_file, offset)) = parse_fixture(fixture);
    let mut registry = Registry::new();
    let configs: Vec<(String, String)> = files.iter().filter(|(p, _)| p.ends_with("tsconfig.json")).cloned().collect();
    registry.set_tsconfigs(&configs);
    let mut syntax = super::SyntaxCache::unbounded();
    for (path, text) in files.iter().filter(|(p, _)| !p.ends_with(".json")) {
        registry.update_file(path, text.as_bytes()).unwrap_or_else(|| panic!("{path} is not a TypeScript or Prisma file"));
        syntax.put(path.clone(), Syntax::parse(path, text.as_bytes()));
    }
    let file = registry.file(&cursor_file).expect("the cursor's file is indexed");
    let target = file
        .symbols
        .iter()
        .filter(|s| (s.name_span.start_byte as usize) <= offset && offset <= s.name_span.end_byte as usize)
        .min_by_key(|s| s.span.end_byte - s.span.start_byte)
        .unwrap_or_else(|| panic!("no declaration name under the cursor in {cursor_file}"));
    let query = format!("{cursor_file}#{}", target.name);
    // Every file is parsed in memory: a root that does not exist proves nothing is read.
    let root = std::path::Path::new("/nonexistent-spec-root");
    let report = Blast::new(&registry, root, None, change, DEFAULT_DEPTH, Arc::new(Derived::new()), &mut syntax).run(&query, 0).expect("the target resolves");
    let out = render(&report, change);
    // A registry whose files are all pending (a first start) gives the same answer.
    let mut pending = Registry::new();
    pending.set_tsconfigs(&configs);
    pending.insert_pending(files.iter().filter(|(p, _)| !p.ends_with(".json")).map(|(p, t)| (p.clone(), t.clone().into_bytes())).collect());
    assert!(pending.is_filling());
    let lazy = Blast::new(&pending, root, None, change, DEFAULT_DEPTH, Arc::new(Derived::new()), &mut syntax).run(&query, 0).expect("the target resolves");
    assert_eq!(render(&lazy, change), out, "a registry filling on demand answers as a complete one");
    out
}

fn render(report: &super::BlastReport, change: ChangeKind) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:?} of {} ({:?}, {}:{})", change, report.target.name, report.target.kind, report.target.file, report.target.line);
    for i in &report.impacted {
        let through = i.through.as_deref().map(|t| format!(" through {t}")).unwrap_or_default();
        let _ = writeln!(out, "{} {}:{} {} {:?} via {:?}{through}", if i.must_change { "must" } else { "may " }, i.file, i.line, i.symbol, i.relation, i.via);
    }
    if !report.tests.is_empty() {
        let _ = writeln!(out, "tests: {}", report.tests.join(", "));
    }
    out
}

fn check_blast(fixture: &str, change: ChangeKind, expect: Expect) {
    expect.assert_eq(&blast(fixture, change));
}

/// A function, its callers and a mere reference.
const FUNCTION: &str = r#"
//- /src/price.ts
export function $0price(cents: number): string {
  return (cents / 100).toFixed(2);
}
//- /src/cart.ts
import { price } from "./price";
export function total(items: number[]): string {
  return price(items.reduce((a, b) => a + b, 0));
}
export const formatter = price;
//- /test/cart.test.ts
import { total } from "../src/cart";
export function test_total() {
  total([1, 2]);
}
"#;

#[test]
fn signature_callers_must_change_references_may() {
    check_blast(
        FUNCTION,
        ChangeKind::Signature,
        expect![[r#"
            Signature of price (Function, src/price.ts:1)
            must src/cart.ts:3 total Caller via Registry
            may  src/cart.ts:1 (import) Importer via Registry
            may  src/cart.ts:5 formatter Reference via Registry
        "#]],
    );
}

#[test]
fn rename_and_remove_every_use_must_change() {
    check_blast(
        FUNCTION,
        ChangeKind::Rename,
        expect![[r#"
            Rename of price (Function, src/price.ts:1)
            must src/cart.ts:1 (import) Importer via Registry
            must src/cart.ts:3 total Caller via Registry
            must src/cart.ts:5 formatter Reference via Registry
        "#]],
    );
    check_blast(
        FUNCTION,
        ChangeKind::Remove,
        expect![[r#"
            Remove of price (Function, src/price.ts:1)
            must src/cart.ts:1 (import) Importer via Registry
            must src/cart.ts:3 total Caller via Registry
            must src/cart.ts:5 formatter Reference via Registry
        "#]],
    );
}

#[test]
fn behavior_lists_and_requires_nothing() {
    check_blast(
        FUNCTION,
        ChangeKind::Behavior,
        expect![[r#"
            Behavior of price (Function, src/price.ts:1)
            may  src/cart.ts:1 (import) Importer via Registry
            may  src/cart.ts:3 total Caller via Registry
            may  src/cart.ts:5 formatter Reference via Registry
        "#]],
    );
}

#[test]
fn return_only_callers_that_use_the_result() {
    check_blast(
        r#"
//- /src/find.ts
export function $0find(id: string): { id: string } | null {
  return id ? { id } : null;
}
//- /src/use.ts
import { find } from "./find";
export function used(): string {
  const row = find("a");
  return row ? row.id : "";
}
export function ignored(): void {
  find("b");
}
export function compared(): boolean {
  return find("c") !== null;
}
export function onlyAsserted(): void {
  const row = find("d");
  typia.assert(row);
}
"#,
        ChangeKind::Return,
        expect![[r#"
            Return of find (Function, src/find.ts:1)
            must src/use.ts:3 used Caller via Registry
            must src/use.ts:10 compared Caller via Registry
            may  src/use.ts:1 (import) Importer via Registry
            may  src/use.ts:7 ignored Caller via Registry
            may  src/use.ts:13 onlyAsserted Caller via Registry
        "#]],
    );
}

/// A DTO built as a literal, read, destructured, and passed on through an alias, a function's
/// return type and a parameter.
const SHAPE: &str = r#"
//- /src/structures/IArticle.ts
export type $0IArticle = {
  id: string;
  title: string;
};
export namespace IArticle {
  export type ICreate = { title: string };
}
//- /src/providers/getArticle.ts
import { IArticle } from "../structures/IArticle";
export function getArticle(id: string): IArticle {
  return { id, title: "t" };
}
//- /src/providers/readTitle.ts
import { IArticle } from "../structures/IArticle";
export function readTitle(a: IArticle): string {
  return a.title;
}
export function unpack(a: IArticle): string {
  const { id } = a;
  return id;
}
//- /src/providers/alias.ts
import { IArticle } from "../structures/IArticle";
export type Body = IArticle;
export const sample: Body = { id: "1", title: "x" };
//- /src/providers/save.ts
import { IArticle } from "../structures/IArticle";
export function save(a: IArticle): void {}
export function caller(): void {
  save({ id: "2", title: "y" });
}
//- /src/providers/create.ts
import { IArticle } from "../structures/IArticle";
export function create(body: IArticle.ICreate): string {
  return body.title;
}
"#;

#[test]
fn shape_builders_must_change_and_the_type_is_followed_through() {
    check_blast(
        SHAPE,
        ChangeKind::Shape,
        expect![[r#"
            Shape of IArticle (Type, src/structures/IArticle.ts:1)
            must src/providers/alias.ts:3 sample Reference via Registry through Body
            must src/providers/getArticle.ts:2 getArticle Reference via Registry
            must src/providers/save.ts:4 caller Caller via Registry through save
            may  src/providers/alias.ts:1 (import) Importer via Registry
            may  src/providers/alias.ts:2 Body Reference via Registry
            may  src/providers/create.ts:1 (import) Importer via Registry
            may  src/providers/create.ts:2 create Reference via Registry
            may  src/providers/getArticle.ts:1 (import) Importer via Registry
            may  src/providers/readTitle.ts:1 (import) Importer via Registry
            may  src/providers/readTitle.ts:2 readTitle Reference via Registry
            may  src/providers/readTitle.ts:5 unpack Reference via Registry
            may  src/providers/save.ts:1 (import) Importer via Registry
            may  src/providers/save.ts:2 save Reference via Registry
        "#]],
    );
}

#[test]
fn a_renamed_type_erodes_what_passes_it_on_without_requiring_it() {
    check_blast(
        SHAPE,
        ChangeKind::Rename,
        expect![[r#"
            Rename of IArticle (Type, src/structures/IArticle.ts:1)
            must src/providers/alias.ts:1 (import) Importer via Registry
            must src/providers/alias.ts:2 Body Reference via Registry
            must src/providers/create.ts:1 (import) Importer via Registry
            must src/providers/create.ts:2 create Reference via Registry
            must src/providers/getArticle.ts:1 (import) Importer via Registry
            must src/providers/getArticle.ts:2 getArticle Reference via Registry
            must src/providers/readTitle.ts:1 (import) Importer via Registry
            must src/providers/readTitle.ts:2 readTitle Reference via Registry
            must src/providers/readTitle.ts:5 unpack Reference via Registry
            must src/providers/save.ts:1 (import) Importer via Registry
            must src/providers/save.ts:2 save Reference via Registry
            may  src/providers/alias.ts:3 sample Reference via Registry through Body
        "#]],
    );
}

#[test]
fn a_returned_type_reaches_the_callers_of_the_function() {
    check_blast(
        r#"
//- /src/IUser.ts
export interface $0IUser { name: string }
//- /src/load.ts
import { IUser } from "./IUser";
export function load(): IUser {
  return { name: "n" };
}
//- /src/show.ts
import { load } from "./load";
export function show(): string {
  const u = load();
  return [u].map((x) => x.name).join();
}
"#,
        ChangeKind::Remove,
        expect![[r#"
            Remove of IUser (Interface, src/IUser.ts:1)
            must src/load.ts:1 (import) Importer via Registry
            must src/load.ts:2 load Reference via Registry
            may  src/show.ts:3 show Caller via Registry through load
        "#]],
    );
}

#[test]
fn a_provider_reaches_its_route_its_sdk_function_and_the_tests() {
    check_blast(
        r#"
//- /src/providers/getBbsArticles.ts
export async function $0getBbsArticles(props: { page: number }): Promise<string[]> {
  return [];
}
//- /src/controllers/bbs/articles/BbsArticlesController.ts
import { Controller } from "@nestjs/common";
import { TypedRoute, TypedBody } from "@nestia/core";
import { getBbsArticles } from "../../../providers/getBbsArticles";
@Controller("/bbs/articles")
export class BbsArticlesController {
  @TypedRoute.Get()
  public async index(): Promise<string[]> {
    return getBbsArticles({ page: 1 });
  }
}
//- /src/api/functional/bbs/articles/index.ts
/**
 * @controller BbsArticlesController.index
 * @path /bbs/articles
 * @accessor api.functional.bbs.articles.index
 */
export async function index(connection: unknown): Promise<string[]> {
  return [];
}
export namespace index {
  export const METADATA = {
    method: "GET",
    path: "/bbs/articles",
  } as const;
}
//- /src/api/index.ts
import * as api from "./module";
export * from "./module";
export default api;
//- /src/api/module.ts
export * as functional from "./functional";
//- /src/api/functional/index.ts
export * as bbs from "./bbs";
//- /src/api/functional/bbs/index.ts
export * as articles from "./articles";
//- /test/features/api/articles/test_api_articles_index.ts
import api from "../../../../src/api";
export async function test_api_articles_index(connection: unknown) {
  await api.functional.bbs.articles.index(connection);
}
"#,
        ChangeKind::Signature,
        expect![[r#"
            Signature of getBbsArticles (Function, src/providers/getBbsArticles.ts:1)
            must src/controllers/bbs/articles/BbsArticlesController.ts:8 BbsArticlesController.index Caller via Registry
            may  src/api/functional/bbs/articles/index.ts:6 index Route via Route through BbsArticlesController.index → GET /bbs/articles
            may  src/controllers/bbs/articles/BbsArticlesController.ts:3 (import) Importer via Registry
            may  test/features/api/articles/test_api_articles_index.ts:3 test_api_articles_index Test via Route through index (GET /bbs/articles)
            tests: test/features/api/articles/test_api_articles_index.ts
        "#]],
    );
}

#[test]
fn a_prisma_column_reaches_the_queries_that_name_it() {
    check_blast(
        r#"
//- /prisma/schema/schema.prisma
model bbs_articles {
  id    String @id @db.Uuid
  $0title String
  body  String
}
//- /src/providers/getBbsArticles.ts
import { MyGlobal } from "../MyGlobal";
export async function getBbsArticles(): Promise<string[]> {
  const rows = await MyGlobal.prisma.bbs_articles.findMany({ select: { id: true, title: true } });
  return rows.map((r) => r.title);
}
//- /src/providers/countBbsArticles.ts
import { MyGlobal } from "../MyGlobal";
export async function countBbsArticles(): Promise<number> {
  return MyGlobal.prisma.bbs_articles.count();
}
//- /src/MyGlobal.ts
export class MyGlobal {
  static prisma: any;
}
"#,
        ChangeKind::Rename,
        expect![[r#"
            Rename of prisma:bbs_articles.title (Field, prisma/schema/schema.prisma:3)
            must src/providers/getBbsArticles.ts:3 getBbsArticles Prisma via Prisma
            must src/providers/getBbsArticles.ts:4 getBbsArticles Prisma via Prisma
        "#]],
    );
}

#[test]
fn the_fixture_reader_strips_the_cursor() {
    let (files, cursor) = parse_fixture("//- /a.ts\nexport const $0a = 1;\n//- /b.ts\nexport const b = 2;\n");
    assert_eq!(files, vec![("a.ts".to_string(), "export const a = 1;\n".to_string()), ("b.ts".to_string(), "export const b = 2;\n".to_string())]);
    assert_eq!(cursor, ("a.ts".to_string(), 13));
}

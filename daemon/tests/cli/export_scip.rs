//! `maintaind export scip`: the index reads back (with the SCIP crate, and with the protobuf
//! bindings Sourcegraph's scip-typescript ships), has one document per indexed file, every
//! definition at its name, references to what some document defines, and the route join;
//! a changed file changes its own document only; bad destinations write nothing.

use ::scip::types::{Document, Index, SymbolRole};
use protobuf::Message;

use crate::*;

fn read(bytes: &[u8]) -> Index {
    Index::parse_from_bytes(bytes).expect("a SCIP index")
}

fn export(env: &Env) -> Index {
    env.run(&["export", "scip"]).expect_code(0).stdout_has("wrote index.scip").stdout_has("route implementations").stderr_has("no language server");
    read(&std::fs::read(env.path("index.scip")).unwrap())
}

fn doc<'i>(index: &'i Index, path: &str) -> &'i Document {
    index.documents.iter().find(|d| d.relative_path == path).unwrap_or_else(|| panic!("no document for {path}"))
}

#[test]
fn the_scip_export_reads_back_whole() {
    let env = setup();
    let index = export(&env);
    let files = env.run(&["index", "--json"]).expect_code(0).json()["files"].as_u64().unwrap() as usize;
    assert_eq!(index.documents.len(), files, "one document per indexed file");
    assert_eq!(index.metadata.tool_info.name, "maintaind");
    assert!(index.metadata.project_root.starts_with("file:///") && index.metadata.project_root.ends_with('/'));

    let defined: std::collections::HashSet<&str> = index.documents.iter().flat_map(|d| d.symbols.iter().map(|s| s.symbol.as_str())).collect();
    let (mut definitions, mut references) = (0, 0);
    for d in &index.documents {
        let text = std::fs::read_to_string(env.path(&d.relative_path)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for o in &d.occurrences {
            assert_eq!(o.range.len(), 3, "names are on one line: {o:?}");
            let (line, from, to) = (o.range[0] as usize, o.range[1] as usize, o.range[2] as usize);
            let written = &lines[line][from..to];
            assert!(defined.contains(o.symbol.as_str()), "{} in {} names nothing defined", o.symbol, d.relative_path);
            // The occurrence covers the name the symbol ends in (`IBbsArticle/ICreate#` → `ICreate`).
            let parsed = ::scip::symbol::parse_symbol(&o.symbol).unwrap();
            let last = parsed.descriptors.last().unwrap().name.clone();
            if o.range == [0, 0, 0] {
                assert_eq!(last, d.relative_path, "the file's own symbol");
            } else if o.symbol_roles & SymbolRole::Definition as i32 != 0 {
                definitions += 1;
                assert_eq!(written.trim_matches('"'), last, "{} at {}:{}", o.symbol, d.relative_path, line + 1);
            } else {
                references += 1;
                assert!(written.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$'), "a name: {written:?}");
            }
        }
    }
    assert!(definitions > 900 && references > 2000, "{definitions} definitions, {references} references");

    // A DTO variant, its doc and signature.
    let dto = doc(&index, "src/api/structures/IBbsArticle.ts");
    let create = dto.symbols.iter().find(|s| s.symbol.ends_with("`src/api/structures/IBbsArticle.ts`/IBbsArticle/ICreate#")).expect("IBbsArticle.ICreate");
    assert_eq!(create.display_name, "ICreate");
    assert!(create.signature_documentation.text.contains("ICreate"), "{:?}", create.signature_documentation);
    // A provider's use of it is a reference in the provider's document.
    let provider = doc(&index, "src/providers/postBbsMemberArticles.ts");
    let refs: Vec<&str> = provider.occurrences.iter().filter(|o| o.symbol_roles == 0).map(|o| o.symbol.as_str()).collect();
    // `body: IBbsArticle.ICreate`: the namespace, then the member in it; `MyGlobal.prisma`: the
    // class's static member, though a namespace `MyGlobal` is merged with the class.
    for (qualifier, member) in
        [("`src/api/structures/IBbsArticle.ts`/IBbsArticle/", "`src/api/structures/IBbsArticle.ts`/IBbsArticle/ICreate#"), ("`src/MyGlobal.ts`/MyGlobal#", "`src/MyGlobal.ts`/MyGlobal#prisma().")]
    {
        let at = refs.iter().position(|s| s.ends_with(member)).unwrap_or_else(|| panic!("no {member}: {refs:#?}"));
        assert!(refs[at - 1].ends_with(qualifier), "{refs:#?}");
    }

    // The route join: the controller method and the provider implement the SDK function.
    let sdk = "`src/api/functional/bbs/member/articles/index.ts`/create().";
    let implementers: Vec<&str> =
        index.documents.iter().flat_map(|d| d.symbols.iter()).filter(|s| s.relationships.iter().any(|r| r.symbol.ends_with(sdk) && r.is_implementation)).map(|s| s.symbol.as_str()).collect();
    assert_eq!(implementers.len(), 2, "{implementers:#?}");
    assert!(implementers[0].ends_with("`src/controllers/bbs/member/articles/BbsMemberArticlesController.ts`/BbsMemberArticlesController#create()."), "{implementers:#?}");
    assert!(implementers[1].ends_with("`src/providers/postBbsMemberArticles.ts`/postBbsMemberArticles()."), "{implementers:#?}");

    // Another implementation of the protocol reads it too: the protobuf bindings that
    // Sourcegraph's scip-typescript ships (installed by scripts/setup).
    let reader = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/node/node_modules/@sourcegraph/scip-typescript/dist/src/scip.js");
    let script = format!(
        "const {{scip}} = require({reader:?}); const i = scip.Index.deserializeBinary(require('fs').readFileSync('index.scip')); \
         console.log(JSON.stringify([i.documents.length, i.documents.reduce((n, d) => n + d.occurrences.length, 0), i.metadata.tool_info.name]))"
    );
    let node = std::process::Command::new("node").args(["-e", &script]).current_dir(env.root()).output().unwrap();
    assert!(node.status.success(), "{}", String::from_utf8_lossy(&node.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&node.stdout).unwrap();
    assert_eq!(seen, serde_json::json!([index.documents.len(), index.documents.iter().map(|d| d.occurrences.len()).sum::<usize>(), "maintaind"]));

    // To stdout with `--out -`: the same bytes.
    let piped = env.run(&["export", "scip", "--out", "-"]);
    piped.expect_code(0);
    assert_eq!(piped.output.stdout, std::fs::read(env.path("index.scip")).unwrap());
}

#[test]
fn a_changed_file_changes_its_own_document_only() {
    let env = setup();
    let before = export(&env);
    let helper = "src/providers/authorize/jwtAuthorize.ts";
    let text = std::fs::read_to_string(env.path(helper)).unwrap();
    env.write(helper, text.replace("export function jwtAuthorize(", "/** checks the bearer token */\nexport function jwtAuthorize("));
    let after = export(&env);
    let changed: Vec<&str> = before.documents.iter().zip(&after.documents).filter(|(a, b)| a.write_to_bytes().unwrap() != b.write_to_bytes().unwrap()).map(|(a, _)| a.relative_path.as_str()).collect();
    assert_eq!(changed, [helper], "a consumer can swap in the one document");
    let doc = doc(&after, helper);
    assert_eq!(doc.symbols.iter().find(|s| s.display_name == "jwtAuthorize").unwrap().documentation, ["checks the bearer token"]);
}

#[test]
fn bad_destinations_are_refused_and_nothing_is_written() {
    let env = setup();
    let outside = tempfile::tempdir().unwrap();
    let abs = outside.path().join("x.scip").display().to_string();
    std::os::unix::fs::symlink(outside.path().join("y.scip"), env.path("link.scip")).unwrap();
    for (out, says) in [("../x.scip", "leads outside the root"), (abs.as_str(), "outside the root"), ("src/MyGlobal.ts", "ending in `.scip`"), ("link.scip", "symbolic link"), ("", "empty path")] {
        env.run(&["export", "scip", "--out", out]).expect_code(2).stderr_has(says);
    }
    env.run(&["--json", "export", "scip", "--out", "-"]).expect_code(2).stdout_has("--json promises JSON");
    assert!(!env.path(".maintaind").exists(), "nothing indexed");
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing written outside the root");
    assert!(std::fs::read_to_string(env.path("src/MyGlobal.ts")).unwrap().contains("export class MyGlobal"));
}

/// Across repositories: a frontend that imports the built SDK package, indexed by Sourcegraph's
/// scip-typescript, names the SDK's functions and DTOs by the published package. Every such name
/// it uses is one the backend's export relates to its own symbol, and the SDK function's
/// implementers (controller method, provider) are related to the published name too.
#[test]
fn a_frontend_indexed_by_scip_typescript_meets_the_backend_s_symbols() {
    let env = setup();
    let backend = export(&env);
    // The SDK package as nestia builds it: src/api's declarations in lib/.
    let front = tempfile::tempdir().unwrap();
    let package = front.path().join("node_modules/@ORGANIZATION/PROJECT-api");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::copy(env.path("packages/api/package.json"), package.join("package.json")).unwrap();
    let sdk_config = env.path("tsconfig.sdk.json");
    std::fs::write(
        &sdk_config,
        format!(
            "{{\"extends\": \"./tsconfig.json\", \"compilerOptions\": {{\"noEmit\": false, \"declaration\": true, \"emitDeclarationOnly\": true, \"rootDir\": \"./src/api\", \"outDir\": {:?}}}, \"include\": [\"src/api\"]}}",
            package.join("lib").display().to_string()
        ),
    )
    .unwrap();
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/node/node_modules");
    let tsc = std::process::Command::new(tools.join(".bin/tsc")).arg("-p").arg(&sdk_config).output().unwrap();
    assert!(tsc.status.success(), "{}", String::from_utf8_lossy(&tsc.stdout));
    std::fs::write(front.path().join("package.json"), r#"{"name": "bbs-frontend", "version": "1.0.0"}"#).unwrap();
    std::fs::write(front.path().join("tsconfig.json"), r#"{"compilerOptions": {"strict": true, "skipLibCheck": true, "esModuleInterop": true, "module": "commonjs"}, "include": ["src"]}"#).unwrap();
    std::fs::create_dir_all(front.path().join("src")).unwrap();
    std::fs::write(
        front.path().join("src/app.ts"),
        "import api from \"@ORGANIZATION/PROJECT-api\";\nimport type { IBbsArticle } from \"@ORGANIZATION/PROJECT-api/lib/structures/IBbsArticle\";\n\nexport const post = (connection: api.IConnection, body: IBbsArticle.ICreate) =>\n  api.functional.bbs.member.articles.create(connection, { body } as any);\n",
    )
    .unwrap();
    let index = std::process::Command::new("node").arg(tools.join("@sourcegraph/scip-typescript/dist/src/main.js")).arg("index").current_dir(front.path()).output().unwrap();
    assert!(index.status.success(), "{}{}", String::from_utf8_lossy(&index.stdout), String::from_utf8_lossy(&index.stderr));
    let frontend = read(&std::fs::read(front.path().join("index.scip")).unwrap());

    let related: std::collections::HashMap<&str, Vec<(&str, bool, bool)>> = backend.documents.iter().flat_map(|d| d.symbols.iter()).fold(Default::default(), |mut m, s| {
        for r in &s.relationships {
            m.entry(r.symbol.as_str()).or_default().push((s.symbol.as_str(), r.is_definition, r.is_implementation));
        }
        m
    });
    let used: std::collections::BTreeSet<&str> =
        frontend.documents.iter().flat_map(|d| d.occurrences.iter()).map(|o| o.symbol.as_str()).filter(|s| s.starts_with("scip-typescript npm @ORGANIZATION/PROJECT-api ")).collect();
    assert!(used.len() >= 6, "{used:#?}");
    for name in &used {
        let ours = related.get(name).unwrap_or_else(|| panic!("the backend's export does not name {name}"));
        assert!(ours.iter().any(|(_, definition, _)| *definition), "{name}: {ours:?}");
    }
    let create = "scip-typescript npm @ORGANIZATION/PROJECT-api 0.1.0 lib/functional/bbs/member/articles/`index.d.ts`/create().";
    assert!(used.contains(create), "{used:#?}");
    let implementers: Vec<&str> = related[create].iter().filter(|(_, _, implementation)| *implementation).map(|(s, _, _)| *s).collect();
    assert!(implementers.iter().any(|s| s.ends_with("BbsMemberArticlesController#create().")) && implementers.iter().any(|s| s.ends_with("postBbsMemberArticles().")), "{implementers:#?}");
}

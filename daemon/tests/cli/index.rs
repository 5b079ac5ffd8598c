//! `maintaind index`: cold, warm, incremental, and what it never indexes.

use crate::*;

#[test]
fn cold_then_warm_touches_no_parser() {
    let env = setup();
    let cold = env.run(&["index", "--json"]);
    cold.expect_code(0);
    let c = cold.json();
    assert_eq!(c["parsed"], c["files"], "{c}");
    assert_eq!(c["reused"], 0);
    assert!(c["files"].as_u64().unwrap() >= 120, "{c}");
    assert!(c["symbols"].as_u64().unwrap() >= 600, "{c}");
    // src/api/module.ts has `export type * from`, which tree-sitter 0.23.2 cannot parse.
    assert_eq!(c["files_with_syntax_errors"], 1);
    assert_eq!(c["syntax_errors"][0]["file"], "src/api/module.ts");
    assert!(env.path(".maintaind/registry.db").is_file());

    let warm = env.run(&["index", "--json"]);
    warm.expect_code(0);
    let w = warm.json();
    assert_eq!(w["parsed"], 0, "{w}");
    assert_eq!(w["reused"], c["files"]);
    assert_eq!(w["symbols"], c["symbols"]);
    assert_eq!(w["generation"], c["generation"], "nothing changed, so the generation stays");
}

#[test]
fn edits_deletes_and_touches_are_incremental() {
    let env = setup();
    env.run(&["index"]).expect_code(0);
    let provider = "src/providers/postBbsMemberArticles.ts";
    let text = std::fs::read_to_string(env.path(provider)).unwrap();
    env.write(provider, text.replace("export async function postBbsMemberArticles(", "export async function postBbsMemberArticlesRenamed("));
    std::fs::remove_file(env.path("src/utils/toISOStringSafe.ts")).unwrap();
    // Same content, new mtime: re-hashed, not re-parsed.
    let dto = env.path("src/api/structures/IBbsMember.ts");
    let bytes = std::fs::read(&dto).unwrap();
    std::fs::write(&dto, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&dto).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();

    let r = env.run(&["index", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!((j["parsed"].as_u64(), j["removed"].as_u64()), (Some(1), Some(1)), "{j}");

    let s = env.run(&["symbols", "postBbsMemberArticlesRenamed", "--json"]);
    s.expect_code(0);
    assert_eq!(names(&s.json()), vec!["postBbsMemberArticlesRenamed"]);
    env.run(&["symbols", "toISOStringSafe", "--json"]).expect_code(1);
}

#[test]
fn never_indexes_state_dir_node_modules_or_ignored_files() {
    let env = setup();
    env.write(".maintaind/sneaky.ts", "export function sneakyState() {}\n");
    env.write("node_modules/pkg/index.d.ts", "export declare function sneakyModule(): void;\n");
    env.write("dist/out.ts", "export function sneakyIgnored() {}\n");
    env.write(".gitignore", "dist/\n");
    env.run(&["index"]).expect_code(0);
    for name in ["sneakyState", "sneakyModule", "sneakyIgnored"] {
        env.run(&["symbols", name, "--json"]).expect_code(1);
    }
}

#[test]
fn human_output_summarises_and_json_output_is_pure() {
    let env = setup();
    let r = env.run(&["index"]);
    r.expect_code(0).stdout_has("indexed").stdout_has("files ·").stderr_has("warning: src/api/module.ts:1: syntax error: unexpected `type`");
    let r = env.run(&["index", "--json"]);
    r.json();
    assert!(!r.stdout().contains("note:"), "notes belong on stderr");
}

#[test]
fn default_root_is_the_nearest_project_ancestor() {
    let env = setup();
    let r = run_in(&env.path("src/providers"), &["index", "--json"], &[]);
    r.expect_code(0);
    assert!(env.path(".maintaind/registry.db").is_file(), "the db belongs at the project root");
    assert!(!env.path("src/providers/.maintaind").exists());
}

#[test]
fn doctor_reports_without_writing() {
    let env = setup();
    let r = env.run(&["doctor", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["registry"]["state"], "missing");
    assert!(!env.path(".maintaind").exists(), "doctor must not create state");
    assert!(j["tools"].as_array().unwrap().iter().any(|t| t["name"] == "node"));
    env.run(&["index"]).expect_code(0);
    let j = env.run(&["doctor", "--json"]).json();
    assert_eq!(j["registry"]["state"], "ok");
    assert!(j["registry"]["symbols"].as_u64().unwrap() > 0);
}

#[test]
fn broken_pipe_is_not_an_error() {
    let env = setup();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; '{}' --root '{}' symbols Bbs --limit 1000 | head -n 1 >/dev/null", bin(), env.root().display()))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

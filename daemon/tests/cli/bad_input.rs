//! Bad input and faults: each gets a clear message, no crash, and nothing lost or written
//! that should not be.

use crate::*;

#[test]
fn query_with_no_match_exits_1_with_suggestions() {
    let env = setup();
    let r = env.run(&["symbols", "IBbsArticel"]);
    r.expect_code(1).stderr_has("no symbol matches `IBbsArticel`; did you mean: IBbsArticle");
    let r = env.run(&["symbols", "IBbsArticel", "--json"]);
    r.expect_code(1);
    assert_eq!(r.json(), serde_json::json!([]));
}

#[test]
fn empty_query_exits_2_and_writes_nothing() {
    let env = setup();
    for q in ["", "   "] {
        env.run(&["symbols", q]).expect_code(2).stderr_has("empty query");
    }
    env.run(&["symbols", "src/a.ts#"]).expect_code(2).stderr_has("names a file but no symbol");
    assert!(!env.path(".maintaind").exists(), "bad input must not create state");
}

#[test]
fn unknown_kind_and_unknown_command_are_usage_errors() {
    let env = setup();
    env.run(&["symbols", "x", "--kind", "widget"]).expect_code(2).stderr_has("invalid value 'widget'");
    env.run(&["frobnicate"]).expect_code(2);
    assert!(!env.path(".maintaind").exists());
}

/// Under `--json`, a failure is also JSON on stdout (`{"error": {code, exit, message}}`) with
/// the exit code unchanged, whether clap, the command or the environment refused it.
#[test]
fn json_failures_say_why_on_stdout() {
    let env = setup();
    let error = |args: &[&str], exit: i32, code: &str, says: &str| {
        let r = env.run(args);
        r.expect_code(exit);
        let j = r.json();
        assert_eq!(j["error"]["code"], code, "{j}");
        assert_eq!(j["error"]["exit"], exit, "{j}");
        assert!(j["error"]["message"].as_str().unwrap().contains(says), "{j}");
    };
    error(&["symbols", "", "--json"], 2, "bad_input", "empty query");
    error(&["--json", "blast", "  "], 2, "bad_input", "empty symbol");
    error(&["symbols", "x", "--kind", "widget", "--json"], 2, "bad_input", "invalid value 'widget'");
    error(&["--json", "frobnicate"], 2, "bad_input", "unrecognized subcommand");
    error(&["--json", "symbols", "postBbsMemberArticles", "--daemon"], 3, "environment", "maintaind daemon start");
    error(&["--json", "manifest", "show"], 2, "bad_input", "no active manifest");
    assert!(!env.path(".maintaind/manifests").exists(), "nothing was planned");
    // Help is not a failure, and without --json stdout stays empty on failure.
    let help = env.run(&["--json", "--help"]);
    help.expect_code(0);
    assert!(String::from_utf8_lossy(&help.output.stdout).contains("Usage"));
    let plain = env.run(&["symbols", ""]);
    plain.expect_code(2);
    assert!(plain.output.stdout.is_empty());
}

#[test]
fn root_that_does_not_exist_or_is_a_file() {
    let env = empty();
    let missing = env.path("nope");
    let r = run_in(env.root(), &["--root", missing.to_str().unwrap(), "index"], &[]);
    r.expect_code(2).stderr_has("does not exist");
    assert!(!missing.exists());
    let file = env.path("package.json");
    run_in(env.root(), &["--root", file.to_str().unwrap(), "index"], &[]).expect_code(2).stderr_has("is not a directory");
    let orphan = tempfile::tempdir().unwrap();
    run_in(orphan.path(), &["index"], &[]).expect_code(2).stderr_has("no project root above");
}

#[test]
fn binary_file_with_ts_name_is_skipped_with_a_diagnostic() {
    let env = setup();
    env.write("src/blob.ts", b"\x7fELF\x02\x01\x01\0\0\0\0\0binary");
    let r = env.run(&["index", "--json"]);
    r.expect_code(0);
    let j = r.json();
    assert!(j["files"].as_u64().unwrap() > 100);
    assert_eq!(j["skipped"][0]["path"], "src/blob.ts", "{j}");
    assert_eq!(j["skipped"][0]["reason"], "binary content (NUL byte at offset 7); not parsed");
    env.run(&["symbols", "postBbsMemberArticles", "--json"]).expect_code(0);
}

#[test]
fn invalid_utf8_still_yields_symbols() {
    let env = setup();
    env.write("src/latin1.ts", b"// caf\xe9\nexport function latinOk(): void {}\n");
    env.run(&["index"]).expect_code(0);
    let v = env.run(&["symbols", "latinOk", "--json"]).json();
    assert_eq!(v[0]["line"], 2);
}

#[test]
fn five_megabyte_generated_file_is_indexed() {
    let env = setup();
    let mut big = String::with_capacity(5 << 20);
    let mut i = 0;
    while big.len() < 5 << 20 {
        big.push_str(&format!("export const generated_{i}: {{ id: string; n: number }} = {{ id: \"{i}\", n: {i} }};\n"));
        i += 1;
    }
    env.write("src/generated/huge.ts", &big);
    let r = env.run(&["index", "--json"]);
    r.expect_code(0);
    let v = env.run(&["symbols", &format!("generated_{}", i - 1), "--json"]).json();
    assert_eq!(v[0]["file"], "src/generated/huge.ts");
}

#[test]
fn symlink_loop_is_skipped_and_reported() {
    let env = setup();
    std::os::unix::fs::symlink(".", env.path("src/loop")).unwrap();
    std::os::unix::fs::symlink("self.ts", env.path("src/self.ts")).unwrap();
    let r = env.run(&["index", "--json"]);
    r.expect_code(0);
    let skipped = r.json()["skipped"].clone();
    let paths: Vec<&str> = skipped.as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"src/loop") && paths.contains(&"src/self.ts"), "{skipped}");
    env.run(&["index"]).expect_code(0).stderr_has("symbolic link not followed");
}

#[test]
fn unreadable_file_is_skipped_and_reported() {
    use std::os::unix::fs::PermissionsExt;
    let env = setup();
    env.write("src/secret.ts", "export function secretThing() {}\n");
    std::fs::set_permissions(env.path("src/secret.ts"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads anything; drop to an unprivileged user so the permission really applies.
    let as_root = unsafe { libc::geteuid() } == 0;
    let r = if as_root {
        chown_recursive(env.root(), 65534, 65534);
        // The build may live under a directory the unprivileged user cannot enter (`/root`):
        // run a copy of the binary from a world-readable place.
        let bin_dir = tempfile::tempdir().unwrap();
        let copy = bin_dir.path().join("maintaind");
        std::fs::copy(bin(), &copy).unwrap();
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .args(["--root", env.root().to_str().unwrap(), "index", "--json"])
            .env("NO_COLOR", "1")
            .output()
            .expect("setpriv (util-linux) is needed to test permissions as root");
        Run { args: vec!["(as nobody) index --json".into()], cwd: env.root().to_path_buf(), output: out }
    } else {
        env.run(&["index", "--json"])
    };
    r.expect_code(0);
    let j = r.json();
    let skipped = j["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["path"] == "src/secret.ts" && s["reason"] == "cannot read: permission denied"), "{j}");
    assert!(j["files"].as_u64().unwrap() > 100);
}

fn chown_recursive(dir: &std::path::Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(dir, Some(uid), Some(gid)).unwrap();
    // The temp dir's parent must be traversable by the unprivileged user.
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
        if entry.file_type().unwrap().is_dir() {
            chown_recursive(&p, uid, gid);
        }
    }
}

#[test]
fn corrupt_database_is_rebuilt_with_one_line() {
    let env = setup();
    env.run(&["index"]).expect_code(0);
    let good = env.run(&["index", "--json"]).json();
    std::fs::write(env.path(".maintaind/registry.db"), b"this is not a sqlite database, it is garbage ".repeat(200)).unwrap();
    let _ = std::fs::remove_file(env.path(".maintaind/registry.db-wal"));
    let _ = std::fs::remove_file(env.path(".maintaind/registry.db-shm"));
    let r = env.run(&["index", "--json"]);
    r.expect_code(0).stderr_has("registry database was corrupt; rebuilt");
    assert_eq!(r.stderr().lines().filter(|l| l.contains("rebuilt")).count(), 1);
    let j = r.json();
    assert_eq!((j["files"].clone(), j["symbols"].clone()), (good["files"].clone(), good["symbols"].clone()));
    assert_eq!(j["parsed"], j["files"]);
}

#[test]
fn older_schema_is_rebuilt() {
    let env = setup();
    env.run(&["index"]).expect_code(0);
    {
        let conn = rusqlite::Connection::open(env.path(".maintaind/registry.db")).unwrap();
        conn.pragma_update(None, "user_version", 0).unwrap();
    }
    env.run(&["index"]).expect_code(0).stderr_has("registry database was schema version 0, this maintaind uses");
    let j = env.run(&["index", "--json"]).json();
    assert_eq!(j["parsed"], 0, "the rebuilt database is used from then on");
}

#[test]
fn locked_database_indexes_in_memory_and_leaves_it_alone() {
    let env = setup();
    env.run(&["index"]).expect_code(0);
    env.write("src/providers/extra.ts", "export function lockedExtra() {}\n");
    let conn = rusqlite::Connection::open(env.path(".maintaind/registry.db")).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = env.run_env(&["symbols", "lockedExtra", "--json"], &[("MAINTAIND_DB_BUSY_MS", "200")]);
    r.expect_code(0).stderr_has("is locked by another process; indexing in memory");
    assert_eq!(names(&r.json()), vec!["lockedExtra"], "the answer is still right");
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    // The store was not touched, so the next run parses the new file itself.
    let j = env.run(&["index", "--json"]).json();
    assert_eq!(j["parsed"], 1, "{j}");
}

#[test]
fn damaged_row_is_reparsed_not_trusted() {
    let env = setup();
    env.run(&["index"]).expect_code(0);
    {
        let conn = rusqlite::Connection::open(env.path(".maintaind/registry.db")).unwrap();
        let n = conn.execute("UPDATE files SET data = x'00ff00ff' WHERE path = 'src/MyGlobal.ts'", []).unwrap();
        assert_eq!(n, 1);
    }
    let r = env.run(&["symbols", "MyGlobal", "--kind", "class", "--json"]);
    r.expect_code(0).stderr_has("could not be read back; re-parsed");
    assert_eq!(names(&r.json()), vec!["MyGlobal"]);
}

#[test]
fn over_long_queries_symbols_and_requests_are_refused_and_write_nothing() {
    let env = setup();
    let long = "x".repeat(2000);
    env.run(&["symbols", &long]).expect_code(2).stderr_has("limit 1024");
    env.run(&["blast", &long, "--no-lsp"]).expect_code(2).stderr_has("limit 1024");
    let request = format!("add {} to the article model", "y".repeat(9000));
    env.run(&["change", &request, "--no-lsp"]).expect_code(2).stderr_has("limit 8192");
    assert!(!env.path(".maintaind/manifests").exists(), "no manifest written");
    assert!(!env.path(".maintaind").exists(), "bad input must not create state");
}

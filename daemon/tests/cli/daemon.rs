//! The daemon: lifecycle, the watcher, and faults (a second start, a killed daemon, garbage and
//! old-protocol clients, a killed language server, the root deleted or moved, a 10,000-file
//! burst). Every daemon a test starts is stopped by its guard, even when the test fails.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Env, bin, setup};

/// Kills the daemon (and with it nothing else: the language server dies with its pipes) when
/// the test ends.
pub(crate) struct Guard {
    pub(crate) pid: i32,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: signalling a process we started.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }
}

pub(crate) fn start(env: &Env, extra: &[&str]) -> (Guard, Value) {
    let mut args = vec!["daemon", "start"];
    args.extend_from_slice(extra);
    let r = env.run(&args);
    r.expect_code(0);
    let status = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    (Guard { pid: status["pid"].as_i64().unwrap() as i32 }, status)
}

/// Wait until `done` holds; the deadline only bounds a hang, it is not a speed assertion.
#[track_caller]
pub(crate) fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

pub(crate) fn socket(env: &Env) -> PathBuf {
    env.path(".maintaind/daemon.sock")
}

/// One raw exchange on a fresh connection: send `lines`, read one answer per line (or until
/// the daemon closes the connection).
pub(crate) fn raw(env: &Env, lines: &[&str]) -> Vec<Value> {
    let stream = UnixStream::connect(socket(env)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut answers = Vec::new();
    for line in lines {
        if writer.write_all(format!("{line}\n").as_bytes()).is_err() {
            break;
        }
        let mut answer = String::new();
        if reader.read_line(&mut answer).unwrap_or(0) == 0 {
            break;
        }
        answers.push(serde_json::from_str(&answer).unwrap());
    }
    answers
}

pub(crate) const HELLO: &str = r#"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"client":"test"}}"#;

#[test]
fn daemon_serves_the_cli_and_follows_saved_files() {
    let env = setup();
    let (guard, status) = start(&env, &["--no-lsp"]);
    assert_eq!(status["state"], "ready");
    assert!(status["server"].is_null());
    assert!(status["server_note"].as_str().unwrap().contains("--no-lsp"));
    // Ready before every file is parsed (a first start); parsing them changes no answer, so
    // the generation stays.
    eventually("every file indexed", || env.run(&["daemon", "status", "--json"]).json().get("pending").is_none());
    let status = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    assert_eq!(status["generation"], 0, "{status}");
    assert!(status["files"].as_u64().unwrap() > 100);
    assert_eq!(status["protocol"], 1);
    assert!(status["memory"]["daemon_kib"].as_u64().unwrap() > 1024, "the daemon reports its memory: {status}");
    assert_eq!(status["memory"]["server_kib"], 0, "no server (--no-lsp)");
    let mode = std::fs::metadata(socket(&env)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the socket is owner-only");

    assert_eq!(env.run(&["doctor", "--json"]).expect_code(0).json()["daemon"]["pid"], status["pid"], "doctor reports the running daemon");
    // A second start reports the running daemon and starts nothing.
    let again = env.run(&["daemon", "start"]);
    again.expect_code(0).stderr_has("already running").stderr_has(&format!("pid {}", guard.pid));
    assert_eq!(env.run(&["daemon", "status", "--json"]).json()["pid"], status["pid"]);

    // The CLI goes through the daemon (`--daemon` requires it) and gets the in-process answer.
    let via = env.run(&["symbols", "postBbsMemberArticles", "--daemon", "--json"]).expect_code(0).json();
    let local = env.run(&["symbols", "postBbsMemberArticles", "--no-daemon", "--json"]).expect_code(0).json();
    assert_eq!(via, local);
    let blast = env.run(&["blast", "IBbsArticle.ICreate", "--change", "shape", "--daemon", "--json"]).expect_code(0).json();
    assert_eq!(blast["approximate"], true, "a daemon without a server says its answers are approximate");

    // A saved file is visible without any index command.
    env.write("src/providers/savedLater.ts", "export function savedLater(n: number): number {\n  return n;\n}\n");
    eventually("the saved file in the registry", || env.run(&["symbols", "savedLater", "--daemon", "--json"]).code() == 0);
    let hit = &env.run(&["symbols", "savedLater", "--daemon", "--json"]).json()[0];
    assert_eq!(hit["file"], "src/providers/savedLater.ts");
    // A new directory is watched from then on; an ignored file is not indexed.
    env.write("src/extra/one.ts", "export const inExtraDir = 1;\n");
    eventually("a file in a new directory", || env.run(&["symbols", "inExtraDir", "--daemon"]).code() == 0);
    env.write("src/extra/two.ts", "export const secondInExtraDir = 2;\n");
    eventually("a later file in the new directory", || env.run(&["symbols", "secondInExtraDir", "--daemon"]).code() == 0);
    std::fs::write(env.path(".gitignore"), "src/ignored/\n").unwrap();
    env.write("src/ignored/x.ts", "export const ignoredByGit = 1;\n");
    env.write("src/extra/three.ts", "export const afterTheIgnoredOne = 3;\n");
    eventually("the file after the ignored one", || env.run(&["symbols", "afterTheIgnoredOne", "--daemon"]).code() == 0);
    env.run(&["symbols", "ignoredByGit", "--daemon"]).expect_code(1);
    // A deleted file is gone.
    std::fs::remove_file(env.path("src/providers/savedLater.ts")).unwrap();
    eventually("the deleted file gone", || env.run(&["symbols", "savedLater", "--daemon"]).code() == 1);

    // Stop: gone, and `--daemon` now fails loudly while plain commands work in-process.
    env.run(&["daemon", "stop"]).expect_code(0).stderr_has("stopped the daemon");
    assert!(!socket(&env).exists(), "the socket is removed on a clean stop");
    env.run(&["daemon", "status"]).expect_code(1).stderr_has("no daemon is running");
    assert!(env.run(&["doctor", "--json"]).json()["daemon"].is_null());
    env.run(&["symbols", "postBbsMemberArticles", "--daemon"]).expect_code(3).stderr_has("maintaind daemon start");
    env.run(&["symbols", "postBbsMemberArticles"]).expect_code(0);
    let log = std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap();
    assert!(log.contains("ready") && log.contains("stopped by `maintaind daemon stop`"), "log:\n{log}");
    drop(guard);
}

#[test]
fn a_killed_daemon_leaves_nothing_that_blocks_the_next_one() {
    let env = setup();
    let (guard, _) = start(&env, &["--no-lsp"]);
    // SAFETY: killing the daemon we started.
    unsafe { libc::kill(guard.pid, libc::SIGKILL) };
    eventually("the killed daemon gone", || !alive(guard.pid) || is_zombie(guard.pid));
    assert!(socket(&env).exists(), "a killed daemon leaves its socket (its claim on the root is a lock the kernel released)");
    // The stale socket is not a daemon: plain commands work in-process, --daemon says so.
    env.run(&["symbols", "postBbsMemberArticles"]).expect_code(0);
    env.run(&["symbols", "postBbsMemberArticles", "--daemon"]).expect_code(3);
    let (second, status) = start(&env, &["--no-lsp"]);
    assert_ne!(second.pid, guard.pid);
    assert_eq!(status["state"], "ready");
    let log = std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap();
    assert!(log.contains("removed a stale socket"), "log:\n{log}");
}

pub(crate) fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.split_whitespace().nth(2) == Some("Z")).unwrap_or(true)
}

#[test]
fn garbage_and_old_clients_get_clear_errors_and_the_daemon_goes_on() {
    let env = setup();
    let (_guard, _) = start(&env, &["--no-lsp"]);
    let answer = |lines: &[&str]| raw(&env, lines);

    let a = answer(&["GET / HTTP/1.1"]);
    assert_eq!(a[0]["error"]["code"], -32700, "{a:?}");
    assert!(a[0]["error"]["message"].as_str().unwrap().contains("JSON-RPC 2.0"));

    let a = answer(&[r#"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":0,"client":"old"}}"#]);
    assert_eq!(a[0]["error"]["code"], -32001);
    assert!(a[0]["error"]["message"].as_str().unwrap().contains("protocol 0 is not supported"), "{a:?}");

    let a = answer(&[r#"{"jsonrpc":"2.0","id":1,"method":"symbols","params":{"query":"x"}}"#]);
    assert!(a[0]["error"]["message"].as_str().unwrap().contains("hello"), "a request before hello is refused: {a:?}");

    let a = answer(&[r#"{"id":1,"method":"status"}"#]);
    assert_eq!(a[0]["error"]["code"], -32600);

    let a = answer(&[
        HELLO,
        r#"{"jsonrpc":"2.0","id":2,"method":"frobnicate"}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"blast","params":{"symbol":7}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"blast","params":{"symbol":"NoSuchThing"}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"debug_panic"}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"symbols","params":{"query":"postBbsMemberArticles"}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"status","params":{"wait_ready":"yes"}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"status","params":{"ready":true}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"status","params":{"wait_ready":true}}"#,
    ]);
    assert_eq!(a[0]["result"]["protocol"], 1);
    assert_eq!(a[1]["error"]["code"], -32601);
    assert_eq!(a[2]["error"]["code"], -32602);
    assert!(a[2]["error"]["message"].as_str().unwrap().contains("symbol"), "{a:?}");
    assert_eq!(a[3]["error"]["code"], -32002);
    assert_eq!(a[4]["error"]["code"], -32603, "a panic is an error answer: {a:?}");
    assert_eq!(a[5]["result"]["hits"][0]["name"], "postBbsMemberArticles", "the same connection still works after a panic");
    assert_eq!(a[6]["error"]["code"], -32602, "{a:?}");
    assert!(a[6]["error"]["message"].as_str().unwrap().contains("status"), "{a:?}");
    assert_eq!(a[7]["error"]["code"], -32602, "an unknown status param is refused: {a:?}");
    assert_eq!(a[8]["result"]["state"], "ready", "{a:?}");

    // A client that hangs up mid-message does not disturb anyone.
    {
        let mut s = UnixStream::connect(socket(&env)).unwrap();
        s.write_all(HELLO.as_bytes()).unwrap();
        s.write_all(b"\n{\"jsonrpc\":\"2.0\",\"id\":2,\"meth").unwrap();
    }
    env.run(&["symbols", "postBbsMemberArticles", "--daemon"]).expect_code(0);
    env.run(&["blast", "NoSuchThing", "--daemon"]).expect_code(2).stderr_has("NoSuchThing");
    let status = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    assert_eq!(status["state"], "ready");
}

#[test]
fn a_killed_language_server_is_restarted_and_answers_stay_right_or_flagged() {
    let env = setup();
    let (_guard, status) = start(&env, &["--ts-server", "native"]);
    assert_eq!(status["server"]["kind"], "native");
    let before = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--daemon", "--json"]).expect_code(0).json();
    assert_eq!(before["approximate"], false);
    let server_pid = status["server_pid"].as_i64().expect("the server's pid") as i32;
    assert!(status["memory"]["server_kib"].as_u64().unwrap() > 10 * 1024, "the language server's memory is reported: {status}");
    // SAFETY: killing the language server the daemon started.
    unsafe { libc::kill(server_pid, libc::SIGKILL) };
    eventually("the server gone", || !alive(server_pid) || is_zombie(server_pid));
    // A file changes so the answer cannot come from the cache.
    env.write("src/providers/touch.ts", "export const touch = 1;\n");
    eventually("the change seen", || env.run(&["symbols", "touch", "--daemon"]).code() == 0);
    let after = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--daemon", "--json"]).expect_code(0).json();
    assert!(after["approximate"] == true || after["must_change_files"] == before["must_change_files"], "after a crash the answer is right or flagged:\nbefore {before}\nafter {after}");
    eventually("a restarted, complete answer", || {
        let j = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--daemon", "--json"]).json();
        j["approximate"] == false && j["must_change_files"] == before["must_change_files"]
    });
    let status = env.run(&["daemon", "status", "--json"]).json();
    assert!(status["server"]["restarts"].as_u64().unwrap() >= 1, "{status}");
    assert_ne!(status["server_pid"].as_i64().unwrap() as i32, server_pid);
}

/// `daemon run` in the foreground, as a child we can wait for.
fn run_foreground(root: &Path) -> std::process::Child {
    std::process::Command::new(bin())
        .args(["daemon", "run", "--no-lsp", "--root", root.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ready(root: &Path) {
    eventually("the daemon ready", || {
        let r = crate::run_in(root, &["--root", root.to_str().unwrap(), "daemon", "status", "--json"], &[]);
        r.code() == 0 && r.json()["state"] == "ready"
    });
}

fn wait_exit(mut child: std::process::Child) -> std::process::Output {
    eventually("the daemon to exit", || child.try_wait().unwrap().is_some());
    child.wait_with_output().unwrap()
}

#[test]
fn the_daemon_exits_cleanly_when_its_root_is_moved_or_deleted() {
    for how in ["moved", "deleted"] {
        let env = setup();
        let child = run_foreground(env.root());
        let _guard = Guard { pid: child.id() as i32 };
        wait_ready(env.root());
        let moved = env.root().with_extension("moved");
        if how == "moved" {
            std::fs::rename(env.root(), &moved).unwrap();
        } else {
            std::fs::remove_dir_all(env.root()).unwrap();
        }
        let out = wait_exit(child);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{how}: {stderr}");
        assert!(stderr.contains("was deleted or moved"), "{how}: {stderr}");
        if how == "moved" {
            std::fs::rename(&moved, env.root()).unwrap();
        }
    }
}

#[test]
fn sigterm_stops_the_daemon_gracefully() {
    let env = setup();
    let child = run_foreground(env.root());
    let _guard = Guard { pid: child.id() as i32 };
    wait_ready(env.root());
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped by SIGTERM"));
    assert!(!socket(&env).exists());
}

#[test]
fn ten_thousand_files_at_once_are_coalesced_and_none_is_lost() {
    let env = setup();
    let (_guard, before) = start(&env, &["--no-lsp"]);
    let base = before["files"].as_u64().unwrap();
    // Written as fast as we can: the new directory and its files race the watcher.
    for i in 0..10_000 {
        env.write(&format!("src/bulk/b{}/f{i}.ts", i / 1000), format!("export const bulk{i} = {i};\n"));
    }
    // And some existing files rewritten in the same burst.
    env.write("src/bulk/b9/f9999.ts", "export const bulkLastRewritten = 1;\n");
    eventually("every file indexed", || env.run(&["daemon", "status", "--json"]).json()["files"].as_u64() == Some(base + 10_000));
    eventually("the last rewrite visible", || env.run(&["symbols", "bulkLastRewritten", "--daemon"]).code() == 0);
    env.run(&["symbols", "bulk0", "--daemon"]).expect_code(0);
    env.run(&["symbols", "bulk5000", "--daemon"]).expect_code(0);
    let status = env.run(&["daemon", "status", "--json"]).json();
    let w = &status["watcher"];
    assert!(w["full_refreshes"].as_u64().unwrap() >= 1, "a burst is a re-walk, not 10,000 single updates: {w}");
    assert!(w["files_updated"].as_u64().unwrap() < 10_000, "{w}");
    // The daemon's registry equals a fresh in-process index of the same files.
    let fresh = env.run(&["index", "--no-daemon", "--json"]).json();
    assert_eq!(fresh["files"], status["files"]);
}

/// A command-line request sees every write made before it (read-your-writes), and on a quiet
/// tree it does not wait out the debounce: a cookie file the daemon plants when the request
/// arrives is seen by the watcher after every earlier write.
#[test]
fn a_synced_request_sees_earlier_writes_through_its_cookie() {
    let env = setup();
    let (_guard, _) = start(&env, &["--no-lsp", "--debounce-ms", "10000"]);
    for i in 0..3 {
        env.write(&format!("src/providers/written{i}.ts"), format!("export function writtenJustBefore{i}(): number {{\n  return {i};\n}}\n"));
        env.run(&["symbols", &format!("writtenJustBefore{i}"), "--daemon", "--json"]).expect_code(0);
    }
    for _ in 0..3 {
        env.run(&["symbols", "postBbsMemberArticles", "--daemon", "--json"]).expect_code(0);
    }
    let w = env.run(&["daemon", "status", "--json"]).json()["watcher"].clone();
    assert!(w["synced_by_cookie"].as_u64().unwrap() >= 6, "every synced request passed by its cookie: {w}");
    assert_eq!(w["synced_by_wait"], 0, "none waited out the 10 s debounce: {w}");
    let left: Vec<_> = std::fs::read_dir(env.path(".maintaind/cookies")).unwrap().collect();
    assert!(left.is_empty(), "cookies are removed once seen: {left:?}");
}

#[test]
fn daemon_bad_options_are_refused_before_anything_starts() {
    let env = setup();
    env.run(&["daemon", "start", "--debounce-ms", "0"]).expect_code(2).stderr_has("--debounce-ms");
    assert!(!socket(&env).exists());
    env.run(&["daemon", "stop"]).expect_code(0).stderr_has("no daemon is running");
    env.run(&["daemon", "status", "--json"]).expect_code(1);
    std::fs::write(env.path("maintaind.toml"), "[daemon]\nidle_exit = 3\n").unwrap();
    env.run(&["daemon", "start"]).expect_code(2).stderr_has("unknown field");
    assert!(!socket(&env).exists());
}

#[test]
fn an_idle_daemon_exits_on_its_own() {
    let env = setup();
    let child = std::process::Command::new(bin())
        .args(["daemon", "run", "--no-lsp", "--idle-exit", "1", "--root", env.root().to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = Guard { pid: child.id() as i32 };
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("idle exit"));
}

#[test]
fn apply_goes_through_the_daemon_with_the_same_checks() {
    let env = setup();
    crate::git_init(&env);
    let (_guard, _) = start(&env, &["--ts-server", "native"]);
    env.run(&["change", "add view_count to the article model, but leave the tests alone", "--daemon"]).expect_code(0);
    let provider = "src/providers/postBbsMemberArticles.ts";
    let before = std::fs::read_to_string(env.path(provider)).unwrap();
    let write = |name: &str, v: Value| {
        let p = env.path(&format!(".maintaind/{name}.json"));
        std::fs::write(&p, v.to_string()).unwrap();
        p.display().to_string()
    };
    let helper = "export function articleViewCount(): number {\n  return 0;\n}";
    let clean = write("clean", serde_json::json!({"edits": [{"op": "insert_symbol", "file": provider, "at": "end", "text": helper}]}));
    let report = env.run(&["apply", &clean, "--daemon", "--json"]).expect_code(0).json();
    assert_eq!(report["diagnostics"]["checked"], true, "{report}");
    assert_eq!(std::fs::read_to_string(env.path(provider)).unwrap(), format!("{before}\n{helper}\n"));
    // The daemon's registry has the write at once (apply updates it, no watcher wait).
    env.run(&["symbols", "articleViewCount", "--daemon"]).expect_code(0);

    let broken = write("broken", serde_json::json!({"edits": [{"op": "insert_symbol", "file": provider, "before": "postBbsMemberArticles", "text": "const BROKEN: string = 42;"}]}));
    env.run(&["apply", &broken, "--daemon"]).expect_code(1).stdout_has("error TS2322");

    // Bad input through the daemon: refused, nothing written.
    let now = std::fs::read_to_string(env.path(provider)).unwrap();
    let outside = write("outside", serde_json::json!({"edits": [{"op": "create_file", "path": "src/MyGlobal2.ts", "text": "export const x = 1;\n"}]}));
    env.run(&["apply", &outside, "--daemon"]).expect_code(2).stderr_has("nothing written");
    let unknown = write("unknown", serde_json::json!({"edits": [{"op": "explode", "file": provider}]}));
    env.run(&["apply", &unknown, "--daemon"]).expect_code(2).stderr_has("explode");
    assert_eq!(std::fs::read_to_string(env.path(provider)).unwrap(), now);
    assert!(!env.path("src/MyGlobal2.ts").exists());

    env.run(&["rollback"]).expect_code(0);
    env.run(&["rollback"]).expect_code(0);
    crate::assert_untouched(&env);
    eventually("the rollback seen by the daemon", || env.run(&["symbols", "articleViewCount", "--daemon"]).code() == 1);
}

#[test]
fn check_goes_through_the_daemon_and_leaves_no_overlay_behind() {
    let env = setup();
    crate::git_init(&env);
    let (_guard, _) = start(&env, &["--ts-server", "native"]);
    let helper = "src/providers/authorize/jwtAuthorize.ts";
    let text = std::fs::read_to_string(env.path(helper)).unwrap();
    std::fs::write(env.path(helper), text.replace("export function jwtAuthorize(", "export function jwtAuthorize(extra: number, ")).unwrap();
    crate::git(&env, &["add", helper]);
    let via = env.run(&["check", "--staged", "--daemon", "--json"]).expect_code(1).json();
    let local = env.run(&["check", "--staged", "--no-daemon", "--json"]).expect_code(1).json();
    assert_eq!(via, local, "the daemon's check is the in-process check");
    assert_eq!(via["violations"].as_array().unwrap().len(), 2, "{via}");
    // The HEAD state it checked in was an overlay for that request only: the daemon still
    // answers from the disk, where the signature has the new parameter.
    let hit = &env.run(&["symbols", "jwtAuthorize", "--daemon", "--json"]).expect_code(0).json()[0];
    assert!(hit["signature"].as_str().unwrap().contains("extra: number"), "{hit}");
    let blast = env.run(&["blast", "jwtAuthorize", "--change", "signature", "--daemon", "--json"]).expect_code(0).json();
    let fresh = env.run(&["blast", "jwtAuthorize", "--change", "signature", "--no-daemon", "--json"]).expect_code(0).json();
    assert_eq!(blast["must_change_files"], fresh["must_change_files"]);
    // A branch check (CI's `--base`) through the daemon is the in-process one too.
    crate::git(&env, &["checkout", "-q", "-b", "feature"]);
    crate::git(&env, &["commit", "-q", "-m", "a parameter, callers forgotten"]);
    let via = env.run(&["check", "--base", "main", "--daemon", "--json"]).expect_code(1).json();
    let local = env.run(&["check", "--base", "main", "--no-daemon", "--json"]).expect_code(1).json();
    assert_eq!(via, local, "the daemon's branch check is the in-process one");
    assert_eq!(via["committed"], serde_json::json!([helper]));
    env.run(&["check", "--base", "no-such-ref", "--daemon"]).expect_code(2).stderr_has("is not a commit here");
    // A commit without code never needs the daemon; outside git is an environment error.
    crate::git(&env, &["reset", "-q"]);
    std::fs::write(env.path("NOTES.md"), "notes\n").unwrap();
    crate::git(&env, &["add", "NOTES.md"]);
    env.run(&["check", "--staged", "--daemon"]).expect_code(0);
}

/// Each file is loaded once (issue 15): the fixture's root project is covered by the test
/// project (which extends it and includes `../src`), so the server loads only the test project.
/// TypeScript 7 is asked about `src` files without opening them, from the test project that
/// holds them: a provider, used in `src` alone, gets a complete answer and the root project
/// still never loads. Which projects TypeScript 7 loaded is read from its own log lines
/// (`Project '<tsconfig>'`), which the daemon logs at debug level. Documents opened for a
/// question are closed after it: the count of open documents is the anchors' before and after.
#[test]
fn the_covered_root_project_is_never_loaded_and_questions_leave_no_document_open() {
    let env = setup();
    crate::git_init(&env);
    env.run_env(&["daemon", "start", "--ts-server", "native"], &[("MAINTAIND_LOG", "debug")]).expect_code(0);
    let status = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    let _guard = Guard { pid: status["pid"].as_i64().unwrap() as i32 };
    let projects = status["server"]["projects"].as_array().unwrap();
    let root_project = projects.iter().find(|p| p["dir"] == "").expect("the root project is listed");
    assert_eq!(root_project["covered_by"], "test", "{status}");
    let anchors = status["server"]["open_documents"].as_u64().unwrap();
    assert!(anchors >= 1, "the test project's probe is open: {status}");
    let human = env.run(&["daemon", "status"]).expect_code(0).stdout();
    assert!(human.contains("tsconfig.json not loaded: test/tsconfig.json holds its files"), "{human}");

    let dto = env.run(&["blast", "src/api/structures/IBbsArticle.ts#IBbsArticle", "--change", "rename", "--json"]).expect_code(0).json();
    assert_eq!(dto["approximate"], false, "{dto}");
    assert!(dto["tests"].as_array().is_some_and(|t| !t.is_empty()), "{dto}");
    let provider = env.run(&["blast", "src/providers/getBbsArticlesArticleId.ts#getBbsArticlesArticleId", "--change", "rename", "--json"]).expect_code(0).json();
    assert_eq!(provider["approximate"], false, "{provider}");
    assert!(provider["impacted"].as_array().unwrap().iter().any(|i| i["via"] == "lsp" && i["file"].as_str().unwrap().starts_with("src/controllers/")), "{provider}");
    let root = env.root().canonicalize().unwrap();
    let loaded = |log: &str, config: &str| log.contains(&format!("Project '{}'", root.join(config).display()));
    // The server logs a project's load before it answers the request that needed it, and the
    // daemon logs each server message as it reads it: both answers are in, so is any load.
    let log = std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap();
    assert!(loaded(&log, "test/tsconfig.json"), "the test project was loaded");
    assert!(!loaded(&log, "tsconfig.json"), "the root project was never loaded");
    // A check answers from the commit's texts (overlays) and the server's diagnostics of the
    // callers (opening a `src` file to give it a text does load the root project; TypeScript 7
    // drops it again when no open file needs it): afterwards, the disk again and no document
    // left open.
    let helper = "src/providers/authorize/jwtAuthorize.ts";
    let text = std::fs::read_to_string(env.path(helper)).unwrap();
    std::fs::write(env.path(helper), text.replace("export function jwtAuthorize(", "export function jwtAuthorize(extra: number, ")).unwrap();
    crate::git(&env, &["add", helper]);
    env.run(&["check", "--staged", "--daemon", "--json"]).expect_code(1);

    let after = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    assert_eq!(after["server"]["open_documents"].as_u64().unwrap(), anchors, "no question left a document open: {after}");
}

/// A daemon that is still starting says what it is doing in its status (`phase`), which a
/// command waiting on it shows as a spinner on a terminal; once ready, the phase is gone.
#[test]
fn a_starting_daemon_says_what_it_is_doing() {
    let env = setup();
    let mut child = std::process::Command::new(bin())
        .args(["daemon", "run", "--no-lsp", "--root", env.root().to_str().unwrap()])
        .env("MAINTAIND_FAULT_STALL", "daemon-indexing")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // It answers from its first moment ("starting"), then says it indexes, where the fault
    // holds it; it never gets further.
    let mut status = Value::Null;
    eventually("the stalled daemon to say it indexes", || {
        let r = env.run(&["daemon", "status", "--json"]);
        status = if r.code() == 0 { r.json() } else { Value::Null };
        status != Value::Null && status["phase"] != "starting"
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status["state"], "starting", "{status}");
    assert_eq!(status["phase"], "indexing files", "{status}");

    let env = setup();
    let (_guard, ready) = start(&env, &["--no-lsp"]);
    assert_eq!(ready["state"], "ready", "{ready}");
    assert!(ready.get("phase").is_none(), "no phase once ready: {ready}");
}

/// A first start reads the files and answers before parsing them all; the rest is parsed while
/// the daemon is idle and stored: once `pending` is gone, a fresh index reuses every file.
#[test]
fn a_first_start_parses_in_the_background_and_stores_everything() {
    let env = setup();
    let (guard, _) = start(&env, &["--no-lsp"]);
    env.run(&["blast", "IBbsArticle", "--daemon", "--json"]).expect_code(0);
    eventually("every file indexed", || env.run(&["daemon", "status", "--json"]).json().get("pending").is_none());
    let status = env.run(&["daemon", "status", "--json"]).json();
    assert!(status["symbols"].as_u64().unwrap() > 100, "{status}");
    env.run(&["daemon", "stop"]).expect_code(0);
    drop(guard);
    let index = env.run(&["index", "--no-daemon", "--json"]).expect_code(0).json();
    assert_eq!((index["parsed"].as_u64(), index["reused"].as_u64()), (Some(0), status["files"].as_u64()), "{index}");
}

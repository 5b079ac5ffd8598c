//! Adversarial cases (issue 12). Each one wrote outside the root, leaked a file, hung, or
//! reported the wrong outcome before its fix. The numbers are the findings.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apply::{PROVIDER, READER, edits, planned, read};
use crate::daemon::{Guard, HELLO, alive, eventually, is_zombie, socket, start};
use crate::*;

/// Edits that append `text` at the end of `PROVIDER`.
fn append(env: &Env, name: &str, text: &str) -> String {
    edits(env, name, json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": text}]}))
}

/// Run maintaind, killing it if it has not finished after `limit` (a hang fails the test; the
/// bound is not a speed assertion).
#[track_caller]
fn run_bounded(env: &Env, args: &[&str], limit: Duration) -> Run {
    let mut full = vec!["--root", env.root().to_str().unwrap()];
    full.extend_from_slice(args);
    let mut child = Command::new(bin()).args(&full).current_dir(env.root()).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("maintaind {args:?} hung (still running after {}s)", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run { args: full.iter().map(|s| s.to_string()).collect(), cwd: env.root().to_path_buf(), output: child.wait_with_output().unwrap() }
}

/// A connection that has said hello, with a read timeout so a hang fails instead of hanging.
struct Conn {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
    next: u64,
}

impl Conn {
    fn open(env: &Env) -> Conn {
        let stream = UnixStream::connect(socket(env)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut c = Conn { writer: stream.try_clone().unwrap(), reader: BufReader::new(stream), next: 2 };
        c.send_line(HELLO);
        c
    }

    fn send_line(&mut self, line: &str) -> Value {
        self.writer.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        self.reader.read_line(&mut answer).expect("the daemon answers (a timeout here is a hang)");
        serde_json::from_str(&answer).unwrap()
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        self.send_line(&json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}).to_string())
    }
}

fn git_quiet(env: &Env, args: &[&str]) {
    git(env, args);
}

// 1. A file in scope replaced by a link (live, dangling) or a hard link to an outside file.
#[test]
fn a_file_in_scope_replaced_by_a_link_is_never_written_through() {
    let env = planned();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.ts");
    std::fs::write(&secret, "mine\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let event = json!({"tool_name": "Edit", "tool_input": {"file_path": env.path(PROVIDER)}}).to_string();
    for kind in ["live", "dangling", "hard"] {
        std::fs::remove_file(env.path(PROVIDER)).unwrap();
        match kind {
            "live" => std::os::unix::fs::symlink(&secret, env.path(PROVIDER)).unwrap(),
            "dangling" => std::os::unix::fs::symlink(outside.path().join("created.ts"), env.path(PROVIDER)).unwrap(),
            _ => std::fs::hard_link(&secret, env.path(PROVIDER)).unwrap(),
        }
        let verdict = env.run(&["gate", "check", PROVIDER, "--json"]).json();
        assert_eq!(verdict[0]["allowed"], false, "{kind}: {verdict:#}");
        let reason = verdict[0]["reason"].as_str().unwrap();
        assert!(reason.contains(if kind == "hard" { "hard links" } else { "symbolic link" }), "{kind}: {reason}");
        let mut hook = Command::new(bin()).args(["--root", env.root().to_str().unwrap(), "gate", "claude-hook"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        hook.stdin.take().unwrap().write_all(event.as_bytes()).unwrap();
        let answer = hook.wait_with_output().unwrap();
        let decision: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap_or_else(|e| panic!("{kind}: no decision ({e})"));
        assert_eq!(decision["hookSpecificOutput"]["permissionDecision"], "deny", "{kind}: the hook blocks");
        let e = append(&env, kind, "export const escaped = 1;");
        env.run(&["--no-daemon", "apply", &e, "--no-lsp"]).expect_code(2).stderr_has("nothing written");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "mine\n", "{kind}");
        assert_eq!(std::fs::metadata(&secret).unwrap().mode() & 0o777, 0o600, "{kind}");
        assert!(!outside.path().join("created.ts").exists(), "{kind}");
        std::fs::remove_file(env.path(PROVIDER)).unwrap();
        git_quiet(&env, &["checkout", "--", PROVIDER]);
    }
}

// 2. Temporary files at predictable names: links planted at every name the old scheme
// (`.NAME.maintaind-{ms}-{pid}.tmp`, the daemon's pid) could pick in the next 20 seconds.
#[test]
fn apply_never_writes_through_a_planted_temporary_file() {
    let env = planned();
    let (guard, status) = start(&env, &["--no-lsp"]);
    let pid = status["pid"].as_u64().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.ts");
    std::fs::write(&victim, "theirs\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    for ms in now..now + 20_000 {
        std::os::unix::fs::symlink(&victim, env.path(&format!("src/providers/.postBbsMemberArticles.ts.maintaind-{ms}-{pid}.tmp"))).unwrap();
    }
    let e = append(&env, "planted", "export const planted = 1;");
    env.run(&["apply", &e, "--no-lsp"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "theirs\n");
    assert_eq!(std::fs::metadata(&victim).unwrap().mode() & 0o777, 0o600);
    assert!(std::fs::symlink_metadata(env.path(PROVIDER)).unwrap().is_file(), "the project file is still a regular file");
    assert!(read(&env, PROVIDER).ends_with("export const planted = 1;\n"));
    drop(guard);
}

// 3. A directory swapped for a link out of the root between validation and write.
#[test]
fn a_directory_swapped_for_a_link_cannot_redirect_a_write() {
    let env = planned();
    let outside = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(env.path("src/providers")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), outside.path().join(e.file_name())).unwrap();
        }
    }
    let listing = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = listing(outside.path());
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, dir, real, target) = (stop.clone(), env.path("src/providers"), env.path("src/providers.real"), outside.path().to_path_buf());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::fs::rename(&dir, &real).unwrap();
                if let Err(e) = std::os::unix::fs::symlink(&target, &dir) {
                    // An apply re-created the directory in that window (a new file's parent is
                    // created when missing): it wrote inside the root, which is allowed. Put
                    // the real directory back and stop swapping.
                    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
                    std::fs::rename(&dir, dir.with_extension("recreated")).unwrap();
                    std::fs::rename(&real, &dir).unwrap();
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
                std::fs::remove_file(&dir).unwrap();
                std::fs::rename(&real, &dir).unwrap();
                // Longer in place than swapped: an apply looks at the tree several times (the
                // index, the manifest's staleness, the gate, the write), and some must get
                // through for the race to be exercised at all.
                std::thread::sleep(Duration::from_millis(12));
            }
        })
    };
    let mut written = 0;
    // Until a few applies got through while the swapping goes on (each is a full race), or give up.
    for i in 0..300 {
        if written >= 8 {
            break;
        }
        let e = append(&env, &format!("race{i}"), &format!("export const race{i} = {i};"));
        written += (env.run(&["--no-daemon", "apply", &e, "--no-lsp"]).code() == 0) as usize;
    }
    stop.store(true, Ordering::SeqCst);
    swapper.join().unwrap();
    assert_eq!(listing(outside.path()), before, "nothing written outside the root (and no stray temporary file)");
    assert!(written > 0, "some applies ran while the directory was in place");
}

// 4. A save (an append) during apply is never lost.
#[test]
fn a_save_during_apply_is_never_lost() {
    let env = planned();
    let done = Arc::new(AtomicBool::new(false));
    let lines = 1500;
    let appender = {
        let (done, path) = (done.clone(), env.path(PROVIDER));
        std::thread::spawn(move || {
            for n in 0..lines {
                let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
                f.write_all(format!("// saved {n}\n").as_bytes()).unwrap();
                drop(f);
                // An editor saving often, with pauses in which an apply can get through.
                std::thread::sleep(Duration::from_millis(if n % 50 == 49 { 300 } else { 2 }));
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let (mut ok, mut refused) = (0, 0);
    let mut i = 0;
    while !done.load(Ordering::SeqCst) {
        let e = append(&env, &format!("save{i}"), &format!("export const applied{i} = {i};"));
        let r = env.run(&["--no-daemon", "apply", &e, "--no-lsp"]);
        match r.code() {
            0 => ok += 1,
            _ => {
                assert!(r.stderr().contains("changed while maintaind was writing it") || r.stderr().contains("nothing written"), "{}", r.stderr());
                refused += 1;
            }
        }
        i += 1;
    }
    appender.join().unwrap();
    let text = read(&env, PROVIDER);
    let missing: Vec<usize> = (0..lines).filter(|n| !text.contains(&format!("// saved {n}\n"))).collect();
    assert!(missing.is_empty(), "{} saved line(s) lost ({ok} applies written, {refused} refused): {:?}", missing.len(), &missing[..missing.len().min(10)]);
    assert!(ok > 0, "some applies ran");
}

// 5, 6. State is private whatever the umask: no other user can read the journal's copies,
// the registry or the log, nor open a lock to take it.
#[test]
fn state_is_private_whatever_the_umask() {
    let env = planned();
    let (guard, _) = start(&env, &["--no-lsp"]);
    let outside = tempfile::tempdir().unwrap();
    let e = outside.path().join("edits.json");
    std::fs::write(&e, json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const privateOne = 1;"}]}).to_string()).unwrap();
    env.run(&["apply", e.to_str().unwrap(), "--no-lsp"]).expect_code(0);
    env.run(&["daemon", "stop"]).expect_code(0);
    drop(guard);
    let state = env.path(".maintaind");
    assert_eq!(std::fs::metadata(&state).unwrap().mode() & 0o777, 0o700);
    let mut open = Vec::new();
    let mut seen = 0;
    let mut stack = vec![state.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.file_type().is_symlink() {
                continue;
            }
            seen += 1;
            if meta.mode() & 0o077 != 0 {
                open.push(format!("{} {:o}", entry.path().strip_prefix(&state).unwrap().display(), meta.mode() & 0o777));
            }
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    assert!(seen > 5, "the journal, the registry, the log and the locks were written");
    assert!(open.is_empty(), "readable by others: {open:?}");
}

// 7. Another user's process listening at `.maintaind/daemon.sock` is not trusted.
#[test]
fn a_daemon_run_by_another_user_is_not_trusted() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: running a process as another user needs root (CI runs as root)");
        return;
    }
    let env = setup();
    env.run(&["index"]).expect_code(0);
    let other = tempfile::tempdir().unwrap();
    std::fs::set_permissions(other.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (root, cache) = (other.path().join("root"), other.path().join("cache"));
    for d in [&root, &cache] {
        std::fs::create_dir_all(d).unwrap();
        std::os::unix::fs::chown(d, Some(65534), Some(65534)).unwrap();
    }
    std::fs::write(root.join("a.ts"), "export const a = 1;\n").unwrap();
    let mut fake = Command::new(bin())
        .args(["--root", root.to_str().unwrap(), "daemon", "run", "--no-lsp"])
        .env("MAINTAIND_CACHE_DIR", &cache)
        .env("HOME", &cache)
        .uid(65534)
        .gid(65534)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let theirs = root.join(".maintaind/daemon.sock");
    eventually("the other user's daemon listening", || theirs.exists());
    // A second name for their socket (renaming it would make their daemon stop: it watches
    // its own socket).
    std::fs::hard_link(&theirs, socket(&env)).unwrap();
    env.run(&["symbols", "postBbsMemberArticles", "--daemon"]).expect_code(3).stderr_has("served by uid 65534");
    let r = env.run(&["symbols", "postBbsMemberArticles"]);
    r.expect_code(0).stderr_has("not trusted").stdout_has("postBbsMemberArticles");
    let _ = fake.kill();
    let _ = fake.wait();
}

// 8. An enormous query is refused at once; the daemon goes on answering.
#[test]
fn an_enormous_query_is_refused_at_once() {
    let env = setup();
    let (guard, _) = start(&env, &["--no-lsp"]);
    let mut c = Conn::open(&env);
    let answer = c.call("symbols", json!({"query": "x".repeat(15 << 20)}));
    assert!(answer["error"]["message"].as_str().unwrap().contains("limit 1024"), "{}", answer["error"]);
    let answer = c.call("symbols", json!({"query": "postBbsMemberArticles"}));
    assert!(!answer["result"]["hits"].as_array().unwrap().is_empty());
    drop(guard);
}

// 8, 13. A stop never waits behind a stuck request; the apply's client is told what the
// journal says (committed: do not apply again; interrupted: roll back), never "retry".
#[test]
fn a_stuck_daemon_still_stops_and_the_apply_client_learns_the_outcome() {
    for (stall, stopper, outcome) in [("after-commit", "stop", "COMMITTED"), ("after-commit-writes", "kill", "INTERRUPTED")] {
        let env = planned();
        env.run_env(&["daemon", "start", "--no-lsp"], &[("MAINTAIND_FAULT_STALL", stall)]).expect_code(0);
        let pid = env.run(&["daemon", "status", "--json"]).json()["pid"].as_i64().unwrap() as i32;
        let guard = Guard { pid };
        let e = append(&env, stall, "export const stalled = 1;");
        let client = Command::new(bin()).args(["--root", env.root().to_str().unwrap(), "apply", &e, "--no-lsp"]).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        eventually("the apply written", || read(&env, PROVIDER).contains("stalled"));
        match stopper {
            "stop" => {
                run_bounded(&env, &["daemon", "stop"], Duration::from_secs(60)).expect_code(0);
            }
            // SAFETY: killing the daemon we started.
            _ => unsafe {
                libc::kill(pid, libc::SIGKILL);
            },
        }
        eventually("the daemon gone", || !alive(pid) || is_zombie(pid));
        let out = client.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(outcome) && !stderr.contains("retry with --no-daemon"), "{stall}: {stderr}");
        if outcome == "INTERRUPTED" {
            env.run(&["rollback"]).expect_code(0);
            assert_untouched(&env);
        } else {
            assert!(stderr.contains("Do not apply these edits again"), "{stderr}");
        }
        drop(guard);
    }
}

// 9. A FIFO named like a source file blocks nothing.
#[test]
fn a_fifo_named_like_a_source_file_hangs_nothing() {
    let env = setup();
    let (guard, _) = start(&env, &["--no-lsp"]);
    let fifo = std::ffi::CString::new(env.path("src/pipe.ts").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our temp dir.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    env.write("src/afterThePipe.ts", "export const afterThePipe = 1;\n");
    eventually("the daemon answering after the FIFO appeared", || run_bounded(&env, &["symbols", "afterThePipe", "--daemon"], Duration::from_secs(60)).code() == 0);
    run_bounded(&env, &["daemon", "stop"], Duration::from_secs(60)).expect_code(0);
    drop(guard);
    run_bounded(&env, &["--no-daemon", "index"], Duration::from_secs(60)).expect_code(0);
}

// 10. A server binary that never answers its version probe.
#[test]
fn a_server_that_never_answers_its_version_probe_hangs_nothing() {
    let env = setup();
    for bin in ["tsc", "typescript-language-server"] {
        env.write(&format!("node_modules/.bin/{bin}"), "#!/bin/sh\nexec sleep 600\n");
        std::fs::set_permissions(env.path(&format!("node_modules/.bin/{bin}")), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let r = run_bounded(&env, &["--no-daemon", "blast", "postBbsMemberArticles", "--json"], Duration::from_secs(300));
    r.expect_code(0);
}

// 11. A file saved while descriptors ran out: flagged approximate, retried, then current.
#[test]
fn a_file_unreadable_for_lack_of_descriptors_is_flagged_and_retried() {
    let env = setup();
    let (guard, status) = start(&env, &["--no-lsp"]);
    let pid = status["pid"].as_i64().unwrap() as i32;
    let mut c = Conn::open(&env);
    // A new descriptor takes the lowest free number, which must be below the soft limit: with
    // the limit at 3 (stdin, stdout and stderr are always open) every new open fails, while
    // every descriptor already open (the socket, the watcher, the store) keeps working.
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    let tight = libc::rlimit { rlim_cur: 3, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: prlimit on the daemon we started, with valid pointers.
    assert_eq!(unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) }, 0);
    let tight = libc::rlimit { rlim_max: old.rlim_max, ..tight };
    assert_eq!(unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &tight, std::ptr::null_mut()) }, 0);
    env.write("src/savedWhileStarved.ts", "export const savedWhileStarved = 1;\n");
    eventually("the daemon failing to read the saved file", || c.call("status", json!({}))["result"]["watcher"]["unreadable"].get("src/savedWhileStarved.ts").is_some());
    let answer = c.call("symbols", json!({"query": "postBbsMemberArticles"}));
    let notes = answer["result"]["notes"].to_string();
    assert!(notes.contains("could not be read yet") && notes.contains("src/savedWhileStarved.ts"), "{answer:#}");
    // SAFETY: as above, restoring the old limit.
    assert_eq!(unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &old, std::ptr::null_mut()) }, 0);
    eventually("the file read on a retry", || c.call("symbols", json!({"query": "savedWhileStarved"}))["result"]["hits"].as_array().is_some_and(|h| !h.is_empty()));
    eventually("the status no longer listing it", || c.call("status", json!({}))["result"]["watcher"]["unreadable"].is_null());
    drop(guard);
}

// 12. `git clean -fdX` removes `.maintaind/`: the daemon stops, and there is only ever one.
#[test]
fn removing_the_state_directory_stops_the_daemon_and_one_daemon_remains() {
    let env = setup();
    git_init(&env);
    let (first, _) = start(&env, &["--no-lsp"]);
    git_quiet(&env, &["clean", "-fdX", "-q"]);
    assert!(!env.path(".maintaind").exists());
    // While the first still lives a second is refused; once it is gone one starts.
    env.run(&["daemon", "start", "--no-lsp"]).expect_code(0);
    eventually("the first daemon gone", || !alive(first.pid) || is_zombie(first.pid));
    let status = env.run(&["daemon", "status", "--json"]).expect_code(0).json();
    let second = Guard { pid: status["pid"].as_i64().unwrap() as i32 };
    assert_ne!(second.pid, first.pid);
    assert!(alive(second.pid));
    let log = std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap_or_default();
    assert!(!log.contains("already running") || log.contains("ready"), "{log}");
    drop(second);
    drop(first);
}

// 13. A client killed while its apply waits for the write lock: the apply is not carried out.
#[test]
fn an_apply_whose_client_left_while_waiting_for_the_lock_is_not_carried_out() {
    let env = planned();
    let (guard, _) = start(&env, &["--no-lsp"]);
    let before = read(&env, PROVIDER);
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(env.path(".maintaind/write.lock")).unwrap();
    lock.lock().unwrap();
    let e = append(&env, "left", "export const nobodyWaits = 1;");
    let mut client = Command::new(bin()).args(["--root", env.root().to_str().unwrap(), "apply", &e, "--no-lsp"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    eventually("the apply waiting for the lock", || std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap_or_default().contains("waiting for another maintaind write"));
    client.kill().unwrap();
    client.wait().unwrap();
    eventually("the daemon noticing the client left", || std::fs::read_to_string(env.path(".maintaind/daemon.log")).unwrap_or_default().contains("went away"));
    drop(lock);
    env.run(&["symbols", "postBbsMemberArticles", "--daemon"]).expect_code(0);
    assert_eq!(read(&env, PROVIDER), before);
    assert_eq!(env.run(&["rollback", "--list", "--json"]).expect_code(0).json(), json!([]));
    drop(guard);
}

/// The size of the largest file under `dir` (but `except`).
fn largest_file(dir: &Path, except: Option<&Path>) -> u64 {
    let mut max = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else if Some(e.path().as_path()) != except {
                max = max.max(m.len());
            }
        }
    }
    max
}

/// `maintaind --no-daemon apply EDITS --no-lsp` with every file it writes limited to `limit`
/// bytes (`RLIMIT_FSIZE`, as a full disk would stop it; `SIGXFSZ` ignored so writes fail with
/// `EFBIG` instead of killing the process).
fn apply_with_file_size_limit(env: &Env, edits: &str, limit: u64) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.args(["--root", env.root().to_str().unwrap(), "--no-daemon", "apply", edits, "--no-lsp"]).env("NO_COLOR", "1");
    // SAFETY: signal and setrlimit are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let l = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            libc::setrlimit(libc::RLIMIT_FSIZE, &l);
            Ok(())
        });
    }
    cmd.output().unwrap()
}

// 14. A write failing midway (file size limit, as a full disk would): what was written is
// restored, and the message says so.
#[test]
fn a_write_failing_midway_restores_what_was_written_and_says_so() {
    let env = planned();
    env.run(&["index"]).expect_code(0);
    let limit = largest_file(env.root(), None) + 64 * 1024;
    let big = format!("export const big = `{}`;", "x".repeat(limit as usize + 1024));
    // READER sorts before PROVIDER: it is written first, then PROVIDER fails.
    let e = edits(
        &env,
        "partial",
        json!({"edits": [
            {"op": "insert_symbol", "file": READER, "at": "end", "text": "export const smallOne = 1;"},
            {"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": big},
        ]}),
    );
    let out = apply_with_file_size_limit(&env, &e, limit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("nothing changed") && stderr.contains("the 1 file(s) already written were restored") && stderr.contains("rolled back"), "{stderr}");
    assert_untouched(&env);
    let list = env.run(&["rollback", "--list", "--json"]).expect_code(0).json();
    assert_eq!(list[0]["state"], "rolled_back", "{list:#}");
}

// 14. The disk filling while the journal entry is prepared: the half entry is removed (the
// journal never keeps an entry it cannot roll back), and nothing is touched.
#[test]
fn a_journal_entry_that_cannot_be_written_is_removed_and_nothing_is_written() {
    let env = planned();
    env.run(&["index"]).expect_code(0);
    // First make PROVIDER far larger than any other file (no limit).
    let others = largest_file(env.root(), None);
    // (The edits file stays outside the root, or it would be as large.)
    let outside = tempfile::tempdir().unwrap();
    let grow = outside.path().join("grow.json");
    std::fs::write(
        &grow,
        json!({"edits": [{"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": format!("export const big = `{}`;", "x".repeat(others as usize + 256 * 1024))}]}).to_string(),
    )
    .unwrap();
    env.run(&["--no-daemon", "apply", grow.to_str().unwrap(), "--no-lsp"]).expect_code(0);
    let grown = read(&env, PROVIDER);
    // Then a small edit under a limit only PROVIDER exceeds: its old content cannot be copied.
    let limit = largest_file(env.root(), Some(&env.path(PROVIDER))) + 64 * 1024;
    assert!(grown.len() as u64 > limit);
    let small = append(&env, "small", "export const small = 1;");
    let out = apply_with_file_size_limit(&env, &small, limit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("nothing written: the journal could not record the old contents first"), "{stderr}");
    assert_eq!(read(&env, PROVIDER), grown);
    let entries: Vec<_> = std::fs::read_dir(env.path(".maintaind/journal")).unwrap().flatten().collect();
    assert_eq!(entries.len(), 1, "only the first apply's entry: {entries:?}");
    assert_eq!(env.run(&["rollback", "--list", "--json"]).expect_code(0).json().as_array().unwrap().len(), 1);
}

// 15. Rollback does not rewrite a file that already holds its old content (an unwritable one
// would otherwise block every later apply).
#[test]
fn rollback_leaves_a_file_already_restored_alone() {
    let env = planned();
    let e = edits(
        &env,
        "two",
        json!({"edits": [
            {"op": "insert_symbol", "file": READER, "at": "end", "text": "export const one = 1;"},
            {"op": "insert_symbol", "file": PROVIDER, "at": "end", "text": "export const two = 2;"},
        ]}),
    );
    env.run(&["--no-daemon", "apply", &e, "--no-lsp"]).expect_code(0);
    git_quiet(&env, &["checkout", "--", PROVIDER]);
    let ino = std::fs::metadata(env.path(PROVIDER)).unwrap().ino();
    env.run(&["rollback"]).expect_code(0);
    assert_eq!(std::fs::metadata(env.path(PROVIDER)).unwrap().ino(), ino, "not rewritten");
    assert_untouched(&env);
}

// 16. `check --staged` after `git merge --no-commit` fast-forwarded: what the merge brought in
// is checked, not the empty index.
#[test]
fn check_after_a_fast_forward_merge_sees_what_it_brought_in() {
    let env = setup();
    git_init(&env);
    git_quiet(&env, &["checkout", "-q", "-b", "side"]);
    let provider = read(&env, READER);
    std::fs::write(env.path(READER), provider.replace("export async function getBbsArticlesArticleId(", "export async function getBbsArticlesArticleIdRenamed(")).unwrap();
    git_quiet(&env, &["commit", "-q", "-am", "rename"]);
    git_quiet(&env, &["checkout", "-q", "main"]);
    git_quiet(&env, &["merge", "-q", "--no-commit", "side"]);
    let r = env.run(&["check", "--staged", "--no-lsp"]);
    r.expect_code(1).stderr_has("fast-forwarded").stdout_has("getBbsArticlesArticleId");
}

// 17. Two names differing only in invalid UTF-8 bytes: both refused loudly, neither merged.
#[test]
fn names_that_are_not_utf8_are_refused_loudly() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let env = setup();
    for (byte, name) in [(0xffu8, "fromFF"), (0xfe, "fromFE")] {
        let mut path = env.path("src").into_os_string().into_vec();
        path.extend_from_slice(b"/odd");
        path.push(byte);
        path.extend_from_slice(b".ts");
        std::fs::write(std::ffi::OsStr::from_bytes(&path), format!("export const {name} = 1;\n")).unwrap();
    }
    let report = env.run(&["index", "--json"]).expect_code(0).json();
    let skipped: Vec<&Value> = report["skipped"].as_array().unwrap().iter().filter(|s| s["reason"].as_str().unwrap().contains("not valid UTF-8")).collect();
    assert_eq!(skipped.len(), 2, "{report:#}");
    env.run(&["symbols", "fromFF"]).expect_code(1);
}

// 18. The Claude hook fails closed: a deleted working directory, a missing binary.
#[test]
fn the_claude_hook_fails_closed() {
    let event = json!({"tool_name": "Write", "tool_input": {"file_path": "/tmp/x.ts", "content": "x"}}).to_string();
    let gone = tempfile::tempdir().unwrap();
    let dir = gone.path().join("deleted");
    std::fs::create_dir(&dir).unwrap();
    let script = format!("cd '{}' && rmdir '{}' && exec '{}' gate claude-hook", dir.display(), dir.display(), bin());
    let mut child = Command::new("sh").args(["-c", &script]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // It may decide (and exit) before reading its input.
    let _ = child.stdin.take().unwrap().write_all(event.as_bytes());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("write blocked"));
    // The documented settings block when the binary is missing.
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/guide/gate.md")).unwrap();
    let command = "maintaind gate claude-hook || exit 2";
    assert!(doc.contains(&format!("\"command\": \"{command}\"")), "the guide documents the fail-closed command");
    let mut child = Command::new("/bin/sh").args(["-c", command]).env("PATH", "/nonexistent").stdin(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(event.as_bytes());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

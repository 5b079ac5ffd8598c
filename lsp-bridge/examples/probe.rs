//! Manual probe: `cargo run -p maintaind-lsp-bridge --example probe -- tsls|native ROOT FILE LINE COL [OPEN...]`
//! prints how long the first complete references answer takes.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use maintaind_lsp_bridge::*;
use serde_json::json;

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let kind = if a[0] == "native" { ServerKind::Native } else { ServerKind::Tsls };
    let root = PathBuf::from(&a[1]).canonicalize().unwrap();
    let cache = server::cache_dir();
    let found = server::find_or_install(kind, &root, &cache, false, &|m| eprintln!("{m}")).unwrap();
    eprintln!("{found:?}");
    let t0 = Instant::now();
    let bridge = Bridge::start(found.launch, &root, RestartPolicy::default()).await.unwrap();
    eprintln!("initialized in {:?}", t0.elapsed());
    let file = root.join(&a[2]);
    bridge.open(&file, std::fs::read_to_string(&file).unwrap()).await.unwrap();
    for o in &a[5..] {
        let p = root.join(o);
        bridge.open(&p, std::fs::read_to_string(&p).unwrap()).await.unwrap();
    }
    let (line, col): (u32, u32) = (a[3].parse().unwrap(), a[4].parse().unwrap());
    for i in 0..40 {
        let t = Instant::now();
        let r = bridge
            .request_raw(
                "textDocument/references",
                json!({"textDocument": {"uri": path_to_uri(&file)}, "position": {"line": line, "character": col}, "context": {"includeDeclaration": true}}),
                Duration::from_secs(60),
            )
            .await;
        match r {
            Ok(v) => {
                let mut files: Vec<String> = v.as_array().unwrap().iter().map(|l| l["uri"].as_str().unwrap().replace(&path_to_uri(&root), "")).collect();
                files.sort();
                files.dedup();
                eprintln!("#{i} at {:?} ({:?}): {} refs in {} files: {:?}", t0.elapsed(), t.elapsed(), v.as_array().unwrap().len(), files.len(), &files[..files.len().min(8)]);
            }
            Err(e) => eprintln!("#{i} error {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        if i > 3 && t0.elapsed() > Duration::from_secs(15) { break; }
    }
    bridge.stop().await;
}

//! LSP base protocol framing: `Content-Length: N\r\n\r\n` + N bytes of JSON.
//!
//! Reading is forgiving in the ways real servers need: junk lines before a header (a server
//! that prints to stdout) are skipped and logged, other headers are ignored, and a frame split
//! across reads is simply awaited. A body that is not JSON is reported and skipped; only EOF or
//! an I/O error ends the stream.

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Frames larger than this are refused: no language server answer is anywhere near it, and a
/// corrupt length must not make us allocate gigabytes.
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// What one read produced.
#[derive(Debug)]
pub enum Incoming {
    Message(Value),
    /// Something unusable arrived and was skipped (with what it was, for the log).
    Skipped(String),
    /// The stream ended.
    Eof,
}

/// Read the next frame (receive side of the server's stdout).
pub async fn recv_server_message<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Incoming> {
    let mut content_length: Option<usize> = None;
    let mut junk = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).await?;
        if n == 0 {
            return Ok(Incoming::Eof);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            if let Some(len) = content_length {
                if len > MAX_FRAME {
                    return Ok(Incoming::Skipped(format!("frame of {len} bytes refused")));
                }
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).await?;
                return Ok(match serde_json::from_slice(&body) {
                    Ok(v) => Incoming::Message(v),
                    Err(e) => Incoming::Skipped(format!("body is not JSON ({e}): {}", String::from_utf8_lossy(&body[..body.len().min(120)]))),
                });
            }
            continue;
        }
        match trimmed.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => match value.trim().parse() {
                Ok(len) => content_length = Some(len),
                Err(_) => junk.push_str(trimmed),
            },
            Some((name, _)) if name.eq_ignore_ascii_case("content-type") => {}
            _ => {
                // Not a header: a server printing to stdout. Skip it, but say so.
                if content_length.is_none() {
                    return Ok(Incoming::Skipped(format!("junk on stdout: {}", &trimmed[..trimmed.len().min(200)])));
                }
                junk.push_str(trimmed);
            }
        }
    }
}

/// Write one frame (send side, to the server's stdin).
pub async fn send_to_server<W: AsyncWrite + Unpin>(writer: &mut W, message: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(message).expect("JSON values serialise");
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    writer.write_all(header.as_bytes()).await?;
    writer.write_all(&body).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn read_all(bytes: &[u8]) -> Vec<String> {
        let mut r = BufReader::new(bytes);
        let mut out = Vec::new();
        loop {
            match recv_server_message(&mut r).await.unwrap() {
                Incoming::Message(v) => out.push(format!("msg {v}")),
                Incoming::Skipped(why) => out.push(format!("skip {why}")),
                Incoming::Eof => return out,
            }
        }
    }

    #[tokio::test]
    async fn frames_junk_and_bad_bodies() {
        let input = b"hello from a chatty server\nContent-Length: 7\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"a\":1}Content-Length: 3\r\n\r\nxyzContent-Length: 2\r\n\r\n{}";
        assert_eq!(
            read_all(input).await,
            vec!["skip junk on stdout: hello from a chatty server".to_string(), "msg {\"a\":1}".into(), "skip body is not JSON (expected value at line 1 column 1): xyz".into(), "msg {}".into(),]
        );
    }

    #[tokio::test]
    async fn partial_frame_at_eof_is_an_error_not_a_message() {
        let mut r = BufReader::new(&b"Content-Length: 10\r\n\r\n{\"a\""[..]);
        assert!(recv_server_message(&mut r).await.is_err());
    }

    #[tokio::test]
    async fn frame_split_across_reads_is_reassembled() {
        let (mut tx, rx) = tokio::io::duplex(8);
        let writer = tokio::spawn(async move {
            for chunk in [&b"Content-Le"[..], b"ngth: 8\r", b"\n\r\n{\"x\":", b"42}"] {
                tx.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut r = BufReader::new(rx);
        match recv_server_message(&mut r).await.unwrap() {
            Incoming::Message(v) => assert_eq!(v, serde_json::json!({"x": 42})),
            other => panic!("{other:?}"),
        }
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn round_trip() {
        let mut buf = Vec::new();
        send_to_server(&mut buf, &serde_json::json!({"jsonrpc": "2.0", "id": 1})).await.unwrap();
        assert_eq!(read_all(&buf).await, vec!["msg {\"id\":1,\"jsonrpc\":\"2.0\"}".to_string()]);
    }
}

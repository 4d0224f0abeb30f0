//! The Prometheus `/metrics` endpoint: a minimal HTTP/1.1 responder on its
//! own listener (no extra HTTP stack for one read-only page).
//!
//! Owns: answering `GET /metrics` with the engine's metrics (503 while
//! models load), 404 otherwise, with explicit limits on request size and
//! time so a bad client cannot hold a connection.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::EngineSlot;

/// Largest request head read.
const MAX_REQUEST_BYTES: usize = 8192;
/// Time a client gets to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves until the task is dropped.
pub async fn serve_metrics(listener: TcpListener, engine: EngineSlot) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(1024);
            let read = tokio::time::timeout(REQUEST_TIMEOUT, async {
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST_BYTES {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return false,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                true
            })
            .await;
            if !matches!(read, Ok(true)) {
                return;
            }
            let head = String::from_utf8_lossy(&buf);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match (head.starts_with("GET "), path, engine.get()) {
                (true, "/metrics", Some(e)) => ("200 OK", e.render_metrics()),
                (true, "/metrics", None) => (
                    "503 Service Unavailable",
                    "models are loading\n".to_string(),
                ),
                _ => ("404 Not Found", "try GET /metrics\n".to_string()),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

//! The plain HTTP a WebSocket listener answers besides upgrades: `GET
//! /health` for the load balancer in front (200 serving; 503 while the
//! models load, when the listener is at its connection limit, or while it
//! drains) and `GET /metrics` with this listener's series.
//!
//! Owns: reading a request's head (bounded), telling an upgrade from a
//! plain request, the answers, and the connection type that replays the
//! head to the WebSocket handshake.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Largest request head read before deciding (an upgrade's is < 2 KiB).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A connection whose first bytes were already read: they are read again
/// first, then the connection itself.
pub struct Replayed<S> {
    head: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Replayed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.head.len() {
            let n = buf.remaining().min(self.head.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.head[at..at + n]);
            self.at += n;
            if self.at == self.head.len() {
                self.head = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replayed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, b)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a connection's first request is.
pub enum Request<S> {
    /// A WebSocket upgrade (or anything else for the handshake to judge).
    Upgrade(Replayed<S>),
    /// A plain `GET` of `path`; answer it on `conn`.
    Get {
        path: String,
        conn: S,
        /// Its `Authorization` header (for `/metrics`).
        authorization: Option<String>,
    },
}

/// Reads the request head and sorts the request.
///
/// # Errors
/// The connection failed while reading.
pub async fn read_request<S: AsyncRead + Unpin>(mut conn: S) -> io::Result<Request<S>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD_BYTES {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut upgrade = false;
    let mut authorization = None;
    for l in lines.take_while(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        upgrade |= lower.starts_with("upgrade:");
        if lower.starts_with("authorization:") {
            authorization = Some(l["authorization:".len()..].trim().to_string());
        }
    }
    let mut parts = request_line.split(' ');
    if let (Some("GET"), Some(path), false) = (parts.next(), parts.next(), upgrade) {
        let path = path.split('?').next().unwrap_or_default().to_string();
        if path == "/health" || path == "/healthz" || path == "/metrics" {
            return Ok(Request::Get {
                path,
                conn,
                authorization,
            });
        }
    }
    Ok(Request::Upgrade(Replayed {
        head,
        at: 0,
        inner: conn,
    }))
}

/// Writes a whole response and closes.
pub async fn respond<S: AsyncWrite + Unpin>(
    conn: &mut S,
    status: u16,
    content_type: &str,
    body: &str,
) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes()).await;
    let _ = conn.write_all(body.as_bytes()).await;
    let _ = conn.shutdown().await;
}

/// The lines of a Prometheus exposition that belong to `protocol`'s
/// listener (its samples, and the HELP and TYPE lines of their metrics).
pub fn metrics_of(exposition: &str, protocol: &str) -> String {
    let label = format!("protocol=\"{protocol}\"");
    let name_of = |sample: &str| {
        sample
            .split(['{', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let names: std::collections::HashSet<String> = exposition
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(&label))
        .map(name_of)
        .collect();
    exposition
        .lines()
        .filter(|l| {
            match l
                .strip_prefix("# HELP ")
                .or_else(|| l.strip_prefix("# TYPE "))
            {
                Some(rest) => names.contains(&name_of(rest)),
                None => l.contains(&label),
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_gets_are_told_from_upgrades_which_are_replayed() {
        let get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        assert!(
            matches!(read_request(&get[..]).await.unwrap(), Request::Get { path, .. } if path == "/health")
        );
        let up = b"GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\nrest".to_vec();
        let Request::Upgrade(mut r) = read_request(&up[..]).await.unwrap() else {
            panic!("an upgrade to any path is the handshake's");
        };
        let mut again = Vec::new();
        r.read_to_end(&mut again).await.unwrap();
        assert_eq!(again, up, "every byte read is read again");
        let other = b"GET /other HTTP/1.1\r\n\r\n".to_vec();
        assert!(matches!(
            read_request(&other[..]).await.unwrap(),
            Request::Upgrade(_)
        ));
    }

    #[test]
    fn metrics_keep_the_listeners_own_series() {
        let all = "# HELP a_total A.\n# TYPE a_total counter\na_total{protocol=\"fork\"} 2\na_total{protocol=\"twilio\"} 1\n# HELP b B.\n# TYPE b gauge\nb 3\n";
        assert_eq!(
            metrics_of(all, "fork"),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{protocol=\"fork\"} 2\n"
        );
    }
}

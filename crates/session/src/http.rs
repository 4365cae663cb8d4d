//! One HTTP/1.1 JSON POST, for requests that go over HTTP(S) instead of
//! the XMPP stream (the Jitsi conference request, `/join --focus-http`).
//! Hand-rolled on tokio: `http://` over TCP, `https://` with rustls and
//! the same root store as the XMPP connection. `Connection: close`, the
//! answer read to its end (at most [`MAX_RESPONSE`] bytes), chunked or
//! `Content-Length` bodies.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, pki_types::ServerName};

use super::{SessionEvent, Tag};
use confab_proto::ErrorInfo;

/// The largest answer read (headers and body).
pub const MAX_RESPONSE: usize = 1 << 20;

/// An HTTP answer: its status and body (as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// The parts of an `http://` / `https://` URL we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

fn err(condition: &str, text: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(condition, Some(text.into()))
}

/// Why a focus URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{0:?} is not an http:// or https:// URL")]
    NotHttp(String),
    #[error("{0:?}: user names in URLs are not supported")]
    UserName(String),
    #[error("{0:?}: unclosed [ in the host")]
    UnclosedBracket(String),
    #[error("{url:?}: unexpected {after:?} after the host")]
    AfterHost { url: String, after: String },
    #[error("{0:?} has no valid host")]
    NoHost(String),
    #[error("{url:?}: {port:?} is not a port number")]
    BadPort { url: String, port: String },
    #[error("{0:?}: the path has spaces or control characters")]
    BadPath(String),
}

/// Why an HTTP answer cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("the answer is not HTTP (no end of headers)")]
    NoHeadersEnd,
    #[error("the HTTP headers are not UTF-8")]
    HeadersNotUtf8,
    #[error("not an HTTP status line: {0:?}")]
    StatusLine(String),
    #[error("bad Content-Length {0:?}")]
    ContentLength(String),
    #[error("the answer ended after {got} of {length} body bytes")]
    Truncated { got: usize, length: usize },
    #[error("the HTTP body is not UTF-8")]
    BodyNotUtf8,
    #[error("a chunk size line is cut off")]
    ChunkSizeLineCut,
    #[error("bad chunk size")]
    ChunkSizeNotUtf8,
    #[error("bad chunk size {0:?}")]
    ChunkSize(String),
    #[error("a chunk is cut off")]
    ChunkCut,
}

/// Parses `http[s]://host[:port][/path]` (IPv6 hosts in brackets).
pub fn parse_url(url: &str) -> Result<Url, UrlError> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(UrlError::NotHttp(url.into()));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err(UrlError::UserName(url.into()));
    }
    let default_port = if https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| UrlError::UnclosedBracket(url.into()))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => {
                return Err(UrlError::AfterHost {
                    url: url.into(),
                    after: after.into(),
                });
            }
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::NoHost(url.into()));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| UrlError::BadPort {
                url: url.into(),
                port: p.into(),
            })?,
    };
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::BadPath(url.into()));
    }
    Ok(Url {
        https,
        host,
        port,
        path,
    })
}

/// Starts the POST on its own task; its outcome comes back as
/// [`SessionEvent::HttpResponse`] with `tag`.
pub(super) fn spawn(
    url: String,
    body: String,
    timeout: Duration,
    tag: Tag,
    tls: Arc<ClientConfig>,
    events: mpsc::UnboundedSender<SessionEvent>,
) {
    tokio::spawn(async move {
        let result = match tokio::time::timeout(timeout, post_json(&url, &body, tls)).await {
            Ok(r) => r,
            Err(_) => Err(err(
                "remote-server-timeout",
                format!("{url}: no answer within {} s", timeout.as_secs()),
            )),
        };
        let _ = events.send(SessionEvent::HttpResponse { tag, result });
    });
}

/// POSTs `body` (JSON) to `url` and reads the whole answer.
pub async fn post_json(
    url: &str,
    body: &str,
    tls: Arc<ClientConfig>,
) -> Result<HttpResponse, ErrorInfo> {
    let u = parse_url(url).map_err(|e| err("bad-request", e.to_string()))?;
    let unreachable = |e: std::io::Error| err("remote-server-not-found", format!("{url}: {e}"));
    let tcp = TcpStream::connect((u.host.as_str(), u.port))
        .await
        .map_err(unreachable)?;
    let host_header = if u.host.contains(':') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    let default_port = if u.https { 443 } else { 80 };
    let host_header = if u.port == default_port {
        host_header
    } else {
        format!("{host_header}:{}", u.port)
    };
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: confab/{}\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        u.path,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    let raw = if u.https {
        let name = ServerName::try_from(u.host.clone())
            .map_err(|e| err("bad-request", format!("{url}: {e}")))?;
        let stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(unreachable)?;
        exchange(stream, request.as_bytes()).await
    } else {
        exchange(tcp, request.as_bytes()).await
    }
    .map_err(unreachable)?;
    parse_response(&raw).map_err(|e| err("undefined-condition", format!("{url}: {e}")))
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    request: &[u8],
) -> std::io::Result<Vec<u8>> {
    s.write_all(request).await?;
    s.flush().await?;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(n) => n,
            // Servers that close without TLS close_notify: what we have
            // is checked by the parser (lengths, chunks).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() > MAX_RESPONSE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the answer is larger than {MAX_RESPONSE} bytes"),
            ));
        }
    }
}

/// Parses a whole HTTP/1.x answer (status line, headers, body).
pub fn parse_response(raw: &[u8]) -> Result<HttpResponse, ResponseError> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ResponseError::NoHeadersEnd)?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| ResponseError::HeadersNotUtf8)?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| ResponseError::StatusLine(status_line.into()))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| ResponseError::ContentLength(value.into()))?,
            );
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        if rest.len() < n {
            return Err(ResponseError::Truncated {
                got: rest.len(),
                length: n,
            });
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    let body = String::from_utf8(body).map_err(|_| ResponseError::BodyNotUtf8)?;
    Ok(HttpResponse { status, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, ResponseError> {
    let mut out = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(ResponseError::ChunkSizeLineCut)?;
        let line =
            std::str::from_utf8(&rest[..eol]).map_err(|_| ResponseError::ChunkSizeNotUtf8)?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ResponseError::ChunkSize(size_text.into()))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err(ResponseError::ChunkCut);
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://meet.example/conference-request/v1").unwrap();
        assert_eq!(
            u,
            Url {
                https: true,
                host: "meet.example".into(),
                port: 443,
                path: "/conference-request/v1".into()
            }
        );
        let u = parse_url("http://127.0.0.1:8080").unwrap();
        assert_eq!((u.port, u.path.as_str(), u.https), (8080, "/", false));
        let u = parse_url("http://[::1]:81/x?y=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 81, "/x?y=1")
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80/").is_err());
        assert!(parse_url("http://x:99999/").is_err());
        assert!(parse_url("http://u@x/").is_err());
        assert!(parse_url("http://x/a b").is_err());
    }

    #[test]
    fn answers_with_length_chunks_or_neither() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n{}\r\nextra",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "{}\r\n"));
        let r = parse_response(
            b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (403, "abcde"));
        let r = parse_response(b"HTTP/1.0 400 Bad\r\n\r\nno").unwrap();
        assert_eq!((r.status, r.body.as_str()), (400, "no"));
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[tokio::test]
    async fn posts_json_and_reads_the_answer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !String::from_utf8_lossy(&got).contains("{\"a\":1}") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
                .await
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let tls = crate::tls_config(None).unwrap();
        let r = post_json(&format!("http://127.0.0.1:{port}/p"), "{\"a\":1}", tls)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "{\"ok\":true}");
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /p HTTP/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("Host: 127.0.0.1:{port}\r\n")));
        assert!(request.contains("Content-Length: 7\r\n"));
        assert!(request.contains("Content-Type: application/json\r\n"));
    }
}

//! HTTP(S) beside the XMPP stream, on reqwest (hyper, rustls): the JSON
//! POST of the Jitsi conference request (`/join --focus-http`) and the
//! one [`client`] every transfer (`transfer.rs`) uses. TLS is the XMPP
//! connection's own `ClientConfig` (ring, the system roots plus
//! `--ca-file`), so a certificate the stream would refuse is refused
//! here too. No proxies from the environment (the stream uses none).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_rustls::rustls::ClientConfig;

use super::{SessionEvent, Tag};
use confab_proto::ErrorInfo;

/// The largest answer body read.
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

/// The HTTP client on the stream's TLS configuration. Redirects are not
/// followed (an upload slot or a focus answers where it was asked).
pub fn client(tls: &Arc<ClientConfig>) -> Result<reqwest::Client, ErrorInfo> {
    reqwest::Client::builder()
        .use_preconfigured_tls(ClientConfig::clone(tls))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("confab/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| err("internal-server-error", format!("HTTP client: {e}")))
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

/// The words for a failed request: what reqwest knows, with its causes;
/// the URL as the caller shows it (reqwest's own, with its query, is
/// left out).
pub fn describe(url: &str, e: reqwest::Error) -> ErrorInfo {
    let e = e.without_url();
    let mut text = format!("{url}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    let condition = if e.is_timeout() {
        "remote-server-timeout"
    } else if e.is_connect() {
        "remote-server-not-found"
    } else {
        "undefined-condition"
    };
    err(condition, text)
}

/// POSTs `body` (JSON) to `url` and reads the whole answer (at most
/// [`MAX_RESPONSE`] bytes of body, UTF-8).
pub async fn post_json(
    url: &str,
    body: &str,
    tls: Arc<ClientConfig>,
) -> Result<HttpResponse, ErrorInfo> {
    parse_url(url).map_err(|e| err("bad-request", e.to_string()))?;
    let mut response = client(&tls)?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| describe(url, e))?;
    let status = response.status().as_u16();
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(url, e))? {
        if out.len() + chunk.len() > MAX_RESPONSE {
            return Err(err(
                "undefined-condition",
                format!("{url}: the answer is larger than {MAX_RESPONSE} bytes"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    let body = String::from_utf8(out).map_err(|_| {
        err(
            "undefined-condition",
            format!("{url}: the HTTP body is not UTF-8"),
        )
    })?;
    Ok(HttpResponse { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(request.starts_with("post /p http/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("host: 127.0.0.1:{port}\r\n")));
        assert!(request.contains("content-length: 7\r\n"));
        assert!(request.contains("content-type: application/json\r\n"));
    }
}

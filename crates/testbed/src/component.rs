//! XEP-0114 (Jabber Component Protocol) connections for the project's own
//! testbed peers (legacy conference service, Jitsi focus, A/V SFU).
//!
//! Stanzas travel as plain `minidom::Element`s in the
//! `jabber:component:accept` namespace. tokio-xmpp's `Component` is not
//! used on purpose: its `component` feature switches xmpp-parsers' default
//! namespace for the whole build, which would break confab's own client in
//! the same build.

use std::borrow::Cow;
use std::io;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use minidom::Element;
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_xmpp::xmlstream::{ReadError, StreamHeader, Timeouts, XmlStream, initiate_stream};
use xmpp_parsers::sha1::{Digest, Sha1};

use confab_proto::{nc, ns};
use confab_session::guard::{Guard, Limits};

/// The namespace of component streams and their stanzas.
pub const NS: &str = "jabber:component:accept";

#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("component {jid}: cannot connect to 127.0.0.1:{port}: {source}")]
    Connect {
        jid: String,
        port: u16,
        source: io::Error,
    },
    #[error("component {jid}: {what}: {source}")]
    Stream {
        jid: String,
        what: &'static str,
        source: io::Error,
    },
    #[error("component {jid}: the server refused the handshake ({condition})")]
    Refused { jid: String, condition: String },
    #[error("component {jid}: no answer to the handshake in time")]
    Timeout { jid: String },
}

/// Where a testbed peer attaches: the server's component port on
/// loopback, the shared secret, and how quiet the link may be.
#[derive(Debug, Clone)]
pub struct Link {
    pub port: u16,
    pub secret: String,
    /// After `read_timeout` of silence the peer pings the server; no
    /// answer within `response_timeout` ends the connection (then it
    /// reconnects).
    pub timeouts: Timeouts,
}

impl Link {
    /// `port` and `secret` with tokio-xmpp's tight timeouts (60 s + 15 s).
    pub fn new(port: u16, secret: &str) -> Link {
        Link {
            port,
            secret: secret.to_string(),
            timeouts: Timeouts::tight(),
        }
    }
}

/// First wait before connecting again after the link dropped.
const RECONNECT_MIN: Duration = Duration::from_millis(500);
/// Longest wait between connection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// A connection that lasted this long starts the back-off afresh.
const STABLE: Duration = Duration::from_secs(60);

/// Connects to the server's component port as `jid` and runs `serve` on
/// the stream; when the stream ends (the server restarted, the link
/// broke) it connects again with back-off (0.5 s doubling up to 30 s) and
/// serves a fresh stream — how every testbed peer runs, for days. Returns
/// only when the server refuses the handshake (a wrong secret or an
/// unknown component will not fix itself).
pub async fn connect_and_serve<F, Fut>(
    link: &Link,
    jid: &str,
    mut serve: F,
) -> Result<(), ComponentError>
where
    F: FnMut(ComponentStream) -> Fut,
    Fut: std::future::Future<Output = io::Result<()>>,
{
    let mut delay = RECONNECT_MIN;
    loop {
        match ComponentStream::connect_with(link.port, jid, &link.secret, link.timeouts).await {
            Ok(stream) => {
                let started = tokio::time::Instant::now();
                let why = match serve(stream).await {
                    Ok(()) => "the stream ended".to_string(),
                    Err(e) => e.to_string(),
                };
                if started.elapsed() >= STABLE {
                    delay = RECONNECT_MIN;
                }
                eprintln!(
                    "component {jid}: disconnected ({why}); connecting again in {:.1} s",
                    delay.as_secs_f32()
                );
            }
            Err(e @ ComponentError::Refused { .. }) => return Err(e),
            Err(e) => eprintln!(
                "component {jid}: {e}; trying again in {:.1} s",
                delay.as_secs_f32()
            ),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
    }
}

/// A connected, authenticated component stream.
pub struct ComponentStream {
    inner: XmlStream<BufStream<Guard<HeaderShim>>, Element>,
    jid: String,
    /// The server's domain: where keep-alive pings go.
    server: String,
    /// Ids of keep-alive pings in flight (their answers are ours).
    pings: u64,
}

/// Id prefix of the keep-alive pings a component sends to its server.
const KEEPALIVE_ID: &str = "testbed-keepalive-";

/// `hex(sha1(stream id + secret))`, the XEP-0114 handshake value.
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let mut h = Sha1::new();
    h.update(stream_id.as_bytes());
    h.update(secret.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl ComponentStream {
    /// Connects to a component port on loopback as `jid` with `secret`,
    /// with tokio-xmpp's tight timeouts.
    pub async fn connect(
        port: u16,
        jid: &str,
        secret: &str,
    ) -> Result<ComponentStream, ComponentError> {
        Self::connect_with(port, jid, secret, Timeouts::tight()).await
    }

    /// [`Self::connect`] with the given read/response timeouts.
    pub async fn connect_with(
        port: u16,
        jid: &str,
        secret: &str,
        timeouts: Timeouts,
    ) -> Result<ComponentStream, ComponentError> {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|source| ComponentError::Connect {
                jid: jid.into(),
                port,
                source,
            })?;
        let stream_err = |what: &'static str| {
            let jid = jid.to_string();
            move |source: io::Error| ComponentError::Stream {
                jid: jid.clone(),
                what,
                source,
            }
        };
        // XEP-0114 streams are pre-1.0: the server's header has no
        // `version`, which tokio-xmpp's stream layer insists on. So the
        // header exchange happens here, and the stream layer is given a
        // copy of the server's header with `version='1.0'` added (and its
        // own header is kept from the wire).
        let (tcp, server_header) = exchange_headers(tcp, jid)
            .await
            .map_err(stream_err("stream header"))?;
        // The same parse limits as confab's own connection: a stanza
        // nested too deep or too big is dropped before minidom builds it
        // (these peers run for days).
        let io = Guard::new(HeaderShim::new(tcp, server_header), Limits::default());
        let pending = initiate_stream(
            BufStream::new(io),
            NS,
            StreamHeader {
                to: Some(Cow::Borrowed(jid)),
                from: None,
                id: None,
            },
            timeouts,
        )
        .await
        .map_err(stream_err("stream header"))?;
        let id = pending
            .header()
            .id
            .map(|i| i.into_owned())
            .unwrap_or_default();
        let mut inner = pending.skip_features::<Element>();
        let handshake = Element::builder("handshake", NS)
            .append(handshake_digest(&id, secret))
            .build();
        inner
            .send(&handshake)
            .await
            .map_err(stream_err("sending the handshake"))?;
        let reply = tokio::time::timeout(Duration::from_secs(10), inner.next()).await;
        match reply {
            Err(_) => Err(ComponentError::Timeout { jid: jid.into() }),
            Ok(Some(Ok(el))) if el.is("handshake", NS) => Ok(ComponentStream {
                inner,
                jid: jid.into(),
                // sfu.localhost is served by localhost.
                server: jid
                    .split_once('.')
                    .map_or(jid, |(_, parent)| parent)
                    .to_string(),
                pings: 0,
            }),
            Ok(Some(Ok(el))) => Err(ComponentError::Refused {
                jid: jid.into(),
                condition: el
                    .children()
                    .next()
                    .map(|c| c.name().to_string())
                    .unwrap_or_else(|| el.name().to_string()),
            }),
            Ok(Some(Err(e))) => Err(ComponentError::Refused {
                jid: jid.into(),
                condition: e.to_string(),
            }),
            Ok(None) => Err(ComponentError::Refused {
                jid: jid.into(),
                condition: "stream closed".into(),
            }),
        }
    }

    /// The component's JID.
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// Sends a stanza (build it in [`NS`]).
    pub async fn send(&mut self, stanza: &Element) -> io::Result<()> {
        self.inner.send(stanza).await
    }

    /// The next stanza; `None` when the stream ended. A quiet period is
    /// answered with a ping to the server (XEP-0199), so the stream's
    /// read timeout sees its answer; the answers are not returned. A
    /// server that does not answer, a stream error or a broken connection
    /// ends the stream.
    pub async fn next(&mut self) -> Option<Element> {
        loop {
            match self.inner.next().await? {
                Ok(el) if self.is_keepalive_answer(&el) => continue,
                Ok(el) => return Some(el),
                Err(ReadError::SoftTimeout) => {
                    if self.keepalive().await.is_err() {
                        return None;
                    }
                }
                Err(ReadError::ParseError(_)) => continue,
                Err(ReadError::HardError(_)) | Err(ReadError::StreamFooterReceived) => {
                    return None;
                }
            }
        }
    }

    async fn keepalive(&mut self) -> io::Result<()> {
        self.pings += 1;
        let ping = stanza("iq")
            .attr(nc("type"), "get")
            .attr(nc("id"), format!("{KEEPALIVE_ID}{}", self.pings))
            .attr(nc("from"), self.jid.as_str())
            .attr(nc("to"), self.server.as_str())
            .append(Element::builder("ping", ns::PING).build())
            .build();
        self.inner.send(&ping).await
    }

    fn is_keepalive_answer(&self, el: &Element) -> bool {
        el.is("iq", NS)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && el.attr("id").is_some_and(|i| i.starts_with(KEEPALIVE_ID))
    }
}

/// Sends our stream header on the wire and reads the server's (up to the
/// `>` of its `<stream:stream …>`); returns it with `version='1.0'` added.
async fn exchange_headers(mut tcp: TcpStream, jid: &str) -> io::Result<(TcpStream, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ours = format!(
        "<?xml version='1.0'?><stream:stream xmlns='{NS}' xmlns:stream='http://etherx.jabber.org/streams' to='{jid}'>"
    );
    tcp.write_all(ours.as_bytes()).await?;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut byte))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no stream header"))??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before the stream header",
            ));
        }
        got.push(byte[0]);
        if byte[0] == b'>' {
            let text = String::from_utf8_lossy(&got);
            if let Some(pos) = text.find("<stream:stream") {
                let tag = &text[pos..];
                if tag.ends_with('>') {
                    let patched = if tag.contains("version=") {
                        text.into_owned()
                    } else {
                        format!(
                            "{}<stream:stream version='1.0'{}",
                            &text[..pos],
                            &tag["<stream:stream".len()..]
                        )
                    };
                    return Ok((tcp, patched.into_bytes()));
                }
            }
        }
        if got.len() > 4096 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream header too long",
            ));
        }
    }
}

/// Reads the patched server header first, then the connection; swallows
/// the stream layer's own header (already sent) before writing through.
pub struct HeaderShim {
    tcp: TcpStream,
    header: Vec<u8>,
    header_pos: usize,
    /// Bytes of our second header still to swallow: everything up to and
    /// including the `>` that closes `<stream:stream …`.
    swallowing: bool,
    seen: Vec<u8>,
}

impl HeaderShim {
    fn new(tcp: TcpStream, header: Vec<u8>) -> HeaderShim {
        HeaderShim {
            tcp,
            header,
            header_pos: 0,
            swallowing: true,
            seen: Vec::new(),
        }
    }
}

impl tokio::io::AsyncRead for HeaderShim {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        if self.header_pos < self.header.len() {
            let n = (self.header.len() - self.header_pos).min(buf.remaining());
            let start = self.header_pos;
            buf.put_slice(&self.header[start..start + n]);
            self.header_pos += n;
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for HeaderShim {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        if self.swallowing {
            // Swallow up to the end of the `<stream:stream …>` tag.
            for (i, b) in data.iter().enumerate() {
                self.seen.push(*b);
                if *b == b'>' && String::from_utf8_lossy(&self.seen).contains("<stream:stream") {
                    self.swallowing = false;
                    self.seen.clear();
                    return std::task::Poll::Ready(Ok(i + 1));
                }
            }
            return std::task::Poll::Ready(Ok(data.len()));
        }
        std::pin::Pin::new(&mut self.tcp).poll_write(cx, data)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Starts an element in the component namespace: `<name xmlns=NS>`.
pub fn stanza(name: &str) -> minidom::ElementBuilder {
    Element::builder(name, NS)
}

/// Starts the answer to `req`: the same stanza name and id, type `type_`,
/// from and to swapped.
pub fn reply(req: &Element, type_: &str) -> minidom::ElementBuilder {
    let mut b = stanza(req.name()).attr(nc("type"), type_);
    if let Some(f) = req.attr("to") {
        b = b.attr(nc("from"), f);
    }
    if let Some(t) = req.attr("from") {
        b = b.attr(nc("to"), t);
    }
    if let Some(id) = req.attr("id") {
        b = b.attr(nc("id"), id);
    }
    b
}

/// The result answering IQ `req`, with `payload` if any.
pub fn iq_result(req: &Element, payload: Option<Element>) -> Element {
    let b = reply(req, "result");
    match payload {
        Some(p) => b.append(p).build(),
        None => b.build(),
    }
}

/// Starts a stanza `<error/>` of `type_` with `condition` and, unless
/// empty, `text`.
pub fn error(type_: &str, condition: &str, text: &str) -> minidom::ElementBuilder {
    let e = stanza("error")
        .attr(nc("type"), type_)
        .append(Element::builder(condition, ns::STANZAS).build());
    if text.is_empty() {
        e
    } else {
        e.append(Element::builder("text", ns::STANZAS).append(text).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_digest_is_lowercase_hex_sha1_of_id_and_secret() {
        // sha1("3BF96D75" + "test"), computed independently.
        assert_eq!(
            handshake_digest("3BF96D75", "test"),
            "a5117c69bc6c1092cc9f550e2b2af12b2e74a533"
        );
        assert_eq!(handshake_digest("", "").len(), 40);
    }
}

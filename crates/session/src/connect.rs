//! One connection attempt: TCP, STARTTLS (or direct TLS) with the server
//! certificate verified, SCRAM login, resource binding.
//!
//! Built on tokio-xmpp's XML stream layer rather than its `Client`, which
//! reconnects on its own without telling anyone and retries a wrong
//! password forever.

use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use jid::{BareJid, FullJid};
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};
use tokio_xmpp::xmlstream::{
    ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
};
use xmpp_parsers::bind::{BindQuery, BindResponse};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::sm::Enabled;
use xmpp_parsers::starttls;

use super::channel_binding::TlsBindings;
use super::guard::{Guard, Limits};
use super::{Secret, Tap, TlsMode, XmlDir};
use confab_proto::ns;

/// The TLS stream behind the guard that bounds every stanza's depth and
/// size before the XML parser builds anything (`guard.rs`).
pub type Io = BufStream<Guard<TlsStream<TcpStream>>>;
pub type Stream = XmppStream<Io>;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectParams {
    pub jid: BareJid,
    pub password: Secret,
    /// The explicit server; with `discovery`, what is tried when the
    /// domain has no SRV record (the domain on the default port).
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// `Some`: DNS SRV discovery first (`resolve.rs`).
    pub discovery: Option<super::resolve::Discovery>,
    pub resource: String,
    pub tls_config: Arc<ClientConfig>,
    pub timeouts: Timeouts,
    /// Limit for the whole attempt (TCP to bound resource).
    pub attempt_timeout: Duration,
    /// Enable XEP-0198 stream management when the server offers it.
    pub stream_management: bool,
}

/// Why an attempt failed; `fatal` ones are not retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{condition}: {text}")]
pub struct ConnectError {
    pub fatal: bool,
    pub condition: String,
    pub text: String,
}

impl ConnectError {
    pub(super) fn retry(condition: &str, text: impl Into<String>) -> ConnectError {
        ConnectError {
            fatal: false,
            condition: condition.into(),
            text: text.into(),
        }
    }
    pub(super) fn fatal(condition: &str, text: impl Into<String>) -> ConnectError {
        ConnectError {
            fatal: true,
            condition: condition.into(),
            text: text.into(),
        }
    }
}

/// Errors building the TLS configuration (bad `--ca-file`).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("CA file {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("CA file {path}: {text}")]
    Bad { path: String, text: String },
}

/// The TLS client configuration: the system's roots plus `ca_file`.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let p = path.display().to_string();
        let data = std::fs::read(path).map_err(|source| TlsSetupError::Read {
            path: p.clone(),
            source,
        })?;
        let mut count = 0;
        for cert in rustls_pemfile::certs(&mut &data[..]) {
            let cert = cert.map_err(|e| TlsSetupError::Bad {
                path: p.clone(),
                text: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| TlsSetupError::Bad {
                path: p.clone(),
                text: e.to_string(),
            })?;
            count += 1;
        }
        if count == 0 {
            return Err(TlsSetupError::Empty { path: p });
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn header(domain: &str) -> StreamHeader<'_> {
    StreamHeader {
        to: Some(Cow::Borrowed(domain)),
        from: None,
        id: None,
    }
}

pub(super) fn io_error(e: io::Error) -> ConnectError {
    // A certificate problem is not going to fix itself: fatal.
    if let Some(inner) = e.get_ref()
        && let Some(tls) = inner.downcast_ref::<rustls::Error>()
    {
        return match tls {
            rustls::Error::InvalidCertificate(c) => ConnectError::fatal(
                "bad-certificate",
                format!(
                    "the server's TLS certificate was rejected ({c:?}); \
                         if it is signed by a private CA, pass it with --ca-file"
                ),
            ),
            other => ConnectError::retry("tls-error", other.to_string()),
        };
    }
    let condition = match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection-refused",
        io::ErrorKind::TimedOut => "connection-timeout",
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => "connection-lost",
        _ => "io-error",
    };
    ConnectError::retry(condition, e.to_string())
}

pub(super) fn read_error(e: ReadError) -> ConnectError {
    match e {
        ReadError::HardError(e) => io_error(e),
        ReadError::ParseError(e) => ConnectError::retry("bad-format", e.to_string()),
        ReadError::StreamFooterReceived => {
            ConnectError::retry("connection-lost", "the server closed the stream")
        }
        ReadError::SoftTimeout => ConnectError::retry("connection-timeout", "no answer"),
    }
}

/// `NotAuthorized` → `not-authorized`.
pub(super) fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A logged-in stream, bound or resumed.
pub struct Connected {
    pub stream: Stream,
    /// Our full JID (a resumed stream keeps the old one).
    pub jid: FullJid,
    /// The SASL mechanism used.
    pub mechanism: &'static str,
    pub sm: SmStart,
}

/// How XEP-0198 stream management began on this stream.
#[derive(Debug)]
pub enum SmStart {
    /// The stream was bound anew; `enabled` when the server offered
    /// stream management and enabled it; `refused`: why a resumption we
    /// asked for failed.
    Bound {
        enabled: Option<Enabled>,
        refused: Option<String>,
    },
    /// `<resumed h/>`: the old stream goes on (no bind).
    Resumed { h: u32 },
}

/// A resumption to try instead of binding.
#[derive(Debug, Clone)]
pub struct ResumeReq {
    pub previd: String,
    pub h: u32,
    pub jid: FullJid,
}

/// Runs one attempt with the overall time limit (traced to the log only).
pub async fn connect(
    p: &ConnectParams,
    resume: Option<ResumeReq>,
) -> Result<Connected, ConnectError> {
    connect_tapped(p, resume, &Tap::default()).await
}

/// [`connect`], every element in and out recorded by `tap` (`xml.rs`).
pub async fn connect_tapped(
    p: &ConnectParams,
    resume: Option<ResumeReq>,
    tap: &Tap,
) -> Result<Connected, ConnectError> {
    match tokio::time::timeout(p.attempt_timeout, connect_inner(p, resume, tap)).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::retry(
            "connection-timeout",
            match &p.discovery {
                Some(_) => format!(
                    "no session with {} after {} s",
                    p.jid.domain(),
                    p.attempt_timeout.as_secs()
                ),
                None => format!(
                    "no session with {}:{} after {} s",
                    p.host,
                    p.port,
                    p.attempt_timeout.as_secs()
                ),
            },
        )),
    }
}

async fn connect_inner(
    p: &ConnectParams,
    resume: Option<ResumeReq>,
    tap: &Tap,
) -> Result<Connected, ConnectError> {
    let domain = p.jid.domain().as_str().to_string();
    // The TLS mode is the SRV record's when discovered; the certificate is
    // checked against `domain` whatever the target (RFC 7590).
    let (tcp, tls_mode) = super::resolve::open(p).await?;
    let _ = tcp.set_nodelay(true);
    let tcp = match tls_mode {
        TlsMode::StartTls => starttls(tcp, &domain, p.timeouts, tap).await?,
        TlsMode::Direct => tcp,
    };
    let server_name = ServerName::try_from(domain.clone())
        .map_err(|e| ConnectError::fatal("bad-domain", e.to_string()))?;
    let tls = TlsConnector::from(p.tls_config.clone())
        .connect(server_name, tcp)
        .await
        .map_err(io_error)?;
    tracing::debug!(%domain, "TLS established");
    // What SCRAM -PLUS can bind to (`channel_binding.rs`).
    let bindings = TlsBindings::of(tls.get_ref().1);
    let stream = initiate_stream(
        BufStream::new(Guard::new(tls, Limits::default())),
        ns::JABBER_CLIENT,
        header(&domain),
        p.timeouts,
    )
    .await
    .map_err(io_error)?;
    let (features, stream) = stream
        .recv_features()
        .await
        .map_err(|e| ConnectError::retry("stream-error", e.to_string()))?;
    tap.record(XmlDir::In, &features);

    // SCRAM only (-PLUS with channel binding when possible), the server's
    // signature and XEP-0474 hash checked (`sasl.rs`); never PLAIN.
    let offer = super::sasl::Offer::of(&features);
    let local = p
        .jid
        .node()
        .ok_or_else(|| ConnectError::fatal("bad-jid", "the account JID has no local part"))?;
    let (initiating, mechanism) = super::sasl::login(
        stream,
        &offer,
        &bindings,
        local.as_str(),
        p.password.expose(),
        tap,
    )
    .await?;
    tracing::info!(%mechanism, "logged in");
    let stream = initiating
        .send_header(header(&domain))
        .await
        .map_err(io_error)?;
    let (features, stream) = stream
        .recv_features()
        .await
        .map_err(|e| ConnectError::retry("stream-error", e.to_string()))?;
    tap.record(XmlDir::In, &features);
    let offered = p.stream_management && features.stream_management.is_some();
    let mut stream = stream;
    let mut refused = None;
    // XEP-0198: resume instead of binding when we hold a stream.
    if let Some(req) = resume {
        if offered {
            match super::sm::handshake::resume(&mut stream, &req, tap).await? {
                Ok(h) => {
                    return Ok(Connected {
                        stream,
                        jid: req.jid,
                        mechanism,
                        sm: SmStart::Resumed { h },
                    });
                }
                Err(why) => refused = Some(why),
            }
        } else {
            refused = Some("the server no longer offers stream management".to_string());
        }
    }
    if !features.can_bind() {
        return Err(ConnectError::retry(
            "bind-unsupported",
            "the server does not offer resource binding",
        ));
    }
    let (mut stream, jid) = bind(stream, &p.resource, tap).await?;
    tracing::info!(%jid, "bound");
    let enabled = if offered {
        super::sm::handshake::enable(&mut stream, tap).await?
    } else {
        None
    };
    Ok(Connected {
        stream,
        jid,
        mechanism,
        sm: SmStart::Bound { enabled, refused },
    })
}

async fn starttls(
    tcp: TcpStream,
    domain: &str,
    timeouts: Timeouts,
    tap: &Tap,
) -> Result<TcpStream, ConnectError> {
    let stream = initiate_stream(
        BufStream::new(Guard::new(tcp, Limits::default())),
        ns::JABBER_CLIENT,
        header(domain),
        timeouts,
    )
    .await
    .map_err(io_error)?;
    let (features, mut stream): (_, Stream2) = stream
        .recv_features()
        .await
        .map_err(|e| ConnectError::retry("stream-error", e.to_string()))?;
    tap.record(XmlDir::In, &features);
    if !features.can_starttls() {
        // Never fall back to an unencrypted stream.
        return Err(ConnectError::fatal(
            "no-starttls",
            "the server does not offer STARTTLS; refusing to log in without TLS",
        ));
    }
    let request = XmppStreamElement::Starttls(starttls::Nonza::Request(starttls::Request));
    tap.record(XmlDir::Out, &request);
    stream.send(&request).await.map_err(io_error)?;
    loop {
        match stream.next().await {
            Some(Ok(el)) => match el
                .into_read_error()
                .inspect(|el| tap.record(XmlDir::In, el))
            {
                Ok(XmppStreamElement::Starttls(starttls::Nonza::Proceed(_))) => break,
                Ok(XmppStreamElement::Starttls(_)) => {
                    return Err(ConnectError::fatal(
                        "tls-failure",
                        "the server refused STARTTLS",
                    ));
                }
                Ok(_) => continue,
                Err(e) => return Err(read_error(e)),
            },
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(e)) => return Err(read_error(e)),
            None => {
                return Err(ConnectError::retry(
                    "connection-lost",
                    "closed during STARTTLS",
                ));
            }
        }
    }
    Ok(stream.into_inner().into_inner().into_inner())
}

type Stream2 = XmppStream<BufStream<Guard<TcpStream>>>;

async fn bind(
    mut stream: Stream,
    resource: &str,
    tap: &Tap,
) -> Result<(Stream, FullJid), ConnectError> {
    const BIND_ID: &str = "confab-bind";
    let iq = Iq::from_set(BIND_ID, BindQuery::new(Some(resource.to_string())));
    let request = XmppStreamElement::Stanza(iq.into());
    tap.record(XmlDir::Out, &request);
    stream.send(&request).await.map_err(io_error)?;
    loop {
        let item = match stream.next().await {
            Some(Ok(item)) => item,
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(e)) => return Err(read_error(e)),
            None => return Err(ConnectError::retry("connection-lost", "closed during bind")),
        };
        let el = match item.into_read_error() {
            Ok(el) => el,
            Err(e) => return Err(read_error(e)),
        };
        tap.record(XmlDir::In, &el);
        if let XmppStreamElement::Stanza(tokio_xmpp::Stanza::Iq(iq)) = el {
            match iq {
                Iq::Result {
                    id,
                    payload: Some(payload),
                    ..
                } if id == BIND_ID => {
                    let resp = BindResponse::try_from(payload)
                        .map_err(|e| ConnectError::retry("bind-failed", e.to_string()))?;
                    return Ok((stream, FullJid::from(resp)));
                }
                Iq::Error { id, error, .. } if id == BIND_ID => {
                    let info = confab_proto::ErrorInfo::from_stanza_error(&error);
                    return Err(ConnectError::retry("bind-failed", info.to_string()));
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_conditions() {
        assert_eq!(kebab("NotAuthorized"), "not-authorized");
        assert_eq!(kebab("Aborted"), "aborted");
    }

    #[test]
    fn ca_file_errors_are_clear() {
        let e = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.pem");
        std::fs::write(&p, "not a certificate\n").unwrap();
        let e = tls_config(Some(&p)).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        assert!(tls_config(None).is_ok());
    }

    #[test]
    fn certificate_errors_are_fatal_others_retry() {
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let c = io_error(e);
        assert!(c.fatal);
        assert_eq!(c.condition, "bad-certificate");
        assert!(c.text.contains("--ca-file"));
        let c = io_error(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!c.fatal);
        assert_eq!(c.condition, "connection-refused");
    }
}

//! A fake XMPP server for login tests: STARTTLS with a certificate from a
//! fresh test CA (so confab trusts it with `--ca-file`), the stream
//! features of an [`Offer`] (mechanisms, XEP-0440 binding types), SCRAM-SHA-1
//! far enough to send a valid server-first message (with a XEP-0474 `h=`
//! if asked), then a final message as
//! the [`Finale`] says — a forged one or a real one — and then, if confab
//! goes on, resource binding (as an impostor would).
//!
//! With an [`SmScript`] it also offers XEP-0198 stream management and
//! breaks it on purpose, over as many connections as the script needs.
//!
//! Bytes are written and matched as text: the fake only needs to follow
//! confab's side of the exchange.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sasl::common::Password;
use sasl::common::scram::{ScramProvider, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};

/// How the fake server ends the SCRAM exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finale {
    /// `<success>` with a `v=` that is not the server signature.
    WrongSignature,
    /// `<success/>` with no data at all.
    NoData,
    /// `<success>` with the right signature (then bind).
    Valid,
    /// The right signature in a last `<challenge>`, then an empty
    /// `<success/>` (RFC 6120 §6.3.10), then bind.
    ValidAsChallenge,
}

/// XEP-0198 misbehaviour, after a valid login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmScript {
    /// Stream management enabled, then `<a h='99'/>` after the initial
    /// presence: more than confab sent. One connection.
    AckTooHigh,
    /// Enabled; the first connection is closed after the initial
    /// presence; the resumption on the second gets `<resumed
    /// h='4000000000'/>`; the third connection is bound. Three
    /// connections.
    ResumedNonsense,
}

impl SmScript {
    fn connections(self) -> usize {
        match self {
            SmScript::AckTooHigh => 1,
            SmScript::ResumedNonsense => 3,
        }
    }
}

/// What the fake's stream features offer, and what its XEP-0474 `h=`
/// attribute says they were.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    /// Offer XEP-0198 and misbehave so.
    pub sm: Option<SmScript>,
    /// Advertised mechanisms (only SCRAM-SHA-1 is spoken); empty:
    /// `SCRAM-SHA-1` alone.
    pub mechanisms: Vec<&'static str>,
    /// XEP-0440 channel-binding types, if advertised.
    pub channel_bindings: Option<Vec<&'static str>>,
    /// `h=` as the hash of these mechanisms and types (XEP-0474 0.4: sorted,
    /// joined by 0x1E, 0x1F before the types), if sent.
    pub ssdp_of: Option<(Vec<&'static str>, Option<Vec<&'static str>>)>,
}

/// XEP-0474's hash, written out independently of confab's.
fn ssdp(mechanisms: &[&str], cb: &Option<Vec<&str>>) -> String {
    let mut m = mechanisms.to_vec();
    m.sort();
    let mut s = m.join("\x1e");
    if let Some(cb) = cb {
        let mut cb = cb.clone();
        cb.sort();
        s.push('\x1f');
        s.push_str(&cb.join("\x1e"));
    }
    B64.encode(Sha1::hash(s.as_bytes()))
}

pub const PASSWORD: &str = "fake-pw";
const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

pub struct FakeServer {
    pub port: u16,
    /// The client-first message, once received.
    client_first: Arc<std::sync::Mutex<Option<String>>>,
    /// Under an [`SmScript`]: per connection, `bind` or the `<resume …/>`
    /// confab sent.
    sm_log: Arc<std::sync::Mutex<Vec<String>>>,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl FakeServer {
    /// Listens on loopback and serves one connection.
    pub async fn start(finale: Finale) -> FakeServer {
        FakeServer::offering(finale, Offer::default()).await
    }

    /// The same, with these stream features and `h=`.
    pub async fn offering(finale: Finale, offer: Offer) -> FakeServer {
        let certs = confab_testbed::certs::generate(&["localhost"]).expect("certs");
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &certs.ca_pem).unwrap();
        let chain: Vec<_> = rustls_pemfile::certs(&mut certs.leaf_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls_pemfile::private_key(&mut certs.leaf_key_pem.as_bytes())
            .unwrap()
            .unwrap();
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let client_first = Arc::new(std::sync::Mutex::new(None));
        let seen = client_first.clone();
        let sm_log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = sm_log.clone();
        let task = tokio::spawn(async move {
            let n = offer.sm.map_or(1, SmScript::connections);
            for i in 0..n {
                let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
                let conn = Conn {
                    acceptor: acceptor.clone(),
                    finale,
                    offer: offer.clone(),
                    seen: seen.clone(),
                    log: log.clone(),
                    index: i,
                };
                serve(tcp, conn).await?;
            }
            Ok(())
        });
        FakeServer {
            port,
            client_first,
            sm_log,
            ca_file,
            _dir: dir,
            task,
        }
    }

    /// The client-first message confab sent (GS2 header included).
    pub fn client_first(&self) -> Option<String> {
        self.client_first.lock().unwrap().clone()
    }

    /// Under an [`SmScript`]: what each connection did after login.
    pub fn sm_log(&self) -> Vec<String> {
        self.sm_log.lock().unwrap().clone()
    }

    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// How the served connection ended (`Err` names the step that failed).
    pub async fn outcome(self) -> Result<(), String> {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.task)
            .await
            .map_err(|_| "the fake server is still serving".to_string())?
            .map_err(|e| e.to_string())?
    }
}

/// Bytes read but not yet matched.
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    /// Reads until `needle` is held; returns the text up to and including
    /// it.
    async fn until<S: AsyncRead + Unpin>(
        &mut self,
        s: &mut S,
        needle: &str,
    ) -> Result<String, String> {
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if let Some(i) = text.find(needle) {
                let end = i + needle.len();
                self.buf.drain(..end);
                return Ok(text[..end].to_string());
            }
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                return Err(format!("closed while waiting for {needle:?}; got {text:?}"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads a stream header (`<stream:stream …>`).
    async fn header<S: AsyncRead + Unpin>(&mut self, s: &mut S) -> Result<(), String> {
        self.until(s, "<stream:stream").await?;
        self.until(s, ">").await?;
        Ok(())
    }
}

fn header(features: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' id='fake-1' from='localhost' \
         version='1.0'><stream:features>{features}</stream:features>"
    )
}

/// The base64 text of the element ending in `close`.
fn payload(element: &str, close: &str) -> Result<Vec<u8>, String> {
    let body = element
        .strip_suffix(close)
        .and_then(|s| s.rsplit_once('>'))
        .map(|(_, b)| b)
        .ok_or_else(|| format!("no payload in {element:?}"))?;
    B64.decode(body.trim())
        .map_err(|e| format!("{e}: {element:?}"))
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, text: &str) -> Result<(), String> {
    s.write_all(text.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())
}

/// One connection to serve.
struct Conn {
    acceptor: TlsAcceptor,
    finale: Finale,
    offer: Offer,
    seen: Arc<std::sync::Mutex<Option<String>>>,
    log: Arc<std::sync::Mutex<Vec<String>>>,
    index: usize,
}

async fn serve(mut tcp: tokio::net::TcpStream, conn: Conn) -> Result<(), String> {
    let Conn {
        acceptor,
        finale,
        offer,
        seen,
        ..
    } = &conn;
    let (finale, offer) = (*finale, offer.clone());
    let mut r = Reader { buf: Vec::new() };
    r.header(&mut tcp).await?;
    send(
        &mut tcp,
        &header("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"),
    )
    .await?;
    r.until(&mut tcp, "<starttls").await?;
    r.until(&mut tcp, ">").await?;
    send(
        &mut tcp,
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    )
    .await?;
    let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
    let mut r = Reader { buf: Vec::new() };

    r.header(&mut tls).await?;
    let mechanisms = if offer.mechanisms.is_empty() {
        vec!["SCRAM-SHA-1"]
    } else {
        offer.mechanisms.clone()
    };
    let mut features = format!("<mechanisms xmlns='{SASL}'>");
    for m in &mechanisms {
        features.push_str(&format!("<mechanism>{m}</mechanism>"));
    }
    features.push_str("</mechanisms>");
    if let Some(types) = &offer.channel_bindings {
        features.push_str("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>");
        for t in types {
            features.push_str(&format!("<channel-binding type='{t}'/>"));
        }
        features.push_str("</sasl-channel-binding>");
    }
    send(&mut tls, &header(&features)).await?;
    let auth = r.until(&mut tls, "</auth>").await?;
    if !auth.contains("mechanism='SCRAM-SHA-1'") && !auth.contains("mechanism=\"SCRAM-SHA-1\"") {
        return Err(format!("not SCRAM-SHA-1: {auth}"));
    }
    let client_first = String::from_utf8(payload(&auth, "</auth>")?).unwrap();
    *seen.lock().unwrap() = Some(client_first.clone());
    let bare = client_first
        .find("n=")
        .map(|i| client_first[i..].to_string())
        .ok_or("no gs2 header")?;
    let nonce = bare.split(",r=").nth(1).ok_or("no nonce")?.to_string();
    let salt = b"fake-server-salt";
    let mut server_first = format!("r={nonce}fake,s={},i=4096", B64.encode(salt));
    if let Some((m, cb)) = &offer.ssdp_of {
        server_first.push_str(&format!(",h={}", ssdp(m, cb)));
    }
    send(
        &mut tls,
        &format!(
            "<challenge xmlns='{SASL}'>{}</challenge>",
            B64.encode(&server_first)
        ),
    )
    .await?;
    let response = r.until(&mut tls, "</response>").await?;
    let client_final = String::from_utf8(payload(&response, "</response>")?).unwrap();
    let (without_proof, _) = client_final.split_once(",p=").ok_or("no proof")?;
    let salted = Sha1::derive(&Password::Plain(PASSWORD.into()), salt, 4096).unwrap();
    let server_key = Sha1::hmac(b"Server Key", &salted).unwrap();
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let signature = Sha1::hmac(auth_message.as_bytes(), &server_key).unwrap();
    let server_final = |sig: &[u8]| B64.encode(format!("v={}", B64.encode(sig)));
    match finale {
        Finale::WrongSignature => {
            let mut wrong = signature.clone();
            wrong[0] ^= 0x55;
            let text = format!("<success xmlns='{SASL}'>{}</success>", server_final(&wrong));
            send(&mut tls, &text).await?;
        }
        Finale::NoData => send(&mut tls, &format!("<success xmlns='{SASL}'/>")).await?,
        Finale::Valid => {
            let text = format!(
                "<success xmlns='{SASL}'>{}</success>",
                server_final(&signature)
            );
            send(&mut tls, &text).await?;
        }
        Finale::ValidAsChallenge => {
            let text = format!(
                "<challenge xmlns='{SASL}'>{}</challenge>",
                server_final(&signature)
            );
            send(&mut tls, &text).await?;
            r.until(&mut tls, "<response").await?;
            r.until(&mut tls, ">").await?;
            send(&mut tls, &format!("<success xmlns='{SASL}'/>")).await?;
        }
    }
    // Logged in (or so the impostor hopes): the restart, then resource
    // binding.
    r.header(&mut tls).await?;
    if let Some(script) = offer.sm {
        return serve_sm(&mut tls, r, script, &conn).await;
    }
    send(
        &mut tls,
        &header("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"),
    )
    .await?;
    r.until(&mut tls, "</iq>").await?;
    send(
        &mut tls,
        "<iq type='result' id='confab-bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@localhost/fake</jid></bind></iq>",
    )
    .await?;
    // Whatever comes next is read and ignored until confab leaves (killed
    // or not).
    let mut sink = [0u8; 4096];
    while tls.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    Ok(())
}

const BOUND: &str = "<iq type='result' id='confab-bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                     <jid>alice@localhost/fake</jid></bind></iq>";

/// After login under an [`SmScript`]: bind (or resume), enable, misbehave.
async fn serve_sm<S: AsyncRead + AsyncWrite + Unpin>(
    tls: &mut S,
    mut r: Reader,
    script: SmScript,
    conn: &Conn,
) -> Result<(), String> {
    send(
        tls,
        &header("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>"),
    )
    .await?;
    // A bind IQ or a resumption, whichever comes.
    let mut head = String::new();
    while !head.contains("<iq") && !head.contains("<resume") {
        head.push_str(&r.until(tls, ">").await?);
    }
    if head.contains("<resume") {
        conn.log.lock().unwrap().push(head.trim().to_string());
        if script == SmScript::ResumedNonsense {
            send(
                tls,
                "<resumed xmlns='urn:xmpp:sm:3' previd='fake-sm' h='4000000000'/>",
            )
            .await?;
        }
        return drain(tls).await;
    }
    conn.log.lock().unwrap().push("bind".into());
    r.until(tls, "</iq>").await?;
    send(tls, BOUND).await?;
    r.until(tls, "<enable").await?;
    r.until(tls, ">").await?;
    send(
        tls,
        "<enabled xmlns='urn:xmpp:sm:3' id='fake-sm' resume='true' max='60'/>",
    )
    .await?;
    r.until(tls, "</presence>").await?;
    match (script, conn.index) {
        (SmScript::AckTooHigh, _) => {
            send(tls, "<a xmlns='urn:xmpp:sm:3' h='99'/>").await?;
            drain(tls).await
        }
        // The first stream just ends.
        (SmScript::ResumedNonsense, 0) => Ok(()),
        (SmScript::ResumedNonsense, _) => drain(tls).await,
    }
}

/// Reads and ignores whatever comes until confab leaves.
async fn drain<S: AsyncRead + Unpin>(s: &mut S) -> Result<(), String> {
    let mut sink = [0u8; 4096];
    while s.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    Ok(())
}

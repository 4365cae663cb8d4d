//! A hand-driven XMPP peer for tests: confab's own connection code, raw
//! stanzas in and out.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use jid::{BareJid, Jid};
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, Timeouts, XmppStreamElement};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::presence::Presence;

use confab::config::{Secret, TlsMode};
pub use confab::session::connect::Stream;
use confab::session::connect::{ConnectParams, connect};
use confab::session::tls_config;

use super::{TestServer, password_of};

/// `user@localhost/peer`, online; its stream and full JID.
pub async fn peer_with_jid(server: &dyn TestServer, user: &str) -> (Stream, Jid) {
    let params = ConnectParams {
        jid: BareJid::new(&server.jid(user)).unwrap(),
        password: Secret::new(password_of(user)),
        host: "127.0.0.1".into(),
        port: server.c2s_port(),
        tls: TlsMode::StartTls,
        discovery: None,
        resource: "peer".into(),
        tls_config: tls_config(Some(server.ca_file())).unwrap(),
        timeouts: Timeouts::tight(),
        attempt_timeout: Duration::from_secs(20),
        // A raw peer answers no `<r/>`.
        stream_management: false,
    };
    let c = connect(&params, None).await.expect("peer connects");
    let (mut stream, jid) = (c.stream, c.jid);
    send(&mut stream, Presence::available()).await;
    (stream, jid.into())
}

/// `user@localhost/peer`, online.
pub async fn peer(server: &dyn TestServer, user: &str) -> Stream {
    peer_with_jid(server, user).await.0
}

pub async fn send(stream: &mut Stream, s: impl Into<Stanza>) {
    stream
        .send(&XmppStreamElement::Stanza(s.into()))
        .await
        .unwrap();
}

/// The next IQ result or error with this id (bounded wait).
pub async fn answer(stream: &mut Stream, id: &str) -> Iq {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.next().await {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))))
                    if iq.id() == id =>
                {
                    return iq;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("peer stream: {e}"),
                None => panic!("peer stream closed"),
            }
        }
    })
    .await
    .expect("an answer in time")
}

/// Reads the peer's stream until a presence from `from` arrives.
pub async fn presence_from(stream: &mut Stream, from: &str) {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.next().await {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                    Stanza::Presence(p),
                )))) if p.from.as_ref().map(|f| f.to_string()).as_deref() == Some(from) => {
                    return;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("peer stream: {e}"),
                None => panic!("peer stream closed"),
            }
        }
    })
    .await
    .expect("presence in time")
}

/// Joins `room` as `nick` (a MUC join presence) and waits for the
/// room's presence of the peer itself.
pub async fn join_room(stream: &mut Stream, room: &str, nick: &str) {
    let occupant = format!("{room}/{nick}");
    let mut join = Presence::available().with_to(Jid::new(&occupant).unwrap());
    join.payloads
        .push(minidom::Element::builder("x", "http://jabber.org/protocol/muc").build());
    send(stream, join).await;
    presence_from(stream, &occupant).await;
}

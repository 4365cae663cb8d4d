//! The testbed SFU (XEP-0521) through a real Prosody: raw Jingle
//! participants (confab's connection code, `media::rtc` and
//! `protocol::jingle`, no confab client) call a room on the in-process SFU
//! and receive each other's packets — never their own; a hang-up ends the
//! sessions carrying that stream; a room's participant limit refuses a
//! third caller.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use jid::Jid;
use minidom::Element;
use tokio::sync::{mpsc, oneshot};
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::presence::Presence;

use confab::media::rtc::{AudioPeer, ConnectionState, RtcEvent, RtcOptions};
use confab::protocol::jingle::{self, Action, MediaSession, Reason, Role, sdp};
use confab::protocol::{adhoc, ns};
use confab_testbed::sfu;

use crate::common::peer::*;
use crate::common::*;

const SFU: &str = "sfu.localhost";
const ROOM: &str = "lounge@sfu.localhost";

/// What a participant tells the test.
#[derive(Debug)]
enum Report {
    /// A packet of a forwarded stream: the Coin entity, the payload's tag.
    Packet {
        who: &'static str,
        entity: String,
        tag: u8,
    },
    /// A session ended by the SFU: whose stream (None: its own session),
    /// the reason and its text.
    Terminated {
        who: &'static str,
        entity: Option<String>,
        reason: String,
        text: String,
    },
}

/// What the test tells a participant.
enum Control {
    /// session-terminate its own session, stay online.
    HangUp,
    /// Drop the connection without a goodbye (the server then sends the
    /// room its unavailable presence).
    Drop,
}

struct Participant {
    name: &'static str,
    stream: Stream,
    jid: Jid,
    room: Jid,
    /// The first payload byte after 0xf8 in everything it sends.
    tag: u8,
    own: Option<(String, AudioPeer)>,
    connected: bool,
    /// Forwarded sessions: sid → (peer, Coin entity).
    incoming: HashMap<String, (AudioPeer, String)>,
    events_tx: mpsc::UnboundedSender<(String, RtcEvent)>,
    events_rx: mpsc::UnboundedReceiver<(String, RtcEvent)>,
    packets_tx: mpsc::UnboundedSender<(String, u8)>,
    packets_rx: mpsc::UnboundedReceiver<(String, u8)>,
    report: mpsc::UnboundedSender<Report>,
    next_id: u32,
}

fn strip(session: &mut MediaSession) {
    for c in &mut session.contents {
        c.transport.candidates.clear();
    }
}

impl Participant {
    async fn new(
        server: &Prosody,
        user: &str,
        name: &'static str,
        tag: u8,
        report: mpsc::UnboundedSender<Report>,
    ) -> Participant {
        let (stream, jid) = peer_with_jid(server, user).await;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (packets_tx, packets_rx) = mpsc::unbounded_channel();
        Participant {
            name,
            stream,
            jid,
            room: ROOM.parse().unwrap(),
            tag,
            own: None,
            connected: false,
            incoming: HashMap::new(),
            events_tx,
            events_rx,
            packets_tx,
            packets_rx,
            report,
            next_id: 0,
        }
    }

    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.name, self.next_id)
    }

    async fn set(&mut self, payload: Element) -> String {
        let id = self.id();
        send(
            &mut self.stream,
            Iq::Set {
                from: None,
                to: Some(self.room.clone()),
                id: id.clone(),
                payload,
            },
        )
        .await;
        id
    }

    fn watch(&self, sid: &str, mut events: mpsc::UnboundedReceiver<RtcEvent>) {
        let tx = self.events_tx.clone();
        let sid = sid.to_string();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if tx.send((sid.clone(), ev)).is_err() {
                    break;
                }
            }
        });
    }

    /// Directed presence to the room, then the call (session-initiate).
    async fn call(&mut self) {
        let mut p = Presence::available();
        p.to = Some(self.room.clone());
        send(&mut self.stream, p).await;
        let (peer, events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
        let mut session = sdp::from_sdp(&peer.local_sdp().await.unwrap(), Role::Initiator).unwrap();
        strip(&mut session);
        let sid = format!("{}-call", self.name);
        let initiate = jingle::session_initiate(&sid, &self.jid, &session, None);
        self.watch(&sid, events);
        self.own = Some((sid, peer));
        self.set(initiate).await;
    }

    async fn hang_up(&mut self) {
        if let Some((sid, peer)) = self.own.take() {
            let t = jingle::session_terminate(&sid, Reason::Success, None);
            self.set(t).await;
            peer.close().await.unwrap();
        }
    }

    fn peer(&self, sid: &str) -> Option<&AudioPeer> {
        match &self.own {
            Some((s, p)) if s == sid => Some(p),
            _ => self.incoming.get(sid).map(|(p, _)| p),
        }
    }

    async fn on_rtc(&mut self, sid: String, ev: RtcEvent) {
        match ev {
            RtcEvent::LocalCandidate(c) => {
                if self.peer(&sid).is_none() {
                    return;
                }
                let cand = sdp::candidate_to_jingle(&c.candidate).unwrap();
                let t = jingle::transport_info(&sid, &c.mid, None, None, &cand);
                self.set(t).await;
            }
            RtcEvent::State(ConnectionState::Connected)
                if self.own.as_ref().is_some_and(|(s, _)| *s == sid) =>
            {
                self.connected = true;
            }
            RtcEvent::Track(mut audio) => {
                let entity = self
                    .incoming
                    .get(&sid)
                    .map(|(_, e)| e.clone())
                    .unwrap_or_default();
                let tx = self.packets_tx.clone();
                tokio::spawn(async move {
                    while let Some(p) = audio.next().await {
                        let tag = p.payload.get(1).copied().unwrap_or(0);
                        if tx.send((entity.clone(), tag)).is_err() {
                            break;
                        }
                    }
                });
            }
            _ => {}
        }
    }

    async fn on_jingle(&mut self, from: Option<Jid>, id: String, payload: Element) {
        let iq = jingle::parse(&payload).expect("the SFU sends valid Jingle");
        assert_eq!(
            from.as_ref(),
            Some(&self.room),
            "Jingle comes from the room"
        );
        send(
            &mut self.stream,
            Iq::Result {
                from: None,
                to: from,
                id,
                payload: None,
            },
        )
        .await;
        match iq.action {
            Action::SessionAccept => {
                let Some((sid, peer)) = &self.own else { return };
                assert_eq!(&iq.sid, sid);
                let answer = sdp::to_sdp(&iq.session, Role::Responder).unwrap();
                peer.set_remote_answer(&answer).await.unwrap();
            }
            Action::TransportInfo => {
                if let Some(peer) = self.peer(&iq.sid) {
                    for c in &iq.session.contents {
                        for cand in &c.transport.candidates {
                            peer.add_remote_candidate(&sdp::candidate_to_sdp(cand), &c.name)
                                .await
                                .unwrap();
                        }
                    }
                }
            }
            Action::SessionInitiate => {
                let coin = iq.conference.expect("Coin conference-info");
                assert!(coin.isfocus, "isfocus='true'");
                let entity = coin.entity().expect("a user entity").to_string();
                assert!(
                    iq.session
                        .contents
                        .iter()
                        .all(|c| c.senders == jingle::Senders::Initiator),
                    "one-way, senders='initiator'"
                );
                let offer = sdp::to_sdp(&iq.session, Role::Initiator).unwrap();
                let (peer, events) = AudioPeer::answer(RtcOptions::loopback(), &offer)
                    .await
                    .unwrap();
                let mut session =
                    sdp::from_sdp(&peer.local_sdp().await.unwrap(), Role::Responder).unwrap();
                strip(&mut session);
                let accept = jingle::session_accept(
                    &iq.sid,
                    iq.initiator.as_ref(),
                    &self.jid,
                    &session,
                    None,
                );
                self.watch(&iq.sid, events);
                self.incoming.insert(iq.sid.clone(), (peer, entity));
                self.set(accept).await;
            }
            Action::SessionTerminate => {
                let reason = iq.reason.clone();
                let entity = if let Some((p, e)) = self.incoming.remove(&iq.sid) {
                    let _ = p.close().await;
                    Some(e)
                } else {
                    if let Some((_, p)) = self.own.take() {
                        let _ = p.close().await;
                    }
                    None
                };
                let _ = self.report.send(Report::Terminated {
                    who: self.name,
                    entity,
                    reason: reason
                        .as_ref()
                        .map(|r| r.condition.clone())
                        .unwrap_or_default(),
                    text: reason.and_then(|r| r.text).unwrap_or_default(),
                });
            }
            _ => {}
        }
    }

    /// Calls, sends a packet every 20 ms once connected, answers the SFU,
    /// reports; hangs up when told to.
    async fn run(mut self, mut control: oneshot::Receiver<Control>) {
        self.call().await;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut n: u16 = 0;
        let mut hung_up = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if self.connected && let Some((_, peer)) = &self.own {
                        let [hi, lo] = n.to_be_bytes();
                        let _ = peer.send_opus(&[0xf8, self.tag, hi, lo], Duration::from_millis(20)).await;
                        n = n.wrapping_add(1);
                    }
                }
                el = self.stream.next() => match el {
                    Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(Iq::Set { from, id, payload, .. })))))
                        if payload.is("jingle", ns::JINGLE) => self.on_jingle(from, id, payload).await,
                    Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(Iq::Error { id, payload, .. }))))) => {
                        // E.g. candidates trickled after a refusal.
                        eprintln!("{}: IQ {id} failed: {payload:?}", self.name);
                    }
                    Some(Ok(_)) => {}
                    // The server going away at the end of the test.
                    Some(Err(_)) | None => return,
                },
                Some((sid, ev)) = self.events_rx.recv() => self.on_rtc(sid, ev).await,
                Some((entity, tag)) = self.packets_rx.recv() => {
                    let _ = self.report.send(Report::Packet { who: self.name, entity, tag });
                }
                c = &mut control, if !hung_up => {
                    hung_up = true;
                    match c {
                        Ok(Control::HangUp) => self.hang_up().await,
                        Ok(Control::Drop) => return,
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

/// Waits for a report that `pred` accepts (every report also goes to
/// `check`), up to `secs`.
async fn wait_for(
    reports: &mut mpsc::UnboundedReceiver<Report>,
    secs: u64,
    what: &str,
    mut check: impl FnMut(&Report),
    mut pred: impl FnMut(&Report) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            let r = reports.recv().await.expect("participants run");
            check(&r);
            if pred(&r) {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

async fn iq_to_room(stream: &mut Stream, id: &str, get: bool, payload: Element) -> Iq {
    let to = Some(ROOM.parse::<Jid>().unwrap());
    let iq = if get {
        Iq::Get {
            from: None,
            to,
            id: id.into(),
            payload,
        }
    } else {
        Iq::Set {
            from: None,
            to,
            id: id.into(),
            payload,
        }
    };
    send(stream, iq).await;
    answer(stream, id).await
}

/// A Prosody with accounts `users` and the SFU attached as `sfu.localhost`.
async fn server_with_sfu(users: &[&str]) -> Prosody {
    let opts = users
        .iter()
        .fold(ProsodyOptions::new().component(SFU, ""), |o, u| {
            o.account(*u, password_of(u))
        });
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("{e}"));
    let component = attach(&server, SFU, "the SFU connects").await;
    tokio::spawn(sfu::serve(component, sfu::Options::new(SFU)));
    server
}

/// Every packet report: never one's own stream; labelled with its sender.
fn check(r: &Report) {
    let own_tag = |who: &str| match who {
        "alice" => 1,
        "bob" => 2,
        _ => 3,
    };
    let entity_of = |tag: u8| match tag {
        1 => "xmpp:alice@localhost",
        2 => "xmpp:bob@localhost",
        _ => "xmpp:carol@localhost",
    };
    if let Report::Packet { who, entity, tag } = r {
        assert_ne!(*tag, own_tag(who), "{who} received its own stream");
        assert_eq!(
            entity,
            entity_of(*tag),
            "{who}: stream labelled with its sender"
        );
    }
}

/// Alice and bob each receive ≥ `n` packets of the other's stream.
async fn both_hear_each_other(reports: &mut mpsc::UnboundedReceiver<Report>, n: usize) {
    let mut got: HashMap<&'static str, usize> = HashMap::new();
    wait_for(reports, 60, "both streams forwarded", check, |r| {
        if let Report::Packet { who, .. } = r {
            *got.entry(who).or_default() += 1;
        }
        got.get("alice").copied().unwrap_or(0) >= n && got.get("bob").copied().unwrap_or(0) >= n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_receive_each_others_streams_through_the_sfu() {
    let server = server_with_sfu(&["alice", "bob", "carol", "dave"]).await;

    // Discovery and configuration by a raw client: an A/V conference,
    // limited to two participants.
    let mut admin = peer(&server, "dave").await;
    let q = Element::builder("query", ns::DISCO_INFO).build();
    let Iq::Result {
        payload: Some(info),
        ..
    } = iq_to_room(&mut admin, "d1", true, q).await
    else {
        panic!("disco#info failed")
    };
    let identity = info.get_child("identity", ns::DISCO_INFO).unwrap();
    assert_eq!(identity.attr("category"), Some("conference"));
    assert_eq!(identity.attr("type"), Some("audio-video"));
    assert!(
        info.children()
            .any(|f| f.attr("var") == Some(ns::JINGLE_AV_CONFERENCES))
    );
    let Iq::Result {
        payload: Some(form),
        ..
    } = iq_to_room(
        &mut admin,
        "c1",
        false,
        adhoc::execute(ns::AV_CONFERENCES_CONFIG),
    )
    .await
    else {
        panic!("the config command failed")
    };
    let cmd = adhoc::parse(&form).unwrap();
    let submit = DataForm::new(
        DataFormType::Submit,
        ns::AV_CONFERENCES_CONFIG,
        vec![Field::text_single(sfu::MAX_PARTICIPANTS_FIELD, "2")],
    );
    let done = adhoc::submit(ns::AV_CONFERENCES_CONFIG, &cmd.sessionid.unwrap(), submit);
    let Iq::Result {
        payload: Some(done),
        ..
    } = iq_to_room(&mut admin, "c2", false, done).await
    else {
        panic!("submitting the config failed")
    };
    assert_eq!(
        adhoc::parse(&done).unwrap().status,
        Some(adhoc::Status::Completed)
    );
    drop(admin);

    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let alice = Participant::new(&server, "alice", "alice", 1, report_tx.clone()).await;
    let bob = Participant::new(&server, "bob", "bob", 2, report_tx.clone()).await;
    let (alice_hangup, alice_rx) = oneshot::channel();
    let (_bob_hangup, bob_rx) = oneshot::channel();
    tokio::spawn(alice.run(alice_rx));
    tokio::spawn(bob.run(bob_rx));

    // Each receives ≥ 20 packets of the other's stream, labelled with the
    // other's entity; nobody ever gets its own.
    both_hear_each_other(&mut reports, 20).await;

    // A third caller is refused: the room takes two.
    let carol = Participant::new(&server, "carol", "carol", 3, report_tx.clone()).await;
    let (_carol_hangup, carol_rx) = oneshot::channel();
    tokio::spawn(carol.run(carol_rx));
    wait_for(&mut reports, 30, "carol refused", check, |r| {
        matches!(r, Report::Terminated { who: "carol", entity: None, reason, text }
            if reason == "busy" && text.contains("is full") && text.contains("at most 2"))
    })
    .await;

    // Alice hangs up: bob's session carrying her stream ends ("gone").
    alice_hangup.send(Control::HangUp).ok().unwrap();
    wait_for(
        &mut reports,
        30,
        "bob sees alice's stream end",
        check,
        |r| {
            matches!(r, Report::Terminated { who: "bob", entity: Some(e), reason, .. }
            if e == "xmpp:alice@localhost" && reason == "gone")
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_that_drops_off_is_removed() {
    let server = server_with_sfu(&["alice", "bob"]).await;
    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let alice = Participant::new(&server, "alice", "alice", 1, report_tx.clone()).await;
    let bob = Participant::new(&server, "bob", "bob", 2, report_tx.clone()).await;
    let (_alice_control, alice_rx) = oneshot::channel();
    let (bob_control, bob_rx) = oneshot::channel();
    tokio::spawn(alice.run(alice_rx));
    tokio::spawn(bob.run(bob_rx));
    both_hear_each_other(&mut reports, 10).await;

    // Bob's connection goes away without a word: the server tells the room
    // (bob sent it directed presence), the SFU ends alice's session with
    // bob's stream.
    bob_control.send(Control::Drop).ok().unwrap();
    wait_for(
        &mut reports,
        60,
        "alice sees bob's stream end",
        check,
        |r| {
            matches!(r, Report::Terminated { who: "alice", entity: Some(e), reason, .. }
            if e == "xmpp:bob@localhost" && reason == "gone")
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_get_the_two_other_streams_each() {
    let server = server_with_sfu(&["alice", "bob", "carol"]).await;
    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let mut controls = Vec::new();
    for (name, tag) in [("alice", 1), ("bob", 2), ("carol", 3)] {
        let p = Participant::new(&server, name, name, tag, report_tx.clone()).await;
        let (control, rx) = oneshot::channel::<Control>();
        controls.push(control);
        tokio::spawn(p.run(rx));
    }
    // (who, sender tag) → packets.
    let mut got: HashMap<(&'static str, u8), usize> = HashMap::new();
    wait_for(&mut reports, 60, "six forwarded streams", check, |r| {
        if let Report::Packet { who, tag, .. } = r {
            *got.entry((who, *tag)).or_default() += 1;
        }
        got.len() == 6 && got.values().all(|n| *n >= 10)
    })
    .await;
}

//! Intake benchmark: what confab does per stanza once the XML is read —
//! parse into xmpp-parsers types, classify, apply to the store, archive in
//! one transaction — for a 2,000-occupant join and a 5,000-message backlog
//! into a room of 10,000 occupants; the protocol trace's cost per stanza,
//! off and on. Prints figures (run with
//! `cargo bench --bench intake`).

use std::time::Instant;

use chrono::Utc;
use confab::history::{History, Record};
use confab::protocol::{classify_message, classify_presence};
use confab::store::{Input, Protocol, Store};
use jid::BareJid;
use minidom::Element;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

const ROOM: &str = "big@conference.localhost";

fn presence(i: usize) -> Element {
    format!(
        "<presence xmlns='jabber:client' from='{ROOM}/user{i}' to='me@localhost/c'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x>\
         <occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ{i}'/></presence>"
    )
    .parse()
    .unwrap()
}

fn message(i: usize) -> Element {
    format!(
        "<message xmlns='jabber:client' from='{ROOM}/user{}' to='me@localhost/c' type='groupchat' id='m{i}'>\
         <body>backlog message number {i} with some ordinary text in it</body>\
         <delay xmlns='urn:xmpp:delay' stamp='2026-11-20T10:00:00Z' from='{ROOM}'/>\
         <stanza-id xmlns='urn:xmpp:sid:0' id='sid{i}' by='{ROOM}'/></message>",
        i % 2000
    )
    .parse()
    .unwrap()
}

fn joining_store() -> Store {
    let mut store = Store::new();
    store.apply(
        Input::Joining {
            room: BareJid::new(ROOM).unwrap(),
            nick: "me".into(),
            protocol: Protocol::Muc,
        },
        Utc::now(),
    );
    store
}

fn main() {
    // 2,000-occupant join.
    let elems: Vec<Element> = (0..2000).map(presence).collect();
    let mut store = joining_store();
    let t = Instant::now();
    let mut events = 0;
    for e in elems {
        let p = Presence::try_from(e).unwrap();
        events += store
            .apply(Input::Incoming(classify_presence(&p)), Utc::now())
            .len();
    }
    let join = t.elapsed();
    println!(
        "join of 2,000 occupants: {:.2} ms ({:.2} µs per presence, {events} events)",
        join.as_secs_f64() * 1e3,
        join.as_secs_f64() * 1e6 / 2000.0
    );

    // Grow the room to 10,000 occupants, then a 5,000-message backlog.
    for i in 2000..10_000 {
        let p = Presence::try_from(presence(i)).unwrap();
        store.apply(Input::Incoming(classify_presence(&p)), Utc::now());
    }
    let mut history = History::in_memory("me@localhost").unwrap();
    let elems: Vec<Element> = (0..5000).map(message).collect();
    let t = Instant::now();
    for chunk in elems.chunks(256) {
        for e in chunk {
            let m = Message::try_from(e.clone()).unwrap();
            store.apply(Input::Incoming(classify_message(&m)), Utc::now());
        }
        let records: Vec<Record> = store
            .take_journal()
            .into_iter()
            .map(|(c, message)| Record {
                conversation: c.to_string(),
                message,
            })
            .collect();
        history.append(&records).unwrap();
    }
    let backlog = t.elapsed();
    println!(
        "backlog of 5,000 messages (room of 10,000, archived in batches of 256): {:.2} ms ({:.2} µs per message)",
        backlog.as_secs_f64() * 1e3,
        backlog.as_secs_f64() * 1e6 / 5000.0
    );

    // The protocol trace (`session/xml.rs`): nothing listening (no log
    // subscriber, console off), then redacted and rendered as for the log.
    let tap = confab::session::Tap::default();
    let t = Instant::now();
    for e in &elems {
        tap.record(confab::session::XmlDir::In, e);
    }
    let off = t.elapsed();
    let t = Instant::now();
    let mut bytes = 0;
    for e in &elems {
        bytes += confab::session::xml::render(e.clone()).len();
    }
    let on = t.elapsed();
    println!(
        "protocol trace of 5,000 messages: {:.3} µs per stanza when nobody listens, \
         {:.2} µs per stanza redacted and rendered ({} bytes in all)",
        off.as_secs_f64() * 1e6 / 5000.0,
        on.as_secs_f64() * 1e6 / 5000.0,
        bytes
    );
    let room = store.room(&BareJid::new(ROOM).unwrap()).unwrap();
    assert_eq!(room.occupants.len(), 10_000);
    // The room's window holds the newest lines; the archive has them all.
    assert_eq!(room.messages.len(), 5000.min(confab::store::WINDOW_LINES));
    assert_eq!(history.recent(ROOM, 10_000).unwrap().len(), 5000);
}

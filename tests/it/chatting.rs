//! XEP-0194 User Chatting and the roster against real servers (PEP), each
//! test body on Prosody 0.12 and ejabberd 23.01 (`chatting::<body>::prosody`
//! / `::ejabberd`): contacts subscribe to each other with confab's own
//! commands; rooms are published on join, the topic kept current, an empty
//! item on leaving; private rooms are never published (checked on the PEP
//! node itself); `/chatting ROOM off`; someone without a subscription sees
//! nothing; a reconnection decides the rejoined rooms again.
//!
//! On ejabberd these exercise two fixes (finding 5 of issue 14): it refuses
//! `pubsub#max_items` in publish-options, so confab configures the node and
//! publishes with the access model only (`app/pep.rs`); and it sends PEP
//! events only to contacts whose caps it saw after the subscription became
//! mutual, so confab presents itself again on that roster push.

use minidom::Element;
use serde_json::Value;
use xmpp_parsers::iq::Iq;

use confab::protocol::chatting::{self, ChattingItem};

use crate::common::peer::*;
use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// `a` adds `b`, `b` approves (and asks back), `a` approves: mutual.
pub(crate) fn befriend(a: &mut Client, b: &mut Client) {
    let (aj, bj) = (
        format!("{}@localhost", a.user),
        format!("{}@localhost", b.user),
    );
    a.ok(&format!("/add {bj}"));
    let from = aj.clone();
    b.event("a subscription request", move |v| {
        is(v, "subscription") && v["from"] == from.as_str() && v["type"] == "subscribe"
    });
    b.ok("/roster");
    let roster = b.event("roster", |v| is(v, "roster"));
    assert!(
        roster["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["from"] == aj.as_str()),
        "{roster}"
    );
    b.ok(&format!("/approve {aj}"));
    let from = bj.clone();
    a.event("the request back", move |v| {
        is(v, "subscription") && v["from"] == from.as_str() && v["type"] == "subscribe"
    });
    a.ok(&format!("/approve {bj}"));
    for (c, other) in [(a, bj), (b, aj)] {
        c.event("mutual subscription", move |v| {
            is(v, "contact") && v["jid"] == other.as_str() && v["subscription"] == "both"
        });
    }
}

fn item_id(room: &str) -> String {
    chatting::item_id(&format!("xmpp:{room}"))
}

/// A chatting event from `from` about `room` matching `pred`.
fn chatting_event(c: &mut Client, from: &str, room: &str, pred: fn(&Value) -> bool) -> Value {
    let (from, id) = (from.to_string(), item_id(room));
    c.event(&format!("chatting about {room}"), move |v| {
        is(v, "chatting") && v["from"] == from.as_str() && v["item"] == id.as_str() && pred(v)
    })
}

/// What the chatting node of `user` holds, read by a second resource of
/// that account (the owner may always read it).
async fn node_items(server: &dyn TestServer, user: &str) -> Vec<ChattingItem> {
    let mut own = peer(server, user).await;
    send(
        &mut own,
        Iq::Get {
            from: None,
            to: Some(server.jid(user).parse().unwrap()),
            id: "items".into(),
            payload: chatting::fetch(),
        },
    )
    .await;
    match answer(&mut own, "items").await {
        Iq::Result { payload, .. } => chatting::parse_fetch(payload.as_ref()),
        // No node yet: nothing was ever published.
        Iq::Error { .. } => Vec::new(),
        other => panic!("{:?}", Element::from(other)),
    }
}

/// [`node_items`] from a test body that is not async.
fn node_items_now(server: &dyn TestServer, user: &str) -> Vec<ChattingItem> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node_items(server, user))
}

crate::on_both!(
    contacts_see_where_we_chat_and_private_rooms_stay_private,
    roster_add_remove_and_deny,
    login_reads_contacts_rooms_and_rejoined_rooms_are_decided_again,
);

fn contacts_see_where_we_chat_and_private_rooms_stay_private(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let server = &*server;
    let mut alice = Client::online(server, "alice");
    let mut bob = Client::online(server, "bob");
    // carol is online (and asks for chatting events) but no contact yet.
    let mut carol = Client::online(server, "carol");
    befriend(&mut alice, &mut bob);

    // A public room (Prosody's rooms are hidden by default, ejabberd's
    // public; hidden rooms are not published): bob learns its name, topic
    // and URI.
    let lounge = "lounge@conference.localhost";
    alice.ok(&format!(
        "/create {lounge} muc#roomconfig_roomname=Lounge muc#roomconfig_publicroom=1"
    ));
    alice.event("published", |v| {
        is(v, "chatting-publish")
            && v["room"] == "lounge@conference.localhost"
            && v["published"] == true
    });
    let e = chatting_event(&mut bob, "alice@localhost", lounge, |v| {
        v["room"].is_object()
    });
    assert_eq!(e["room"]["uri"], "xmpp:lounge@conference.localhost", "{e}");
    assert_eq!(e["room"]["name"], "Lounge", "{e}");
    alice.ok(&format!("/topic {lounge} Release planning"));
    let e = chatting_event(&mut bob, "alice@localhost", lounge, |v| {
        v["room"]["topic"] == "Release planning"
    });
    assert_eq!(e["room"]["uri"], "xmpp:lounge@conference.localhost");
    bob.ok("/where alice@localhost");
    let w = bob.event("where", |v| is(v, "where"));
    assert_eq!(w["room"]["topic"], "Release planning", "{w}");
    assert_eq!(w["presence"], "available", "{w}");
    // Leaving: an empty item under the same id.
    alice.ok(&format!("/part {lounge}"));
    chatting_event(&mut bob, "alice@localhost", lounge, |v| v["room"].is_null());

    // A members-only room (made by bob, alice a member): never published.
    let club = "club@conference.localhost";
    bob.ok(&format!("/create {club} muc#roomconfig_membersonly=1"));
    bob.ok(&format!("/affiliation {club} alice@localhost member"));
    alice.ok(&format!("/join {club}"));
    let d = alice.event("decided", |v| {
        is(v, "chatting-publish") && v["room"] == "club@conference.localhost"
    });
    assert_eq!(d["published"], false, "{d}");
    assert_eq!(d["reason"], "members-only room", "{d}");
    // A password-protected room joined with its password: not even asked.
    // (Prosody protects a room that has a secret; ejabberd wants it said.)
    let den = "den@conference.localhost";
    let protect = match kind {
        ServerKind::Prosody => "",
        ServerKind::Ejabberd => " muc#roomconfig_passwordprotectedroom=1",
    };
    bob.ok(&format!(
        "/create {den} muc#roomconfig_roomsecret=s3cret{protect}"
    ));
    alice.ok(&format!("/join {den} s3cret"));
    let d = alice.event("decided", |v| {
        is(v, "chatting-publish") && v["room"] == "den@conference.localhost"
    });
    assert_eq!(d["published"], false, "{d}");
    let items = node_items_now(server, "alice");
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert!(!ids.contains(&item_id(club).as_str()), "{items:?}");
    assert!(!ids.contains(&item_id(den).as_str()), "{items:?}");
    assert!(
        items.iter().all(|i| i.room.is_none()),
        "only the lounge's empty item: {items:?}"
    );

    // /chatting ROOM off: the empty item, on the node and for bob.
    let hall = "hall@conference.localhost";
    alice.ok(&format!("/create {hall} muc#roomconfig_publicroom=1"));
    chatting_event(&mut bob, "alice@localhost", hall, |v| v["room"].is_object());
    alice.ok(&format!("/chatting {hall} off"));
    chatting_event(&mut bob, "alice@localhost", hall, |v| v["room"].is_null());
    let items = node_items_now(server, "alice");
    let hall_item = items
        .iter()
        .find(|i| i.id == item_id(hall))
        .expect("hall's item");
    assert_eq!(hall_item.room, None, "{items:?}");
    bob.ok("/where alice@localhost");
    let w = bob.find(|v| is(v, "where")).unwrap();
    assert!(w["room"].is_null(), "{w}");

    // carol got nothing while she was no contact; once she is, she does:
    // events from alice's PEP service reach her in order, so everything
    // she was sent before comes before the yard. At most the node's last
    // item (hall: left) is sent again when her subscription starts.
    assert!(!carol.saw(|v| is(v, "chatting")), "{:#?}", carol.events);
    befriend(&mut alice, &mut carol);
    let yard = "yard@conference.localhost";
    alice.ok(&format!("/create {yard} muc#roomconfig_publicroom=1"));
    chatting_event(&mut carol, "alice@localhost", yard, |v| {
        v["room"].is_object()
    });
    let yard_id = item_id(yard);
    let before: Vec<&Value> = carol
        .events
        .iter()
        .filter(|v| is(v, "chatting") && v["item"] != yard_id.as_str())
        .collect();
    assert!(
        before
            .iter()
            .all(|v| v["room"].is_null() && v["item"] == item_id(hall).as_str()),
        "{before:#?}"
    );

    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
    assert_eq!(bob.finish(), 0, "{:#?}", bob.events);
    assert_eq!(carol.finish(), 0, "{:#?}", carol.events);
}

fn roster_add_remove_and_deny(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    alice.ok("/add bob@localhost");
    alice.event("pending", |v| {
        is(v, "contact") && v["jid"] == "bob@localhost" && v["pending"] == true
    });
    bob.event("request", |v| {
        is(v, "subscription") && v["type"] == "subscribe"
    });
    bob.ok("/deny alice@localhost");
    alice.event("refused", |v| {
        is(v, "subscription") && v["from"] == "bob@localhost" && v["type"] == "unsubscribed"
    });
    alice.ok("/roster");
    let r = alice.event("roster", |v| is(v, "roster"));
    let c = &r["contacts"][0];
    assert_eq!(c["jid"], "bob@localhost", "{r}");
    assert_eq!(c["subscription"], "none", "{r}");
    assert_eq!(c["presence"], "offline", "{r}");
    alice.ok("/remove bob@localhost");
    alice.event("removed", |v| {
        is(v, "contact") && v["jid"] == "bob@localhost" && v["subscription"] == "remove"
    });
    alice.ok("/roster");
    let r = alice.find(|v| is(v, "roster")).unwrap();
    assert_eq!(r["contacts"], serde_json::json!([]), "{r}");
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
    assert_eq!(bob.finish(), 0, "{:#?}", bob.events);
}

/// Logging in reads each contact's whole chatting node (the server itself
/// sends only the last item); after a reconnection (a server restart) the
/// rooms rejoined are decided again. Recreated by the rejoin with the
/// server's defaults, they differ by server: Prosody's new rooms are
/// hidden, so they are no longer published and bob, reconnected too,
/// learns it; ejabberd's are public, so they are published again (a new
/// decision after the reconnection, through the publish-options fallback
/// again: a new session tries the options first).
fn login_reads_contacts_rooms_and_rejoined_rooms_are_decided_again(kind: ServerKind) {
    let mut server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    befriend(&mut alice, &mut bob);
    let rooms = ["one@conference.localhost", "two@conference.localhost"];
    for room in rooms {
        alice.ok(&format!("/create {room} muc#roomconfig_publicroom=1"));
        chatting_event(&mut bob, "alice@localhost", room, |v| v["room"].is_object());
    }
    // bob again, from scratch: both rooms, not only the last.
    assert_eq!(bob.finish(), 0, "{:#?}", bob.events);
    let mut bob = Client::online(&*server, "bob");
    for room in rooms {
        chatting_event(&mut bob, "alice@localhost", room, |v| v["room"].is_object());
    }

    server.stop();
    alice.expect("disconnected", |v| is(v, "disconnected"));
    bob.expect("disconnected", |v| is(v, "disconnected"));
    server
        .restart()
        .unwrap_or_else(|e| panic!("{kind} restarts: {e}"));
    alice.expect("reconnected", |v| is(v, "reconnected"));
    // Each room decided again, after the reconnection.
    let mut decided = Vec::new();
    while decided.len() < rooms.len() {
        let d = alice.expect("the rooms decided again", |v| {
            is(v, "chatting-publish") && rooms.iter().any(|r| v["room"] == *r)
        });
        let room = d["room"].as_str().unwrap().to_string();
        assert!(!decided.contains(&room), "{kind}: twice: {d}");
        match kind {
            ServerKind::Prosody => {
                assert_eq!(d["published"], false, "{d}");
                assert_eq!(d["reason"], "hidden room", "{d}");
            }
            ServerKind::Ejabberd => assert_eq!(d["published"], true, "{d}"),
        }
        decided.push(room);
    }
    if kind == ServerKind::Prosody {
        for room in rooms {
            // Told as an event, or read from the node after bob's own
            // reconnection: either way bob learns alice left.
            chatting_event(&mut bob, "alice@localhost", room, |v| v["room"].is_null());
        }
    }
    bob.event("reconnected", |v| is(v, "reconnected"));
    let items = node_items_now(&*server, "alice");
    let published: Vec<&ChattingItem> = items.iter().filter(|i| i.room.is_some()).collect();
    match kind {
        ServerKind::Prosody => assert!(published.is_empty(), "{items:?}"),
        ServerKind::Ejabberd => assert_eq!(published.len(), rooms.len(), "{items:?}"),
    }
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
    assert_eq!(bob.finish(), 0, "{:#?}", bob.events);
}

/// A run that ends right after leaving a published room (and leaves the
/// other one itself at the end): the empty items are answered before the
/// stream closes (the app's own requests are drained at the end), so no
/// `error`, exit 0, and the contact sees both. (Before, the session
/// closed under the publications: "could not tell contacts about … the
/// session was closed" — always for the room left at the end, whose
/// leave is followed by the shutdown at once.)
#[test]
fn a_run_ending_right_after_a_leave_still_tells_contacts() {
    let server = prosody_with(&["alice", "bob"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    befriend(&mut alice, &mut bob);
    let rooms = ["lounge@conference.localhost", "bar@conference.localhost"];
    for room in rooms {
        bob.ok(&format!("/create {room} muc#roomconfig_publicroom=1"));
        alice.ok(&format!("/join {room}"));
        let r = room.to_string();
        alice.event("published", move |v| {
            is(v, "chatting-publish") && v["room"] == r.as_str() && v["published"] == true
        });
        chatting_event(&mut bob, "alice@localhost", room, |v| v["room"].is_object());
    }
    // The last line of the script, then its end.
    alice.send(&format!("/part {}", rooms[0]));
    assert_eq!(alice.finish(), 0);
    let errors: Vec<Value> = alice
        .raw_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| is(v, "error"))
        .collect();
    assert!(errors.is_empty(), "errors at the end: {errors:?}");
    for room in rooms {
        chatting_event(&mut bob, "alice@localhost", room, |v| v["room"].is_null());
    }
}

//! OMEMO in rooms, on Prosody and ejabberd: a members-only,
//! non-anonymous room made by the test; confab ↔ slixmpp-omemo (its
//! XEP-0045 plugin, `encrypt_message` for several JIDs; the peer
//! publishes 0.3 only, so the room stays on 0.3) with a second confab as
//! third participant, and confab ↔ confab ↔ confab (all with OMEMO 2
//! devices: OMEMO 2; OMEMO 2 with the peer: `omemo_rooms_v2.rs`); every
//! message read by all the others, our own echo shown as we wrote it;
//! `/omemo on` refused in an open room; an occupant whose real JID the
//! room hides, or who claims a device not in its list, is not decrypted.

use serde_json::{Value, json};

use crate::common::peer::*;
use crate::common::*;
use crate::omemo::{message_with, ready};
use crate::omemo_slixmpp::SlixPeer;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

pub(crate) const ROOM: &str = "club@conference.localhost";

/// `owner` makes the members-only, non-anonymous room and makes each of
/// `members` a member.
pub(crate) fn private_room(owner: &mut Client, members: &[&str]) {
    owner.ok(&format!(
        "/create {ROOM} muc#roomconfig_membersonly=1 muc#roomconfig_whois=anyone"
    ));
    for m in members {
        owner.ok(&format!("/affiliation {ROOM} {m}@localhost member"));
    }
}

/// `c` sees `nick` in the room, with its real JID.
pub(crate) fn sees(c: &mut Client, nick: &str) {
    let n = nick.to_string();
    c.event(&format!("{nick} in the room"), move |v| {
        is(v, "occupant") && v["room"] == ROOM && v["nick"] == n.as_str()
    });
}

/// The room message with `body` that `c` shows.
pub(crate) fn room_message(c: &mut Client, body: &str) -> Value {
    let m = message_with(c, body);
    assert_eq!(m["room"], ROOM, "{m}");
    m
}

fn assert_from(m: &Value, device: u64) {
    assert_from_v(m, device, "0.3");
}

/// A message from another's `device` in OMEMO `version`, decrypted.
pub(crate) fn assert_from_v(m: &Value, device: u64, version: &str) {
    assert_eq!(m["encrypted"]["version"], version, "{m}");
    assert_eq!(m["encrypted"]["device"], device, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");
    assert_eq!(m["own"], false, "{m}");
}

/// Our own message as the echo brought it: the plaintext, locked.
pub(crate) fn own_echo(c: &mut Client, body: &str, device: u64) {
    let m = room_message(c, body);
    assert_eq!(m["own"], true, "{m}");
    assert_eq!(m["encrypted"]["device"], device, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
}

pub(crate) fn slix_room_message(p: &mut SlixPeer, body: &str) -> Value {
    let b = body.to_string();
    let m = p.event(body, move |v| {
        is(v, "message") && v["room"] == ROOM && v["body"] == b.as_str()
    });
    assert_eq!(m["encrypted"], true, "{m}");
    m
}

pub(crate) fn no_errors(c: &Client) {
    assert!(!c.saw(|v| is(v, "error")), "{:#?}", c.events);
}

crate::on_both!(confab_slixmpp_and_confab_in_an_omemo_room);

fn confab_slixmpp_and_confab_in_an_omemo_room(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let (home_a, home_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut carol, carol_dev) = ready(&*server, "carol", home_c.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    let bob_dev = bob.event("ready", |v| is(v, "ready"))["device"]
        .as_u64()
        .unwrap();

    private_room(&mut alice, &["bob", "carol"]);
    carol.ok(&format!("/join {ROOM}/carol"));
    bob.command(json!({"op": "join", "room": ROOM, "nick": "bob"}));
    sees(&mut alice, "bob");
    sees(&mut alice, "carol");
    sees(&mut carol, "bob");

    // confab → slixmpp-omemo and confab: Bob has no OMEMO 2 device, so
    // the room speaks 0.3.
    alice.ok(&format!("/omemo on {ROOM}"));
    assert!(
        alice.saw(|v| is(v, "omemo")
            && v["text"]
                == format!("OMEMO: {ROOM} speaks OMEMO 0.3 now (a member has no OMEMO 2 device)")),
        "{:#?}",
        alice.events
    );
    alice.ok(&format!("/say {ROOM} the club meets at nine"));
    own_echo(&mut alice, "the club meets at nine", alice_dev);
    let m = slix_room_message(&mut bob, "the club meets at nine");
    assert_eq!(m["device"], alice_dev, "{m}");
    assert_eq!(m["nick"], "alice", "{m}");
    let m = room_message(&mut carol, "the club meets at nine");
    assert_from(&m, alice_dev);
    assert_eq!(m["nick"], "alice", "{m}");

    // slixmpp-omemo → both confabs.
    bob.command(json!({"op": "send_room", "room": ROOM, "text": "bob brings the keys"}));
    let m = room_message(&mut alice, "bob brings the keys");
    assert_from(&m, bob_dev);
    let m = room_message(&mut carol, "bob brings the keys");
    assert_from(&m, bob_dev);
    // slixmpp-omemo's own echo, from its reflection cache.
    assert_eq!(
        slix_room_message(&mut bob, "bob brings the keys")["own"],
        true
    );

    // The second confab → the others.
    carol.ok(&format!("/omemo on {ROOM}"));
    carol.ok(&format!("/say {ROOM} carol says yes"));
    own_echo(&mut carol, "carol says yes", carol_dev);
    let m = slix_room_message(&mut bob, "carol says yes");
    assert_eq!(m["device"], carol_dev, "{m}");
    assert_from(&room_message(&mut alice, "carol says yes"), carol_dev);

    // And on, the ratchets moving.
    alice.ok(&format!("/say {ROOM} second from alice"));
    slix_room_message(&mut bob, "second from alice");
    room_message(&mut carol, "second from alice");
    bob.command(json!({"op": "send_room", "room": ROOM, "text": "second from bob"}));
    room_message(&mut alice, "second from bob");
    room_message(&mut carol, "second from bob");

    // Never the plaintext on the wire: the fallback body is what the
    // room archived, and no plaintext message went out.
    for c in [&alice, &carol] {
        assert!(
            !c.saw(|v| is(v, "message") && v["encrypted"].is_null() && v["room"] == ROOM),
            "{:#?}",
            c.events
        );
        no_errors(c);
    }
    assert!(!bob.seen.iter().any(|v| is(v, "error")), "{:?}", bob.seen);
    assert!(
        !bob.seen
            .iter()
            .any(|v| is(v, "message") && v["encrypted"] == false),
        "{:?}",
        bob.seen
    );
    // The traces hold no plaintext, sent or read.
    for (home, name) in [(&home_a, "alice"), (&home_c, "carol")] {
        let log = std::fs::read_to_string(home.path().join(format!("{name}.log"))).unwrap();
        for said in ["club meets", "brings the keys", "says yes"] {
            assert!(!log.contains(said), "{name}'s log has {said:?}");
        }
    }
}

crate::on_both!(three_confabs_in_an_omemo_room);

fn three_confabs_in_an_omemo_room(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol", "dave"]);
    let homes = [(); 3].map(|_| tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", homes[0].path());
    let (mut bob, bob_dev) = ready(&*server, "bob", homes[1].path());
    let (mut carol, carol_dev) = ready(&*server, "carol", homes[2].path());
    // Dave is a member who never published an OMEMO device.
    private_room(&mut alice, &["bob", "carol", "dave"]);
    bob.ok(&format!("/join {ROOM}/bob"));
    carol.ok(&format!("/join {ROOM}/carol"));
    sees(&mut alice, "carol");
    sees(&mut bob, "carol");

    let people: [(&str, u64); 3] = [("alice", alice_dev), ("bob", bob_dev), ("carol", carol_dev)];
    // `/omemo on` reads the members' devices and names who cannot read.
    alice.ok(&format!("/omemo on {ROOM}"));
    let said = alice.event("who cannot read", |v| {
        is(v, "omemo")
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("who cannot read its messages"))
    });
    assert_eq!(
        said["text"],
        format!(
            "OMEMO: members of {ROOM} who cannot read its messages: dave@localhost (no OMEMO device)"
        ),
        "{said}"
    );
    let mut clients = [alice, bob, carol];
    for (i, (name, dev)) in people.iter().enumerate() {
        clients[i].ok(&format!("/omemo on {ROOM}"));
        let body = format!("{name} was here");
        clients[i].ok(&format!("/say {ROOM} {body}"));
        own_echo(&mut clients[i], &body, *dev);
        for (j, c) in clients.iter_mut().enumerate() {
            if j != i {
                let m = room_message(c, &body);
                assert_from_v(&m, *dev, "2");
                assert_eq!(m["nick"], *name, "{m}");
            }
        }
    }
    // A second round on the sessions the first built.
    for (i, (name, dev)) in people.iter().enumerate() {
        let body = format!("{name} again");
        clients[i].ok(&format!("/say {ROOM} {body}"));
        for (j, c) in clients.iter_mut().enumerate() {
            if j != i {
                assert_from_v(&room_message(c, &body), *dev, "2");
            }
        }
    }
    // Carol quits and starts again (her history in her data directory,
    // no device list read yet): the room's history replays what she
    // read already, dropped without a word (no error, no second copy).
    clients[2].finish();
    clients[1].ok(&format!("/say {ROOM} while you were away"));
    let (carol, again) = ready(&*server, "carol", homes[2].path());
    assert_eq!(again, carol_dev);
    clients[2] = carol;
    clients[2].ok(&format!("/join {ROOM}/carol"));
    // What she missed comes from the room's archive, decrypted on the
    // session she holds with Bob's device.
    assert_from_v(
        &room_message(&mut clients[2], "while you were away"),
        bob_dev,
        "2",
    );
    clients[0].ok(&format!("/say {ROOM} welcome back"));
    assert_from_v(
        &room_message(&mut clients[2], "welcome back"),
        alice_dev,
        "2",
    );
    assert!(
        !clients[2].saw(|v| is(v, "message") && v["body"] == "bob again"),
        "{:#?}",
        clients[2].events
    );
    // The owner reads the member list: Dave, who cannot read, is named.
    assert!(
        clients[0].saw(|v| is(v, "omemo")
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("members of club@conference.localhost who cannot read this message: dave@localhost (no OMEMO device)"))),
        "{:#?}",
        clients[0].events
    );
    // A correction is encrypted too (its <replace/> in the clear:
    // omemo_corrections.rs); a reply would go in the clear: refused.
    clients[0].ok(&format!("/correct {ROOM} the club was here"));
    for c in clients.iter_mut().skip(1) {
        let m = c.event("alice's correction", |v| {
            is(v, "correction") && v["nick"] == "alice" && v["body"] == "the club was here"
        });
        assert_eq!(m["own"], false, "{m}");
    }
    let e = clients[0].run(&format!("/reply {ROOM} @bob the club was here"));
    assert_eq!(e["event"], "error", "{e}");
    assert!(e["text"].as_str().unwrap().contains("OMEMO"), "{e}");
    for c in &clients {
        no_errors_but(c, "/reply");
    }
    // The trace holds no plaintext.
    for (i, (name, _)) in people.iter().enumerate() {
        let log = std::fs::read_to_string(homes[i].path().join(format!("{name}.log"))).unwrap();
        assert!(!log.contains("was here"), "{name}'s log has a plaintext");
    }
}

fn no_errors_but(c: &Client, command: &str) {
    assert!(
        !c.saw(|v| is(v, "error")
            && !v["command"]
                .as_str()
                .is_some_and(|x| x.starts_with(command))),
        "{:#?}",
        c.events
    );
}

crate::on_both!(omemo_refused_where_it_cannot_work);

/// An open, semi-anonymous room: `/omemo on` says why not and stays off
/// (the next message goes as before, in the clear and said so). In a
/// private room where no other member has a device, nothing is sent.
fn omemo_refused_where_it_cannot_work(kind: ServerKind) {
    let server = server_with(kind, &["alice", "dave"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = ready(&*server, "alice", home.path());
    let open = "lounge@conference.localhost";
    alice.ok(&format!("/create {open} muc#roomconfig_whois=moderators"));
    let e = alice.run(&format!("/omemo on {open}"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "not-acceptable", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.contains("not members-only and not non-anonymous"),
        "{e}"
    );
    assert!(text.contains("real JID"), "{e}");
    // Members-only but semi-anonymous: refused too.
    let half = "half@conference.localhost";
    alice.ok(&format!(
        "/create {half} muc#roomconfig_membersonly=1 muc#roomconfig_whois=moderators"
    ));
    let e = alice.run(&format!("/omemo on {half}"));
    assert!(
        e["text"].as_str().unwrap().contains("is not non-anonymous"),
        "{e}"
    );
    alice.ok(&format!("/say {open} plain words"));
    let m = room_message_in(&mut alice, open, "plain words");
    assert!(m["encrypted"].is_null(), "{m}");

    // Turned on before joining (taken as a contact then): the room is
    // checked before the first message, which is not sent.
    let early = "early@conference.localhost";
    alice.ok(&format!("/omemo on {early}"));
    alice.ok(&format!("/create {early}"));
    let e = alice.run(&format!("/say {early} too early"));
    assert_eq!(e["event"], "error", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("is not members-only"), "{e}");
    assert!(text.contains("not sent (/omemo off"), "{e}");
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "too early"));

    private_room(&mut alice, &["dave"]);
    alice.ok(&format!("/omemo on {ROOM}"));
    let e = alice.run(&format!("/say {ROOM} for nobody"));
    assert_eq!(e["event"], "error", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("nobody in club@conference.localhost can read it: dave@localhost (no OMEMO device); not sent"),
        "{e}"
    );
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "for nobody"));

    // The room made open since: checked again before each message.
    alice.ok(&format!("/config {ROOM} muc#roomconfig_membersonly=0"));
    let e = alice.run(&format!("/say {ROOM} now open"));
    assert_eq!(e["event"], "error", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("is not members-only"), "{e}");
    assert!(text.contains("not sent"), "{e}");
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "now open"));
}

fn room_message_in(c: &mut Client, room: &str, body: &str) -> Value {
    let m = message_with(c, body);
    assert_eq!(m["room"], room, "{m}");
    m
}

crate::on_both!(hostile_room_senders_are_not_decrypted);

/// A raw peer sends OMEMO groupchat messages: from a semi-anonymous room
/// (its real JID unknown), and in the private room claiming Alice's
/// device id. Neither is decrypted as anyone; each is shown marked, with
/// the reason, and the stream goes on.
fn hostile_room_senders_are_not_decrypted(kind: ServerKind) {
    let server = server_with(kind, &["alice", "carol", "mallory"]);
    let (home_a, home_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut carol, carol_dev) = ready(&*server, "carol", home_c.path());
    // Alice owns the open room; Carol, a plain participant there, is not
    // told real JIDs.
    let open = "lounge@conference.localhost";
    alice.ok(&format!("/create {open} muc#roomconfig_whois=moderators"));
    carol.ok(&format!("/join {open}/carol"));
    private_room(&mut alice, &["carol", "mallory"]);
    carol.ok(&format!("/join {ROOM}/carol"));
    sees(&mut alice, "carol");
    alice.ok(&format!("/omemo on {ROOM}"));
    alice.ok(&format!("/say {ROOM} before mallory"));
    room_message(&mut carol, "before mallory");
    // Carol has read the member lists' device lists by now.
    carol.ok(&format!("/omemo on {ROOM}"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut mallory = rt.block_on(peer(&*server, "mallory"));
    rt.block_on(join_room(&mut mallory, open, "mallory"));
    rt.block_on(join_room(&mut mallory, ROOM, "mallory"));
    sees(&mut carol, "mallory");
    // Carol reads Mallory's (empty) device list with her next message.
    carol.ok(&format!("/say {ROOM} carol to all"));
    room_message(&mut alice, "carol to all");

    let forged = |room: &str, id: &str| {
        format!(
            "<message xmlns='jabber:client' type='groupchat' to='{room}' id='{id}'>\
             <body>fallback of {id}</body>\
             <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='{alice_dev}'>\
             <key rid='{carol_dev}'>AAECAwQFBgcICQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header>\
             <payload>AAEC</payload></encrypted></message>"
        )
    };
    for (room, id) in [(open, "anon1"), (ROOM, "claim1")] {
        let el: minidom::Element = forged(room, id).parse().unwrap();
        let m = xmpp_parsers::message::Message::try_from(el).unwrap();
        rt.block_on(send(&mut mallory, m));
    }
    let anon = message_with(
        &mut carol,
        "[not decrypted: the room did not tell mallory's real JID, so whose device sent it is unknown] fallback of anon1",
    );
    assert_eq!(anon["encrypted"]["decrypted"], false, "{anon}");
    let claim = carol.event("the claimed device", |v| {
        is(v, "message")
            && v["body"]
                .as_str()
                .is_some_and(|b| b.ends_with("fallback of claim1"))
    });
    assert_eq!(claim["encrypted"]["decrypted"], false, "{claim}");
    assert!(
        claim["body"].as_str().unwrap().contains(&format!(
            "device {alice_dev} is not in the device list of mallory@localhost"
        )),
        "{claim}"
    );
    assert!(
        carol.saw(|v| is(v, "error")
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("a message from mallory")
                    && t.contains("could not be decrypted")))
    );
    // The stream goes on, Alice's device still trusted and read.
    alice.ok(&format!("/say {ROOM} after mallory"));
    assert_from_v(&room_message(&mut carol, "after mallory"), alice_dev, "2");
}

crate::on_both!(our_other_device_reads_the_room);

/// Two confab devices of one account in the room under two nicks, and a
/// contact: each device's message is read by the other (encrypted to our
/// own other devices, decrypted as our account's) and by the contact.
fn our_other_device_reads_the_room(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let homes = [(); 3].map(|_| tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", homes[0].path());
    let (mut phone, phone_dev) = ready(&*server, "alice", homes[1].path());
    let (mut bob, _) = ready(&*server, "bob", homes[2].path());
    assert_ne!(alice_dev, phone_dev);
    private_room(&mut alice, &["bob"]);
    phone.ok(&format!("/join {ROOM}/alice-phone"));
    bob.ok(&format!("/join {ROOM}/bob"));
    sees(&mut alice, "bob");
    sees(&mut phone, "bob");

    alice.ok(&format!("/omemo on {ROOM}"));
    alice.ok(&format!("/say {ROOM} from the desk"));
    own_echo(&mut alice, "from the desk", alice_dev);
    let m = room_message(&mut phone, "from the desk");
    assert_from_v(&m, alice_dev, "2");
    assert_eq!(m["nick"], "alice", "{m}");
    assert_from_v(&room_message(&mut bob, "from the desk"), alice_dev, "2");

    phone.ok(&format!("/omemo on {ROOM}"));
    phone.ok(&format!("/say {ROOM} from the phone"));
    own_echo(&mut phone, "from the phone", phone_dev);
    assert_from_v(&room_message(&mut alice, "from the phone"), phone_dev, "2");
    assert_from_v(&room_message(&mut bob, "from the phone"), phone_dev, "2");
    for c in [&alice, &phone, &bob] {
        no_errors(c);
    }
}

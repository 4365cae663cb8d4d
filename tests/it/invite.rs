//! Invitations against a real Prosody: direct (XEP-0249) from one confab
//! to another with reason and the room password, mediated (XEP-0045)
//! through the room with a decline coming back, legacy
//! `jabber:x:conference` from a raw peer, and a members-only room where
//! the inviter (owner) makes the invitee a member.
//!
//! The tests made with `on_both!` also run on ejabberd; it names a
//! mediated invitation's inviter by their real JID, Prosody by their
//! occupant JID.

use jid::Jid;
use minidom::Element;
use serde_json::Value;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::presence::Presence;

use crate::common::peer::*;
use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// A client that goes on after a failed command (some are expected).
fn keep_going(server: &dyn TestServer, user: &str) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp home");
    let mut c = Client::start_in(server, user, home.path(), &["--keep-going"]);
    c.connected();
    (c, home)
}

fn invitation(c: &mut Client, room: &str) -> Value {
    let room = room.to_string();
    c.event("invitation", move |v| {
        is(v, "invitation") && v["room"] == room.as_str()
    })
}

crate::on_both!(direct_invitation_with_reason_and_password_is_accepted);

fn direct_invitation_with_reason_and_password_is_accepted(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let room = "locked@conference.localhost";
    let mut alice = Client::online(&*server, "alice");
    let (mut bob, _home) = keep_going(&*server, "bob");
    // A new room joined with a password is created password-protected.
    alice.ok(&format!("/join {room}/alice s3cret"));
    let refused = bob.run(&format!("/join {room}/bob"));
    assert_eq!(refused["event"], "error", "{refused}");
    assert_eq!(refused["condition"], "not-authorized", "{refused}");

    alice.ok(&format!("/invite {room} bob@localhost \"come in, bob\""));
    let i = invitation(&mut bob, room);
    assert_eq!(i["kind"], "direct", "{i}");
    assert_eq!(i["reason"], "come in, bob");
    assert_eq!(i["password"], "s3cret");
    assert!(
        i["from"].as_str().unwrap().starts_with("alice@localhost"),
        "{i}"
    );
    let id = i["id"].as_u64().unwrap();

    let listed = {
        bob.ok("/invitations");
        bob.event("invitations", |v| is(v, "invitations"))
    };
    assert_eq!(listed["invitations"][0]["id"], id);
    assert_eq!(listed["invitations"][0]["room"], room);

    bob.ok(&format!("/accept {id}"));
    let j = bob.event("joined", |v| is(v, "joined") && v["room"] == room);
    assert_eq!(j["nick"], "bob");
    alice.ok(&format!("/wait occupant {room} bob"));
    // Accepted: no longer pending.
    bob.ok("/invitations");
    let after = bob.find(|v| is(v, "invitations")).unwrap();
    assert_eq!(after["invitations"], serde_json::json!([]));
    // An unknown id is an error naming the command.
    let e = bob.run("/accept 99");
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "item-not-found");
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
}

crate::on_both!(mediated_invitation_through_the_room_and_its_decline);

fn mediated_invitation_through_the_room_and_its_decline(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let room = "lair@conference.localhost";
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    let mut carol = Client::online(&*server, "carol");
    alice.ok(&format!("/join {room}/alice pw42"));

    // Through the room: it passes on the reason and adds the password.
    alice.ok(&format!(
        "/invite {room} bob@localhost \"join us\" --mediated"
    ));
    let i = invitation(&mut bob, room);
    assert_eq!(i["kind"], "mediated", "{i}");
    assert_eq!(i["reason"], "join us");
    assert_eq!(i["password"], "pw42");
    match kind {
        // Prosody names the inviter by their occupant JID in the room.
        ServerKind::Prosody => assert_eq!(i["from"], "lair@conference.localhost/alice", "{i}"),
        // ejabberd by their real full JID (as XEP-0045 §7.8.2's example).
        ServerKind::Ejabberd => assert!(
            i["from"].as_str().unwrap().starts_with("alice@localhost/"),
            "{i}"
        ),
    }
    bob.ok(&format!("/accept {}", i["id"]));
    assert!(bob.saw(|v| is(v, "joined") && v["room"] == room));

    // Carol declines: the decline goes back through the room to alice.
    alice.ok(&format!("/invite {room} carol@localhost --mediated"));
    let i = invitation(&mut carol, room);
    assert_eq!(i["kind"], "mediated");
    assert!(i.get("reason").is_none(), "{i}");
    carol.ok(&format!("/decline {} too busy today", i["id"]));
    let d = alice.event("invitation-declined", |v| is(v, "invitation-declined"));
    assert_eq!(d["room"], room);
    assert!(
        d["from"].as_str().unwrap().starts_with("carol@localhost"),
        "{d}"
    );
    assert_eq!(d["reason"], "too busy today");
    // Declined: gone from carol's list.
    carol.ok("/invitations");
    let after = carol.find(|v| is(v, "invitations")).unwrap();
    assert_eq!(after["invitations"], serde_json::json!([]));
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
}

crate::on_both!(members_only_room_makes_the_invitee_a_member);

fn members_only_room_makes_the_invitee_a_member(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let room = "club@conference.localhost";
    let mut alice = Client::online(&*server, "alice");
    let (mut bob, _home) = keep_going(&*server, "bob");
    alice.ok(&format!("/join {room}/alice"));
    alice.ok(&format!("/config {room} muc#roomconfig_membersonly=1"));
    let refused = bob.run(&format!("/join {room}/bob"));
    assert_eq!(refused["event"], "error", "{refused}");
    assert_eq!(refused["condition"], "registration-required", "{refused}");

    // A direct invitation: the room itself would not add bob, alice does.
    alice.ok(&format!("/invite {room} bob@localhost"));
    let i = invitation(&mut bob, room);
    bob.ok(&format!("/accept {}", i["id"]));
    let occ = alice.event("bob's arrival", |v| {
        is(v, "occupant") && v["room"] == room && v["nick"] == "bob"
    });
    assert_eq!(occ["affiliation"], "member", "{occ}");
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_and_raw_mediated_invitations_from_a_raw_peer() {
    let server = prosody_with(&["bob", "mallory"]);
    let mut bob = Client::online(&server, "bob");
    let bob_jid = Jid::new(&server.jid("bob")).unwrap();
    let mut mallory = peer(&server, "mallory").await;

    // Seed 000: a legacy jabber:x:conference invitation with a body.
    let room = "gang@conference.localhost";
    let mut m = Message::new(Some(bob_jid.clone()));
    m.bodies.insert(
        Lang::new(),
        "Come join the rest of the gang, talking about our next adventure".into(),
    );
    m.payloads.push(
        Element::builder("x", "jabber:x:conference")
            .attr(minidom::rxml::NcName::try_from("jid").unwrap(), room)
            .build(),
    );
    send(&mut mallory, m).await;
    let i = invitation(&mut bob, room);
    assert_eq!(i["kind"], "legacy", "{i}");
    assert_eq!(
        i["reason"],
        "Come join the rest of the gang, talking about our next adventure"
    );
    assert_eq!(i["from"], "mallory@localhost/peer");
    // It is an invitation, not a chat message.
    assert!(!bob.saw(|v| is(v, "message")));
    // Accepting joins the room (created here).
    bob.ok(&format!("/accept {}", i["id"]));
    assert!(bob.saw(|v| is(v, "joined") && v["room"] == room));

    // A mediated invitation in XEP-0045 form, written by hand and sent to
    // a room, which relays it to bob.
    let lair = "den@conference.localhost";
    let mut join = Presence::available().with_to(Jid::new(&format!("{lair}/mallory")).unwrap());
    join.payloads
        .push(Element::builder("x", "http://jabber.org/protocol/muc").build());
    send(&mut mallory, join).await;
    let mut inv = Message::new_with_type(MessageType::Normal, Some(Jid::new(lair).unwrap()));
    inv.payloads.push(
        Element::builder("x", "http://jabber.org/protocol/muc#user")
            .append(
                Element::builder("invite", "http://jabber.org/protocol/muc#user")
                    .attr(
                        minidom::rxml::NcName::try_from("to").unwrap(),
                        "bob@localhost",
                    )
                    .append(
                        Element::builder("reason", "http://jabber.org/protocol/muc#user")
                            .append("by hand")
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    send(&mut mallory, inv).await;
    let i = invitation(&mut bob, lair);
    assert_eq!(i["kind"], "mediated", "{i}");
    assert_eq!(i["reason"], "by hand");
    assert_eq!(i["from"], "den@conference.localhost/mallory");
    assert_eq!(i["id"], 2, "ids count up");
    // A mediated invitation declined from the list.
    bob.ok("/decline 2");
    assert_eq!(bob.finish(), 0);
}

//! The service's state machine, stanza in, stanzas out.

use super::*;
use confab_proto::conference::{self, CONFERENCE};
use confab_proto::ns;

const A: &str = "alice@localhost/a";
const B: &str = "bob@localhost/b";
const C: &str = "carol@localhost/c";

fn service() -> Legacy {
    Legacy::new(
        Options::new("legacy.localhost")
            .room(RoomSpec::parse("demo,private,secret=foo,name=Demo Room", false).unwrap())
            .room(RoomSpec::parse("lounge,name=Lounge,topic=Hello", false).unwrap())
            .room(RoomSpec::parse("old", true).unwrap()),
    )
}

fn el(xml: &str) -> Element {
    xml.replace("<iq ", "<iq xmlns='jabber:component:accept' ")
        .replace("<presence ", "<presence xmlns='jabber:component:accept' ")
        .replace("<message ", "<message xmlns='jabber:component:accept' ")
        .parse()
        .expect("test XML")
}

fn to(out: &[Element], who: &str) -> Vec<Element> {
    out.iter()
        .filter(|e| e.attr("to") == Some(who))
        .cloned()
        .collect()
}

fn condition(e: &Element) -> String {
    assert_eq!(e.attr("type"), Some("error"), "{}", String::from(e));
    let err = e.get_child("error", NS).expect("an error");
    err.children().next().unwrap().name().to_string()
}

fn enter(s: &mut Legacy, who: &str, room: &str, query: &str) -> Vec<Element> {
    assert!(
        s.handle(&el(&format!(
            "<presence from='{who}' to='{room}@legacy.localhost'/>"
        )))
        .is_empty()
    );
    s.handle(&el(&format!(
        "<iq type='set' id='s1' from='{who}' to='{room}@legacy.localhost'>\
         <query xmlns='jabber:iq:conference'>{query}</query></iq>"
    )))
}

fn entered(out: &[Element], who: &str) -> conference::Entered {
    let r = out
        .iter()
        .find(|e| e.attr("to") == Some(who) && e.attr("id") == Some("s1"))
        .expect("an answer to the set");
    assert_eq!(r.attr("type"), Some("result"), "{}", String::from(r));
    conference::parse_entered(r.children().next()).unwrap()
}

fn push_to(out: &[Element], who: &str) -> conference::Browse {
    let p = out
        .iter()
        .rev()
        .find(|e| e.attr("to") == Some(who) && e.attr("type") == Some("set"))
        .expect("a push");
    assert_eq!(
        p.attr("from"),
        Some(p.children().next().unwrap().attr("jid").unwrap())
    );
    conference::parse_browse(p.children().next()).unwrap()
}

fn names(b: &conference::Browse) -> Vec<String> {
    b.users().map(|u| u.name.clone().unwrap()).collect()
}

#[test]
fn browse_shows_participants_of_public_rooms_only() {
    let mut s = service();
    enter(&mut s, B, "demo", "<secret>foo</secret><nick>bob</nick>");
    enter(&mut s, B, "lounge", "<nick>bob</nick>");
    let out = s.handle(&el(
        "<iq type='get' id='b' from='alice@localhost/a' to='demo@legacy.localhost'><query xmlns='jabber:iq:browse'/></iq>",
    ));
    let b = conference::parse_browse(out[0].children().next()).unwrap();
    assert_eq!(b.item.category, "conference");
    assert_eq!(b.item.type_.as_deref(), Some("private"));
    assert_eq!(b.item.name.as_deref(), Some("Demo Room"));
    assert_eq!(b.users().count(), 0);
    let out = s.handle(&el(
        "<iq type='get' id='b' from='alice@localhost/a' to='lounge@legacy.localhost'><query xmlns='jabber:iq:browse'/></iq>",
    ));
    let b = conference::parse_browse(out[0].children().next()).unwrap();
    assert_eq!(b.item.type_.as_deref(), Some("public"));
    assert_eq!(names(&b), ["bob"]);
    // The service lists its public rooms.
    let out = s.handle(&el(
        "<iq type='get' id='b' from='alice@localhost/a' to='legacy.localhost'><query xmlns='jabber:iq:browse'/></iq>",
    ));
    let b = conference::parse_browse(out[0].children().next()).unwrap();
    assert_eq!(b.items.len(), 1);
    assert_eq!(b.items[0].jid.as_deref(), Some("lounge@legacy.localhost"));
    assert!(b.namespaces.contains(&CONFERENCE.to_string()));
}

#[test]
fn get_lists_requirements_and_after_entry_the_identity() {
    let mut s = service();
    let get = "<iq type='get' id='g' from='alice@localhost/a' to='demo@legacy.localhost'><query xmlns='jabber:iq:conference'/></iq>";
    let out = s.handle(&el(get));
    let r = conference::parse_requirements(out[0].children().next()).unwrap();
    assert!(r.nick && r.secret && r.privacy);
    assert_eq!(r.name.as_deref(), Some("Demo Room"));
    let out = s.handle(&el(&get.replace("demo@", "lounge@")));
    let r = conference::parse_requirements(out[0].children().next()).unwrap();
    assert!(!r.secret);
    assert_eq!(r.topic.as_deref(), Some("Hello"));
    let e = entered(
        &enter(&mut s, A, "demo", "<secret>foo</secret><nick>dude</nick>"),
        A,
    );
    let out = s.handle(&el(get));
    let again = conference::parse_entered(out[0].children().next()).unwrap();
    assert_eq!(again, e);
}

#[test]
fn the_set_checks_the_secret_and_needs_presence_first() {
    let mut s = service();
    let set = "<iq type='set' id='s1' from='alice@localhost/a' to='demo@legacy.localhost'><query xmlns='jabber:iq:conference'><secret>foo</secret><nick>dude</nick></query></iq>";
    assert_eq!(condition(&s.handle(&el(set))[0]), "not-acceptable");
    let out = enter(&mut s, A, "demo", "<secret>bar</secret><nick>dude</nick>");
    assert_eq!(condition(&out[0]), "not-authorized");
    let out = enter(&mut s, A, "demo", "<nick>dude</nick>");
    assert_eq!(condition(&out[0]), "not-authorized");
    let out = enter(
        &mut s,
        A,
        "demo",
        "<secret>foo</secret><nick>dude</nick><nick>dude_</nick>",
    );
    let e = entered(&out, A);
    assert_eq!(e.nick, "dude");
    assert!(e.id.starts_with("demo@legacy.localhost/"));
    // The push follows the result, with the participant under its id.
    let b = push_to(&out, A);
    assert_eq!(b.item.type_.as_deref(), Some("private"));
    assert_eq!(
        b.users().next().unwrap().jid.as_deref(),
        Some(e.id.as_str())
    );
}

#[test]
fn nick_list_fallback_conflict_and_assigned_nick() {
    let mut s = service();
    entered(&enter(&mut s, A, "lounge", "<nick>dude</nick>"), A);
    let e = entered(
        &enter(&mut s, B, "lounge", "<nick>dude</nick><nick>dude_</nick>"),
        B,
    );
    assert_eq!(e.nick, "dude_");
    let out = enter(&mut s, C, "lounge", "<nick>dude</nick><nick>dude_</nick>");
    assert_eq!(condition(&out[0]), "conflict");
    // No nick: the service picks one (the JID's node).
    let e = entered(&enter(&mut s, C, "lounge", ""), C);
    assert_eq!(e.nick, "carol");
}

#[test]
fn pushes_go_to_everyone_on_entry_nick_change_and_leave() {
    let mut s = service();
    let a = entered(&enter(&mut s, A, "lounge", "<nick>alice</nick>"), A);
    let out = enter(&mut s, B, "lounge", "<nick>bob</nick>");
    let b = entered(&out, B);
    assert_eq!(names(&push_to(&out, A)), ["alice", "bob"]);
    assert_eq!(names(&push_to(&out, B)), ["alice", "bob"]);
    // Presence: bob's to both, alice's to bob, from temporary JIDs.
    let pres: Vec<(&str, &str)> = out
        .iter()
        .filter(|e| e.name() == "presence")
        .map(|e| (e.attr("from").unwrap(), e.attr("to").unwrap()))
        .collect();
    assert!(pres.contains(&(b.id.as_str(), A)));
    assert!(pres.contains(&(a.id.as_str(), B)));
    // The topic goes to the newcomer.
    assert!(to(&out, B).iter().any(|m| {
        m.get_child("subject", NS)
            .is_some_and(|s| s.text() == "Hello")
    }));
    // Nick change: a new set.
    let out = s.handle(&el(
        "<iq type='set' id='s1' from='bob@localhost/b' to='lounge@legacy.localhost'><query xmlns='jabber:iq:conference'><nick>alice</nick><nick>robert</nick></query></iq>",
    ));
    let b2 = entered(&out, B);
    assert_eq!(
        (b2.id.as_str(), b2.nick.as_str()),
        (b.id.as_str(), "robert")
    );
    assert_eq!(names(&push_to(&out, A)), ["alice", "robert"]);
    // Leave: unavailable presence to the room.
    let out = s.handle(&el(
        "<presence type='unavailable' from='bob@localhost/b' to='lounge@legacy.localhost'/>",
    ));
    assert_eq!(names(&push_to(&out, A)), ["alice"]);
    assert!(to(&out, A).iter().any(|p| p.name() == "presence"
        && p.attr("type") == Some("unavailable")
        && p.attr("from") == Some(b.id.as_str())));
    assert!(to(&out, B).is_empty());
}

#[test]
fn messages_are_broadcast_from_temporary_jids_and_relayed() {
    let mut s = service();
    let a = entered(&enter(&mut s, A, "lounge", "<nick>alice</nick>"), A);
    let b = entered(&enter(&mut s, B, "lounge", "<nick>bob</nick><privacy/>"), B);
    let out = s.handle(&el(
        "<message type='groupchat' id='m1' from='alice@localhost/a' to='lounge@legacy.localhost'><body>hi</body></message>",
    ));
    assert_eq!(out.len(), 2);
    for m in &out {
        assert_eq!(m.attr("from"), Some(a.id.as_str()));
        assert_eq!(m.attr("id"), Some("m1"));
        assert_eq!(m.get_child("body", NS).unwrap().text(), "hi");
    }
    // A private message to bob's temporary JID reaches bob, from alice's.
    let out = s.handle(&el(&format!(
        "<message type='chat' from='{A}' to='{}'><body>psst</body></message>",
        b.id
    )));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("to"), Some(B));
    assert_eq!(out[0].attr("from"), Some(a.id.as_str()));
    // Bob asked for privacy: no IQs relayed to him, and his real JID is
    // hidden; alice's is not.
    let out = s.handle(&el(&format!(
        "<iq type='get' id='v' from='{A}' to='{}'><query xmlns='jabber:iq:version'/></iq>",
        b.id
    )));
    assert_eq!(condition(&out[0]), "not-allowed");
    let out = s.handle(&el(&format!(
        "<iq type='get' id='v' from='{B}' to='{}'><query xmlns='jabber:iq:version'/></iq>",
        a.id
    )));
    assert_eq!(out[0].attr("to"), Some(A));
    assert_eq!(out[0].attr("from"), Some(b.id.as_str()));
    let whois = |s: &mut Legacy, target: &str| {
        let out = s.handle(&el(&format!(
            "<iq type='get' id='w' from='{C}' to='{target}'><query xmlns='jabber:iq:browse'/></iq>"
        )));
        conference::parse_browse(out[0].children().next())
            .unwrap()
            .item
    };
    assert_eq!(whois(&mut s, &a.id).jid.as_deref(), Some(A));
    let hidden = whois(&mut s, &b.id);
    assert_eq!(hidden.jid.as_deref(), Some(b.id.as_str()));
    assert_eq!(hidden.name.as_deref(), Some("bob"));
    // Outsiders cannot talk in the room.
    let out = s.handle(&el(
        "<message type='groupchat' from='carol@localhost/c' to='lounge@legacy.localhost'><body>x</body></message>",
    ));
    assert_eq!(condition(&out[0]), "not-acceptable");
}

#[test]
fn creation_after_404_and_405_when_switched_off() {
    let mut s = service();
    let get = "<iq type='get' id='g' from='alice@localhost/a' to='new@legacy.localhost'><query xmlns='jabber:iq:conference'/></iq>";
    assert_eq!(condition(&s.handle(&el(get))[0]), "item-not-found");
    let out = enter(
        &mut s,
        A,
        "new",
        "<secret>s3</secret><nick>boss</nick><privacy/><name>Fresh</name>",
    );
    assert_eq!(entered(&out, A).nick, "boss");
    let r = conference::parse_requirements(
        s.handle(&el(&get.replace("alice@localhost/a", B)))[0]
            .children()
            .next(),
    )
    .unwrap();
    assert!(r.secret);
    assert_eq!(r.name.as_deref(), Some("Fresh"));
    assert_eq!(
        condition(&enter(&mut s, B, "new", "<secret>no</secret>")[0]),
        "not-authorized"
    );

    let mut fixed = Legacy::new(Options::new("legacy.localhost").no_create());
    assert_eq!(condition(&fixed.handle(&el(get))[0]), "not-allowed");
    assert_eq!(
        condition(&enter(&mut fixed, A, "new", "<nick>x</nick>")[0]),
        "not-allowed"
    );
    let out = fixed.handle(&el(
        "<presence from='alice@localhost/a' to='other@legacy.localhost/x'/>",
    ));
    assert_eq!(condition(&out[0]), "item-not-found");
}

#[test]
fn groupchat_rooms_join_talk_rename_and_leave() {
    let mut s = service();
    let out = s.handle(&el(
        "<presence from='alice@localhost/a' to='old@legacy.localhost/alice'><show>away</show></presence>",
    ));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("from"), Some("old@legacy.localhost/alice"));
    assert_eq!(out[0].get_child("show", NS).unwrap().text(), "away");
    let out = s.handle(&el(
        "<presence from='bob@localhost/b' to='old@legacy.localhost/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
    ));
    // Bob gets alice, then himself; alice gets bob. No muc <x/> passed on.
    let to_b: Vec<String> = to(&out, B)
        .iter()
        .map(|p| p.attr("from").unwrap().to_string())
        .collect();
    assert_eq!(
        to_b,
        ["old@legacy.localhost/alice", "old@legacy.localhost/bob"]
    );
    assert!(out.iter().all(|p| p.children().all(|c| c.ns() != ns::MUC)));
    assert_eq!(to(&out, A).len(), 1);
    // A taken nick.
    let out = s.handle(&el(
        "<presence from='carol@localhost/c' to='old@legacy.localhost/bob'/>",
    ));
    assert_eq!(condition(&out[0]), "conflict");
    // Messages from room/nick.
    let out = s.handle(&el(
        "<message type='groupchat' from='bob@localhost/b' to='old@legacy.localhost'><body>yo</body></message>",
    ));
    assert_eq!(out.len(), 2);
    assert!(
        out.iter()
            .all(|m| m.attr("from") == Some("old@legacy.localhost/bob"))
    );
    // Nick change: unavailable from the old nick, then the new one.
    let out = s.handle(&el(
        "<presence from='bob@localhost/b' to='old@legacy.localhost/robert'/>",
    ));
    let seen: Vec<(Option<String>, String)> = to(&out, A)
        .iter()
        .map(|p| {
            (
                p.attr("type").map(str::to_string),
                p.attr("from").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Some("unavailable".into()),
                "old@legacy.localhost/bob".into()
            ),
            (None, "old@legacy.localhost/robert".into())
        ]
    );
    // Self-ping of our own occupant JID is answered.
    let out = s.handle(&el(
        "<iq type='get' id='p' from='bob@localhost/b' to='old@legacy.localhost/robert'><ping xmlns='urn:xmpp:ping'/></iq>",
    ));
    assert_eq!(out[0].attr("type"), Some("result"));
    // Leave (also what the server sends when bob's connection drops).
    let out = s.handle(&el(
        "<presence type='unavailable' from='bob@localhost/b' to='old@legacy.localhost/robert'/>",
    ));
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|p| p.attr("type") == Some("unavailable")));
    // Conference requests are not understood by groupchat 1.0 rooms.
    let out = s.handle(&el(
        "<iq type='get' id='g' from='alice@localhost/a' to='old@legacy.localhost'><query xmlns='jabber:iq:conference'/></iq>",
    ));
    assert_eq!(condition(&out[0]), "service-unavailable");
}

#[test]
fn unknown_rooms_by_presence_become_groupchat_rooms() {
    let mut s = service();
    let out = s.handle(&el(
        "<presence from='alice@localhost/a' to='fresh@legacy.localhost/alice'/>",
    ));
    assert_eq!(out[0].attr("from"), Some("fresh@legacy.localhost/alice"));
    let out = s.handle(&el(
        "<iq type='get' id='g' from='bob@localhost/b' to='fresh@legacy.localhost'><query xmlns='jabber:iq:conference'/></iq>",
    ));
    assert_eq!(condition(&out[0]), "service-unavailable");
}

#[test]
fn a_dropped_connection_removes_the_participant() {
    let mut s = service();
    entered(&enter(&mut s, A, "lounge", "<nick>alice</nick>"), A);
    entered(&enter(&mut s, B, "lounge", "<nick>bob</nick>"), B);
    // What Prosody sends for bob when his stream ends.
    let out = s.handle(&el(
        "<presence type='unavailable' from='bob@localhost/b' to='lounge@legacy.localhost'/>",
    ));
    assert_eq!(names(&push_to(&out, A)), ["alice"]);
}

#[test]
fn room_specs_parse() {
    let r = RoomSpec::parse("demo,private,secret=foo,name=Demo Room", false).unwrap();
    assert!(!r.public);
    assert_eq!(r.secret.as_deref(), Some("foo"));
    assert_eq!(r.name.as_deref(), Some("Demo Room"));
    assert!(RoomSpec::parse("a@b", false).is_err());
    assert!(RoomSpec::parse("a,colour=red", false).is_err());
}

#[test]
fn strangers_stanzas_are_bounced_not_panicked_on() {
    let mut s = service();
    for xml in [
        "<iq type='set' id='x' from='a@l/a' to='lounge@legacy.localhost'><query xmlns='jabber:iq:conference'><nick/></query></iq>",
        "<iq type='set' id='x' from='a@l/a' to='lounge@legacy.localhost'/>",
        "<iq type='get' id='x' from='a@l/a' to='lounge@legacy.localhost/nobody'><query xmlns='jabber:iq:browse'/></iq>",
        "<message from='a@l/a' to='nowhere@legacy.localhost/x'><body>x</body></message>",
        "<presence type='subscribe' from='a@l/a' to='lounge@legacy.localhost'/>",
        "<iq type='get' id='x' to='lounge@legacy.localhost'/>",
    ] {
        let _ = s.handle(&el(xml));
    }
}

fn code(e: &Element) -> String {
    e.get_child("error", NS)
        .and_then(|e| e.attr("code"))
        .unwrap_or_default()
        .to_string()
}

/// What an older client reads: the seed's numeric codes with the
/// conditions; the secret is checked before the nicks; privacy only
/// where the room offers it (a created room offers it when its creator
/// asked for it).
#[test]
fn errors_carry_the_seeds_codes_and_privacy_is_offered_per_room() {
    let mut s = Legacy::new(
        Options::new("legacy.localhost")
            .room(RoomSpec::parse("demo,secret=foo", false).unwrap())
            .room(RoomSpec::parse("open,noprivacy", false).unwrap()),
    );
    let get = "<iq type='get' id='g' from='alice@localhost/a' to='new@legacy.localhost'><query xmlns='jabber:iq:conference'/></iq>";
    let out = s.handle(&el(get));
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("item-not-found".into(), "404".into())
    );
    entered(
        &enter(&mut s, A, "demo", "<secret>foo</secret><nick>dude</nick>"),
        A,
    );
    // Wrong secret and a taken nick: the secret is what is wrong.
    let out = enter(&mut s, B, "demo", "<secret>bar</secret><nick>dude</nick>");
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("not-authorized".into(), "401".into())
    );
    let out = enter(&mut s, B, "demo", "<secret>foo</secret><nick>dude</nick>");
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("conflict".into(), "409".into())
    );

    // A room without privacy: not in the get, refused in the set.
    let out = s.handle(&el(&get.replace("new@", "open@")));
    let r = conference::parse_requirements(out[0].children().next()).unwrap();
    assert!(!r.privacy && r.nick);
    let out = enter(&mut s, B, "open", "<nick>bob</nick><privacy/>");
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("not-acceptable".into(), "406".into())
    );
    entered(&enter(&mut s, B, "open", "<nick>bob</nick>"), B);

    // Created rooms: privacy as the creator's set said.
    entered(&enter(&mut s, A, "plain", "<nick>a</nick>"), A);
    let out = s.handle(&el(&get.replace("new@", "plain@").replace(A, C)));
    assert!(
        !conference::parse_requirements(out[0].children().next())
            .unwrap()
            .privacy
    );
    entered(&enter(&mut s, A, "hush", "<nick>a</nick><privacy/>"), A);
    let out = s.handle(&el(&get.replace("new@", "hush@").replace(A, C)));
    assert!(
        conference::parse_requirements(out[0].children().next())
            .unwrap()
            .privacy
    );

    let mut fixed = Legacy::new(Options::new("legacy.localhost").no_create());
    let out = fixed.handle(&el(get));
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("not-allowed".into(), "405".into())
    );
}

/// Presence to a participant's temporary JID is relayed (not taken for
/// leaving the room), unless the participant asked for privacy.
#[test]
fn directed_presence_to_a_temporary_jid_is_relayed() {
    let mut s = service();
    let a = entered(
        &enter(&mut s, A, "lounge", "<nick>alice</nick><privacy/>"),
        A,
    );
    let b = entered(&enter(&mut s, B, "lounge", "<nick>bob</nick>"), B);
    let out = s.handle(&el(&format!(
        "<presence type='unavailable' from='{A}' to='{}'/>",
        b.id
    )));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].attr("to"), Some(B));
    assert_eq!(out[0].attr("from"), Some(a.id.as_str()));
    assert_eq!(out[0].attr("type"), Some("unavailable"));
    // Alice is still in: a message of hers is broadcast.
    let out = s.handle(&el(&format!(
        "<message type='groupchat' from='{A}' to='lounge@legacy.localhost'><body>still here</body></message>"
    )));
    assert_eq!(to(&out, B).len(), 1);
    // Alice receives only messages.
    let out = s.handle(&el(&format!("<presence from='{B}' to='{}'/>", a.id)));
    assert_eq!(
        (condition(&out[0]), code(&out[0])),
        ("not-allowed".into(), "405".into())
    );
}

#[test]
fn message_ids_are_kept_or_rewritten_as_configured() {
    let origin = "<origin-id xmlns='urn:xmpp:sid:0' id='mine-1'/>";
    let say = el(&format!(
        "<message type='groupchat' id='mine-1' from='{A}' to='old@legacy.localhost'>\
         <body>hi</body>{origin}</message>"
    ));
    for (ids, new_id, origin_kept) in [
        (Ids::Keep, false, true),
        (Ids::Rewrite, true, true),
        (Ids::RewriteBare, true, false),
    ] {
        let mut s = Legacy::new(
            Options::new("legacy.localhost")
                .room(RoomSpec::parse("old", true).unwrap())
                .ids(ids),
        );
        s.handle(&el(&format!(
            "<presence from='{A}' to='old@legacy.localhost/alice'/>"
        )));
        let out = s.handle(&say);
        let echo = &to(&out, A)[0];
        assert_eq!(echo.attr("from"), Some("old@legacy.localhost/alice"));
        assert_eq!(echo.attr("id") != Some("mine-1"), new_id, "{ids:?}");
        assert_eq!(
            echo.get_child("origin-id", "urn:xmpp:sid:0").is_some(),
            origin_kept,
            "{ids:?}"
        );
        assert_eq!(echo.get_child("body", NS).unwrap().text(), "hi");
    }
}

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid};
use xmpp_parsers::message::Message as Stanza;
use xmpp_parsers::presence::Presence;

use crate::store::{Event, Input, Store};
use confab_proto::fixtures::el;
use confab_proto::{Incoming, classify_message, classify_presence};

const ROOM: &str = "coven@chat.shakespeare.lit";

fn room() -> BareJid {
    BareJid::new(ROOM).unwrap()
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn message(xml: &str) -> Incoming {
    classify_message(&Stanza::try_from(el(xml)).unwrap())
}

fn apply(s: &mut Store, inc: Incoming) -> Vec<serde_json::Value> {
    s.apply(Input::Incoming(inc), t0())
        .iter()
        .map(Event::to_json)
        .collect()
}

fn joined() -> Store {
    let mut s = crate::fixtures::joining(&room(), "thirdwitch", t0());
    let p = Presence::try_from(el(&format!(
        "<presence xmlns='jabber:client' from='{ROOM}/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>"
    )))
    .unwrap();
    s.apply(Input::Incoming(classify_presence(&p)), t0());
    s
}

fn said(s: &mut Store, nick: &str, sid: &str, body: &str, oid: Option<&str>) {
    let oid = oid.map_or(String::new(), |o| {
        format!("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{o}'/>")
    });
    let ev = apply(
        s,
        message(&format!(
            "<message xmlns='jabber:client' from='{ROOM}/{nick}' type='groupchat' id='id-{sid}'><body>{body}</body><stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{ROOM}'/>{oid}</message>"
        )),
    );
    assert_eq!(ev[0]["stanza_id"], sid);
}

fn react(nick: &str, target: &str, emojis: &[&str], oid: Option<&str>) -> Incoming {
    let oid = oid.map_or(String::new(), |o| {
        format!("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{o}'/>")
    });
    let r: String = emojis
        .iter()
        .map(|e| format!("<reaction>{e}</reaction>"))
        .collect();
    message(&format!(
        "<message xmlns='jabber:client' from='{ROOM}/{nick}' type='groupchat' id='r-{nick}'><reactions xmlns='urn:xmpp:reactions:0' id='{target}'>{r}</reactions>{oid}</message>"
    ))
}

fn line(s: &Store, sid: &str) -> crate::store::Message {
    s.room(&room())
        .unwrap()
        .messages
        .iter()
        .find(|m| m.stanza_id.as_deref() == Some(sid))
        .unwrap()
        .clone()
}

#[test]
fn reactions_in_a_room_are_grouped_and_replaced_per_sender() {
    let mut s = joined();
    said(&mut s, "anna", "s1", "cake?", None);
    let ev = apply(&mut s, react("bob", "s1", &["👍", "🎂"], None));
    assert_eq!(ev[0]["event"], "reactions");
    assert_eq!(ev[0]["target"], "s1");
    assert_eq!(ev[0]["nick"], "bob");
    apply(&mut s, react("carol", "s1", &["👍"], None));
    let ev = apply(&mut s, react("bob", "s1", &["👍"], None));
    assert_eq!(
        ev[0]["reactions"],
        serde_json::json!([{"emoji": "👍", "count": 2, "by": ["bob", "carol"]}])
    );
    // Our own: marked own.
    let ev = apply(&mut s, react("thirdwitch", "s1", &["🔥"], None));
    assert_eq!(ev[0]["own"], true);
    // Withdrawn.
    apply(&mut s, react("thirdwitch", "s1", &[], None));
    assert_eq!(line(&s, "s1").meta.reactions.len(), 2);
    // The same set again: nothing to say.
    assert!(apply(&mut s, react("carol", "s1", &["👍"], None)).is_empty());
    // A message we never saw: dropped, no error.
    assert!(apply(&mut s, react("bob", "nope", &["👍"], None)).is_empty());
    // Not the room's line count.
    assert_eq!(s.room(&room()).unwrap().messages.len(), 1);
}

#[test]
fn occupant_ids_tell_senders_apart_across_nicks() {
    let mut s = joined();
    said(&mut s, "anna", "s1", "x", None);
    apply(&mut s, react("bob", "s1", &["👍"], Some("o-bob")));
    // Same person, new nick: replaces, not adds.
    apply(&mut s, react("robert", "s1", &["🎉"], Some("o-bob")));
    let m = line(&s, "s1");
    assert_eq!(m.meta.reactions.len(), 1);
    assert_eq!(m.meta.reactions[0].nick, "robert");
}

#[test]
fn a_flood_of_reactors_is_bounded() {
    let mut s = joined();
    said(&mut s, "anna", "s1", "x", None);
    for i in 0..crate::store::MAX_REACTORS + 100 {
        apply(&mut s, react(&format!("p{i}"), "s1", &["👍"], None));
    }
    assert_eq!(
        line(&s, "s1").meta.reactions.len(),
        crate::store::MAX_REACTORS
    );
}

fn retract(nick: &str, target: &str, oid: Option<&str>) -> Incoming {
    let oid = oid.map_or(String::new(), |o| {
        format!("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{o}'/>")
    });
    message(&format!(
        "<message xmlns='jabber:client' from='{ROOM}/{nick}' type='groupchat' id='x-{nick}'><retract id='{target}' xmlns='urn:xmpp:message-retract:1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>/me retracted a previous message, but it's unsupported by your client.</body>{oid}</message>"
    ))
}

#[test]
fn only_the_sender_retracts() {
    let mut s = joined();
    said(&mut s, "anna", "s1", "oops", None);
    said(&mut s, "bob", "s2", "bob's", Some("o-bob"));
    // Someone else: ignored.
    assert!(apply(&mut s, retract("mallory", "s1", None)).is_empty());
    assert_eq!(line(&s, "s1").body, "oops");
    // The occupant-id decides where both have one: a new nick is still bob,
    // bob's nick with another id is not.
    assert!(apply(&mut s, retract("bob", "s2", Some("o-mallory"))).is_empty());
    let ev = apply(&mut s, retract("robert", "s2", Some("o-bob")));
    assert_eq!(ev[0]["event"], "retracted");
    assert_eq!(ev[0]["nick"], "bob");
    let ev = apply(&mut s, retract("anna", "s1", None));
    assert_eq!(ev[0]["moderated"], false);
    let m = line(&s, "s1");
    assert!(m.body.is_empty());
    assert_eq!(m.meta.removed.as_deref().unwrap().by, None);
    // Not a new line, and the fallback body is not shown.
    assert_eq!(s.room(&room()).unwrap().messages.len(), 2);
    // The archive gets the removal, checked as the store did.
    let r = s.take_removals();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[1].target, "s1");
    assert_eq!(
        r[1].sender,
        crate::store::SenderCheck::Occupant {
            nick: "anna".into(),
            occupant_id: None
        }
    );
}

#[test]
fn moderation_from_the_room_removes_anyones_message() {
    let mut s = joined();
    said(&mut s, "spammer", "s1", "buy now", None);
    s.take_journal();
    // `:0`, as mod_muc_moderation sends it.
    let ev = apply(
        &mut s,
        message(&format!(
            "<message xmlns='jabber:client' type='groupchat' from='{ROOM}' id='m'><apply-to id='s1' xmlns='urn:xmpp:fasten:0'><moderated by='{ROOM}/thirdwitch' xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/><reason>spam</reason></moderated></apply-to></message>"
        )),
    );
    assert_eq!(ev[0]["event"], "retracted");
    assert_eq!(ev[0]["moderated"], true);
    assert_eq!(ev[0]["by"], "thirdwitch");
    assert_eq!(ev[0]["reason"], "spam");
    assert_eq!(ev[0]["nick"], "spammer");
    assert_eq!(ev[0]["own"], true);
    let m = line(&s, "s1");
    assert!(m.body.is_empty());
    assert_eq!(
        m.meta.removed.as_deref().unwrap().reason.as_deref(),
        Some("spam")
    );
    // `:1` of another message, by another moderator.
    said(&mut s, "spammer", "s2", "again", None);
    let b =
        confab_proto::retract::moderated_broadcast(&room(), "s2", &format!("{ROOM}/hecate"), None);
    let ev = apply(&mut s, classify_message(&Stanza::try_from(b).unwrap()));
    assert_eq!(ev[0]["by"], "hecate");
    assert_eq!(ev[0]["own"], false);
    assert!(ev[0].get("reason").is_none());
}

#[test]
fn tombstones_count_only_with_a_target_from_the_archive() {
    let mut s = joined();
    let tomb = |target: Option<&str>| {
        let Incoming::Retraction(mut r) = message(&format!(
            "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/oldhag' id='message-id-1'><moderated by='{ROOM}/macbeth' xmlns='urn:xmpp:message-moderate:0'><retracted stamp='2019-09-20T23:19:12Z' xmlns='urn:xmpp:message-retract:0'/><reason>rude</reason></moderated></message>"
        )) else {
            panic!()
        };
        r.target = target.map(str::to_string);
        r.delayed = true;
        Incoming::Retraction(r)
    };
    // Live (no archive id): nothing.
    assert!(apply(&mut s, tomb(None)).is_empty());
    // From the archive, for a message we never saw: a line saying so.
    let ev = apply(&mut s, tomb(Some("s9")));
    assert_eq!(ev[0]["event"], "retracted");
    assert_eq!(ev[0]["tombstone"], true);
    assert_eq!(ev[0]["by"], "macbeth");
    let m = line(&s, "s9");
    assert_eq!(m.nick.as_deref(), Some("oldhag"));
    assert!(m.meta.removed.is_some());
    assert_eq!(s.take_journal().len(), 1);
    // Again (a second catch-up): no second line.
    assert!(apply(&mut s, tomb(Some("s9"))).is_empty());
    // Another tombstone of the same sender, just after a retraction of
    // theirs: not taken for a copy (removed lines have no content).
    said(&mut s, "oldhag", "s11", "typo", None);
    apply(&mut s, retract("oldhag", "s11", None));
    let ev = apply(&mut s, tomb(Some("s12")));
    assert_eq!(ev.len(), 1, "{ev:?}");
    // For a message we hold: it is removed.
    said(&mut s, "oldhag", "s10", "rude words", None);
    let ev = apply(&mut s, tomb(Some("s10")));
    assert_eq!(ev[0]["tombstone"], true);
    assert!(line(&s, "s10").body.is_empty());
}

fn online(s: &mut Store) {
    s.apply(
        Input::Online {
            jid: FullJid::new("juliet@capulet.net/balcony").unwrap(),
            reconnect: false,
        },
        t0(),
    );
}

#[test]
fn in_a_chat_reactions_and_retractions_use_the_message_id() {
    let mut s = Store::new();
    online(&mut s);
    let ev = apply(
        &mut s,
        message(
            "<message xmlns='jabber:client' from='romeo@montague.lit/orchard' type='chat' id='m1'><body>hi</body></message>",
        ),
    );
    assert_eq!(ev.last().unwrap()["event"], "message");
    // XEP-0444 with several emojis, from the contact.
    let ev = apply(
        &mut s,
        message(
            "<message xmlns='jabber:client' from='romeo@montague.lit/orchard' type='chat' id='r1'><reactions id='m1' xmlns='urn:xmpp:reactions:0'><reaction>👋</reaction><reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>",
        ),
    );
    assert_eq!(ev[0]["event"], "reactions");
    assert_eq!(ev[0]["from"], "romeo@montague.lit/orchard");
    assert_eq!(ev[0]["emojis"], serde_json::json!(["👋", "🐢"]));
    // Ours, applied when sent (from our account, to the contact).
    let ev = apply(
        &mut s,
        message(
            "<message xmlns='jabber:client' from='juliet@capulet.net/balcony' to='romeo@montague.lit' type='chat' id='r2'><reactions id='m1' xmlns='urn:xmpp:reactions:0'><reaction>👋</reaction></reactions></message>",
        ),
    );
    assert_eq!(ev[0]["own"], true);
    assert_eq!(ev[0]["reactions"][0]["count"], 2);
    // We may not retract their message; they may.
    let ours = "<message xmlns='jabber:client' from='juliet@capulet.net/balcony' to='romeo@montague.lit' type='chat' id='x1'><retract id='m1' xmlns='urn:xmpp:message-retract:1'/></message>";
    assert!(apply(&mut s, message(ours)).is_empty());
    let ev = apply(
        &mut s,
        message(
            "<message xmlns='jabber:client' from='romeo@montague.lit/orchard' type='chat' id='x2'><retract id='m1' xmlns='urn:xmpp:message-retract:1'/><body>/me retracted</body></message>",
        ),
    );
    assert_eq!(ev[0]["event"], "retracted");
    let c = &s.conversations[&BareJid::new("romeo@montague.lit").unwrap()];
    assert!(c.messages.last().unwrap().body.is_empty());
    // A conversation we do not hold: nothing, no error.
    assert!(
        apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='tybalt@capulet.net/x' type='chat'><reactions id='m1' xmlns='urn:xmpp:reactions:0'><reaction>👋</reaction></reactions></message>",
            ),
        )
        .is_empty()
    );
}

#[test]
fn a_reply_keeps_its_reference_and_loses_its_quote() {
    let mut s = joined();
    said(&mut s, "anna", "s1", "We should bake a cake", None);
    let ev = apply(
        &mut s,
        message(&format!(
            "<message xmlns='jabber:client' from='{ROOM}/bob' type='groupchat' id='m2'><body>&gt; anna wrote:\n&gt; We should bake a cake\nGreat idea!</body><reply to='{ROOM}/anna' id='s1' xmlns='urn:xmpp:reply:0'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='38'/></fallback></message>"
        )),
    );
    assert_eq!(ev[0]["body"], "Great idea!");
    assert_eq!(ev[0]["reply_to"]["id"], "s1");
    assert_eq!(ev[0]["reply_to"]["quote"], "We should bake a cake");
    let m = s.room(&room()).unwrap().messages.last().unwrap().clone();
    assert_eq!(m.meta.reply.unwrap().id, "s1");
}

use minidom::Element;
use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::command::Command;

use crate::session::{SessionCmd, SessionEvent, Tag};

#[test]
fn patterns() {
    assert!(matches_pattern(
        "*@conference.work.example",
        "x@conference.work.example"
    ));
    assert!(matches_pattern("secret*", "Secret-Room@c"));
    assert!(matches_pattern("a@b", "A@B"));
    assert!(!matches_pattern("a@b", "a@bc"));
    assert!(matches_pattern("*", "anything"));
    assert!(matches_pattern("*room*@*", "my-room-2@c"));
    assert!(!matches_pattern("*room*@x", "my-room-2@c"));
}

fn join(app: &mut App, room: &str, password: Option<&str>) {
    let room = BareJid::new(room).unwrap();
    app.execute(
        Command::Join {
            room: room.clone(),
            nick: None,
            password: password.map(str::to_string),
            options: Default::default(),
        },
        &format!("/join {room}"),
    );
    app.on_session(App::self_presence(&room, "alice"));
}

/// The IQs sent so far: (tag, payload).
fn iqs(rx: &mut UnboundedReceiver<SessionCmd>) -> Vec<(Tag, Element)> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|c| match c {
            SessionCmd::Iq { tag, payload, .. } => Some((tag, payload)),
            _ => None,
        })
        .collect()
}

fn answer(app: &mut App, tag: Tag, xml: Option<&str>) -> Vec<Event> {
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(xml.map(|x| x.parse().unwrap())),
    })
}

const OPEN: &str = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text' name='Lounge'/><feature var='muc_public'/><feature var='muc_open'/></query>";
const MEMBERS: &str = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/><feature var='muc_membersonly'/></query>";

#[test]
fn public_rooms_are_published_private_ones_not() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    join(&mut app, "lounge@c", None);
    let sent = iqs(&mut rx);
    // The last one: MAM catch-up asks the room's disco#info too.
    let (tag, _) = sent
        .iter()
        .rfind(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
        .cloned()
        .expect("disco#info of the room");
    let lounge = BareJid::new("lounge@c").unwrap();
    assert_eq!(
        app.store.publishing.get(&lounge),
        Some(&PublishState::Deciding(None))
    );
    answer(&mut app, tag, Some(OPEN));
    let sent = iqs(&mut rx);
    let (tag, p) = sent
        .iter()
        .find(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
        .cloned()
        .expect("a publish");
    let item = p
        .get_child("publish", chatting::NS_PUBSUB)
        .unwrap()
        .get_child("item", chatting::NS_PUBSUB)
        .unwrap();
    assert_eq!(
        item.attr("id"),
        Some(chatting::item_id("xmpp:lounge@c").as_str())
    );
    let room =
        chatting::parse_room(item.get_child("room", chatting::NS_CHATTING).unwrap()).unwrap();
    assert_eq!(room.name.as_deref(), Some("Lounge"));
    let out = answer(&mut app, tag, None);
    assert_eq!(
        out[0].to_json(),
        serde_json::json!({"event":"chatting-publish","room":"lounge@c","published":true})
    );
    // Members-only: nothing published.
    join(&mut app, "club@c", None);
    let (tag, _) = iqs(&mut rx).pop().unwrap();
    assert!(
        !app.store
            .publishing
            .is_published(&BareJid::new("club@c").unwrap())
    );
    let out = answer(&mut app, tag, Some(MEMBERS));
    assert_eq!(out[0].to_json()["reason"], "members-only room");
    assert!(iqs(&mut rx).is_empty());
    // Joined with a password: not even asked.
    join(&mut app, "den@c", Some("pw"));
    let disco = |sent: Vec<(Tag, Element)>| {
        sent.iter()
            .filter(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
            .count()
    };
    assert_eq!(disco(iqs(&mut rx)), 1, "only MAM's");
    let den = BareJid::new("den@c").unwrap();
    assert_eq!(
        app.store.publishing.get(&den),
        Some(&PublishState::Withheld("joined with a password".into()))
    );
    // /chatting off: the empty item under the same id.
    let exec = app.execute(
        Command::Chatting {
            target: StatusTarget::Room(lounge.clone()),
            publish: false,
        },
        "/chatting lounge@c off",
    );
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    let item = p
        .get_child("publish", chatting::NS_PUBSUB)
        .unwrap()
        .get_child("item", chatting::NS_PUBSUB)
        .unwrap();
    assert_eq!(
        item.attr("id"),
        Some(chatting::item_id("xmpp:lounge@c").as_str())
    );
    assert_eq!(
        item.get_child("room", chatting::NS_CHATTING)
            .unwrap()
            .children()
            .count(),
        0
    );
    assert_eq!(exec.events[0].to_json()["published"], false);
    let out = answer(&mut app, tag, None);
    assert_eq!(out.last().unwrap().to_json()["event"], "ok");
    assert!(!app.store.publishing.is_published(&lounge));
}

fn presence_of_self(app: &mut App, room: &str) -> Vec<Event> {
    app.on_session(App::self_presence(&BareJid::new(room).unwrap(), "alice"))
}

fn is_disco(p: &Element) -> bool {
    p.is("query", crate::protocol::ns::DISCO_INFO)
}

/// The item of a publish: (id, whether the `<room/>` is empty).
fn published_item(p: &Element) -> Option<(String, bool)> {
    let item = p
        .get_child("publish", chatting::NS_PUBSUB)?
        .get_child("item", chatting::NS_PUBSUB)?;
    let room = item.get_child("room", chatting::NS_CHATTING)?;
    Some((item.attr("id")?.to_string(), room.children().count() == 0))
}

/// Joins a public room and publishes it.
fn join_published(app: &mut App, rx: &mut UnboundedReceiver<SessionCmd>, room: &str) {
    join(app, room, None);
    let (tag, _) = iqs(rx).into_iter().rfind(|(_, p)| is_disco(p)).unwrap();
    answer(app, tag, Some(OPEN));
    let (tag, p) = iqs(rx).pop().unwrap();
    assert!(published_item(&p).is_some_and(|(_, empty)| !empty));
    answer(app, tag, None);
    assert!(
        app.store
            .publishing
            .is_published(&BareJid::new(room).unwrap())
    );
}

#[test]
fn after_a_reconnection_rooms_are_decided_again_and_missed_leaves_told() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let me: jid::FullJid = "alice@localhost/r".parse().unwrap();
    app.on_session(SessionEvent::Online {
        jid: me.clone(),
        reconnect: false,
    });
    join_published(&mut app, &mut rx, "lounge@c");
    join_published(&mut app, &mut rx, "hall@c");
    let lounge = BareJid::new("lounge@c").unwrap();
    let hall = BareJid::new("hall@c").unwrap();

    // Offline: the hall's empty item cannot go out.
    app.on_session(SessionEvent::Disconnected {
        reason: crate::session::SessionError::Closed,
        retry_in: std::time::Duration::from_secs(1),
    });
    app.execute(
        Command::Chatting {
            target: StatusTarget::Room(hall.clone()),
            publish: false,
        },
        "/chatting hall@c off",
    );
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert_eq!(
        published_item(&p),
        Some((chatting::item_id("xmpp:hall@c"), true))
    );
    let out = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new(
            "remote-server-timeout",
            Some("not connected".to_string()),
        )),
    });
    let err = out
        .iter()
        .find(|e| e.to_json()["event"] == "error")
        .unwrap();
    assert!(
        err.to_json()["text"]
            .as_str()
            .unwrap()
            .contains("told once back online"),
        "{out:?}"
    );

    // Back: the roster again, and the hall's empty item.
    app.on_session(SessionEvent::Online {
        jid: me,
        reconnect: true,
    });
    let sent = iqs(&mut rx);
    assert!(
        sent.iter().any(|(_, p)| p.is("query", "jabber:iq:roster")),
        "{sent:?}"
    );
    let (tag, _) = sent
        .iter()
        .find(|(_, p)| published_item(p) == Some((chatting::item_id("xmpp:hall@c"), true)))
        .cloned()
        .expect("the hall's empty item");
    answer(&mut app, tag, None);

    // The lounge rejoined: asked again; members-only now, so its
    // empty item goes out.
    let out = presence_of_self(&mut app, "lounge@c");
    assert!(out.iter().any(|e| e.to_json()["rejoined"] == true));
    let (tag, _) = iqs(&mut rx)
        .into_iter()
        .rfind(|(_, p)| is_disco(p))
        .unwrap();
    assert_eq!(
        app.store.publishing.get(&lounge),
        Some(&PublishState::Deciding(Some(chatting::item_id(
            "xmpp:lounge@c"
        ))))
    );
    let out = answer(&mut app, tag, Some(MEMBERS));
    assert!(
        out.iter()
            .any(|e| e.to_json()["reason"] == "members-only room"),
        "{out:?}"
    );
    let (_, p) = iqs(&mut rx).pop().unwrap();
    assert_eq!(
        published_item(&p),
        Some((chatting::item_id("xmpp:lounge@c"), true))
    );
    assert!(!app.store.publishing.is_published(&lounge));
}

#[test]
fn publishing_off_tells_the_empty_item_of_every_published_room() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    join_published(&mut app, &mut rx, "lounge@c");
    join_published(&mut app, &mut rx, "hall@c");
    let exec = app.execute(
        Command::Chatting {
            target: StatusTarget::All,
            publish: false,
        },
        "/chatting all off",
    );
    assert_eq!(
        exec.events
            .iter()
            .filter(|e| e.to_json()["published"] == false)
            .count(),
        2
    );
    // One after the other, then ok.
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert_eq!(
        published_item(&p),
        Some((chatting::item_id("xmpp:hall@c"), true))
    );
    assert!(answer(&mut app, tag, None).is_empty());
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert_eq!(
        published_item(&p),
        Some((chatting::item_id("xmpp:lounge@c"), true))
    );
    let out = answer(&mut app, tag, None);
    assert_eq!(out.last().unwrap().to_json()["event"], "ok");
    assert!(app.store.publishing.published().is_empty());
    // A room joined now stays unpublished, without asking.
    join(&mut app, "yard@c", None);
    assert!(
        !iqs(&mut rx)
            .iter()
            .any(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
    );
    assert_eq!(
        app.store.publishing.get(&BareJid::new("yard@c").unwrap()),
        Some(&PublishState::Withheld("publishing is off".into()))
    );
}

#[test]
fn rooms_joined_privately_are_never_asked_about() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let room = BareJid::new("quiet@c").unwrap();
    let options = crate::command::JoinOptions {
        private: true,
        ..Default::default()
    };
    app.execute(
        Command::Join {
            room: room.clone(),
            nick: None,
            password: None,
            options,
        },
        "/join quiet@c --private",
    );
    presence_of_self(&mut app, "quiet@c");
    assert!(
        !iqs(&mut rx)
            .iter()
            .any(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
    );
    assert_eq!(
        app.store.publishing.get(&room),
        Some(&PublishState::Withheld("joined privately".into()))
    );
}

#[test]
fn config_off_and_never_patterns() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    app.set_chatting(ChattingConfig {
        publish: true,
        never: vec!["*@secret.c".into()],
    });
    join(&mut app, "x@secret.c", None);
    let disco = iqs(&mut rx)
        .iter()
        .filter(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
        .count();
    assert_eq!(disco, 1, "only MAM's");
    let x = BareJid::new("x@secret.c").unwrap();
    assert!(matches!(
        app.store.publishing.get(&x),
        Some(PublishState::Withheld(r)) if r.contains("never")
    ));
    app.set_chatting(ChattingConfig {
        publish: false,
        never: vec![],
    });
    join(&mut app, "y@c", None);
    let y = BareJid::new("y@c").unwrap();
    assert_eq!(
        app.store.publishing.get(&y),
        Some(&PublishState::Withheld("publishing is off".into()))
    );
    // /chatting ROOM on overrides.
    app.execute(
        Command::Chatting {
            target: StatusTarget::Room(y.clone()),
            publish: true,
        },
        "/chatting y@c on",
    );
    assert!(app.store.publishing.is_published(&y));
}

#[test]
fn refused_publish_options_fall_back_and_a_refused_configuration_withholds() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let refused = || {
        Err(ErrorInfo::new(
            "resource-constraint",
            Some(
                "Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'"
                    .to_string(),
            ),
        ))
    };
    let respond =
        |app: &mut App, tag, r| app.on_session(SessionEvent::IqResponse { tag, result: r });
    // ejabberd 23.01: the options refused, the node configured, then
    // the item published with the access model only.
    join(&mut app, "lounge@c", None);
    let (tag, _) = iqs(&mut rx)
        .into_iter()
        .rfind(|(_, p)| is_disco(p))
        .unwrap();
    answer(&mut app, tag, Some(OPEN));
    let (tag, _) = iqs(&mut rx).pop().unwrap();
    assert!(respond(&mut app, tag, refused()).is_empty());
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert!(
        p.is("pubsub", crate::protocol::pep::NS_PUBSUB_OWNER),
        "{p:?}"
    );
    assert!(answer(&mut app, tag, None).is_empty());
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert!(published_item(&p).is_some_and(|(_, empty)| !empty));
    let out = answer(&mut app, tag, None);
    assert_eq!(out[0].to_json()["published"], true, "{out:?}");
    // Leaving: the empty item goes out at once, the node configured.
    let exec = app.execute(
        Command::Chatting {
            target: StatusTarget::Room(BareJid::new("lounge@c").unwrap()),
            publish: false,
        },
        "/chatting lounge@c off",
    );
    assert!(exec.pending.is_some());
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert_eq!(
        published_item(&p),
        Some((chatting::item_id("xmpp:lounge@c"), true))
    );
    let out = answer(&mut app, tag, None);
    assert_eq!(out.last().unwrap().to_json()["event"], "ok");

    // Another session whose configuration is refused: not published,
    // and the reason says so.
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    join(&mut app, "hall@c", None);
    let (tag, _) = iqs(&mut rx)
        .into_iter()
        .rfind(|(_, p)| is_disco(p))
        .unwrap();
    answer(&mut app, tag, Some(OPEN));
    let (tag, _) = iqs(&mut rx).pop().unwrap();
    respond(&mut app, tag, refused());
    let (tag, p) = iqs(&mut rx).pop().unwrap();
    assert!(p.is("pubsub", crate::protocol::pep::NS_PUBSUB_OWNER));
    let out = respond(&mut app, tag, Err(ErrorInfo::new("forbidden", None)));
    assert!(iqs(&mut rx).is_empty(), "nothing published");
    let e = out[0].to_json();
    assert_eq!(e["event"], "chatting-publish", "{out:?}");
    assert_eq!(e["published"], false);
    let reason = e["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("publishing failed (forbidden: the server refused the publish-options")
            && reason.contains("not published"),
        "{reason}"
    );
    let hall = BareJid::new("hall@c").unwrap();
    assert!(!app.store.publishing.is_published(&hall));
}

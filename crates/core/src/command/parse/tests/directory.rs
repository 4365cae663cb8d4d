//! Tests of the room directory and life cycle (/rooms, /search, /info,
//! /create, /destroy), invitations and bookmarks.

use super::*;

#[test]
fn room_directory_and_life_cycle() {
    let svc = |s: &str| Some(Jid::new(s).unwrap());
    assert_eq!(ok("/rooms"), Command::Rooms { service: None });
    assert_eq!(
        ok("/rooms conference.localhost"),
        Command::Rooms {
            service: svc("conference.localhost")
        }
    );
    assert_eq!(
        ok("/search \"dark cave\" chat.example.org"),
        Command::Search {
            query: "dark cave".into(),
            service: svc("chat.example.org")
        }
    );
    assert_eq!(err("/search").0, 8);
    assert_eq!(ok("/info r@c"), Command::Info { room: r("r@c") });
    assert!(err("/info c").1.contains("room name before the @"));
    assert_eq!(
        ok("/create r@c/al --instant"),
        Command::Create {
            room: r("r@c"),
            nick: Some("al".into()),
            instant: true,
            fields: vec![]
        }
    );
    assert_eq!(
        ok("/create r@c muc#roomconfig_roomname=\"The Cave\" muc#roomconfig_publicroom=1"),
        Command::Create {
            room: r("r@c"),
            nick: None,
            instant: false,
            fields: vec![
                ("muc#roomconfig_roomname".into(), "The Cave".into()),
                ("muc#roomconfig_publicroom".into(), "1".into())
            ]
        }
    );
    assert!(err("/create r@c --instant=1").1.contains("takes no value"));
    assert_eq!(
        ok("/destroy r@c --reason \"moving on\" --venue new@c"),
        Command::Destroy {
            room: r("r@c"),
            reason: Some("moving on".into()),
            venue: Some(r("new@c"))
        }
    );
    assert_eq!(
        ok("/destroy r@c"),
        Command::Destroy {
            room: r("r@c"),
            reason: None,
            venue: None
        }
    );
    let (col, msg) = err("/destroy r@c --venue nowhere");
    assert_eq!(col, 21);
    assert!(msg.contains("--venue expects ROOM"), "{msg}");
    assert!(err("/destroy r@c --reason").1.contains("expects TEXT"));
}

// ---- invitations and bookmarks ----

#[test]
fn invitations_and_bookmarks() {
    assert_eq!(
        ok(r#"/invite r@c bob@d "come in" --mediated"#),
        Command::Invite {
            room: r("r@c"),
            to: Jid::new("bob@d").unwrap(),
            reason: Some("come in".into()),
            mediated: true,
        }
    );
    assert_eq!(
        ok("/invite --mediated r@c bob@d/res"),
        Command::Invite {
            room: r("r@c"),
            to: Jid::new("bob@d/res").unwrap(),
            reason: None,
            mediated: true,
        }
    );
    assert!(!matches!(
        ok("/invite r@c bob@d"),
        Command::Invite { mediated: true, .. }
    ));
    // A reason of several words must be quoted.
    assert_eq!(err("/invite r@c bob@d come in").0, 23);
    assert!(err("/invite r@c").1.contains("expected JID"));
    assert_eq!(ok("/invitations"), Command::Invitations);
    assert_eq!(ok("/accept 3"), Command::Accept { id: "3".into() });
    assert!(err("/accept").1.contains("expected ID"));
    assert_eq!(
        ok("/decline 3 not  now"),
        Command::Decline {
            id: "3".into(),
            reason: Some("not  now".into())
        }
    );
    assert_eq!(
        ok("/decline 3"),
        Command::Decline {
            id: "3".into(),
            reason: None
        }
    );
    assert_eq!(
        ok(r#"/bookmark r@c --autojoin --nick ali --password "p w""#),
        Command::Bookmark {
            room: Some(r("r@c")),
            autojoin: true,
            nick: Some("ali".into()),
            password: Some("p w".into()),
            name: None,
        }
    );
    assert_eq!(
        ok("/bookmark"),
        Command::Bookmark {
            room: None,
            autojoin: false,
            nick: None,
            password: None,
            name: None,
        }
    );
    assert!(err("/bookmark r@c --nick").1.contains("--nick expects N"));
    assert!(
        err("/bookmark r@c --frob")
            .1
            .contains("unknown option --frob")
    );
    assert_eq!(ok("/bookmarks"), Command::Bookmarks);
    assert_eq!(
        ok("/unbookmark r@c"),
        Command::Unbookmark { room: r("r@c") }
    );
    assert!(err("/unbookmark").1.contains("expected ROOM"));
}

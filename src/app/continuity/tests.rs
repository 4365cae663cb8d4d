use super::*;
use crate::app::fixtures::{self, occupant_in, room_message};
use crate::command::Command;
use crate::session::SessionEvent;
use tokio::sync::mpsc::UnboundedReceiver;

fn room() -> BareJid {
    BareJid::new("r@conference.localhost").unwrap()
}

fn app() -> (App, UnboundedReceiver<SessionCmd>) {
    App::for_tests("alice@localhost", 50)
}

/// The connection lost (the session reconnects in a second).
fn connection_lost(app: &mut App) {
    app.on_session(SessionEvent::Disconnected {
        reason: crate::session::SessionError::Closed,
        retry_in: std::time::Duration::from_secs(1),
    });
}

fn self_presence() -> SessionEvent {
    App::self_presence(&room(), "alice")
}

fn live(body: &str, sid: &str) -> SessionEvent {
    SessionEvent::Incoming(room_message(&room(), "bob", body).stanza_id(sid).incoming())
}

fn result(queryid: &str, id: &str, body: &str, from: &str) -> SessionEvent {
    SessionEvent::Incoming(Incoming::MamResult(MamResult {
        archive: Some(jid::Jid::new(from).unwrap()),
        queryid: queryid.into(),
        id: id.into(),
        time: None,
        message: Box::new(room_message(&room(), "bob", body).incoming()),
    }))
}

/// The MAM query the app asked the session for: (tag, queryid, after).
fn mam_query(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, Option<String>) {
    while let Ok(cmd) = rx.try_recv() {
        if let SessionCmd::Iq {
            payload, tag, set, ..
        } = cmd
            && payload.is("query", mam::MAM)
        {
            assert!(set);
            let after = payload
                .get_child("set", xmpp_parsers::ns::RSM)
                .and_then(|s| s.get_child("after", xmpp_parsers::ns::RSM))
                .map(|a| a.text());
            return (tag, payload.attr("queryid").unwrap().to_string(), after);
        }
    }
    panic!("no MAM query was sent")
}

fn fin(complete: bool, last: &str) -> Option<minidom::Element> {
    Some(
        format!("<fin xmlns='urn:xmpp:mam:2' complete='{complete}'><set xmlns='http://jabber.org/protocol/rsm'><last>{last}</last></set></fin>")
            .parse()
            .unwrap(),
    )
}

#[test]
fn rejoin_catches_up_page_by_page_without_duplicates() {
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.on_session(live("before", "s1"));
    // The room archives.
    app.catchup.mam_rooms.insert(room());
    // Connection lost and back: the rejoin starts a catch-up after s1.
    connection_lost(&mut app);
    let ev = app.on_session(self_presence());
    assert!(ev.iter().any(|e| e.to_json()["rejoined"] == true));
    let (tag, q1, after) = mam_query(&mut rx);
    assert_eq!(after.as_deref(), Some("s1"));
    // Someone else's queryid, or a result not from the room: ignored.
    assert!(
        app.on_session(result("other", "s2", "forged", "r@conference.localhost"))
            .is_empty()
    );
    assert!(
        app.on_session(result(&q1, "s2", "forged", "evil@localhost"))
            .is_empty()
    );
    // A duplicate of what we hold is dropped; new ones are delayed
    // messages.
    assert!(
        app.on_session(result(&q1, "s1", "before", "r@conference.localhost"))
            .is_empty()
    );
    let ev = app.on_session(result(&q1, "s2", "missed 1", "r@conference.localhost"));
    assert_eq!(ev[0].to_json()["delayed"], true);
    assert_eq!(ev[0].to_json()["body"], "missed 1");
    // Not complete: the next page, after the last id.
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(false, "s2")),
    });
    assert!(ev.is_empty(), "{ev:?}");
    let (tag, q2, after) = mam_query(&mut rx);
    assert_ne!(q1, q2);
    assert_eq!(after.as_deref(), Some("s2"));
    // A late result of the finished page is no longer ours.
    assert!(
        app.on_session(result(&q1, "s9", "late", "r@conference.localhost"))
            .is_empty()
    );
    app.on_session(result(&q2, "s3", "missed 2", "r@conference.localhost"));
    // The live copy of a message comes too: once only.
    assert!(app.on_session(live("missed 2", "s3")).is_empty());
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(true, "s3")),
    });
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].to_json()["event"], "mam");
    assert_eq!(ev[0].to_json()["count"], 2);
    let bodies: Vec<String> = app
        .store
        .room(&room())
        .unwrap()
        .messages
        .iter()
        .map(|m| m.body.clone())
        .collect();
    assert_eq!(bodies, ["before", "missed 1", "missed 2"]);
}

#[test]
fn an_unknown_stanza_id_falls_back_to_time() {
    let (mut app, mut rx) = catching_up();
    let (tag, _, _) = mam_query(&mut rx);
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new("item-not-found", None)),
    });
    assert!(ev.is_empty(), "{ev:?}");
    // Asked again with a start time and no <after/>.
    let (tag, _, after) = mam_query(&mut rx);
    assert_eq!(after, None);
    // Any other error is reported, naming the room.
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new("forbidden", Some("no".into()))),
    });
    assert_eq!(ev[0].to_json()["event"], "error");
    assert_eq!(ev[0].to_json()["room"], "r@conference.localhost");
}

fn archived_app() -> (App, UnboundedReceiver<SessionCmd>) {
    let mut h = crate::history::History::in_memory("alice@localhost").unwrap();
    h.append(&[crate::history::Record {
        conversation: room().to_string(),
        message: crate::store::Message {
            kind: Kind::Chat,
            seq: 0,
            id: None,
            stanza_id: Some("s1".into()),
            time: Utc::now(),
            nick: Some("bob".into()),
            body: "old".into(),
            own: false,
            private: false,
            delayed: false,
            archived: false,
            edited: false,
            meta: Default::default(),
        },
    }])
    .unwrap();
    App::for_tests_with("alice@localhost", 50, Some(h))
}

/// Joins a room we hold history of; answers the disco#info the app
/// asks first with `features`; returns the join's history request.
fn join_with_features(features: &str) -> (Vec<SessionCmd>, HistoryRequest) {
    let (mut app, mut rx) = archived_app();
    fixtures::join(&mut app, &room());
    let Ok(SessionCmd::Iq {
        payload, tag, set, ..
    }) = rx.try_recv()
    else {
        panic!("disco#info first")
    };
    assert!(payload.is("query", crate::protocol::ns::DISCO_INFO) && !set);
    assert!(rx.try_recv().is_err(), "no join before the answer");
    let info = format!("<query xmlns='http://jabber.org/protocol/disco#info'>{features}</query>");
    fixtures::iq_result(&mut app, tag, &info);
    let mut cmds = Vec::new();
    while let Ok(c) = rx.try_recv() {
        cmds.push(c);
    }
    let history = cmds
        .iter()
        .find_map(|c| match c {
            SessionCmd::Join { history, .. } => Some(history.clone()),
            _ => None,
        })
        .expect("the join");
    (cmds, history)
}

#[test]
fn a_room_that_archives_is_joined_without_muc_history() {
    let (cmds, history) = join_with_features(
        "<feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:mam:2'/>",
    );
    assert_eq!(history, HistoryRequest::MaxStanzas(0));
    // The session will rejoin it the same way.
    assert!(matches!(cmds[0], SessionCmd::CatchUpByMam { .. }));
    let (cmds, history) = join_with_features("<feature var='http://jabber.org/protocol/muc'/>");
    assert!(matches!(history, HistoryRequest::Since(_)), "{history:?}");
    assert_eq!(cmds.len(), 1);
}

#[test]
fn a_quiet_room_catches_up_from_when_we_entered_it() {
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.catchup.mam_rooms.insert(room());
    connection_lost(&mut app);
    app.on_session(self_presence());
    let (_, _, after) = mam_query(&mut rx);
    assert_eq!(after, None, "by time: nothing was said before");
}

#[test]
fn correct_needs_a_message_of_ours() {
    let (mut app, _rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    let exec = app.execute(
        Command::Correct {
            room: room(),
            text: "x".into(),
        },
        "/correct r@conference.localhost x",
    );
    let j = exec.events[0].to_json();
    assert_eq!(j["event"], "error");
    assert_eq!(j["condition"], "item-not-found");
    assert_eq!(j["command"], "/correct r@conference.localhost x");
}

fn drain(rx: &mut UnboundedReceiver<SessionCmd>) -> Vec<SessionCmd> {
    let mut cmds = Vec::new();
    while let Ok(c) = rx.try_recv() {
        cmds.push(c);
    }
    cmds
}

/// The tags of the room disco#info requests among `cmds` (XEP-0194's
/// privacy decision asks one on every join too).
fn disco_tags(cmds: &[SessionCmd]) -> Vec<Tag> {
    cmds.iter()
        .filter_map(|c| match c {
            SessionCmd::Iq { payload, tag, .. }
                if payload.is("query", crate::protocol::ns::DISCO_INFO) =>
            {
                Some(*tag)
            }
            _ => None,
        })
        .collect()
}

/// Answers every disco#info asked among `cmds` with `answer`; returns
/// what the app asks next.
fn answer_discos(
    app: &mut App,
    rx: &mut UnboundedReceiver<SessionCmd>,
    cmds: &[SessionCmd],
    answer: Result<Option<minidom::Element>, ErrorInfo>,
) -> Vec<SessionCmd> {
    let tags = disco_tags(cmds);
    assert!(!tags.is_empty(), "no disco#info was asked");
    for tag in tags {
        app.on_session(SessionEvent::IqResponse {
            tag,
            result: answer.clone(),
        });
    }
    drain(rx)
}

fn info(mam: bool) -> Result<Option<minidom::Element>, ErrorInfo> {
    let mam = if mam {
        "<feature var='urn:xmpp:mam:2'/>"
    } else {
        ""
    };
    Ok(Some(
        format!("<query xmlns='http://jabber.org/protocol/disco#info'><feature var='http://jabber.org/protocol/muc'/>{mam}</query>")
            .parse()
            .unwrap(),
    ))
}

fn join_history(cmds: &[SessionCmd]) -> Option<HistoryRequest> {
    cmds.iter().find_map(|c| match c {
        SessionCmd::Join { history, .. } => Some(history.clone()),
        _ => None,
    })
}

fn mam_flag(cmds: &[SessionCmd]) -> Option<bool> {
    cmds.iter().find_map(|c| match c {
        SessionCmd::CatchUpByMam { mam, .. } => Some(*mam),
        _ => None,
    })
}

fn self_left() -> SessionEvent {
    SessionEvent::Incoming(
        occupant_in(&room(), "alice")
            .unavailable()
            .codes(&[110])
            .incoming(),
    )
}

/// Finding 6: a room that did not exist (or did not archive) when one
/// join asked is asked again by the next join; a positive answer tells
/// the session, and so does a later negative one.
#[test]
fn each_join_asks_again_whether_the_room_archives() {
    let (mut app, mut rx) = archived_app();
    let part = |app: &mut App, rx: &mut UnboundedReceiver<SessionCmd>| {
        app.execute(
            Command::Part {
                room: room(),
                reason: None,
            },
            "/part r@conference.localhost",
        );
        app.on_session(self_left());
        drain(rx);
    };
    // First join: the room does not exist yet.
    fixtures::join(&mut app, &room());
    let asked = drain(&mut rx);
    assert_eq!(disco_tags(&asked).len(), 1, "disco#info before the join");
    let not_found = Err(ErrorInfo::new("item-not-found", None));
    let cmds = answer_discos(&mut app, &mut rx, &asked, not_found);
    assert!(matches!(
        join_history(&cmds),
        Some(HistoryRequest::Since(_))
    ));
    assert_eq!(mam_flag(&cmds), None);
    // Its join (the room is created) asks no second time about MAM (what
    // is asked now is XEP-0194's question: even a yes starts nothing).
    app.on_session(self_presence());
    let asked = drain(&mut rx);
    let cmds = answer_discos(&mut app, &mut rx, &asked, info(true));
    assert_eq!(mam_flag(&cmds), None, "{cmds:?}");
    part(&mut app, &mut rx);
    // The next join asks again: now the room archives.
    fixtures::join(&mut app, &room());
    let asked = drain(&mut rx);
    assert_eq!(disco_tags(&asked).len(), 1, "asked again");
    let cmds = answer_discos(&mut app, &mut rx, &asked, info(true));
    assert_eq!(mam_flag(&cmds), Some(true));
    assert_eq!(join_history(&cmds), Some(HistoryRequest::MaxStanzas(0)));
    app.on_session(self_presence());
    let (_, _, after) = mam_query(&mut rx);
    assert_eq!(after.as_deref(), Some("s1"), "after the archive's newest");
    part(&mut app, &mut rx);
    // And again: it no longer archives (say the server was wiped).
    fixtures::join(&mut app, &room());
    let asked = drain(&mut rx);
    assert_eq!(disco_tags(&asked).len(), 1, "asked a third time");
    let cmds = answer_discos(&mut app, &mut rx, &asked, info(false));
    assert_eq!(mam_flag(&cmds), Some(false), "the session forgets MAM");
    assert!(matches!(
        join_history(&cmds),
        Some(HistoryRequest::Since(_))
    ));
}

/// Finding 6, after a reconnection: a room whose check failed is asked
/// again when the session has rejoined it, and caught up from what we
/// held before the rejoin.
#[test]
fn a_rejoin_asks_again_and_catches_up_what_muc_history_missed() {
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    let asked = drain(&mut rx);
    let timeout = Err(ErrorInfo::new("remote-server-timeout", None));
    let cmds = answer_discos(&mut app, &mut rx, &asked, timeout);
    assert_eq!(mam_flag(&cmds), None);
    app.on_session(live("before", "s1"));
    connection_lost(&mut app);
    app.on_session(self_presence());
    // The MUC history of the rejoin arrives before the answer.
    app.on_session(live("from muc history", "s9"));
    let asked = drain(&mut rx);
    let cmds = answer_discos(&mut app, &mut rx, &asked, info(true));
    assert_eq!(mam_flag(&cmds), Some(true));
    let after = cmds.iter().find_map(|c| match c {
        SessionCmd::Iq { payload, .. } if payload.is("query", mam::MAM) => Some(
            payload
                .get_child("set", xmpp_parsers::ns::RSM)
                .and_then(|s| s.get_child("after", xmpp_parsers::ns::RSM))
                .map(|a| a.text()),
        ),
        _ => None,
    });
    assert_eq!(after, Some(Some("s1".into())), "from before the rejoin");
}

/// The query the app asked the session for: (tag, queryid, max).
fn query_max(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, u32) {
    for cmd in drain(rx) {
        if let SessionCmd::Iq { payload, tag, .. } = cmd
            && payload.is("query", mam::MAM)
        {
            let max = payload
                .get_child("set", xmpp_parsers::ns::RSM)
                .and_then(|s| s.get_child("max", xmpp_parsers::ns::RSM))
                .map(|m| m.text().parse().unwrap())
                .unwrap();
            return (tag, payload.attr("queryid").unwrap().to_string(), max);
        }
    }
    panic!("no MAM query was sent")
}

/// An app rejoining a room that archives, its first page asked.
fn catching_up() -> (App, UnboundedReceiver<SessionCmd>) {
    let (mut app, rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.on_session(live("before", "s1"));
    app.catchup.mam_rooms.insert(room());
    connection_lost(&mut app);
    app.on_session(self_presence());
    (app, rx)
}

const ROOM: &str = "r@conference.localhost";

/// Finding 5: no page limit; bigger pages asked for.
#[test]
fn catch_up_pages_until_complete_however_many_pages() {
    let (mut app, mut rx) = catching_up();
    const PAGES: usize = 150;
    let mut last = Vec::new();
    for page in 0..PAGES {
        let (tag, q, max) = query_max(&mut rx);
        assert_eq!(max, PAGE);
        assert_eq!(PAGE, 250);
        // The server gives 2 per page, whatever was asked.
        for i in 0..2 {
            let id = format!("p{page}-{i}");
            app.on_session(result(&q, &id, &format!("missed {id}"), ROOM));
        }
        last = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(fin(page == PAGES - 1, &format!("p{page}-1"))),
        });
    }
    assert_eq!(last.len(), 1, "{last:?}");
    let m = last[0].to_json();
    assert_eq!(m["event"], "mam");
    assert_eq!(m["count"], 2 * PAGES);
    assert_eq!(m["complete"], true);
    assert!(drain(&mut rx).is_empty(), "nothing more asked");
}

/// Finding 5: loop protection, said aloud.
#[test]
fn a_catch_up_that_goes_nowhere_stops_with_an_error_saying_how_far() {
    // (results of the first page, the first page's fin, second page's
    // results, its answer, what the error says)
    type Answer = Result<Option<minidom::Element>, ErrorInfo>;
    let cases: Vec<(usize, Answer, &str)> = vec![
        // The same <last/> again.
        (1, Ok(fin(false, "p0-0")), "sent before"),
        // An empty page that is not the end.
        (0, Ok(fin(false, "zz")), "empty page"),
        // No <last/>.
        (1, Ok(fin(false, "")), "without its last id"),
        // Not a <fin/> at all.
        (1, Ok(None), "not a <fin/>"),
        // An error from the archive.
        (1, Err(ErrorInfo::new("forbidden", Some("no".into()))), "no"),
    ];
    for (results, answer, says) in cases {
        let (mut app, mut rx) = catching_up();
        let (tag, q, _) = query_max(&mut rx);
        app.on_session(result(&q, "p0-0", "missed 0", ROOM));
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(fin(false, "p0-0")),
        });
        assert!(ev.is_empty(), "{ev:?}");
        let (tag, q, _) = query_max(&mut rx);
        for i in 0..results {
            app.on_session(result(&q, &format!("p1-{i}"), "missed 1", ROOM));
        }
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: answer,
        });
        assert_eq!(ev.len(), 2, "{says}: {ev:?}");
        let e = ev[0].to_json();
        assert_eq!(e["event"], "error", "{e}");
        assert_eq!(e["room"], ROOM);
        let text = e["text"].as_str().unwrap();
        assert!(text.contains(says), "{text}");
        let n = 1 + results.min(1);
        assert!(
            text.contains(&format!("stopped after {n} new messages")),
            "{text}"
        );
        assert!(text.contains("2 pages"), "{text}");
        let m = ev[1].to_json();
        assert_eq!(m["event"], "mam");
        assert_eq!(m["complete"], false);
        assert_eq!(m["count"], n);
        assert!(drain(&mut rx).is_empty(), "{says}: nothing more asked");
    }
}

/// One of our groupchat messages, as the session hands it back.
fn ours(id: &str, body: &str) -> xmpp_parsers::message::Message {
    let mut m = xmpp_parsers::message::Message::groupchat(Some(room().into()));
    m.id = Some(xmpp_parsers::message::Id(id.into()));
    m.bodies.insert(Default::default(), body.into());
    m
}

fn resent(rx: &mut UnboundedReceiver<SessionCmd>) -> Vec<Tag> {
    drain(rx)
        .into_iter()
        .filter_map(|c| match c {
            SessionCmd::Message { tag, room: r, .. } if r == Some(room()) => Some(tag),
            _ => None,
        })
        .collect()
}

#[test]
fn unconfirmed_messages_are_sent_again_only_when_the_archive_lacks_them() {
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.on_session(live("before", "s1"));
    app.catchup.mam_rooms.insert(room());
    connection_lost(&mut app);
    // The stream was not resumed: two of ours were never acknowledged.
    let ev = app.on_session(SessionEvent::Unconfirmed {
        room: room(),
        messages: vec![(901, ours("mine-1", "one")), (902, ours("mine-2", "two"))],
    });
    assert!(ev.is_empty(), "{ev:?}");
    app.on_session(self_presence());
    let (tag, q, _) = mam_query(&mut rx);
    // The archive has the first (the cut only took its ack and echo).
    let r = SessionEvent::Incoming(Incoming::MamResult(MamResult {
        archive: Some(jid::Jid::new("r@conference.localhost").unwrap()),
        queryid: q,
        id: "s2".into(),
        time: None,
        message: Box::new(
            room_message(&room(), "alice", "one")
                .id("mine-1")
                .incoming(),
        ),
    }));
    app.on_session(r);
    assert!(
        resent(&mut rx).is_empty(),
        "nothing before the catch-up ends"
    );
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(true, "s2")),
    });
    // Only the second goes out again, once, under its own tag.
    assert_eq!(resent(&mut rx), vec![902]);
    connection_lost(&mut app);
    app.on_session(self_presence());
    assert!(resent(&mut rx).is_empty());
}

#[test]
fn unconfirmed_messages_that_cannot_be_checked_are_reported_failed() {
    // A catch-up that stops short.
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.on_session(live("before", "s1"));
    app.catchup.mam_rooms.insert(room());
    connection_lost(&mut app);
    app.on_session(SessionEvent::Unconfirmed {
        room: room(),
        messages: vec![(903, ours("mine-3", "three"))],
    });
    app.on_session(self_presence());
    let (tag, _, _) = mam_query(&mut rx);
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new("service-unavailable", None)),
    });
    let errors: Vec<_> = ev
        .iter()
        .map(|e| e.to_json())
        .filter(|j| j["event"] == "error" && j["message-id"] == "mine-3")
        .collect();
    assert_eq!(errors.len(), 1, "{ev:?}");
    assert!(
        errors[0]["text"]
            .as_str()
            .unwrap()
            .contains("may not have arrived"),
        "{errors:?}"
    );
    assert!(resent(&mut rx).is_empty());

    // A room that keeps no archive: at once.
    let (mut app, mut rx) = self::app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    connection_lost(&mut app);
    let ev = app.on_session(SessionEvent::Unconfirmed {
        room: room(),
        messages: vec![(904, ours("mine-4", "four"))],
    });
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].to_json()["message-id"], "mine-4");
    assert!(resent(&mut rx).is_empty());
}

/// Rejoins after a lost connection; the catch-up's query: (tag, queryid,
/// after).
fn rejoin(app: &mut App, rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, Option<String>) {
    connection_lost(app);
    app.on_session(self_presence());
    mam_query(rx)
}

/// A catch-up that did not finish is resumed from where it started, not
/// after a live message that came while it ran (that one is newer than
/// what is still missing); once one completes, the next starts after the
/// newest line.
#[test]
fn an_unfinished_catch_up_resumes_where_it_started() {
    let (mut app, mut rx) = app();
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    app.on_session(live("before", "s1"));
    app.catchup.mam_rooms.insert(room());
    let (tag, q1, after) = rejoin(&mut app, &mut rx);
    assert_eq!(after.as_deref(), Some("s1"));
    app.on_session(result(&q1, "s2", "missed 1", ROOM));
    app.on_session(live("said now", "s9"));
    // The page's answer never comes: the connection is lost again.
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new("remote-server-timeout", None)),
    });
    let (tag, q2, after) = rejoin(&mut app, &mut rx);
    assert_eq!(after.as_deref(), Some("s1"), "not after s9");
    app.on_session(result(&q2, "s3", "missed 2", ROOM));
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(true, "s9")),
    });
    assert_eq!(ev.last().unwrap().to_json()["complete"], true, "{ev:?}");
    let (_, _, after) = rejoin(&mut app, &mut rx);
    // Finished: after the newest line held (s9 comes again, and is
    // recognised).
    assert_eq!(after.as_deref(), Some("s3"));
}

/// A run that ends during a catch-up: what came is archived as the app
/// ends (a catch-up's writes wait for its end, or for a thousand
/// messages), and the next run resumes where the catch-up started.
#[test]
fn a_catch_up_cut_short_by_the_end_of_the_run_resumes_in_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let open = || crate::history::History::open(&path, "alice@localhost").unwrap();
    {
        let (mut app, mut rx) = App::for_tests_with("alice@localhost", 50, Some(open()));
        fixtures::join(&mut app, &room());
        app.on_session(self_presence());
        app.on_session(live("before", "s1"));
        app.flush_history();
        app.catchup.mam_rooms.insert(room());
        let (_, q1, after) = rejoin(&mut app, &mut rx);
        assert_eq!(after.as_deref(), Some("s1"));
        app.on_session(result(&q1, "s2", "missed 1", ROOM));
        app.on_session(live("said now", "s9"));
        app.flush_history();
        let h = app.history.as_ref().unwrap();
        assert!(h.has_stanza_id(ROOM, "s1").unwrap());
        assert!(!h.has_stanza_id(ROOM, "s2").unwrap(), "written at the end");
    }
    let h = open();
    assert!(h.has_stanza_id(ROOM, "s2").unwrap());
    assert!(h.has_stanza_id(ROOM, "s9").unwrap());
    let (mut app, mut rx) = App::for_tests_with("alice@localhost", 50, Some(h));
    app.catchup.mam_rooms.insert(room());
    fixtures::join(&mut app, &room());
    app.on_session(self_presence());
    let (tag, q, after) = mam_query(&mut rx);
    assert_eq!(
        after.as_deref(),
        Some("s1"),
        "where the last run's catch-up started"
    );
    // What the last run held is not shown again; the rest is.
    assert!(
        app.on_session(result(&q, "s2", "missed 1", ROOM))
            .is_empty()
    );
    let ev = app.on_session(result(&q, "s3", "missed 2", ROOM));
    assert_eq!(ev[0].to_json()["body"], "missed 2");
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(true, "s9")),
    });
    app.flush_history();
    let h = app.history.as_ref().unwrap();
    assert!(
        h.has_stanza_id(ROOM, "s3").unwrap(),
        "written when it completed"
    );
    assert_eq!(h.mark(ROOM).unwrap(), None, "its start forgotten");
}

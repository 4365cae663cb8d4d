//! The account's catch-up without a network: where it starts, which
//! results count, the mark it leaves in the history.

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::history::History;
use crate::protocol::ChatMessage;
use crate::session::{SessionCmd, SessionEvent, Tag};
use crate::store::ArchiveMark;

fn online(history: Option<History>) -> (App, UnboundedReceiver<SessionCmd>) {
    let (mut app, mut rx) = App::for_tests_with("alice@localhost", 50, history);
    app.on_session(SessionEvent::Online {
        jid: "alice@localhost/a".parse().unwrap(),
        reconnect: false,
    });
    while rx.try_recv().is_ok() {}
    (app, rx)
}

/// The carbons request, then the account's query: (tag, queryid, the
/// query).
fn login_requests(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, minidom::Element) {
    let Ok(SessionCmd::Iq {
        to, payload, set, ..
    }) = rx.try_recv()
    else {
        panic!("the carbons request")
    };
    assert!(to.is_none() && set && payload.is("enable", "urn:xmpp:carbons:2"));
    let Ok(SessionCmd::Iq {
        to, payload, tag, ..
    }) = rx.try_recv()
    else {
        panic!("the account's query")
    };
    assert!(to.is_none(), "to our own account");
    assert!(payload.is("query", mam::MAM));
    let queryid = payload.attr("queryid").unwrap().to_string();
    (tag, queryid, payload)
}

fn result(queryid: &str, id: &str, from: Option<&str>, inner: ChatMessage) -> SessionEvent {
    SessionEvent::Incoming(Incoming::MamResult(MamResult {
        archive: from.map(|f| jid::Jid::new(f).unwrap()),
        queryid: queryid.into(),
        id: id.into(),
        time: Some(Utc::now()),
        message: Box::new(Incoming::Chat(inner)),
    }))
}

fn from_bob(body: &str) -> ChatMessage {
    let mut c = ChatMessage::new("bob@localhost/x".parse().unwrap(), body);
    c.to = Some("alice@localhost".parse().unwrap());
    c
}

fn fin(complete: bool, last: &str) -> Option<minidom::Element> {
    Some(
        format!("<fin xmlns='urn:xmpp:mam:2' complete='{complete}'><set xmlns='http://jabber.org/protocol/rsm'><last>{last}</last></set></fin>")
            .parse()
            .unwrap(),
    )
}

#[test]
fn a_first_login_goes_back_a_bounded_time_and_only_our_results_count() {
    let (mut app, mut rx) = online(Some(History::in_memory("alice@localhost").unwrap()));
    app.account_online();
    let (tag, q, payload) = login_requests(&mut rx);
    let start = payload
        .get_child("x", mam::DATA_FORMS)
        .and_then(|x| x.children().find(|f| f.attr("var") == Some("start")))
        .map(|f| f.get_child("value", mam::DATA_FORMS).unwrap().text())
        .expect("a start time");
    let start = chrono::DateTime::parse_from_rfc3339(&start).unwrap();
    let days = (Utc::now() - start.with_timezone(&Utc)).num_days();
    assert_eq!(days, FIRST_CATCHUP_DAYS, "{start}");
    // Another queryid, another sender, a full JID of ours: ignored.
    for ev in [
        result("other", "S1", None, from_bob("forged")),
        result(&q, "S1", Some("bob@localhost"), from_bob("forged")),
        result(&q, "S1", Some("alice@localhost/b"), from_bob("forged")),
    ] {
        assert!(app.on_session(ev).is_empty());
    }
    // Ours (no from, or our bare JID): new messages, delayed.
    let ev = app.on_session(result(&q, "S1", None, from_bob("one")));
    assert_eq!(ev[0].to_json()["delayed"], true);
    let ev = app.on_session(result(&q, "S2", Some("alice@localhost"), from_bob("two")));
    assert_eq!(ev[0].to_json()["body"], "two");
    // While it runs the mark is not saved (a live message's newer id
    // would skip the rest).
    // (The first lines from bob open his window: its only event.)
    let flushed = app.flush_history();
    assert!(
        flushed
            .iter()
            .all(|e| e.to_json()["event"] == "window-opened"),
        "{flushed:?}"
    );
    let h = app.history.as_ref().unwrap();
    assert_eq!(h.mark("alice@localhost").unwrap(), None);
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(fin(true, "S2")),
    });
    let done = ev.last().unwrap().to_json();
    assert_eq!(done["event"], "mam-account");
    assert_eq!(
        (done["count"].clone(), done["complete"].clone()),
        (2.into(), true.into())
    );
    app.flush_history();
    let h = app.history.as_ref().unwrap();
    assert_eq!(h.mark("alice@localhost").unwrap().unwrap().stanza_id, "S2");
    // Next time (a reconnection): after the mark.
    app.account_online();
    let (_, _, payload) = login_requests(&mut rx);
    let after = payload
        .get_child("set", xmpp_parsers::ns::RSM)
        .and_then(|s| s.get_child("after", xmpp_parsers::ns::RSM))
        .map(|a| a.text());
    assert_eq!(after.as_deref(), Some("S2"));
}

#[test]
fn a_stopped_catch_up_puts_the_mark_back_to_its_last_result() {
    let mut history = History::in_memory("alice@localhost").unwrap();
    let t = Utc::now() - chrono::Duration::hours(1);
    history
        .set_mark(
            "alice@localhost",
            &ArchiveMark {
                stanza_id: "S0".into(),
                time: t,
            },
        )
        .unwrap();
    let (mut app, mut rx) = online(Some(history));
    app.account_online();
    let (tag, q, _) = login_requests(&mut rx);
    app.on_session(result(&q, "S1", None, from_bob("one")));
    // A live message with a newer archive id meanwhile.
    let mut live = from_bob("live");
    live.stanza_ids
        .push((BareJid::new("alice@localhost").unwrap(), "S9".into()));
    app.on_session(SessionEvent::Incoming(Incoming::Chat(live)));
    assert_eq!(app.store.account_mark.as_ref().unwrap().stanza_id, "S9");
    // The archive fails: the next catch-up starts after S1, not S9.
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(crate::protocol::ErrorInfo::new(
            "internal-server-error",
            None,
        )),
    });
    let names: Vec<_> = ev.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["error", "mam-account"]);
    assert_eq!(app.store.account_mark.as_ref().unwrap().stanza_id, "S1");
}

#[test]
fn what_arrives_before_the_catch_up_starts_does_not_move_where_it_starts() {
    let mut history = History::in_memory("alice@localhost").unwrap();
    let t = Utc::now() - chrono::Duration::hours(1);
    let s0 = ArchiveMark {
        stanza_id: "S0".into(),
        time: t,
    };
    history.set_mark("alice@localhost", &s0).unwrap();
    let (mut app, mut rx) = online(Some(history));
    // Our server's offline storage delivers at once, with its archive id,
    // before the loop asks for the catch-up.
    let mut offline = from_bob("while all were away");
    offline
        .stanza_ids
        .push((BareJid::new("alice@localhost").unwrap(), "S9".into()));
    app.on_session(SessionEvent::Incoming(Incoming::Chat(offline)));
    app.flush_history();
    let h = app.history.as_ref().unwrap();
    let saved = h.mark("alice@localhost").unwrap().unwrap();
    assert_eq!(saved.stanza_id, s0.stanza_id, "not saved yet");
    app.account_online();
    let (_, _, payload) = login_requests(&mut rx);
    let after = payload
        .get_child("set", xmpp_parsers::ns::RSM)
        .and_then(|s| s.get_child("after", xmpp_parsers::ns::RSM))
        .map(|a| a.text());
    assert_eq!(after.as_deref(), Some("S0"), "from the mark at login");
}

use super::*;

use crate::app::fixtures::{iq_result as answer, next_iq};
use crate::command::Command;
use crate::protocol::ns;
use crate::session::SessionEvent;
use tokio::sync::mpsc::UnboundedReceiver;

fn app() -> (App, UnboundedReceiver<SessionCmd>) {
    App::for_tests("alice@example.org", 0)
}

/// The next IQ the app sends: (tag, to, payload).
fn iq(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, Element) {
    let iq = next_iq(rx);
    (
        iq.tag,
        iq.to.map(|t| t.to_string()).unwrap_or_default(),
        iq.payload,
    )
}

#[test]
fn discovers_the_muc_service_once_and_pages_with_rsm() {
    let (mut app, mut rx) = app();
    let exec = app.execute(Command::Rooms { service: None }, "/rooms");
    let tag = exec.pending.unwrap();
    let (t, to, q) = iq(&mut rx);
    assert_eq!((t, to.as_str()), (tag, "example.org"));
    assert!(q.is("query", proto::DISCO_ITEMS));
    assert!(
        answer(
            &mut app,
            tag,
            "<query xmlns='http://jabber.org/protocol/disco#items'>
            <item jid='upload.example.org'/><item jid='chat.example.org'/></query>"
        )
        .is_empty()
    );
    // The first item is no MUC service, the second is.
    let (t, to, _) = iq(&mut rx);
    assert_eq!(to, "upload.example.org");
    answer(
        &mut app,
        t,
        "<query xmlns='http://jabber.org/protocol/disco#info'>
            <identity category='store' type='file'/></query>",
    );
    let (t, to, _) = iq(&mut rx);
    assert_eq!(to, "chat.example.org");
    answer(
        &mut app,
        t,
        "<query xmlns='http://jabber.org/protocol/disco#info'>
            <identity category='conference' type='text'/>
            <feature var='http://jabber.org/protocol/muc'/></query>",
    );
    // Page 1 of 2.
    let (t, to, q) = iq(&mut rx);
    assert_eq!(to, "chat.example.org");
    let set = q.get_child("set", xmpp_parsers::ns::RSM).unwrap();
    assert_eq!(
        set.get_child("max", xmpp_parsers::ns::RSM).unwrap().text(),
        "100"
    );
    let items: String = (0..100)
        .map(|i| format!("<item jid='r{i:03}@chat.example.org'/>"))
        .collect();
    let ev = answer(&mut app, t, &format!("<query xmlns='http://jabber.org/protocol/disco#items'>{items}
            <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>r000@chat.example.org</first>
            <last>r099@chat.example.org</last><count>101</count></set></query>"));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].to_json()["complete"], false);
    assert_eq!(ev[0].to_json()["page"], 0);
    let (t, _, q) = iq(&mut rx);
    let set = q.get_child("set", xmpp_parsers::ns::RSM).unwrap();
    assert_eq!(
        set.get_child("after", xmpp_parsers::ns::RSM)
            .unwrap()
            .text(),
        "r099@chat.example.org"
    );
    let ev = answer(&mut app, t, "<query xmlns='http://jabber.org/protocol/disco#items'>
            <item jid='r100@chat.example.org' name='Last'/>
            <set xmlns='http://jabber.org/protocol/rsm'><first index='100'>r100@chat.example.org</first>
            <last>r100@chat.example.org</last><count>101</count></set></query>");
    assert_eq!(ev[0].to_json()["complete"], true);
    assert_eq!(ev[0].to_json()["rooms"][0]["name"], "Last");
    assert_eq!(
        ev[1],
        Event::Ok {
            command: "/rooms".into()
        }
    );
    assert!(!app.is_pending(tag));

    // Remembered: the next /rooms asks the service at once.
    app.execute(Command::Rooms { service: None }, "/rooms");
    let (_, to, q) = iq(&mut rx);
    assert_eq!(to, "chat.example.org");
    assert!(q.is("query", proto::DISCO_ITEMS));
}

fn error(app: &mut App, tag: Tag, condition: &str) -> Vec<Event> {
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new(condition, Some("no RSM here".into()))),
    })
}

#[test]
fn a_service_refusing_rsm_is_asked_once_without_it() {
    let (mut app, mut rx) = app();
    let service = Jid::new("old.example.org").unwrap();
    let exec = app.execute(
        Command::Rooms {
            service: Some(service.clone()),
        },
        "/rooms old.example.org",
    );
    let tag = exec.pending.unwrap();
    let (_, to, q) = iq(&mut rx);
    assert_eq!(to, "old.example.org");
    assert!(q.get_child("set", xmpp_parsers::ns::RSM).is_some());
    assert!(error(&mut app, tag, "feature-not-implemented").is_empty());
    // Again, without <set/>: the whole list is the one complete page.
    let (t, to, q) = iq(&mut rx);
    assert_eq!((t, to.as_str()), (tag, "old.example.org"));
    assert!(q.is("query", proto::DISCO_ITEMS));
    assert!(q.get_child("set", xmpp_parsers::ns::RSM).is_none());
    let ev = answer(
        &mut app,
        t,
        "<query xmlns='http://jabber.org/protocol/disco#items'>
            <item jid='a@old.example.org'/><item jid='b@old.example.org' name='B'/></query>",
    );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "room-list");
    assert_eq!(j["page"], 0);
    assert_eq!(j["complete"], true);
    assert_eq!(j["rooms"].as_array().unwrap().len(), 2);
    assert_eq!(ev[1].to_json()["event"], "ok");
    assert_eq!(ev.len(), 2);
    assert!(!app.is_pending(tag));

    // Only once: an error of the retry is the command's error.
    let exec = app.execute(
        Command::Rooms {
            service: Some(service.clone()),
        },
        "/rooms old.example.org",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    error(&mut app, tag, "bad-request");
    let _ = iq(&mut rx);
    let ev = error(&mut app, tag, "bad-request");
    assert_eq!(ev[0].to_json()["event"], "error");
    assert_eq!(ev[0].to_json()["condition"], "bad-request");
    assert!(rx.try_recv().is_err(), "no third attempt");
    assert!(!app.is_pending(tag));

    // Other errors are not about RSM: reported at once.
    let exec = app.execute(
        Command::Rooms {
            service: Some(service.clone()),
        },
        "/rooms old.example.org",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    let ev = error(&mut app, tag, "item-not-found");
    assert_eq!(ev[0].to_json()["condition"], "item-not-found");
    assert!(rx.try_recv().is_err());

    // /search falls back the same way, then looks up descriptions.
    let exec = app.execute(
        Command::Search {
            query: "b".into(),
            service: Some(service),
        },
        "/search b old.example.org",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    assert!(error(&mut app, tag, "feature-not-implemented").is_empty());
    let (t, _, q) = iq(&mut rx);
    assert!(q.get_child("set", xmpp_parsers::ns::RSM).is_none());
    assert!(
        answer(
            &mut app,
            t,
            "<query xmlns='http://jabber.org/protocol/disco#items'>
            <item jid='b@old.example.org'/><item jid='x@old.example.org'/></query>",
        )
        .is_empty()
    );
    let (t, to, q) = iq(&mut rx);
    assert_eq!(to, "x@old.example.org");
    assert!(q.is("query", ns::DISCO_INFO));
    let ev = answer(
        &mut app,
        t,
        "<query xmlns='http://jabber.org/protocol/disco#info'>
            <identity category='conference' type='text' name='X'/></query>",
    );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "room-search");
    assert_eq!(j["via"], "disco");
    assert_eq!(j["rooms"][0]["jid"], "b@old.example.org");
    assert_eq!(j["rooms"].as_array().unwrap().len(), 1);
    assert_eq!(j["described"], 1);
    assert_eq!(ev[1].to_json()["event"], "ok");
}

#[test]
fn search_uses_the_channel_search_service_and_pages() {
    let (mut app, mut rx) = app();
    app.set_search_service(Some(Jid::new("api@search.example").unwrap()));
    let exec = app.execute(
        Command::Search {
            query: "xmpp".into(),
            service: None,
        },
        "/search xmpp",
    );
    let tag = exec.pending.unwrap();
    let (t, to, q) = iq(&mut rx);
    assert_eq!((t, to.as_str()), (tag, "api@search.example"));
    assert!(q.is("search", channel_search::SEARCH));
    let set = q.get_child("set", xmpp_parsers::ns::RSM).unwrap();
    assert_eq!(
        set.get_child("max", xmpp_parsers::ns::RSM).unwrap().text(),
        "100"
    );
    assert!(set.get_child("after", xmpp_parsers::ns::RSM).is_none());
    let ev = answer(
            &mut app,
            t,
            "<result xmlns='urn:xmpp:channel-search:0:search'>
            <item address='commteam@muc.xmpp.org'><name>commteam</name><nusers>10</nusers><is-open/></item>
            <item address='xsf@muc.xmpp.org'><name>XSF</name></item>
            <set xmlns='http://jabber.org/protocol/rsm'><first>o1</first><last>o2</last><count>3</count></set>
            </result>",
        );
    assert!(ev.is_empty(), "{ev:?}");
    let (t, to, q) = iq(&mut rx);
    assert_eq!(to, "api@search.example");
    let set = q.get_child("set", xmpp_parsers::ns::RSM).unwrap();
    assert_eq!(
        set.get_child("after", xmpp_parsers::ns::RSM)
            .unwrap()
            .text(),
        "o2"
    );
    let ev = answer(
            &mut app,
            t,
            "<result xmlns='urn:xmpp:channel-search:0:search'>
            <item address='xsf@muc.xmpp.org'><name>XSF</name></item>
            <item address='operators@muc.xmpp.org'><name>XMPP Service Operators</name>
            <description>Discussion venue</description><nusers>43</nusers></item>
            <set xmlns='http://jabber.org/protocol/rsm'><first>o3</first><last>o4</last><count>3</count></set>
            </result>",
        );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "room-search");
    assert_eq!(j["via"], "xep-0433");
    assert_eq!(j["service"], "api@search.example");
    assert_eq!(j["query"], "xmpp");
    let jids: Vec<&str> = j["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["jid"].as_str().unwrap())
        .collect();
    assert_eq!(
        jids,
        [
            "commteam@muc.xmpp.org",
            "xsf@muc.xmpp.org",
            "operators@muc.xmpp.org"
        ]
    );
    assert_eq!(j["rooms"][2]["occupants"], 43);
    assert_eq!(j["rooms"][2]["description"], "Discussion venue");
    assert_eq!(ev[1].to_json()["event"], "ok");
    assert!(rx.try_recv().is_err());

    // A SERVICE given: the MUC service's list, as without a search service.
    app.execute(
        Command::Search {
            query: "xmpp".into(),
            service: Some(Jid::new("chat.example.org").unwrap()),
        },
        "/search xmpp chat.example.org",
    );
    let (_, to, q) = iq(&mut rx);
    assert_eq!(to, "chat.example.org");
    assert!(q.is("query", proto::DISCO_ITEMS));

    // The service's error is the command's error.
    let exec = app.execute(
        Command::Search {
            query: "x".into(),
            service: None,
        },
        "/search x",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new(
            "bad-request",
            Some("Search terms must have at least three characters.".into()),
        )),
    });
    let j = ev[0].to_json();
    assert_eq!(j["event"], "error");
    assert_eq!(j["command"], "/search x");
    assert_eq!(j["condition"], "bad-request");
    assert_eq!(
        j["text"],
        "Search terms must have at least three characters."
    );
    assert!(!app.is_pending(tag));
}

#[test]
fn no_muc_service_is_an_error() {
    let (mut app, mut rx) = app();
    let exec = app.execute(
        Command::Info {
            room: BareJid::new("r@c").unwrap(),
        },
        "/info r@c",
    );
    let tag = exec.pending.unwrap();
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new("item-not-found", None)),
    });
    assert_eq!(ev[0].to_json()["condition"], "item-not-found");
    let _ = iq(&mut rx);

    let exec = app.execute(
        Command::Search {
            query: "x".into(),
            service: None,
        },
        "/search x",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    let ev = answer(
        &mut app,
        tag,
        "<query xmlns='http://jabber.org/protocol/disco#items'/>",
    );
    let j = ev[0].to_json();
    assert_eq!(j["condition"], "item-not-found");
    assert!(
        j["text"]
            .as_str()
            .unwrap()
            .contains("no multi-user chat service"),
        "{j}"
    );
}

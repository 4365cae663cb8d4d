//! Issue 8: `/join ROOM --focus` / `--focus-http URL` against the testbed
//! Jitsi focus (`confab_testbed::focus`, run in-process as components of
//! the test Prosody), over XMPP and over HTTP.

use serde_json::Value;
use tokio::net::TcpListener;

use confab_testbed::component::ComponentStream;
use confab_testbed::focus::{FocusOptions, serve};

use crate::common::*;

/// The visitor node the redirecting focus sends everyone to, and its MUC.
const VNODE: &str = "v1";
const VISITOR_MUC: &str = "conference.v1.localhost";

/// The focuses of one test server (each its own component JID).
fn focuses() -> Vec<FocusOptions> {
    vec![
        // Ready at once, with properties.
        FocusOptions {
            properties: vec![
                ("sipGatewayEnabled".into(), "true".into()),
                ("authentication".into(), "false".into()),
            ],
            ..FocusOptions::new("focus.localhost")
        },
        // ready='false' twice first.
        FocusOptions {
            not_ready: 2,
            ..FocusOptions::new("slow.localhost")
        },
        // Everyone to the visitor node.
        FocusOptions {
            vnode: Some(VNODE.into()),
            ..FocusOptions::new("visitors.localhost")
        },
        // Only users of another domain may create rooms.
        FocusOptions {
            auth_domains: Some(vec!["staff.localhost".into()]),
            ..FocusOptions::new("strict.localhost")
        },
    ]
}

/// A Prosody with alice, the visitor MUC and the focuses running; the
/// focuses' HTTP base URLs by component JID.
async fn setup() -> (Prosody, Vec<(String, String)>) {
    let all = focuses();
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .muc_domain(VISITOR_MUC);
    for f in &all {
        opts = opts.component(f.jid.clone(), "");
    }
    let server = tokio::task::block_in_place(|| {
        Prosody::start(opts).unwrap_or_else(|e| panic!("starting Prosody: {e}"))
    });
    let mut urls = Vec::new();
    for f in all {
        let comp = attach(&server, &f.jid, "the focus connects").await;
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push((
            f.jid.clone(),
            format!("http://127.0.0.1:{}", http.local_addr().unwrap().port()),
        ));
        tokio::spawn(serve(comp, Some(http), f));
    }
    (server, urls)
}

fn url<'a>(urls: &'a [(String, String)], jid: &str) -> &'a str {
    &urls.iter().find(|(j, _)| j == jid).unwrap().1
}

/// How a case asks the focus.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Xmpp,
    Http,
}

fn focus_option(form: Form, urls: &[(String, String)], jid: &str) -> String {
    match form {
        Form::Xmpp if jid == "focus.localhost" => "--focus".to_string(),
        Form::Xmpp => format!("--focus {jid}"),
        Form::Http => format!("--focus-http {}", url(urls, jid)),
    }
}

fn is_event(v: &Value, name: &str, room: &str) -> bool {
    v["event"] == name && v["room"] == room
}

fn all_cases(form: Form, server: &Prosody, urls: &[(String, String)]) {
    let tag = if form == Form::Xmpp { "x" } else { "h" };
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(server, "alice", home.path(), &["--keep-going"]);
    alice.connected();

    // Ready at once: conference-ready, then the join; the focus is already
    // in the room as its owner; the properties are kept and shown.
    let room = format!("{tag}ready@conference.localhost");
    let line = format!(
        "/join {room} {} --prop rtcstatsEnabled=true",
        focus_option(form, urls, "focus.localhost")
    );
    alice.ok(&line);
    let ready = alice.event("conference-ready", |v| {
        is_event(v, "conference-ready", &room)
    });
    assert_eq!(ready["focus"], "focus@focus.localhost/focus", "{ready}");
    assert_eq!(ready["vnode"], Value::Null);
    assert_eq!(ready["properties"]["sipGatewayEnabled"], "true");
    assert_eq!(ready["properties"]["authentication"], "false");
    let focus = alice
        .find(|v| is_event(v, "occupant", &room) && v["nick"] == "focus")
        .unwrap_or_else(|| panic!("the focus is in {room}"));
    assert_eq!(focus["affiliation"], "owner", "{focus}");
    // Known by its real JID (the room is non-anonymous) as the trusted
    // focus; nobody else is.
    assert_eq!(focus["jid"], "focus@focus.localhost/focus", "{focus}");
    assert_eq!(focus["focus"], true, "{focus}");
    let me = alice
        .find(|v| is_event(v, "occupant", &room) && v["self"] == true)
        .unwrap();
    assert!(me.get("focus").is_none(), "{me}");
    assert!(alice.saw(|v| is_event(v, "joined", &room)), "joined {room}");
    // The installation's machine-uid (sent with the request) is kept.
    let uid = std::fs::read_to_string(home.path().join("data/confab/machine-uid"))
        .expect("the machine-uid file");
    assert_eq!(uid.trim().len(), 32, "{uid}");
    // The conference-ready event came before the join.
    let pos = |pred: &dyn Fn(&Value) -> bool| alice.events.iter().position(pred).unwrap();
    assert!(
        pos(&|v| is_event(v, "conference-ready", &room)) < pos(&|v| is_event(v, "joined", &room))
    );
    alice.ok(&format!("/info {room}"));
    let info = alice.event("room-info", |v| is_event(v, "room-info", &room));
    assert_eq!(
        info["conference"]["properties"]["sipGatewayEnabled"], "true",
        "{info}"
    );
    assert_eq!(info["conference"]["focus"], "focus@focus.localhost/focus");

    // Ready after two ready='false' answers: the user is told each time.
    let room = format!("{tag}slow@conference.localhost");
    alice.ok(&format!(
        "/join {room} {}",
        focus_option(form, urls, "slow.localhost")
    ));
    let waits: Vec<&Value> = alice
        .events
        .iter()
        .filter(|v| is_event(v, "conference-waiting", &room))
        .collect();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert_eq!(waits[0]["attempt"], 2);
    assert_eq!(waits[1]["attempt"], 3);
    assert_eq!(waits[1]["retry_in"], 1.0);
    assert!(alice.saw(|v| is_event(v, "conference-ready", &room)));
    assert!(alice.saw(|v| is_event(v, "joined", &room)));

    // A vnode redirect: the join happens on the visitor node's MUC.
    let room = format!("{tag}visit@conference.localhost");
    let visitor_room = format!("{tag}visit@{VISITOR_MUC}");
    alice.ok(&format!(
        "/join {room} {}",
        focus_option(form, urls, "visitors.localhost")
    ));
    let ready = alice.event("conference-ready", |v| {
        is_event(v, "conference-ready", &visitor_room)
    });
    assert_eq!(ready["vnode"], VNODE);
    assert!(alice.saw(|v| is_event(v, "joined", &visitor_room)));
    assert!(!alice.saw(|v| is_event(v, "joined", &room)));
    let focus = alice
        .find(|v| is_event(v, "occupant", &visitor_room) && v["nick"] == "focus")
        .expect("the focus is in the visitor room");
    assert_eq!(focus["affiliation"], "owner");
    assert_eq!(focus["focus"], true, "{focus}");

    // not-authorized: a room that does not exist yet, for a user the
    // focus does not count as authenticated (and HTTP never is).
    let room = format!("{tag}closed@conference.localhost");
    let e = alice.run(&format!(
        "/join {room} {}",
        focus_option(form, urls, "strict.localhost")
    ));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "not-authorized", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("refused the conference request")
    );
    assert!(!alice.saw(|v| is_event(v, "joined", &room)));

    // bad-request: a room the focus does not serve.
    let room = format!("{tag}bad@elsewhere.localhost");
    let e = alice.run(&format!(
        "/join {room} {}",
        focus_option(form, urls, "focus.localhost")
    ));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "bad-request", "{e}");
    assert_eq!(alice.finish(), 1, "the refused joins failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conference_requests_over_xmpp() {
    let (server, urls) = setup().await;
    tokio::task::block_in_place(|| all_cases(Form::Xmpp, &server, &urls));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conference_requests_over_http() {
    let (server, urls) = setup().await;
    tokio::task::block_in_place(|| all_cases(Form::Http, &server, &urls));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_failures_are_clear_errors() {
    // Not a focus: a server answering 500, then one answering non-JSON.
    let (server, _) = setup().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let answers = [
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>",
        ];
        for answer in answers {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            // Headers and the small JSON body.
            while !got.ends_with(b"}") {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(answer.as_bytes()).await.unwrap();
            s.shutdown().await.unwrap();
        }
    });
    tokio::task::block_in_place(|| {
        let home = tempfile::tempdir().unwrap();
        let mut alice = Client::start_in(&server, "alice", home.path(), &["--keep-going"]);
        alice.connected();
        let e = alice.run(&format!(
            "/join e1@conference.localhost --focus-http http://127.0.0.1:{port}"
        ));
        assert_eq!(e["event"], "error", "{e}");
        assert!(
            e["text"].as_str().unwrap().contains("HTTP 500: oops"),
            "{e}"
        );
        let e = alice.run(&format!(
            "/join e2@conference.localhost --focus-http http://127.0.0.1:{port}/"
        ));
        assert_eq!(e["event"], "error", "{e}");
        assert!(e["text"].as_str().unwrap().contains("bad JSON"), "{e}");
        // Nobody listening: a clear error too.
        let e = alice.run("/join e3@conference.localhost --focus-http http://127.0.0.1:1");
        assert_eq!(e["event"], "error", "{e}");
        assert_eq!(e["condition"], "remote-server-not-found", "{e}");
        assert_eq!(alice.finish(), 1, "the refused joins failed");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_joins_through_the_focus_and_shows_its_properties() {
    let (server, _) = setup().await;
    tokio::task::block_in_place(|| {
        let home = tempfile::tempdir().unwrap();
        let tmux = Tmux::start(&server, "alice", home.path(), 110, 30);
        let room = "tui@conference.localhost";
        tmux.send(&[&format!("/join {room} --focus --prop a=b"), "Enter"]);
        let s = tmux.wait_for("the focus in the room", |s| {
            s.contains("focus") && s.contains("2 people")
        });
        assert!(s.contains("tui"), "{s}");
        tmux.send(&[&format!("/info {room}"), "Enter"]);
        let s = tmux.wait_for("the conference properties", |s| {
            s.contains("sipGatewayEnabled=true")
        });
        assert!(s.contains("focus@focus.localhost/focus"), "{s}");
        tmux.send(&["Escape"]);
        // (Keys typed right after Esc would read as Alt-keys.)
        tmux.wait_for("the info closed", |s| !s.contains("sipGatewayEnabled"));
        // The participant list marks the trusted focus.
        let s = tmux.wait_for("the focus marked", |s| s.contains("focus (focus)"));
        assert!(s.contains("~"), "{s}");
        tmux.send(&["/quit", "Enter"]);
        tmux.wait_exit();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_form_over_https() {
    // The focus serves HTTPS with the test server's certificate (for
    // `localhost`, from the test CA confab trusts with --ca-file).
    let server = tokio::task::block_in_place(|| prosody_with(&["alice"]));
    let opts = FocusOptions {
        tls: Some((
            server.dir().join("certs/localhost.crt"),
            server.dir().join("certs/localhost.key"),
        )),
        ..FocusOptions::new(DEFAULT_COMPONENT)
    };
    let comp = attach(&server, DEFAULT_COMPONENT, "the focus connects").await;
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = http.local_addr().unwrap().port();
    tokio::spawn(serve(comp, Some(http), opts));
    tokio::task::block_in_place(|| {
        let mut alice = Client::online(&server, "alice");
        let room = "secure@conference.localhost";
        alice.ok(&format!(
            "/join {room} --focus-http https://localhost:{port}/"
        ));
        let ready = alice.event("conference-ready", |v| {
            is_event(v, "conference-ready", room)
        });
        assert_eq!(ready["focus"], format!("focus@{DEFAULT_COMPONENT}/focus"));
        // The certificate names localhost, not 127.0.0.1: refused.
        let e = alice.run(&format!(
            "/join other@conference.localhost --focus-http https://127.0.0.1:{port}/"
        ));
        assert_eq!(e["event"], "error", "{e}");
        assert_eq!(e["condition"], "remote-server-not-found", "{e}");
        assert_eq!(alice.finish(), 1);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_focus_not_at_focus_domain_is_found_by_disco() {
    // No focus.localhost here: `--focus` finds jicofo.localhost by its
    // disco#info (the focus namespace) among the server's services.
    let opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .component("jicofo.localhost", "");
    let server = tokio::task::block_in_place(|| Prosody::start(opts).unwrap());
    let comp = attach(&server, "jicofo.localhost", "the focus connects").await;
    tokio::spawn(serve(comp, None, FocusOptions::new("jicofo.localhost")));
    tokio::task::block_in_place(|| {
        let mut alice = Client::online(&server, "alice");
        let room = "found@conference.localhost";
        alice.ok(&format!("/join {room} --focus"));
        let ready = alice.event("conference-ready", |v| {
            is_event(v, "conference-ready", room)
        });
        assert_eq!(ready["focus"], "focus@jicofo.localhost/focus");
        assert_eq!(alice.finish(), 0);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnection_asks_the_focus_again_before_the_rejoin() {
    // The server restarts: rooms and the focus are gone. Alice does not
    // simply rejoin (she would create the room herself, as its owner): she
    // asks the focus again (retrying while it is not back yet), it sets the
    // room up again, and only then she rejoins.
    let opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .component("focus.localhost", "");
    let mut server = tokio::task::block_in_place(|| Prosody::start(opts).unwrap());
    let start_focus = |server: &Prosody| {
        let port = server.component_port();
        let secret = server.component_secret().to_string();
        async move {
            let comp = ComponentStream::connect(port, "focus.localhost", &secret)
                .await
                .expect("the focus connects");
            tokio::spawn(serve(comp, None, FocusOptions::new("focus.localhost")));
        }
    };
    start_focus(&server).await;
    let room = "again@conference.localhost";
    let mut alice = tokio::task::block_in_place(|| {
        let mut alice = Client::online(&server, "alice");
        alice.ok(&format!("/join {room} --focus"));
        alice.event("the focus", |v| {
            is_event(v, "occupant", room) && v["focus"] == true
        });
        server.stop();
        alice.expect("a reconnection attempt", |v| {
            v["event"] == "reconnecting" && v["attempt"] == 2
        });
        server.restart().expect("prosody restarts");
        alice
    });
    // The focus comes back a little after the server.
    start_focus(&server).await;
    tokio::task::block_in_place(|| {
        let restart_at = alice.events.len();
        let ready = alice.expect("the focus asked again", |v| {
            is_event(v, "conference-ready", room)
        });
        assert_eq!(ready["focus"], "focus@focus.localhost/focus");
        let joined = alice.expect("the rejoin", |v| is_event(v, "joined", room));
        assert_eq!(joined["rejoined"], true, "{joined}");
        // The focus set the room up again: it is there (never seen leaving),
        // its owner; alice did not create it.
        let after = &alice.events[restart_at..];
        let occupant = |v: &Value| is_event(v, "occupant", room);
        assert!(
            !after
                .iter()
                .any(|v| occupant(v) && v["nick"] == "focus" && v["action"] == "leave"),
            "{after:?}"
        );
        assert!(
            !after
                .iter()
                .any(|v| occupant(v) && v["self"] == true && v["affiliation"] == "owner"),
            "{after:?}"
        );
        assert_eq!(
            alice
                .events
                .iter()
                .filter(|v| is_event(v, "conference-ready", room))
                .count(),
            2
        );
        assert_eq!(alice.finish(), 0);
    });
}

//! Bookmarks against a real Prosody (the round trip also on ejabberd):
//! XEP-0402 (Prosody's mod_bookmarks announces
//! `urn:xmpp:bookmarks:1#compat`) and, with mod_bookmarks
//! disabled, the XEP-0048 private storage fallback. Each check of what is
//! stored is a fresh login (new process, fresh data dir).

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// A new confab process for `user` with fresh data dirs; waits until the
/// script may start (`/bookmarks` runs after the autojoin).
fn fresh_login(server: &dyn TestServer, user: &str) -> (Client, Value) {
    let mut c = Client::online(server, user);
    c.ok("/bookmarks");
    let list = c.event("bookmarks", |v| is(v, "bookmarks"));
    (c, list)
}

fn bookmark_round_trip(server: &dyn TestServer) {
    let room = "den@conference.localhost";
    let mut alice = Client::online(server, "alice");
    alice.ok(&format!("/bookmark {room} --autojoin --nick ali"));
    alice.ok("/bookmark hall@conference.localhost");
    alice.ok("/bookmarks");
    let list = alice.event("bookmarks", |v| is(v, "bookmarks"));
    let items = list["bookmarks"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let den = items.iter().find(|b| b["room"] == room).unwrap();
    assert_eq!(den["autojoin"], true);
    assert_eq!(den["nick"], "ali");
    assert_eq!(alice.finish(), 0, "{:#?}", alice.events);

    // A fresh login joins the autojoin room before the script starts.
    let (mut again, list) = fresh_login(server, "alice");
    let joined = again.find(|v| is(v, "joined")).expect("autojoined");
    assert_eq!(joined["room"], room);
    assert_eq!(joined["nick"], "ali");
    assert!(!again.saw(|v| is(v, "joined") && v["room"] == "hall@conference.localhost"));
    assert_eq!(list["bookmarks"].as_array().unwrap().len(), 2);
    again.ok(&format!("/unbookmark {room}"));
    // Removing it twice: not bookmarked.
    let e = again.run(&format!("/unbookmark {room}"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "item-not-found");
    // (A failed command ends a script with status 1.)
    assert_eq!(again.finish(), 1);

    // Gone for the next login: no autojoin, one bookmark left.
    let (mut last, list) = fresh_login(server, "alice");
    assert!(!last.saw(|v| is(v, "joined")), "nothing autojoined");
    let items = list["bookmarks"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["room"], "hall@conference.localhost");
    assert_eq!(items[0]["autojoin"], false);
    // No room given (batch has no current room): refused.
    let e = last.run("/bookmark --autojoin");
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "bad-request");
    assert_eq!(last.finish(), 1);
}

#[test]
fn bookmarks_in_pep_autojoin_at_a_fresh_login() {
    let server = prosody_with(&["alice"]);
    bookmark_round_trip(&server);
    // Stored as XEP-0402 items, in a node with the publish-options.
    let data = server.dir().join("data").join("localhost");
    let items = std::fs::read_to_string(
        data.join("pep_urn%3axmpp%3abookmarks%3a1")
            .join("alice.list"),
    )
    .expect("the bookmarks node holds items");
    assert!(items.contains("hall@conference.localhost"), "{items}");
    assert!(
        !items.contains("den@conference.localhost"),
        "retracted: {items}"
    );
    let nodes = std::fs::read_to_string(data.join("pep").join("alice.dat")).unwrap();
    let node = &nodes[nodes.find("[\"urn:xmpp:bookmarks:1\"]").expect("the node")..];
    assert!(node.contains(r#"["max_items"] = "max";"#), "{nodes}");
    assert!(
        node.contains(r#"["access_model"] = "whitelist";"#),
        "{nodes}"
    );
    assert!(node.contains(r#"["persist_items"] = true;"#), "{nodes}");
}

#[test]
fn bookmarks_in_private_storage_without_bookmarks2() {
    let opts = ProsodyOptions::new().account("alice", password_of("alice"));
    let opts = ProsodyOptions {
        // No mod_bookmarks: no urn:xmpp:bookmarks:1#compat on the account.
        extra_global_config: "modules_disabled = { \"s2s\", \"bookmarks\" }".into(),
        ..opts
    };
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("starting Prosody: {e}"));
    bookmark_round_trip(&server);
    // What is stored is XEP-0048 private XML storage.
    let stored = std::fs::read_to_string(
        server
            .dir()
            .join("data")
            .join("localhost")
            .join("private")
            .join("alice.dat"),
    )
    .expect("private storage written");
    assert!(stored.contains("storage:bookmarks"), "{stored}");
    assert!(stored.contains("hall@conference.localhost"), "{stored}");
    assert!(!stored.contains("den@conference.localhost"), "{stored}");
}

/// The same round trip on ejabberd 23.01 (mod_private beside PEP; what it
/// announces decides between XEP-0402 and private storage).
#[test]
fn bookmarks_round_trip_on_ejabberd() {
    let server = server_with(ServerKind::Ejabberd, &["alice"]);
    bookmark_round_trip(&*server);
}

//! The room directory and the room life cycle against a real Prosody:
//! `/rooms` paged with RSM over 300 rooms, the MUC service discovered
//! without a SERVICE, `/search`, `/info`, `/create` (instant, with
//! fields, with the form), `/destroy` with reason and venue.

use std::collections::HashSet;

use serde_json::Value;

use crate::common::*;

const MUC: &str = "conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// A client that goes on after a failed command.
fn client(server: &Prosody, user: &str) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp home");
    let mut c = Client::start_in(server, user, home.path(), &["--keep-going"]);
    c.connected();
    (c, home)
}

fn error_of(c: &mut Client, line: &str) -> Value {
    let v = c.run(line);
    assert_eq!(v["event"], "error", "{line} should fail: {v}");
    v
}

fn words(v: &Value) -> Vec<String> {
    v["features"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn room_list_is_paged_with_rsm_over_300_rooms() {
    // Rooms public and persistent by default, and RSM on the room list
    // (tests/prosody-modules/mod_muc_rsm_items.lua; Prosody 0.12 has none).
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .account("bob", password_of("bob"));
    opts.extra_global_config = format!(
        "plugin_paths = {{ \"{}/tests/prosody-modules\" }}",
        env!("CARGO_MANIFEST_DIR")
    );
    opts.muc_config = "    modules_enabled = { \"muc_mam\", \"muc_rsm_items\" }\n\
                       \x20   muc_room_default_public = true\n\
                       \x20   muc_room_default_persistent = true\n"
        .to_string();
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("prosody: {e}"));

    let (mut alice, _h1) = client(&server, "alice");
    let rooms: Vec<String> = (0..300).map(|i| format!("r{i:03}@{MUC}")).collect();
    for r in &rooms {
        alice.send(&format!("/join {r}/alice"));
        alice.send(&format!("/part {r}"));
    }
    let last = format!("/part {}", rooms[299]);
    let v = alice.expect("the last /part", |v| {
        (is(v, "ok") || is(v, "error")) && v["command"] == last.as_str()
    });
    assert_eq!(v["event"], "ok", "{v}");
    assert!(!alice.saw(|v| is(v, "error")), "no command failed");

    // Bob lists them, without naming the service: it is discovered.
    let (mut bob, _h2) = client(&server, "bob");
    bob.ok("/rooms");
    let pages: Vec<Value> = bob
        .raw_lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| is(v, "room-list"))
        .collect();
    assert!(pages.len() >= 3, "paged: {} pages", pages.len());
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p["service"], MUC);
        assert_eq!(p["complete"], i == pages.len() - 1, "{p}");
        assert_eq!(p["page"], i);
        assert!(p["rooms"].as_array().unwrap().len() <= 100);
    }
    let mut seen = HashSet::new();
    for p in &pages {
        for r in p["rooms"].as_array().unwrap() {
            let jid = r["jid"].as_str().unwrap().to_string();
            assert!(seen.insert(jid.clone()), "{jid} listed twice");
        }
    }
    assert_eq!(seen.len(), 300);
    assert!(rooms.iter().all(|r| seen.contains(r)));

    // Named explicitly: the same list again.
    let before = bob.raw_lines().len();
    bob.ok(&format!("/rooms {MUC}"));
    let total: usize = bob.raw_lines()[before..]
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| is(v, "room-list"))
        .map(|v| v["rooms"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 300);

    // Search over the pages: by JID.
    bob.ok("/search r29");
    let s = bob.event("search result", |v| is(v, "room-search"));
    let found: Vec<&str> = s["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["jid"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 10, "{s}");
    assert!(found.contains(&"r295@conference.localhost"));
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

#[test]
fn create_info_search_and_list_on_a_stock_service() {
    let server = prosody_with(&["alice", "bob"]);
    let (mut alice, _h1) = client(&server, "alice");
    let (mut bob, _h2) = client(&server, "bob");

    // Instant: the service's defaults (Prosody: hidden, temporary).
    alice.ok(&format!("/create lounge@{MUC} --instant"));
    let j = alice.event("joined lounge", |v| is(v, "joined"));
    assert_eq!(j["notices"][0], "a new room was created", "{j}");
    bob.ok(&format!("/info lounge@{MUC}"));
    let info = bob.event("lounge info", |v| is(v, "room-info"));
    assert_eq!(info["room"], format!("lounge@{MUC}"));
    let w = words(&info);
    assert!(w.contains(&"hidden".to_string()), "{info}");
    assert!(w.contains(&"temporary".to_string()), "{info}");
    assert_eq!(info["occupants"], 1);

    // Reserved: the form fetched, the fields applied, submitted.
    alice.ok(&format!(
        "/create cave@{MUC} muc#roomconfig_roomname=\"The Dark Cave\" \
         muc#roomconfig_roomdesc=\"Where the witches meet\" muc#roomconfig_publicroom=1 \
         muc#roomconfig_persistentroom=yes muc#roomconfig_moderatedroom=1 \
         muc#roomconfig_roomsecret=s3cret"
    ));
    bob.ok(&format!("/info cave@{MUC}"));
    let info = bob.event("cave info", |v| {
        is(v, "room-info") && v["room"] == format!("cave@{MUC}")
    });
    assert_eq!(info["name"], "The Dark Cave", "{info}");
    assert_eq!(info["description"], "Where the witches meet");
    let w = words(&info);
    for word in ["password-protected", "public", "persistent", "moderated"] {
        assert!(w.contains(&word.to_string()), "{word}: {info}");
    }

    alice.ok(&format!(
        "/create hall@{MUC} muc#roomconfig_roomname=\"Great Hall\" muc#roomconfig_publicroom=1"
    ));

    // The stock service ignores RSM: one answer, complete. Only the
    // public rooms are listed.
    bob.ok("/rooms");
    let list = bob.event("room list", |v| is(v, "room-list"));
    assert_eq!(list["complete"], true);
    assert_eq!(list["service"], MUC);
    let jids: HashSet<&str> = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["jid"].as_str().unwrap())
        .collect();
    assert_eq!(
        jids,
        HashSet::from(["cave@conference.localhost", "hall@conference.localhost"])
    );
    let pages = bob
        .raw_lines()
        .iter()
        .filter(|l| l.contains("\"event\":\"room-list\""))
        .count();
    assert_eq!(pages, 1, "exactly one page");

    // Search: by name, and by description (looked up with disco#info).
    bob.ok("/search great");
    let s = bob.event("search by name", |v| is(v, "room-search"));
    assert_eq!(s["rooms"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["rooms"][0]["jid"], format!("hall@{MUC}"));
    bob.ok("/search WITCHES");
    let s = bob.event("search by description", |v| {
        is(v, "room-search") && v["query"] == "WITCHES"
    });
    assert_eq!(s["rooms"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["rooms"][0]["jid"], format!("cave@{MUC}"));
    assert_eq!(s["rooms"][0]["description"], "Where the witches meet");
    assert_eq!(s["described"], 2);
    assert_eq!(s["not_described"], 0);
    bob.ok("/search nothing-like-this");
    let s = bob.event("no match", |v| {
        is(v, "room-search") && v["query"] == "nothing-like-this"
    });
    assert_eq!(s["rooms"].as_array().unwrap().len(), 0);

    // A room that exists already: "room exists", and bob is out again.
    let e = error_of(&mut bob, &format!("/create hall@{MUC} --instant"));
    assert_eq!(e["condition"], "conflict");
    assert!(e["text"].as_str().unwrap().contains("room exists"), "{e}");
    bob.event("bob left hall", |v| {
        is(v, "left") && v["room"] == format!("hall@{MUC}")
    });
    alice.ok(&format!(
        "/wait event occupant room=hall@{MUC} nick=bob action=leave"
    ));

    // An unknown field: the error names it and the new room is gone.
    let e = error_of(
        &mut alice,
        &format!("/create oops@{MUC} muc#roomconfig_nosuchfield=1"),
    );
    assert_eq!(e["condition"], "bad-request");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("muc#roomconfig_nosuchfield")
    );
    alice.event("oops destroyed", |v| {
        is(v, "left") && v["room"] == format!("oops@{MUC}") && v["kind"] == "destroyed"
    });
    let e = error_of(&mut bob, &format!("/info oops@{MUC}"));
    assert_eq!(e["condition"], "item-not-found", "{e}");

    // Without fields or --instant: the form, the room locked until it is
    // submitted with /config.
    alice.ok(&format!("/create draft@{MUC}"));
    let f = alice.event("the form", |v| is(v, "room-form"));
    assert_eq!(f["room"], format!("draft@{MUC}"));
    assert_eq!(f["purpose"], "create");
    let fields = f["form"]["fields"].as_array().unwrap();
    let name = fields
        .iter()
        .find(|x| x["var"] == "muc#roomconfig_roomname")
        .expect("a room name field");
    assert_eq!(name["type"], "text-single");
    let e = error_of(&mut bob, &format!("/join draft@{MUC}/bob"));
    assert_eq!(e["condition"], "item-not-found", "locked: {e}");
    alice.ok(&format!(
        "/config draft@{MUC} muc#roomconfig_roomname=Drafted"
    ));
    bob.ok(&format!("/info draft@{MUC}"));
    let info = bob.event("draft info", |v| {
        is(v, "room-info") && v["room"] == format!("draft@{MUC}")
    });
    assert_eq!(info["name"], "Drafted");
    bob.ok(&format!("/join draft@{MUC}/bob"));

    // /config ROOM also gives the form as an event.
    alice.ok(&format!("/config hall@{MUC}"));
    let f = alice.event("hall's form", |v| {
        is(v, "room-form") && v["room"] == format!("hall@{MUC}")
    });
    assert_eq!(f["purpose"], "config");

    assert_eq!(
        alice.finish(),
        1,
        "the /create with an unknown field failed"
    );
    assert_eq!(bob.finish(), 1, "bob's failed commands");
}

#[test]
fn destroy_tells_occupants_why_and_where() {
    let server = prosody_with(&["alice", "bob"]);
    let (mut alice, _h1) = client(&server, "alice");
    let (mut bob, _h2) = client(&server, "bob");
    let room = format!("old@{MUC}");
    alice.ok(&format!("/create {room} --instant"));
    bob.ok(&format!("/join {room}/bob"));

    // Only an owner may destroy.
    let e = error_of(&mut bob, &format!("/destroy {room}"));
    assert_eq!(e["condition"], "forbidden", "{e}");

    alice.ok(&format!(
        "/destroy {room} --reason \"we moved\" --venue new@{MUC}"
    ));
    let left = bob.event("bob told", |v| is(v, "left") && v["room"] == room.as_str());
    assert_eq!(left["kind"], "destroyed");
    assert_eq!(left["reason"], "we moved");
    assert_eq!(left["venue"], format!("new@{MUC}"));
    let left = alice.event("alice told", |v| {
        is(v, "left") && v["room"] == room.as_str()
    });
    assert_eq!(left["kind"], "destroyed");

    let e = error_of(&mut alice, &format!("/info {room}"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
    assert_eq!(alice.finish(), 1);
    bob.finish();
}

/// confab's TUI in a tmux session (see `tui.rs`).

#[test]
fn tui_lists_joins_shows_info_and_edits_the_form_of_a_new_room() {
    let server = prosody_with(&["alice", "bob"]);
    let (mut bob, _h) = client(&server, "bob");
    bob.ok(&format!(
        "/create attic@{MUC} muc#roomconfig_roomname=\"Dusty Attic\" muc#roomconfig_publicroom=1"
    ));
    bob.ok(&format!(
        "/create bakery@{MUC} muc#roomconfig_roomname=\"Warm Bakery\" muc#roomconfig_publicroom=1"
    ));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);

    // The room list: a table; Enter joins the selected room.
    tmux.send(&["/rooms", "Enter"]);
    tmux.wait_for("the room table", |s| {
        s.contains("Rooms on conference.localhost") && s.contains("Warm Bakery")
    });
    tmux.send(&["bakery", "Enter"]);
    tmux.wait_for("bakery joined", |s| s.contains("2 people"));

    // Info about the current room.
    tmux.send(&["/info", "Enter"]);
    let s = tmux.wait_for("the room info", |s| s.contains("Features"));
    assert!(s.contains("Warm Bakery") && s.contains("public"), "{s}");
    tmux.send(&["Escape"]);
    // (Keys typed right after Esc would read as Alt-keys.)
    tmux.wait_for("the info closed", |s| !s.contains("Features"));

    // A new room: its form in the editor, a name typed, Ctrl-S.
    tmux.send(&[&format!("/create cellar@{MUC}"), "Enter"]);
    tmux.wait_for("the form", |s| {
        s.contains("muc#roomconfig") || s.contains("Title")
    });
    tmux.send(&["Home", "C-k"]);
    tmux.send(&["-l", "Damp Cellar"]);
    tmux.send(&["C-s"]);
    tmux.wait_for("the form submitted", |s| {
        s.contains(&format!("/config cellar@{MUC}: ok"))
    });
    bob.ok(&format!("/info cellar@{MUC}"));
    let info = bob.event("cellar info", |v| {
        is(v, "room-info") && v["room"] == format!("cellar@{MUC}")
    });
    assert_eq!(info["name"], "Damp Cellar", "{info}");

    // Destroyed: the reason and where to go are shown.
    tmux.send(&[
        &format!("/destroy cellar@{MUC} --reason flooded --venue attic@{MUC}"),
        "Enter",
    ]);
    tmux.wait_for("the destruction", |s| {
        s.contains("destroyed (flooded)") && s.contains(&format!("Enter to go to attic@{MUC}"))
    });
    // Enter answers the prompt: off to the new venue, where bob is.
    tmux.send(&["Enter"]);
    tmux.wait_for("attic joined", |s| {
        s.contains(&format!("attic@{MUC}")) && s.contains("2 people")
    });
    bob.ok(&format!("/wait occupant attic@{MUC} alice"));
    bob.finish();
}

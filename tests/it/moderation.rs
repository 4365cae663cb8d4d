//! Moderation against a real Prosody (XEP-0045 roles and affiliations):
//! kick, ban and unban with the status everyone sees, member list edits,
//! voice in a moderated room and voice requests, and the errors a room
//! gives for what is not allowed.
//!
//! The tests made with `on_both!` also run on ejabberd. Not the voice
//! tests: ejabberd's rooms are `members_by_default`, so a newcomer in a
//! moderated room is a participant there, a visitor on Prosody.

use serde_json::Value;

use crate::common::*;

const ROOM: &str = "court@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// The JIDs of the items of an `admin-list` event.
fn jids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["jid"].as_str().map(str::to_string))
        .collect()
}

/// Runs a list command and returns its `admin-list` event.
fn list(c: &mut Client, line: &str) -> Value {
    c.ok(line);
    c.find(|v| is(v, "admin-list"))
        .expect("admin-list before ok")
}

/// A client that goes on after a failed command (its home lives as long
/// as the returned directory).
fn keep_going(server: &dyn TestServer, user: &str) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp home");
    let mut c = Client::start_in(server, user, home.path(), &["--keep-going"]);
    c.connected();
    (c, home)
}

fn error(c: &mut Client, line: &str) -> Value {
    let e = c.run(line);
    assert_eq!(e["event"], "error", "{line}: {e}");
    assert!(
        e["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{line}: no text: {e}"
    );
    e
}

crate::on_both!(kick_and_ban_are_seen_by_the_target_and_the_others);

fn kick_and_ban_are_seen_by_the_target_and_the_others(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let mut alice = Client::online(&*server, "alice");
    let (mut bob, _b) = keep_going(&*server, "bob");
    let mut carol = Client::online(&*server, "carol");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    carol.ok(&format!("/join {ROOM}/carol"));
    alice.ok(&format!("/wait occupant {ROOM} carol"));

    // Kick: bob is out, told by whom and why; carol sees why he left.
    alice.ok(&format!("/kick {ROOM} bob too loud"));
    let left = bob.event("bob's left", |v| is(v, "left"));
    assert_eq!(left["room"], ROOM);
    assert_eq!(left["kind"], "kicked", "{left}");
    assert_eq!(left["reason"], "too loud");
    assert_eq!(left["actor"], "alice");
    let seen = carol.event("bob's leave", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "leave"
    });
    assert_eq!(seen["kind"], "kicked", "{seen}");
    assert_eq!(seen["reason"], "too loud");
    assert_eq!(seen["actor"], "alice");
    assert_eq!(seen["role"], "none");

    // He may come back; a ban by nick (resolved to his JID) keeps him out.
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!(
        "/wait event occupant room={ROOM} nick=bob action=join"
    ));
    alice.ok(&format!("/ban {ROOM} bob spam"));
    let left = bob.expect("bob's second left", |v| is(v, "left"));
    assert_eq!(left["kind"], "banned", "{left}");
    assert_eq!(left["reason"], "spam");
    assert_eq!(left["actor"], "alice");
    let seen = carol.expect("bob's second leave", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "leave"
    });
    assert_eq!(seen["kind"], "banned", "{seen}");
    assert_eq!(seen["affiliation"], "outcast");
    assert_eq!(seen["reason"], "spam");

    // The ban list shows him; he cannot enter.
    let outcasts = list(&mut alice, &format!("/outcasts {ROOM}"));
    assert_eq!(outcasts["list"], "outcasts");
    assert_eq!(outcasts["room"], ROOM);
    assert_eq!(jids(&outcasts), ["bob@localhost"]);
    assert_eq!(outcasts["items"][0]["affiliation"], "outcast");
    let e = bob.run(&format!("/join {ROOM}/bob"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "forbidden");

    // Unban: the list is empty and he is welcome again.
    alice.ok(&format!("/unban {ROOM} bob@localhost"));
    let n = alice.events.len();
    alice.ok(&format!("/outcasts {ROOM}"));
    let outcasts = alice.events[n..]
        .iter()
        .find(|v| is(v, "admin-list"))
        .cloned()
        .expect("a second admin-list");
    assert!(jids(&outcasts).is_empty(), "{outcasts}");
    bob.ok(&format!("/join {ROOM}/bob"));
}

crate::on_both!(member_list_edits);

fn member_list_edits(kind: ServerKind) {
    let server = server_with(kind, &["alice", "carol"]);
    let mut alice = Client::online(&*server, "alice");
    let mut carol = Client::online(&*server, "carol");
    alice.ok(&format!("/join {ROOM}/alice"));
    carol.ok(&format!("/join {ROOM}/carol"));
    alice.ok(&format!("/wait occupant {ROOM} carol"));

    alice.ok(&format!("/affiliation {ROOM} carol@localhost member"));
    let members = list(&mut alice, &format!("/members {ROOM}"));
    assert_eq!(jids(&members), ["carol@localhost"], "{members}");
    assert_eq!(members["items"][0]["affiliation"], "member");
    // Carol, in the room, sees her own affiliation change; alice too.
    let own = carol.event("carol's update", |v| {
        is(v, "occupant") && v["action"] == "update" && v["affiliation"] == "member"
    });
    assert_eq!(own["self"], true);
    assert_eq!(own["nick"], "carol");
    alice.event("carol becomes a member", |v| {
        is(v, "occupant")
            && v["nick"] == "carol"
            && v["action"] == "update"
            && v["affiliation"] == "member"
    });

    alice.ok(&format!("/affiliation {ROOM} carol@localhost none"));
    let n = alice.events.len();
    alice.ok(&format!("/members {ROOM}"));
    let members = alice.events[n..]
        .iter()
        .find(|v| is(v, "admin-list"))
        .cloned()
        .expect("a second admin-list");
    assert!(jids(&members).is_empty(), "{members}");
    carol.expect("carol is no member any more", |v| {
        is(v, "occupant") && v["action"] == "update" && v["affiliation"] == "none"
    });

    // Owners: alice, who created the room.
    let owners = list(&mut alice, &format!("/owners {ROOM}"));
    assert_eq!(jids(&owners), ["alice@localhost"]);
}

#[test]
fn voice_in_a_moderated_room_and_voice_requests() {
    let server = prosody_with(&["alice", "bob"]);
    let mut alice = Client::online(&server, "alice");
    let (mut bob, _b) = keep_going(&server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    alice.ok(&format!("/config {ROOM} muc#roomconfig_moderatedroom=1"));
    bob.ok(&format!("/join {ROOM}/bob"));
    let me = bob.event("bob's own presence", |v| {
        is(v, "occupant") && v["self"] == true
    });
    assert_eq!(me["role"], "visitor", "{me}");

    // A visitor cannot speak.
    let e = error(&mut bob, &format!("/say {ROOM} may I?"));
    assert_eq!(e["condition"], "forbidden");

    // He asks; alice is asked, and grants it.
    bob.ok(&format!("/request-voice {ROOM}"));
    let request = alice.event("voice request", |v| is(v, "voice-request"));
    assert_eq!(request["room"], ROOM);
    assert_eq!(request["nick"], "bob");
    assert!(
        request["jid"]
            .as_str()
            .is_some_and(|j| j.starts_with("bob@localhost/")),
        "{request}"
    );
    alice.ok(&format!("/voice {ROOM} bob"));
    let update = bob.event("bob's voice", |v| {
        is(v, "occupant") && v["self"] == true && v["action"] == "update"
    });
    assert_eq!(update["role"], "participant", "{update}");
    assert_eq!(update["actor"], "alice");
    bob.ok(&format!("/say {ROOM} thank you"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains thank"));
    // With voice there is nothing to ask for.
    let e = error(&mut bob, &format!("/request-voice {ROOM}"));
    assert_eq!(e["condition"], "not-acceptable");

    // The moderator list; then the voice is taken away again.
    let mods = list(&mut alice, &format!("/moderators {ROOM}"));
    let nicks: Vec<&str> = mods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["nick"].as_str())
        .collect();
    assert_eq!(nicks, ["alice"], "{mods}");
    assert_eq!(mods["items"][0]["role"], "moderator");
    alice.ok(&format!("/devoice {ROOM} bob"));
    let update = bob.expect("bob loses voice", |v| {
        is(v, "occupant") && v["self"] == true && v["action"] == "update"
    });
    assert_eq!(update["role"], "visitor");
    alice.event("alice sees bob lose voice", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["role"] == "visitor"
    });
}

crate::on_both!(refused_moderation_reports_condition_and_text);

fn refused_moderation_reports_condition_and_text(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let (mut alice, _a) = keep_going(&*server, "alice");
    let (mut bob, _b) = keep_going(&*server, "bob");
    let mut carol = Client::online(&*server, "carol");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    carol.ok(&format!("/join {ROOM}/carol"));
    bob.ok(&format!("/wait occupant {ROOM} carol"));

    // A participant may not kick, nor read the member list.
    let e = error(&mut bob, &format!("/kick {ROOM} carol"));
    assert_eq!(e["condition"], "not-allowed", "{e}");
    assert_eq!(e["command"], format!("/kick {ROOM} carol"));
    let e = error(&mut bob, &format!("/members {ROOM}"));
    assert_eq!(e["condition"], "forbidden", "{e}");
    // Carol is still there.
    assert!(!carol.saw(|v| is(v, "left")));

    // Nobody by that nick.
    let e = error(&mut alice, &format!("/kick {ROOM} nobody"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
    let e = error(&mut alice, &format!("/ban {ROOM} nobody"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
    // Malformed JIDs: ours, and the room's (affiliations are for bare JIDs).
    let e = error(&mut alice, &format!("/ban {ROOM} bad@@jid"));
    assert_eq!(e["condition"], "jid-malformed", "{e}");
    let line = format!("/affiliation {ROOM} carol@localhost/phone member");
    match kind {
        ServerKind::Prosody => {
            let e = error(&mut alice, &line);
            assert_eq!(e["condition"], "jid-malformed", "{e}");
        }
        // ejabberd takes the bare JID of a full one: carol is a member.
        ServerKind::Ejabberd => {
            alice.ok(&line);
        }
    }
    // A moderator without affiliation may not kick an owner.
    alice.ok(&format!("/role {ROOM} bob moderator"));
    bob.event("bob is a moderator", |v| {
        is(v, "occupant") && v["self"] == true && v["role"] == "moderator"
    });
    let e = error(&mut bob, &format!("/kick {ROOM} alice"));
    assert_eq!(e["condition"], "not-allowed", "{e}");
    // But he may kick carol now.
    bob.ok(&format!("/kick {ROOM} carol bye"));
    let left = carol.event("carol's left", |v| is(v, "left"));
    assert_eq!(left["kind"], "kicked");
    assert_eq!(left["actor"], "bob");
}

/// confab's TUI in tmux (as in `tui.rs`).

#[test]
fn tui_grants_a_voice_request_and_shows_moderation() {
    let server = prosody_with(&["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    tmux.send(&[&format!("/join {ROOM}"), "Enter"]);
    // (The "ok" may give way at once to OMEMO's publication notice.)
    tmux.wait_for("the join", |s| {
        s.contains(&format!("/join {ROOM}: ok")) || s.contains("1 people")
    });
    // The room is the current one: the commands below leave it out.
    tmux.send(&["/config muc#roomconfig_moderatedroom=1", "Enter"]);
    tmux.wait_for("the configuration", |s| {
        s.contains("muc#roomconfig_moderatedroom=1: ok")
    });

    let (mut bob, _b) = keep_going(&server, "bob");
    bob.ok(&format!("/join {ROOM}/bob"));
    bob.ok(&format!("/request-voice {ROOM}"));
    tmux.wait_for("the voice request", |s| {
        s.contains(&format!(
            "bob asks for voice in {ROOM}: Enter to grant, Esc to ignore"
        ))
    });
    tmux.send(&["Enter"]);
    let update = bob.event("bob's voice", |v| {
        is(v, "occupant") && v["self"] == true && v["role"] == "participant"
    });
    assert_eq!(update["actor"], "alice");
    tmux.wait_for("the voice line", |s| {
        s.contains("bob now has voice (by alice)")
    });

    tmux.send(&["/moderators", "Enter"]);
    tmux.wait_for("the moderator table", |s| {
        s.contains(&format!("moderators of {ROOM} (1)")) && s.contains("alice@localhost")
    });
    tmux.send(&["Escape"]);
    // An Escape followed at once by more keys reads as Alt-key: wait until
    // the table is gone.
    tmux.wait_for("the table closed", |s| !s.contains("moderators of"));
    tmux.send(&["/kick bob enough", "Enter"]);
    let left = bob.event("bob's left", |v| is(v, "left"));
    assert_eq!(left["kind"], "kicked");
    tmux.wait_for("the kick line", |s| {
        s.contains("bob was kicked by alice (enough)")
    });
    tmux.send(&["/quit", "Enter"]);
}

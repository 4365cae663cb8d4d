//! Invitations and bookmarks in the real TUI (tmux) against the test
//! Prosody: a bookmarked autojoin room is joined at login, an invitation
//! shows as a prompt and Enter accepts it.

use crate::common::*;

#[test]
fn tui_autojoins_bookmarks_and_accepts_an_invitation() {
    let server = prosody_with(&["alice", "bob"]);
    let den = "tuiden@conference.localhost";
    let party = "tuiparty@conference.localhost";
    // Alice's bookmark, stored from a batch session.
    let mut setup = Client::online(&server, "alice");
    setup.ok(&format!("/bookmark {den} --autojoin --nick alicia"));
    assert_eq!(setup.finish(), 0);
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {den}/bob"));
    bob.ok(&format!("/join {party}/bob"));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);

    // The bookmark's room is joined at login, with its nick.
    bob.ok(&format!("/wait occupant {den} alicia"));
    tmux.wait_for("the autojoined room", |s| s.contains("tuiden"));

    // An invitation: a prompt; Enter accepts.
    bob.ok(&format!("/invite {party} alice@localhost cake"));
    tmux.wait_for("the invitation prompt", |s| {
        s.contains("bob@localhost invites you to tuiparty@conference.localhost (cake)")
            && s.contains("Enter to accept, Esc to decline")
    });
    tmux.send(&["Enter"]);
    bob.ok(&format!("/wait occupant {party} alice"));
    tmux.wait_for("the joined room", |s| {
        s.contains("2 people") && s.contains("tuiparty")
    });

    tmux.send(&["/quit", "Enter"]);
    assert_eq!(bob.finish(), 0);
}

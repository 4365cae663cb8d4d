//! The participant list of a big room scrolls: the rows shown start at
//! the occupant scrolled to, under its role's title, and stop at the last
//! occupant (scrolling further changes nothing).

use super::*;

/// A joined room of `n` participants `user000…` and us.
fn big(n: usize) -> Store {
    let mut store = Store::new();
    store.apply(
        Input::Joining {
            room: room(ROOM),
            nick: "me".into(),
            protocol: Protocol::Muc,
        },
        t(0),
    );
    for i in 0..n {
        let p = presence(
            ROOM,
            &format!("user{i:03}"),
            Role::Participant,
            Affiliation::None,
            "available",
            None,
            &[],
        );
        store.apply(p, t(0));
    }
    let me = presence(
        ROOM,
        "me",
        Role::Moderator,
        Affiliation::Owner,
        "available",
        None,
        &[110],
    );
    store.apply(me, t(0));
    store
}

/// The participant pane's column of the screen, row by row.
fn people(buf: &Buffer) -> Vec<String> {
    text(buf)
        .lines()
        .map(|l| l.chars().skip(78).collect::<String>().trim().to_string())
        .collect()
}

#[test]
fn the_list_scrolls_to_any_occupant_and_stops_at_the_last() {
    let store = big(300);
    let mut ui = ui_state();
    let top = people(&draw(&store, &ui, 100, 24));
    assert!(top.iter().any(|r| r.contains("301 people")), "{top:?}");
    // Row 0 is the screen's title, row 1 the pane's.
    assert!(top[2].contains("Moderators"), "{top:?}");
    assert!(top[3].ends_with("me"), "{top:?}");
    assert!(top[4].contains("Participants"), "{top:?}");
    assert!(top[5].ends_with("user000"), "{top:?}");

    // Past us (the moderator) and 150 participants.
    ui.view_mut(&room(ROOM)).people_scroll = 151;
    let middle = people(&draw(&store, &ui, 100, 24));
    assert!(middle[2].contains("Participants"), "{middle:?}");
    assert!(middle[3].ends_with("user150"), "{middle:?}");

    ui.view_mut(&room(ROOM)).people_scroll = 10_000;
    let end = people(&draw(&store, &ui, 100, 24));
    let last = end
        .iter()
        .rposition(|r| r.ends_with("user299"))
        .expect("the last occupant");
    assert!(
        end[last + 1..]
            .iter()
            .all(|r| r.is_empty() || !r.contains("user")),
        "{end:?}"
    );
    assert!(end[2].contains("Participants"), "{end:?}");
    // The list's rows below the title are all filled.
    assert!(last >= 20, "{end:?}");
}

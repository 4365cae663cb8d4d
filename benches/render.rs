//! Rendering one frame of a room with 5,000 occupants and 100,000 lines of
//! scrollback (criterion): the window holds the newest 2,000 and 20,000
//! older ones loaded by scrolling back (the scrollback's bound); frames
//! at the bottom, scrolled back 2,000 and 20,000 rows and at the top;
//! then a room of
//! 10,000 occupants with its participant list scrolled to the middle and
//! to the end: `cargo bench --bench render`. The frames are drawn again
//! and again at one position: the row layout is laid out once, kept.

use chrono::{DateTime, Utc};
use confab::protocol::muc::Role;
use confab::store::{Input, Kind, Message, Protocol, SCROLLBACK_LINES, Store};
use confab::ui::state::UiState;
use confab::ui::view;
use confab_proto::fixtures::{occupant_in, room_message};
use criterion::{Criterion, criterion_group, criterion_main};
use jid::BareJid;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const ROOM: &str = "big@conference.localhost";

fn big_room(occupants: usize, lines: i64) -> Store {
    let room = BareJid::new(ROOM).unwrap();
    let t0: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
        .unwrap()
        .into();
    let mut store = Store::new();
    store.apply(
        Input::Joining {
            room: room.clone(),
            nick: "me".into(),
            protocol: Protocol::Muc,
        },
        t0,
    );
    let presence = |nick: String, role, codes: Vec<u16>| {
        Input::Incoming(
            occupant_in(&room, &nick)
                .role(role)
                .show("available")
                .codes(&codes)
                .incoming(),
        )
    };
    for i in 0..occupants {
        let role = if i % 100 == 0 {
            Role::Moderator
        } else {
            Role::Participant
        };
        store.apply(presence(format!("user{i:04}"), role, vec![]), t0);
    }
    store.apply(presence("me".into(), Role::Participant, vec![110]), t0);
    let message = |i: i64| {
        room_message(
            &room,
            &format!("user{:04}", i % occupants as i64),
            &format!("message {i}: the quick brown fox jumps over the lazy dog, again and again"),
        )
        .stanza_id(&format!("s{i}"))
        .time(t0 + chrono::Duration::seconds(i))
        .delayed(true)
    };
    for i in 0..lines {
        store.apply(Input::Incoming(message(i).incoming()), t0);
    }
    // Scrolled back: older lines loaded beyond the window (its 2,000
    // lines), as far as the scrollback holds.
    let held = store.window(&room).unwrap().messages().len() as i64;
    let older: Vec<Message> = (lines - held - SCROLLBACK_LINES as i64..lines - held)
        .filter(|i| *i >= 0)
        .map(|i| Message {
            stanza_id: Some(format!("s{i}")),
            archived: true,
            ..Message::new(
                Kind::Chat,
                t0 + chrono::Duration::seconds(i),
                Some(format!("user{:04}", i % occupants as i64)),
                format!(
                    "message {i}: the quick brown fox jumps over the lazy dog, again and again"
                ),
            )
        })
        .collect();
    store.apply(
        Input::Older {
            room: room.clone(),
            messages: older,
            complete: false,
        },
        t0,
    );
    store
}

fn bench(c: &mut Criterion) {
    let room = BareJid::new(ROOM).unwrap();
    let store = big_room(5000, 100_000);
    let mut ui = UiState {
        current: Some(room.clone()),
        ..Default::default()
    };
    let area = Rect::new(0, 0, 160, 50);
    let mut buf = Buffer::empty(area);
    c.bench_function("frame 160x50, 5,000 occupants, 100,000 lines", |b| {
        b.iter(|| {
            buf.reset();
            view::render_buf(&store, &ui, area, &mut buf).expect("drawn");
        })
    });
    for (rows, name) in [
        (2000, "same, scrolled back 2,000 rows"),
        (
            20_000,
            "same, scrolled back 20,000 rows (scrollback loaded)",
        ),
        (usize::MAX / 2, "same, at the top"),
    ] {
        ui.view_mut(&room).scroll = rows;
        c.bench_function(name, |b| {
            b.iter(|| {
                buf.reset();
                view::render_buf(&store, &ui, area, &mut buf).expect("drawn");
            })
        });
    }

    let store = big_room(10_000, 1000);
    let mut ui = UiState {
        current: Some(room.clone()),
        ..Default::default()
    };
    for (skip, name) in [
        (5000, "frame, 10,000 occupants, the list at the middle"),
        (10_000, "frame, 10,000 occupants, the list at the end"),
    ] {
        ui.view_mut(&room).people_scroll = skip;
        c.bench_function(name, |b| {
            b.iter(|| {
                buf.reset();
                view::render_buf(&store, &ui, area, &mut buf).expect("drawn");
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Rendering one frame of a room with 5,000 occupants and 100,000 lines of
//! scrollback (criterion): `cargo bench --bench render`.

use chrono::{DateTime, Utc};
use confab::protocol::muc::Role;
use confab::store::{Input, Protocol, Store};
use confab::ui::state::UiState;
use confab::ui::view;
use confab_proto::fixtures::{occupant_in, room_message};
use criterion::{Criterion, criterion_group, criterion_main};
use jid::BareJid;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const ROOM: &str = "big@conference.localhost";

fn big_room() -> Store {
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
    for i in 0..5000 {
        let role = if i % 100 == 0 {
            Role::Moderator
        } else {
            Role::Participant
        };
        store.apply(presence(format!("user{i:04}"), role, vec![]), t0);
    }
    store.apply(presence("me".into(), Role::Participant, vec![110]), t0);
    for i in 0..100_000i64 {
        store.apply(
            Input::Incoming(
                room_message(
                    &room,
                    &format!("user{:04}", i % 5000),
                    &format!(
                        "message {i}: the quick brown fox jumps over the lazy dog, again and again"
                    ),
                )
                .stanza_id(&format!("s{i}"))
                .time(t0 + chrono::Duration::seconds(i))
                .delayed(true)
                .incoming(),
            ),
            t0,
        );
    }
    store
}

fn bench(c: &mut Criterion) {
    let store = big_room();
    let mut ui = UiState {
        current: Some(BareJid::new(ROOM).unwrap()),
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
    ui.view_mut(&BareJid::new(ROOM).unwrap()).scroll = 2000;
    c.bench_function("same, scrolled back 2,000 rows", |b| {
        b.iter(|| {
            buf.reset();
            view::render_buf(&store, &ui, area, &mut buf).expect("drawn");
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

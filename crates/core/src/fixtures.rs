//! Test fixtures of this crate's tests. Stanza-shaped values (an
//! occupant's presence, XML) come from `confab_proto::fixtures`.

use chrono::{DateTime, Utc};
use jid::BareJid;

use crate::history::Record;
use crate::store::{Input, Kind, Message, Protocol, Store};

/// A store joining `room` (a XEP-0045 room) as `nick`: the room's
/// presences finish the join.
pub(crate) fn joining(room: &BareJid, nick: &str, now: DateTime<Utc>) -> Store {
    let mut s = Store::new();
    s.apply(
        Input::Joining {
            room: room.clone(),
            nick: nick.into(),
            protocol: Protocol::Muc,
        },
        now,
    );
    s
}

/// A line of bob's in `conv` for the archive: stanza-id `sid`, message id
/// `id-{sid}`, `secs` after a fixed time.
pub(crate) fn record(conv: &str, sid: &str, body: &str, secs: i64) -> Record {
    Record {
        conversation: conv.into(),
        message: Message {
            stanza_id: Some(sid.into()),
            id: Some(format!("id-{sid}")),
            ..Message::new(
                Kind::Chat,
                DateTime::<Utc>::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
                Some("bob".into()),
                body.into(),
            )
        },
    }
}

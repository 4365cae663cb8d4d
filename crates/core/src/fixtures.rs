//! Test fixtures of this crate's tests. Stanza-shaped values (an
//! occupant's presence, XML) come from `confab_proto::fixtures`.

use chrono::{DateTime, Utc};
use jid::BareJid;

use crate::store::{Input, Protocol, Store};

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

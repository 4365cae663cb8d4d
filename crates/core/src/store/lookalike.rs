//! Occupants whose nick imitates another occupant's ([`crate::names`]):
//! the `lookalike` field of their `occupant` events.

use super::event::{Event, OccupantAction};
use super::room::Room;
use jid::BareJid;

/// Whom `nick` imitates in `r` (where it is an occupant already).
fn imitated(r: &Room, nick: &str) -> Option<String> {
    crate::names::imitated(nick, r.occupants.iter_sorted().map(|o| o.nick.as_str()))
        .map(str::to_string)
}

/// Sets `lookalike` on an occupant event of `r` (join, nick, update).
pub(super) fn mark(r: &Room, ev: &mut Event) {
    if let Event::Occupant {
        nick, lookalike, ..
    } = ev
    {
        *lookalike = imitated(r, nick);
    }
}

/// `nick` has just arrived: `update` events for the occupants already
/// there who imitate it (they were not marked when they came). Only nicks
/// that may imitate anyone are looked at: an arrival costs nothing more
/// in a room of ASCII nicks, however big.
pub(super) fn imitators_of(r: &Room, room: &BareJid, nick: &str) -> Vec<Event> {
    r.occupants
        .suspects()
        .filter(|o| o.nick != nick)
        .filter(|o| crate::names::imitated(&o.nick, [nick]).is_some())
        .map(|o| Event::Occupant {
            room: room.clone(),
            nick: o.nick.clone(),
            action: OccupantAction::Update,
            role: o.info.role,
            affiliation: o.info.affiliation,
            show: o.info.show,
            status: o.info.status.clone(),
            jid: o.info.jid.as_ref().map(|j| j.to_string()),
            occupant_id: o.info.occupant_id.clone(),
            old_nick: None,
            is_self: o.nick == r.own_nick,
            kind: None,
            reason: None,
            actor: None,
            was: None,
            focus: r.is_focus(&o.info),
            lookalike: Some(nick.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use jid::BareJid;

    use crate::fixtures::joining;
    use crate::store::{Input, Store};
    use confab_proto::fixtures::occupant;

    fn arrive(s: &mut Store, nick: &str, codes: &[u16]) -> Vec<serde_json::Value> {
        let p = occupant("r@conference.localhost", nick)
            .show("available")
            .codes(codes)
            .incoming();
        s.apply(Input::Incoming(p), Utc::now())
            .iter()
            .map(|e| e.to_json())
            .filter(|v| v["event"] == "occupant")
            .collect()
    }

    fn joined() -> Store {
        let room = BareJid::new("r@conference.localhost").unwrap();
        let mut s = joining(&room, "me", Utc::now());
        arrive(&mut s, "me", &[110]);
        s
    }

    #[test]
    fn an_imitation_is_marked_when_it_comes() {
        let mut s = joined();
        let ev = arrive(&mut s, "admin", &[]);
        assert!(ev[0].get("lookalike").is_none(), "{ev:?}");
        let ev = arrive(&mut s, "\u{430}dmin", &[]);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0]["action"], "join");
        assert_eq!(ev[0]["lookalike"], "admin");
    }

    #[test]
    fn an_imitation_is_marked_when_the_original_comes() {
        let mut s = joined();
        let ev = arrive(&mut s, "ad\u{200b}min", &[]);
        assert!(ev[0].get("lookalike").is_none(), "{ev:?}");
        let ev = arrive(&mut s, "admin", &[]);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0]["nick"], "admin");
        assert!(ev[0].get("lookalike").is_none(), "{ev:?}");
        assert_eq!(ev[1]["nick"], "ad\u{200b}min");
        assert_eq!(ev[1]["action"], "update");
        assert_eq!(ev[1]["lookalike"], "admin");
    }
}

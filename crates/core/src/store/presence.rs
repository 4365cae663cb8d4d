//! The presence reducer: what a room's presences (and their errors) do
//! to its occupants, its join state and its timeline; a presence from a
//! JID that is not one of our rooms is a contact's.

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid};

use super::{
    Event, JoinState, Kind, LeftKind, Occupant, OccupantAction, Store, continuity, lookalike,
    moderation, room,
};
use confab_proto::ErrorInfo;
use confab_proto::muc::{MucPresence, StatusCode, status_code_text};

impl Store {
    /// An error presence from a room: a join that was under way ends.
    pub(super) fn apply_presence_error(
        &mut self,
        room: BareJid,
        error: ErrorInfo,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(r) = self.rooms.get_mut(&room) else {
            return;
        };
        if matches!(r.state, JoinState::Joining | JoinState::Rejoining) {
            r.state = JoinState::Left;
            r.occupants.clear();
        }
        self.push_error(Some(room.clone()), error.clone(), now);
        out.push(Event::Error {
            command: None,
            room: Some(room.clone()),
            condition: error.condition,
            text: error.text,
            message_id: None,
        });
    }

    /// A room's presence: an occupant joins, changes, leaves or changes
    /// nick; ours finishes a (re)join or tells how we left.
    pub(super) fn apply_presence(
        &mut self,
        p: MucPresence,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(r) = self.rooms.get_mut(&p.room) else {
            // Not a room of ours: a contact's presence.
            self.apply_contact_presence(p, out);
            return;
        };
        if r.state == JoinState::Left {
            return;
        }
        let room_s = p.room.clone();
        // A presence from our own occupant JID is ours, status 110 or not
        // (ejabberd's destroy presence has none; groupchat 1.0 has no
        // codes at all): nicks are unique in a room.
        let is_self = p.is_self() || p.nick == r.own_nick;
        let trusted_focus = r.focus.clone();
        let occupant_event =
            |action, nick: &str, info: &confab_proto::OccupantInfo, old_nick: Option<String>| {
                Event::Occupant {
                    room: room_s.clone(),
                    nick: nick.to_string(),
                    action,
                    role: info.role,
                    affiliation: info.affiliation,
                    show: info.show,
                    status: info.status.clone(),
                    jid: info.jid.as_ref().map(|j| j.to_string()),
                    occupant_id: info.occupant_id.clone(),
                    old_nick,
                    is_self,
                    kind: (action == OccupantAction::Leave)
                        .then(|| moderation::leave_kind(&p.codes)),
                    reason: p.reason.clone(),
                    actor: p.actor.clone(),
                    was: None,
                    focus: room::is_trusted_focus(trusted_focus.as_ref(), info),
                    lookalike: None,
                }
            };

        if !p.available {
            // Nick change: the occupant moves to the new nick now; the
            // available presence under the new nick follows.
            if p.codes.contains(&StatusCode::NewNick)
                && let Some(new_nick) = p.new_nick.clone()
            {
                // The occupant stays as they were (the unavailable
                // presence of a nick change says nothing of their show).
                let mut info = p.info.clone();
                if let Some(mut occ) = r.occupants.remove(&p.nick) {
                    info.show = occ.info.show;
                    info.status = occ.info.status.clone();
                    occ.nick = new_nick.clone();
                    r.occupants.insert(occ);
                }
                if is_self {
                    r.own_nick = new_nick.clone();
                }
                Self::event_line(r, Kind::NickChange, &new_nick, Some(p.nick.clone()), now);
                let mut ev =
                    occupant_event(OccupantAction::Nick, &new_nick, &info, Some(p.nick.clone()));
                lookalike::mark(r, &mut ev);
                out.push(ev);
                out.extend(lookalike::imitators_of(r, &room_s, &new_nick));
                return;
            }
            // The room is destroyed: it ends for us whoever the presence
            // is about (ejabberd sends it from every occupant, without 110).
            if is_self || p.destroyed.is_some() {
                let kind = if p.destroyed.is_some() {
                    LeftKind::Destroyed
                } else if p.codes.contains(&StatusCode::Banned) {
                    LeftKind::Banned
                } else if p.codes.contains(&StatusCode::Kicked) {
                    LeftKind::Kicked
                } else if p.codes.iter().any(|c| c.is_removal()) {
                    LeftKind::Removed
                } else {
                    LeftKind::Left
                };
                if let Some(text) = moderation::leave_line(&p) {
                    Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                }
                r.state = JoinState::Left;
                r.occupants.clear();
                let (venue, dreason) = match &p.destroyed {
                    Some(d) => (d.venue.clone(), d.reason.clone()),
                    None => (None, None),
                };
                let reason = p.reason.clone().or(dreason).or_else(|| {
                    p.codes
                        .iter()
                        .filter(|c| c.is_removal())
                        .find_map(|c| status_code_text(*c).map(str::to_string))
                });
                out.push(Event::Left {
                    room: room_s,
                    kind,
                    reason,
                    actor: p.actor.clone(),
                    venue,
                });
                return;
            }
            if r.occupants.remove(&p.nick).is_some() {
                if r.state == JoinState::Joined {
                    if let Some(text) = moderation::leave_line(&p) {
                        Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                    } else {
                        let why = p.reason.clone().or_else(|| p.info.status.clone());
                        Self::event_line(r, Kind::Leave, &p.nick, why, now);
                    }
                }
                out.push(occupant_event(
                    OccupantAction::Leave,
                    &p.nick,
                    &p.info,
                    None,
                ));
            }
            return;
        }

        // Available presence: join or update.
        let was = continuity::note_occupant(r, &p.nick, &p.info);
        let generation = r.generation;
        let previous = r.occupants.insert(Occupant {
            nick: p.nick.clone(),
            info: p.info.clone(),
            generation,
        });
        match previous {
            None => {
                // Arrivals after our own join are lines in the timeline;
                // the occupant list we get on joining is not.
                if r.state == JoinState::Joined {
                    Self::event_line(r, Kind::Join, &p.nick, p.info.status.clone(), now);
                }
                let mut ev = occupant_event(OccupantAction::Join, &p.nick, &p.info, None);
                if let Event::Occupant { was: w, .. } = &mut ev {
                    *w = was;
                }
                lookalike::mark(r, &mut ev);
                out.push(ev);
                out.extend(lookalike::imitators_of(r, &room_s, &p.nick));
            }
            Some(old) if old.info != p.info => {
                if r.state == JoinState::Joined
                    && let Some(text) = moderation::change_line(&old.info, &p)
                {
                    Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                }
                let mut ev = occupant_event(OccupantAction::Update, &p.nick, &p.info, None);
                lookalike::mark(r, &mut ev);
                out.push(ev)
            }
            Some(old) if old.generation != generation => {
                // Seen again after a rejoin, unchanged: nothing to say.
            }
            Some(_) => {}
        }
        if is_self && matches!(r.state, JoinState::Joining | JoinState::Rejoining) {
            let rejoined = r.state == JoinState::Rejoining;
            r.state = JoinState::Joined;
            r.own_nick = p.nick.clone();
            r.codes = p.codes.clone();
            if rejoined {
                // Occupants who left while we were away.
                for nick in r.occupants.stale(generation) {
                    if let Some(o) = r.occupants.remove(&nick) {
                        let focus = r.is_focus(&o.info);
                        out.push(Event::Occupant {
                            room: room_s.clone(),
                            nick: o.nick,
                            action: OccupantAction::Leave,
                            role: o.info.role,
                            affiliation: o.info.affiliation,
                            show: "unavailable",
                            status: None,
                            jid: None,
                            occupant_id: o.info.occupant_id,
                            old_nick: None,
                            is_self: false,
                            kind: Some(LeftKind::Left),
                            reason: None,
                            actor: None,
                            was: None,
                            focus,
                            lookalike: None,
                        });
                    }
                }
            }
            let notices = p
                .codes
                .iter()
                .filter(|c| **c != StatusCode::SelfPresence)
                .filter_map(|c| status_code_text(*c).map(str::to_string))
                .collect();
            out.push(Event::Joined {
                room: room_s,
                nick: p.nick.clone(),
                protocol: r.protocol.as_str(),
                rejoined,
                notices,
            });
        }
    }

    /// A presence from a JID that is not one of our rooms.
    fn apply_contact_presence(&mut self, p: MucPresence, out: &mut Vec<Event>) {
        let own = self.jid.as_ref().is_some_and(|j| j.to_bare() == p.room);
        if own || p.has_muc_user {
            return;
        }
        let Ok(from) = FullJid::new(&format!("{}/{}", p.room, p.nick)) else {
            return;
        };
        out.extend(
            self.contacts
                .presence(&from, p.available, p.info.show, p.info.status),
        );
    }
}

//! The SFU's conference rooms as a pure state machine: who is in which
//! room, which forwarded sessions exist, and what has to happen when
//! someone joins or leaves. No network, no webrtc: the caller turns the
//! returned [`Step`]s into Jingle sessions.
//!
//! Rules (XEP-0521): a participant is a full JID with one incoming session
//! (its own stream); every participant receives one forwarded session per
//! *other* participant; nobody receives its own stream; when a participant
//! leaves, every forwarded session carrying its stream or going to it ends.
//! A room may limit how many participants it takes (`max_participants`,
//! 0 = no limit); a caller beyond the limit is refused.

use std::collections::BTreeMap;

/// A forwarded session: `source`'s stream sent to `target` from the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The Jingle sid of the forwarded session (we initiate it).
    pub sid: String,
    /// Whose stream it carries (full JID).
    pub source: String,
    /// Who receives it (full JID).
    pub target: String,
}

/// A participant: a full JID and the sid of its own (incoming) session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub jid: String,
    pub sid: String,
}

/// What the caller has to do after a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Start this forwarded session (session-initiate to `target`).
    StartForward(Forward),
    /// End this forwarded session (session-terminate to `target`).
    EndForward(Forward),
    /// End a participant's own session (session-terminate to it), e.g.
    /// when it was replaced by a new call from the same JID.
    EndIncoming(Participant),
}

/// Why a join was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The room has `max` participants already.
    Full { room: String, max: usize },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Full { room, max } => write!(
                f,
                "the conference {room} is full: it takes at most {max} participant{}",
                if *max == 1 { "" } else { "s" }
            ),
        }
    }
}

/// One conference room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Room {
    /// 0 = no limit.
    pub max_participants: usize,
    pub participants: Vec<Participant>,
    pub forwards: Vec<Forward>,
}

/// Where a session belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// A participant's own session in `room`.
    Incoming { room: String, participant: String },
    /// A forwarded session in `room`.
    Forward { room: String, forward: Forward },
}

/// All rooms of the service.
#[derive(Debug, Clone, Default)]
pub struct Rooms {
    rooms: BTreeMap<String, Room>,
    /// The limit of rooms that were never configured (0 = none).
    pub default_max: usize,
    sid_prefix: String,
    next_sid: u64,
}

impl Rooms {
    /// No rooms yet; forwarded sids are `{sid_prefix}-{n}`.
    pub fn new(default_max: usize, sid_prefix: &str) -> Rooms {
        Rooms {
            rooms: BTreeMap::new(),
            default_max,
            sid_prefix: sid_prefix.to_string(),
            next_sid: 0,
        }
    }

    /// The room `room` (bare JID), if it has ever been used or configured.
    pub fn get(&self, room: &str) -> Option<&Room> {
        self.rooms.get(room)
    }

    /// The rooms that have participants.
    pub fn active(&self) -> impl Iterator<Item = (&String, &Room)> {
        self.rooms
            .iter()
            .filter(|(_, r)| !r.participants.is_empty())
    }

    fn room_mut(&mut self, room: &str) -> &mut Room {
        let default_max = self.default_max;
        self.rooms.entry(room.to_string()).or_insert_with(|| Room {
            max_participants: default_max,
            ..Room::default()
        })
    }

    /// The participant limit of `room` (0 = none).
    pub fn max_participants(&self, room: &str) -> usize {
        self.rooms
            .get(room)
            .map(|r| r.max_participants)
            .unwrap_or(self.default_max)
    }

    /// Sets the participant limit of `room`; those already in stay.
    pub fn set_max_participants(&mut self, room: &str, max: usize) {
        self.room_mut(room).max_participants = max;
    }

    fn new_sid(&mut self) -> String {
        self.next_sid += 1;
        format!("{}-{}", self.sid_prefix, self.next_sid)
    }

    /// `jid` calls `room` with its session `sid`. A JID already in the room
    /// replaces its old session (which ends, with everything it carried).
    pub fn join(&mut self, room: &str, jid: &str, sid: &str) -> Result<Vec<Step>, Refusal> {
        let mut steps = Vec::new();
        let old = self
            .rooms
            .get(room)
            .and_then(|r| r.participants.iter().find(|p| p.jid == jid).cloned());
        if let Some(old) = old {
            steps.extend(self.leave(room, jid));
            steps.push(Step::EndIncoming(old));
        }
        let max = self.max_participants(room);
        let count = self.rooms.get(room).map_or(0, |r| r.participants.len());
        if max > 0 && count >= max {
            return if steps.is_empty() {
                Err(Refusal::Full {
                    room: room.to_string(),
                    max,
                })
            } else {
                // The old session is gone; the new one does not fit (the
                // limit was lowered meanwhile): still end the old one.
                Ok(steps)
            };
        }
        let others: Vec<String> = self
            .rooms
            .get(room)
            .map(|r| r.participants.iter().map(|p| p.jid.clone()).collect())
            .unwrap_or_default();
        let mut forwards = Vec::new();
        for other in &others {
            // The others' streams to the newcomer, and its stream to them.
            for (source, target) in [(other.as_str(), jid), (jid, other.as_str())] {
                forwards.push(Forward {
                    sid: self.new_sid(),
                    source: source.to_string(),
                    target: target.to_string(),
                });
            }
        }
        let r = self.room_mut(room);
        r.participants.push(Participant {
            jid: jid.to_string(),
            sid: sid.to_string(),
        });
        r.forwards.extend(forwards.iter().cloned());
        steps.extend(forwards.into_iter().map(Step::StartForward));
        Ok(steps)
    }

    /// `jid` leaves `room` (its session ended): every forwarded session
    /// carrying its stream or going to it ends.
    pub fn leave(&mut self, room: &str, jid: &str) -> Vec<Step> {
        let Some(r) = self.rooms.get_mut(room) else {
            return Vec::new();
        };
        let before = r.participants.len();
        r.participants.retain(|p| p.jid != jid);
        if r.participants.len() == before {
            return Vec::new();
        }
        let (ended, kept): (Vec<Forward>, Vec<Forward>) = r
            .forwards
            .drain(..)
            .partition(|f| f.source == jid || f.target == jid);
        r.forwards = kept;
        ended.into_iter().map(Step::EndForward).collect()
    }

    /// `jid` is gone from every room (unavailable presence).
    pub fn leave_everywhere(&mut self, jid: &str) -> Vec<(String, Participant, Vec<Step>)> {
        let rooms: Vec<(String, Participant)> = self
            .rooms
            .iter()
            .filter_map(|(name, r)| {
                r.participants
                    .iter()
                    .find(|p| p.jid == jid)
                    .map(|p| (name.clone(), p.clone()))
            })
            .collect();
        rooms
            .into_iter()
            .map(|(room, p)| {
                let steps = self.leave(&room, jid);
                (room, p, steps)
            })
            .collect()
    }

    /// A forwarded session ended on its own (the target hung it up, or it
    /// failed); the participants stay.
    pub fn forward_ended(&mut self, room: &str, sid: &str) -> Option<Forward> {
        let r = self.rooms.get_mut(room)?;
        let i = r.forwards.iter().position(|f| f.sid == sid)?;
        Some(r.forwards.remove(i))
    }

    /// Which session `sid` with peer `peer` (full JID) is, if any.
    pub fn session(&self, peer: &str, sid: &str) -> Option<SessionRef> {
        for (name, r) in &self.rooms {
            if r.participants.iter().any(|p| p.jid == peer && p.sid == sid) {
                return Some(SessionRef::Incoming {
                    room: name.clone(),
                    participant: peer.to_string(),
                });
            }
            if let Some(f) = r.forwards.iter().find(|f| f.target == peer && f.sid == sid) {
                return Some(SessionRef::Forward {
                    room: name.clone(),
                    forward: f.clone(),
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "lounge@sfu.localhost";
    const A: &str = "alice@localhost/a";
    const B: &str = "bob@localhost/b";
    const C: &str = "carol@localhost/c";

    fn pairs(steps: &[Step]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::StartForward(f) => Some((f.source.clone(), f.target.clone())),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    fn ended(steps: &[Step]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::EndForward(f) => Some((f.source.clone(), f.target.clone())),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    fn p(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn everyone_gets_every_other_stream_and_never_their_own() {
        let mut rooms = Rooms::new(0, "fwd");
        assert_eq!(rooms.join(ROOM, A, "sa").unwrap(), vec![]);
        assert_eq!(
            pairs(&rooms.join(ROOM, B, "sb").unwrap()),
            vec![p(A, B), p(B, A)]
        );
        assert_eq!(
            pairs(&rooms.join(ROOM, C, "sc").unwrap()),
            vec![p(A, C), p(B, C), p(C, A), p(C, B)]
        );
        let r = rooms.get(ROOM).unwrap();
        assert_eq!(r.forwards.len(), 6, "n·(n−1) forwarded sessions");
        assert!(r.forwards.iter().all(|f| f.source != f.target));
        let mut sids: Vec<&str> = r.forwards.iter().map(|f| f.sid.as_str()).collect();
        sids.sort();
        sids.dedup();
        assert_eq!(sids.len(), 6, "forwarded sids are unique");
    }

    #[test]
    fn leaving_ends_the_sessions_carrying_its_stream_and_going_to_it() {
        let mut rooms = Rooms::new(0, "fwd");
        for (j, s) in [(A, "sa"), (B, "sb"), (C, "sc")] {
            rooms.join(ROOM, j, s).unwrap();
        }
        let steps = rooms.leave(ROOM, A);
        assert_eq!(ended(&steps), vec![p(A, B), p(A, C), p(B, A), p(C, A)]);
        let r = rooms.get(ROOM).unwrap();
        assert_eq!(r.participants.len(), 2);
        assert_eq!(r.forwards.len(), 2, "B↔C stay");
        assert!(rooms.leave(ROOM, A).is_empty(), "leaving twice is a no-op");
        assert!(rooms.session(A, "sa").is_none());
    }

    #[test]
    fn the_limit_refuses_a_caller_beyond_it() {
        let mut rooms = Rooms::new(0, "fwd");
        rooms.set_max_participants(ROOM, 2);
        rooms.join(ROOM, A, "sa").unwrap();
        rooms.join(ROOM, B, "sb").unwrap();
        let refused = rooms.join(ROOM, C, "sc").unwrap_err();
        assert_eq!(
            refused,
            Refusal::Full {
                room: ROOM.into(),
                max: 2
            }
        );
        assert!(refused.to_string().contains("at most 2 participants"));
        assert_eq!(rooms.get(ROOM).unwrap().participants.len(), 2);
        assert_eq!(rooms.get(ROOM).unwrap().forwards.len(), 2, "nothing for C");
        // A place frees up: C gets in.
        rooms.leave(ROOM, B);
        assert_eq!(
            pairs(&rooms.join(ROOM, C, "sc").unwrap()),
            vec![p(A, C), p(C, A)]
        );
        // 0 = no limit; other rooms use the default.
        rooms.set_max_participants(ROOM, 0);
        assert!(rooms.join(ROOM, B, "sb").is_ok());
        let mut limited = Rooms::new(1, "x");
        limited.join("r@sfu", A, "1").unwrap();
        assert!(limited.join("r@sfu", B, "2").is_err());
    }

    #[test]
    fn calling_again_replaces_the_old_session() {
        let mut rooms = Rooms::new(0, "fwd");
        rooms.join(ROOM, A, "sa1").unwrap();
        rooms.join(ROOM, B, "sb").unwrap();
        let steps = rooms.join(ROOM, A, "sa2").unwrap();
        assert_eq!(ended(&steps), vec![p(A, B), p(B, A)]);
        assert!(steps.contains(&Step::EndIncoming(Participant {
            jid: A.into(),
            sid: "sa1".into()
        })));
        assert_eq!(pairs(&steps), vec![p(A, B), p(B, A)]);
        assert_eq!(
            rooms.session(A, "sa2"),
            Some(SessionRef::Incoming {
                room: ROOM.into(),
                participant: A.into()
            })
        );
        assert!(rooms.session(A, "sa1").is_none());
    }

    #[test]
    fn sessions_are_found_by_peer_and_sid() {
        let mut rooms = Rooms::new(0, "fwd");
        rooms.join(ROOM, A, "sa").unwrap();
        let steps = rooms.join(ROOM, B, "sb").unwrap();
        let to_b = steps
            .iter()
            .find_map(|s| match s {
                Step::StartForward(f) if f.target == B => Some(f.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            rooms.session(B, &to_b.sid),
            Some(SessionRef::Forward {
                room: ROOM.into(),
                forward: to_b.clone()
            })
        );
        assert!(rooms.session(A, &to_b.sid).is_none(), "only its target");
        // B hangs up that one forwarded session: the rest stays.
        assert_eq!(rooms.forward_ended(ROOM, &to_b.sid), Some(to_b.clone()));
        assert!(rooms.session(B, &to_b.sid).is_none());
        assert_eq!(rooms.get(ROOM).unwrap().participants.len(), 2);
        assert_eq!(rooms.get(ROOM).unwrap().forwards.len(), 1);
    }

    #[test]
    fn presence_gone_leaves_every_room() {
        let mut rooms = Rooms::new(0, "fwd");
        rooms.join(ROOM, A, "sa").unwrap();
        rooms.join(ROOM, B, "sb").unwrap();
        rooms.join("other@sfu.localhost", A, "sa2").unwrap();
        let gone = rooms.leave_everywhere(A);
        assert_eq!(gone.len(), 2);
        let lounge = gone.iter().find(|(r, _, _)| r == ROOM).unwrap();
        assert_eq!(lounge.1.sid, "sa");
        assert_eq!(ended(&lounge.2), vec![p(A, B), p(B, A)]);
        assert_eq!(rooms.active().count(), 1, "only B's room is active");
    }
}

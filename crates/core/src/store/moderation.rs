//! Moderation as the store sees it: why someone left (kicked, banned,
//! removed), role and affiliation changes in words for the timeline, and
//! voice requests passed on by a room.

use chrono::{DateTime, Utc};

use super::{Event, JoinState, LeftKind, Store};
use confab_proto::OccupantInfo;
use confab_proto::admin::VoiceRequest;
use confab_proto::muc::{Affiliation, MucPresence, Role, StatusCode, status_code_text};

/// Why an occupant's unavailable presence took them out of the room
/// (destruction aside): XEP-0045 status codes 301, 307, 321/322/332/333.
pub fn leave_kind(codes: &[StatusCode]) -> LeftKind {
    if codes.contains(&StatusCode::Banned) {
        LeftKind::Banned
    } else if codes.contains(&StatusCode::Kicked) {
        LeftKind::Kicked
    } else if codes.iter().any(|c| c.is_removal()) {
        LeftKind::Removed
    } else {
        LeftKind::Left
    }
}

/// ` by alice (reason)`, or the parts that are there.
fn by_and_why(actor: Option<&str>, reason: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(a) = actor.filter(|a| !a.is_empty()) {
        s.push_str(" by ");
        s.push_str(a);
    }
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        s.push_str(&format!(" ({r})"));
    }
    s
}

/// The timeline text (after the nick) of a leave that was not the
/// occupant's own doing: "was kicked by alice (spam)"; `None` for a
/// plain leave.
pub fn leave_line(p: &MucPresence) -> Option<String> {
    let (what, reason) = match leave_kind(&p.codes) {
        LeftKind::Left | LeftKind::Destroyed => return None,
        LeftKind::Kicked => ("was kicked", p.reason.clone()),
        LeftKind::Banned => ("was banned", p.reason.clone()),
        LeftKind::Removed => (
            "was removed",
            p.reason.clone().or_else(|| {
                p.codes
                    .iter()
                    .find_map(|c| status_code_text(*c).filter(|_| c.is_removal()))
                    .map(str::to_string)
            }),
        ),
    };
    Some(format!(
        "{what}{}",
        by_and_why(p.actor.as_deref(), reason.as_deref())
    ))
}

fn affiliation_words(a: Affiliation) -> &'static str {
    match a {
        Affiliation::Owner => "an owner",
        Affiliation::Admin => "an admin",
        Affiliation::Member => "a member",
        Affiliation::Outcast => "banned",
        Affiliation::None => "",
    }
}

/// The timeline text (after the nick) of a role or affiliation change:
/// "now has voice", "is now a member", …; `None` when neither changed.
pub fn change_line(old: &OccupantInfo, new: &MucPresence) -> Option<String> {
    let (a0, a1) = (old.affiliation, new.info.affiliation);
    let (r0, r1) = (old.role, new.info.role);
    let what = if a0 != a1 {
        match a1 {
            Affiliation::None => format!("is no longer {}", affiliation_words(a0)),
            a => format!("is now {}", affiliation_words(a)),
        }
    } else if r0 != r1 {
        match (r0, r1) {
            (_, Role::Moderator) => "is now a moderator".to_string(),
            (Role::Moderator, Role::Participant) => "is no longer a moderator".to_string(),
            (_, Role::Participant) => "now has voice".to_string(),
            (_, Role::Visitor) => "no longer has voice".to_string(),
            (_, Role::None) => return None,
        }
    } else {
        return None;
    };
    let by = match (
        new.actor.as_deref().filter(|a| !a.is_empty()),
        new.reason.as_deref().filter(|r| !r.is_empty()),
    ) {
        (Some(a), Some(r)) => format!(" (by {a}: {r})"),
        (Some(a), None) => format!(" (by {a})"),
        (None, Some(r)) => format!(" ({r})"),
        (None, None) => String::new(),
    };
    Some(format!("{what}{by}"))
}

impl Store {
    /// A room we are in passes on a visitor's request for voice.
    pub(super) fn apply_voice_request(
        &mut self,
        vr: VoiceRequest,
        _now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(r) = self.rooms.get(&vr.room) else {
            return;
        };
        if r.state != JoinState::Joined {
            return;
        }
        out.push(Event::VoiceRequest {
            room: vr.room.to_string(),
            nick: vr.nick,
            jid: vr.jid,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::joining;
    use confab_proto::fixtures::occupant;
    use jid::BareJid;

    fn presence(codes: &[u16], actor: Option<&str>, reason: Option<&str>) -> MucPresence {
        let mut p = occupant("r@c", "bob").unavailable().codes(codes).build();
        p.reason = reason.map(str::to_string);
        p.actor = actor.map(str::to_string);
        p
    }

    fn room() -> BareJid {
        BareJid::new("r@c").unwrap()
    }

    fn joined() -> Store {
        use crate::store::Input;
        use confab_proto::Incoming;
        let mut s = joining(&room(), "alice", Utc::now());
        for (nick, role, codes) in [
            ("bob", Role::Visitor, vec![]),
            ("alice", Role::Moderator, vec![110]),
        ] {
            let mut p = presence(&codes, None, None);
            p.nick = nick.into();
            p.available = true;
            p.info.role = role;
            p.info.show = "available";
            s.apply(Input::Incoming(Incoming::MucPresence(p)), Utc::now());
        }
        s
    }

    fn apply(s: &mut Store, p: MucPresence) -> Vec<Event> {
        use confab_proto::Incoming;
        s.apply(
            crate::store::Input::Incoming(Incoming::MucPresence(p)),
            Utc::now(),
        )
    }

    fn last_line(s: &Store) -> (super::super::Kind, String, String) {
        let m = s
            .room(&room())
            .unwrap()
            .messages
            .iter()
            .next_back()
            .unwrap();
        (m.kind, m.nick.clone().unwrap_or_default(), m.body.clone())
    }

    #[test]
    fn voice_and_kick_of_others_in_the_store() {
        use super::super::Kind;
        let mut s = joined();
        // Bob gets voice: an update event and a line.
        let mut p = presence(&[], Some("alice"), None);
        p.available = true;
        p.info.role = Role::Participant;
        p.info.show = "available";
        let ev = apply(&mut s, p);
        let j = ev[0].to_json();
        assert_eq!(j["action"], "update");
        assert_eq!(j["role"], "participant");
        assert_eq!(j["actor"], "alice");
        assert!(j.get("kind").is_none(), "{j}");
        assert_eq!(
            last_line(&s),
            (
                Kind::Moderation,
                "bob".into(),
                "now has voice (by alice)".into()
            )
        );
        // Bob is kicked: a leave that says so, and a line.
        let ev = apply(&mut s, presence(&[307], Some("alice"), Some("spam")));
        let j = ev[0].to_json();
        assert_eq!(j["action"], "leave");
        assert_eq!(j["kind"], "kicked");
        assert_eq!(j["reason"], "spam");
        assert_eq!(j["actor"], "alice");
        assert_eq!(
            last_line(&s),
            (
                Kind::Moderation,
                "bob".into(),
                "was kicked by alice (spam)".into()
            )
        );
        assert!(s.room(&room()).unwrap().occupants.get("bob").is_none());
    }

    #[test]
    fn voice_requests_only_from_rooms_we_are_in() {
        let mut s = joined();
        let vr = |r: &str| VoiceRequest {
            room: BareJid::new(r).unwrap(),
            nick: Some("bob".into()),
            jid: None,
            role: Some("participant".into()),
        };
        let mut out = Vec::new();
        s.apply_voice_request(vr("r@c"), Utc::now(), &mut out);
        s.apply_voice_request(vr("other@c"), Utc::now(), &mut out);
        assert_eq!(out.len(), 1);
        let j = out[0].to_json();
        assert_eq!(j["event"], "voice-request");
        assert_eq!(j["room"], "r@c");
        assert_eq!(j["nick"], "bob");
        assert!(j.get("jid").is_none());
    }

    #[test]
    fn leaves_in_words() {
        assert_eq!(leave_kind(&[]), LeftKind::Left);
        assert_eq!(leave_kind(&[StatusCode::Kicked]), LeftKind::Kicked);
        assert_eq!(leave_kind(&[StatusCode::Banned]), LeftKind::Banned);
        assert_eq!(
            leave_kind(&[StatusCode::RemovalFromRoom]),
            LeftKind::Removed
        );
        assert_eq!(leave_line(&presence(&[], None, None)), None);
        assert_eq!(
            leave_line(&presence(&[307], Some("alice"), Some("spam"))).as_deref(),
            Some("was kicked by alice (spam)")
        );
        assert_eq!(
            leave_line(&presence(&[301], None, None)).as_deref(),
            Some("was banned")
        );
        assert_eq!(
            leave_line(&presence(&[321], None, None)).as_deref(),
            Some("was removed (removed because of an affiliation change)")
        );
    }

    #[test]
    fn changes_in_words() {
        let info = |role, affiliation| OccupantInfo {
            role,
            affiliation,
            ..OccupantInfo::default()
        };
        let mut p = presence(&[], Some("alice"), None);
        p.info = info(Role::Participant, Affiliation::None);
        assert_eq!(
            change_line(&info(Role::Visitor, Affiliation::None), &p).as_deref(),
            Some("now has voice (by alice)")
        );
        p.actor = None;
        p.info = info(Role::Visitor, Affiliation::None);
        assert_eq!(
            change_line(&info(Role::Participant, Affiliation::None), &p).as_deref(),
            Some("no longer has voice")
        );
        p.info = info(Role::Participant, Affiliation::Member);
        assert_eq!(
            change_line(&info(Role::Participant, Affiliation::None), &p).as_deref(),
            Some("is now a member")
        );
        p.info = info(Role::Participant, Affiliation::None);
        assert_eq!(
            change_line(&info(Role::Participant, Affiliation::Member), &p).as_deref(),
            Some("is no longer a member")
        );
        p.info = info(Role::Moderator, Affiliation::Admin);
        assert_eq!(
            change_line(&info(Role::Participant, Affiliation::None), &p).as_deref(),
            Some("is now an admin")
        );
        p.info = info(Role::Participant, Affiliation::None);
        assert_eq!(
            change_line(&info(Role::Participant, Affiliation::None), &p),
            None
        );
    }
}

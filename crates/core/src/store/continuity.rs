//! History and identity in rooms: XEP-0308 corrections, XEP-0421
//! occupant-ids across nick changes and rejoins, and rooms that dropped
//! us silently (XEP-0410 self-ping).

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::room::Correct;
use super::{Event, JoinState, Room, Store};
use confab_proto::correction::Correction;
use confab_proto::{ErrorInfo, OccupantInfo, RoomMessage};

/// Occupant-ids remembered per room (beyond those present) at most.
pub const MAX_OCCUPANT_IDS: usize = 10_000;

/// Remembers which nick an occupant-id has now; returns the nick it had
/// before, if that was another one.
pub(super) fn note_occupant(r: &mut Room, nick: &str, info: &OccupantInfo) -> Option<String> {
    let id = info.occupant_id.as_ref()?;
    // Bounded: past it only the ids of people present are kept.
    let bound = MAX_OCCUPANT_IDS.max(2 * r.occupants.len());
    if r.occupant_ids.len() >= bound && !r.occupant_ids.contains_key(id) {
        let present = &r.occupants;
        r.occupant_ids
            .retain(|i, n| present.get(n).and_then(|o| o.info.occupant_id.as_ref()) == Some(i));
    }
    let before = r.occupant_ids.insert(id.clone(), nick.to_string());
    before.filter(|b| b != nick)
}

impl Store {
    pub(super) fn apply_correction(
        &mut self,
        c: Correction,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        // An OMEMO correction the app did not decrypt: its fallback text
        // never replaces a line (the app said why it failed).
        if c.encrypted.is_some() {
            return;
        }
        let Some(r) = self.rooms.get_mut(&c.room) else {
            return;
        };
        let own = c.nick.as_deref() == Some(r.own_nick.as_str());
        match r.messages.correct(&c.replaces, c.nick.as_deref(), &c.body) {
            Correct::Done(m) => {
                // Not yet archived: the archive gets the corrected body.
                for (conv, j) in self.journal.iter_mut().rev() {
                    if *conv == c.room && j.seq == m.seq && j.id == m.id {
                        j.body = m.body.clone();
                        j.edited = true;
                    }
                }
                out.push(Event::Correction {
                    room: c.room.clone(),
                    nick: c.nick,
                    replaces: c.replaces,
                    body: c.body,
                    own,
                    delayed: c.delayed,
                    time: c.time.unwrap_or(now).to_rfc3339(),
                    id: c.id,
                });
            }
            // A live correction is news even when it says the same
            // again; a replayed one (MUC history, archive) is not.
            Correct::Unchanged if !c.delayed => out.push(Event::Correction {
                room: c.room.clone(),
                nick: c.nick,
                replaces: c.replaces,
                body: c.body,
                own,
                delayed: false,
                time: c.time.unwrap_or(now).to_rfc3339(),
                id: c.id,
            }),
            // Replayed, or someone else's message: ignored.
            Correct::Unchanged | Correct::WrongSender => {}
            Correct::NotFound => {
                // The original is not here (older than what we hold): show
                // the new text as a message, so that it is not lost.
                self.apply_room_message(
                    RoomMessage {
                        room: c.room,
                        nick: c.nick,
                        body: c.body,
                        id: c.id,
                        stanza_id: c.stanza_id,
                        time: c.time,
                        delayed: c.delayed,
                        occupant_id: None,
                        reply: None,
                        encrypted: None,
                        e2e: c.e2e,
                    },
                    now,
                    out,
                );
            }
        }
    }

    pub(super) fn apply_dropped(
        &mut self,
        room: BareJid,
        error: ErrorInfo,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(r) = self.rooms.get_mut(&room) else {
            return;
        };
        if r.state != JoinState::Joined {
            return;
        }
        // The session rejoins: occupants not seen again are gone.
        r.state = JoinState::Rejoining;
        r.generation += 1;
        self.push_error(Some(room.clone()), error.clone(), now);
        out.push(Event::Dropped {
            room: room.to_string(),
            condition: error.condition,
            text: error.text,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Input;
    use confab_proto::Incoming;
    use confab_proto::fixtures::el;
    use xmpp_parsers::presence::Presence;

    fn room() -> BareJid {
        BareJid::new("coven@chat.shakespeare.lit").unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn apply(s: &mut Store, inc: Incoming) -> Vec<Event> {
        s.apply(Input::Incoming(inc), t0())
    }

    fn joined() -> Store {
        let mut s = crate::fixtures::joining(&room(), "thirdwitch", t0());
        apply(
            &mut s,
            presence(
                "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>",
            ),
        );
        s
    }

    fn presence(xml: &str) -> Incoming {
        let p = Presence::try_from(el(xml)).unwrap();
        confab_proto::classify_presence(&p)
    }

    fn message(xml: &str) -> Incoming {
        let m = xmpp_parsers::message::Message::try_from(el(xml)).unwrap();
        confab_proto::classify_message(&m)
    }

    fn body_of(s: &Store, id: &str) -> (String, bool) {
        let m = s
            .room(&room())
            .unwrap()
            .messages
            .iter()
            .find(|m| m.id.as_deref() == Some(id))
            .unwrap();
        (m.body.clone(), m.edited)
    }

    #[test]
    fn a_correction_replaces_the_body_of_the_senders_message() {
        let mut s = joined();
        apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='bad1'><body>But soft, what light through yonder airlock breaks?</body></message>",
            ),
        );
        s.take_journal();
        let ev = apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='good1'><body>But soft, what light through yonder window breaks?</body><replace id='bad1' xmlns='urn:xmpp:message-correct:0'/></message>",
            ),
        );
        assert_eq!(ev.len(), 1, "{ev:?}");
        let j = ev[0].to_json();
        assert_eq!(j["event"], "correction");
        assert_eq!(j["replaces"], "bad1");
        assert_eq!(j["nick"], "romeo");
        assert_eq!(j["own"], false);
        assert_eq!(
            body_of(&s, "bad1"),
            (
                "But soft, what light through yonder window breaks?".into(),
                true
            )
        );
        // Not a new line.
        assert_eq!(s.room(&room()).unwrap().messages.len(), 1);
        // Replayed (MUC history, MAM: delayed): nothing new to say.
        let again = apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='good1'><body>But soft, what light through yonder window breaks?</body><replace id='bad1' xmlns='urn:xmpp:message-correct:0'/><delay xmlns='urn:xmpp:delay' from='coven@chat.shakespeare.lit' stamp='2023-11-14T22:13:20Z'/></message>",
            ),
        );
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn a_correction_from_someone_else_is_ignored() {
        let mut s = joined();
        apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='m1'><body>true words</body></message>",
            ),
        );
        let ev = apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/mallory' type='groupchat' id='x'><body>forged words</body><replace id='m1' xmlns='urn:xmpp:message-correct:0'/></message>",
            ),
        );
        assert!(ev.is_empty(), "{ev:?}");
        assert_eq!(body_of(&s, "m1"), ("true words".into(), false));
        assert_eq!(s.room(&room()).unwrap().messages.len(), 1);
    }

    #[test]
    fn a_correction_before_archiving_reaches_the_journal() {
        let mut s = joined();
        apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='m1'><body>tpyo</body></message>",
            ),
        );
        apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='m2'><body>typo</body><replace id='m1' xmlns='urn:xmpp:message-correct:0'/></message>",
            ),
        );
        let j = s.take_journal();
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].1.body, "typo");
        assert!(j[0].1.edited);
    }

    #[test]
    fn a_correction_of_an_unknown_message_is_shown_as_a_message() {
        let mut s = joined();
        let ev = apply(
            &mut s,
            message(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='m2'><body>late fix</body><replace id='gone' xmlns='urn:xmpp:message-correct:0'/></message>",
            ),
        );
        assert_eq!(ev[0].to_json()["event"], "message");
        assert_eq!(ev[0].to_json()["body"], "late fix");
    }

    #[test]
    fn occupant_id_follows_a_person_across_nicks_and_rejoins() {
        // XEP-0421 §4 examples: the room adds <occupant-id/> to presence.
        let mut s = joined();
        let join = |nick: &str, id: &str| {
            presence(&format!(
                "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/{nick}'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='{id}'/></presence>"
            ))
        };
        let leave = |nick: &str, id: &str| {
            presence(&format!(
                "<presence xmlns='jabber:client' type='unavailable' from='coven@chat.shakespeare.lit/{nick}'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='{id}'/></presence>"
            ))
        };
        let ev = apply(
            &mut s,
            join("firstwitch", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        assert_eq!(
            ev[0].to_json()["occupant_id"],
            "dd72603deec90a38ba552f7c68cbcc61bca202cd"
        );
        assert!(ev[0].to_json().get("was").is_none());
        apply(
            &mut s,
            leave("firstwitch", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        // Back under another nick: the same person.
        let ev = apply(
            &mut s,
            join("hecate", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        assert_eq!(ev[0].to_json()["action"], "join");
        assert_eq!(ev[0].to_json()["was"], "firstwitch");
        // Someone else under the old nick is not them.
        let ev = apply(&mut s, join("firstwitch", "another-id"));
        assert!(ev[0].to_json().get("was").is_none());
        // A nick change (303) then a rejoin under that nick: nothing to say.
        apply(
            &mut s,
            presence(
                "<presence xmlns='jabber:client' type='unavailable' from='coven@chat.shakespeare.lit/hecate'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant' nick='queen'/><status code='303'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/></presence>",
            ),
        );
        apply(
            &mut s,
            join("queen", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        apply(
            &mut s,
            leave("queen", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        let ev = apply(
            &mut s,
            join("queen", "dd72603deec90a38ba552f7c68cbcc61bca202cd"),
        );
        assert!(ev[0].to_json().get("was").is_none(), "{ev:?}");
    }

    #[test]
    fn a_silent_drop_makes_the_room_rejoin() {
        let mut s = joined();
        let ev = apply(
            &mut s,
            Incoming::MucDropped {
                room: room(),
                error: ErrorInfo::new("not-acceptable", Some("not in the room".to_string())),
            },
        );
        assert_eq!(ev[0].to_json()["event"], "dropped");
        assert_eq!(ev[0].to_json()["condition"], "not-acceptable");
        assert_eq!(s.room(&room()).unwrap().state, JoinState::Rejoining);
        // Our presence again: joined, as a rejoin.
        let ev = apply(
            &mut s,
            presence(
                "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>",
            ),
        );
        let j = ev.iter().find(|e| e.name() == "joined").unwrap().to_json();
        assert_eq!(j["rejoined"], true);
    }
}

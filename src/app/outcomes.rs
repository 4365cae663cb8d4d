//! Which pending command an event finishes, and the commands whose
//! outcome did not come in time.

use std::time::Duration;

use tokio::time::Instant;

use super::{App, OUTCOME_TIMEOUT, Waiting, err_event};
use crate::session::Tag;
use crate::store::{Event, OccupantAction, Protocol};

/// How much longer a sent command waits while we are offline (as long as
/// the session keeps a message for the connection).
pub(super) const OFFLINE_GRACE: Duration = Duration::from_secs(300);

impl App {
    /// Which pending command an event finishes: (tag, success).
    /// An exact match first (ids); else, in a room of the older
    /// protocols, our echo by its body ([`App::echo_by_body`]).
    pub(super) fn answers(&self, e: &Event) -> Option<(Tag, bool)> {
        self.answers_exactly(e).or_else(|| self.echo_by_body(e))
    }

    fn answers_exactly(&self, e: &Event) -> Option<(Tag, bool)> {
        self.pending.iter().find_map(|(tag, p)| {
            let ok = match (&p.waiting, e) {
                (
                    Waiting::Join { room } | Waiting::JoinThen { room, .. },
                    Event::Joined { room: r, .. },
                ) if room == r => true,
                (
                    Waiting::Join { room } | Waiting::JoinThen { room, .. },
                    Event::Error {
                        room: Some(r),
                        message_id: None,
                        ..
                    },
                ) if room == r => false,
                (
                    Waiting::Nick { room },
                    Event::Occupant {
                        room: r,
                        action: OccupantAction::Nick,
                        is_self: true,
                        ..
                    },
                ) if room == r => true,
                (
                    Waiting::Nick { room },
                    Event::Error {
                        room: Some(r),
                        message_id: None,
                        ..
                    },
                ) if room == r => false,
                (Waiting::Left { room }, Event::Left { room: r, .. }) if room == r => true,
                // `/correct`: the room's echo of our correction.
                (
                    Waiting::Echo { room, id, .. },
                    Event::Correction {
                        room: r,
                        own: true,
                        id: Some(mid),
                        ..
                    },
                ) if room == r && mid == id => true,
                // `/react`, `/retract` in a room: the room's echo.
                (
                    Waiting::Echo { room, id, .. },
                    Event::Reactions {
                        room: Some(r),
                        own: true,
                        id: Some(mid),
                        ..
                    }
                    | Event::Retracted {
                        room: Some(r),
                        own: true,
                        id: Some(mid),
                        ..
                    },
                ) if room == r && mid == id => true,
                (
                    Waiting::Echo { room, id, .. },
                    Event::Message {
                        room: Some(r),
                        own: true,
                        id: Some(mid),
                        ..
                    },
                ) if room == r && mid == id => true,
                (Waiting::Subject { room, .. }, Event::Subject { room: r, nick, .. })
                    if room == r
                        && nick.as_deref()
                            == self.store.room(room).map(|x| x.own_nick.as_str()) =>
                {
                    true
                }
                (
                    Waiting::Echo { id, .. } | Waiting::Subject { id, .. },
                    Event::Error {
                        message_id: Some(mid),
                        ..
                    },
                ) if mid == id => false,
                _ => return None,
            };
            Some((*tag, ok))
        })
    }

    /// Commands whose outcome did not come in time fail. While offline,
    /// what was sent before the connection went waits up to
    /// [`OFFLINE_GRACE`] longer: the session writes it again or reports it
    /// (unconfirmed, failed), and once we are back it gets a whole window
    /// again (`App::restart_deadlines`). Focus requests whose back-off is
    /// over go out again. The loops call it when [`App::next_deadline`]
    /// comes (no tick: an idle app has no deadline and is never woken).
    pub fn tick(&mut self) -> Vec<Event> {
        self.focus_retries_due();
        let now = Instant::now();
        self.chat_state_due(now);
        let mut out = self.direct_due(now);
        out.extend(self.rejoin_due(now));
        let late: Vec<Tag> = self
            .pending
            .iter()
            .filter(|(_, p)| self.fails_at(p).is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        out.extend(late.into_iter().map(|tag| {
            let p = self.pending.remove(&tag).expect("pending");
            let what = match p.waiting {
                Waiting::Join { .. } | Waiting::JoinThen { .. } => {
                    "the room did not answer the join"
                }
                Waiting::Echo { .. } => "the room did not echo the message",
                Waiting::Subject { .. } => "the room did not confirm the subject",
                Waiting::Nick { .. } => "the room did not confirm the nick change",
                Waiting::Left { .. } => "the room did not confirm the leave",
                Waiting::Sent | Waiting::SentChat { .. } => "not sent in time",
                Waiting::Iq { .. } => "no answer in time",
                Waiting::Call => "the call did not connect in time",
                Waiting::Record => "the recording did not answer in time",
                Waiting::Device => "the audio device did not open in time",
                Waiting::Transfer => "the transfer did not end in time",
            };
            err_event(
                &p.command,
                "remote-server-timeout",
                format!("{what} within {} s", OUTCOME_TIMEOUT.as_secs()),
            )
        }));
        out
    }

    /// The next moment [`App::tick`] has something to do: the earliest
    /// command deadline (with the offline grace) or focus back-off;
    /// `None` when nothing waits on time (then the loops sleep until an
    /// event comes). It changes only with the events the app takes and
    /// the commands it runs: the loops ask again after each of them.
    pub fn next_deadline(&self) -> Option<Instant> {
        let commands = self.pending.values().filter_map(|p| self.fails_at(p));
        commands
            .chain(self.focus_next_retry())
            .chain(self.chat_state_deadline())
            .chain(self.direct_deadline())
            .chain(self.rejoin_deadline())
            .min()
    }

    /// When a pending command fails for want of its outcome.
    fn fails_at(&self, p: &super::Pending) -> Option<Instant> {
        let online = self.store.connection == crate::store::Connection::Online;
        let grace = if online || !p.sent {
            Duration::ZERO
        } else {
            OFFLINE_GRACE
        };
        p.deadline.map(|d| d + grace)
    }

    /// Our echo in a generic conferencing or groupchat 1.0 room whose
    /// service writes new message ids and drops our XEP-0359 origin-id
    /// (services older than it): a message of ours — from our temporary
    /// JID (`app/conference.rs` names it with our nick) or our
    /// `room/nick` — with the body we sent. The oldest such `/say` first:
    /// rooms echo in order. XEP-0045 rooms keep the id (or the
    /// origin-id), and only those count there.
    fn echo_by_body(&self, e: &Event) -> Option<(Tag, bool)> {
        let Event::Message {
            room: Some(r),
            own: true,
            private: false,
            body: b,
            ..
        } = e
        else {
            return None;
        };
        if self.store.room(r)?.protocol == Protocol::Muc {
            return None;
        }
        self.pending
            .iter()
            .filter(|(_, p)| {
                matches!(&p.waiting, Waiting::Echo { room: pr, body, .. } if pr == r && body == b)
            })
            .map(|(tag, _)| *tag)
            .min()
            .map(|tag| (tag, true))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use jid::BareJid;

    use super::*;
    use crate::command::Command;
    use crate::protocol::Incoming;
    use crate::protocol::message::RoomMessage;
    use crate::session::SessionEvent;
    use crate::store::Input;

    /// An app in `room` (joined over `protocol`) as `me`.
    fn joined(room: &BareJid, protocol: Protocol) -> App {
        let (mut app, _cmds) = App::for_tests("me@localhost", 0);
        app.store.apply(
            Input::Joining {
                room: room.clone(),
                nick: "me".into(),
                protocol,
            },
            Utc::now(),
        );
        app.on_session(App::self_presence(room, "me"));
        app
    }

    fn say(app: &mut App, room: &BareJid, body: &str) -> (String, Tag) {
        let line = format!("/say {room} {body}");
        let cmd = Command::Say {
            room: room.clone(),
            text: body.into(),
        };
        let tag = app.execute(cmd, &line).pending.expect("pending");
        (line, tag)
    }

    /// The room's echo with an id of its own, no origin-id.
    fn echo(app: &mut App, room: &BareJid, body: &str) -> Vec<Event> {
        app.on_session(SessionEvent::Incoming(Incoming::RoomMessage(RoomMessage {
            room: room.clone(),
            nick: Some("me".into()),
            body: body.into(),
            id: Some(format!("room-{}", crate::protocol::origin::random_id("x"))),
            stanza_id: None,
            time: None,
            delayed: false,
            occupant_id: None,
            reply: None,
            encrypted: None,
            e2e: None,
        })))
    }

    fn oks(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Ok { command } => Some(command.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_old_protocol_rooms_new_ids_still_end_say_oldest_first() {
        let room = BareJid::new("old@legacy.localhost").unwrap();
        let mut app = joined(&room, Protocol::Groupchat);
        let (first, t1) = say(&mut app, &room, "same");
        let (_, t2) = say(&mut app, &room, "same");
        assert_eq!(oks(&echo(&mut app, &room, "same")), [first]);
        assert!(!app.is_pending(t1) && app.is_pending(t2));
        // Another body is not our echo.
        assert!(oks(&echo(&mut app, &room, "other")).is_empty());
        assert!(app.is_pending(t2));
    }

    #[test]
    fn a_muc_room_echo_needs_our_id() {
        let room = BareJid::new("r@conference.localhost").unwrap();
        let mut app = joined(&room, Protocol::Muc);
        let (_, tag) = say(&mut app, &room, "hello");
        assert!(oks(&echo(&mut app, &room, "hello")).is_empty());
        assert!(app.is_pending(tag));
    }

    #[test]
    fn a_sent_message_outlives_an_outage_and_gets_a_whole_window_when_back() {
        let room = BareJid::new("r@conference.localhost").unwrap();
        let mut app = joined(&room, Protocol::Muc);
        let me: jid::FullJid = "me@localhost/r".parse().unwrap();
        app.on_session(SessionEvent::Online {
            jid: me.clone(),
            reconnect: false,
        });
        let (line, tag) = say(&mut app, &room, "hello");
        app.on_session(SessionEvent::Sent { tag });
        let lost = || SessionEvent::Disconnected {
            reason: crate::session::SessionError::Closed,
            retry_in: Duration::from_secs(1),
        };
        app.on_session(lost());
        // Its window ran out while offline: it waits.
        app.pending.get_mut(&tag).unwrap().deadline = Some(Instant::now() - Duration::from_secs(1));
        assert!(app.tick().is_empty());
        assert!(app.is_pending(tag));
        // Back: a whole window again.
        app.on_session(SessionEvent::Online {
            jid: me.clone(),
            reconnect: true,
        });
        assert!(app.tick().is_empty());
        let deadline = app.pending[&tag].deadline.unwrap();
        assert!(deadline > Instant::now() + OUTCOME_TIMEOUT - Duration::from_secs(5));
        // The room's rejoin starts it again (its catch-up brings what the
        // lost stream swallowed).
        app.pending.get_mut(&tag).unwrap().deadline = Some(Instant::now() + Duration::from_secs(1));
        let ev = app.on_session(App::self_presence(&room, "me"));
        assert!(ev.iter().any(|e| e.to_json()["rejoined"] == true), "{ev:?}");
        let deadline = app.pending[&tag].deadline.unwrap();
        assert!(deadline > Instant::now() + OUTCOME_TIMEOUT - Duration::from_secs(5));
        // An outage longer than the grace fails it, with what it was.
        app.on_session(lost());
        app.pending.get_mut(&tag).unwrap().deadline =
            Some(Instant::now() - OFFLINE_GRACE - Duration::from_secs(1));
        let failed = app.tick();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].to_json()["command"], line.as_str());
        assert!(!app.is_pending(tag));
    }

    #[test]
    fn the_next_deadline_is_the_earliest_outcome_due_and_none_when_idle() {
        let room = BareJid::new("r@conference.localhost").unwrap();
        let mut app = joined(&room, Protocol::Muc);
        let me: jid::FullJid = "me@localhost/r".parse().unwrap();
        app.on_session(SessionEvent::Online {
            jid: me,
            reconnect: false,
        });
        // The join's own requests (disco#info, the catch-up) wait on
        // time too; once they are answered (here: forgotten) nothing is
        // under way: nothing due, no timer.
        assert!(app.next_deadline().is_some());
        app.pending.clear();
        assert_eq!(app.next_deadline(), None, "{:?}", app.pending);
        // Held by the session (not sent yet): no deadline runs.
        let (_, first) = say(&mut app, &room, "one");
        assert_eq!(app.next_deadline(), None);
        app.on_session(SessionEvent::Sent { tag: first });
        let d1 = app.pending[&first].deadline.unwrap();
        assert_eq!(app.next_deadline(), Some(d1));
        // The earliest of two.
        let (_, second) = say(&mut app, &room, "two");
        app.on_session(SessionEvent::Sent { tag: second });
        app.pending.get_mut(&second).unwrap().deadline = Some(d1 - Duration::from_secs(10));
        assert_eq!(app.next_deadline(), Some(d1 - Duration::from_secs(10)));
        // Offline, sent ones wait the grace longer.
        app.on_session(SessionEvent::Disconnected {
            reason: crate::session::SessionError::Closed,
            retry_in: Duration::from_secs(1),
        });
        assert_eq!(
            app.next_deadline(),
            Some(d1 - Duration::from_secs(10) + OFFLINE_GRACE)
        );
        // Past it, the tick fails the command, and the next deadline is
        // the other one's.
        app.pending.get_mut(&second).unwrap().deadline =
            Some(Instant::now() - OFFLINE_GRACE - Duration::from_secs(1));
        let due = app.next_deadline().unwrap();
        assert!(due <= Instant::now());
        assert_eq!(app.tick().len(), 1);
        assert!(!app.is_pending(second));
        assert_eq!(app.next_deadline(), Some(d1 + OFFLINE_GRACE));
    }
}

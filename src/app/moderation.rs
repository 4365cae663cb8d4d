//! The moderation commands (XEP-0045 `muc#admin`): each is one IQ to the
//! room, except `/request-voice`, a message. Failures always carry the
//! condition and a text: the server's, or one saying what was refused.

use jid::{BareJid, Jid};

use super::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::command::admin::{AdminList, Moderate};
use crate::protocol::ErrorInfo;
use crate::protocol::admin;
use crate::protocol::muc::{Affiliation, Role};
use crate::session::SessionCmd;
use crate::store::Event;

/// `ok`, or the error with `what` as its text when the room gave none.
fn set_then(room: &BareJid, what: String) -> IqThen {
    let room = room.clone();
    IqThen::new(move |_, command, result| {
        IqStep::Done(vec![in_room(
            App::result(
                command,
                result.map(|_| ()).map_err(|e| explain(e, &room, &what)),
            ),
            &room,
        )])
    })
}

/// An error names the room it is about.
fn in_room(mut e: Event, room: &BareJid) -> Event {
    if let Event::Error { room: r, .. } = &mut e {
        *r = Some(room.clone());
    }
    e
}

fn explain(mut e: ErrorInfo, room: &BareJid, what: &str) -> ErrorInfo {
    if e.text.as_deref().is_none_or(str::is_empty) {
        e.text = Some(format!("{room} refused to {what}"));
    }
    e
}

impl App {
    /// The occupant `nick` of a room we are in, or the refusal.
    fn occupant_of(&self, room: &BareJid, nick: &str, command: &str) -> Result<(), Box<Event>> {
        self.in_room(room, command)?;
        let present = self
            .store
            .room(room)
            .is_some_and(|r| r.occupants.get(nick).is_some());
        if present {
            Ok(())
        } else {
            Err(refuse(
                command,
                "item-not-found",
                format!("there is nobody called {nick} in {room}"),
            ))
        }
    }

    /// The bare JID `/ban` means: an occupant's real JID (if the room
    /// shows it), or the JID given.
    fn ban_target(
        &self,
        room: &BareJid,
        target: &str,
        command: &str,
    ) -> Result<String, Box<Event>> {
        if let Some(occ) = self.store.room(room).and_then(|r| r.occupants.get(target)) {
            return match &occ.info.jid {
                Some(j) => Ok(j.to_bare().to_string()),
                None => Err(refuse(
                    command,
                    "not-acceptable",
                    format!("{room} does not show {target}'s real JID: ban by JID instead"),
                )),
            };
        }
        if !target.contains('@') {
            return Err(refuse(
                command,
                "item-not-found",
                format!(
                    "there is nobody called {target} in {room} (give a JID to ban someone who is not there)"
                ),
            ));
        }
        match Jid::new(target) {
            Ok(j) => Ok(j.to_bare().to_string()),
            Err(e) => Err(refuse(
                command,
                "jid-malformed",
                format!("{target:?} is not a valid JID: {e}"),
            )),
        }
    }

    pub(super) fn moderate(&mut self, m: Moderate, text: &str) -> Result<Exec, Box<Event>> {
        let room = m.room().clone();
        self.start_moderation(m, text)
            .map_err(|e| Box::new(in_room(*e, &room)))
    }

    fn start_moderation(&mut self, m: Moderate, text: &str) -> Result<Exec, Box<Event>> {
        let room = m.room().clone();
        let to = Some(Jid::from(room.clone()));
        let role = |app: &mut App, nick: &str, r: Role, reason: Option<&str>, what: String| {
            app.occupant_of(&room, nick, text)?;
            Ok(app.start_iq(
                text,
                to.clone(),
                admin::set_role(nick, r, reason),
                true,
                set_then(&room, what),
            ))
        };
        match &m {
            Moderate::Kick { nick, reason, .. } => role(
                self,
                nick,
                Role::None,
                reason.as_deref(),
                format!("kick {nick}"),
            ),
            Moderate::Voice { nick, .. } => role(
                self,
                nick,
                Role::Participant,
                None,
                format!("give {nick} voice"),
            ),
            Moderate::Devoice { nick, .. } => role(
                self,
                nick,
                Role::Visitor,
                None,
                format!("take {nick}'s voice"),
            ),
            Moderate::Role { nick, role: r, .. } => {
                role(self, nick, *r, None, format!("make {nick} {}", r.as_str()))
            }
            Moderate::Ban { target, reason, .. } => {
                let jid = self.ban_target(&room, target, text)?;
                let what = format!("ban {jid}");
                Ok(self.start_iq(
                    text,
                    to,
                    admin::set_affiliation(&jid, Affiliation::Outcast, reason.as_deref()),
                    true,
                    set_then(&room, what),
                ))
            }
            Moderate::Unban { jid, .. } => Ok(self.start_iq(
                text,
                to,
                admin::set_affiliation(&jid.to_string(), Affiliation::None, None),
                true,
                set_then(&room, format!("unban {jid}")),
            )),
            Moderate::Affiliation {
                jid, affiliation, ..
            } => Ok(self.start_iq(
                text,
                to,
                admin::set_affiliation(&jid.to_string(), *affiliation, None),
                true,
                set_then(
                    &room,
                    format!("set the affiliation of {jid} to {}", affiliation.as_str()),
                ),
            )),
            Moderate::List { list, .. } => {
                let payload = match list {
                    AdminList::Affiliation(a) => admin::affiliation_list(*a),
                    AdminList::Role(r) => admin::role_list(*r),
                };
                let list = *list;
                let room2 = room.clone();
                let then = IqThen::new(move |_, command, result| {
                    let items = result.and_then(|q| admin::parse_items(q.as_ref()));
                    IqStep::Done(match items {
                        Ok(items) => vec![
                            Event::AdminList {
                                room: room2.to_string(),
                                list,
                                items,
                            },
                            App::result(command, Ok(())),
                        ],
                        Err(e) => vec![in_room(
                            App::result(
                                command,
                                Err(explain(e, &room2, &format!("list its {}", list.name()))),
                            ),
                            &room2,
                        )],
                    })
                });
                Ok(self.start_iq(text, to, payload, false, then))
            }
            Moderate::RequestVoice { .. } => {
                self.in_room(&room, text)?;
                let own_role = self
                    .store
                    .room(&room)
                    .and_then(|r| r.occupants.get(&r.own_nick).map(|o| o.info.role));
                if matches!(own_role, Some(Role::Participant | Role::Moderator)) {
                    return Err(refuse(
                        text,
                        "not-acceptable",
                        format!("you already have voice in {room}"),
                    ));
                }
                let id = self.message_id();
                let message = admin::voice_request(&room, &id);
                let tag = self.wait(text, Waiting::Sent, false);
                self.session.send(SessionCmd::Message {
                    message: Box::new(message),
                    room: Some(room),
                    tag,
                });
                Ok(Exec::pending(tag))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::occupant;
    use crate::command::{Command, parse};
    use crate::session::SessionEvent;

    fn app_with(
        occupants: &[(&str, Option<&str>)],
    ) -> (App, tokio::sync::mpsc::UnboundedReceiver<SessionCmd>) {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 50);
        app.execute(parse("/join r@c/alice").unwrap(), "/join r@c/alice");
        let mut all: Vec<(&str, Option<&str>, Vec<u16>)> =
            occupants.iter().map(|(n, j)| (*n, *j, vec![])).collect();
        all.push(("alice", None, vec![110]));
        for (nick, jid, codes) in all {
            let mut p = occupant("r@c", nick)
                .role(Role::Participant)
                .show("available")
                .codes(&codes);
            if let Some(jid) = jid {
                p = p.jid(jid);
            }
            app.on_session(SessionEvent::Incoming(p.incoming()));
        }
        while rx.try_recv().is_ok() {}
        (app, rx)
    }

    fn run(app: &mut App, line: &str) -> Exec {
        let Ok(cmd @ Command::Moderate(_)) = parse(line) else {
            panic!("{line}")
        };
        app.execute(cmd, line)
    }

    #[test]
    fn a_nick_is_banned_by_its_real_bare_jid() {
        let (mut app, mut rx) = app_with(&[("bob", Some("bob@localhost/phone")), ("eve", None)]);
        let exec = run(&mut app, "/ban r@c bob spam");
        assert!(exec.pending.is_some());
        match rx.try_recv().unwrap() {
            SessionCmd::Iq { payload, set, .. } => {
                assert!(set);
                assert_eq!(
                    payload,
                    admin::set_affiliation("bob@localhost", Affiliation::Outcast, Some("spam"))
                );
            }
            other => panic!("{other:?}"),
        }
        // The room does not show eve's JID: refused, nothing sent.
        let exec = run(&mut app, "/ban r@c eve");
        let e = exec.events[0].to_json();
        assert_eq!(e["condition"], "not-acceptable");
        assert_eq!(e["room"], "r@c");
        assert!(e["text"].as_str().unwrap().contains("ban by JID"), "{e}");
        assert!(rx.try_recv().is_err());
        // A JID of someone absent is banned as given (bare).
        run(&mut app, "/ban r@c mallory@evil.example/x");
        let Ok(SessionCmd::Iq { payload, .. }) = rx.try_recv() else {
            panic!()
        };
        assert_eq!(
            payload,
            admin::set_affiliation("mallory@evil.example", Affiliation::Outcast, None)
        );
    }

    #[test]
    fn refusals_without_text_get_one() {
        let (mut app, mut rx) = app_with(&[("bob", None)]);
        let exec = run(&mut app, "/kick r@c bob");
        let tag = exec.pending.unwrap();
        assert!(matches!(rx.try_recv(), Ok(SessionCmd::Iq { .. })));
        let out = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new("not-allowed", None)),
        });
        let e = out.last().unwrap().to_json();
        assert_eq!(e["event"], "error");
        assert_eq!(e["command"], "/kick r@c bob");
        assert_eq!(e["condition"], "not-allowed");
        assert_eq!(e["text"], "r@c refused to kick bob");
        // The room's own text is kept.
        let tag = run(&mut app, "/voice r@c bob").pending.unwrap();
        let out = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new("forbidden", Some("No.".to_string()))),
        });
        assert_eq!(out.last().unwrap().to_json()["text"], "No.");
        // You cannot ask for voice you have.
        let e = run(&mut app, "/request-voice r@c").events[0].to_json();
        assert_eq!(e["condition"], "not-acceptable");
    }
}

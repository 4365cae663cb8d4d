//! Invitations: `/invite` (direct XEP-0249 by default, mediated XEP-0045
//! with `--mediated`; in a members-only room where we are owner or admin
//! the invitee is made a member first), `/invitations`, `/accept` (a join)
//! and `/decline` (a mediated decline goes back through the room).

use jid::{BareJid, Jid};

use super::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::protocol::invite::{self, InviteKind};
use crate::protocol::muc::Affiliation;
use crate::session::SessionCmd;
use crate::store::{Event, JoinState};

impl App {
    /// `/invitations`
    pub(super) fn start_invitations(&mut self, text: &str) -> Exec {
        Exec::done(vec![
            Event::Invitations {
                invitations: self.store.invitations.pending().to_vec(),
            },
            App::result(text, Ok(())),
        ])
    }

    /// `/accept ID`: ends like `/join`; the invitation goes once the room
    /// is joined.
    pub(super) fn start_accept(&mut self, text: &str, id: String) -> Result<Exec, Box<Event>> {
        let inv = self.invitation(&id, text)?;
        let room = BareJid::new(&inv.room).expect("invitation rooms are JIDs");
        if self
            .store
            .room(&room)
            .is_some_and(|r| r.state == JoinState::Joined)
        {
            self.store.invitations.take(inv.id);
            return Err(refuse(text, "conflict", format!("already in {room}")));
        }
        // Ends like /join; the invitation goes once the room is joined.
        self.start_join(text, room, None, inv.password, Default::default())
    }

    /// `/decline ID [REASON]`
    pub(super) fn start_decline(
        &mut self,
        text: &str,
        id: String,
        reason: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        let inv = self.invitation(&id, text)?;
        if inv.kind != InviteKind::Mediated {
            self.store.invitations.take(inv.id);
            return Ok(Exec::done(vec![
                Event::Info {
                    text: format!(
                        "invitation {} to {} dropped (a {} invitation has no answer to send)",
                        inv.id,
                        inv.room,
                        inv.kind.as_str()
                    ),
                },
                App::result(text, Ok(())),
            ]));
        }
        let room = BareJid::new(&inv.room).expect("invitation rooms are JIDs");
        let inviter = Jid::new(&inv.from).map_err(|e| {
            refuse(
                text,
                "jid-malformed",
                format!("the inviter {}: {e}", inv.from),
            )
        })?;
        self.store.invitations.take(inv.id);
        let id = self.message_id();
        let message = invite::decline(&room, &inviter, reason.as_deref(), &id);
        let tag = self.wait(text, Waiting::Sent, false);
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
        Ok(Exec::pending(tag))
    }

    fn invitation(
        &self,
        id: &str,
        command: &str,
    ) -> Result<crate::store::InvitationItem, Box<Event>> {
        self.store.invitations.get(id).cloned().ok_or_else(|| {
            refuse(
                command,
                "item-not-found",
                format!("no pending invitation {id} (see /invitations)"),
            )
        })
    }

    pub(super) fn start_invite_send(
        &mut self,
        text: &str,
        room: BareJid,
        to: Jid,
        reason: Option<String>,
        mediated: bool,
    ) -> Exec {
        let password = self
            .store
            .invitations
            .password_of(&room)
            .map(str::to_string);
        if mediated {
            self.store.invitations.note_invited_through(&room);
        }
        let id = self.message_id();
        let message = if mediated {
            invite::mediated(&room, &to, reason.as_deref(), &id)
        } else {
            invite::direct(
                to.clone(),
                &room,
                reason.as_deref(),
                password.as_deref(),
                &id,
            )
        };
        let affiliation = self.store.room(&room).and_then(|r| {
            (r.state == JoinState::Joined)
                .then(|| r.occupants.get(&r.own_nick).map(|o| o.info.affiliation))
                .flatten()
        });
        if !matches!(affiliation, Some(Affiliation::Owner | Affiliation::Admin)) {
            // Not ours to grant membership: the room decides.
            let tag = self.wait(text, Waiting::Sent, false);
            self.session.send(SessionCmd::Message {
                message: Box::new(message),
                room: None,
                tag,
            });
            return Exec::pending(tag);
        }
        // Owner or admin: in a members-only room, make the invitee a member
        // first (else the invitation could not be accepted).
        let invitee = to.to_bare();
        let why = format!("invited by {}", self.opts.account);
        let target = room.clone();
        let then = IqThen::new(move |app, command, info| {
            if !invite::is_members_only(info.as_ref().ok().and_then(Option::as_ref)) {
                // Open room (or no answer about it): just invite.
                app.send_untracked(message.clone());
                return IqStep::Done(vec![App::result(command, Ok(()))]);
            }
            let message = message.clone();
            IqStep::Next {
                events: Vec::new(),
                to: Some(target.clone().into()),
                payload: invite::grant_membership(&invitee, Some(&why)),
                set: true,
                then: IqThen::new(move |app, command, granted| match granted {
                    Ok(_) => {
                        app.send_untracked(message.clone());
                        IqStep::Done(vec![App::result(command, Ok(()))])
                    }
                    // Not a member, so no invitation either.
                    Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                }),
            }
        });
        self.start_iq(
            text,
            Some(room.clone().into()),
            invite::disco_info(),
            false,
            then,
        )
    }

    /// Sends a message whose outcome no command waits for (the command
    /// ends with the IQ chain before it).
    fn send_untracked(&mut self, message: xmpp_parsers::message::Message) {
        let tag = self.tag();
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::command::Command;

    use crate::protocol::Incoming;
    use crate::protocol::invite::{Invitation, NS_CONFERENCE};
    use crate::session::SessionEvent;

    fn app() -> (App, UnboundedReceiver<SessionCmd>) {
        App::for_tests("bob@localhost", 0)
    }

    fn receive(app: &mut App, room: &str, kind: InviteKind, password: Option<&str>) -> Event {
        let from = match kind {
            InviteKind::Mediated => format!("{room}/alice"),
            _ => "alice@localhost/x".to_string(),
        };
        let mut events = app.on_session(SessionEvent::Incoming(Incoming::Invitation(Invitation {
            room: BareJid::new(room).unwrap(),
            from: Jid::new(&from).unwrap(),
            reason: None,
            password: password.map(str::to_string),
            kind,
            continue_chat: false,
            thread: None,
        })));
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn accept_joins_with_the_password() {
        let (mut app, mut rx) = app();
        let e = receive(&mut app, "r@c", InviteKind::Direct, Some("pw"));
        assert_eq!(e.to_json()["id"], 1);
        let exec = app.execute(Command::Accept { id: "1".into() }, "/accept 1");
        assert!(exec.pending.is_some());
        match rx.try_recv().unwrap() {
            SessionCmd::Join { room, password, .. } => {
                assert_eq!(room.as_str(), "r@c");
                assert_eq!(password.as_deref(), Some("pw"));
            }
            other => panic!("{other:?}"),
        }
        // Unknown ids are refused at once, naming the command.
        let exec = app.execute(Command::Accept { id: "7".into() }, "/accept 7");
        let j = exec.events[0].to_json();
        assert_eq!(j["condition"], "item-not-found");
        assert_eq!(j["command"], "/accept 7");
    }

    #[test]
    fn decline_goes_through_the_room_only_when_mediated() {
        let (mut app, mut rx) = app();
        receive(&mut app, "a@c", InviteKind::Legacy, None);
        receive(&mut app, "b@c", InviteKind::Mediated, None);
        let exec = app.execute(
            Command::Decline {
                id: "1".into(),
                reason: None,
            },
            "/decline 1",
        );
        let names: Vec<&str> = exec.events.iter().map(Event::name).collect();
        assert_eq!(names, ["info", "ok"]);
        assert!(rx.try_recv().is_err(), "nothing to send for a legacy one");
        let exec = app.execute(
            Command::Decline {
                id: "2".into(),
                reason: Some("busy".into()),
            },
            "/decline 2",
        );
        assert!(exec.pending.is_some());
        let SessionCmd::Message { message, .. } = rx.try_recv().unwrap() else {
            panic!("a message")
        };
        let m: minidom::Element = (*message).into();
        assert_eq!(m.attr("to"), Some("b@c"));
        let d = m
            .get_child("x", crate::protocol::ns::MUC_USER)
            .and_then(|x| x.get_child("decline", crate::protocol::ns::MUC_USER))
            .unwrap();
        assert_eq!(d.attr("to"), Some("b@c/alice"));
        assert!(app.store.invitations.pending().is_empty());
    }

    #[test]
    fn direct_invitation_carries_the_join_password() {
        let (mut app, mut rx) = app();
        let room = BareJid::new("r@c").unwrap();
        app.execute(
            Command::Join {
                room: room.clone(),
                nick: None,
                password: Some("pw".into()),
                options: Default::default(),
            },
            "/join r@c pw",
        );
        let _ = rx.try_recv();
        let exec = app.execute(
            Command::Invite {
                room,
                to: Jid::new("carol@localhost").unwrap(),
                reason: Some("hi".into()),
                mediated: false,
            },
            "/invite r@c carol@localhost hi",
        );
        assert!(exec.pending.is_some());
        let SessionCmd::Message { message, .. } = rx.try_recv().unwrap() else {
            panic!("a message")
        };
        let m: minidom::Element = (*message).into();
        let x = m.get_child("x", NS_CONFERENCE).unwrap();
        assert_eq!(x.attr("password"), Some("pw"));
        assert_eq!(x.attr("reason"), Some("hi"));
    }
}

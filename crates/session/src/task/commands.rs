//! What the app asks of the session task ([`SessionCmd`]): one dispatch,
//! and a handler per command that decides by the [`Link`] what to do —
//! online it goes out now, offline it is remembered or queued; after a
//! fatal error [`Task::refuse`] answers instead.

use std::time::Duration;

use jid::{BareJid, Jid};
use minidom::Element;
use tokio::time::Instant;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

use super::iqs::iq_request;
use super::{Outgoing, PendingIq, Stream, Task, err};
use crate::{SessionCmd, SessionError, SessionEvent, Tag};
use confab_proto::Show;
use confab_proto::disco;
use confab_proto::iq;
use confab_proto::muc::{self, HistoryRequest};

/// Where a command finds the XMPP stream.
pub(super) enum Link<'a> {
    /// Connected: what the command asks goes out now.
    Online(&'a mut Stream),
    /// Between connections: remembered for the next one, or queued.
    Offline,
}

impl Task {
    /// Carries out one command. `Err` only when writing to the stream
    /// failed (the connection is lost); offline and gone nothing is
    /// written. [`SessionCmd::Shutdown`] ends the loops before it gets
    /// here.
    pub(super) async fn handle(
        &mut self,
        cmd: SessionCmd,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        if let Some(c) = unwritable(&cmd) {
            let why = format!(
                "U+{:04X} cannot be sent: XML does not allow this control character",
                c as u32
            );
            self.refuse_with(
                cmd,
                err("not-acceptable", why.clone()),
                err("not-acceptable", why),
            );
            return Ok(());
        }
        match cmd {
            SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag,
            } => self.join(room, nick, password, history, tag, link).await,
            SessionCmd::Leave { room, reason, tag } => self.leave(room, reason, tag, link).await,
            SessionCmd::Nick { room, nick, tag } => self.nick(room, nick, tag, link).await,
            SessionCmd::Status {
                room,
                show,
                text,
                tag,
            } => self.status(room, show, text, tag, link).await,
            SessionCmd::Message { message, room, tag } => {
                self.message(*message, room, tag, link).await
            }
            SessionCmd::Iq {
                to,
                payload,
                set,
                timeout,
                tag,
            } => self.iq(to, payload, set, timeout, tag, link).await,
            SessionCmd::Presence { presence, tag } => match link {
                Link::Online(stream) => self.send_presence(*presence, tag, stream).await,
                Link::Offline => {
                    self.emit(SessionEvent::SendFailed {
                        tag,
                        error: err("remote-server-not-found", "not connected"),
                    });
                    Ok(())
                }
            },
            SessionCmd::Reply { to, id, answer } => match link {
                Link::Online(stream) => Self::write(stream, iq::reply(to, id, answer).into()).await,
                // The request came over a stream that is gone: nobody to
                // answer.
                Link::Offline => Ok(()),
            },
            // What the session knows of rooms, with or without a stream.
            SessionCmd::CatchUpByMam { room, mam } => {
                self.catch_up_by_mam(room, mam);
                Ok(())
            }
            SessionCmd::AppRejoins { room } => {
                self.app_rejoins(&room);
                Ok(())
            }
            SessionCmd::Groupchat { room } => {
                self.mark_groupchat(room);
                Ok(())
            }
            // The tap is shared with the stream and the attempt under way.
            SessionCmd::XmlConsole { on } => {
                self.tap.set(on);
                Ok(())
            }
            // HTTP does not need the XMPP stream.
            SessionCmd::Http {
                url,
                body,
                timeout,
                tag,
            } => {
                self.http(url, body, timeout, tag);
                Ok(())
            }
            SessionCmd::Transfer(t) => {
                self.transfer(t);
                Ok(())
            }
            SessionCmd::Shutdown => Ok(()),
        }
    }

    /// A command after the session gave up for good (`why`): what needs
    /// the stream is refused, nothing is written; HTTP still goes out.
    pub(super) fn refuse(&self, cmd: SessionCmd, why: &str) {
        self.refuse_with(
            cmd,
            err("remote-server-not-found", why),
            err("remote-server-not-found", format!("not connected: {why}")),
        );
    }

    /// Answers a command that is not carried out: an IQ with `iq_error`,
    /// what else has a tag with `error`.
    fn refuse_with(
        &self,
        cmd: SessionCmd,
        iq_error: confab_proto::ErrorInfo,
        error: confab_proto::ErrorInfo,
    ) {
        let tag = match cmd {
            SessionCmd::Join { tag, .. }
            | SessionCmd::Leave { tag, .. }
            | SessionCmd::Nick { tag, .. }
            | SessionCmd::Status { tag, .. }
            | SessionCmd::Presence { tag, .. }
            | SessionCmd::Message { tag, .. } => tag,
            SessionCmd::Iq { tag, .. } => {
                self.emit(SessionEvent::IqResponse {
                    tag,
                    result: Err(iq_error),
                });
                return;
            }
            SessionCmd::CatchUpByMam { .. }
            | SessionCmd::AppRejoins { .. }
            | SessionCmd::Groupchat { .. }
            | SessionCmd::Reply { .. }
            | SessionCmd::Shutdown => return,
            SessionCmd::XmlConsole { on } => {
                self.tap.set(on);
                return;
            }
            // HTTP does not need the XMPP stream.
            SessionCmd::Http {
                url,
                body,
                timeout,
                tag,
            } => {
                self.http(url, body, timeout, tag);
                return;
            }
            SessionCmd::Transfer(t) => {
                use crate::transfer::TransferCmd;
                if let TransferCmd::Upload { tag, .. } | TransferCmd::Download { tag, .. } = t {
                    self.emit(SessionEvent::TransferDone {
                        tag,
                        result: Err(iq_error),
                    });
                }
                return;
            }
        };
        self.emit(SessionEvent::SendFailed { tag, error });
    }

    /// [`SessionCmd::Transfer`]: each runs on its own task.
    fn transfer(&mut self, t: crate::transfer::TransferCmd) {
        self.transfers
            .handle(t, &self.params.connect.tls_config, &self.ev_tx);
    }

    /// [`SessionCmd::Http`]: the POST runs on its own task.
    fn http(&self, url: String, body: String, timeout: Duration, tag: Tag) {
        crate::http::spawn(
            url,
            body,
            timeout,
            tag,
            self.params.connect.tls_config.clone(),
            self.ev_tx.clone(),
        );
    }

    /// [`SessionCmd::Join`]: the room is remembered (and rejoined after a
    /// reconnection); offline its join waits for the connection.
    async fn join(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        let stream = match link {
            Link::Online(stream) => stream,
            Link::Offline => {
                if self.sm.is_some() {
                    self.resume_todo.joins.push(room.clone());
                }
                self.remember_room(room, nick, password, history);
                return Ok(());
            }
        };
        self.remember_room(room.clone(), nick, password, history);
        let r = &self.rooms[&room];
        match Self::join_presence(&room, r) {
            Ok(p) => Self::write(stream, p.into()).await?,
            Err(e) => {
                self.rooms.remove(&room);
                self.emit(SessionEvent::SendFailed { tag, error: e });
            }
        }
        Ok(())
    }

    /// [`SessionCmd::Leave`]: the room is forgotten with the messages
    /// that waited for it; offline that is all.
    async fn leave(
        &mut self,
        room: BareJid,
        reason: Option<String>,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        let stream = match link {
            Link::Online(stream) => stream,
            Link::Offline => {
                if let Some(r) = self.rooms.remove(&room) {
                    // A stream to resume is still in the room.
                    if self.sm.is_some() && r.joined {
                        let leave = (room.clone(), r.nick.clone(), reason.clone());
                        self.resume_todo.leaves.push(leave);
                    }
                    self.fail_pending(r, "left the room before it was sent");
                }
                self.emit(SessionEvent::Sent { tag });
                return Ok(());
            }
        };
        let Some(r) = self.rooms.remove(&room) else {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err("item-not-found", format!("not in {room}")),
            });
            return Ok(());
        };
        let nick = r.nick.clone();
        tracing::info!(%room, "leaving");
        self.fail_pending(r, "left the room before it was sent");
        match muc::leave(&room, &nick, reason.as_deref()) {
            Ok(p) => {
                Self::write(stream, p.into()).await?;
                self.emit(SessionEvent::Sent { tag });
            }
            Err(e) => self.emit(SessionEvent::SendFailed { tag, error: e }),
        }
        Ok(())
    }

    /// [`SessionCmd::Nick`]: offline the nick of the next join changes.
    async fn nick(
        &mut self,
        room: BareJid,
        nick: String,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        let stream = match link {
            Link::Online(stream) => stream,
            Link::Offline => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.nick = nick;
                }
                self.resume_todo.presence |= self.sm.is_some();
                self.emit(SessionEvent::Sent { tag });
                return Ok(());
            }
        };
        let Some(r) = self.rooms.get(&room) else {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err("item-not-found", format!("not in {room}")),
            });
            return Ok(());
        };
        match muc::occupant_presence(&room, &nick, r.show, r.status.as_deref()) {
            Ok(p) => {
                if r.plain
                    && let Some(r) = self.rooms.get_mut(&room)
                {
                    r.nick_to = Some(nick.clone());
                }
                Self::write(stream, p.into()).await?;
                self.emit(SessionEvent::Sent { tag });
            }
            Err(e) => self.emit(SessionEvent::SendFailed { tag, error: e }),
        }
        Ok(())
    }

    /// [`SessionCmd::Status`]: kept for the next presences; online sent
    /// to one room, or broadcast and to every room.
    async fn status(
        &mut self,
        room: Option<BareJid>,
        show: Show,
        text: Option<String>,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        let stream = match link {
            Link::Online(stream) => stream,
            Link::Offline => {
                self.resume_todo.presence |= self.sm.is_some();
                self.set_status(room.as_ref(), show, text);
                self.emit(SessionEvent::Sent { tag });
                return Ok(());
            }
        };
        self.set_status(room.as_ref(), show, text.clone());
        let mut out: Vec<Presence> = Vec::new();
        match &room {
            Some(j) => {
                if let Some(r) = self.rooms.get(j) {
                    let to = muc::occupant_presence(j, &r.nick, show, text.as_deref());
                    match to {
                        Ok(p) => out.push(p),
                        Err(e) => {
                            self.emit(SessionEvent::SendFailed { tag, error: e });
                            return Ok(());
                        }
                    }
                } else {
                    self.emit(SessionEvent::SendFailed {
                        tag,
                        error: err("item-not-found", format!("not in {j}")),
                    });
                    return Ok(());
                }
            }
            None => {
                // Broadcast presence reaches contacts; rooms get
                // directed presence.
                let mut p = muc::status_presence(None, show, text.as_deref());
                p.payloads.push(disco::caps());
                out.push(p);
                for (j, r) in &self.rooms {
                    if let Ok(p) = muc::occupant_presence(j, &r.nick, show, text.as_deref()) {
                        out.push(p);
                    }
                }
            }
        }
        for p in out {
            Self::write(stream, p.into()).await?;
        }
        self.emit(SessionEvent::Sent { tag });
        Ok(())
    }

    /// [`SessionCmd::Message`]: sent, or queued until the connection (and
    /// its room's join) is there.
    async fn message(
        &mut self,
        message: Message,
        room: Option<BareJid>,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        self.note_message(&message);
        let o = Outgoing {
            stanza: message,
            tag,
            room: room.clone(),
            queued: Instant::now(),
        };
        let Link::Online(stream) = link else {
            self.queue(o);
            return Ok(());
        };
        let wait = room
            .as_ref()
            .and_then(|r| self.rooms.get(r))
            .is_some_and(|r| !r.joined);
        if wait {
            self.queue(o);
        } else {
            let stanza = o.stanza.clone().into();
            if let Err(e) = Self::write_tagged(stream, stanza, Some(tag)).await {
                // Under XEP-0198 it waits among the unacknowledged.
                if stream.sm.is_none() {
                    self.queue(o);
                }
                return Err(e);
            }
            self.emit(SessionEvent::Sent { tag });
        }
        Ok(())
    }

    pub(super) fn queue(&mut self, o: Outgoing) {
        match o.room.as_ref().and_then(|r| self.rooms.get_mut(r)) {
            Some(r) => r.pending.push_back(o),
            None => self.outbox.push_back(o),
        }
    }

    /// [`SessionCmd::Iq`]: sent and remembered by id until its answer or
    /// its deadline; without a stream it fails at once.
    async fn iq(
        &mut self,
        to: Option<Jid>,
        payload: Element,
        set: bool,
        timeout: Duration,
        tag: Tag,
        link: Link<'_>,
    ) -> Result<(), SessionError> {
        let stream = match link {
            Link::Online(stream) => stream,
            Link::Offline => {
                self.emit(SessionEvent::IqResponse {
                    tag,
                    result: Err(err("remote-server-timeout", "not connected")),
                });
                return Ok(());
            }
        };
        let id = self.new_id("iq");
        let iq = iq_request(id.clone(), to.clone(), payload, set);
        self.iqs.insert(
            id,
            PendingIq {
                tag,
                deadline: Instant::now() + timeout,
                to,
            },
        );
        Self::write(stream, iq.into()).await
    }
}

/// The first character of what `cmd` would write that XML cannot carry
/// (a stanza with one cannot be written: the stream would be lost, and
/// under XEP-0198 the stanza resent after every reconnection).
fn unwritable(cmd: &SessionCmd) -> Option<char> {
    use confab_proto::xml_chars::{forbidden, forbidden_in};
    let text = |s: Option<&String>| s.and_then(|s| forbidden_in(s));
    match cmd {
        SessionCmd::Join { nick, password, .. } => {
            forbidden_in(nick).or_else(|| text(password.as_ref()))
        }
        SessionCmd::Leave { reason, .. } => text(reason.as_ref()),
        SessionCmd::Nick { nick, .. } => forbidden_in(nick),
        SessionCmd::Status { text: t, .. } => text(t.as_ref()),
        SessionCmd::Message { message, .. } => forbidden(&Element::from((**message).clone())),
        SessionCmd::Iq { payload, .. } => forbidden(payload),
        SessionCmd::Presence { presence, .. } => forbidden(&Element::from((**presence).clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_xml_cannot_carry_is_found_before_the_write() {
        let to: Jid = "bob@example.org".parse().unwrap();
        let mut m = Message::chat(Some(to));
        m.bodies
            .insert(Default::default(), "clear \u{1b}[2J".into());
        let cmd = |message: Message| SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag: 1,
        };
        assert_eq!(unwritable(&cmd(m.clone())), Some('\u{1b}'));
        m.bodies
            .insert(Default::default(), "fine\ttab\nline".into());
        assert_eq!(unwritable(&cmd(m)), None);
        let join = SessionCmd::Join {
            room: "r@c.example.org".parse().unwrap(),
            nick: "bell\u{7}".into(),
            password: None,
            history: HistoryRequest::Default,
            tag: 2,
        };
        assert_eq!(unwritable(&join), Some('\u{7}'));
        let status = SessionCmd::Status {
            room: None,
            show: Show::Away,
            text: Some("\u{FFFF}".into()),
            tag: 3,
        };
        assert_eq!(unwritable(&status), Some('\u{FFFF}'));
    }
}

//! What the app asks of the session task ([`SessionCmd`]): online it
//! goes out now, offline it is remembered or queued, after a fatal error
//! it is refused.

use tokio::time::Instant;
use xmpp_parsers::presence::Presence;

use super::iqs::iq_request;
use super::{Outgoing, PendingIq, Stream, Task, err};
use crate::{SessionCmd, SessionEvent};
use confab_proto::disco;
use confab_proto::iq;
use confab_proto::muc;

impl Task {
    pub(super) fn refuse(&self, cmd: SessionCmd, why: &str) {
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
                    result: Err(err("remote-server-not-found", why)),
                });
                return;
            }
            SessionCmd::CatchUpByMam { .. }
            | SessionCmd::AppRejoins { .. }
            | SessionCmd::Groupchat { .. }
            | SessionCmd::Reply { .. }
            | SessionCmd::Shutdown => {
                return;
            }
            // HTTP does not need the XMPP stream.
            http @ SessionCmd::Http { .. } => {
                self.http(http);
                return;
            }
        };
        self.emit(SessionEvent::SendFailed {
            tag,
            error: err("remote-server-not-found", format!("not connected: {why}")),
        });
    }

    /// [`SessionCmd::Http`]: the POST runs on its own task.
    pub(super) fn http(&self, cmd: SessionCmd) {
        if let SessionCmd::Http {
            url,
            body,
            timeout,
            tag,
        } = cmd
        {
            crate::http::spawn(
                url,
                body,
                timeout,
                tag,
                self.params.connect.tls_config.clone(),
                self.ev_tx.clone(),
            );
        }
    }

    /// A command while there is no stream: remember or queue it.
    pub(super) fn handle_offline(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag: _,
            } => {
                self.remember_room(room, nick, password, history);
            }
            SessionCmd::Leave { room, tag, .. } => {
                if let Some(r) = self.rooms.remove(&room) {
                    for o in r.pending {
                        self.emit(SessionEvent::SendFailed {
                            tag: o.tag,
                            error: err("recipient-unavailable", "left the room before it was sent"),
                        });
                    }
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Nick { room, nick, tag } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.nick = nick;
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Status {
                room,
                show,
                text,
                tag,
            } => {
                self.set_status(room.as_ref(), show, text);
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Message { message, room, tag } => {
                self.note_message(&message);
                self.queue(Outgoing {
                    stanza: *message,
                    tag,
                    room,
                    queued: Instant::now(),
                });
            }
            SessionCmd::Iq { tag, .. } => {
                self.emit(SessionEvent::IqResponse {
                    tag,
                    result: Err(err("remote-server-timeout", "not connected")),
                });
            }
            SessionCmd::CatchUpByMam { room, mam } => self.catch_up_by_mam(room, mam),
            SessionCmd::AppRejoins { room } => self.app_rejoins(&room),
            http @ SessionCmd::Http { .. } => self.http(http),
            SessionCmd::Groupchat { room } => self.mark_groupchat(room),
            SessionCmd::Presence { tag, .. } => self.emit(SessionEvent::SendFailed {
                tag,
                error: err("remote-server-not-found", "not connected"),
            }),
            // The request came over a stream that is gone: nobody to answer.
            SessionCmd::Reply { .. } | SessionCmd::Shutdown => {}
        }
    }

    pub(super) fn queue(&mut self, o: Outgoing) {
        match o.room.as_ref().and_then(|r| self.rooms.get_mut(r)) {
            Some(r) => r.pending.push_back(o),
            None => self.outbox.push_back(o),
        }
    }

    pub(super) async fn handle_online(
        &mut self,
        cmd: SessionCmd,
        stream: &mut Stream,
    ) -> Result<(), String> {
        match cmd {
            SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag,
            } => {
                self.remember_room(room.clone(), nick, password, history);
                let r = &self.rooms[&room];
                match Self::join_presence(&room, r) {
                    Ok(p) => Self::write(stream, p.into()).await?,
                    Err(e) => {
                        self.rooms.remove(&room);
                        self.emit(SessionEvent::SendFailed { tag, error: e });
                    }
                }
            }
            SessionCmd::Leave { room, reason, tag } => {
                let Some(r) = self.rooms.remove(&room) else {
                    self.emit(SessionEvent::SendFailed {
                        tag,
                        error: err("item-not-found", format!("not in {room}")),
                    });
                    return Ok(());
                };
                let nick = r.nick.clone();
                self.fail_pending(r, "left the room before it was sent");
                match muc::leave(&room, &nick, reason.as_deref()) {
                    Ok(p) => {
                        Self::write(stream, p.into()).await?;
                        self.emit(SessionEvent::Sent { tag });
                    }
                    Err(e) => self.emit(SessionEvent::SendFailed { tag, error: e }),
                }
            }
            SessionCmd::Nick { room, nick, tag } => {
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
            }
            SessionCmd::Status {
                room,
                show,
                text,
                tag,
            } => {
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
                            if let Ok(p) = muc::occupant_presence(j, &r.nick, show, text.as_deref())
                            {
                                out.push(p);
                            }
                        }
                    }
                }
                for p in out {
                    Self::write(stream, p.into()).await?;
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Message { message, room, tag } => {
                self.note_message(&message);
                let o = Outgoing {
                    stanza: *message,
                    tag,
                    room: room.clone(),
                    queued: Instant::now(),
                };
                let wait = room
                    .as_ref()
                    .and_then(|r| self.rooms.get(r))
                    .is_some_and(|r| !r.joined);
                if wait {
                    self.queue(o);
                } else {
                    let stanza = o.stanza.clone().into();
                    if let Err(e) = Self::write(stream, stanza).await {
                        self.queue(o);
                        return Err(e);
                    }
                    self.emit(SessionEvent::Sent { tag });
                }
            }
            SessionCmd::Iq {
                to,
                payload,
                set,
                timeout,
                tag,
            } => {
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
                Self::write(stream, iq.into()).await?;
            }
            SessionCmd::CatchUpByMam { room, mam } => self.catch_up_by_mam(room, mam),
            SessionCmd::AppRejoins { room } => self.app_rejoins(&room),
            SessionCmd::Reply { to, id, answer } => {
                Self::write(stream, iq::reply(to, id, answer).into()).await?;
            }
            http @ SessionCmd::Http { .. } => self.http(http),
            SessionCmd::Groupchat { room } => self.mark_groupchat(room),
            SessionCmd::Presence { presence, tag } => {
                self.send_presence(*presence, tag, stream).await?;
            }
            SessionCmd::Shutdown => {}
        }
        Ok(())
    }
}

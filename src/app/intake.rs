//! Session events into the app: the one place they are routed (to the
//! commands waiting for them, to the features that answer IQ requests, to
//! the store), and the commands their store events finish.

use chrono::Utc;
use jid::BareJid;
use tokio::time::Instant;

use super::{App, IqThen, OUTCOME_TIMEOUT, Waiting, err_event, store_input};
use crate::protocol::muc::StatusCode;
use crate::protocol::{ErrorInfo, Incoming, owner};
use crate::session::{SessionCmd, SessionEvent, Tag};
use crate::store::{Connection, Event, Input};

impl App {
    /// Takes a session event: updates the store, finishes the commands it
    /// answers. Returns the events to show, in order.
    ///
    /// Each event reaches the store in at most one `Store::apply`: the
    /// outcomes of requests go to the commands waiting for them, IQ
    /// requests to the features that answer them (a browse push: one
    /// `Input::Batch`), archive results to the catch-up; everything else
    /// is put in the store's terms first (temporary JIDs of conference
    /// rooms, replays the archive has) and applied once ([`App::intake`]).
    pub fn on_session(&mut self, ev: SessionEvent) -> Vec<Event> {
        if matches!(
            ev,
            SessionEvent::Online { .. } | SessionEvent::Resumed { .. }
        ) {
            self.restart_deadlines();
        }
        if let SessionEvent::Online { .. } = ev {
            self.account_connected();
        }
        // OMEMO decrypted first: everything after sees the plaintext.
        let (ev, omemo_events) = self.omemo_intake(ev);
        let Some(ev) = ev else {
            return omemo_events;
        };
        let mut out = omemo_events;
        out.extend(match ev {
            SessionEvent::Sent { tag } => self.on_sent(tag),
            SessionEvent::HttpResponse { tag, result } => self.on_http_response(tag, result),
            SessionEvent::IqResponse { tag, result } => self.on_iq_response(tag, result),
            SessionEvent::SendFailed { tag, error } => self.on_send_failed(tag, error),
            SessionEvent::IqRequest(req) => self.on_iq_request(req),
            SessionEvent::Incoming(Incoming::MamResult(r)) => self.on_mam_result(r),
            SessionEvent::Unconfirmed { room, messages } => self.on_unconfirmed(room, messages),
            SessionEvent::Xml { dir, xml } => self.on_xml(dir, xml),
            SessionEvent::TransferProgress { tag, progress } => {
                self.on_transfer_progress(tag, progress)
            }
            SessionEvent::TransferDone { tag, result } => self.on_transfer_done(tag, result),
            SessionEvent::Incoming(Incoming::CallMessage(m)) => self.on_call_message(m),
            SessionEvent::Incoming(Incoming::MessageError { from, id, error }) => {
                match self.call_message_error(from.as_ref(), id.as_deref(), &error) {
                    Some(events) => events,
                    None => self.intake(SessionEvent::Incoming(Incoming::MessageError {
                        from,
                        id,
                        error,
                    })),
                }
            }
            ev => self.intake(ev),
        });
        out
    }

    /// Back online: what was sent before the connection went gets a whole
    /// outcome window again (offline, no deadline runs out: the session
    /// writes it again, or reports it unconfirmed or failed).
    fn restart_deadlines(&mut self) {
        let fresh = Instant::now() + OUTCOME_TIMEOUT;
        for p in self.pending.values_mut() {
            if p.sent && p.deadline.is_some() {
                p.deadline = Some(fresh);
            }
        }
    }

    /// A room rejoined after a lost connection: the messages and subject
    /// we sent it before get a whole outcome window from now.
    fn restart_room_deadlines(&mut self, room: &BareJid) {
        let fresh = Instant::now() + OUTCOME_TIMEOUT;
        for p in self.pending.values_mut() {
            let to = match &p.waiting {
                Waiting::Echo { room: r, .. } | Waiting::Subject { room: r, .. } => r,
                _ => continue,
            };
            if p.sent && to == room && p.deadline.is_some_and(|d| d < fresh) {
                p.deadline = Some(fresh);
            }
        }
    }

    /// Our stanza is written: commands that waited for that end (a chat
    /// message enters the store now).
    fn on_sent(&mut self, tag: Tag) -> Vec<Event> {
        let mut results = Vec::new();
        let Some(p) = self.pending.get_mut(&tag) else {
            return results;
        };
        p.sent = true;
        p.deadline = Some(Instant::now() + OUTCOME_TIMEOUT);
        let offline = self.store.connection != Connection::Online;
        match p.waiting.clone() {
            Waiting::Sent => results.extend(self.finish_ok(tag)),
            Waiting::SentChat {
                to,
                body,
                id,
                private,
                reply,
                e2e,
            } => {
                let p = self.pending.remove(&tag).expect("pending");
                results.extend(self.store.apply(
                    Input::SentChat {
                        to,
                        body,
                        id,
                        private,
                        reply,
                        e2e,
                    },
                    Utc::now(),
                ));
                results.push(Event::Ok { command: p.command });
            }
            // Offline, a nick change is only remembered for the
            // rejoin: done.
            Waiting::Nick { .. } if offline => results.extend(self.finish_ok(tag)),
            // Offline there is no room to confirm the leave.
            Waiting::Left { .. } if offline => results.extend(self.finish_ok(tag)),
            _ => {}
        }
        results
    }

    /// The answer to an IQ of ours: to its continuation.
    fn on_iq_response(
        &mut self,
        tag: Tag,
        result: Result<Option<minidom::Element>, ErrorInfo>,
    ) -> Vec<Event> {
        let mut results = Vec::new();
        if let Some(p) = self.pending.remove(&tag) {
            let Waiting::Iq(then) = p.waiting else {
                return results;
            };
            let step = (then.0)(self, &p.command, result);
            results.extend(self.follow_step(tag, p.command, step));
            // A room's catch-up ended: our unconfirmed messages there are
            // settled.
            let ended: Vec<(BareJid, bool)> = results
                .iter()
                .filter_map(|e| match e {
                    Event::Mam { room, complete, .. } => {
                        BareJid::new(room).ok().map(|r| (r, *complete))
                    }
                    _ => None,
                })
                .collect();
            for (room, complete) in ended {
                let more = self.unconfirmed_settle(&room, complete);
                results.extend(more);
            }
            // A new room configured: XEP-0194 may publish it now.
            let more = self.contacts_after_events(&results);
            results.extend(more);
        }
        results
    }

    /// A stanza of ours could not be sent: its command fails.
    fn on_send_failed(&mut self, tag: Tag, error: ErrorInfo) -> Vec<Event> {
        let Some(p) = self.pending.remove(&tag) else {
            return Vec::new();
        };
        vec![Event::Error {
            command: (!p.command.is_empty()).then_some(p.command),
            room: None,
            condition: error.condition,
            text: error.text,
            message_id: None,
        }]
    }

    /// A stanza or a change of the connection: into the store's terms,
    /// one `apply`, then the commands it answers and what follows from
    /// its events.
    fn intake(&mut self, ev: SessionEvent) -> Vec<Event> {
        // Temporary JIDs of conference rooms become room/name.
        let Some(ev) = self.conference_incoming(ev) else {
            return Vec::new();
        };
        // A replayed line older than the room's window.
        if self.known_in_archive(&ev) {
            return Vec::new();
        }
        let mut results = Vec::new();
        if let SessionEvent::Fatal(e) = &ev {
            // Nothing under way can finish now.
            let tags: Vec<Tag> = self.pending.keys().copied().collect();
            for tag in tags {
                let p = self.pending.remove(&tag).expect("pending");
                results.push(err_event(
                    &p.command,
                    &e.condition,
                    e.text.clone().unwrap_or_default(),
                ));
            }
        }
        let events = match store_input::store_input(ev) {
            Some(input) => self.store.apply(input, Utc::now()),
            None => Vec::new(),
        };
        let mut out = Vec::with_capacity(events.len() + results.len());
        for e in events {
            match self.answers(&e) {
                None if self.joined_new_room(&e) => {
                    // After a server restart the room may be new: it stays
                    // locked for the others until configured.
                    let Event::Joined { room, .. } = &e else {
                        unreachable!()
                    };
                    let room = room.clone();
                    out.push(e);
                    let tag = self.wait("", Waiting::Join { room }, true);
                    self.request_instant_config(tag);
                }
                Some((tag, true)) if self.needs_instant_config(tag, &e) => {
                    // A new room stays locked until configured: accept the
                    // defaults (XEP-0045 instant room) before saying ok.
                    out.push(e);
                    self.request_instant_config(tag);
                }
                Some((tag, true)) if self.joins_then(tag) => {
                    out.push(e);
                    out.extend(self.continue_join(tag));
                }
                Some((tag, true)) => {
                    out.push(e);
                    out.extend(self.finish_ok(tag));
                }
                Some((tag, false)) => {
                    // The error is the command's result: say which command.
                    let p = self.pending.remove(&tag).expect("pending");
                    out.push(match e {
                        Event::Error {
                            room,
                            condition,
                            text,
                            message_id,
                            ..
                        } => Event::Error {
                            command: (!p.command.is_empty()).then_some(p.command),
                            room,
                            condition,
                            text,
                            message_id,
                        },
                        other => other,
                    });
                }
                None => out.push(e),
            }
        }
        // Our messages to a room we are back in wait from its rejoin (its
        // catch-up brings the echoes a lost stream swallowed).
        for e in &out {
            if let Event::Joined {
                room,
                rejoined: true,
                ..
            } = e
            {
                self.restart_room_deadlines(room);
            }
        }
        // MAM catch-up on joins, corrections into the archive.
        let more = self.after_events(&out);
        out.extend(more);
        // Rooms entered through a Jitsi focus: rejoins ask it again.
        self.focus_after_events(&out);
        // XEP-0194 publications.
        let more = self.contacts_after_events(&out);
        out.extend(more);
        // Back after a lost connection (a resumed stream keeps both):
        // carbons on, the account's archive caught up. (After the first
        // login the loops ask, with the roster.)
        let reconnected = out.iter().any(|e| matches!(e, Event::Reconnected { .. }));
        if reconnected {
            self.account_online();
        }
        // A conference call waits for the connection and re-joins (a
        // resumed stream keeps it as it was); a one-to-one call ends.
        if reconnected || out.iter().any(|e| matches!(e, Event::Resumed { .. })) {
            out.extend(self.call_back_online(!reconnected));
        }
        if self.store.connection != Connection::Online {
            out.extend(self.call_lost());
        }
        out.extend(results);
        out
    }

    /// `e` says we are in a room that the join created (status 201).
    fn joined_new_room(&self, e: &Event) -> bool {
        let Event::Joined { room, .. } = e else {
            return false;
        };
        self.store
            .room(room)
            .is_some_and(|r| r.codes.contains(&StatusCode::RoomHasBeenCreated))
    }

    fn needs_instant_config(&self, tag: Tag, e: &Event) -> bool {
        matches!(
            self.pending.get(&tag).map(|p| &p.waiting),
            Some(Waiting::Join { .. })
        ) && self.joined_new_room(e)
    }

    fn request_instant_config(&mut self, tag: Tag) {
        let Some(p) = self.pending.get_mut(&tag) else {
            return;
        };
        let Waiting::Join { room } = p.waiting.clone() else {
            return;
        };
        p.waiting = Waiting::Iq(IqThen::ok());
        p.deadline = Some(Instant::now() + OUTCOME_TIMEOUT);
        self.session.send(SessionCmd::Iq {
            to: Some(room.into()),
            payload: owner::submit_config(&[]),
            set: true,
            timeout: OUTCOME_TIMEOUT,
            tag,
        });
    }

    fn finish_ok(&mut self, tag: Tag) -> Option<Event> {
        let p = self.pending.remove(&tag).expect("pending command");
        (!p.command.is_empty()).then_some(Event::Ok { command: p.command })
    }
}

//! The connection life cycle of the session task: connect, run the
//! stream until it is lost or closed, wait with backoff (still taking
//! commands), and what is failed when a connection ends.

use std::time::Duration;

use futures::StreamExt;
use jid::{BareJid, FullJid};
use tokio::time::Instant;
use tokio_xmpp::xmlstream::ReadError;
use xmpp_parsers::presence::Presence;

use super::commands::Link;
use super::deadlines::Timer;
use super::{Outcome, Outgoing, Stream, Task, err};
use crate::connect::{ResumeReq, SmStart, connect_tapped};
use crate::sm::{Sm, Unacked};
use crate::{SessionCmd, SessionError, SessionEvent, Tag};
use confab_proto::muc;
use confab_proto::{ErrorInfo, Incoming, disco};

impl Task {
    pub(crate) async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut backoff = self.params.backoff_min;
        loop {
            attempt += 1;
            self.emit(SessionEvent::Connecting { attempt });
            let params = self.params.connect.clone();
            let resume = self.sm.as_ref().and_then(|sm| {
                sm.resume_token(Instant::now())
                    .map(|(previd, h)| ResumeReq {
                        previd,
                        h,
                        jid: sm.jid().clone(),
                    })
            });
            if resume.is_none()
                && let Some(old) = self.sm.take()
            {
                // The server's window is over: no resumption.
                self.stream_over(Some(old));
            }
            let tap = self.tap.clone();
            let conn = connect_tapped(&params, resume, &tap);
            tokio::pin!(conn);
            let result = loop {
                tokio::select! {
                    r = &mut conn => break r,
                    cmd = self.cmd_rx.recv() => match cmd {
                        None | Some(SessionCmd::Shutdown) => {
                            self.fail_all("the session was closed before it connected");
                            self.emit(SessionEvent::Closed);
                            return;
                        }
                        Some(c) => {
                            // Nothing is written offline: nothing to fail.
                            let _ = self.handle(c, Link::Offline).await;
                        }
                    },
                }
            };
            // Negotiated: the bound stream is read by `wire.rs`.
            let result = result.and_then(|c| {
                let xml = crate::wire::Bound::new(c.stream, params.timeouts)
                    .map_err(crate::connect::io_error)?;
                Ok((xml, c.jid, c.mechanism, c.sm))
            });
            match result {
                Ok((xml, jid, mechanism, sm)) => {
                    attempt = 0;
                    backoff = self.params.backoff_min;
                    self.emit(SessionEvent::LoggedIn {
                        mechanism: mechanism.to_string(),
                    });
                    let mut stream = Stream {
                        xml,
                        sm: None,
                        ack_timeout: self.params.ack_timeout,
                        tap: self.tap.clone(),
                    };
                    let resumed = match sm {
                        SmStart::Resumed { h } => {
                            let mut sm = self.sm.take().expect("a resumption was asked for");
                            match sm.resumed(h) {
                                Ok(rest) => {
                                    stream.sm = Some(sm);
                                    Some(rest)
                                }
                                Err(e) => {
                                    // A nonsense h: this stream cannot go on.
                                    self.stream_over(Some(sm));
                                    self.emit(SessionEvent::Disconnected {
                                        reason: e.into(),
                                        retry_in: backoff,
                                    });
                                    drop(stream);
                                    if self.wait(backoff).await.is_none() {
                                        return;
                                    }
                                    continue;
                                }
                            }
                        }
                        SmStart::Bound { enabled, refused } => {
                            if let Some(old) = self.sm.take() {
                                // Resumption refused: the stream is over.
                                if let Some(reason) = refused {
                                    self.emit(SessionEvent::ResumeRefused { reason });
                                }
                                self.stream_over(Some(old));
                            }
                            stream.sm = enabled.map(|e| Sm::enabled(&e, jid.clone()));
                            None
                        }
                    };
                    let reconnect = self.ever_online;
                    self.ever_online = true;
                    match &resumed {
                        Some(_) => self.emit(SessionEvent::Resumed { jid: jid.clone() }),
                        None => self.emit(SessionEvent::Online {
                            jid: jid.clone(),
                            reconnect,
                        }),
                    }
                    let outcome = self.run_connected(&mut stream, jid, resumed).await;
                    let sm = stream.sm.take();
                    match outcome {
                        Outcome::Shutdown => {
                            self.fail_all("the session was closed");
                            self.emit(SessionEvent::Closed);
                            return;
                        }
                        Outcome::Lost(reason) => {
                            self.stream_lost(sm);
                            self.emit(SessionEvent::Disconnected {
                                reason,
                                retry_in: backoff,
                            });
                        }
                    }
                }
                Err(e) if e.fatal => {
                    self.emit(SessionEvent::Fatal(ErrorInfo::new(
                        &e.condition,
                        Some(e.text.clone()),
                    )));
                    self.fail_all(&format!("not connected: {}", e.text));
                    // Answer whatever still comes, until told to stop.
                    while let Some(cmd) = self.cmd_rx.recv().await {
                        if matches!(cmd, SessionCmd::Shutdown) {
                            break;
                        }
                        self.refuse(cmd, &e.text);
                    }
                    self.emit(SessionEvent::Closed);
                    return;
                }
                Err(e) => {
                    self.emit(SessionEvent::Disconnected {
                        reason: e.into(),
                        retry_in: backoff,
                    });
                }
            }
            if self.wait(backoff).await.is_none() {
                return;
            }
            backoff = (backoff * 2).min(self.params.backoff_max);
        }
    }

    /// Waits before the next attempt, still taking commands (and failing
    /// messages that waited too long: a timer at the oldest one's
    /// expiry, no tick); `None` when the session ended meanwhile.
    async fn wait(&mut self, backoff: Duration) -> Option<()> {
        let wake = Instant::now() + backoff;
        loop {
            let expiry = self.next_outbox_expiry();
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => return Some(()),
                _ = sleep_until(expiry), if expiry.is_some() => self.expire_outbox(),
                cmd = self.cmd_rx.recv() => match cmd {
                    None | Some(SessionCmd::Shutdown) => {
                        self.fail_all("the session was closed while offline");
                        self.emit(SessionEvent::Closed);
                        return None;
                    }
                    Some(c) => {
                        // Nothing is written offline: nothing to fail.
                        let _ = self.handle(c, Link::Offline).await;
                    }
                },
            }
        }
    }

    /// After the stream died for good: IQs in flight fail, rooms need a
    /// rejoin.
    pub(super) fn connection_lost(&mut self) {
        self.self_pings.clear();
        for (_, iq) in self.iqs.drain() {
            let _ = self.ev_tx.send(SessionEvent::IqResponse {
                tag: iq.tag,
                result: Err(err("remote-server-timeout", "the connection was lost")),
            });
        }
        for r in self.rooms.values_mut() {
            r.joined = false;
            r.retries = 0;
            r.retry_at = None;
        }
    }

    fn fail_all(&mut self, why: &str) {
        let mut failed: Vec<Tag> = self.outbox.drain(..).map(|o| o.tag).collect();
        for r in self.rooms.values_mut() {
            failed.extend(r.pending.drain(..).map(|o| o.tag));
        }
        for tag in failed {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err("recipient-unavailable", why),
            });
        }
        for (_, iq) in self.iqs.drain() {
            let _ = self.ev_tx.send(SessionEvent::IqResponse {
                tag: iq.tag,
                result: Err(err("remote-server-timeout", why)),
            });
        }
    }

    /// Messages that waited too long for the connection are failed.
    fn expire_outbox(&mut self) {
        let ttl = self.params.outbox_ttl;
        let now = Instant::now();
        let mut failed = Vec::new();
        let keep = |o: &Outgoing, failed: &mut Vec<Tag>| {
            if now.duration_since(o.queued) >= ttl {
                failed.push(o.tag);
                false
            } else {
                true
            }
        };
        self.outbox.retain(|o| keep(o, &mut failed));
        for r in self.rooms.values_mut() {
            r.pending.retain(|o| keep(o, &mut failed));
        }
        for tag in failed {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err(
                    "recipient-unavailable",
                    format!("not sent: offline for more than {} s", ttl.as_secs()),
                ),
            });
        }
    }

    /// Runs a stream: `resumed` with what the server had not
    /// acknowledged, or new (presence, rejoins, what waited).
    async fn run_connected(
        &mut self,
        stream: &mut Stream,
        jid: FullJid,
        resumed: Option<Vec<Unacked>>,
    ) -> Outcome {
        self.own = Some(jid);
        let ready = match resumed {
            Some(rest) => self.after_resume(stream, rest).await,
            None => self.start_stream(stream).await,
        };
        if let Err(e) = ready {
            return Outcome::Lost(e);
        }
        let reports = stream.xml.reports();
        // No tick: a timer at the earliest deadline, recomputed after
        // everything handled (`deadlines.rs`); none when idle.
        let mut timer = Timer::new();
        loop {
            timer.set(self.next_deadline(stream));
            let step = tokio::select! {
                item = stream.xml.next() => self.on_item(item, stream).await,
                _ = reports.wait() => self.on_dropped(&reports, stream).await,
                cmd = self.cmd_rx.recv() => match cmd {
                    None | Some(SessionCmd::Shutdown) => {
                        self.close(stream).await;
                        return Outcome::Shutdown;
                    }
                    Some(c) => self.handle(c, Link::Online(stream)).await,
                },
                _ = timer.fired() => {
                    self.expire_iqs();
                    self.expire_outbox();
                    match Self::sm_tick(stream).await {
                        Ok(()) => match self.retry_joins(stream).await {
                            Ok(()) => self.self_ping_rooms(stream).await,
                            e => e,
                        },
                        e => e,
                    }
                }
            };
            if let Err(reason) = step {
                return Outcome::Lost(reason);
            }
        }
    }

    /// A new stream: initial presence, rejoins, what the last stream left
    /// unacknowledged, what waited for the connection.
    async fn start_stream(&mut self, stream: &mut Stream) -> Result<(), SessionError> {
        let stream = &mut *stream;
        // Initial presence with our capabilities.
        let mut presence = muc::status_presence(None, self.show, self.status.as_deref());
        presence.payloads.push(disco::caps());
        Self::write(stream, presence.into()).await?;
        // Rejoin every room we were in (but those the app rejoins).
        let joins: Vec<(BareJid, Result<Presence, ErrorInfo>)> = self
            .rooms
            .iter()
            .filter(|(_, r)| !(r.app_rejoins && r.was_joined))
            .map(|(j, r)| (j.clone(), Self::join_presence(j, r)))
            .collect();
        for (room, p) in joins {
            match p {
                Ok(p) => {
                    Self::write(stream, p.into()).await?;
                }
                Err(e) => {
                    self.rooms.remove(&room);
                    self.emit(SessionEvent::Incoming(Incoming::MucPresenceError {
                        room,
                        nick: None,
                        error: e,
                    }));
                }
            }
        }
        // What the last stream left unacknowledged.
        self.after_new_stream(stream).await?;
        self.flush_outbox(stream).await
    }

    /// Messages that waited for the connection (those for a room we are
    /// in wait for its join).
    pub(super) async fn flush_outbox(&mut self, stream: &mut Stream) -> Result<(), SessionError> {
        while let Some(o) = self.outbox.pop_front() {
            if let Some(r) = o.room.as_ref().and_then(|r| self.rooms.get_mut(r)) {
                r.pending.push_back(o);
                continue;
            }
            let tag = o.tag;
            if let Err(e) = Self::write_tagged(stream, o.stanza.clone().into(), Some(tag)).await {
                // Under XEP-0198 it waits among the unacknowledged.
                if stream.sm.is_none() {
                    self.outbox.push_front(o);
                }
                return Err(e);
            }
            self.emit(SessionEvent::Sent { tag });
        }

        Ok(())
    }

    /// Orderly end: unavailable presence (the server tells the rooms),
    /// stream footer, and a short wait for the server's footer.
    async fn close(&mut self, stream: &mut Stream) {
        let _ = Self::write(stream, Presence::unavailable().into()).await;
        let _ = stream.xml.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(item) = stream.xml.next().await {
                if matches!(
                    item,
                    Err(ReadError::StreamFooterReceived) | Err(ReadError::HardError(_))
                ) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Sleeps until `at` (never without one).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

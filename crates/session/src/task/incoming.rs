//! What the stream brings to the session task: stanzas (presences kept in
//! step with the rejoin registry, messages, IQs), malformed ones, the
//! stream's own errors and timeouts.

use chrono::Utc;
use jid::Jid;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamElementError, XmppStreamElement,
};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::MessageType;

use super::{Stream, Task, Track, err, origin};
use crate::{SessionError, SessionEvent};
use confab_proto::{Incoming, classify_message_owned, classify_presence};

impl Task {
    pub(super) async fn on_item(
        &mut self,
        item: Option<Result<FallibleStreamElement, ReadError>>,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        match item {
            None => Err(SessionError::Closed),
            Some(Err(ReadError::SoftTimeout)) => {
                // Quiet for a while: a ping keeps the stream alive, and the
                // stream's hard timeout ends it if nothing comes back.
                let id = self.new_id("ping");
                let ping = Iq::from_get(id, xmpp_parsers::ping::Ping);
                Self::write(stream, ping.into()).await?;
                Self::request_ack_now(stream).await
            }
            Some(Err(ReadError::HardError(e))) => Err(SessionError::Io(e.to_string())),
            Some(Err(ReadError::StreamFooterReceived)) => Err(SessionError::ServerClosed),
            Some(Err(ReadError::ParseError(e))) => {
                self.emit(SessionEvent::Malformed {
                    from: None,
                    text: e.to_string(),
                });
                Ok(())
            }
            Some(Ok(FallibleStreamElement::Err(e))) => {
                if matches!(e, StreamElementError::InvalidStanza { .. }) {
                    Self::count_received(stream, 1);
                }
                self.on_malformed(e, stream).await
            }
            Some(Ok(FallibleStreamElement::Ok(el))) => {
                stream.tap.record(crate::XmlDir::In, &el);
                match el {
                    XmppStreamElement::Stanza(s) => {
                        Self::count_received(stream, 1);
                        self.on_stanza(s, stream).await
                    }
                    XmppStreamElement::SM(n) => self.on_sm(n, stream).await,
                    XmppStreamElement::StreamError(e) => Err(SessionError::Stream(e.0)),
                    _ => Ok(()),
                }
            }
        }
    }

    async fn on_malformed(
        &mut self,
        e: StreamElementError,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let text = e.to_string();
        if let StreamElementError::InvalidStanza { header, name, .. } = &e {
            // An IQ request we cannot read still deserves an answer.
            let is_request = matches!(header.type_.as_deref(), Some("get") | Some("set"));
            if name.to_string() == "iq"
                && is_request
                && let (Some(id), Some(from)) = (
                    &header.id,
                    header.from.as_deref().and_then(|f| Jid::new(f).ok()),
                )
            {
                let reply = Iq::from_error(
                    id.clone(),
                    xmpp_parsers::stanza_error::StanzaError::new(
                        xmpp_parsers::stanza_error::ErrorType::Modify,
                        xmpp_parsers::stanza_error::DefinedCondition::BadRequest,
                        "en",
                        "malformed request",
                    ),
                )
                .with_to(from);
                Self::write(stream, reply.into()).await?;
            }
            // An answer we cannot read (e.g. an old server's error with
            // only a numeric code) still ends the request that waits for it.
            let is_answer = matches!(header.type_.as_deref(), Some("result") | Some("error"));
            let from = header.from.as_deref().and_then(|f| Jid::new(f).ok());
            if name.to_string() == "iq"
                && is_answer
                && let Some(id) = header.id.as_ref()
                && matches!(self.iq_origin(id, from.as_ref()), origin::Origin::Trusted)
                && let Some(p) = self.iqs.remove(id)
            {
                self.emit(SessionEvent::IqResponse {
                    tag: p.tag,
                    result: Err(err(
                        "undefined-condition",
                        format!("the answer could not be read: {text}"),
                    )),
                });
            }
            self.emit(SessionEvent::Malformed {
                from: header.from.clone(),
                text,
            });
        } else {
            self.emit(SessionEvent::Malformed { from: None, text });
        }
        Ok(())
    }

    async fn on_stanza(&mut self, s: Stanza, stream: &mut Stream) -> Result<(), SessionError> {
        self.heard_from(&s);
        match s {
            Stanza::Iq(iq) => self.on_iq(iq, stream).await,
            Stanza::Presence(p) => {
                let inc = self.groupchat_nick_change(classify_presence(&p));
                let flush = match self.track_presence(&inc) {
                    Track::Retrying => return Ok(()),
                    Track::Dropped(room) => {
                        tracing::warn!(%room, "removed from the room (delivery errors); rejoining");
                        self.emit(SessionEvent::Incoming(Incoming::MucDropped {
                            room,
                            error: err(
                                "undefined-condition",
                                "the room removed you because of a technical problem \
                                 (messages to you could not be delivered); rejoining",
                            ),
                        }));
                        return Ok(());
                    }
                    Track::Joined(room) => {
                        tracing::info!(%room, "joined");
                        Some(room)
                    }
                    Track::Nothing => None,
                };
                self.emit(SessionEvent::Incoming(inc));
                if let Some(room) = flush {
                    self.flush_room(&room, stream).await?;
                }
                Ok(())
            }
            Stanza::Message(m) => {
                if m.type_ == MessageType::Groupchat
                    && let Some(from) = &m.from
                {
                    let room = confab_proto::bare(from);
                    if let Some(r) = self.rooms.get_mut(&room) {
                        // Only the room's own delay (MUC history) is
                        // believed: an occupant's stamp in 2099 must not
                        // make the rejoin ask for history "since 2099".
                        // Never later than now.
                        let (t, _) = confab_proto::trusted_delay(&m.payloads, |j| *j == room);
                        let t = t.unwrap_or_else(Utc::now).min(Utc::now());
                        if r.last_seen.is_none_or(|old| old < t) {
                            r.last_seen = Some(t);
                        }
                    }
                }
                let inc = if m.type_ == MessageType::Error {
                    match self.message_error(&m) {
                        Some(inc) => inc,
                        // Forged: reported, not passed on.
                        None => return Ok(()),
                    }
                } else {
                    classify_message_owned(m)
                };
                if self.forged_carbon(&inc) {
                    return Ok(());
                }
                self.emit(SessionEvent::Incoming(inc));
                Ok(())
            }
        }
    }
}

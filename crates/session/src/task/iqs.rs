//! IQ tracking in the session task: requests for us answered (disco) or
//! passed to the app, answers matched to our requests by id (and where the
//! request went), requests that were not answered in time.

use jid::Jid;
use minidom::Element;
use tokio::time::Instant;
use xmpp_parsers::iq::Iq;

use super::{Stream, Task, err, origin};
use crate::{SessionError, SessionEvent};
use confab_proto::iq::IqRequest;
use confab_proto::{ErrorInfo, disco};

impl Task {
    pub(super) async fn on_iq(&mut self, iq: Iq, stream: &mut Stream) -> Result<(), SessionError> {
        match &iq {
            Iq::Get { .. } | Iq::Set { .. } => {
                if let Some(reply) = disco::answer_iq(&iq) {
                    Self::write(stream, reply.into()).await?;
                } else if let Some(req) = IqRequest::from_iq(&iq) {
                    self.emit(SessionEvent::IqRequest(req));
                }
                Ok(())
            }
            Iq::Result { id, from, .. } | Iq::Error { id, from, .. }
                if !matches!(self.iq_origin(id, from.as_ref()), origin::Origin::Trusted) =>
            {
                // Nobody's, or forged (reported): the request still waits.
                Ok(())
            }
            Iq::Result { id, .. } | Iq::Error { id, .. } if self.self_pings.contains_key(id) => {
                self.self_ping_answer(&iq, stream).await
            }
            Iq::Result { id, payload, .. } => {
                if let Some(p) = self.iqs.remove(id) {
                    self.emit(SessionEvent::IqResponse {
                        tag: p.tag,
                        result: Ok(payload.clone()),
                    });
                }
                Ok(())
            }
            Iq::Error { id, error, .. } => {
                if let Some(p) = self.iqs.remove(id) {
                    self.emit(SessionEvent::IqResponse {
                        tag: p.tag,
                        result: Err(ErrorInfo::from_stanza_error(error)),
                    });
                }
                Ok(())
            }
        }
    }

    pub(super) fn expire_iqs(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .iqs
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(p) = self.iqs.remove(&id) {
                self.emit(SessionEvent::IqResponse {
                    tag: p.tag,
                    result: Err(err("remote-server-timeout", "no answer in time")),
                });
            }
        }
    }
}

pub(super) fn iq_request(id: String, to: Option<Jid>, payload: Element, set: bool) -> Iq {
    if set {
        Iq::Set {
            from: None,
            to,
            id,
            payload,
        }
    } else {
        Iq::Get {
            from: None,
            to,
            id,
            payload,
        }
    }
}

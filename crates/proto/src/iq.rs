//! IQ requests addressed to us (get/set from the network) and our answers.
//!
//! The session task answers disco#info and ping itself; every other request
//! goes to the app as an [`IqRequest`], and the feature that owns the
//! payload's namespace answers it (roster pushes, browse pushes, Jingle…).
//! A request nobody claims gets `service-unavailable`.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

/// An IQ get or set from the network.
#[derive(Debug, Clone, PartialEq)]
pub struct IqRequest {
    pub from: Option<Jid>,
    pub id: String,
    /// `true` for `type='set'`, `false` for `get`.
    pub set: bool,
    pub payload: Element,
}

/// What we answer: a result (with or without a payload) or an error.
pub type IqAnswer = Result<Option<Element>, StanzaError>;

impl IqRequest {
    /// The request in `iq`, if it is a get or a set.
    pub fn from_iq(iq: &Iq) -> Option<IqRequest> {
        let (from, id, payload, set) = match iq {
            Iq::Get {
                from, id, payload, ..
            } => (from, id, payload, false),
            Iq::Set {
                from, id, payload, ..
            } => (from, id, payload, true),
            _ => return None,
        };
        Some(IqRequest {
            from: from.clone(),
            id: id.clone(),
            set,
            payload: payload.clone(),
        })
    }

    /// The namespace of the payload (what decides who answers).
    pub fn ns(&self) -> String {
        self.payload.ns()
    }
}

/// An error answer with `condition` and an optional human text.
pub fn error(type_: ErrorType, condition: DefinedCondition, text: &str) -> StanzaError {
    StanzaError::new(type_, condition, "en", text)
}

/// The answer to a request nobody handles.
pub fn unsupported() -> StanzaError {
    error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable, "")
}

/// The IQ that answers request `id` from `to`.
pub fn reply(to: Option<Jid>, id: String, answer: IqAnswer) -> Iq {
    let iq = match answer {
        Ok(payload) => Iq::Result {
            from: None,
            to: None,
            id,
            payload,
        },
        Err(e) => Iq::from_error(id, e),
    };
    match to {
        Some(to) => iq.with_to(to),
        None => iq,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    #[test]
    fn request_round_trip_to_result_and_error() {
        let iq = Iq::try_from(el(
            "<iq xmlns='jabber:client' type='set' id='r1' from='room@legacy.localhost'><query xmlns='jabber:iq:roster'/></iq>",
        ))
        .unwrap();
        let req = IqRequest::from_iq(&iq).unwrap();
        assert!(req.set);
        assert_eq!(req.ns(), "jabber:iq:roster");
        let ok: Element = reply(req.from.clone(), req.id.clone(), Ok(None)).into();
        assert_eq!(ok.attr("type"), Some("result"));
        assert_eq!(ok.attr("id"), Some("r1"));
        assert_eq!(ok.attr("to"), Some("room@legacy.localhost"));
        let err: Element = reply(req.from, req.id, Err(unsupported())).into();
        assert_eq!(err.attr("type"), Some("error"));
        let e = err.get_child("error", "jabber:client").unwrap();
        assert!(e.has_child("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    }

    #[test]
    fn results_are_not_requests() {
        let iq = Iq::try_from(el("<iq xmlns='jabber:client' type='result' id='r2'/>")).unwrap();
        assert!(IqRequest::from_iq(&iq).is_none());
    }
}

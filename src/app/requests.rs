//! IQ requests from the network that the session leaves to the app: each
//! feature answers the namespaces it owns; the rest get
//! `service-unavailable`.

use crate::protocol::iq::{self, IqAnswer, IqRequest};
use crate::session::SessionCmd;
use crate::store::Event;

use super::App;

impl App {
    /// Answers `req` (exactly once) and returns what the user should see.
    /// One arm per feature namespace.
    pub(super) fn on_iq_request(&mut self, req: IqRequest) -> Vec<Event> {
        let (answer, events): (IqAnswer, Vec<Event>) = match req.ns().as_str() {
            crate::protocol::conference::BROWSE => self.on_browse_push(&req),
            crate::protocol::ns::JINGLE => self.on_jingle(req.from.as_ref(), &req.payload),
            crate::protocol::roster::NS_ROSTER => self.on_roster_push(&req),
            _ => (Err(iq::unsupported()), Vec::new()),
        };
        self.session.send(SessionCmd::Reply {
            to: req.from,
            id: req.id,
            answer,
        });
        self.after_reply();
        events
    }
}

#[cfg(test)]
mod tests {
    use minidom::Element;

    use super::*;
    use crate::session::SessionEvent;

    #[test]
    fn unknown_requests_get_service_unavailable() {
        let (mut app, mut cmds) = App::for_tests("me@localhost", 0);
        let payload: Element = "<frob xmlns='urn:example:frob'/>".parse().unwrap();
        let events = app.on_session(SessionEvent::IqRequest(IqRequest {
            from: Some("x@localhost/y".parse().unwrap()),
            id: "q1".into(),
            set: true,
            payload,
        }));
        assert!(events.is_empty());
        let cmd = cmds.try_recv().expect("an answer");
        let SessionCmd::Reply { to, id, answer } = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(to.unwrap().to_string(), "x@localhost/y");
        assert_eq!(id, "q1");
        assert_eq!(
            answer.unwrap_err().defined_condition,
            xmpp_parsers::stanza_error::DefinedCondition::ServiceUnavailable
        );
    }
}

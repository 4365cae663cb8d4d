//! What of the session's reports the store takes in: the one place a
//! [`SessionEvent`] becomes a [`store::Input`](Input).

use crate::session::SessionEvent;
use crate::store::Input;

/// The store's input for a session event; `None` for the outcomes of
/// requests (matched by the app) and IQ requests, which the store does not
/// see.
pub(crate) fn store_input(ev: SessionEvent) -> Option<Input> {
    Some(match ev {
        SessionEvent::Connecting { attempt } => Input::Connecting { attempt },
        SessionEvent::LoggedIn { mechanism } => Input::LoggedIn { mechanism },
        SessionEvent::Online { jid, reconnect } => Input::Online { jid, reconnect },
        SessionEvent::Resumed { jid } => Input::Resumed { jid },
        SessionEvent::ResumeRefused { reason } => Input::ResumeRefused { reason },
        SessionEvent::Disconnected { reason, retry_in } => Input::Disconnected {
            reason: reason.to_string(),
            retry_in,
        },
        SessionEvent::Fatal(error) => Input::Fatal(error),
        SessionEvent::Incoming(inc) => Input::Incoming(inc),
        SessionEvent::Malformed { from, text } => Input::Malformed { from, text },
        SessionEvent::Forged { from, text } => Input::Forged { from, text },
        SessionEvent::StanzaDropped(d) => Input::StanzaDropped(d),
        SessionEvent::Closed => Input::Closed,
        SessionEvent::IqResponse { .. }
        | SessionEvent::HttpResponse { .. }
        | SessionEvent::TransferProgress { .. }
        | SessionEvent::TransferDone { .. }
        | SessionEvent::IqRequest(_)
        | SessionEvent::Unconfirmed { .. }
        | SessionEvent::Sent { .. }
        | SessionEvent::Xml { .. }
        | SessionEvent::SendFailed { .. } => return None,
    })
}

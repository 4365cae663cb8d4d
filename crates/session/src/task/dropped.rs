//! Stanzas the parse guard dropped (`session/guard.rs`): each becomes a
//! [`SessionEvent::StanzaDropped`]; an IQ request among them still gets an
//! error answer.

use jid::Jid;
use xmpp_parsers::iq::Iq;

use super::{Stream, Task};
use crate::guard::Reports;
use crate::{SessionError, SessionEvent};

impl Task {
    /// Stanzas the guard dropped (past the parse limits): reported; an
    /// IQ request among them is answered with an error.
    pub(super) async fn on_dropped(
        &mut self,
        reports: &Reports,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let (drops, lost) = reports.take();
        // The server counted them as stanzas it sent (XEP-0198).
        Self::count_received(stream, drops.len() + lost as usize);
        for d in drops {
            if d.stanza == "iq"
                && matches!(d.type_.as_deref(), Some("get") | Some("set"))
                && let (Some(id), Some(from)) =
                    (&d.id, d.from.as_deref().and_then(|f| Jid::new(f).ok()))
            {
                let reply = Iq::from_error(
                    id.clone(),
                    xmpp_parsers::stanza_error::StanzaError::new(
                        xmpp_parsers::stanza_error::ErrorType::Modify,
                        xmpp_parsers::stanza_error::DefinedCondition::PolicyViolation,
                        "en",
                        d.text.clone(),
                    ),
                )
                .with_to(from);
                Self::write(stream, reply.into()).await?;
            }
            self.emit(SessionEvent::StanzaDropped(d));
        }
        if lost > 0 {
            self.emit(SessionEvent::Malformed {
                from: None,
                text: format!("{lost} more stanzas past the parse limits were dropped unreported"),
            });
        }
        Ok(())
    }
}

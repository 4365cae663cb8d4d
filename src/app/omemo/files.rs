//! Files in an OMEMO conversation (XEP-0454): `/upload` encrypts the
//! file with a fresh AES-256-GCM key and IV (the session's `transfer.rs`),
//! only the ciphertext goes up by XEP-0363 (`app/files.rs`), and the
//! `aesgcm://` link — its fragment is the key — goes only inside an OMEMO
//! message (one-to-one or to the room's members, as `/msg` and `/say`
//! encrypt), never as XEP-0066 OOB nor as a body in the clear.

use jid::{BareJid, Jid};

use crate::app::{App, IqStep, refuse};
use crate::store::Event;

impl App {
    /// Refused before anything goes up when OMEMO cannot work in this run.
    pub(in crate::app) fn omemo_can_send(&self, text: &str) -> Result<(), Box<Event>> {
        if self.omemo.store.is_none() || self.omemo.own.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                format!("{}: not sent", self.omemo_unavailable()),
            ));
        }
        Ok(())
    }

    /// The first step of the encrypted message that carries `link` to
    /// `to` (a room when `room`), under the command's tag.
    pub(in crate::app) fn omemo_link_step(
        &mut self,
        command: &str,
        to: &BareJid,
        room: bool,
        link: String,
    ) -> IqStep {
        if self.omemo_can_send(command).is_err() {
            return IqStep::Done(vec![App::result(
                command,
                Err(confab_proto::ErrorInfo::new(
                    "service-unavailable",
                    Some(format!(
                        "{}: the link is not sent",
                        self.omemo_unavailable()
                    )),
                )),
            )]);
        }
        if room {
            let plan = self.room_plan(command, to, link, true);
            self.next_room_step(plan)
        } else {
            self.omemo_msg_step(Jid::from(to.clone()), link)
        }
    }
}

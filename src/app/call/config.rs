//! `/callconfig ROOM [FIELD=VALUE ...]`: an A/V conference's options
//! through XEP-0050 on `urn:xmpp:av-conferences:config`, shown as a form
//! in the TUI or set from the command line.

use jid::{BareJid, Jid};
use xmpp_parsers::data_forms::DataForm;

use crate::protocol::{ErrorInfo, adhoc, ns, rooms};
use crate::store::Event;

use super::super::{App, Exec, IqStep, IqThen, err_event};

impl App {
    /// `/callconfig ROOM [FIELD=VALUE ...]`: the conference's options
    /// through XEP-0050 on `urn:xmpp:av-conferences:config`.
    pub(in crate::app) fn call_config(
        &mut self,
        text: &str,
        room: BareJid,
        fields: Vec<(String, String)>,
    ) -> Exec {
        let to: Jid = room.clone().into();
        self.start_iq(
            text,
            Some(to.clone()),
            adhoc::execute(ns::AV_CONFERENCES_CONFIG),
            true,
            IqThen::new(move |app, command, result| {
                let cmd = match result.and_then(|r| {
                    r.as_ref()
                        .ok_or_else(|| {
                            ErrorInfo::new("bad-request", Some("an empty answer".into()))
                        })
                        .and_then(adhoc::parse)
                }) {
                    Ok(c) => c,
                    Err(e) => return IqStep::Done(vec![App::result(command, Err(e))]),
                };
                if let Some(e) = cmd.error_text() {
                    return IqStep::Done(vec![err_event(command, "bad-request", e)]);
                }
                let (Some(form), Some(sessionid)) = (cmd.form, cmd.sessionid) else {
                    return IqStep::Done(vec![err_event(
                        command,
                        "bad-request",
                        "the conference sent no configuration form",
                    )]);
                };
                if fields.is_empty() {
                    app.call.config.insert(room.clone(), sessionid);
                    return IqStep::Done(vec![
                        Event::RoomForm {
                            room: room.to_string(),
                            purpose: "callconfig",
                            form: rooms::Form::from(&form),
                        },
                        Event::Ok {
                            command: command.to_string(),
                        },
                    ]);
                }
                match rooms::apply_fields(&form, &fields) {
                    Ok(filled) => IqStep::Next {
                        events: Vec::new(),
                        to: Some(to.clone()),
                        payload: adhoc::submit(ns::AV_CONFERENCES_CONFIG, &sessionid, filled),
                        set: true,
                        then: adhoc_done(),
                    },
                    Err(e) => {
                        app.quiet_iq(
                            to.clone(),
                            adhoc::cancel(ns::AV_CONFERENCES_CONFIG, &sessionid),
                        );
                        IqStep::Done(vec![App::result(command, Err(e))])
                    }
                }
            }),
        )
    }

    /// A form edited in the TUI for `/callconfig`: submitted (`Some`) or
    /// cancelled. `None` when `room` has no configuration session open.
    pub fn finish_call_config(
        &mut self,
        room: &BareJid,
        form: Option<DataForm>,
        text: &str,
    ) -> Option<Exec> {
        let sessionid = self.call.config.remove(room)?;
        let to: Jid = room.clone().into();
        Some(match form {
            Some(form) => self.start_iq(
                text,
                Some(to),
                adhoc::submit(ns::AV_CONFERENCES_CONFIG, &sessionid, form),
                true,
                adhoc_done(),
            ),
            None => self.start_iq(
                text,
                Some(to),
                adhoc::cancel(ns::AV_CONFERENCES_CONFIG, &sessionid),
                true,
                IqThen::ok(),
            ),
        })
    }
}

/// The answer to a submitted ad-hoc form: completed, or its error notes.
fn adhoc_done() -> IqThen {
    IqThen::new(|_, command, result| {
        let r = result.and_then(|r| match r.as_ref().map(adhoc::parse) {
            Some(Ok(c)) => match c.error_text() {
                Some(e) => Err(ErrorInfo::new("not-acceptable", Some(e))),
                None => Ok(()),
            },
            Some(Err(e)) => Err(e),
            None => Ok(()),
        });
        IqStep::Done(vec![App::result(command, r)])
    })
}

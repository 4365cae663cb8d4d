//! The XEP-0050 configuration command of each room
//! (`urn:xmpp:av-conferences:config`): its form with the
//! `max-participants` field, execute, submit and cancel.

use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};

use super::super::component::iq_result;
use super::{MAX_PARTICIPANTS_FIELD, Sfu, iq_error, room_parts};
use confab_proto::{adhoc, ns};

impl Sfu {
    fn config_form(&self, room: &str) -> DataForm {
        let mut form = DataForm::new(
            DataFormType::Form,
            ns::AV_CONFERENCES_CONFIG,
            vec![{
                let mut f = Field::text_single(
                    MAX_PARTICIPANTS_FIELD,
                    &self.rooms.max_participants(room).to_string(),
                );
                f.label = Some("Maximum number of participants (0 = no limit)".into());
                f
            }],
        );
        form.title = Some(format!("Options of the conference {room}"));
        form
    }

    pub(super) fn on_command(&mut self, el: &Element, payload: &Element, to: &str) -> Element {
        if room_parts(to).is_none_or(|(_, d)| d != self.opts.jid) {
            return iq_error(
                el,
                "item-not-found",
                "commands are on rooms (room@service)",
                None,
            );
        }
        let cmd = match adhoc::parse(payload) {
            Ok(c) => c,
            Err(e) => return iq_error(el, &e.condition, e.text.as_deref().unwrap_or(""), None),
        };
        if cmd.node != ns::AV_CONFERENCES_CONFIG {
            return iq_error(el, "item-not-found", "no such command", None);
        }
        let node = ns::AV_CONFERENCES_CONFIG;
        let submitted = cmd
            .form
            .as_ref()
            .filter(|f| f.type_ == DataFormType::Submit);
        match (cmd.requested(), submitted) {
            (adhoc::Action::Cancel, _) => {
                let sid = cmd.sessionid.clone().unwrap_or_default();
                self.commands.remove(&sid);
                iq_result(
                    el,
                    Some(adhoc::response(
                        node,
                        &sid,
                        adhoc::Status::Canceled,
                        &[],
                        None,
                        &[],
                    )),
                )
            }
            (_, Some(form)) => {
                let sid = cmd.sessionid.clone().unwrap_or_else(|| self.new_id());
                self.commands.remove(&sid);
                let value = form
                    .fields
                    .iter()
                    .find(|f| f.var.as_deref() == Some(MAX_PARTICIPANTS_FIELD))
                    .and_then(|f| f.values.first())
                    .map(|v| v.trim().to_string());
                let Some(value) = value else {
                    let form = self.config_form(to);
                    let note = adhoc::Note::info("nothing changed");
                    return iq_result(
                        el,
                        Some(adhoc::response(
                            node,
                            &sid,
                            adhoc::Status::Completed,
                            &[],
                            Some(form),
                            &[note],
                        )),
                    );
                };
                match value.parse::<usize>() {
                    Ok(n) => {
                        self.rooms.set_max_participants(to, n);
                        let text = if n == 0 {
                            format!("{to} takes any number of participants")
                        } else {
                            format!("{to} takes at most {n} participants")
                        };
                        iq_result(
                            el,
                            Some(adhoc::response(
                                node,
                                &sid,
                                adhoc::Status::Completed,
                                &[],
                                None,
                                &[adhoc::Note::info(&text)],
                            )),
                        )
                    }
                    Err(_) => iq_error(
                        el,
                        "bad-request",
                        &format!(
                            "{MAX_PARTICIPANTS_FIELD} must be a whole number (0 = no limit), not {value:?}"
                        ),
                        Some(Element::builder("bad-payload", ns::COMMANDS).build()),
                    ),
                }
            }
            (_, None) => {
                let sid = self.new_id();
                self.commands.insert(sid.clone(), to.to_string());
                iq_result(
                    el,
                    Some(adhoc::response(
                        node,
                        &sid,
                        adhoc::Status::Executing,
                        &[adhoc::Action::Complete],
                        Some(self.config_form(to)),
                        &[],
                    )),
                )
            }
        }
    }
}

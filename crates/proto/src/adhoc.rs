//! XEP-0050 ad-hoc commands on plain elements, both sides: the requester
//! (execute, submit a form, cancel) and the responder (answers with a
//! status, a session id, the allowed actions, a data form and notes).
//! XEP-0521 uses the node `urn:xmpp:av-conferences:config` for room
//! options. Forms go through `rooms::Form` (JSON shape) and
//! `rooms::apply_fields` (`FIELD=VALUE`).

use minidom::Element;
use xmpp_parsers::data_forms::DataForm;

use super::owner::DATA;
use super::{ErrorInfo, bad, nc, ns};

/// An action of a command request (or one offered in `<actions/>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Execute,
    Next,
    Prev,
    Complete,
    Cancel,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Execute => "execute",
            Action::Next => "next",
            Action::Prev => "prev",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Some(match name {
            "execute" => Action::Execute,
            "next" => Action::Next,
            "prev" => Action::Prev,
            "complete" => Action::Complete,
            "cancel" => Action::Cancel,
            _ => return None,
        })
    }
}

/// The status of a command response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Executing,
    Completed,
    Canceled,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Executing => "executing",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Some(match name {
            "executing" => Status::Executing,
            "completed" => Status::Completed,
            "canceled" => Status::Canceled,
            _ => return None,
        })
    }
}

/// A `<note/>`; `kind` is `info`, `warn` or `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: String,
    pub text: String,
}

impl Note {
    pub fn info(text: &str) -> Note {
        Note {
            kind: "info".into(),
            text: text.into(),
        }
    }

    pub fn error(text: &str) -> Note {
        Note {
            kind: "error".into(),
            text: text.into(),
        }
    }
}

/// A `<command/>` element, request or response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    pub node: String,
    pub sessionid: Option<String>,
    /// The requested action (requests; absent means `execute`).
    pub action: Option<Action>,
    /// The status (responses).
    pub status: Option<Status>,
    /// The actions offered in `<actions/>` (responses).
    pub actions: Vec<Action>,
    /// The default action of `<actions execute='…'/>`.
    pub default_action: Option<Action>,
    pub form: Option<DataForm>,
    pub notes: Vec<Note>,
}

impl Command {
    /// The action a request asks for (`execute` when none is given).
    pub fn requested(&self) -> Action {
        self.action.unwrap_or(Action::Execute)
    }

    /// The error notes joined, if any (what a failed command says).
    pub fn error_text(&self) -> Option<String> {
        let e: Vec<&str> = self
            .notes
            .iter()
            .filter(|n| n.kind == "error")
            .map(|n| n.text.as_str())
            .collect();
        (!e.is_empty()).then(|| e.join("; "))
    }
}

fn command(node: &str) -> minidom::ElementBuilder {
    Element::builder("command", ns::COMMANDS).attr(nc("node"), node)
}

/// Requester: `<command node='…' action='execute'/>`.
pub fn execute(node: &str) -> Element {
    command(node).attr(nc("action"), "execute").build()
}

/// Requester: completes session `sessionid` with a submitted form.
pub fn submit(node: &str, sessionid: &str, form: DataForm) -> Element {
    command(node)
        .attr(nc("sessionid"), sessionid)
        .attr(nc("action"), "complete")
        .append(Element::from(form))
        .build()
}

/// Requester: cancels session `sessionid`.
pub fn cancel(node: &str, sessionid: &str) -> Element {
    command(node)
        .attr(nc("sessionid"), sessionid)
        .attr(nc("action"), "cancel")
        .build()
}

/// Responder: a response with `status`, the offered `actions` (the first
/// is the default; none for completed/canceled), an optional form, notes.
pub fn response(
    node: &str,
    sessionid: &str,
    status: Status,
    actions: &[Action],
    form: Option<DataForm>,
    notes: &[Note],
) -> Element {
    let mut b = command(node)
        .attr(nc("sessionid"), sessionid)
        .attr(nc("status"), status.name());
    if let Some(first) = actions.first() {
        let mut a = Element::builder("actions", ns::COMMANDS).attr(nc("execute"), first.name());
        for x in actions {
            a = a.append(Element::builder(x.name(), ns::COMMANDS).build());
        }
        b = b.append(a.build());
    }
    for n in notes {
        b = b.append(
            Element::builder("note", ns::COMMANDS)
                .attr(nc("type"), n.kind.as_str())
                .append(n.text.as_str())
                .build(),
        );
    }
    if let Some(f) = form {
        b = b.append(Element::from(f));
    }
    b.build()
}

/// Reads a `<command/>` (request or response). An unknown action or
/// status, or an unreadable form, is an error that names it.
pub fn parse(el: &Element) -> Result<Command, ErrorInfo> {
    if !el.is("command", ns::COMMANDS) {
        return Err(bad("not an ad-hoc command"));
    }
    let node = el
        .attr("node")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("command without a node"))?;
    let action = match el.attr("action") {
        None => None,
        Some(a) => Some(Action::from_name(a).ok_or_else(|| bad(format!("unknown action {a:?}")))?),
    };
    let status = match el.attr("status") {
        None => None,
        Some(s) => Some(Status::from_name(s).ok_or_else(|| bad(format!("unknown status {s:?}")))?),
    };
    let mut cmd = Command {
        node: node.to_string(),
        sessionid: el
            .attr("sessionid")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        action,
        status,
        ..Command::default()
    };
    for c in el.children() {
        if c.is("actions", ns::COMMANDS) {
            cmd.actions = c
                .children()
                .filter(|a| a.ns() == ns::COMMANDS)
                .filter_map(|a| Action::from_name(a.name()))
                .collect();
            cmd.default_action = c.attr("execute").and_then(Action::from_name);
        } else if c.is("note", ns::COMMANDS) {
            cmd.notes.push(Note {
                kind: c.attr("type").unwrap_or("info").to_string(),
                text: c.text(),
            });
        } else if c.is("x", DATA) {
            cmd.form = Some(
                DataForm::try_from(c.clone()).map_err(|e| bad(format!("unreadable form: {e}")))?,
            );
        }
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;
    use crate::rooms::{Form, apply_fields};
    use xmpp_parsers::data_forms::{DataFormType, Field, FieldType};

    const NODE: &str = "urn:xmpp:av-conferences:config";

    fn config_form() -> DataForm {
        let mut max = Field::new("max-participants", FieldType::TextSingle);
        max.label = Some("Maximum participants".into());
        max.values = vec!["0".into()];
        let mut rec = Field::new("record", FieldType::Boolean);
        rec.values = vec!["0".into()];
        DataForm {
            type_: DataFormType::Form,
            title: Some("Conference options".into()),
            instructions: None,
            fields: vec![max, rec],
        }
    }

    #[test]
    fn execute_request() {
        let e = execute(NODE);
        assert_eq!(
            e,
            el(
                "<command xmlns='http://jabber.org/protocol/commands' node='urn:xmpp:av-conferences:config' action='execute'/>"
            )
        );
        let c = parse(&e).unwrap();
        assert_eq!(c.node, NODE);
        assert_eq!(c.requested(), Action::Execute);
        // XEP-0050 §3.4: no action means execute.
        let c = parse(&el(
            "<command xmlns='http://jabber.org/protocol/commands' node='config'/>",
        ))
        .unwrap();
        assert_eq!(c.requested(), Action::Execute);
    }

    #[test]
    fn xep_0050_executing_response_with_form() {
        // Shaped like XEP-0050 example 5 (a multi-stage command's first stage).
        let c = parse(&el(
            "<command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='executing'>\
               <actions execute='next'><next/></actions>\
               <x xmlns='jabber:x:data' type='form'><title>Configure Service</title>\
                 <field var='service' label='Service to configure' type='list-single'><option><value>httpd</value></option></field>\
               </x></command>",
        ))
        .unwrap();
        assert_eq!(c.status, Some(Status::Executing));
        assert_eq!(c.sessionid.as_deref(), Some("config:20020923T213616Z-700"));
        assert_eq!(c.actions, vec![Action::Next]);
        assert_eq!(c.default_action, Some(Action::Next));
        let form = Form::from(c.form.as_ref().unwrap());
        assert_eq!(form.title.as_deref(), Some("Configure Service"));
        assert_eq!(form.fields[0].var.as_deref(), Some("service"));
    }

    #[test]
    fn both_sides_round_trip_with_fields_applied() {
        // Responder: the form.
        let r = response(
            NODE,
            "s1",
            Status::Executing,
            &[Action::Complete, Action::Cancel],
            Some(config_form()),
            &[Note::info("Room options")],
        );
        let got = parse(&r).unwrap();
        assert_eq!(got.status, Some(Status::Executing));
        assert_eq!(got.actions, vec![Action::Complete, Action::Cancel]);
        assert_eq!(got.default_action, Some(Action::Complete));
        assert_eq!(got.notes, vec![Note::info("Room options")]);
        assert_eq!(got.form.as_ref().unwrap().fields.len(), 2);
        // Requester: FIELD=VALUE applied and submitted.
        let filled = apply_fields(
            got.form.as_ref().unwrap(),
            &[("max-participants".into(), "2".into())],
        )
        .unwrap();
        let s = submit(NODE, got.sessionid.as_deref().unwrap(), filled);
        let req = parse(&s).unwrap();
        assert_eq!(req.requested(), Action::Complete);
        assert_eq!(req.sessionid.as_deref(), Some("s1"));
        let f = req.form.unwrap();
        assert_eq!(f.type_, DataFormType::Submit);
        let max = f
            .fields
            .iter()
            .find(|x| x.var.as_deref() == Some("max-participants"))
            .unwrap();
        assert_eq!(max.values, vec!["2".to_string()]);
        // Responder: completed, no actions.
        let done = parse(&response(NODE, "s1", Status::Completed, &[], None, &[])).unwrap();
        assert_eq!(done.status, Some(Status::Completed));
        assert!(done.actions.is_empty() && done.form.is_none());
        assert_eq!(done.error_text(), None);
    }

    #[test]
    fn cancel_and_errors() {
        let c = parse(&cancel(NODE, "s1")).unwrap();
        assert_eq!(c.requested(), Action::Cancel);
        let r = parse(&response(
            NODE,
            "s1",
            Status::Canceled,
            &[],
            None,
            &[Note::error("max-participants must be a number")],
        ))
        .unwrap();
        assert_eq!(r.status, Some(Status::Canceled));
        assert_eq!(
            r.error_text().as_deref(),
            Some("max-participants must be a number")
        );
        for bad in [
            "<command xmlns='http://jabber.org/protocol/commands'/>",
            "<command xmlns='http://jabber.org/protocol/commands' node='n' action='explode'/>",
            "<command xmlns='http://jabber.org/protocol/commands' node='n' status='weird'/>",
            "<query xmlns='http://jabber.org/protocol/commands' node='n'/>",
        ] {
            let e = parse(&el(bad)).unwrap_err();
            assert_eq!(e.condition, "bad-request", "{bad}");
        }
    }
}

//! XEP-0045 owner use cases on plain elements (xmpp-parsers has no
//! `muc#owner`): the room configuration form, instant rooms.

use minidom::Element;
use xmpp_parsers::data_forms::DataForm;

use super::{ErrorInfo, nc};

pub const NS: &str = "http://jabber.org/protocol/muc#owner";
pub const DATA: &str = "jabber:x:data";
pub const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

/// `<query xmlns='…muc#owner'/>`: asks for the configuration form.
pub fn get_config() -> Element {
    Element::builder("query", NS).build()
}

fn field(var: &str, values: &[&str]) -> Element {
    Element::builder("field", DATA)
        .attr(nc("var"), var)
        .append_all(
            values
                .iter()
                .map(|v| Element::builder("value", DATA).append(*v).build()),
        )
        .build()
}

/// Submits the given fields (FORM_TYPE added). An empty list is the
/// instant-room request of XEP-0045 §10.1.2: the defaults, accepted.
pub fn submit_config(fields: &[(String, String)]) -> Element {
    let mut x = Element::builder("x", DATA).attr(nc("type"), "submit");
    if !fields.is_empty() {
        x = x.append(
            Element::builder("field", DATA)
                .attr(nc("var"), "FORM_TYPE")
                .attr(nc("type"), "hidden")
                .append(Element::builder("value", DATA).append(ROOMCONFIG).build())
                .build(),
        );
    }
    for (var, value) in fields {
        x = x.append(field(var, &[value.as_str()]));
    }
    Element::builder("query", NS).append(x.build()).build()
}

/// One line per field of a configuration form: `var (type) = value — label`.
pub fn describe_form(result: Option<&Element>) -> Result<String, ErrorInfo> {
    let x = result
        .and_then(|q| q.get_child("x", DATA))
        .ok_or_else(|| ErrorInfo::new("bad-request", Some("the room sent no form".to_string())))?;
    let form = DataForm::try_from(x.clone())
        .map_err(|e| ErrorInfo::new("bad-request", Some(format!("unreadable form: {e}"))))?;
    let mut out = String::new();
    if let Some(t) = &form.title {
        out.push_str(t);
        out.push('\n');
    }
    for f in &form.fields {
        let Some(var) = &f.var else { continue };
        if var == "FORM_TYPE" {
            continue;
        }
        out.push_str(&format!("{var} ({:?}) = {}", f.type_, f.values.join(", ")));
        if let Some(l) = &f.label {
            out.push_str(&format!(" — {l}"));
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    #[test]
    fn instant_room_is_an_empty_submit() {
        let q = submit_config(&[]);
        assert!(q.is("query", NS));
        let x = q.get_child("x", DATA).unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        assert_eq!(x.children().count(), 0);
    }

    #[test]
    fn submit_carries_form_type_and_fields() {
        let q = submit_config(&[
            ("muc#roomconfig_passwordprotectedroom".into(), "1".into()),
            ("muc#roomconfig_roomsecret".into(), "s3cret".into()),
        ]);
        let x = q.get_child("x", DATA).unwrap();
        let form = DataForm::try_from(x.clone()).unwrap();
        assert_eq!(form.fields[0].var.as_deref(), Some("FORM_TYPE"));
        assert_eq!(form.fields[0].values, vec![ROOMCONFIG.to_string()]);
        let vars: Vec<_> = form.fields.iter().filter_map(|f| f.var.clone()).collect();
        assert!(vars.contains(&"muc#roomconfig_roomsecret".to_string()));
    }

    #[test]
    fn describes_a_form() {
        let q = el("<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'><title>Configuration</title>
            <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
            <field var='muc#roomconfig_roomname' type='text-single' label='Name'><value>Lounge</value></field>
            </x></query>");
        let d = describe_form(Some(&q)).unwrap();
        assert!(d.contains("muc#roomconfig_roomname"), "{d}");
        assert!(d.contains("Lounge"));
        assert!(!d.contains("FORM_TYPE"));
        assert!(describe_form(None).is_err());
    }
}

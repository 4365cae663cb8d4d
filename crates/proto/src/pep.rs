//! PEP publishing with publish-options (XEP-0060 §7.1.5, XEP-0223), and
//! the fallback for servers that refuse some of them: configure the node
//! as its owner (creating it configured if it does not exist yet), then
//! publish with the access model alone as the precondition.
//!
//! ejabberd 23.01 knows only `pubsub#access_model` and
//! `pubsub#persist_items` as publish-options: any other field (here
//! `pubsub#max_items`) is answered `resource-constraint` "Unknown field
//! 'pubsub#max_items' of type '…#publish-options'". Its node
//! configuration takes them all, `max_items=max` included.

use minidom::Element;

use super::{ErrorInfo, nc};

pub const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
pub const NS_PUBSUB_OWNER: &str = "http://jabber.org/protocol/pubsub#owner";
const NS_DATA: &str = "jabber:x:data";
const PUBLISH_OPTIONS: &str = "http://jabber.org/protocol/pubsub#publish-options";
const NODE_CONFIG: &str = "http://jabber.org/protocol/pubsub#node_config";
/// The option that carries the privacy guarantee: always a precondition.
pub const ACCESS_MODEL: &str = "pubsub#access_model";

/// One item to publish to one of our PEP nodes, with the options the node
/// must have.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub node: &'static str,
    pub id: String,
    pub payload: Element,
    /// `pubsub#…` fields and values, in order; one is [`ACCESS_MODEL`].
    pub options: Vec<(&'static str, &'static str)>,
}

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", NS_DATA)
        .attr(nc("var"), var)
        .append(Element::builder("value", NS_DATA).append(value).build())
        .build()
}

/// A submitted form of `form_type` with these fields.
fn form(form_type: &str, fields: &[(&str, &str)]) -> Element {
    let hidden = Element::builder("field", NS_DATA)
        .attr(nc("var"), "FORM_TYPE")
        .attr(nc("type"), "hidden")
        .append(Element::builder("value", NS_DATA).append(form_type).build())
        .build();
    Element::builder("x", NS_DATA)
        .attr(nc("type"), "submit")
        .append(hidden)
        .append_all(fields.iter().map(|(var, value)| field(var, value)))
        .build()
}

/// A PEP publish of item `id` (carrying `payload`) to `node`, with the
/// publish-options `options` (XEP-0060 §7.1.5), in order.
pub fn publish_with_options(
    node: &str,
    id: &str,
    payload: Element,
    options: &[(&str, &str)],
) -> Element {
    let item = Element::builder("item", NS_PUBSUB)
        .attr(nc("id"), id)
        .append(payload)
        .build();
    let publish = Element::builder("publish", NS_PUBSUB)
        .attr(nc("node"), node)
        .append(item)
        .build();
    let options = Element::builder("publish-options", NS_PUBSUB)
        .append(form(PUBLISH_OPTIONS, options))
        .build();
    Element::builder("pubsub", NS_PUBSUB)
        .append(publish)
        .append(options)
        .build()
}

impl Publication {
    /// The publish with every option as a precondition.
    pub fn with_options(&self) -> Element {
        publish_with_options(self.node, &self.id, self.payload.clone(), &self.options)
    }

    /// The publish with the access model alone as a precondition (after
    /// the node was configured): never published under a wider one.
    pub fn with_access_model_only(&self) -> Element {
        let access: Vec<(&str, &str)> = self
            .options
            .iter()
            .filter(|(var, _)| *var == ACCESS_MODEL)
            .copied()
            .collect();
        publish_with_options(self.node, &self.id, self.payload.clone(), &access)
    }

    /// Configures the existing node with the options (XEP-0060 §8.2.4).
    pub fn configure(&self) -> Element {
        Element::builder("pubsub", NS_PUBSUB_OWNER)
            .append(
                Element::builder("configure", NS_PUBSUB_OWNER)
                    .attr(nc("node"), self.node)
                    .append(form(NODE_CONFIG, &self.options))
                    .build(),
            )
            .build()
    }

    /// Creates the node configured with the options (XEP-0060 §8.1.3).
    pub fn create(&self) -> Element {
        Element::builder("pubsub", NS_PUBSUB)
            .append(
                Element::builder("create", NS_PUBSUB)
                    .attr(nc("node"), self.node)
                    .build(),
            )
            .append(
                Element::builder("configure", NS_PUBSUB)
                    .append(form(NODE_CONFIG, &self.options))
                    .build(),
            )
            .build()
    }
}

/// Whether a publish was refused because of its publish-options: a
/// precondition not met (`conflict`, XEP-0060 §7.1.5 — the node exists
/// with another configuration), or a `resource-constraint`, `bad-request`
/// or `not-acceptable` whose text names a `pubsub#` option or the
/// publish-options (ejabberd 23.01: "Unknown field 'pubsub#max_items' of
/// type '…#publish-options'").
pub fn refuses_options(e: &ErrorInfo) -> bool {
    let names_an_option = e.text.as_deref().is_some_and(|t| {
        let t = t.to_lowercase();
        t.contains("pubsub#") || t.contains("publish-options") || t.contains("publish_options")
    });
    match e.condition.as_str() {
        "conflict" => true,
        "resource-constraint" | "bad-request" | "not-acceptable" => names_an_option,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publication() -> Publication {
        Publication {
            node: "urn:xmpp:chatting:0",
            id: "abc".into(),
            payload: Element::builder("room", "urn:xmpp:chatting:0").build(),
            options: vec![(ACCESS_MODEL, "presence"), ("pubsub#max_items", "max")],
        }
    }

    /// The `(var, value)` pairs of a form, FORM_TYPE first.
    fn fields(x: &Element) -> Vec<(String, String)> {
        assert!(x.is("x", NS_DATA));
        assert_eq!(x.attr("type"), Some("submit"));
        x.children()
            .map(|f| {
                (
                    f.attr("var").unwrap().to_string(),
                    f.get_child("value", NS_DATA).unwrap().text(),
                )
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn publish_with_all_options_or_the_access_model_only() {
        let p = publication();
        let full = p.with_options();
        let publish = full.get_child("publish", NS_PUBSUB).unwrap();
        assert_eq!(publish.attr("node"), Some("urn:xmpp:chatting:0"));
        let item = publish.get_child("item", NS_PUBSUB).unwrap();
        assert_eq!(item.attr("id"), Some("abc"));
        assert!(item.get_child("room", "urn:xmpp:chatting:0").is_some());
        let x = full
            .get_child("publish-options", NS_PUBSUB)
            .unwrap()
            .get_child("x", NS_DATA)
            .unwrap();
        assert_eq!(
            fields(x),
            pairs(&[
                ("FORM_TYPE", PUBLISH_OPTIONS),
                ("pubsub#access_model", "presence"),
                ("pubsub#max_items", "max"),
            ])
        );
        let reduced = p.with_access_model_only();
        assert_eq!(
            reduced.get_child("publish", NS_PUBSUB),
            full.get_child("publish", NS_PUBSUB),
            "the same item"
        );
        let x = reduced
            .get_child("publish-options", NS_PUBSUB)
            .unwrap()
            .get_child("x", NS_DATA)
            .unwrap();
        assert_eq!(
            fields(x),
            pairs(&[
                ("FORM_TYPE", PUBLISH_OPTIONS),
                ("pubsub#access_model", "presence"),
            ])
        );
    }

    #[test]
    fn configure_and_create_carry_every_option_as_node_config() {
        let p = publication();
        let want = pairs(&[
            ("FORM_TYPE", NODE_CONFIG),
            ("pubsub#access_model", "presence"),
            ("pubsub#max_items", "max"),
        ]);
        // XEP-0060 example 130: the owner submits the configuration.
        let c = p.configure();
        assert!(c.is("pubsub", NS_PUBSUB_OWNER));
        let conf = c.get_child("configure", NS_PUBSUB_OWNER).unwrap();
        assert_eq!(conf.attr("node"), Some("urn:xmpp:chatting:0"));
        assert_eq!(fields(conf.get_child("x", NS_DATA).unwrap()), want);
        // XEP-0060 example 134: create and configure in one request.
        let c = p.create();
        assert!(c.is("pubsub", NS_PUBSUB));
        assert_eq!(
            c.get_child("create", NS_PUBSUB).unwrap().attr("node"),
            Some("urn:xmpp:chatting:0")
        );
        let conf = c.get_child("configure", NS_PUBSUB).unwrap();
        assert_eq!(conf.attr("node"), None);
        assert_eq!(fields(conf.get_child("x", NS_DATA).unwrap()), want);
    }

    #[test]
    fn refusals_of_publish_options() {
        // What ejabberd 23.01 answers.
        let ejabberd = ErrorInfo::new(
            "resource-constraint",
            Some(
                "Unknown field 'pubsub#max_items' of type \
                'http://jabber.org/protocol/pubsub#publish-options'"
                    .to_string(),
            ),
        );
        assert!(refuses_options(&ejabberd));
        // precondition-not-met comes as conflict.
        assert!(refuses_options(&ErrorInfo::new("conflict", None)));
        assert!(refuses_options(&ErrorInfo::new(
            "bad-request",
            Some("Invalid publish-options".to_string())
        )));
        // Other failures are no reason to configure anything.
        assert!(!refuses_options(&ErrorInfo::new(
            "resource-constraint",
            None
        )));
        assert!(!refuses_options(&ErrorInfo::new(
            "not-acceptable",
            Some("payload too big".to_string())
        )));
        assert!(!refuses_options(&ErrorInfo::new("forbidden", None)));
        assert!(!refuses_options(&ErrorInfo::new(
            "remote-server-timeout",
            Some("pubsub#max_items".to_string())
        )));
    }
}

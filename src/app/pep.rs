//! Publishing to our own PEP nodes with publish-options, for XEP-0194
//! (`app/chatting.rs`) and XEP-0402 (`app/bookmarks.rs`) alike: the
//! publish with every option first; when the server refuses the options
//! themselves (ejabberd 23.01 knows only `access_model` and
//! `persist_items`), the node is configured as owner (created configured if
//! it does not exist: the server's default would keep one item) and the
//! item published with the access model alone as a precondition. The
//! refusal is remembered for the session: later publications configure a
//! node once and then publish directly. If the configuration is refused,
//! nothing is published: the item never goes out under a wider access
//! model than asked.

use std::collections::HashSet;

use minidom::Element;

use super::{App, IqStep, IqThen};
use crate::protocol::ErrorInfo;
use crate::protocol::pep::{self, Publication};
use crate::store::Event;

/// What this session learnt about publishing.
#[derive(Debug, Default)]
pub(super) struct PepState {
    /// The server refused publish-options: configure, then publish with
    /// the access model only.
    fallback: bool,
    /// Nodes configured (or created) by us in this session.
    configured: HashSet<&'static str>,
}

/// Where a publication is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The publish with every option.
    Full,
    /// The owner's configuration of the node.
    Configure,
    /// The node did not exist: created with the configuration.
    Create,
    /// The publish with the access model only; `fresh` when the node was
    /// configured for this very publication.
    Reduced { fresh: bool },
}

fn request(p: &Publication, step: Step) -> Element {
    match step {
        Step::Full => p.with_options(),
        Step::Configure => p.configure(),
        Step::Create => p.create(),
        Step::Reduced { .. } => p.with_access_model_only(),
    }
}

/// The configuration failed: not published, and why.
fn not_configured(p: &Publication, e: ErrorInfo) -> ErrorInfo {
    let text = format!(
        "the server refused the publish-options and configuring the node {} failed ({e}): not published",
        p.node
    );
    ErrorInfo::new(&e.condition, Some(text))
}

impl App {
    /// The first request of publication `p` and its continuation; `then`
    /// gets the outcome of the publication as a whole (the publish's
    /// result, or the error that ended it). Use with [`App::start_iq`] or
    /// as an [`IqStep::Next`].
    pub(super) fn pep_publish(&self, p: Publication, then: IqThen) -> (Element, IqThen) {
        let step = if !self.pep.fallback {
            Step::Full
        } else if self.pep.configured.contains(p.node) {
            Step::Reduced { fresh: false }
        } else {
            Step::Configure
        };
        (request(&p, step), continuation(p, step, then))
    }

    /// A new session: the server may have changed, and its nodes too.
    pub(super) fn pep_new_session(&mut self) {
        self.pep = PepState::default();
    }
}

fn continuation(p: Publication, step: Step, then: IqThen) -> IqThen {
    IqThen::new(move |app, command, r| {
        let next = match (step, r) {
            (Step::Full, Err(e)) if pep::refuses_options(&e) => {
                app.pep.fallback = true;
                app.pep.configured.remove(p.node);
                Step::Configure
            }
            (Step::Configure | Step::Create, Ok(_)) => {
                app.pep.configured.insert(p.node);
                Step::Reduced { fresh: true }
            }
            (Step::Configure, Err(e)) if e.condition == "item-not-found" => Step::Create,
            (Step::Configure | Step::Create, Err(e)) => {
                return (then.0)(app, command, Err(not_configured(&p, e)));
            }
            // Configured earlier, changed since (a precondition not met):
            // configure again, once.
            (Step::Reduced { fresh: false }, Err(e)) if pep::refuses_options(&e) => {
                app.pep.configured.remove(p.node);
                Step::Configure
            }
            (Step::Full | Step::Reduced { .. }, r) => return (then.0)(app, command, r),
        };
        IqStep::Next {
            events: Vec::<Event>::new(),
            to: None,
            payload: request(&p, next),
            set: true,
            then: continuation(p.clone(), next, then.clone()),
        }
    })
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::protocol::chatting;
    use crate::protocol::pep::{NS_PUBSUB, NS_PUBSUB_OWNER};
    use crate::session::{SessionCmd, SessionEvent, Tag};

    fn next_iq(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, Element) {
        let iq = crate::app::fixtures::next_iq(rx);
        assert!(iq.set);
        (iq.tag, iq.payload)
    }

    fn answer(app: &mut App, tag: Tag, r: Result<(), ErrorInfo>) -> Vec<Event> {
        app.on_session(SessionEvent::IqResponse {
            tag,
            result: r.map(|_| None),
        })
    }

    /// The publish-options fields of a publish.
    fn options(p: &Element) -> Vec<String> {
        p.get_child("publish-options", NS_PUBSUB)
            .expect("publish-options")
            .get_child("x", "jabber:x:data")
            .unwrap()
            .children()
            .filter_map(|f| f.attr("var"))
            .filter(|v| *v != "FORM_TYPE")
            .map(str::to_string)
            .collect()
    }

    fn refused() -> ErrorInfo {
        ErrorInfo::new(
            "resource-constraint",
            Some(
                "Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'"
                    .to_string(),
            ),
        )
    }

    fn start(app: &mut App, room: &str) {
        let p = chatting::publication(room, None);
        let (payload, then) = app.pep_publish(p, IqThen::ok());
        app.start_iq(&format!("/publish {room}"), None, payload, true, then);
    }

    #[test]
    fn refused_options_configure_the_node_then_publish_with_the_access_model() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        start(&mut app, "one");
        let (tag, p) = next_iq(&mut rx);
        assert_eq!(options(&p), ["pubsub#access_model", "pubsub#max_items"]);
        assert!(answer(&mut app, tag, Err(refused())).is_empty());
        // Configure: the node does not exist yet.
        let (tag, p) = next_iq(&mut rx);
        assert!(
            p.is("pubsub", NS_PUBSUB_OWNER) && p.get_child("configure", NS_PUBSUB_OWNER).is_some()
        );
        let out = answer(
            &mut app,
            tag,
            Err(ErrorInfo::new(
                "item-not-found",
                Some("Node not found".into()),
            )),
        );
        assert!(out.is_empty(), "{out:?}");
        // Created configured (max_items too), then published.
        let (tag, p) = next_iq(&mut rx);
        let create = p.get_child("create", NS_PUBSUB).expect("a create");
        assert_eq!(create.attr("node"), Some(chatting::NS_CHATTING));
        assert!(p.get_child("configure", NS_PUBSUB).is_some());
        assert!(answer(&mut app, tag, Ok(())).is_empty());
        let (tag, p) = next_iq(&mut rx);
        assert!(p.get_child("publish", NS_PUBSUB).is_some());
        assert_eq!(options(&p), ["pubsub#access_model"]);
        let out = answer(&mut app, tag, Ok(()));
        assert_eq!(out, vec![App::result("/publish one", Ok(()))]);

        // Remembered: the next one goes out at once, with the access
        // model only.
        start(&mut app, "two");
        let (tag, p) = next_iq(&mut rx);
        assert_eq!(options(&p), ["pubsub#access_model"]);
        // The node was changed meanwhile: configured again, once.
        answer(&mut app, tag, Err(ErrorInfo::new("conflict", None)));
        let (tag, p) = next_iq(&mut rx);
        assert!(p.is("pubsub", NS_PUBSUB_OWNER));
        answer(&mut app, tag, Ok(()));
        let (tag, p) = next_iq(&mut rx);
        assert_eq!(options(&p), ["pubsub#access_model"]);
        let out = answer(&mut app, tag, Err(ErrorInfo::new("conflict", None)));
        assert_eq!(
            out[0].to_json()["condition"],
            "conflict",
            "no loop: {out:?}"
        );
        assert!(rx.try_recv().is_err());

        // A new session asks with every option again.
        app.pep_new_session();
        start(&mut app, "three");
        let (_, p) = next_iq(&mut rx);
        assert_eq!(options(&p).len(), 2);
    }

    #[test]
    fn a_refused_configuration_publishes_nothing() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        // Other errors of the first publish are the outcome as they are.
        start(&mut app, "zero");
        let (tag, _) = next_iq(&mut rx);
        let out = answer(&mut app, tag, Err(ErrorInfo::new("forbidden", None)));
        assert_eq!(out[0].to_json()["condition"], "forbidden");
        assert!(rx.try_recv().is_err());
        start(&mut app, "one");
        let (tag, _) = next_iq(&mut rx);
        answer(&mut app, tag, Err(refused()));
        let (tag, p) = next_iq(&mut rx);
        assert!(p.is("pubsub", NS_PUBSUB_OWNER));
        let out = answer(&mut app, tag, Err(ErrorInfo::new("forbidden", None)));
        let e = out[0].to_json();
        assert_eq!(e["event"], "error");
        assert_eq!(e["condition"], "forbidden");
        let text = e["text"].as_str().unwrap();
        assert!(
            text.contains("configuring the node urn:xmpp:chatting:0 failed")
                && text.ends_with("not published"),
            "{text}"
        );
        assert!(rx.try_recv().is_err(), "nothing published");
    }
}

//! The roster: fetched after login, `/roster` (`/contacts`), `/add`,
//! `/remove`, `/approve`, `/deny`, `/where`, and roster pushes from the
//! server (answered here, shown as `contact` events).

use jid::BareJid;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use super::{App, Exec, IqStep, IqThen, Waiting};
use crate::protocol::iq::{self, IqAnswer, IqRequest};
use crate::protocol::roster::{self, SubscriptionKind};
use crate::protocol::{chatting, disco, muc};
use crate::session::SessionCmd;
use crate::store::Event;

impl App {
    /// `/roster`: the roster fetched, with the pending requests.
    pub(super) fn start_roster(&mut self, text: &str) -> Exec {
        let then = IqThen::new(|app, command, r| match r {
            Ok(q) => {
                app.store
                    .contacts
                    .set_roster(roster::parse_query(q.as_ref()));
                IqStep::Done(vec![app.roster_event(), App::result(command, Ok(()))])
            }
            Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
        });
        self.start_iq(text, None, roster::get(), false, then)
    }

    /// `/add JID`: the roster item, then a subscription request.
    pub(super) fn start_add_contact(&mut self, text: &str, jid: BareJid) -> Exec {
        let to = jid.clone();
        let then = IqThen::new(move |app, command, r| match r {
            Ok(_) => {
                // Then ask for their presence.
                app.send_subscription(&to, SubscriptionKind::Subscribe, "");
                IqStep::Done(vec![App::result(command, Ok(()))])
            }
            Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
        });
        self.start_iq(text, None, roster::add(&jid, None), true, then)
    }

    /// `/remove JID`
    pub(super) fn start_remove_contact(&mut self, text: &str, jid: BareJid) -> Exec {
        self.start_iq(text, None, roster::remove(&jid), true, IqThen::ok())
    }

    /// `/approve JID`
    pub(super) fn start_approve(&mut self, text: &str, jid: BareJid) -> Exec {
        self.store.contacts.take_request(&jid);
        // Mutual by default: ask for theirs too unless we have it
        // or asked already.
        let have = self
            .store
            .contacts
            .roster_item(&jid)
            .is_some_and(|i| i.subscription.to_them() || i.pending_out);
        if !have {
            self.send_subscription(&jid, SubscriptionKind::Subscribe, "");
        }
        self.send_subscription(&jid, SubscriptionKind::Subscribed, text)
    }

    /// `/deny JID`
    pub(super) fn start_deny(&mut self, text: &str, jid: BareJid) -> Exec {
        self.store.contacts.take_request(&jid);
        self.send_subscription(&jid, SubscriptionKind::Unsubscribed, text)
    }

    /// `/where JID`
    pub(super) fn start_where(&mut self, text: &str, contact: BareJid) -> Exec {
        let item = self.store.contacts.item(&contact);
        Exec::done(vec![
            Event::Where {
                contact: contact.to_string(),
                presence: item.presence,
                room: item.room,
            },
            App::result(text, Ok(())),
        ])
    }

    /// The roster and the pending requests, as one event.
    fn roster_event(&self) -> Event {
        Event::Roster {
            contacts: self.store.contacts.items(),
            requests: self.store.contacts.requests(),
        }
    }

    /// Sends a subscription presence; with a command, it ends when the
    /// presence is written.
    fn send_subscription(&mut self, to: &BareJid, kind: SubscriptionKind, command: &str) -> Exec {
        let tag = if command.is_empty() {
            self.tag()
        } else {
            self.wait(command, Waiting::Sent, false)
        };
        self.session.send(SessionCmd::Presence {
            presence: Box::new(roster::subscription(to, kind)),
            tag,
        });
        if command.is_empty() {
            Exec::done(Vec::new())
        } else {
            Exec::pending(tag)
        }
    }

    /// After login: the roster (quietly; `/roster` shows it). Reports
    /// only a failure; done when [`App::pending_count`] is back to zero.
    pub fn fetch_roster(&mut self) {
        let then = IqThen::new(|app, _, r| {
            match r {
                Ok(q) => {
                    app.store
                        .contacts
                        .set_roster(roster::parse_query(q.as_ref()));
                    app.fetch_contacts_rooms();
                }
                Err(e) => {
                    return IqStep::Done(vec![Event::error(
                        &e.condition,
                        Some(format!(
                            "could not fetch the roster: {}",
                            e.text.unwrap_or_default()
                        )),
                    )]);
                }
            }
            IqStep::Done(Vec::new())
        });
        self.start_iq("", None, roster::get(), false, then);
    }

    /// Each contact's chatting node (XEP-0194), read whole: after login
    /// the server sends only the last item of each, and after a
    /// reconnection what we knew may be stale. Quiet: a contact who never
    /// published answers item-not-found (no rooms); other errors keep
    /// what we knew.
    fn fetch_contacts_rooms(&mut self) {
        for jid in self.store.contacts.chatting_sources() {
            let from = jid.clone();
            let then = IqThen::new(move |app, _, r| {
                let items = match r {
                    Ok(p) => chatting::parse_fetch(p.as_ref()),
                    Err(e) if e.condition == "item-not-found" => Vec::new(),
                    Err(_) => return IqStep::Done(Vec::new()),
                };
                IqStep::Done(app.store.contacts.replace_rooms(&from, items))
            });
            self.start_iq("", Some(jid.into()), chatting::fetch(), false, then);
        }
    }

    /// Our presence (with caps), directed to a contact whose presence we
    /// now receive. Their server sends us their PEP events (XEP-0194:
    /// the rooms they are in) only once it has seen our caps: ejabberd
    /// keeps the caps of a presence only if the subscription was already
    /// mutual enough when it arrived, which the presence we sent before
    /// this push was not.
    fn present_to(&mut self, contact: &BareJid) {
        let (show, status) = self.own_presence.clone();
        let mut p = muc::status_presence(Some(contact.clone().into()), show, status.as_deref());
        p.payloads.push(disco::caps());
        let tag = self.tag();
        self.session.send(SessionCmd::Presence {
            presence: Box::new(p),
            tag,
        });
    }

    /// A roster push (RFC 6121 §2.1.6): only from our own account.
    pub(super) fn on_roster_push(&mut self, req: &IqRequest) -> (IqAnswer, Vec<Event>) {
        if !req.set {
            return (Err(iq::unsupported()), Vec::new());
        }
        match roster::parse_push(req.from.as_ref(), &self.opts.account, &req.payload) {
            Some(item) => {
                let saw_them = self
                    .store
                    .contacts
                    .roster_item(&item.jid)
                    .is_some_and(|i| i.subscription.to_them());
                if item.subscription.to_them() && !saw_them {
                    self.present_to(&item.jid);
                }
                (Ok(None), vec![self.store.contacts.push(item)])
            }
            None if req
                .from
                .as_ref()
                .is_some_and(|f| f.to_bare() != self.opts.account) =>
            {
                (Err(iq::unsupported()), Vec::new())
            }
            None => (
                Err(iq::error(
                    ErrorType::Modify,
                    DefinedCondition::BadRequest,
                    "a roster push has exactly one item",
                )),
                Vec::new(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use minidom::Element;

    use super::*;
    use crate::app::fixtures::el;
    use crate::command::Command;
    use crate::session::SessionEvent;

    #[test]
    fn pushes_from_the_account_change_the_roster() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        let push = |from: &str| {
            SessionEvent::IqRequest(IqRequest {
                from: (!from.is_empty()).then(|| from.parse().unwrap()),
                id: "p1".into(),
                set: true,
                payload: el(
                    "<query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='both'/></query>",
                ),
            })
        };
        let out = app.on_session(push("alice@localhost"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to_json()["event"], "contact");
        assert_eq!(out[0].to_json()["subscription"], "both");
        // We now see bob's presence: ours, with caps, goes to bob (so
        // that his server sends us his PEP events).
        let SessionCmd::Presence { presence, .. } = rx.try_recv().unwrap() else {
            panic!()
        };
        let p = Element::from(*presence);
        assert_eq!(p.attr("to"), Some("bob@localhost"));
        assert_eq!(p.attr("type"), None);
        assert!(
            p.get_child("c", "http://jabber.org/protocol/caps")
                .is_some()
        );
        let SessionCmd::Reply { answer, .. } = rx.try_recv().unwrap() else {
            panic!()
        };
        assert!(answer.is_ok());
        // Again (already both): no presence.
        app.on_session(push("alice@localhost"));
        assert!(matches!(rx.try_recv().unwrap(), SessionCmd::Reply { .. }));
        // From someone else: refused, nothing changes.
        let out = app.on_session(push("mallory@localhost"));
        assert!(out.is_empty());
        let SessionCmd::Reply { answer, .. } = rx.try_recv().unwrap() else {
            panic!()
        };
        assert!(answer.is_err());
        assert_eq!(app.store.contacts.items().len(), 1);
    }

    #[test]
    fn approve_answers_and_asks_back() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        let bob = BareJid::new("bob@localhost").unwrap();
        let exec = app.execute(
            Command::Approve { jid: bob.clone() },
            "/approve bob@localhost",
        );
        let tag = exec.pending.unwrap();
        let kinds: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|c| match c {
                SessionCmd::Presence { presence, .. } => {
                    Element::from(*presence).attr("type").unwrap().to_string()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["subscribe", "subscribed"]);
        let out = app.on_session(SessionEvent::Sent { tag });
        assert_eq!(out[0].to_json()["event"], "ok");
        // /where of a stranger: offline, no room.
        let out = app.execute(Command::Where { contact: bob }, "/where bob@localhost");
        assert_eq!(
            out.events[0].to_json(),
            serde_json::json!({"event":"where","contact":"bob@localhost","presence":"offline","room":null})
        );
    }
}

//! Bookmarks: `/bookmark`, `/bookmarks`, `/unbookmark` and the autojoin at
//! login. The first use asks the account's disco#info which storage to use
//! (XEP-0402 in PEP when `urn:xmpp:bookmarks:1#compat` is announced, else
//! XEP-0048 private XML storage); every operation is then one IQ (XEP-0402)
//! or a get and a set of the whole storage (XEP-0048).

use jid::{BareJid, Jid};
use minidom::Element;

use super::{App, Exec, IqStep, IqThen, refuse};
use crate::protocol::ErrorInfo;
use crate::protocol::bookmarks::{self as bm, Backend, Bookmark};
use crate::store::{Event, JoinState};

#[derive(Debug, Clone)]
enum Op {
    List,
    /// Fetch, then join the autojoin rooms we are not in.
    Autojoin,
    Put(Bookmark),
    Remove(BareJid),
}

/// One IQ of an operation.
struct Request {
    to: Option<Jid>,
    payload: Element,
    set: bool,
    then: IqThen,
}

fn done(command: &str, r: Result<(), ErrorInfo>) -> IqStep {
    IqStep::Done(vec![App::result(command, r)])
}

fn not_bookmarked(room: &BareJid) -> ErrorInfo {
    ErrorInfo::new("item-not-found", format!("{room} is not bookmarked"))
}

impl App {
    /// `/bookmarks`
    pub(super) fn start_bookmark_list(&mut self, text: &str) -> Exec {
        self.bookmarks_op(text, Op::List)
    }

    /// `/unbookmark ROOM`
    pub(super) fn start_unbookmark(&mut self, text: &str, room: BareJid) -> Exec {
        self.bookmarks_op(text, Op::Remove(room))
    }

    /// `/bookmark [ROOM] [--autojoin] [--nick N] [--password P]`
    pub(super) fn start_bookmark(
        &mut self,
        text: &str,
        room: Option<BareJid>,
        autojoin: bool,
        nick: Option<String>,
        password: Option<String>,
        name: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        let room = room.ok_or_else(|| {
            refuse(
                text,
                "bad-request",
                "which room? /bookmark ROOM [--autojoin] [--nick NICK] [--password PASSWORD] [--name NAME]",
            )
        })?;
        // Without --nick: the nick we have there now, if we are in.
        let nick = nick.or_else(|| {
            self.store
                .room(&room)
                .filter(|r| r.state == JoinState::Joined)
                .map(|r| r.own_nick.clone())
        });
        // A name given by another client stays.
        let name = name.or_else(|| self.store.bookmarks.get(&room).and_then(|b| b.name.clone()));
        let op = Op::Put(Bookmark {
            room,
            name,
            autojoin,
            nick,
            password,
        });
        Ok(self.bookmarks_op(text, op))
    }

    /// After login: fetches the bookmarks and joins the rooms marked
    /// autojoin that we are not in yet. Reports only failures; each join
    /// ends with its own `ok`/`error` (`/join ROOM/NICK`). Done when
    /// [`App::pending_count`] is back to zero.
    pub fn autojoin_bookmarks(&mut self) -> Exec {
        self.bookmarks_op("", Op::Autojoin)
    }

    fn bookmarks_op(&mut self, text: &str, op: Op) -> Exec {
        if let Some(backend) = self.store.bookmarks.backend {
            let r = request(self, backend, op);
            return self.start_iq(text, r.to, r.payload, r.set, r.then);
        }
        let then = IqThen::new(move |app, command, info| match info {
            Ok(info) => {
                let backend = bm::backend_from_disco(info.as_ref());
                app.store.bookmarks.backend = Some(backend);
                let r = request(app, backend, op.clone());
                IqStep::Next {
                    events: Vec::new(),
                    to: r.to,
                    payload: r.payload,
                    set: r.set,
                    then: r.then,
                }
            }
            Err(e) => done(command, Err(e)),
        });
        let account = self.opts.account.clone();
        self.start_iq(text, Some(account.into()), bm::disco_info(), false, then)
    }

    /// The list is in the store: show it, or join the autojoin rooms.
    fn listed(&mut self, command: &str, op: &Op) -> IqStep {
        if !matches!(op, Op::Autojoin) {
            return IqStep::Done(vec![
                Event::Bookmarks {
                    bookmarks: self.store.bookmarks.items(),
                },
                App::result(command, Ok(())),
            ]);
        }
        let wanted: Vec<Bookmark> = self
            .store
            .bookmarks
            .iter()
            .filter(|b| b.autojoin)
            .filter(|b| {
                self.store
                    .room(&b.room)
                    .is_none_or(|r| matches!(r.state, JoinState::Left | JoinState::Leaving))
            })
            .cloned()
            .collect();
        let mut events = Vec::new();
        for b in wanted {
            let line = match &b.nick {
                Some(n) => format!("/join {}/{n}", b.room),
                None => format!("/join {}", b.room),
            };
            match self.start_join(&line, b.room, b.nick, b.password, Default::default()) {
                Ok(exec) => events.extend(exec.events),
                Err(e) => events.push(*e),
            }
        }
        IqStep::Done(events)
    }
}

/// The first request of an operation on a known backend.
fn request(app: &App, backend: Backend, op: Op) -> Request {
    match (backend, op) {
        (Backend::Pep, op @ (Op::List | Op::Autojoin)) => Request {
            to: None,
            payload: bm::pep_fetch(),
            set: false,
            then: IqThen::new(move |app, command, r| match bm::empty_if_missing(r) {
                Ok(p) => {
                    app.store.bookmarks.set_all(bm::parse_pep_items(p.as_ref()));
                    app.listed(command, &op)
                }
                Err(e) => done(command, Err(e)),
            }),
        },
        (Backend::Pep, Op::Put(b)) => {
            // With the fallback of `app/pep.rs` for servers that refuse
            // some publish-options.
            let publication = bm::pep_publication(&b);
            let then = IqThen::new(move |app, command, r| match r {
                Ok(_) => {
                    app.store.bookmarks.put(b.clone());
                    done(command, Ok(()))
                }
                Err(e) => done(command, Err(e)),
            });
            let (payload, then) = app.pep_publish(publication, then);
            Request {
                to: None,
                payload,
                set: true,
                then,
            }
        }
        (Backend::Pep, Op::Remove(room)) => Request {
            to: None,
            payload: bm::pep_retract(&room),
            set: true,
            then: IqThen::new(move |app, command, r| match r {
                Ok(_) => {
                    app.store.bookmarks.remove(&room);
                    done(command, Ok(()))
                }
                Err(e) if e.condition == "item-not-found" => {
                    app.store.bookmarks.remove(&room);
                    done(command, Err(not_bookmarked(&room)))
                }
                Err(e) => done(command, Err(e)),
            }),
        },
        (Backend::Private, op) => Request {
            to: None,
            payload: bm::private_fetch(),
            set: false,
            then: IqThen::new(move |app, command, r| {
                let storage = match r {
                    Ok(p) => bm::private_storage(p.as_ref()),
                    Err(e) => return done(command, Err(e)),
                };
                app.store.bookmarks.set_all(bm::parse_storage(&storage));
                let (room, new) = match &op {
                    Op::List | Op::Autojoin => return app.listed(command, &op),
                    Op::Put(b) => (b.room.clone(), Some(b.clone())),
                    Op::Remove(room) => (room.clone(), None),
                };
                let (updated, found) = bm::storage_with(&storage, &room, new.as_ref());
                if new.is_none() && !found {
                    return done(command, Err(not_bookmarked(&room)));
                }
                IqStep::Next {
                    events: Vec::new(),
                    to: None,
                    payload: bm::private_store(updated),
                    set: true,
                    then: IqThen::new(move |app, command, r| match r {
                        Ok(_) => {
                            match &new {
                                Some(b) => app.store.bookmarks.put(b.clone()),
                                None => app.store.bookmarks.remove(&room),
                            }
                            done(command, Ok(()))
                        }
                        Err(e) => done(command, Err(e)),
                    }),
                }
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::command::Command;

    use crate::app::fixtures::{el, next_iq};
    use crate::protocol::ns;
    use crate::session::{SessionCmd, SessionEvent, Tag};

    fn app() -> (App, UnboundedReceiver<SessionCmd>) {
        App::for_tests("alice@localhost", 0)
    }

    /// The next IQ the app sends: (tag, to, payload, set).
    fn iq(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, Option<Jid>, Element, bool) {
        let iq = next_iq(rx);
        (iq.tag, iq.to, iq.payload, iq.set)
    }

    fn answer(app: &mut App, tag: Tag, payload: Option<Element>) -> Vec<Event> {
        app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(payload),
        })
    }

    const COMPAT: &str = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='pep'/><feature var='urn:xmpp:bookmarks:1#compat'/></query>";

    #[test]
    fn autojoin_discovers_pep_fetches_and_joins() {
        let (mut app, mut rx) = app();
        let exec = app.autojoin_bookmarks();
        assert!(exec.pending.is_some());
        let (tag, to, payload, set) = iq(&mut rx);
        assert_eq!(to.unwrap().as_str(), "alice@localhost");
        assert!(payload.is("query", ns::DISCO_INFO) && !set);
        let out = answer(&mut app, tag, Some(el(COMPAT)));
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(app.store.bookmarks.backend, Some(Backend::Pep));
        let (tag, to, payload, _) = iq(&mut rx);
        assert!(to.is_none());
        assert!(payload.is("pubsub", bm::NS_PUBSUB));
        let out = answer(
            &mut app,
            tag,
            Some(el(
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'>\
                <item id='den@c'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'><nick>ali</nick><password>pw</password></conference></item>\
                <item id='hall@c'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='false'/></item>\
                </items></pubsub>",
            )),
        );
        // Only failures of the fetch itself are reported.
        assert!(
            !out.iter().any(|e| matches!(e, Event::Ok { .. })),
            "{out:?}"
        );
        match rx.try_recv().unwrap() {
            SessionCmd::Join {
                room,
                nick,
                password,
                ..
            } => {
                assert_eq!(room.as_str(), "den@c");
                assert_eq!(nick, "ali");
                assert_eq!(password.as_deref(), Some("pw"));
            }
            other => panic!("{other:?}"),
        }
        assert!(rx.try_recv().is_err(), "hall is not autojoin");
        assert_eq!(app.pending_count(), 1, "the join");
        // A missing node is no bookmarks, not an error.
        let exec = app.execute(Command::Bookmarks, "/bookmarks");
        let tag = exec.pending.unwrap();
        let out = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new("item-not-found", None)),
        });
        let names: Vec<&str> = out.iter().map(Event::name).collect();
        assert_eq!(names, ["bookmarks", "ok"]);
        assert_eq!(out[0].to_json()["bookmarks"], serde_json::json!([]));
    }

    #[test]
    fn private_storage_is_read_modified_and_written() {
        let (mut app, mut rx) = app();
        let exec = app.execute(
            Command::Bookmark {
                room: Some(BareJid::new("den@c").unwrap()),
                autojoin: true,
                nick: None,
                password: None,
                name: None,
            },
            "/bookmark den@c --autojoin",
        );
        let (tag, ..) = iq(&mut rx);
        answer(
            &mut app,
            tag,
            Some(el(
                "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='account' type='registered'/></query>",
            )),
        );
        assert_eq!(app.store.bookmarks.backend, Some(Backend::Private));
        let (tag, _, payload, set) = iq(&mut rx);
        assert!(payload.is("query", bm::NS_PRIVATE) && !set);
        answer(
            &mut app,
            tag,
            Some(el(
                "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>\
                <conference jid='hall@c' autojoin='false' name='Hall'/><url name='x' url='http://x/'/></storage></query>",
            )),
        );
        let (tag, _, payload, set) = iq(&mut rx);
        assert!(set);
        let storage = payload.get_child("storage", bm::NS_STORAGE).unwrap();
        let list = bm::parse_storage(storage);
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].room.as_str(), "den@c");
        assert!(list[1].autojoin);
        assert_eq!(storage.children().filter(|c| c.name() == "url").count(), 1);
        let out = answer(&mut app, tag, None);
        assert_eq!(out, vec![App::result("/bookmark den@c --autojoin", Ok(()))]);
        assert!(exec.pending.is_some_and(|t| !app.is_pending(t)));
        // Removing a room that is not there: refused, nothing written.
        app.execute(
            Command::Unbookmark {
                room: BareJid::new("nope@c").unwrap(),
            },
            "/unbookmark nope@c",
        );
        let (tag, ..) = iq(&mut rx);
        let out = answer(
            &mut app,
            tag,
            Some(el(
                "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>",
            )),
        );
        assert_eq!(out[0].to_json()["condition"], "item-not-found");
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_refused_pep_publish_configures_the_node_and_keeps_it_private() {
        // ejabberd 23.01 refuses `pubsub#max_items` as a publish-option.
        let (mut app, mut rx) = app();
        app.store.bookmarks.backend = Some(Backend::Pep);
        app.execute(
            Command::Bookmark {
                room: Some(BareJid::new("den@c").unwrap()),
                autojoin: true,
                nick: None,
                password: None,
                name: None,
            },
            "/bookmark den@c --autojoin",
        );
        let (tag, _, payload, _) = iq(&mut rx);
        assert!(
            payload
                .get_child("publish-options", bm::NS_PUBSUB)
                .is_some()
        );
        let out = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new(
                "resource-constraint",
                Some("Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'".to_string()),
            )),
        });
        assert!(out.is_empty(), "{out:?}");
        // The node configured as XEP-0402 asks (whitelist, max, never).
        let (tag, _, payload, set) = iq(&mut rx);
        assert!(set && payload.is("pubsub", crate::protocol::pep::NS_PUBSUB_OWNER));
        let form = payload
            .get_child("configure", crate::protocol::pep::NS_PUBSUB_OWNER)
            .unwrap();
        let text = String::from(form);
        for want in [
            "whitelist",
            "pubsub#max_items",
            "never",
            "pubsub#persist_items",
        ] {
            assert!(text.contains(want), "{text}");
        }
        assert!(answer(&mut app, tag, None).is_empty());
        // Then published with the access model as the only precondition.
        let (tag, _, payload, _) = iq(&mut rx);
        let x = payload
            .get_child("publish-options", bm::NS_PUBSUB)
            .unwrap()
            .get_child("x", "jabber:x:data")
            .unwrap();
        let vars: Vec<&str> = x.children().filter_map(|f| f.attr("var")).collect();
        assert_eq!(vars, ["FORM_TYPE", "pubsub#access_model"]);
        assert!(String::from(x).contains("whitelist"));
        let out = answer(&mut app, tag, None);
        assert_eq!(out, vec![App::result("/bookmark den@c --autojoin", Ok(()))]);
        assert!(
            app.store
                .bookmarks
                .get(&BareJid::new("den@c").unwrap())
                .is_some()
        );
    }
}

//! History and identity: XEP-0313 MAM catch-up of rooms on join and
//! after a reconnection, XEP-0308 corrections (`/correct`, and the
//! archive's rows), as `impl App` blocks.
//!
//! Catch-up: a room whose disco#info lists `urn:xmpp:mam:2` is asked for
//! everything after the newest stanza-id we hold for it (from memory or
//! the archive; a time when we have no stanza-id), page by page (RSM)
//! until `<fin complete='true'/>`. Results count only when their
//! `queryid` is one of ours and they come from the room. The forwarded
//! messages enter the store as delayed messages with the result id as
//! stanza-id, so the store's `MessageLog` drops what it already holds and
//! the archive what it already has.
//!
//! MUC history: when we know before joining that the room archives (we
//! ask its disco#info first when we hold history of it) the join asks for
//! no MUC history (`maxstanzas='0'`) and MAM alone fills the gap; the
//! session does the same on every rejoin of such a room. A room joined
//! for the first time gets the usual MUC history, and its disco#info is
//! asked after the join only to learn whether later rejoins can use MAM.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::{App, Exec, IqStep, IqThen, refuse};
use crate::protocol::correction;
use crate::protocol::mam::{self, Anchor, MamResult};
use crate::protocol::muc::HistoryRequest;
use crate::protocol::{ErrorInfo, Incoming};
use crate::session::{SessionCmd, SessionEvent, Tag};
use crate::store::{Event, Input, Kind};

/// How far the server's clock may be behind ours: a catch-up by time
/// starts this much earlier (what we already saw is dropped by stanza-id).
const CLOCK_SKEW_SECS: i64 = 300;

/// Results asked for per page.
const PAGE: u32 = 50;
/// A catch-up stops after this many pages (the rest is the room's MUC
/// history's or the user's business).
const MAX_PAGES: u32 = 100;

#[derive(Debug, Default)]
pub(crate) struct Catchup {
    /// Running queries by queryid.
    queries: HashMap<String, Query>,
    /// Rooms whose disco#info lists MAM.
    mam_rooms: HashSet<BareJid>,
    /// Rooms whose disco#info was asked for.
    asked: HashSet<BareJid>,
    /// When we last entered each room: a rejoin of a room where nothing
    /// was said yet catches up from there.
    joined_at: HashMap<BareJid, DateTime<Utc>>,
    next: u64,
}

#[derive(Debug)]
struct Query {
    room: BareJid,
    anchor: Anchor,
    /// New messages so far.
    count: usize,
    pages: u32,
}

impl Catchup {
    fn queryid(&mut self) -> String {
        self.next += 1;
        format!("confab-mam-{}", self.next)
    }
}

impl App {
    /// Sends the join of `/join`. A room we hold history of is asked
    /// whether it archives first: then the join asks for no MUC history
    /// and MAM catches up after it.
    pub(super) fn send_join(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
        tag: Tag,
    ) {
        let anchor = self.mam_anchor(&room);
        if anchor.is_none() || self.catchup.asked.contains(&room) {
            let history = if anchor.is_some() && self.catchup.mam_rooms.contains(&room) {
                HistoryRequest::MaxStanzas(0)
            } else {
                history
            };
            self.session.send(SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag,
            });
            return;
        }
        self.catchup.asked.insert(room.clone());
        let to = room.clone();
        let then = IqThen::new(move |app, _, result| {
            let mam = mam::has_feature(result.ok().flatten().as_ref(), mam::MAM);
            let history = if mam {
                app.learn_mam(&room);
                HistoryRequest::MaxStanzas(0)
            } else {
                history.clone()
            };
            app.session.send(SessionCmd::Join {
                room: room.clone(),
                nick: nick.clone(),
                password: password.clone(),
                history,
                tag,
            });
            IqStep::Done(Vec::new())
        });
        self.start_iq("", Some(to.into()), mam::disco_info(), false, then);
    }

    fn learn_mam(&mut self, room: &BareJid) {
        if self.catchup.mam_rooms.insert(room.clone()) {
            self.session.send(SessionCmd::CatchUpByMam {
                room: room.clone(),
                mam: true,
            });
        }
    }

    /// Where a catch-up of `room` starts: after the newest stanza-id we
    /// hold (memory, then archive), or from the time of our newest line.
    fn mam_anchor(&self, room: &BareJid) -> Option<Anchor> {
        let r = self.store.room(room)?;
        let chat = || {
            r.messages
                .iter()
                .rev()
                .filter(|m| m.kind == Kind::Chat && !m.private)
        };
        if let Some(sid) = chat().find_map(|m| m.stanza_id.clone()) {
            return Some(Anchor::After(sid));
        }
        if let Some(Ok(Some(sid))) = self
            .history
            .as_ref()
            .map(|h| h.last_stanza_id(room.as_str()))
        {
            return Some(Anchor::After(sid));
        }
        chat().next().map(|m| Anchor::Start(m.time))
    }

    /// Looks at the events of a session event once the store has them:
    /// joins start catch-ups, corrections reach the archive. Returns
    /// events to add (an archive failure).
    pub(super) fn after_events(&mut self, events: &[Event]) -> Vec<Event> {
        let mut more = Vec::new();
        for e in events {
            match e {
                Event::Joined { room, protocol, .. } if *protocol == "muc" => {
                    let Ok(room) = BareJid::new(room) else {
                        continue;
                    };
                    let since = self
                        .catchup
                        .joined_at
                        .insert(room.clone(), Utc::now())
                        .map(|t| Anchor::Start(t - chrono::Duration::seconds(CLOCK_SKEW_SECS)));
                    if self.catchup.mam_rooms.contains(&room) {
                        if let Some(anchor) = self.mam_anchor(&room).or(since) {
                            self.start_catchup(room, anchor);
                        }
                    } else if self.catchup.asked.insert(room.clone()) {
                        self.ask_features(room);
                    }
                }
                Event::Correction {
                    room,
                    nick,
                    replaces,
                    body,
                    ..
                } => {
                    if let Some(h) = self.history.as_mut()
                        && let Err(e) = h.correct(room, replaces, nick.as_deref(), body)
                    {
                        more.push(self.history_broken(e));
                    }
                }
                _ => {}
            }
        }
        more
    }

    /// disco#info of a room we just entered: does it archive?
    fn ask_features(&mut self, room: BareJid) {
        let to = room.clone();
        let then = IqThen::new(move |app, _, result| {
            if mam::has_feature(result.ok().flatten().as_ref(), mam::MAM) {
                app.learn_mam(&room);
            }
            IqStep::Done(Vec::new())
        });
        self.start_iq("", Some(to.into()), mam::disco_info(), false, then);
    }

    fn start_catchup(&mut self, room: BareJid, anchor: Anchor) {
        // One catch-up per room at a time.
        if self.catchup.queries.values().any(|q| q.room == room) {
            return;
        }
        let queryid = self.catchup.queryid();
        let payload = mam::query(&queryid, &anchor, PAGE);
        self.catchup.queries.insert(
            queryid.clone(),
            Query {
                room: room.clone(),
                anchor,
                count: 0,
                pages: 1,
            },
        );
        self.start_iq("", Some(room.into()), payload, true, mam_then(queryid));
    }

    /// The answer to one page: the next page, or the end.
    fn mam_page(
        &mut self,
        queryid: &str,
        result: Result<Option<minidom::Element>, ErrorInfo>,
    ) -> IqStep {
        let Some(q) = self.catchup.queries.remove(queryid) else {
            return IqStep::Done(Vec::new());
        };
        let next = match result {
            Ok(payload) => match payload.as_ref().and_then(mam::parse_fin) {
                Some(mam::Fin {
                    complete: false,
                    last: Some(last),
                }) if q.pages < MAX_PAGES => Anchor::After(last),
                _ => {
                    return IqStep::Done(vec![Event::Mam {
                        room: q.room.to_string(),
                        count: q.count,
                    }]);
                }
            },
            Err(e) => {
                // The archive no longer knows our stanza-id: go by time.
                let by_time = self.store.room(&q.room).and_then(|r| {
                    r.messages
                        .iter()
                        .rev()
                        .find(|m| m.kind == Kind::Chat && !m.private)
                        .map(|m| m.time)
                });
                match (&q.anchor, by_time) {
                    (Anchor::After(_), Some(t)) if e.condition == "item-not-found" => {
                        Anchor::Start(t)
                    }
                    _ => {
                        return IqStep::Done(vec![Event::Error {
                            command: None,
                            room: Some(q.room.to_string()),
                            condition: e.condition,
                            text: Some(format!(
                                "archive catch-up failed: {}",
                                e.text.unwrap_or_default()
                            )),
                            message_id: None,
                        }]);
                    }
                }
            }
        };
        let queryid = self.catchup.queryid();
        let payload = mam::query(&queryid, &next, PAGE);
        let room = q.room.clone();
        self.catchup.queries.insert(
            queryid.clone(),
            Query {
                anchor: next,
                pages: q.pages + 1,
                ..q
            },
        );
        IqStep::Next {
            events: Vec::new(),
            to: Some(room.into()),
            payload,
            set: true,
            then: mam_then(queryid),
        }
    }

    /// An archived message: it counts only as the answer to one of our
    /// queries, from the room we asked.
    pub(super) fn on_mam_result(&mut self, r: MamResult) -> Vec<Event> {
        let Some(q) = self.catchup.queries.get(&r.queryid) else {
            return Vec::new();
        };
        if !mam::from_archive(&r, &q.room) {
            return Vec::new();
        }
        let room = q.room.clone();
        let archived = |app: &App| {
            app.history
                .as_ref()
                .is_some_and(|h| h.has_stanza_id(room.as_str(), &r.id).unwrap_or(false))
        };
        let inc = match *r.message {
            Incoming::RoomMessage(mut m) if m.room == room => {
                if archived(self) {
                    return Vec::new();
                }
                m.stanza_id = Some(r.id.clone());
                m.delayed = true;
                m.time = r.time.or(m.time);
                Incoming::RoomMessage(m)
            }
            Incoming::Correction(mut c) if c.room == room => {
                c.stanza_id = Some(r.id.clone());
                c.delayed = true;
                c.time = r.time.or(c.time);
                Incoming::Correction(c)
            }
            _ => return Vec::new(),
        };
        let mut events = self
            .store
            .apply(Input::Session(SessionEvent::Incoming(inc)), Utc::now());
        let new = events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. } | Event::Correction { .. }))
            .count();
        if let Some(q) = self.catchup.queries.get_mut(&r.queryid) {
            q.count += new;
        }
        let more = self.after_events(&events);
        events.extend(more);
        events
    }

    /// `/correct ROOM TEXT`: our last message in the room now reads TEXT.
    pub(super) fn start_correct(
        &mut self,
        room: BareJid,
        body: String,
        text: &str,
    ) -> Result<Exec, Box<Event>> {
        self.in_room(&room, text)?;
        let original = self.store.room(&room).and_then(|r| {
            r.messages
                .iter()
                .rev()
                .find(|m| m.own && m.kind == Kind::Chat && !m.private)
                .and_then(|m| m.id.clone())
        });
        let Some(original) = original else {
            return Err(refuse(
                text,
                "item-not-found",
                format!("you have written nothing in {room} to correct"),
            ));
        };
        let id = self.message_id();
        let message = correction::correction(&room, &body, &id, &original);
        Ok(self.send_echoed(text, room, message, id))
    }
}

fn mam_then(queryid: String) -> IqThen {
    IqThen::new(move |app, _, result| app.mam_page(&queryid, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppOptions;
    use crate::command::Command;
    use crate::protocol::muc::MucPresence;
    use crate::protocol::{OccupantInfo, RoomMessage};
    use crate::session::SessionHandle;
    use tokio::sync::mpsc::UnboundedReceiver;

    fn room() -> BareJid {
        BareJid::new("r@conference.localhost").unwrap()
    }

    fn app() -> (App, UnboundedReceiver<SessionCmd>) {
        App::for_tests("alice@localhost", 50)
    }

    fn self_presence() -> SessionEvent {
        SessionEvent::Incoming(Incoming::MucPresence(MucPresence {
            room: room(),
            nick: "alice".into(),
            available: true,
            info: OccupantInfo::default(),
            codes: vec![110],
            has_muc_user: true,
            new_nick: None,
            reason: None,
            actor: None,
            destroyed: None,
        }))
    }

    fn live(body: &str, sid: &str) -> SessionEvent {
        SessionEvent::Incoming(Incoming::RoomMessage(RoomMessage {
            room: room(),
            nick: Some("bob".into()),
            body: body.into(),
            id: None,
            stanza_id: Some(sid.into()),
            time: None,
            delayed: false,
        }))
    }

    fn result(queryid: &str, id: &str, body: &str, from: &str) -> SessionEvent {
        SessionEvent::Incoming(Incoming::MamResult(MamResult {
            archive: Some(jid::Jid::new(from).unwrap()),
            queryid: queryid.into(),
            id: id.into(),
            time: None,
            message: Box::new(Incoming::RoomMessage(RoomMessage {
                room: room(),
                nick: Some("bob".into()),
                body: body.into(),
                id: None,
                stanza_id: None,
                time: None,
                delayed: false,
            })),
        }))
    }

    /// The MAM query the app asked the session for: (tag, queryid, after).
    fn mam_query(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, Option<String>) {
        while let Ok(cmd) = rx.try_recv() {
            if let SessionCmd::Iq {
                payload, tag, set, ..
            } = cmd
                && payload.is("query", mam::MAM)
            {
                assert!(set);
                let after = payload
                    .get_child("set", mam::RSM)
                    .and_then(|s| s.get_child("after", mam::RSM))
                    .map(|a| a.text());
                return (tag, payload.attr("queryid").unwrap().to_string(), after);
            }
        }
        panic!("no MAM query was sent")
    }

    fn fin(complete: bool, last: &str) -> Option<minidom::Element> {
        Some(
            format!("<fin xmlns='urn:xmpp:mam:2' complete='{complete}'><set xmlns='http://jabber.org/protocol/rsm'><last>{last}</last></set></fin>")
                .parse()
                .unwrap(),
        )
    }

    #[test]
    fn rejoin_catches_up_page_by_page_without_duplicates() {
        let (mut app, mut rx) = app();
        app.execute(
            Command::Join {
                room: room(),
                nick: None,
                password: None,
                options: Default::default(),
            },
            "/join r@conference.localhost",
        );
        app.on_session(self_presence());
        app.on_session(live("before", "s1"));
        // The room archives.
        app.catchup.mam_rooms.insert(room());
        // Connection lost and back: the rejoin starts a catch-up after s1.
        app.on_session(SessionEvent::Disconnected {
            reason: "x".into(),
            retry_in: std::time::Duration::from_secs(1),
        });
        let ev = app.on_session(self_presence());
        assert!(ev.iter().any(|e| e.to_json()["rejoined"] == true));
        let (tag, q1, after) = mam_query(&mut rx);
        assert_eq!(after.as_deref(), Some("s1"));
        // Someone else's queryid, or a result not from the room: ignored.
        assert!(
            app.on_session(result("other", "s2", "forged", "r@conference.localhost"))
                .is_empty()
        );
        assert!(
            app.on_session(result(&q1, "s2", "forged", "evil@localhost"))
                .is_empty()
        );
        // A duplicate of what we hold is dropped; new ones are delayed
        // messages.
        assert!(
            app.on_session(result(&q1, "s1", "before", "r@conference.localhost"))
                .is_empty()
        );
        let ev = app.on_session(result(&q1, "s2", "missed 1", "r@conference.localhost"));
        assert_eq!(ev[0].to_json()["delayed"], true);
        assert_eq!(ev[0].to_json()["body"], "missed 1");
        // Not complete: the next page, after the last id.
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(fin(false, "s2")),
        });
        assert!(ev.is_empty(), "{ev:?}");
        let (tag, q2, after) = mam_query(&mut rx);
        assert_ne!(q1, q2);
        assert_eq!(after.as_deref(), Some("s2"));
        // A late result of the finished page is no longer ours.
        assert!(
            app.on_session(result(&q1, "s9", "late", "r@conference.localhost"))
                .is_empty()
        );
        app.on_session(result(&q2, "s3", "missed 2", "r@conference.localhost"));
        // The live copy of a message comes too: once only.
        assert!(app.on_session(live("missed 2", "s3")).is_empty());
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(fin(true, "s3")),
        });
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].to_json()["event"], "mam");
        assert_eq!(ev[0].to_json()["count"], 2);
        let bodies: Vec<String> = app
            .store
            .room(&room())
            .unwrap()
            .messages
            .iter()
            .map(|m| m.body.clone())
            .collect();
        assert_eq!(bodies, ["before", "missed 1", "missed 2"]);
    }

    #[test]
    fn an_unknown_stanza_id_falls_back_to_time() {
        let (mut app, mut rx) = app();
        app.execute(
            Command::Join {
                room: room(),
                nick: None,
                password: None,
                options: Default::default(),
            },
            "/join r@conference.localhost",
        );
        app.on_session(self_presence());
        app.on_session(live("before", "s1"));
        app.catchup.mam_rooms.insert(room());
        app.on_session(SessionEvent::Disconnected {
            reason: "x".into(),
            retry_in: std::time::Duration::from_secs(1),
        });
        app.on_session(self_presence());
        let (tag, _, _) = mam_query(&mut rx);
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new("item-not-found", None)),
        });
        assert!(ev.is_empty(), "{ev:?}");
        // Asked again with a start time and no <after/>.
        let (tag, _, after) = mam_query(&mut rx);
        assert_eq!(after, None);
        // Any other error is reported, naming the room.
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new("forbidden", Some("no".into()))),
        });
        assert_eq!(ev[0].to_json()["event"], "error");
        assert_eq!(ev[0].to_json()["room"], "r@conference.localhost");
    }

    fn archived_app() -> (App, UnboundedReceiver<SessionCmd>) {
        let mut h = crate::history::History::in_memory("alice@localhost").unwrap();
        h.append(&[crate::history::Record {
            conversation: room().to_string(),
            message: crate::store::Message {
                kind: Kind::Chat,
                seq: 0,
                id: None,
                stanza_id: Some("s1".into()),
                time: Utc::now(),
                nick: Some("bob".into()),
                body: "old".into(),
                own: false,
                private: false,
                delayed: false,
                archived: false,
                edited: false,
            },
        }])
        .unwrap();
        let (handle, rx) = SessionHandle::pair();
        let app = App::new(
            handle,
            Some(h),
            AppOptions {
                account: BareJid::new("alice@localhost").unwrap(),
                default_nick: "alice".into(),
                history_load: 50,
            },
        );
        (app, rx)
    }

    /// Joins a room we hold history of; answers the disco#info the app
    /// asks first with `features`; returns the join's history request.
    fn join_with_features(features: &str) -> (Vec<SessionCmd>, HistoryRequest) {
        let (mut app, mut rx) = archived_app();
        app.execute(
            Command::Join {
                room: room(),
                nick: None,
                password: None,
                options: Default::default(),
            },
            "/join r@conference.localhost",
        );
        let Ok(SessionCmd::Iq {
            payload, tag, set, ..
        }) = rx.try_recv()
        else {
            panic!("disco#info first")
        };
        assert!(payload.is("query", crate::protocol::ns::DISCO_INFO) && !set);
        assert!(rx.try_recv().is_err(), "no join before the answer");
        let info =
            format!("<query xmlns='http://jabber.org/protocol/disco#info'>{features}</query>");
        app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(Some(info.parse().unwrap())),
        });
        let mut cmds = Vec::new();
        while let Ok(c) = rx.try_recv() {
            cmds.push(c);
        }
        let history = cmds
            .iter()
            .find_map(|c| match c {
                SessionCmd::Join { history, .. } => Some(history.clone()),
                _ => None,
            })
            .expect("the join");
        (cmds, history)
    }

    #[test]
    fn a_room_that_archives_is_joined_without_muc_history() {
        let (cmds, history) = join_with_features(
            "<feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:mam:2'/>",
        );
        assert_eq!(history, HistoryRequest::MaxStanzas(0));
        // The session will rejoin it the same way.
        assert!(matches!(cmds[0], SessionCmd::CatchUpByMam { .. }));
        let (cmds, history) = join_with_features("<feature var='http://jabber.org/protocol/muc'/>");
        assert!(matches!(history, HistoryRequest::Since(_)), "{history:?}");
        assert_eq!(cmds.len(), 1);
    }

    #[test]
    fn a_quiet_room_catches_up_from_when_we_entered_it() {
        let (mut app, mut rx) = app();
        app.execute(
            Command::Join {
                room: room(),
                nick: None,
                password: None,
                options: Default::default(),
            },
            "/join r@conference.localhost",
        );
        app.on_session(self_presence());
        app.catchup.mam_rooms.insert(room());
        app.on_session(SessionEvent::Disconnected {
            reason: "x".into(),
            retry_in: std::time::Duration::from_secs(1),
        });
        app.on_session(self_presence());
        let (_, _, after) = mam_query(&mut rx);
        assert_eq!(after, None, "by time: nothing was said before");
    }

    #[test]
    fn correct_needs_a_message_of_ours() {
        let (mut app, _rx) = app();
        app.execute(
            Command::Join {
                room: room(),
                nick: None,
                password: None,
                options: Default::default(),
            },
            "/join r@conference.localhost",
        );
        app.on_session(self_presence());
        let exec = app.execute(
            Command::Correct {
                room: room(),
                text: "x".into(),
            },
            "/correct r@conference.localhost x",
        );
        let j = exec.events[0].to_json();
        assert_eq!(j["event"], "error");
        assert_eq!(j["condition"], "item-not-found");
        assert_eq!(j["command"], "/correct r@conference.localhost x");
    }
}

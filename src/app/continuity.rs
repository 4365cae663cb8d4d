//! History and identity: XEP-0313 MAM catch-up of rooms on join and
//! after a reconnection (and, by the same engine, of our account's
//! archive after login: `continuity/account.rs`), XEP-0308 corrections
//! (`/correct`, and the archive's rows), as `impl App` blocks.
//!
//! Catch-up: a room whose disco#info lists `urn:xmpp:mam:2` is asked for
//! everything after the newest stanza-id we hold for it (from memory or
//! the archive; a time when we have no stanza-id), page by page (RSM,
//! [`PAGE`] asked for, the server gives what it allows) until `<fin
//! complete='true'/>` — however many pages that takes. A page that ends
//! nothing (no results yet not complete, no `<last/>`, or a `<last/>`
//! already seen) ends the catch-up with an `error` saying how far it got;
//! every catch-up ends with one `mam` event that says whether it was
//! complete. Results count only when their `queryid` is one of ours and
//! they come from the room; the page's own answer only when it comes from
//! the room (the session checks that, `session/task/origin.rs`). The
//! forwarded messages enter the store as delayed messages with the result
//! id as stanza-id, so the store's `MessageLog` drops what it already
//! holds and the archive what it already has.
//!
//! MUC history, decided per join: when we hold history of a room, every
//! `/join` asks its disco#info first; if it archives, the join asks for no
//! MUC history (`maxstanzas='0'`) and MAM alone fills the gap, and the
//! session does the same on rejoins. A positive answer is kept for the
//! session, a negative or failed one is not (a room that did not exist at
//! one check may archive at the next). A room joined without such a
//! check (the first join, a rejoin of a room not known to archive) gets
//! the usual MUC history and is asked after the join; if it archives and
//! we had something to catch up from, MAM fills what the MUC history did
//! not.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::{App, Exec, IqStep, IqThen, refuse};
use crate::protocol::correction;
use crate::protocol::mam::{self, Anchor, MamResult};
use crate::protocol::muc::HistoryRequest;
use crate::protocol::origin::random_id;
use crate::protocol::{ErrorInfo, Incoming};
use crate::session::{SessionCmd, Tag};
use crate::store::{ArchiveMark, Event, Input, Kind};

mod account;

/// How far the server's clock may be behind ours: a catch-up by time
/// starts this much earlier (what we already saw is dropped by stanza-id).
const CLOCK_SKEW_SECS: i64 = 300;

/// Results asked for per page; servers cap it (Prosody at 50 unless
/// `max_archive_query_results` says more).
pub(super) const PAGE: u32 = 250;

mod unconfirmed;

#[derive(Debug, Default)]
pub(crate) struct Catchup {
    /// Running queries by queryid.
    queries: HashMap<String, Query>,
    /// Rooms whose latest disco#info listed MAM.
    mam_rooms: HashSet<BareJid>,
    /// Rooms whose join under way was preceded by a disco#info check (the
    /// `joined` that ends it need not ask again).
    checked: HashSet<BareJid>,
    /// When we last entered each room: a rejoin of a room where nothing
    /// was said yet catches up from there.
    joined_at: HashMap<BareJid, DateTime<Utc>>,
    /// The account's mark as last saved in the history.
    saved_mark: Option<ArchiveMark>,
    /// From a new connection to the start of the account's catch-up: the
    /// mark as the connection came up. Messages that arrive meanwhile
    /// (our server's offline storage comes first) move the store's mark
    /// past what the archive has not given us yet: the catch-up starts
    /// from this one, and no mark is saved until it runs.
    account_due: Option<Option<ArchiveMark>>,
    /// Our messages a lost stream left unacknowledged, until the catch-up
    /// of their room says whether they arrived (`continuity/unconfirmed.rs`).
    unconfirmed: unconfirmed::Unconfirmed,
    /// Rooms whose catch-up has not reached the end of their archive yet:
    /// where it started. Live messages that come meanwhile are newer
    /// than what is still missing, so the next catch-up (a rejoin, the
    /// next run: the history's marks keep it) starts here, not after
    /// them; it is forgotten when a catch-up completes.
    unfinished: HashMap<BareJid, Anchor>,
}

/// Messages of rooms being caught up that may wait for the archive,
/// written in one transaction when the catch-up ends or this many wait
/// (below the store's window, which recognises them meanwhile).
const DEFERRED_WRITES: usize = 1_000;

/// Which archive a catch-up reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Archive {
    /// A room's (the query goes to the room).
    Room(BareJid),
    /// Our account's, one-to-one conversations (the query goes to our
    /// own account; `app/account_archive.rs`).
    Account(BareJid),
}

impl Archive {
    fn jid(&self) -> &BareJid {
        match self {
            Archive::Room(j) | Archive::Account(j) => j,
        }
    }

    /// Where the query goes (`None`: our own account).
    fn to(&self) -> Option<jid::Jid> {
        match self {
            Archive::Room(r) => Some(r.clone().into()),
            Archive::Account(_) => None,
        }
    }
}

#[derive(Debug)]
struct Query {
    archive: Archive,
    anchor: Anchor,
    /// Where to go by time when the archive forgot the id we asked after
    /// (the account's; a room's comes from its newest line).
    since: Option<DateTime<Utc>>,
    /// The id and time of the last result so far.
    last: Option<(String, DateTime<Utc>)>,
    /// The account's mark when the catch-up started (put back if it
    /// stops before any result: live messages may have moved it past the
    /// gap).
    start_mark: Option<ArchiveMark>,
    /// New messages so far.
    count: usize,
    /// Results so far (new or not), and in the page under way.
    results: usize,
    page_results: usize,
    pages: u32,
    /// The `<last/>` of every page so far: one seen again is a loop.
    lasts: HashSet<String>,
}

impl Query {
    fn new(archive: Archive, anchor: Anchor) -> Query {
        Query {
            archive,
            anchor,
            since: None,
            last: None,
            start_mark: None,
            count: 0,
            results: 0,
            page_results: 0,
            pages: 1,
            lasts: HashSet::new(),
        }
    }

    fn done(&self, complete: bool) -> Event {
        match &self.archive {
            Archive::Room(room) => Event::Mam {
                room: room.to_string(),
                count: self.count,
                complete,
            },
            Archive::Account(account) => Event::MamAccount {
                account: account.to_string(),
                count: self.count,
                complete,
            },
        }
    }

    /// The end of a catch-up that did not reach the end of the archive:
    /// an `error` saying why and how far it got, then `mam`.
    fn stopped(&self, condition: &str, why: &str) -> Vec<Event> {
        let (room, retry) = match &self.archive {
            Archive::Room(r) => (Some(r.clone()), "join the room again to retry"),
            Archive::Account(_) => (None, "the next login or reconnection tries again"),
        };
        vec![
            Event::Error {
                command: None,
                room,
                condition: condition.to_string(),
                text: Some(format!(
                    "archive catch-up of {} stopped after {} new messages ({} results in {} pages): \
                     {why}; the rest was not fetched ({retry})",
                    self.archive.jid(),
                    self.count,
                    self.results,
                    self.pages
                )),
                message_id: None,
            },
            self.done(false),
        ]
    }
}

impl App {
    /// Sends the join of `/join`. A room we hold history of is asked
    /// whether it archives first (every time: the answer is per join):
    /// then the join asks for no MUC history and MAM catches up after it.
    pub(super) fn send_join(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
        tag: Tag,
    ) {
        if self.mam_anchor(&room).is_none() {
            self.session.send(SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag,
            });
            return;
        }
        self.catchup.checked.insert(room.clone());
        let to = room.clone();
        let then = IqThen::new(move |app, _, result| {
            let mam = mam::has_feature(result.ok().flatten().as_ref(), mam::MAM);
            app.note_mam(&room, mam);
            let history = if mam {
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

    /// What the room's disco#info said about MAM; the session rejoins it
    /// accordingly.
    fn note_mam(&mut self, room: &BareJid, mam: bool) {
        let changed = if mam {
            self.catchup.mam_rooms.insert(room.clone())
        } else {
            self.catchup.mam_rooms.remove(room)
        };
        if changed {
            self.session.send(SessionCmd::CatchUpByMam {
                room: room.clone(),
                mam,
            });
        }
    }

    /// Where a catch-up of `room` starts: after the newest stanza-id we
    /// hold (memory, then archive), or from the time of our newest line.
    fn mam_anchor(&self, room: &BareJid) -> Option<Anchor> {
        let r = self.store.room(room)?;
        if let Some(a) = self.unfinished_catchup(room) {
            return Some(a);
        }
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
                    let room = room.clone();
                    let since = self
                        .catchup
                        .joined_at
                        .insert(room.clone(), Utc::now())
                        .map(|t| Anchor::Start(t - chrono::Duration::seconds(CLOCK_SKEW_SECS)));
                    // Before the MUC history of this join comes in.
                    let from = self.mam_anchor(&room).or(since);
                    let checked = self.catchup.checked.remove(&room);
                    if self.catchup.mam_rooms.contains(&room) {
                        if let Some(anchor) = from {
                            self.start_catchup(Archive::Room(room), anchor, None);
                        }
                    } else if !checked {
                        self.ask_features(room, from);
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
                        && let Err(e) = h.correct(room.as_str(), replaces, nick.as_deref(), body)
                    {
                        more.push(self.history_broken(e));
                    }
                }
                _ => {}
            }
        }
        more
    }

    /// disco#info of a room we just entered with MUC history: does it
    /// archive? Then later joins use MAM, and what the MUC history may
    /// have missed since `from` is caught up now.
    fn ask_features(&mut self, room: BareJid, from: Option<Anchor>) {
        let to = room.clone();
        let then = IqThen::new(move |app, _, result| {
            let mam = mam::has_feature(result.ok().flatten().as_ref(), mam::MAM);
            app.note_mam(&room, mam);
            if mam && let Some(anchor) = from.clone() {
                app.start_catchup(Archive::Room(room.clone()), anchor, None);
            }
            IqStep::Done(Vec::new())
        });
        self.start_iq("", Some(to.into()), mam::disco_info(), false, then);
    }

    /// The end of a catch-up short of the archive's end: `error`, `mam`.
    /// The account's mark goes back to the last result (or where it
    /// started), so that the next catch-up fetches the rest.
    fn stop(&mut self, q: &Query, condition: &str, why: &str) -> Vec<Event> {
        if let Archive::Account(_) = q.archive {
            self.store.account_mark = match &q.last {
                Some((id, time)) => Some(ArchiveMark {
                    stanza_id: id.clone(),
                    time: *time,
                }),
                None => q.start_mark.clone(),
            };
        }
        q.stopped(condition, why)
    }

    /// Where the last catch-up of `room` that did not finish started (in
    /// memory, else in the history's marks).
    fn unfinished_catchup(&self, room: &BareJid) -> Option<Anchor> {
        match self.catchup.unfinished.get(room) {
            Some(a) => Some(a.clone()),
            None => self.saved_unfinished(room),
        }
    }

    /// Where an unfinished catch-up of `room` started, as a run before
    /// this one saved it: a `stanza_id` after which, or an empty one and
    /// a time since which.
    fn saved_unfinished(&self, room: &BareJid) -> Option<Anchor> {
        let m = self.history.as_ref()?.mark(room.as_str()).ok()??;
        Some(if m.stanza_id.is_empty() {
            Anchor::Start(m.time)
        } else {
            Anchor::After(m.stanza_id)
        })
    }

    /// A catch-up of `room` from `anchor` starts: until one completes,
    /// the next starts there (unless an earlier one is still unfinished).
    fn note_unfinished(&mut self, room: &BareJid, anchor: &Anchor) {
        if self.catchup.unfinished.contains_key(room) {
            return;
        }
        let anchor = match self.saved_unfinished(room) {
            Some(saved) => saved,
            None => {
                self.save_unfinished(room, anchor);
                anchor.clone()
            }
        };
        self.catchup.unfinished.insert(room.clone(), anchor);
    }

    fn save_unfinished(&mut self, room: &BareJid, anchor: &Anchor) {
        let Some(h) = self.history.as_mut() else {
            return;
        };
        let mark = match anchor {
            Anchor::After(sid) => ArchiveMark {
                stanza_id: sid.clone(),
                time: Utc::now(),
            },
            Anchor::Start(t) => ArchiveMark {
                stanza_id: String::new(),
                time: *t,
            },
        };
        if let Err(e) = h.set_mark(room.as_str(), &mark) {
            tracing::warn!("saving where the catch-up of {room} starts: {e}");
        }
    }

    /// A catch-up of `room` reached the end of its archive.
    fn note_finished(&mut self, room: &BareJid) {
        self.catchup.unfinished.remove(room);
        if let Some(h) = self.history.as_mut()
            && let Err(e) = h.clear_mark(room.as_str())
        {
            tracing::warn!("forgetting where the catch-up of {room} started: {e}");
        }
    }

    /// Whether the messages waiting for the archive may wait longer: all
    /// of rooms whose catch-up is under way (the next catch-up starts
    /// before them if we stop first), fewer than [`DEFERRED_WRITES`],
    /// and nothing else waits (a removal, a reaction).
    pub(super) fn may_defer_writes(&self) -> bool {
        let waiting = self.store.journal_len();
        if waiting == 0 || waiting >= DEFERRED_WRITES {
            return false;
        }
        let Some(mut convs) = self.store.journal_only() else {
            return false;
        };
        let catching_up: Vec<&BareJid> = self
            .catchup
            .queries
            .values()
            .filter_map(|q| match &q.archive {
                Archive::Room(r) if self.catchup.unfinished.contains_key(r) => Some(r),
                _ => None,
            })
            .collect();
        convs.all(|c| catching_up.contains(&c))
    }

    /// Starts a catch-up of `archive` from `anchor` (`since`: where to go
    /// by time if the archive forgot the anchor's id).
    fn start_catchup(&mut self, archive: Archive, anchor: Anchor, since: Option<DateTime<Utc>>) {
        // One catch-up per archive at a time.
        if self.catchup.queries.values().any(|q| q.archive == archive) {
            return;
        }
        if let Archive::Room(room) = &archive {
            self.note_unfinished(room, &anchor);
        }
        let queryid = random_id("mam");
        let payload = mam::query(&queryid, &anchor, PAGE);
        let to = archive.to();
        let mut q = Query::new(archive, anchor);
        q.since = since;
        q.start_mark = self.store.account_mark.clone();
        self.catchup.queries.insert(queryid.clone(), q);
        self.start_iq("", to, payload, true, mam_then(queryid));
    }

    /// The answer to one page: the next page, or the end.
    fn mam_page(
        &mut self,
        queryid: &str,
        result: Result<Option<minidom::Element>, ErrorInfo>,
    ) -> IqStep {
        let Some(mut q) = self.catchup.queries.remove(queryid) else {
            return IqStep::Done(Vec::new());
        };
        let next = match result {
            Ok(payload) => match payload.as_ref().and_then(mam::parse_fin) {
                Some(mam::Fin { complete: true, .. }) => {
                    let mut events = Vec::new();
                    if let Archive::Room(room) = &q.archive {
                        // What it brought is archived before where it
                        // started is forgotten.
                        events = self.write_journal();
                        self.note_finished(room);
                    }
                    events.push(q.done(true));
                    return IqStep::Done(events);
                }
                Some(mam::Fin { last, .. }) => {
                    let why = match &last {
                        _ if q.page_results == 0 => {
                            "the archive sent an empty page without saying it was complete"
                        }
                        None => "the archive sent a page without its last id",
                        Some(l) if !q.lasts.insert(l.clone()) => {
                            "the archive sent a page it had sent before"
                        }
                        Some(_) => "",
                    };
                    match last {
                        Some(last) if why.is_empty() => Anchor::After(last),
                        _ => return IqStep::Done(self.stop(&q, "undefined-condition", why)),
                    }
                }
                None => {
                    let why = "the archive's answer was not a <fin/>";
                    return IqStep::Done(self.stop(&q, "undefined-condition", why));
                }
            },
            Err(e) => {
                // The archive no longer knows our stanza-id: go by time.
                let by_time = q.since.or_else(|| {
                    self.store.room(q.archive.jid()).and_then(|r| {
                        r.messages
                            .iter()
                            .rev()
                            .find(|m| m.kind == Kind::Chat && !m.private)
                            .map(|m| m.time)
                    })
                });
                match (&q.anchor, by_time) {
                    (Anchor::After(_), Some(t)) if e.condition == "item-not-found" => {
                        Anchor::Start(t)
                    }
                    _ => {
                        let why = format!(
                            "the archive answered with an error: {}",
                            e.text.as_deref().unwrap_or(&e.condition)
                        );
                        return IqStep::Done(self.stop(&q, &e.condition, &why));
                    }
                }
            }
        };
        let queryid = random_id("mam");
        let payload = mam::query(&queryid, &next, PAGE);
        let to = q.archive.to();
        q.anchor = next;
        q.pages += 1;
        q.page_results = 0;
        self.catchup.queries.insert(queryid.clone(), q);
        IqStep::Next {
            events: Vec::new(),
            to,
            payload,
            set: true,
            then: mam_then(queryid),
        }
    }

    /// An archived message: it counts only as the answer to one of our
    /// queries, from the room we asked.
    pub(super) fn on_mam_result(&mut self, r: MamResult) -> Vec<Event> {
        let Some(q) = self.catchup.queries.get_mut(&r.queryid) else {
            return Vec::new();
        };
        let room = match &q.archive {
            Archive::Room(room) => room.clone(),
            Archive::Account(account) => {
                let account = account.clone();
                return self.on_account_result(r, &account);
            }
        };
        if !mam::from_archive(&r, &room) {
            return Vec::new();
        }
        q.results += 1;
        q.page_results += 1;
        let archived = |app: &App| {
            app.history
                .as_ref()
                .is_some_and(|h| h.has_stanza_id(room.as_str(), &r.id).unwrap_or(false))
        };
        // One of ours a lost stream left unconfirmed: it arrived.
        let confirmed = match &*r.message {
            Incoming::RoomMessage(m) if m.room == room => {
                self.unconfirmed_seen(&room, m.id.as_deref())
            }
            _ => Vec::new(),
        };
        let inc = match *r.message {
            Incoming::RoomMessage(mut m) if m.room == room => {
                if archived(self) {
                    return confirmed;
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
            Incoming::Reactions(mut x) if x.groupchat && x.from.to_bare() == room => {
                x.delayed = true;
                x.time = r.time.or(x.time);
                Incoming::Reactions(x)
            }
            // A tombstone names the message it stands for by the
            // archive's id: trusted here only, from the archive we asked.
            Incoming::Retraction(mut x) if x.groupchat && x.from.to_bare() == room => {
                if x.tombstone {
                    x.target = Some(r.id.clone());
                    // Archived but no longer held: the archive's row only.
                    let held = self
                        .store
                        .room(&room)
                        .is_some_and(|rm| rm.messages.find_ref(&r.id, true).is_some());
                    if archived(self) && !held {
                        return self.remove_archived(&room, &r.id, &x, confirmed);
                    }
                }
                x.delayed = true;
                x.time = r.time.or(x.time);
                Incoming::Retraction(x)
            }
            _ => return confirmed,
        };
        let mut events = self.store.apply(Input::Incoming(inc), Utc::now());
        events.extend(confirmed);
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

    /// A tombstone for a line the archive has and memory no longer
    /// holds: its row loses the text.
    fn remove_archived(
        &mut self,
        room: &BareJid,
        id: &str,
        x: &crate::protocol::retract::Retraction,
        mut events: Vec<Event>,
    ) -> Vec<Event> {
        let removal = crate::store::Removal {
            conversation: room.clone(),
            target: id.to_string(),
            room: true,
            sender: crate::store::SenderCheck::Any,
            removed: crate::store::Removed {
                by: x.moderation.as_ref().and_then(|m| m.by_nick()),
                reason: x.moderation.as_ref().and_then(|m| m.reason.clone()),
            },
        };
        if let Some(h) = self.history.as_mut()
            && let Err(e) = h.remove(&removal)
        {
            events.push(self.history_broken(e));
        }
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
        if self.omemo_enabled(&room) {
            return self.start_omemo_room_correct(text, room, body, original);
        }
        let id = self.message_id();
        let message = correction::correction(&room, &body, &id, &original);
        Ok(self.send_echoed(text, room, message, id))
    }
}

fn mam_then(queryid: String) -> IqThen {
    IqThen::new(move |app, _, result| app.mam_page(&queryid, result))
}

#[cfg(test)]
mod tests;

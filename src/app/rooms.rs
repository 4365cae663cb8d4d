//! The room directory and the room life cycle: `/rooms` (disco#items,
//! paged with RSM), `/search`, `/info` (disco#info), `/create`,
//! `/destroy`, and the forms the TUI edits. Without a SERVICE argument,
//! the MUC service of the account's server is discovered (disco#items of
//! the domain, then disco#info of each item until one is
//! `conference`/`text`) and kept for the session.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::data_forms::DataForm;

use super::{App, Exec, IqStep, IqThen, OUTCOME_TIMEOUT, Waiting, err_event, refuse};
use crate::protocol::muc::StatusCode;
use crate::protocol::rooms::{self as proto, RoomItem};
use crate::protocol::{ErrorInfo, channel_search, owner};
use crate::session::{SessionCmd, Tag};
use crate::store::{Event, Input, JoinState};

/// Rooms asked for per disco#items page.
pub const PAGE: u32 = 100;
/// At most this many pages are fetched (a service that never ends).
const MAX_PAGES: usize = 1000;
/// `/search` looks up the description of at most this many rooms whose
/// name and JID do not match.
pub const DESCRIBE_LIMIT: usize = 50;

/// What the app remembers about the room directory.
#[derive(Debug, Default)]
pub(super) struct RoomsState {
    /// The MUC service discovered on the account's server.
    pub(super) muc_service: Option<Jid>,
    /// The XEP-0433 search service `/search` asks when no SERVICE is given.
    search_service: Option<Jid>,
}

type ServiceFn = dyn Fn(&mut App, &str, Jid) -> IqStep + Send + Sync;

/// The `room-form` event of a muc#owner answer.
pub(super) fn form_event(
    room: &str,
    purpose: &'static str,
    result: Option<&Element>,
) -> Result<Event, ErrorInfo> {
    let form = proto::config_form(result)?;
    Ok(Event::RoomForm {
        room: room.to_string(),
        purpose,
        form: proto::Form::from(&form),
    })
}

fn next(to: Jid, payload: Element, set: bool, then: IqThen) -> IqStep {
    IqStep::Next {
        events: Vec::new(),
        to: Some(to),
        payload,
        set,
        then,
    }
}

fn failed(command: &str, e: ErrorInfo) -> IqStep {
    IqStep::Done(vec![App::result(command, Err(e))])
}

fn ok(command: &str, mut events: Vec<Event>) -> IqStep {
    events.push(App::result(command, Ok(())));
    IqStep::Done(events)
}

/// The next page of `/rooms`: one `room-list` event per page.
fn rooms_page(service: Jid, after: Option<String>, received: usize, pages: usize) -> IqStep {
    let payload = proto::items_query(Some(PAGE), after.as_deref());
    let to = service.clone();
    let then = IqThen::new(move |_, command, result| {
        let page = match result.and_then(|p| proto::parse_items(p.as_ref())) {
            Ok(p) => p,
            Err(e) if pages == 0 && refuses_rsm(&e) => {
                let service = service.clone();
                return unpaged(
                    service.clone(),
                    IqThen::new(move |_, command, result| {
                        match result.and_then(|p| proto::parse_items(p.as_ref())) {
                            Ok(page) => ok(
                                command,
                                vec![Event::RoomList {
                                    service: service.to_string(),
                                    page: 0,
                                    rooms: page.items,
                                    complete: true,
                                }],
                            ),
                            Err(e) => failed(command, e),
                        }
                    }),
                );
            }
            Err(e) => return failed(command, e),
        };
        let received = received + page.items.len();
        let more = page
            .next_after(received, after.as_deref())
            .filter(|_| pages + 1 < MAX_PAGES);
        let event = Event::RoomList {
            service: service.to_string(),
            page: pages,
            rooms: page.items,
            complete: more.is_none(),
        };
        match more {
            None => ok(command, vec![event]),
            Some(after) => match rooms_page(service.clone(), Some(after), received, pages + 1) {
                IqStep::Next {
                    to,
                    payload,
                    set,
                    then,
                    ..
                } => IqStep::Next {
                    events: vec![event],
                    to,
                    payload,
                    set,
                    then,
                },
                done => done,
            },
        }
    });
    next(to, payload, false, then)
}

/// Where `/search` is.
struct Search {
    service: Jid,
    query: String,
    /// Rooms found so far.
    found: Vec<RoomItem>,
    /// Rooms whose name and JID do not match: their description is looked up.
    to_describe: VecDeque<RoomItem>,
    described: usize,
    not_described: usize,
}

impl Search {
    fn matches(&self, s: &str) -> bool {
        s.to_lowercase().contains(&self.query.to_lowercase())
    }

    /// Sorts listed rooms into found and to look up.
    fn sort(&mut self, items: Vec<RoomItem>) {
        for item in items {
            let hit =
                self.matches(&item.jid) || item.name.as_deref().is_some_and(|n| self.matches(n));
            if hit {
                self.found.push(item);
            } else if self.to_describe.len() < DESCRIBE_LIMIT {
                self.to_describe.push_back(item);
            } else {
                self.not_described += 1;
            }
        }
    }

    fn result(&self, command: &str) -> IqStep {
        ok(
            command,
            vec![Event::RoomSearch {
                service: self.service.to_string(),
                via: "disco",
                query: self.query.clone(),
                rooms: self.found.clone(),
                described: self.described,
                not_described: self.not_described,
            }],
        )
    }
}

/// Lists the service page by page, sorting rooms into found and to look up.
fn search_page(
    state: Arc<Mutex<Search>>,
    after: Option<String>,
    received: usize,
    pages: usize,
) -> IqStep {
    let service = state.lock().expect("search state").service.clone();
    let payload = proto::items_query(Some(PAGE), after.as_deref());
    let to = service.clone();
    let then = IqThen::new(move |_, command, result| {
        let page = match result.and_then(|p| proto::parse_items(p.as_ref())) {
            Ok(p) => p,
            Err(e) if pages == 0 && refuses_rsm(&e) => {
                let state = state.clone();
                return unpaged(
                    service.clone(),
                    IqThen::new(move |_, command, result| {
                        match result.and_then(|p| proto::parse_items(p.as_ref())) {
                            Ok(page) => {
                                state.lock().expect("search state").sort(page.items);
                                describe_next(state.clone(), command)
                            }
                            Err(e) => failed(command, e),
                        }
                    }),
                );
            }
            Err(e) => return failed(command, e),
        };
        let received = received + page.items.len();
        let more = page
            .next_after(received, after.as_deref())
            .filter(|_| pages + 1 < MAX_PAGES);
        state.lock().expect("search state").sort(page.items);
        match more {
            Some(after) => search_page(state.clone(), Some(after), received, pages + 1),
            None => describe_next(state.clone(), command),
        }
    });
    next(to, payload, false, then)
}

/// Whether a disco#items error may mean the service does not do RSM (it
/// is then asked once more without `<set/>`).
fn refuses_rsm(e: &ErrorInfo) -> bool {
    matches!(
        e.condition.as_str(),
        "feature-not-implemented" | "bad-request" | "not-acceptable"
    )
}

/// The whole room list at once, without RSM: the single, complete page.
fn unpaged(service: Jid, then: IqThen) -> IqStep {
    next(service, proto::items_query(None, None), false, then)
}

/// Looks up the description of the next room (one at a time).
fn describe_next(state: Arc<Mutex<Search>>, command: &str) -> IqStep {
    let item = {
        let mut s = state.lock().expect("search state");
        match s.to_describe.pop_front() {
            Some(item) => item,
            None => return s.result(command),
        }
    };
    let Ok(to) = Jid::new(&item.jid) else {
        return describe_next(state, command);
    };
    let then = IqThen::new(move |_, command, result| {
        {
            let mut s = state.lock().expect("search state");
            s.described += 1;
            // A room that does not answer is simply not a match.
            if let Ok(info) = result.and_then(|p| proto::parse_info(p.as_ref())) {
                let info = proto::room_info(&info);
                if info.description.as_deref().is_some_and(|d| s.matches(d)) {
                    let mut item = item.clone();
                    item.description = info.description;
                    item.occupants = info.occupants;
                    if item.name.is_none() {
                        item.name = info.name;
                    }
                    s.found.push(item);
                }
            }
        }
        describe_next(state.clone(), command)
    });
    next(to, proto::info_query(), false, then)
}

/// `/search` through an XEP-0433 search service: the service searches
/// names, descriptions and addresses; its answer is fetched page by page
/// (RSM) and reported whole, rooms listed twice kept once.
fn channel_search_page(
    service: Jid,
    query: Arc<str>,
    found: Arc<Vec<RoomItem>>,
    after: Option<String>,
    received: usize,
    pages: usize,
) -> IqStep {
    let payload = channel_search::search_request(&query, PAGE, after.as_deref());
    let to = service.clone();
    let then = IqThen::new(move |_, command, result| {
        let page = match result.and_then(|p| channel_search::parse_result(p.as_ref())) {
            Ok(p) => p,
            Err(e) => return failed(command, e),
        };
        let received = received + page.items.len();
        let more = page
            .next_after(received, after.as_deref())
            .filter(|_| pages + 1 < MAX_PAGES);
        let mut rooms = (*found).clone();
        for item in page.items {
            if !rooms.iter().any(|r| r.jid == item.jid) {
                rooms.push(item);
            }
        }
        match more {
            Some(after) => channel_search_page(
                service.clone(),
                query.clone(),
                Arc::new(rooms),
                Some(after),
                received,
                pages + 1,
            ),
            None => ok(
                command,
                vec![Event::RoomSearch {
                    service: service.to_string(),
                    via: "xep-0433",
                    query: query.to_string(),
                    rooms,
                    described: 0,
                    not_described: 0,
                }],
            ),
        }
    });
    next(to, payload, false, then)
}

/// Asks the domain's items one by one whether they are a MUC service.
fn probe(candidates: Arc<Vec<Jid>>, i: usize, domain: String, k: Arc<ServiceFn>) -> IqStep {
    let Some(to) = candidates.get(i).cloned() else {
        return IqStep::Done(vec![]);
    };
    let jid = to.clone();
    let then = IqThen::new(move |app, command, result| {
        let is_muc = result
            .and_then(|p| proto::parse_info(p.as_ref()))
            .is_ok_and(|info| info.is_muc_service());
        if is_muc {
            app.rooms.muc_service = Some(jid.clone());
            return k(app, command, jid.clone());
        }
        if i + 1 < candidates.len() {
            probe(candidates.clone(), i + 1, domain.clone(), k.clone())
        } else {
            failed(command, no_service(&domain))
        }
    });
    next(to, proto::info_query(), false, then)
}

fn no_service(domain: &str) -> ErrorInfo {
    ErrorInfo::new(
        "item-not-found",
        Some(format!(
            "{domain} offers no multi-user chat service (give one, e.g. /rooms conference.{domain})"
        )),
    )
}

impl App {
    /// Starts a command whose first step is already decided.
    fn start_step(&mut self, text: &str, step: IqStep) -> Exec {
        match step {
            IqStep::Done(events) => Exec::done(events),
            IqStep::Next {
                events,
                to,
                payload,
                set,
                then,
            } => {
                let mut exec = self.start_iq(text, to, payload, set, then);
                exec.events = events;
                exec
            }
            IqStep::WithTag(f) => {
                let tag = self.tag();
                let events = f(self, tag, text.to_string());
                Exec {
                    events,
                    pending: self.pending.contains_key(&tag).then_some(tag),
                }
            }
        }
    }

    /// Runs `k` with the MUC service: the given one, the one found
    /// before, or the one discovered on the account's server now.
    fn with_service(&mut self, text: &str, service: Option<Jid>, k: Arc<ServiceFn>) -> Exec {
        if let Some(s) = service.or_else(|| self.rooms.muc_service.clone()) {
            let step = k(self, text, s);
            return self.start_step(text, step);
        }
        let domain = self.opts.account.domain().as_str().to_string();
        let Ok(server) = Jid::new(&domain) else {
            return Exec::done(vec![App::result(text, Err(no_service(&domain)))]);
        };
        let then = IqThen::new(move |_, command, result| {
            let page = match result.and_then(|p| proto::parse_items(p.as_ref())) {
                Ok(p) => p,
                Err(e) => return failed(command, e),
            };
            let candidates: Vec<Jid> = page
                .items
                .iter()
                .filter_map(|i| Jid::new(&i.jid).ok())
                .collect();
            if candidates.is_empty() {
                return failed(command, no_service(&domain));
            }
            probe(Arc::new(candidates), 0, domain.clone(), k.clone())
        });
        self.start_iq(
            text,
            Some(server),
            proto::items_query(None, None),
            false,
            then,
        )
    }

    pub(super) fn start_rooms(&mut self, text: &str, service: Option<Jid>) -> Exec {
        self.with_service(
            text,
            service,
            Arc::new(|_, _, service| rooms_page(service, None, 0, 0)),
        )
    }

    /// The XEP-0433 search service `/search` asks when it is given no
    /// SERVICE (the account's `search_service`).
    pub fn set_search_service(&mut self, service: Option<Jid>) {
        self.rooms.search_service = service;
    }

    pub(super) fn start_search(&mut self, text: &str, query: String, service: Option<Jid>) -> Exec {
        if let (None, Some(search)) = (&service, &self.rooms.search_service) {
            let step = channel_search_page(
                search.clone(),
                query.into(),
                Arc::new(Vec::new()),
                None,
                0,
                0,
            );
            return self.start_step(text, step);
        }
        self.with_service(
            text,
            service,
            Arc::new(move |_, _, service| {
                let state = Search {
                    service,
                    query: query.clone(),
                    found: Vec::new(),
                    to_describe: VecDeque::new(),
                    described: 0,
                    not_described: 0,
                };
                search_page(Arc::new(Mutex::new(state)), None, 0, 0)
            }),
        )
    }

    pub(super) fn start_info(&mut self, text: &str, room: BareJid) -> Exec {
        let jid = room.to_string();
        let then = IqThen::new(move |_, command, result| {
            match result.and_then(|p| proto::parse_info(p.as_ref())) {
                Ok(info) => ok(
                    command,
                    vec![Event::RoomInfo {
                        room: jid.clone(),
                        info: proto::room_info(&info),
                    }],
                ),
                Err(e) => failed(command, e),
            }
        });
        self.start_iq(text, Some(room.into()), proto::info_query(), false, then)
    }

    pub(super) fn start_destroy(
        &mut self,
        text: &str,
        room: BareJid,
        reason: Option<String>,
        venue: Option<BareJid>,
    ) -> Exec {
        let venue = venue.map(Jid::from);
        let payload = proto::destroy(venue.as_ref(), reason.as_deref());
        self.start_iq(text, Some(room.into()), payload, true, IqThen::ok())
    }

    /// `/create` of a room we are in (or entering) is refused.
    pub(super) fn refuse_if_in(&self, text: &str, room: &BareJid) -> Result<(), Box<Event>> {
        if self
            .store
            .room(room)
            .is_some_and(|r| !matches!(r.state, JoinState::Left))
        {
            return Err(refuse(
                text,
                "conflict",
                format!("room exists: you are in {room}"),
            ));
        }
        Ok(())
    }

    /// `/create`: a join that must create the room (status 201), then the
    /// instant configuration, the given fields, or the form to edit.
    pub(super) fn start_create(
        &mut self,
        text: &str,
        room: BareJid,
        nick: Option<String>,
        instant: bool,
        fields: Vec<(String, String)>,
    ) -> Result<Exec, Box<Event>> {
        self.refuse_if_in(text, &room)?;
        // The join waits for the creation once in (`App::enter_room`).
        self.conference
            .creating
            .insert(room.clone(), (instant, fields));
        let exec = self.start_join(text, room.clone(), nick, None, Default::default());
        // Entered at once, or refused; a join through a focus (which makes
        // the room itself) stays a plain join.
        self.conference.creating.remove(&room);
        exec
    }

    /// Whether the command `tag` continues after its join.
    pub(super) fn joins_then(&self, tag: Tag) -> bool {
        matches!(
            self.pending.get(&tag).map(|p| &p.waiting),
            Some(Waiting::JoinThen { .. })
        )
    }

    /// The join of a `JoinThen` command is confirmed: its continuation.
    pub(super) fn continue_join(&mut self, tag: Tag) -> Vec<Event> {
        let Some(p) = self.pending.remove(&tag) else {
            return Vec::new();
        };
        let Waiting::JoinThen { then, .. } = p.waiting else {
            return Vec::new();
        };
        let step = (then.0)(self, &p.command, Ok(None));
        self.follow_step(tag, p.command, step)
    }

    /// An IQ set of our own (only a failure is reported).
    pub(super) fn quiet_iq(&mut self, to: Jid, payload: Element) {
        self.quiet_iq_then(to, payload, IqThen::ok());
    }

    /// An IQ set of our own whose answer goes to `then` (its events are
    /// shown; there is no command to finish).
    pub(super) fn quiet_iq_then(&mut self, to: Jid, payload: Element, then: IqThen) {
        let tag = self.wait("", Waiting::Iq(then), true);
        self.session.send(SessionCmd::Iq {
            to: Some(to),
            payload,
            set: true,
            timeout: OUTCOME_TIMEOUT,
            tag,
        });
    }

    /// Leaves a room without a command of its own.
    pub(super) fn leave_quietly(&mut self, room: &BareJid) {
        self.store
            .apply(Input::Leaving { room: room.clone() }, Utc::now());
        let tag = self.wait("", Waiting::Left { room: room.clone() }, false);
        self.session.send(SessionCmd::Leave {
            room: room.clone(),
            reason: None,
            tag,
        });
    }

    /// A room we just created and will not configure: cancel, destroy.
    fn abandon_new_room(&mut self, room: &BareJid) {
        let to: Jid = room.clone().into();
        self.quiet_iq(to.clone(), proto::cancel_config());
        self.quiet_iq(
            to,
            proto::destroy(None, Some("the room's creation was cancelled")),
        );
    }

    /// Submits a configuration form edited in the TUI.
    pub fn submit_room_form(&mut self, room: BareJid, form: DataForm, text: &str) -> Exec {
        // The form of an A/V conference (`/callconfig`) goes back by XEP-0050.
        if let Some(exec) = self.finish_call_config(&room, Some(form.clone()), text) {
            return exec;
        }
        self.start_iq(
            text,
            Some(room.into()),
            proto::submit_form(form),
            true,
            IqThen::ok(),
        )
    }

    /// The configuration form was closed without submitting: XEP-0045
    /// cancel; a room being created is destroyed as well (it would stay
    /// locked otherwise).
    pub fn cancel_room_form(&mut self, room: BareJid, creating: bool, text: &str) -> Exec {
        if let Some(exec) = self.finish_call_config(&room, None, text) {
            return exec;
        }
        let to: Jid = room.into();
        let after = to.clone();
        let then = if creating {
            IqThen::new(move |_, _, _| {
                next(
                    after.clone(),
                    proto::destroy(None, Some("the room's creation was cancelled")),
                    true,
                    IqThen::ok(),
                )
            })
        } else {
            IqThen::ok()
        };
        self.start_iq(text, Some(to), proto::cancel_config(), true, then)
    }
}

/// What `/create` does once the join is confirmed.
pub(super) fn create_then(room: BareJid, instant: bool, fields: Vec<(String, String)>) -> IqThen {
    IqThen::new(move |app, command, _| {
        let new = app
            .store
            .room(&room)
            .is_some_and(|r| r.codes.contains(&StatusCode::RoomHasBeenCreated));
        let to: Jid = room.clone().into();
        if !new {
            app.leave_quietly(&room);
            return IqStep::Done(vec![err_event(
                command,
                "conflict",
                format!("room exists: {room} was there already (left it again)"),
            )]);
        }
        if instant {
            return next(to, owner::submit_config(&[]), true, IqThen::ok());
        }
        let room = room.clone();
        let jid = room.to_string();
        let fields = fields.clone();
        let then = IqThen::new(move |app, command, result| {
            let form = match result.and_then(|p| proto::config_form(p.as_ref())) {
                Ok(f) => f,
                Err(e) => {
                    app.abandon_new_room(&room);
                    return failed(command, e);
                }
            };
            if fields.is_empty() {
                // The form goes to the user (TUI: the form editor); the
                // room stays locked until it is submitted or cancelled.
                let event = Event::RoomForm {
                    room: jid.clone(),
                    purpose: "create",
                    form: proto::Form::from(&form),
                };
                return ok(command, vec![event]);
            }
            let submission = match proto::apply_fields(&form, &fields) {
                Ok(s) => s,
                Err(e) => {
                    app.abandon_new_room(&room);
                    return failed(command, e);
                }
            };
            let room = room.clone();
            next(
                room.clone().into(),
                proto::submit_form(submission),
                true,
                IqThen::new(move |app, command, result| match result {
                    Ok(_) => ok(command, vec![]),
                    Err(e) => {
                        app.abandon_new_room(&room);
                        failed(command, e)
                    }
                }),
            )
        });
        next(to, owner::get_config(), false, then)
    })
}

#[cfg(test)]
mod tests;

//! OMEMO in rooms, as Conversations and Profanity do it (XEP-0384
//! "Group chats"): only in a members-only, non-anonymous room, where the
//! room tells every member's real JID.
//!
//! `/omemo on ROOM` asks the room's disco#info and refuses anything but
//! `muc_membersonly` + `muc_nonanonymous`; every message asks again (the
//! room may have been reconfigured), and is not sent if the room no
//! longer qualifies. A message then goes to the
//! room's members by real JID — the owner, admin and member lists (when
//! the room lets us read them) and the real JIDs of the occupants present
//! — each member's device list read, bundles fetched where no session
//! exists, and the body encrypted to every trusted device of every member
//! and to our own other devices. As Conversations does, a member without
//! a usable device does not stop the message: it is encrypted to the
//! others and the member is named in an `omemo` event (they cannot read
//! it). Never plaintext instead: with no member to encrypt to, nothing is
//! sent.
//!
//! Incoming: the sender's device is looked up under the occupant's real
//! JID as the room's presence gave it (never anything in the message);
//! an occupant without a known real JID, or a device id not in that
//! JID's device list, is not decrypted (shown marked, with the reason).
//! From the room's history or archive (the nick may have been someone
//! else's then) a key exchange is decrypted only once the device is
//! found in that JID's list; a message on a session we hold with that
//! JID's device proves its sender by itself.
//! Our own echo cannot be decrypted by this device: it shows the
//! plaintext we sent, matched by its origin-id.

use std::collections::{BTreeSet, VecDeque};

use jid::{BareJid, Jid};
use minidom::Element;

use confab_omemo::Version;

use super::{now_ms, omemo_of};

/// Rooms speak OMEMO 0.3 (what slixmpp-omemo and the deployed clients
/// read in rooms).
pub(super) const SENT: Version = Version::Legacy;
use crate::app::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::protocol::muc::Affiliation;
use crate::protocol::omemo::{self as xml, Key};
use crate::protocol::omemo_pep;
use crate::protocol::{ErrorInfo, admin, chatting, omemo_muc};
use crate::session::{SessionCmd, Tag};
use crate::store::Event;
use confab_core::omemo_store::Loaded;
use confab_omemo::payload;

mod receive;

/// The most members a room message is encrypted to (each costs a
/// device-list read per message; a room's lists are hostile input too).
const MAX_MEMBERS: usize = 256;

/// How many of our sent room messages keep their plaintext for the
/// room's echo (the oldest forgotten first).
const SENT_KEPT: usize = 256;

/// Rooms' state of OMEMO this session.
#[derive(Default)]
pub(super) struct RoomState {
    /// `(room, origin-id)` of our encrypted room messages and their
    /// plaintext, for the echo.
    sent: VecDeque<(BareJid, String, String)>,
    /// Rooms whose affiliation lists we were refused (said once).
    lists_refused: BTreeSet<BareJid>,
    /// Device lists read because of an incoming message, with the device
    /// it claimed (each once; forgotten past [`ASKED_KEPT`]).
    asked: BTreeSet<(BareJid, u32)>,
}

/// One room message being sent.
#[derive(Clone)]
pub(super) struct Plan {
    /// The command as written.
    command: String,
    room: BareJid,
    body: String,
    /// False for `/omemo on`: the members and their devices only read
    /// (sessions built), and who cannot read said.
    send: bool,
    /// The room's features were checked (by `/omemo on` just now).
    checked: bool,
    /// Affiliation lists still to read.
    lists: Vec<Affiliation>,
    /// Members' real JIDs (ourselves left out).
    members: BTreeSet<BareJid>,
    /// The lists are read and the occupants added.
    members_done: bool,
    /// Members whose device list is still to read.
    to_read: Vec<BareJid>,
    /// Devices whose bundles are still to fetch.
    queue: Vec<(BareJid, u32)>,
    events: Vec<Event>,
    /// A correction (XEP-0308) of our message with this id: its
    /// `<replace/>` goes in the clear (`correct.rs`).
    pub(super) replaces: Option<String>,
}

fn omemo_event(text: String) -> Event {
    Event::Omemo { text }
}

/// Who cannot read, and why.
fn reasons(without: &[String], unusable: &[String]) -> Vec<String> {
    let mut why = Vec::new();
    if !without.is_empty() {
        why.push(format!("{} (no OMEMO device)", without.join(", ")));
    }
    if !unusable.is_empty() {
        why.push(format!(
            "{} (no trusted device with a usable bundle)",
            unusable.join(", ")
        ));
    }
    why
}

/// The `omemo` event naming the members who cannot read a message.
fn cannot_read(
    room: &BareJid,
    what: &str,
    without: &[String],
    unusable: &[String],
) -> Option<String> {
    let why = reasons(without, unusable);
    (!why.is_empty()).then(|| {
        format!(
            "OMEMO: members of {room} who cannot read {what}: {}",
            why.join("; ")
        )
    })
}

/// Why OMEMO cannot work in `room`, from the answer to its disco#info.
fn features_refusal(room: &BareJid, r: Result<Option<Element>, ErrorInfo>) -> Result<(), String> {
    const NEEDS: &str = "OMEMO needs a members-only, non-anonymous room (every member's real JID)";
    match r {
        Ok(info) => omemo_muc::room_refusal(info.as_ref())
            .map_err(|why| format!("{room} is {why}: {NEEDS}")),
        Err(e) => Err(format!(
            "the features of {room} could not be read ({}): {NEEDS}",
            e.text.as_deref().unwrap_or(&e.condition)
        )),
    }
}

impl App {
    /// `/omemo on ROOM`: only where the room's features allow it.
    pub(super) fn start_omemo_room_on(
        &mut self,
        text: &str,
        room: BareJid,
    ) -> Result<Exec, Box<Event>> {
        self.in_room(&room, text)?;
        let r = room.clone();
        let then = IqThen::new(move |app, command, res| {
            if let Err(why) = features_refusal(&r, res) {
                return IqStep::Done(vec![App::result(
                    command,
                    Err(ErrorInfo::new(
                        "not-acceptable",
                        Some(format!("{why}; OMEMO stays off")),
                    )),
                )]);
            }
            let store = app.omemo.store.as_mut().expect("checked");
            if let Err(e) = store.set_encryption(r.as_str(), true) {
                return IqStep::Done(vec![App::result(
                    command,
                    Err(ErrorInfo::new("internal-server-error", Some(e.to_string()))),
                )]);
            }
            let mut plan = app.room_plan(command, &r, String::new(), false);
            plan.events.push(Event::Info {
                text: format!("OMEMO on for {r}: messages are encrypted to every member's devices"),
            });
            app.next_room_step(plan)
        });
        Ok(self.start_iq(text, Some(room.into()), chatting::disco_info(), false, then))
    }

    /// `/say` in a room with OMEMO on: the members, their devices, the
    /// message (see the module docs).
    pub(in crate::app) fn start_omemo_room_say(
        &mut self,
        text: &str,
        room: BareJid,
        body: String,
    ) -> Result<Exec, Box<Event>> {
        if self.omemo.store.is_none() || self.omemo.own.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                format!("{}: not sent", self.omemo_unavailable()),
            ));
        }
        let plan = self.room_plan(text, &room, body, true);
        // The first step is a request to the room (its features or a list).
        match self.next_room_step(plan) {
            IqStep::Next {
                to, payload, then, ..
            } => Ok(self.start_iq(text, to, payload, false, then)),
            _ => Err(refuse(
                text,
                "internal-server-error",
                "OMEMO: the room send did not start: not sent",
            )),
        }
    }

    pub(super) fn room_plan(
        &self,
        command: &str,
        room: &BareJid,
        body: String,
        send: bool,
    ) -> Plan {
        Plan {
            command: command.to_string(),
            room: room.clone(),
            body,
            send,
            checked: !send,
            lists: vec![Affiliation::Admin, Affiliation::Member, Affiliation::Owner],
            members: BTreeSet::new(),
            members_done: false,
            to_read: Vec::new(),
            queue: Vec::new(),
            events: Vec::new(),
            replaces: None,
        }
    }

    fn affiliations_read(&mut self, r: Result<Option<Element>, ErrorInfo>, plan: &mut Plan) {
        match r.and_then(|q| admin::parse_items(q.as_ref())) {
            Ok(items) => {
                for jid in items.iter().filter_map(|i| i.jid.as_deref()) {
                    if let Ok(j) = jid.parse::<Jid>() {
                        plan.members.insert(j.to_bare());
                    }
                }
            }
            Err(e) => {
                // Plain members may not read the lists: the occupants
                // present are still known. Said once per room.
                if self.omemo.rooms.lists_refused.insert(plan.room.clone()) {
                    plan.events.push(omemo_event(format!(
                        "OMEMO: {} does not let us read its member lists ({}): messages are encrypted to the occupants present only",
                        plan.room,
                        e.text.as_deref().unwrap_or(&e.condition)
                    )));
                }
                plan.lists.clear();
            }
        }
    }

    /// The next request of a room send: an affiliation list, a device
    /// list, a bundle; or the message itself.
    pub(super) fn next_room_step(&mut self, mut plan: Plan) -> IqStep {
        let room: Jid = plan.room.clone().into();
        if !plan.checked {
            // Before every message: the room may have been made open
            // or semi-anonymous since OMEMO was turned on.
            let then = IqThen::new(move |app, command, r| {
                if let Err(why) = features_refusal(&plan.room, r) {
                    return IqStep::Done(vec![App::result(
                        command,
                        Err(ErrorInfo::new(
                            "not-acceptable",
                            Some(format!(
                                "{why}: not sent (/omemo off {} to send in the clear)",
                                plan.room
                            )),
                        )),
                    )]);
                }
                let mut plan = plan.clone();
                plan.checked = true;
                app.next_room_step(plan)
            });
            return IqStep::Next {
                events: Vec::new(),
                to: Some(room),
                payload: chatting::disco_info(),
                set: false,
                then,
            };
        }
        if let Some(aff) = plan.lists.pop() {
            let then = IqThen::new(move |app, _, r| {
                let mut plan = plan.clone();
                app.affiliations_read(r, &mut plan);
                app.next_room_step(plan)
            });
            return IqStep::Next {
                events: Vec::new(),
                to: Some(room),
                payload: admin::affiliation_list(aff),
                set: false,
                then,
            };
        }
        if !plan.members_done {
            // The lists are read: the occupants present join them.
            self.add_occupants(&mut plan);
            plan.to_read = plan.members.iter().cloned().collect();
            // Our own list too: our other devices read the room.
            plan.to_read.push(self.omemo_account());
            plan.members_done = true;
            if plan.members.len() > MAX_MEMBERS {
                return IqStep::Done(vec![App::result(
                    &plan.command,
                    Err(ErrorInfo::new(
                        "not-acceptable",
                        Some(format!(
                            "OMEMO: {} has {} members, more than the {MAX_MEMBERS} confab encrypts to{}",
                            plan.room,
                            plan.members.len(),
                            if plan.send { ": not sent" } else { "" }
                        )),
                    )),
                )]);
            }
        }
        if let Some(member) = plan.to_read.pop() {
            let node = omemo_pep::device_list_node(omemo_of(SENT));
            let who = member.clone();
            let to = (member != self.omemo_account()).then(|| Jid::from(member));
            let then = IqThen::new(move |app, _, r| {
                let mut plan = plan.clone();
                app.member_list_read(&who, r, &mut plan);
                app.next_room_step(plan)
            });
            return IqStep::Next {
                events: Vec::new(),
                to,
                payload: omemo_pep::fetch(node, None),
                set: false,
                then,
            };
        }
        if let Some((jid, device)) = plan.queue.pop() {
            let own = self.omemo_account();
            let (node, item) = xml::bundle_node(omemo_of(SENT), device);
            let to = (jid != own).then(|| Jid::from(jid.clone()));
            let then = IqThen::new(move |app, _, r| {
                let mut plan = plan.clone();
                app.bundle_read(SENT, &jid, device, r, &mut plan.events);
                app.next_room_step(plan)
            });
            return IqStep::Next {
                events: Vec::new(),
                to,
                payload: omemo_pep::fetch(&node, Some(&item)),
                set: false,
                then,
            };
        }
        if !plan.send {
            let mut events = std::mem::take(&mut plan.events);
            let (without, unusable) = self.who_cannot_read(&plan);
            if let Some(text) = cannot_read(&plan.room, "its messages", &without, &unusable) {
                events.push(omemo_event(text));
            }
            events.push(App::result(&plan.command, Ok(())));
            return IqStep::Done(events);
        }
        let events = std::mem::take(&mut plan.events);
        IqStep::WithTag(Box::new(move |app, tag, command| {
            let mut events = events;
            events.extend(app.encrypt_to_room(tag, &command, plan));
            events
        }))
    }

    /// The real JIDs of the occupants present (ourselves left out).
    fn add_occupants(&self, plan: &mut Plan) {
        let own = self.omemo_account();
        if let Some(r) = self.store.room(&plan.room) {
            for o in r.occupants.iter_sorted() {
                if let Some(j) = &o.info.jid {
                    plan.members.insert(j.to_bare());
                }
            }
        }
        plan.members.remove(&own);
    }

    fn member_list_read(
        &mut self,
        member: &BareJid,
        r: Result<Option<Element>, ErrorInfo>,
        plan: &mut Plan,
    ) {
        let devices = match r {
            Ok(result) => omemo_pep::first_item(result.as_ref())
                .and_then(|l| xml::parse_device_list(l).ok())
                .map(|(_, d)| d)
                .unwrap_or_default(),
            Err(e) if e.condition == "item-not-found" => Vec::new(),
            Err(e) => {
                plan.events.push(omemo_event(format!(
                    "OMEMO: the device list of {member} could not be read ({})",
                    e.text.as_deref().unwrap_or(&e.condition)
                )));
                Vec::new()
            }
        };
        for id in self.note_device_list(SENT, member.clone(), &devices) {
            plan.events.push(omemo_event(format!(
                "OMEMO: {member} has a new device {id}"
            )));
        }
        // Never a session with this device itself.
        let this_device = (self.omemo_account() == *member)
            .then(|| self.omemo_device())
            .flatten();
        let store = self.omemo.store.as_mut().expect("checked");
        for d in devices {
            if Some(d.id) == this_device {
                continue;
            }
            if matches!(
                store.session(SENT, member.as_str(), d.id),
                Ok(Loaded::Missing | Loaded::Corrupt)
            ) {
                plan.queue.push((member.clone(), d.id));
            }
        }
    }

    /// The members (by real JID) without a device, and those without a
    /// trusted device with a session.
    fn who_cannot_read(&mut self, plan: &Plan) -> (Vec<String>, Vec<String>) {
        let (mut without, mut unusable) = (Vec::new(), Vec::new());
        let lists: Vec<Vec<u32>> = plan
            .members
            .iter()
            .map(|m| self.device_list(SENT, m).to_vec())
            .collect();
        let Some(store) = self.omemo.store.as_mut() else {
            return (without, unusable);
        };
        for (m, devices) in plan.members.iter().zip(lists) {
            let usable = devices.iter().any(|id| {
                store.trusted(SENT, m.as_str(), *id).unwrap_or(false)
                    && matches!(store.session(SENT, m.as_str(), *id), Ok(Loaded::Found(_)))
            });
            if devices.is_empty() {
                without.push(m.to_string());
            } else if !usable {
                unusable.push(m.to_string());
            }
        }
        (without, unusable)
    }

    fn encrypt_to_room(&mut self, tag: Tag, command: &str, plan: Plan) -> Vec<Event> {
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let mut events = Vec::new();
        let enc = payload::encrypt(SENT, plan.body.as_bytes());
        let mut keys = Vec::new();
        let mut readers = 0;
        let own_devices: Vec<u32> = self
            .device_list(SENT, &own)
            .iter()
            .copied()
            .filter(|id| *id != own_id)
            .collect();
        let mut targets: Vec<(BareJid, Vec<u32>)> = plan
            .members
            .iter()
            .map(|m| {
                let devices = self.device_list(SENT, m).to_vec();
                (m.clone(), devices)
            })
            .collect();
        targets.push((own.clone(), own_devices));
        let store = self.omemo.store.as_mut().expect("checked");
        // Members who cannot read it: no device at all, or none trusted
        // with a usable bundle.
        let mut without = Vec::new();
        let mut unusable = Vec::new();
        for (jid, devices) in targets {
            let had_devices = !devices.is_empty();
            let mut n = 0;
            for id in devices {
                if !store.trusted(SENT, jid.as_str(), id).unwrap_or(false) {
                    continue;
                }
                let Ok(Loaded::Found(mut s)) = store.session(SENT, jid.as_str(), id) else {
                    continue;
                };
                let Ok(k) = s.encrypt(&enc.key_material) else {
                    continue;
                };
                let _ = store.save_session(jid.as_str(), id, &s, now_ms());
                n += 1;
                keys.push(Key {
                    jid: None,
                    rid: id,
                    kex: k.key_exchange,
                    data: k.data,
                });
            }
            if jid == own {
                continue;
            }
            match (n, had_devices) {
                (0, false) => without.push(jid.to_string()),
                (0, true) => unusable.push(jid.to_string()),
                _ => readers += 1,
            }
        }
        let why = reasons(&without, &unusable);
        if readers == 0 {
            let who = if why.is_empty() {
                "no other member is known".to_string()
            } else {
                why.join("; ")
            };
            return vec![App::result(
                command,
                Err(ErrorInfo::new(
                    "item-not-found",
                    Some(format!(
                        "OMEMO: nobody in {} can read it: {who}; not sent (or /omemo off {})",
                        plan.room, plan.room
                    )),
                )),
            )];
        }
        if let Some(text) = cannot_read(&plan.room, "this message", &without, &unusable) {
            events.push(omemo_event(text));
        }
        let encrypted = xml::Encrypted {
            omemo: omemo_of(SENT),
            sid: own_id,
            keys,
            iv: enc.iv,
            payload: Some(enc.ciphertext),
        };
        let id = self.message_id();
        let mut message = omemo_muc::groupchat_message(&plan.room, &id, &encrypted);
        if let Some(original) = &plan.replaces {
            message
                .payloads
                .push(crate::protocol::correction::replace_element(original));
        }
        let rooms = &mut self.omemo.rooms;
        if rooms.sent.len() >= SENT_KEPT {
            rooms.sent.pop_front();
        }
        rooms
            .sent
            .push_back((plan.room.clone(), id.clone(), plan.body.clone()));
        self.wait_as(
            tag,
            command,
            Waiting::Echo {
                room: plan.room.clone(),
                id,
                body: plan.body,
            },
            false,
        );
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: Some(plan.room),
            tag,
        });
        events
    }
}

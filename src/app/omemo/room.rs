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
//!
//! The version, per message, as one-to-one: both device lists of every
//! member are read; OMEMO 2 when every member who has a device has an
//! OMEMO 2 device, else 0.3 (one message cannot be both, XEP-0384 has
//! no mixed form). Conversations, Dino, Gajim and Profanity speak 0.3
//! only, in rooms too: one of them in the room keeps it on 0.3, and a
//! member with OMEMO 2 devices only is then named as unable to read.
//! OMEMO 2's envelope (XEP-0420, XEP-0384 §"SCE profile": a group chat
//! message MUST carry `<to/>`) says the room's bare JID in `<to/>` and
//! the sender's real bare JID in `<from/>`; on receipt `<from/>` is
//! checked against the occupant's real JID from the room's presence and
//! `<to/>` against the room, else the message is refused.

use std::collections::{BTreeSet, VecDeque};

use jid::{BareJid, Jid};
use minidom::Element;

use confab_omemo::Version;

use super::{VERSIONS, now_ms, omemo_of};

use crate::app::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::protocol::muc::Affiliation;
use crate::protocol::omemo::{self as xml, Key};
use crate::protocol::omemo_pep::{self, version_name};
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
    /// (`true`: OMEMO 2's list.)
    asked: BTreeSet<(bool, BareJid, u32)>,
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
    /// Device lists (of a version, of a member) still to read.
    to_read: Vec<(Version, BareJid)>,
    /// The version of this message, once every list is read.
    version: Option<Version>,
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

/// The members who cannot read a message, by reason.
#[derive(Default)]
struct Unread {
    /// No OMEMO device at all.
    without: Vec<String>,
    /// Devices of the other version only.
    other: Vec<String>,
    /// No trusted device with a usable bundle.
    unusable: Vec<String>,
}

impl Unread {
    /// `jid`, whose devices of `v` are `devices`, gave `n` keys.
    fn count(&mut self, app: &App, v: Version, jid: &BareJid, devices: &[u32], n: usize) -> bool {
        let other = match v {
            Version::V2 => Version::Legacy,
            Version::Legacy => Version::V2,
        };
        match (n, devices.is_empty()) {
            (0, true) if app.device_list(other, jid).is_empty() => {
                self.without.push(jid.to_string())
            }
            (0, true) => self.other.push(jid.to_string()),
            (0, false) => self.unusable.push(jid.to_string()),
            _ => return true,
        }
        false
    }
}

/// Who cannot read, and why.
fn reasons(u: &Unread, v: Version) -> Vec<String> {
    let mut why = Vec::new();
    if !u.without.is_empty() {
        why.push(format!("{} (no OMEMO device)", u.without.join(", ")));
    }
    if !u.other.is_empty() {
        let (theirs, ours) = match v {
            Version::Legacy => ("OMEMO 2", "0.3"),
            Version::V2 => ("OMEMO 0.3", "2"),
        };
        why.push(format!(
            "{} ({theirs} devices only; the room speaks OMEMO {ours})",
            u.other.join(", ")
        ));
    }
    if !u.unusable.is_empty() {
        why.push(format!(
            "{} (no trusted device with a usable bundle)",
            u.unusable.join(", ")
        ));
    }
    why
}

/// The `omemo` event naming the members who cannot read a message.
fn cannot_read(room: &BareJid, what: &str, u: &Unread, v: Version) -> Option<String> {
    let why = reasons(u, v);
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
            version: None,
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
            // Our own lists too: our other devices read the room.
            let own = self.omemo_account();
            plan.to_read = VERSIONS
                .iter()
                .flat_map(|v| {
                    plan.members
                        .iter()
                        .chain([&own])
                        .map(move |m| (*v, m.clone()))
                })
                .collect();
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
        if let Some((v, member)) = plan.to_read.pop() {
            let node = omemo_pep::device_list_node(omemo_of(v));
            let who = member.clone();
            let to = (member != self.omemo_account()).then(|| Jid::from(member));
            let then = IqThen::new(move |app, _, r| {
                let mut plan = plan.clone();
                app.member_list_read(v, &who, r, &mut plan);
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
        let v = match plan.version {
            Some(v) => v,
            None => {
                let v = self.room_version(&plan.members);
                self.plan_room_sessions(v, &mut plan);
                plan.version = Some(v);
                if !plan.send {
                    plan.events.push(omemo_event(format!(
                        "OMEMO: {} speaks OMEMO {} now ({})",
                        plan.room,
                        version_name(omemo_of(v)),
                        match v {
                            Version::V2 => "every member with a device has an OMEMO 2 device",
                            Version::Legacy => "a member has no OMEMO 2 device",
                        }
                    )));
                }
                v
            }
        };
        if let Some((jid, device)) = plan.queue.pop() {
            let own = self.omemo_account();
            let (node, item) = xml::bundle_node(omemo_of(v), device);
            let to = (jid != own).then(|| Jid::from(jid.clone()));
            let then = IqThen::new(move |app, _, r| {
                let mut plan = plan.clone();
                app.bundle_read(v, &jid, device, r, &mut plan.events);
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
            let unread = self.who_cannot_read(v, &plan);
            if let Some(text) = cannot_read(&plan.room, "its messages", &unread, v) {
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

    /// A member's device list of `v` read and noted.
    fn member_list_read(
        &mut self,
        v: Version,
        member: &BareJid,
        r: Result<Option<Element>, ErrorInfo>,
        plan: &mut Plan,
    ) {
        let devices = match r {
            Ok(result) => super::devices_of(v, result.as_ref()),
            Err(e) if e.condition == "item-not-found" => Vec::new(),
            // Many servers answer a missing node otherwise: no OMEMO 2
            // is no error (0.3 is read too).
            Err(_) if v == Version::V2 => Vec::new(),
            Err(e) => {
                plan.events.push(omemo_event(format!(
                    "OMEMO: the device list of {member} could not be read ({})",
                    e.text.as_deref().unwrap_or(&e.condition)
                )));
                Vec::new()
            }
        };
        for id in self.note_device_list(v, member.clone(), &devices) {
            plan.events.push(omemo_event(format!(
                "OMEMO: {member} has a new device {id} (OMEMO {})",
                version_name(omemo_of(v))
            )));
        }
    }

    /// The room's version for this message (see the module docs): OMEMO
    /// 2 when every member with a device has an OMEMO 2 device.
    fn room_version(&self, members: &BTreeSet<BareJid>) -> Version {
        let legacy_only = members.iter().any(|m| {
            self.device_list(Version::V2, m).is_empty()
                && !self.device_list(Version::Legacy, m).is_empty()
        });
        if legacy_only {
            Version::Legacy
        } else {
            Version::V2
        }
    }

    /// The devices of `v` (the members' and our other ones) without a
    /// session: their bundles to fetch.
    fn plan_room_sessions(&mut self, v: Version, plan: &mut Plan) {
        let own = self.omemo_account();
        // Never a session with this device itself.
        let this_device = self.omemo_device();
        let targets: Vec<(BareJid, u32)> = plan
            .members
            .iter()
            .chain([&own])
            .flat_map(|m| self.device_list(v, m).iter().map(|id| (m.clone(), *id)))
            .filter(|(m, id)| !(m == &own && Some(*id) == this_device))
            .collect();
        let store = self.omemo.store.as_mut().expect("checked");
        for (jid, id) in targets {
            if matches!(
                store.session(v, jid.as_str(), id),
                Ok(Loaded::Missing | Loaded::Corrupt)
            ) {
                plan.queue.push((jid, id));
            }
        }
    }

    /// The members (by real JID) who cannot read a message of `v`.
    fn who_cannot_read(&mut self, v: Version, plan: &Plan) -> Unread {
        let mut unread = Unread::default();
        for m in &plan.members {
            let devices = self.device_list(v, m).to_vec();
            let n = self.omemo.store.as_mut().map_or(0, |store| {
                devices
                    .iter()
                    .filter(|id| {
                        store.trusted(v, m.as_str(), **id).unwrap_or(false)
                            && matches!(store.session(v, m.as_str(), **id), Ok(Loaded::Found(_)))
                    })
                    .count()
            });
            unread.count(self, v, m, &devices, n);
        }
        unread
    }

    fn encrypt_to_room(&mut self, tag: Tag, command: &str, plan: Plan) -> Vec<Event> {
        let v = plan.version.expect("chosen before the message");
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let mut events = Vec::new();
        let plaintext = match v {
            Version::Legacy => plan.body.as_bytes().to_vec(),
            // To the room, from our real JID (see the module docs).
            Version::V2 => super::v2::envelope(&plan.body, &own, &plan.room),
        };
        let enc = payload::encrypt(v, &plaintext);
        drop(plaintext);
        let mut keys = Vec::new();
        let mut readers = 0;
        let mut targets: Vec<(BareJid, Vec<u32>)> = plan
            .members
            .iter()
            .chain([&own])
            .map(|m| {
                let devices: Vec<u32> = self
                    .device_list(v, m)
                    .iter()
                    .copied()
                    .filter(|id| !(m == &own && *id == own_id))
                    .collect();
                (m.clone(), devices)
            })
            .collect();
        // Members who cannot read it: no device at all, none of this
        // version, or none trusted with a usable bundle.
        let mut unread = Unread::default();
        let mut counts = Vec::new();
        let store = self.omemo.store.as_mut().expect("checked");
        for (jid, devices) in &mut targets {
            let mut n = 0;
            for id in devices.iter().copied() {
                if !store.trusted(v, jid.as_str(), id).unwrap_or(false) {
                    continue;
                }
                let Ok(Loaded::Found(mut s)) = store.session(v, jid.as_str(), id) else {
                    continue;
                };
                let Ok(k) = s.encrypt(&enc.key_material) else {
                    continue;
                };
                let _ = store.save_session(jid.as_str(), id, &s, now_ms());
                n += 1;
                keys.push(Key {
                    jid: (v == Version::V2).then(|| jid.clone()),
                    rid: id,
                    kex: k.key_exchange,
                    data: k.data,
                });
            }
            counts.push(n);
        }
        for ((jid, devices), n) in targets.iter().zip(counts) {
            if jid != &own && unread.count(self, v, jid, devices, n) {
                readers += 1;
            }
        }
        let why = reasons(&unread, v);
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
        if let Some(text) = cannot_read(&plan.room, "this message", &unread, v) {
            events.push(omemo_event(text));
        }
        let encrypted = xml::Encrypted {
            omemo: omemo_of(v),
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

//! A fuzzing harness for the incoming path, on the stable toolchain:
//! hostile but XMPP-shaped stanzas (`gen.rs`: random nesting, wrong
//! namespaces, hostile attribute values and texts, children dropped,
//! duplicated, reordered, payloads of other XEPs grafted in) made from a
//! well-formed example of every payload confab parses (`templates.rs`).
//!
//! Each stanza goes the way the session delivers it: parsed into
//! xmpp-parsers' types (or reported `Malformed`), classified
//! (`classify_*`, `disco::answer_iq`, `IqRequest::from_iq`, IQ answers to
//! the requests the app is waiting for), through `App::on_session` into
//! the store; then the TUI is drawn (a `TestBackend`, sizes down to 1×1)
//! and the events become batch lines. Checked after every case: no panic,
//! every batch line and every cell terminal-safe, batch lines still the
//! same JSON, a stanza speaks only for its sender, and the store grows by
//! at most what the stanza holds.
//!
//! Deterministic: `CONFAB_FUZZ_SEED` (default fixed) and
//! `CONFAB_FUZZ_CASES` (default [`DEFAULT_CASES`]); a failure prints the
//! seed and world to replay (`CONFAB_FUZZ_WORLD`). The `structured`
//! cargo-fuzz target (`fuzz/`) drives the same generator from fuzzer bytes.

mod checks;
pub mod r#gen;
pub mod templates;

use std::collections::HashMap;

use chrono::Utc;
use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::UnboundedReceiver;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

use crate::app::{App, AppOptions};
use crate::batch::{event_line, json_line};
use crate::protocol::iq::{self as proto_iq, IqRequest};
use crate::protocol::{ErrorInfo, Incoming, classify_message, classify_presence, disco};
use crate::session::{SessionCmd, SessionEvent, SessionHandle, Tag};
use crate::store::Event;
use crate::ui::state::UiState;
use checks::{
    lines_by_window, sdp_stays_sdp, size, speaks_for_sender, terminal_safe, weight, written,
};
use r#gen::{El, Node, Rng};

pub const DEFAULT_CASES: usize = 3000;
pub const DEFAULT_SEED: u64 = 0xC0FF_AB12;
/// Cases per world (a fresh app, store and UI): state builds up within one.
pub const WORLD_CASES: usize = 50;

const ME: &str = "alice@localhost";
const ME_FULL: &str = "alice@localhost/confab";
const OWN: &str = "alice";
const SERVER: &str = "localhost";
const ROOM: &str = "coven@conference.localhost";
const ROOM2: &str = "heath@conference.localhost";
const ROOM3: &str = "attic@conference.localhost";
const CONTACT: &str = "bob@localhost";
const STRANGER: &str = "mallory@evil.example";
const NICKS: &[&str] = &["bob", "carol", "alice", "dave", "\u{202e}eve"];

/// JIDs the generator uses as senders and in payloads.
const JIDS: &[&str] = &[
    ME,
    ME_FULL,
    SERVER,
    ROOM,
    ROOM2,
    ROOM3,
    "coven@conference.localhost/bob",
    "coven@conference.localhost/alice",
    "heath@conference.localhost/carol",
    CONTACT,
    "bob@localhost/phone",
    STRANGER,
    "conference.localhost",
];

/// Commands whose answers the generator forges (IQ continuations).
const COMMANDS: &[&str] = &[
    "/rooms",
    "/rooms conference.localhost",
    "/search witch",
    "/info {room}",
    "/browse {room}",
    "/whois {room} {nick}",
    "/members {room}",
    "/outcasts {room}",
    "/bookmarks",
    "/bookmark {room} --autojoin",
    "/unbookmark {room}",
    "/roster",
    "/add {stranger}",
    "/remove {contact}",
    "/config {room}",
    "/callconfig {room}",
    "/create new@conference.localhost",
    "/destroy {room} --reason bye",
    "/invite {room} {contact}",
    "/join {room3}",
    "/join {room3} --focus focus.localhost",
    "/join {room}",
    "/part {room2}",
    "/say {room} hello",
    "/correct {room} fixed",
    "/react {room} @{nick} 👍 {nick}",
    "/react {contact} @",
    "/reply {room} @{nick} indeed",
    "/retract {room}",
    "/retract {contact}",
    "/moderate {room} @{nick} spam",
    "/msg {contact} hi",
    "/msg {room}/{nick} psst",
    "/kick {room} {nick}",
    "/ban {room} {stranger}",
    "/voice {room} {nick}",
    "/nick {room} alice2",
    "/topic {room} a topic",
    "/chatting all on",
    "/invitations",
    "/accept 1",
    "/decline 1",
    "/where {contact}",
    "/request-voice {room}",
];

/// Terminal widths and heights drawn (some below what the view draws at
/// all).
const WIDTHS: &[u16] = &[1, 9, 10, 11, 13, 17, 24, 40, 80, 100, 200];
const HEIGHTS: &[u16] = &[1, 3, 4, 5, 6, 8, 12, 30];

/// What a run did, for the report.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub cases: usize,
    pub parsed: usize,
    pub malformed: usize,
    pub answers: usize,
    pub events: usize,
    pub frames: usize,
    pub max_depth: usize,
    pub by_kind: HashMap<&'static str, usize>,
}

/// A request the app made that the generator may answer.
struct Outstanding {
    tag: Tag,
    ns: String,
}

/// One world: an app with a joined room or two, its UI, and what it
/// waits for.
pub struct Harness {
    rng: Rng,
    app: App,
    rx: UnboundedReceiver<SessionCmd>,
    ui: UiState,
    outstanding: Vec<Outstanding>,
    /// Ids of messages the app sent (errors and echoes forge them).
    ids: Vec<String>,
    /// Query ids of MAM queries the app made.
    qids: Vec<String>,
    pub stats: Stats,
    /// `CONFAB_FUZZ_VERBOSE`: every event line on stderr (for replays).
    verbose: bool,
}

impl Harness {
    pub fn new(rng: Rng) -> Harness {
        let (handle, rx) = SessionHandle::pair();
        let app = App::new(
            handle,
            None,
            AppOptions {
                account: BareJid::new(ME).expect("a bare JID"),
                default_nick: OWN.into(),
                history_load: 0,
                export_dir: std::env::temp_dir().join("confab-fuzz-exports"),
                recordings_dir: std::env::temp_dir().join("confab-fuzz-recordings"),
                files: crate::app::files::FilesOptions::with_download_dir(
                    std::env::temp_dir().join("confab-test-downloads"),
                ),
            },
        );
        let mut ui = UiState::default();
        ui.settings.utc_offset = chrono::FixedOffset::east_opt(0);
        let mut h = Harness {
            rng,
            app,
            rx,
            ui,
            outstanding: Vec::new(),
            ids: Vec::new(),
            qids: Vec::new(),
            stats: Stats::default(),
            verbose: std::env::var_os("CONFAB_FUZZ_VERBOSE").is_some(),
        };
        h.session(SessionEvent::Online {
            jid: FullJid::new(ME_FULL).expect("a full JID"),
            reconnect: false,
        });
        for room in [ROOM, ROOM2] {
            h.command(&format!("/join {room}"));
            let own = format!(
                "<presence xmlns='jabber:client' from='{room}/{OWN}'><x xmlns='http://jabber.org/protocol/muc#user'>\
                 <item affiliation='owner' role='moderator'/><status code='110'/></x></presence>"
            );
            h.deliver(own.parse().expect("XML"));
        }
        h.command(&format!("/join {ROOM3}"));
        h
    }

    /// Runs `cases` cases in this world.
    pub fn run(&mut self, cases: usize) {
        for _ in 0..cases {
            self.case();
        }
    }

    /// One generated case: maybe a command, maybe a connection change,
    /// then one hostile stanza, then the checks.
    pub fn case(&mut self) {
        self.stats.cases += 1;
        if self.rng.chance(8) {
            let c = *self.rng.pick(COMMANDS);
            let line = self.fill(c);
            self.command(&line);
        }
        if self.rng.chance(2) {
            self.session(SessionEvent::Disconnected {
                reason: crate::session::SessionError::Closed,
                retry_in: std::time::Duration::from_secs(1),
            });
            self.session(SessionEvent::Online {
                jid: FullJid::new(ME_FULL).expect("a full JID"),
                reconnect: true,
            });
        }
        let tree = self.stanza();
        if self.verbose {
            eprintln!("case {}: {}", self.stats.cases, clip(&format!("{tree:?}")));
        }
        self.stats.max_depth = self.stats.max_depth.max(tree.depth());
        let el = tree.to_element();
        let before = weight(&self.app.store);
        let lines_before = lines_by_window(&self.app.store);
        let sender = (el.name() != "iq")
            .then(|| el.attr("from").and_then(|f| Jid::new(f).ok()))
            .flatten();
        let (elements, bytes) = (tree.count(), size(&tree));
        let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.deliver(el);
        }));
        if let Err(p) = shown {
            eprintln!(
                "the stanza of case {} was:\n{}",
                self.stats.cases,
                clip(&format!("{tree:?}"))
            );
            std::panic::resume_unwind(p);
        }
        let after = weight(&self.app.store);
        // One window per JID.
        let jids: Vec<&BareJid> = self.app.store.windows().map(|w| w.jid()).collect();
        let distinct: std::collections::HashSet<&&BareJid> = jids.iter().collect();
        assert_eq!(
            distinct.len(),
            jids.len(),
            "a window listed twice: {jids:?}"
        );
        // Lines from others only in the sender's window (our own
        // account's bare JID forwards carbons and archive results of
        // any conversation).
        if let Some(sender) =
            sender.filter(|s| s.resource().is_some() || s.to_bare().as_str() != ME)
        {
            for (jid, n) in lines_by_window(&self.app.store) {
                if n > lines_before.get(&jid).copied().unwrap_or(0) {
                    assert_eq!(jid, sender.to_bare(), "a line from {sender} in {jid}");
                }
            }
        }
        assert!(
            after.0 <= before.0 + elements + 2,
            "one stanza of {elements} elements added {} store items:\n{}",
            after.0 - before.0,
            clip(&format!("{tree:?}"))
        );
        assert!(
            after.1 <= before.1 + 2 * bytes + 4096,
            "one stanza of {bytes} bytes added {} bytes to the store:\n{}",
            after.1 - before.1,
            clip(&format!("{tree:?}"))
        );
        self.draw();
    }

    /// Fills a template's slots from the world.
    fn fill(&mut self, t: &str) -> String {
        let nick = *self.rng.pick(NICKS);
        let id = if !self.ids.is_empty() && self.rng.chance(50) {
            self.rng.pick(&self.ids).clone()
        } else {
            format!("m{}", self.rng.below(8))
        };
        let qid = if !self.qids.is_empty() && self.rng.chance(70) {
            self.rng.pick(&self.qids).clone()
        } else {
            "q1".into()
        };
        let sid = format!("s{}", self.rng.below(16));
        let stamp = r#gen::stamp_value(&mut self.rng);
        t.replace("{room}", ROOM)
            .replace("{room2}", ROOM2)
            .replace("{room3}", ROOM3)
            .replace("{nick}", nick)
            .replace("{own}", OWN)
            .replace("{mefull}", ME_FULL)
            .replace("{me}", ME)
            .replace("{server}", SERVER)
            .replace("{contact}", CONTACT)
            .replace("{stranger}", STRANGER)
            .replace("{id}", &xml_escape(&id))
            .replace("{qid}", &xml_escape(&qid))
            .replace("{sid}", &sid)
            .replace("{stamp}", &xml_escape(&stamp))
            .replace("{text}", "TEXTSLOT")
    }

    /// A template parsed (stanzas in `jabber:client`), its text slots
    /// filled with hostile or plain text.
    fn template(&mut self, t: &str, stanza: bool) -> El {
        let xml = self.fill(t);
        let xml = if stanza {
            xml.replacen(' ', " xmlns='jabber:client' ", 1)
        } else {
            xml
        };
        let el: Element = xml.parse().unwrap_or_else(|e| panic!("template {t}: {e}"));
        let mut tree = El::from_element(&el);
        self.fill_texts(&mut tree);
        tree
    }

    fn fill_texts(&mut self, e: &mut El) {
        for (_, v) in e.attrs.iter_mut() {
            if v.contains("TEXTSLOT") {
                *v = self.text();
            }
        }
        for c in e.children.iter_mut() {
            match c {
                Node::El(c) => self.fill_texts(c),
                Node::Text(t) if t.contains("TEXTSLOT") => *t = self.text(),
                Node::Text(_) => {}
            }
        }
    }

    fn text(&mut self) -> String {
        if self.rng.chance(60) {
            r#gen::hostile_text(&mut self.rng)
        } else {
            "double, double toil and trouble".into()
        }
    }

    /// The next stanza: an answer to a request the app waits for, or one
    /// of the templates; then mutated.
    fn stanza(&mut self) -> El {
        let mut tree = if !self.outstanding.is_empty() && self.rng.chance(35) {
            self.answer()
        } else {
            let t = *self.rng.pick(templates::STANZAS);
            self.template(t, true)
        };
        let graft = if self.rng.chance(50) {
            let t = *self.rng.pick(templates::ANSWERS);
            vec![self.template(t, false)]
        } else {
            let t = *self.rng.pick(templates::STANZAS);
            let s = self.template(t, true);
            s.children
                .into_iter()
                .filter_map(|c| match c {
                    Node::El(e) => Some(e),
                    Node::Text(_) => None,
                })
                .collect()
        };
        // A fifth stays as the XEP says (so deep paths are reached), the
        // rest gets up to eight mutations.
        let n = if self.rng.chance(20) {
            0
        } else {
            1 + self.rng.below(8)
        };
        for _ in 0..n {
            r#gen::mutate(&mut self.rng, &mut tree, JIDS, &graft);
        }
        tree
    }

    /// An IQ answer to one of the app's requests, mostly in the namespace
    /// it asked in.
    fn answer(&mut self) -> El {
        let i = self.rng.below(self.outstanding.len());
        let (tag, ns) = (self.outstanding[i].tag, self.outstanding[i].ns.clone());
        let fitting: Vec<&str> = templates::ANSWERS
            .iter()
            .copied()
            .filter(|t| t.contains(&format!("xmlns='{ns}'")))
            .collect();
        let mut iq = El::new("iq", "jabber:client");
        iq.set_attr("id", format!("fuzz-{tag}"));
        let from = r#gen::jid_value(&mut self.rng, JIDS);
        iq.set_attr("from", from);
        match self.rng.below(10) {
            0 => {
                iq.set_attr("type", "error".into());
                let e = self.template(templates::STANZAS[templates::STANZAS.len() - 1], true);
                iq.children = e.children;
            }
            1 => iq.set_attr("type", "result".into()),
            _ => {
                iq.set_attr("type", "result".into());
                let t = if !fitting.is_empty() && self.rng.chance(85) {
                    *self.rng.pick(&fitting)
                } else {
                    *self.rng.pick(templates::ANSWERS)
                };
                let payload = self.template(t, false);
                iq.children.push(Node::El(payload));
            }
        }
        iq
    }

    fn command(&mut self, line: &str) {
        let Ok(cmd) = crate::command::parse(line) else {
            return;
        };
        let exec = self.app.execute(cmd, line);
        self.check(&exec.events);
        self.after();
    }

    fn session(&mut self, ev: SessionEvent) {
        let out = self.app.on_session(ev);
        self.check(&out);
        self.after();
    }

    /// What the session does with a stanza it read.
    pub fn deliver(&mut self, el: Element) {
        let from = el.attr("from").map(str::to_string);
        let name = el.name().to_string();
        let kind = el.attr("type").unwrap_or("").to_string();
        let id = el.attr("id").map(str::to_string);
        let malformed = |e: String| SessionEvent::Malformed {
            from: from.clone(),
            text: e,
        };
        let ev = match name.as_str() {
            "message" => match Message::try_from(el) {
                Ok(m) => {
                    let inc = classify_message(&m);
                    let me = jid::BareJid::new(ME).expect("our JID");
                    match &inc {
                        // As the session does (`task/origin.rs`): only our
                        // account forwards carbons.
                        Incoming::Carbon(c)
                            if !crate::protocol::carbons::from_account(c.from.as_ref(), &me) =>
                        {
                            SessionEvent::Forged {
                                from: from.clone(),
                                text: "ignored a forged carbon copy".into(),
                            }
                        }
                        _ => {
                            speaks_for_sender(&inc, m.from.as_ref());
                            SessionEvent::Incoming(inc)
                        }
                    }
                }
                Err(e) => malformed(e.to_string()),
            },
            "presence" => match Presence::try_from(el) {
                Ok(p) => {
                    let inc = classify_presence(&p);
                    speaks_for_sender(&inc, p.from.as_ref());
                    SessionEvent::Incoming(inc)
                }
                Err(e) => malformed(e.to_string()),
            },
            "iq" => match Iq::try_from(el) {
                Ok(iq) => match &iq {
                    Iq::Get { .. } | Iq::Set { .. } => {
                        if let Some(reply) = disco::answer_iq(&iq) {
                            written(&Element::from(reply));
                            return;
                        }
                        match IqRequest::from_iq(&iq) {
                            Some(req) => {
                                sdp_stays_sdp(&req.payload);
                                SessionEvent::IqRequest(req)
                            }
                            None => return,
                        }
                    }
                    Iq::Result { id, payload, .. } => match self.take(id) {
                        Some(tag) => SessionEvent::IqResponse {
                            tag,
                            result: Ok(payload.clone()),
                        },
                        None => return,
                    },
                    Iq::Error { id, error, .. } => match self.take(id) {
                        Some(tag) => SessionEvent::IqResponse {
                            tag,
                            result: Err(ErrorInfo::from_stanza_error(error)),
                        },
                        None => return,
                    },
                },
                Err(e) => {
                    // An answer that cannot be read still ends its request.
                    if matches!(kind.as_str(), "result" | "error")
                        && let Some(tag) = id.as_deref().and_then(|i| self.take(i))
                    {
                        self.session(SessionEvent::IqResponse {
                            tag,
                            result: Err(ErrorInfo::new("undefined-condition", Some(e.to_string()))),
                        });
                    }
                    malformed(e.to_string())
                }
            },
            _ => malformed(format!("not a stanza: {name}")),
        };
        match &ev {
            SessionEvent::Malformed { .. } => self.stats.malformed += 1,
            SessionEvent::IqResponse { .. } => self.stats.answers += 1,
            _ => self.stats.parsed += 1,
        }
        *self.stats.by_kind.entry(kind_name(&ev)).or_default() += 1;
        self.session(ev);
    }

    /// A stanza as tokio-xmpp's stream parser hands it to the session.
    pub fn deliver_stanza(&mut self, s: tokio_xmpp::Stanza) {
        let el = match s {
            tokio_xmpp::Stanza::Iq(i) => Element::from(i),
            tokio_xmpp::Stanza::Message(m) => Element::from(m),
            tokio_xmpp::Stanza::Presence(p) => Element::from(p),
        };
        self.deliver(el);
    }

    /// The request an answer's id names (the session's id → tag map).
    fn take(&mut self, id: &str) -> Option<Tag> {
        let i = self
            .outstanding
            .iter()
            .position(|o| format!("fuzz-{}", o.tag) == id)?;
        Some(self.outstanding.remove(i).tag)
    }

    /// Every event as a batch line, and to the UI.
    fn check(&mut self, events: &[Event]) {
        for e in events {
            let v = e.to_json();
            let line = event_line(e);
            assert_eq!(line, json_line(&v), "event_line differs from json_line");
            if self.verbose {
                eprintln!("event: {}", clip(&line));
            }
            assert!(terminal_safe(&line), "batch line not terminal-safe: {line}");
            let back: serde_json::Value =
                serde_json::from_str(&line).expect("batch lines are JSON");
            assert_eq!(back, v, "json_line changed the event");
        }
        self.stats.events += events.len();
        self.ui.on_events(&self.app.store, events);
    }

    /// What the app asked of the session: requests to answer later,
    /// replies written, stanzas written (reported sent).
    fn after(&mut self) {
        let mut sent = Vec::new();
        let _ = self.app.flush_history();
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                SessionCmd::Iq { tag, payload, .. } => {
                    if let Some(q) = payload.attr("queryid") {
                        self.qids.push(q.to_string());
                    }
                    self.outstanding.push(Outstanding {
                        tag,
                        ns: payload.ns(),
                    });
                    if self.outstanding.len() > 32 {
                        self.outstanding.remove(0);
                    }
                }
                SessionCmd::Reply { to, id, answer } => {
                    written(&proto_iq::reply(to, id, answer).into());
                }
                SessionCmd::Message { message, tag, .. } => {
                    if let Some(id) = &message.id {
                        self.ids.push(id.0.clone());
                    }
                    sent.push(tag);
                }
                SessionCmd::Presence { tag, .. } => sent.push(tag),
                _ => {}
            }
        }
        self.ids.truncate(16);
        self.qids.truncate(16);
        for tag in sent {
            let out = self.app.on_session(SessionEvent::Sent { tag });
            self.check(&out);
        }
    }

    /// Draws the screen at the next size (now and then in another window)
    /// and checks every cell and the title.
    pub fn draw(&mut self) {
        if self.rng.chance(10) {
            self.ui.cycle(&self.app.store, 1);
        }
        // Scrolled back, sometimes past everything.
        if self.rng.chance(10)
            && let Some(cur) = self.ui.current.clone()
        {
            self.ui.view_mut(&cur).scroll = self.rng.below(2000);
        }
        let (w, h) = (*self.rng.pick(WIDTHS), *self.rng.pick(HEIGHTS));
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
        term.draw(|f| {
            crate::ui::view::render(&self.app.store, &self.ui, f);
        })
        .expect("drawn");
        for cell in term.backend().buffer().content() {
            assert!(
                terminal_safe(cell.symbol()),
                "raw {:?} reached the terminal ({w}x{h})",
                cell.symbol()
            );
        }
        assert!(terminal_safe(&self.ui.title()));
        self.stats.frames += 1;
    }
}

fn kind_name(ev: &SessionEvent) -> &'static str {
    match ev {
        SessionEvent::Incoming(i) => match i {
            Incoming::MucPresence(_) => "muc-presence",
            Incoming::MucPresenceError { .. } => "muc-presence-error",
            Incoming::RoomMessage(_) => "room-message",
            Incoming::Subject { .. } => "subject",
            Incoming::Chat(_) => "chat",
            Incoming::MessageError { .. } => "message-error",
            Incoming::VoiceRequest(_) => "voice-request",
            Incoming::Correction(_) => "correction",
            Incoming::Reactions(_) => "reactions",
            Incoming::Retraction(_) => "retraction",
            Incoming::MamResult(_) => "mam-result",
            Incoming::Carbon(_) => "carbon",
            Incoming::MucDropped { .. } => "muc-dropped",
            Incoming::Invitation(_) => "invitation",
            Incoming::InvitationDeclined(_) => "decline",
            Incoming::Chatting(_) => "chatting",
            Incoming::OmemoDevices(_) => "omemo-devices",
            Incoming::Subscription(_) => "subscription",
            Incoming::CallMessage(_) => "call-message",
            Incoming::ChatState(_) => "chat-state",
            Incoming::Ignored(_) => "ignored",
        },
        SessionEvent::IqRequest(_) => "iq-request",
        SessionEvent::IqResponse { .. } => "iq-answer",
        SessionEvent::Malformed { .. } => "malformed",
        _ => "other",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(3000) {
        Some((i, _)) => format!("{}… ({} bytes)", &s[..i], s.len()),
        None => s.to_string(),
    }
}

/// Seed and cases from the environment.
pub fn settings() -> (u64, usize, Option<usize>) {
    let seed = std::env::var("CONFAB_FUZZ_SEED")
        .ok()
        .and_then(|s| match s.as_str() {
            "random" => Some(Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64),
            s => s.parse().ok(),
        })
        .unwrap_or(DEFAULT_SEED);
    let cases = std::env::var("CONFAB_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let world = std::env::var("CONFAB_FUZZ_WORLD")
        .ok()
        .and_then(|s| s.parse().ok());
    (seed, cases, world)
}

/// The seed of world `n` of a run.
pub fn world_seed(seed: u64, n: usize) -> u64 {
    seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests;

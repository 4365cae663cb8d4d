//! The one command language: the TUI input line and `--batch` both go
//! through [`parse`]. The command table ([`table::COMMANDS`]) carries each
//! command's name, aliases, usage, arguments, help and builder, so
//! parsing, `/help`, completion and [`Command::name`] never drift apart.

pub mod admin;
mod buffer;
mod call;
mod directory;
mod fasten;
mod files;
mod lex;
mod omemo;
mod parse;
mod rooms;
mod script;
mod social;
pub mod table;

use std::time::Duration;

use jid::{BareJid, Jid};

pub use confab_proto::Show;
pub use fasten::MessageRef;
pub use lex::{Token, tokenize};
pub use omemo::OmemoAction;
pub use parse::{Args, ParseError, parse};

/// Which rooms a `/status` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusTarget {
    All,
    Room(BareJid),
}

/// What a `/wait` waits for. Every kind compiles to a predicate over the
/// JSON form of events (see `batch::wait`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitKind {
    /// `/wait message ROOM [--from NICK] [--contains TEXT]`
    Message {
        room: BareJid,
        from: Option<String>,
        contains: Option<String>,
    },
    /// `/wait occupant ROOM NICK`
    Occupant { room: BareJid, nick: String },
    /// `/wait event NAME [KEY=VALUE ...]`: any event whose fields equal the
    /// given values (compared as text).
    Event {
        name: String,
        fields: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub kind: WaitKind,
    pub timeout: Duration,
}

/// Default timeout of `/wait` when `--timeout` is not given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// What `/layout` does to a pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutSetting {
    Show,
    Hide,
    Toggle,
    Width(u16),
}

/// Options of `/join` beyond room, nick and password: how the room is
/// entered (protocol, privacy) and what happens before (a conference focus).
/// Every field's default is plain XEP-0045 behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinOptions {
    /// `--focus [FOCUS-JID]` / `--focus-http URL`: ask a Jitsi focus for
    /// the conference first (issue 8, `app/focus.rs`).
    pub focus: Option<FocusTarget>,
    /// `--prop KEY=VALUE` (repeatable): conference properties for the focus.
    pub focus_props: Vec<(String, String)>,
    /// `--protocol muc|conference|gc`: no detection, this protocol
    /// (issue 6, `app/conference.rs`).
    pub protocol: Option<confab_proto::Protocol>,
    /// `--private`: generic conferencing with `<privacy/>` (real JID
    /// hidden, only messages relayed to us).
    pub private: bool,
}

/// Where a Jitsi conference request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FocusTarget {
    /// A ConferenceIq to this JID (`None`: `focus.DOMAIN` of the account).
    Xmpp(Option<Jid>),
    /// A JSON POST to this URL (`/conference-request/v1` added if missing).
    Http(String),
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/join ROOM[/NICK] [PASSWORD]`
    Join {
        room: BareJid,
        nick: Option<String>,
        password: Option<String>,
        /// The `--…` options of `/join` (protocol choice, privacy, focus).
        options: JoinOptions,
    },
    /// `/part ROOM [REASON]`
    Part {
        room: BareJid,
        reason: Option<String>,
    },
    /// `/say ROOM TEXT` (and plain text in the TUI, to the current room)
    Say {
        room: BareJid,
        text: String,
    },
    /// `/correct ROOM TEXT`: replace our last message in the room (XEP-0308)
    Correct {
        room: BareJid,
        text: String,
    },
    /// `/msg JID-or-ROOM/NICK TEXT`
    Msg {
        to: Jid,
        text: String,
    },
    /// `/react ROOM-or-JID REF [EMOJI ...]`: toggle our reactions to a
    /// message (XEP-0444); none given: withdraw all of ours.
    React {
        to: Jid,
        target: MessageRef,
        emojis: Vec<String>,
    },
    /// `/reply ROOM-or-JID REF TEXT` (XEP-0461)
    Reply {
        to: Jid,
        target: MessageRef,
        text: String,
    },
    /// `/retract ROOM-or-JID [ID]`: take back our message (XEP-0424)
    Retract {
        to: Jid,
        target: MessageRef,
    },
    /// `/moderate ROOM REF [REASON]`: a moderator removes a message
    /// (XEP-0425)
    RemoveMessage {
        room: BareJid,
        target: MessageRef,
        reason: Option<String>,
    },
    /// `/msg JID` (`/query JID`) without text: open the conversation with
    /// JID (a full JID names its bare JID's conversation; a `ROOM/NICK`
    /// is refused by the app).
    OpenChat {
        jid: Jid,
    },
    /// `/close [JID]`: close a one-to-one window (the TUI fills in the
    /// current one).
    Close {
        jid: Option<BareJid>,
    },
    /// `/read [JID]`: mark a conversation read (the TUI fills in the
    /// current one).
    Read {
        jid: Option<BareJid>,
    },
    /// `/nick ROOM NEWNICK`
    Nick {
        room: BareJid,
        nick: String,
    },
    /// `/topic ROOM TEXT`
    Topic {
        room: BareJid,
        text: String,
    },
    /// `/status ROOM|all SHOW [TEXT]`
    Status {
        target: StatusTarget,
        show: Show,
        text: Option<String>,
    },
    /// `/config ROOM [FIELD=VALUE ...]`: show the room's configuration
    /// form, or submit the given fields.
    Config {
        room: BareJid,
        fields: Vec<(String, String)>,
    },
    /// `/rooms [SERVICE]`: the public rooms of a MUC service (paged).
    Rooms {
        service: Option<Jid>,
    },
    /// `/search QUERY [SERVICE]`: rooms whose name, JID or description
    /// contains QUERY.
    Search {
        query: String,
        service: Option<Jid>,
    },
    /// `/info ROOM`: a room's public information (disco#info).
    Info {
        room: BareJid,
    },
    /// `/create ROOM[/NICK] [--instant] [FIELD=VALUE ...]`
    Create {
        room: BareJid,
        nick: Option<String>,
        instant: bool,
        fields: Vec<(String, String)>,
    },
    /// `/destroy ROOM [--reason TEXT] [--venue ROOM]`
    Destroy {
        room: BareJid,
        reason: Option<String>,
        venue: Option<BareJid>,
    },
    /// `/kick`, `/ban`, `/voice`, `/members`, … (see [`admin::Moderate`]).
    Moderate(admin::Moderate),
    /// `/wait ...`
    Wait(Wait),
    /// `/sleep SECS`
    Sleep(Duration),
    /// `/me TEXT` (TUI: an action in the current room)
    Me {
        text: String,
    },
    /// `/win N` (TUI)
    Win(usize),
    /// `/layout rooms|people|events SETTING` (TUI)
    Layout {
        pane: String,
        setting: LayoutSetting,
    },
    /// `/invite ROOM JID [REASON] [--mediated]`
    Invite {
        room: BareJid,
        to: Jid,
        reason: Option<String>,
        mediated: bool,
    },
    /// `/invitations`
    Invitations,
    /// `/accept ID`
    Accept {
        id: String,
    },
    /// `/decline ID [REASON]`
    Decline {
        id: String,
        reason: Option<String>,
    },
    /// `/bookmark [ROOM] [--autojoin] [--nick N] [--password P]` (the TUI
    /// fills in the current room; `name` is not set by the command line,
    /// a replaced bookmark keeps its name).
    Bookmark {
        room: Option<BareJid>,
        autojoin: bool,
        nick: Option<String>,
        password: Option<String>,
        name: Option<String>,
    },
    /// `/bookmarks`
    Bookmarks,
    /// `/unbookmark ROOM`
    Unbookmark {
        room: BareJid,
    },
    /// `/roster` (`/contacts`): contacts, presence, rooms, requests.
    Roster,
    /// `/add JID`: roster add and a subscription request.
    AddContact {
        jid: BareJid,
    },
    /// `/remove JID`: roster remove (ends both subscriptions).
    RemoveContact {
        jid: BareJid,
    },
    /// `/approve JID`: answer a subscription request with yes.
    Approve {
        jid: BareJid,
    },
    /// `/deny JID`: answer a subscription request with no (or cancel it).
    Deny {
        jid: BareJid,
    },
    /// `/where JID`: the room a contact is in (XEP-0194).
    Where {
        contact: BareJid,
    },
    /// `/omemo on|off|fingerprints|trust|distrust [JID] [FP]` (XEP-0384).
    Omemo {
        action: OmemoAction,
        jid: Option<BareJid>,
    },
    /// `/chatting ROOM|all on|off`: publish a room (or everything) to
    /// contacts, or not.
    Chatting {
        target: StatusTarget,
        publish: bool,
    },
    /// `/call ROOM|USER`: join an A/V conference (XEP-0521), or call a user
    /// (XEP-0353 + XEP-0167).
    Call {
        room: BareJid,
    },
    /// `/answer`: take the one-to-one call that rings.
    AnswerCall,
    /// `/reject`: decline the one-to-one call that rings.
    RejectCall,
    /// `/hangup`
    Hangup,
    /// `/mute`
    Mute,
    /// `/unmute`
    Unmute,
    /// `/deafen`
    Deafen,
    /// `/undeafen`
    Undeafen,
    /// `/devices`: the audio devices.
    Devices,
    /// `/devices input SPEC` (`output` false), `/devices output SPEC`:
    /// capture from, or play to, SPEC (an `--audio-in`/`--audio-out` spec,
    /// checked by the app).
    SwitchDevice {
        output: bool,
        spec: String,
    },
    /// `/denoise MODE`: one of [`call::DENOISE_MODES`].
    Denoise {
        mode: String,
    },
    /// `/record [DIR]`: record the call (Ogg Opus) in DIR, or a new
    /// folder under the recordings folder.
    Record {
        dir: Option<String>,
    },
    /// `/record stop`
    RecordStop,
    /// `/callconfig ROOM [FIELD=VALUE ...]`: the conference's ad-hoc
    /// configuration (XEP-0050, node `urn:xmpp:av-conferences:config`).
    CallConfig {
        room: BareJid,
        fields: Vec<(String, String)>,
    },
    /// `/browse JID`: a `jabber:iq:browse` look (rooms, participants).
    Browse {
        jid: Jid,
    },
    /// `/whois ROOM NICK`: the real JID of an occupant, where the room
    /// tells it.
    Whois {
        room: BareJid,
        nick: String,
    },
    /// `/help [COMMAND]`
    Help {
        topic: Option<String>,
    },
    /// `/find [--in ROOM|JID] TEXT`: the local history's full-text search.
    Find {
        text: String,
        within: Option<BareJid>,
    },
    /// `/upload PATH [ROOM|JID]` (XEP-0363); the TUI fills in the
    /// current window.
    Upload {
        path: String,
        to: Option<BareJid>,
    },
    /// `/save ROOM|JID REF [PATH]`
    Save {
        of: BareJid,
        target: MessageRef,
        path: Option<String>,
    },
    /// `/open ROOM|JID REF`
    Open {
        of: BareJid,
        target: MessageRef,
    },
    /// `/cancel`: every transfer under way
    Cancel,
    /// `/export ROOM|JID [FILE] [--json]`
    Export {
        of: BareJid,
        file: Option<String>,
        json: bool,
    },
    /// `/clear`: the current window's pane (the TUI's; nothing in batch).
    Clear,
    /// `/ignore ROOM NICK` (an occupant) or `/ignore JID` (everywhere).
    Ignore {
        jid: BareJid,
        nick: Option<String>,
    },
    /// `/unignore ROOM NICK` or `/unignore JID`.
    Unignore {
        jid: BareJid,
        nick: Option<String>,
    },
    /// `/ignored`
    Ignored,
    /// `/quit`
    /// `/xmlconsole [on|off] [--filter TEXT]`: the live stanza stream
    /// (redacted) in a TUI view, or as `xml` events in `--batch`; no
    /// argument toggles.
    XmlConsole {
        on: Option<bool>,
        filter: Option<String>,
    },
    Quit,
}

impl Command {
    /// The command's table entry.
    pub fn spec(&self) -> &'static table::CommandSpec {
        match self {
            Command::Join { .. } => &rooms::JOIN,
            Command::Part { .. } => &rooms::PART,
            Command::Say { .. } => &rooms::SAY,
            Command::Correct { .. } => &rooms::CORRECT,
            Command::Msg { .. } | Command::OpenChat { .. } => &rooms::MSG,
            Command::React { .. } => &fasten::REACT,
            Command::Reply { .. } => &fasten::REPLY,
            Command::Retract { .. } => &fasten::RETRACT,
            Command::RemoveMessage { .. } => &fasten::MODERATE,
            Command::Close { .. } => &rooms::CLOSE,
            Command::Read { .. } => &rooms::READ,
            Command::Nick { .. } => &rooms::NICK,
            Command::Topic { .. } => &rooms::TOPIC,
            Command::Status { .. } => &rooms::STATUS,
            Command::Config { .. } => &rooms::CONFIG,
            Command::Rooms { .. } => &directory::ROOMS,
            Command::Search { .. } => &directory::SEARCH,
            Command::Info { .. } => &directory::INFO,
            Command::Create { .. } => &directory::CREATE,
            Command::Destroy { .. } => &directory::DESTROY,
            Command::Moderate(m) => m.spec(),
            Command::Wait(_) => &script::WAIT,
            Command::Sleep(_) => &script::SLEEP,
            Command::Me { .. } => &script::ME,
            Command::Win(_) => &script::WIN,
            Command::Layout { .. } => &script::LAYOUT,
            Command::Invite { .. } => &social::INVITE,
            Command::Invitations => &social::INVITATIONS,
            Command::Accept { .. } => &social::ACCEPT,
            Command::Decline { .. } => &social::DECLINE,
            Command::Bookmark { .. } => &social::BOOKMARK,
            Command::Bookmarks => &social::BOOKMARKS,
            Command::Unbookmark { .. } => &social::UNBOOKMARK,
            Command::Roster => &social::ROSTER,
            Command::AddContact { .. } => &social::ADD,
            Command::RemoveContact { .. } => &social::REMOVE,
            Command::Approve { .. } => &social::APPROVE,
            Command::Deny { .. } => &social::DENY,
            Command::Where { .. } => &social::WHERE,
            Command::Chatting { .. } => &social::CHATTING,
            Command::Omemo { .. } => &omemo::OMEMO,
            Command::Call { .. } => &call::CALL,
            Command::AnswerCall => &call::ANSWER,
            Command::RejectCall => &call::REJECT,
            Command::Hangup => &call::HANGUP,
            Command::Mute => &call::MUTE,
            Command::Unmute => &call::UNMUTE,
            Command::Deafen => &call::DEAFEN,
            Command::Undeafen => &call::UNDEAFEN,
            Command::Devices | Command::SwitchDevice { .. } => &call::DEVICES,
            Command::Denoise { .. } => &call::DENOISE,
            Command::Record { .. } | Command::RecordStop => &call::RECORD,
            Command::CallConfig { .. } => &call::CALLCONFIG,
            Command::Browse { .. } => &directory::BROWSE,
            Command::Whois { .. } => &directory::WHOIS,
            Command::Help { .. } => &script::HELP,
            Command::Find { .. } => &buffer::FIND,
            Command::Upload { .. } => &files::UPLOAD,
            Command::Save { .. } => &files::SAVE,
            Command::Open { .. } => &files::OPEN,
            Command::Cancel => &files::CANCEL,
            Command::Export { .. } => &buffer::EXPORT,
            Command::Clear => &buffer::CLEAR,
            Command::Ignore { .. } => &buffer::IGNORE,
            Command::Unignore { .. } => &buffer::UNIGNORE,
            Command::Ignored => &buffer::IGNORED,
            Command::Quit => &script::QUIT,
            Command::XmlConsole { .. } => &script::XMLCONSOLE,
        }
    }
    /// The command's name as in the table (for events and errors).
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// The room a command is about: its first argument, where that is a
    /// room (`ROOM`, `ROOM[/NICK]`, or `ROOM|all` naming one).
    pub fn room(&self) -> Option<&BareJid> {
        match self {
            Command::Join { room, .. }
            | Command::Part { room, .. }
            | Command::Say { room, .. }
            | Command::Correct { room, .. }
            | Command::RemoveMessage { room, .. }
            | Command::Nick { room, .. }
            | Command::Topic { room, .. }
            | Command::Config { room, .. }
            | Command::Info { room }
            | Command::Whois { room, .. }
            | Command::Create { room, .. }
            | Command::Destroy { room, .. }
            | Command::Invite { room, .. }
            | Command::Unbookmark { room }
            | Command::Call { room }
            | Command::CallConfig { room, .. }
            | Command::Status {
                target: StatusTarget::Room(room),
                ..
            }
            | Command::Chatting {
                target: StatusTarget::Room(room),
                ..
            } => Some(room),
            Command::Moderate(m) => Some(m.room()),
            Command::Bookmark { room, .. } => room.as_ref(),
            Command::Upload { to, .. } => to.as_ref(),
            Command::Export { of: room, .. }
            | Command::Save { of: room, .. }
            | Command::Open { of: room, .. }
            | Command::Ignore { jid: room, .. }
            | Command::Unignore { jid: room, .. } => Some(room),
            Command::Status { .. }
            | Command::Chatting { .. }
            | Command::Msg { .. }
            | Command::React { .. }
            | Command::Reply { .. }
            | Command::Retract { .. }
            | Command::OpenChat { .. }
            | Command::Close { .. }
            | Command::Read { .. }
            | Command::Rooms { .. }
            | Command::Search { .. }
            | Command::Browse { .. }
            | Command::Wait(_)
            | Command::Sleep(_)
            | Command::Me { .. }
            | Command::Win(_)
            | Command::Layout { .. }
            | Command::Invitations
            | Command::Accept { .. }
            | Command::Decline { .. }
            | Command::Bookmarks
            | Command::Roster
            | Command::AddContact { .. }
            | Command::RemoveContact { .. }
            | Command::Approve { .. }
            | Command::Deny { .. }
            | Command::Where { .. }
            | Command::Omemo { .. }
            | Command::Find { .. }
            | Command::Cancel
            | Command::Clear
            | Command::Ignored
            | Command::Hangup
            | Command::AnswerCall
            | Command::RejectCall
            | Command::Mute
            | Command::Unmute
            | Command::Deafen
            | Command::Undeafen
            | Command::Devices
            | Command::SwitchDevice { .. }
            | Command::Denoise { .. }
            | Command::Record { .. }
            | Command::RecordStop
            | Command::Help { .. }
            | Command::XmlConsole { .. }
            | Command::Quit => None,
        }
    }
}

//! Events: what changed in the store (and results of commands). The TUI
//! marks itself dirty on them; `--batch` prints each as one JSON line.

use jid::BareJid;
use serde::Serialize;

use confab_proto::muc::{Affiliation, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OccupantAction {
    Join,
    Leave,
    Nick,
    Update,
}

/// How we came to be out of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeftKind {
    Left,
    Kicked,
    Banned,
    Removed,
    Destroyed,
}

/// One message `/find` found, as the `found` event lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundLine {
    /// The room or contact.
    pub conversation: String,
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stanza_id: Option<String>,
    pub own: bool,
}

/// XEP-0461: what a message answers, in a `message` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyTo {
    pub id: String,
    /// Its author, as the replier names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The quote the replier sent along (the fallback), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

impl From<&confab_proto::reply::Reply> for ReplyTo {
    fn from(r: &confab_proto::reply::Reply) -> ReplyTo {
        ReplyTo {
            id: r.id.clone(),
            to: r.to.clone(),
            quote: r.quote.clone(),
        }
    }
}

/// One emoji of a message's reactions: how many reacted with it, and who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: usize,
    pub by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Connected {
        jid: String,
        /// The SASL mechanism of the login, e.g. `SCRAM-SHA-256-PLUS`.
        #[serde(skip_serializing_if = "Option::is_none")]
        sasl: Option<String>,
    },
    Disconnected {
        reason: String,
        retry_in: f64,
    },
    Reconnecting {
        attempt: u32,
    },
    Reconnected {
        jid: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        sasl: Option<String>,
        /// XEP-0198: why the server would not resume the lost stream.
        #[serde(skip_serializing_if = "Option::is_none")]
        resume_refused: Option<String>,
    },
    /// XEP-0198: the lost stream was resumed (rooms stay joined, no
    /// rejoin, nothing missed).
    Resumed {
        jid: String,
    },
    Joined {
        room: BareJid,
        nick: String,
        protocol: &'static str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        rejoined: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notices: Vec<String>,
    },
    Occupant {
        room: BareJid,
        nick: String,
        action: OccupantAction,
        role: Role,
        affiliation: Affiliation,
        show: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jid: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        occupant_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_nick: Option<String>,
        #[serde(rename = "self")]
        is_self: bool,
        /// On `leave`: why (`left`, `kicked`, `banned`, `removed`).
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<LeftKind>,
        /// Reason and actor of a kick, ban or role/affiliation change.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        /// On `join`: the nick this person (same XEP-0421 occupant-id)
        /// had when last seen in the room, if different.
        #[serde(skip_serializing_if = "Option::is_none")]
        was: Option<String>,
        /// The room's trusted Jitsi focus (`app/focus.rs`).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        focus: bool,
        /// The occupant whose nick this one imitates (same look, mixed
        /// scripts or invisible characters: `crate::names`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lookalike: Option<String>,
    },
    Message {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<BareJid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        body: String,
        private: bool,
        delayed: bool,
        own: bool,
        time: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The reference others use for it in a room (XEP-0359, by the
        /// room); `/react`, `/reply`, `/moderate` take it.
        #[serde(skip_serializing_if = "Option::is_none")]
        stanza_id: Option<String>,
        /// XEP-0461: the message it answers.
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<ReplyTo>,
        /// Files and links on lines of their own (XEP-0066 OOB, uploads,
        /// `aesgcm://`): `/save` and `/open` take them.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<super::attachments::Attachment>,
        /// XEP-0384: OMEMO version, sending device, whether it is
        /// trusted, whether it was decrypted (absent: not encrypted).
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted: Option<confab_proto::omemo_pep::E2e>,
    },
    /// XEP-0085: someone's chat state in a room (`nick`) or a
    /// conversation (`from`) changed what is shown: `composing`,
    /// `paused`, or `active`/`inactive`/`gone` (no longer shown).
    ChatState {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<BareJid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        state: &'static str,
    },
    /// `/find`: the newest matches (at most `history::MAX_FOUND`).
    Found {
        words: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        within: Option<BareJid>,
        results: Vec<FoundLine>,
    },
    /// `/export`: `messages` lines of `of` written to `path`.
    Exported {
        of: BareJid,
        path: String,
        messages: usize,
    },
    /// `/ignore`, `/unignore`, `/ignored`: whom we ignore now.
    Ignored {
        entries: Vec<String>,
    },
    Subject {
        room: BareJid,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        subject: String,
    },
    Left {
        room: BareJid,
        kind: LeftKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        venue: Option<String>,
    },
    /// A one-to-one conversation's window opened: by `/msg JID` (no
    /// text), by a message in or out, or brought back at start
    /// (`restored`). `unread`: its lines not read yet (`/read`, or looked
    /// at in the TUI), counted in the archive.
    WindowOpened {
        jid: BareJid,
        unread: usize,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        restored: bool,
    },
    /// A one-to-one conversation's window closed (`/close`); its history
    /// stays in the archive.
    WindowClosed {
        jid: BareJid,
    },
    /// Archived messages shown on join (not repeated as message events).
    History {
        room: String,
        count: usize,
    },
    /// A command finished well.
    Ok {
        command: String,
    },
    /// Something failed: a command (then `command` is set) or something
    /// the network did.
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        command: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<BareJid>,
        condition: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", rename = "message-id")]
        message_id: Option<String>,
    },
    /// Help or other text a command prints.
    Info {
        text: String,
    },
    /// OMEMO news no command asked for: our device published (or made
    /// anew), a contact's new device or changed key, a skipped device, a
    /// session rebuilt.
    Omemo {
        text: String,
    },
    /// An invitation to a room arrived (`id` for `/accept`, `/decline`).
    Invitation(super::InvitationItem),
    /// The pending invitations (`/invitations`).
    Invitations {
        invitations: Vec<super::InvitationItem>,
    },
    /// Someone declined our invitation (relayed by the room).
    InvitationDeclined(super::DeclineItem),
    /// The account's room bookmarks (`/bookmarks`).
    Bookmarks {
        bookmarks: Vec<super::BookmarkItem>,
    },
    /// A XEP-0308 correction: the message `replaces` (its id) of `nick`
    /// now reads `body`.
    Correction {
        room: BareJid,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        replaces: String,
        body: String,
        own: bool,
        delayed: bool,
        time: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// XEP-0444: `nick` (in a room) or `from` (a contact) now reacts to
    /// message `target` with `emojis` (empty: withdrawn), replacing what
    /// they had; `reactions`: the message's reactions now, grouped.
    Reactions {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<BareJid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        target: String,
        emojis: Vec<String>,
        reactions: Vec<ReactionCount>,
        own: bool,
        delayed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// XEP-0424/0425: message `target` (of `nick` in a room, or in the
    /// conversation with `from`) was removed: by its sender, or by the
    /// moderator `by` with `reason`; `tombstone`: an archive said so.
    Retracted {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<BareJid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        target: String,
        moderated: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// We removed it (our retraction, or our moderation).
        own: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        tombstone: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// A XEP-0313 catch-up of a room's archive finished: `count` messages
    /// were new (each came as a delayed `message` event); `complete`: up
    /// to the end of the archive (else an `error` said where it stopped).
    Mam {
        room: String,
        count: usize,
        complete: bool,
    },
    /// A XEP-0313 catch-up of our account's archive (one-to-one
    /// conversations, after login and each reconnection) finished: `count`
    /// messages were new (each came as a delayed `message` event);
    /// `complete` as for [`Event::Mam`].
    MamAccount {
        account: String,
        count: usize,
        complete: bool,
    },
    /// XEP-0410 self-ping found the room had silently dropped us; the
    /// session rejoins (a `joined` with `rejoined` follows).
    Dropped {
        room: String,
        condition: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// A stanza past the parse limits (depth, size, attributes) was
    /// dropped unread (`session/guard.rs`); told apart from a room's drop
    /// by its `stanza` field.
    #[serde(rename = "dropped")]
    StanzaDropped {
        /// `iq`, `message`, `presence` (or another top-level element).
        stanza: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// `too-deep`, `too-large` or `too-many-attributes`.
        reason: String,
        text: String,
    },
    /// One page of a MUC service's room list (`/rooms`); `complete` on
    /// the last one.
    RoomList {
        service: String,
        /// 0 for the first page of a listing.
        page: usize,
        rooms: Vec<confab_proto::rooms::RoomItem>,
        complete: bool,
    },
    /// The rooms `/search` found; `described` rooms were also looked up
    /// for their description, `not_described` were not (over the limit).
    /// `via`: `disco` (the MUC service's room list searched here) or
    /// `xep-0433` (the search service's answer).
    RoomSearch {
        service: String,
        via: &'static str,
        query: String,
        rooms: Vec<confab_proto::rooms::RoomItem>,
        described: usize,
        not_described: usize,
    },
    /// A room's public information (`/info`).
    RoomInfo {
        room: String,
        #[serde(flatten)]
        info: confab_proto::rooms::RoomInfo,
    },
    /// A room's configuration form (`/config ROOM`, `/create ROOM`);
    /// `purpose` is `config` or `create` (the new room stays locked until
    /// the form is submitted).
    RoomForm {
        room: String,
        purpose: &'static str,
        form: confab_proto::rooms::Form,
    },
    /// A room's list of affiliations or roles (`/members`, `/moderators`, …).
    AdminList {
        room: String,
        /// Serialised as its name: `members`, `admins`, `owners`,
        /// `outcasts` or `moderators`.
        list: crate::command::admin::AdminList,
        items: Vec<confab_proto::admin::AdminItem>,
    },
    /// `/browse JID`: a `jabber:iq:browse` answer (`category`, `jid`,
    /// `name`, `type`, `items`, `namespaces`); `snapshot` when it lists
    /// the participants of a room we are not in (no updates follow).
    Browse {
        target: String,
        #[serde(flatten)]
        browse: confab_proto::conference::Browse,
        snapshot: bool,
    },
    /// `/whois ROOM NICK`: the occupant's real JID, if the room tells it.
    Whois {
        room: String,
        nick: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        jid: Option<String>,
    },
    /// `/info ROOM` of a generic conferencing room: what its `get` says
    /// (`nick`, `secret`, `privacy`, `name`, `topic`; `id` and
    /// `current_nick` once we are in).
    ConferenceInfo {
        room: String,
        #[serde(flatten)]
        requirements: confab_proto::conference::Requirements,
    },
    /// The roster (`/roster`, `/contacts`): contacts with presence and
    /// current room, and the subscription requests waiting for an answer.
    Roster {
        contacts: Vec<super::ContactItem>,
        requests: Vec<super::RequestItem>,
    },
    /// A roster item was added, changed or removed (`subscription`
    /// `remove`) by a roster push.
    Contact(super::ContactItem),
    /// A contact's presence changed (the most available resource).
    Presence {
        from: String,
        show: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    /// A subscription presence: `subscribe` (answer with `/approve` or
    /// `/deny`), `subscribed`, `unsubscribe`, `unsubscribed`.
    Subscription {
        from: String,
        #[serde(rename = "type")]
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    /// A contact says which room they are in (XEP-0194); `room` is null
    /// when they left the room of item `item`.
    Chatting {
        from: String,
        item: String,
        room: Option<confab_proto::chatting::ChattingRoom>,
    },
    /// Whether one of our rooms is published to our contacts, and why not.
    ChattingPublish {
        room: String,
        published: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `/where CONTACT`: their presence and the room they are in (null:
    /// none known).
    Where {
        contact: String,
        presence: &'static str,
        room: Option<confab_proto::chatting::ChattingRoom>,
    },
    /// `/xmlconsole`: the stanza stream is (no longer) shown.
    XmlConsole {
        on: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
    },
    /// One element in (`in`) or out (`out`) of the stream while the XML
    /// console is on; secrets masked by the session (`session/xml.rs`),
    /// on one line. `at`: RFC 3339 time it passed.
    Xml {
        dir: &'static str,
        at: String,
        xml: String,
    },
    /// A visitor asks the moderators for voice (XEP-0045 §7.13).
    VoiceRequest {
        room: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jid: Option<String>,
    },
    /// A Jitsi focus has the conference ready (`/join --focus`): the room
    /// joined next (on the visitor node's MUC domain after a `vnode`
    /// redirect), the focus to trust, and the conference's properties.
    ConferenceReady {
        room: String,
        focus: Option<String>,
        vnode: Option<String>,
        properties: std::collections::BTreeMap<String, String>,
    },
    /// The focus answered `ready='false'`: request `attempt` (2, 3, …)
    /// goes out in `retry_in` seconds.
    ConferenceWaiting {
        room: String,
        focus: String,
        attempt: u32,
        retry_in: f64,
    },
    /// Our call changed state (`connecting`, `connected`, `ended`).
    Call {
        jid: String,
        state: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `/upload`: `started` (a slot is ours), `progress` (a few a
    /// second), `done` (with the `url` sent), `failed`, `cancelled`.
    Upload {
        to: BareJid,
        name: String,
        state: &'static str,
        bytes: u64,
        total: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// `/save`: `started`, `progress`, `done` (the file is at `path`),
    /// `failed`, `cancelled` (nothing is left at `path`).
    Download {
        url: String,
        path: String,
        state: &'static str,
        bytes: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    },
    /// A stream the conference forwards to us came or went.
    Stream {
        call: String,
        entity: String,
        state: &'static str,
    },
    /// The level (0–1) of a stream we receive, a few times a second.
    AudioLevel {
        entity: String,
        level: f32,
        speaking: bool,
    },
    /// Noise suppression started or stopped hearing our voice (with a
    /// hangover of 300 ms).
    Voice {
        speaking: bool,
    },
    /// `/record`: the recording `started` (the files so far: the mix) or
    /// `stopped` (every file written; also when the call ends).
    Recording {
        state: &'static str,
        dir: String,
        files: Vec<String>,
    },
    /// `/devices input|output SPEC` switched the microphone (`side`
    /// `input`) or the speaker (`output`) to `device` ("tone 880 Hz",
    /// "file:b.wav"); `next_call` when no call runs (the next one uses it).
    AudioDevice {
        side: &'static str,
        device: String,
        next_call: bool,
    },
}

impl Event {
    /// The event's name as in the JSON `"event"` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Connected { .. } => "connected",
            Event::Disconnected { .. } => "disconnected",
            Event::Reconnecting { .. } => "reconnecting",
            Event::Reconnected { .. } => "reconnected",
            Event::Resumed { .. } => "resumed",
            Event::Joined { .. } => "joined",
            Event::Occupant { .. } => "occupant",
            Event::Message { .. } => "message",
            Event::Subject { .. } => "subject",
            Event::ChatState { .. } => "chat-state",
            Event::Found { .. } => "found",
            Event::Exported { .. } => "exported",
            Event::Upload { .. } => "upload",
            Event::Download { .. } => "download",
            Event::Ignored { .. } => "ignored",
            Event::Left { .. } => "left",
            Event::History { .. } => "history",
            Event::WindowOpened { .. } => "window-opened",
            Event::WindowClosed { .. } => "window-closed",
            Event::Ok { .. } => "ok",
            Event::Error { .. } => "error",
            Event::Info { .. } => "info",
            Event::Omemo { .. } => "omemo",
            Event::Invitation(_) => "invitation",
            Event::Invitations { .. } => "invitations",
            Event::InvitationDeclined(_) => "invitation-declined",
            Event::Bookmarks { .. } => "bookmarks",
            Event::Correction { .. } => "correction",
            Event::Reactions { .. } => "reactions",
            Event::Retracted { .. } => "retracted",
            Event::Mam { .. } => "mam",
            Event::MamAccount { .. } => "mam-account",
            Event::Dropped { .. } | Event::StanzaDropped { .. } => "dropped",
            Event::RoomList { .. } => "room-list",
            Event::RoomSearch { .. } => "room-search",
            Event::RoomInfo { .. } => "room-info",
            Event::RoomForm { .. } => "room-form",
            Event::AdminList { .. } => "admin-list",
            Event::VoiceRequest { .. } => "voice-request",
            Event::Roster { .. } => "roster",
            Event::Contact(_) => "contact",
            Event::Presence { .. } => "presence",
            Event::Subscription { .. } => "subscription",
            Event::Chatting { .. } => "chatting",
            Event::ChattingPublish { .. } => "chatting-publish",
            Event::Where { .. } => "where",
            Event::Browse { .. } => "browse",
            Event::Whois { .. } => "whois",
            Event::ConferenceInfo { .. } => "conference-info",
            Event::ConferenceReady { .. } => "conference-ready",
            Event::ConferenceWaiting { .. } => "conference-waiting",
            Event::Call { .. } => "call",
            Event::Stream { .. } => "stream",
            Event::AudioLevel { .. } => "audio-level",
            Event::Voice { .. } => "voice",
            Event::Recording { .. } => "recording",
            Event::AudioDevice { .. } => "audio-device",
            Event::XmlConsole { .. } => "xml-console",
            Event::Xml { .. } => "xml",
        }
    }

    pub fn error(condition: &str, text: Option<String>) -> Event {
        Event::Error {
            command: None,
            room: None,
            condition: condition.to_string(),
            text,
            message_id: None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("events serialise")
    }
}

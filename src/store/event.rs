//! Events: what changed in the store (and results of commands). The TUI
//! marks itself dirty on them; `--batch` prints each as one JSON line.

use serde::Serialize;

use crate::protocol::muc::{Affiliation, Role};

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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Connected {
        jid: String,
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
    },
    Joined {
        room: String,
        nick: String,
        protocol: &'static str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        rejoined: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notices: Vec<String>,
    },
    Occupant {
        room: String,
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
    },
    Message {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<String>,
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
    },
    Subject {
        room: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        subject: String,
    },
    Left {
        room: String,
        kind: LeftKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        venue: Option<String>,
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
        room: Option<String>,
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
        room: String,
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
    /// A XEP-0313 catch-up of a room's archive finished: `count` messages
    /// were new (each came as a delayed `message` event).
    Mam {
        room: String,
        count: usize,
    },
    /// XEP-0410 self-ping found the room had silently dropped us; the
    /// session rejoins (a `joined` with `rejoined` follows).
    Dropped {
        room: String,
        condition: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// One page of a MUC service's room list (`/rooms`); `complete` on
    /// the last one.
    RoomList {
        service: String,
        /// 0 for the first page of a listing.
        page: usize,
        rooms: Vec<crate::protocol::rooms::RoomItem>,
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
        rooms: Vec<crate::protocol::rooms::RoomItem>,
        described: usize,
        not_described: usize,
    },
    /// A room's public information (`/info`).
    RoomInfo {
        room: String,
        #[serde(flatten)]
        info: crate::protocol::rooms::RoomInfo,
    },
    /// A room's configuration form (`/config ROOM`, `/create ROOM`);
    /// `purpose` is `config` or `create` (the new room stays locked until
    /// the form is submitted).
    RoomForm {
        room: String,
        purpose: &'static str,
        form: crate::protocol::rooms::Form,
    },
    /// A room's list of affiliations or roles (`/members`, `/moderators`, …).
    AdminList {
        room: String,
        /// `members`, `admins`, `owners`, `outcasts` or `moderators`.
        list: String,
        items: Vec<crate::protocol::admin::AdminItem>,
    },
    /// A visitor asks the moderators for voice (XEP-0045 §7.13).
    VoiceRequest {
        room: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        nick: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jid: Option<String>,
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
            Event::Joined { .. } => "joined",
            Event::Occupant { .. } => "occupant",
            Event::Message { .. } => "message",
            Event::Subject { .. } => "subject",
            Event::Left { .. } => "left",
            Event::History { .. } => "history",
            Event::Ok { .. } => "ok",
            Event::Error { .. } => "error",
            Event::Info { .. } => "info",
            Event::Invitation(_) => "invitation",
            Event::Invitations { .. } => "invitations",
            Event::InvitationDeclined(_) => "invitation-declined",
            Event::Bookmarks { .. } => "bookmarks",
            Event::Correction { .. } => "correction",
            Event::Mam { .. } => "mam",
            Event::Dropped { .. } => "dropped",
            Event::RoomList { .. } => "room-list",
            Event::RoomSearch { .. } => "room-search",
            Event::RoomInfo { .. } => "room-info",
            Event::RoomForm { .. } => "room-form",
            Event::AdminList { .. } => "admin-list",
            Event::VoiceRequest { .. } => "voice-request",
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

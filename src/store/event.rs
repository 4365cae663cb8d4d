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

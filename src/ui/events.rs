//! What the TUI makes of the store's events: unread counts and
//! highlights, rooms to follow, the status line, and the events of each
//! feature module (tables, prompts, forms). Above `state` and the feature
//! modules: it imports them, they do not import it.

use std::time::Instant;

use super::messages::highlights;
use super::notify::{Level, Notification};
use super::state::UiState;
use super::views::Overlay;
use super::{conference, contacts, invite, moderation, rooms};
use crate::store::{Event, Kind, Store};

impl UiState {
    /// Counts unread lines and highlights, follows rooms we joined here,
    /// and puts results in the status line.
    pub fn on_events(&mut self, store: &Store, events: &[Event]) {
        for e in events {
            // Invitations (prompts, tables) and bookmarks (table).
            invite::on_event(self, e);
            // A one-to-one call that rings: its prompt.
            super::call::on_event(self, e);
            // Browse, whois, conference info; a secret to type.
            conference::on_event(self, e);
            // Contacts view, subscription requests, /where.
            contacts::on_event(self, e);
            contacts::refresh(self, store, e);
            // /find's results; /export, /ignore said on the status line.
            super::find::on_event(self, e);
            // The XML console.
            super::xml_console::on_event(self, e);
            match e {
                Event::Message {
                    room,
                    from,
                    nick,
                    own,
                    private,
                    body,
                    delayed,
                    ..
                } => {
                    if *own {
                        continue;
                    }
                    let key = room
                        .as_ref()
                        .map(|r| r.as_str())
                        .or(from.as_deref())
                        .and_then(|j| jid::Jid::new(j).ok())
                        .map(|j| j.to_bare());
                    let Some(key) = key else { continue };
                    let own_nick = store.room(&key).map(|r| r.own_nick.clone());
                    let highlight = *private
                        || room.is_none()
                        || highlights(body, own_nick.as_deref(), &self.settings.highlight_words);
                    let looking = self.current.as_ref() == Some(&key);
                    let seq = store.window(&key).and_then(|w| {
                        w.messages()
                            .iter()
                            .rev()
                            .find(|m| m.kind == Kind::Chat)
                            .map(|m| m.seq)
                    });
                    if self.current.is_none() {
                        self.current = Some(key.clone());
                    }
                    let v = self.view_mut(&key);
                    if !looking || v.scroll > 0 {
                        v.unread += 1;
                        if highlight {
                            v.highlights += 1;
                        }
                        if v.unread_from.is_none() {
                            v.unread_from = seq;
                        }
                    }
                    if highlight && !looking {
                        self.bell = self.settings.bell;
                    }
                    // Live messages only: not what a catch-up brings.
                    let personal = *private || room.is_none();
                    let level = self.notifier.settings.level(&key);
                    let notify = !*delayed
                        && (personal
                            || level == Level::All
                            || (level == Level::Mentions && highlight));
                    if notify {
                        let who = nick.as_deref().or(from.as_deref()).unwrap_or("");
                        self.notifier.raise(
                            Notification {
                                kind: if personal { "message" } else { "highlight" },
                                window: key.to_string(),
                                from: who.to_string(),
                                text: body.clone(),
                            },
                            looking,
                            Instant::now(),
                        );
                    }
                }
                Event::Invitation(i) => self.notifier.raise(
                    Notification {
                        kind: "invitation",
                        window: i.room.clone(),
                        from: i.from.clone(),
                        text: match &i.reason {
                            Some(r) => format!("invites you to {}: {r}", i.room),
                            None => format!("invites you to {}", i.room),
                        },
                    },
                    false,
                    Instant::now(),
                ),
                Event::Stream {
                    call,
                    entity,
                    state: "added",
                } => self.notifier.raise(
                    Notification {
                        kind: "call",
                        window: call.clone(),
                        from: entity.clone(),
                        text: format!("speaks in {call}"),
                    },
                    false,
                    Instant::now(),
                ),
                Event::WindowOpened { jid, unread, .. } => self.window_opened(store, jid, *unread),
                Event::WindowClosed { jid } => {
                    self.views.remove(jid);
                    if self.current.as_ref() == Some(jid) {
                        self.current = None;
                        if let Some(w) = store.windows().next() {
                            self.switch_to(store, w.jid().clone());
                        }
                    }
                }
                Event::Joined { room, .. } => {
                    if let Some(pos) = self.follow.iter().position(|f| f == room) {
                        self.follow.remove(pos);
                        self.switch_to(store, room.clone());
                    } else if self.current.is_none() {
                        self.current = Some(room.clone());
                    }
                }
                Event::Error {
                    command,
                    condition,
                    text,
                    ..
                } => {
                    let mut s = String::new();
                    if let Some(c) = command {
                        s.push_str(c);
                        s.push_str(": ");
                    }
                    s.push_str(condition);
                    if let Some(t) = text {
                        s.push_str(&format!(" ({t})"));
                    }
                    if command.is_some() {
                        self.set_result(s, true);
                    } else {
                        self.set_status(s, true);
                    }
                }
                Event::Ok { command } => self.set_result(format!("{command}: ok"), false),
                Event::Upload {
                    name,
                    state,
                    bytes,
                    total,
                    ..
                } => self.set_status(
                    super::transfer::progress_line("upload", name, state, *bytes, Some(*total)),
                    false,
                ),
                Event::Download {
                    path,
                    state,
                    bytes,
                    total,
                    ..
                } => {
                    let name = std::path::Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    self.set_status(
                        super::transfer::progress_line("download", &name, state, *bytes, *total),
                        false,
                    )
                }
                Event::AudioDevice {
                    side,
                    device,
                    next_call,
                } => self.set_status(
                    format!(
                        "audio {side}{}: {device}",
                        if *next_call { " for the next call" } else { "" }
                    ),
                    false,
                ),
                Event::ConferenceWaiting {
                    room,
                    focus,
                    retry_in,
                    ..
                } => self.set_status(
                    format!(
                        "{room}: waiting for the focus {focus}; asking again in {retry_in:.1} s"
                    ),
                    false,
                ),
                Event::ConferenceReady { room, vnode, .. } => self.set_status(
                    match vnode {
                        Some(v) => {
                            format!("the focus redirects to visitor node {v}: joining {room}")
                        }
                        None => format!("{room}: conference ready, joining"),
                    },
                    false,
                ),
                Event::Omemo { text } => self.set_news(text.clone()),
                Event::Info { text } => {
                    self.overlay = Overlay::Help {
                        text: text.clone(),
                        scroll: 0,
                    }
                }
                Event::Disconnected { reason, retry_in } => self.set_status(
                    format!("disconnected: {reason}; retrying in {retry_in:.1} s"),
                    true,
                ),
                Event::Reconnecting { attempt } => {
                    self.set_status(format!("reconnecting (attempt {attempt})…"), true)
                }
                Event::Reconnected {
                    resume_refused: Some(why),
                    ..
                } => self.set_status(format!("reconnected (not resumed: {why})"), false),
                Event::Reconnected { .. } => self.set_news("reconnected"),
                Event::Resumed { .. } => self.set_news("resumed"),
                Event::Dropped { room, .. } => self.set_status(
                    format!("{room}: the room had dropped you; rejoining…"),
                    true,
                ),
                Event::StanzaDropped { text, .. } => self.set_status(text.clone(), true),
                // An incomplete one leaves its error on the status line.
                Event::Mam {
                    room,
                    count,
                    complete: true,
                } if *count > 0 => self.set_news(format!(
                    "{room}: {count} missed messages from the room's archive"
                )),
                Event::AdminList { room, list, items } => {
                    self.overlay = Overlay::Table(moderation::admin_table(room, *list, items));
                }
                Event::VoiceRequest { room, nick, .. } => {
                    moderation::ask_for_voice(&mut self.prompts, room, nick.as_deref())
                }
                Event::Occupant {
                    room, nick, role, ..
                } => moderation::voice_settled(&mut self.prompts, room.as_str(), nick, *role),
                Event::RoomList { .. }
                | Event::RoomSearch { .. }
                | Event::RoomInfo { .. }
                | Event::RoomForm { .. } => rooms::on_event(self, e),
                Event::Left {
                    room,
                    kind: crate::store::LeftKind::Destroyed,
                    reason,
                    venue,
                    ..
                } => rooms::destroyed(self, room.as_str(), reason.as_deref(), venue.as_deref()),
                Event::Left {
                    room,
                    kind,
                    reason,
                    actor,
                    ..
                } => self.set_status(
                    format!(
                        "{room}: {}{}{}",
                        match kind {
                            crate::store::LeftKind::Left => "left",
                            crate::store::LeftKind::Kicked => "you were kicked",
                            crate::store::LeftKind::Banned => "you were banned",
                            crate::store::LeftKind::Removed => "you were removed",
                            crate::store::LeftKind::Destroyed => "the room was destroyed",
                        },
                        actor
                            .as_deref()
                            .filter(|_| *kind != crate::store::LeftKind::Left)
                            .map(|a| format!(" by {a}"))
                            .unwrap_or_default(),
                        reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    ),
                    !matches!(kind, crate::store::LeftKind::Left),
                ),
                _ => {}
            }
        }
    }

    /// A one-to-one window opened (or came back at start): shown if we
    /// asked for it here, else its unread lines (every one a highlight)
    /// and the marker before the first.
    fn window_opened(&mut self, store: &Store, jid: &jid::BareJid, unread: usize) {
        // Opened by our `/msg JID TEXT` here: shown.
        if let Some(pos) = self.follow.iter().position(|f| f == jid) {
            self.follow.remove(pos);
            self.switch_to(store, jid.clone());
        }
        if self.current.as_ref() == Some(jid) {
            return;
        }
        let first = store
            .conversations
            .get(jid)
            .and_then(|c| c.nth_newest_of_others(unread));
        let v = self.view_mut(jid);
        v.unread = v.unread.max(unread);
        v.highlights = v.highlights.max(unread);
        v.unread_from = match (v.unread_from, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

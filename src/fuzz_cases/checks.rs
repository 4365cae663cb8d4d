//! The checks the harness makes after each case (besides "no panic").

use std::collections::HashMap;

use jid::{BareJid, Jid};
use minidom::Element;

use super::r#gen::{El, Node};
use crate::protocol::Incoming;
use crate::store::Store;

/// No raw C0/C1 control or bidi override (what `ui::sanitize` and
/// `batch::json_line` escape).
pub fn terminal_safe(s: &str) -> bool {
    !s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
    })
}

/// An answer serialised as the session writes it. (minidom's writer
/// panics on characters XML cannot hold, but the stream parser never lets
/// them in: the generator's C0 texts are for the display layers.)
pub fn written(el: &Element) {
    fn ok(e: &Element) -> bool {
        let good = |s: &str| {
            s.chars().all(|c| {
                matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
            })
        };
        e.attrs().into_iter().all(|(_, v)| good(v)) && e.texts().all(good) && e.children().all(ok)
    }
    if ok(el) {
        let _ = String::from(el);
    }
}

/// A Jingle description from the network written as SDP (what the media
/// task is given) is still SDP: one `x=` field a line, nothing injected;
/// and it reads back.
pub fn sdp_stays_sdp(payload: &Element) {
    use crate::protocol::jingle::{self, Role, sdp};
    if !payload.is("jingle", crate::protocol::ns::JINGLE) {
        return;
    }
    let Ok(j) = jingle::parse(payload) else {
        return;
    };
    for role in [Role::Initiator, Role::Responder] {
        let Ok(text) = sdp::to_sdp(&j.session, role) else {
            continue;
        };
        let body = text.strip_suffix("\r\n").unwrap_or(&text);
        for line in body.split("\r\n") {
            let b = line.as_bytes();
            assert!(
                b.len() >= 2 && b[0].is_ascii_lowercase() && b[1] == b'=',
                "not an SDP line: {line:?}"
            );
            assert!(
                !line.chars().any(char::is_control),
                "control in SDP: {line:?}"
            );
        }
        let _ = sdp::from_sdp(&text, role.other());
    }
}

/// A stanza speaks only for its sender: what it says about a room comes
/// from that room, a chat from its author.
pub fn speaks_for_sender(inc: &Incoming, from: Option<&Jid>) {
    let bare = from.map(|f| f.to_bare());
    let room = match inc {
        Incoming::MucPresence(p) => Some(&p.room),
        Incoming::MucPresenceError { room, .. } => Some(room),
        Incoming::RoomMessage(m) => Some(&m.room),
        Incoming::Subject { room, .. } => Some(room),
        Incoming::Correction(c) => Some(&c.room),
        Incoming::VoiceRequest(v) => Some(&v.room),
        Incoming::InvitationDeclined(d) => Some(&d.room),
        Incoming::Chatting(c) => Some(&c.from),
        Incoming::OmemoDevices(p) => Some(&p.from),
        Incoming::Subscription(s) => Some(&s.from),
        Incoming::Chat(c) => {
            assert_eq!(Some(&c.from), from, "a chat from someone else");
            None
        }
        _ => None,
    };
    if let Some(room) = room {
        assert_eq!(Some(room), bare.as_ref(), "{inc:?} from {from:?}");
    }
}

/// Store items (rooms, windows, occupants, lines, errors, invitations,
/// contacts, bookmarks) and the bytes of their texts.
pub fn weight(s: &Store) -> (usize, usize) {
    let mut items = s.windows().count() + s.errors.len();
    let mut bytes = 0;
    for w in s.windows() {
        items += w.messages().len();
        for m in w.messages().iter() {
            bytes += m.body.len() + m.nick.as_ref().map_or(0, |n| n.len()) + 32;
        }
        if let Some(r) = w.room() {
            items += r.occupants.len() + r.occupant_ids.len();
            bytes += r.subject.as_ref().map_or(0, |t| t.len());
            bytes += format!("{:?}", r.occupants).len();
        }
    }
    for e in &s.errors {
        bytes += e.error.text.as_ref().map_or(0, |t| t.len()) + e.error.condition.len();
    }
    let inv = s.invitations.pending();
    let contacts = s.contacts.items();
    let bookmarks = s.bookmarks.items();
    items += inv.len() + contacts.len() + bookmarks.len();
    bytes += format!("{inv:?}{contacts:?}{bookmarks:?}").len();
    (items, bytes)
}

/// Lines not our own, per window.
pub fn lines_by_window(s: &Store) -> HashMap<BareJid, usize> {
    s.windows()
        .map(|w| {
            (
                w.jid().clone(),
                w.messages().iter().filter(|m| !m.own).count(),
            )
        })
        .collect()
}

/// Elements' and texts' bytes in a tree.
pub fn size(e: &El) -> usize {
    e.name.len()
        + e.ns.len()
        + e.attrs
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
        + e.children
            .iter()
            .map(|c| match c {
                Node::El(c) => size(c),
                Node::Text(t) => t.len(),
            })
            .sum::<usize>()
}

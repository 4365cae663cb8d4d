//! Messages in the legacy service's rooms: broadcast to everyone from
//! the sender's temporary JID (conference) or `room/nick` (groupchat
//! 1.0), relayed to one participant when sent to theirs; the message id
//! kept or rewritten as [`Ids`] says.

use minidom::Element;

use super::{Ids, Legacy, NS, Room, bounce, readdress, stanza};
use confab_proto::nc;

impl Legacy {
    pub(super) fn on_message(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        res: Option<String>,
    ) -> Vec<Element> {
        if el.attr("type") == Some("error") {
            return Vec::new();
        }
        let room = self.room_jid(node);
        let subject = el
            .get_child("subject", NS)
            .map(|s| s.text())
            .filter(|_| res.is_none());
        match (self.rooms.get_mut(node), res) {
            (Some(Room::Conf(c)), None) => {
                let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                    return vec![bounce(el, "not-acceptable", "you are not in the room")];
                };
                let tmp = format!("{room}/{}", sender.id);
                if let Some(s) = subject {
                    c.topic = Some(s).filter(|s| !s.is_empty());
                }
                let to: Vec<String> = c.participants.iter().map(|q| q.real.clone()).collect();
                self.broadcast(el, &tmp, &to)
            }
            (Some(Room::Gc(g)), None) => {
                let Some(sender) = g.occupants.iter().find(|o| o.real == from) else {
                    return vec![bounce(el, "not-acceptable", "you are not in the room")];
                };
                let at = format!("{room}/{}", sender.nick);
                if let Some(s) = subject {
                    g.topic = Some(s).filter(|s| !s.is_empty());
                }
                let to: Vec<String> = g.occupants.iter().map(|o| o.real.clone()).collect();
                self.broadcast(el, &at, &to)
            }
            (Some(Room::Conf(c)), Some(res)) => {
                let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                    return vec![bounce(el, "not-acceptable", "you are not in the room")];
                };
                let Some(target) = c.participants.iter().find(|p| p.id == res) else {
                    return vec![bounce(el, "item-not-found", "no such participant")];
                };
                // Messages are relayed even to those who asked for privacy.
                vec![readdress(
                    el,
                    &format!("{room}/{}", sender.id),
                    &target.real,
                )]
            }
            (Some(Room::Gc(g)), Some(res)) => {
                let Some(sender) = g.occupants.iter().find(|o| o.real == from) else {
                    return vec![bounce(el, "not-acceptable", "you are not in the room")];
                };
                let Some(target) = g.occupants.iter().find(|o| o.nick == res) else {
                    return vec![bounce(el, "item-not-found", "no such occupant")];
                };
                vec![readdress(
                    el,
                    &format!("{room}/{}", sender.nick),
                    &target.real,
                )]
            }
            (None, _) => vec![bounce(el, "item-not-found", "no such room")],
        }
    }

    /// One message to the whole room, from `from`, with the id the
    /// service's [`Ids`] make of it.
    fn broadcast(&mut self, el: &Element, from: &str, to: &[String]) -> Vec<Element> {
        let bare = match self.opts.ids {
            Ids::Keep => return to.iter().map(|t| readdress(el, from, t)).collect(),
            Ids::Rewrite => false,
            Ids::RewriteBare => true,
        };
        let kept: Vec<&Element> = el
            .children()
            .filter(|c| {
                !bare || (c.ns() == NS && ["body", "subject", "thread"].contains(&c.name()))
            })
            .collect();
        self.next += 1;
        let id = format!("legacy-msg-{}", self.next);
        to.iter()
            .map(|t| {
                let mut b = stanza("message")
                    .attr(nc("from"), from)
                    .attr(nc("to"), t.as_str())
                    .attr(nc("id"), id.as_str());
                if let Some(ty) = el.attr("type") {
                    b = b.attr(nc("type"), ty);
                }
                b.append_all(kept.iter().map(|c| (*c).clone())).build()
            })
            .collect()
    }
}

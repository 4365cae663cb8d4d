//! Presence in the legacy service's rooms: watchers and participants of
//! conference rooms (presence to the bare room, then broadcast from the
//! temporary JID), and groupchat 1.0 occupants (presence to `room/nick`).

use minidom::Element;

use super::super::component::stanza;
use super::{GcOccupant, GcRoom, Legacy, Room, bounce, presence, readdress, unavailable};
use confab_proto::{nc, ns};

impl Legacy {
    pub(super) fn on_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        res: Option<String>,
    ) -> Vec<Element> {
        let type_ = el.attr("type").unwrap_or_default();
        let gone = matches!(type_, "unavailable" | "error");
        if !gone && !type_.is_empty() {
            // probe, subscribe…: not for rooms.
            return Vec::new();
        }
        let children: Vec<Element> = el.children().cloned().collect();
        match res {
            None => self.conf_presence(el, from, node, gone, children),
            Some(nick) => self.gc_presence(el, from, node, &nick, gone, children),
        }
    }

    fn conf_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        gone: bool,
        children: Vec<Element>,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        let Some(Room::Conf(c)) = self.rooms.get(node) else {
            if let Some(Room::Gc(_)) = self.rooms.get(node) {
                // Leaving a groupchat 1.0 room by its bare JID.
                if gone {
                    return self.gc_leave(from, node);
                }
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room wants presence to room/nick",
                )];
            }
            // A room that may be created by the set: remember the sender.
            if gone {
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
            } else {
                self.watchers
                    .entry(node.to_string())
                    .or_default()
                    .insert(from.to_string(), children);
            }
            return Vec::new();
        };
        let mut c = c.clone();
        let Some(i) = c.participants.iter().position(|p| p.real == from) else {
            if gone {
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
            } else {
                self.watchers
                    .entry(node.to_string())
                    .or_default()
                    .insert(from.to_string(), children);
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        if gone {
            let p = c.participants.remove(i);
            let tmp = format!("{room}/{}", p.id);
            for q in &c.participants {
                out.push(unavailable(&tmp, &q.real));
            }
            out.extend(self.pushes(node, &c));
        } else {
            c.participants[i].presence = children;
            let p = &c.participants[i];
            let tmp = format!("{room}/{}", p.id);
            for q in &c.participants {
                out.push(presence(&tmp, &q.real, &p.presence));
            }
        }
        self.rooms.insert(node.to_string(), Room::Conf(c));
        out
    }

    fn gc_leave(&mut self, from: &str, node: &str) -> Vec<Element> {
        let room = self.room_jid(node);
        let Some(Room::Gc(g)) = self.rooms.get_mut(node) else {
            return Vec::new();
        };
        let Some(i) = g.occupants.iter().position(|o| o.real == from) else {
            return Vec::new();
        };
        let o = g.occupants.remove(i);
        let me = format!("{room}/{}", o.nick);
        let mut out = vec![unavailable(&me, &o.real)];
        for q in &g.occupants {
            out.push(unavailable(&me, &q.real));
        }
        out
    }

    fn gc_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        nick: &str,
        gone: bool,
        children: Vec<Element>,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => {
                if let Some(target) = c.participants.iter().find(|p| p.id == nick) {
                    // Directed presence to a participant: relayed, unless
                    // they asked for privacy (only messages then).
                    let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                        return if gone {
                            Vec::new()
                        } else {
                            vec![bounce(el, "not-acceptable", "you are not in the room")]
                        };
                    };
                    if target.private {
                        return if gone {
                            Vec::new()
                        } else {
                            vec![bounce(
                                el,
                                "not-allowed",
                                "this participant receives only messages",
                            )]
                        };
                    }
                    return vec![readdress(
                        el,
                        &format!("{room}/{}", sender.id),
                        &target.real,
                    )];
                }
                if gone {
                    return self.conf_presence(el, from, node, true, children);
                }
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room speaks jabber:iq:conference: send presence to the room, then a set",
                )];
            }
            Some(Room::Gc(_)) => {}
            None if gone => return Vec::new(),
            None if self.opts.create_rooms => {
                self.rooms.insert(
                    node.to_string(),
                    Room::Gc(GcRoom {
                        topic: None,
                        occupants: Vec::new(),
                    }),
                );
            }
            None => return vec![bounce(el, "item-not-found", "no such room")],
        }
        if gone {
            return self.gc_leave(from, node);
        }
        let Some(Room::Gc(g)) = self.rooms.get_mut(node) else {
            unreachable!()
        };
        if g.occupants.iter().any(|o| o.nick == nick && o.real != from) {
            return vec![bounce(el, "conflict", "that nick is taken")];
        }
        let new_at = format!("{room}/{nick}");
        let mut out = Vec::new();
        match g.occupants.iter().position(|o| o.real == from) {
            Some(i) if g.occupants[i].nick == nick => {
                g.occupants[i].presence = children;
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &g.occupants[i].presence));
                }
            }
            Some(i) => {
                // A nick change: unavailable from the old nick, then
                // available from the new one.
                let old_at = format!("{room}/{}", g.occupants[i].nick);
                g.occupants[i].nick = nick.to_string();
                g.occupants[i].presence = children;
                for q in &g.occupants {
                    out.push(unavailable(&old_at, &q.real));
                }
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &g.occupants[i].presence));
                }
            }
            None => {
                // Entering: the others' presence, then ours to everyone
                // (to us last), then the topic.
                for q in &g.occupants {
                    out.push(presence(&format!("{room}/{}", q.nick), from, &q.presence));
                }
                let children: Vec<Element> =
                    children.into_iter().filter(|c| c.ns() != ns::MUC).collect();
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &children));
                }
                out.push(presence(&new_at, from, &children));
                g.occupants.push(GcOccupant {
                    real: from.to_string(),
                    nick: nick.to_string(),
                    presence: children,
                });
                if let Some(t) = &g.topic {
                    out.push(
                        stanza("message")
                            .attr(nc("from"), room.as_str())
                            .attr(nc("to"), from)
                            .attr(nc("type"), "groupchat")
                            .append(stanza("subject").append(t.as_str()).build())
                            .build(),
                    );
                }
            }
        }
        out
    }
}

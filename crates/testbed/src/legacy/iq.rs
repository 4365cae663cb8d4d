//! IQs to the legacy service: browse of the service, its rooms and
//! temporary JIDs, the conference `get` and `set` (entering a room), the
//! browse pushes of the participant list, and IQs relayed to a
//! participant.

use minidom::Element;

use super::super::component::{iq_result, stanza};
use super::{ConfRoom, Legacy, Participant, Room, bounce, node_of, presence, readdress, splitmix};
use confab_proto::conference::{self, BROWSE, BrowseItem, CONFERENCE};
use confab_proto::{nc, ns};

/// The XEP-0030 namespace (answered with an error: this service predates
/// service discovery).
const DISCO_INFO: &str = ns::DISCO_INFO;

impl Legacy {
    pub(super) fn on_iq(
        &mut self,
        el: &Element,
        from: &str,
        node: Option<String>,
        res: Option<String>,
    ) -> Vec<Element> {
        let type_ = el.attr("type").unwrap_or_default();
        let request = matches!(type_, "get" | "set");
        let payload = el.children().next();
        let pns = payload.map(|p| p.ns()).unwrap_or_default();
        match (node, res) {
            (None, _) => {
                if !request {
                    return Vec::new();
                }
                if type_ == "get" && pns == BROWSE {
                    return vec![iq_result(el, Some(self.service_browse()))];
                }
                vec![bounce(el, "service-unavailable", "")]
            }
            (Some(node), None) => {
                if !request {
                    // Answers to our pushes.
                    return Vec::new();
                }
                match (pns.as_str(), type_) {
                    (CONFERENCE, "get") => self.conference_get(el, from, &node),
                    (CONFERENCE, "set") => self.conference_set(el, from, &node),
                    (BROWSE, "get") => self.room_browse(el, &node),
                    (DISCO_INFO, _) => vec![bounce(el, "service-unavailable", "")],
                    _ => vec![bounce(el, "service-unavailable", "")],
                }
            }
            (Some(node), Some(res)) => self.iq_to_occupant(el, from, &node, &res, request, &pns),
        }
    }

    fn service_browse(&self) -> Element {
        let mut rooms: Vec<BrowseItem> = self
            .rooms
            .iter()
            .filter_map(|(node, r)| match r {
                Room::Conf(c) if c.public => Some(BrowseItem {
                    category: "conference".into(),
                    jid: Some(self.room_jid(node)),
                    name: c.name.clone(),
                    type_: Some("public".into()),
                }),
                _ => None,
            })
            .collect();
        rooms.sort_by(|a, b| a.jid.cmp(&b.jid));
        conference::browse_element(
            &BrowseItem {
                category: "service".into(),
                jid: Some(self.opts.jid.clone()),
                name: Some("Legacy conferencing".into()),
                type_: Some("conference".into()),
            },
            &rooms,
            &[CONFERENCE, BROWSE],
        )
    }

    /// The browse view of a conference room; participants only when public
    /// (or `all`: the pushes to participants).
    fn conf_browse(&self, node: &str, c: &ConfRoom, all: bool) -> Element {
        let room = self.room_jid(node);
        let users: Vec<BrowseItem> = if c.public || all {
            c.participants
                .iter()
                .map(|p| BrowseItem {
                    category: "user".into(),
                    jid: Some(format!("{room}/{}", p.id)),
                    name: Some(p.nick.clone()),
                    type_: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        conference::browse_element(
            &BrowseItem {
                category: "conference".into(),
                jid: Some(room),
                name: c.name.clone(),
                type_: Some(if c.public { "public" } else { "private" }.into()),
            },
            &users,
            &[],
        )
    }

    fn room_browse(&self, el: &Element, node: &str) -> Vec<Element> {
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => vec![iq_result(el, Some(self.conf_browse(node, c, false)))],
            Some(Room::Gc(_)) => vec![bounce(el, "service-unavailable", "")],
            None => vec![bounce(el, "item-not-found", "no such room")],
        }
    }

    fn entered(&self, node: &str, p: &Participant) -> Element {
        Element::builder("query", CONFERENCE)
            .append(
                Element::builder("id", CONFERENCE)
                    .append(format!("{}/{}", self.room_jid(node), p.id))
                    .build(),
            )
            .append(
                Element::builder("nick", CONFERENCE)
                    .append(p.nick.as_str())
                    .build(),
            )
            .build()
    }

    fn conference_get(&self, el: &Element, from: &str, node: &str) -> Vec<Element> {
        let c = match self.rooms.get(node) {
            Some(Room::Conf(c)) => c,
            Some(Room::Gc(_)) => return vec![bounce(el, "service-unavailable", "")],
            None if self.opts.create_rooms => {
                return vec![bounce(
                    el,
                    "item-not-found",
                    "no such room (a set creates it)",
                )];
            }
            None => {
                return vec![bounce(
                    el,
                    "not-allowed",
                    "this service does not create rooms",
                )];
            }
        };
        if let Some(p) = c.participants.iter().find(|p| p.real == from) {
            return vec![iq_result(el, Some(self.entered(node, p)))];
        }
        let mut q = Element::builder("query", CONFERENCE)
            .append(Element::builder("nick", CONFERENCE).build());
        if c.secret.is_some() {
            q = q.append(Element::builder("secret", CONFERENCE).build());
        }
        if c.privacy {
            q = q.append(Element::builder("privacy", CONFERENCE).build());
        }
        if let Some(n) = &c.name {
            q = q.append(
                Element::builder("name", CONFERENCE)
                    .append(n.as_str())
                    .build(),
            );
        }
        if let Some(t) = &c.topic {
            q = q.append(
                Element::builder("topic", CONFERENCE)
                    .append(t.as_str())
                    .build(),
            );
        }
        vec![iq_result(el, Some(q.build()))]
    }

    fn new_id(&mut self, c: &ConfRoom) -> String {
        loop {
            self.next += 1;
            let id = format!("{:08x}", splitmix(self.next) as u32);
            if !c.participants.iter().any(|p| p.id == id) {
                return id;
            }
        }
    }

    fn conference_set(&mut self, el: &Element, from: &str, node: &str) -> Vec<Element> {
        let q = el.children().next().expect("the payload was looked at");
        let mut secret = None;
        let mut nicks = Vec::new();
        let mut privacy = false;
        let mut name = None;
        for c in q.children().filter(|c| c.ns() == CONFERENCE) {
            match c.name() {
                "secret" => secret = Some(c.text()),
                "nick" => {
                    let n = c.text().trim().to_string();
                    if !n.is_empty() {
                        nicks.push(n);
                    }
                }
                "privacy" => privacy = true,
                "name" => name = Some(c.text()).filter(|n| !n.trim().is_empty()),
                _ => {}
            }
        }
        let creating = match self.rooms.get(node) {
            Some(Room::Gc(_)) => return vec![bounce(el, "service-unavailable", "")],
            Some(Room::Conf(_)) => false,
            None if self.opts.create_rooms => true,
            None => {
                return vec![bounce(
                    el,
                    "not-allowed",
                    "this service does not create rooms",
                )];
            }
        };
        let watched = self.watchers.get(node).and_then(|w| w.get(from)).cloned();
        if creating {
            if watched.is_none() {
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "send presence to the room before the set",
                )];
            }
            self.rooms.insert(
                node.to_string(),
                Room::Conf(ConfRoom {
                    name,
                    public: true,
                    secret: secret.clone().filter(|s| !s.is_empty()),
                    topic: None,
                    // The creator's <privacy/> lets the room offer it.
                    privacy,
                    participants: Vec::new(),
                }),
            );
        }
        let Some(Room::Conf(c)) = self.rooms.get(node) else {
            unreachable!()
        };
        let mut c = c.clone();
        let me = c.participants.iter().position(|p| p.real == from);
        if me.is_none() {
            // Entering: the secret first, then the rest.
            if let Some(s) = &c.secret
                && secret.as_deref() != Some(s.as_str())
            {
                return vec![bounce(el, "not-authorized", "wrong or missing secret")];
            }
            if privacy && !c.privacy {
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room does not offer privacy",
                )];
            }
        }
        let taken =
            |n: &str, c: &ConfRoom| c.participants.iter().any(|p| p.nick == n && p.real != from);
        if nicks.is_empty() {
            match me {
                // A set without nick from a participant changes nothing.
                Some(i) => nicks.push(c.participants[i].nick.clone()),
                None => {
                    // The server determines the nick.
                    let base = node_of(from).to_string();
                    let mut n = base.clone();
                    let mut k = 1;
                    while taken(&n, &c) {
                        k += 1;
                        n = format!("{base}{k}");
                    }
                    nicks.push(n);
                }
            }
        }
        let Some(nick) = nicks.iter().find(|n| !taken(n, &c)).cloned() else {
            return vec![bounce(el, "conflict", "every nick given is taken")];
        };
        let mut out = Vec::new();
        let room = self.room_jid(node);
        match me {
            Some(i) => {
                // A nick change.
                c.participants[i].nick = nick;
                out.push(iq_result(el, Some(self.entered(node, &c.participants[i]))));
            }
            None => {
                let Some(initial) = watched else {
                    return vec![bounce(
                        el,
                        "not-acceptable",
                        "send presence to the room before the set",
                    )];
                };
                let id = self.new_id(&c);
                let p = Participant {
                    real: from.to_string(),
                    id,
                    nick,
                    private: privacy,
                    presence: initial,
                };
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
                out.push(iq_result(el, Some(self.entered(node, &p))));
                c.participants.push(p.clone());
                // The pushes, then presence: the newcomer's to everyone,
                // everyone else's to the newcomer.
                out.extend(self.pushes(node, &c));
                let from_tmp = format!("{room}/{}", p.id);
                for q in &c.participants {
                    out.push(presence(&from_tmp, &q.real, &p.presence));
                    if q.real != p.real {
                        out.push(presence(&format!("{room}/{}", q.id), &p.real, &q.presence));
                    }
                }
                if let Some(t) = &c.topic {
                    out.push(
                        stanza("message")
                            .attr(nc("from"), room.as_str())
                            .attr(nc("to"), from)
                            .attr(nc("type"), "groupchat")
                            .append(stanza("subject").append(t.as_str()).build())
                            .build(),
                    );
                }
                self.rooms.insert(node.to_string(), Room::Conf(c));
                return out;
            }
        }
        out.extend(self.pushes(node, &c));
        self.rooms.insert(node.to_string(), Room::Conf(c));
        out
    }

    /// The browse push of the participant list to every participant.
    pub(super) fn pushes(&mut self, node: &str, c: &ConfRoom) -> Vec<Element> {
        let list = self.conf_browse(node, c, true);
        let room = self.room_jid(node);
        let mut out = Vec::new();
        for p in &c.participants {
            self.next += 1;
            out.push(
                stanza("iq")
                    .attr(nc("type"), "set")
                    .attr(nc("from"), room.as_str())
                    .attr(nc("to"), p.real.as_str())
                    .attr(nc("id"), format!("legacy-push-{}", self.next))
                    .append(list.clone())
                    .build(),
            );
        }
        out
    }

    fn iq_to_occupant(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        res: &str,
        request: bool,
        pns: &str,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => {
                let Some(target) = c.participants.iter().find(|p| p.id == res) else {
                    return if request {
                        vec![bounce(el, "item-not-found", "no such participant")]
                    } else {
                        Vec::new()
                    };
                };
                if request && pns == BROWSE && el.attr("type") == Some("get") {
                    let jid = if target.private {
                        format!("{room}/{}", target.id)
                    } else {
                        target.real.clone()
                    };
                    let user = conference::browse_element(
                        &BrowseItem {
                            category: "user".into(),
                            jid: Some(jid),
                            name: Some(target.nick.clone()),
                            type_: None,
                        },
                        &[],
                        &[],
                    );
                    return vec![iq_result(el, Some(user))];
                }
                let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                    return if request {
                        vec![bounce(el, "not-acceptable", "you are not in the room")]
                    } else {
                        Vec::new()
                    };
                };
                if target.private {
                    return if request {
                        vec![bounce(
                            el,
                            "not-allowed",
                            "this participant receives only messages",
                        )]
                    } else {
                        Vec::new()
                    };
                }
                vec![readdress(
                    el,
                    &format!("{room}/{}", sender.id),
                    &target.real,
                )]
            }
            Some(Room::Gc(g)) => {
                let Some(target) = g.occupants.iter().find(|o| o.nick == res) else {
                    return if request {
                        vec![bounce(el, "item-not-found", "no such occupant")]
                    } else {
                        Vec::new()
                    };
                };
                if request && target.real == from && pns == ns::PING {
                    // XEP-0410 self-ping: still in the room.
                    return vec![iq_result(el, None)];
                }
                match g.occupants.iter().find(|o| o.real == from) {
                    Some(sender) => {
                        vec![readdress(
                            el,
                            &format!("{room}/{}", sender.nick),
                            &target.real,
                        )]
                    }
                    None if request => {
                        vec![bounce(el, "not-acceptable", "you are not in the room")]
                    }
                    None => Vec::new(),
                }
            }
            None if request => vec![bounce(el, "item-not-found", "no such room")],
            None => Vec::new(),
        }
    }
}

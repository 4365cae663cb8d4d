//! What the SFU says about itself: disco#info of the service and its
//! rooms (the A/V conference identity and the Jingle features), and
//! disco#items (the rooms with participants, the ad-hoc command).

use minidom::Element;

use super::super::component::iq_result;
use super::{DISCO_ITEMS, Sfu, iq_error, room_parts};
use confab_proto::{nc, ns};

fn feature(var: &str) -> Element {
    Element::builder("feature", ns::DISCO_INFO)
        .attr(nc("var"), var)
        .build()
}

/// Every Jingle feature the conference rooms speak.
const ROOM_FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    DISCO_ITEMS,
    ns::COMMANDS,
    ns::JINGLE,
    ns::JINGLE_RTP,
    ns::JINGLE_RTP_AUDIO,
    ns::JINGLE_ICE_UDP,
    ns::JINGLE_DTLS,
    ns::JINGLE_GROUPING,
    ns::COIN,
    ns::JINGLE_AV_CONFERENCES,
];

impl Sfu {
    pub(super) fn disco_info(&self, el: &Element, to: &str, node: Option<&str>) -> Element {
        let (name, features): (String, &[&str]) = match room_parts(to) {
            Some((n, d)) if d == self.opts.jid => (n.to_string(), ROOM_FEATURES),
            None if to == self.opts.jid => (
                "confab testbed SFU".to_string(),
                &[
                    ns::DISCO_INFO,
                    DISCO_ITEMS,
                    ns::JINGLE,
                    ns::JINGLE_AV_CONFERENCES,
                ],
            ),
            _ => return iq_error(el, "item-not-found", "", None),
        };
        if node.is_some_and(|n| n != ns::COMMANDS) {
            return iq_error(el, "item-not-found", "no such node", None);
        }
        let mut q = Element::builder("query", ns::DISCO_INFO).append(
            Element::builder("identity", ns::DISCO_INFO)
                .attr(nc("category"), "conference")
                .attr(nc("type"), "audio-video")
                .attr(nc("name"), name)
                .build(),
        );
        if let Some(n) = node {
            q = q.attr(nc("node"), n);
        }
        let q = q.append_all(features.iter().map(|f| feature(f))).build();
        iq_result(el, Some(q))
    }

    pub(super) fn disco_items(&self, el: &Element, to: &str, node: Option<&str>) -> Element {
        let mut q = Element::builder("query", DISCO_ITEMS);
        if let Some(n) = node {
            q = q.attr(nc("node"), n);
        }
        let item = |jid: &str, node: Option<&str>, name: &str| {
            let mut b = Element::builder("item", DISCO_ITEMS)
                .attr(nc("jid"), jid)
                .attr(nc("name"), name);
            if let Some(n) = node {
                b = b.attr(nc("node"), n);
            }
            b.build()
        };
        match (room_parts(to), node) {
            (Some((_, d)), Some(ns::COMMANDS)) if d == self.opts.jid => {
                q = q.append(item(
                    to,
                    Some(ns::AV_CONFERENCES_CONFIG),
                    "Configure the conference",
                ));
            }
            (Some((_, d)), None) if d == self.opts.jid => {}
            (None, None) if to == self.opts.jid => {
                for (room, r) in self.rooms.active() {
                    let n = r.participants.len();
                    let name =
                        format!("{} ({n} in the call)", room_parts(room).map_or("", |p| p.0));
                    q = q.append(item(room, None, &name));
                }
            }
            _ => return iq_error(el, "item-not-found", "", None),
        }
        iq_result(el, Some(q.build()))
    }
}

//! The generator's parts: a seeded PRNG, a small XML tree that is easy to
//! mutate, hostile values, and the mutations themselves.

use minidom::Element;

/// SplitMix64, or bytes from a fuzzer: the same seed gives the same cases
/// on every machine and every version of every crate (no `rand`, whose
/// small generators promise no such thing).
pub enum Rng {
    Seeded(u64),
    /// Driven by a fuzzer's input (the `structured` cargo-fuzz target):
    /// each draw takes the next 8 bytes; once they run out, SplitMix64
    /// seeded by a hash of them (short inputs still reach deep cases).
    Bytes(Vec<u8>, usize, u64),
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng::Seeded(seed)
    }

    pub fn from_bytes(data: &[u8]) -> Rng {
        let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        Rng::Bytes(data.to_vec(), 0, hash)
    }

    pub fn next_u64(&mut self) -> u64 {
        match self {
            Rng::Seeded(s) => splitmix(s),
            Rng::Bytes(data, pos, state) => {
                if *pos >= data.len() {
                    return splitmix(state);
                }
                let mut b = [0u8; 8];
                for x in b.iter_mut() {
                    if let Some(v) = data.get(*pos) {
                        *x = *v;
                        *pos += 1;
                    }
                }
                u64::from_le_bytes(b)
            }
        }
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True `pct` times out of 100.
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// An XML node of the generator (attributes in order, names free-form;
/// turned into a minidom [`Element`] at the end).
#[derive(Debug, Clone)]
pub enum Node {
    El(El),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct El {
    pub name: String,
    pub ns: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl El {
    pub fn new(name: &str, ns: &str) -> El {
        El {
            name: name.into(),
            ns: ns.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn from_element(e: &Element) -> El {
        El {
            name: e.name().into(),
            ns: e.ns(),
            attrs: e
                .attrs()
                .into_iter()
                .map(|((_, k), v)| (k.to_string(), v.to_string()))
                .collect(),
            children: e
                .nodes()
                .map(|n| match n {
                    minidom::Node::Element(c) => Node::El(El::from_element(c)),
                    minidom::Node::Text(t) => Node::Text(t.clone()),
                })
                .collect(),
        }
    }

    /// The minidom element (attributes whose names are no NCName are left
    /// out: minidom cannot hold them; the byte-level fuzz target covers them).
    pub fn to_element(&self) -> Element {
        let mut b = Element::builder(&self.name, self.ns.clone());
        for (k, v) in &self.attrs {
            if let Ok(n) = minidom::rxml::NcName::try_from(k.as_str()) {
                b = b.attr(n, v.as_str());
            }
        }
        for c in &self.children {
            b = match c {
                Node::El(e) => b.append(e.to_element()),
                Node::Text(t) => b.append(t.as_str()),
            };
        }
        b.build()
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, name: &str, value: String) {
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.attrs.push((name.into(), value)),
        }
    }

    /// Elements in this tree (itself included).
    pub fn count(&self) -> usize {
        1 + self
            .children
            .iter()
            .map(|c| match c {
                Node::El(e) => e.count(),
                Node::Text(_) => 0,
            })
            .sum::<usize>()
    }

    pub fn depth(&self) -> usize {
        1 + self
            .children
            .iter()
            .map(|c| match c {
                Node::El(e) => e.depth(),
                Node::Text(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// The `n`th element in document order (0 is this one).
    pub fn nth_mut(&mut self, n: usize) -> Option<&mut El> {
        let mut n = n;
        self.nth_inner(&mut n)
    }

    fn nth_inner(&mut self, n: &mut usize) -> Option<&mut El> {
        if *n == 0 {
            return Some(self);
        }
        *n -= 1;
        for c in self.children.iter_mut() {
            if let Node::El(c) = c
                && let Some(found) = c.nth_inner(n)
            {
                return Some(found);
            }
        }
        None
    }
}

/// Pieces of hostile text: terminal escapes, C1, bidi, zero-width, line
/// separators, tag characters, combining floods, wide and joined glyphs,
/// JSON and XML look-alikes.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "\u{1b}[2J\u{1b}[H",
    "\u{1b}]0;owned\u{7}",
    "\u{1b}]52;c;cGF5bG9hZA==\u{7}",
    "\u{9b}31m",
    "\u{85}\u{8d}\u{9d}",
    "\u{7f}",
    "\r\n",
    "\t",
    "\0",
    "\u{202e}gnp.exe",
    "\u{2066}\u{2067}\u{2068}\u{2069}",
    "\u{200e}\u{200f}\u{61c}",
    "ad\u{200b}min",
    "\u{200d}\u{2060}\u{feff}\u{ad}",
    "\u{2028}\u{2029}",
    "\u{e0041}\u{e007f}",
    "e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}",
    "日本語の部屋",
    "👩‍👩‍👧‍👦🏳️‍🌈",
    "\"}\n{\"event\":\"forged\"}",
    "</body><body>",
    "%s%n%x{}",
    "alice",
    "bob",
    "/me waves",
    "coven@conference.localhost",
    "-1",
    "18446744073709551616",
    "NaN",
    "\u{fffd}",
    "ﷺ",
    "𒐫",
];

pub fn hostile_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(3) {
        match rng.below(12) {
            // Long: a line, a word with no break, many lines.
            0 => s.push_str(&"a".repeat(1 + rng.below(5000))),
            1 => s.push_str(&"寛".repeat(1 + rng.below(2000))),
            2 => s.push_str(&"x\n".repeat(1 + rng.below(300))),
            3 => s.push_str(&"e\u{301}".repeat(1 + rng.below(500))),
            // Rarely, really huge.
            4 if rng.chance(5) => s.push_str(&"w ".repeat(100_000)),
            _ => s.push_str(rng.pick::<&str>(HOSTILE)),
        }
    }
    s
}

/// A value for a JID-valued attribute: one of the world's (so it gets past
/// the checks on who may say what), or a broken or look-alike one.
pub fn jid_value(rng: &mut Rng, world: &[&str]) -> String {
    if rng.chance(60) {
        return rng.pick(world).to_string();
    }
    let base = rng.pick(world).to_string();
    match rng.below(14) {
        0 => String::new(),
        1 => "@".into(),
        2 => "room@".into(),
        3 => "@conference.localhost".into(),
        4 => "a@b@c/d".into(),
        5 => format!("{}@localhost", "x".repeat(1 + rng.below(3000))),
        6 => format!("{base}/{}", hostile_text(rng)),
        7 => base.to_uppercase(),
        8 => "ҫoven@conference.localhost/bob".into(),
        9 => "[::1]".into(),
        10 => format!("{base}/"),
        11 => "localhost".into(),
        12 => format!("{}/{}", base, "r".repeat(1100)),
        _ => hostile_text(rng),
    }
}

pub fn stamp_value(rng: &mut Rng) -> String {
    rng.pick(&[
        "2026-11-20T23:58:00Z",
        "2026-11-20T23:58:00.123456+02:00",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "+262142-12-31T23:59:59Z",
        "-262143-01-01T00:00:00Z",
        "2026-13-45T99:99:99Z",
        "2026-02-30T00:00:00Z",
        "2026-11-20T23:58:60Z",
        "2026-11-20T23:58:00+23:59",
        "2026-11-20T23:58:00-23:59",
        "2026-11-20T23:58:00.99999999999999999999Z",
        "20261120T235800Z",
        "yesterday",
        "",
    ])
    .to_string()
}

pub fn number_value(rng: &mut Rng) -> String {
    rng.pick(&[
        "0",
        "1",
        "100",
        "110",
        "170",
        "201",
        "210",
        "301",
        "303",
        "307",
        "321",
        "332",
        "-1",
        "-129",
        "128",
        "65535",
        "65536",
        "4294967296",
        "99999999999999999999",
        "1e3",
        "０",
        " 1",
        "",
    ])
    .to_string()
}

/// Namespaces to put elements in (right ones in the wrong place, and
/// wrong ones).
pub const NAMESPACES: &[&str] = &[
    "jabber:client",
    "http://jabber.org/protocol/muc",
    "http://jabber.org/protocol/muc#user",
    "http://jabber.org/protocol/muc#admin",
    "http://jabber.org/protocol/muc#owner",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/rsm",
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#event",
    "http://jabber.org/protocol/commands",
    "http://jitsi.org/protocol/focus",
    "jabber:x:data",
    "jabber:x:conference",
    "jabber:iq:roster",
    "jabber:iq:browse",
    "jabber:iq:conference",
    "jabber:iq:private",
    "storage:bookmarks",
    "urn:xmpp:bookmarks:1",
    "urn:xmpp:mam:2",
    "urn:xmpp:carbons:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:delay",
    "urn:xmpp:sid:0",
    "urn:xmpp:occupant-id:0",
    "urn:xmpp:message-correct:0",
    "urn:xmpp:chatting:0",
    "urn:xmpp:jingle:1",
    "urn:xmpp:jingle:apps:rtp:1",
    "urn:xmpp:jingle:transports:ice-udp:1",
    "urn:xmpp:coin:1",
    "urn:ietf:params:xml:ns:xmpp-stanzas",
    "urn:ietf:params:xml:ns:conference-info",
    "urn:xmpp:channel-search:0:search",
    "",
    "urn:example:unknown",
];

const NAMES: &[&str] = &[
    "x",
    "item",
    "status",
    "body",
    "subject",
    "thread",
    "error",
    "query",
    "result",
    "fin",
    "set",
    "forwarded",
    "received",
    "sent",
    "message",
    "presence",
    "iq",
    "delay",
    "stanza-id",
    "origin-id",
    "replace",
    "invite",
    "decline",
    "reason",
    "destroy",
    "actor",
    "continue",
    "password",
    "field",
    "value",
    "option",
    "conference",
    "nick",
    "room",
    "name",
    "uri",
    "event",
    "items",
    "retract",
    "jingle",
    "content",
    "description",
    "transport",
    "candidate",
    "command",
    "note",
    "show",
    "priority",
    "group",
    "storage",
    "text",
    "first",
    "last",
    "count",
    "after",
    "before",
    "max",
    "html",
];

const ATTRS: &[&str] = &[
    "from",
    "to",
    "id",
    "type",
    "jid",
    "nick",
    "role",
    "affiliation",
    "code",
    "by",
    "stamp",
    "queryid",
    "complete",
    "node",
    "var",
    "label",
    "xml-lang",
    "name",
    "autojoin",
    "password",
    "reason",
    "action",
    "sid",
    "category",
    "subscription",
    "ask",
    "ready",
    "focusjid",
    "status",
    "index",
    "semantics",
    "creator",
    "senders",
    "media",
    "hash",
    "setup",
];

/// A value for attribute `name`, by what the name suggests.
pub fn attr_value(rng: &mut Rng, name: &str, jids: &[&str]) -> String {
    match name {
        "from" | "to" | "jid" | "by" | "focusjid" | "initiator" | "responder" | "address" => {
            jid_value(rng, jids)
        }
        "stamp" => stamp_value(rng),
        "code" | "priority" | "index" | "port" | "clockrate" | "channels" => number_value(rng),
        _ if rng.chance(30) => number_value(rng),
        _ => hostile_text(rng),
    }
}

/// A random subtree at most `depth` deep.
pub fn random_tree(rng: &mut Rng, depth: usize, jids: &[&str]) -> El {
    let mut e = El::new(rng.pick::<&str>(NAMES), rng.pick::<&str>(NAMESPACES));
    for _ in 0..rng.below(3) {
        let a = *rng.pick(ATTRS);
        let v = attr_value(rng, a, jids);
        e.set_attr(a, v);
    }
    if depth > 1 {
        let kids = if rng.chance(20) { 1 } else { rng.below(4) };
        for _ in 0..kids {
            if rng.chance(25) {
                e.children.push(Node::Text(hostile_text(rng)));
            } else {
                // Mostly one long chain, sometimes bushy.
                let d = if kids == 1 {
                    depth - 1
                } else {
                    rng.below(depth)
                };
                e.children.push(Node::El(random_tree(rng, d.max(1), jids)));
            }
        }
    }
    e
}

/// Deepest nesting a mutation may add (the whole stanza stays far below
/// the depth at which minidom's recursive drop overflows, which the
/// byte-level limit in `session/connect.rs` is for).
pub const MAX_ADDED_DEPTH: usize = 40;

/// One random mutation of the tree `root`; `grafts` are payloads from
/// other templates that may be planted anywhere.
pub fn mutate(rng: &mut Rng, root: &mut El, jids: &[&str], grafts: &[El]) {
    let n = root.count();
    let target = rng.below(n);
    let Some(e) = root.nth_mut(target) else {
        return;
    };
    match rng.below(14) {
        // Texts replaced by hostile ones.
        0 | 1 => {
            let texts: Vec<usize> = (0..e.children.len())
                .filter(|i| matches!(e.children[*i], Node::Text(_)))
                .collect();
            let t = hostile_text(rng);
            match texts.is_empty() {
                true => e.children.push(Node::Text(t)),
                false => e.children[*rng.pick(&texts)] = Node::Text(t),
            }
        }
        // An attribute's value replaced.
        2 | 3 => {
            let name = if e.attrs.is_empty() || rng.chance(25) {
                rng.pick(ATTRS).to_string()
            } else {
                e.attrs[rng.below(e.attrs.len())].0.clone()
            };
            let v = attr_value(rng, &name, jids);
            e.set_attr(&name, v);
        }
        // An attribute dropped.
        4 => {
            if !e.attrs.is_empty() {
                let i = rng.below(e.attrs.len());
                e.attrs.remove(i);
            }
        }
        // A child dropped.
        5 => {
            if !e.children.is_empty() {
                let i = rng.below(e.children.len());
                e.children.remove(i);
            }
        }
        // A child duplicated, a few times or many.
        6 => {
            if !e.children.is_empty() {
                let c = e.children[rng.below(e.children.len())].clone();
                let times = if rng.chance(10) {
                    300
                } else {
                    1 + rng.below(3)
                };
                for _ in 0..times {
                    e.children.push(c.clone());
                }
            }
        }
        // Children reordered.
        7 => {
            for i in (1..e.children.len()).rev() {
                let j = rng.below(i + 1);
                e.children.swap(i, j);
            }
        }
        // Wrong namespace, or wrong name.
        8 => e.ns = rng.pick(NAMESPACES).to_string(),
        9 => e.name = rng.pick(NAMES).to_string(),
        // A random subtree, possibly deep.
        10 => {
            let d = 1 + rng.below(MAX_ADDED_DEPTH);
            let t = random_tree(rng, d, jids);
            e.children.push(Node::El(t));
        }
        // A child wrapped in nesting.
        11 => {
            if let Some(i) = (!e.children.is_empty()).then(|| rng.below(e.children.len())) {
                let mut inner = e.children.remove(i);
                for _ in 0..1 + rng.below(MAX_ADDED_DEPTH) {
                    let mut w = El::new(rng.pick::<&str>(NAMES), rng.pick::<&str>(NAMESPACES));
                    w.children.push(inner);
                    inner = Node::El(w);
                }
                e.children.insert(i, inner);
            }
        }
        // A payload of another XEP planted here.
        12 => {
            if !grafts.is_empty() {
                e.children.push(Node::El(rng.pick(grafts).clone()));
            }
        }
        // Everything inside emptied.
        _ => e.children.clear(),
    }
}

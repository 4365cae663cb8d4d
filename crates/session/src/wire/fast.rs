//! The fast path of [`Parser::parse`]: a `<message/>` or `<presence/>`
//! of the usual shape built straight from quick-xml's events — the root's
//! attributes into xmpp-parsers' fields, `body`/`subject`/`show`/
//! `status`/`priority` into theirs, every other child a minidom
//! `Element` built directly — without xso's builders or rxml's attribute
//! maps for the stanza itself.
//!
//! It takes only what it reads exactly as the xso path does: anything
//! else (an unknown `type` or root attribute, a `thread`, a second `show`
//! or `priority`, an attribute or child on a text field, text in the
//! stanza, a JID that does not parse, any error at all) gives `None`, and
//! the element is read again by the xso path, which then decides — the
//! same result, errors and `InvalidStanza` included, by construction.
//! Every restricted-XML check is the same code as there.

use jid::Jid;
use minidom::Element;
use quick_xml::events::Event;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::presence::{Presence, Priority, Show, Type as PresenceType};
use xso::FromXmlText;
use xso::exports::rxml;

use super::{NS_CLIENT, Parser, attr_value, ncname, rest_blank, split_name};

/// An empty element of one name: cloning it copies the name and shares
/// the namespace (`Element::bare` would copy the namespace twice over).
#[derive(Debug)]
pub(super) struct Template {
    ns: rxml::Namespace<'static>,
    name: rxml::NcName,
    el: Element,
}

/// Templates kept (names seen, oldest dropped first).
const TEMPLATES: usize = 64;

enum Root {
    Message(Message),
    Presence(Presence),
}

/// A child of the stanza read into a field of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Body,
    Subject,
    Show,
    Status,
    Priority,
}

impl Parser {
    /// The stanza, or `None`: read it with the xso path.
    pub(super) fn fast(
        &mut self,
        bytes: &[u8],
        lang: Option<&str>,
    ) -> Option<FallibleStreamElement> {
        let mut r = self.start(bytes);
        let mut root: Option<Root> = None;
        // The stanza's `xml:lang` in effect.
        let mut root_lang: Option<String> = None;
        // The field being read, with its `xml:lang` in effect.
        let mut field: Option<(Field, Option<String>)> = None;
        let mut priority_seen = false;
        // Payload elements open, outermost first.
        let mut open = std::mem::take(&mut self.open);
        open.clear();
        let mut depth = 0usize;
        loop {
            match r.read_event().ok()? {
                Event::Start(s) => {
                    let raw = s.attributes_raw();
                    self.scan_attributes(raw, depth + 1).ok()?;
                    // The name is checked when it is not one of those
                    // below (a prefix in scope was checked when declared).
                    let (prefix, local) = split_raw(s.name().into_inner());
                    if prefix == Some("") {
                        return None;
                    }
                    let ns = self.resolve(prefix.unwrap_or("")).ok()?;
                    match depth {
                        0 => {
                            self.blank_text()?;
                            if ns != NS_CLIENT {
                                return None;
                            }
                            let (r, own_lang) = self.root(local, raw)?;
                            root = Some(r);
                            root_lang = own_lang.or_else(|| lang.map(str::to_string));
                        }
                        1 => {
                            self.blank_text()?;
                            let kind = match (root.as_ref()?, local) {
                                _ if ns != NS_CLIENT => None,
                                (Root::Message(_), "body") => Some(Field::Body),
                                (Root::Message(_), "subject") => Some(Field::Subject),
                                (Root::Message(_), "thread") => return None,
                                (Root::Presence(_), "show") => Some(Field::Show),
                                (Root::Presence(_), "status") => Some(Field::Status),
                                (Root::Presence(_), "priority") => Some(Field::Priority),
                                _ => None,
                            };
                            match kind {
                                Some(kind) => {
                                    let own = self.only_lang(raw)?;
                                    field = Some((kind, own.or_else(|| root_lang.clone())));
                                }
                                None => open.push(self.element(ns, local, raw)?),
                            }
                        }
                        _ => {
                            if field.is_some() {
                                return None;
                            }
                            self.text_into(open.last_mut()?);
                            open.push(self.element(ns, local, raw)?);
                        }
                    }
                    depth += 1;
                }
                Event::End(_) => {
                    self.pop_scope(depth);
                    depth = depth.checked_sub(1)?;
                    match depth {
                        0 => {
                            self.blank_text()?;
                            rest_blank(&mut r).ok()?;
                            self.open = open;
                            let stanza = match root? {
                                Root::Message(m) => Stanza::Message(m),
                                Root::Presence(p) => Stanza::Presence(p),
                            };
                            return Some(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                                stanza,
                            )));
                        }
                        1 => match field.take() {
                            Some((kind, lang)) => {
                                let text = std::mem::take(&mut self.text);
                                let lang = Lang(lang.unwrap_or_default());
                                match (root.as_mut()?, kind) {
                                    (Root::Message(m), Field::Body) => {
                                        m.bodies.insert(lang, text);
                                    }
                                    (Root::Message(m), Field::Subject) => {
                                        m.subjects.insert(lang, text);
                                    }
                                    (Root::Presence(p), Field::Status) => {
                                        p.statuses.insert(lang, text);
                                    }
                                    (Root::Presence(p), Field::Show) => {
                                        if p.show.is_some() {
                                            return None;
                                        }
                                        p.show = Some(Show::from_xml_text(text).ok()?);
                                    }
                                    (Root::Presence(p), Field::Priority) => {
                                        if priority_seen {
                                            return None;
                                        }
                                        priority_seen = true;
                                        p.priority = Priority(text.parse().ok()?);
                                    }
                                    _ => return None,
                                }
                            }
                            None => {
                                let mut el = open.pop()?;
                                self.text_into(&mut el);
                                match root.as_mut()? {
                                    Root::Message(m) => m.payloads.push(el),
                                    Root::Presence(p) => p.payloads.push(el),
                                }
                            }
                        },
                        _ => {
                            let mut el = open.pop()?;
                            self.text_into(&mut el);
                            open.last_mut()?.append_child(el);
                        }
                    }
                }
                other => self.content(other).ok()?,
            }
        }
    }

    /// The text read since the last tag, which must be blank here
    /// (between the stanza's children), dropped.
    fn blank_text(&mut self) -> Option<()> {
        if !xso::is_xml_whitespace(&self.text) {
            return None;
        }
        self.text.clear();
        Some(())
    }

    /// The text read since the last tag, as `el`'s next child.
    fn text_into(&mut self, el: &mut Element) {
        if !self.text.is_empty() {
            el.append_text_node(std::mem::take(&mut self.text));
        }
    }

    /// The stanza's element from its name and attributes (`from`, `to`,
    /// `id`, `type`, `xml:lang` and no other), and its own `xml:lang`.
    fn root(&self, name: &str, raw: &str) -> Option<(Root, Option<String>)> {
        let (mut from, mut to, mut id, mut type_, mut lang) = (None, None, None, None, None);
        for (key, value) in &self.plain {
            let slot = match split_raw(&raw[key.clone()]) {
                (None, "from") => &mut from,
                (None, "to") => &mut to,
                (None, "id") => &mut id,
                (None, "type") => &mut type_,
                (Some("xml"), "lang") => &mut lang,
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(attr_value(&raw[value.clone()]).ok()?);
        }
        let from = match from {
            Some(j) => Some(j.parse::<Jid>().ok()?),
            None => None,
        };
        let to = match to {
            Some(j) => Some(j.parse::<Jid>().ok()?),
            None => None,
        };
        let root = match name {
            "message" => Root::Message(Message {
                from,
                to,
                id: id.map(Id),
                type_: match type_ {
                    None => MessageType::Normal,
                    Some(t) => t.parse().ok()?,
                },
                bodies: Default::default(),
                subjects: Default::default(),
                thread: None,
                payloads: Vec::new(),
            }),
            "presence" => Root::Presence(Presence {
                from,
                to,
                id,
                type_: match type_ {
                    None => PresenceType::None,
                    Some(t) => PresenceType::from_xml_text(t).ok()?,
                },
                show: None,
                statuses: Default::default(),
                priority: Priority(0),
                payloads: Vec::new(),
            }),
            _ => return None,
        };
        Some((root, lang))
    }

    /// A text field's `xml:lang`, the only attribute it may have here.
    fn only_lang(&self, raw: &str) -> Option<Option<String>> {
        match &self.plain[..] {
            [] => Some(None),
            [(key, value)] => {
                if split_raw(&raw[key.clone()]) != (Some("xml"), "lang") {
                    return None;
                }
                Some(Some(attr_value(&raw[value.clone()]).ok()?))
            }
            _ => None,
        }
    }

    /// A payload element with its attributes (as xso's `ElementFromEvents`
    /// makes it: every attribute kept, `xml:lang` included).
    fn element(&mut self, ns: rxml::Namespace<'static>, name: &str, raw: &str) -> Option<Element> {
        let mut el = self.template(ns, name)?;
        for (key, value) in &self.plain {
            let (prefix, name) = split_name(&raw[key.clone()]).ok()?;
            let ns = match prefix {
                None => rxml::Namespace::NONE,
                Some(p) => self.resolve(p).ok()?,
            };
            let value = attr_value(&raw[value.clone()]).ok()?;
            if el.attrs_mut().insert(ns, name, value).is_some() {
                return None;
            }
        }
        Some(el)
    }

    /// An empty element named `name` (checked here the first time).
    fn template(&mut self, ns: rxml::Namespace<'static>, name: &str) -> Option<Element> {
        if let Some(t) = self
            .templates
            .iter()
            .find(|t| t.name.as_str() == name && t.ns == ns)
        {
            return Some(t.el.clone());
        }
        let name = ncname(name).ok()?;
        let el = Element::bare(name.as_str(), ns.as_str());
        if self.templates.len() >= TEMPLATES {
            self.templates.remove(0);
        }
        self.templates.push(Template {
            ns,
            name,
            el: el.clone(),
        });
        Some(el)
    }
}

/// `prefix:local` or `local`, unchecked.
fn split_raw(name: &str) -> (Option<&str>, &str) {
    match name.bytes().position(|b| b == b':') {
        Some(at) => (Some(&name[..at]), &name[at + 1..]),
        None => (None, name),
    }
}

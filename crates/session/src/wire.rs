//! The read path of the bound stream: one complete top-level element (a
//! stanza or nonza, as [`Guard`](crate::guard::Guard) cut it out of the
//! stream) parsed with quick-xml and fed straight into xso's builders —
//! the same [`FallibleStreamElement`] tokio-xmpp's own reader (rxml)
//! gives, for a fraction of the instructions.
//!
//! What the stream header declared is assumed: the default namespace
//! `jabber:client` and the `stream` prefix (RFC 6120 §4.8).
//!
//! Restricted XML (RFC 6120 §11) as rxml enforces it: no DTD, no
//! processing instruction, no comment; names must be XML names; text and
//! attribute values only XML 1.0 characters. What quick-xml does not check
//! (characters, names) is checked here.

use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use tokio_xmpp::xmlstream::FallibleStreamElement;
use xso::exports::rxml;
use xso::{FromEventsBuilder, FromXml};

/// The stream's namespaces.
pub const NS_CLIENT: &str = "jabber:client";
pub const NS_STREAM: &str = "http://etherx.jabber.org/streams";

/// Why an element could not be read: not well-formed or not restricted
/// XML (the stream's XML is broken: tokio-xmpp called that a hard error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid XML: {0}")]
pub struct WireError(pub String);

fn bad(text: impl Into<String>) -> WireError {
    WireError(text.into())
}

/// A namespace name that would need unescaping or normalising (quick-xml
/// binds the raw value): refused, where rxml would take it. No real
/// namespace name holds a reference, `<` or a line break.
pub const NS_REFUSED: &str = "a namespace name with a reference, `<` or a control character";

/// Namespaces seen before, shared (rxml does the same: one `Arc` per
/// namespace name rather than one `String` per element).
#[derive(Debug, Default)]
pub struct Parser {
    namespaces: Vec<rxml::Namespace<'static>>,
    text: String,
    /// Namespace declarations in scope: prefix (`""` the default), its
    /// namespace, the depth of the element that declared it.
    scope: Vec<(String, rxml::Namespace<'static>, usize)>,
    /// The last start tag's attributes other than namespace
    /// declarations: where their names and raw values lie in it.
    plain: Vec<(Range<usize>, Range<usize>)>,
    /// Empty elements, one per name seen (see `fast.rs`).
    templates: Vec<fast::Template>,
    /// The fast path's open payload elements (kept for their capacity).
    open: Vec<minidom::Element>,
}

/// Namespaces compiled in (no allocation at all).
const STATIC_NS: &[&str] = &[
    NS_CLIENT,
    NS_STREAM,
    "http://jabber.org/protocol/muc#user",
    "http://jabber.org/protocol/muc",
    "http://jabber.org/protocol/caps",
    "urn:xmpp:occupant-id:0",
    "urn:xmpp:mam:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:delay",
    "urn:xmpp:sid:0",
    "urn:xmpp:sm:3",
    "urn:xmpp:ping",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/rsm",
    "jabber:x:data",
    "urn:ietf:params:xml:ns:xmpp-stanzas",
    "urn:ietf:params:xml:ns:xmpp-streams",
    "urn:xmpp:hints",
    "urn:xmpp:receipts",
    "urn:xmpp:chat-markers:0",
    "http://jabber.org/protocol/chatstates",
    "vcard-temp:x:update",
    "http://jabber.org/protocol/pubsub#event",
];

/// Entries kept in the namespace cache.
const NS_CACHE: usize = 64;

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    fn namespace(&mut self, s: &str) -> Result<rxml::Namespace<'static>, WireError> {
        if s.is_empty() {
            return Ok(rxml::Namespace::NONE);
        }
        if let Some(known) = STATIC_NS.iter().find(|k| **k == s) {
            return Ok(rxml::Namespace::from(*known));
        }
        if s == "http://www.w3.org/XML/1998/namespace" {
            return Ok(rxml::Namespace::XML);
        }
        if let Some(n) = self.namespaces.iter().find(|n| n.as_str() == s) {
            return Ok(n.clone());
        }
        let n = rxml::Namespace::from(std::sync::Arc::new(s.to_string()));
        if self.namespaces.len() >= NS_CACHE {
            self.namespaces.remove(0);
        }
        self.namespaces.push(n.clone());
        Ok(n)
    }

    /// Parses one complete stream-level element.
    pub fn parse(
        &mut self,
        bytes: &[u8],
        lang: Option<&str>,
    ) -> Result<FallibleStreamElement, WireError> {
        if let Some(done) = self.fast(bytes, lang) {
            return Ok(done);
        }
        self.parse_as(bytes, lang)
    }

    /// A reader over one element, and the scope the stream header made.
    fn start<'b>(&mut self, bytes: &'b [u8]) -> Reader<&'b [u8]> {
        let mut r = Reader::from_reader(bytes);
        {
            let c = r.config_mut();
            c.expand_empty_elements = true;
            c.check_end_names = true;
            c.check_comments = true;
        }
        // What the stream header declared.
        self.scope.clear();
        self.scope
            .push((String::new(), rxml::Namespace::from(NS_CLIENT), 0));
        self.scope
            .push(("stream".into(), rxml::Namespace::from(NS_STREAM), 0));
        self.text.clear();
        r
    }

    /// Parses one complete element as any `T` xso can build (a minidom
    /// `Element` for the tests).
    pub fn parse_as<T: FromXml>(
        &mut self,
        bytes: &[u8],
        lang: Option<&str>,
    ) -> Result<T, WireError> {
        let mut r = self.start(bytes);
        // `xml:lang` in scope (the stream header's outside any element),
        // given to the builders with each event as tokio-xmpp did.
        let mut langs: Vec<Option<String>> = vec![lang.map(str::to_string)];
        let mut builder: Option<T::Builder> = None;
        let mut depth = 0usize;
        loop {
            let ev = r.read_event().map_err(|e| bad(e.to_string()))?;
            match ev {
                Event::Start(s) => {
                    let attrs = self.attributes(&s, depth + 1)?;
                    let (prefix, local) = split_name(s.name().into_inner())?;
                    let ns = self.resolve(prefix.unwrap_or(""))?;
                    let qname = (ns, local);
                    let flushed = self.flush_text();
                    let parent = langs.last().cloned().flatten();
                    let text_ctx = xso::Context::empty().with_language(parent.as_deref());
                    let own = attrs.get(&rxml::Namespace::XML, "lang").cloned();
                    langs.push(own.or_else(|| parent.clone()));
                    let ctx = ctx_of(&langs);
                    match builder.as_mut() {
                        None => {
                            if depth != 0 {
                                return Err(bad("content after the element"));
                            }
                            if let Some(rxml::Event::Text(_, t)) = &flushed
                                && !xso::is_xml_whitespace(t)
                            {
                                return Err(bad("text before the element"));
                            }
                            let b = T::from_events(qname, attrs, &ctx)
                                .map_err(|_| bad("not a stream-level element"))?;
                            builder = Some(b);
                        }
                        Some(b) => {
                            if let Some(t) = flushed {
                                feed(b, t, &text_ctx)?;
                            }
                            feed(
                                b,
                                rxml::Event::StartElement(
                                    rxml::parser::EventMetrics::new(0),
                                    qname,
                                    attrs,
                                ),
                                &ctx,
                            )?;
                        }
                    }
                    depth += 1;
                }
                Event::End(_) => {
                    let b = builder.as_mut().ok_or_else(|| bad("end tag first"))?;
                    if let Some(t) = self.flush_text() {
                        feed(b, t, &ctx_of(&langs))?;
                    }
                    self.pop_scope(depth);
                    depth -= 1;
                    langs.pop();
                    let ctx = ctx_of(&langs);
                    if let Some(done) = b
                        .feed(
                            rxml::Event::EndElement(rxml::parser::EventMetrics::new(0)),
                            &ctx,
                        )
                        .map_err(|e| bad(e.to_string()))?
                    {
                        if depth != 0 {
                            return Err(bad("the builder ended early"));
                        }
                        rest_blank(&mut r)?;
                        return Ok(done);
                    }
                }
                other => self.content(other)?,
            }
        }
    }

    /// What comes between tags: text (kept in `self.text`), and what
    /// restricted XML forbids. Shared by both paths.
    fn content(&mut self, ev: Event) -> Result<(), WireError> {
        match ev {
            Event::Text(t) => {
                if memchr::memmem::find(t.as_bytes(), b"]]>").is_some() {
                    return Err(bad("`]]>` in text"));
                }
                let t = t.xml10_content();
                self.push_text(&t)
            }
            Event::CData(t) => {
                let t = t.xml10_content();
                self.push_text(&t)
            }
            Event::GeneralRef(e) => {
                self.text.push(reference(&e)?);
                Ok(())
            }
            Event::Comment(_) => Err(bad("a comment (restricted XML)")),
            Event::PI(_) | Event::Decl(_) => Err(bad("a processing instruction (restricted XML)")),
            Event::DocType(_) => Err(bad("a DTD (restricted XML)")),
            Event::Empty(_) => unreachable!("empty elements are expanded"),
            Event::Eof => Err(bad("the element is cut off")),
            Event::Start(_) | Event::End(_) => unreachable!("tags are the caller's"),
        }
    }

    fn push_text(&mut self, t: &str) -> Result<(), WireError> {
        check_chars(t)?;
        self.text.push_str(t);
        Ok(())
    }

    /// The text since the last tag, as one event.
    fn flush_text(&mut self) -> Option<rxml::Event> {
        if self.text.is_empty() {
            return None;
        }
        Some(rxml::Event::Text(
            rxml::parser::EventMetrics::new(0),
            std::mem::take(&mut self.text),
        ))
    }

    /// The attributes of a start tag (see [`Parser::scan_attributes`]),
    /// resolved, unescaped and normalised (XML 1.0 §3.3.3) into a map.
    fn attributes(&mut self, s: &BytesStart, depth: usize) -> Result<rxml::AttrMap, WireError> {
        let raw = s.attributes_raw();
        self.scan_attributes(raw, depth)?;
        let mut map = rxml::AttrMap::new();
        for (key, value) in &self.plain {
            let (prefix, name) = split_name(&raw[key.clone()])?;
            let ns = match prefix {
                None => rxml::Namespace::NONE,
                Some(p) => self.resolve(p)?,
            };
            let value = attr_value(&raw[value.clone()])?;
            if map.insert(ns, name, value).is_some() {
                return Err(bad("an attribute given twice"));
            }
        }
        Ok(map)
    }

    /// The attributes of a start tag, scanned here (quick-xml's own
    /// iterator takes `a='1'b='2'` and costs more): namespace
    /// declarations checked and put in scope (at `depth`), the others
    /// left in `self.plain` as (name, raw value) ranges of `raw`.
    fn scan_attributes(&mut self, raw: &str, depth: usize) -> Result<(), WireError> {
        self.plain.clear();
        let b = raw.as_bytes();
        let mut i = 0;
        // Declarations of this tag so far: those in scope from here on,
        // and whether `xml` was (which is not put in scope).
        let declared_from = self.scope.len();
        let mut xml_declared = false;
        loop {
            let blank_from = i;
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            if i == b.len() {
                break;
            }
            if i == blank_from {
                return Err(bad("attributes not separated by blanks"));
            }
            let key_from = i;
            while i < b.len() && !is_blank(b[i]) && b[i] != b'=' {
                i += 1;
            }
            let key = &raw[key_from..i];
            let key_to = i;
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            if b.get(i) != Some(&b'=') {
                return Err(bad(format!("attribute {key:?} without a value")));
            }
            i += 1;
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            let quote = match b.get(i) {
                Some(q @ (b'"' | b'\'')) => *q,
                _ => return Err(bad(format!("attribute {key:?}: value not quoted"))),
            };
            let Some(len) = memchr::memchr(quote, &b[i + 1..]) else {
                return Err(bad(format!("attribute {key:?}: value not closed")));
            };
            let value = &raw[i + 1..i + 1 + len];
            let value_at = i + 1..i + 1 + len;
            i += len + 2;
            if key == "xmlns" || key.starts_with("xmlns:") {
                let prefix = key.strip_prefix("xmlns").unwrap_or_default();
                let prefix = prefix.strip_prefix(':').unwrap_or(prefix);
                let twice = if prefix == "xml" {
                    std::mem::replace(&mut xml_declared, true)
                } else {
                    self.scope[declared_from..]
                        .iter()
                        .any(|(p, _, _)| p == prefix)
                };
                if twice {
                    return Err(bad(format!("{key} given twice")));
                }
                if let Some(prefix) = key.strip_prefix("xmlns:") {
                    ncname(prefix)?;
                    if value.is_empty() {
                        return Err(bad(format!("prefix {prefix:?} bound to no namespace")));
                    }
                }
                // quick-xml binds the raw value: one that would need
                // unescaping or normalising is refused, not bound wrongly.
                if value.bytes().fold(false, |odd, c| {
                    odd | matches!(c, b'&' | b'<' | b'\t' | b'\n' | b'\r')
                }) {
                    return Err(bad(NS_REFUSED));
                }
                check_chars(value)?;
                if prefix == "xml" || prefix == "xmlns" {
                    if prefix == "xmlns" || value != rxml::XMLNS_XML {
                        return Err(bad(format!("{key} redeclared")));
                    }
                    continue;
                }
                if value == rxml::XMLNS_XML || value == rxml::XMLNS_XMLNS {
                    return Err(bad(format!("{key} bound to a reserved namespace")));
                }
                let ns = self.namespace(value)?;
                self.scope.push((prefix.to_string(), ns, depth));
                continue;
            }
            self.plain.push((key_from..key_to, value_at));
        }
        Ok(())
    }

    /// The namespace of `prefix` (`""`: the default one).
    fn resolve(&self, prefix: &str) -> Result<rxml::Namespace<'static>, WireError> {
        if prefix == "xml" {
            return Ok(rxml::Namespace::XML);
        }
        match self.scope.iter().rev().find(|(p, _, _)| p == prefix) {
            Some((_, ns, _)) => Ok(ns.clone()),
            None => Err(bad(format!("undeclared prefix {prefix:?}"))),
        }
    }

    /// The element at `depth` closed: its declarations go.
    fn pop_scope(&mut self, depth: usize) {
        while self.scope.last().is_some_and(|(_, _, d)| *d >= depth) {
            self.scope.pop();
        }
    }
}

/// `prefix:local` or `local`, both parts XML names without colons.
fn split_name(name: &str) -> Result<(Option<&str>, rxml::NcName), WireError> {
    // (A byte loop: names are short, `split_once` costs more.)
    let colon = name.bytes().position(|b| b == b':');
    match colon.map(|at| (&name[..at], &name[at + 1..])) {
        Some((prefix, local)) => {
            if prefix.is_empty() || !prefix_ok(prefix) {
                return Err(bad(format!("bad name {name:?}")));
            }
            Ok((Some(prefix), ncname(local)?))
        }
        None => Ok((None, ncname(name)?)),
    }
}

fn prefix_ok(p: &str) -> bool {
    rxml::NcName::try_from(p).is_ok()
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// An attribute value as XML 1.0 reads it: references replaced, each
/// blank (a CR LF pair being one) a space, only XML characters.
fn attr_value(raw: &str) -> Result<String, WireError> {
    // Most values: printable, no reference, nothing past U+EFFF. (A
    // fold without an early exit: the compiler vectorises it.)
    let odd = raw.bytes().fold(false, |odd, c| {
        odd | (c < 0x20) | (c == b'&') | (c == b'<') | (c == 0xEF)
    });
    if !odd {
        return Ok(raw.to_string());
    }
    if raw.contains('<') {
        return Err(bad("`<` in an attribute value"));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(['&', '\t', '\n', '\r']) {
        let plain = &rest[..at];
        check_chars(plain)?;
        out.push_str(plain);
        let c = rest.as_bytes()[at];
        rest = &rest[at + 1..];
        match c {
            b'&' => {
                let Some(end) = rest.find(';') else {
                    return Err(bad("an unterminated reference"));
                };
                out.push(reference(&rest[..end])?);
                rest = &rest[end + 1..];
            }
            b'\r' => {
                out.push(' ');
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            _ => out.push(' '),
        }
    }
    check_chars(rest)?;
    out.push_str(rest);
    Ok(out)
}

/// The character of `&name;` (predefined entities and character
/// references only: restricted XML has no DTD to declare others).
fn reference(name: &str) -> Result<char, WireError> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let n = if let Some(hex) = name.strip_prefix("#x") {
                (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).ok())
                    .flatten()
            } else if let Some(dec) = name.strip_prefix('#') {
                (!dec.is_empty() && dec.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| dec.parse::<u32>().ok())
                    .flatten()
            } else {
                return Err(bad(format!("undeclared entity &{name};")));
            };
            n.and_then(char::from_u32)
                .filter(|c| xml_char(*c))
                .ok_or_else(|| bad(format!("a bad character reference &{name};")))?
        }
    };
    Ok(c)
}

/// The context of an event: the `xml:lang` in scope.
fn ctx_of(langs: &[Option<String>]) -> xso::Context<'_> {
    xso::Context::empty().with_language(langs.last().and_then(|l| l.as_deref()))
}

fn feed<B: FromEventsBuilder>(
    b: &mut B,
    ev: rxml::Event,
    ctx: &xso::Context,
) -> Result<(), WireError> {
    match b.feed(ev, ctx).map_err(|e| bad(e.to_string()))? {
        None => Ok(()),
        Some(_) => Err(bad("the builder ended early")),
    }
}

/// Only blanks may follow the element.
fn rest_blank(r: &mut Reader<&[u8]>) -> Result<(), WireError> {
    loop {
        match r.read_event().map_err(|e| bad(e.to_string()))? {
            Event::Eof => return Ok(()),
            Event::Text(t) if xso::is_xml_whitespace(&*t) => {}
            _ => return Err(bad("content after the element")),
        }
    }
}

fn ncname(s: &str) -> Result<rxml::NcName, WireError> {
    rxml::NcName::try_from(s).map_err(|e| bad(format!("bad name {s:?}: {e}")))
}

/// XML 1.0 `Char` (a `str` holds no surrogates).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text and attribute values: XML 1.0 characters only.
fn check_chars(t: &str) -> Result<(), WireError> {
    let b = t.as_bytes();
    // Fast path: ASCII controls are the usual offenders; U+FFFE/U+FFFF
    // (EF BF BE / EF BF BF) the only others a `str` can hold.
    let bad_ascii = b.iter().fold(false, |odd, &c| {
        odd | ((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r'))
    });
    if bad_ascii || (memchr::memchr(0xEF, b).is_some() && t.chars().any(|c| !xml_char(c))) {
        return Err(bad("a character not allowed in XML"));
    }
    Ok(())
}

mod fast;
mod stream;
pub use stream::Bound;

#[cfg(test)]
mod tests;

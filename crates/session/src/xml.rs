//! The protocol trace: every element in and out of the stream (stanzas,
//! SASL, STARTTLS, XEP-0198 nonzas, stream features), as one line of XML
//! each, **redacted here and nowhere else** before it leaves this crate —
//! to the log (`tracing`, target [`TARGET`], level trace) and, while the
//! app listens ([`SessionCmd::XmlConsole`](crate::SessionCmd)), to the
//! app as [`SessionEvent::Xml`](crate::SessionEvent).
//!
//! Nothing is serialised when neither listens: [`Tap::record`] first asks
//! whether the trace level is on for [`TARGET`] and whether the console is.
//!
//! What is masked ([`redact`]): the contents of SASL (and SASL2) elements
//! (`<auth>`, `<challenge>`, `<response>`, `<success>`, …); every
//! `<password>`, `<secret>` and `<digest>` element; `<token>` elements
//! and `token` attributes (XEP-0484 FAST, the Jitsi focus); data-form
//! fields that hold a secret (type `text-private`, a `var` naming a
//! password or `muc#roomconfig_roomsecret`); HTTP upload headers
//! `Authorization`, `Cookie`; the component `<handshake>`; OMEMO key
//! material ([`omemo_key_material`], for issue 20).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use minidom::Element;
use tokio::sync::mpsc;

use crate::SessionEvent;

/// The `tracing` target of the protocol trace.
pub const TARGET: &str = "confab::xml";

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// Which way an element went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlDir {
    /// From the server.
    In,
    /// To the server.
    Out,
}

impl XmlDir {
    pub fn as_str(self) -> &'static str {
        match self {
            XmlDir::In => "in",
            XmlDir::Out => "out",
        }
    }
}

impl std::fmt::Display for XmlDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the trace goes: the log, and the app while its console is open.
/// Cheap to clone (the connection attempt holds one, the stream another).
#[derive(Debug, Clone, Default)]
pub struct Tap {
    on: Arc<AtomicBool>,
    tx: Option<mpsc::UnboundedSender<SessionEvent>>,
}

impl Tap {
    /// A tap that can copy to the app (off until [`Tap::set`]).
    pub(crate) fn new(tx: mpsc::UnboundedSender<SessionEvent>) -> Tap {
        Tap {
            on: Arc::default(),
            tx: Some(tx),
        }
    }

    /// Copies to the app on or off.
    pub(crate) fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    fn copying(&self) -> bool {
        self.tx.is_some() && self.on.load(Ordering::Relaxed)
    }

    /// One element in or out: redacted, to the log (trace) and to the app
    /// (console open). Costs two checks when neither listens.
    pub fn record<T: xso::AsXml>(&self, dir: XmlDir, el: &T) {
        let log = tracing::enabled!(target: TARGET, tracing::Level::TRACE);
        let copy = self.copying();
        if !log && !copy {
            return;
        }
        let xml = match xso::transform::<Element, T>(el) {
            Ok(el) => render(el),
            Err(e) => format!("<!-- not serialisable: {e} -->"),
        };
        if log {
            tracing::trace!(target: TARGET, dir = dir.as_str(), "{xml}");
        }
        if copy && let Some(tx) = &self.tx {
            let _ = tx.send(SessionEvent::Xml { dir, xml });
        }
    }
}

/// The element redacted, as one line: line breaks and other control
/// characters the XML may carry (C0 allowed by XML: tab, CR, LF; C1) are
/// written as `\u{..}` escapes.
pub fn render(mut el: Element) -> String {
    redact(&mut el);
    one_line(&String::from(&el))
}

fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_SASL2: &str = "urn:xmpp:sasl:2";
const NS_FAST: &str = "urn:xmpp:fast:0";
const NS_DATA: &str = "jabber:x:data";
const NS_UPLOAD: &str = "urn:xmpp:http:upload:0";
const NS_COMPONENT: &str = "jabber:component:accept";
const NS_OMEMO_LEGACY: &str = "eu.siacs.conversations.axolotl";
const NS_OMEMO: &str = "urn:xmpp:omemo:2";

/// Masks every secret in `el` (in place; see the module's list).
pub fn redact(el: &mut Element) {
    // SASL and SASL2: the whole exchange is secret (the SCRAM proof, a
    // PLAIN password, the server signature), whatever the element.
    if (el.ns() == NS_SASL || el.ns() == NS_SASL2)
        && matches!(
            el.name(),
            "auth"
                | "challenge"
                | "response"
                | "success"
                | "initial-response"
                | "additional-data"
                | "authenticate"
        )
    {
        mask_text(el);
    }
    if secret_element(el) || omemo_key_material(el) {
        mask_text(el);
    }
    mask_token_attrs(el);
    if el.is("field", NS_DATA) && secret_field(el) {
        for v in el.children_mut() {
            if v.name() == "value" {
                mask_text(v);
            }
        }
    }
    if el.is("header", NS_UPLOAD)
        && el.attr("name").is_some_and(|n| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        })
    {
        mask_text(el);
    }
    for child in el.children_mut() {
        redact(child);
    }
}

/// Elements whose text is a secret in any namespace.
fn secret_element(el: &Element) -> bool {
    matches!(el.name(), "password" | "secret" | "digest" | "token")
        || el.is("handshake", NS_COMPONENT)
}

/// The hook for OMEMO (issue 20): key material in OMEMO elements, both
/// the legacy (`eu.siacs.conversations.axolotl`) and the current
/// (`urn:xmpp:omemo:2`) namespaces — message keys, identity keys, signed
/// pre-keys and their signatures, pre-keys; and the encrypted payload
/// (ciphertext only, but nothing a reader of the log needs).
pub fn omemo_key_material(el: &Element) -> bool {
    (el.ns() == NS_OMEMO_LEGACY || el.ns() == NS_OMEMO)
        && matches!(
            el.name(),
            "key"
                | "identityKey"
                | "ik"
                | "signedPreKeyPublic"
                | "signedPreKeySignature"
                | "spk"
                | "spks"
                | "preKeyPublic"
                | "pk"
                | "payload"
        )
}

/// A data-form field that holds a secret.
fn secret_field(field: &Element) -> bool {
    if field.attr("type") == Some("text-private") {
        return true;
    }
    field.attr("var").is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v.contains("password") || v.contains("secret") || v.contains("token")
    })
}

/// `token` attributes (the Jitsi focus, FAST) and every attribute of a
/// FAST element but its `mechanism`/`expiry`.
fn mask_token_attrs(el: &mut Element) {
    let fast = el.ns() == NS_FAST;
    for ((_, name), value) in el.attrs_mut().iter_mut() {
        let name = name.as_str();
        let secret = name.eq_ignore_ascii_case("token")
            || name.eq_ignore_ascii_case("password")
            || (fast && !matches!(name, "mechanism" | "expiry" | "count" | "invalidate"));
        if secret && !value.is_empty() {
            *value = MASK.to_string();
        }
    }
}

/// Replaces the element's text (not its child elements) by [`MASK`] when
/// it has any.
fn mask_text(el: &mut Element) {
    if el.texts().all(|t| t.trim().is_empty()) {
        return;
    }
    let nodes = el.take_nodes();
    for node in nodes {
        if let minidom::Node::Element(child) = node {
            el.append_child(child);
        }
    }
    el.append_text_node(MASK);
}

#[cfg(test)]
mod tests;

//! XEP-0420 Stanza Content Encryption: the `<envelope/>` OMEMO 2 encrypts
//! in place of a body. The elements a message carries go in `<content/>`;
//! the affixes: `<rpad/>` (random padding, always), `<from/>` (the sender,
//! always), `<to/>` (the recipient; the room in a group chat, where XEP-0384
//! requires it) and `<time/>`. Received affixes are checked against the
//! stanza they came in: a server that turns a group message into a private
//! one, or replays one from someone else, is caught here.

use chrono::{DateTime, SecondsFormat, Utc};
use jid::{BareJid, Jid};
use minidom::Element;

use super::{ErrorInfo, bad, nc};

pub const SCE: &str = "urn:xmpp:sce:1";
/// XEP-0420's upper bound for the padding, in characters.
pub const MAX_RPAD: usize = 200;
/// The most elements read from `<content/>`.
pub const MAX_CONTENT_ELEMENTS: usize = 32;
/// The largest envelope parsed, in bytes.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub content: Vec<Element>,
    pub from: Option<Jid>,
    pub to: Option<Jid>,
    pub time: Option<DateTime<Utc>>,
}

impl Envelope {
    /// A `<body/>` (jabber:client) from `from` to `to`.
    pub fn body(text: &str, from: Jid, to: Jid, time: DateTime<Utc>) -> Envelope {
        Envelope {
            content: vec![
                Element::builder("body", super::ns::JABBER_CLIENT)
                    .append(text)
                    .build(),
            ],
            from: Some(from),
            to: Some(to),
            time: Some(time),
        }
    }

    /// The text of the first `<body/>` in the content.
    pub fn body_text(&self) -> Option<String> {
        self.content
            .iter()
            .find(|e| e.name() == "body" && e.ns() == super::ns::JABBER_CLIENT)
            .map(|b| b.text())
    }

    /// The envelope as the bytes to encrypt, with fresh random padding
    /// (0–200 characters, so equal messages differ in length).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut content = Element::builder("content", SCE);
        for c in &self.content {
            content = content.append(c.clone());
        }
        let mut env = Element::builder("envelope", SCE)
            .append(content.build())
            .append(Element::builder("rpad", SCE).append(padding()).build());
        if let Some(t) = self.time {
            env = env.append(
                Element::builder("time", SCE)
                    .attr(nc("stamp"), t.to_rfc3339_opts(SecondsFormat::Millis, true))
                    .build(),
            );
        }
        if let Some(to) = &self.to {
            env = env.append(
                Element::builder("to", SCE)
                    .attr(nc("jid"), to.to_string())
                    .build(),
            );
        }
        if let Some(from) = &self.from {
            env = env.append(
                Element::builder("from", SCE)
                    .attr(nc("jid"), from.to_string())
                    .build(),
            );
        }
        String::from(&env.build()).into_bytes()
    }

    /// Reads a decrypted envelope.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, ErrorInfo> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(bad("SCE envelope too large"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad("SCE envelope is not UTF-8"))?;
        let el: Element = text.parse().map_err(|_| bad("SCE envelope is not XML"))?;
        if el.name() != "envelope" || el.ns() != SCE {
            return Err(bad("not an SCE envelope"));
        }
        let affix = |name: &str| el.children().find(|c| c.name() == name && c.ns() == SCE);
        let content = affix("content").ok_or_else(|| bad("SCE envelope without <content/>"))?;
        if content.children().count() > MAX_CONTENT_ELEMENTS {
            return Err(bad("SCE content has too many elements"));
        }
        let jid_of = |name: &str| -> Result<Option<Jid>, ErrorInfo> {
            match affix(name) {
                None => Ok(None),
                Some(a) => a
                    .attr("jid")
                    .and_then(|j| Jid::new(j).ok())
                    .map(Some)
                    .ok_or_else(|| bad(format!("SCE <{name}/> without a JID"))),
            }
        };
        Ok(Envelope {
            content: content.children().cloned().collect(),
            from: jid_of("from")?,
            to: jid_of("to")?,
            time: affix("time")
                .and_then(|t| t.attr("stamp"))
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc)),
        })
    }

    /// XEP-0420's affix checks against the stanza the envelope came in:
    /// `<from/>` names the sender's account, and `<to/>`, when present,
    /// names the stanza's addressee (our account, or the room). A group
    /// chat message must carry `<to/>` (XEP-0384).
    pub fn check(
        &self,
        sender: &BareJid,
        addressee: &BareJid,
        groupchat: bool,
    ) -> Result<(), ErrorInfo> {
        match &self.from {
            Some(f) if f.to_bare() == *sender => {}
            Some(_) => return Err(bad("SCE <from/> is not the sender")),
            None => return Err(bad("SCE envelope without <from/>")),
        }
        match &self.to {
            Some(t) if t.to_bare() == *addressee => Ok(()),
            Some(_) => Err(bad("SCE <to/> is not this conversation")),
            None if groupchat => Err(bad("SCE envelope of a group chat message without <to/>")),
            None => Ok(()),
        }
    }
}

/// 0–200 random characters from the base64 alphabet.
fn padding() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = [0u8; MAX_RPAD + 1];
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    let len = bytes[0] as usize % (MAX_RPAD + 1);
    bytes[1..=len]
        .iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap()
    }

    #[test]
    fn round_trip_with_affixes() {
        let t = DateTime::parse_from_rfc3339("2026-12-06T01:02:03.456Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = Envelope::body(
            "Hello <World> & ✓",
            jid("romeo@montague.lit/orchard"),
            jid("juliet@capulet.lit"),
            t,
        );
        let bytes = e.to_bytes();
        let back = Envelope::parse(&bytes).unwrap();
        assert_eq!(back.body_text().as_deref(), Some("Hello <World> & ✓"));
        assert_eq!(back.from, e.from);
        assert_eq!(back.to, e.to);
        assert_eq!(back.time, Some(t));
        let romeo: BareJid = "romeo@montague.lit".parse().unwrap();
        let juliet: BareJid = "juliet@capulet.lit".parse().unwrap();
        back.check(&romeo, &juliet, false).unwrap();
        assert!(
            back.check(&juliet, &juliet, false).is_err(),
            "from someone else"
        );
        assert!(
            back.check(&romeo, &"room@muc.lit".parse().unwrap(), true)
                .is_err(),
            "turned into a group message"
        );
    }

    #[test]
    fn padding_varies() {
        let e = Envelope::body("x", jid("a@b"), jid("c@d"), Utc::now());
        let lengths: std::collections::BTreeSet<usize> =
            (0..20).map(|_| e.to_bytes().len()).collect();
        assert!(lengths.len() > 1);
        assert!(
            lengths
                .iter()
                .all(|l| *l <= lengths.first().unwrap() + MAX_RPAD)
        );
    }

    /// XEP-0420's example envelope, as another client would send it.
    #[test]
    fn reads_the_xep_example() {
        let xml = "<envelope xmlns='urn:xmpp:sce:1'>
            <content><body xmlns='jabber:client'>Have you seen that new movie?</body>
              <x xmlns='jabber:x:oob'><url>https://en.wikipedia.org/wiki/Fight_Club#Plot</url></x></content>
            <rpad>7He4KPxN</rpad>
            <from jid='ladymacbeth@shakespear.lit/castle'/>
          </envelope>";
        let e = Envelope::parse(xml.as_bytes()).unwrap();
        assert_eq!(e.content.len(), 2);
        assert_eq!(
            e.body_text().as_deref(),
            Some("Have you seen that new movie?")
        );
        assert!(e.to.is_none());
        let lady: BareJid = "ladymacbeth@shakespear.lit".parse().unwrap();
        e.check(&lady, &"me@x.lit".parse().unwrap(), false).unwrap();
        assert!(
            e.check(&lady, &"room@x.lit".parse().unwrap(), true)
                .is_err(),
            "a group message needs <to/>"
        );
    }

    #[test]
    fn hostile_envelopes_refused() {
        for bad in [
            &b"\xff\xfe"[..],
            b"not xml",
            b"<envelope xmlns='urn:xmpp:sce:0'><content/></envelope>",
            b"<envelope xmlns='urn:xmpp:sce:1'><rpad/></envelope>",
            b"<envelope xmlns='urn:xmpp:sce:1'><content/><from/></envelope>",
        ] {
            assert!(
                Envelope::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = "<x xmlns='y'/>".repeat(MAX_CONTENT_ELEMENTS + 1);
        let xml = format!("<envelope xmlns='urn:xmpp:sce:1'><content>{many}</content></envelope>");
        assert!(Envelope::parse(xml.as_bytes()).is_err());
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert!(Envelope::parse(&big).is_err());
        let e = Envelope::parse(b"<envelope xmlns='urn:xmpp:sce:1'><content/></envelope>").unwrap();
        assert!(
            e.check(&"a@b".parse().unwrap(), &"c@d".parse().unwrap(), false)
                .is_err(),
            "no <from/>"
        );
    }
}

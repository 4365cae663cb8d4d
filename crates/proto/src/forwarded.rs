//! A forwarded `<message/>` (what an archive result carries) read as a
//! [`Message`] straight from its element. xmpp-parsers' `Message::try_from`
//! turns the element back into XML events and builds every payload
//! element anew: about 25,000 instructions for an archived room message,
//! most of a catch-up's work after the stream's own parsing. The usual
//! shape (`from`, `to`, `id`, `type`, the message's `xml:lang` — Prosody
//! gives every stanza its stream's —, at most one plain `<body/>`, other
//! namespaces' payloads) is read here by moving its parts; anything else
//! (a body's own `xml:lang`, subjects, threads, several bodies, unknown
//! attributes, stray text, other `jabber:client` children) goes through
//! `try_from` as before, so what is accepted and what it reads as do not
//! change.

use std::collections::BTreeMap;

use jid::Jid;
use minidom::rxml::Namespace;
use minidom::{Element, Node};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::ns;

/// The message `el` holds; `None` when xmpp-parsers would refuse it.
pub fn message_of(mut el: Element) -> Option<Message> {
    let Some(Head {
        from,
        to,
        id,
        type_,
        lang,
    }) = usual_head(&el)
    else {
        return Message::try_from(el).ok();
    };
    let mut bodies = BTreeMap::new();
    let mut payloads = Vec::new();
    for node in el.take_nodes() {
        match node {
            Node::Element(c) if c.is("body", ns::JABBER_CLIENT) => {
                // The body's language is the message's (it has none of
                // its own: checked).
                bodies.insert(lang.clone(), c.text());
            }
            Node::Element(c) => payloads.push(c),
            // Only white space (checked).
            Node::Text(_) => {}
        }
    }
    Some(Message {
        from,
        to,
        id,
        type_,
        bodies,
        subjects: BTreeMap::new(),
        thread: None,
        payloads,
    })
}

struct Head {
    from: Option<Jid>,
    to: Option<Jid>,
    id: Option<Id>,
    type_: MessageType,
    lang: Lang,
}

/// The attributes of a message of the usual shape; `None`: anything else.
fn usual_head(el: &Element) -> Option<Head> {
    if !el.is("message", ns::JABBER_CLIENT) {
        return None;
    }
    let mut head = Head {
        from: None,
        to: None,
        id: None,
        type_: MessageType::Normal,
        lang: Lang::default(),
    };
    for ((namespace, name), value) in el.attrs().iter() {
        if *namespace == Namespace::XML && name.as_str() == "lang" {
            head.lang = Lang(value.clone());
            continue;
        }
        // Any other namespaced attribute.
        if !namespace.is_none() {
            return None;
        }
        match name.as_str() {
            "from" => head.from = Some(Jid::new(value).ok()?),
            "to" => head.to = Some(Jid::new(value).ok()?),
            "id" => head.id = Some(Id(value.clone())),
            "type" => head.type_ = value.parse().ok()?,
            _ => return None,
        }
    }
    let mut bodies = 0;
    for node in el.nodes() {
        match node {
            Node::Text(t) if t.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) => {}
            Node::Text(_) => return None,
            Node::Element(c) if c.has_ns(ns::JABBER_CLIENT) => {
                let plain_body = c.name() == "body"
                    && c.attrs().iter().next().is_none()
                    && c.children().next().is_none();
                if !plain_body {
                    return None;
                }
                bodies += 1;
            }
            Node::Element(_) => {}
        }
    }
    (bodies <= 1).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    /// The same as xmpp-parsers reads, whichever way it is read.
    fn same(xml: &str) -> Option<Message> {
        let e = el(xml);
        let ours = message_of(e.clone());
        assert_eq!(ours, Message::try_from(e).ok(), "{xml}");
        ours
    }

    #[test]
    fn the_usual_shape_is_read_by_moving_its_parts() {
        // What Prosody archives for a room message, white space and all.
        let xml = "<message xmlns='jabber:client' from='r@conference.localhost/anna' \
             type='groupchat' id='m1' to='alice@localhost/x'>
               <body>hello &amp; welcome</body>
               <occupant-id xmlns='urn:xmpp:occupant-id:0' id='abc'/>
               <stanza-id xmlns='urn:xmpp:sid:0' by='r@conference.localhost' id='s1'/>
               <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x>
             </message>";
        assert!(usual_head(&el(xml)).is_some(), "the quick way");
        let m = same(xml).unwrap();
        assert_eq!(m.type_, MessageType::Groupchat);
        assert_eq!(m.bodies.get(&Lang::default()).unwrap(), "hello & welcome");
        assert_eq!(m.payloads.len(), 3);
        for xml in [
            "<message xmlns='jabber:client'/>",
            "<message xmlns='jabber:client' type='chat'><body/></message>",
            "<message xmlns='jabber:client' from='a@b'><x:y xmlns:x='urn:x'><x:z/></x:y></message>",
            "<message xmlns='jabber:client' type='error' from='r@c'>\
               <error xmlns='urn:other' type='cancel'/></message>",
            // As Prosody archives it: its stream's language on the stanza.
            "<message xmlns='jabber:client' xml:lang='en' type='groupchat' from='r@c/n'>\
               <body>hi</body></message>",
            "<message xmlns='jabber:client' xml:lang=''><body>hi</body></message>",
        ] {
            assert!(usual_head(&el(xml)).is_some(), "{xml}");
            same(xml).unwrap();
        }
    }

    #[test]
    fn anything_else_reads_as_xmpp_parsers_reads_it() {
        for xml in [
            "<message xmlns='jabber:client'><body xml:lang='de'>hallo</body></message>",
            "<message xmlns='jabber:client' xml:lang='en'><body xml:lang='de'>hallo</body></message>",
            "<message xmlns='jabber:client' xml:lang='en'><body xml:lang='en'>hi</body></message>",
            "<message xmlns='jabber:client'><body>one</body><body xml:lang='fr'>un</body></message>",
            "<message xmlns='jabber:client'><body>one</body><body>two</body></message>",
            "<message xmlns='jabber:client' type='groupchat' from='r@c'><subject>s</subject></message>",
            "<message xmlns='jabber:client'><thread parent='p'>t</thread><body>b</body></message>",
            "<message xmlns='jabber:client'><body>b<b xmlns='urn:x'/></body></message>",
            "<message xmlns='jabber:client' type='error'><error type='cancel'>\
               <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
            "<message xmlns='jabber:client'>stray text<body>b</body></message>",
            "<message xmlns='jabber:client' type='shout'><body>b</body></message>",
            "<message xmlns='jabber:client' from='@bad@'><body>b</body></message>",
            "<message xmlns='jabber:client' to=''><body>b</body></message>",
            "<message xmlns='jabber:client' unknown='1'><body>b</body></message>",
            "<message xmlns='jabber:client' xmlns:x='urn:x' x:a='1'><body>b</body></message>",
            "<message xmlns='jabber:server'><body>b</body></message>",
            "<presence xmlns='jabber:client'/>",
        ] {
            assert!(usual_head(&el(xml)).is_none(), "{xml}");
            same(xml);
        }
    }
}

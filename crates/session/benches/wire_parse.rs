//! Instructions per stanza of the bound stream's read path, for callgrind:
//! `wire_parse METHOD KIND N` parses N copies of one stanza (KIND
//! `presence`: a MUC occupant's presence as Prosody sends it during a
//! join; `mam`: one archived groupchat message of a catch-up).
//! METHOD `rxml`: tokio-xmpp's path (rxml's parser over the stream, its
//! events into xso's builders); `wire`: `confab_session::wire` (quick-xml
//! over each element the guard cut out: a message or presence of the
//! usual shape built directly, anything else through the same builders);
//! `xso`: `wire`'s path through the builders for every element (what
//! `wire` was before its fast path);
//! `guard`: the guard's tokenizer alone; `none`: setup only.
//! Run each with N = 0 and N = 10000 under
//! `valgrind --tool=callgrind` and divide the difference by 10000.

use confab_session::guard::{Limits, Tokenizer};
use confab_session::wire::Parser;
use tokio_xmpp::xmlstream::FallibleStreamElement;
use xso::exports::rxml;
use xso::{FromEventsBuilder, FromXml};

const PRESENCE: &str = "<presence from='bigroom@conference.localhost/crowd-01234' \
to='bench@localhost/confab' id='pr-1234'><c xmlns='http://jabber.org/protocol/caps' \
hash='sha-1' node='https://confab.example' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>\
<occupant-id xmlns='urn:xmpp:occupant-id:0' id='Nh9bHQ0rXq3MQGzBcI7nQoUXzGgG1j3dYcRwcnkmX6A='/>\
<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant' \
jid='crowd-01234@localhost/crowd'/></x></presence>";

const MAM: &str = "<message to='bench@localhost/confab' from='bigroom@conference.localhost'>\
<result xmlns='urn:xmpp:mam:2' queryid='q-8f3a2c' id='6c2b1f0e-8a7d-4f5e-9c3b-2a1d0e9f8b7c'>\
<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T18:40:12Z'/>\
<message xmlns='jabber:client' type='groupchat' id='m-31337' \
from='bigroom@conference.localhost/crowd-00042'><body>line 31337 of the backlog: \
the quick brown fox jumps over the lazy dog &amp; co.</body>\
<occupant-id xmlns='urn:xmpp:occupant-id:0' id='Nh9bHQ0rXq3MQGzBcI7nQoUXzGgG1j3dYcRwcnkmX6A='/>\
<stanza-id xmlns='urn:xmpp:sid:0' by='bigroom@conference.localhost' id='6c2b1f0e-8a7d-4f5e'/>\
</message></forwarded></result></message>";

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='abc' version='1.0'>";

fn rxml_path(doc: &str, n: usize) -> usize {
    let mut reader = rxml::Reader::new(doc.as_bytes());
    let ctx = xso::Context::empty();
    let mut depth = 0usize;
    let mut builder: Option<<FallibleStreamElement as FromXml>::Builder> = None;
    let mut got = 0;
    while let Some(ev) = reader.read().expect("valid XML") {
        match builder.as_mut() {
            None => match ev {
                rxml::Event::StartElement(_, qname, attrs) => {
                    depth += 1;
                    if depth == 2 {
                        builder = Some(
                            <FallibleStreamElement as FromXml>::from_events(qname, attrs, &ctx)
                                .expect("a stream element"),
                        );
                    }
                }
                rxml::Event::EndElement(_) => depth -= 1,
                _ => {}
            },
            Some(b) => {
                if let Some(el) = b.feed(ev, &ctx).expect("builds") {
                    assert!(matches!(el, FallibleStreamElement::Ok(_)));
                    std::hint::black_box(el);
                    got += 1;
                    builder = None;
                    depth -= 1;
                }
            }
        }
    }
    assert_eq!(got, n);
    got
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (method, kind, n): (&str, &str, usize) = match &args[1..] {
        [m, k, n, ..] => (m, k, n.parse().expect("a count")),
        _ => ("wire", "presence", 10000),
    };
    let stanza = if kind == "mam" { MAM } else { PRESENCE };
    let mut doc = String::from(HEADER);
    for _ in 0..n {
        doc.push_str(stanza);
    }
    doc.push_str("</stream:stream>");
    match method {
        "rxml" => {
            rxml_path(&doc, n);
        }
        "guard" | "wire" | "xso" => {
            let mut tok = Tokenizer::new(Limits::default());
            let mut out = Vec::new();
            let mut drops = Vec::new();
            let mut parser = Parser::new();
            let mut got = 0;
            // The guard passes the header through, then one element per
            // feed (the bench feeds the stanzas one read at a time).
            tok.feed(HEADER.as_bytes(), &mut out, &mut drops);
            out.clear();
            for _ in 0..n {
                tok.feed(stanza.as_bytes(), &mut out, &mut drops);
                if method == "wire" {
                    let el = parser.parse(&out, None).expect("parses");
                    assert!(matches!(el, FallibleStreamElement::Ok(_)));
                    std::hint::black_box(el);
                } else if method == "xso" {
                    let el = parser
                        .parse_as::<FallibleStreamElement>(&out, None)
                        .expect("parses");
                    assert!(matches!(el, FallibleStreamElement::Ok(_)));
                    std::hint::black_box(el);
                }
                out.clear();
                got += 1;
            }
            assert_eq!(got, n);
        }
        _ => {}
    }
    println!("{method} {kind} {n}");
}

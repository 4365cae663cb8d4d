//! XEP-0461 Message Replies with the XEP-0428 fallback: `<reply to='…'
//! id='…'/>` names the message answered (in a room by its stanza-id, in a
//! chat by its id); the quote clients without replies show is marked as
//! a fallback (`<body start end/>`, in code points) and left out when we
//! understand the reply.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::message::{Lang, Message};

use super::nc;

pub const REPLY: &str = "urn:xmpp:reply:0";
pub const FALLBACK: &str = "urn:xmpp:fallback:0";

/// A quote kept at most, in bytes (the first lines of the fallback).
pub const MAX_QUOTE_BYTES: usize = 256;

/// What a message answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Who wrote it, as the replier says (`room/nick` or a JID).
    pub to: Option<String>,
    /// Its id (stanza-id in a room, id in a chat).
    pub id: String,
    /// The quoted text of the fallback (its `>` marks and a leading
    /// "… wrote:" line gone), bounded: shown when we do not hold the
    /// message answered.
    pub quote: Option<String>,
}

/// Reads `<reply/>` and takes its fallback quote out of `body`. Without
/// `<reply/>` the body stays as it is, even with a fallback marker (we do
/// not understand what it stands in for); so does a body whose marked
/// range is wrong.
pub fn split(m: &Message, body: String) -> (Option<Reply>, String) {
    let Some(r) = m.payloads.iter().find(|p| p.is("reply", REPLY)) else {
        return (None, body);
    };
    let Some(id) = r.attr("id").filter(|i| !i.is_empty()) else {
        return (None, body);
    };
    let mut reply = Reply {
        to: r.attr("to").filter(|t| !t.is_empty()).map(str::to_string),
        id: id.to_string(),
        quote: None,
    };
    let range = m
        .payloads
        .iter()
        .filter(|p| p.is("fallback", FALLBACK) && p.attr("for") == Some(REPLY))
        .flat_map(|f| f.children().filter(|c| c.is("body", FALLBACK)))
        .find_map(|b| {
            let start: usize = b.attr("start")?.parse().ok()?;
            let end: usize = b.attr("end")?.parse().ok()?;
            Some((start, end))
        });
    let Some((start, end)) = range else {
        return (Some(reply), body);
    };
    let chars = body.chars().count();
    if start > end || end > chars {
        return (Some(reply), body);
    }
    let at = |n: usize| body.char_indices().nth(n).map_or(body.len(), |(i, _)| i);
    let (s, e) = (at(start), at(end));
    let quoted = &body[s..e];
    let rest = format!("{}{}", &body[..s], &body[e..]);
    if rest.trim().is_empty() {
        // Nothing but the quote: keep what was written.
        return (Some(reply), body);
    }
    reply.quote = quote_of(quoted);
    (Some(reply), rest.trim_start_matches('\n').to_string())
}

/// The quoted lines of a fallback without their `>` marks and a leading
/// "… wrote:" line, bounded.
fn quote_of(fallback: &str) -> Option<String> {
    let mut lines: Vec<&str> = fallback
        .lines()
        .map(|l| l.trim_start_matches('>').trim())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 1 && lines[0].ends_with("wrote:") {
        lines.remove(0);
    }
    let mut q = lines.join("\n");
    if q.len() > MAX_QUOTE_BYTES {
        let mut cut = MAX_QUOTE_BYTES;
        while !q.is_char_boundary(cut) {
            cut -= 1;
        }
        q.truncate(cut);
    }
    (!q.is_empty()).then_some(q)
}

/// Makes `m` a reply to message `id` by `to`: `<reply/>`, and a quote of
/// `quoted` (its first line) by `author` before the body, marked as the
/// fallback.
pub fn add(m: &mut Message, to: Option<&Jid>, id: &str, author: &str, quoted: &str) {
    let first = quoted.lines().next().unwrap_or("");
    let fallback = format!("> {author} wrote:\n> {first}\n");
    let end = fallback.chars().count();
    let body = m.bodies.remove("").unwrap_or_default();
    m.bodies.insert(Lang::new(), format!("{fallback}{body}"));
    let mut r = Element::builder("reply", REPLY).attr(nc("id"), id);
    if let Some(to) = to {
        r = r.attr(nc("to"), to.to_string());
    }
    m.payloads.push(r.build());
    m.payloads.push(
        Element::builder("fallback", FALLBACK)
            .attr(nc("for"), REPLY)
            .append(
                Element::builder("body", FALLBACK)
                    .attr(nc("start"), "0")
                    .attr(nc("end"), end.to_string())
                    .build(),
            )
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Incoming, classify_message, fixtures::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    #[test]
    fn the_xeps_example_strips_the_fallback() {
        // XEP-0461 §5 example 2 (the fallback counts code points).
        let m = msg("<message xmlns='jabber:client' to='anna@example.com' id='message-id2' type='chat' from='bob@example.com/x'>
              <body>&gt; Anna wrote:\n&gt; We should bake a cake\nGreat idea!</body>
              <reply to='anna@example.com/laptop' id='message-id1' xmlns='urn:xmpp:reply:0' />
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>
                <body start='0' end='38' />
              </fallback>
            </message>");
        let Incoming::Chat(c) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(c.body, "Great idea!");
        let r = c.reply.unwrap();
        assert_eq!(r.id, "message-id1");
        assert_eq!(r.to.as_deref(), Some("anna@example.com/laptop"));
        assert_eq!(r.quote.as_deref(), Some("We should bake a cake"));
    }

    #[test]
    fn code_points_not_bytes() {
        let m = msg("<message xmlns='jabber:client' from='r@c/bob' type='groupchat'>
              <body>&gt; 🐢 ü\nok</body>
              <reply to='r@c/anna' id='s1' xmlns='urn:xmpp:reply:0'/>
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='6'/></fallback></message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(rm.body, "ok");
        assert_eq!(rm.reply.unwrap().quote.as_deref(), Some("🐢 ü"));
    }

    #[test]
    fn what_we_do_not_understand_stays() {
        // A fallback marker without <reply/>: the body as it is.
        let m = msg("<message xmlns='jabber:client' from='r@c/bob' type='groupchat'><body>&gt; x\ny</body>
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='4'/></fallback></message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(rm.body, "> x\ny");
        assert!(rm.reply.is_none());
        // A range past the end, or backwards: the body as it is.
        for (s, e) in [("0", "99"), ("3", "1"), ("a", "2")] {
            let m = msg(&format!("<message xmlns='jabber:client' from='r@c/bob' type='groupchat'><body>&gt; x\ny</body>
                  <reply id='s1' xmlns='urn:xmpp:reply:0'/>
                  <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='{s}' end='{e}'/></fallback></message>"));
            let Incoming::RoomMessage(rm) = classify_message(&m) else {
                panic!()
            };
            assert_eq!(rm.body, "> x\ny");
            assert_eq!(rm.reply.unwrap().id, "s1");
        }
        // Nothing but the quote: kept.
        let m = msg("<message xmlns='jabber:client' from='r@c/bob' type='groupchat'><body>&gt; x</body>
              <reply id='s1' xmlns='urn:xmpp:reply:0'/>
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='3'/></fallback></message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(rm.body, "> x");
    }

    #[test]
    fn builder_round_trip() {
        let room = jid::BareJid::new("coven@chat.shakespeare.lit").unwrap();
        let mut m = crate::muc::groupchat(&room, "Indeed 🐢", "me-1");
        let to = Jid::new("coven@chat.shakespeare.lit/anna").unwrap();
        add(
            &mut m,
            Some(&to),
            "sid-1",
            "anna",
            "We should bake a cake\nand more",
        );
        let mut back = Message::try_from(Element::from(m)).unwrap();
        back.from = Some(Jid::new("coven@chat.shakespeare.lit/bob").unwrap());
        assert_eq!(
            back.bodies[""],
            "> anna wrote:\n> We should bake a cake\nIndeed 🐢"
        );
        let Incoming::RoomMessage(rm) = classify_message(&back) else {
            panic!()
        };
        assert_eq!(rm.body, "Indeed 🐢");
        let r = rm.reply.unwrap();
        assert_eq!(r.id, "sid-1");
        assert_eq!(r.to.as_deref(), Some("coven@chat.shakespeare.lit/anna"));
        assert_eq!(r.quote.as_deref(), Some("We should bake a cake"));
    }
}

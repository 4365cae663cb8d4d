//! XEP-0313 Message Archive Management, as confab uses it: catching up
//! on a room's archive (the room is the archive) after a join or a
//! reconnection, paged with XEP-0059 RSM.

use chrono::{DateTime, SecondsFormat, Utc};
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::message::Message;

use super::rooms::{rsm_query, rsm_result};
use super::{Incoming, classify_message, delay_stamp, nc, ns};

pub const MAM: &str = "urn:xmpp:mam:2";
pub const FORWARD: &str = "urn:xmpp:forward:0";
pub const DATA_FORMS: &str = "jabber:x:data";

/// Where a catch-up query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// After this archive id (the XEP-0359 stanza-id the room gave).
    After(String),
    /// Everything since this time (no stanza-id known, or the archive
    /// forgot it).
    Start(DateTime<Utc>),
}

/// The `<query/>` of a catch-up page: `max` results from `anchor` on.
pub fn query(queryid: &str, anchor: &Anchor, max: u32) -> Element {
    let field = |var: &str, value: &str, hidden: bool| {
        let mut f = Element::builder("field", DATA_FORMS).attr(nc("var"), var);
        if hidden {
            f = f.attr(nc("type"), "hidden");
        }
        f.append(
            Element::builder("value", DATA_FORMS)
                .append(value.to_string())
                .build(),
        )
        .build()
    };
    let mut form = Element::builder("x", DATA_FORMS)
        .attr(nc("type"), "submit")
        .append(field("FORM_TYPE", MAM, true));
    if let Anchor::Start(t) = anchor {
        form = form.append(field(
            "start",
            &t.to_rfc3339_opts(SecondsFormat::Millis, true),
            false,
        ));
    }
    let after = match anchor {
        Anchor::After(id) => Some(id.as_str()),
        Anchor::Start(_) => None,
    };
    Element::builder("query", MAM)
        .attr(nc("queryid"), queryid)
        .append(form.build())
        .append(rsm_query(max, after))
        .build()
}

/// The end of a page: the `<fin/>` of the IQ result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fin {
    pub complete: bool,
    /// The id of the last result of the page (RSM `<last/>`).
    pub last: Option<String>,
}

/// Reads the `<fin/>` answering a query; `None` when the payload is not
/// one.
pub fn parse_fin(payload: &Element) -> Option<Fin> {
    if !payload.is("fin", MAM) {
        return None;
    }
    let complete = matches!(payload.attr("complete"), Some("true") | Some("1"));
    let last = rsm_result(payload)
        .and_then(|s| s.last)
        .filter(|l| !l.is_empty());
    Some(Fin { complete, last })
}

/// One archived message, as the archive forwards it to us.
#[derive(Debug, Clone, PartialEq)]
pub struct MamResult {
    /// Who sent the result (the room, for a room's archive; `None`: our
    /// own account's archive).
    pub archive: Option<Jid>,
    pub queryid: String,
    /// The archive id, which is the stanza-id the room gave the message.
    pub id: String,
    /// When the archive got it (the forwarded `<delay/>`).
    pub time: Option<DateTime<Utc>>,
    /// The forwarded message, classified like a live one.
    pub message: Box<Incoming>,
}

/// Reads a `<message><result xmlns='urn:xmpp:mam:2'>…</message>`; `None`
/// when the message carries no result. A result without its forwarded
/// message or ids is [`Incoming::Ignored`].
pub fn parse_result(m: &Message) -> Option<Incoming> {
    let result = m.payloads.iter().find(|p| p.is("result", MAM))?;
    Some(read_result(m.from.clone(), result.clone()))
}

/// [`parse_result`] of a message the caller gives up: the result is
/// moved out of `m` (its forwarded message is not copied; `m` loses that
/// payload). `None`, `m` untouched, when the message carries no result.
pub fn take_result(m: &mut Message) -> Option<Incoming> {
    let at = m.payloads.iter().position(|p| p.is("result", MAM))?;
    let result = m.payloads.remove(at);
    Some(read_result(m.from.clone(), result))
}

fn read_result(archive: Option<Jid>, mut result: Element) -> Incoming {
    let (Some(queryid), Some(id)) = (result.attr("queryid"), result.attr("id")) else {
        return Incoming::Ignored("MAM result without queryid or id");
    };
    let (queryid, id) = (queryid.to_string(), id.to_string());
    let Some(mut fwd) = result.remove_child("forwarded", FORWARD) else {
        return Incoming::Ignored("MAM result without forwarded");
    };
    let Some(inner) = fwd
        .remove_child("message", ns::JABBER_CLIENT)
        .and_then(super::forwarded::message_of)
    else {
        return Incoming::Ignored("MAM result without a message");
    };
    let time = fwd
        .children()
        .find(|c| c.is("delay", ns::DELAY))
        .and_then(delay_stamp);
    if inner.payloads.iter().any(|p| p.is("result", MAM)) {
        // A result inside a result is never ours.
        return Incoming::Ignored("nested MAM result");
    }
    Incoming::MamResult(MamResult {
        archive,
        queryid,
        id,
        time,
        message: Box::new(classify_message(&inner)),
    })
}

/// Whether a disco#info answer lists `feature`.
pub fn has_feature(info: Option<&Element>, feature: &str) -> bool {
    info.is_some_and(|q| {
        q.is("query", ns::DISCO_INFO)
            && q.children()
                .any(|f| f.is("feature", ns::DISCO_INFO) && f.attr("var") == Some(feature))
    })
}

/// A disco#info request payload.
pub fn disco_info() -> Element {
    Element::builder("query", ns::DISCO_INFO).build()
}

/// Whether a result came from the room archive we asked (its bare JID).
pub fn from_archive(r: &MamResult, archive: &BareJid) -> bool {
    r.archive
        .as_ref()
        // Equal only to the bare JID itself (no resource).
        .is_some_and(|a| a == archive)
}

/// Whether a result came from our account's archive: our bare JID, or no
/// `from` (our server, on behalf of the account).
pub fn from_account_archive(r: &MamResult, account: &BareJid) -> bool {
    r.archive.is_none() || from_archive(r, account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;
    use xmpp_parsers::ns::RSM;

    #[test]
    fn query_after_a_stanza_id() {
        let q = query("f27", &Anchor::After("09af3-cc343-b409f".into()), 10);
        assert!(q.is("query", MAM));
        assert_eq!(q.attr("queryid"), Some("f27"));
        let x = q.get_child("x", DATA_FORMS).unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        let ft = x.children().next().unwrap();
        assert_eq!(ft.attr("var"), Some("FORM_TYPE"));
        assert_eq!(ft.attr("type"), Some("hidden"));
        assert_eq!(ft.get_child("value", DATA_FORMS).unwrap().text(), MAM);
        assert_eq!(x.children().count(), 1, "no start field with an id");
        let set = q.get_child("set", RSM).unwrap();
        assert_eq!(set.get_child("max", RSM).unwrap().text(), "10");
        assert_eq!(
            set.get_child("after", RSM).unwrap().text(),
            "09af3-cc343-b409f"
        );
    }

    #[test]
    fn query_from_a_time() {
        let t = DateTime::parse_from_rfc3339("2010-08-07T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let q = query("q2", &Anchor::Start(t), 50);
        let x = q.get_child("x", DATA_FORMS).unwrap();
        let start = x
            .children()
            .find(|f| f.attr("var") == Some("start"))
            .unwrap();
        assert_eq!(
            start.get_child("value", DATA_FORMS).unwrap().text(),
            "2010-08-07T00:00:00.000Z"
        );
        let set = q.get_child("set", RSM).unwrap();
        assert!(set.get_child("after", RSM).is_none());
    }

    #[test]
    fn fin_of_the_last_page_and_of_a_middle_page() {
        // XEP-0313 §4.3 / XEP-0059 examples.
        let done = el("<fin xmlns='urn:xmpp:mam:2' complete='true'>
              <set xmlns='http://jabber.org/protocol/rsm'>
                <first index='0'>23452-4534-1</first>
                <last>390-2342-22</last>
                <count>16</count>
              </set>
            </fin>");
        assert_eq!(
            parse_fin(&done),
            Some(Fin {
                complete: true,
                last: Some("390-2342-22".into())
            })
        );
        let more = el("<fin xmlns='urn:xmpp:mam:2'>
              <set xmlns='http://jabber.org/protocol/rsm'>
                <first index='0'>28482-98726-73623</first>
                <last>09af3-cc343-b409f</last>
              </set>
            </fin>");
        let f = parse_fin(&more).unwrap();
        assert!(!f.complete);
        assert_eq!(f.last.as_deref(), Some("09af3-cc343-b409f"));
        // An empty page.
        let empty = el(
            "<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><count>0</count></set></fin>",
        );
        assert_eq!(parse_fin(&empty).unwrap().last, None);
        assert_eq!(parse_fin(&el("<query xmlns='urn:xmpp:mam:2'/>")), None);
    }

    fn message(xml: &str) -> Message {
        Message::try_from(el(xml)).unwrap()
    }

    #[test]
    fn result_of_a_room_archive() {
        // XEP-0313 §5.1.2 (a MUC archive).
        let m = message("<message xmlns='jabber:client' id='aeb213' to='juliet@capulet.lit/chamber' from='coven@chat.shakespeare.lit'>
              <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
                <forwarded xmlns='urn:xmpp:forward:0'>
                  <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
                  <message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' id='162BEBB1-F6DB-4D9A-9BD8-CFDCC801A0B2' type='groupchat'>
                    <body>Thrice the brinded cat hath mew'd.</body>
                    <x xmlns='http://jabber.org/protocol/muc#user'>
                      <item affiliation='none' jid='witch1@shakespeare.lit' role='participant' />
                    </x>
                  </message>
                </forwarded>
              </result>
            </message>");
        let Some(Incoming::MamResult(r)) = parse_result(&m) else {
            panic!("a MAM result")
        };
        assert_eq!(r.queryid, "f27");
        assert_eq!(r.id, "28482-98726-73623");
        assert_eq!(r.time.unwrap().to_rfc3339(), "2010-07-10T23:08:25+00:00");
        let room = BareJid::new("coven@chat.shakespeare.lit").unwrap();
        assert!(from_archive(&r, &room));
        assert!(!from_archive(
            &r,
            &BareJid::new("other@chat.shakespeare.lit").unwrap()
        ));
        let Incoming::RoomMessage(rm) = *r.message else {
            panic!("the forwarded groupchat message")
        };
        assert_eq!(rm.nick.as_deref(), Some("firstwitch"));
        assert_eq!(rm.body, "Thrice the brinded cat hath mew'd.");
        // classify_message sees the wrapper as a result, too.
        assert!(matches!(classify_message(&m), Incoming::MamResult(_)));
        // Taken out of an owned message: the same result, field for field.
        let borrowed = parse_result(&m);
        assert_eq!(
            crate::classify_message_owned(m.clone()),
            classify_message(&m)
        );
        let mut owned = m;
        assert_eq!(take_result(&mut owned), borrowed);
        assert!(owned.payloads.iter().all(|p| !p.is("result", MAM)));
    }

    #[test]
    fn result_of_our_account_archive() {
        // XEP-0313 §4.2: our own message, from the account's archive.
        let m = message("<message xmlns='jabber:client' to='alice@localhost/a'>
              <result xmlns='urn:xmpp:mam:2' queryid='q1' id='S9'>
                <forwarded xmlns='urn:xmpp:forward:0'>
                  <delay xmlns='urn:xmpp:delay' stamp='2026-12-06T07:00:00Z'/>
                  <message xmlns='jabber:client' from='alice@localhost/b' to='bob@localhost' type='chat'><body>yo</body></message>
                </forwarded></result></message>");
        let Some(Incoming::MamResult(r)) = parse_result(&m) else {
            panic!("a MAM result")
        };
        let me = BareJid::new("alice@localhost").unwrap();
        assert!(from_account_archive(&r, &me));
        let Incoming::Chat(c) = *r.message.clone() else {
            panic!("a chat message")
        };
        let (peer, own) = c.peer(&me).unwrap();
        assert_eq!((peer.to_string().as_str(), own), ("bob@localhost", true));
        // From our bare JID: ours too; from anyone else: not.
        for (from, ok) in [
            ("alice@localhost", true),
            ("alice@localhost/b", false),
            ("bob@localhost", false),
            ("localhost", false),
        ] {
            let r = MamResult {
                archive: Some(Jid::new(from).unwrap()),
                ..r.clone()
            };
            assert_eq!(from_account_archive(&r, &me), ok, "{from}");
        }
    }

    #[test]
    fn broken_results_are_ignored() {
        let no_id = message(
            "<message xmlns='jabber:client' from='r@c'><result xmlns='urn:xmpp:mam:2' queryid='q'><forwarded xmlns='urn:xmpp:forward:0'/></result></message>",
        );
        assert!(matches!(parse_result(&no_id), Some(Incoming::Ignored(_))));
        let no_msg = message(
            "<message xmlns='jabber:client' from='r@c'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'/></result></message>",
        );
        assert!(matches!(parse_result(&no_msg), Some(Incoming::Ignored(_))));
        let plain = message(
            "<message xmlns='jabber:client' from='r@c' type='groupchat'><body>x</body></message>",
        );
        assert!(parse_result(&plain).is_none());
        // Taking them gives the same, and a plain message keeps its
        // payloads.
        for mut m in [no_id, no_msg, plain] {
            let (borrowed, before) = (parse_result(&m), m.clone());
            assert_eq!(
                crate::classify_message_owned(m.clone()),
                classify_message(&m)
            );
            let taken = take_result(&mut m);
            assert_eq!(taken, borrowed);
            if taken.is_none() {
                assert_eq!(m, before);
            }
        }
    }

    #[test]
    fn room_features() {
        let info = el("<query xmlns='http://jabber.org/protocol/disco#info'>
              <identity category='conference' type='text' name='The Coven'/>
              <feature var='http://jabber.org/protocol/muc'/>
              <feature var='urn:xmpp:mam:2'/>
              <feature var='urn:xmpp:sid:0'/>
            </query>");
        assert!(has_feature(Some(&info), MAM));
        assert!(!has_feature(Some(&info), "urn:xmpp:mam:1"));
        assert!(!has_feature(None, MAM));
    }
}

//! **confab-proto** — the bottom layer. Rule: pure functions and plain
//! data over XMPP stanzas (xmpp-parsers/minidom); no I/O, no tokio, no
//! state, and no other confab crate. It owns the types every layer shares
//! (`Show`, `Protocol`, `ErrorInfo`, `Dropped`, `Incoming`).
//!
//! Pure protocol code: builds and parses stanzas. No tokio, no store.
//!
//! Incoming stanzas are classified by [`classify`] into [`Incoming`] values
//! that the store understands; outgoing stanzas are built by the functions
//! of the submodules.

pub mod adhoc;
pub mod admin;
pub mod bookmarks;
pub mod carbons;
pub mod channel_search;
pub mod chat_states;
pub mod chatting;
pub mod conference;
pub mod correction;
pub mod disco;
mod dropped;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod focus;
pub mod forwarded;
pub mod invite;
pub mod iq;
pub mod jingle;
pub mod jmi;
pub mod mam;
pub mod message;
pub mod muc;
pub mod omemo;
pub mod omemo_muc;
pub mod omemo_pep;
pub mod origin;
pub mod owner;
pub mod pep;
pub mod reactions;
pub mod reply;
pub mod retract;
mod room_protocol;
pub mod rooms;
pub mod roster;
pub mod sce;
pub mod selfping;
mod show;
pub mod upload;
pub mod xml_chars;

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::StanzaError;

pub use dropped::{Dropped, Limit};
pub use message::{ChatMessage, RoomMessage};
pub use muc::{MucPresence, OccupantInfo};
pub use room_protocol::Protocol;
pub use show::Show;

/// Namespaces this module works with that xmpp-parsers does not name.
pub mod ns {
    pub const MUC: &str = "http://jabber.org/protocol/muc";
    pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
    pub const DELAY: &str = "urn:xmpp:delay";
    pub const STANZA_ID: &str = "urn:xmpp:sid:0";
    pub const OCCUPANT_ID: &str = "urn:xmpp:occupant-id:0";
    pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
    pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
    pub const PING: &str = "urn:xmpp:ping";
    pub const CAPS: &str = "http://jabber.org/protocol/caps";
    pub const JABBER_CLIENT: &str = "jabber:client";
    pub const JINGLE: &str = "urn:xmpp:jingle:1";
    pub const JINGLE_RTP: &str = "urn:xmpp:jingle:apps:rtp:1";
    pub const JINGLE_RTP_AUDIO: &str = "urn:xmpp:jingle:apps:rtp:audio";
    pub const JINGLE_ICE_UDP: &str = "urn:xmpp:jingle:transports:ice-udp:1";
    pub const JINGLE_DTLS: &str = "urn:xmpp:jingle:apps:dtls:0";
    pub const JINGLE_GROUPING: &str = "urn:xmpp:jingle:apps:grouping:0";
    /// XEP-0521 Jingle A/V conferences (client and service feature).
    pub const JINGLE_AV_CONFERENCES: &str = "urn:xmpp:jingle:av-conferences:0";
    /// XEP-0521: the ad-hoc command node for room options.
    pub const AV_CONFERENCES_CONFIG: &str = "urn:xmpp:av-conferences:config";
    /// XEP-0298 Coin.
    pub const COIN: &str = "urn:xmpp:coin:1";
    /// XEP-0050 ad-hoc commands.
    pub const COMMANDS: &str = "http://jabber.org/protocol/commands";
}

/// An XMPP error reduced to what a user needs: the defined condition and
/// the human-readable text, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub condition: String,
    pub text: Option<String>,
}

/// A `bad-request` with `text`: what the parsers answer to input they
/// cannot read.
pub(crate) fn bad(text: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new("bad-request", Some(text.into()))
}

impl ErrorInfo {
    pub fn new(condition: &str, text: impl Into<Option<String>>) -> ErrorInfo {
        ErrorInfo {
            condition: condition.to_string(),
            text: text.into(),
        }
    }

    pub fn from_stanza_error(err: &StanzaError) -> ErrorInfo {
        let condition = defined_condition_name(err);
        let text = err
            .texts
            .get("en")
            .or_else(|| err.texts.values().next())
            .cloned();
        ErrorInfo { condition, text }
    }

    /// Parses an `<error/>` element leniently: an unknown or missing
    /// condition becomes `undefined-condition` rather than a parse failure.
    pub fn from_error_element(el: &Element) -> ErrorInfo {
        let mut condition = None;
        let mut text = None;
        for child in el.children() {
            if child.ns() == ns::STANZAS {
                if child.name() == "text" {
                    text = Some(child.text());
                } else if condition.is_none() {
                    condition = Some(child.name().to_string());
                }
            }
        }
        ErrorInfo {
            condition: condition.unwrap_or_else(|| "undefined-condition".into()),
            text,
        }
    }
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(t) => write!(f, "{}: {}", self.condition, t),
            None => f.write_str(&self.condition),
        }
    }
}

fn defined_condition_name(err: &StanzaError) -> String {
    // The element name of the condition, via serialisation of the error.
    let el: Element = err.clone().into();
    ErrorInfo::from_error_element(&el).condition
}

/// The bare JID of `j`: its copy cut at the resource. `Jid::to_bare`
/// builds the string again through `format!` (about 1,500 instructions,
/// paid on every stanza of a big room); this is a copy and a truncation.
pub fn bare(j: &Jid) -> BareJid {
    j.clone().into_bare()
}

/// Makes an XML name for attributes of elements we build by hand.
pub fn nc(name: &str) -> minidom::rxml::NcName {
    minidom::rxml::NcName::try_from(name).expect("attribute names in confab are valid NCNames")
}

/// A stanza as the store sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Presence from a MUC occupant (or about our own join).
    MucPresence(MucPresence),
    /// A presence error from a room (join refused, nick conflict, ...).
    MucPresenceError {
        room: BareJid,
        nick: Option<String>,
        error: ErrorInfo,
    },
    /// A groupchat message from a room.
    RoomMessage(RoomMessage),
    /// A subject change in a room.
    Subject {
        room: BareJid,
        nick: Option<String>,
        subject: String,
        delayed: bool,
    },
    /// A chat/normal message: one-to-one, or private in a room (`room/nick`).
    Chat(ChatMessage),
    /// A XEP-0280 carbon copy (the session passes on only those our own
    /// account forwarded).
    Carbon(carbons::Carbon),
    /// A message bounced with an error.
    MessageError {
        from: Option<Jid>,
        id: Option<String>,
        error: ErrorInfo,
    },
    /// A voice request a room passes to its moderators (XEP-0045 §7.13).
    VoiceRequest(admin::VoiceRequest),
    /// A XEP-0308 correction of an earlier message in a room.
    Correction(correction::Correction),
    /// XEP-0444 reactions to a message (a room's or a chat's).
    Reactions(reactions::Reactions),
    /// XEP-0424 retraction, XEP-0425 moderation, or an archive's tombstone.
    Retraction(retract::Retraction),
    /// A XEP-0313 archive result (the app checks that it answers one of
    /// its queries).
    MamResult(mam::MamResult),
    /// A XEP-0410 self-ping found that the room no longer has us (the
    /// session rejoins it).
    MucDropped { room: BareJid, error: ErrorInfo },
    /// An invitation to a room (direct, mediated or legacy).
    Invitation(invite::Invitation),
    /// A room relays that someone declined our invitation.
    InvitationDeclined(invite::Decline),
    /// A XEP-0194 chatting event of a contact (PEP).
    Chatting(chatting::ChattingEvent),
    /// An OMEMO device list pushed by PEP (XEP-0384, either version).
    OmemoDevices(omemo_pep::DeviceListPush),
    /// XEP-0085: a bodyless chat state notice ("typing…").
    ChatState(chat_states::ChatStateNotice),
    /// A subscription presence (`subscribe`, `subscribed`, …).
    Subscription(roster::SubscriptionRequest),
    /// XEP-0353: a one-to-one call rings, is answered, declined, retracted.
    CallMessage(jmi::CallMessage),
    /// Something we do not act on (kept for diagnostics).
    Ignored(&'static str),
}

/// Classifies a received presence. Any presence from `name@service/res`
/// is read as occupant presence (groupchat 1.0 rooms send no `muc#user`);
/// the store ignores it unless that bare JID is one of our rooms.
pub fn classify_presence(p: &Presence) -> Incoming {
    if let Some(s) = roster::parse_subscription(p) {
        return s;
    }
    muc::parse_presence(p).unwrap_or(Incoming::Ignored("presence"))
}

/// Classifies a received message.
pub fn classify_message(m: &Message) -> Incoming {
    if m.type_ == MessageType::Error {
        let error = m
            .payloads
            .iter()
            .find(|p| p.is("error", ns::JABBER_CLIENT))
            .map(ErrorInfo::from_error_element)
            .unwrap_or_else(|| ErrorInfo::new("undefined-condition", None));
        return Incoming::MessageError {
            from: m.from.clone(),
            id: m.id.as_ref().map(|i| i.0.clone()),
            error,
        };
    }
    if let Some(result) = mam::parse_result(m) {
        return result;
    }
    classify_plain(m)
}

/// [`classify_message`] of a message the caller gives up: an archive
/// result's forwarded message is moved out rather than copied (a
/// catch-up is made of them).
pub fn classify_message_owned(mut m: Message) -> Incoming {
    if m.type_ == MessageType::Error {
        return classify_message(&m);
    }
    match mam::take_result(&mut m) {
        Some(result) => result,
        None => classify_plain(&m),
    }
}

/// A message that is neither an error nor an archive result.
fn classify_plain(m: &Message) -> Incoming {
    if let Some(carbon) = carbons::parse(m) {
        return carbon;
    }
    // PEP events (XEP-0194) before chat parsing: they have no body.
    if let Some(event) = chatting::parse_event(m) {
        return event;
    }
    if let Some(push) = omemo_pep::parse_device_list_push(m) {
        return push;
    }
    // Bodyless (or with a fallback body) and about an earlier message.
    if let Some(r) = retract::parse(m) {
        return r;
    }
    if let Some(r) = reactions::parse(m) {
        return r;
    }
    if m.type_ == MessageType::Groupchat {
        return correction::refine(m, message::parse_groupchat(m));
    }
    if let Some(vr) = admin::parse_voice_request(m) {
        return Incoming::VoiceRequest(vr);
    }
    // Call ringing (XEP-0353) has no body.
    if let Some(c) = jmi::parse(m) {
        return Incoming::CallMessage(c);
    }
    // Invitations usually have no body (and when they have one, it is
    // not a chat message): before chat parsing.
    match invite::parse(m) {
        Some(invite::Parsed::Invitation(i)) => return Incoming::Invitation(i),
        Some(invite::Parsed::Decline(d)) => return Incoming::InvitationDeclined(d),
        None => {}
    }
    message::parse_chat(m)
}

/// Timestamp and "delayed" flag of a message: from XEP-0203 `<delay/>`
/// when present (a delay with a broken stamp still counts as delayed).
pub fn delay_of(payloads: &[Element]) -> (Option<DateTime<Utc>>, bool) {
    for p in payloads {
        if p.is("delay", ns::DELAY) {
            return (delay_stamp(p), true);
        }
    }
    (None, false)
}

/// The time a `<delay/>` claims (`None`: no stamp, or a broken one).
pub(crate) fn delay_stamp(delay: &Element) -> Option<DateTime<Utc>> {
    delay
        .attr("stamp")
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// A XEP-0203 `<delay/>` as found: the time it claims (`None`: a broken
/// stamp) and who claims it. Anyone can put one in a stanza; it means
/// something only from an entity that stored the stanza for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delay {
    pub stamp: Option<DateTime<Utc>>,
    pub from: Option<Jid>,
}

/// The `<delay/>`s of a stanza, in document order.
pub fn delays(payloads: &[Element]) -> Vec<Delay> {
    payloads
        .iter()
        .filter(|p| p.is("delay", ns::DELAY))
        .map(|p| Delay {
            stamp: p
                .attr("stamp")
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc)),
            from: p.attr("from").and_then(|f| Jid::new(f).ok()),
        })
        .collect()
}

/// Timestamp and "delayed" flag from the `<delay/>` that `trusted`
/// accepts (the last one: a storing server appends its own), ignoring
/// delays anyone else put there: `(None, false)` means "now". XEP-0045
/// history carries the room's delay, XEP-0160 offline storage our
/// server's; a delay from the sender is only a claim.
pub fn trusted_delay(
    payloads: &[Element],
    trusted: impl Fn(&Jid) -> bool,
) -> (Option<DateTime<Utc>>, bool) {
    delays(payloads)
        .into_iter()
        .rev()
        .find(|d| d.from.as_ref().is_some_and(&trusted))
        .map_or((None, false), |d| (d.stamp, true))
}

/// The XEP-0359 stanza-id assigned by `by`, if any.
pub fn stanza_id_by(payloads: &[Element], by: &BareJid) -> Option<String> {
    payloads
        .iter()
        .filter(|p| p.is("stanza-id", ns::STANZA_ID))
        .find(|p| {
            p.attr("by")
                .and_then(|b| BareJid::new(b).ok())
                .is_some_and(|b| &b == by)
        })
        .and_then(|p| p.attr("id").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    #[test]
    fn error_info_from_element() {
        let e = el(
            "<error xmlns='jabber:client' type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Password required</text></error>",
        );
        let info = ErrorInfo::from_error_element(&e);
        assert_eq!(info.condition, "not-authorized");
        assert_eq!(info.text.as_deref(), Some("Password required"));
        assert_eq!(info.to_string(), "not-authorized: Password required");
    }

    #[test]
    fn error_info_without_condition() {
        let e = el("<error xmlns='jabber:client' type='cancel'/>");
        assert_eq!(
            ErrorInfo::from_error_element(&e).condition,
            "undefined-condition"
        );
    }

    #[test]
    fn delay_parsing() {
        let p = vec![el(
            "<delay xmlns='urn:xmpp:delay' from='r@c' stamp='2002-09-10T23:08:25Z'/>",
        )];
        let (t, d) = delay_of(&p);
        assert!(d);
        assert_eq!(t.unwrap().to_rfc3339(), "2002-09-10T23:08:25+00:00");
        let bad = vec![el("<delay xmlns='urn:xmpp:delay' stamp='yesterday'/>")];
        assert_eq!(delay_of(&bad), (None, true));
        assert_eq!(delay_of(&[]), (None, false));
    }

    #[test]
    fn only_trusted_delays_count() {
        let room = Jid::new("r@c").unwrap();
        let p = vec![el(
            "<delay xmlns='urn:xmpp:delay' from='r@c' stamp='2002-09-10T23:08:25Z'/>",
        )];
        let (t, d) = trusted_delay(&p, |f| *f == room);
        assert!(d);
        assert_eq!(t.unwrap().to_rfc3339(), "2002-09-10T23:08:25+00:00");
        // From someone else, or from no one: "now".
        for xml in [
            "<delay xmlns='urn:xmpp:delay' from='r@c/nick' stamp='1970-01-01T00:00:00Z'/>",
            "<delay xmlns='urn:xmpp:delay' from='mallory@evil' stamp='1970-01-01T00:00:00Z'/>",
            "<delay xmlns='urn:xmpp:delay' stamp='1970-01-01T00:00:00Z'/>",
        ] {
            assert_eq!(
                trusted_delay(&[el(xml)], |f| *f == room),
                (None, false),
                "{xml}"
            );
        }
        // The trusted one wins over a claim before it.
        let p = vec![
            el("<delay xmlns='urn:xmpp:delay' from='mallory@evil' stamp='1970-01-01T00:00:00Z'/>"),
            el("<delay xmlns='urn:xmpp:delay' from='r@c' stamp='2002-09-10T23:08:25Z'/>"),
        ];
        assert_eq!(
            trusted_delay(&p, |f| *f == room).0.unwrap().to_rfc3339(),
            "2002-09-10T23:08:25+00:00"
        );
    }

    #[test]
    fn stanza_id_only_from_the_right_assigner() {
        let p = vec![
            el("<stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='evil@example.org'/>"),
            el("<stanza-id xmlns='urn:xmpp:sid:0' id='real' by='room@conf.example.org'/>"),
        ];
        let room = BareJid::new("room@conf.example.org").unwrap();
        assert_eq!(stanza_id_by(&p, &room).as_deref(), Some("real"));
    }
}

//! Jingle RTP sessions (XEP-0166, XEP-0167) with ICE-UDP (XEP-0176),
//! DTLS-SRTP (XEP-0320), BUNDLE (XEP-0338) and Coin (XEP-0298), as used by
//! Jingle A/V conferences (XEP-0521). Pure: no tokio, no webrtc types.
//!
//! # API summary
//!
//! Data (plain structs, all fields public):
//! - [`MediaSession`] `{ contents: Vec<MediaContent>, bundle: Option<Vec<String>> }`
//! - [`MediaContent`] `{ name, creator, senders, description: Option<RtpDescription>, transport: IceTransport }`
//!   (`name` is the SDP `a=mid`; `description` is xmpp-parsers' `jingle_rtp::Description`)
//! - [`IceTransport`] `{ ufrag, pwd, candidates: Vec<Candidate>, fingerprint: Option<Fingerprint> }`
//!   (xmpp-parsers' own ICE transport has private fields, hence this one)
//! - [`Role`] `Initiator | Responder`
//!
//! Jingle ↔ SDP ([`sdp`]); `writer` is the role of the party that wrote the
//! description (the initiator for session-initiate, the responder for
//! session-accept) — for `set_remote_description` that is the peer:
//! - [`sdp::to_sdp`]`(&MediaSession, writer) -> Result<String, SdpError>`
//! - [`sdp::from_sdp`]`(&str, writer) -> Result<MediaSession, SdpError>`
//! - [`sdp::candidate_to_sdp`]`(&Candidate) -> String` — `"candidate:…"`, the
//!   value of webrtc's `RTCIceCandidateInit.candidate` (mid = content name)
//! - [`sdp::candidate_to_jingle`]`(&str) -> Result<Candidate, SdpError>`
//!   (accepts `candidate:…` with or without `a=`; send only component 1)
//!
//! Stanzas (payloads of `<iq type='set'>`; answer with `Ok(None)` or an error):
//! - [`session_initiate`]`(sid, initiator, &MediaSession, Option<&ConferenceInfo>) -> Element`
//! - [`session_accept`]`(sid, initiator, responder, &MediaSession, Option<&ConferenceInfo>) -> Element`
//! - [`transport_info`]`(sid, content_name, ufrag, pwd, &Candidate) -> Element`
//! - [`session_terminate`]`(sid, Reason, Option<&str>) -> Element` (`Reason` is xmpp-parsers'
//!   `jingle::Reason`: `Success`, `Decline`, `Gone`, `Busy`, `FailedTransport`, `GeneralError`…)
//! - [`parse`]`(&Element) -> Result<JingleIq, ErrorInfo>`: `JingleIq { action: Action, sid,
//!   initiator, responder, session, reason: Option<ReasonInfo>, conference: Option<ConferenceInfo> }`;
//!   `Action::Other(name)` keeps actions we do not know (Jitsi's `source-add`…);
//!   `other` keeps unknown children (`JingleIq::info_understood()` for session-info);
//!   never panics on hostile input
//! - errors to answer with: [`unknown_session`], [`out_of_order`], [`unsupported_info`],
//!   [`bad_request`]
//!
//! Coin ([`coin`]): [`ConferenceInfo`] `{ isfocus, users: Vec<CoinUser { entity, display }> }`,
//! `coin::build(&ConferenceInfo) -> Element`, `coin::parse(&Element) -> Option<ConferenceInfo>`,
//! `ConferenceInfo::focus_of(entity)`, `coin::display_entity("xmpp:a@b") == "a@b"`.
//!
//! Discovery: [`check_av_conference`]`(jid, &rooms::DiscoInfo) -> Result<(), ErrorInfo>`
//! (identity `conference/audio-video` and feature [`ns::JINGLE_AV_CONFERENCES`]).
//! Ad-hoc commands (XEP-0050, node [`ns::AV_CONFERENCES_CONFIG`]): `protocol::adhoc`.

pub mod coin;
pub mod sdp;

use std::net::IpAddr;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::jingle_dtls_srtp::Fingerprint;
use xmpp_parsers::jingle_grouping::{Group, Semantics};
use xmpp_parsers::jingle_ice_udp::Type as CandidateType;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use super::rooms::DiscoInfo;
use super::{ErrorInfo, bad, nc, ns};

pub use coin::{CoinUser, ConferenceInfo};
pub use xmpp_parsers::jingle::{Creator, Reason, Senders};
pub use xmpp_parsers::jingle_ice_udp::Candidate;
pub use xmpp_parsers::jingle_rtp::{Description as RtpDescription, Parameter, PayloadType};

/// XEP-0166 Jingle error conditions (`urn:xmpp:jingle:errors:1`).
pub const JINGLE_ERRORS: &str = "urn:xmpp:jingle:errors:1";

/// Which side of a Jingle session a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Initiator,
    Responder,
}

impl Role {
    /// The other side.
    pub fn other(self) -> Role {
        match self {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        }
    }
}

/// An ICE-UDP transport (XEP-0176) with its DTLS fingerprint (XEP-0320).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IceTransport {
    pub ufrag: Option<String>,
    pub pwd: Option<String>,
    pub candidates: Vec<Candidate>,
    pub fingerprint: Option<Fingerprint>,
}

/// One `<content/>` of a Jingle RTP session.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaContent {
    /// The content name; the `a=mid` of its SDP media section.
    pub name: String,
    pub creator: Creator,
    pub senders: Senders,
    /// `None` when the content has no RTP description (transport-info, or
    /// an application we do not know).
    pub description: Option<RtpDescription>,
    /// Empty when the content has no ICE-UDP transport.
    pub transport: IceTransport,
}

impl MediaContent {
    /// An audio content created by the initiator.
    pub fn new(name: &str, senders: Senders, description: RtpDescription) -> MediaContent {
        MediaContent {
            name: name.to_string(),
            creator: Creator::Initiator,
            senders,
            description: Some(description),
            transport: IceTransport::default(),
        }
    }
}

/// The contents of a Jingle RTP session and its BUNDLE group (XEP-0338).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaSession {
    pub contents: Vec<MediaContent>,
    /// The content names grouped with `semantics='BUNDLE'`.
    pub bundle: Option<Vec<String>>,
}

/// A Jingle action; unknown ones are kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    SessionInitiate,
    SessionAccept,
    SessionInfo,
    SessionTerminate,
    TransportInfo,
    ContentAdd,
    ContentRemove,
    ContentModify,
    ContentAccept,
    ContentReject,
    DescriptionInfo,
    SecurityInfo,
    TransportAccept,
    TransportReject,
    TransportReplace,
    /// Any other action (Jitsi's `source-add`, `source-remove`…).
    Other(String),
}

const ACTIONS: &[(&str, Action)] = &[
    ("session-initiate", Action::SessionInitiate),
    ("session-accept", Action::SessionAccept),
    ("session-info", Action::SessionInfo),
    ("session-terminate", Action::SessionTerminate),
    ("transport-info", Action::TransportInfo),
    ("content-add", Action::ContentAdd),
    ("content-remove", Action::ContentRemove),
    ("content-modify", Action::ContentModify),
    ("content-accept", Action::ContentAccept),
    ("content-reject", Action::ContentReject),
    ("description-info", Action::DescriptionInfo),
    ("security-info", Action::SecurityInfo),
    ("transport-accept", Action::TransportAccept),
    ("transport-reject", Action::TransportReject),
    ("transport-replace", Action::TransportReplace),
];

impl Action {
    pub fn from_name(name: &str) -> Action {
        ACTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Action::Other(name.to_string()))
    }

    pub fn name(&self) -> &str {
        match self {
            Action::Other(n) => n,
            a => ACTIONS
                .iter()
                .find(|(_, x)| x == a)
                .map(|(n, _)| *n)
                .unwrap_or("unknown"),
        }
    }
}

/// The `<reason/>` of a session-terminate (or other action), leniently
/// read: `condition` is the element name (`success`, `decline`, `gone`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonInfo {
    pub condition: String,
    pub text: Option<String>,
}

impl std::fmt::Display for ReasonInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(t) => write!(f, "{}: {}", self.condition, t),
            None => f.write_str(&self.condition),
        }
    }
}

/// A received `<jingle/>` element.
#[derive(Debug, Clone, PartialEq)]
pub struct JingleIq {
    pub action: Action,
    pub sid: String,
    pub initiator: Option<Jid>,
    pub responder: Option<Jid>,
    /// Contents (and BUNDLE group) as far as they are RTP/ICE-UDP.
    pub session: MediaSession,
    pub reason: Option<ReasonInfo>,
    /// XEP-0298 `<conference-info/>` child, if any.
    pub conference: Option<ConferenceInfo>,
    /// Other children (session-info payloads such as XEP-0167 `<ringing/>`).
    pub other: Vec<Element>,
}

/// XEP-0167 informational messages (`active`, `hold`, `mute`, `ringing`…).
pub const RTP_INFO: &str = "urn:xmpp:jingle:apps:rtp:info:1";

impl JingleIq {
    /// Whether a session-info is one we can acknowledge: empty (a ping),
    /// XEP-0167 informational messages, or Coin. Otherwise answer with
    /// [`unsupported_info`].
    pub fn info_understood(&self) -> bool {
        self.other.iter().all(|e| e.ns() == RTP_INFO)
    }
}

// ---------------------------------------------------------------- builders

fn senders_name(s: &Senders) -> &'static str {
    match s {
        Senders::Both => "both",
        Senders::Initiator => "initiator",
        Senders::Responder => "responder",
        Senders::None => "none",
    }
}

fn senders_of(name: &str) -> Option<Senders> {
    Some(match name {
        "both" => Senders::Both,
        "initiator" => Senders::Initiator,
        "responder" => Senders::Responder,
        "none" => Senders::None,
        _ => return None,
    })
}

fn creator_name(c: &Creator) -> &'static str {
    match c {
        Creator::Initiator => "initiator",
        Creator::Responder => "responder",
    }
}

fn setup_name(s: &xmpp_parsers::jingle_dtls_srtp::Setup) -> &'static str {
    use xmpp_parsers::jingle_dtls_srtp::Setup;
    match s {
        Setup::Active => "active",
        Setup::Passive => "passive",
        Setup::Actpass => "actpass",
    }
}

/// Colon-separated upper-case hex, as in SDP and XEP-0320 examples.
pub(crate) fn hex_colons(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn parse_hex_colons(s: &str) -> Option<Vec<u8>> {
    s.trim()
        .split(':')
        .map(|p| u8::from_str_radix(p.trim(), 16).ok())
        .collect()
}

fn fingerprint_element(f: &Fingerprint) -> Element {
    Element::builder("fingerprint", ns::JINGLE_DTLS)
        .attr(nc("hash"), String::from(f.hash.clone()))
        .attr(nc("setup"), setup_name(&f.setup))
        .append(hex_colons(&f.value))
        .build()
}

/// The `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>` element.
pub fn transport_element(t: &IceTransport) -> Element {
    let mut b = Element::builder("transport", ns::JINGLE_ICE_UDP);
    if let Some(u) = &t.ufrag {
        b = b.attr(nc("ufrag"), u.as_str());
    }
    if let Some(p) = &t.pwd {
        b = b.attr(nc("pwd"), p.as_str());
    }
    if let Some(f) = &t.fingerprint {
        b = b.append(fingerprint_element(f));
    }
    for c in &t.candidates {
        b = b.append(Element::from(c.clone()));
    }
    b.build()
}

/// The `<content/>` element of `c`.
pub fn content_element(c: &MediaContent) -> Element {
    let mut b = Element::builder("content", ns::JINGLE)
        .attr(nc("creator"), creator_name(&c.creator))
        .attr(nc("name"), c.name.as_str())
        .attr(nc("senders"), senders_name(&c.senders));
    if let Some(d) = &c.description {
        b = b.append(Element::from(d.clone()));
    }
    b.append(transport_element(&c.transport)).build()
}

fn group_element(names: &[String]) -> Element {
    Element::from(Group {
        semantics: Semantics::Bundle,
        contents: names
            .iter()
            .map(|n| xmpp_parsers::jingle_grouping::Content::new(n))
            .collect(),
    })
}

fn jingle(action: &str, sid: &str) -> minidom::ElementBuilder {
    Element::builder("jingle", ns::JINGLE)
        .attr(nc("action"), action)
        .attr(nc("sid"), sid)
}

fn with_session(
    mut b: minidom::ElementBuilder,
    session: &MediaSession,
    conference: Option<&ConferenceInfo>,
) -> Element {
    if let Some(names) = &session.bundle {
        b = b.append(group_element(names));
    }
    for c in &session.contents {
        b = b.append(content_element(c));
    }
    if let Some(ci) = conference {
        b = b.append(coin::build(ci));
    }
    b.build()
}

/// `session-initiate`; a conference focus (SFU) adds Coin `conference`.
pub fn session_initiate(
    sid: &str,
    initiator: &Jid,
    session: &MediaSession,
    conference: Option<&ConferenceInfo>,
) -> Element {
    let b = jingle("session-initiate", sid).attr(nc("initiator"), initiator.to_string());
    with_session(b, session, conference)
}

/// `session-accept` (XEP-0298: a focus being called adds its Coin
/// `conference` here).
pub fn session_accept(
    sid: &str,
    initiator: Option<&Jid>,
    responder: &Jid,
    session: &MediaSession,
    conference: Option<&ConferenceInfo>,
) -> Element {
    let mut b = jingle("session-accept", sid);
    if let Some(i) = initiator {
        b = b.attr(nc("initiator"), i.to_string());
    }
    let b = b.attr(nc("responder"), responder.to_string());
    with_session(b, session, conference)
}

/// `transport-info` carrying one trickled candidate of content
/// `content_name` (created by the initiator), with the ICE credentials.
pub fn transport_info(
    sid: &str,
    content_name: &str,
    ufrag: Option<&str>,
    pwd: Option<&str>,
    candidate: &Candidate,
) -> Element {
    let t = IceTransport {
        ufrag: ufrag.map(str::to_string),
        pwd: pwd.map(str::to_string),
        candidates: vec![candidate.clone()],
        fingerprint: None,
    };
    let content = Element::builder("content", ns::JINGLE)
        .attr(nc("creator"), "initiator")
        .attr(nc("name"), content_name)
        .append(transport_element(&t))
        .build();
    jingle("transport-info", sid).append(content).build()
}

/// The element name of a xmpp-parsers Jingle reason (`success`, `gone`…).
pub fn reason_name(reason: &Reason) -> String {
    Element::from(reason.clone()).name().to_string()
}

/// `session-terminate` with `reason` and an optional human text.
pub fn session_terminate(sid: &str, reason: Reason, text: Option<&str>) -> Element {
    let mut r = Element::builder("reason", ns::JINGLE).append(Element::from(reason));
    if let Some(t) = text {
        r = r.append(Element::builder("text", ns::JINGLE).append(t).build());
    }
    jingle("session-terminate", sid).append(r.build()).build()
}

fn jingle_error(
    type_: ErrorType,
    cond: DefinedCondition,
    specific: &str,
    text: &str,
) -> StanzaError {
    let mut e = StanzaError::new(type_, cond, "en", text);
    if text.is_empty() {
        e.texts.clear();
    }
    if !specific.is_empty() {
        e.other = Some(Element::builder(specific, JINGLE_ERRORS).build());
    }
    e
}

/// The answer to an action for a session we do not know.
pub fn unknown_session() -> StanzaError {
    jingle_error(
        ErrorType::Cancel,
        DefinedCondition::ItemNotFound,
        "unknown-session",
        "",
    )
}

/// The answer to an action that comes before its time (e.g. a
/// session-accept for a session we did not initiate).
pub fn out_of_order() -> StanzaError {
    jingle_error(
        ErrorType::Wait,
        DefinedCondition::UnexpectedRequest,
        "out-of-order",
        "",
    )
}

/// The answer to a session-info payload we do not understand.
pub fn unsupported_info() -> StanzaError {
    jingle_error(
        ErrorType::Modify,
        DefinedCondition::FeatureNotImplemented,
        "unsupported-info",
        "",
    )
}

/// The answer to a malformed Jingle element (`text` says what is wrong).
pub fn bad_request(text: &str) -> StanzaError {
    jingle_error(ErrorType::Modify, DefinedCondition::BadRequest, "", text)
}

// ----------------------------------------------------------------- parsing

/// Parses a `<jingle xmlns='urn:xmpp:jingle:1'/>` element. Unknown actions
/// become [`Action::Other`]; contents with other descriptions or transports
/// are kept with `description: None` / an empty transport; malformed parts
/// (a content without a name, an unreadable RTP description, a bad
/// candidate) are errors saying what is wrong.
pub fn parse(el: &Element) -> Result<JingleIq, ErrorInfo> {
    if !el.is("jingle", ns::JINGLE) {
        return Err(bad("not a Jingle element"));
    }
    let action = el
        .attr("action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad("Jingle element without an action"))?;
    let sid = el
        .attr("sid")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("Jingle element without a sid"))?;
    let jid_attr = |name: &str| -> Result<Option<Jid>, ErrorInfo> {
        match el.attr(name) {
            None | Some("") => Ok(None),
            Some(v) => Jid::new(v)
                .map(Some)
                .map_err(|e| bad(format!("bad {name} {v:?}: {e}"))),
        }
    };
    let mut out = JingleIq {
        action: Action::from_name(action),
        sid: sid.to_string(),
        initiator: jid_attr("initiator")?,
        responder: jid_attr("responder")?,
        session: MediaSession::default(),
        reason: None,
        conference: None,
        other: Vec::new(),
    };
    for c in el.children() {
        if c.is("content", ns::JINGLE) {
            out.session.contents.push(parse_content(c)?);
        } else if c.is("group", ns::JINGLE_GROUPING) {
            if c.attr("semantics") == Some("BUNDLE") {
                out.session.bundle = Some(
                    c.children()
                        .filter(|g| g.is("content", ns::JINGLE_GROUPING))
                        .filter_map(|g| g.attr("name"))
                        .map(str::to_string)
                        .collect(),
                );
            }
        } else if c.is("reason", ns::JINGLE) {
            out.reason = Some(parse_reason(c));
        } else if let Some(ci) = coin::parse(c) {
            out.conference = Some(ci);
        } else {
            out.other.push(c.clone());
        }
    }
    Ok(out)
}

fn parse_reason(el: &Element) -> ReasonInfo {
    let mut condition = None;
    let mut text = None;
    for c in el.children() {
        if c.name() == "text" {
            text = Some(c.text());
        } else if condition.is_none() && c.ns() == ns::JINGLE {
            condition = Some(c.name().to_string());
        }
    }
    ReasonInfo {
        condition: condition.unwrap_or_else(|| "general-error".into()),
        text,
    }
}

fn parse_content(el: &Element) -> Result<MediaContent, ErrorInfo> {
    let name = el
        .attr("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("content without a name"))?;
    let creator = match el.attr("creator") {
        Some("responder") => Creator::Responder,
        _ => Creator::Initiator,
    };
    let senders = match el.attr("senders") {
        None => Senders::Both,
        Some(s) => senders_of(s).ok_or_else(|| bad(format!("bad senders {s:?}")))?,
    };
    let mut content = MediaContent {
        name: name.to_string(),
        creator,
        senders,
        description: None,
        transport: IceTransport::default(),
    };
    for c in el.children() {
        if c.is("description", ns::JINGLE_RTP) {
            let d = RtpDescription::try_from(c.clone()).map_err(|e| {
                bad(format!(
                    "unreadable RTP description in content {name:?}: {e}"
                ))
            })?;
            content.description = Some(d);
        } else if c.is("transport", ns::JINGLE_ICE_UDP) {
            content.transport = parse_transport(c)
                .map_err(|e| bad(format!("bad transport in content {name:?}: {e}")))?;
        }
    }
    Ok(content)
}

/// Reads an ICE-UDP `<transport/>` (candidates leniently: `generation`
/// defaults to 0, a missing `id` is made up).
pub fn parse_transport(el: &Element) -> Result<IceTransport, TransportError> {
    let mut t = IceTransport {
        ufrag: el.attr("ufrag").map(str::to_string),
        pwd: el.attr("pwd").map(str::to_string),
        ..IceTransport::default()
    };
    for c in el.children() {
        if c.is("candidate", ns::JINGLE_ICE_UDP) {
            t.candidates.push(parse_candidate(c)?);
        } else if c.is("fingerprint", ns::JINGLE_DTLS) {
            t.fingerprint = Some(parse_fingerprint(c)?);
        }
    }
    Ok(t)
}

/// Why an ICE-UDP `<transport/>` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("fingerprint without hash")]
    FingerprintWithoutHash,
    #[error("bad fingerprint setup {0:?}")]
    FingerprintSetup(String),
    #[error("fingerprint is not colon-separated hex")]
    FingerprintValue,
    #[error("bad hash {0:?}")]
    FingerprintHash(String),
    #[error("candidate without {0}")]
    CandidateWithout(&'static str),
    #[error("bad candidate {name} {value:?}")]
    Candidate { name: &'static str, value: String },
    #[error("bad candidate type {0:?}")]
    CandidateType(String),
}

fn parse_fingerprint(el: &Element) -> Result<Fingerprint, TransportError> {
    let hash = el
        .attr("hash")
        .filter(|h| !h.is_empty())
        .ok_or(TransportError::FingerprintWithoutHash)?;
    let setup = match el.attr("setup") {
        Some(s) => s
            .parse()
            .map_err(|_| TransportError::FingerprintSetup(s.to_string()))?,
        None => xmpp_parsers::jingle_dtls_srtp::Setup::Actpass,
    };
    let value = parse_hex_colons(&el.text()).ok_or(TransportError::FingerprintValue)?;
    Ok(Fingerprint {
        hash: hash
            .parse()
            .map_err(|_| TransportError::FingerprintHash(hash.to_string()))?,
        setup,
        value,
    })
}

pub(crate) fn candidate_type(name: &str) -> Option<CandidateType> {
    Some(match name {
        "host" => CandidateType::Host,
        "srflx" => CandidateType::Srflx,
        "prflx" => CandidateType::Prflx,
        "relay" => CandidateType::Relay,
        _ => return None,
    })
}

pub(crate) fn candidate_type_name(t: &CandidateType) -> &'static str {
    match t {
        CandidateType::Host => "host",
        CandidateType::Srflx => "srflx",
        CandidateType::Prflx => "prflx",
        CandidateType::Relay => "relay",
    }
}

/// 64-bit FNV-1a of `s`: a stable hash for made-up ids.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A made-up candidate id, stable for the same candidate.
pub(crate) fn candidate_id(foundation: &str, component: u8, ip: &IpAddr, port: u16) -> String {
    format!(
        "c{:016x}",
        fnv(&format!("{foundation}/{component}/{ip}/{port}"))
    )
}

fn parse_candidate(el: &Element) -> Result<Candidate, TransportError> {
    fn req<'a>(el: &'a Element, name: &'static str) -> Result<&'a str, TransportError> {
        el.attr(name).ok_or(TransportError::CandidateWithout(name))
    }
    fn num<T: std::str::FromStr>(el: &Element, name: &'static str) -> Result<T, TransportError> {
        let v = req(el, name)?;
        v.trim().parse().map_err(|_| TransportError::Candidate {
            name,
            value: v.to_string(),
        })
    }
    // Foundation and protocol are written into SDP candidate lines as
    // they are: ICE tokens only (RFC 8445 ice-char), no spaces or breaks.
    fn token<'a>(name: &'static str, v: &'a str) -> Result<&'a str, TransportError> {
        let ok = !v.is_empty()
            && v.len() <= 32
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/');
        ok.then_some(v).ok_or_else(|| TransportError::Candidate {
            name,
            value: v.to_string(),
        })
    }
    let component: u8 = num(el, "component")?;
    let foundation = token("foundation", req(el, "foundation")?)?.to_string();
    let ip: IpAddr = num(el, "ip")?;
    let port: u16 = num(el, "port")?;
    let type_name = req(el, "type")?;
    let type_ = candidate_type(type_name)
        .ok_or_else(|| TransportError::CandidateType(type_name.to_string()))?;
    let id = match el.attr("id") {
        Some(i) if !i.is_empty() => i.to_string(),
        _ => candidate_id(&foundation, component, &ip, port),
    };
    Ok(Candidate {
        component,
        generation: el
            .attr("generation")
            .and_then(|g| g.parse().ok())
            .unwrap_or(0),
        id,
        ip,
        port,
        priority: num(el, "priority")?,
        protocol: token("protocol", el.attr("protocol").unwrap_or("udp"))?.to_ascii_lowercase(),
        rel_addr: el.attr("rel-addr").and_then(|a| a.parse().ok()),
        rel_port: el.attr("rel-port").and_then(|a| a.parse().ok()),
        network: el.attr("network").and_then(|n| n.parse().ok()),
        foundation,
        type_,
    })
}

// --------------------------------------------------------------- discovery

/// Whether the disco#info of `jid` shows an A/V conference service
/// (XEP-0521): identity `conference/audio-video` and the feature
/// `urn:xmpp:jingle:av-conferences:0`. The error says what is missing.
pub fn check_av_conference(jid: &str, info: &DiscoInfo) -> Result<(), ErrorInfo> {
    let identity = info
        .identities
        .iter()
        .any(|(c, t, _)| c == "conference" && t == "audio-video");
    let feature = info.features.iter().any(|f| f == ns::JINGLE_AV_CONFERENCES);
    let missing = match (identity, feature) {
        (true, true) => return Ok(()),
        (false, false) => format!(
            "neither the identity conference/audio-video nor the feature {}",
            ns::JINGLE_AV_CONFERENCES
        ),
        (false, true) => "no identity conference/audio-video".to_string(),
        (true, false) => format!("no feature {}", ns::JINGLE_AV_CONFERENCES),
    };
    Err(ErrorInfo::new(
        "feature-not-implemented",
        Some(format!(
            "{jid} is not an audio/video conference service (its disco#info has {missing})"
        )),
    ))
}

#[cfg(test)]
mod tests;

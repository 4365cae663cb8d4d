//! Jingle RTP sessions ↔ SDP (RFC 8866/JSEP), the mapping of XEP-0167 §8
//! with XEP-0176 (ICE), XEP-0320 (DTLS fingerprint), XEP-0338 (BUNDLE),
//! XEP-0293 (rtcp-fb), XEP-0294 (header extensions) and XEP-0339 (sources).
//!
//! `writer` is always the Jingle role of the party whose description it is:
//! it turns `senders` into `a=sendonly`/`a=recvonly` and back.

use std::net::IpAddr;

use xmpp_parsers::hashes::Algo;
use xmpp_parsers::jingle::{Creator, Senders};
use xmpp_parsers::jingle_dtls_srtp::{Fingerprint, Setup};
use xmpp_parsers::jingle_ice_udp::Candidate;
use xmpp_parsers::jingle_rtcp_fb::RtcpFb;
use xmpp_parsers::jingle_rtp::{Channels, Description, Parameter, PayloadType};
use xmpp_parsers::jingle_rtp_hdrext::RtpHdrext;
use xmpp_parsers::jingle_ssma::{self, Source};

use super::{
    IceTransport, MediaContent, MediaSession, Role, candidate_id, candidate_type,
    candidate_type_name, fnv, hex_colons, parse_hex_colons, setup_name,
};

/// A Jingle description that cannot be written as SDP, or SDP we cannot
/// read; the text says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SdpError(pub String);

fn err<T>(text: impl Into<String>) -> Result<T, SdpError> {
    Err(SdpError(text.into()))
}

/// The SDP direction attribute for content `senders`, in a description
/// written by `writer`.
pub fn direction(senders: &Senders, writer: Role) -> &'static str {
    match (senders, writer) {
        (Senders::Both, _) => "sendrecv",
        (Senders::None, _) => "inactive",
        (Senders::Initiator, Role::Initiator) | (Senders::Responder, Role::Responder) => "sendonly",
        (Senders::Initiator, Role::Responder) | (Senders::Responder, Role::Initiator) => "recvonly",
    }
}

/// The Jingle `senders` for SDP direction `dir` (`sendrecv`, `sendonly`,
/// `recvonly`, `inactive`) in a description written by `writer`.
pub fn senders(dir: &str, writer: Role) -> Senders {
    match (dir, writer) {
        ("inactive", _) => Senders::None,
        ("sendonly", Role::Initiator) | ("recvonly", Role::Responder) => Senders::Initiator,
        ("sendonly", Role::Responder) | ("recvonly", Role::Initiator) => Senders::Responder,
        _ => Senders::Both,
    }
}

/// Clock rates of the static RTP payload types (RFC 3551) that a Jingle
/// payload-type may leave out.
fn static_clockrate(id: u8) -> Option<u32> {
    match id {
        0..=8 | 12 | 13 | 15 | 18 => Some(8000),
        9 => Some(8000),
        10 | 11 => Some(44100),
        14 | 25 | 26 | 28 | 31..=34 => Some(90000),
        16 => Some(11025),
        17 => Some(22050),
        _ => None,
    }
}

// ------------------------------------------------------------- candidates

/// A Jingle candidate as the value of webrtc's
/// `RTCIceCandidateInit.candidate` (`candidate:…`, no `a=`).
pub fn candidate_to_sdp(c: &Candidate) -> String {
    let mut s = format!(
        "candidate:{} {} {} {} {} {} typ {}",
        c.foundation,
        c.component,
        c.protocol.to_ascii_lowercase(),
        c.priority,
        c.ip,
        c.port,
        candidate_type_name(&c.type_)
    );
    if let (Some(a), Some(p)) = (c.rel_addr, c.rel_port) {
        s.push_str(&format!(" raddr {a} rport {p}"));
    }
    s.push_str(&format!(" generation {}", c.generation));
    if let Some(n) = c.network {
        s.push_str(&format!(" network-id {n}"));
    }
    s
}

/// Reads an SDP candidate (`candidate:…`, with or without `a=`) into a
/// Jingle candidate (`id` made up, `generation` 0 unless given). Host
/// names (mDNS `….local`) are refused: Jingle needs an IP address.
pub fn candidate_to_jingle(line: &str) -> Result<Candidate, SdpError> {
    let line = line.trim();
    let line = line.strip_prefix("a=").unwrap_or(line);
    let line = line.strip_prefix("candidate:").unwrap_or(line);
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 8 || f[6] != "typ" {
        return err(format!("not an ICE candidate: {line:?}"));
    }
    let component: u8 = f[1]
        .parse()
        .map_err(|_| SdpError(format!("bad candidate component {:?}", f[1])))?;
    let priority: u32 = f[3]
        .parse()
        .map_err(|_| SdpError(format!("bad candidate priority {:?}", f[3])))?;
    let ip: IpAddr = f[4].parse().map_err(|_| {
        SdpError(format!(
            "candidate address {:?} is not an IP address (host names cannot be sent in Jingle)",
            f[4]
        ))
    })?;
    let port: u16 = f[5]
        .parse()
        .map_err(|_| SdpError(format!("bad candidate port {:?}", f[5])))?;
    let type_ = candidate_type(f[7])
        .ok_or_else(|| SdpError(format!("unknown candidate type {:?}", f[7])))?;
    let mut c = Candidate {
        component,
        foundation: f[0].to_string(),
        generation: 0,
        id: candidate_id(f[0], component, &ip, port),
        ip,
        port,
        priority,
        protocol: f[2].to_ascii_lowercase(),
        rel_addr: None,
        rel_port: None,
        network: None,
        type_,
    };
    let mut rest = f[8..].iter();
    while let (Some(k), Some(v)) = (rest.next(), rest.next()) {
        match *k {
            "raddr" => c.rel_addr = v.parse().ok(),
            "rport" => c.rel_port = v.parse().ok(),
            "generation" => c.generation = v.parse().unwrap_or(0),
            "network-id" => c.network = v.parse().ok(),
            _ => {}
        }
    }
    Ok(c)
}

// ---------------------------------------------------------- Jingle → SDP

/// Writes `session` as an SDP offer or answer (the type is the caller's:
/// an offer for session-initiate, an answer for session-accept). Contents
/// without an RTP description are an error; with rtcp-mux only component
/// 1 candidates are written.
pub fn to_sdp(session: &MediaSession, writer: Role) -> Result<String, SdpError> {
    let mut out = String::new();
    // Values come from the peer: one with a line break (or any control
    // character) would add lines of its own to the SDP.
    let mut broken = None;
    let mut line = |s: String| {
        if broken.is_none() && s.chars().any(char::is_control) {
            broken = Some(s.clone());
        }
        out.push_str(&s);
        out.push_str("\r\n");
    };
    let seed = session
        .contents
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.name,
                c.transport.ufrag.as_deref().unwrap_or_default()
            )
        })
        .collect::<String>();
    line("v=0".into());
    line(format!(
        "o=- {} 2 IN IP4 127.0.0.1",
        fnv(&seed) & 0x3fff_ffff_ffff_ffff
    ));
    line("s=-".into());
    line("t=0 0".into());
    if let Some(names) = &session.bundle
        && !names.is_empty()
    {
        line(format!("a=group:BUNDLE {}", names.join(" ")));
    }
    line("a=ice-options:trickle".into());
    line("a=msid-semantic: WMS *".into());
    for c in &session.contents {
        media_section(c, writer, &mut line)?;
    }
    if let Some(bad) = broken {
        return err(format!("a control character in the SDP line {bad:?}"));
    }
    Ok(out)
}

fn media_section(
    c: &MediaContent,
    writer: Role,
    line: &mut impl FnMut(String),
) -> Result<(), SdpError> {
    let Some(d) = &c.description else {
        return err(format!("content {:?} has no RTP description", c.name));
    };
    let pts: Vec<String> = d.payload_types.iter().map(|p| p.id.to_string()).collect();
    if pts.is_empty() {
        return err(format!("content {:?} has no payload types", c.name));
    }
    line(format!(
        "m={} 9 UDP/TLS/RTP/SAVPF {}",
        d.media,
        pts.join(" ")
    ));
    line("c=IN IP4 0.0.0.0".into());
    let t = &c.transport;
    if let Some(u) = &t.ufrag {
        line(format!("a=ice-ufrag:{u}"));
    }
    if let Some(p) = &t.pwd {
        line(format!("a=ice-pwd:{p}"));
    }
    if let Some(f) = &t.fingerprint {
        line(format!(
            "a=fingerprint:{} {}",
            String::from(f.hash.clone()),
            hex_colons(&f.value)
        ));
        line(format!("a=setup:{}", setup_name(&f.setup)));
    }
    line(format!("a=mid:{}", c.name));
    for h in &d.hdrexts {
        line(format!("a=extmap:{} {}", h.id, h.uri));
    }
    line(format!("a={}", direction(&c.senders, writer)));
    if let Some(msid) = d
        .ssrcs
        .iter()
        .flat_map(|s| s.parameters.iter())
        .find(|p| p.name == "msid")
        .and_then(|p| p.value.as_deref())
    {
        line(format!("a=msid:{msid}"));
    }
    if d.rtcp_mux {
        line("a=rtcp-mux".into());
    }
    for p in &d.payload_types {
        let name = p.name.as_deref().unwrap_or_default();
        if let Some(rate) = p.clockrate.or_else(|| static_clockrate(p.id))
            && !name.is_empty()
        {
            if p.channels.0 > 1 {
                line(format!("a=rtpmap:{} {name}/{rate}/{}", p.id, p.channels.0));
            } else {
                line(format!("a=rtpmap:{} {name}/{rate}", p.id));
            }
        }
        for fb in &p.rtcp_fbs {
            match &fb.subtype {
                Some(s) => line(format!("a=rtcp-fb:{} {} {s}", p.id, fb.type_)),
                None => line(format!("a=rtcp-fb:{} {}", p.id, fb.type_)),
            }
        }
        let params = p
            .parameters
            .iter()
            .filter_map(|x| fmtp_item(x).transpose())
            .collect::<Result<Vec<String>, SdpError>>()?;
        if !params.is_empty() {
            line(format!("a=fmtp:{} {}", p.id, params.join(";")));
        }
    }
    if let Some(pt) = d.payload_types.iter().find_map(|p| p.ptime) {
        line(format!("a=ptime:{pt}"));
    }
    if let Some(pt) = d.payload_types.iter().find_map(|p| p.maxptime) {
        line(format!("a=maxptime:{pt}"));
    }
    for g in &d.ssrc_groups {
        let ids: Vec<String> = g.sources.iter().map(|s| s.id.to_string()).collect();
        line(format!(
            "a=ssrc-group:{} {}",
            ssma_semantics_name(&g.semantics),
            ids.join(" ")
        ));
    }
    for s in &d.ssrcs {
        for p in &s.parameters {
            match &p.value {
                Some(v) => line(format!("a=ssrc:{} {}:{v}", s.id, p.name)),
                None => line(format!("a=ssrc:{} {}", s.id, p.name)),
            }
        }
    }
    for cand in &t.candidates {
        if d.rtcp_mux && cand.component != 1 {
            continue;
        }
        line(format!("a={}", candidate_to_sdp(cand)));
    }
    Ok(())
}

/// One `a=fmtp` item from a Jingle `<parameter>`: `name=value`, or a
/// value without a name (RED's `111/111`, telephone-event's `0-15`; Jitsi
/// writes these as `name=''`, older peers as `value=''`). Separators that
/// would change the line's meaning (`;`, `=` in a name, spaces) are an
/// error; a parameter with neither name nor value is left out.
fn fmtp_item(x: &Parameter) -> Result<Option<String>, SdpError> {
    let (name, value) = (x.name.trim(), x.value.trim());
    let bad = |s: &str, eq: bool| {
        s.contains(';') || s.contains(char::is_whitespace) || (eq && s.contains('='))
    };
    if bad(name, true) || bad(value, name.is_empty() || value.is_empty()) {
        return err(format!(
            "a payload-type parameter {name:?}={value:?} does not fit an a=fmtp line"
        ));
    }
    Ok(match (name.is_empty(), value.is_empty()) {
        (true, true) => None,
        (true, false) => Some(value.to_string()),
        (false, true) => Some(name.to_string()),
        (false, false) => Some(format!("{name}={value}")),
    })
}

fn ssma_semantics_name(s: &jingle_ssma::Semantics) -> &'static str {
    use jingle_ssma::Semantics::*;
    match s {
        Ls => "LS",
        Fid => "FID",
        Srf => "SRF",
        Anat => "ANAT",
        Fec => "FEC",
        Ddp => "DDP",
    }
}

fn ssma_semantics(s: &str) -> Option<jingle_ssma::Semantics> {
    use jingle_ssma::Semantics::*;
    Some(match s {
        "LS" => Ls,
        "FID" => Fid,
        "SRF" => Srf,
        "ANAT" => Anat,
        "FEC" => Fec,
        "DDP" => Ddp,
        _ => return None,
    })
}

// ---------------------------------------------------------- SDP → Jingle

/// Session-level attributes that media sections inherit.
#[derive(Default)]
struct Inherited {
    ufrag: Option<String>,
    pwd: Option<String>,
    fingerprint: Option<(String, String)>,
    setup: Option<String>,
    direction: Option<String>,
}

/// One media section as read, before it becomes a content.
struct Section {
    media: String,
    rtp: bool,
    port: u16,
    pts: Vec<u8>,
    attrs: Vec<(String, Option<String>)>,
}

fn attr(line: &str) -> (String, Option<String>) {
    match line.split_once(':') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (line.to_string(), None),
    }
}

/// Reads an SDP offer or answer written by `writer` into Jingle contents
/// (`creator='initiator'`, content name = `a=mid`, or the media type when
/// there is none) and the BUNDLE group. Sections that are not RTP (data
/// channels) or are rejected (port 0) are left out, of the group too.
pub fn from_sdp(sdp: &str, writer: Role) -> Result<MediaSession, SdpError> {
    let mut session_attrs: Vec<(String, Option<String>)> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    for raw in sdp.lines() {
        let l = raw.trim_end_matches('\r').trim();
        if l.is_empty() {
            continue;
        }
        let Some((kind, value)) = l.split_once('=') else {
            return err(format!("not an SDP line: {l:?}"));
        };
        match kind {
            "m" => {
                let f: Vec<&str> = value.split_whitespace().collect();
                if f.len() < 3 {
                    return err(format!("bad media line: {l:?}"));
                }
                let port = f[1]
                    .split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| SdpError(format!("bad port in {l:?}")))?;
                sections.push(Section {
                    media: f[0].to_string(),
                    rtp: f[2].contains("RTP"),
                    port,
                    pts: f[3..].iter().filter_map(|p| p.parse().ok()).collect(),
                    attrs: Vec::new(),
                });
            }
            "a" => match sections.last_mut() {
                Some(s) => s.attrs.push(attr(value)),
                None => session_attrs.push(attr(value)),
            },
            _ => {}
        }
    }
    if sections.is_empty() {
        return err("the SDP has no media section");
    }
    let mut inherited = Inherited::default();
    let mut bundle = None;
    for (k, v) in &session_attrs {
        let v = v.clone();
        match k.as_str() {
            "ice-ufrag" => inherited.ufrag = v,
            "ice-pwd" => inherited.pwd = v,
            "fingerprint" => inherited.fingerprint = v.as_deref().and_then(split_fingerprint),
            "setup" => inherited.setup = v,
            "sendrecv" | "sendonly" | "recvonly" | "inactive" => {
                inherited.direction = Some(k.clone())
            }
            "group" => {
                if let Some(rest) = v.as_deref().and_then(|v| v.strip_prefix("BUNDLE")) {
                    bundle = Some(rest.split_whitespace().map(str::to_string).collect());
                }
            }
            _ => {}
        }
    }
    let mut contents = Vec::new();
    for s in sections {
        if !s.rtp || s.port == 0 {
            continue;
        }
        contents.push(section_content(s, &inherited, writer)?);
    }
    // Only the contents that exist in Jingle (a data channel is not one).
    let bundle = bundle.map(|names: Vec<String>| {
        names
            .into_iter()
            .filter(|n| contents.iter().any(|c| &c.name == n))
            .collect()
    });
    Ok(MediaSession { contents, bundle })
}

fn split_fingerprint(v: &str) -> Option<(String, String)> {
    let (h, f) = v.trim().split_once(' ')?;
    Some((h.to_string(), f.trim().to_string()))
}

fn section_content(s: Section, inh: &Inherited, writer: Role) -> Result<MediaContent, SdpError> {
    let mut name = None;
    let mut ufrag = inh.ufrag.clone();
    let mut pwd = inh.pwd.clone();
    let mut fp = inh.fingerprint.clone();
    let mut setup = inh.setup.clone();
    let mut dir = inh.direction.clone();
    let mut d = Description::new(s.media.clone());
    d.payload_types = s
        .pts
        .iter()
        .map(|&id| PayloadType {
            channels: Channels(1),
            clockrate: None,
            id,
            maxptime: None,
            name: None,
            ptime: None,
            parameters: Vec::new(),
            rtcp_fbs: Vec::new(),
        })
        .collect();
    let mut candidates = Vec::new();
    let mut wildcard_fb: Vec<RtcpFb> = Vec::new();
    let mut ptime = None;
    let mut maxptime = None;
    let mut media_msid: Option<String> = None;
    for (k, v) in &s.attrs {
        let val = v.as_deref().unwrap_or_default();
        match k.as_str() {
            "mid" => name = Some(val.to_string()),
            "ice-ufrag" => ufrag = Some(val.to_string()),
            "ice-pwd" => pwd = Some(val.to_string()),
            "fingerprint" => fp = split_fingerprint(val),
            "setup" => setup = Some(val.to_string()),
            "sendrecv" | "sendonly" | "recvonly" | "inactive" => dir = Some(k.clone()),
            "rtcp-mux" => d.rtcp_mux = true,
            "rtpmap" => {
                let Some((id, rest)) = val.split_once(' ') else {
                    continue;
                };
                let Some(p) = pt_mut(&mut d, id) else {
                    continue;
                };
                let mut parts = rest.trim().split('/');
                p.name = parts.next().map(str::to_string);
                p.clockrate = parts.next().and_then(|r| r.parse().ok());
                if let Some(ch) = parts.next().and_then(|c| c.parse().ok()) {
                    p.channels = Channels(ch);
                }
            }
            "fmtp" => {
                let Some((id, rest)) = val.split_once(' ') else {
                    continue;
                };
                let Some(p) = pt_mut(&mut d, id) else {
                    continue;
                };
                for item in rest.split(';').map(str::trim).filter(|i| !i.is_empty()) {
                    // A bare value (RED's `111/111`) goes as Jitsi writes
                    // it: an empty name.
                    let (n, v) = item.split_once('=').unwrap_or(("", item));
                    p.parameters.push(Parameter {
                        name: n.trim().to_string(),
                        value: v.trim().to_string(),
                    });
                }
            }
            "rtcp-fb" => {
                let mut f = val.split_whitespace();
                let (Some(id), Some(type_)) = (f.next(), f.next()) else {
                    continue;
                };
                let fb = RtcpFb {
                    type_: type_.to_string(),
                    subtype: f.next().map(str::to_string),
                };
                if id == "*" {
                    wildcard_fb.push(fb);
                } else if let Some(p) = pt_mut(&mut d, id) {
                    p.rtcp_fbs.push(fb);
                }
            }
            "extmap" => {
                let mut f = val.split_whitespace();
                let (Some(id), Some(uri)) = (f.next(), f.next()) else {
                    continue;
                };
                let id = id.split('/').next().unwrap_or(id);
                if let Ok(id) = id.parse() {
                    d.hdrexts.push(RtpHdrext::new(id, uri.to_string()));
                }
            }
            "ssrc" => {
                let Some((id, rest)) = val.split_once(' ') else {
                    continue;
                };
                let Ok(id) = id.parse::<u32>() else {
                    continue;
                };
                let (pname, pvalue) = match rest.split_once(':') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (rest.trim().to_string(), None),
                };
                let param = jingle_ssma::Parameter {
                    name: pname,
                    value: pvalue,
                };
                match d.ssrcs.iter_mut().find(|s| s.id == id) {
                    Some(src) => src.parameters.push(param),
                    None => {
                        let mut src = Source::new(id);
                        src.parameters.push(param);
                        d.ssrcs.push(src);
                    }
                }
            }
            "ssrc-group" => {
                let mut f = val.split_whitespace();
                let Some(sem) = f.next().and_then(ssma_semantics) else {
                    continue;
                };
                d.ssrc_groups.push(jingle_ssma::Group {
                    semantics: sem,
                    sources: f.filter_map(|i| i.parse().ok()).map(Source::new).collect(),
                });
            }
            "msid" => media_msid = Some(val.to_string()),
            "ptime" => ptime = val.trim().parse().ok(),
            "maxptime" => maxptime = val.trim().parse().ok(),
            "candidate" => candidates.push(candidate_to_jingle(val)?),
            _ => {}
        }
    }
    for p in &mut d.payload_types {
        if p.ptime.is_none() {
            p.ptime = ptime;
        }
        if p.maxptime.is_none() {
            p.maxptime = maxptime;
        }
        for fb in &wildcard_fb {
            if !p.rtcp_fbs.contains(fb) {
                p.rtcp_fbs.push(fb.clone());
            }
        }
    }
    // A media-level msid with sources that do not carry one: XEP-0339
    // only has per-source parameters.
    if let Some(msid) = media_msid
        && !d.ssrcs.is_empty()
        && !d
            .ssrcs
            .iter()
            .any(|s| s.parameters.iter().any(|p| p.name == "msid"))
    {
        for s in &mut d.ssrcs {
            s.parameters.push(jingle_ssma::Parameter {
                name: "msid".into(),
                value: Some(msid.clone()),
            });
        }
    }
    if d.rtcp_mux {
        candidates.retain(|c| c.component == 1);
    }
    let fingerprint = match fp {
        None => None,
        Some((hash, value)) => {
            let setup = match setup.as_deref() {
                None => Setup::Actpass,
                Some(s) => s
                    .parse::<Setup>()
                    .map_err(|_| SdpError(format!("bad a=setup:{s}")))?,
            };
            Some(Fingerprint {
                hash: hash
                    .to_ascii_lowercase()
                    .parse::<Algo>()
                    .map_err(|_| SdpError(format!("bad fingerprint hash {hash:?}")))?,
                setup,
                value: parse_hex_colons(&value)
                    .ok_or_else(|| SdpError(format!("bad fingerprint {value:?}")))?,
            })
        }
    };
    Ok(MediaContent {
        name: name.unwrap_or_else(|| s.media.clone()),
        creator: Creator::Initiator,
        senders: senders(dir.as_deref().unwrap_or("sendrecv"), writer),
        description: Some(d),
        transport: IceTransport {
            ufrag,
            pwd,
            candidates,
            fingerprint,
        },
    })
}

fn pt_mut<'a>(d: &'a mut Description, id: &str) -> Option<&'a mut PayloadType> {
    let id: u8 = id.trim().parse().ok()?;
    d.payload_types.iter_mut().find(|p| p.id == id)
}

#[cfg(test)]
mod tests;

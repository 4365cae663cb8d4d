//! Jitsi conference-request (seed 002): jicofo's ConferenceIq
//! (`<conference xmlns='http://jitsi.org/protocol/focus'/>`) and the same
//! request/answer as JSON for `POST /conference-request/v1`.
//!
//! One data type, [`Conference`], serves both directions and both forms:
//! the client asks with `room` and properties; the focus answers with
//! `ready`, `focusjid`, `vnode`, `session-id` and properties of its own.

use std::collections::BTreeMap;

use minidom::Element;

use super::nc;

/// The ConferenceIq namespace.
pub const NS: &str = "http://jitsi.org/protocol/focus";
/// Where the HTTP form is posted.
pub const HTTP_PATH: &str = "/conference-request/v1";

/// A conference request or answer (every field optional on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conference {
    /// The conference MUC's JID.
    pub room: Option<String>,
    /// `true`: the focus is in the room and the client may join.
    pub ready: Option<bool>,
    /// The focus's JID, to be trusted by the client.
    pub focus_jid: Option<String>,
    pub session_id: Option<String>,
    pub machine_uid: Option<String>,
    pub identity: Option<String>,
    /// A visitor node to go to instead (its MUC domain holds the room).
    pub vnode: Option<String>,
    pub token: Option<String>,
    /// `<property name value/>` / `"properties": {…}`, in order.
    pub properties: Vec<(String, String)>,
}

/// What a client keeps from a focus's `ready` answer for a room (shown
/// by `/info`): the focus to trust, the visitor node, the properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConferenceInfo {
    pub focus: Option<String>,
    pub vnode: Option<String>,
    pub properties: BTreeMap<String, String>,
}

/// The XML attribute names (jicofo's ConferenceIq), in output order.
const ATTRS: &[&str] = &[
    "room",
    "ready",
    "focusjid",
    "session-id",
    "machine-uid",
    "identity",
    "vnode",
    "token",
];

impl Conference {
    /// A request for `room` with `properties`.
    pub fn request(room: &str, properties: &[(String, String)]) -> Conference {
        Conference {
            room: Some(room.to_string()),
            properties: properties.to_vec(),
            ..Conference::default()
        }
    }

    fn attr(&self, name: &str) -> Option<String> {
        match name {
            "room" => self.room.clone(),
            "ready" => self.ready.map(|r| r.to_string()),
            "focusjid" => self.focus_jid.clone(),
            "session-id" => self.session_id.clone(),
            "machine-uid" => self.machine_uid.clone(),
            "identity" => self.identity.clone(),
            "vnode" => self.vnode.clone(),
            "token" => self.token.clone(),
            _ => None,
        }
    }

    /// The payload element `<conference xmlns=…/>` (for an IQ set or its
    /// result).
    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("conference", NS);
        for name in ATTRS {
            if let Some(v) = self.attr(name) {
                b = b.attr(nc(name), v);
            }
        }
        for (name, value) in &self.properties {
            b = b.append(
                Element::builder("property", NS)
                    .attr(nc("name"), name.as_str())
                    .attr(nc("value"), value.as_str())
                    .build(),
            );
        }
        b.build()
    }

    /// Parses a `<conference/>` element. Lenient where jicofo is
    /// (`focusJid` as in the seed's example is taken too; properties
    /// without a name are skipped); an element that is not a conference or
    /// a `ready` that is not a boolean is an error (the reason).
    pub fn from_element(el: &Element) -> Result<Conference, ConferenceError> {
        if !el.is("conference", NS) {
            return Err(ConferenceError::NotConference {
                name: el.name().to_string(),
                ns: el.ns(),
            });
        }
        let get = |n: &str| el.attr(n).map(str::to_string);
        let ready = match el.attr("ready") {
            None => None,
            Some(v) => {
                Some(parse_bool(v).ok_or_else(|| ConferenceError::ReadyAttribute(v.to_string()))?)
            }
        };
        let properties = el
            .children()
            .filter(|c| c.is("property", NS))
            .filter_map(|c| {
                let name = c.attr("name")?;
                (!name.is_empty()).then(|| {
                    (
                        name.to_string(),
                        c.attr("value").unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        Ok(Conference {
            room: get("room"),
            ready,
            focus_jid: get("focusjid").or_else(|| get("focusJid")),
            session_id: get("session-id"),
            machine_uid: get("machine-uid"),
            identity: get("identity"),
            vnode: get("vnode"),
            token: get("token"),
            properties,
        })
    }

    /// The JSON form (`POST /conference-request/v1`): camelCase fields,
    /// absent ones left out, properties as strings.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        let s = |v: &Option<String>| v.clone().map(serde_json::Value::String);
        put("room", s(&self.room));
        put("ready", self.ready.map(serde_json::Value::Bool));
        put("focusJid", s(&self.focus_jid));
        put("sessionId", s(&self.session_id));
        put("machineUid", s(&self.machine_uid));
        put("identity", s(&self.identity));
        put("vnode", s(&self.vnode));
        put("token", s(&self.token));
        if !self.properties.is_empty() {
            let props: serde_json::Map<String, serde_json::Value> = self
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            m.insert("properties".into(), serde_json::Value::Object(props));
        }
        serde_json::Value::Object(m)
    }

    /// Parses the JSON form. Property values may be strings, booleans or
    /// numbers (the seed's example has `true`); `ready` a boolean (or the
    /// strings `"true"`/`"false"`). Anything else is an error (the reason).
    pub fn from_json(text: &str) -> Result<Conference, ConferenceError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(ConferenceError::NotJson)?;
        let serde_json::Value::Object(m) = v else {
            return Err(ConferenceError::NotObject);
        };
        let string = |k: &str| -> Result<Option<String>, ConferenceError> {
            match m.get(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(ConferenceError::NotString {
                    key: k.to_string(),
                    value: other.clone(),
                }),
            }
        };
        let ready = match m.get("ready") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(serde_json::Value::String(s)) if parse_bool(s).is_some() => parse_bool(s),
            Some(other) => return Err(ConferenceError::ReadyField(other.clone())),
        };
        let mut properties = Vec::new();
        match m.get("properties") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(props)) => {
                // serde_json's map is sorted by key: a stable order.
                let sorted: BTreeMap<&String, &serde_json::Value> = props.iter().collect();
                for (k, v) in sorted {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Null => String::new(),
                        other => {
                            return Err(ConferenceError::PropertyNotScalar {
                                name: k.clone(),
                                value: other.clone(),
                            });
                        }
                    };
                    properties.push((k.clone(), v));
                }
            }
            Some(other) => return Err(ConferenceError::PropertiesNotObject(other.clone())),
        }
        Ok(Conference {
            room: string("room")?,
            ready,
            focus_jid: string("focusJid")?,
            session_id: string("sessionId")?,
            machine_uid: string("machineUid")?,
            identity: string("identity")?,
            vnode: string("vnode")?,
            token: string("token")?,
            properties,
        })
    }
}

/// Why a conference request or answer cannot be read (the display text
/// is the reason given to the user or the requester).
#[derive(Debug, thiserror::Error)]
pub enum ConferenceError {
    #[error("expected <conference xmlns='{focus}'/>, got <{name} xmlns='{ns}'/>", focus = NS)]
    NotConference { name: String, ns: String },
    #[error("ready={0:?} is not a boolean")]
    ReadyAttribute(String),
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("not a JSON object")]
    NotObject,
    #[error("{key} is not a string: {value}")]
    NotString {
        key: String,
        value: serde_json::Value,
    },
    #[error("ready is not a boolean: {0}")]
    ReadyField(serde_json::Value),
    #[error("property {name} is not a scalar: {value}")]
    PropertyNotScalar {
        name: String,
        value: serde_json::Value,
    },
    #[error("properties is not an object: {0}")]
    PropertiesNotObject(serde_json::Value),
}

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// The MUC domain of visitor node `vnode` for the MUC domain `muc`, as
/// Jitsi deployments name them: the node's id goes after the first label
/// (`conference.meet.example` → `conference.v1.meet.example`).
pub fn visitor_muc_domain(muc: &str, vnode: &str) -> String {
    match muc.split_once('.') {
        Some((first, rest)) => format!("{first}.{vnode}.{rest}"),
        None => format!("{vnode}.{muc}"),
    }
}

/// Whether an occupant's real JID is the trusted focus `trusted` (the
/// `focusjid` of a `ready` answer): the same full JID when the focus was
/// named with a resource, else any resource of that bare JID (as Jitsi
/// clients match `focus@auth.example/…`).
pub fn is_trusted_focus(trusted: &jid::Jid, real: &jid::Jid) -> bool {
    if trusted.resource().is_some() {
        trusted == real
    } else {
        trusted.to_bare() == real.to_bare()
    }
}

/// The URL the HTTP form is posted to: `base` as given when it already
/// ends in [`HTTP_PATH`], else with it appended.
pub fn http_url(base: &str) -> String {
    let trimmed = base.trim_end_matches('/');
    if trimmed.ends_with(HTTP_PATH) {
        trimmed.to_string()
    } else {
        format!("{trimmed}{HTTP_PATH}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn the_seeds_xmpp_request_parses_and_round_trips() {
        let el = parse(
            "<conference xmlns='http://jitsi.org/protocol/focus' room='conferenceName@example.com'>\
             <property name='rtcstatsEnabled' value='true'/></conference>",
        );
        let c = Conference::from_element(&el).unwrap();
        assert_eq!(
            c,
            Conference::request(
                "conferenceName@example.com",
                &[("rtcstatsEnabled".into(), "true".into())]
            )
        );
        assert_eq!(Conference::from_element(&c.to_element()).unwrap(), c);
    }

    #[test]
    fn the_seeds_xmpp_answer_parses_with_either_spelling_of_focusjid() {
        let el = parse(
            "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' \
             focusJid='jicofo@v1.example.com' vnode='v1'>\
             <property name='sipGatewayEnabled' value='true'/></conference>",
        );
        let c = Conference::from_element(&el).unwrap();
        assert_eq!(c.ready, Some(true));
        assert_eq!(c.focus_jid.as_deref(), Some("jicofo@v1.example.com"));
        assert_eq!(c.vnode.as_deref(), Some("v1"));
        assert_eq!(
            c.properties,
            vec![("sipGatewayEnabled".into(), "true".into())]
        );
        // jicofo's own attribute name.
        let el = parse(
            "<conference xmlns='http://jitsi.org/protocol/focus' ready='false' \
             focusjid='focus@auth.example.com/focus' session-id='s1' machine-uid='m' \
             identity='i' token='t' room='r@c'/>",
        );
        let c = Conference::from_element(&el).unwrap();
        assert_eq!(c.ready, Some(false));
        assert_eq!(c.focus_jid.as_deref(), Some("focus@auth.example.com/focus"));
        assert_eq!(c.session_id.as_deref(), Some("s1"));
        assert_eq!(c.machine_uid.as_deref(), Some("m"));
        assert_eq!(c.identity.as_deref(), Some("i"));
        assert_eq!(c.token.as_deref(), Some("t"));
        let out = c.to_element();
        assert_eq!(out.attr("focusjid"), Some("focus@auth.example.com/focus"));
        assert_eq!(out.attr("session-id"), Some("s1"));
        assert_eq!(Conference::from_element(&out).unwrap(), c);
    }

    #[test]
    fn hostile_xml_is_an_error_or_skipped_never_a_panic() {
        let e = Conference::from_element(&parse("<query xmlns='jabber:iq:version'/>"));
        assert!(e.unwrap_err().to_string().contains("expected <conference"));
        let e = Conference::from_element(&parse(
            "<conference xmlns='http://jitsi.org/protocol/focus' ready='maybe'/>",
        ));
        assert!(e.unwrap_err().to_string().contains("not a boolean"));
        let c = Conference::from_element(&parse(
            "<conference xmlns='http://jitsi.org/protocol/focus'>\
             <property value='x'/><property name=''/><property name='a'/></conference>",
        ))
        .unwrap();
        assert_eq!(c.properties, vec![("a".into(), String::new())]);
    }

    #[test]
    fn the_seeds_json_request_and_answer() {
        let req = Conference::from_json(
            r#"{"room": "conferenceName@example.com", "properties": {"rtcstatsEnabled": true}}"#,
        )
        .unwrap();
        assert_eq!(req.room.as_deref(), Some("conferenceName@example.com"));
        assert_eq!(
            req.properties,
            vec![("rtcstatsEnabled".into(), "true".into())]
        );
        let answer = Conference::from_json(
            r#"{"ready": true, "focusJid": "jicofo@v1.example.com", "vnode": "v1",
                "properties": {"sipGatewayEnabled": true, "n": 3}}"#,
        )
        .unwrap();
        assert_eq!(answer.ready, Some(true));
        assert_eq!(answer.focus_jid.as_deref(), Some("jicofo@v1.example.com"));
        assert_eq!(answer.vnode.as_deref(), Some("v1"));
        assert_eq!(
            answer.properties,
            vec![
                ("n".into(), "3".into()),
                ("sipGatewayEnabled".into(), "true".into())
            ]
        );
        // Round trip through our own JSON.
        let full = Conference {
            room: Some("r@c".into()),
            ready: Some(false),
            focus_jid: Some("f@x/y".into()),
            session_id: Some("s".into()),
            machine_uid: Some("m".into()),
            identity: Some("i".into()),
            vnode: Some("v".into()),
            token: Some("t".into()),
            properties: vec![("a".into(), "1".into())],
        };
        let json = full.to_json();
        assert_eq!(json["sessionId"], "s");
        assert_eq!(json["focusJid"], "f@x/y");
        assert_eq!(json["machineUid"], "m");
        assert_eq!(json["properties"]["a"], "1");
        assert_eq!(Conference::from_json(&json.to_string()).unwrap(), full);
        assert_eq!(
            Conference::request("r@c", &[]).to_json(),
            serde_json::json!({"room": "r@c"})
        );
    }

    #[test]
    fn malformed_json_is_a_clear_error() {
        assert!(
            Conference::from_json("<html>")
                .unwrap_err()
                .to_string()
                .starts_with("not JSON")
        );
        assert_eq!(
            Conference::from_json("[1]").unwrap_err().to_string(),
            "not a JSON object"
        );
        assert!(
            Conference::from_json(r#"{"ready": "soon"}"#)
                .unwrap_err()
                .to_string()
                .contains("ready")
        );
        assert!(
            Conference::from_json(r#"{"room": 5}"#)
                .unwrap_err()
                .to_string()
                .contains("room")
        );
        assert!(
            Conference::from_json(r#"{"properties": {"a": [1]}}"#)
                .unwrap_err()
                .to_string()
                .contains("property a")
        );
        assert!(Conference::from_json(r#"{"properties": 1}"#).is_err());
    }

    #[test]
    fn every_attribute_round_trips_in_xml_and_json() {
        let full = Conference {
            room: Some("r@conference.example".into()),
            ready: Some(true),
            focus_jid: Some("focus@auth.example/focus".into()),
            session_id: Some("s-1".into()),
            machine_uid: Some("0123abcd".into()),
            identity: Some("id".into()),
            vnode: Some("v1".into()),
            token: Some("tok".into()),
            properties: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
        };
        let el = full.to_element();
        for (attr, value) in [
            ("room", "r@conference.example"),
            ("ready", "true"),
            ("focusjid", "focus@auth.example/focus"),
            ("session-id", "s-1"),
            ("machine-uid", "0123abcd"),
            ("identity", "id"),
            ("vnode", "v1"),
            ("token", "tok"),
        ] {
            assert_eq!(el.attr(attr), Some(value), "{attr}");
        }
        assert_eq!(Conference::from_element(&el).unwrap(), full);
        // Reparsed from the serialized text, too.
        let mut text = Vec::new();
        el.write_to(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(Conference::from_element(&parse(&text)).unwrap(), full);
        let json = full.to_json();
        for (key, value) in [
            ("room", "r@conference.example"),
            ("focusJid", "focus@auth.example/focus"),
            ("sessionId", "s-1"),
            ("machineUid", "0123abcd"),
            ("identity", "id"),
            ("vnode", "v1"),
            ("token", "tok"),
        ] {
            assert_eq!(json[key], value, "{key}");
        }
        assert_eq!(json["ready"], true);
        // JSON properties come back sorted by name.
        let mut sorted = full.clone();
        sorted.properties.sort();
        assert_eq!(Conference::from_json(&json.to_string()).unwrap(), sorted);
    }

    #[test]
    fn the_trusted_focus_is_matched_by_real_jid() {
        let j = |s: &str| jid::Jid::new(s).unwrap();
        let full = j("focus@focus.example/focus");
        assert!(is_trusted_focus(&full, &j("focus@focus.example/focus")));
        assert!(!is_trusted_focus(&full, &j("focus@focus.example/other")));
        assert!(!is_trusted_focus(&full, &j("mallory@focus.example/focus")));
        let bare = j("focus@auth.example");
        assert!(is_trusted_focus(&bare, &j("focus@auth.example/abc")));
        assert!(!is_trusted_focus(&bare, &j("focus@evil.example/abc")));
    }

    #[test]
    fn visitor_nodes_and_urls() {
        assert_eq!(
            visitor_muc_domain("conference.meet.example", "v1"),
            "conference.v1.meet.example"
        );
        assert_eq!(
            visitor_muc_domain("conference.localhost", "v1"),
            "conference.v1.localhost"
        );
        assert_eq!(visitor_muc_domain("muc", "v2"), "v2.muc");
        assert_eq!(
            http_url("https://meet.example"),
            "https://meet.example/conference-request/v1"
        );
        assert_eq!(
            http_url("http://127.0.0.1:5/conference-request/v1"),
            "http://127.0.0.1:5/conference-request/v1"
        );
        assert_eq!(
            http_url("http://127.0.0.1:5/"),
            "http://127.0.0.1:5/conference-request/v1"
        );
    }
}

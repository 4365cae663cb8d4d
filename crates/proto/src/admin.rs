//! XEP-0045 moderation on plain elements (xmpp-parsers has no
//! `muc#admin`): role and affiliation changes (kick, ban, voice, member
//! lists), the lists themselves, and voice requests (§7.13, the
//! `muc#request` data form).

use jid::{BareJid, Jid};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Message, MessageType};

use super::muc::{Affiliation, Role};
use super::{ErrorInfo, nc};

pub const NS: &str = "http://jabber.org/protocol/muc#admin";
pub const DATA: &str = "jabber:x:data";
pub const REQUEST: &str = "http://jabber.org/protocol/muc#request";

/// One `<item/>` of a `muc#admin` query: a change to make, or an entry of
/// a list the room sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdminItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<Affiliation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn query(item: Element) -> Element {
    Element::builder("query", NS).append(item).build()
}

fn item(attrs: &[(&str, &str)], reason: Option<&str>) -> Element {
    let mut b = Element::builder("item", NS);
    for (k, v) in attrs {
        b = b.attr(nc(k), *v);
    }
    if let Some(r) = reason {
        b = b.append(Element::builder("reason", NS).append(r).build());
    }
    b.build()
}

/// Sets an occupant's role (XEP-0045 §8.2 kick = role `none`, §8.3/8.4
/// voice = `participant`/`visitor`, §9.6/9.7 moderator).
pub fn set_role(nick: &str, role: Role, reason: Option<&str>) -> Element {
    query(item(&[("nick", nick), ("role", role.as_str())], reason))
}

/// Sets the affiliation of a (bare) JID (§9.1 ban = `outcast`, §9.3
/// member, §10.3 owner, …; `none` removes it).
pub fn set_affiliation(jid: &str, affiliation: Affiliation, reason: Option<&str>) -> Element {
    query(item(
        &[("affiliation", affiliation.as_str()), ("jid", jid)],
        reason,
    ))
}

/// Asks for everyone with this affiliation (§9.5 member list, §9.2 ban
/// list, …).
pub fn affiliation_list(affiliation: Affiliation) -> Element {
    query(item(&[("affiliation", affiliation.as_str())], None))
}

/// Asks for every occupant with this role (§8.5 voice list, §9.8
/// moderator list).
pub fn role_list(role: Role) -> Element {
    query(item(&[("role", role.as_str())], None))
}

/// The items of a `muc#admin` result (an empty result is an empty list).
pub fn parse_items(result: Option<&Element>) -> Result<Vec<AdminItem>, ErrorInfo> {
    let Some(q) = result else {
        return Ok(Vec::new());
    };
    if !q.is("query", NS) {
        return Err(ErrorInfo::new(
            "bad-request",
            format!(
                "the room answered with <{}/>, not a muc#admin list",
                q.name()
            ),
        ));
    }
    Ok(q.children()
        .filter(|c| c.is("item", NS))
        .map(|c| AdminItem {
            jid: c.attr("jid").map(str::to_string),
            nick: c.attr("nick").map(str::to_string),
            affiliation: c.attr("affiliation").map(Affiliation::parse),
            role: c.attr("role").map(Role::parse),
            reason: c.get_child("reason", NS).map(|r| r.text()),
        })
        .collect())
}

fn field(var: &str, type_: Option<&str>, value: &str) -> Element {
    let mut b = Element::builder("field", DATA).attr(nc("var"), var);
    if let Some(t) = type_ {
        b = b.attr(nc("type"), t);
    }
    b.append(Element::builder("value", DATA).append(value).build())
        .build()
}

/// A visitor's request for voice (§7.13 example 93): a normal message to
/// the room with the submitted `muc#request` form asking for the
/// participant role.
pub fn voice_request(room: &BareJid, id: &str) -> Message {
    let mut m = Message::new_with_type(MessageType::Normal, Some(Jid::from(room.clone())));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads.push(
        Element::builder("x", DATA)
            .attr(nc("type"), "submit")
            .append(field("FORM_TYPE", Some("hidden"), REQUEST))
            .append(field("muc#role", Some("list-single"), "participant"))
            .build(),
    );
    m
}

/// A voice request as a moderator receives it from the room (§7.13
/// example 94).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceRequest {
    pub room: BareJid,
    /// `muc#roomnick`: who asks.
    pub nick: Option<String>,
    /// `muc#jid`: their real JID, if the room gives it.
    pub jid: Option<String>,
    /// `muc#role`: the role asked for (`participant`).
    pub role: Option<String>,
}

/// Reads a voice request form from a message sent by a room itself (bare
/// JID sender); `None` for anything else.
pub fn parse_voice_request(m: &Message) -> Option<VoiceRequest> {
    if !matches!(m.type_, MessageType::Normal | MessageType::Chat) {
        return None;
    }
    let from = m.from.as_ref()?;
    if from.resource().is_some() {
        return None;
    }
    let room = from.to_bare();
    room.node()?;
    let x = m.payloads.iter().find(|p| p.is("x", DATA))?;
    let value = |var: &str| {
        x.children()
            .filter(|f| f.is("field", DATA))
            .find(|f| f.attr("var") == Some(var))
            .and_then(|f| f.get_child("value", DATA))
            .map(|v| v.text())
            .filter(|v| !v.is_empty())
    };
    if value("FORM_TYPE").as_deref() != Some(REQUEST) {
        return None;
    }
    // A form the room sends for a moderator to answer, not a submission.
    if x.attr("type").is_some_and(|t| t != "form") {
        return None;
    }
    Some(VoiceRequest {
        room,
        nick: value("muc#roomnick"),
        jid: value("muc#jid"),
        role: value("muc#role"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    fn parses_as(built: &Element, xml: &str) {
        assert_eq!(built, &el(xml), "{}", String::from(built));
    }

    #[test]
    fn kick_is_role_none_with_reason() {
        // XEP-0045 example 128.
        parses_as(
            &set_role("pistol", Role::None, Some("Avaunt, you cullion!")),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='pistol' role='none'><reason>Avaunt, you cullion!</reason></item></query>",
        );
    }

    #[test]
    fn voice_and_devoice() {
        // Examples 133 and 143.
        parses_as(
            &set_role("thirdwitch", Role::Participant, None),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='thirdwitch' role='participant'/></query>",
        );
        parses_as(
            &set_role("thirdwitch", Role::Visitor, None),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='thirdwitch' role='visitor'/></query>",
        );
    }

    #[test]
    fn ban_is_affiliation_outcast() {
        // Example 152.
        parses_as(
            &set_affiliation(
                "earlofcambridge@shakespeare.lit",
                Affiliation::Outcast,
                Some("Treason"),
            ),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' jid='earlofcambridge@shakespeare.lit'><reason>Treason</reason></item></query>",
        );
        // Unban: affiliation none.
        let q = set_affiliation("earlofcambridge@shakespeare.lit", Affiliation::None, None);
        let i = q.get_child("item", NS).unwrap();
        assert_eq!(i.attr("affiliation"), Some("none"));
        assert!(i.get_child("reason", NS).is_none());
    }

    #[test]
    fn list_queries() {
        // Example 147 (ban list) and 157 (member list), 178 (moderators).
        parses_as(
            &affiliation_list(Affiliation::Outcast),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query>",
        );
        parses_as(
            &affiliation_list(Affiliation::Member),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query>",
        );
        parses_as(
            &role_list(Role::Moderator),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item role='moderator'/></query>",
        );
    }

    #[test]
    fn parses_a_ban_list() {
        // Example 148.
        let q = el("<query xmlns='http://jabber.org/protocol/muc#admin'>
              <item affiliation='outcast' jid='earlofcambridge@shakespeare.lit'><reason>Treason</reason></item>
            </query>");
        let items = parse_items(Some(&q)).unwrap();
        assert_eq!(
            items,
            vec![AdminItem {
                jid: Some("earlofcambridge@shakespeare.lit".into()),
                affiliation: Some(Affiliation::Outcast),
                reason: Some("Treason".into()),
                ..AdminItem::default()
            }]
        );
        let json = serde_json::to_value(&items[0]).unwrap();
        assert_eq!(json["affiliation"], "outcast");
        assert!(json.get("nick").is_none());
    }

    #[test]
    fn parses_a_moderator_list() {
        // Example 179.
        let q = el("<query xmlns='http://jabber.org/protocol/muc#admin'>
              <item affiliation='owner' jid='crone1@shakespeare.lit/desktop' nick='thirdwitch' role='moderator'/>
              <item affiliation='admin' jid='wiccarocks@shakespeare.lit/laptop' nick='secondwitch' role='moderator'/>
            </query>");
        let items = parse_items(Some(&q)).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].nick.as_deref(), Some("secondwitch"));
        assert_eq!(items[1].role, Some(Role::Moderator));
        assert_eq!(items[1].affiliation, Some(Affiliation::Admin));
        // Empty result, wrong payload.
        assert!(parse_items(None).unwrap().is_empty());
        let e = parse_items(Some(&el("<query xmlns='jabber:iq:roster'/>"))).unwrap_err();
        assert_eq!(e.condition, "bad-request");
    }

    #[test]
    fn voice_request_form() {
        // Example 93.
        let room = BareJid::new("coven@chat.shakespeare.lit").unwrap();
        let e: Element = voice_request(&room, "yd53c486").into();
        assert_eq!(e.attr("to"), Some("coven@chat.shakespeare.lit"));
        assert_ne!(e.attr("type"), Some("groupchat"));
        let x = e.get_child("x", DATA).unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        let form = xmpp_parsers::data_forms::DataForm::try_from(x.clone()).unwrap();
        assert_eq!(form.form_type(), Some(REQUEST));
        let role = form
            .fields
            .iter()
            .find(|f| f.var.as_deref() == Some("muc#role"))
            .unwrap();
        assert_eq!(role.values, vec!["participant".to_string()]);
    }

    fn message(xml: &str) -> Message {
        Message::try_from(el(xml)).unwrap()
    }

    const APPROVAL: &str = "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='approve' to='crone1@shakespeare.lit/desktop'>
          <x xmlns='jabber:x:data' type='form'>
            <title>Voice request</title>
            <instructions>To approve this request for voice, select the &quot;Grant voice to this person?&quot; checkbox and click OK.</instructions>
            <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#request</value></field>
            <field var='muc#role' type='list-single' label='Requested role'><value>participant</value></field>
            <field var='muc#jid' type='jid-single' label='User ID'><value>hag66@shakespeare.lit/pda</value></field>
            <field var='muc#roomnick' type='text-single' label='Room Nickname'><value>thirdwitch</value></field>
            <field var='muc#request_allow' type='boolean' label='Grant voice to this person?'><value>false</value></field>
          </x></message>";

    #[test]
    fn moderator_receives_a_voice_request() {
        // Example 94.
        let vr = parse_voice_request(&message(APPROVAL)).unwrap();
        assert_eq!(vr.room.as_str(), "coven@chat.shakespeare.lit");
        assert_eq!(vr.nick.as_deref(), Some("thirdwitch"));
        assert_eq!(vr.jid.as_deref(), Some("hag66@shakespeare.lit/pda"));
        assert_eq!(vr.role.as_deref(), Some("participant"));
        // Through the classifier.
        assert!(matches!(
            crate::classify_message(&message(APPROVAL)),
            crate::Incoming::VoiceRequest(_)
        ));
    }

    #[test]
    fn voice_requests_only_from_the_room_itself() {
        let from_occupant = APPROVAL.replace(
            "from='coven@chat.shakespeare.lit'",
            "from='coven@chat.shakespeare.lit/evil'",
        );
        assert!(parse_voice_request(&message(&from_occupant)).is_none());
        let other_form = APPROVAL.replace(
            "<value>http://jabber.org/protocol/muc#request</value>",
            "<value>urn:example</value>",
        );
        assert!(parse_voice_request(&message(&other_form)).is_none());
        let plain = "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit'><body>hi</body></message>";
        assert!(parse_voice_request(&message(plain)).is_none());
    }
}

//! Room directory and room life cycle on plain elements: XEP-0030 disco of
//! MUC services and rooms (items paged with XEP-0059 RSM, room info with
//! the `muc#roominfo` form), XEP-0045 destroy and the cancelled
//! configuration form, and a JSON-friendly copy of XEP-0004 data forms.

use jid::Jid;
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType, Option_};
use xmpp_parsers::ns::RSM;
use xmpp_parsers::rsm::{SetQuery, SetResult};

use super::owner::{self, DATA};
use super::{ErrorInfo, bad, nc, ns};

pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
pub const ROOMINFO: &str = "http://jabber.org/protocol/muc#roominfo";

fn text_el(name: &str, ns: &str, text: &str) -> Element {
    Element::builder(name, ns).append(text).build()
}

/// An RSM request `<set>`: at most `max` items, after `after` (XEP-0059
/// §2.1, §2.2).
pub(crate) fn rsm_query(max: u32, after: Option<&str>) -> Element {
    SetQuery {
        max: Some(max as usize),
        after: after.map(str::to_string),
        before: None,
        index: None,
    }
    .into()
}

/// The RSM `<set>` among `parent`'s children; `None` without one, or when
/// xmpp-parsers cannot read it (the page is then taken as the last).
pub(crate) fn rsm_result(parent: &Element) -> Option<RsmResult> {
    let set = parent.get_child("set", RSM)?;
    let set = SetResult::try_from(set.clone()).ok()?;
    Some(RsmResult {
        first: set.first.map(|f| f.item),
        last: set.last,
        count: set.count,
    })
}

/// `<query xmlns='…disco#items'>`, with an RSM `<set>` (`max`, and `after`
/// for the next page) when `max` is given.
pub fn items_query(max: Option<u32>, after: Option<&str>) -> Element {
    let mut q = Element::builder("query", DISCO_ITEMS);
    if let Some(max) = max {
        q = q.append(rsm_query(max, after));
    }
    q.build()
}

/// `<query xmlns='…disco#info'/>`.
pub fn info_query() -> Element {
    Element::builder("query", ns::DISCO_INFO).build()
}

/// One room of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomItem {
    pub jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Occupant count, where the service gives it (or disco#info did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupants: Option<u32>,
    /// Description (only filled by `/search` from disco#info).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The RSM `<set>` of a result page (read with xmpp-parsers'
/// [`SetResult`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RsmResult {
    pub first: Option<String>,
    pub last: Option<String>,
    pub count: Option<usize>,
}

/// One disco#items answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsPage {
    pub items: Vec<RoomItem>,
    /// `None`: the service ignored RSM (the answer is the whole list).
    pub rsm: Option<RsmResult>,
}

impl ItemsPage {
    /// Where the next page starts (`after`), or `None` when this was the
    /// last one. `received` counts the items of every page so far,
    /// including this one. With a `count`, pages are asked for until that
    /// many items came; without one, until an empty page (a service may
    /// send fewer items per page than asked for, XEP-0059 §2.1).
    pub fn next_after(&self, received: usize, after: Option<&str>) -> Option<String> {
        let rsm = self.rsm.as_ref()?;
        let last = rsm.last.clone()?;
        if self.items.is_empty()
            || rsm.count.is_some_and(|c| received >= c)
            || after == Some(last.as_str())
        {
            return None;
        }
        Some(last)
    }
}

/// Parses a disco#items result (the `<query/>` payload).
pub fn parse_items(result: Option<&Element>) -> Result<ItemsPage, ErrorInfo> {
    let q = result
        .filter(|q| q.is("query", DISCO_ITEMS))
        .ok_or_else(|| bad("the service sent no disco#items answer"))?;
    let items = q
        .children()
        .filter(|c| c.is("item", DISCO_ITEMS))
        .filter_map(|c| {
            let jid = c.attr("jid")?.to_string();
            Some(RoomItem {
                jid,
                name: c.attr("name").filter(|n| !n.is_empty()).map(str::to_string),
                occupants: None,
                description: None,
            })
        })
        .collect();
    let rsm = rsm_result(q);
    Ok(ItemsPage { items, rsm })
}

/// A disco#info answer, as far as rooms and services need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoInfo {
    /// `(category, type, name)`
    pub identities: Vec<(String, String, Option<String>)>,
    pub features: Vec<String>,
    pub forms: Vec<DataForm>,
}

impl DiscoInfo {
    /// Whether this is a text conferencing (MUC) service: identity
    /// category `conference`, type `text`, and the XEP-0045 feature (a
    /// service of the older `jabber:iq:conference` protocol has the same
    /// identity).
    pub fn is_muc_service(&self) -> bool {
        self.identities
            .iter()
            .any(|(c, t, _)| c == "conference" && t == "text")
            && self.features.iter().any(|f| f == ns::MUC)
    }

    /// The values of `var` in the extension form `form_type`.
    fn form_values(&self, form_type: &str, var: &str) -> Option<&[String]> {
        self.forms
            .iter()
            .filter(|f| f.form_type() == Some(form_type))
            .flat_map(|f| f.fields.iter())
            .find(|f| f.var.as_deref() == Some(var))
            .map(|f| f.values.as_slice())
    }

    fn form_value(&self, form_type: &str, var: &str) -> Option<String> {
        self.form_values(form_type, var)
            .and_then(|v| v.first())
            .filter(|v| !v.is_empty())
            .cloned()
    }
}

/// Parses a disco#info result (the `<query/>` payload).
pub fn parse_info(result: Option<&Element>) -> Result<DiscoInfo, ErrorInfo> {
    let q = result
        .filter(|q| q.is("query", ns::DISCO_INFO))
        .ok_or_else(|| bad("no disco#info answer"))?;
    let mut info = DiscoInfo::default();
    for c in q.children() {
        if c.is("identity", ns::DISCO_INFO) {
            info.identities.push((
                c.attr("category").unwrap_or_default().to_string(),
                c.attr("type").unwrap_or_default().to_string(),
                c.attr("name").filter(|n| !n.is_empty()).map(str::to_string),
            ));
        } else if c.is("feature", ns::DISCO_INFO) {
            if let Some(v) = c.attr("var") {
                info.features.push(v.to_string());
            }
        } else if c.is("x", DATA) {
            // A broken extension form is left out, not fatal.
            if let Ok(f) = DataForm::try_from(c.clone()) {
                info.forms.push(f);
            }
        }
    }
    Ok(info)
}

/// What `/info ROOM` shows: the public information of a room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoomInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupants: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The room's features in words (`password-protected`, `members-only`,
    /// `moderated`, `non-anonymous`, `persistent`, `public`, `archived`…).
    pub features: Vec<String>,
    /// What a Jitsi focus said about the room (`/join --focus`): kept by
    /// the app, not part of disco#info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference: Option<super::focus::ConferenceInfo>,
}

/// Room features (disco#info `var`s of XEP-0045 §15.3 and a few others)
/// in words.
pub fn feature_word(var: &str) -> Option<&'static str> {
    Some(match var {
        "muc_passwordprotected" => "password-protected",
        "muc_unsecured" => "no password",
        "muc_membersonly" => "members-only",
        "muc_open" => "open",
        "muc_moderated" => "moderated",
        "muc_unmoderated" => "unmoderated",
        "muc_nonanonymous" => "non-anonymous",
        "muc_semianonymous" => "semi-anonymous",
        "muc_fullyanonymous" => "fully anonymous",
        "muc_persistent" => "persistent",
        "muc_temporary" => "temporary",
        "muc_public" => "public",
        "muc_hidden" => "hidden",
        "urn:xmpp:mam:2" | "urn:xmpp:mam:1" | "urn:xmpp:mam:0" => "archived (MAM)",
        "http://jabber.org/protocol/muc#register" => "registration",
        "urn:xmpp:occupant-id:0" => "occupant-id",
        "http://jabber.org/protocol/muc#stable_id" => "stable message ids",
        "muc_rooms" => "lists rooms",
        _ => return None,
    })
}

/// The room's public information from its disco#info answer.
pub fn room_info(info: &DiscoInfo) -> RoomInfo {
    let name = info
        .form_value(ROOMINFO, "muc#roomconfig_roomname")
        .or_else(|| {
            info.identities
                .iter()
                .find(|(c, _, _)| c == "conference")
                .and_then(|(_, _, n)| n.clone())
        });
    let mut features: Vec<String> = Vec::new();
    for var in &info.features {
        if let Some(w) = feature_word(var)
            && !features.iter().any(|f| f == w)
        {
            features.push(w.to_string());
        }
    }
    RoomInfo {
        name,
        description: info.form_value(ROOMINFO, "muc#roominfo_description"),
        subject: info.form_value(ROOMINFO, "muc#roominfo_subject"),
        occupants: info
            .form_value(ROOMINFO, "muc#roominfo_occupants")
            .and_then(|v| v.trim().parse().ok()),
        language: info.form_value(ROOMINFO, "muc#roominfo_lang"),
        features,
        conference: None,
    }
}

/// Room info as text lines (for the TUI).
pub fn describe_room_info(room: &str, info: &RoomInfo) -> String {
    let mut out = format!("Room {room}\n\n");
    let mut line = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.push_str(&format!("{k:<13}{v}\n"));
        }
    };
    line("Name", &info.name);
    line("Description", &info.description);
    line("Subject", &info.subject);
    line("Occupants", &info.occupants.map(|n| n.to_string()));
    line("Language", &info.language);
    let features = (!info.features.is_empty()).then(|| info.features.join(", "));
    line("Features", &features);
    if let Some(c) = &info.conference {
        line("Focus", &c.focus.clone().or(Some("(not named)".into())));
        line("Visitor node", &c.vnode);
        let props: Vec<String> = c
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line("Conference", &(!props.is_empty()).then(|| props.join(", ")));
    }
    out
}

/// `<query xmlns='…muc#owner'><destroy jid=VENUE><reason>…</reason></destroy></query>`
/// (XEP-0045 §10.9).
pub fn destroy(venue: Option<&Jid>, reason: Option<&str>) -> Element {
    let mut d = Element::builder("destroy", owner::NS);
    if let Some(v) = venue {
        d = d.attr(nc("jid"), v.to_string());
    }
    if let Some(r) = reason {
        d = d.append(text_el("reason", owner::NS, r));
    }
    Element::builder("query", owner::NS)
        .append(d.build())
        .build()
}

/// `<query xmlns='…muc#owner'><x xmlns='jabber:x:data' type='cancel'/></query>`:
/// the owner gives up configuring (XEP-0045 §10.1.3).
pub fn cancel_config() -> Element {
    Element::builder("query", owner::NS)
        .append(
            Element::builder("x", DATA)
                .attr(nc("type"), "cancel")
                .build(),
        )
        .build()
}

/// Submits a filled configuration form.
pub fn submit_form(form: DataForm) -> Element {
    Element::builder("query", owner::NS)
        .append(Element::from(form))
        .build()
}

/// The configuration form of a muc#owner answer.
pub fn config_form(result: Option<&Element>) -> Result<DataForm, ErrorInfo> {
    let x = result
        .and_then(|q| q.get_child("x", DATA))
        .ok_or_else(|| bad("the room sent no form"))?;
    DataForm::try_from(x.clone()).map_err(|e| bad(format!("unreadable form: {e}")))
}

/// A data form in a JSON-friendly shape (for events and the TUI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Form {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FormField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    /// `text-single`, `boolean`, `list-single`, … as in XEP-0004.
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FormOption>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FormOption {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

fn type_name(t: &FieldType) -> &'static str {
    match t {
        FieldType::Boolean => "boolean",
        FieldType::Fixed => "fixed",
        FieldType::Hidden => "hidden",
        FieldType::JidMulti => "jid-multi",
        FieldType::JidSingle => "jid-single",
        FieldType::ListMulti => "list-multi",
        FieldType::ListSingle => "list-single",
        FieldType::TextMulti => "text-multi",
        FieldType::TextPrivate => "text-private",
        FieldType::TextSingle => "text-single",
    }
}

fn type_of(name: &str) -> FieldType {
    match name {
        "boolean" => FieldType::Boolean,
        "fixed" => FieldType::Fixed,
        "hidden" => FieldType::Hidden,
        "jid-multi" => FieldType::JidMulti,
        "jid-single" => FieldType::JidSingle,
        "list-multi" => FieldType::ListMulti,
        "list-single" => FieldType::ListSingle,
        "text-multi" => FieldType::TextMulti,
        "text-private" => FieldType::TextPrivate,
        _ => FieldType::TextSingle,
    }
}

impl From<&DataForm> for Form {
    fn from(f: &DataForm) -> Form {
        Form {
            title: f.title.clone(),
            instructions: f.instructions.clone(),
            fields: f
                .fields
                .iter()
                .map(|x| FormField {
                    var: x.var.clone(),
                    type_: type_name(&x.type_).to_string(),
                    label: x.label.clone(),
                    desc: x.desc.clone(),
                    required: x.required,
                    values: x.values.clone(),
                    options: x
                        .options
                        .iter()
                        .map(|o| FormOption {
                            value: o.value.clone(),
                            label: o.label.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Form {
    /// Back to a `form` data form (for the form editor).
    pub fn to_data_form(&self) -> DataForm {
        DataForm {
            type_: DataFormType::Form,
            title: self.title.clone(),
            instructions: self.instructions.clone(),
            fields: self
                .fields
                .iter()
                .map(|x| {
                    let mut f = Field::new(x.var.as_deref().unwrap_or(""), type_of(&x.type_));
                    f.var = x.var.clone();
                    f.label = x.label.clone();
                    f.desc = x.desc.clone();
                    f.required = x.required;
                    f.values = x.values.clone();
                    f.options = x
                        .options
                        .iter()
                        .map(|o| Option_ {
                            label: o.label.clone(),
                            value: o.value.clone(),
                        })
                        .collect();
                    f
                })
                .collect(),
        }
    }
}

/// The `submit` form: `form` with `fields` (`FIELD=VALUE` pairs) applied.
/// A field given several times gets every value (for multi fields);
/// booleans take 1/0/true/false/yes/no/on/off; list-single values must be
/// among the options. Unknown fields are an error naming them.
pub fn apply_fields(form: &DataForm, fields: &[(String, String)]) -> Result<DataForm, ErrorInfo> {
    let mut out: Vec<Field> = Vec::new();
    for f in &form.fields {
        let Some(var) = &f.var else { continue };
        if f.type_ == FieldType::Fixed {
            continue;
        }
        let given: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| k == var)
            .map(|(_, v)| v.as_str())
            .collect();
        let mut field = Field::new(var, f.type_.clone());
        field.values = if given.is_empty() {
            f.values.clone()
        } else {
            let mut values = Vec::new();
            for v in given {
                values.push(match f.type_ {
                    FieldType::Boolean => match v.to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" | "on" => "1".to_string(),
                        "0" | "false" | "no" | "off" => "0".to_string(),
                        _ => return Err(bad(format!("{var} is a yes/no field, not {v:?}"))),
                    },
                    FieldType::ListSingle | FieldType::ListMulti
                        if !f.options.is_empty() && !f.options.iter().any(|o| o.value == v) =>
                    {
                        let allowed: Vec<&str> =
                            f.options.iter().map(|o| o.value.as_str()).collect();
                        return Err(bad(format!(
                            "{var} must be one of {}, not {v:?}",
                            allowed.join(", ")
                        )));
                    }
                    _ => v.to_string(),
                });
            }
            values
        };
        out.push(field);
    }
    let unknown: Vec<&str> = fields
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !form.fields.iter().any(|f| f.var.as_deref() == Some(*k)))
        .collect();
    if let Some(k) = unknown.first() {
        return Err(bad(format!("the form has no field {k}")));
    }
    Ok(DataForm {
        type_: DataFormType::Submit,
        title: None,
        instructions: None,
        fields: out,
    })
}

#[cfg(test)]
mod tests;

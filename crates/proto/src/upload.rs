//! XEP-0363 HTTP File Upload (the service, its limit, the slot) and
//! XEP-0066 out-of-band data (`jabber:x:oob`): what a shared file looks
//! like in a message.

use minidom::Element;

use super::rooms::DiscoInfo;
use super::{ErrorInfo, nc};

/// XEP-0363's namespace (feature, slot request, slot).
pub const NS: &str = "urn:xmpp:http:upload:0";
/// XEP-0066 out-of-band data in a message.
pub const OOB: &str = "jabber:x:oob";
/// The longest URL taken from a slot or a message.
pub const MAX_URL: usize = 4096;
/// The longest header value taken from a slot.
const MAX_HEADER: usize = 8192;
/// The slot's headers a client may send (XEP-0363 §5); others are dropped.
const ALLOWED_HEADERS: &[&str] = &["Authorization", "Cookie", "Expires"];

/// An upload service: `Some(limit)` (bytes; `None`: no limit announced)
/// when the disco#info lists the feature.
pub fn service_limit(info: &DiscoInfo) -> Option<Option<u64>> {
    if !info.features.iter().any(|f| f == NS) {
        return None;
    }
    let limit = info
        .forms
        .iter()
        .filter(|f| f.form_type() == Some(NS))
        .flat_map(|f| f.fields.iter())
        .find(|f| f.var.as_deref() == Some("max-file-size"))
        .and_then(|f| f.values.first())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Some(limit)
}

/// The slot request for a file of `size` bytes.
pub fn slot_request(filename: &str, size: u64, content_type: &str) -> Element {
    Element::builder("request", NS)
        .attr(nc("filename"), filename)
        .attr(nc("size"), size.to_string())
        .attr(nc("content-type"), content_type)
        .build()
}

/// A slot: where to PUT (with which headers) and the URL to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub put: String,
    pub get: String,
    /// Only Authorization, Cookie, Expires; no line breaks in values.
    pub headers: Vec<(String, String)>,
}

fn bad(text: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new("undefined-condition", Some(text.into()))
}

/// A URL we accept from a peer: https (http allowed for `put`/`get` only
/// when `http` is), bounded, no whitespace or control characters.
pub fn acceptable_url(url: &str, http: bool) -> bool {
    let scheme_ok = url.starts_with("https://") || (http && url.starts_with("http://"));
    scheme_ok && url.len() <= MAX_URL && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Parses the slot answer (the `<slot/>` payload).
pub fn parse_slot(payload: Option<&Element>) -> Result<Slot, ErrorInfo> {
    let slot = payload
        .filter(|s| s.is("slot", NS))
        .ok_or_else(|| bad("the upload service sent no slot"))?;
    let put_el = slot
        .get_child("put", NS)
        .ok_or_else(|| bad("the slot has no PUT URL"))?;
    let put = put_el.attr("url").unwrap_or_default().to_string();
    let get = slot
        .get_child("get", NS)
        .and_then(|g| g.attr("url"))
        .unwrap_or_default()
        .to_string();
    for (what, url) in [("PUT", &put), ("GET", &get)] {
        if !acceptable_url(url, false) {
            return Err(bad(format!(
                "the slot's {what} URL is not an https:// URL we accept"
            )));
        }
    }
    let headers = put_el
        .children()
        .filter(|h| h.is("header", NS))
        .filter_map(|h| {
            let name = ALLOWED_HEADERS
                .iter()
                .find(|a| h.attr("name").is_some_and(|n| n.eq_ignore_ascii_case(a)))?;
            let value = h.text();
            let clean = value.len() <= MAX_HEADER
                && !value.chars().any(|c| c == '\r' || c == '\n' || c == '\0');
            clean.then(|| (name.to_string(), value))
        })
        .collect();
    Ok(Slot { put, get, headers })
}

/// `<x xmlns='jabber:x:oob'><url>…</url></x>`
pub fn oob(url: &str) -> Element {
    Element::builder("x", OOB)
        .append(Element::builder("url", OOB).append(url).build())
        .build()
}

/// The XEP-0066 URL of a message, if it has an acceptable one (http,
/// https or aesgcm; bounded; no whitespace or control characters).
pub fn oob_url(payloads: &[Element]) -> Option<String> {
    let url = payloads
        .iter()
        .find(|p| p.is("x", OOB))?
        .get_child("url", OOB)?
        .text();
    let url = url.trim();
    let scheme_ok = ["https://", "http://", "aesgcm://"]
        .iter()
        .any(|s| url.starts_with(s));
    (scheme_ok && url.len() <= MAX_URL && !url.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| url.to_string())
}

/// The body as shown: an OOB URL the body does not mention is added on a
/// line of its own (so every view and the archive keep it).
pub fn body_with_oob(payloads: &[Element], body: String) -> String {
    match oob_url(payloads) {
        Some(url) if !body.contains(&url) => {
            if body.trim().is_empty() {
                url
            } else {
                format!("{body}\n{url}")
            }
        }
        _ => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn slot_headers_are_filtered() {
        let s = el("<slot xmlns='urn:xmpp:http:upload:0'>\
            <put url='https://up.example/a/b.png'>\
              <header name='Authorization'>Basic Zm9v</header>\
              <header name='Cookie'>foo=bar</header>\
              <header name='Host'>evil</header>\
              <header name='Expires'>Tue\r\nX: y</header>\
            </put><get url='https://dl.example/a/b.png'/></slot>");
        let slot = parse_slot(Some(&s)).unwrap();
        assert_eq!(slot.put, "https://up.example/a/b.png");
        assert_eq!(slot.get, "https://dl.example/a/b.png");
        assert_eq!(
            slot.headers,
            vec![
                ("Authorization".to_string(), "Basic Zm9v".to_string()),
                ("Cookie".to_string(), "foo=bar".to_string()),
            ]
        );
    }

    #[test]
    fn slots_without_https_urls_are_refused() {
        for xml in [
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='file:///etc/passwd'/><get url='https://x/y'/></slot>",
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://x/y'/><get url='https://x/a b'/></slot>",
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://x/y'/></slot>",
            "<other xmlns='urn:xmpp:http:upload:0'/>",
        ] {
            assert!(parse_slot(Some(&el(xml))).is_err(), "{xml}");
        }
    }

    #[test]
    fn oob_urls() {
        let m = vec![oob("https://x/f.txt")];
        assert_eq!(oob_url(&m).as_deref(), Some("https://x/f.txt"));
        assert_eq!(
            body_with_oob(&m, "https://x/f.txt".into()),
            "https://x/f.txt"
        );
        assert_eq!(body_with_oob(&m, "look".into()), "look\nhttps://x/f.txt");
        for bad in ["file:///etc/passwd", "https://x/\u{1b}[2J", "javascript:x"] {
            assert_eq!(oob_url(&[oob(bad)]), None, "{bad:?}");
        }
    }

    #[test]
    fn limits_from_disco() {
        let info = crate::rooms::parse_info(Some(&el(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='store' type='file'/>\
              <feature var='urn:xmpp:http:upload:0'/>\
              <x xmlns='jabber:x:data' type='result'>\
                <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
                <field var='max-file-size'><value>5242880</value></field></x></query>",
        )))
        .unwrap();
        assert_eq!(service_limit(&info), Some(Some(5_242_880)));
        assert_eq!(service_limit(&DiscoInfo::default()), None);
    }
}

//! XEP-0433 Extended Channel Search on plain elements: the search form
//! request, a keyword search submitted with the fields every search
//! service must know (paged with XEP-0059 RSM), and the result items.

use minidom::Element;

use super::owner::DATA;
use super::rooms::{ItemsPage, RoomItem, rsm_query, rsm_result};
use super::{ErrorInfo, nc};

/// The namespace of the search request and result.
pub const SEARCH: &str = "urn:xmpp:channel-search:0:search";
/// The `FORM_TYPE` of the search parameters.
pub const PARAMS: &str = "urn:xmpp:channel-search:0:search-params";
/// Application-defined error conditions.
pub const ERRORS: &str = "urn:xmpp:channel-search:0:error";

fn text_el(name: &str, ns: &str, text: &str) -> Element {
    Element::builder(name, ns).append(text).build()
}

fn field(var: &str, kind: Option<&str>, value: &str) -> Element {
    let mut f = Element::builder("field", DATA).attr(nc("var"), var);
    if let Some(kind) = kind {
        f = f.attr(nc("type"), kind);
    }
    f.append(text_el("value", DATA, value)).build()
}

/// `<search xmlns='urn:xmpp:channel-search:0:search'/>`: asks for the
/// search form (§4.2.1).
pub fn form_request() -> Element {
    Element::builder("search", SEARCH).build()
}

/// A keyword search for `q` in the name, description and address of
/// channels (§4.2.2), one RSM page of at most `max` after `after`.
///
/// The address switch is sent both as `sinaddress` (the field table of
/// §6.1) and as `sinaddr` (the form example of §4.2.1): a service ignores
/// the field it does not know (§5).
pub fn search_request(q: &str, max: u32, after: Option<&str>) -> Element {
    let form = Element::builder("x", DATA)
        .attr(nc("type"), "submit")
        .append(field("FORM_TYPE", Some("hidden"), PARAMS))
        .append(field("q", Some("text-single"), q))
        .append(field("sinname", Some("boolean"), "true"))
        .append(field("sindescription", Some("boolean"), "true"))
        .append(field("sinaddress", Some("boolean"), "true"))
        .append(field("sinaddr", Some("boolean"), "true"))
        .build();
    Element::builder("search", SEARCH)
        .append(form)
        .append(rsm_query(max, after))
        .build()
}

fn child_text(item: &Element, name: &str) -> Option<String> {
    item.get_child(name, SEARCH)
        .map(|c| c.text().trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Parses a search result (the `<result/>` payload) into the same page
/// shape as a disco#items listing: `address` is the room's JID, `name`,
/// `description` and `nusers` fill the rest (other children, such as
/// `language`, `is-open` and `service-type`, are not kept).
pub fn parse_result(result: Option<&Element>) -> Result<ItemsPage, ErrorInfo> {
    let r = result.filter(|r| r.is("result", SEARCH)).ok_or_else(|| {
        ErrorInfo::new(
            "bad-request",
            Some("the search service sent no channel search result".to_string()),
        )
    })?;
    let items = r
        .children()
        .filter(|c| c.is("item", SEARCH))
        .filter_map(|c| {
            let jid = c.attr("address").filter(|a| !a.is_empty())?.to_string();
            Some(RoomItem {
                jid,
                name: child_text(c, "name"),
                occupants: child_text(c, "nusers").and_then(|n| n.parse().ok()),
                description: child_text(c, "description"),
            })
        })
        .collect();
    let rsm = rsm_result(r);
    Ok(ItemsPage { items, rsm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;
    use xmpp_parsers::ns::RSM;

    fn values(form: &Element, var: &str) -> Vec<String> {
        form.children()
            .filter(|f| f.is("field", DATA) && f.attr("var") == Some(var))
            .flat_map(|f| f.children().filter(|v| v.is("value", DATA)))
            .map(Element::text)
            .collect()
    }

    #[test]
    fn form_request_is_an_empty_search() {
        let r = form_request();
        assert!(r.is("search", SEARCH));
        assert_eq!(r.children().count(), 0);
    }

    #[test]
    fn search_request_submits_the_params_form_with_rsm() {
        let r = search_request("xmpp.org", 5, None);
        assert!(r.is("search", SEARCH));
        let x = r.get_child("x", DATA).unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        assert_eq!(values(x, "FORM_TYPE"), [PARAMS]);
        assert_eq!(values(x, "q"), ["xmpp.org"]);
        for var in ["sinname", "sindescription", "sinaddress", "sinaddr"] {
            assert_eq!(values(x, var), ["true"], "{var}");
        }
        let set = r.get_child("set", RSM).unwrap();
        assert_eq!(set.get_child("max", RSM).unwrap().text(), "5");
        assert!(set.get_child("after", RSM).is_none());

        let r = search_request("xmpp.org", 5, Some("opaque-string-2"));
        let set = r.get_child("set", RSM).unwrap();
        assert_eq!(
            set.get_child("after", RSM).unwrap().text(),
            "opaque-string-2"
        );
    }

    #[test]
    fn parses_the_success_example() {
        // XEP-0433 §4.2.2.1 (the elided items left out).
        let page = parse_result(Some(&el(
            "<result xmlns='urn:xmpp:channel-search:0:search'>
    <item address='commteam@muc.xmpp.org'>
      <name>commteam</name>
      <nusers>10</nusers>
      <is-open/>
    </item>
    <item address='operators@muc.xmpp.org'>
      <name>XMPP Service Operators</name>
      <description>Discussion venue for operators of federated XMPP services</description>
      <nusers>43</nusers>
      <is-open/>
    </item>
    <item><name>no address: skipped</name></item>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first>opaque-string-1</first>
      <last>opaque-string-2</last>
      <max>5</max>
    </set>
  </result>",
        )))
        .unwrap();
        assert_eq!(
            page.items,
            [
                RoomItem {
                    jid: "commteam@muc.xmpp.org".into(),
                    name: Some("commteam".into()),
                    occupants: Some(10),
                    description: None,
                },
                RoomItem {
                    jid: "operators@muc.xmpp.org".into(),
                    name: Some("XMPP Service Operators".into()),
                    occupants: Some(43),
                    description: Some(
                        "Discussion venue for operators of federated XMPP services".into()
                    ),
                },
            ]
        );
        let rsm = page.rsm.clone().unwrap();
        assert_eq!(rsm.first.as_deref(), Some("opaque-string-1"));
        assert_eq!(rsm.last.as_deref(), Some("opaque-string-2"));
        assert_eq!(rsm.count, None);
        // Without a count, the next page follows the last item.
        assert_eq!(page.next_after(2, None).as_deref(), Some("opaque-string-2"));
    }

    #[test]
    fn no_results_and_wrong_payloads() {
        // §5: no results is an empty <result/>, not an error.
        let page = parse_result(Some(&el(
            "<result xmlns='urn:xmpp:channel-search:0:search'/>",
        )))
        .unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.next_after(0, None), None);

        let e = parse_result(None).unwrap_err();
        assert_eq!(e.condition, "bad-request");
        let e = parse_result(Some(&el(
            "<query xmlns='http://jabber.org/protocol/disco#items'/>",
        )))
        .unwrap_err();
        assert_eq!(e.condition, "bad-request");
    }

    #[test]
    fn invalid_search_terms_error_keeps_condition_and_text() {
        // XEP-0433 §4.2.2.3.
        // As the session reads it (xmpp-parsers' StanzaError).
        let err = xmpp_parsers::stanza_error::StanzaError::try_from(el(
            "<error xmlns='jabber:client' type='modify'>
    <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
    <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Search terms must have at least three characters.</text>
    <invalid-search-terms xmlns='urn:xmpp:channel-search:0:error'/>
  </error>",
        ))
        .unwrap();
        let e = ErrorInfo::from_stanza_error(&err);
        assert_eq!(e.condition, "bad-request");
        assert_eq!(
            e.text.as_deref(),
            Some("Search terms must have at least three characters.")
        );
    }
}

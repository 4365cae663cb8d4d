//! `/search` through an XEP-0433 Extended Channel Search service. The
//! service is a raw XMPP client (`searcher@localhost/peer`, connected with
//! confab's own connection code to the real Prosody) that answers
//! channel searches from a fixed directory as the XEP says: keyword search
//! in name, description and address as the `sin*` switches say, ordered
//! by address, paged with RSM by its own policy (at most 4 a page), and
//! the XEP's errors for search terms it cannot use.

use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use minidom::Element;
use serde_json::Value;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use confab::session::connect::Stream;

use crate::common::peer::*;
use crate::common::*;

const SEARCH: &str = "urn:xmpp:channel-search:0:search";
const PARAMS: &str = "urn:xmpp:channel-search:0:search-params";
const ERRORS: &str = "urn:xmpp:channel-search:0:error";
const DATA: &str = "jabber:x:data";
const RSM: &str = "http://jabber.org/protocol/rsm";
/// The service's own page size, whatever the searcher asks for.
const SERVICE_PAGE: usize = 4;

/// (address, name, description, users)
const DIRECTORY: &[(&str, &str, &str, u32)] = &[
    (
        "allotments@muc.example",
        "Allotments",
        "Vegetable GARDENS and plots",
        12,
    ),
    ("bakery@muc.example", "Bakery", "Bread, cakes and pastry", 3),
    (
        "chess@conference.localhost",
        "Chess",
        "Openings and endgames",
        40,
    ),
    ("club@gardening.example", "Club", "Members only", 5),
    (
        "compost@muc.example",
        "Compost",
        "Turning waste into soil",
        2,
    ),
    (
        "cooking@muc.example",
        "Kitchen Garden Cooking",
        "From plot to plate",
        9,
    ),
    (
        "football@muc.example",
        "Football",
        "Matches and results",
        80,
    ),
    (
        "gardenparty@conference.localhost",
        "Summer Party",
        "Celebrations",
        7,
    ),
    (
        "herbs@muc.example",
        "Herbs",
        "Growing herbs in a small garden",
        4,
    ),
    ("hiking@muc.example", "Hiking", "Trails and mountains", 21),
    ("japanese@muc.example", "Zen Gardens", "Raked gravel", 6),
    ("knitting@muc.example", "Knitting", "Wool and needles", 8),
    ("orchard@muc.example", "Orchard", "Fruit trees", 1),
    (
        "photography@muc.example",
        "Photography",
        "Cameras and light",
        33,
    ),
    ("roses@conference.localhost", "Rose garden", "", 15),
    ("rust@muc.example", "Rust", "The programming language", 99),
    ("sailing@muc.example", "Sailing", "Boats and wind", 11),
    (
        "weeds@muc.example",
        "Weeds",
        "What grows where you do not want it",
        0,
    ),
    ("xmpp@muc.example", "XMPP", "The protocol", 50),
    ("yoga@muc.example", "Yoga", "Stretching", 10),
];

/// What a search for "garden" must find, in address order: 3 by name, 2
/// by description (one in other case), 2 by address only.
const GARDEN: &[&str] = &[
    "allotments@muc.example",
    "club@gardening.example",
    "cooking@muc.example",
    "gardenparty@conference.localhost",
    "herbs@muc.example",
    "japanese@muc.example",
    "roses@conference.localhost",
];

/// One search the service received: (q, max, after).
type Request = (Option<String>, Option<String>, Option<String>);

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn text_el(name: &str, ns: &str, text: &str) -> Element {
    Element::builder(name, ns).append(text).build()
}

/// The values of the submitted field `var`.
fn field(form: &Element, var: &str) -> Option<String> {
    form.children()
        .find(|f| f.is("field", DATA) && f.attr("var") == Some(var))
        .map(|f| {
            f.children()
                .filter(|v| v.is("value", DATA))
                .map(Element::text)
                .collect::<Vec<_>>()
                .join("\n")
        })
}

fn boolean(form: &Element, var: &str, default: bool) -> bool {
    match field(form, var).as_deref().map(str::trim) {
        Some("1" | "true") => true,
        Some("0" | "false") => false,
        _ => default,
    }
}

fn search_error(
    kind: ErrorType,
    condition: DefinedCondition,
    text: &str,
    app: &str,
) -> StanzaError {
    let mut e = StanzaError::new(kind, condition, "en", text);
    e.other = Some(Element::builder(app, ERRORS).build());
    e
}

/// The search form (§4.2.1): the fields this service supports.
fn search_form() -> Element {
    let f = |var: &str, kind: &str, value: Option<&str>| {
        let mut b = Element::builder("field", DATA)
            .attr(confab::protocol::nc("var"), var)
            .attr(confab::protocol::nc("type"), kind);
        if let Some(v) = value {
            b = b.append(text_el("value", DATA, v));
        }
        b.build()
    };
    let x = Element::builder("x", DATA)
        .attr(confab::protocol::nc("type"), "form")
        .append(f("FORM_TYPE", "hidden", Some(PARAMS)))
        .append(f("q", "text-single", None))
        .append(f("sinname", "boolean", Some("true")))
        .append(f("sindescription", "boolean", Some("true")))
        .append(f("sinaddress", "boolean", Some("true")))
        .append(f(
            "key",
            "list-single",
            Some("{urn:xmpp:channel-search:0:order}address"),
        ))
        .build();
    Element::builder("search", SEARCH).append(x).build()
}

/// Answers one `<search/>` (§4.2.2).
fn answer_search(search: &Element, log: &Mutex<Vec<Request>>) -> Result<Element, Box<StanzaError>> {
    let Some(form) = search
        .get_child("x", DATA)
        .filter(|x| field(x, "FORM_TYPE").as_deref() == Some(PARAMS))
    else {
        // An empty <search/> asks for the form.
        return if search.children().next().is_none() {
            Ok(search_form())
        } else {
            Err(Box::new(StanzaError::new(
                ErrorType::Modify,
                DefinedCondition::BadRequest,
                "en",
                "no search-params form",
            )))
        };
    };
    let set = search.get_child("set", RSM);
    let rsm = |name: &str| set.and_then(|s| s.get_child(name, RSM)).map(Element::text);
    let q = field(form, "q");
    log.lock()
        .unwrap()
        .push((q.clone(), rsm("max"), rsm("after")));
    let Some(q) = q else {
        return Err(Box::new(search_error(
            ErrorType::Modify,
            DefinedCondition::BadRequest,
            "Give search terms in q.",
            "no-search-conditions",
        )));
    };
    let q = q.trim().to_lowercase();
    if q.chars().count() < 3 {
        return Err(Box::new(search_error(
            ErrorType::Modify,
            DefinedCondition::BadRequest,
            "Search terms must have at least three characters.",
            "invalid-search-terms",
        )));
    }
    let in_name = boolean(form, "sinname", true);
    let in_description = boolean(form, "sindescription", true);
    let in_address = boolean(form, "sinaddress", boolean(form, "sinaddr", true));
    // Ordered by address: pages without duplicates or omissions.
    let mut hits: Vec<_> = DIRECTORY
        .iter()
        .filter(|(address, name, description, _)| {
            (in_name && name.to_lowercase().contains(&q))
                || (in_description && description.to_lowercase().contains(&q))
                || (in_address && address.to_lowercase().contains(&q))
        })
        .collect();
    hits.sort_by_key(|(address, ..)| *address);
    let count = hits.len();
    let max = rsm("max")
        .and_then(|m| m.trim().parse::<usize>().ok())
        .unwrap_or(SERVICE_PAGE)
        .min(SERVICE_PAGE);
    let start = match rsm("after") {
        Some(after) => hits
            .iter()
            .position(|(a, ..)| *a > after.as_str())
            .unwrap_or(count),
        None => 0,
    };
    let page = &hits[start..(start + max).min(count)];
    let mut result = Element::builder("result", SEARCH);
    for (address, name, description, users) in page {
        let mut item = Element::builder("item", SEARCH)
            .attr(confab::protocol::nc("address"), *address)
            .append(text_el("name", SEARCH, name));
        if !description.is_empty() {
            item = item.append(text_el("description", SEARCH, description));
        }
        item = item
            .append(text_el("language", SEARCH, "en"))
            .append(text_el("nusers", SEARCH, &users.to_string()))
            .append(text_el("is-open", SEARCH, "true"))
            .append(text_el("service-type", SEARCH, "xep-0045"));
        result = result.append(item.build());
    }
    let mut set = Element::builder("set", RSM);
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        set = set
            .append(
                Element::builder("first", RSM)
                    .attr(confab::protocol::nc("index"), start.to_string())
                    .append(first.0)
                    .build(),
            )
            .append(text_el("last", RSM, last.0));
    }
    set = set.append(text_el("count", RSM, &count.to_string()));
    Ok(result.append(set.build()).build())
}

/// Serves channel searches until the stream ends.
async fn serve(mut stream: Stream, log: Arc<Mutex<Vec<Request>>>) {
    while let Some(item) = stream.next().await {
        let iq = match item {
            Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))) => iq,
            Ok(_) => continue,
            // The connection is gone (the server stops at the end of the test).
            Err(_) => return,
        };
        let Iq::Get {
            from, id, payload, ..
        } = iq
        else {
            continue;
        };
        let reply = if payload.is("search", SEARCH) {
            match answer_search(&payload, &log) {
                Ok(p) => Iq::Result {
                    from: None,
                    to: from,
                    id,
                    payload: Some(p),
                },
                Err(error) => Iq::Error {
                    from: None,
                    to: from,
                    id,
                    error: *error,
                    payload: None,
                },
            }
        } else {
            Iq::Error {
                from: None,
                to: from,
                id,
                error: StanzaError::new(
                    ErrorType::Cancel,
                    DefinedCondition::ServiceUnavailable,
                    "en",
                    "a search service only",
                ),
                payload: None,
            }
        };
        if stream
            .send(&XmppStreamElement::Stanza(reply.into()))
            .await
            .is_err()
        {
            return;
        }
    }
}

fn jids(v: &Value) -> Vec<String> {
    v["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["jid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_through_a_channel_search_service() {
    let server = prosody_with(&["alice", "bob", "searcher"]);
    let (stream, searcher) = peer_with_jid(&server, "searcher").await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let service = tokio::spawn(serve(stream, log.clone()));

    // Alice's account names the service in the config file.
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[accounts.test]\njid = \"{}\"\nsearch_service = \"{searcher}\"\n",
            server.jid("alice")
        ),
    )
    .unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &["--keep-going"]);
    alice.connected();

    alice.ok("/search garden");
    let s = alice.event("search result", |v| is(v, "room-search"));
    assert_eq!(s["via"], "xep-0433", "{s}");
    assert_eq!(s["service"], searcher.to_string());
    assert_eq!(s["query"], "garden");
    assert_eq!(jids(&s), GARDEN, "{s}");
    // What the service said of each room came along.
    let herbs = &s["rooms"][4];
    assert_eq!(herbs["name"], "Herbs");
    assert_eq!(herbs["description"], "Growing herbs in a small garden");
    assert_eq!(herbs["occupants"], 4);
    // 7 rooms at 4 a page: two requests, the second after the first page.
    let requests = log.lock().unwrap().clone();
    let garden = Some("garden".to_string());
    assert_eq!(
        requests,
        [
            (garden.clone(), Some("100".into()), None),
            (
                garden.clone(),
                Some("100".into()),
                Some("gardenparty@conference.localhost".into())
            ),
        ]
    );

    // Nothing found is an empty result, not an error.
    alice.ok("/search volcano");
    let s = alice
        .find(|v| is(v, "room-search") && v["query"] == "volcano")
        .expect("a result before the ok");
    assert_eq!(jids(&s), Vec::<String>::new());

    // The service's error, with its condition and text; nothing else.
    let e = alice.run("/search ab");
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "bad-request");
    assert_eq!(
        e["text"], "Search terms must have at least three characters.",
        "{e}"
    );
    assert!(
        !alice.saw(|v| is(v, "room-search") && v["query"] == "ab"),
        "no result after the error"
    );

    // With a SERVICE, the MUC service is searched over disco instead.
    let before = log.lock().unwrap().len();
    alice.ok("/search garden conference.localhost");
    let s = alice
        .find(|v| is(v, "room-search"))
        .expect("a result before the ok");
    assert_eq!(s["via"], "disco");
    assert_eq!(s["service"], "conference.localhost");
    assert_eq!(log.lock().unwrap().len(), before);
    // One command failed (--keep-going): exit status 1.
    assert_eq!(alice.finish(), 1);

    // The same service given on the command line.
    let bob_home = tempfile::tempdir().unwrap();
    let mut bob = Client::start_in(
        &server,
        "bob",
        bob_home.path(),
        &["--search-service", &searcher.to_string()],
    );
    bob.connected();
    bob.ok("/search ROSE");
    let s = bob.event("search result", |v| is(v, "room-search"));
    assert_eq!(jids(&s), ["roses@conference.localhost"], "{s}");
    assert_eq!(s["rooms"][0]["name"], "Rose garden");
    assert_eq!(bob.finish(), 0);
    service.abort();
}

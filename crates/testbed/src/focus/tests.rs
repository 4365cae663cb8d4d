use super::*;

fn opts() -> FocusOptions {
    FocusOptions::new("focus.localhost")
}

fn request(from: &str, id: &str, room: Option<&str>) -> Element {
    let c = Conference {
        room: room.map(str::to_string),
        ..Conference::default()
    };
    stanza("iq")
        .attr(nc("from"), from)
        .attr(nc("to"), "focus.localhost")
        .attr(nc("id"), id)
        .attr(nc("type"), "set")
        .append(c.to_element())
        .build()
}

fn self_presence(room: &str, codes: &[&str]) -> Element {
    let mut x = Element::builder("x", ns::MUC_USER);
    for c in codes {
        x = x.append(
            Element::builder("status", ns::MUC_USER)
                .attr(nc("code"), *c)
                .build(),
        );
    }
    stanza("presence")
        .attr(nc("from"), format!("{room}/focus"))
        .attr(nc("to"), "focus@focus.localhost/focus")
        .append(x.build())
        .build()
}

fn sent(outs: &[Out]) -> Vec<&Element> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Send(el) => Some(el),
            _ => None,
        })
        .collect()
}

fn answer_of(el: &Element) -> Conference {
    assert_eq!(el.attr("type"), Some("result"), "{}", String::from(el));
    Conference::from_element(el.get_child("conference", proto::NS).unwrap()).unwrap()
}

fn condition_of(el: &Element) -> String {
    assert_eq!(el.attr("type"), Some("error"));
    confab_proto::ErrorInfo::from_error_element(el.get_child("error", NS).unwrap()).condition
}

#[test]
fn creates_the_room_as_owner_before_ready() {
    let mut core = Core::new(FocusOptions {
        properties: vec![("sipGatewayEnabled".into(), "true".into())],
        ..opts()
    });
    let outs = core.stanza(&request(
        "alice@localhost/x",
        "q1",
        Some("r@conference.localhost"),
    ));
    let out = sent(&outs);
    assert_eq!(out.len(), 1, "no answer yet, only the join");
    assert!(out[0].is("presence", NS));
    assert_eq!(out[0].attr("to"), Some("r@conference.localhost/focus"));
    assert_eq!(out[0].attr("from"), Some("focus@focus.localhost/focus"));
    assert!(out[0].has_child("x", ns::MUC));
    // The room is new: instant configuration.
    let outs = core.stanza(&self_presence("r@conference.localhost", &["110", "201"]));
    let cfg = sent(&outs)[0].clone();
    assert!(cfg.is("iq", NS));
    assert!(cfg.has_child("query", owner::NS));
    let form = cfg
        .get_child("query", owner::NS)
        .unwrap()
        .children()
        .next()
        .unwrap();
    assert!(
        form.children()
            .any(|f| f.attr("var") == Some("muc#roomconfig_whois")),
        "non-anonymous: {form:?}"
    );
    let result = stanza("iq")
        .attr(nc("from"), "r@conference.localhost")
        .attr(nc("id"), cfg.attr("id").unwrap())
        .attr(nc("type"), "result")
        .build();
    let outs = core.stanza(&result);
    let c = answer_of(sent(&outs)[0]);
    assert_eq!(sent(&outs)[0].attr("id"), Some("q1"));
    assert_eq!(c.ready, Some(true));
    assert_eq!(c.focus_jid.as_deref(), Some("focus@focus.localhost/focus"));
    assert_eq!(
        c.properties,
        vec![("sipGatewayEnabled".into(), "true".into())]
    );
    // The next request is answered at once.
    let outs = core.stanza(&request(
        "bob@localhost/y",
        "q2",
        Some("r@conference.localhost"),
    ));
    assert_eq!(answer_of(sent(&outs)[0]).ready, Some(true));
}

#[test]
fn not_ready_n_times_then_ready() {
    let mut core = Core::new(FocusOptions {
        not_ready: 2,
        ..opts()
    });
    let room = Some("r@conference.localhost");
    let outs = core.stanza(&request("alice@localhost/x", "1", room));
    let out = sent(&outs);
    assert_eq!(out.len(), 2, "join + not ready");
    let first = answer_of(out[1]);
    assert_eq!(first.ready, Some(false));
    let sid = first.session_id.clone().unwrap();
    // The room existed already (no 201): ready without configuration.
    core.stanza(&self_presence("r@conference.localhost", &["110"]));
    let outs = core.stanza(&request("alice@localhost/x", "2", room));
    let c = answer_of(sent(&outs)[0]);
    assert_eq!(c.ready, Some(false));
    let mut again = Conference::request("r@conference.localhost", &[]);
    again.session_id = Some(sid.clone());
    let iq = stanza("iq")
        .attr(nc("from"), "alice@localhost/x")
        .attr(nc("id"), "3")
        .attr(nc("type"), "set")
        .append(again.to_element())
        .build();
    let outs = core.stanza(&iq);
    let c = answer_of(sent(&outs)[0]);
    assert_eq!(c.ready, Some(true));
    assert_eq!(c.session_id, Some(sid), "the session is kept");
}

#[test]
fn vnode_sets_up_the_visitor_room_too() {
    let mut core = Core::new(FocusOptions {
        vnode: Some("v1".into()),
        ..opts()
    });
    let outs = core.stanza(&request(
        "alice@localhost/x",
        "1",
        Some("r@conference.localhost"),
    ));
    let joins: Vec<_> = sent(&outs)
        .iter()
        .map(|e| e.attr("to").unwrap().to_string())
        .collect();
    assert_eq!(
        joins,
        [
            "r@conference.localhost/focus",
            "r@conference.v1.localhost/focus"
        ]
    );
    assert!(
        core.stanza(&self_presence("r@conference.localhost", &["110"]))
            .is_empty()
    );
    let outs = core.stanza(&self_presence("r@conference.v1.localhost", &["110"]));
    let c = answer_of(sent(&outs)[0]);
    assert_eq!(c.vnode.as_deref(), Some("v1"));
}

#[test]
fn refusals() {
    let mut core = Core::new(FocusOptions {
        auth_domains: Some(vec!["localhost".into()]),
        ..opts()
    });
    let outs = core.stanza(&request("alice@localhost/x", "1", None));
    assert_eq!(condition_of(sent(&outs)[0]), "bad-request");
    let outs = core.stanza(&request("alice@localhost/x", "1", Some("no-node.example")));
    assert_eq!(condition_of(sent(&outs)[0]), "bad-request");
    let outs = core.stanza(&request(
        "alice@localhost/x",
        "1",
        Some("r@elsewhere.example"),
    ));
    assert_eq!(condition_of(sent(&outs)[0]), "bad-request");
    let outs = core.stanza(&request(
        "eve@guest.localhost/x",
        "2",
        Some("r@conference.localhost"),
    ));
    assert_eq!(condition_of(sent(&outs)[0]), "not-authorized");
    // Over HTTP: never authenticated.
    let outs = core.http_request(7, &Conference::request("r@conference.localhost", &[]));
    assert!(matches!(
        &outs[0],
        Out::Answer { waiter: 7, answer: Err(r) } if r.http_status() == 403
    ));
    // Once an authenticated user had it set up, guests may come.
    core.stanza(&request(
        "alice@localhost/x",
        "3",
        Some("r@conference.localhost"),
    ));
    core.stanza(&self_presence("r@conference.localhost", &["110"]));
    let outs = core.http_request(8, &Conference::request("r@conference.localhost", &[]));
    assert!(matches!(
        &outs[0],
        Out::Answer { waiter: 8, answer: Ok(c) } if c.ready == Some(true)
    ));
    let outs = core.http_request(9, &Conference::default());
    assert!(matches!(
        &outs[0],
        Out::Answer { answer: Err(r), .. } if r.http_status() == 400
    ));
    // Other IQs: service-unavailable.
    let ping = stanza("iq")
        .attr(nc("from"), "alice@localhost/x")
        .attr(nc("id"), "p")
        .attr(nc("type"), "get")
        .append(Element::builder("ping", "urn:xmpp:ping").build())
        .build();
    assert_eq!(
        condition_of(sent(&core.stanza(&ping))[0]),
        "service-unavailable"
    );
    // disco#info: the focus namespace.
    let disco = stanza("iq")
        .attr(nc("from"), "alice@localhost/x")
        .attr(nc("to"), "focus.localhost")
        .attr(nc("id"), "d")
        .attr(nc("type"), "get")
        .append(Element::builder("query", ns::DISCO_INFO).build())
        .build();
    let outs = core.stanza(&disco);
    let q = sent(&outs)[0].get_child("query", ns::DISCO_INFO).unwrap();
    assert!(
        q.children()
            .any(|f| f.name() == "feature" && f.attr("var") == Some(proto::NS))
    );
}

#[tokio::test]
async fn the_http_endpoint_speaks_json() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut rx) = mpsc::unbounded_channel::<HttpAsk>();
    tokio::spawn(accept_http(listener, None, tx));
    // A stand-in for the core: ready for r@c, 403 otherwise.
    tokio::spawn(async move {
        while let Some(ask) = rx.recv().await {
            let answer = if ask.request.room.as_deref() == Some("r@c") {
                Ok(Conference {
                    ready: Some(true),
                    ..Conference::default()
                })
            } else {
                Err(Refusal::new("not-authorized", "no"))
            };
            let _ = ask.reply.send(answer);
        }
    });
    let tls = confab_session::tls_config(None).unwrap();
    let url = format!("http://127.0.0.1:{port}{}", proto::HTTP_PATH);
    let post = |body: &'static str| {
        let (url, tls) = (url.clone(), tls.clone());
        async move {
            confab_session::http::post_json(&url, body, tls)
                .await
                .unwrap()
        }
    };
    let r = post(r#"{"room":"r@c"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(Conference::from_json(&r.body).unwrap().ready, Some(true));
    assert_eq!(post(r#"{"room":"x@c"}"#).await.status, 403);
    assert_eq!(post("not json").await.status, 400);
    let other = confab_session::http::post_json(
        &format!("http://127.0.0.1:{port}/other"),
        "{}",
        tls.clone(),
    )
    .await
    .unwrap();
    assert_eq!(other.status, 404);
}

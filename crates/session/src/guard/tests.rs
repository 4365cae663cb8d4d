use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

/// A stream of ordinary traffic: every byte must come out as it went in.
fn ordinary() -> String {
    let mut s = String::from(HEADER);
    s.push_str(
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
    );
    s.push_str("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>");
    // The restart after SASL: a new header while the old stream is open.
    s.push_str(HEADER);
    s.push_str(
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>\n ",
    );
    s.push_str("<iq type='result' id='confab-bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@localhost/x</jid></bind></iq>");
    s.push_str(
        "<message from='b@localhost/y' to='a@localhost/x' type='chat' x=\"a > b\" y='&apos;>&apos;'>\
         <body>hi &amp; &lt;there&gt; > ok</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
    );
    s.push_str(" \n<presence from='r@conference.localhost/n'/>");
    s.push_str("<message><body><![CDATA[<a><b><c> ]] ]>]]></body><!-- <x> -- --></message>");
    s.push_str("<presence/></stream:stream>");
    s
}

fn run(tok: &mut Tokenizer, chunks: &[&[u8]]) -> (Vec<u8>, Vec<Dropped>) {
    let mut out = Vec::new();
    let mut drops = Vec::new();
    for c in chunks {
        tok.feed(c, &mut out, &mut drops);
    }
    (out, drops)
}

fn filter(input: &[u8]) -> (Vec<u8>, Vec<Dropped>) {
    run(&mut Tokenizer::new(Limits::default()), &[input])
}

/// Same result split into two reads at every byte boundary.
fn same_at_every_split(input: &[u8]) -> (Vec<u8>, Vec<Dropped>) {
    let whole = filter(input);
    for i in 0..=input.len() {
        let split = run(
            &mut Tokenizer::new(Limits::default()),
            &[&input[..i], &input[i..]],
        );
        assert_eq!(split, whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        run(&mut Tokenizer::new(Limits::default()), &bytes),
        whole,
        "byte by byte"
    );
    whole
}

fn nested(name: &str, attrs: &str, depth: usize, inner: &str) -> String {
    let mut s = format!("<{name} {attrs}>");
    s.push_str(&"<a>".repeat(depth));
    s.push_str(inner);
    s.push_str(&"</a>".repeat(depth));
    s.push_str(&format!("</{name}>"));
    s
}

#[test]
fn ordinary_traffic_passes_byte_identical_at_every_split() {
    let input = ordinary();
    let (out, drops) = same_at_every_split(input.as_bytes());
    assert!(drops.is_empty(), "{drops:?}");
    assert_eq!(String::from_utf8(out).unwrap(), input);
}

#[test]
fn quotes_may_hold_gt_and_slash() {
    let s = format!(
        "{HEADER}<message from='a@b' q=\"x/>y\" r='</message>'><body>1</body></message><presence/>"
    );
    let (out, drops) = same_at_every_split(s.as_bytes());
    assert!(drops.is_empty());
    assert_eq!(out, s.as_bytes());
}

#[test]
fn deep_stanzas_are_dropped_and_the_stream_goes_on() {
    for name in ["iq", "presence", "message"] {
        let deep = nested(
            name,
            "from='mallory@localhost/peer' to='a@localhost/x' type='get' id='deep-1'",
            3500,
            "",
        );
        let after = "<message from='b@localhost/y'><body>after</body></message>";
        let input = format!("{HEADER}{deep}{after}");
        let (out, drops) = filter(input.as_bytes());
        assert_eq!(String::from_utf8(out).unwrap(), format!("{HEADER}{after}"));
        assert_eq!(drops.len(), 1);
        let d = &drops[0];
        assert_eq!(d.stanza, name);
        assert_eq!(d.from.as_deref(), Some("mallory@localhost/peer"));
        assert_eq!(d.id.as_deref(), Some("deep-1"));
        assert_eq!(d.type_.as_deref(), Some("get"));
        assert_eq!(d.limit, Limit::Depth);
        assert_eq!(d.limit.reason(), "too-deep");
        assert!(d.text.contains("deeper than 64"), "{}", d.text);
        assert!(d.text.contains("from mallory@localhost/peer"), "{}", d.text);
    }
}

#[test]
fn deep_drop_is_the_same_at_every_split() {
    let deep = nested("iq", "from='m@localhost/p' id='x'", 200, "<b x='>'/>text");
    let input = format!("{HEADER}{deep}<presence/>{deep}<message/>");
    let (out, drops) = same_at_every_split(input.as_bytes());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{HEADER}<presence/><message/>")
    );
    assert_eq!(drops.len(), 2);
}

#[test]
fn the_depth_limit_is_exact() {
    // The stanza is level 1: 63 nested elements make 64 levels.
    let ok = nested("message", "", 63, "");
    let ok_empty = nested("message", "", 62, "<e/>");
    let too_deep = nested("message", "", 64, "");
    let too_deep_empty = nested("message", "", 63, "<e/>");
    for (s, pass) in [
        (&ok, true),
        (&ok_empty, true),
        (&too_deep, false),
        (&too_deep_empty, false),
    ] {
        let input = format!("{HEADER}{s}");
        let (out, drops) = filter(input.as_bytes());
        assert_eq!(out == input.as_bytes(), pass, "{s}");
        assert_eq!(drops.len(), usize::from(!pass));
    }
}

#[test]
fn many_siblings_are_fine() {
    let s = format!("<iq type='result' id='r'>{}</iq>", "<item/>".repeat(5000));
    let input = format!("{HEADER}{s}");
    let (out, drops) = filter(input.as_bytes());
    assert!(drops.is_empty());
    assert_eq!(out, input.as_bytes());
}

#[test]
fn huge_stanzas_are_dropped_without_being_held() {
    let limits = Limits::default();
    let body = "x".repeat(limits.max_size);
    let big = format!("<message from='m@localhost/p'><body>{body}</body></message>");
    let input = format!("{HEADER}{big}<presence/>");
    let mut tok = Tokenizer::new(limits);
    let mut out = Vec::new();
    let mut drops = Vec::new();
    let mut most = 0;
    for c in input.as_bytes().chunks(1000) {
        tok.feed(c, &mut out, &mut drops);
        most = most.max(tok.held());
    }
    assert!(most <= limits.max_size + 1, "held {most}");
    assert_eq!(tok.held(), 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{HEADER}<presence/>")
    );
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0].limit, Limit::Size);
    assert_eq!(drops[0].stanza, "message");
    assert_eq!(drops[0].from.as_deref(), Some("m@localhost/p"));

    // A start tag that alone is too big: skipped as well (its name kept).
    let attr = "y".repeat(limits.max_size);
    let input = format!("{HEADER}<presence a='{attr}'><x/></presence><message/>");
    let (out, drops) = filter(input.as_bytes());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{HEADER}<message/>")
    );
    assert_eq!(drops[0].stanza, "presence");
    assert_eq!(drops[0].limit, Limit::Size);
}

#[test]
fn a_deep_flood_holds_nothing() {
    // Never closed: still nothing held, however deep it goes.
    let mut tok = Tokenizer::new(Limits::default());
    let mut out = Vec::new();
    let mut drops = Vec::new();
    tok.feed(HEADER.as_bytes(), &mut out, &mut drops);
    tok.feed(b"<iq>", &mut out, &mut drops);
    for _ in 0..1000 {
        tok.feed("<a>".repeat(1000).as_bytes(), &mut out, &mut drops);
        assert_eq!(tok.held(), 0);
    }
    assert_eq!(out, HEADER.as_bytes());
    assert!(drops.is_empty());
}

#[test]
fn too_many_attributes_are_dropped() {
    let attrs: String = (0..200).map(|i| format!(" a{i}='{i}'")).collect();
    let input = format!(
        "{HEADER}<message from='m@localhost/p'><body{attrs}>x</body></message><iq{attrs}/><presence/>"
    );
    let (out, drops) = filter(input.as_bytes());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{HEADER}<presence/>")
    );
    assert_eq!(drops.len(), 2);
    assert!(drops.iter().all(|d| d.limit == Limit::Attributes));
    assert_eq!(drops[1].stanza, "iq");
}

#[test]
fn restarts_and_the_stream_end_pass_through() {
    let input = format!(
        "{HEADER}<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>{HEADER}<a/></stream:stream>{HEADER}<b/>"
    );
    let (out, drops) = same_at_every_split(input.as_bytes());
    assert!(drops.is_empty());
    assert_eq!(out, input.as_bytes());
    // A deep stanza right after a restart is still caught.
    let deep = nested("message", "", 100, "");
    let input = format!("{HEADER}<success/>{HEADER}{deep}<c/>");
    let (out, drops) = filter(input.as_bytes());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{HEADER}<success/>{HEADER}<c/>")
    );
    assert_eq!(drops.len(), 1);
}

#[test]
fn the_description_is_sanitised() {
    let d = describe(
        b"<message from='not a jid@@' id='a\x01b' type='chat'><body>",
        Limit::Depth,
        &Limits::default(),
    );
    assert_eq!(d.stanza, "message");
    assert_eq!(d.from, None);
    assert_eq!(d.id, None);
    assert_eq!(d.type_.as_deref(), Some("chat"));
    assert_eq!(
        d.text,
        "a message was dropped unread: it nests elements deeper than 64"
    );
    let d = describe(
        b"<\x1b[2J from=\"x@y/&apos;z\"",
        Limit::Size,
        &Limits::default(),
    );
    assert_eq!(d.stanza, "element");
    assert_eq!(d.from.as_deref(), Some("x@y/'z"));
    // Cut off inside an attribute: not guessed.
    let d = describe(b"<iq id='1' from='abc", Limit::Size, &Limits::default());
    assert_eq!(d.stanza, "iq");
    assert_eq!(d.from, None);
    assert!(d.text.starts_with("an iq was dropped"), "{}", d.text);
}

/// Gives what it holds `step` bytes per read.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self
            .step
            .min(self.data.len() - self.pos)
            .min(buf.remaining());
        let start = self.pos;
        buf.put_slice(&self.data[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn the_guard_reads_through_and_reports() {
    use tokio::io::AsyncReadExt;
    let deep = nested("presence", "from='m@localhost/p'", 3500, "");
    let input = format!("{HEADER}<presence/>{deep}<message/>{deep}</stream:stream>");
    for step in [1, 7, 4096, 100_000] {
        let t = Trickle {
            data: input.clone().into_bytes(),
            pos: 0,
            step,
        };
        let mut g = Guard::new(t, Limits::default());
        let reports = g.reports();
        let mut got = Vec::new();
        g.read_to_end(&mut got).await.unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            format!("{HEADER}<presence/><message/></stream:stream>")
        );
        tokio::time::timeout(std::time::Duration::from_secs(1), reports.wait())
            .await
            .expect("woken");
        let (drops, lost) = reports.take();
        assert_eq!((drops.len(), lost), (2, 0));
        assert_eq!(drops[0].stanza, "presence");
    }
}

#[test]
fn reports_are_bounded() {
    let r = Reports::default();
    let d = describe(b"<iq>", Limit::Depth, &Limits::default());
    for _ in 0..MAX_REPORTS + 10 {
        r.push(d.clone());
    }
    let (drops, lost) = r.take();
    assert_eq!((drops.len(), lost), (MAX_REPORTS, 10));
    assert_eq!(r.take(), (vec![], 0));
}

/// The runs taken in one go ([`Tokenizer::run`]) change nothing: the
/// same bytes out, the same drops and the same bytes held as one byte at
/// a time, for ordinary and hostile input, at several read sizes and
/// with limits small enough to be crossed inside a run.
#[test]
fn bulk_runs_agree_with_the_byte_path() {
    let attrs: String = (0..200).map(|i| format!(" a{i}='{i}'")).collect();
    let inputs = [
        ordinary(),
        format!(
            "{HEADER}<message from='m@localhost/p'><body>{}</body></message><presence a='{}'/><iq/>",
            "x".repeat(300),
            "y'\"".repeat(100)
        ),
        format!("{HEADER}<iq{attrs}/><presence/>"),
        format!(
            "{HEADER}{}<presence/>",
            nested("message", "a='>'", 80, "deep")
        ),
        format!("{HEADER}<message b=\"it's\">text <b x='1'>more</b>  </message>"),
    ];
    let small = Limits {
        max_depth: 4,
        max_size: 64,
        max_attrs: 3,
    };
    for input in &inputs {
        for limits in [Limits::default(), small] {
            for size in [1, 2, 7, 64, 1000, input.len()] {
                let (mut bulk, mut bytes) = (Tokenizer::new(limits), Tokenizer::new(limits));
                let (mut out_bulk, mut out_bytes) = (Vec::new(), Vec::new());
                let (mut drops_bulk, mut drops_bytes) = (Vec::new(), Vec::new());
                for c in input.as_bytes().chunks(size) {
                    bulk.feed(c, &mut out_bulk, &mut drops_bulk);
                    bytes.feed_bytewise(c, &mut out_bytes, &mut drops_bytes);
                    assert_eq!(bulk.held(), bytes.held(), "{limits:?} {size}");
                }
                assert_eq!(out_bulk, out_bytes, "{limits:?} {size}");
                assert_eq!(drops_bulk, drops_bytes, "{limits:?} {size}");
            }
        }
    }
}

/// Where each forwarded element lies in the output (a read never goes
/// past one's end), and the stream header's `xml:lang`.
#[test]
fn spans_and_stream_lang() {
    let mut t = Tokenizer::new(Limits::default());
    let (mut out, mut drops) = (Vec::new(), Vec::new());
    t.feed(
        b"<stream:stream xmlns='jabber:client' xml:lang='de'> <a/><b>x</b>",
        &mut out,
        &mut drops,
    );
    let spans: Vec<_> = t.take_spans().collect();
    assert_eq!(spans.len(), 2);
    assert_eq!(&out[spans[0].0..spans[0].1], b"<a/>");
    assert_eq!(&out[spans[1].0..spans[1].1], b"<b>x</b>");
    assert_eq!(t.stream_lang().as_deref(), Some("de"));
}

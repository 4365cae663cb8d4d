//! Raw bytes from the server, after the stream header and features,
//! through tokio-xmpp's XML stream parser as confab's session reads it
//! (`XmppStream`, fallible elements), each stanza then through the
//! incoming path (`confab::fuzz_cases::Harness`).
#![no_main]

use std::borrow::Cow;

use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncWriteExt, BufStream};
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
};

/// See `classify.rs`: deeper nesting is the byte-level limit's business.
const MAX_TAGS: usize = 256;

const SERVER_HEAD: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='f1'>\
    <stream:features/>";

fuzz_target!(|data: &[u8]| {
    if data.iter().filter(|b| **b == b'<').count() > MAX_TAGS {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let input = data.to_vec();
        let feed = async move {
            let _ = server.write_all(SERVER_HEAD).await;
            let _ = server.write_all(&input).await;
            let _ = server.shutdown().await;
            // Keep our end open until the client has read everything.
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut server, &mut sink).await;
        };
        let read = async move {
            let head = StreamHeader {
                to: Some(Cow::Borrowed("localhost")),
                from: None,
                id: None,
            };
            let Ok(pending) =
                initiate_stream(BufStream::new(client), "jabber:client", head, Timeouts::tight())
                    .await
            else {
                return;
            };
            let Ok((_, stream)) = pending.recv_features::<FallibleStreamElement>().await else {
                return;
            };
            let mut stream: XmppStream<_> = stream;
            let mut h = confab::fuzz_cases::Harness::new(confab::fuzz_cases::r#gen::Rng::new(0));
            while let Some(item) = stream.next().await {
                match item {
                    Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(s))) => {
                        h.deliver_stanza(s)
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            h.draw();
        };
        let (_, ()) = tokio::join!(feed, read);
    });
});

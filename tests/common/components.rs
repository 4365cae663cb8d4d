//! XEP-0114 components of the tests: one attached to the test server, the
//! stanzas it gets, and a peer run on a thread of its own.

use std::future::Future;
use std::time::Duration;

use confab_testbed::TestServer;
use confab_testbed::component::{ComponentStream, NS};
use minidom::Element;

/// A component attached to `server` as `jid` with the server's secret;
/// panics with `what` when the handshake fails.
pub async fn attach(server: &dyn TestServer, jid: &str, what: &str) -> ComponentStream {
    ComponentStream::connect(server.component_port(), jid, server.component_secret())
        .await
        .expect(what)
}

/// The next stanza named `name` (`message`, `iq`, …) the component gets,
/// passing over the others; panics with `what` after 20 s without one.
pub async fn received(comp: &mut ComponentStream, name: &str, what: &str) -> Element {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let el = comp.next().await.expect("stream open");
            if el.is(name, NS) {
                return el;
            }
        }
    })
    .await
    .expect(what)
}

/// Runs `peer` (a component's task: a service, the SFU) on a thread of its
/// own with a tokio runtime of two worker threads, so that it goes on
/// whatever the test body does (blocking on a client, or no runtime at all).
pub fn run_peer(peer: impl Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(peer);
    });
}

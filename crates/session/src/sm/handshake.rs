//! The XEP-0198 nonzas of a connection attempt (`connect.rs`):
//! `<resume/>` instead of binding, `<enable resume='true'/>` after it.

use futures::{SinkExt, StreamExt};
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamElementError, XmppStreamElement,
};
use xmpp_parsers::sm::{Enable, Enabled, Failed, Nonza, Resume, StreamId};

use crate::connect::{ConnectError, ResumeReq, Stream, io_error, read_error};
use crate::{Tap, XmlDir};

/// The next stream management nonza (other elements are not expected
/// before the answer and are skipped).
async fn next_nonza(stream: &mut Stream, during: &str, tap: &Tap) -> Result<Nonza, ConnectError> {
    loop {
        let item = match stream.next().await {
            Some(Ok(item)) => item,
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(e)) => return Err(read_error(e)),
            None => {
                return Err(ConnectError::retry(
                    "connection-lost",
                    format!("closed during {during}"),
                ));
            }
        };
        if let FallibleStreamElement::Ok(el) = &item {
            tap.record(XmlDir::In, el);
        }
        match item {
            FallibleStreamElement::Ok(XmppStreamElement::SM(n)) => return Ok(n),
            FallibleStreamElement::Ok(XmppStreamElement::StreamError(e)) => {
                return Err(ConnectError::retry("stream-error", e.0.to_string()));
            }
            FallibleStreamElement::Ok(_) => continue,
            // A `<failed/>` with children xmpp-parsers does not know
            // (ejabberd adds a `<text/>`) is still a refusal.
            FallibleStreamElement::Err(StreamElementError::InvalidNonza { qname, .. })
                if qname.0 == xmpp_parsers::ns::SM && qname.1.as_str() == "failed" =>
            {
                return Ok(Nonza::Failed(Failed {
                    h: None,
                    error: None,
                }));
            }
            FallibleStreamElement::Err(e) => {
                return Err(ConnectError::retry(
                    "bad-format",
                    format!("during {during}: {e}"),
                ));
            }
        }
    }
}

/// `<resume previd h/>`: `Ok(Ok(h))` on `<resumed/>` for our stream,
/// `Ok(Err(why))` when the server refuses (bind then).
pub(crate) async fn resume(
    stream: &mut Stream,
    req: &ResumeReq,
    tap: &Tap,
) -> Result<Result<u32, String>, ConnectError> {
    let ask = Nonza::Resume(Resume {
        h: req.h,
        previd: StreamId(req.previd.clone()),
    });
    let ask = XmppStreamElement::SM(ask);
    tap.record(XmlDir::Out, &ask);
    stream.send(&ask).await.map_err(io_error)?;
    loop {
        match next_nonza(stream, "resumption", tap).await? {
            Nonza::Resumed(r) if r.previd.0 == req.previd => return Ok(Ok(r.h)),
            Nonza::Resumed(r) => {
                // Another stream than ours: not believed.
                return Err(ConnectError::retry(
                    "bad-resumption",
                    format!(
                        "the server resumed stream {:?}, not ours ({:?})",
                        r.previd.0, req.previd
                    ),
                ));
            }
            Nonza::Failed(f) => {
                let why = match f.error {
                    Some(c) => format!(
                        "the server refused ({})",
                        crate::connect::kebab(&format!("{c:?}"))
                    ),
                    None => "the server refused".to_string(),
                };
                return Ok(Err(why));
            }
            // An `<r/>` or `<a/>` before the answer: nothing to do yet.
            _ => continue,
        }
    }
}

/// `<enable resume='true'/>` after binding: `Some` when enabled, `None`
/// when the server said `<failed/>`.
pub(crate) async fn enable(
    stream: &mut Stream,
    tap: &Tap,
) -> Result<Option<Enabled>, ConnectError> {
    let ask = XmppStreamElement::SM(Nonza::Enable(Enable::new().with_resume()));
    tap.record(XmlDir::Out, &ask);
    stream.send(&ask).await.map_err(io_error)?;
    loop {
        match next_nonza(stream, "stream management", tap).await? {
            Nonza::Enabled(e) => {
                tracing::info!(resume = e.resume, "stream management enabled (XEP-0198)");
                return Ok(Some(e));
            }
            Nonza::Failed(_) => {
                tracing::info!("the server refused stream management");
                return Ok(None);
            }
            _ => continue,
        }
    }
}

//! The bound stream: after tokio-xmpp negotiated it (STARTTLS, SASL,
//! bind or XEP-0198 resumption), its I/O comes back and is read here —
//! each element the guard cut out parsed by [`Parser`] — and written with
//! rxml's encoder, as tokio-xmpp's `XmppStream` did: the same items
//! ([`FallibleStreamElement`], [`ReadError`]), the same read timeouts
//! (silence for `read_timeout`: a soft timeout; for `response_timeout`
//! more: a hard one), the footer, and `shutdown`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Sink, Stream};
use tokio::io::{AsyncBufRead, AsyncWrite, BufStream};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_rustls::client::TlsStream;
use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, Timeouts, XmppStreamElement};
use xso::AsXml;
use xso::exports::rxml;
use xso::exports::rxml::writer::TrackNamespace;

use super::{NS_CLIENT, NS_STREAM, Parser};
use crate::guard::{Guard, Reports};

type Io = Guard<TlsStream<TcpStream>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Soft,
    Hard,
}

/// A negotiated stream, read with quick-xml (`wire.rs`).
pub struct Bound {
    io: Io,
    parser: Parser,
    timeouts: Timeouts,
    level: Level,
    deadline: Pin<Box<Sleep>>,
    seen: u64,
    /// The stream header's `xml:lang`.
    lang: Option<String>,
    writer: rxml::writer::Encoder<rxml::writer::SimpleNamespaces>,
    tx: rxml::bytes::BytesMut,
    /// The server's `</stream:stream>` came: only the end follows.
    footer: bool,
    /// Ours went.
    closed: bool,
    /// Read before the handover (see [`Bound::new`]).
    pending: Option<Vec<u8>>,
}

impl Bound {
    /// Takes over what tokio-xmpp negotiated. Its parser holds nothing
    /// past the last element it returned (the guard gives at most up to
    /// the end of one element per read). A read already waiting (a server
    /// resending what we missed right after `<resumed/>`) is taken here:
    /// being one read of the guard, it is one element (blanks before it)
    /// or bytes between elements.
    pub fn new(
        stream: tokio_xmpp::xmlstream::XmppStream<BufStream<Io>>,
        timeouts: Timeouts,
    ) -> io::Result<Bound> {
        let mut buffered = stream.into_inner();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut pending = None;
        match Pin::new(&mut buffered).poll_fill_buf(&mut cx) {
            Poll::Ready(Ok(left)) if !left.is_empty() => {
                let left = left.to_vec();
                Pin::new(&mut buffered).consume(left.len());
                pending = Some(left);
            }
            Poll::Ready(Err(e)) => return Err(e),
            _ => {}
        }
        let io = buffered.into_inner();
        let mut writer = rxml::writer::Encoder::new();
        writer
            .ns_tracker_mut()
            .declare_fixed(Some(rxml::xml_ncname!("stream")), NS_STREAM.into());
        writer
            .ns_tracker_mut()
            .declare_fixed(None, NS_CLIENT.into());
        // Inside `<stream:stream>` (what tokio-xmpp wrote): stanzas are
        // its children, not documents of their own.
        let mut header = rxml::bytes::BytesMut::new();
        for item in [
            rxml::writer::Item::ElementHeadStart(
                rxml::Namespace::from(NS_STREAM),
                rxml::xml_ncname!("stream"),
            ),
            rxml::writer::Item::ElementHeadEnd,
        ] {
            writer
                .encode_into_bytes(item, &mut header)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        Ok(Bound {
            seen: io.received(),
            lang: io.stream_lang(),
            io,
            parser: Parser::new(),
            level: Level::Soft,
            deadline: Box::pin(tokio::time::sleep(timeouts.read_timeout)),
            timeouts,
            writer,
            tx: rxml::bytes::BytesMut::new(),
            footer: false,
            closed: false,
            pending,
        })
    }

    /// Where the guard reports what it dropped.
    pub fn reports(&self) -> Arc<Reports> {
        self.io.reports()
    }

    fn reset_timer(&mut self) {
        self.level = Level::Soft;
        let at = Instant::now() + self.timeouts.read_timeout;
        self.deadline.as_mut().reset(at);
    }

    fn poll_write_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.tx.is_empty() {
            let n = match Pin::new(&mut self.io).poll_write(cx, &self.tx) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            let _ = self.tx.split_to(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Our footer, then the TLS close.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        if !self.closed {
            self.closed = true;
            self.tx.extend_from_slice(b"</stream:stream>");
        }
        futures::future::poll_fn(|cx| self.poll_write_all(cx)).await?;
        futures::future::poll_fn(|cx| Pin::new(&mut self.io).poll_flush(cx)).await?;
        futures::future::poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await
    }
}

impl Stream for Bound {
    type Item = Result<FallibleStreamElement, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(bytes) = this.pending.take() {
            let blank = bytes
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
            if !blank {
                let first = bytes.iter().position(|b| !b" \t\r\n".contains(b));
                let element =
                    first.is_some_and(|i| bytes[i] == b'<' && bytes.get(i + 1) != Some(&b'/'));
                if element {
                    return Poll::Ready(Some(
                        this.parser
                            .parse(&bytes, this.lang.as_deref())
                            .map_err(|e| {
                                ReadError::HardError(io::Error::new(io::ErrorKind::InvalidData, e))
                            }),
                    ));
                }
                match between(&bytes, &mut this.footer) {
                    Between::Blank => {}
                    Between::Footer => {
                        return Poll::Ready(Some(Err(ReadError::StreamFooterReceived)));
                    }
                    Between::Bad(text) => {
                        return Poll::Ready(Some(Err(ReadError::HardError(io::Error::new(
                            io::ErrorKind::InvalidData,
                            text,
                        )))));
                    }
                }
            }
        }
        loop {
            let piece = this.io.poll_piece(cx);
            if this.io.received() != this.seen {
                this.seen = this.io.received();
                this.reset_timer();
            }
            match piece {
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(ReadError::HardError(e)))),
                Poll::Ready(Ok(None)) => return Poll::Ready(None),
                Poll::Ready(Ok(Some((true, r)))) => {
                    let end = r.end;
                    let parsed = this.parser.parse(this.io.piece(r), this.lang.as_deref());
                    this.io.consume_to(end);
                    if this.footer {
                        continue;
                    }
                    return Poll::Ready(Some(match parsed {
                        Ok(el) => Ok(el),
                        // Not XML: the stream is broken, as with rxml.
                        Err(e) => Err(ReadError::HardError(io::Error::new(
                            io::ErrorKind::InvalidData,
                            e,
                        ))),
                    }));
                }
                Poll::Ready(Ok(Some((false, r)))) => {
                    let end = r.end;
                    let bytes = this.io.piece(r);
                    let out = between(bytes, &mut this.footer);
                    this.io.consume_to(end);
                    match out {
                        Between::Blank => continue,
                        Between::Footer => {
                            return Poll::Ready(Some(Err(ReadError::StreamFooterReceived)));
                        }
                        Between::Bad(text) => {
                            return Poll::Ready(Some(Err(ReadError::HardError(io::Error::new(
                                io::ErrorKind::InvalidData,
                                text,
                            )))));
                        }
                    }
                }
                Poll::Pending => {}
            }
            // Nothing to read: what do the timeouts say?
            if this.deadline.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            match this.level {
                Level::Soft => {
                    this.level = Level::Hard;
                    let at = Instant::now() + this.timeouts.response_timeout;
                    this.deadline.as_mut().reset(at);
                    if !this.footer {
                        return Poll::Ready(Some(Err(ReadError::SoftTimeout)));
                    }
                }
                Level::Hard => {
                    let at = Instant::now() + std::time::Duration::from_secs(1);
                    this.deadline.as_mut().reset(at);
                    return Poll::Ready(Some(Err(ReadError::HardError(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "read and response timeouts elapsed",
                    )))));
                }
            }
        }
    }
}

enum Between {
    Blank,
    Footer,
    Bad(&'static str),
}

/// What may come between elements: blanks (keep-alives), the footer
/// (then only blanks), nothing else.
fn between(bytes: &[u8], footer: &mut bool) -> Between {
    let trimmed: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if trimmed.is_empty() {
        return Between::Blank;
    }
    if !*footer && trimmed.starts_with(b"</") {
        // The guard passes an end tag at the top level through whole or in
        // pieces; `</stream:stream>` is all a server sends there.
        *footer = true;
        return Between::Footer;
    }
    if *footer {
        return Between::Blank;
    }
    Between::Bad("text or markup outside any stanza")
}

impl<'x> Sink<&'x XmppStreamElement> for Bound {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_write_all(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: &'x XmppStreamElement) -> io::Result<()> {
        let this = self.get_mut();
        let iter = item
            .as_xml_iter()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        for i in iter {
            let i = i.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            this.writer
                .encode_into_bytes(i.as_rxml_item(), &mut this.tx)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_write_all(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_write_all(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_shutdown(cx),
            other => other,
        }
    }
}

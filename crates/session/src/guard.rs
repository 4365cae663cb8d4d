//! A byte-level guard between TLS and the XML parser: every top-level
//! element of the stream (a stanza or nonza, depth 2 under
//! `<stream:stream>`) is held back until it closes, and forwarded only if
//! it is within [`Limits`]. One past a limit is skipped whole — its bytes
//! are never buffered past the limit, only its depth is tracked until it
//! closes — and reported through [`Reports`]; the stream goes on.
//!
//! Why here: minidom and xmpp-parsers build, convert and drop element
//! trees recursively, so a stanza nested a few thousand deep overflows a
//! tokio worker's stack (the debug build at ~1,000). Nothing recursive
//! ever sees what this guard holds back.
//!
//! The tokenizer knows only what XMPP's restricted XML allows (RFC 6120
//! §11): start, end and empty-element tags with quoted attribute values
//! (which may hold `>`), the `<?xml …?>` declaration, and — so that they
//! cannot confuse the count — comments and CDATA sections. A new
//! `<stream:stream>` header (after STARTTLS or SASL) restarts the count.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

pub use confab_proto::{Dropped, Limit};

mod describe;
use describe::{describe, parse_tag};

/// Bounds on one top-level element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nesting levels, the stanza itself being level 1. 64 is far above
    /// anything the XEPs nest (a MAM result around a pubsub event with an
    /// Atom entry and XHTML-IM stays under 20) and far below the ~1,000
    /// levels where the recursive code of the debug build overflows a
    /// 2 MiB worker stack.
    pub max_depth: usize,
    /// Bytes of the element as received (Prosody's own default
    /// `c2s_stanza_size_limit` is the same 256 KiB).
    pub max_size: usize,
    /// Attributes (namespace declarations included) on one element.
    pub max_attrs: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 64,
            max_size: 256 * 1024,
            max_attrs: 128,
        }
    }
}

/// The side channel from the guard to the session task: a short queue of
/// drops and a count of those that did not fit, with a wake-up.
#[derive(Debug, Default)]
pub struct Reports {
    queue: Mutex<VecDeque<Dropped>>,
    lost: AtomicU64,
    notify: Notify,
}

/// Reports kept until the session takes them; more are only counted.
const MAX_REPORTS: usize = 64;

impl Reports {
    fn push(&self, d: Dropped) {
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.len() < MAX_REPORTS {
                q.push_back(d);
            } else {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.notify.notify_one();
    }

    /// Waits until something was reported since the last [`Reports::take`].
    pub async fn wait(&self) {
        self.notify.notified().await
    }

    /// The drops reported so far, and how many more were only counted.
    pub fn take(&self) -> (Vec<Dropped>, u64) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        (q.drain(..).collect(), self.lost.swap(0, Ordering::Relaxed))
    }
}

/// Bytes of a dropped element's start kept to describe it.
const HEAD: usize = 4096;
/// Bytes of a tag name kept (to recognise `stream:stream`).
const NAME: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Text,
    /// Just after `<`.
    Lt,
    /// In a start or empty-element tag.
    Start,
    /// In an end tag.
    End,
    /// In `<?…?>`; `true` just after a `?`.
    Pi(bool),
    /// After `<!`: deciding between a comment, CDATA and a declaration.
    Bang,
    BangDash,
    /// `n` bytes of `[CDATA[` seen.
    BangCdata(u8),
    /// Dashes (up to 2) just seen.
    Comment(u8),
    /// `]` (up to 2) just seen.
    Cdata(u8),
    /// `<!DOCTYPE …>` and the like (not XMPP; the parser refuses them).
    Decl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// Outside any top-level element: bytes go straight through.
    Pass,
    /// A start tag at the top, not yet known to be a stream header or a
    /// stanza: held.
    Pending,
    /// Inside a top-level element within the limits: held.
    Element,
    /// Inside a top-level element past a limit: dropped.
    Skip(Limit),
}

/// The pure part: bytes in, bytes out, drops reported.
#[derive(Debug)]
pub struct Tokenizer {
    limits: Limits,
    /// Open elements, `<stream:stream>` included.
    depth: usize,
    lex: Lex,
    cap: Capture,
    buf: Vec<u8>,
    head: Vec<u8>,
    name: Vec<u8>,
    in_name: bool,
    quote: u8,
    slash: bool,
    attrs: usize,
    /// Where in `out` the elements forwarded since the last
    /// [`Tokenizer::take_spans`] lie.
    spans: Vec<(usize, usize)>,
    /// The start of the last stream header (for its `xml:lang`).
    header: Vec<u8>,
}

impl Tokenizer {
    pub fn new(limits: Limits) -> Tokenizer {
        Tokenizer {
            limits,
            depth: 0,
            lex: Lex::Text,
            cap: Capture::Pass,
            buf: Vec::new(),
            head: Vec::new(),
            name: Vec::new(),
            in_name: false,
            quote: 0,
            slash: false,
            attrs: 0,
            spans: Vec::new(),
            header: Vec::new(),
        }
    }

    /// The `xml:lang` of the last stream header.
    pub fn stream_lang(&self) -> Option<String> {
        let (_, attrs) = parse_tag(&self.header)?;
        attrs
            .into_iter()
            .find(|(k, _)| k == "xml:lang")
            .map(|(_, v)| v)
    }

    /// The spans in `out` of the elements forwarded since the last call.
    pub fn take_spans(&mut self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.spans.drain(..)
    }

    /// Bytes held back (never more than the size limit plus one byte).
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// Takes `input`; what may pass is appended to `out`, what was dropped
    /// to `drops`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, drops: &mut Vec<Dropped>) {
        let mut i = 0;
        while i < input.len() {
            let n = self.run(&input[i..], out);
            if n > 0 {
                i += n;
                continue;
            }
            let b = input[i];
            self.route(b, out);
            self.lex(b, out, drops);
            i += 1;
        }
    }

    /// [`Tokenizer::feed`] one byte at a time (what [`Tokenizer::run`]
    /// must agree with).
    #[cfg(test)]
    pub(crate) fn feed_bytewise(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        drops: &mut Vec<Dropped>,
    ) {
        for &b in input {
            self.route(b, out);
            self.lex(b, out, drops);
        }
    }

    /// The bytes at the start of `rest` that need no decision but where
    /// they go — text up to the next `<`, an end tag up to its `>`, a start
    /// tag up to its `>` (its name, quoted values and `=` noted as
    /// [`Tokenizer::start_byte`] would) — taken in one go (most of a
    /// stanza's bytes: the byte-at-a-time path cost as much as the XML
    /// parser after it). How many were taken; 0 when the next byte needs
    /// [`Tokenizer::lex`]. Never past the size limit: the byte past it
    /// goes the byte path, which drops the element.
    fn run(&mut self, rest: &[u8], out: &mut Vec<u8>) -> usize {
        let room = match self.cap {
            Capture::Pending | Capture::Element => self.limits.max_size - self.buf.len(),
            Capture::Pass | Capture::Skip(_) => rest.len(),
        };
        let rest = &rest[..rest.len().min(room)];
        let n = match self.lex {
            Lex::Text => memchr::memchr(b'<', rest).unwrap_or(rest.len()),
            Lex::End => memchr::memchr(b'>', rest).unwrap_or(rest.len()),
            Lex::Start => self.scan_tag(rest),
            _ => return 0,
        };
        match self.cap {
            Capture::Pass => out.extend_from_slice(&rest[..n]),
            Capture::Pending | Capture::Element => self.buf.extend_from_slice(&rest[..n]),
            Capture::Skip(_) => {}
        }
        n
    }

    /// Inside a start tag: [`Tokenizer::start_byte`] for each byte up to
    /// the tag's `>` (not taken), quoted values skipped whole.
    fn scan_tag(&mut self, rest: &[u8]) -> usize {
        let mut i = 0;
        while i < rest.len() {
            if self.quote != 0 {
                match memchr::memchr(self.quote, &rest[i..]) {
                    Some(k) => {
                        i += k + 1;
                        self.quote = 0;
                        continue;
                    }
                    None => return rest.len(),
                }
            }
            let b = rest[i];
            if b == b'>' {
                return i;
            }
            self.tag_byte(b);
            i += 1;
        }
        i
    }

    fn route(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.cap {
            Capture::Pass => {
                if self.lex == Lex::Text && b == b'<' {
                    self.cap = Capture::Pending;
                    self.buf.push(b);
                } else {
                    out.push(b);
                }
            }
            Capture::Pending if self.lex == Lex::Lt && matches!(b, b'/' | b'?' | b'!') => {
                // An end tag, declaration or comment at the top: not a
                // stanza, let the parser have it.
                out.append(&mut self.buf);
                out.push(b);
                self.cap = Capture::Pass;
            }
            Capture::Pending | Capture::Element => {
                self.buf.push(b);
                if self.buf.len() > self.limits.max_size {
                    self.skip(Limit::Size);
                }
            }
            Capture::Skip(_) => {}
        }
    }

    fn lex(&mut self, b: u8, out: &mut Vec<u8>, drops: &mut Vec<Dropped>) {
        self.lex = match self.lex {
            Lex::Text if b == b'<' => Lex::Lt,
            Lex::Text => Lex::Text,
            Lex::Lt => match b {
                b'/' => Lex::End,
                b'?' => Lex::Pi(false),
                b'!' => Lex::Bang,
                _ => {
                    self.name.clear();
                    self.name.push(b);
                    self.in_name = true;
                    self.quote = 0;
                    self.slash = false;
                    self.attrs = 0;
                    if b == b'>' {
                        // `<>`: not XML; the parser will say so.
                        self.start_done(false, out, drops);
                        Lex::Text
                    } else {
                        Lex::Start
                    }
                }
            },
            Lex::Start => self.start_byte(b, out, drops),
            Lex::End if b == b'>' => {
                self.end_done(out, drops);
                Lex::Text
            }
            Lex::End => Lex::End,
            Lex::Pi(true) if b == b'>' => Lex::Text,
            Lex::Pi(_) => Lex::Pi(b == b'?'),
            Lex::Bang => match b {
                b'-' => Lex::BangDash,
                b'[' => Lex::BangCdata(1),
                b'>' => Lex::Text,
                _ => Lex::Decl,
            },
            Lex::BangDash if b == b'-' => Lex::Comment(0),
            Lex::BangCdata(n) if b == b"[CDATA["[n as usize] => {
                if n == 6 {
                    Lex::Cdata(0)
                } else {
                    Lex::BangCdata(n + 1)
                }
            }
            Lex::BangDash | Lex::BangCdata(_) | Lex::Decl => {
                if b == b'>' {
                    Lex::Text
                } else {
                    Lex::Decl
                }
            }
            Lex::Comment(n) => match b {
                b'-' => Lex::Comment((n + 1).min(2)),
                b'>' if n == 2 => Lex::Text,
                _ => Lex::Comment(0),
            },
            Lex::Cdata(n) => match b {
                b']' => Lex::Cdata((n + 1).min(2)),
                b'>' if n == 2 => Lex::Text,
                _ => Lex::Cdata(0),
            },
        };
    }

    fn start_byte(&mut self, b: u8, out: &mut Vec<u8>, drops: &mut Vec<Dropped>) -> Lex {
        if self.quote != 0 {
            if b == self.quote {
                self.quote = 0;
            }
            return Lex::Start;
        }
        if b == b'>' {
            let empty = self.slash;
            self.start_done(empty, out, drops);
            return Lex::Text;
        }
        self.tag_byte(b);
        Lex::Start
    }

    /// A byte of a start tag outside its quoted values, not its `>`: a
    /// value's opening quote, an attribute's `=`, whether the tag may be
    /// ending with `/`, the element's name while it lasts.
    #[inline]
    fn tag_byte(&mut self, b: u8) {
        match b {
            b'"' | b'\'' => self.quote = b,
            b'=' => self.attrs += 1,
            _ => {}
        }
        self.slash = b == b'/';
        if self.in_name {
            if b.is_ascii_whitespace() || matches!(b, b'/' | b'"' | b'\'' | b'=') {
                self.in_name = false;
            } else if self.name.len() < NAME {
                self.name.push(b);
            }
        }
    }

    fn is_stream_header(&self) -> bool {
        self.name == b"stream" || self.name.ends_with(b":stream")
    }

    /// A start tag ended (`empty`: `<…/>`).
    fn start_done(&mut self, empty: bool, out: &mut Vec<u8>, drops: &mut Vec<Dropped>) {
        let level = self.depth; // of the new element, the stanza being 1
        if level <= 1 {
            if self.cap == Capture::Pending && (level == 0 || self.is_stream_header()) {
                // The stream header (or a restart after STARTTLS/SASL).
                self.header = self.buf[..self.buf.len().min(HEAD)].to_vec();
                out.append(&mut self.buf);
                self.cap = Capture::Pass;
                if !empty {
                    self.depth = 1;
                }
                return;
            }
            if self.cap == Capture::Pending {
                // (Its head is taken from `buf` only if it is dropped.)
                self.cap = Capture::Element;
            }
        }
        if self.attrs > self.limits.max_attrs {
            self.skip(Limit::Attributes);
        }
        if level > self.limits.max_depth {
            self.skip(Limit::Depth);
        }
        if empty {
            if level <= 1 {
                self.finish(out, drops);
            }
        } else {
            self.depth += 1;
        }
    }

    fn end_done(&mut self, out: &mut Vec<u8>, drops: &mut Vec<Dropped>) {
        if self.depth <= 1 {
            // `</stream:stream>` (passed through already).
            self.depth = 0;
            return;
        }
        self.depth -= 1;
        if self.depth == 1 {
            self.finish(out, drops);
        }
    }

    /// Past a limit: forget what was held, keep only the start tag's head.
    fn skip(&mut self, limit: Limit) {
        if matches!(self.cap, Capture::Skip(_)) {
            return;
        }
        if matches!(self.cap, Capture::Pending | Capture::Element) {
            // `buf` starts with the top-level element's start tag.
            self.head = self.buf[..self.buf.len().min(HEAD)].to_vec();
        }
        self.buf = Vec::new();
        self.cap = Capture::Skip(limit);
    }

    /// A top-level element closed: forward it or report it.
    fn finish(&mut self, out: &mut Vec<u8>, drops: &mut Vec<Dropped>) {
        match self.cap {
            Capture::Element => {
                let start = out.len();
                out.append(&mut self.buf);
                self.spans.push((start, out.len()));
            }
            Capture::Skip(limit) => drops.push(describe(&self.head, limit, &self.limits)),
            Capture::Pass | Capture::Pending => {}
        }
        self.buf.clear();
        self.head = Vec::new();
        self.cap = Capture::Pass;
    }
}

/// The guard as a stream: reads go through the [`Tokenizer`], writes go
/// straight to `inner`.
#[derive(Debug)]
pub struct Guard<T> {
    inner: T,
    tok: Tokenizer,
    out: Vec<u8>,
    out_pos: usize,
    /// Where in `out` the elements lie: a read never goes past the end of
    /// one, so that a parser above holds nothing of the next element when
    /// it has read one (the bound stream changes parsers, `wire.rs`).
    spans: VecDeque<(usize, usize)>,
    eof: bool,
    scratch: Box<[u8]>,
    reports: Arc<Reports>,
    /// Bytes read from `inner` so far.
    received: u64,
}

impl<T> Guard<T> {
    pub fn new(inner: T, limits: Limits) -> Guard<T> {
        Guard {
            inner,
            tok: Tokenizer::new(limits),
            out: Vec::new(),
            out_pos: 0,
            spans: VecDeque::new(),
            eof: false,
            scratch: vec![0; 8192].into_boxed_slice(),
            reports: Arc::new(Reports::default()),
            received: 0,
        }
    }

    /// The `xml:lang` of the server's stream header.
    pub fn stream_lang(&self) -> Option<String> {
        self.tok.stream_lang()
    }

    /// Bytes read from the inner stream so far (what keeps a stream alive
    /// while a big stanza trickles in).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The bytes of a piece [`Guard::poll_piece`] gave.
    pub fn piece(&self, r: std::ops::Range<usize>) -> &[u8] {
        &self.out[r]
    }

    /// The piece up to `end` is taken.
    pub fn consume_to(&mut self, end: usize) {
        self.out_pos = end;
    }

    /// Where the drops are reported.
    pub fn reports(&self) -> Arc<Reports> {
        self.reports.clone()
    }

    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The inner stream (what the guard held back is lost).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// A piece of the guarded stream in its buffer: whether it is an element,
/// and where.
pub type Piece = (bool, std::ops::Range<usize>);

impl<T: AsyncRead + Unpin> Guard<T> {
    /// The next piece of the stream in `out`: a complete top-level
    /// element within the limits (`true`) or the bytes between elements
    /// (blanks, the stream's own tags); `None` at the end of the stream.
    /// Taken with [`Guard::consume_to`].
    pub fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Piece>>> {
        loop {
            if self.out_pos < self.out.len() {
                while self.spans.front().is_some_and(|s| s.1 <= self.out_pos) {
                    self.spans.pop_front();
                }
                return Poll::Ready(Ok(Some(match self.spans.front() {
                    Some(&(s, e)) if s == self.out_pos => (true, s..e),
                    Some(&(s, _)) => (false, self.out_pos..s),
                    None => (false, self.out_pos..self.out.len()),
                })));
            }
            self.out.clear();
            self.out_pos = 0;
            self.spans.clear();
            if self.eof {
                return Poll::Ready(Ok(None));
            }
            ready_or_return!(self.fill(cx));
        }
    }

    /// Reads once from `inner` into the tokenizer.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut raw = ReadBuf::new(&mut self.scratch);
        match Pin::new(&mut self.inner).poll_read(cx, &mut raw) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {}
        }
        let n = raw.filled().len();
        if n == 0 {
            self.eof = true;
            return Poll::Ready(Ok(()));
        }
        self.received += n as u64;
        let mut drops = Vec::new();
        self.tok.feed(&self.scratch[..n], &mut self.out, &mut drops);
        self.spans.extend(self.tok.take_spans());
        for d in drops {
            self.reports.push(d);
        }
        Poll::Ready(Ok(()))
    }
}

/// `ready!` for `Poll<io::Result<()>>` in a function returning
/// `Poll<io::Result<_>>`.
macro_rules! ready_or_return {
    ($e:expr) => {
        match $e {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {}
        }
    };
}
use ready_or_return;

impl<T: AsyncRead + Unpin> AsyncRead for Guard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.out_pos < this.out.len() {
                // Never past the end of the next element.
                while this.spans.front().is_some_and(|s| s.1 <= this.out_pos) {
                    this.spans.pop_front();
                }
                let limit = this.spans.front().map_or(this.out.len(), |s| s.1);
                let n = (limit - this.out_pos).min(buf.remaining());
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    this.out.clear();
                    this.out_pos = 0;
                    this.spans.clear();
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            // Nothing to give yet (e.g. a stanza is held or was dropped):
            // read on until there is, or the inner stream has nothing.
            ready_or_return!(this.fill(cx));
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;

//! What the session task reports, and what it is asked to do.

use std::time::Duration;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

use confab_proto::iq::{IqAnswer, IqRequest};
use confab_proto::muc::HistoryRequest;
use confab_proto::{ErrorInfo, Incoming, Show};

/// Tag the app puts on a request so that its outcome can be matched.
pub type Tag = u64;

/// Reported by the session task.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A connection attempt starts (attempt 1 is the first).
    Connecting { attempt: u32 },
    /// Logged in with this SASL mechanism (comes just before `Online`).
    LoggedIn { mechanism: String },
    /// Logged in and bound. `reconnect` is false the first time.
    Online { jid: FullJid, reconnect: bool },
    /// XEP-0198: the lost stream was resumed — rooms are still joined,
    /// nothing was missed, what the server had not acknowledged was
    /// written again. Comes instead of `Online`.
    Resumed { jid: FullJid },
    /// XEP-0198: the server would not resume the lost stream (why, in
    /// words); the full reconnection follows (`Online` with `reconnect`).
    ResumeRefused { reason: String },
    /// After a stream that could not be resumed: our groupchat messages
    /// to `room` the server never acknowledged. They may or may not have
    /// reached the room; the app looks for them in the room's catch-up
    /// and sends again only those it does not find (never doubled).
    Unconfirmed {
        room: BareJid,
        messages: Vec<(Tag, Message)>,
    },
    /// The connection was lost or an attempt failed; the next attempt is
    /// made after `retry_in`.
    Disconnected {
        reason: super::SessionError,
        retry_in: Duration,
    },
    /// The session gave up for good (wrong password, certificate error).
    Fatal(ErrorInfo),
    /// A stanza from the network, classified.
    Incoming(Incoming),
    /// A stanza that could not be parsed (it is dropped, never fatal).
    Malformed { from: Option<String>, text: String },
    /// An answer (IQ result or error, self-ping answer, message error)
    /// with the id of a request of ours but from someone the request did
    /// not go to: dropped, and the request still waits for its answer.
    Forged { from: Option<String>, text: String },
    /// A stanza past the parse limits (depth, size, attributes), dropped
    /// unread by the guard (`session/guard.rs`).
    StanzaDropped(super::guard::Dropped),
    /// The answer to an IQ the app sent with [`SessionCmd::Iq`].
    IqResponse {
        tag: Tag,
        result: Result<Option<Element>, ErrorInfo>,
    },
    /// A tagged stanza was written to the stream.
    Sent { tag: Tag },
    /// A tagged stanza could not be sent (and will not be).
    SendFailed { tag: Tag, error: ErrorInfo },
    /// An IQ get/set for us that the session does not answer itself; the
    /// app answers it with [`SessionCmd::Reply`].
    IqRequest(IqRequest),
    /// The session closed the stream at the app's request.
    Closed,
    /// One element in or out of the stream, redacted (`xml.rs`), while
    /// the app listens ([`SessionCmd::XmlConsole`]).
    Xml { dir: super::XmlDir, xml: String },
    /// The outcome of a [`SessionCmd::Http`] POST (any status: the app
    /// judges it).
    HttpResponse {
        tag: Tag,
        result: Result<super::http::HttpResponse, ErrorInfo>,
    },
    /// A transfer ([`SessionCmd::Transfer`]) under way: at most a few
    /// of these a second.
    TransferProgress {
        tag: Tag,
        progress: super::transfer::Progress,
    },
    /// A transfer ended: the bytes moved (a download: written), or why
    /// not (`cancelled` after a cancel).
    TransferDone {
        tag: Tag,
        result: Result<u64, ErrorInfo>,
    },
}

/// What the app asks the session to do. Sending never blocks the app.
#[derive(Debug, Clone)]
pub enum SessionCmd {
    /// Enter a room; the session remembers it and rejoins after a
    /// reconnection until [`SessionCmd::Leave`].
    Join {
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
        tag: Tag,
    },
    /// Leave a room.
    Leave {
        room: BareJid,
        reason: Option<String>,
        tag: Tag,
    },
    /// Change the nick in a room.
    Nick {
        room: BareJid,
        nick: String,
        tag: Tag,
    },
    /// Set show/status in one room or (None) everywhere.
    Status {
        room: Option<BareJid>,
        show: Show,
        text: Option<String>,
        tag: Tag,
    },
    /// Send a message. With `room` set, it waits until that room is joined
    /// (after a reconnection) before it goes out.
    Message {
        message: Box<Message>,
        room: Option<BareJid>,
        tag: Tag,
    },
    /// Send an IQ get or set and report the answer.
    Iq {
        to: Option<Jid>,
        payload: Element,
        set: bool,
        timeout: Duration,
        tag: Tag,
    },
    /// Whether the app catches this room up through its MAM archive
    /// (XEP-0313): then rejoins ask the room for no MUC history. `false`
    /// when the room's latest disco#info did not list MAM.
    CatchUpByMam { room: BareJid, mam: bool },
    /// After a reconnection the app enters this room again itself (a
    /// Jitsi focus is asked first, `app/focus.rs`): the session keeps it
    /// (messages for it wait) but sends no join presence until the app's
    /// next [`SessionCmd::Join`]. Forgotten when the room is.
    AppRejoins { room: BareJid },
    /// Answer an [`IqRequest`].
    Reply {
        to: Option<Jid>,
        id: String,
        answer: IqAnswer,
    },
    /// POST `body` (JSON) to `url` over HTTP(S) (rustls, our roots),
    /// online or not; the outcome comes as [`SessionEvent::HttpResponse`].
    Http {
        url: String,
        body: String,
        timeout: Duration,
        tag: Tag,
    },
    /// An HTTPS upload or download (`transfer.rs`), online or not, or
    /// the cancel of one.
    Transfer(super::transfer::TransferCmd),
    /// Send this presence as it is (generic conferencing: presence to
    /// the bare room JID, unavailable to leave). Offline it fails.
    Presence { presence: Box<Presence>, tag: Tag },
    /// The room speaks groupchat 1.0 (sent before its `Join`): plain join
    /// presence, and a nick change is unavailable + available presence.
    Groupchat { room: BareJid },
    /// Copy every element in and out of the stream (redacted) to the app
    /// as [`SessionEvent::Xml`], or stop copying (the default: no cost).
    XmlConsole { on: bool },
    /// Leave every room, close the stream and end the task.
    Shutdown,
}

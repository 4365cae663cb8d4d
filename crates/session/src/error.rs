//! The session's errors: why it is offline again.

use xmpp_parsers::stream_error::StreamError;

use super::connect::ConnectError;

/// Why a connection attempt failed or a connected stream ended
/// ([`SessionEvent::Disconnected`](super::SessionEvent::Disconnected)).
/// The display texts are what the user reads (and the batch JSON's
/// `disconnected` event carries).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// A connection attempt failed; another one follows.
    #[error(transparent)]
    Attempt(#[from] ConnectError),
    /// Writing to the stream failed (the I/O error's text).
    #[error("write failed: {0}")]
    Write(String),
    /// The stream ended without a footer.
    #[error("the connection was closed")]
    Closed,
    /// Reading from the socket failed (the I/O error's text).
    #[error("connection lost: {0}")]
    Io(String),
    /// The server closed the stream (its footer).
    #[error("the server closed the stream")]
    ServerClosed,
    /// XEP-0198: the server broke stream management (an ack beyond what
    /// we sent), acknowledged nothing for too long, or left too many
    /// stanzas unacknowledged.
    #[error("stream management: {0}")]
    Sm(#[from] crate::sm::SmError),
    /// The server ended the stream with a stream error.
    #[error("stream error: received stream error: {0}")]
    Stream(StreamError),
}

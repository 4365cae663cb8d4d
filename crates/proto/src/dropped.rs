//! A stanza dropped unread for going past a parse limit: what the byte
//! guard under the XML parser (`session/guard.rs`) reports, as plain data.

/// Which limit a dropped element went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Depth,
    Size,
    Attributes,
}

impl Limit {
    /// The `reason` of the `dropped` event.
    pub fn reason(self) -> &'static str {
        match self {
            Limit::Depth => "too-deep",
            Limit::Size => "too-large",
            Limit::Attributes => "too-many-attributes",
        }
    }
}

/// A top-level element the guard dropped, described from its start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Its name as written (`iq`, `message`, `presence`, …).
    pub stanza: String,
    /// Its `from`, when that is a valid JID.
    pub from: Option<String>,
    /// Its `id` and `type` (an IQ request still deserves an error answer).
    pub id: Option<String>,
    pub type_: Option<String>,
    pub limit: Limit,
    /// In words, for the user.
    pub text: String,
}

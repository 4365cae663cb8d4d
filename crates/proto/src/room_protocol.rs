//! Which protocol a room is spoken with: XEP-0045, generic conferencing
//! or groupchat 1.0.

/// Which protocol a room is spoken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// XEP-0045 Multi-User Chat.
    Muc,
    /// Generic conferencing, `jabber:iq:conference`.
    Conference,
    /// groupchat 1.0 (plain presence).
    Groupchat,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Muc => "muc",
            Protocol::Conference => "conference",
            Protocol::Groupchat => "gc",
        }
    }
}

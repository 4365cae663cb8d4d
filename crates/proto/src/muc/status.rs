//! XEP-0045 status codes (§15.6) by name, and in words.

use xmpp_parsers::muc::user::Status;

/// A status code of a `muc#user` presence. The names are those of
/// xmpp-parsers' [`Status`], which cannot be used as it is: it has no
/// 174, cannot hold a code it does not know (an unknown code never makes
/// us drop a presence, so it is kept as [`StatusCode::Other`]), and is
/// neither `Copy` nor `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// 100: any occupant may see the user's real JID.
    NonAnonymousRoom,
    /// 101: the user's affiliation changed while they were away.
    AffiliationChange,
    /// 102: the room now shows unavailable members.
    ConfigShowsUnavailableMembers,
    /// 103: the room no longer shows unavailable members.
    ConfigHidesUnavailableMembers,
    /// 104: a non-privacy-related configuration change.
    ConfigNonPrivacyRelated,
    /// 110: the presence is about the user themselves.
    SelfPresence,
    /// 170: room logging is now enabled.
    ConfigRoomLoggingEnabled,
    /// 171: room logging is now disabled.
    ConfigRoomLoggingDisabled,
    /// 172: the room is now non-anonymous.
    ConfigRoomNonAnonymous,
    /// 173: the room is now semi-anonymous.
    ConfigRoomSemiAnonymous,
    /// 174: the room is now fully anonymous (not in xmpp-parsers).
    ConfigRoomFullyAnonymous,
    /// 201: a new room has been created.
    RoomHasBeenCreated,
    /// 210: the service assigned or changed the user's nick.
    AssignedNick,
    /// 301: the user has been banned.
    Banned,
    /// 303: a new nick (on the unavailable presence of a nick change).
    NewNick,
    /// 307: the user has been kicked.
    Kicked,
    /// 321: removed because of an affiliation change.
    RemovalFromRoom,
    /// 322: removed because the room became members-only.
    ConfigMembersOnly,
    /// 332: removed because the service is shutting down.
    ServiceShutdown,
    /// 333: removed for technical reasons.
    ServiceErrorKick,
    /// A code XEP-0045 does not define (kept, never acted on).
    Other(u16),
}

impl StatusCode {
    /// The number on the wire.
    pub fn code(self) -> u16 {
        use StatusCode::*;
        match self {
            NonAnonymousRoom => 100,
            AffiliationChange => 101,
            ConfigShowsUnavailableMembers => 102,
            ConfigHidesUnavailableMembers => 103,
            ConfigNonPrivacyRelated => 104,
            SelfPresence => 110,
            ConfigRoomLoggingEnabled => 170,
            ConfigRoomLoggingDisabled => 171,
            ConfigRoomNonAnonymous => 172,
            ConfigRoomSemiAnonymous => 173,
            ConfigRoomFullyAnonymous => 174,
            RoomHasBeenCreated => 201,
            AssignedNick => 210,
            Banned => 301,
            NewNick => 303,
            Kicked => 307,
            RemovalFromRoom => 321,
            ConfigMembersOnly => 322,
            ServiceShutdown => 332,
            ServiceErrorKick => 333,
            Other(n) => n,
        }
    }

    /// Whether the user was removed from the room by the service (an
    /// affiliation change, members-only, shutdown, a technical problem).
    pub fn is_removal(self) -> bool {
        use StatusCode::*;
        matches!(
            self,
            RemovalFromRoom | ConfigMembersOnly | ServiceShutdown | ServiceErrorKick
        )
    }

    /// Words for the codes a user may see (XEP-0045 §15.6); `None` for
    /// the others.
    pub fn text(self) -> Option<&'static str> {
        use StatusCode::*;
        Some(match self {
            NonAnonymousRoom => "the room shows real JIDs to everyone",
            AffiliationChange => "your affiliation changed while you were away",
            ConfigShowsUnavailableMembers => "the room now shows unavailable members",
            ConfigHidesUnavailableMembers => "the room no longer shows unavailable members",
            ConfigNonPrivacyRelated => "the room configuration changed",
            SelfPresence => "this is you",
            ConfigRoomLoggingEnabled => "the room is being logged",
            ConfigRoomLoggingDisabled => "the room is no longer logged",
            ConfigRoomNonAnonymous => "the room is now non-anonymous",
            ConfigRoomSemiAnonymous => "the room is now semi-anonymous",
            ConfigRoomFullyAnonymous => "the room is now fully anonymous",
            RoomHasBeenCreated => "a new room was created",
            AssignedNick => "the service changed your nick",
            Banned => "banned",
            NewNick => "nick changed",
            Kicked => "kicked",
            RemovalFromRoom => "removed because of an affiliation change",
            ConfigMembersOnly => "removed because the room became members-only",
            ServiceShutdown => "removed because the service is shutting down",
            ServiceErrorKick => "removed because of a technical problem",
            Other(_) => return None,
        })
    }
}

impl From<u16> for StatusCode {
    fn from(n: u16) -> StatusCode {
        use StatusCode::*;
        match n {
            100 => NonAnonymousRoom,
            101 => AffiliationChange,
            102 => ConfigShowsUnavailableMembers,
            103 => ConfigHidesUnavailableMembers,
            104 => ConfigNonPrivacyRelated,
            110 => SelfPresence,
            170 => ConfigRoomLoggingEnabled,
            171 => ConfigRoomLoggingDisabled,
            172 => ConfigRoomNonAnonymous,
            173 => ConfigRoomSemiAnonymous,
            174 => ConfigRoomFullyAnonymous,
            201 => RoomHasBeenCreated,
            210 => AssignedNick,
            301 => Banned,
            303 => NewNick,
            307 => Kicked,
            321 => RemovalFromRoom,
            322 => ConfigMembersOnly,
            332 => ServiceShutdown,
            333 => ServiceErrorKick,
            n => Other(n),
        }
    }
}

impl From<Status> for StatusCode {
    fn from(s: Status) -> StatusCode {
        use StatusCode::*;
        match s {
            Status::NonAnonymousRoom => NonAnonymousRoom,
            Status::AffiliationChange => AffiliationChange,
            Status::ConfigShowsUnavailableMembers => ConfigShowsUnavailableMembers,
            Status::ConfigHidesUnavailableMembers => ConfigHidesUnavailableMembers,
            Status::ConfigNonPrivacyRelated => ConfigNonPrivacyRelated,
            Status::SelfPresence => SelfPresence,
            Status::ConfigRoomLoggingEnabled => ConfigRoomLoggingEnabled,
            Status::ConfigRoomLoggingDisabled => ConfigRoomLoggingDisabled,
            Status::ConfigRoomNonAnonymous => ConfigRoomNonAnonymous,
            Status::ConfigRoomSemiAnonymous => ConfigRoomSemiAnonymous,
            Status::RoomHasBeenCreated => RoomHasBeenCreated,
            Status::AssignedNick => AssignedNick,
            Status::Banned => Banned,
            Status::NewNick => NewNick,
            Status::Kicked => Kicked,
            Status::RemovalFromRoom => RemovalFromRoom,
            Status::ConfigMembersOnly => ConfigMembersOnly,
            Status::ServiceShutdown => ServiceShutdown,
            Status::ServiceErrorKick => ServiceErrorKick,
        }
    }
}

/// A code compares equal to its number.
impl PartialEq<u16> for StatusCode {
    fn eq(&self, n: &u16) -> bool {
        self.code() == *n
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_match_xmpp_parsers() {
        for n in 0..1000u16 {
            assert_eq!(StatusCode::from(n).code(), n);
        }
        // xmpp-parsers' names are ours, with the same numbers.
        for n in [110u16, 201, 303, 307, 321, 333] {
            let el: minidom::Element =
                format!("<status xmlns='http://jabber.org/protocol/muc#user' code='{n}'/>")
                    .parse()
                    .unwrap();
            let s = Status::try_from(el).unwrap();
            assert_eq!(StatusCode::from(s), StatusCode::from(n));
        }
        assert_eq!(StatusCode::from(999), StatusCode::Other(999));
    }
}

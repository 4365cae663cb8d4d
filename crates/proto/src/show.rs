//! Presence "show" values, as the command language and the session speak them.

/// Presence "show" values a user can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Available,
    Chat,
    Away,
    Xa,
    Dnd,
}

impl Show {
    pub fn as_str(self) -> &'static str {
        match self {
            Show::Available => "available",
            Show::Chat => "chat",
            Show::Away => "away",
            Show::Xa => "xa",
            Show::Dnd => "dnd",
        }
    }

    pub fn from_word(word: &str) -> Option<Show> {
        Some(match word {
            "available" | "online" => Show::Available,
            "chat" => Show::Chat,
            "away" => Show::Away,
            "xa" => Show::Xa,
            "dnd" => Show::Dnd,
            _ => return None,
        })
    }
}

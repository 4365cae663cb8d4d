//! What the TUI's overlays show, as types: the [`Overlay`] over the message
//! pane, a [`Table`] that knows what it lists ([`TableKind`]) and whose
//! rows carry their typed [`Item`], and the [`RowAction`] that Enter on a
//! row yields. The feature modules (`rooms`, `invite`, `contacts`,
//! `moderation`, `conference`) and `state` import this module; it imports
//! none of them.

use std::ops::{Deref, DerefMut};

use jid::BareJid;

use super::widgets::{FormEditor, TableView};
use crate::command::Command;
use crate::command::admin::AdminList;
use crate::protocol::admin::AdminItem;

/// What covers the message pane.
pub enum Overlay {
    None,
    /// Help text (generated), scrolled by this many rows.
    Help {
        text: String,
        scroll: u16,
    },
    Table(Table),
    Form(FormEditor),
}

/// What a table lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// `/rooms`: the rooms of this MUC service, filled page by page.
    RoomList { service: String },
    /// `/search`: the rooms that matched.
    RoomSearch,
    /// `/invitations`.
    Invitations,
    /// `/bookmarks`.
    Bookmarks,
    /// The Contacts view (F5, `/roster`); it follows the store.
    Contacts,
    /// An affiliation or role list of `room` (`/members`, `/moderators`, …);
    /// `list` is `None` for a list of no known kind.
    AdminList {
        room: String,
        list: Option<AdminList>,
    },
    /// A table of no feature: Enter does nothing.
    Plain,
}

/// The typed item of a table row, next to the cells it is shown as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Item {
    /// A room of the directory (`None`: its JID is not a room's).
    Room { jid: String, room: Option<BareJid> },
    /// A pending invitation.
    Invitation { id: u32 },
    /// A bookmarked room and the nick to join it with (`None`: the room
    /// or the nick is not valid).
    Bookmark {
        room: String,
        join: Option<(BareJid, Option<String>)>,
    },
    /// A contact and the room they are in, if one we could join.
    Contact { jid: String, room: Option<BareJid> },
    /// An entry of an affiliation or role list.
    Admin(AdminItem),
    /// A row of a [`TableKind::Plain`] table.
    #[default]
    None,
}

/// What Enter on a row does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// Close the table and run this command; `shown` is its text as
    /// typed (the `command` of its `ok`/`error` event).
    Run { command: Command, shown: String },
    /// Close the table and put this in the input line, for the user to
    /// finish.
    Prefill(String),
    /// Keep the table open and say why nothing happens (an error).
    Refuse(String),
}

impl RowAction {
    /// `/join ROOM[/NICK]`, shown as typed.
    pub fn join(room: BareJid, nick: Option<String>) -> RowAction {
        let shown = match &nick {
            Some(n) => format!("/join {room}/{n}"),
            None => format!("/join {room}"),
        };
        RowAction::Run {
            command: Command::Join {
                room,
                nick,
                password: None,
                options: Default::default(),
            },
            shown,
        }
    }
}

/// A table overlay: what it lists and the table itself (its rows carry
/// their [`Item`]s). Derefs to the [`TableView`].
#[derive(Debug, Clone)]
pub struct Table {
    pub kind: TableKind,
    pub view: TableView<Item>,
}

impl Table {
    pub fn new(kind: TableKind, view: TableView<Item>) -> Table {
        Table { kind, view }
    }

    /// A table of no feature (Enter does nothing).
    pub fn plain(view: TableView<Item>) -> Table {
        Table::new(TableKind::Plain, view)
    }

    /// The item of row `index` (of the unfiltered rows).
    pub fn item(&self, index: usize) -> Option<&Item> {
        self.view.item(index)
    }
}

impl Deref for Table {
    type Target = TableView<Item>;

    fn deref(&self) -> &TableView<Item> {
        &self.view
    }
}

impl DerefMut for Table {
    fn deref_mut(&mut self) -> &mut TableView<Item> {
        &mut self.view
    }
}

/// The room whose configuration form is open (`ui/rooms.rs`).
#[derive(Debug, Default)]
pub struct RoomsUi {
    /// The room whose configuration form is open; true while creating.
    pub form: Option<(BareJid, bool)>,
}

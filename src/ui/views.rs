//! What the TUI's overlays and prompts show, as types: the [`Overlay`]
//! over the message pane, a [`Table`] that knows what it lists
//! ([`TableKind`]) and whose rows carry their typed [`Item`], a [`Form`]
//! that knows what it is for ([`FormKind`]), the typed [`Answer`]s of the
//! prompts, and the [`ViewAction`] that Enter on a row
//! or a prompt's key yields. The feature modules (`rooms`, `invite`, `contacts`,
//! `moderation`, `conference`) and `state` import this module; it imports
//! none of them.

use std::ops::{Deref, DerefMut};

use jid::{BareJid, Jid, ResourcePart};

use super::widgets::{FormEditor, TableView};
use crate::command::Command;
use crate::command::admin::{AdminList, Moderate};
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
    Form(Form),
    /// The XML console (`ui/xml_console.rs`; its lines are
    /// `UiState::xml`), scrolled back by this many elements.
    XmlConsole {
        scroll: usize,
    },
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
    AdminList { room: String, list: AdminList },
    /// `/find`: messages of the local history.
    Found,
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
    /// A message `/find` found: where, and how to know it again.
    Found(FoundAt),
    /// A row of a [`TableKind::Plain`] table.
    #[default]
    None,
}

/// A message of the archive to bring into view: its window, and its
/// stanza-id, else its time and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAt {
    pub window: BareJid,
    pub stanza_id: Option<String>,
    pub time: chrono::DateTime<chrono::Utc>,
    pub body: String,
}

/// What Enter on a table's row or a prompt's key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewAction {
    /// Close the table and run this command; `shown` is its text as
    /// typed (the `command` of its `ok`/`error` event).
    Run { command: Command, shown: String },
    /// Close the table and put this in the input line, for the user to
    /// finish.
    Prefill(String),
    /// Say why nothing happens (an error); a table stays open.
    Refuse(String),
    /// Close the table and show this message in its window.
    Show(FoundAt),
}

impl ViewAction {
    /// `/join ROOM[/NICK]`, shown as typed.
    pub fn join(room: BareJid, nick: Option<String>) -> ViewAction {
        let shown = match &nick {
            Some(n) => format!("/join {room}/{n}"),
            None => format!("/join {room}"),
        };
        ViewAction::Run {
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

/// What an open form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    /// A room's configuration (or an A/V conference's, `/callconfig`)
    /// (`ui/rooms.rs`); `creating` while the room is being created (Esc
    /// then destroys it).
    RoomConfig { room: BareJid, creating: bool },
    /// The secret of `room`, for the join `join` (shown as `shown`) to
    /// be run again with it (`ui/conference.rs`).
    Secret {
        room: String,
        join: Option<Command>,
        shown: String,
    },
    /// A form of no feature: Ctrl-S and Esc only close it.
    Plain,
}

/// A form overlay: what it is for and the editor. Derefs to the
/// [`FormEditor`].
pub struct Form {
    pub kind: FormKind,
    pub editor: FormEditor,
}

impl Form {
    pub fn new(kind: FormKind, editor: FormEditor) -> Form {
        Form { kind, editor }
    }

    /// A form of no feature.
    pub fn plain(editor: FormEditor) -> Form {
        Form::new(FormKind::Plain, editor)
    }
}

impl Deref for Form {
    type Target = FormEditor;

    fn deref(&self) -> &FormEditor {
        &self.editor
    }
}

impl DerefMut for Form {
    fn deref_mut(&mut self) -> &mut FormEditor {
        &mut self.editor
    }
}

/// What a prompt's key stands for (the choice of the TUI's prompts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept (`/accept ID`) or decline (`/decline ID`) invitation `id`
    /// to `room`.
    Invitation { id: u32, room: String, accept: bool },
    /// Approve (`/approve JID`) or deny (`/deny JID`) `from`'s
    /// subscription request.
    Subscription { from: String, approve: bool },
    /// Grant `nick`'s voice request in `room` (`/voice ROOM NICK`).
    Voice { room: String, nick: String },
    /// Take (`/answer`) or decline (`/reject`) the one-to-one call from
    /// `from` that rings.
    Call { from: String, accept: bool },
    /// Go to the room a destroyed room names (`/join ROOM`).
    GoTo(String),
    /// Nothing to do (ignore, stay).
    Nothing,
}

impl Answer {
    /// What the answer does: a command to run (`None`: nothing).
    pub fn action(&self) -> Option<ViewAction> {
        let refuse = |what: &str, why: String| Some(ViewAction::Refuse(format!("{what}: {why}")));
        match self {
            Answer::Invitation { id, accept, .. } => Some(ViewAction::Run {
                command: if *accept {
                    Command::Accept { id: id.to_string() }
                } else {
                    Command::Decline {
                        id: id.to_string(),
                        reason: None,
                    }
                },
                shown: self.line(),
            }),
            Answer::Subscription { from, approve } => match Jid::new(from) {
                Ok(jid) => {
                    let jid = jid.to_bare();
                    Some(ViewAction::Run {
                        command: if *approve {
                            Command::Approve { jid }
                        } else {
                            Command::Deny { jid }
                        },
                        shown: self.line(),
                    })
                }
                Err(e) => refuse(from, e.to_string()),
            },
            Answer::Voice { room, nick } => {
                let room = match BareJid::new(room) {
                    Ok(r) if r.node().is_some() => r,
                    _ => return refuse(room, "not a room JID".into()),
                };
                let nick = match ResourcePart::new(nick) {
                    Ok(n) => n.as_str().to_string(),
                    Err(e) => return refuse(nick, format!("not a valid nickname: {e}")),
                };
                Some(ViewAction::Run {
                    command: Command::Moderate(Moderate::Voice { room, nick }),
                    shown: self.line(),
                })
            }
            Answer::Call { accept, .. } => Some(ViewAction::Run {
                command: if *accept {
                    Command::AnswerCall
                } else {
                    Command::RejectCall
                },
                shown: self.line(),
            }),
            Answer::GoTo(room) => match BareJid::new(room) {
                Ok(r) if r.node().is_some() => Some(ViewAction::join(r, None)),
                _ => refuse(room, "not a room JID".into()),
            },
            Answer::Nothing => None,
        }
    }

    /// The answer as a command line (empty: nothing), as shown in the
    /// command's `ok`/`error`.
    pub fn line(&self) -> String {
        match self {
            Answer::Invitation { id, accept, .. } => {
                format!("/{} {id}", if *accept { "accept" } else { "decline" })
            }
            Answer::Subscription { from, approve } => {
                format!("/{} {from}", if *approve { "approve" } else { "deny" })
            }
            Answer::Voice { room, nick } => format!("/voice {room} {}", quote(nick)),
            Answer::Call { accept, .. } => if *accept { "/answer" } else { "/reject" }.to_string(),
            Answer::GoTo(room) => format!("/join {room}"),
            Answer::Nothing => String::new(),
        }
    }
}

/// A prompt's outcome with its answer as a command line (tests).
#[cfg(test)]
pub fn as_line(o: super::widgets::PromptOutcome<Answer>) -> super::widgets::PromptOutcome<String> {
    use super::widgets::PromptOutcome;
    match o {
        PromptOutcome::Ignored => PromptOutcome::Ignored,
        PromptOutcome::Chosen(a) => PromptOutcome::Chosen(a.line()),
        PromptOutcome::Dismissed => PromptOutcome::Dismissed,
    }
}

/// A word for the command line: quoted when it has to be.
pub fn quote(word: &str) -> String {
    if word
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\')
    {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        word.to_string()
    }
}

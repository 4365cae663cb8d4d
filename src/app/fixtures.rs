//! Test fixtures of the root crate's tests (the app's and the TUI's):
//! apps with or without an in-memory archive, online, in a joined room;
//! the session's answers to their IQs. Stanza-shaped values (XML, an
//! occupant's presence) come from `confab_proto::fixtures`.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use tokio::sync::mpsc::UnboundedReceiver;

pub(crate) use crate::protocol::fixtures::{el, occupant, occupant_in, room_message};

use super::{App, AppOptions, Exec};
use crate::command::Command;
use crate::history::History;
use crate::protocol::ErrorInfo;
use crate::session::{SessionCmd, SessionEvent, SessionHandle, Tag};
use crate::store::Event;

impl App {
    /// An app without a network for unit tests: `account` (`user@domain`,
    /// nick = user) and the receiving end of what it asks the session.
    pub(crate) fn for_tests(
        account: &str,
        history_load: usize,
    ) -> (App, UnboundedReceiver<SessionCmd>) {
        App::for_tests_with(account, history_load, None)
    }

    /// [`App::for_tests`] with an archive (e.g. `History::in_memory`).
    pub(crate) fn for_tests_with(
        account: &str,
        history_load: usize,
        history: Option<History>,
    ) -> (App, UnboundedReceiver<SessionCmd>) {
        let (handle, rx) = SessionHandle::pair();
        let account = BareJid::new(account).expect("a bare JID");
        let nick = account.node().map(|n| n.to_string()).unwrap_or_default();
        let app = App::new(
            handle,
            history,
            AppOptions {
                account,
                default_nick: nick,
                history_load,
                export_dir: std::env::temp_dir().join("confab-test-exports"),
                recordings_dir: std::env::temp_dir().join("confab-test-recordings"),
                files: crate::app::files::FilesOptions::with_download_dir(
                    std::env::temp_dir().join("confab-test-downloads"),
                ),
            },
        );
        (app, rx)
    }

    /// The room's presence about us with status 110, which ends our join
    /// of `room` as `nick`.
    pub(crate) fn self_presence(room: &BareJid, nick: &str) -> SessionEvent {
        SessionEvent::Incoming(occupant_in(room, nick).codes(&[110]).incoming())
    }
}

/// [`App::for_tests`] of the bare `jid` (no history loaded), told it is
/// online as the full `jid`.
pub(crate) fn online(jid: &str) -> (App, UnboundedReceiver<SessionCmd>) {
    let jid: FullJid = jid.parse().expect("a full JID");
    let (mut app, rx) = App::for_tests(jid.to_bare().as_str(), 0);
    app.on_session(SessionEvent::Online {
        jid,
        reconnect: false,
    });
    (app, rx)
}

/// `/join ROOM` (the default nick, no password, no options) executed.
pub(crate) fn join(app: &mut App, room: &BareJid) -> Exec {
    app.execute(
        Command::Join {
            room: room.clone(),
            nick: None,
            password: None,
            options: Default::default(),
        },
        &format!("/join {room}"),
    )
}

/// `/join ROOM` finished by the room's presence about us (status 110).
pub(crate) fn joined(app: &mut App, room: &BareJid, nick: &str) {
    join(app, room);
    app.on_session(App::self_presence(room, nick));
}

/// An IQ the app asked the session to send.
pub(crate) struct SentIq {
    pub tag: Tag,
    pub to: Option<Jid>,
    pub payload: Element,
    pub set: bool,
}

/// The next command to the session, which must be an IQ.
pub(crate) fn next_iq(rx: &mut UnboundedReceiver<SessionCmd>) -> SentIq {
    match rx.try_recv() {
        Ok(SessionCmd::Iq {
            tag,
            to,
            payload,
            set,
            ..
        }) => SentIq {
            tag,
            to,
            payload,
            set,
        },
        other => panic!("expected an IQ, got {other:?}"),
    }
}

/// The session's result of the IQ `tag`, with `xml` as its payload.
pub(crate) fn iq_result(app: &mut App, tag: Tag, xml: &str) -> Vec<Event> {
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(Some(el(xml))),
    })
}

/// The session's error `condition` for the IQ `tag`.
pub(crate) fn iq_error(app: &mut App, tag: Tag, condition: &str) -> Vec<Event> {
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new(condition, None)),
    })
}

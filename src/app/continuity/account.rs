//! Our account at login: message carbons enabled (XEP-0280), and the
//! catch-up of the account's archive (XEP-0313 on our own bare JID) — the
//! one-to-one conversations — by the rooms' catch-up engine.
//!
//! After login and after each reconnection (a resumed stream keeps
//! both), the account's archive is asked for everything after the
//! newest archive id of our account we hold ([`Store::account_mark`]:
//! live messages, carbons and archive results move it; saved in the
//! history's `marks` table), or — none held, a first login — for the last
//! [`FIRST_CATCHUP_DAYS`] days, and never more on a first login. Pages as
//! for rooms (bounded, loop-safe); one `mam-account` event ends it.
//! Results count only with our queryid and from our bare JID (or no
//! `from`); their archive id is the stanza-id live messages and carbons
//! carry (by our bare JID), so each message is shown once whichever way
//! it came; one held by the history already (by its id, or our own
//! copy without one) is skipped. Groupchat results are skipped; a private
//! message of a room goes to that room if we are in it, else nowhere.
//!
//! [`Store::account_mark`]: crate::store::Store::account_mark

use chrono::{Duration, Utc};
use jid::BareJid;

use super::{Archive, CLOCK_SKEW_SECS};
use crate::app::{App, IqStep, IqThen};
use crate::protocol::mam::{self, Anchor, MamResult};
use crate::protocol::{ChatMessage, Incoming, carbons};
use crate::store::{Event, Input, SAME_MESSAGE_WINDOW_SECS};

/// How far back a first catch-up of the account's archive goes.
pub(crate) const FIRST_CATCHUP_DAYS: i64 = 14;

impl App {
    /// Logged in or reconnected: carbons on, the account caught up. The
    /// batch and TUI loops call it after the first login, with the
    /// roster; `App::intake` after each reconnection.
    pub fn account_online(&mut self) {
        self.enable_carbons();
        self.omemo_online();
        self.catch_up_account();
    }

    /// A new connection (not a resumed one): the account's mark as it
    /// stands is where its catch-up will start.
    pub(crate) fn account_connected(&mut self) {
        self.catchup.account_due = Some(self.store.account_mark.clone());
    }

    /// Asks our server for carbons (this session only); a refusal is
    /// said once.
    fn enable_carbons(&mut self) {
        let then = IqThen::new(|_, _, result| {
            IqStep::Done(match result {
                Ok(_) => Vec::new(),
                Err(e) => vec![Event::error(
                    &e.condition,
                    Some(format!(
                        "message carbons could not be enabled ({}): messages of your other clients are not shown",
                        e.text.as_deref().unwrap_or(&e.condition)
                    )),
                )],
            })
        });
        self.start_iq("", None, carbons::enable(), true, then);
    }

    fn catch_up_account(&mut self) {
        let Some(account) = self.store.jid.as_ref().map(|j| j.to_bare()) else {
            return;
        };
        let held = match self.catchup.account_due.take() {
            Some(at_connection) => at_connection,
            None => self.store.account_mark.clone(),
        };
        let mark = held.or_else(|| {
            self.history
                .as_ref()
                .and_then(|h| h.mark(account.as_str()).ok().flatten())
        });
        // Back to where the archive is known to be complete: what arrived
        // since the connection came up moves it again, and it is saved
        // once the catch-up has filled the gap.
        self.store.account_mark = mark.clone();
        let (anchor, since) = match mark {
            Some(m) => (
                Anchor::After(m.stanza_id),
                m.time - Duration::seconds(CLOCK_SKEW_SECS),
            ),
            None => {
                let bound = Utc::now() - Duration::days(FIRST_CATCHUP_DAYS);
                (Anchor::Start(bound), bound)
            }
        };
        self.start_catchup(Archive::Account(account), anchor, Some(since));
    }

    /// A result of our account's archive: ours only with our queryid
    /// (checked by the caller) and from our bare JID or no one.
    pub(super) fn on_account_result(&mut self, r: MamResult, account: &BareJid) -> Vec<Event> {
        if !mam::from_account_archive(&r, account) {
            return Vec::new();
        }
        let time = r.time.unwrap_or_else(Utc::now);
        if let Some(q) = self.catchup.queries.get_mut(&r.queryid) {
            q.results += 1;
            q.page_results += 1;
            q.last = Some((r.id.clone(), time));
        }
        self.store.advance_account_mark(&r.id, time);
        // Groupchat, invitations, errors: not one-to-one messages.
        let Incoming::Chat(c) = *r.message else {
            return Vec::new();
        };
        if self.account_copy_archived(&c, &r.id, time, account) {
            return Vec::new();
        }
        let events = self.store.apply(
            Input::AccountArchive {
                message: c,
                stanza_id: r.id,
                time: Some(time),
            },
            Utc::now(),
        );
        let new = events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
        if let Some(q) = self.catchup.queries.get_mut(&r.queryid) {
            q.count += new;
        }
        events
    }

    /// Whether the history holds this result already: by its archive id,
    /// or as a copy without one (our own message as sent, a carbon).
    fn account_copy_archived(
        &self,
        c: &ChatMessage,
        id: &str,
        time: chrono::DateTime<Utc>,
        account: &BareJid,
    ) -> bool {
        let (Some(h), Some((peer, own))) = (self.history.as_ref(), c.peer(account)) else {
            return false;
        };
        let conversation = peer.to_bare().to_string();
        let nick = (!own).then(|| peer.to_string());
        h.has_stanza_id(&conversation, id).unwrap_or(false)
            || h.has_copy_without_id(
                &conversation,
                nick.as_deref(),
                &c.body,
                time,
                SAME_MESSAGE_WINDOW_SECS,
            )
            .unwrap_or(false)
    }

    /// Saves the account's mark when it moved (with the journal), unless
    /// a catch-up of the account is under way: until it ends, a live
    /// message's newer id would skip what it has not fetched yet.
    pub(crate) fn save_account_mark(&mut self) -> Option<Event> {
        let account = self.store.jid.as_ref()?.to_bare();
        let mark = self.store.account_mark.clone()?;
        if self.catchup.account_due.is_some()
            || self.catchup.saved_mark.as_ref() == Some(&mark)
            || self
                .catchup
                .queries
                .values()
                .any(|q| matches!(q.archive, Archive::Account(_)))
        {
            return None;
        }
        let h = self.history.as_mut()?;
        match h.set_mark(account.as_str(), &mark) {
            Ok(()) => {
                self.catchup.saved_mark = Some(mark);
                None
            }
            Err(e) => Some(self.history_broken(e)),
        }
    }
}

#[cfg(test)]
mod tests;

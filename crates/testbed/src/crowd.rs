//! A crowd for big-room benchmarks (`benches/big_room.rs`): thousands of
//! occupants that really join a room on the private Prosody, through one
//! XEP-0114 component link (`occupant{i}@crowd.localhost/crowd`), and can
//! fill a room's archive with messages.
//!
//! Each join would otherwise be broadcast to everyone already in the room
//! (N²/2 presences for N occupants): the server module
//! `mod_quiet_crowd.lua`, loaded on the MUC service by [`with_crowd`],
//! keeps the crowd quiet — its members receive nothing and their own
//! comings and goings are announced to nobody — while a client that joins
//! later gets the whole occupant list and every message as usual.

use std::io;
use std::path::Path;

use jid::BareJid;
use minidom::Element;

use crate::component::{ComponentStream, NS, stanza};
use crate::{MUC_DOMAIN, Prosody, ProsodyOptions};
use confab_proto::nc;

/// The crowd's domain (its component).
pub const CROWD_DOMAIN: &str = "crowd.localhost";

/// Stanzas written between two round trips to the server.
const CHUNK: usize = 500;

const MODULE: &str = include_str!("prosody/mod_quiet_crowd.lua");

/// `opts` with the crowd's component and its module on the MUC service;
/// the module is written to `plugins` (a directory that must outlive the
/// server). Also unlocks new rooms (`muc_room_locking = false`): the
/// crowd's first member creates a room and nobody configures it.
pub fn with_crowd(opts: ProsodyOptions, plugins: &Path) -> io::Result<ProsodyOptions> {
    std::fs::write(plugins.join("mod_quiet_crowd.lua"), MODULE)?;
    let mut opts = opts.component(CROWD_DOMAIN, "");
    let dir = plugins
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    opts.extra_global_config
        .push_str(&format!("plugin_paths = {{ \"{dir}\" }}\n"));
    opts.muc_config.push_str(&format!(
        "    modules_enabled = {{ \"muc_mam\", \"quiet_crowd\" }}\n    \
         quiet_crowd_domain = \"{CROWD_DOMAIN}\"\n    muc_room_locking = false\n"
    ));
    Ok(opts)
}

/// The crowd's component link.
pub struct Crowd {
    stream: ComponentStream,
    syncs: u64,
}

impl Crowd {
    /// Connects the crowd's component to `server` (started [`with_crowd`]).
    pub async fn connect(server: &Prosody) -> Result<Crowd, String> {
        let secret = server
            .components()
            .iter()
            .find(|(jid, _)| jid == CROWD_DOMAIN)
            .map(|(_, s)| s.clone())
            .ok_or("the server has no crowd component (with_crowd)")?;
        let stream = ComponentStream::connect(server.component_port(), CROWD_DOMAIN, &secret)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Crowd { stream, syncs: 0 })
    }

    /// Member `i`'s full JID.
    pub fn member(i: usize) -> String {
        format!("occupant{i}@{CROWD_DOMAIN}/crowd")
    }

    /// Members `from..from + n` join `room` (nick `user{i}`, no history);
    /// returns once the server has handled every join.
    pub async fn join(&mut self, room: &BareJid, from: usize, n: usize) -> Result<(), String> {
        for (k, i) in (from..from + n).enumerate() {
            let join = stanza("presence")
                .attr(nc("from"), Self::member(i))
                .attr(nc("to"), format!("{room}/user{i}"))
                .append(
                    Element::builder("x", "http://jabber.org/protocol/muc")
                        .append(
                            Element::builder("history", "http://jabber.org/protocol/muc")
                                .attr(nc("maxstanzas"), "0")
                                .build(),
                        )
                        .build(),
                )
                .build();
            self.send(&join).await?;
            if (k + 1) % CHUNK == 0 {
                self.sync().await?;
            }
        }
        self.sync().await
    }

    /// Member `member` (already in `room`) says `n` messages there,
    /// numbered from `first`; returns once the server has handled (and
    /// archived) them all.
    pub async fn say(
        &mut self,
        room: &BareJid,
        member: usize,
        first: usize,
        n: usize,
    ) -> Result<(), String> {
        for (k, i) in (first..first + n).enumerate() {
            let body = Element::builder("body", NS)
                .append(format!(
                    "message {i}: the quick brown fox jumps over the lazy dog, again and again"
                ))
                .build();
            let m = stanza("message")
                .attr(nc("from"), Self::member(member))
                .attr(nc("to"), room.to_string())
                .attr(nc("type"), "groupchat")
                .attr(nc("id"), format!("crowd-{i}"))
                .append(body)
                .build();
            self.send(&m).await?;
            if (k + 1) % CHUNK == 0 {
                self.sync().await?;
            }
        }
        self.sync().await
    }

    async fn send(&mut self, e: &Element) -> Result<(), String> {
        self.stream
            .send(e)
            .await
            .map_err(|e| format!("crowd send: {e}"))
    }

    /// A disco#info round trip to the MUC service: the server handles a
    /// link's stanzas in order, so everything sent before is handled.
    /// What else arrives meanwhile is read and dropped.
    async fn sync(&mut self) -> Result<(), String> {
        self.syncs += 1;
        let id = format!("crowd-sync-{}", self.syncs);
        let iq = stanza("iq")
            .attr(nc("type"), "get")
            .attr(nc("id"), id.as_str())
            .attr(nc("from"), CROWD_DOMAIN)
            .attr(nc("to"), MUC_DOMAIN)
            .append(Element::builder("query", "http://jabber.org/protocol/disco#info").build())
            .build();
        self.send(&iq).await?;
        loop {
            match self.stream.next().await {
                Some(e) if e.is("iq", NS) && e.attr("id") == Some(id.as_str()) => return Ok(()),
                Some(_) => {}
                None => return Err("the crowd's link closed".into()),
            }
        }
    }
}

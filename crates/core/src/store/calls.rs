//! The call: the A/V conference (XEP-0521) we send our audio to, the
//! streams its SFU sends us (one Jingle session each, labelled by a Coin
//! entity), their levels, our mute state. One call at a time.
//!
//! Plain data: the app reports what signalling and media did, and gets
//! the events to show back. Levels are throttled here (at most
//! [`LEVEL_PERIOD_MS`] apart per stream), so the media side may report
//! every frame.

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::Event;

/// Minimum time between two `audio-level` events of one stream.
pub const LEVEL_PERIOD_MS: i64 = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Our session is being set up (disco, session-initiate, ICE, DTLS).
    Connecting,
    /// Our audio flows to the conference.
    Connected,
    /// The connection of our session dropped (a network drop); the call
    /// goes on and says `connected` again when it comes back.
    Reconnecting,
    Ended,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Connecting => "connecting",
            CallState::Connected => "connected",
            CallState::Reconnecting => "reconnecting",
            CallState::Ended => "ended",
        }
    }
}

/// A stream the conference forwards to us.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The Jingle session carrying it.
    pub sid: String,
    /// Whose it is (the Coin `user entity`, e.g. `xmpp:bob@localhost`).
    pub entity: String,
    /// Last level, 0.0 (silence) to 1.0 (full scale).
    pub level: f32,
    pub speaking: bool,
    last_reported: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The conference's JID.
    pub jid: BareJid,
    /// Our sending session.
    pub sid: String,
    pub state: CallState,
    pub started: DateTime<Utc>,
    pub connected_at: Option<DateTime<Utc>>,
    pub muted: bool,
    pub deafened: bool,
    /// Our microphone's level (0.0–1.0; 0 while muted).
    pub own_level: f32,
    /// Whether noise suppression hears us speak (`None`: it is off).
    pub own_speaking: Option<bool>,
    /// In the order they arrived.
    pub streams: Vec<Stream>,
    /// `/record`: the directory being recorded to.
    pub recording: Option<String>,
    /// A one-to-one call (XEP-0353/XEP-0167) rather than a conference.
    pub direct: bool,
}

impl Call {
    /// How long the call has been connected.
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.connected_at.map(|t| now - t)
    }

    pub fn stream(&self, sid: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.sid == sid)
    }

    /// Whether `sid` is one of this call's sessions (ours or a stream).
    pub fn owns(&self, sid: &str) -> bool {
        self.sid == sid || self.stream(sid).is_some()
    }
}

#[derive(Debug, Default)]
pub struct Calls {
    pub current: Option<Call>,
}

impl Calls {
    /// A call to `jid` starts (our session `sid`).
    pub fn start(&mut self, jid: BareJid, sid: String, now: DateTime<Utc>) -> Vec<Event> {
        self.start_as(jid, sid, now, CallState::Connecting.as_str())
    }

    /// A call starts, announced as `state` (a one-to-one call: `proposed`
    /// while it rings; it is connecting until connected all the same).
    pub fn start_as(
        &mut self,
        jid: BareJid,
        sid: String,
        now: DateTime<Utc>,
        state: &'static str,
    ) -> Vec<Event> {
        let event = Event::Call {
            jid: jid.to_string(),
            state,
            reason: None,
        };
        self.current = Some(Call {
            jid,
            sid,
            state: CallState::Connecting,
            started: now,
            connected_at: None,
            muted: false,
            deafened: false,
            own_level: 0.0,
            own_speaking: None,
            streams: Vec::new(),
            recording: None,
            direct: false,
        });
        vec![event]
    }

    /// The call is a one-to-one call.
    pub fn set_direct(&mut self) {
        if let Some(c) = &mut self.current {
            c.direct = true;
        }
    }

    /// Our session is connected (once; later reports change nothing),
    /// or connected again after a drop (the call's clock goes on).
    pub fn connected(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        match &mut self.current {
            Some(c) if matches!(c.state, CallState::Connecting | CallState::Reconnecting) => {
                c.state = CallState::Connected;
                c.connected_at.get_or_insert(now);
                vec![Event::Call {
                    jid: c.jid.to_string(),
                    state: CallState::Connected.as_str(),
                    reason: None,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Our session's connection dropped after it was connected.
    pub fn reconnecting(&mut self) -> Vec<Event> {
        match &mut self.current {
            Some(c) if c.state == CallState::Connected => {
                c.state = CallState::Reconnecting;
                vec![Event::Call {
                    jid: c.jid.to_string(),
                    state: CallState::Reconnecting.as_str(),
                    reason: None,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The call re-joins its conference after a drop (`why`: the attempt
    /// and its cause, the event's reason): our new session is `sid`, the
    /// old streams are gone (the conference forwards them anew), the call
    /// is reconnecting until the new session connects (its clock goes on).
    pub fn rejoining(&mut self, sid: String, why: String) -> Vec<Event> {
        let Some(c) = &mut self.current else {
            return Vec::new();
        };
        c.sid = sid;
        c.state = CallState::Reconnecting;
        let mut out: Vec<Event> = c
            .streams
            .drain(..)
            .map(|s| Event::Stream {
                call: c.jid.to_string(),
                entity: s.entity,
                state: "removed",
            })
            .collect();
        out.push(Event::Call {
            jid: c.jid.to_string(),
            state: CallState::Reconnecting.as_str(),
            reason: Some(why),
        });
        out
    }

    /// The call is over: every stream goes with it.
    pub fn ended(&mut self, reason: Option<String>) -> Vec<Event> {
        let Some(c) = self.current.take() else {
            return Vec::new();
        };
        let mut out: Vec<Event> = c
            .streams
            .iter()
            .map(|s| Event::Stream {
                call: c.jid.to_string(),
                entity: s.entity.clone(),
                state: "removed",
            })
            .collect();
        out.push(Event::Call {
            jid: c.jid.to_string(),
            state: CallState::Ended.as_str(),
            reason,
        });
        out
    }

    /// The conference forwards a stream to us in session `sid`.
    pub fn stream_added(&mut self, sid: String, entity: String) -> Vec<Event> {
        let Some(c) = &mut self.current else {
            return Vec::new();
        };
        if c.stream(&sid).is_some() {
            return Vec::new();
        }
        let event = Event::Stream {
            call: c.jid.to_string(),
            entity: entity.clone(),
            state: "added",
        };
        c.streams.push(Stream {
            sid,
            entity,
            level: 0.0,
            speaking: false,
            last_reported: None,
        });
        vec![event]
    }

    /// Session `sid` ended; if it carried a stream, the stream is gone.
    pub fn stream_removed(&mut self, sid: &str) -> Vec<Event> {
        let Some(c) = &mut self.current else {
            return Vec::new();
        };
        let Some(i) = c.streams.iter().position(|s| s.sid == sid) else {
            return Vec::new();
        };
        let s = c.streams.remove(i);
        vec![Event::Stream {
            call: c.jid.to_string(),
            entity: s.entity,
            state: "removed",
        }]
    }

    /// The level of stream `sid` now; an `audio-level` event at most every
    /// [`LEVEL_PERIOD_MS`] per stream.
    pub fn level(
        &mut self,
        sid: &str,
        level: f32,
        speaking: bool,
        now: DateTime<Utc>,
    ) -> Vec<Event> {
        let Some(s) = self
            .current
            .as_mut()
            .and_then(|c| c.streams.iter_mut().find(|s| s.sid == sid))
        else {
            return Vec::new();
        };
        s.level = level.clamp(0.0, 1.0);
        s.speaking = speaking;
        let due = s
            .last_reported
            .is_none_or(|t| (now - t).num_milliseconds() >= LEVEL_PERIOD_MS);
        if !due {
            return Vec::new();
        }
        s.last_reported = Some(now);
        vec![Event::AudioLevel {
            entity: s.entity.clone(),
            level: (s.level * 100.0).round() / 100.0,
            speaking,
        }]
    }

    /// Our microphone's level (no event: the TUI shows it), and whether
    /// a voice is heard in it: a `voice` event when that changes.
    pub fn own_level(&mut self, level: f32, speaking: Option<bool>) -> Vec<Event> {
        let Some(c) = &mut self.current else {
            return Vec::new();
        };
        c.own_level = if c.muted { 0.0 } else { level.clamp(0.0, 1.0) };
        let speaking = speaking.map(|s| s && !c.muted);
        if speaking == c.own_speaking {
            return Vec::new();
        }
        c.own_speaking = speaking;
        match speaking {
            Some(speaking) => vec![Event::Voice { speaking }],
            None => Vec::new(),
        }
    }

    /// The recording into `dir` started (`files`: the mix so far) or
    /// stopped (every file); the event either way, with or without a call
    /// (the recording stops as the call ends).
    pub fn recording(&mut self, active: bool, dir: String, files: Vec<String>) -> Vec<Event> {
        if let Some(c) = &mut self.current {
            c.recording = active.then(|| dir.clone());
        }
        vec![Event::Recording {
            state: if active { "started" } else { "stopped" },
            dir,
            files,
        }]
    }

    /// Whether the call is being recorded.
    pub fn is_recording(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.recording.is_some())
    }

    /// Returns false when there is no call.
    pub fn set_muted(&mut self, muted: bool) -> bool {
        match &mut self.current {
            Some(c) => {
                c.muted = muted;
                if muted {
                    c.own_level = 0.0;
                    c.own_speaking = c.own_speaking.map(|_| false);
                }
                true
            }
            None => false,
        }
    }

    /// Returns false when there is no call.
    pub fn set_deafened(&mut self, deafened: bool) -> bool {
        match &mut self.current {
            Some(c) => {
                c.deafened = deafened;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_700_000_000_000 + ms).unwrap()
    }

    fn call() -> Calls {
        let mut calls = Calls::default();
        calls.start("room@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
        calls
    }

    #[test]
    fn life_cycle_events() {
        let mut calls = Calls::default();
        let ev = calls.start("room@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
        assert_eq!(
            ev[0].to_json(),
            serde_json::json!({"event":"call","jid":"room@sfu.localhost","state":"connecting"})
        );
        let ev = calls.connected(t(1500));
        assert_eq!(ev[0].to_json()["state"], "connected");
        assert!(calls.connected(t(1600)).is_empty(), "once");
        assert_eq!(
            calls.current.as_ref().unwrap().duration(t(4500)),
            Some(chrono::Duration::seconds(3))
        );
        let ev = calls.stream_added("s1".into(), "xmpp:bob@localhost".into());
        assert_eq!(
            ev[0].to_json(),
            serde_json::json!({"event":"stream","call":"room@sfu.localhost","entity":"xmpp:bob@localhost","state":"added"})
        );
        assert!(
            calls
                .stream_added("s1".into(), "xmpp:bob@localhost".into())
                .is_empty()
        );
        calls.stream_added("s2".into(), "sip:carol@example.org".into());
        let ev = calls.stream_removed("s1");
        assert_eq!(ev[0].to_json()["state"], "removed");
        assert!(calls.stream_removed("s1").is_empty());
        let ev = calls.ended(Some("hung up".into()));
        assert_eq!(ev.len(), 2, "the last stream goes, then the call");
        assert_eq!(ev[0].to_json()["entity"], "sip:carol@example.org");
        assert_eq!(
            ev[1].to_json(),
            serde_json::json!({"event":"call","jid":"room@sfu.localhost","state":"ended","reason":"hung up"})
        );
        assert!(calls.current.is_none());
        assert!(calls.ended(None).is_empty());
    }

    #[test]
    fn levels_are_throttled_per_stream() {
        let mut calls = call();
        calls.stream_added("s1".into(), "xmpp:a@localhost".into());
        calls.stream_added("s2".into(), "xmpp:b@localhost".into());
        let mut seen = 0;
        // Fifty frames of 20 ms: one second.
        for i in 0..50 {
            seen += calls.level("s1", 0.5, true, t(i * 20)).len();
            seen += calls.level("s2", 0.25, false, t(i * 20)).len();
        }
        assert_eq!(seen, 8, "four a second for each stream");
        let s = calls.current.as_ref().unwrap().stream("s1").unwrap();
        assert!(s.speaking);
        assert_eq!(s.level, 0.5);
        assert!(calls.level("nope", 1.0, true, t(5000)).is_empty());
        let ev = calls.level("s2", 7.0, true, t(9000));
        assert_eq!(ev[0].to_json()["level"], 1.0, "clamped");
    }

    #[test]
    fn our_voice_is_an_event_when_it_starts_and_stops() {
        let mut calls = call();
        assert!(
            calls.own_level(0.3, None).is_empty(),
            "no suppression, no voice"
        );
        let ev = calls.own_level(0.3, Some(true));
        assert_eq!(ev[0].to_json()["event"], "voice");
        assert_eq!(ev[0].to_json()["speaking"], true);
        assert!(calls.own_level(0.4, Some(true)).is_empty(), "only changes");
        assert_eq!(
            calls.own_level(0.0, Some(false))[0].to_json()["speaking"],
            false
        );
        calls.own_level(0.5, Some(true));
        calls.set_muted(true);
        let c = calls.current.as_ref().unwrap();
        assert_eq!(c.own_speaking, Some(false), "muted: not heard");
        assert!(calls.own_level(0.5, Some(true)).is_empty());
        assert!(Calls::default().own_level(0.5, Some(true)).is_empty());
    }

    #[test]
    fn mute_and_deafen_need_a_call() {
        let mut none = Calls::default();
        assert!(!none.set_muted(true));
        assert!(!none.set_deafened(true));
        let mut calls = call();
        calls.own_level(0.7, None);
        assert!(calls.set_muted(true));
        assert_eq!(calls.current.as_ref().unwrap().own_level, 0.0);
        calls.own_level(0.7, None);
        assert_eq!(calls.current.as_ref().unwrap().own_level, 0.0, "muted");
        assert!(calls.set_deafened(true));
        assert!(calls.current.as_ref().unwrap().deafened);
        assert!(calls.current.as_ref().unwrap().owns("s0"));
    }
}

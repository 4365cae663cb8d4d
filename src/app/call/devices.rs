//! `/devices input SPEC`, `/devices output SPEC`: the media task switches
//! the capture source or the playback sink — in the running call without
//! touching its sessions (`media::engine`), and for the next calls. The
//! command ends when the media task has opened the new device; a device
//! that cannot be opened leaves the old one in place and fails the
//! command with the reason.

use crate::media::engine::MediaCmd;
use crate::media::spec::{AudioIn, AudioOut};
use crate::store::Event;

use super::super::{App, Exec, Waiting, err_event, refuse};

impl App {
    /// `/devices input|output SPEC`, with or without a call.
    pub(in crate::app) fn start_switch_device(
        &mut self,
        text: &str,
        output: bool,
        spec: &str,
    ) -> Result<Exec, Box<Event>> {
        if self.call.media.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                "audio is not available in this session",
            ));
        }
        let cmd = if output {
            spec.parse::<AudioOut>().map(MediaCmd::Output)
        } else {
            spec.parse::<AudioIn>().map(MediaCmd::Input)
        };
        let cmd = cmd.map_err(|e| refuse(text, "bad-request", e.to_string()))?;
        self.media(cmd);
        let tag = self.wait(text, Waiting::Device, true);
        self.call.device_tags.push_back(tag);
        Ok(Exec::pending(tag))
    }

    /// The media task's answer to a switch: what is used now (an
    /// `audio-device` event) and the waiting command's outcome.
    pub(super) fn device_switched(
        &mut self,
        output: bool,
        now: Option<String>,
        error: Option<String>,
    ) -> Vec<Event> {
        let side = if output { "output" } else { "input" };
        let mut events = Vec::new();
        if let Some(now) = &now {
            events.push(Event::AudioDevice {
                side,
                device: now.clone(),
                next_call: self.store.calls.current.is_none(),
            });
        }
        let pending = self
            .call
            .device_tags
            .pop_front()
            .and_then(|tag| self.pending.remove(&tag));
        let failed = |e: &str| match &now {
            // Switched, but the old output file could not be finished.
            Some(_) => format!("audio {side} switched, but {e}"),
            None => format!("audio {side} not switched (the old one stays): {e}"),
        };
        match (pending, error) {
            (Some(p), None) => events.push(Event::Ok { command: p.command }),
            (Some(p), Some(e)) => {
                let condition = if now.is_some() {
                    "internal-server-error"
                } else {
                    "item-not-found"
                };
                events.push(err_event(&p.command, condition, failed(&e)));
            }
            (None, Some(e)) => events.push(Event::error("internal-server-error", Some(failed(&e)))),
            (None, None) => {}
        }
        events
    }
}

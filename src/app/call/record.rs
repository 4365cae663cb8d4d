//! `/record [DIR|stop]`: the media task records the call as Ogg Opus
//! (`media::recording`); the command ends with its answer, the store says
//! `recording` started or stopped, the call panel shows the notice.

use chrono::Utc;

use crate::media::engine::MediaCmd;
use crate::store::Event;

use super::super::{App, Exec, Waiting, err_event, refuse};
use super::no_call;

impl App {
    /// `/record [DIR]`: the media task starts writing the call in DIR (or
    /// a new folder `CONFERENCE-DATE-TIME` under the recordings folder);
    /// the command ends with its answer.
    pub(in crate::app) fn start_record(
        &mut self,
        text: &str,
        dir: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        let Some(call) = &self.store.calls.current else {
            return Err(no_call(text));
        };
        if call.recording.is_some() || self.call.record_tag.is_some() {
            return Err(refuse(
                text,
                "conflict",
                "already recording; /record stop first",
            ));
        }
        let dir = match dir {
            Some(d) => std::path::PathBuf::from(d),
            None => {
                let name = crate::media::wav::stream_file_name(
                    call.jid.node().map_or("call", |n| n.as_str()),
                );
                let stem = name.strip_suffix(".wav").unwrap_or(&name);
                self.opts
                    .recordings_dir
                    .join(format!("{stem}-{}", Utc::now().format("%Y%m%d-%H%M%S")))
            }
        };
        self.media(MediaCmd::Record(Some(dir)));
        let tag = self.wait(text, Waiting::Record, true);
        self.call.record_tag = Some(tag);
        Ok(Exec::pending(tag))
    }

    /// `/record stop`
    pub(in crate::app) fn start_record_stop(&mut self, text: &str) -> Result<Exec, Box<Event>> {
        if !self.store.calls.is_recording() || self.call.record_tag.is_some() {
            return Err(refuse(text, "item-not-found", "not recording"));
        }
        self.media(MediaCmd::Record(None));
        let tag = self.wait(text, Waiting::Record, true);
        self.call.record_tag = Some(tag);
        Ok(Exec::pending(tag))
    }

    /// The media task's answer about the recording: the `recording` event
    /// when it started or stopped, the waiting `/record`'s outcome, an
    /// error when writing failed.
    pub(super) fn recording(
        &mut self,
        active: bool,
        dir: Option<std::path::PathBuf>,
        files: Vec<std::path::PathBuf>,
        error: Option<String>,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        if let Some(dir) = dir
            && (error.is_none() || !active)
        {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            if !active {
                events.push(Event::Info {
                    text: format!(
                        "recorded the call in {}: {}",
                        dir.display(),
                        files.join(", ")
                    ),
                });
            }
            events.extend(
                self.store
                    .calls
                    .recording(active, dir.display().to_string(), files),
            );
        }
        let pending = self
            .call
            .record_tag
            .take()
            .and_then(|tag| self.pending.remove(&tag));
        match (pending, error) {
            (Some(p), None) => events.push(Event::Ok { command: p.command }),
            (Some(p), Some(e)) => events.push(err_event(
                &p.command,
                "internal-server-error",
                format!("recording: {e}"),
            )),
            (None, Some(e)) => events.push(Event::error(
                "internal-server-error",
                Some(format!("recording: {e}")),
            )),
            (None, None) => {}
        }
        events
    }
}

//! `/denoise MODE`: noise suppression (and the transmit gate) of what we
//! send, for this call and the next (`media::denoise`); the media task's
//! voice detection becomes the own speaking marker and `voice` events.

use crate::media::Denoise;
use crate::media::engine::MediaCmd;
use crate::store::Event;

use super::super::{App, Exec, refuse};

impl App {
    /// `/denoise auto|on|gate|off`: with or without a call.
    pub(in crate::app) fn start_denoise(
        &mut self,
        text: &str,
        mode: &str,
    ) -> Result<Exec, Box<Event>> {
        let Some(d) = Denoise::parse(mode) else {
            return Err(refuse(
                text,
                "bad-request",
                "expected auto, on, gate or off",
            ));
        };
        self.media(MediaCmd::Denoise(d));
        let what = match d {
            Denoise::Auto => "noise suppression on the microphone",
            Denoise::On => "noise suppression on",
            Denoise::Gate => "noise suppression on, silence sent while you do not speak",
            Denoise::Off => "noise suppression off",
        };
        Ok(Exec::done(vec![
            Event::Info { text: what.into() },
            Event::Ok {
                command: text.to_string(),
            },
        ]))
    }
}

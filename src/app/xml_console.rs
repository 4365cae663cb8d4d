//! `/xmlconsole`: the session copies every element in and out of the
//! stream (redacted there, `session/xml.rs`) only while the console is on;
//! the app stamps them, applies the filter and hands them on as `xml`
//! events (the TUI's view, `ui/xml_console.rs`; a JSON line in `--batch`).

use chrono::{SecondsFormat, Utc};

use super::{App, Exec};
use crate::session::{SessionCmd, XmlDir};
use crate::store::Event;

/// The console's state in the app.
#[derive(Debug, Default)]
pub(super) struct XmlConsole {
    on: bool,
    /// Only elements containing this text.
    filter: Option<String>,
}

impl App {
    /// `/xmlconsole [on|off] [--filter TEXT]` (no argument toggles): at once.
    pub(super) fn start_xml_console(
        &mut self,
        text: &str,
        on: Option<bool>,
        filter: Option<String>,
    ) -> Exec {
        let events = self.set_xml_console(on.unwrap_or(!self.xml.on), filter);
        Exec::done(
            events
                .into_iter()
                .chain([App::result(text, Ok(()))])
                .collect(),
        )
    }

    /// Turns the console on or off (`--debug-xml` at start); the session
    /// copies only while it is on.
    pub fn set_xml_console(&mut self, on: bool, filter: Option<String>) -> Vec<Event> {
        self.xml = XmlConsole {
            on,
            filter: filter.filter(|f| !f.is_empty() && on),
        };
        self.session.send(SessionCmd::XmlConsole { on });
        vec![Event::XmlConsole {
            on,
            filter: self.xml.filter.clone(),
        }]
    }

    pub fn xml_console_on(&self) -> bool {
        self.xml.on
    }

    /// An element the session copied to us.
    pub(super) fn on_xml(&mut self, dir: XmlDir, xml: String) -> Vec<Event> {
        // Copies still in the channel when the console was turned off.
        if !self.xml.on {
            return Vec::new();
        }
        if let Some(f) = &self.xml.filter
            && !xml.contains(f.as_str())
        {
            return Vec::new();
        }
        vec![Event::Xml {
            dir: dir.as_str(),
            at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            xml,
        }]
    }
}

//! The XML console: `/xmlconsole` opens it and turns the session's copy
//! on, copies become lines, Esc closes it and turns the copy off.

use super::*;
use crate::session::XmlDir;

fn console_cmds(rx: &mut UnboundedReceiver<SessionCmd>) -> Vec<bool> {
    let mut out = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if let SessionCmd::XmlConsole { on } = c {
            out.push(on);
        }
    }
    out
}

#[test]
fn the_console_opens_shows_copies_and_closes_with_esc() {
    let (mut app, mut ui, mut rx) = joined_app();
    enter(&mut app, &mut ui, "/xmlconsole");
    assert_eq!(console_cmds(&mut rx), [true]);
    assert!(matches!(ui.overlay, Overlay::XmlConsole { scroll: 0 }));

    for (dir, body) in [(XmlDir::Out, "one"), (XmlDir::In, "two\u{1b}[2J")] {
        let out = app.on_session(SessionEvent::Xml {
            dir,
            xml: format!("<message><body>{body}</body></message>"),
        });
        ui.on_events(&app.store, &out);
    }
    assert_eq!(ui.xml.len(), 2);
    let lines: Vec<_> = ui.xml.lines().collect();
    assert!(lines[0].out && !lines[1].out);
    assert!(!lines[1].xml.contains('\u{1b}'), "{:?}", lines[1].xml);
    // PageUp goes back at most to the oldest element.
    handle_key(&mut app, &mut ui, key(KeyCode::PageUp));
    assert!(matches!(ui.overlay, Overlay::XmlConsole { scroll: 1 }));

    handle_key(&mut app, &mut ui, key(KeyCode::Esc));
    assert_eq!(console_cmds(&mut rx), [false]);
    assert!(matches!(ui.overlay, Overlay::None));
    // A copy still in the channel: dropped.
    let out = app.on_session(SessionEvent::Xml {
        dir: XmlDir::In,
        xml: "<presence/>".into(),
    });
    assert!(out.is_empty(), "{out:?}");
}

//! The call panel: a strip above the messages while a call is on — the
//! conference, state and duration, our microphone (level or MUTED), the
//! notice that the SFU decrypts the audio (a one-to-one call: that it is
//! DTLS-SRTP between the two), the notice that the call is
//! being recorded (`/record`), and one row per stream that
//! arrives with a level meter and a speaking marker (`xmpp:` entities shown
//! as their JID, others as they are). A one-to-one call that rings here
//! is a prompt (Enter answers, Esc declines), gone when the call is.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crossterm::event::KeyCode;

use super::sanitize_name;
use super::state::UiState;
use super::theme::Theme;
use super::views::Answer;
use super::widgets::Prompt;
use crate::protocol::jingle::coin::display_entity;
use crate::store::{Call, CallState, Event};

/// Stream rows shown at most; the rest are summed up in one line.
pub const MAX_STREAM_ROWS: usize = 6;

/// Cells of a level meter.
const METER: usize = 10;

/// A one-to-one call rings here: a prompt; the call over (answered,
/// declined, called off): its prompt goes.
pub fn on_event(ui: &mut UiState, e: &Event) {
    let Event::Call { jid, state, reason } = e else {
        return;
    };
    // A re-join after a drop, and a call that could not go on, say why.
    match (*state, reason.as_deref()) {
        ("reconnecting", Some(why)) => ui.set_status(format!("call: {why}"), false),
        ("ended", Some(why)) if why != "hung up" => {
            ui.set_status(format!("call ended: {why}"), true)
        }
        _ => {}
    }
    let is_call_from = |p: &Prompt<Answer>| {
        p.options()
            .iter()
            .any(|o| matches!(&o.choice, Answer::Call { from, .. } if from == jid))
    };
    match *state {
        "incoming" => {
            ui.prompts.retain(|p| !is_call_from(p));
            let from = jid.clone();
            ui.prompts.push(
                Prompt::new(format!("{} is calling you", sanitize_name(jid)))
                    .option(
                        KeyCode::Enter,
                        "answer",
                        Answer::Call {
                            from: from.clone(),
                            accept: true,
                        },
                    )
                    .option(
                        KeyCode::Esc,
                        "decline",
                        Answer::Call {
                            from,
                            accept: false,
                        },
                    ),
            );
            ui.bell = true;
        }
        "connecting" | "ended" => ui.prompts.retain(|p| !is_call_from(p)),
        _ => {}
    }
}

/// Rows the panel needs for `call` (border included).
pub fn height(call: &Call) -> u16 {
    let streams = call.streams.len().min(MAX_STREAM_ROWS);
    let more = usize::from(call.streams.len() > MAX_STREAM_ROWS);
    let empty = usize::from(call.streams.is_empty());
    let recording = usize::from(call.recording.is_some());
    (2 + streams + more + empty + recording + 1) as u16
}

/// `▮▮▮▯▯▯▯▯▯▯` for a level of 0.3.
pub fn meter(level: f32) -> String {
    let lit = ((level.clamp(0.0, 1.0) * METER as f32).round() as usize).min(METER);
    let mut s = "▮".repeat(lit);
    s.push_str(&"▯".repeat(METER - lit));
    s
}

fn clock(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

pub fn render(call: &Call, now: DateTime<Utc>, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::BOTTOM)
        .border_style(theme.border);
    let inner = block.inner(area);
    block.render(area, buf);
    let state = match (call.state, call.duration(now)) {
        (CallState::Connected, Some(d)) => format!("connected {}", clock(d)),
        (CallState::Reconnecting, _) => "reconnecting…".to_string(),
        (state, _) => state.as_str().to_string(),
    };
    let speaking_style = Style::default()
        .fg(Color::Green)
        .add_modifier(Modifier::BOLD);
    let mut head = vec![
        Span::styled(" Call ", theme.title),
        Span::raw(" "),
        Span::styled(sanitize_name(call.jid.as_str()).into_owned(), theme.nick),
        Span::raw(format!(" · {state} · ")),
    ];
    if call.muted {
        head.push(Span::styled("mic MUTED", theme.error));
    } else {
        // With noise suppression its voice detection says whether we
        // speak (▶, as for the others); without it, the meter alone.
        let style = match call.own_speaking {
            Some(true) => {
                head.push(Span::styled("mic ▶ ", speaking_style));
                speaking_style
            }
            Some(false) => {
                head.push(Span::raw("mic   "));
                Style::default()
            }
            None => {
                head.push(Span::raw("mic "));
                speaking_style
            }
        };
        head.push(Span::styled(meter(call.own_level), style));
    }
    if call.deafened {
        head.push(Span::raw(" · "));
        head.push(Span::styled("deafened", theme.error));
    }
    let mut lines = vec![
        Line::from(head),
        Line::styled(
            if call.direct {
                " One-to-one: DTLS-SRTP between the two of you (fingerprints relayed by your servers)."
            } else {
                " Not end-to-end encrypted: the conference service decrypts the audio."
            },
            theme.event,
        ),
    ];
    if let Some(dir) = &call.recording {
        lines.push(Line::from(vec![
            Span::styled(" ● REC ", theme.error.add_modifier(Modifier::BOLD)),
            Span::styled(
                format!(" recording the call to {}", sanitize_name(dir)),
                theme.error,
            ),
        ]));
    }
    if call.streams.is_empty() {
        lines.push(Line::styled(" (nobody else is sending audio)", theme.event));
    }
    for s in call.streams.iter().take(MAX_STREAM_ROWS) {
        let (mark, style) = if s.speaking {
            ("▶", speaking_style)
        } else {
            (" ", Style::default())
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(meter(s.level), style),
            Span::raw(" "),
            Span::styled(sanitize_name(display_entity(&s.entity)).into_owned(), style),
        ]));
    }
    if call.streams.len() > MAX_STREAM_ROWS {
        lines.push(Line::styled(
            format!(" … and {} more", call.streams.len() - MAX_STREAM_ROWS),
            theme.event,
        ));
    }
    Paragraph::new(lines).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::Calls;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn text(call: &Call, now: DateTime<Utc>, w: u16) -> String {
        let area = Rect::new(0, 0, w, height(call));
        let mut buf = Buffer::empty(area);
        render(call, now, &Theme::default(), area, &mut buf);
        (0..area.height)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn meters() {
        assert_eq!(meter(0.0), "▯▯▯▯▯▯▯▯▯▯");
        assert_eq!(meter(0.3), "▮▮▮▯▯▯▯▯▯▯");
        assert_eq!(meter(5.0), "▮▮▮▮▮▮▮▮▮▮");
        assert_eq!(clock(chrono::Duration::seconds(83)), "01:23");
        assert_eq!(clock(chrono::Duration::seconds(3725)), "1:02:05");
    }

    #[test]
    fn a_one_to_one_call_says_how_its_audio_goes() {
        let mut calls = Calls::default();
        calls.start_as(
            "bob@localhost".parse().unwrap(),
            "s0".into(),
            t(0),
            "proposed",
        );
        calls.set_direct();
        let shown = text(calls.current.as_ref().unwrap(), t(5), 100);
        assert!(shown.contains("One-to-one: DTLS-SRTP"), "{shown}");
        assert!(!shown.contains("decrypts"), "{shown}");
    }

    #[test]
    fn a_dropped_connection_shows_reconnecting_until_it_is_back() {
        let mut calls = Calls::default();
        calls.start("standup@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
        calls.connected(t(1));
        calls.reconnecting();
        let shown = text(calls.current.as_ref().unwrap(), t(10), 100);
        assert!(shown.contains("reconnecting…"), "{shown}");
        calls.connected(t(20));
        let shown = text(calls.current.as_ref().unwrap(), t(30), 100);
        assert!(shown.contains("connected 00:29"), "{shown}");
    }

    #[test]
    fn a_rejoin_and_a_call_that_could_not_go_on_say_why_on_the_status_line() {
        let mut ui = UiState::default();
        let call = |state, reason: Option<&str>| Event::Call {
            jid: "standup@sfu.localhost".into(),
            state,
            reason: reason.map(str::to_string),
        };
        on_event(&mut ui, &call("reconnecting", None));
        assert_eq!(ui.status, "", "a drop alone: the panel says it");
        on_event(
            &mut ui,
            &call("reconnecting", Some("re-joining (attempt 1 of 8): lost")),
        );
        assert_eq!(ui.status, "call: re-joining (attempt 1 of 8): lost");
        assert!(!ui.status_error);
        on_event(
            &mut ui,
            &call(
                "ended",
                Some("the call could not be re-joined (8 attempts)"),
            ),
        );
        assert_eq!(
            ui.status,
            "call ended: the call could not be re-joined (8 attempts)"
        );
        assert!(ui.status_error);
        ui.set_status("", false);
        on_event(&mut ui, &call("ended", Some("hung up")));
        assert_eq!(ui.status, "", "our own hang-up needs no word");
    }

    #[test]
    fn panel_shows_state_streams_and_the_notice() {
        let mut calls = Calls::default();
        calls.start("standup@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
        let c = calls.current.as_ref().unwrap();
        let shown = text(c, t(5), 80);
        assert!(
            shown.contains("standup@sfu.localhost · connecting"),
            "{shown}"
        );
        assert!(shown.contains("nobody else"), "{shown}");
        calls.connected(t(10));
        calls.own_level(0.5, Some(true));
        calls.stream_added("s1".into(), "xmpp:bob@localhost".into());
        calls.stream_added("s2".into(), "sip:\u{1b}[31mcarol@example.org".into());
        calls.level("s1", 0.8, true, t(20));
        let c = calls.current.as_ref().unwrap();
        insta::assert_snapshot!(text(c, t(93), 80), @r"
         Call  standup@sfu.localhost · connected 01:23 · mic ▶ ▮▮▮▮▮▯▯▯▯▯
         Not end-to-end encrypted: the conference service decrypts the audio.
         ▶ ▮▮▮▮▮▮▮▮▯▯ bob@localhost
           ▯▯▯▯▯▯▯▯▯▯ sip:\u{1b}[31mcarol@example.org
        ────────────────────────────────────────────────────────────────────────────────
        ");
        calls.set_muted(true);
        calls.set_deafened(true);
        let c = calls.current.as_ref().unwrap();
        let shown = text(c, t(93), 80);
        assert!(shown.contains("mic MUTED · deafened"), "{shown}");

        // Recording: a notice (the folder is shown safely), one row more.
        let before = height(calls.current.as_ref().unwrap());
        let ev = calls.recording(
            true,
            "/tmp/rec\u{1b}[2J".into(),
            vec!["/tmp/rec/mix.opus".into()],
        );
        assert_eq!(ev[0].name(), "recording");
        let c = calls.current.as_ref().unwrap();
        assert_eq!(height(c), before + 1);
        let shown = text(c, t(93), 80);
        assert!(
            shown.contains("● REC  recording the call to /tmp/rec") && !shown.contains('\u{1b}'),
            "{shown}"
        );
        calls.recording(false, "/tmp/rec".into(), Vec::new());
        let c = calls.current.as_ref().unwrap();
        assert_eq!(height(c), before);
        assert!(!text(c, t(93), 80).contains("REC"));
    }

    #[test]
    fn many_streams_are_summed_up() {
        let mut calls = Calls::default();
        calls.start("big@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
        for i in 0..9 {
            calls.stream_added(format!("s{}", i + 1), format!("xmpp:u{i}@localhost"));
        }
        let c = calls.current.as_ref().unwrap();
        assert_eq!(height(c), 2 + 6 + 1 + 1);
        assert!(text(c, t(1), 60).contains("… and 3 more"));
    }

    #[test]
    fn a_ringing_call_is_a_prompt_enter_answers_and_it_goes_with_the_call() {
        use crossterm::event::{KeyEvent, KeyModifiers};

        use crate::app::App;
        use crate::media::engine::MediaHandle;
        use crate::protocol::Incoming;
        use crate::protocol::jmi::{Action, CallMessage};
        use crate::session::{SessionCmd, SessionEvent};

        let (app, mut rx) = App::for_tests("alice@localhost", 0);
        let (media, _media_rx) = MediaHandle::pair();
        let mut app = app.with_media(media);
        app.on_session(SessionEvent::Online {
            jid: "alice@localhost/confab".parse().unwrap(),
            reconnect: false,
        });
        let mut ui = UiState::default();
        let propose = |sid: &str| {
            SessionEvent::Incoming(Incoming::CallMessage(CallMessage {
                from: "bob@localhost/phone".parse().unwrap(),
                sid: sid.into(),
                action: Action::Propose {
                    media: vec!["audio".into()],
                },
                reason: None,
                delayed: false,
            }))
        };
        let out = app.on_session(propose("s1"));
        ui.on_events(&app.store, &out);
        assert_eq!(ui.prompts.len(), 1);
        assert_eq!(
            ui.prompts.current().unwrap().text(),
            "bob@localhost is calling you"
        );
        while rx.try_recv().is_ok() {}
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        crate::ui::handle_key(&mut app, &mut ui, enter);
        let proceeds = std::iter::from_fn(|| rx.try_recv().ok()).any(|c| {
            matches!(c, SessionCmd::Message { message, .. }
                if message.payloads.iter().any(|p| p.name() == "proceed"))
        });
        assert!(proceeds, "Enter answers the call");
        assert!(ui.prompts.is_empty());
        // A call called off: its prompt goes.
        app.leave_call();
        let out = app.on_session(propose("s2"));
        ui.on_events(&app.store, &out);
        assert_eq!(ui.prompts.len(), 1);
        let out = app.on_session(SessionEvent::Incoming(Incoming::CallMessage(CallMessage {
            from: "bob@localhost/phone".parse().unwrap(),
            sid: "s2".into(),
            action: Action::Retract,
            reason: None,
            delayed: false,
        })));
        ui.on_events(&app.store, &out);
        assert!(ui.prompts.is_empty());
    }
}

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::super::{MessageView, render};
use crate::protocol::reply::Reply;
use crate::store::{Kind, Message, MessageLog, Reacted, Removed};
use crate::ui::theme::Theme;

fn line(min: u32, nick: &str, sid: &str, body: &str) -> Message {
    Message {
        stanza_id: Some(sid.into()),
        ..Message::new(
            Kind::Chat,
            Utc.with_ymd_and_hms(2026, 11, 21, 9, min, 0).unwrap(),
            Some(nick.into()),
            body.into(),
        )
    }
}

fn who(nick: &str, emojis: &[&str]) -> Reacted {
    Reacted {
        sender: nick.into(),
        nick: nick.into(),
        emojis: emojis.iter().map(|e| e.to_string()).collect(),
        own: nick == "alice",
    }
}

/// A room with reactions, replies (to a message held and to one never
/// seen), a retracted and a moderated message, and hostile text in each.
fn room() -> MessageLog {
    let mut log = MessageLog::with_cap(100);
    log.push(line(
        0,
        "anna",
        "s1",
        "We should bake a cake\nwith cherries",
    ));
    for r in [
        who("bob", &["👍", "🎂"]),
        who("carol", &["👍"]),
        who("alice", &["👍"]),
        who("dave", &["👍"]),
        who("m\u{202e}allory", &["\u{1b}[2J"]),
    ] {
        log.react(0, r);
    }
    let mut reply = line(1, "bob", "s2", "Great idea!");
    reply.meta.reply = Some(Box::new(Reply {
        id: "s1".into(),
        to: Some("r@c.example/anna".into()),
        quote: None,
    }));
    log.push(reply);
    let mut lost = line(2, "carol", "s3", "me too");
    lost.meta.reply = Some(Box::new(Reply {
        id: "never-seen".into(),
        to: Some("r@c.example/erin".into()),
        quote: Some("an old message that was quite long and goes on\nline two".into()),
    }));
    log.push(lost);
    log.push(line(3, "bob", "s4", "oops, wrong room"));
    log.remove(3, Removed::default());
    log.push(line(4, "spammer", "s5", "buy cheap pills"));
    log.remove(
        4,
        Removed {
            by: Some("alice".into()),
            reason: Some("spam\u{1b}[31m".into()),
        },
    );
    log
}

fn snapshot(w: u16, h: u16) -> String {
    snapshot_selected(w, h, None).0
}

fn snapshot_selected(w: u16, h: u16, selected: Option<i64>) -> (String, ratatui::buffer::Buffer) {
    let theme = Theme::default();
    let log = room();
    let v = MessageView {
        selected,
        ..MessageView::for_tests(&theme)
    };
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            let area = f.area();
            render(&log, &v, area, f.buffer_mut());
        })
        .unwrap();
    (
        terminal.backend().to_string(),
        terminal.backend().buffer().clone(),
    )
}

#[test]
fn snapshot_reactions_replies_removals_60x12() {
    let s = snapshot(60, 12);
    // Nothing raw reaches the terminal, and the removed text is gone.
    assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{s}");
    assert!(!s.contains("pills") && !s.contains("wrong room"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn snapshot_reactions_replies_removals_narrow() {
    insta::assert_snapshot!(snapshot(30, 16));
}

#[test]
fn the_selected_message_is_drawn_reversed() {
    use ratatui::style::Modifier;
    // Bob's reply (seq 1): its quote row and its line, nothing else.
    let (s, buf) = snapshot_selected(60, 12, Some(1));
    let rows: Vec<&str> = s.lines().collect();
    let reversed = |y: u16| buf[(14, y)].modifier.contains(Modifier::REVERSED);
    let quote = rows.iter().position(|r| r.contains("↪ anna")).unwrap() as u16;
    let line = rows.iter().position(|r| r.contains("Great idea")).unwrap() as u16;
    assert!(reversed(quote) && reversed(line), "{s}");
    let other = rows.iter().position(|r| r.contains("me too")).unwrap() as u16;
    assert!(!reversed(other));
    assert!(!reversed(2));
}

#[test]
fn a_click_finds_the_message_on_its_row() {
    let theme = Theme::default();
    let log = room();
    let v = MessageView::for_tests(&theme);
    let area = ratatui::layout::Rect::new(3, 2, 60, 12);
    let (s, _) = snapshot_selected(60, 12, None);
    let rows: Vec<&str> = s.lines().collect();
    let at = |needle: &str| {
        let y = rows.iter().position(|r| r.contains(needle)).unwrap() as u16;
        super::super::line_at(&log, &v, area, area.y + y)
    };
    // Anna's line, its wrapped row and its reactions row: seq 0.
    assert_eq!(at("We should bake a cake   "), Some(0));
    assert_eq!(at("with cherries"), Some(0));
    assert_eq!(at("👍 4 bob"), Some(0));
    // Bob's reply and its quote row: seq 1.
    assert_eq!(at("↪ anna"), Some(1));
    assert_eq!(at("Great idea"), Some(1));
    assert_eq!(at("removed by alice"), Some(4));
    // The day separator, and outside the pane: nothing.
    assert_eq!(at("Saturday"), None);
    assert_eq!(super::super::line_at(&log, &v, area, 0), None);
    assert_eq!(super::super::line_at(&log, &v, area, 14), None);
}

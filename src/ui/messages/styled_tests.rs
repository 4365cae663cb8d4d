//! XEP-0393 styling and highlight words in the message pane.

use chrono::{TimeZone, Utc};
use ratatui::style::{Color, Modifier};

use super::*;

fn view<'a>(theme: &'a Theme, words: &'a [String]) -> MessageView<'a> {
    MessageView {
        highlight_words: words,
        ..MessageView::for_tests(theme)
    }
}

fn log_of(lines: &[(&str, &str)]) -> MessageLog {
    let mut log = MessageLog::with_cap(100);
    for (i, (nick, body)) in lines.iter().enumerate() {
        let mut m = Message::new(
            Kind::Chat,
            Utc.with_ymd_and_hms(2026, 12, 6, 9, i as u32, 0).unwrap(),
            Some(nick.to_string()),
            body.to_string(),
        );
        m.stanza_id = Some(format!("s{i}"));
        assert!(log.push(m));
    }
    log
}

/// Each row as its text, then as one code per cell: `b` bold, `i`
/// italic, `x` struck, `c` code colour, `q` quote colour, `d` dim
/// (directive), `h` highlight colour, `.` plain (several: the first).
fn styled_rows(buf: &Buffer, theme: &Theme) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in a.top()..a.bottom() {
        let mut text = String::new();
        let mut codes = String::new();
        for x in a.left()..a.right() {
            let c = &buf[(x, y)];
            text.push_str(c.symbol());
            let m = c.modifier;
            let code = if m.contains(Modifier::DIM) {
                'd'
            } else if Some(c.fg) == theme.code.fg {
                'c'
            } else if Some(c.fg) == theme.quote.fg {
                'q'
            } else if Some(c.fg) == theme.highlight.fg && x > 5 {
                'h'
            } else if m.contains(Modifier::CROSSED_OUT) {
                'x'
            } else if m.contains(Modifier::BOLD) && x > 6 && c.symbol() != " " {
                'b'
            } else if m.contains(Modifier::ITALIC) {
                'i'
            } else {
                '.'
            };
            codes.push(code);
        }
        out.push_str(text.trim_end());
        out.push('\n');
        out.push_str(codes.trim_end_matches('.'));
        out.push('\n');
    }
    out
}

fn draw(log: &MessageLog, v: &MessageView, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    render(log, v, area, &mut buf);
    buf
}

#[test]
fn snapshot_styled_text() {
    let theme = Theme {
        nick_colors: false,
        ..Theme::default()
    };
    let log = log_of(&[
        ("bob", "this is *strong*, _emphasis_ and ~struck~"),
        ("bob", "run `cargo test` now"),
        ("carol", "> bob wrote\n> quoted *line*\nmy answer"),
        ("carol", "```\nlet *x* = 1;\n```"),
        ("bob", "not* styled * here, snake_case too"),
    ]);
    let buf = draw(&log, &view(&theme, &[]), 50, 11);
    insta::assert_snapshot!(styled_rows(&buf, &theme));
}

#[test]
fn styling_never_changes_the_text_or_its_wrapping() {
    let theme = Theme::default();
    let log = log_of(&[(
        "bob",
        "*a long strong sentence* that wraps _somewhere_ here",
    )]);
    let on = draw(&log, &view(&theme, &[]), 24, 4);
    let mut v = view(&theme, &[]);
    v.styling = false;
    let off = draw(&log, &v, 24, 4);
    let symbols = |b: &Buffer| {
        b.content()
            .iter()
            .map(|c| c.symbol().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(symbols(&on), symbols(&off));
    // Off: nothing bold in the body ("l" is only there); on: bold.
    let l_bold = |b: &Buffer| {
        b.content()
            .iter()
            .any(|c| c.symbol() == "l" && c.modifier.contains(Modifier::BOLD))
    };
    assert!(!l_bold(&off) && l_bold(&on));
}

#[test]
fn the_edited_mark_is_never_styled() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(10);
    let mut m = Message::new(
        Kind::Chat,
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap(),
        Some("bob".into()),
        "```".into(),
    );
    m.id = Some("m1".into());
    log.push(m);
    log.correct("m1", Some("bob"), "`x");
    let buf = draw(&log, &view(&theme, &[]), 40, 2);
    let row: String = (0..40).map(|x| buf[(x, 1)].symbol()).collect();
    assert!(row.trim_end().ends_with("`x (edited)"), "{row}");
    // " (edited)" is in the event style, not code.
    assert_eq!(buf[(16, 1)].fg, Color::DarkGray);
}

#[test]
fn highlight_words_highlight_like_the_nick() {
    let theme = Theme::default();
    let words = vec!["release".to_string(), "C++".to_string()];
    let log = log_of(&[
        ("bob", "the Release is out"),
        ("bob", "releases are not a word match"),
        ("bob", "I like C++ a lot"),
        ("alice", "my own release"),
    ]);
    let buf = draw(&log, &view(&theme, &words), 50, 5);
    // The colour at column 16 of the row of the message at 09:0k.
    let fg = |k: u16| {
        let y = (0..5)
            .find(|&y| buf[(4, y)].symbol() == k.to_string() && buf[(0, y)].symbol() == "0")
            .expect("the row");
        buf[(16, y)].fg
    };
    assert_eq!(fg(0), Color::Yellow);
    assert_eq!(fg(1), Color::Reset);
    assert_eq!(fg(2), Color::Yellow);
    // Our own messages are never highlighted.
    assert_eq!(fg(3), Color::Reset);
    assert!(highlights("ping RELEASE!", None, &words));
    assert!(!highlights("nothing", Some("alice"), &words));
}

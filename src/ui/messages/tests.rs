use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use super::*;

fn message(kind: Kind, (d, h, min): (u32, u32, u32), nick: &str, body: &str) -> Message {
    Message {
        kind,
        seq: 0,
        id: None,
        stanza_id: None,
        time: Utc.with_ymd_and_hms(2026, 11, d, h, min, 0).unwrap(),
        nick: Some(nick.to_string()),
        body: body.to_string(),
        own: false,
        private: false,
        delayed: false,
        archived: false,
        edited: false,
        meta: Default::default(),
    }
}

fn chat(log: &mut MessageLog, t: (u32, u32, u32), nick: &str, body: &str) {
    let mut m = message(Kind::Chat, t, nick, body);
    m.stanza_id = Some(format!("s{}", log.next_seq()));
    assert!(log.push(m));
}

#[test]
fn a_corrected_message_is_marked_edited() {
    let theme = Theme::default();
    let mut log = MessageLog::default();
    let mut m = message(Kind::Chat, (21, 10, 2), "bob", "the cat sat");
    m.id = Some("m1".into());
    assert!(log.push(m));
    let (rows, ..) = draw(&log, &view(&theme), 40, 2);
    assert!(
        rows.iter().any(|r| r.ends_with("<bob> the cat sat")),
        "{rows:?}"
    );
    log.correct("m1", Some("bob"), "the cat sat down");
    let (rows, ..) = draw(&log, &view(&theme), 40, 2);
    assert!(
        rows.iter()
            .any(|r| r.ends_with("<bob> the cat sat down (edited)")),
        "{rows:?}"
    );
}

#[test]
fn encrypted_lines_carry_a_lock_and_untrusted_ones_say_so() {
    use crate::store::Lock;
    let theme = Theme::default();
    let mut log = MessageLog::default();
    let lines = [
        ("plain", None),
        (
            "sealed",
            Some(Lock {
                trusted: true,
                decrypted: true,
            }),
        ),
        (
            "stranger",
            Some(Lock {
                trusted: false,
                decrypted: true,
            }),
        ),
        (
            "garbled",
            Some(Lock {
                trusted: true,
                decrypted: false,
            }),
        ),
    ];
    for (i, (body, lock)) in lines.iter().enumerate() {
        let mut m = message(Kind::Chat, (21, 10, i as u32), "bob", body);
        m.meta.lock = *lock;
        assert!(log.push(m));
    }
    let (rows, ..) = draw(&log, &view(&theme), 60, 6);
    let row = |body: &str| rows.iter().find(|r| r.contains(body)).unwrap().clone();
    assert!(!row("plain").contains('🔒'), "{rows:?}");
    assert!(row("sealed").contains("🔒 <bob> sealed"), "{rows:?}");
    assert!(row("stranger").contains("🔒[untrusted] <bob>"), "{rows:?}");
    assert!(
        row("garbled").contains("🔒[not decrypted] <bob>"),
        "{rows:?}"
    );
    // Kept by the archive as one number, read back the same.
    for (_, lock) in lines {
        assert_eq!(Lock::from_code(lock.map(Lock::code)), lock);
    }
}

#[test]
fn a_notice_is_an_event_line_without_a_nick() {
    let theme = Theme::default();
    let mut log = MessageLog::default();
    let mut m = message(
        Kind::Notice,
        (21, 10, 0),
        "",
        "OMEMO: bob has a new device 7\u{1b}[2J",
    );
    m.nick = None;
    log.push_event(m);
    let (rows, ..) = draw(&log, &view(&theme), 60, 3);
    let row = rows.iter().find(|r| r.contains("new device")).unwrap();
    assert!(row.contains("! OMEMO: bob has a new device 7"), "{rows:?}");
    assert!(
        !row.contains('\u{1b}') && !row.contains("the room"),
        "{rows:?}"
    );
}

fn event(log: &mut MessageLog, kind: Kind, t: (u32, u32, u32), nick: &str, body: &str) {
    log.push_event(message(kind, t, nick, body));
}

fn view(theme: &Theme) -> MessageView<'_> {
    MessageView::for_tests(theme)
}

/// Renders into a fresh buffer; returns the rows (right-trimmed) and
/// the buffer.
fn draw(log: &MessageLog, v: &MessageView, w: u16, h: u16) -> (Vec<String>, Rendered, Buffer) {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    let r = render(log, v, area, &mut buf);
    (rows_of(&buf), r, buf)
}

fn rows_of(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            let mut s = String::new();
            let mut x = a.left();
            while x < a.right() {
                let c = &buf[(x, y)];
                s.push_str(c.symbol());
                x += c.cell_width().max(1);
            }
            s.trim_end().to_string()
        })
        .collect()
}

/// Only the wrapping: rows of `text` (one line) at `width`.
fn wrapped(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut rows = Vec::new();
    Wrapper {
        width,
        indent,
        rows: &mut rows,
        col: 0,
        gs: &mut Vec::new(),
    }
    .line(&[(text, Style::default())], 0);
    rows.iter()
        .map(|r| {
            let body: String = r.pieces.iter().map(|(t, _)| t.as_str()).collect();
            format!("{}{body}", " ".repeat(r.col))
        })
        .collect()
}

#[test]
fn wrap_ascii_at_spaces() {
    assert_eq!(
        wrapped("the quick brown fox jumps", 10, 0),
        ["the quick", "brown fox", "jumps"]
    );
    // Several spaces at a break are all dropped; inner ones are kept.
    assert_eq!(wrapped("aaaa  bbbbbb   cc", 6, 0), ["aaaa", "bbbbbb", "cc"]);
    assert_eq!(wrapped("a  b", 10, 0), ["a  b"]);
}

#[test]
fn wrap_exact_fit() {
    assert_eq!(wrapped("0123456789", 10, 0), ["0123456789"]);
    assert_eq!(wrapped("01234 6789", 10, 0), ["01234 6789"]);
    // A trailing space at the edge makes no empty row.
    assert_eq!(wrapped("0123456789 ", 10, 0), ["0123456789"]);
    assert_eq!(wrapped("0123456789 abc", 10, 0), ["0123456789", "abc"]);
    assert_eq!(wrapped("日本語日本", 10, 0), ["日本語日本"]);
}

#[test]
fn wrap_long_words_hard_break() {
    assert_eq!(
        wrapped("see https://example.org/a/long/path", 10, 0),
        ["see https:", "//example.", "org/a/long", "/path"]
    );
    assert_eq!(
        wrapped("abcdefghijkl", 5, 2),
        ["abcde", "  fgh", "  ijk", "  l"]
    );
    // Combining marks stay with their letter (grapheme boundaries).
    assert_eq!(
        wrapped("e\u{301}e\u{301}e\u{301}", 2, 0),
        ["e\u{301}e\u{301}", "e\u{301}"]
    );
}

#[test]
fn wrap_cjk_and_emoji_by_width() {
    // Two columns each, never split: 5 fit in 10, 4 in 9.
    assert_eq!(
        wrapped("日本語のテキストです", 10, 0),
        ["日本語のテ", "キストです"]
    );
    assert_eq!(
        wrapped("日本語のテキストです", 9, 0),
        ["日本語の", "テキスト", "です"]
    );
    assert_eq!(wrapped("ok 🎉🎉🎉 yes", 7, 0), ["ok 🎉🎉", "🎉 yes"]);
    // Mixed: ASCII words still break at spaces.
    assert_eq!(wrapped("abc 日本 defgh", 8, 0), ["abc 日本", "defgh"]);
    // A row of width 1 still shows something for each wide grapheme.
    assert_eq!(wrapped("日本", 1, 0), ["日", "本"]);
}

#[test]
fn hanging_indent_and_narrow() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(
        &mut log,
        (21, 10, 0),
        "bob",
        "one two three four five six seven eight nine ten eleven twelve",
    );
    let (rows, _, _) = draw(&log, &view(&theme), 40, 4);
    assert_eq!(
        rows[1..],
        [
            "10:00 <bob> one two three four five six",
            "            seven eight nine ten eleven",
            "            twelve",
        ]
    );
    // Narrow: wrapped rows start at column 0.
    let (rows, _, _) = draw(&log, &view(&theme), 30, 4);
    assert_eq!(
        rows[1..],
        [
            "10:00 <bob> one two three four",
            "five six seven eight nine ten",
            "eleven twelve",
        ]
    );
}

#[test]
fn multiline_bodies_hang() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(&mut log, (21, 9, 5), "bob", "first\n  second\nthird");
    let (rows, _, _) = draw(&log, &view(&theme), 40, 4);
    assert_eq!(
        rows[1..],
        [
            "09:05 <bob> first",
            "              second",
            "            third"
        ]
    );
}

#[test]
fn actions_and_highlights() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(&mut log, (21, 9, 0), "bob", "/me waves at Alice");
    chat(&mut log, (21, 9, 1), "carol", "ALICE: look");
    chat(&mut log, (21, 9, 2), "dave", "malice is not a mention");
    chat(&mut log, (21, 9, 3), "alice", "I am alice");
    let (rows, _, buf) = draw(&log, &view(&theme), 40, 5);
    assert_eq!(
        rows[1..],
        [
            "09:00 * bob waves at Alice",
            "09:01 <carol> ALICE: look",
            "09:02 <dave> malice is not a mention",
            "09:03 <alice> I am alice",
        ]
    );
    let italic = |x, y| buf[(x, y)].modifier.contains(Modifier::ITALIC);
    assert!(italic(6, 1) && italic(8, 1) && italic(20, 1));
    // The action mentions us: highlighted on top of the action style.
    assert_eq!(buf[(20, 1)].fg, Color::Yellow);
    // Whole body highlighted, nick in its XEP-0392 colour.
    assert_eq!(buf[(14, 2)].fg, Color::Yellow);
    assert_eq!(buf[(24, 2)].fg, Color::Yellow);
    assert_eq!(buf[(7, 2)].fg, nick_color("carol"));
    assert_eq!(buf[(18, 3)].fg, Color::Reset);
    // Our own message: own-nick style, never highlighted.
    assert_eq!(buf[(7, 4)].fg, Color::White);
    assert_eq!(buf[(20, 4)].fg, Color::Reset);
    // Timestamps.
    assert_eq!(buf[(0, 4)].fg, Color::DarkGray);

    let mut plain = theme.clone();
    plain.nick_colors = false;
    let (_, _, buf) = draw(&log, &view(&plain), 40, 5);
    assert_eq!(buf[(7, 2)].fg, Color::Reset);
    assert!(buf[(7, 2)].modifier.contains(Modifier::BOLD));
}

#[test]
fn mention_rules() {
    assert!(mentions("hi alice!", "alice"));
    assert!(mentions("Alice", "alice"));
    assert!(mentions("@ALICE, hi", "Alice"));
    assert!(!mentions("malice", "alice"));
    assert!(!mentions("alice_2", "alice"));
    assert!(mentions("ping [bot]!", "[bot]"));
    assert!(mentions("x[bot]", "[bot]"));
    assert!(!mentions("anything", ""));
}

#[test]
fn private_and_room_messages() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    let mut m = message(Kind::Chat, (21, 9, 0), "bob", "psst");
    m.private = true;
    log.push(m);
    let mut m = message(Kind::Chat, (21, 9, 1), "", "This room is logged");
    m.nick = None;
    log.push(m);
    let (rows, _, _) = draw(&log, &view(&theme), 40, 3);
    assert_eq!(
        rows[1..],
        ["09:00 [private] <bob> psst", "09:01 This room is logged"]
    );
}

fn events_log() -> MessageLog {
    let mut log = MessageLog::with_cap(100);
    chat(&mut log, (21, 9, 0), "bob", "hi");
    event(&mut log, Kind::Join, (21, 9, 1), "carol", "");
    event(&mut log, Kind::Join, (21, 9, 1), "erin", "busy");
    event(
        &mut log,
        Kind::Leave,
        (21, 9, 2),
        "dave",
        "Connection reset",
    );
    event(&mut log, Kind::Leave, (21, 9, 2), "frank", "");
    event(&mut log, Kind::NickChange, (21, 9, 3), "carole", "carol");
    event(&mut log, Kind::Subject, (21, 9, 4), "bob", "Release day");
    chat(&mut log, (21, 9, 5), "carole", "hello");
    log
}

#[test]
fn event_lines_shown() {
    let theme = Theme::default();
    let log = events_log();
    let (rows, _, buf) = draw(&log, &view(&theme), 50, 9);
    assert_eq!(
        rows[1..],
        [
            "09:00 <bob> hi",
            "09:01 → carol joined",
            "09:01 → erin joined (busy)",
            "09:02 ← dave left (Connection reset)",
            "09:02 ← frank left",
            "09:03 carol is now carole",
            "09:04 bob set the subject: Release day",
            "09:05 <carole> hello",
        ]
    );
    assert_eq!(buf[(8, 2)].fg, Color::DarkGray);
    assert_eq!(buf[(30, 7)].fg, Color::DarkGray);
}

#[test]
fn event_lines_hidden() {
    let theme = Theme::default();
    let log = events_log();
    let mut v = view(&theme);
    v.show_events = false;
    let (rows, r, _) = draw(&log, &v, 50, 4);
    assert_eq!(
        rows,
        [
            "",
            "─────────── Saturday 21 November 2026 ────────────",
            "09:00 <bob> hi",
            "09:05 <carole> hello",
        ]
    );
    assert!(r.reached_top);
    // Unread from a hidden line: the marker goes above the next shown.
    v.unread_from = Some(2);
    let (rows, _, _) = draw(&log, &v, 50, 5);
    assert_eq!(
        rows[3],
        "────────────────── new messages ──────────────────"
    );
    assert_eq!(rows[4], "09:05 <carole> hello");
}

#[test]
fn day_separators() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(&mut log, (20, 23, 58), "bob", "late");
    chat(&mut log, (20, 23, 59), "bob", "later");
    chat(&mut log, (21, 0, 1), "bob", "next day");
    let (rows, _, buf) = draw(&log, &view(&theme), 40, 5);
    assert_eq!(
        rows,
        [
            "─────── Friday 20 November 2026 ────────",
            "23:58 <bob> late",
            "23:59 <bob> later",
            "────── Saturday 21 November 2026 ───────",
            "00:01 <bob> next day",
        ]
    );
    assert_eq!(buf[(0, 3)].fg, Color::Cyan);
    // In the local timezone (UTC+2) all three are on Saturday.
    let mut v = view(&theme);
    v.local_offset = FixedOffset::east_opt(2 * 3600).unwrap();
    let (rows, _, _) = draw(&log, &v, 40, 5);
    assert_eq!(
        rows,
        [
            "",
            "────── Saturday 21 November 2026 ───────",
            "01:58 <bob> late",
            "01:59 <bob> later",
            "02:01 <bob> next day",
        ]
    );
    // Narrow panes get a shorter date.
    let (rows, _, _) = draw(&log, &view(&theme), 24, 5);
    assert_eq!(rows[3], "─── Sat 21 Nov 2026 ────");
}

#[test]
fn unread_marker() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(&mut log, (21, 9, 0), "bob", "read");
    chat(&mut log, (21, 9, 1), "bob", "unread one");
    chat(&mut log, (21, 9, 2), "bob", "unread two");
    let mut v = view(&theme);
    v.unread_from = Some(1);
    let (rows, _, buf) = draw(&log, &v, 40, 5);
    assert_eq!(
        rows,
        [
            "────── Saturday 21 November 2026 ───────",
            "09:00 <bob> read",
            "───────────── new messages ─────────────",
            "09:01 <bob> unread one",
            "09:02 <bob> unread two",
        ]
    );
    assert_eq!(buf[(20, 2)].fg, Color::Red);
    assert_eq!(buf[(3, 0)].fg, Color::Cyan);
    // Nothing unread: no marker.
    v.unread_from = Some(log.next_seq());
    let (rows, _, _) = draw(&log, &v, 40, 5);
    assert!(!rows.iter().any(|r| r.contains("new messages")));
    // Everything unread: the marker is the top row.
    v.unread_from = Some(0);
    let (rows, _, _) = draw(&log, &v, 40, 5);
    assert!(rows[0].contains("new messages"), "{rows:?}");
}

#[test]
fn scrolling() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    for i in 0..20 {
        chat(&mut log, (21, 10, i), "bob", &format!("line {i}"));
    }
    let mut v = view(&theme);
    let (rows, r, _) = draw(&log, &v, 40, 5);
    assert_eq!(rows[4], "10:19 <bob> line 19");
    assert_eq!(rows[0], "10:15 <bob> line 15");
    assert!(!r.reached_top);
    assert!(r.max_scroll >= 1);
    // 3 rows back: the 3 rows above come into view.
    v.scroll = 3;
    let (rows, r, _) = draw(&log, &v, 40, 5);
    assert_eq!(rows[0], "10:12 <bob> line 12");
    assert_eq!(rows[4], "10:16 <bob> line 16");
    assert!(!r.reached_top && r.max_scroll >= 3);
    // 20 lines + the day separator = 21 rows; 16 above a 5-row pane.
    v.scroll = 16;
    let (rows, r, _) = draw(&log, &v, 40, 5);
    assert!(rows[0].contains("Saturday"));
    assert_eq!(rows[1], "10:00 <bob> line 0");
    assert_eq!(
        r,
        Rendered {
            reached_top: true,
            max_scroll: 16
        }
    );
    // Scrolled too far: clamped to the top.
    v.scroll = 1000;
    let (rows2, r2, _) = draw(&log, &v, 40, 5);
    assert_eq!(rows2, rows);
    assert_eq!(r2, r);
    // The oldest line showing, its separator scrolled off: still the top.
    v.scroll = 15;
    let (rows, r, _) = draw(&log, &v, 40, 5);
    assert_eq!(rows[0], "10:00 <bob> line 0");
    assert!(r.reached_top);
    v.scroll = 14;
    assert!(!draw(&log, &v, 40, 5).1.reached_top);
}

#[test]
fn short_logs_sit_at_the_bottom() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    let (rows, r, _) = draw(&log, &view(&theme), 40, 3);
    assert_eq!(rows, ["", "", ""]);
    assert_eq!(
        r,
        Rendered {
            reached_top: true,
            max_scroll: 0
        }
    );
    chat(&mut log, (21, 8, 0), "bob", "only");
    let (rows, r, _) = draw(&log, &view(&theme), 40, 4);
    assert_eq!(rows[..2], ["", ""]);
    assert_eq!(rows[3], "08:00 <bob> only");
    assert_eq!(
        r,
        Rendered {
            reached_top: true,
            max_scroll: 0
        }
    );
}

#[test]
fn draws_only_inside_its_area() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(
        &mut log,
        (21, 8, 0),
        "bob",
        "日本語のテキストです、とても長い行",
    );
    let mut buf = Buffer::empty(Rect::new(0, 0, 30, 6));
    for y in 0..6 {
        buf.set_string(0, y, "#".repeat(30), Style::default());
    }
    render(&log, &view(&theme), Rect::new(5, 1, 20, 4), &mut buf);
    let rows = rows_of(&buf);
    assert_eq!(rows[0], "#".repeat(30));
    assert_eq!(rows[5], "#".repeat(30));
    for r in &rows[1..5] {
        assert!(r.starts_with("#####") && r.ends_with("#####"), "{r:?}");
    }
    assert_eq!(rows[1], "#####──── 2026-11-21 ────#####");
    assert_eq!(rows[2], "#####08:00 <bob> 日本語の#####");
    assert_eq!(rows[3], "#####テキストです、とても#####");
    assert_eq!(rows[4], format!("#####長い行{}#####", " ".repeat(14)));
}

#[test]
fn hostile_text_is_escaped() {
    let theme = Theme::default();
    let mut log = MessageLog::with_cap(100);
    chat(
        &mut log,
        (21, 8, 0),
        "m\u{9b}llory\u{202e}",
        "a\u{9b}31mb\u{202e}c\td",
    );
    let (rows, _, buf) = draw(&log, &view(&theme), 60, 2);
    assert_eq!(
        rows[1],
        "08:00 <m\\u{9b}llory\\u{202e}> a\\u{9b}31mb\\u{202e}c d"
    );
    for x in 0..60 {
        assert!(!buf[(x, 1)].symbol().chars().any(char::is_control));
    }
}

fn room() -> MessageLog {
    let mut log = MessageLog::with_cap(1000);
    chat(&mut log, (20, 22, 40), "bob", "good evening everyone");
    event(&mut log, Kind::Join, (20, 22, 41), "carol", "around");
    chat(&mut log, (20, 22, 45), "carol", "/me waves");
    event(&mut log, Kind::Leave, (20, 23, 30), "dave", "Quit: bye");
    chat(
        &mut log,
        (21, 8, 2),
        "bob",
        "morning! alice, did you see the release notes?",
    );
    event(&mut log, Kind::NickChange, (21, 8, 3), "carole", "carol");
    let mut m = message(Kind::Chat, (21, 8, 4), "alice", "yes, reading them now");
    m.own = true;
    m.stanza_id = Some("own".into());
    log.push(m);
    chat(
        &mut log,
        (21, 8, 5),
        "小明",
        "我们明天在会议室讨论新版本的发布计划和测试结果，请大家准时参加。",
    );
    chat(
        &mut log,
        (21, 8, 6),
        "m\u{9b}llory",
        "\u{202e}gnp.exe\u{9b}2J\tdone",
    );
    log
}

fn snapshot(w: u16, h: u16, scroll: usize) -> String {
    let theme = Theme::default();
    let log = room();
    let mut v = view(&theme);
    v.unread_from = Some(4);
    v.scroll = scroll;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            let area = f.area();
            render(&log, &v, area, f.buffer_mut());
        })
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn snapshot_room_60x12() {
    insta::assert_snapshot!(snapshot(60, 12, 0));
}

#[test]
fn snapshot_room_30x10() {
    insta::assert_snapshot!(snapshot(30, 10, 0));
}

#[test]
fn snapshot_room_30x10_top() {
    insta::assert_snapshot!(snapshot(30, 10, usize::MAX));
}

//! The cached layout draws exactly what a fresh one draws, whatever
//! happened to the log or the pane in between.

use chrono::{TimeZone, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::super::{MessageView, Rendered, render};
use super::RowCache;
use crate::store::{Kind, Message, MessageLog};
use crate::ui::theme::Theme;

fn line(i: i64, body: &str) -> Message {
    // Three lines an hour: a day separator every eight hours' worth.
    let time =
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(i * 20);
    Message {
        id: Some(format!("m{i}")),
        stanza_id: Some(format!("s{i}")),
        ..Message::new(
            Kind::Chat,
            time,
            Some(format!("nick{}", i % 7)),
            body.to_string(),
        )
    }
}

fn body(i: i64) -> String {
    // Lengths that wrap to one, two or three rows at width 40.
    "word ".repeat((i % 13) as usize * 3 + 1)
}

fn log_of(n: i64) -> MessageLog {
    let mut log = MessageLog::with_cap(100_000);
    for i in 0..n {
        assert!(log.push(line(i, &body(i))));
    }
    log
}

fn view<'a>(theme: &'a Theme, scroll: usize, rows: Option<&'a RowCache>) -> MessageView<'a> {
    MessageView {
        scroll,
        rows,
        ..MessageView::for_tests(theme)
    }
}

fn draw(log: &MessageLog, v: &MessageView, w: u16, h: u16) -> (Buffer, Rendered) {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    let r = render(log, v, area, &mut buf);
    (buf, r)
}

/// The cached frame equals a fresh one at each of these scroll positions.
#[track_caller]
fn same_as_fresh(log: &MessageLog, cache: &RowCache, w: u16, h: u16, scrolls: &[usize]) {
    let theme = Theme::default();
    for &s in scrolls {
        let cached = draw(log, &view(&theme, s, Some(cache)), w, h);
        let fresh = draw(log, &view(&theme, s, None), w, h);
        assert_eq!(cached.0, fresh.0, "scroll {s}, width {w}");
        assert_eq!(
            cached.1.reached_top, fresh.1.reached_top,
            "scroll {s}, width {w}"
        );
        // Short of the top, max_scroll is a lower bound: the cache knows
        // at least as many rows as a fresh layout; at the top, all.
        assert!(
            cached.1.max_scroll >= fresh.1.max_scroll,
            "scroll {s}, width {w}"
        );
        if fresh.1.reached_top {
            assert_eq!(
                cached.1.max_scroll, fresh.1.max_scroll,
                "scroll {s}, width {w}"
            );
        }
    }
}

const SCROLLS: &[usize] = &[0, 1, 7, 30, 95, 200, 10_000];

#[test]
fn matches_a_fresh_layout_anywhere() {
    let log = log_of(120);
    let cache = RowCache::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    // Again, now from the cache only.
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
}

#[test]
fn lays_out_only_what_a_frame_needs() {
    let log = log_of(1000);
    let theme = Theme::default();
    let cache = RowCache::default();
    draw(&log, &view(&theme, 0, Some(&cache)), 40, 10);
    assert!(cache.laid_out() <= 12, "{} lines", cache.laid_out());
    draw(&log, &view(&theme, 50, Some(&cache)), 40, 10);
    let some = cache.laid_out();
    assert!((12..61).contains(&some), "{some} lines");
    // Scrolled to the top: everything, once; later frames reuse it.
    let (_, r) = draw(&log, &view(&theme, usize::MAX / 2, Some(&cache)), 40, 10);
    assert!(r.reached_top);
    assert_eq!(cache.laid_out(), 1000);
    draw(&log, &view(&theme, 0, Some(&cache)), 40, 10);
    assert_eq!(cache.laid_out(), 1000);
}

#[test]
fn a_width_change_lays_out_again() {
    let log = log_of(120);
    let cache = RowCache::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    same_as_fresh(&log, &cache, 23, 10, SCROLLS);
    same_as_fresh(&log, &cache, 90, 6, SCROLLS);
}

#[test]
fn new_lines_at_the_bottom_and_an_edit() {
    let mut log = log_of(60);
    let cache = RowCache::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    for i in 60..75 {
        assert!(log.push(line(i, &body(i))));
    }
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    // Same number of rows, other words.
    log.correct("m70", Some(&format!("nick{}", 70 % 7)), &"draw ".repeat(4));
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
}

#[test]
fn a_correction_that_changes_the_line_count() {
    let mut log = log_of(60);
    let cache = RowCache::default();
    let theme = Theme::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    let (_, before) = draw(&log, &view(&theme, 10_000, Some(&cache)), 40, 10);
    // Line 13 (one word) becomes six rows long, far above the bottom.
    log.correct(
        "m13",
        Some(&format!("nick{}", 13 % 7)),
        &"longer ".repeat(30),
    );
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    let (_, after) = draw(&log, &view(&theme, 10_000, Some(&cache)), 40, 10);
    assert!(
        after.max_scroll >= before.max_scroll + 5,
        "{before:?} {after:?}"
    );
}

#[test]
fn removed_and_prepended_lines() {
    // A window of 50: older lines drop as new ones come.
    let mut log = MessageLog::with_cap(50);
    for i in 100..150 {
        assert!(log.push(line(i, &body(i))));
    }
    let cache = RowCache::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    for i in 150..170 {
        assert!(log.push(line(i, &body(i))));
    }
    assert_eq!(log.get(0).unwrap().stanza_id.as_deref(), Some("s120"));
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    // Scrolling back loads older lines in front (the same day as the
    // oldest held: its day separator goes).
    let older: Vec<Message> = (110..120).map(|i| line(i, &body(i))).collect();
    assert_eq!(log.prepend(older), 10);
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
}

#[test]
fn hidden_events_and_view_settings() {
    let mut log = log_of(40);
    let t = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    for i in 0..10 {
        log.push_event(Message::new(
            Kind::Join,
            t,
            Some(format!("j{i}")),
            String::new(),
        ));
        assert!(log.push(line(40 + i, &body(i))));
    }
    let theme = Theme::default();
    let cache = RowCache::default();
    for show_events in [true, false, true] {
        for unread_from in [None, Some(45), Some(10)] {
            for s in SCROLLS {
                let mut v = view(&theme, *s, Some(&cache));
                v.show_events = show_events;
                v.unread_from = unread_from;
                let cached = draw(&log, &v, 40, 10);
                v.rows = None;
                let fresh = draw(&log, &v, 40, 10);
                assert_eq!(cached.0, fresh.0, "{show_events} {unread_from:?} {s}");
                assert_eq!(cached.1.reached_top, fresh.1.reached_top);
                assert!(cached.1.max_scroll >= fresh.1.max_scroll);
            }
        }
    }
}

#[test]
fn reactions_a_removal_and_clear_lay_out_again() {
    let mut log = log_of(60);
    let cache = RowCache::default();
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    // A row of reactions under a line, then a line's text removed.
    log.react(
        55,
        crate::store::Reacted {
            sender: "bob".into(),
            nick: "bob".into(),
            emojis: vec!["👍".into()],
            own: false,
        },
    );
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    log.remove(50, crate::store::Removed::default());
    same_as_fresh(&log, &cache, 40, 10, SCROLLS);
    // /clear: what it took away is not laid out, for cache and fresh alike.
    let theme = Theme::default();
    let cleared = |rows| MessageView {
        cleared: Some(40),
        ..view(&theme, 0, rows)
    };
    let (c, _) = draw(&log, &cleared(Some(&cache)), 40, 200);
    let (f, _) = draw(&log, &cleared(None), 40, 200);
    assert_eq!(c, f);
    let text: String = c.content().iter().map(|x| x.symbol()).collect();
    // Line 40 is at 13:20, line 41 at 13:40: the first one shown.
    assert!(!text.contains("13:20") && text.contains("13:40"), "{text}");
}

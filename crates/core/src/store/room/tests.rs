//! The window of a `MessageLog`: bounds, indexes at the edge, scrollback.

use chrono::{DateTime, Utc};

use super::*;

fn t(i: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap()
}

fn line(i: i64) -> Message {
    Message {
        kind: Kind::Chat,
        seq: 0,
        id: None,
        stanza_id: Some(format!("s{i}")),
        time: t(i),
        nick: Some("bob".into()),
        body: format!("line {i}"),
        own: false,
        private: false,
        delayed: false,
        archived: false,
        edited: false,
        meta: Default::default(),
    }
}

fn archived(i: i64) -> Message {
    Message {
        delayed: true,
        archived: true,
        ..line(i)
    }
}

#[test]
fn the_window_holds_the_newest_lines_and_indexes_only_those() {
    let mut log = MessageLog::with_cap(100);
    for i in 0..250 {
        assert!(log.push(line(i)));
    }
    assert_eq!(log.len(), 100);
    assert_eq!(log.dropped(), 150);
    assert!(log.more_in_archive, "what left is in the archive");
    assert_eq!(log.iter().next().unwrap().body, "line 150");
    assert_eq!(log.last().unwrap().seq, 249);
    // The edge: the oldest held line is a duplicate, the one before it
    // is not known here any more (the archive answers for it).
    assert!(log.contains(&line(150)));
    assert!(!log.push(line(150)));
    assert!(!log.contains(&line(149)));
    // Without stanza-ids: by sender and body, for delayed copies.
    let no_sid = |i: i64| Message {
        stanza_id: None,
        delayed: true,
        ..line(i)
    };
    assert!(log.contains(&no_sid(200)));
    assert!(!log.contains(&no_sid(100)));
    // The indexes shrink with the window.
    assert_eq!(log.seen.len(), 100);
    assert_eq!(log.by_content.len(), 100);
    let bytes: usize = log.iter().map(Message::weight).sum();
    assert_eq!(log.bytes(), bytes);
}

#[test]
fn a_copy_with_the_same_id_sender_and_text_is_a_duplicate() {
    // A live copy (a stanza resent after a stream resumption that the
    // server had delivered already) carries no stanza-id of ours and no
    // delay: only its id tells.
    let with_id = |i: i64, id: &str, nick: &str, body: &str| Message {
        id: Some(id.into()),
        stanza_id: None,
        nick: Some(nick.into()),
        body: body.into(),
        ..line(i)
    };
    let mut log = MessageLog::with_cap(3);
    assert!(log.push(with_id(1, "m1", "bob", "hello")));
    assert!(!log.push(with_id(5, "m1", "bob", "hello")));
    // Some clients reuse ids: another text is another message; so is
    // another sender's.
    assert!(log.push(with_id(6, "m1", "bob", "hello again")));
    assert!(log.push(with_id(7, "m1", "carol", "hello")));
    // The index follows the window.
    assert!(log.push(with_id(8, "m2", "bob", "bye")));
    assert_eq!(log.by_id.values().map(Vec::len).sum::<usize>(), 3);
    assert!(!log.contains(&with_id(9, "m1", "bob", "hello")));
    // A retracted line's copy stays retracted.
    let at = log.len() - 1;
    log.remove(at, Default::default());
    assert!(log.contains(&with_id(9, "m2", "bob", "bye")));
}

#[test]
fn long_lines_fill_the_window_sooner_but_the_newest_stays() {
    let big = |i: i64| Message {
        body: "x".repeat(10_000),
        ..line(i)
    };
    let mut log = MessageLog::with_limits(1_000, 100_000);
    for i in 0..50 {
        log.push(big(i));
    }
    assert!(log.bytes() <= 100_000, "{}", log.bytes());
    assert!(log.len() < 10, "{}", log.len());
    assert_eq!(log.last().unwrap().stanza_id.as_deref(), Some("s49"));
    // One line over the whole budget is still held.
    let mut log = MessageLog::with_limits(10, 100);
    log.push(big(0));
    assert_eq!(log.len(), 1);
}

#[test]
fn scrolling_back_holds_more_until_the_view_returns() {
    let mut log = MessageLog::with_cap(100);
    for i in 1_000..1_100 {
        log.push(line(i));
    }
    // Scrolling back: two pages of older lines from the archive.
    let older = |from: i64| (from..from + 50).map(archived).collect::<Vec<_>>();
    assert_eq!(log.prepend(older(950)), 50);
    assert_eq!(log.prepend(older(900)), 50);
    assert_eq!(log.len(), 200);
    assert_eq!(log.iter().next().unwrap().body, "line 900");
    assert!(log.contains(&archived(900)));
    // New lines while reading back: the size holds, the oldest go.
    for i in 1_100..1_110 {
        log.push(line(i));
    }
    assert_eq!(log.len(), 200);
    assert_eq!(log.iter().next().unwrap().body, "line 910");
    let seqs: Vec<i64> = log.iter().map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    // Back at the newest line: the window again.
    assert_eq!(log.shrink_to_window(), 100);
    assert_eq!(log.len(), 100);
    assert_eq!(log.iter().next().unwrap().body, "line 1010");
    assert!(!log.contains(&archived(1_009)));
    assert_eq!(log.shrink_to_window(), 0);
    let bytes: usize = log.iter().map(Message::weight).sum();
    assert_eq!(log.bytes(), bytes);
}

#[test]
fn scrolling_back_stops_at_its_bound() {
    let mut log = MessageLog::with_cap(10);
    for i in 100_000..100_010 {
        log.push(line(i));
    }
    let mut from = 100_000;
    let mut loaded = 0;
    while log.can_load_older() {
        from -= 1_000;
        let n = log.prepend((from..from + 1_000).map(archived).collect());
        assert!(n > 0);
        loaded += n;
    }
    assert_eq!(loaded, SCROLLBACK_LINES);
    assert_eq!(log.len(), 10 + SCROLLBACK_LINES);
    assert_eq!(log.prepend(vec![archived(0)]), 0, "full");
    assert!(log.more_in_archive, "the archive still has more");
    log.shrink_to_window();
    assert!(log.can_load_older());
}

#[test]
fn a_correction_keeps_the_byte_count() {
    let mut log = MessageLog::with_cap(10);
    let mut m = line(1);
    m.id = Some("m1".into());
    log.push(m);
    let before = log.bytes();
    assert!(matches!(
        log.correct("m1", Some("bob"), "a much longer body than before"),
        Correct::Done(_)
    ));
    assert_eq!(
        log.bytes(),
        before - "line 1".len() + "a much longer body than before".len()
    );
}

use super::*;

/// An editor with `text` and the cursor where `|` is.
fn ed(marked: &str) -> LineEditor {
    let cursor = marked.find('|').expect("a | marks the cursor");
    let mut e = LineEditor::new();
    e.set(marked.replacen('|', "", 1));
    e.set_cursor(cursor);
    assert_eq!(e.cursor(), cursor, "{marked:?}: cursor not on a boundary");
    e
}

/// The editor's text with `|` at the cursor.
fn show(e: &LineEditor) -> String {
    let mut s = e.text().to_string();
    s.insert(e.cursor(), '|');
    s
}

fn apply(marked: &str, f: impl Fn(&mut LineEditor)) -> String {
    let mut e = ed(marked);
    f(&mut e);
    show(&e)
}

// --- basic editing ---

#[test]
fn new_is_empty() {
    let e = LineEditor::new();
    assert!(e.is_empty());
    assert_eq!(e.text(), "");
    assert_eq!(e.cursor(), 0);
}

#[test]
fn insert_char_at_cursor() {
    let mut e = LineEditor::new();
    for c in "hllo".chars() {
        e.insert_char(c);
    }
    assert_eq!(show(&e), "hllo|");
    e.home();
    e.right();
    e.insert_char('e');
    assert_eq!(show(&e), "he|llo");
    assert!(!e.is_empty());
    assert_eq!(apply("|b", |e| e.insert_char('a')), "a|b");
    assert_eq!(apply("日|本", |e| e.insert_char('🎉')), "日🎉|本");
}

#[test]
fn insert_char_carriage_return_is_newline() {
    assert_eq!(apply("a|", |e| e.insert_char('\r')), "a\n|");
    assert_eq!(apply("a|", |e| e.insert_char('\n')), "a\n|");
}

#[test]
fn insert_combining_mark_joins_the_letter() {
    let mut e = ed("e|x");
    e.insert_char('\u{301}');
    assert_eq!(show(&e), "e\u{301}|x");
    e.left();
    assert_eq!(show(&e), "|e\u{301}x");
}

#[test]
fn insert_before_a_combining_mark_keeps_cursor_on_boundary() {
    // A lone combining mark at the start; typing a letter before it
    // forms one cluster, and the cursor goes after the cluster.
    let mut e = LineEditor::new();
    e.set("\u{301}x");
    e.home();
    e.insert_char('e');
    assert_eq!(show(&e), "e\u{301}|x");
}

#[test]
fn zwj_sequence_typed_char_by_char_is_one_cluster() {
    let mut e = LineEditor::new();
    for c in "👨\u{200d}👩\u{200d}👧".chars() {
        e.insert_char(c);
    }
    assert_eq!(e.cursor(), e.text().len());
    e.left();
    assert_eq!(e.cursor(), 0);
    e.end();
    e.backspace();
    assert!(e.is_empty());
}

#[test]
fn insert_str_keeps_newlines_as_one_message() {
    let mut e = ed("say: |!");
    e.insert_str("one\r\ntwo\rthree\nfour");
    assert_eq!(show(&e), "say: one\ntwo\nthree\nfour|!");
    assert_eq!(apply("|", |e| e.insert_str("")), "|");
    assert_eq!(apply("a|b", |e| e.insert_str("日本")), "a日本|b");
}

#[test]
fn set_puts_cursor_at_end_and_normalizes() {
    let mut e = ed("abc|def");
    e.set("x\r\ny");
    assert_eq!(show(&e), "x\ny|");
    e.set(String::from("z"));
    assert_eq!(show(&e), "z|");
}

#[test]
fn take_returns_text_and_clears() {
    let mut e = ed("hel|lo");
    assert_eq!(e.take(), "hello");
    assert!(e.is_empty());
    assert_eq!(e.cursor(), 0);
    assert_eq!(e.take(), "");
}

#[test]
fn set_cursor_clamps_and_snaps() {
    let mut e = LineEditor::new();
    e.set("ae\u{301}b");
    e.set_cursor(100);
    assert_eq!(e.cursor(), e.text().len());
    // Inside "e\u{301}" (after the e): to the end of the cluster.
    e.set_cursor(2);
    assert_eq!(show(&e), "ae\u{301}|b");
    e.set_cursor(0);
    assert_eq!(e.cursor(), 0);
}

#[test]
fn replace_range_puts_cursor_after() {
    let mut e = ed("/jo| x");
    e.replace(0..3, "/join");
    assert_eq!(show(&e), "/join| x");
    e.replace(0..0, "");
    assert_eq!(show(&e), "|/join x");
}

#[test]
fn backspace() {
    assert_eq!(apply("ab|c", LineEditor::backspace), "a|c");
    assert_eq!(apply("|abc", LineEditor::backspace), "|abc");
    assert_eq!(apply("abc|", LineEditor::backspace), "ab|");
    assert_eq!(apply("|", LineEditor::backspace), "|");
    assert_eq!(apply("a日|b", LineEditor::backspace), "a|b");
    assert_eq!(apply("ae\u{301}|b", LineEditor::backspace), "a|b");
    assert_eq!(apply("x🇫🇷|", LineEditor::backspace), "x|");
    assert_eq!(apply("👍🏽|!", LineEditor::backspace), "|!");
    assert_eq!(apply("a\n|b", LineEditor::backspace), "a|b");
}

#[test]
fn backspace_joining_hangul_jamo_snaps_cursor() {
    // Deleting the x joins the jamo into one syllable cluster; the
    // cursor cannot stay inside it.
    let mut e = ed("\u{1100}x|\u{1161}");
    e.backspace();
    assert_eq!(e.text(), "\u{1100}\u{1161}");
    assert_eq!(e.cursor(), e.text().len());
}

#[test]
fn delete() {
    assert_eq!(apply("a|bc", LineEditor::delete), "a|c");
    assert_eq!(apply("abc|", LineEditor::delete), "abc|");
    assert_eq!(apply("|abc", LineEditor::delete), "|bc");
    assert_eq!(apply("|", LineEditor::delete), "|");
    assert_eq!(apply("a|日b", LineEditor::delete), "a|b");
    assert_eq!(apply("a|e\u{301}\u{302}b", LineEditor::delete), "a|b");
    assert_eq!(apply("|🇫🇷🇩🇪", LineEditor::delete), "|🇩🇪");
}

#[test]
fn left_right_move_by_grapheme() {
    let text = "ae\u{301}日🇫🇷👨\u{200d}👩\u{200d}👧z";
    let mut e = LineEditor::new();
    e.set(text);
    let mut seen = vec![e.cursor()];
    for _ in 0..10 {
        e.left();
        seen.push(e.cursor());
    }
    let mut boundaries: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).collect();
    boundaries.push(text.len());
    boundaries.reverse();
    // 6 clusters: 7 positions, then it stays at 0.
    assert_eq!(&seen[..7], &boundaries[..]);
    assert!(seen[7..].iter().all(|&c| c == 0));
    let mut forward = vec![e.cursor()];
    for _ in 0..10 {
        e.right();
        forward.push(e.cursor());
    }
    boundaries.reverse();
    assert_eq!(&forward[..7], &boundaries[..]);
    assert!(forward[7..].iter().all(|&c| c == text.len()));
}

#[test]
fn home_and_end() {
    assert_eq!(apply("ab|c", LineEditor::home), "|abc");
    assert_eq!(apply("ab|c", LineEditor::end), "abc|");
    assert_eq!(apply("|", LineEditor::home), "|");
    assert_eq!(apply("|", LineEditor::end), "|");
    assert_eq!(apply("a\nb|\nc", LineEditor::end), "a\nb\nc|");
}

// --- words and kills ---

#[test]
fn word_left_like_readline() {
    assert_eq!(apply("hello world|", LineEditor::word_left), "hello |world");
    assert_eq!(apply("hello wor|ld", LineEditor::word_left), "hello |world");
    assert_eq!(apply("hello |world", LineEditor::word_left), "|hello world");
    assert_eq!(
        apply("hello,   |world", LineEditor::word_left),
        "|hello,   world"
    );
    assert_eq!(apply("|hello", LineEditor::word_left), "|hello");
    assert_eq!(apply("  ...|", LineEditor::word_left), "|  ...");
    // Punctuation separates words.
    assert_eq!(
        apply("room@conf.org|", LineEditor::word_left),
        "room@conf.|org"
    );
    assert_eq!(apply("foo_bar|", LineEditor::word_left), "foo_|bar");
    // Combining marks and CJK are part of words; emoji are not.
    assert_eq!(apply("a café|", LineEditor::word_left), "a |café");
    assert_eq!(
        apply("a cafe\u{301}|", LineEditor::word_left),
        "a |cafe\u{301}"
    );
    assert_eq!(apply("x 日本語|", LineEditor::word_left), "x |日本語");
    assert_eq!(apply("hi🎉|", LineEditor::word_left), "|hi🎉");
}

#[test]
fn word_right_like_readline() {
    assert_eq!(
        apply("|hello world", LineEditor::word_right),
        "hello| world"
    );
    assert_eq!(
        apply("hello| world", LineEditor::word_right),
        "hello world|"
    );
    assert_eq!(
        apply("he|llo world", LineEditor::word_right),
        "hello| world"
    );
    assert_eq!(
        apply("hello world|", LineEditor::word_right),
        "hello world|"
    );
    assert_eq!(apply("|...  ", LineEditor::word_right), "...  |");
    assert_eq!(
        apply("|room@conf.org", LineEditor::word_right),
        "room|@conf.org"
    );
    assert_eq!(
        apply("|🎉 cafe\u{301}!", LineEditor::word_right),
        "🎉 cafe\u{301}|!"
    );
}

#[test]
fn delete_word_before_is_unix_word_rubout() {
    assert_eq!(
        apply("hello world|", LineEditor::delete_word_before),
        "hello |"
    );
    assert_eq!(
        apply("hello world  |", LineEditor::delete_word_before),
        "hello |"
    );
    assert_eq!(
        apply("hello wor|ld", LineEditor::delete_word_before),
        "hello |ld"
    );
    // Whitespace-delimited: punctuation goes with the word.
    assert_eq!(
        apply("/join room@conf.org/nick|", LineEditor::delete_word_before),
        "/join |"
    );
    assert_eq!(apply("|hello", LineEditor::delete_word_before), "|hello");
    assert_eq!(apply("   |", LineEditor::delete_word_before), "|");
    assert_eq!(apply("word|", LineEditor::delete_word_before), "|");
    assert_eq!(apply("a 日本🎉|b", LineEditor::delete_word_before), "a |b");
    assert_eq!(apply("one\ntwo|", LineEditor::delete_word_before), "one\n|");
}

#[test]
fn kill_to_start_and_end() {
    assert_eq!(apply("abc|def", LineEditor::kill_to_start), "|def");
    assert_eq!(apply("|abc", LineEditor::kill_to_start), "|abc");
    assert_eq!(apply("abc|", LineEditor::kill_to_start), "|");
    assert_eq!(apply("abc|def", LineEditor::kill_to_end), "abc|");
    assert_eq!(apply("abc|", LineEditor::kill_to_end), "abc|");
    assert_eq!(apply("|abc", LineEditor::kill_to_end), "|");
    assert_eq!(apply("日本|🎉x", LineEditor::kill_to_end), "日本|");
    assert_eq!(apply("日本|🎉x", LineEditor::kill_to_start), "|🎉x");
}

// --- display ---

fn window(e: &LineEditor, width: u16) -> (String, u16) {
    let (s, col) = e.display_window(width);
    assert!(s.width() <= usize::from(width), "{s:?} wider than {width}");
    assert!(col < width.max(1), "cursor column {col} outside {width}");
    (s, col)
}

#[test]
fn display_short_line_whole() {
    assert_eq!(window(&ed("hello|"), 10), ("hello".into(), 5));
    assert_eq!(window(&ed("he|llo"), 10), ("hello".into(), 2));
    assert_eq!(window(&ed("|"), 10), ("".into(), 0));
    // Exactly fits with the cursor cell at the end.
    assert_eq!(window(&ed("123456789|"), 10), ("123456789".into(), 9));
}

#[test]
fn display_zero_width() {
    assert_eq!(ed("abc|").display_window(0), (String::new(), 0));
}

#[test]
fn display_scrolls_to_cursor_at_end() {
    let e = ed("0123456789abcdef|");
    // The cursor's blank cell takes the last column.
    assert_eq!(window(&e, 10), ("789abcdef".into(), 9));
}

#[test]
fn display_wide_chars_count_two_columns() {
    assert_eq!(window(&ed("日本語|"), 10), ("日本語".into(), 6));
    assert_eq!(window(&ed("a🎉|b"), 10), ("a🎉b".into(), 3));
    // Scrolled to the end: with 7 (or 8) columns, the cursor's cell
    // leaves room for 3 wide characters, never 3.5.
    let e = ed("日本語日本語|");
    let (s, col) = window(&e, 7);
    assert_eq!(s, "日本語");
    assert_eq!(col, 6);
    let (s, col) = window(&e, 8);
    assert_eq!(s, "日本語");
    assert_eq!(col, 6);
}

#[test]
fn display_never_splits_wide_char_at_right_edge() {
    let e = ed("|ab日本");
    // 5 columns: "ab日" (4), 本 would need 2 more.
    assert_eq!(window(&e, 5), ("ab日".into(), 0));
    assert_eq!(window(&e, 4), ("ab日".into(), 0));
    assert_eq!(window(&e, 3), ("ab".into(), 0));
}

#[test]
fn display_wide_char_under_cursor_is_whole() {
    // Cursor on 本 (2 columns) in a 6-column window.
    let e = ed("abcdefg|本xyz");
    let (s, col) = window(&e, 6);
    assert!(s.contains('本'), "{s:?}");
    assert_eq!(col, 4);
    assert_eq!(s, "defg本");
}

#[test]
fn display_window_stays_put_while_cursor_inside() {
    let mut e = ed("0123456789abcdefghij|");
    assert_eq!(window(&e, 10), ("bcdefghij".into(), 9));
    for expected in (0..9).rev() {
        e.left();
        let (s, col) = window(&e, 10);
        assert_eq!(s, "bcdefghij");
        assert_eq!(col, expected);
    }
    // Leaving at the left: jump back, keeping a quarter (2 columns) of
    // context before the cursor.
    e.left();
    assert_eq!(e.cursor(), 10);
    assert_eq!(window(&e, 10), ("89abcdefgh".into(), 2));
    e.home();
    assert_eq!(window(&e, 10), ("0123456789".into(), 0));
    // Moving right inside the window does not scroll ...
    for _ in 0..9 {
        e.right();
    }
    assert_eq!(window(&e, 10), ("0123456789".into(), 9));
    // ... past it scrolls one at a time with the cursor at the edge.
    e.right();
    assert_eq!(window(&e, 10), ("123456789a".into(), 9));
}

#[test]
fn display_fills_after_deleting_at_end() {
    let mut e = ed("0123456789abcdefghij|");
    assert_eq!(window(&e, 10), ("bcdefghij".into(), 9));
    e.home();
    window(&e, 10);
    e.end();
    for _ in 0..5 {
        e.backspace();
    }
    // "0123456789abcde": the window slides back so the end shows with
    // no blank columns on the right.
    assert_eq!(window(&e, 10), ("6789abcde".into(), 9));
}

#[test]
fn clone_and_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LineEditor>();
    send_sync::<InputHistory>();
    let e = ed("0123456789abcdefghij|");
    window(&e, 10);
    let mut c = e.clone();
    assert_eq!(show(&c), show(&e));
    // The clone keeps the window's position.
    c.left();
    assert_eq!(window(&c, 10), ("bcdefghij".into(), 8));
}

#[test]
fn display_after_take_starts_over() {
    let mut e = ed("0123456789abcdefghij|");
    window(&e, 10);
    e.take();
    e.insert_str("abc");
    assert_eq!(window(&e, 10), ("abc".into(), 3));
}

#[test]
fn display_after_width_change() {
    let e = ed("0123456789abcdefghij|");
    assert_eq!(window(&e, 10), ("bcdefghij".into(), 9));
    assert_eq!(window(&e, 30), ("0123456789abcdefghij".into(), 20));
    assert_eq!(window(&e, 5), ("ghij".into(), 4));
}

#[test]
fn display_width_one() {
    assert_eq!(window(&ed("abc|"), 1), ("".into(), 0));
    assert_eq!(window(&ed("a|bc"), 1), ("b".into(), 0));
}

#[test]
fn display_newlines_and_controls() {
    assert_eq!(window(&ed("one\ntwo|"), 20), ("one⏎two".into(), 7));
    assert_eq!(window(&ed("a\tb|"), 20), ("a b".into(), 3));
    assert_eq!(
        window(&ed("\u{1b}[2J\u{7}\u{7f}|"), 20),
        ("␛[2J␇␡".into(), 6)
    );
    assert_eq!(window(&ed("a\u{202e}b\u{9b}|"), 20), ("a�b�".into(), 4));
    // Zero-width clusters get a visible cell.
    assert_eq!(
        window(&ed("\u{301}a\u{200b}|"), 20),
        ("◌\u{301}a◌\u{200b}".into(), 3)
    );
    let (s, _) = window(&ed("x\u{1b}]0;evil\u{7}|"), 40);
    assert!(!s.chars().any(char::is_control), "{s:?}");
}

#[test]
fn display_cursor_after_combining_and_emoji() {
    let e = ed("e\u{301}🇫🇷👨\u{200d}👩\u{200d}👧|");
    assert_eq!(window(&e, 20).1, 5);
    let e = ed("e\u{301}|🇫🇷");
    assert_eq!(window(&e, 20).1, 1);
}

/// Random edits on tricky text keep the cursor on a grapheme boundary
/// and the window within its width, with the cursor in it.
#[test]
fn random_edits_keep_invariants() {
    const PIECES: &[&str] = &[
        "a", "Z", " ", "日", "🎉", "\u{301}", "\u{200d}", "👨", "🇫", "🇷", "\n", "\t", "\u{1b}",
        "\u{1100}", "\u{1161}", "\u{202e}", "é", "-", "\u{fe0f}",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let mut e = LineEditor::new();
    for step in 0..4000 {
        match next(16) {
            0..=4 => e.insert_str(PIECES[next(PIECES.len())]),
            5 => e.insert_char(PIECES[next(PIECES.len())].chars().next().unwrap()),
            6 => e.backspace(),
            7 => e.delete(),
            8 => e.left(),
            9 => e.right(),
            10 => e.word_left(),
            11 => e.word_right(),
            12 => e.delete_word_before(),
            13 if next(4) == 0 => e.kill_to_start(),
            13 => e.home(),
            14 if next(4) == 0 => e.kill_to_end(),
            14 => e.end(),
            _ => e.set_cursor(next(e.text().len() + 1)),
        }
        let text = e.text();
        let boundaries: Vec<usize> = text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        assert!(
            boundaries.contains(&e.cursor()),
            "step {step}: {:?}",
            show(&e)
        );
        for width in [1u16, 2, 3, 5, 8, 13] {
            let (s, col) = e.display_window(width);
            assert!(s.width() <= usize::from(width), "{s:?} in {width}");
            assert!(col < width);
            assert!(!s.chars().any(|c| c.is_control() || is_bidi_control(c)));
        }
    }
}

// --- history ---

#[test]
fn history_push_skips_empty_and_repeats() {
    let mut h = InputHistory::new();
    h.push("r", "one");
    h.push("r", "one");
    h.push("r", "");
    h.push("r", "  ");
    h.push("r", "two");
    h.push("r", "one");
    assert_eq!(h.lines("r").collect::<Vec<_>>(), ["one", "two", "one"]);
    assert_eq!(h.lines("other").count(), 0);
}

#[test]
fn history_is_capped() {
    let mut h = InputHistory::new();
    for i in 0..HISTORY_CAP + 20 {
        h.push("r", &format!("line {i}"));
    }
    let lines: Vec<&str> = h.lines("r").collect();
    assert_eq!(lines.len(), HISTORY_CAP);
    assert_eq!(lines[0], "line 20");
    assert_eq!(lines[HISTORY_CAP - 1], format!("line {}", HISTORY_CAP + 19));
}

#[test]
fn history_up_down_restores_draft() {
    let mut h = InputHistory::new();
    h.push("r", "first");
    h.push("r", "second");
    h.push("r", "third");
    assert!(!h.is_browsing("r"));
    assert_eq!(h.up("r", "my draft").as_deref(), Some("third"));
    assert!(h.is_browsing("r"));
    assert_eq!(h.up("r", "ignored").as_deref(), Some("second"));
    assert_eq!(h.up("r", "ignored").as_deref(), Some("first"));
    // At the oldest: nothing older.
    assert_eq!(h.up("r", "ignored"), None);
    assert_eq!(h.down("r").as_deref(), Some("second"));
    assert_eq!(h.down("r").as_deref(), Some("third"));
    // Past the newest: the draft, and navigation is over.
    assert_eq!(h.down("r").as_deref(), Some("my draft"));
    assert!(!h.is_browsing("r"));
    assert_eq!(h.down("r"), None);
    // Starting again from the newest.
    assert_eq!(h.up("r", "").as_deref(), Some("third"));
    assert_eq!(h.down("r").as_deref(), Some(""));
}

#[test]
fn history_empty_room() {
    let mut h = InputHistory::new();
    assert_eq!(h.up("nowhere", "draft"), None);
    assert_eq!(h.down("nowhere"), None);
    assert!(!h.is_browsing("nowhere"));
    h.reset("nowhere");
    h.push("r", "");
    assert_eq!(h.up("r", "draft"), None);
    assert!(!h.is_browsing("r"));
}

#[test]
fn history_is_per_room() {
    let mut h = InputHistory::new();
    h.push("a", "in a");
    h.push("b", "in b");
    assert_eq!(h.up("a", "").as_deref(), Some("in a"));
    assert_eq!(h.up("b", "").as_deref(), Some("in b"));
    assert!(h.is_browsing("a") && h.is_browsing("b"));
    h.reset("a");
    assert!(!h.is_browsing("a") && h.is_browsing("b"));
}

#[test]
fn history_reset_and_push_end_navigation() {
    let mut h = InputHistory::new();
    h.push("r", "one");
    h.push("r", "two");
    assert_eq!(h.up("r", "draft").as_deref(), Some("two"));
    assert_eq!(h.up("r", "draft").as_deref(), Some("one"));
    // The recalled line was edited: start over from the newest, with
    // the edited text as the new draft.
    h.reset("r");
    assert_eq!(h.up("r", "one!").as_deref(), Some("two"));
    assert_eq!(h.down("r").as_deref(), Some("one!"));
    assert_eq!(h.up("r", "x").as_deref(), Some("two"));
    h.push("r", "three");
    assert!(!h.is_browsing("r"));
    assert_eq!(h.up("r", "").as_deref(), Some("three"));
}

#[test]
fn history_keeps_multiline_entries() {
    let mut h = InputHistory::new();
    h.push("r", "one\ntwo");
    let mut e = LineEditor::new();
    e.set(h.up("r", e.text()).unwrap());
    assert_eq!(show(&e), "one\ntwo|");
}

//! The input line: a [`LineEditor`] (readline-like editing on grapheme
//! clusters, horizontal scrolling with wide characters) and the per-room
//! [`InputHistory`] of sent lines.
//!
//! Pure code: no terminal. The caller maps keys to methods and draws
//! [`LineEditor::display_window`].

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The line being typed and the cursor in it.
///
/// The cursor is a byte index that is always on a grapheme-cluster
/// boundary, so an emoji (even a ZWJ sequence or a flag) or a letter with
/// combining marks moves and is deleted as one. The text never contains
/// `\r`: carriage returns (and `\r\n`) are stored as `\n`. Newlines are
/// kept — a multi-line paste is one message.
#[derive(Debug, Default)]
pub struct LineEditor {
    text: String,
    cursor: usize,
    /// Byte offset where the last [`display_window`](Self::display_window)
    /// started, so the window stays put while the cursor moves inside it.
    /// (Atomic only so that the editor stays `Sync`; it is a plain memo.)
    scroll: AtomicUsize,
}

impl Clone for LineEditor {
    fn clone(&self) -> LineEditor {
        LineEditor {
            text: self.text.clone(),
            cursor: self.cursor,
            scroll: AtomicUsize::new(self.scroll.load(Ordering::Relaxed)),
        }
    }
}

fn is_word(grapheme: &str) -> bool {
    grapheme.chars().next().is_some_and(char::is_alphanumeric)
}

fn is_space(grapheme: &str) -> bool {
    grapheme.chars().next().is_some_and(char::is_whitespace)
}

/// `\r\n` and lone `\r` become `\n`.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(s)
    }
}

impl LineEditor {
    pub fn new() -> LineEditor {
        LineEditor::default()
    }

    /// The text being typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a byte index into [`text`](Self::text), on a grapheme
    /// boundary.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the text (e.g. a line from the history); the cursor goes to
    /// the end.
    pub fn set(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.text = match normalize_newlines(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(s) => s,
        };
        self.cursor = self.text.len();
        self.scroll.store(0, Ordering::Relaxed);
    }

    /// Returns the text and leaves the line empty (Enter).
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        self.scroll.store(0, Ordering::Relaxed);
        std::mem::take(&mut self.text)
    }

    /// Moves the cursor to `byte` (clamped to the text), or to the end of
    /// the grapheme cluster it falls in.
    pub fn set_cursor(&mut self, byte: usize) {
        self.cursor = byte.min(self.text.len());
        self.snap();
    }

    /// Types one character at the cursor. `\r` is stored as `\n`.
    pub fn insert_char(&mut self, c: char) {
        let c = if c == '\r' { '\n' } else { c };
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        self.snap();
    }

    /// Inserts text at the cursor (a paste): newlines are kept, `\r\n` and
    /// `\r` become `\n`.
    pub fn insert_str(&mut self, s: &str) {
        let s = normalize_newlines(s);
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
        self.snap();
    }

    /// Replaces `range` (byte indexes on char boundaries) with
    /// `replacement` and puts the cursor after it (used by completion).
    ///
    /// # Panics
    ///
    /// Like [`String::replace_range`], if the range is out of bounds or
    /// not on char boundaries.
    pub fn replace(&mut self, range: Range<usize>, replacement: &str) {
        let replacement = normalize_newlines(replacement);
        let start = range.start;
        self.text.replace_range(range, &replacement);
        self.cursor = start + replacement.len();
        self.snap();
    }

    /// Deletes the grapheme before the cursor (Backspace).
    pub fn backspace(&mut self) {
        let prev = self.prev_boundary();
        self.remove(prev..self.cursor);
    }

    /// Deletes the grapheme under the cursor (Delete).
    pub fn delete(&mut self) {
        let next = self.next_boundary();
        self.remove(self.cursor..next);
    }

    /// One grapheme left.
    pub fn left(&mut self) {
        self.cursor = self.prev_boundary();
    }

    /// One grapheme right.
    pub fn right(&mut self) {
        self.cursor = self.next_boundary();
    }

    /// To the start of the line (Home, Ctrl-A).
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// To the end of the line (End, Ctrl-E).
    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    /// To the start of the word before the cursor (Alt-B, Ctrl-Left): words
    /// are runs of alphanumerics, as in readline.
    pub fn word_left(&mut self) {
        let starts = self.starts();
        let mut i = self.index_of_cursor(&starts);
        while i > 0 && !is_word(self.grapheme(&starts, i - 1)) {
            i -= 1;
        }
        while i > 0 && is_word(self.grapheme(&starts, i - 1)) {
            i -= 1;
        }
        self.cursor = starts[i];
    }

    /// To the end of the word after the cursor (Alt-F, Ctrl-Right).
    pub fn word_right(&mut self) {
        let starts = self.starts();
        let n = starts.len() - 1;
        let mut i = self.index_of_cursor(&starts);
        while i < n && !is_word(self.grapheme(&starts, i)) {
            i += 1;
        }
        while i < n && is_word(self.grapheme(&starts, i)) {
            i += 1;
        }
        self.cursor = starts[i];
    }

    /// Deletes the whitespace-delimited word before the cursor, and the
    /// whitespace between it and the cursor (Ctrl-W, readline's
    /// unix-word-rubout).
    pub fn delete_word_before(&mut self) {
        let starts = self.starts();
        let mut i = self.index_of_cursor(&starts);
        while i > 0 && is_space(self.grapheme(&starts, i - 1)) {
            i -= 1;
        }
        while i > 0 && !is_space(self.grapheme(&starts, i - 1)) {
            i -= 1;
        }
        self.remove(starts[i]..self.cursor);
    }

    /// Deletes from the start of the line to the cursor (Ctrl-U).
    pub fn kill_to_start(&mut self) {
        self.remove(0..self.cursor);
    }

    /// Deletes from the cursor to the end of the line (Ctrl-K).
    pub fn kill_to_end(&mut self) {
        self.remove(self.cursor..self.text.len());
    }

    /// What to draw in `width` terminal columns, and the cursor's column in
    /// it.
    ///
    /// The window scrolls horizontally so that the cursor (and the whole
    /// character under it) is visible; it remembers where it started, so it
    /// only moves when the cursor would leave it (to the left it then keeps
    /// a quarter of the width of context before the cursor), and it never
    /// leaves empty columns at the right while text is hidden at the left.
    /// A line that fits is shown whole. Wide characters (CJK, emoji) take
    /// two columns and are never cut in half: one that does not fit at the
    /// right edge is left out.
    ///
    /// Newlines are shown as `⏎`, tabs as a space, other control characters
    /// as their Unicode control pictures (`␛`), C1 controls and bidi
    /// overrides as `�`, and zero-width clusters (a lone combining mark, a
    /// zero-width space) on a dotted circle `◌`, so every cluster takes at
    /// least one column and nothing reaches the terminal raw.
    pub fn display_window(&self, width: u16) -> (String, u16) {
        let width = usize::from(width);
        if width == 0 {
            return (String::new(), 0);
        }
        let glyphs: Vec<Glyph> = self
            .text
            .grapheme_indices(true)
            .map(|(start, g)| {
                let shown = shown(g);
                let width = shown.width().max(1);
                Glyph {
                    start,
                    shown,
                    width,
                }
            })
            .collect();
        let n = glyphs.len();
        // pre[i]: columns taken by glyphs[..i].
        let mut pre = Vec::with_capacity(n + 1);
        pre.push(0);
        for g in &glyphs {
            pre.push(pre.last().copied().unwrap_or(0) + g.width);
        }
        let cols = |a: usize, b: usize| pre[b] - pre[a];
        let ci = glyphs.partition_point(|g| g.start < self.cursor);
        // The cursor's cell: the glyph under it, or one blank at the end.
        let cursor_width = glyphs.get(ci).map_or(1, |g| g.width);

        let mut s = glyphs
            .partition_point(|g| g.start < self.scroll.load(Ordering::Relaxed))
            .min(n);
        if ci < s {
            // Scrolled off to the left: keep some context before it.
            let margin = width / 4;
            s = ci;
            while s > 0 && cols(s - 1, ci) <= margin {
                s -= 1;
            }
        }
        if cols(s, ci) + cursor_width > width {
            // Off to the right: put the cursor's cell at the right edge.
            s = (s..=ci)
                .find(|&s| cols(s, ci) + cursor_width <= width)
                .unwrap_or(ci);
        }
        // No blank columns at the right while text is hidden at the left.
        let fill = (0..=n).find(|&s| cols(s, n) < width).unwrap_or(n);
        s = s.min(fill);
        let start = glyphs.get(s).map_or(self.text.len(), |g| g.start);
        self.scroll.store(start, Ordering::Relaxed);

        let mut out = String::new();
        let mut used = 0;
        for g in &glyphs[s..] {
            if used + g.width > width {
                break;
            }
            used += g.width;
            out.push_str(&g.shown);
        }
        let column = cols(s, ci).min(width - 1);
        (out, u16::try_from(column).unwrap_or(u16::MAX))
    }

    // --- helpers ---

    /// Byte offsets of every grapheme start, then the text's length.
    fn starts(&self) -> Vec<usize> {
        let mut starts: Vec<usize> = self.text.grapheme_indices(true).map(|(i, _)| i).collect();
        starts.push(self.text.len());
        starts
    }

    fn index_of_cursor(&self, starts: &[usize]) -> usize {
        starts.partition_point(|&b| b < self.cursor)
    }

    fn grapheme<'s>(&'s self, starts: &[usize], i: usize) -> &'s str {
        &self.text[starts[i]..starts[i + 1]]
    }

    fn prev_boundary(&self) -> usize {
        self.text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .take_while(|&i| i < self.cursor)
            .last()
            .unwrap_or(0)
    }

    fn next_boundary(&self) -> usize {
        self.text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .find(|&i| i > self.cursor)
            .unwrap_or(self.text.len())
    }

    /// Removes `range` (grapheme boundaries) and leaves the cursor at its
    /// start.
    fn remove(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.cursor = range.start;
        self.text.replace_range(range, "");
        self.snap();
    }

    /// Moves the cursor forward to a grapheme boundary if an edit made it
    /// fall inside a cluster (a combining mark typed before a letter's
    /// mark, Hangul jamo joined by a deletion).
    fn snap(&mut self) {
        if self.cursor >= self.text.len() {
            self.cursor = self.text.len();
            return;
        }
        self.cursor = self
            .text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .find(|&i| i >= self.cursor)
            .unwrap_or(self.text.len());
    }
}

/// One grapheme cluster as drawn.
struct Glyph<'a> {
    start: usize,
    shown: Cow<'a, str>,
    width: usize,
}

fn is_bidi_control(c: char) -> bool {
    matches!(c,
        '\u{200E}' | '\u{200F}'       // LRM, RLM
        | '\u{202A}'..='\u{202E}'     // LRE, RLE, PDF, LRO, RLO
        | '\u{2066}'..='\u{2069}'     // LRI, RLI, FSI, PDI
        | '\u{061C}'                  // ALM
    )
}

/// How one grapheme cluster is drawn (see [`LineEditor::display_window`]).
fn shown(g: &str) -> Cow<'_, str> {
    let mut chars = g.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        match c {
            '\n' => return Cow::Borrowed("⏎"),
            '\t' => return Cow::Borrowed(" "),
            '\u{7f}' => return Cow::Borrowed("\u{2421}"),
            c if (c as u32) < 0x20 => {
                let picture = char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}');
                return Cow::Owned(picture.to_string());
            }
            c if c.is_control() || is_bidi_control(c) => return Cow::Borrowed("\u{FFFD}"),
            _ => {}
        }
    }
    if g.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        // Controls are clusters of their own, except `\r\n`; be safe anyway.
        return Cow::Owned(
            g.chars()
                .map(|c| {
                    if c.is_control() || is_bidi_control(c) {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect(),
        );
    }
    if g.width() == 0 {
        return Cow::Owned(format!("\u{25CC}{g}"));
    }
    Cow::Borrowed(g)
}

/// How many lines [`InputHistory`] keeps per room.
pub const HISTORY_CAP: usize = 500;

/// Sent lines, per room (keyed by any string the caller chooses, e.g. the
/// room's bare JID), with Up/Down navigation that keeps the line being
/// typed (the draft) and gives it back when going down past the newest
/// entry.
#[derive(Debug, Clone, Default)]
pub struct InputHistory {
    rooms: HashMap<String, RoomHistory>,
}

#[derive(Debug, Clone, Default)]
struct RoomHistory {
    /// Oldest first.
    lines: VecDeque<String>,
    /// While navigating: the entry shown, and the draft to restore.
    browsing: Option<(usize, String)>,
}

impl InputHistory {
    pub fn new() -> InputHistory {
        InputHistory::default()
    }

    /// Records a sent line: blank lines and a repeat of the newest entry
    /// are skipped; the oldest lines go beyond [`HISTORY_CAP`]. Ends any
    /// navigation in that room.
    pub fn push(&mut self, room: &str, line: &str) {
        let history = self.rooms.entry(room.to_string()).or_default();
        history.browsing = None;
        if line.trim().is_empty() || history.lines.back().is_some_and(|last| last == line) {
            return;
        }
        history.lines.push_back(line.to_string());
        while history.lines.len() > HISTORY_CAP {
            history.lines.pop_front();
        }
    }

    /// The previous (older) entry (Up). On the first Up, `current_draft`
    /// (what is typed now) is kept for [`down`](Self::down) to restore.
    /// `None` when there is nothing older: the caller keeps what it shows.
    pub fn up(&mut self, room: &str, current_draft: &str) -> Option<String> {
        let history = self.rooms.get_mut(room)?;
        match &mut history.browsing {
            None => {
                let newest = history.lines.len().checked_sub(1)?;
                history.browsing = Some((newest, current_draft.to_string()));
                Some(history.lines[newest].clone())
            }
            Some((0, _)) => None,
            Some((index, _)) => {
                *index -= 1;
                Some(history.lines[*index].clone())
            }
        }
    }

    /// The next (newer) entry (Down); past the newest, the draft saved by
    /// the first [`up`](Self::up), and navigation ends. `None` when not
    /// navigating.
    pub fn down(&mut self, room: &str) -> Option<String> {
        let history = self.rooms.get_mut(room)?;
        let (index, _) = history.browsing.as_mut()?;
        if *index + 1 < history.lines.len() {
            *index += 1;
            return Some(history.lines[*index].clone());
        }
        history.browsing.take().map(|(_, draft)| draft)
    }

    /// Ends navigation in `room` (the line was sent or edited); the next Up
    /// starts again from the newest entry.
    pub fn reset(&mut self, room: &str) {
        if let Some(history) = self.rooms.get_mut(room) {
            history.browsing = None;
        }
    }

    /// Whether Up/Down navigation is under way in `room`.
    pub fn is_browsing(&self, room: &str) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|history| history.browsing.is_some())
    }

    /// The lines kept for `room`, oldest first.
    pub fn lines(&self, room: &str) -> impl Iterator<Item = &str> {
        self.rooms
            .get(room)
            .into_iter()
            .flat_map(|history| history.lines.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests;

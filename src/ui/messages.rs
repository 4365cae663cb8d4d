//! The message pane: a room's timeline, drawn from the newest line
//! upwards, so that only what is visible (plus what is scrolled past) is
//! ever formatted — the cost does not grow with the size of the log.
//!
//! A line is `HH:MM <nick> body`; wrapped rows hang at the body column
//! (at column 0 in narrow panes). Text from the network is sanitised
//! before it is measured, and widths are display widths: wide characters
//! take two columns and are never split.

use std::borrow::Cow;

use chrono::{FixedOffset, NaiveDate, Timelike};
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;

use super::color::nick_color;
use super::sanitize;
use super::theme::Theme;
use crate::store::{Kind, Message, MessageLog};

/// What the pane shows, besides the log.
#[derive(Debug, Clone)]
pub struct MessageView<'a> {
    pub theme: &'a Theme,
    /// Our nick: for highlights and our own messages.
    pub own_nick: Option<&'a str>,
    /// Join/leave/nick/subject lines shown, or left out entirely.
    pub show_events: bool,
    /// Seq of the first unread line: a "new messages" marker goes above it.
    pub unread_from: Option<i64>,
    /// Rows scrolled back from the bottom (0: the newest row at the bottom).
    pub scroll: usize,
    /// Timezone for timestamps and day separators.
    pub local_offset: FixedOffset,
    /// strftime format of timestamps (`None`: `HH:MM`).
    pub time_format: Option<&'a str>,
}

/// What a render found out, for the caller's scrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendered {
    /// The oldest line held (that is shown) is visible: time to load older
    /// lines from the archive. Also true when there is nothing to show.
    pub reached_top: bool,
    /// How far the pane can scroll back: rows above the visible area when
    /// scrolled to the bottom. Exact once the oldest line has been laid
    /// out; otherwise a lower bound (at least `scroll + 1`): rows are only
    /// formatted as far as needed.
    pub max_scroll: usize,
}

/// Below this width, wrapped rows start at column 0.
const NARROW: usize = 40;
/// A hanging indent must leave the body at least this many columns.
const MIN_BODY: usize = 20;

/// Draws the visible part of `log` into `area` (cleared first), the newest
/// row at the bottom, `view.scroll` rows back.
pub fn render(log: &MessageLog, view: &MessageView, area: Rect, buf: &mut Buffer) -> Rendered {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            buf[(x, y)].reset();
        }
    }
    let width = area.width as usize;
    let height = area.height as usize;
    if width == 0 || height == 0 {
        return Rendered {
            reached_top: log.is_empty(),
            max_scroll: 0,
        };
    }

    // Rows, bottom first, until the visible ones, those scrolled past and
    // one more (so that max_scroll tells whether there is more) are known.
    let need = view.scroll.saturating_add(height).saturating_add(1);
    let mut rows: Vec<Row> = Vec::with_capacity(need.min(4096));
    let mut block = Vec::new();
    let mut scratch = Vec::new();
    let mut oldest_block = 0;
    let mut exhausted = true;
    let mut lines = log
        .iter()
        .rev()
        .filter(|m| view.show_events || m.kind == Kind::Chat)
        .peekable();
    while let Some(m) = lines.next() {
        let older = lines.peek().copied();
        block.clear();
        layout_line(m, older, view, width, &mut block, &mut scratch);
        oldest_block = block.len();
        rows.extend(block.drain(..).rev());
        if rows.len() >= need {
            exhausted = lines.peek().is_none();
            break;
        }
    }

    let total = rows.len();
    let (scroll, max_scroll) = if exhausted {
        let max = total.saturating_sub(height);
        (view.scroll.min(max), max)
    } else {
        (view.scroll, total - height)
    };
    for (k, row) in rows.iter().skip(scroll).take(height).enumerate() {
        draw_row(row, area, area.bottom() - 1 - k as u16, buf);
    }
    Rendered {
        reached_top: exhausted && (total == 0 || scroll + height > total - oldest_block),
        max_scroll,
    }
}

/// One screen row: pieces of styled text from column `col` on.
#[derive(Debug, Default)]
struct Row {
    col: usize,
    pieces: Vec<(String, Style)>,
}

fn draw_row(row: &Row, area: Rect, y: u16, buf: &mut Buffer) {
    let right = area.right() as usize;
    let mut x = area.x as usize + row.col;
    for (text, style) in &row.pieces {
        for g in graphemes(text) {
            let w = g.cell_width() as usize;
            if w == 0 {
                continue;
            }
            if x + w > right {
                return;
            }
            buf[(x as u16, y)].set_symbol(g).set_style(*style);
            x += w;
        }
    }
}

/// The rows of one shown line, top to bottom: the unread marker and the
/// day separator if they go above it, then the line itself, wrapped.
/// `older` is the shown line above it, if any.
fn layout_line(
    m: &Message,
    older: Option<&Message>,
    view: &MessageView,
    width: usize,
    out: &mut Vec<Row>,
    scratch: &mut Vec<G>,
) {
    let theme = view.theme;
    if let Some(u) = view.unread_from
        && m.seq >= u
        && older.is_none_or(|o| o.seq < u)
    {
        out.push(rule_row(&["new messages"], width, theme.unread_marker));
    }
    let date = local_date(m, view.local_offset);
    if older.is_none_or(|o| local_date(o, view.local_offset) != date) {
        let long = date.format("%A %-d %B %Y").to_string();
        let short = date.format("%a %-d %b %Y").to_string();
        let iso = date.format("%Y-%m-%d").to_string();
        out.push(rule_row(&[&long, &short, &iso], width, theme.day_separator));
    }
    let line = format_line(m, view);
    let prefix_width: usize = line.prefix.iter().map(|(t, _)| text_width(t)).sum();
    let indent = if width >= NARROW && width >= prefix_width + MIN_BODY {
        prefix_width
    } else {
        0
    };
    let mut wrap = Wrapper {
        width,
        indent,
        rows: out,
        col: 0,
        gs: scratch,
    };
    let mut body_lines = line.body.split('\n');
    let mut first: Vec<(&str, Style)> = line.prefix.iter().map(|(t, s)| (&**t, *s)).collect();
    first.push((body_lines.next().unwrap_or(""), line.body_style));
    wrap.line(&first, 0);
    for more in body_lines {
        wrap.line(&[(more, line.body_style)], indent);
    }
}

fn local_date(m: &Message, offset: FixedOffset) -> NaiveDate {
    m.time.with_timezone(&offset).date_naive()
}

/// A full-width rule with a centred label: `──── label ────`. Takes the
/// first label that leaves two dashes on each side (the last one if none
/// does).
fn rule_row(labels: &[&str], width: usize, style: Style) -> Row {
    let label = labels
        .iter()
        .find(|l| text_width(l) + 6 <= width)
        .or(labels.last())
        .copied()
        .unwrap_or("");
    let inner = text_width(label) + 2;
    let text = if inner + 2 > width {
        label.to_string()
    } else {
        let left = (width - inner) / 2;
        let right = width - inner - left;
        format!("{} {label} {}", "─".repeat(left), "─".repeat(right))
    };
    Row {
        col: 0,
        pieces: vec![(text, style)],
    }
}

fn text_width(s: &str) -> usize {
    graphemes(s).map(|g| g.cell_width() as usize).sum()
}

/// A line as styled text: a prefix (timestamp, nick…) and a body that may
/// hold newlines; wrapped rows hang at the end of the prefix.
struct Line<'m> {
    prefix: Vec<(Cow<'m, str>, Style)>,
    body: Cow<'m, str>,
    body_style: Style,
}

fn format_line<'m>(m: &'m Message, view: &MessageView) -> Line<'m> {
    let theme = view.theme;
    let t = m.time.with_timezone(&view.local_offset);
    let mut prefix: Vec<(Cow<str>, Style)> = vec![
        (
            match view.time_format {
                Some(f) => t.format(f).to_string().into(),
                None => format!("{:02}:{:02}", t.hour(), t.minute()).into(),
            },
            theme.timestamp,
        ),
        (" ".into(), Style::default()),
    ];
    let nick = m.nick.as_deref().map(|n| sanitize(n, false));
    let body = sanitize(&m.body, true);
    // Corrected by its sender (XEP-0308).
    let body = if m.edited && m.kind == Kind::Chat {
        Cow::Owned(format!("{body} (edited)"))
    } else {
        body
    };
    let event = |prefix: Vec<(Cow<'m, str>, Style)>, body: String| Line {
        prefix,
        body: body.into(),
        body_style: theme.event,
    };
    let who = nick.as_deref().unwrap_or("the room");
    match m.kind {
        Kind::Chat => {}
        Kind::Join => {
            prefix.push(("→ ".into(), theme.event));
            return event(prefix, format!("{who} joined{}", in_parens(&body)));
        }
        Kind::Leave => {
            prefix.push(("← ".into(), theme.event));
            return event(prefix, format!("{who} left{}", in_parens(&body)));
        }
        Kind::NickChange => return event(prefix, format!("{body} is now {who}")),
        Kind::Subject => {
            return event(prefix, format!("{who} set the subject: {body}"));
        }
        Kind::Moderation => {
            prefix.push(("! ".into(), theme.event));
            return event(prefix, format!("{who} {body}"));
        }
    }

    if m.private {
        prefix.push(("[private]".into(), theme.event));
        prefix.push((" ".into(), Style::default()));
    }
    let Some(nick) = nick else {
        // From the room itself.
        return Line {
            prefix,
            body,
            body_style: theme.event,
        };
    };
    let own = m.own || view.own_nick == m.nick.as_deref();
    let nick_style = if own {
        theme.own_nick
    } else if theme.nick_colors {
        theme.nick.fg(nick_color(m.nick.as_deref().unwrap_or("")))
    } else {
        theme.nick
    };
    let highlight = !own && view.own_nick.is_some_and(|n| mentions(&body, n));
    if body.starts_with(ME) {
        prefix.push(("* ".into(), theme.action));
        prefix.push((nick, nick_style.patch(theme.action)));
        prefix.push((" ".into(), Style::default()));
        let body_style = if highlight {
            theme.action.patch(theme.highlight)
        } else {
            theme.action
        };
        let body = match body {
            Cow::Borrowed(b) => Cow::Borrowed(&b[ME.len()..]),
            Cow::Owned(mut b) => {
                b.drain(..ME.len());
                Cow::Owned(b)
            }
        };
        return Line {
            prefix,
            body,
            body_style,
        };
    }
    prefix.push(("<".into(), Style::default()));
    prefix.push((nick, nick_style));
    prefix.push(("> ".into(), Style::default()));
    Line {
        prefix,
        body,
        body_style: if highlight {
            theme.highlight
        } else {
            Style::default()
        },
    }
}

/// How an action (`/me waves`) starts.
const ME: &str = "/me ";

fn in_parens(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// Whether `body` mentions `nick` as a word, ignoring case.
pub fn mentions(body: &str, nick: &str) -> bool {
    let nick = nick.trim().to_lowercase();
    if nick.is_empty() {
        return false;
    }
    let body = body.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    // A boundary is needed only where the nick itself has a word character.
    let start_bound = nick.chars().next().is_some_and(is_word);
    let end_bound = nick.chars().next_back().is_some_and(is_word);
    body.match_indices(&nick).any(|(i, _)| {
        let joined_before = start_bound && body[..i].chars().next_back().is_some_and(is_word);
        let joined_after = end_bound && body[i + nick.len()..].chars().next().is_some_and(is_word);
        !joined_before && !joined_after
    })
}

/// The grapheme clusters of `s`; printable ASCII (all that sanitised
/// ASCII text can hold) is one cluster per byte, without the cost of full
/// segmentation.
fn graphemes(s: &str) -> impl Iterator<Item = &str> {
    let ascii = s.is_ascii();
    let bytes = (0..if ascii { s.len() } else { 0 }).map(move |i| &s[i..i + 1]);
    let clusters = (!ascii).then(|| s.graphemes(true)).into_iter().flatten();
    bytes.chain(clusters)
}

/// A grapheme of a line being wrapped: its segment, its byte range there
/// and its display width.
#[derive(Debug, Clone, Copy)]
struct G {
    seg: usize,
    start: usize,
    end: usize,
    width: usize,
    space: bool,
}

/// Greedy word wrapping by display width into `rows`.
struct Wrapper<'r> {
    width: usize,
    /// Where wrapped rows start.
    indent: usize,
    rows: &'r mut Vec<Row>,
    /// Current column in the last row.
    col: usize,
    /// Scratch space for the graphemes of a line, reused.
    gs: &'r mut Vec<G>,
}

impl Wrapper<'_> {
    /// Wraps one line (no newlines) of styled text, its first row starting
    /// at `first_col`, the others at the indent. Breaks at spaces; a wide
    /// character can go on the next row by itself (CJK has no spaces); a
    /// word longer than a row is broken between graphemes.
    fn line(&mut self, segments: &[(&str, Style)], first_col: usize) {
        let mut gs = std::mem::take(self.gs);
        gs.clear();
        for (seg, (text, _)) in segments.iter().enumerate() {
            if text.is_ascii() {
                // Sanitised ASCII is printable: one column per byte.
                gs.extend(text.bytes().enumerate().map(|(i, b)| G {
                    seg,
                    start: i,
                    end: i + 1,
                    width: 1,
                    space: b == b' ',
                }));
            } else {
                for (i, g) in text.grapheme_indices(true) {
                    let width = g.cell_width() as usize;
                    if width > 0 {
                        gs.push(G {
                            seg,
                            start: i,
                            end: i + g.len(),
                            width,
                            space: g == " ",
                        });
                    }
                }
            }
        }
        self.new_row(first_col);
        let full = self.width.saturating_sub(self.indent);
        let mut i = 0;
        while i < gs.len() {
            if gs[i].space {
                // Spaces that do not fit are where the row breaks: dropped.
                let mut end = i + 1;
                while end < gs.len() && gs[end].space {
                    end += 1;
                }
                let fit = (end - i).min(self.width.saturating_sub(self.col));
                self.push(segments, &gs[i..i + fit]);
                i = end;
                continue;
            }
            let mut end = i + 1;
            let mut word_width = gs[i].width;
            if gs[i].width == 1 {
                while end < gs.len() && !gs[end].space && gs[end].width == 1 {
                    word_width += 1;
                    end += 1;
                }
            }
            let word = &gs[i..end];
            if self.col + word_width <= self.width {
                self.push(segments, word);
            } else if word_width <= full && !self.row_empty() {
                self.break_row();
                self.push(segments, word);
            } else {
                for k in i..end {
                    if self.col + gs[k].width > self.width && !self.row_empty() {
                        self.break_row();
                    }
                    self.push(segments, &gs[k..=k]);
                }
            }
            i = end;
        }
        *self.gs = gs;
    }

    fn new_row(&mut self, col: usize) {
        self.rows.push(Row {
            col,
            pieces: Vec::new(),
        });
        self.col = col;
    }

    fn row_empty(&self) -> bool {
        self.rows.last().is_none_or(|r| r.pieces.is_empty())
    }

    /// Ends the row (without its trailing spaces) and starts the next one.
    fn break_row(&mut self) {
        if let Some(row) = self.rows.last_mut() {
            while let Some((text, _)) = row.pieces.last_mut() {
                let trimmed = text.trim_end_matches(' ').len();
                text.truncate(trimmed);
                if !text.is_empty() {
                    break;
                }
                row.pieces.pop();
            }
        }
        self.new_row(self.indent);
    }

    /// Appends consecutive graphemes to the row, a slice of text per
    /// segment.
    fn push(&mut self, segments: &[(&str, Style)], run: &[G]) {
        let row = self.rows.last_mut().expect("a row");
        let mut k = 0;
        while k < run.len() {
            let seg = run[k].seg;
            let mut e = k + 1;
            while e < run.len() && run[e].seg == seg {
                e += 1;
            }
            let (text, style) = segments[seg];
            let piece = &text[run[k].start..run[e - 1].end];
            match row.pieces.last_mut() {
                Some((t, s)) if *s == style => t.push_str(piece),
                _ => {
                    let mut t = String::with_capacity(piece.len().max(self.width));
                    t.push_str(piece);
                    row.pieces.push((t, style));
                }
            }
            self.col += run[k..e].iter().map(|g| g.width).sum::<usize>();
            k = e;
        }
    }
}

#[cfg(test)]
mod tests {
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

    fn event(log: &mut MessageLog, kind: Kind, t: (u32, u32, u32), nick: &str, body: &str) {
        log.push_event(message(kind, t, nick, body));
    }

    fn view(theme: &Theme) -> MessageView<'_> {
        MessageView {
            theme,
            own_nick: Some("alice"),
            show_events: true,
            unread_from: None,
            scroll: 0,
            local_offset: FixedOffset::east_opt(0).unwrap(),
            time_format: None,
        }
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
}

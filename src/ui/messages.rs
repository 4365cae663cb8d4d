//! The message pane: a room's timeline, drawn from the newest line
//! upwards, so that only what is visible (plus what is scrolled past) is
//! ever formatted — the cost does not grow with the size of the log.
//!
//! A line is `HH:MM <nick> body`; wrapped rows hang at the body column
//! (at column 0 in narrow panes). Text from the network is sanitised
//! before it is measured, and widths are display widths: wide characters
//! take two columns and are never split.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{FixedOffset, NaiveDate, Timelike};
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use unicode_segmentation::UnicodeSegmentation;

use super::color::nick_color;
use super::styling::{self, Styles};
use super::theme::Theme;
use super::{sanitize, sanitize_name};
use crate::store::{Kind, Message, MessageLog};

mod rows;
pub use rows::RowCache;

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
    /// Occupants whose nick imitates another's → whom
    /// ([`crate::names::lookalikes`]): marked `(≈nick)` after the nick.
    pub lookalikes: Option<&'a HashMap<&'a str, &'a str>>,
    /// XEP-0393 styling of message bodies.
    pub styling: bool,
    /// Words that highlight a message besides our nick.
    pub highlight_words: &'a [String],
    /// `/clear`: lines up to this seq are left out.
    pub cleared: Option<i64>,
    /// Seq of the message selected to act on: drawn reversed.
    pub selected: Option<i64>,
    /// The window's row layout, kept between frames (`None`: laid out
    /// afresh, as far as this frame needs).
    pub rows: Option<&'a RowCache>,
}

#[cfg(test)]
impl<'a> MessageView<'a> {
    /// The view the tests start from: alice's, events shown, at the
    /// bottom, UTC, `HH:MM`, styling on, nothing cleared or selected, no
    /// cache; a test changes what it is about with struct update syntax.
    pub(crate) fn for_tests(theme: &'a Theme) -> MessageView<'a> {
        MessageView {
            theme,
            own_nick: Some("alice"),
            show_events: true,
            unread_from: None,
            scroll: 0,
            local_offset: FixedOffset::east_opt(0).expect("UTC"),
            time_format: None,
            lookalikes: None,
            styling: true,
            highlight_words: &[],
            cleared: None,
            selected: None,
            rows: None,
        }
    }
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

    // Lines laid out (or known from the cache) back to the visible ones,
    // those scrolled past and one row more (so that max_scroll tells
    // whether there is more).
    let need = view.scroll.saturating_add(height).saturating_add(1);
    let fresh = RowCache::default();
    let mut rows = view.rows.unwrap_or(&fresh).borrow_mut();
    let span = rows.cover(log, view, width, need);
    let total = span.total;
    let (scroll, max_scroll) = if span.exhausted {
        let max = total.saturating_sub(height);
        (view.scroll.min(max), max)
    } else {
        (view.scroll, total - height)
    };
    let seqs: Vec<(i64, usize)> = rows
        .lines_from(scroll)
        .take_while(|(_, below)| *below < scroll + height)
        .collect();
    let mut block = Vec::new();
    for (seq, below) in seqs {
        rows.layout(log, seq, view, &mut block);
        // The line's bottom row is `below` rows up from the bottom.
        for (k, row) in block.iter().rev().enumerate() {
            let from_bottom = below + k;
            if from_bottom < scroll {
                continue;
            }
            if from_bottom >= scroll + height {
                break;
            }
            draw_row(
                row,
                area,
                area.bottom() - 1 - (from_bottom - scroll) as u16,
                buf,
            );
        }
    }
    Rendered {
        // After /clear the top is not the archive's business.
        reached_top: view.cleared.is_none()
            && span.exhausted
            && (total == 0 || scroll + height > total - span.oldest_block),
        max_scroll,
    }
}

/// Whether a line of the log is shown: events only when asked for, and
/// nothing `/clear` took away.
pub(super) fn shown(m: &Message, view: &MessageView) -> bool {
    (view.show_events || m.kind == Kind::Chat) && view.cleared.is_none_or(|c| m.seq > c)
}

/// The scroll (rows back from the bottom) that shows the line `seq`
/// in the middle of a `width`×`height` pane; `None` when the log does not
/// hold it (or it is not shown). Lays out only the lines below it.
pub fn focus_scroll(
    log: &MessageLog,
    view: &MessageView,
    width: usize,
    height: usize,
    seq: i64,
) -> Option<usize> {
    if width == 0 || height == 0 {
        return None;
    }
    let mut below = 0;
    let mut block = Vec::new();
    let mut scratch = Vec::new();
    let mut lines = log.iter().rev().filter(|m| shown(m, view)).peekable();
    while let Some(m) = lines.next() {
        block.clear();
        layout_line(
            m,
            lines.peek().copied(),
            log,
            view,
            width,
            &mut block,
            &mut scratch,
        );
        if m.seq == seq {
            return Some((below + block.len() / 2).saturating_sub(height / 2));
        }
        below += block.len();
    }
    None
}

/// The message drawn on screen row `y` of `area` by [`render`] with the
/// same log and view (a mouse click): its seq, if a message is there.
pub fn line_at(log: &MessageLog, view: &MessageView, area: Rect, y: u16) -> Option<i64> {
    let (width, height) = (area.width as usize, area.height as usize);
    if width == 0 || height == 0 || y < area.top() || y >= area.bottom() {
        return None;
    }
    let need = view.scroll.saturating_add(height).saturating_add(1);
    let mut seqs: Vec<Option<i64>> = Vec::new();
    let (mut block, mut scratch) = (Vec::new(), Vec::new());
    let mut exhausted = true;
    let mut lines = log.iter().rev().filter(|m| shown(m, view)).peekable();
    while let Some(m) = lines.next() {
        let older = lines.peek().copied();
        block.clear();
        layout_line(m, older, log, view, width, &mut block, &mut scratch);
        // Rules above a line (unread, day) are not the line.
        let rules = block.len() - line_rows(m, log, view, width, &mut scratch);
        seqs.extend(
            (0..block.len())
                .rev()
                .map(|i| (i >= rules).then_some(m.seq)),
        );
        if seqs.len() >= need {
            exhausted = lines.peek().is_none();
            break;
        }
    }
    let scroll = if exhausted {
        view.scroll.min(seqs.len().saturating_sub(height))
    } else {
        view.scroll
    };
    let k = (area.bottom() - 1 - y) as usize;
    seqs.get(scroll + k).copied().flatten()
}

/// How many rows `m` itself takes (without the rules above it).
fn line_rows(
    m: &Message,
    log: &MessageLog,
    view: &MessageView,
    width: usize,
    scratch: &mut Vec<G>,
) -> usize {
    let mut rows = Vec::new();
    // With itself as the line above, no rule goes before it.
    let unmarked = MessageView {
        unread_from: None,
        ..view.clone()
    };
    layout_line(m, Some(m), log, &unmarked, width, &mut rows, scratch);
    rows.len()
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
    log: &MessageLog,
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
    let first_row = out.len();
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
    // A reply: what it answers, on a row of its own above it.
    if let Some((author, text)) = fasten::quote(m, log) {
        let head = format!("↪ {author}: ");
        let room = width.saturating_sub(indent + text_width(&head));
        let text = fasten::fit(&text, room);
        wrap.line(&[(&head, theme.event), (&text, theme.event)], indent);
    }
    let styled = line.styled.then(|| styling::style_body(&line.body));
    let count = line.body.split('\n').count();
    let mut segments: Vec<(&str, Style)> = Vec::new();
    for (k, text) in line.body.split('\n').enumerate() {
        segments.clear();
        if k == 0 {
            segments.extend(line.prefix.iter().map(|(t, s)| (&**t, *s)));
        }
        match styled.as_ref().and_then(|runs| runs.get(k)) {
            Some(runs) => segments.extend(
                runs.iter()
                    .map(|(r, s)| (&text[r.clone()], styled_as(line.body_style, *s, theme))),
            ),
            None => segments.push((text, line.body_style)),
        }
        if k + 1 == count
            && let Some((suffix, style)) = &line.suffix
        {
            segments.push((suffix, *style));
        }
        wrap.line(&segments, if k == 0 { 0 } else { indent });
    }
    if let Some(r) = fasten::reactions(m) {
        wrap.line(&[(&r, theme.event)], indent);
    }
    if view.selected == Some(m.seq) {
        let selected = Style::default().add_modifier(ratatui::style::Modifier::REVERSED);
        for row in &mut out[first_row..] {
            for (_, style) in &mut row.pieces {
                *style = style.patch(selected);
            }
        }
    }
}

/// `base` with the XEP-0393 styles of a run; directives are dim.
fn styled_as(base: Style, s: Styles, theme: &Theme) -> Style {
    let mut style = base;
    if s.quote > 0 {
        style = style.patch(theme.quote);
    }
    if s.pre {
        style = style.patch(theme.code);
    }
    let mut m = Modifier::empty();
    if s.strong {
        m |= Modifier::BOLD;
    }
    if s.emphasis {
        m |= Modifier::ITALIC;
    }
    if s.strike {
        m |= Modifier::CROSSED_OUT;
    }
    if s.directive {
        m |= Modifier::DIM;
    }
    style.add_modifier(m)
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
    /// The body gets XEP-0393 styling.
    styled: bool,
    /// After the body's last line, never styled: " (edited)".
    suffix: Option<(&'static str, Style)>,
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
    let nick = m.nick.as_deref().map(sanitize_name);
    // A nick change's body is the old nick.
    let body = match m.kind {
        Kind::NickChange => sanitize_name(&m.body),
        Kind::Chat => super::transfer::with_attachments(sanitize(&m.body, true)),
        _ => sanitize(&m.body, true),
    };
    // Corrected by its sender (XEP-0308).
    let suffix = (m.edited && m.kind == Kind::Chat).then_some((" (edited)", theme.event));
    let event = |prefix: Vec<(Cow<'m, str>, Style)>, body: String| Line {
        prefix,
        body: body.into(),
        body_style: theme.event,
        styled: false,
        suffix: None,
    };
    let who = nick.as_deref().unwrap_or("the room");
    match m.kind {
        Kind::Chat => {}
        Kind::Join => {
            prefix.push(("→ ".into(), theme.event));
            // An imitation of another occupant's nick says so.
            let like = m
                .nick
                .as_deref()
                .and_then(|n| view.lookalikes?.get(n))
                .map(|real| format!(" (≈{})", sanitize_name(real)))
                .unwrap_or_default();
            return event(prefix, format!("{who}{like} joined{}", in_parens(&body)));
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
        Kind::Notice => {
            prefix.push(("! ".into(), theme.event));
            return event(prefix, body.into_owned());
        }
    }

    if m.private {
        prefix.push(("[private]".into(), theme.event));
        prefix.push((" ".into(), Style::default()));
    }
    // End-to-end encrypted (OMEMO): a lock; from an untrusted device or
    // not decrypted, said in words.
    match m.meta.lock {
        Some(l) if l.trusted && l.decrypted => prefix.push(("🔒 ".into(), theme.event)),
        Some(l) if !l.decrypted => prefix.push(("🔒[not decrypted] ".into(), theme.error)),
        Some(_) => prefix.push(("🔒[untrusted] ".into(), theme.error)),
        None => {}
    }
    let Some(nick) = nick else {
        // From the room itself.
        return Line {
            prefix,
            body,
            body_style: theme.event,
            styled: false,
            suffix,
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
    let highlight = !own && highlights(&body, view.own_nick, view.highlight_words);
    // An imitation of another occupant's nick says so.
    let lookalike = m
        .nick
        .as_deref()
        .and_then(|n| view.lookalikes?.get(n))
        .map(|real| {
            (
                Cow::Owned(format!(" (≈{})", sanitize_name(real))),
                theme.error,
            )
        });
    // Removed (retracted by its sender, or by a moderator): its text is
    // gone, the line says so.
    if let Some(text) = fasten::removed(m) {
        prefix.push(("<".into(), Style::default()));
        prefix.push((nick, nick_style));
        prefix.push(("> ".into(), Style::default()));
        return Line {
            prefix,
            body: text.into(),
            body_style: theme.event,
            styled: false,
            suffix: None,
        };
    }
    if body.starts_with(ME) {
        prefix.push(("* ".into(), theme.action));
        prefix.push((nick, nick_style.patch(theme.action)));
        prefix.extend(lookalike);
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
            styled: view.styling,
            suffix,
        };
    }
    prefix.push(("<".into(), Style::default()));
    prefix.push((nick, nick_style));
    prefix.extend(lookalike);
    prefix.push(("> ".into(), Style::default()));
    Line {
        prefix,
        body,
        body_style: if highlight {
            theme.highlight
        } else {
            Style::default()
        },
        styled: view.styling,
        suffix,
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

/// Whether `body` mentions our nick or one of the highlight words.
pub fn highlights(body: &str, own_nick: Option<&str>, words: &[String]) -> bool {
    own_nick.is_some_and(|n| mentions(body, n)) || words.iter().any(|w| mentions(body, w))
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

mod fasten;
#[cfg(test)]
mod styled_tests;
#[cfg(test)]
mod tests;

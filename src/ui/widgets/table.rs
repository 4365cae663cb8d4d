//! A scrollable, filterable table: room lists, ban lists, member lists.
//! Each row is its cells (strings, as drawn and filtered) and a payload of
//! the caller's type (what the row stands for; `()` when nothing).
//!
//! Only the visible rows are looked at when drawing, so it stays fast with
//! 100,000 rows; the filter (typed text, case-insensitive, over all cells)
//! is recomputed only when it changes, and narrowing it only looks at the
//! rows that matched before.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};

use super::{TableOutcome, Viewport, is_release, truncate, typed_char, visible_offset};
use crate::ui::sanitize;

/// How wide a column is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// This many columns (more only if the table has no `Fill` column and
    /// this is the last one); shrunk in proportion when space is short.
    Min(u16),
    /// Shares what the `Min` columns leave.
    Fill,
}

/// A column: its header and its width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub width: Width,
}

impl Column {
    pub fn new(title: impl Into<String>, width: Width) -> Self {
        Column {
            title: title.into(),
            width,
        }
    }
}

/// What a `Fill` column asks for when space is short.
const FILL_MIN: u16 = 8;
/// Columns taken by the selection marker in front of each row.
const MARK: u16 = 2;

/// A bordered table with a header, a selected row and a filter.
///
/// Keys: Up/Down/PageUp/PageDown/Home/End move the selection; typed
/// characters filter (Backspace edits, Ctrl-U clears); Enter gives
/// `TableOutcome::Activate(index of the row in the unfiltered rows)`; Esc gives
/// `TableOutcome::Close`.
#[derive(Debug, Clone)]
pub struct TableView<T = ()> {
    title: String,
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    /// The payload of each row, in the order of `rows`.
    items: Vec<T>,
    /// The rows matching the filter, ascending; `None` when there is no
    /// filter (every row matches).
    matches: Option<Vec<usize>>,
    /// Position of the selected row among the matching rows.
    selected: usize,
    /// Position of the first row shown among the matching rows.
    offset: usize,
    filter: String,
    /// Rows shown at the last render (for PageUp/PageDown and scrolling).
    view: Viewport,
}

impl<T: Default> TableView<T> {
    /// Rows without a payload of their own (`T::default()`).
    pub fn with_rows(self, rows: Vec<Vec<String>>) -> Self {
        self.with_items(rows.into_iter().map(|r| (T::default(), r)))
    }

    /// Replaces the rows (each with `T::default()`); the selection keeps
    /// its position (clamped).
    pub fn set_rows(&mut self, rows: Vec<Vec<String>>) {
        self.set_items(rows.into_iter().map(|r| (T::default(), r)));
    }

    /// Appends rows (each with `T::default()`).
    pub fn push_rows(&mut self, rows: impl IntoIterator<Item = Vec<String>>) {
        self.push_items(rows.into_iter().map(|r| (T::default(), r)));
    }
}

impl<T> TableView<T> {
    /// An empty table. The title may contain network text (it is
    /// sanitised when drawn).
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Self {
        TableView {
            title: title.into(),
            columns,
            rows: Vec::new(),
            items: Vec::new(),
            matches: None,
            selected: 0,
            offset: 0,
            filter: String::new(),
            view: Viewport::new(80, 10),
        }
    }

    /// The rows: each its payload and its cells.
    pub fn with_items(mut self, rows: impl IntoIterator<Item = (T, Vec<String>)>) -> Self {
        self.set_items(rows);
        self
    }

    /// Replaces the rows (payload and cells); the selection keeps its
    /// position (clamped).
    pub fn set_items(&mut self, rows: impl IntoIterator<Item = (T, Vec<String>)>) {
        let position = self.selected;
        (self.items, self.rows) = rows.into_iter().unzip();
        self.matches = None;
        self.refilter(false);
        self.selected = position.min(self.len().saturating_sub(1));
        self.scroll_into_view();
    }

    /// Appends rows (the next page of a paged result); the selection and
    /// the filter stay.
    pub fn push_items(&mut self, rows: impl IntoIterator<Item = (T, Vec<String>)>) {
        let first = self.rows.len();
        for (item, row) in rows {
            self.items.push(item);
            self.rows.push(row);
        }
        if let Some(matches) = &mut self.matches {
            let needle = self.filter.to_lowercase();
            matches
                .extend((first..self.rows.len()).filter(|&i| row_matches(&self.rows[i], &needle)));
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn set_title(&mut self, title: impl Into<String>) {
        self.title = title.into();
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// All rows, unfiltered.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// The payload of row `index` (of the unfiltered rows).
    pub fn item(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }

    /// Number of rows matching the filter.
    pub fn len(&self) -> usize {
        self.matches.as_ref().map_or(self.rows.len(), Vec::len)
    }

    /// No row matches the filter (or there are no rows).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The selected row, as an index into [`rows`](Self::rows).
    pub fn selected(&self) -> Option<usize> {
        (self.selected < self.len()).then(|| self.index(self.selected))
    }

    /// Position of the selected row among the matching rows.
    pub fn selected_position(&self) -> usize {
        self.selected
    }

    /// Position of the first row shown among the matching rows.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Sets the filter; the selected row stays selected if it matches.
    pub fn set_filter(&mut self, filter: impl Into<String>) {
        let filter = filter.into();
        let narrowed = filter.starts_with(self.filter.as_str());
        self.filter = filter;
        self.refilter(narrowed);
    }

    /// Index in `rows` of the `position`th matching row.
    fn index(&self, position: usize) -> usize {
        self.matches.as_ref().map_or(position, |m| m[position])
    }

    /// Recomputes the matches; `narrowed`: the new filter extends the old
    /// one, so only the old matches need a look.
    fn refilter(&mut self, narrowed: bool) {
        let keep = self.selected();
        let needle = self.filter.to_lowercase();
        self.matches = if needle.is_empty() {
            None
        } else {
            let rows = &self.rows;
            let hit = |&i: &usize| row_matches(&rows[i], &needle);
            Some(match (&self.matches, narrowed) {
                (Some(old), true) => old.iter().copied().filter(hit).collect(),
                _ => (0..rows.len()).filter(hit).collect(),
            })
        };
        self.selected = keep
            .and_then(|row| match &self.matches {
                None => Some(row),
                Some(m) => m.binary_search(&row).ok(),
            })
            .unwrap_or(0);
        self.scroll_into_view();
    }

    /// Rows shown at the last render.
    fn page(&self) -> usize {
        usize::from(self.view.get().1).max(1)
    }

    fn select(&mut self, position: usize) {
        self.selected = position.min(self.len().saturating_sub(1));
        self.scroll_into_view();
    }

    fn scroll_into_view(&mut self) {
        self.offset = visible_offset(self.offset, self.selected, self.len(), self.page());
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> TableOutcome {
        if is_release(&key) {
            return TableOutcome::Ignored;
        }
        let page = self.page().max(1);
        match key.code {
            KeyCode::Up => self.select(self.selected.saturating_sub(1)),
            KeyCode::Down => self.select(self.selected + 1),
            KeyCode::PageUp => self.select(self.selected.saturating_sub(page)),
            KeyCode::PageDown => self.select(self.selected + page),
            KeyCode::Home => self.select(0),
            KeyCode::End => self.select(usize::MAX),
            KeyCode::Enter => {
                return match self.selected() {
                    Some(row) => TableOutcome::Activate(row),
                    None => TableOutcome::Handled,
                };
            }
            KeyCode::Esc => return TableOutcome::Close,
            KeyCode::Backspace => {
                if self.filter.pop().is_some() {
                    self.refilter(false);
                }
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.clear();
                self.refilter(false);
            }
            _ => match typed_char(&key) {
                Some(c) => {
                    self.filter.push(c);
                    self.refilter(true);
                }
                None => return TableOutcome::Ignored,
            },
        }
        TableOutcome::Handled
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let len = self.len();
        let position = if len == 0 { 0 } else { self.selected + 1 };
        let mut block = Block::bordered().title(Line::from(format!(
            " {} {position}/{len} ",
            sanitize(&self.title, false)
        )));
        if !self.filter.is_empty() {
            block = block.title_bottom(Line::from(format!(
                " filter: {} ({len} of {}) ",
                sanitize(&self.filter, false),
                self.rows.len()
            )));
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height == 0 || inner.width <= MARK {
            return;
        }
        let widths = column_widths(&self.columns, inner.width - MARK);

        // Header.
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let mut x = inner.x + MARK;
        for (column, &w) in self.columns.iter().zip(&widths) {
            buf.set_stringn(
                x,
                inner.y,
                truncate(&column.title, w.into()),
                w.into(),
                bold,
            );
            x += w + 1;
        }

        // The visible rows, and only those.
        let height = usize::from(inner.height - 1);
        self.view.set(inner.width, height as u16);
        if len == 0 {
            let text = if self.rows.is_empty() {
                "(empty)"
            } else {
                "(no match)"
            };
            let dim = Style::new().add_modifier(Modifier::DIM);
            if height > 0 {
                buf.set_stringn(
                    inner.x + MARK,
                    inner.y + 1,
                    text,
                    usize::from(inner.width - MARK),
                    dim,
                );
            }
            return;
        }
        let offset = visible_offset(self.offset, self.selected, len, height);
        for (line, position) in (offset..len.min(offset + height)).enumerate() {
            let y = inner.y + 1 + line as u16;
            let row = &self.rows[self.index(position)];
            let style = if position == self.selected {
                buf.set_style(
                    Rect::new(inner.x, y, inner.width, 1),
                    Style::new().add_modifier(Modifier::REVERSED),
                );
                buf.set_stringn(inner.x, y, ">", 1, Style::new());
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            let mut x = inner.x + MARK;
            for (cell, &w) in row.iter().zip(&widths) {
                let text = sanitize(cell, false);
                buf.set_stringn(x, y, truncate(&text, w.into()), w.into(), style);
                x += w + 1;
            }
        }
    }
}

impl<T> Widget for &TableView<T> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        TableView::render(self, area, buf);
    }
}

/// Case-insensitive substring test over the cells; `needle` is lowercase.
fn row_matches(row: &[String], needle: &str) -> bool {
    row.iter().any(|cell| contains_ci(cell, needle))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        // No allocation for the common case.
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

/// Widths of the columns in `space` terminal columns, one column of gap
/// between them.
fn column_widths(columns: &[Column], space: u16) -> Vec<u16> {
    if columns.is_empty() {
        return Vec::new();
    }
    let space = u32::from(space.saturating_sub(columns.len() as u16 - 1));
    let want: Vec<u32> = columns
        .iter()
        .map(|c| match c.width {
            Width::Min(n) => u32::from(n),
            Width::Fill => u32::from(FILL_MIN),
        })
        .collect();
    let sum: u32 = want.iter().sum();
    let mut widths: Vec<u32>;
    if sum >= space {
        // Short of space: everyone shrinks in proportion, the rounding
        // leftovers go to the first columns.
        widths = want.iter().map(|w| w * space / sum.max(1)).collect();
        let mut left = space - widths.iter().sum::<u32>();
        for w in &mut widths {
            if left == 0 {
                break;
            }
            *w += 1;
            left -= 1;
        }
    } else {
        widths = want;
        let extra = space - sum;
        let fills: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].width == Width::Fill)
            .collect();
        if fills.is_empty() {
            *widths.last_mut().expect("not empty") += extra;
        } else {
            let n = fills.len() as u32;
            for (k, &i) in fills.iter().enumerate() {
                widths[i] += extra / n + u32::from((k as u32) < extra % n);
            }
        }
    }
    widths.into_iter().map(|w| w as u16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::testing::{HOSTILE, ctrl, key, render};
    use insta::assert_snapshot;

    fn rooms() -> TableView {
        let rows = [
            ("dev@conference.example.org", "Developers", "42"),
            ("ops@conference.example.org", "Operations", "7"),
            ("random@conference.example.org", "Random chatter", "120"),
            ("rust@chat.example.net", "Rust users", "3000"),
            ("music@conference.example.org", "Music", "12"),
            ("DevOps@chat.example.net", "Ops & dev", "5"),
        ];
        TableView::new(
            "Rooms",
            vec![
                Column::new("Room", Width::Fill),
                Column::new("Name", Width::Min(16)),
                Column::new("Users", Width::Min(5)),
            ],
        )
        .with_rows(
            rows.iter()
                .map(|(a, b, c)| vec![a.to_string(), b.to_string(), c.to_string()])
                .collect(),
        )
    }

    fn numbered(n: usize) -> TableView {
        TableView::new("Numbers", vec![Column::new("n", Width::Fill)])
            .with_rows((0..n).map(|i| vec![format!("row {i}")]).collect())
    }

    fn type_str(t: &mut TableView, s: &str) {
        for c in s.chars() {
            assert_eq!(t.handle_key(key(KeyCode::Char(c))), TableOutcome::Handled);
        }
    }

    /// Renders once so the table knows its page size (height 10: 7 rows).
    fn draw(t: &TableView, w: u16, h: u16) -> ratatui::backend::TestBackend {
        render(w, h, |area, buf| t.render(area, buf))
    }

    #[test]
    fn moving_the_selection_scrolls() {
        let mut t = numbered(30);
        draw(&t, 40, 10);
        assert_eq!(t.page(), 7);
        assert_eq!((t.selected(), t.offset()), (Some(0), 0));
        t.handle_key(key(KeyCode::Up));
        assert_eq!((t.selected(), t.offset()), (Some(0), 0));
        for _ in 0..6 {
            t.handle_key(key(KeyCode::Down));
        }
        assert_eq!((t.selected(), t.offset()), (Some(6), 0));
        t.handle_key(key(KeyCode::Down));
        assert_eq!((t.selected(), t.offset()), (Some(7), 1));
        t.handle_key(key(KeyCode::PageDown));
        assert_eq!((t.selected(), t.offset()), (Some(14), 8));
        t.handle_key(key(KeyCode::End));
        assert_eq!((t.selected(), t.offset()), (Some(29), 23));
        t.handle_key(key(KeyCode::Down));
        assert_eq!((t.selected(), t.offset()), (Some(29), 23));
        t.handle_key(key(KeyCode::PageUp));
        assert_eq!((t.selected(), t.offset()), (Some(22), 22));
        t.handle_key(key(KeyCode::Up));
        assert_eq!((t.selected(), t.offset()), (Some(21), 21));
        t.handle_key(key(KeyCode::Home));
        assert_eq!((t.selected(), t.offset()), (Some(0), 0));
        // The last selected row is drawn.
        t.handle_key(key(KeyCode::End));
        let shown = draw(&t, 40, 10).to_string();
        assert!(shown.contains("> row 29"), "{shown}");
        assert!(!shown.contains("row 22 "), "{shown}");
    }

    #[test]
    fn a_smaller_area_keeps_the_selection_visible() {
        let mut t = numbered(30);
        draw(&t, 40, 20);
        t.handle_key(key(KeyCode::End));
        assert_eq!(t.offset(), 13);
        // Drawn smaller than the last time: the selected row still shows.
        let shown = draw(&t, 40, 6).to_string();
        assert!(shown.contains("> row 29"), "{shown}");
        assert_eq!(t.page(), 3);
    }

    #[test]
    fn filter_is_case_insensitive_over_all_cells() {
        let mut t = rooms();
        type_str(&mut t, "DEV");
        assert_eq!(t.filter(), "DEV");
        // "dev@…" (room), "DevOps@…" (room), "Ops & dev" — DevOps twice.
        assert_eq!(t.matches, Some(vec![0, 5]));
        assert_eq!(t.len(), 2);
        t.handle_key(key(KeyCode::Backspace));
        t.handle_key(key(KeyCode::Backspace));
        assert_eq!(t.filter(), "D");
        assert_eq!(t.matches, Some(vec![0, 2, 5]), "dev, random, DevOps");
        type_str(&mut t, "evel");
        assert_eq!(t.matches, Some(vec![0]), "Developers");
        type_str(&mut t, "x");
        assert!(t.is_empty());
        assert_eq!(t.selected(), None);
        assert_eq!(t.handle_key(key(KeyCode::Enter)), TableOutcome::Handled);
        t.handle_key(ctrl('u'));
        assert_eq!(t.filter(), "");
        assert_eq!(t.matches, None);
        assert_eq!(t.len(), 6);
        // Non-ASCII case folding.
        t.push_rows([vec!["ÉTÉ@conf".into(), "Été".into(), "1".into()]]);
        type_str(&mut t, "été");
        assert_eq!(t.matches, Some(vec![6]));
    }

    #[test]
    fn activate_with_a_filter_gives_the_unfiltered_row() {
        let mut t = rooms();
        type_str(&mut t, "chat.example");
        assert_eq!(t.matches, Some(vec![3, 5]));
        assert_eq!(t.handle_key(key(KeyCode::Enter)), TableOutcome::Activate(3));
        t.handle_key(key(KeyCode::Down));
        assert_eq!(t.handle_key(key(KeyCode::Enter)), TableOutcome::Activate(5));
        assert_eq!(t.rows()[5][0], "DevOps@chat.example.net");
    }

    #[test]
    fn the_selected_row_stays_selected_when_it_still_matches() {
        let mut t = rooms();
        t.handle_key(key(KeyCode::Down));
        t.handle_key(key(KeyCode::Down));
        assert_eq!(t.selected(), Some(2)); // random@
        type_str(&mut t, "conference");
        assert_eq!(t.selected(), Some(2));
        assert_eq!(t.selected_position(), 2);
        type_str(&mut t, " nope");
        assert_eq!(t.selected(), None);
        for _ in 0.." nope".len() {
            t.handle_key(key(KeyCode::Backspace));
        }
        // random@ was lost by the non-matching filter: the first match.
        assert_eq!(t.selected(), Some(0));
        t.set_filter("music");
        assert_eq!(t.selected(), Some(4));
    }

    #[test]
    fn push_rows_keeps_selection_and_filter() {
        let mut t = numbered(10);
        draw(&t, 40, 10);
        t.handle_key(key(KeyCode::End));
        assert_eq!(t.selected(), Some(9));
        t.push_rows((10..20).map(|i| vec![format!("row {i}")]));
        assert_eq!(t.selected(), Some(9));
        assert_eq!(t.len(), 20);
        type_str(&mut t, "row 1");
        assert_eq!(t.matches.as_ref().unwrap().len(), 1 + 10);
        t.handle_key(key(KeyCode::End));
        assert_eq!(t.selected(), Some(19));
        t.push_rows((20..120).map(|i| vec![format!("row {i}")]));
        assert_eq!(t.selected(), Some(19));
        // 1, 10-19, 100-119.
        assert_eq!(t.len(), 1 + 10 + 20);
        t.set_rows(vec![vec!["only".into()]]);
        assert_eq!(t.filter(), "row 1");
        assert!(t.is_empty());
    }

    #[test]
    fn other_keys() {
        let mut t = rooms();
        assert_eq!(t.handle_key(key(KeyCode::Esc)), TableOutcome::Close);
        assert_eq!(t.handle_key(key(KeyCode::F(5))), TableOutcome::Ignored);
        assert_eq!(t.handle_key(ctrl('n')), TableOutcome::Ignored);
        assert_eq!(t.filter(), "");
        let mut release = key(KeyCode::Down);
        release.kind = crossterm::event::KeyEventKind::Release;
        assert_eq!(t.handle_key(release), TableOutcome::Ignored);
        assert_eq!(t.selected(), Some(0));
    }

    #[test]
    fn a_hundred_thousand_rows() {
        let mut t = TableView::new(
            "Big",
            vec![
                Column::new("JID", Width::Fill),
                Column::new("Nick", Width::Min(10)),
            ],
        )
        .with_rows(
            (0..100_000)
                .map(|i| vec![format!("user{i}@example.org"), format!("nick{i}")])
                .collect(),
        );
        draw(&t, 60, 12);
        t.handle_key(key(KeyCode::End));
        assert_eq!(t.selected(), Some(99_999));
        let shown = draw(&t, 60, 12).to_string();
        assert!(shown.contains("> user99999@example.org"), "{shown}");
        assert!(shown.contains("100000/100000"), "{shown}");
        type_str(&mut t, "user4242");
        assert_eq!(t.len(), 11); // 4242, 42420-42429
        assert_eq!(
            t.handle_key(key(KeyCode::Enter)),
            TableOutcome::Activate(4242)
        );
        t.handle_key(key(KeyCode::End));
        assert_eq!(
            t.handle_key(key(KeyCode::Enter)),
            TableOutcome::Activate(42429)
        );
    }

    #[test]
    fn column_widths_fill_and_shrink() {
        let cols = |w: &[Width]| w.iter().map(|&w| Column::new("", w)).collect::<Vec<_>>();
        // 40 - 2 gaps = 38: mins 10 + 5, fill gets 23.
        assert_eq!(
            column_widths(&cols(&[Width::Fill, Width::Min(10), Width::Min(5)]), 40),
            [23, 10, 5]
        );
        // Two fills share, the first gets the odd one.
        assert_eq!(
            column_widths(&cols(&[Width::Fill, Width::Min(4), Width::Fill]), 21),
            [8, 4, 7]
        );
        // No fill: the last column takes the rest.
        assert_eq!(
            column_widths(&cols(&[Width::Min(4), Width::Min(4)]), 20),
            [4, 15]
        );
        // Short of space: proportional.
        assert_eq!(
            column_widths(&cols(&[Width::Min(20), Width::Min(20)]), 21),
            [10, 10]
        );
        assert_eq!(
            column_widths(&cols(&[Width::Fill, Width::Min(24)]), 17),
            [4, 12]
        );
        assert_eq!(column_widths(&cols(&[]), 17), Vec::<u16>::new());
        assert_eq!(column_widths(&cols(&[Width::Min(3)]), 0), [0]);
    }

    #[test]
    fn snapshot_selection_and_filter() {
        let mut t = rooms();
        type_str(&mut t, "conf");
        t.handle_key(key(KeyCode::Down));
        let shown = draw(&t, 72, 9);
        // The selected row (the second shown) is reversed, the others not.
        let reversed = |y: u16| {
            shown.buffer()[(10, y)]
                .modifier
                .contains(Modifier::REVERSED)
        };
        assert!(!reversed(2) && reversed(3) && !reversed(4));
        assert_snapshot!(shown);
    }

    #[test]
    fn snapshot_narrow_truncated() {
        let mut t = rooms();
        t.push_rows([vec![
            "日本語のチャットルーム@conference.example.jp".into(),
            "日本語の部屋です".into(),
            "100000".into(),
        ]]);
        t.handle_key(key(KeyCode::End));
        assert_snapshot!(draw(&t, 40, 10));
    }

    #[test]
    fn snapshot_empty_and_no_match() {
        let mut t = rooms();
        type_str(&mut t, "zzz");
        let empty: TableView = TableView::new("Bans", vec![Column::new("JID", Width::Fill)]);
        let both = render(40, 8, |area, buf| {
            let (top, bottom) = (
                Rect { height: 4, ..area },
                Rect {
                    y: 4,
                    height: 4,
                    ..area
                },
            );
            t.render(top, buf);
            Widget::render(&empty, bottom, buf);
        });
        assert_snapshot!(both);
    }

    #[test]
    fn snapshot_hostile_cells() {
        let mut t = TableView::new(
            format!("Rooms on {HOSTILE}"),
            vec![
                Column::new("Room", Width::Fill),
                Column::new("Name", Width::Min(30)),
            ],
        )
        .with_rows(vec![
            vec![format!("{HOSTILE}@conf"), HOSTILE.into()],
            vec!["ok@conf".into(), "line\nbreak\r\u{85}next".into()],
        ]);
        type_str(&mut t, "@");
        assert_snapshot!(draw(&t, 100, 6));
    }
}

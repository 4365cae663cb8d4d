//! The row layout of a log, cached: how many screen rows each line takes
//! (its day separator and unread marker included) at the pane's width,
//! kept as running sums so that a frame scrolled back any distance finds
//! its first visible line by binary search and lays out only the lines
//! it shows.
//!
//! Lines are laid out lazily, from the newest back as far as a frame
//! needs; what was laid out stays valid while the log only grows at
//! either end or loses its oldest lines. A change of anything that moves
//! rows (width, events shown, time format, time zone, the unread marker,
//! look-alike marks, `/clear`) or an edit in place (the log's revision: a
//! correction, reactions, a removal) starts afresh.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use super::{G, MessageView, Row, layout_line, shown};
use crate::store::MessageLog;

/// One window's row layout; interior mutability, as rendering reads the
/// UI state.
#[derive(Debug, Default)]
pub struct RowCache(RefCell<Rows>);

/// What a line's rows depend on besides the line and the line above it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    width: usize,
    show_events: bool,
    time_format: Option<String>,
    offset_secs: i32,
    unread_from: Option<i64>,
    lookalikes: u64,
    /// `/clear`: lines up to this seq are not shown.
    cleared: Option<i64>,
}

impl Key {
    fn of(view: &MessageView, width: usize) -> Key {
        // Order-free digest of the look-alike marks.
        let lookalikes = view.lookalikes.map_or(0, |l| {
            l.iter().fold(l.len() as u64, |acc, kv| {
                let mut h = std::hash::DefaultHasher::new();
                kv.hash(&mut h);
                acc ^ h.finish()
            })
        });
        Key {
            width,
            show_events: view.show_events,
            time_format: view.time_format.map(str::to_string),
            offset_secs: view.local_offset.local_minus_utc(),
            unread_from: view.unread_from,
            lookalikes,
            cleared: view.cleared,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Rows {
    key: Option<Key>,
    revision: u64,
    /// The log's oldest seq when `lo` was laid out (a prepend changes the
    /// rows of what was the oldest line: its day separator).
    first_seq: i64,
    /// Seq of the oldest line laid out.
    lo: i64,
    /// `sums[k]`: rows of the lines `lo .. lo + k` (so one more entry than
    /// lines laid out; they may start below zero after lines were added
    /// in front).
    sums: VecDeque<i64>,
    /// Scratch space for layouts.
    block: Vec<Row>,
    scratch: Vec<G>,
}

/// Where a frame's lines are, once the layout covers them.
pub(super) struct Span {
    /// Rows laid out in all (from `lo` to the newest line).
    pub total: usize,
    /// Every line of the log is laid out.
    pub exhausted: bool,
    /// Rows of the oldest shown line.
    pub oldest_block: usize,
}

impl RowCache {
    pub(super) fn borrow_mut(&self) -> std::cell::RefMut<'_, Rows> {
        self.0.borrow_mut()
    }
    /// Lines laid out so far (tests).
    pub fn laid_out(&self) -> usize {
        self.0.borrow().sums.len().saturating_sub(1)
    }
}

impl Rows {
    fn hi(&self) -> i64 {
        self.lo + self.sums.len() as i64 - 1
    }

    fn total(&self) -> i64 {
        self.sums.back().copied().unwrap_or(0) - self.sums.front().copied().unwrap_or(0)
    }

    /// Rows of the line `seq` (0 when it is not shown).
    fn rows_of(&mut self, log: &MessageLog, first: i64, seq: i64, view: &MessageView) -> i64 {
        let idx = (seq - first) as usize;
        let Some(m) = log.get(idx) else { return 0 };
        if !shown(m, view) {
            return 0;
        }
        let older = (0..idx)
            .rev()
            .filter_map(|i| log.get(i))
            .find(|o| shown(o, view));
        self.block.clear();
        let width = self.key.as_ref().map_or(0, |k| k.width);
        layout_line(
            m,
            older,
            log,
            view,
            width,
            &mut self.block,
            &mut self.scratch,
        );
        self.block.len() as i64
    }

    /// Brings the layout up to date with `log` and far enough back for
    /// `need` rows (or the whole log).
    pub(super) fn cover(
        &mut self,
        log: &MessageLog,
        view: &MessageView,
        width: usize,
        need: usize,
    ) -> Span {
        let (Some(oldest), Some(newest)) = (log.get(0), log.last()) else {
            self.sums.clear();
            return Span {
                total: 0,
                exhausted: true,
                oldest_block: 0,
            };
        };
        let (first, next) = (oldest.seq, newest.seq + 1);
        let key = Key::of(view, width);
        if self.key.as_ref() != Some(&key)
            || self.revision != log.revision()
            || self.sums.is_empty()
            || self.hi() > next
            || self.hi() < first
        {
            self.key = Some(key);
            self.revision = log.revision();
            self.sums.clear();
            self.sums.push_back(0);
            self.lo = next;
            self.first_seq = first;
        }
        if first != self.first_seq {
            // The oldest lines went (the window's bound)…
            while self.lo < first && self.sums.len() > 1 {
                self.sums.pop_front();
                self.lo += 1;
            }
            self.lo = self.lo.max(first);
            // …or older ones came in front: the line that is the oldest
            // now, and the one that was, may have another day separator.
            for oldest in [first, self.first_seq] {
                if self.lo == oldest && self.sums.len() > 1 {
                    self.sums.pop_front();
                    self.lo += 1;
                }
            }
            self.first_seq = first;
        }
        // New lines at the bottom.
        for seq in self.hi()..next {
            let h = self.rows_of(log, first, seq, view);
            let last = *self.sums.back().expect("a sum");
            self.sums.push_back(last + h);
        }
        // Back as far as the frame needs.
        let need = need.min(i64::MAX as usize) as i64;
        while self.total() < need && self.lo > first {
            let h = self.rows_of(log, first, self.lo - 1, view);
            let front = *self.sums.front().expect("a sum");
            self.sums.push_front(front - h);
            self.lo -= 1;
        }
        let exhausted = self.lo == first;
        let oldest_block = self
            .sums
            .iter()
            .zip(self.sums.iter().skip(1))
            .map(|(a, b)| b - a)
            .find(|h| *h > 0)
            .unwrap_or(0) as usize;
        Span {
            total: self.total() as usize,
            exhausted,
            oldest_block,
        }
    }

    /// The lines that hold rows `from ..` (counted from the bottom), the
    /// newest first: `(seq, rows below the line's bottom row)`.
    pub(super) fn lines_from(&self, from: usize) -> impl Iterator<Item = (i64, usize)> + '_ {
        let back = *self.sums.back().unwrap_or(&0);
        // The newest line whose top is above row `from`: sums[k] < back - from.
        let target = back - from as i64;
        let count = self.sums.partition_point(|s| *s < target);
        let start = count.min(self.sums.len().saturating_sub(1));
        (0..start).rev().map(move |k| {
            let below = back - self.sums[k + 1];
            (self.lo + k as i64, below as usize)
        })
    }

    /// Lays out line `seq` into `out` (its rows, top to bottom).
    pub(super) fn layout(
        &mut self,
        log: &MessageLog,
        seq: i64,
        view: &MessageView,
        out: &mut Vec<Row>,
    ) {
        let first = log.get(0).map_or(0, |m| m.seq);
        let idx = (seq - first) as usize;
        out.clear();
        let Some(m) = log.get(idx) else { return };
        if !shown(m, view) {
            return;
        }
        let older = (0..idx)
            .rev()
            .filter_map(|i| log.get(i))
            .find(|o| shown(o, view));
        let width = self.key.as_ref().map_or(0, |k| k.width);
        layout_line(m, older, log, view, width, out, &mut self.scratch);
    }
}

#[cfg(test)]
mod tests;

//! The events a batch script's `/wait` can still match.
//!
//! `/wait` looks at events that came before it, not only new ones: those
//! printed since the previous `/wait` matched (a reply may arrive while
//! the `/say` before the `/wait` runs). They are kept as the JSON lines
//! printed — the newest [`SEEN_EVENTS`], and at most [`SEEN_BYTES`] of
//! them — and parsed again when a `/wait` looks. While a `/wait` runs,
//! every new event is checked as it is printed, so the bound never hides
//! an event from the `/wait` that is running; only older events than the
//! bound are out of reach of the next one.

use std::collections::VecDeque;

use serde_json::Value;

/// Events kept for the next `/wait` at most.
pub const SEEN_EVENTS: usize = 10_000;
/// Bytes of JSON lines kept for the next `/wait` at most.
pub const SEEN_BYTES: usize = 8 * 1024 * 1024;

/// The newest events, each at an absolute position (0 = the first event
/// of the run).
#[derive(Debug)]
pub struct Seen {
    lines: VecDeque<String>,
    bytes: usize,
    /// Position of the oldest line held.
    start: u64,
    max_events: usize,
    max_bytes: usize,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::with_limits(SEEN_EVENTS, SEEN_BYTES)
    }
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or(Value::Null)
}

impl Seen {
    pub fn with_limits(max_events: usize, max_bytes: usize) -> Seen {
        Seen {
            lines: VecDeque::new(),
            bytes: 0,
            start: 0,
            max_events: max_events.max(1),
            max_bytes,
        }
    }

    /// Position of the next event.
    pub fn end(&self) -> u64 {
        self.start + self.lines.len() as u64
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of the lines held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps a printed line; the oldest go past the bounds. Returns its
    /// position.
    pub fn push(&mut self, line: String) -> u64 {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > 1
            && (self.lines.len() > self.max_events || self.bytes > self.max_bytes)
            && let Some(old) = self.lines.pop_front()
        {
            self.bytes -= old.len();
            self.start += 1;
        }
        self.end() - 1
    }

    /// Forgets the newest line (a `/wait`'s own `ok`).
    pub fn pop_back(&mut self) {
        if let Some(l) = self.lines.pop_back() {
            self.bytes -= l.len();
        }
    }

    /// The first event held from position `from` on for which `pred`
    /// holds; its position.
    pub fn find_from(&self, from: u64, mut pred: impl FnMut(&Value) -> bool) -> Option<u64> {
        let skip = from.saturating_sub(self.start) as usize;
        self.lines
            .iter()
            .skip(skip)
            .position(|l| pred(&parse(l)))
            .map(|p| self.start + (skip + p) as u64)
    }

    /// The newest event for which `pred` holds.
    pub fn rfind(&self, mut pred: impl FnMut(&Value) -> bool) -> Option<Value> {
        self.lines.iter().rev().map(|l| parse(l)).find(|v| pred(v))
    }

    /// Forgets everything up to and including position `pos`.
    pub fn consume_through(&mut self, pos: u64) {
        while self.start <= pos
            && let Some(old) = self.lines.pop_front()
        {
            self.bytes -= old.len();
            self.start += 1;
        }
    }

    /// Forgets everything held.
    pub fn clear(&mut self) {
        self.start = self.end();
        self.lines.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> String {
        format!("{{\"event\":\"message\",\"body\":\"m{n:04}\"}}")
    }
    fn body_is(n: u64) -> impl FnMut(&Value) -> bool {
        move |v| v["body"] == format!("m{n:04}")
    }

    #[test]
    fn keeps_the_newest_events_within_both_bounds() {
        let mut s = Seen::with_limits(100, 1 << 20);
        for n in 0..1_000 {
            assert_eq!(s.push(ev(n)), n);
        }
        assert_eq!(s.len(), 100);
        assert_eq!(s.end(), 1_000);
        assert_eq!(s.find_from(0, body_is(899)), None, "older than the bound");
        assert_eq!(s.find_from(0, body_is(900)), Some(900));
        assert_eq!(s.find_from(950, body_is(940)), None, "before `from`");
        assert_eq!(s.find_from(950, body_is(999)), Some(999));

        let line = ev(0).len();
        let mut s = Seen::with_limits(1_000, 10 * line);
        for n in 0..50 {
            s.push(ev(n));
        }
        assert_eq!(s.len(), 10);
        assert!(s.bytes() <= 10 * line);
        // A single line over the byte bound is still kept (the newest).
        let mut s = Seen::with_limits(1_000, 4);
        s.push(ev(7));
        assert_eq!(s.len(), 1);
        assert_eq!(s.rfind(body_is(7)).unwrap()["body"], "m0007");
    }

    #[test]
    fn consuming_keeps_later_events_and_positions() {
        let mut s = Seen::with_limits(10, 1 << 20);
        for n in 0..5 {
            s.push(ev(n));
        }
        s.consume_through(2);
        assert_eq!(s.len(), 2);
        assert_eq!(s.find_from(0, body_is(3)), Some(3));
        // A position already gone consumes nothing more.
        s.consume_through(1);
        assert_eq!(s.len(), 2);
        s.push(ev(5));
        s.pop_back();
        assert_eq!(s.end(), 5);
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.push(ev(5)), 5);
    }
}

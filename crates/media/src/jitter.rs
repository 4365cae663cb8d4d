//! The reordering half of a stream's jitter buffer: RTP packets in,
//! packets in sequence order out, a missing one declared lost only once
//! `depth` later packets have arrived — so a packet that was merely
//! overtaken (jitter larger than the 20 ms spacing) by at most `depth`
//! others is still played, and
//! a lost one is rebuilt from the next packet's FEC when that one is
//! there.
//!
//! The depth adapts: it grows at once to the lateness seen (how many later
//! packets had overtaken the one that arrived, or by how much a packet
//! missed its turn), up to [`MAX_DEPTH`], and shrinks by one after
//! [`RELAX_AFTER`] packets without such lateness. In-order packets leave
//! at once whatever the depth: only a hole waits.
//!
//! A copy of a frame that came in a later packet (RED, RFC 2198) fills its
//! hole ([`Reorder::fill`]) without counting as lateness; a copy that
//! comes for a hole already declared lost shows the wait was too short:
//! the depth grows to catch it next time. While copies come, the depth
//! stays at least the farthest copy's distance ([`Reorder::set_floor`]).
//!
//! The timing half (a playout queue filled before playing) is the mixer's
//! slot in [`super::playback`].

use std::collections::VecDeque;

/// Depth when a stream starts (3 packets: 60 ms of overtaking).
pub const START_DEPTH: usize = 3;
/// The deepest it gets (8 packets: 160 ms).
pub const MAX_DEPTH: usize = 8;
/// Packets without lateness before the depth shrinks by one.
pub const RELAX_AFTER: u32 = 250;
/// A jump ahead by more than this (packets) is a new start, not a gap.
pub const MAX_JUMP: u16 = 25;

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Held for its turn.
    Held,
    /// Its turn is past (it was declared lost), or it is a duplicate.
    Late,
    /// Too far ahead: flush what is held ([`Reorder::flush`]), then
    /// [`Reorder::restart`] at it.
    Jump,
}

/// What comes out, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Packet(Vec<u8>),
    /// A lost packet, with the next packet when it is there (its FEC data
    /// rebuilds the lost one).
    Lost {
        next: Option<Vec<u8>>,
    },
}

/// See the module docs.
#[derive(Debug)]
pub struct Reorder {
    next: Option<u16>,
    slots: VecDeque<Option<Vec<u8>>>,
    depth: usize,
    /// The least depth (RED: the farthest copy's distance).
    floor: usize,
    /// The last holes declared lost (a copy of one coming later deepens
    /// the wait).
    lost: VecDeque<u16>,
    calm: u32,
}

impl Default for Reorder {
    fn default() -> Self {
        Reorder {
            next: None,
            slots: VecDeque::new(),
            depth: START_DEPTH,
            floor: 1,
            lost: VecDeque::new(),
            calm: 0,
        }
    }
}

impl Reorder {
    pub fn new() -> Reorder {
        Reorder::default()
    }

    /// Packets a hole waits for now.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The sequence number of the next packet out.
    pub fn next_seq(&self) -> Option<u16> {
        self.next
    }

    /// Packets (and holes) held.
    pub fn held(&self) -> usize {
        self.slots.len()
    }

    fn late_by(&mut self, packets: usize) {
        self.calm = 0;
        self.depth = self.depth.max(packets.min(MAX_DEPTH));
    }

    pub fn push(&mut self, seq: u16, payload: Vec<u8>) -> Pushed {
        let next = *self.next.get_or_insert(seq);
        let d = seq.wrapping_sub(next);
        if d >= 0x8000 {
            // Behind: at least `behind - 1` packets overtook it; the depth
            // grows to that, and one more.
            let behind = usize::from(next.wrapping_sub(seq));
            self.late_by(behind);
            return Pushed::Late;
        }
        if d > MAX_JUMP + MAX_DEPTH as u16 {
            return Pushed::Jump;
        }
        let d = usize::from(d);
        if d < self.slots.len() {
            if self.slots[d].is_some() {
                return Pushed::Late; // a duplicate
            }
            // It fills a hole: the later ones held overtook it.
            self.late_by(self.slots.len() - d - 1);
        } else {
            self.slots.resize(d + 1, None);
            self.calm = self.calm.saturating_add(1);
            if self.calm >= RELAX_AFTER && self.depth > self.floor {
                self.depth -= 1;
                self.calm = 0;
            }
        }
        self.slots[d] = Some(payload);
        Pushed::Held
    }

    /// The depth never relaxes below `floor` (1 to [`MAX_DEPTH`]); it
    /// grows to it now if it is lower.
    pub fn set_floor(&mut self, floor: usize) {
        self.floor = floor.clamp(1, MAX_DEPTH);
        self.depth = self.depth.max(self.floor);
    }

    /// The least depth now.
    pub fn floor(&self) -> usize {
        self.floor
    }

    /// A copy of packet `seq` carried by a later packet (RED): it fills
    /// that packet's hole if the hole is still held (true). One whose
    /// hole was declared lost grows the depth by what it missed (a copy
    /// of a packet that was played is nothing); a
    /// hole not yet known (no later packet seen: cannot happen for a copy
    /// pushed after its carrier) or a packet already there is left as it
    /// is.
    pub fn fill(&mut self, seq: u16, payload: Vec<u8>) -> bool {
        let Some(next) = self.next else {
            return false;
        };
        let d = seq.wrapping_sub(next);
        if d >= 0x8000 {
            if let Some(i) = self.lost.iter().position(|&l| l == seq) {
                self.lost.remove(i);
                self.late_by(usize::from(next.wrapping_sub(seq)));
            }
            return false;
        }
        match self.slots.get_mut(usize::from(d)) {
            Some(slot @ None) => {
                *slot = Some(payload);
                true
            }
            _ => false,
        }
    }

    /// The next packet (or loss) whose turn it is: a packet at the front,
    /// or a hole once more than `depth` packets wait behind it.
    pub fn pop(&mut self) -> Option<Out> {
        match self.slots.front() {
            Some(Some(_)) => self.take(),
            // More than `depth` packets overtook the hole.
            Some(None) if self.slots.len() > self.depth + 1 => self.take(),
            _ => None,
        }
    }

    /// Like [`Reorder::pop`], not waiting for anything (the stream ends or
    /// jumps).
    pub fn flush(&mut self) -> Option<Out> {
        // Trailing holes are not losses: nothing came after them.
        while matches!(self.slots.back(), Some(None)) {
            self.slots.pop_back();
        }
        if self.slots.is_empty() {
            return None;
        }
        self.take()
    }

    /// Starts again at `seq` (after [`Pushed::Jump`] and a flush).
    pub fn restart(&mut self, seq: u16) {
        self.slots.clear();
        self.next = Some(seq);
    }

    fn take(&mut self) -> Option<Out> {
        let front = self.slots.pop_front()?;
        if front.is_none()
            && let Some(n) = self.next
        {
            if self.lost.len() == MAX_DEPTH {
                self.lost.pop_front();
            }
            self.lost.push_back(n);
        }
        self.next = self.next.map(|n| n.wrapping_add(1));
        Some(match front {
            Some(p) => Out::Packet(p),
            None => Out::Lost {
                next: self.slots.front().cloned().flatten(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(r: &mut Reorder) -> Vec<Out> {
        std::iter::from_fn(|| r.pop()).collect()
    }

    fn p(n: u8) -> Vec<u8> {
        vec![n]
    }

    #[test]
    fn in_order_packets_leave_at_once_and_overtaken_ones_are_put_back() {
        let mut r = Reorder::new();
        r.push(65_535, p(0));
        assert_eq!(drain(&mut r), vec![Out::Packet(p(0))]);
        // 1 overtakes 0 (the sequence wraps): held until 0 comes.
        assert_eq!(r.push(1, p(2)), Pushed::Held);
        assert_eq!(drain(&mut r), vec![]);
        r.push(0, p(1));
        assert_eq!(drain(&mut r), vec![Out::Packet(p(1)), Out::Packet(p(2))]);
        assert_eq!(r.depth(), START_DEPTH);
        assert_eq!(r.push(0, p(1)), Pushed::Late, "a duplicate");
    }

    #[test]
    fn a_hole_waits_depth_packets_then_is_lost_with_the_next_for_fec() {
        let mut r = Reorder::new();
        r.push(10, p(10));
        drain(&mut r);
        let d = START_DEPTH as u8;
        for s in 12..12 + d {
            r.push(u16::from(s), p(s));
        }
        assert_eq!(
            drain(&mut r),
            vec![],
            "depth behind the hole: still waiting"
        );
        r.push(u16::from(12 + d), p(12 + d));
        let mut want = vec![Out::Lost { next: Some(p(12)) }];
        want.extend((12..=12 + d).map(|s| Out::Packet(p(s))));
        assert_eq!(drain(&mut r), want);
        // 11 shows up now, overtaken by depth + 1: the depth grows to
        // cover that, and one more.
        assert_eq!(r.push(11, p(11)), Pushed::Late);
        assert_eq!(r.depth(), START_DEPTH + 2);
        // A long run in order relaxes it again, one step at a time.
        let first = 13 + u16::from(d);
        for s in first..first + RELAX_AFTER as u16 {
            r.push(s, p(0));
            drain(&mut r);
        }
        assert_eq!(r.depth(), START_DEPTH + 1);
    }

    #[test]
    fn a_copy_fills_its_hole_and_a_copy_too_late_deepens_the_wait() {
        let mut r = Reorder::new();
        r.set_floor(3);
        r.push(100, p(100));
        drain(&mut r);
        // 101 lost; 102 carries its copy: it plays in order, no loss.
        r.push(102, p(102));
        assert!(r.fill(101, p(101)));
        assert!(!r.fill(101, p(1)), "already there");
        assert!(!r.fill(102, p(1)), "the packet itself is there");
        assert!(!r.fill(103, p(1)), "nothing known past the carrier");
        assert_eq!(
            drain(&mut r),
            vec![Out::Packet(p(101)), Out::Packet(p(102))]
        );
        assert!(!r.fill(100, p(100)), "played already");
        assert_eq!(r.depth(), START_DEPTH, "neither is lateness");
        // 103 to 106 lost, then 107…: 103 waits for `depth` packets and is
        // lost before its farthest copy (in 106) could come.
        for s in 107..=110 {
            r.push(s, p(s as u8));
        }
        let lost = drain(&mut r);
        assert_eq!(lost[0], Out::Lost { next: None });
        // A copy of 103 arrives now: its turn is past; the depth grows.
        assert!(!r.fill(103, p(103)));
        assert!(r.depth() > START_DEPTH);
        // The floor holds the depth up through a long calm run.
        let mut r = Reorder::new();
        r.set_floor(3);
        for s in 0..(RELAX_AFTER as u16 * 4) {
            r.push(s, p(0));
            drain(&mut r);
        }
        assert_eq!(r.depth(), 3);
        assert_eq!(r.floor(), 3);
        r.set_floor(100);
        assert_eq!((r.floor(), r.depth()), (MAX_DEPTH, MAX_DEPTH));
    }

    #[test]
    fn a_jump_is_a_restart_and_a_flush_ignores_trailing_holes() {
        let mut r = Reorder::new();
        r.push(1, p(1));
        drain(&mut r);
        r.push(3, p(3));
        r.push(6, p(6)); // holes at 2, 4 and 5; 7 and on never come
        assert_eq!(r.push(500, p(9)), Pushed::Jump);
        let flushed: Vec<Out> = std::iter::from_fn(|| r.flush()).collect();
        assert_eq!(
            flushed,
            vec![
                Out::Lost { next: Some(p(3)) },
                Out::Packet(p(3)),
                Out::Lost { next: None },
                Out::Lost { next: Some(p(6)) },
                Out::Packet(p(6)),
            ]
        );
        r.restart(500);
        assert_eq!(r.push(500, p(9)), Pushed::Held);
        assert_eq!(drain(&mut r), vec![Out::Packet(p(9))]);
        r.push(503, p(3));
        assert_eq!(r.flush(), Some(Out::Lost { next: None }));
    }
}

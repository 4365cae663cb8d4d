//! A lock-free single-producer single-consumer ring of `f32` samples, the
//! only thing cpal callbacks touch: preallocated, std atomics only, no
//! `unsafe`. Samples are stored as `AtomicU32` bit patterns (a relaxed
//! atomic store is a plain store on every platform we build for); the
//! write and read counters carry the release/acquire ordering.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

struct Shared {
    slots: Box<[AtomicU32]>,
    mask: usize,
    /// Samples written so far (wrapping), advanced only by the producer.
    head: AtomicUsize,
    /// Samples read so far (wrapping), advanced only by the consumer.
    tail: AtomicUsize,
    /// Samples the producer had to drop because the ring was full.
    dropped: AtomicU64,
}

/// The writing half. Not `Clone`: there is exactly one producer.
pub struct Producer {
    shared: Arc<Shared>,
}

/// The reading half. Not `Clone`: there is exactly one consumer.
pub struct Consumer {
    shared: Arc<Shared>,
}

/// A ring holding at least `capacity` samples (rounded up to a power of two).
pub fn ring(capacity: usize) -> (Producer, Consumer) {
    let size = capacity.max(2).next_power_of_two();
    let slots = (0..size).map(|_| AtomicU32::new(0)).collect();
    let shared = Arc::new(Shared {
        slots,
        mask: size - 1,
        head: AtomicUsize::new(0),
        tail: AtomicUsize::new(0),
        dropped: AtomicU64::new(0),
    });
    (
        Producer {
            shared: shared.clone(),
        },
        Consumer { shared },
    )
}

impl Shared {
    fn capacity(&self) -> usize {
        self.mask + 1
    }

    fn len(&self) -> usize {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        head.wrapping_sub(tail)
    }
}

impl Producer {
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Samples waiting to be read.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes what fits of `samples`; the rest is dropped (and counted).
    /// Returns how many were pushed. Wait-free, no allocation.
    pub fn push_iter(&mut self, samples: impl Iterator<Item = f32>) -> usize {
        let s = &*self.shared;
        let head = s.head.load(Ordering::Relaxed);
        let tail = s.tail.load(Ordering::Acquire);
        let free = s.capacity() - head.wrapping_sub(tail);
        let mut written = 0;
        let mut samples = samples;
        for sample in samples.by_ref() {
            if written == free {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                break;
            }
            s.slots[head.wrapping_add(written) & s.mask].store(sample.to_bits(), Ordering::Relaxed);
            written += 1;
        }
        let rest = samples.count() as u64;
        if rest > 0 {
            s.dropped.fetch_add(rest, Ordering::Relaxed);
        }
        s.head.store(head.wrapping_add(written), Ordering::Release);
        written
    }

    pub fn push_slice(&mut self, samples: &[f32]) -> usize {
        self.push_iter(samples.iter().copied())
    }

    /// Samples dropped so far because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Consumer {
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Samples waiting to be read.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands up to `max` samples to `f`, oldest first; returns how many.
    /// Wait-free, no allocation.
    pub fn pop_each(&mut self, max: usize, mut f: impl FnMut(f32)) -> usize {
        let s = &*self.shared;
        let tail = s.tail.load(Ordering::Relaxed);
        let head = s.head.load(Ordering::Acquire);
        let n = head.wrapping_sub(tail).min(max);
        for i in 0..n {
            f(f32::from_bits(
                s.slots[tail.wrapping_add(i) & s.mask].load(Ordering::Relaxed),
            ));
        }
        s.tail.store(tail.wrapping_add(n), Ordering::Release);
        n
    }

    /// Reads up to `out.len()` samples into `out`; returns how many.
    pub fn pop_slice(&mut self, out: &mut [f32]) -> usize {
        let mut i = 0;
        let max = out.len();
        self.pop_each(max, |x| {
            out[i] = x;
            i += 1;
        })
    }

    /// Appends everything waiting to `out` (not for real-time threads: it
    /// may grow `out`).
    pub fn drain_into(&mut self, out: &mut Vec<f32>) -> usize {
        self.pop_each(usize::MAX, |x| out.push(x))
    }

    /// Discards up to `n` samples; returns how many.
    pub fn skip(&mut self, n: usize) -> usize {
        self.pop_each(n, |_| {})
    }

    /// Samples the producer dropped so far because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_wraps_and_counts_drops() {
        let (mut p, mut c) = ring(6);
        assert_eq!(p.capacity(), 8);
        assert_eq!(p.push_slice(&[1.0, 2.0, 3.0, 4.0, 5.0]), 5);
        let mut out = [0.0; 3];
        assert_eq!(c.pop_slice(&mut out), 3);
        assert_eq!(out, [1.0, 2.0, 3.0]);
        // 2 waiting, 6 free: 7 offered, 1 dropped; the ring wraps.
        assert_eq!(p.push_slice(&[6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]), 6);
        assert_eq!(p.dropped(), 1);
        let mut all = Vec::new();
        c.drain_into(&mut all);
        assert_eq!(all, vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        assert!(c.is_empty());
        assert_eq!(c.skip(3), 0);
    }

    #[test]
    fn threads_see_every_sample_in_order() {
        let (mut p, mut c) = ring(64);
        const N: usize = 100_000;
        let writer = std::thread::spawn(move || {
            let mut next = 0usize;
            while next < N {
                let end = (next + 17).min(N);
                let pushed = p.push_iter((next..end).map(|i| i as f32));
                next += pushed;
                if pushed == 0 {
                    std::thread::yield_now();
                }
            }
            p.dropped()
        });
        let mut expected = 0usize;
        while expected < N {
            let n = c.pop_each(usize::MAX, |x| {
                assert_eq!(x, expected as f32);
                expected += 1;
            });
            if n == 0 {
                std::thread::yield_now();
            }
        }
        // Drops are counted, but the writer above only offers what it
        // re-offers, so it sees them as "not pushed".
        let _ = writer.join().unwrap();
    }
}

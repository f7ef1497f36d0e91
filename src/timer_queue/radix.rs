//! The `fifo`/`random` timer queue: a radix queue over deadlines.
//!
//! A virtual clock only moves forward, so the deadlines leaving the queue
//! never decrease. A radix queue (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster
//! algorithms for the shortest path problem", 1990) uses that. It keeps a
//! `base` deadline and two parts:
//!
//! * `run`: the timers due at or before `base`, sorted by the whole order
//!   `(deadline, key, seq)`, next to leave at the front;
//! * `buckets`: every later timer, filed by the highest 4-bit digit in which
//!   its deadline differs from `base`: bucket `16 d + v` holds the
//!   deadlines whose first differing digit is digit `d` and has value `v`.
//!   Pushing there is appending to a vector.
//!
//! Every timer of a bucket is earlier than every timer of a higher bucket.
//! So when `run` runs short, the lowest non-empty bucket holds the next
//! timers. If it is small, it is sorted and appended to `run`, and `base`
//! moves up to its last deadline (the higher buckets stay valid: the new
//! base shares the old one's digits above `d` and has digit `v` at `d`). If
//! it is large, its smallest deadline becomes `base`, the timers at that
//! deadline join `run`, and the rest are filed again, each into a bucket of
//! a lower digit. A timer so moves at most 16 times and usually a few, by
//! sequential appends, where a heap pop on a large heap takes a cache miss
//! on every level.
//!
//! The digit's width trades refiling against the buckets' fixed cost:
//! 1-bit digits, the textbook's, refile W4's timers about 3x more than 4-bit
//! ones; 8-bit ones refile a third less than 4-bit ones, but their 2,048
//! buckets cost a small loop more than that saves (`explore` on a short
//! scenario: 65% slower).
//!
//! A timer pushed at or before `base` (a `call_at` in the past, say) is
//! inserted into `run` in order. When the queue empties, `base` goes back
//! to the earliest deadline, so `run` stays short.

use super::TimerEntry;
use crate::event_loop::slots::Slots;
use crate::fifo_vec::FifoVec;
use std::cmp::Ordering;

/// A bucket at most this long is sorted into `run` rather than refiled.
const SORT_AT_MOST: usize = 32;

/// A deadline as an unsigned integer in the same order.
fn ordered(when: i64) -> u64 {
    (when as u64) ^ (1 << 63)
}

/// The width of a digit, in bits.
const DIGIT_BITS: u32 = 4;
/// The values of one digit.
const RADIX: u32 = 1 << DIGIT_BITS;
/// How many buckets: every digit of a 64-bit deadline, every value.
const BUCKETS: usize = (64 / DIGIT_BITS * RADIX) as usize;

/// The bucket of `key > base`: `16 d + v`, where digit `d` is the highest
/// in which they differ and `v` is `key`'s value there.
fn bucket_of(key: u64, base: u64) -> usize {
    let digit = (63 - (key ^ base).leading_zeros()) / DIGIT_BITS;
    (RADIX * digit + ((key >> (DIGIT_BITS * digit)) & u64::from(RADIX - 1)) as u32) as usize
}

/// The whole order; the slots are read only for equal deadlines.
pub(super) fn order(a: &TimerEntry, b: &TimerEntry, ties: &Slots) -> Ordering {
    a.when
        .cmp(&b.when)
        .then_with(|| ties.tie(a.slot).cmp(&ties.tie(b.slot)))
}

pub(crate) struct RadixQueue {
    /// `run` is at or before it, buckets after it (as [`ordered`] values).
    base: u64,
    /// The earliest timers, in order.
    run: FifoVec<TimerEntry>,
    /// See [`bucket_of`]; made on the first push.
    buckets: Vec<Vec<TimerEntry>>,
    /// Bit `i` set when `buckets[i]` is not empty.
    occupied: [u64; BUCKETS / 64],
    len: usize,
}

impl Default for RadixQueue {
    fn default() -> Self {
        RadixQueue {
            base: 0,
            run: FifoVec::default(),
            buckets: Vec::new(),
            occupied: [0; BUCKETS / 64],
            len: 0,
        }
    }
}

impl RadixQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, entry: TimerEntry, ties: &Slots) {
        self.len += 1;
        let key = ordered(entry.when);
        if key <= self.base {
            let at = self
                .run
                .as_slice()
                .partition_point(|other| order(other, &entry, ties) == Ordering::Less);
            self.run.insert(at, entry);
        } else {
            self.file(bucket_of(key, self.base), entry);
        }
    }

    fn file(&mut self, bucket: usize, entry: TimerEntry) {
        if self.buckets.is_empty() {
            self.buckets.resize_with(BUCKETS, Vec::new);
        }
        self.buckets[bucket].push(entry);
        self.occupied[bucket / 64] |= 1 << (bucket % 64);
    }

    /// The lowest non-empty bucket, marked empty.
    fn take_lowest(&mut self) -> Option<usize> {
        let (word, bits) = self
            .occupied
            .iter_mut()
            .enumerate()
            .find(|(_, bits)| **bits != 0)?;
        let bit = bits.trailing_zeros() as usize;
        *bits &= !(1 << bit);
        Some(64 * word + bit)
    }

    /// The timer that leaves next.
    pub fn peek(&mut self, ties: &Slots) -> Option<TimerEntry> {
        if self.run.is_empty() {
            self.refill(ties);
        }
        self.run.front()
    }

    /// The timer that leaves `n`-th after the next (`peek_nth(0)` is
    /// [`peek`](RadixQueue::peek)). Refilling `run` early for it moves the
    /// next buckets' timers into `run` sooner, which is all it changes.
    pub fn peek_nth(&mut self, n: usize, ties: &Slots) -> Option<TimerEntry> {
        while self.run.len() <= n {
            let before = self.run.len();
            self.refill(ties);
            if self.run.len() == before {
                break;
            }
        }
        self.run.get(n)
    }

    pub fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        if self.run.is_empty() {
            self.refill(ties);
        }
        let entry = self.run.pop_front()?;
        self.len -= 1;
        if self.len == 0 {
            self.base = 0;
        }
        Some(entry)
    }

    /// Moves the next timers from the lowest non-empty bucket into `run`,
    /// after those it holds (every timer in `run` is at or before `base`,
    /// every bucketed one after it, so the order holds).
    fn refill(&mut self, ties: &Slots) {
        let Some(lowest) = self.take_lowest() else {
            return;
        };
        let mut bucket = std::mem::take(&mut self.buckets[lowest]);
        if bucket.len() <= SORT_AT_MOST {
            bucket.sort_unstable_by(|a, b| order(a, b, ties));
            if let Some(last) = bucket.last() {
                self.base = ordered(last.when);
            }
            self.run.extend(bucket.drain(..));
        } else {
            let Some(base) = bucket.iter().map(|e| ordered(e.when)).min() else {
                return;
            };
            self.base = base;
            for entry in bucket.drain(..) {
                // Every timer of this bucket shares the new base's digits
                // down to this bucket's, so it lands in a bucket of a lower
                // digit (or at the base).
                let key = ordered(entry.when);
                if key == base {
                    self.run.push_back(entry);
                } else {
                    self.file(bucket_of(key, base), entry);
                }
            }
            if self.run.len() > 1 {
                self.run
                    .as_mut_slice()
                    .sort_unstable_by(|a, b| order(a, b, ties));
            }
        }
        // Keep the emptied vector's capacity for the next timers filed here.
        self.buckets[lowest] = bucket;
    }

    /// Every timer, in no particular order, left in place.
    pub fn entries(&self) -> Vec<TimerEntry> {
        let mut all = self.run.as_slice().to_vec();
        for bucket in &self.buckets {
            all.extend_from_slice(bucket);
        }
        all
    }

    /// Every timer, in no particular order, leaving the queue empty.
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        let mut all = self.run.take_all();
        // Only the occupied buckets: most of the 256 are empty.
        while let Some(bucket) = self.take_lowest() {
            all.append(&mut self.buckets[bucket]);
        }
        self.len = 0;
        self.base = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_loop::callback;
    use crate::rng::{SeededRng, Stream};

    /// Pushes, looks ahead and pops at random (deadlines never below the
    /// last popped one minus a margin, as on a loop, with some in the past)
    /// and checks every look and pop against a sorted model.
    #[test]
    fn pops_in_total_order() {
        for seed in 0..20 {
            let mut rng = SeededRng::new(seed, Stream::Program);
            let mut slots = Slots::default();
            let mut queue = RadixQueue::default();
            let mut model = std::collections::BTreeSet::new();
            let mut now = 0i64;
            for seq in 0..3000u64 {
                if rng.below(3) > 0 {
                    let when = match rng.below(10) {
                        0 => now - rng.in_range(0, 50),
                        1 => now,
                        _ => now + rng.in_range(0, if seed % 2 == 0 { 40 } else { 1 << 40 }),
                    };
                    let slot = slots.insert(seq, callback::internal(|_| ()), 0);
                    if seed % 3 == 0 {
                        slots.set_tie_key(slot, rng.next_u64() % 4);
                    }
                    queue.push(TimerEntry { when, slot }, &slots);
                    model.insert((when, slots.tie(slot), slot));
                } else {
                    // A look far ahead (which refills `run` early, as the
                    // loop's prefetching does) sees the model's n-th.
                    let n = rng.below(12) as usize;
                    let far = queue.peek_nth(n, &slots).map(|e| e.slot);
                    assert_eq!(far, model.iter().nth(n).map(|e| e.2), "seed {seed}");
                    let peeked = queue.peek(&slots).map(|e| e.slot);
                    let second = queue.peek_nth(1, &slots).map(|e| e.slot);
                    let popped = queue.pop(&slots);
                    let expected = model.pop_first();
                    assert_eq!(popped.map(|e| e.slot), expected.map(|e| e.2), "seed {seed}");
                    assert_eq!(peeked, popped.map(|e| e.slot));
                    assert_eq!(second, model.first().map(|e| e.2), "seed {seed}");
                    if let Some(e) = popped {
                        now = now.max(e.when);
                        drop(slots.dequeue(e.slot));
                    }
                }
                assert_eq!(queue.len(), model.len());
            }
            // What compaction does: everything out, the survivors back in.
            let survivors: Vec<_> = queue
                .drain()
                .into_iter()
                .filter(|e| e.slot % 3 != 0)
                .collect();
            model.retain(|e| e.2 % 3 != 0);
            for entry in survivors {
                queue.push(entry, &slots);
            }
            while let Some(expected) = model.pop_first() {
                assert_eq!(
                    queue.pop(&slots).map(|e| e.slot),
                    Some(expected.2),
                    "seed {seed}"
                );
            }
            assert!(queue.pop(&slots).is_none());
        }
    }

    /// A burst far larger than the sorted-run limit, with many equal
    /// deadlines, leaves in order.
    #[test]
    fn a_burst_leaves_in_order() {
        let mut rng = SeededRng::new(7, Stream::Program);
        let mut slots = Slots::default();
        let mut queue = RadixQueue::default();
        let mut model = Vec::new();
        for seq in 0..20_000u64 {
            let when = rng.in_range(-1_000, 1 << 30) & !0xff;
            let slot = slots.insert(seq, callback::internal(|_| ()), 0);
            slots.set_tie_key(slot, rng.next_u64() % 8);
            queue.push(TimerEntry { when, slot }, &slots);
            model.push((when, slots.tie(slot), slot));
        }
        model.sort();
        for expected in model {
            assert_eq!(queue.pop(&slots).map(|e| e.slot), Some(expected.2));
        }
    }
}

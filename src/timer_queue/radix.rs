//! The `fifo`/`random` timer queue: a radix queue over deadlines.
//!
//! A virtual clock only moves forward, so the deadlines leaving the queue
//! never decrease. A radix queue (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster
//! algorithms for the shortest path problem", 1990) uses that. It keeps a
//! `base` deadline and two parts:
//!
//! * `run`: the timers due at or before `base`, sorted by the whole order
//!   `(deadline, key, seq)`, next to leave at the front;
//! * `buckets`: every later timer, in bucket `i` where `i - 1` is the
//!   highest bit in which its deadline differs from `base`. Pushing there
//!   is appending to a vector.
//!
//! Every timer of bucket `i` is earlier than every timer of a higher bucket.
//! So when `run` is empty, the lowest non-empty bucket holds the next
//! timers. If it is small, it is sorted and becomes `run`, and `base` moves
//! up to its last deadline (the higher buckets stay valid: the new base
//! shares the old one's bits above `i - 1`). If it is large, its smallest
//! deadline becomes `base`, the timers at that deadline become `run`, and
//! the rest are filed again, each into a lower bucket. A timer is moved a
//! few times at most, by sequential appends, where a heap pop on a large
//! heap takes a cache miss on every level.
//!
//! A timer pushed at or before `base` (a `call_at` in the past, say) is
//! inserted into `run` in order. When the queue empties, `base` goes back
//! to the earliest deadline, so `run` stays short.

use super::TimerEntry;
use crate::event_loop::slots::Slots;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// A bucket at most this long is sorted into `run` rather than refiled.
const SORT_AT_MOST: usize = 32;

/// A deadline as an unsigned integer in the same order.
fn ordered(when: i64) -> u64 {
    (when as u64) ^ (1 << 63)
}

/// The bucket of `key` around `base`: the position of the highest bit in
/// which they differ, plus one (0 when equal).
fn bucket_of(key: u64, base: u64) -> usize {
    (u64::BITS - (key ^ base).leading_zeros()) as usize
}

/// The whole order; the slots are read only for equal deadlines.
fn order(a: &TimerEntry, b: &TimerEntry, ties: &Slots) -> Ordering {
    a.when
        .cmp(&b.when)
        .then_with(|| ties.tie(a.slot).cmp(&ties.tie(b.slot)))
}

pub(crate) struct RadixQueue {
    /// `run` is at or before it, buckets after it (as [`ordered`] values).
    base: u64,
    /// The earliest timers, in order.
    run: VecDeque<TimerEntry>,
    /// `buckets[i - 1]`: deadlines differing from `base` first at bit `i - 1`.
    buckets: [Vec<TimerEntry>; 64],
    /// Bit `i - 1` set when `buckets[i - 1]` is not empty.
    occupied: u64,
    len: usize,
}

impl Default for RadixQueue {
    fn default() -> Self {
        RadixQueue {
            base: 0,
            run: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            occupied: 0,
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
                .partition_point(|other| order(other, &entry, ties) == Ordering::Less);
            self.run.insert(at, entry);
        } else {
            let i = bucket_of(key, self.base);
            self.buckets[i - 1].push(entry);
            self.occupied |= 1 << (i - 1);
        }
    }

    /// The timer that leaves next.
    pub fn peek(&mut self, ties: &Slots) -> Option<TimerEntry> {
        if self.run.is_empty() {
            self.refill(ties);
        }
        self.run.front().copied()
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

    /// Moves the next timers from the lowest non-empty bucket into `run`.
    fn refill(&mut self, ties: &Slots) {
        if self.occupied == 0 {
            return;
        }
        let lowest = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << lowest);
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
                // Every timer of this bucket shares the base's bits above
                // `lowest`, so it lands in a lower bucket (or at the base).
                match bucket_of(ordered(entry.when), base) {
                    0 => self.run.push_back(entry),
                    i => {
                        self.buckets[i - 1].push(entry);
                        self.occupied |= 1 << (i - 1);
                    }
                }
            }
            if self.run.len() > 1 {
                self.run
                    .make_contiguous()
                    .sort_unstable_by(|a, b| order(a, b, ties));
            }
        }
        // Keep the emptied vector's capacity for the next timers filed here.
        self.buckets[lowest] = bucket;
    }

    /// Every timer, in no particular order, leaving the queue empty.
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        let mut all: Vec<TimerEntry> = self.run.drain(..).collect();
        for bucket in &mut self.buckets {
            all.append(bucket);
        }
        self.occupied = 0;
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

    /// Pushes and pops at random (deadlines never below the last popped
    /// one minus a margin, as on a loop, with some in the past) and checks
    /// every pop against a sorted model.
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
                    let slot = slots.insert(seq, callback::internal(|_| ()), 0, 0);
                    if seed % 3 == 0 {
                        slots.set_tie_key(slot, rng.next_u64() % 4);
                    }
                    queue.push(TimerEntry { when, slot }, &slots);
                    model.insert((when, slots.tie(slot), slot));
                } else {
                    let peeked = queue.peek(&slots).map(|e| e.slot);
                    let popped = queue.pop(&slots);
                    let expected = model.pop_first();
                    assert_eq!(popped.map(|e| e.slot), expected.map(|e| e.2), "seed {seed}");
                    assert_eq!(peeked, popped.map(|e| e.slot));
                    if let Some(e) = popped {
                        now = now.max(e.when);
                        drop(slots.dequeue(e.slot));
                    }
                }
                assert_eq!(queue.len(), model.len());
            }
        }
    }
}

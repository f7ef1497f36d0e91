//! The `fifo`/`random` timer queue: a radix queue over deadlines.
//!
//! A virtual clock only moves forward, so the deadlines leaving the queue
//! never decrease. A radix queue (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster
//! algorithms for the shortest path problem", 1990) uses that: it keeps a
//! `base` (the last deadline that left, or the next one) and files every
//! other deadline in bucket `i`, where `i` is the highest bit in which it
//! differs from the base. Pushing is appending to a vector. When the
//! deadlines equal to the base are gone, the lowest non-empty bucket is
//! emptied: its smallest deadline becomes the base and its timers are filed
//! again, each into a lower bucket. A timer moves down at most 64 times and
//! usually a handful, always by sequential appends, where a heap pop takes a
//! cache miss on every level of a large heap.
//!
//! Bucket 0 holds the timers whose deadline is the base, sorted by the tie
//! (`(key, seq)` from the slots), next to leave at the front.
//!
//! A timer pushed with a deadline below the base (`call_at` in the past, or
//! a deadline sooner than every pending one pushed after the base moved up
//! to that one) goes to `early`, a binary heap over the whole order. Every
//! `early` timer is below the base, so it leaves before any bucketed one.

use super::TimerEntry;
use crate::event_loop::slots::Slots;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A deadline as an unsigned integer in the same order.
fn ordered(when: i64) -> u64 {
    (when as u64) ^ (1 << 63)
}

/// The bucket of `key` around `base`: the position of the highest bit in
/// which they differ, plus one (0 when equal).
fn bucket_of(key: u64, base: u64) -> usize {
    (u64::BITS - (key ^ base).leading_zeros()) as usize
}

/// A timer in `early`, with its whole sort key.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Early {
    when: i64,
    tie: (u64, u64),
    slot: u32,
}

pub(crate) struct RadixQueue {
    /// Every bucketed deadline is `>= base` (as [`ordered`] values).
    base: u64,
    /// Deadlines equal to `base`, in tie order.
    at_base: VecDeque<TimerEntry>,
    /// `buckets[i - 1]`: deadlines differing from `base` first at bit `i - 1`.
    buckets: [Vec<TimerEntry>; 64],
    /// Bit `i - 1` set when `buckets[i - 1]` is not empty.
    occupied: u64,
    early: BinaryHeap<Reverse<Early>>,
    len: usize,
}

impl Default for RadixQueue {
    fn default() -> Self {
        RadixQueue {
            base: 0,
            at_base: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            occupied: 0,
            early: BinaryHeap::new(),
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
        if key < self.base {
            self.early.push(Reverse(Early {
                when: entry.when,
                tie: ties.tie(entry.slot),
                slot: entry.slot,
            }));
            return;
        }
        match bucket_of(key, self.base) {
            0 => {
                // After the others of its deadline that sort before it.
                let tie = ties.tie(entry.slot);
                let at = self
                    .at_base
                    .partition_point(|other| ties.tie(other.slot) < tie);
                self.at_base.insert(at, entry);
            }
            i => {
                self.buckets[i - 1].push(entry);
                self.occupied |= 1 << (i - 1);
            }
        }
    }

    /// The timer that leaves next.
    pub fn peek(&mut self, ties: &Slots) -> Option<TimerEntry> {
        if let Some(Reverse(early)) = self.early.peek() {
            return Some(TimerEntry {
                when: early.when,
                slot: early.slot,
            });
        }
        if self.at_base.is_empty() {
            self.refill(ties);
        }
        self.at_base.front().copied()
    }

    pub fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        if let Some(Reverse(early)) = self.early.pop() {
            self.len -= 1;
            return Some(TimerEntry {
                when: early.when,
                slot: early.slot,
            });
        }
        if self.at_base.is_empty() {
            self.refill(ties);
        }
        let entry = self.at_base.pop_front()?;
        self.len -= 1;
        Some(entry)
    }

    /// Moves the base up to the smallest bucketed deadline and files the
    /// lowest bucket again around it.
    fn refill(&mut self, ties: &Slots) {
        if self.occupied == 0 {
            return;
        }
        let lowest = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << lowest);
        let mut bucket = std::mem::take(&mut self.buckets[lowest]);
        let Some(base) = bucket.iter().map(|e| ordered(e.when)).min() else {
            return;
        };
        self.base = base;
        for entry in bucket.drain(..) {
            // Every timer of this bucket shares the base's bits above
            // `lowest`, so it lands in a lower bucket (or at the base).
            match bucket_of(ordered(entry.when), base) {
                0 => self.at_base.push_back(entry),
                i => {
                    self.buckets[i - 1].push(entry);
                    self.occupied |= 1 << (i - 1);
                }
            }
        }
        // Keep the emptied vector's capacity for the next timers filed here.
        self.buckets[lowest] = bucket;
        if self.at_base.len() > 1 {
            self.at_base
                .make_contiguous()
                .sort_unstable_by_key(|e| ties.tie(e.slot));
        }
    }

    /// Every timer, in no particular order, leaving the queue empty (its
    /// base stays, so timers pushed back keep their order).
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        let mut all: Vec<TimerEntry> = self.at_base.drain(..).collect();
        for bucket in &mut self.buckets {
            all.append(bucket);
        }
        all.extend(self.early.drain().map(|Reverse(e)| TimerEntry {
            when: e.when,
            slot: e.slot,
        }));
        self.occupied = 0;
        self.len = 0;
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

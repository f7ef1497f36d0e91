//! The timer queue: deadlines first, then the tie-break policy.
//!
//! Two shapes, chosen by [`TieBreak`]:
//!
//! * `fifo` and `random` give every timer a total order — `(deadline, key,
//!   sequence)`, where `key` is 0 under `fifo` and a seeded draw under
//!   `random` — so the queue's internal layout can never leak into the order.
//!   This is trio's "total order first, then the seed breaks ties". The
//!   queue is a radix queue (`radix.rs`), which suits a clock that only
//!   moves forward.
//! * `heapq` is CPython's queue itself: a list kept with `heapq`'s exact
//!   sift rules, comparing deadlines only (`TimerHandle.__lt__`). Which of
//!   several equal deadlines comes out first then depends on the queue's whole
//!   history of pushes and pops, exactly as in CPython, including the
//!   compaction `_run_once` performs when more than half of more than 100
//!   timers are cancelled.
//!
//! A tie-order script (`LoopConfig::tie_order`) does not change the queue:
//! `_run_once` reorders the equal deadlines it pops in one pass
//! (`order_ties` in `event_loop/run.rs`).

use crate::event_loop::slots::Slots;
use crate::tie_break::TieBreak;

mod heapq;
mod radix;

use radix::RadixQueue;

/// One pending timer: its deadline and its slot in the loop's [`Slots`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerEntry {
    /// Deadline, in nanoseconds.
    pub when: i64,
    pub slot: u32,
}

/// The pending timers of one loop.
pub(crate) struct TimerQueue {
    /// The timer that leaves next, kept up to date by every change: a pass
    /// looks at it several times (sweep, wait, collect), and each look is
    /// then a read.
    head: Option<TimerEntry>,
    shape: Shape,
}

enum Shape {
    /// `fifo`/`random`: a radix queue over the total order.
    Total(RadixQueue),
    /// `heapq`: CPython's list-based heap, deadlines compared alone.
    Heapq(Vec<TimerEntry>),
}

impl Shape {
    fn peek(&mut self, ties: &Slots) -> Option<TimerEntry> {
        match self {
            Shape::Total(queue) => queue.peek(ties),
            Shape::Heapq(list) => list.first().copied(),
        }
    }
}

impl TimerQueue {
    pub fn new(policy: TieBreak) -> TimerQueue {
        let shape = match policy {
            TieBreak::Fifo | TieBreak::Random => Shape::Total(RadixQueue::default()),
            TieBreak::Heapq => Shape::Heapq(Vec::new()),
        };
        TimerQueue { head: None, shape }
    }

    pub fn len(&self) -> usize {
        match &self.shape {
            Shape::Total(queue) => queue.len(),
            Shape::Heapq(list) => list.len(),
        }
    }

    /// The timer that would leave next.
    #[inline]
    pub fn peek(&self) -> Option<TimerEntry> {
        self.head
    }

    /// A hint for prefetching: the timer `n`-th after the next (1: the one
    /// after next). Under `heapq` only the one after next, and only up to
    /// ties: a heap knows its second element as the earlier of the root's
    /// children.
    pub fn peek_ahead(&mut self, n: usize, ties: &Slots) -> Option<TimerEntry> {
        match &mut self.shape {
            Shape::Total(queue) => queue.peek_nth(n, ties),
            Shape::Heapq(list) if n == 1 => list
                .get(1..)
                .and_then(|children| children.iter().take(2).min_by_key(|e| e.when).copied()),
            Shape::Heapq(_) => None,
        }
    }

    /// Adds a timer; `ties` orders equal deadlines under `fifo`/`random`.
    pub fn push(&mut self, entry: TimerEntry, ties: &Slots) {
        match &mut self.shape {
            Shape::Total(queue) => {
                queue.push(entry, ties);
                if self
                    .head
                    .is_none_or(|head| radix::order(&entry, &head, ties).is_lt())
                {
                    self.head = Some(entry);
                }
            }
            Shape::Heapq(list) => {
                heapq::push(list, entry);
                self.head = list.first().copied();
            }
        }
    }

    #[inline]
    pub fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        let popped = match &mut self.shape {
            Shape::Total(queue) => queue.pop(ties),
            Shape::Heapq(list) => heapq::pop(list),
        };
        self.head = self.shape.peek(ties);
        popped
    }

    /// Drops every timer `is_cancelled` says is cancelled, returning them.
    /// Under `heapq` the survivors keep their list order and are
    /// re-heapified, as `_run_once` does.
    pub fn remove_cancelled(
        &mut self,
        slots: &Slots,
        is_cancelled: impl Fn(u32) -> bool,
    ) -> Vec<TimerEntry> {
        let dead = match &mut self.shape {
            Shape::Total(queue) => {
                let (dead, live): (Vec<_>, Vec<_>) = queue
                    .drain()
                    .into_iter()
                    .partition(|e| is_cancelled(e.slot));
                for entry in live {
                    queue.push(entry, slots);
                }
                dead
            }
            Shape::Heapq(list) => {
                let (dead, mut live): (Vec<_>, Vec<_>) = std::mem::take(list)
                    .into_iter()
                    .partition(|e| is_cancelled(e.slot));
                heapq::heapify(&mut live);
                *list = live;
                dead
            }
        };
        self.head = self.shape.peek(slots);
        dead
    }

    /// Every pending timer, in the order the queue would pop them if
    /// nothing else were pushed (for the loop's state: see `loop_state`).
    /// Under `heapq` that is CPython's pop order, found by popping a copy
    /// of the list, compacted first when `compacted` says which timers a
    /// compaction is about to drop (they come first, then); otherwise the
    /// total order.
    pub fn in_pop_order(
        &self,
        ties: &Slots,
        compacted: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<TimerEntry> {
        match &self.shape {
            Shape::Total(queue) => {
                let mut all = queue.entries();
                all.sort_by(|a, b| radix::order(a, b, ties));
                all
            }
            Shape::Heapq(list) => {
                let (mut out, mut copy) = match compacted {
                    Some(is_cancelled) => {
                        let (dead, mut live): (Vec<_>, Vec<_>) =
                            list.iter().partition(|e| is_cancelled(e.slot));
                        heapq::heapify(&mut live);
                        (dead, live)
                    }
                    None => (Vec::new(), list.clone()),
                };
                out.extend(std::iter::from_fn(|| heapq::pop(&mut copy)));
                out
            }
        }
    }

    /// Every pending timer, in no particular order, leaving the queue empty.
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        self.head = None;
        match &mut self.shape {
            Shape::Total(queue) => queue.drain(),
            Shape::Heapq(list) => std::mem::take(list),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_loop::callback;
    use crate::rng::{SeededRng, Stream};

    /// The cached head is always what the next pop returns, under every
    /// policy, through pushes, pops and compaction.
    #[test]
    fn peek_is_always_the_next_pop() {
        for (seed, policy) in [TieBreak::Fifo, TieBreak::Random, TieBreak::Heapq]
            .into_iter()
            .enumerate()
        {
            let mut rng = SeededRng::new(seed as u64, Stream::Program);
            let mut slots = Slots::default();
            let mut queue = TimerQueue::new(policy);
            let mut now = 0i64;
            for seq in 0..4000u64 {
                match rng.below(8) {
                    0..=3 => {
                        let when = now + rng.in_range(-5, 200);
                        let slot = slots.insert(seq, callback::internal(|_| ()), 0);
                        if policy == TieBreak::Random {
                            slots.set_tie_key(slot, rng.next_u64() % 4);
                        }
                        queue.push(TimerEntry { when, slot }, &slots);
                    }
                    4..=6 => {
                        let peeked = queue.peek().map(|e| e.slot);
                        let popped = queue.pop(&slots);
                        assert_eq!(peeked, popped.map(|e| e.slot), "{policy:?} seed {seed}");
                        if let Some(e) = popped {
                            now = now.max(e.when);
                            drop(slots.dequeue(e.slot));
                        }
                    }
                    _ => {
                        let dead = queue.remove_cancelled(&slots, |slot| slot % 5 == 0);
                        for e in dead {
                            drop(slots.dequeue(e.slot));
                        }
                    }
                }
                assert_eq!(queue.peek().is_some(), queue.len() > 0);
            }
            // What the loop's state lists is what popping gives (with a
            // burst of ties on top of what is left).
            for seq in 4000..4064u64 {
                let when = now + rng.in_range(0, 3);
                let slot = slots.insert(seq, callback::internal(|_| ()), 0);
                if policy == TieBreak::Random {
                    slots.set_tie_key(slot, rng.next_u64() % 4);
                }
                queue.push(TimerEntry { when, slot }, &slots);
            }
            let listed: Vec<u32> = queue
                .in_pop_order(&slots, None)
                .iter()
                .map(|e| e.slot)
                .collect();
            let popped: Vec<u32> = std::iter::from_fn(|| queue.pop(&slots))
                .map(|e| e.slot)
                .collect();
            assert!(listed.len() >= 64, "{policy:?}");
            assert_eq!(listed, popped, "{policy:?} seed {seed}");
        }
    }
}

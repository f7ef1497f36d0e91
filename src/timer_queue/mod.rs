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
pub(crate) enum TimerQueue {
    /// `fifo`/`random`: a radix queue over the total order.
    Total(RadixQueue),
    /// `heapq`: CPython's list-based heap, deadlines compared alone.
    Heapq(Vec<TimerEntry>),
}

impl TimerQueue {
    pub fn new(policy: TieBreak) -> TimerQueue {
        match policy {
            TieBreak::Fifo | TieBreak::Random => TimerQueue::Total(RadixQueue::default()),
            TieBreak::Heapq => TimerQueue::Heapq(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TimerQueue::Total(queue) => queue.len(),
            TimerQueue::Heapq(list) => list.len(),
        }
    }

    /// The timer that would leave next.
    pub fn peek(&mut self, ties: &Slots) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(queue) => queue.peek(ties),
            TimerQueue::Heapq(list) => list.first().copied(),
        }
    }

    /// A hint for prefetching: the timer after the next, or under `heapq`
    /// one with the second-earliest deadline (a heap knows its second
    /// element only up to ties).
    pub fn peek_second(&mut self, ties: &Slots) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(queue) => queue.peek_second(ties),
            TimerQueue::Heapq(list) => list
                .get(1..)
                .and_then(|children| children.iter().take(2).min_by_key(|e| e.when).copied()),
        }
    }

    /// Adds a timer; `ties` orders equal deadlines under `fifo`/`random`.
    pub fn push(&mut self, entry: TimerEntry, ties: &Slots) {
        match self {
            TimerQueue::Total(queue) => queue.push(entry, ties),
            TimerQueue::Heapq(list) => heapq::push(list, entry),
        }
    }

    pub fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(queue) => queue.pop(ties),
            TimerQueue::Heapq(list) => heapq::pop(list),
        }
    }

    /// Drops every timer `is_cancelled` says is cancelled, returning them.
    /// Under `heapq` the survivors keep their list order and are
    /// re-heapified, as `_run_once` does.
    pub fn remove_cancelled(
        &mut self,
        slots: &Slots,
        is_cancelled: impl Fn(u32) -> bool,
    ) -> Vec<TimerEntry> {
        match self {
            TimerQueue::Total(queue) => {
                let (dead, live): (Vec<_>, Vec<_>) = queue
                    .drain()
                    .into_iter()
                    .partition(|e| is_cancelled(e.slot));
                for entry in live {
                    queue.push(entry, slots);
                }
                dead
            }
            TimerQueue::Heapq(list) => {
                let (dead, mut live): (Vec<_>, Vec<_>) = std::mem::take(list)
                    .into_iter()
                    .partition(|e| is_cancelled(e.slot));
                heapq::heapify(&mut live);
                *list = live;
                dead
            }
        }
    }

    /// Every pending timer, in no particular order, leaving the queue empty.
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        match self {
            TimerQueue::Total(queue) => queue.drain(),
            TimerQueue::Heapq(list) => std::mem::take(list),
        }
    }
}

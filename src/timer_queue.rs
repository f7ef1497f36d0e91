//! The timer queue: deadlines first, then the tie-break policy.
//!
//! Two shapes, chosen by [`TieBreak`]:
//!
//! * `fifo` and `random` give every timer a total order — `(deadline, key,
//!   sequence)`, where `key` is 0 under `fifo` and a seeded draw under
//!   `random` — so the heap's internal layout can never leak into the order.
//!   This is trio's "total order first, then the seed breaks ties".
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

/// One pending timer: its deadline and its slot in the loop's [`Slots`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerEntry {
    /// Deadline, in nanoseconds.
    pub when: i64,
    pub slot: u32,
}

/// Whether `a` leaves before `b` under `fifo`/`random`: earlier deadline,
/// then the slots' `(key, seq)`. The slots are read only on equal
/// deadlines, so most comparisons stay inside the heap's own arrays.
#[inline]
fn earlier(a: TimerEntry, b: TimerEntry, slots: &Slots) -> bool {
    a.when < b.when || (a.when == b.when && slots.tie(a.slot) < slots.tie(b.slot))
}

/// A 4-ary min-heap, deadlines and slots kept in separate arrays so the
/// four children compared at each level share one cache line.
#[derive(Default)]
pub(crate) struct QuadHeap {
    whens: Vec<i64>,
    slots: Vec<u32>,
}

impl QuadHeap {
    fn len(&self) -> usize {
        self.whens.len()
    }

    fn at(&self, i: usize) -> TimerEntry {
        TimerEntry {
            when: self.whens[i],
            slot: self.slots[i],
        }
    }

    fn put(&mut self, i: usize, entry: TimerEntry) {
        self.whens[i] = entry.when;
        self.slots[i] = entry.slot;
    }

    fn peek(&self) -> Option<TimerEntry> {
        (!self.whens.is_empty()).then(|| self.at(0))
    }

    fn push(&mut self, entry: TimerEntry, ties: &Slots) {
        let mut pos = self.whens.len();
        self.whens.push(entry.when);
        self.slots.push(entry.slot);
        while pos > 0 {
            let parent = (pos - 1) / 4;
            let above = self.at(parent);
            if !earlier(entry, above, ties) {
                break;
            }
            self.put(pos, above);
            pos = parent;
        }
        self.put(pos, entry);
    }

    fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        let last = TimerEntry {
            when: self.whens.pop()?,
            slot: self.slots.pop()?,
        };
        if self.whens.is_empty() {
            return Some(last);
        }
        let root = self.at(0);
        let len = self.whens.len();
        let mut pos = 0;
        loop {
            let first = 4 * pos + 1;
            if first >= len {
                break;
            }
            let end = (first + 4).min(len);
            let mut best = first;
            let mut best_entry = self.at(first);
            for child in first + 1..end {
                let candidate = self.at(child);
                if earlier(candidate, best_entry, ties) {
                    best = child;
                    best_entry = candidate;
                }
            }
            if !earlier(best_entry, last, ties) {
                break;
            }
            self.put(pos, best_entry);
            pos = best;
        }
        self.put(pos, last);
        Some(root)
    }

    fn entries(&self) -> impl Iterator<Item = TimerEntry> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }
}

/// The pending timers of one loop.
pub(crate) enum TimerQueue {
    /// `fifo`/`random`: a heap over the total order.
    Total(QuadHeap),
    /// `heapq`: CPython's list-based heap, deadlines compared alone.
    Heapq(Vec<TimerEntry>),
}

impl TimerQueue {
    pub fn new(policy: TieBreak) -> TimerQueue {
        match policy {
            TieBreak::Fifo | TieBreak::Random => TimerQueue::Total(QuadHeap::default()),
            TieBreak::Heapq => TimerQueue::Heapq(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TimerQueue::Total(heap) => heap.len(),
            TimerQueue::Heapq(list) => list.len(),
        }
    }

    /// The timer that would leave next.
    pub fn peek(&self) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(heap) => heap.peek(),
            TimerQueue::Heapq(list) => list.first().copied(),
        }
    }

    /// Adds a timer; `ties` orders equal deadlines under `fifo`/`random`.
    pub fn push(&mut self, entry: TimerEntry, ties: &Slots) {
        match self {
            TimerQueue::Total(heap) => heap.push(entry, ties),
            TimerQueue::Heapq(list) => heapq::push(list, entry),
        }
    }

    pub fn pop(&mut self, ties: &Slots) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(heap) => heap.pop(ties),
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
            TimerQueue::Total(heap) => {
                let (dead, live): (Vec<_>, Vec<_>) =
                    heap.entries().partition(|e| is_cancelled(e.slot));
                *heap = QuadHeap::default();
                for entry in live {
                    heap.push(entry, slots);
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
            TimerQueue::Total(heap) => std::mem::take(heap).entries().collect(),
            TimerQueue::Heapq(list) => std::mem::take(list),
        }
    }
}

/// CPython's `Lib/heapq.py` (and `_heapq.c`, which does the same), over
/// deadlines alone. Comments give the Python names.
mod heapq {
    use super::TimerEntry;

    fn less(a: &TimerEntry, b: &TimerEntry) -> bool {
        a.when < b.when
    }

    /// `heappush`: append, then `_siftdown(heap, 0, len - 1)`.
    pub fn push(heap: &mut Vec<TimerEntry>, item: TimerEntry) {
        heap.push(item);
        let last = heap.len() - 1;
        sift_down(heap, 0, last);
    }

    /// `heappop`: the last item replaces the root, then `_siftup(heap, 0)`.
    pub fn pop(heap: &mut Vec<TimerEntry>) -> Option<TimerEntry> {
        let last = heap.pop()?;
        if heap.is_empty() {
            return Some(last);
        }
        let root = std::mem::replace(&mut heap[0], last);
        sift_up(heap, 0);
        Some(root)
    }

    /// `heapify`: `_siftup` every parent, last to first.
    pub fn heapify(heap: &mut [TimerEntry]) {
        for pos in (0..heap.len() / 2).rev() {
            sift_up(heap, pos);
        }
    }

    /// `_siftdown(heap, startpos, pos)`: move the item at `pos` towards the
    /// root while it is strictly less than its parent.
    fn sift_down(heap: &mut [TimerEntry], start: usize, mut pos: usize) {
        while pos > start {
            let parent = (pos - 1) >> 1;
            if !less(&heap[pos], &heap[parent]) {
                break;
            }
            heap.swap(pos, parent);
            pos = parent;
        }
    }

    /// `_siftup(heap, pos)`: move the smaller child up until a leaf is
    /// reached (the right child wins unless the left is strictly less), then
    /// `_siftdown` the item from there.
    fn sift_up(heap: &mut [TimerEntry], mut pos: usize) {
        let end = heap.len();
        let start = pos;
        let mut child = 2 * pos + 1;
        while child < end {
            let right = child + 1;
            if right < end && !less(&heap[child], &heap[right]) {
                child = right;
            }
            heap.swap(pos, child);
            pos = child;
            child = 2 * pos + 1;
        }
        sift_down(heap, start, pos);
    }
}

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

use crate::event_loop::handle::HandleCell;
use crate::tie_break::TieBreak;
use std::rc::Rc;

/// One pending timer.
pub(crate) struct TimerEntry {
    /// Deadline, in nanoseconds.
    pub when: i64,
    /// Order among equal deadlines before `seq` (0 under `fifo`).
    pub key: u64,
    /// The handle's sequence number, kept here so comparisons stay in the heap.
    pub seq: u64,
    /// The handle, which knows its sequence number and cancellation.
    pub handle: Rc<HandleCell>,
}

impl TimerEntry {
    /// `(deadline, key, seq)` packed into one integer that sorts the same
    /// way: the deadline with its sign bit flipped (so negative deadlines
    /// sort first) above the tie word. The tie word is `seq` under `fifo`
    /// and the seeded key under `random` (two equal keys, one chance in
    /// 2^64, fall back to the heap's deterministic layout).
    fn sort_key(&self) -> u128 {
        let when = (self.when as u64) ^ (1 << 63);
        let tie = if self.key == 0 { self.seq } else { self.key };
        (u128::from(when) << 64) | u128::from(tie)
    }
}

/// A 4-ary min-heap over packed sort keys, keys and entries kept apart so
/// the four children compared at each level share one cache line.
#[derive(Default)]
pub(crate) struct QuadHeap {
    keys: Vec<u128>,
    entries: Vec<TimerEntry>,
}

impl QuadHeap {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn peek(&self) -> Option<&TimerEntry> {
        self.entries.first()
    }

    fn push(&mut self, entry: TimerEntry) {
        let key = entry.sort_key();
        let mut pos = self.keys.len();
        self.keys.push(key);
        self.entries.push(entry);
        while pos > 0 {
            let parent = (pos - 1) / 4;
            if self.keys[parent] <= key {
                break;
            }
            self.keys.swap(pos, parent);
            self.entries.swap(pos, parent);
            pos = parent;
        }
    }

    fn pop(&mut self) -> Option<TimerEntry> {
        let last_key = self.keys.pop()?;
        let last = self.entries.pop()?;
        if self.keys.is_empty() {
            return Some(last);
        }
        let root = std::mem::replace(&mut self.entries[0], last);
        self.keys[0] = last_key;
        let len = self.keys.len();
        let mut pos = 0;
        loop {
            let first = 4 * pos + 1;
            if first >= len {
                break;
            }
            let end = (first + 4).min(len);
            let mut best = first;
            for child in first + 1..end {
                if self.keys[child] < self.keys[best] {
                    best = child;
                }
            }
            if self.keys[best] >= last_key {
                break;
            }
            self.keys.swap(pos, best);
            self.entries.swap(pos, best);
            pos = best;
        }
        Some(root)
    }

    fn from_entries(entries: Vec<TimerEntry>) -> QuadHeap {
        let mut heap = QuadHeap::default();
        for entry in entries {
            heap.push(entry);
        }
        heap
    }
}

/// The pending timers of one loop.
pub(crate) enum TimerQueue {
    /// `fifo`/`random`: a heap over the total key.
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
    pub fn peek(&self) -> Option<&TimerEntry> {
        match self {
            TimerQueue::Total(heap) => heap.peek(),
            TimerQueue::Heapq(list) => list.first(),
        }
    }

    pub fn push(&mut self, entry: TimerEntry) {
        match self {
            TimerQueue::Total(heap) => heap.push(entry),
            TimerQueue::Heapq(list) => heapq::push(list, entry),
        }
    }

    pub fn pop(&mut self) -> Option<TimerEntry> {
        match self {
            TimerQueue::Total(heap) => heap.pop(),
            TimerQueue::Heapq(list) => heapq::pop(list),
        }
    }

    /// Drops every cancelled timer, returning them (so the caller can drop
    /// them outside any borrow). Under `heapq` the survivors keep their list
    /// order and are re-heapified, as `_run_once` does.
    pub fn remove_cancelled(&mut self) -> Vec<TimerEntry> {
        match self {
            TimerQueue::Total(heap) => {
                let (dead, live): (Vec<_>, Vec<_>) = std::mem::take(&mut heap.entries)
                    .into_iter()
                    .partition(|e| e.handle.is_cancelled());
                *heap = QuadHeap::from_entries(live);
                dead
            }
            TimerQueue::Heapq(list) => {
                let (dead, mut live): (Vec<_>, Vec<_>) = std::mem::take(list)
                    .into_iter()
                    .partition(|e| e.handle.is_cancelled());
                heapq::heapify(&mut live);
                *list = live;
                dead
            }
        }
    }

    /// Every pending timer, in no particular order.
    pub fn drain(&mut self) -> Vec<TimerEntry> {
        match self {
            TimerQueue::Total(heap) => std::mem::take(heap).entries,
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

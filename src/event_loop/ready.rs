//! [`ReadyQueue`]: CPython's `_ready`, the FIFO of slots to run.
//!
//! A `VecDeque` would do, but its `pop_front` wraps its index around the
//! ring on every call, and the loop pops once per callback. Here the queue
//! is a vector read from a head index: a pop is a bounds test and a load.
//! The vector is only appended to, and starts over (keeping its capacity)
//! whenever the head catches up with the tail, which for `call_soon`
//! chains is every pass. A queue that never drains (work arriving as fast
//! as it runs) moves its queued part to the front when the vector is full
//! and at least half of it has run, rather than growing: it grows only
//! when more than half of it is still queued.

/// The ready queue: slot numbers, first in, first out.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    slots: Vec<u32>,
    /// The next slot to run is `slots[head]`; those before it have run.
    head: usize,
}

impl ReadyQueue {
    /// Queued slots.
    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head == self.slots.len()
    }

    /// Appends `slot` at the tail.
    #[inline]
    pub fn push_back(&mut self, slot: u32) {
        if self.slots.len() == self.slots.capacity() {
            self.make_room();
        }
        self.slots.push(slot);
    }

    /// Makes room in a full vector: drops the slots that already ran, if
    /// they are at least half of it (so each move is paid for by as many
    /// pops); else grows it.
    #[cold]
    fn make_room(&mut self) {
        if self.head > 0 && self.head >= self.slots.len() / 2 {
            self.slots.drain(..self.head);
            self.head = 0;
        } else {
            self.slots.reserve(1);
        }
    }

    /// Takes the slot at the head.
    #[inline]
    pub fn pop_front(&mut self) -> Option<u32> {
        let slot = *self.slots.get(self.head)?;
        self.head += 1;
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
        }
        Some(slot)
    }

    /// Takes the slot at the tail (only the `LifoReady` mutant does).
    #[cfg(feature = "mutants")]
    pub fn pop_back(&mut self) -> Option<u32> {
        if self.is_empty() {
            return None;
        }
        let slot = self.slots.pop();
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
        }
        slot
    }

    /// Empties the queue, returning its slots in order.
    pub fn take_all(&mut self) -> Vec<u32> {
        let mut slots = std::mem::take(&mut self.slots);
        slots.drain(..self.head);
        self.head = 0;
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_the_order_pushed_across_drains_and_reclaims() {
        let mut queue = ReadyQueue::default();
        let mut model = std::collections::VecDeque::new();
        // Push and pop in waves that sometimes drain the queue and
        // sometimes leave it partly full, so it both starts over and
        // reclaims the slots that ran.
        let mut next = 0u32;
        for wave in 0..200u32 {
            for _ in 0..(wave * 7 % 13) {
                queue.push_back(next);
                model.push_back(next);
                next += 1;
            }
            for _ in 0..(wave * 5 % 11) {
                assert_eq!(queue.pop_front(), model.pop_front());
            }
            assert_eq!(queue.len(), model.len());
            assert_eq!(queue.is_empty(), model.is_empty());
        }
        let rest: Vec<u32> = model.into_iter().collect();
        assert_eq!(queue.take_all(), rest);
        assert!(queue.is_empty());
        assert_eq!(queue.pop_front(), None);
    }

    #[test]
    fn a_queue_that_never_drains_does_not_grow() {
        let mut queue = ReadyQueue::default();
        for slot in 0..5 {
            queue.push_back(slot);
        }
        for slot in 5..100_000 {
            queue.push_back(slot);
            assert_eq!(queue.pop_front(), Some(slot - 5));
        }
        assert_eq!(queue.len(), 5);
        assert!(queue.slots.capacity() <= 16, "{}", queue.slots.capacity());
    }
}

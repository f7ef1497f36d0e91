//! [`FifoVec`]: a queue that is a vector read from a head index.
//!
//! The loop's hottest queues are first-in, first-out: the ready queue (one
//! pop per callback) and the timer queue's sorted run (one pop per timer).
//! A `VecDeque` would do, but it wraps every index around its ring. Here a
//! pop is a bounds test and a load, and the queued part is one slice (to
//! sort, or to search). The vector is appended to, and starts over (keeping
//! its capacity) whenever the head catches up with the tail, which for
//! `call_soon` chains is every pass. A queue that never drains (work
//! arriving as fast as it leaves) moves its queued part to the front
//! instead of growing, once at least half of the vector has left: each
//! item moved is paid for by at least as many pops.

/// A first-in, first-out queue in a vector.
pub(crate) struct FifoVec<T> {
    items: Vec<T>,
    /// The next item out is `items[head]`; those before it have left.
    head: usize,
}

impl<T> Default for FifoVec<T> {
    fn default() -> Self {
        FifoVec {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T: Copy> FifoVec<T> {
    /// Queued items.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len() - self.head
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head == self.items.len()
    }

    /// Appends `item` at the tail.
    #[inline]
    pub fn push_back(&mut self, item: T) {
        if self.items.len() == self.items.capacity() {
            self.make_room();
        }
        self.items.push(item);
    }

    /// Makes room in a full vector: drops the items that already left, if
    /// they are at least half of it (so each move is paid for by as many
    /// pops); else grows it.
    #[cold]
    fn make_room(&mut self) {
        if !self.reclaim() {
            self.items.reserve(1);
        }
    }

    /// Drops the items that already left if they are at least half the
    /// vector; whether it did.
    fn reclaim(&mut self) -> bool {
        let worth = self.head > 0 && self.head >= self.items.len() / 2;
        if worth {
            self.items.drain(..self.head);
            self.head = 0;
        }
        worth
    }

    /// Takes the item at the head.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let item = *self.items.get(self.head)?;
        self.head += 1;
        self.start_over_if_empty();
        Some(item)
    }

    /// Takes the item at the tail (only the `LifoReady` mutant does).
    #[cfg(feature = "mutants")]
    pub fn pop_back(&mut self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let item = self.items.pop();
        self.start_over_if_empty();
        item
    }

    /// An empty queue starts over at the front of its vector.
    #[inline]
    fn start_over_if_empty(&mut self) {
        if self.is_empty() {
            self.items.clear();
            self.head = 0;
        }
    }

    /// The item at the head.
    #[inline]
    pub fn front(&self) -> Option<T> {
        self.get(0)
    }

    /// The `i`-th queued item (0 is the head).
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        self.items.get(self.head + i).copied()
    }

    /// The queued items, head first.
    pub fn as_slice(&self) -> &[T] {
        &self.items[self.head..]
    }

    /// The queued items, head first, to reorder.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.items[self.head..]
    }

    /// Inserts `item` so that `i` items are ahead of it.
    pub fn insert(&mut self, i: usize, item: T) {
        self.reclaim();
        self.items.insert(self.head + i, item);
    }

    /// Appends every item of `items`, in order.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        self.reclaim();
        self.items.extend(items);
    }

    /// Empties the queue, returning its items in order.
    pub fn take_all(&mut self) -> Vec<T> {
        let mut items = std::mem::take(&mut self.items);
        items.drain(..self.head);
        self.head = 0;
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_the_order_pushed_across_drains_and_reclaims() {
        let mut queue = FifoVec::default();
        let mut model = std::collections::VecDeque::new();
        // Push and pop in waves that sometimes drain the queue and
        // sometimes leave it partly full, so it both starts over and
        // reclaims the slots that ran.
        let mut next = 0u32;
        for wave in 0..200u32 {
            if wave % 50 == 49 {
                // What the timer queue's run does besides.
                let at = queue.len() / 2;
                queue.insert(at, next);
                model.insert(at, next);
                next += 1;
                queue.as_mut_slice().reverse();
                model.make_contiguous().reverse();
                assert_eq!(queue.front(), model.front().copied());
                assert_eq!(queue.get(1), model.get(1).copied());
            }
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
    fn a_queue_extended_before_it_drains_does_not_grow() {
        let mut queue = FifoVec::default();
        queue.extend([0, 1]);
        for next in 2..100_000u32 {
            assert_eq!(queue.pop_front(), Some(next - 2));
            queue.extend([next]);
        }
        assert_eq!(queue.len(), 2);
        assert!(queue.items.capacity() <= 16, "{}", queue.items.capacity());
    }

    #[test]
    fn a_queue_that_never_drains_does_not_grow() {
        let mut queue = FifoVec::default();
        for slot in 0..5 {
            queue.push_back(slot);
        }
        for slot in 5..100_000 {
            queue.push_back(slot);
            assert_eq!(queue.pop_front(), Some(slot - 5));
        }
        assert_eq!(queue.len(), 5);
        assert!(queue.items.capacity() <= 16, "{}", queue.items.capacity());
    }
}

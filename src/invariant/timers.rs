//! The checker's model of one loop's pending timers, in O(1) amortized
//! per timer.
//!
//! What the checker must know of them, besides what each probe carries:
//! after each pass has collected its due timers, whether any timer that
//! was due stayed behind. A sorted set answers that in O(log n) per timer;
//! this answers it in amortized constant time, by filing each timer in
//! one of 65 lists by the highest bit in which its deadline differs from
//! the clock (list 0: due, deadline at or before the clock), as a radix
//! heap does. The clock never goes back, so when it moves only the lists
//! below its highest changed bit are refiled, and each refiled timer
//! lands in a strictly lower list: at most 65 moves per timer, each a
//! push, whatever the run.
//!
//! Which timers are pending is a set of sequence numbers
//! (`seq_bits.rs`). A timer that
//! leaves is only taken out of the set: its entry stays in its list until
//! it reaches list 0 or the lists hold more stale entries than live ones
//! and are rebuilt, both amortized over the removals.

use super::seq_bits::SeqBits;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by handle sequence numbers.
pub(super) type SeqMap<V> = HashMap<u64, V, BuildHasherDefault<SeqHasher>>;

/// Sequence numbers are distinct small integers: one multiply spreads
/// them over the table (a bijection on the low bits the table indexes
/// by, and mixed high bits for its tags).
#[derive(Default)]
pub(super) struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Lists: 0 for due, 1 + the highest differing bit otherwise.
const LISTS: usize = 65;

/// Pending timers, filed against the clock.
pub(super) struct PendingTimers {
    pending: SeqBits,
    /// `(seq, when)`, live or stale.
    lists: Vec<Vec<(u64, i64)>>,
    /// Bit `i` set: list `i` may be non-empty.
    filled: u128,
    /// Entries in all lists, live or stale.
    listed: usize,
    /// The clock the lists are filed against, order-preservingly mapped
    /// to `u64` ([`biased`]).
    base: u64,
}

impl Default for PendingTimers {
    fn default() -> Self {
        PendingTimers {
            pending: SeqBits::default(),
            lists: vec![Vec::new(); LISTS],
            filled: 0,
            listed: 0,
            base: biased(i64::MIN),
        }
    }
}

/// `t` as an unsigned number in the same order.
fn biased(t: i64) -> u64 {
    (t as u64) ^ (1 << 63)
}

impl PendingTimers {
    fn list_of(&self, when: i64) -> usize {
        let when = biased(when);
        if when <= self.base {
            0
        } else {
            64 - (when ^ self.base).leading_zeros() as usize
        }
    }

    fn file(&mut self, seq: u64, when: i64) {
        let list = self.list_of(when);
        self.lists[list].push((seq, when));
        self.filled |= 1 << list;
    }

    /// A timer entered the queue.
    pub fn insert(&mut self, seq: u64, when: i64) {
        if self.pending.insert(seq) {
            self.file(seq, when);
            self.listed += 1;
        }
    }

    /// A timer left the queue; whether it was pending.
    pub fn remove(&mut self, seq: u64) -> bool {
        let was = self.pending.remove(seq);
        if was && self.listed > 2 * self.pending.len() + 64 {
            self.rebuild();
        }
        was
    }

    /// Drops the stale entries of every list.
    fn rebuild(&mut self) {
        let pending = &self.pending;
        self.listed = 0;
        for list in &mut self.lists {
            list.retain(|&(seq, _)| pending.contains(seq));
            self.listed += list.len();
        }
    }

    /// The clock is now `now` (never earlier than before): refile what
    /// it passed.
    pub fn advance(&mut self, now: i64) {
        let now = biased(now);
        if now <= self.base {
            return;
        }
        let highest = 63 - (now ^ self.base).leading_zeros() as usize;
        self.base = now;
        // Lists 1..=highest hold timers now due; list highest + 1 timers
        // that land in a lower list. Ascending, so none is refiled twice.
        let mut refile = self.filled & ((1u128 << (highest + 2)) - 2);
        while refile != 0 {
            let list = refile.trailing_zeros() as usize;
            refile &= refile - 1;
            self.filled &= !(1 << list);
            let mut entries = std::mem::take(&mut self.lists[list]);
            for &(seq, when) in &entries {
                self.file(seq, when);
            }
            if self.lists[list].is_empty() {
                // Keep the allocation for the timers to come.
                entries.clear();
                self.lists[list] = entries;
            }
        }
    }

    /// A pending timer whose deadline is at or before the clock of the
    /// last [`advance`](PendingTimers::advance), if any: its sequence
    /// number and deadline. Stale entries met on the way are dropped.
    pub fn first_due(&mut self) -> Option<(u64, i64)> {
        let due = &mut self.lists[0];
        while let Some(&(seq, when)) = due.last() {
            if self.pending.contains(seq) {
                return Some((seq, when));
            }
            due.pop();
            self.listed -= 1;
        }
        None
    }

    pub fn clear(&mut self) {
        self.pending.clear();
        for list in &mut self.lists {
            list.clear();
        }
        self.filled = 0;
        self.listed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain list, on a random history of inserts, removals and
    /// clock moves (our own LCG: no dependency decides the cases).
    #[test]
    fn first_due_agrees_with_a_scan() {
        let mut next = crate::invariant::test_cases();
        let mut timers = PendingTimers::default();
        let mut model: Vec<(u64, i64)> = Vec::new();
        let mut now = -1_000i64;
        for seq in 0..20_000u64 {
            match next(10) {
                0..=4 => {
                    let when = now - 50 + next(5_000) as i64;
                    timers.insert(seq, when);
                    model.push((seq, when));
                }
                5 | 6 if !model.is_empty() => {
                    let (gone, when) = model.swap_remove(next(model.len() as u64) as usize);
                    let _ = when;
                    assert!(timers.remove(gone));
                }
                _ => {
                    now += next(300) as i64;
                    timers.advance(now);
                    // Due timers leave, as a pass collects them.
                    while let Some((seq, when)) = timers.first_due() {
                        assert!(when <= now);
                        let at = model.iter().position(|&(s, _)| s == seq).unwrap();
                        model.swap_remove(at);
                        timers.remove(seq);
                    }
                    assert!(model.iter().all(|&(_, when)| when > now));
                }
            }
        }
    }
}

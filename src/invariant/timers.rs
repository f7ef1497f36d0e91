//! The checker's model of one loop's pending timers, in O(1) amortized
//! per timer.
//!
//! What the checker must know of them, besides what each probe carries:
//! after each pass has collected its due timers, whether any timer that
//! was due stayed behind. A sorted set answers that in O(log n) per timer;
//! this answers it in amortized constant time, as a radix heap does, by
//! filing each timer against the clock: in list 0 if it is due (deadline
//! at or before the clock), else by the highest hexadecimal digit (4 bits)
//! in which its deadline differs from the clock, and by its own value of
//! that digit (16 levels of 16 lists). The clock never goes back; when it
//! moves, every list below the highest digit it changed, and those of
//! that digit below the clock's new value, hold only due timers and are
//! moved to list 0 whole; the one list of that digit at the clock's new
//! value is refiled, each timer landing in a lower level. So a timer is
//! refiled at most 16 times whatever the run, and about log16 of its
//! distance in passes in practice (one list per bit, as this first did,
//! refiled it about four times as often).
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

/// Digits of a 64-bit deadline, and values of a digit.
const LEVELS: usize = 16;
const DIGITS: usize = 16;

/// Pending timers, filed against the clock.
pub(super) struct PendingTimers {
    pending: SeqBits,
    /// `(seq, when)`, live or stale: list 0 due, list
    /// `1 + DIGITS * level + digit` the others ([`PendingTimers::list_of`]).
    lists: Vec<Vec<(u64, i64)>>,
    /// By level, bit `digit` set: that list may be non-empty.
    filled: [u16; LEVELS],
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
            lists: vec![Vec::new(); 1 + LEVELS * DIGITS],
            filled: [0; LEVELS],
            listed: 0,
            base: biased(i64::MIN),
        }
    }
}

/// `t` as an unsigned number in the same order.
fn biased(t: i64) -> u64 {
    (t as u64) ^ (1 << 63)
}

/// The highest hexadecimal digit in which `a` and `b` differ (not equal).
fn level(a: u64, b: u64) -> usize {
    (63 - (a ^ b).leading_zeros() as usize) / 4
}

fn digit(n: u64, level: usize) -> usize {
    ((n >> (4 * level)) & 15) as usize
}

impl PendingTimers {
    /// The list of a deadline against the clock, with its level and digit
    /// (none for list 0).
    fn list_of(&self, when: i64) -> (usize, Option<(usize, usize)>) {
        let when = biased(when);
        if when <= self.base {
            return (0, None);
        }
        let level = level(when, self.base);
        let digit = digit(when, level);
        (1 + DIGITS * level + digit, Some((level, digit)))
    }

    #[inline]
    fn file(&mut self, seq: u64, when: i64) {
        let (list, place) = self.list_of(when);
        self.lists[list].push((seq, when));
        if let Some((level, digit)) = place {
            self.filled[level] |= 1 << digit;
        }
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

    /// Moves list `list` to the end of list 0, keeping its allocation.
    fn due_whole(&mut self, list: usize) {
        let (due, rest) = self.lists.split_at_mut(1);
        due[0].append(&mut rest[list - 1]);
    }

    /// The clock is now `now` (never earlier than before): refile what
    /// it passed.
    pub fn advance(&mut self, now: i64) {
        let now = biased(now);
        if now <= self.base {
            return;
        }
        let highest = level(now, self.base);
        let value = digit(now, highest);
        self.base = now;
        // Below the highest changed digit every timer is due: it agrees
        // with the old clock there, which is below the new one.
        for level in 0..highest {
            let mut filled = std::mem::take(&mut self.filled[level]);
            while filled != 0 {
                let digit = filled.trailing_zeros() as usize;
                filled &= filled - 1;
                self.due_whole(1 + DIGITS * level + digit);
            }
        }
        // At that digit, those below the clock's new value are due, those
        // above it stay, and those at it are refiled.
        let row = 1 + DIGITS * highest;
        let mut below = self.filled[highest] & ((1u16 << value) - 1);
        self.filled[highest] &= !((2u32 << value) - 1) as u16;
        while below != 0 {
            let digit = below.trailing_zeros() as usize;
            below &= below - 1;
            self.due_whole(row + digit);
        }
        let mut entries = std::mem::take(&mut self.lists[row + value]);
        for &(seq, when) in &entries {
            self.file(seq, when);
        }
        // Keep the allocation for the timers to come.
        entries.clear();
        self.lists[row + value] = entries;
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
        self.filled = [0; LEVELS];
        self.listed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain list, on a random history of inserts, removals and
    /// clock moves (our own LCG: no dependency decides the cases), at
    /// three scales of time, so that deadlines differ from the clock in
    /// low, middle and high digits.
    #[test]
    fn first_due_agrees_with_a_scan() {
        for scale in [1i64, 1 << 20, 1 << 40] {
            let mut next = crate::invariant::test_cases();
            let mut timers = PendingTimers::default();
            let mut model: Vec<(u64, i64)> = Vec::new();
            let mut now = -1_000 * scale;
            for seq in 0..20_000u64 {
                match next(10) {
                    0..=4 => {
                        let when = now + (next(5_000) as i64 - 50) * scale + next(7) as i64;
                        timers.insert(seq, when);
                        model.push((seq, when));
                    }
                    5 | 6 if !model.is_empty() => {
                        let (gone, _) = model.swap_remove(next(model.len() as u64) as usize);
                        assert!(timers.remove(gone));
                    }
                    _ => {
                        now += next(300) as i64 * scale + next(3) as i64;
                        timers.advance(now);
                        // Due timers leave, as a pass collects them.
                        while let Some((seq, when)) = timers.first_due() {
                            assert!(when <= now);
                            let at = model.iter().position(|&(s, _)| s == seq).unwrap();
                            model.swap_remove(at);
                            timers.remove(seq);
                        }
                        assert!(model.iter().all(|&(_, when)| when > now), "{scale}");
                    }
                }
            }
        }
    }
}

//! [`SeqBits`]: a set of handle sequence numbers as a sliding bitset.
//!
//! Sequence numbers count up from 0 for the whole world, and the handles
//! the checker tracks (pending timers, cancelled handles) leave the set
//! roughly in the order they came. So one bit per number, kept only from
//! the word of the smallest member up: inserting, removing and testing are
//! a shift and a mask at a predictable place (a hash set pays a cache miss
//! per operation on a big run), and memory is one bit per number between
//! the oldest member and the newest, never one per number ever made.

use std::collections::VecDeque;

#[derive(Default)]
pub(super) struct SeqBits {
    /// Bit `i` of word `w`: number `64 * (first_word + w) + i`.
    words: VecDeque<u64>,
    first_word: u64,
    len: usize,
}

impl SeqBits {
    /// Adds `seq`; whether it was absent.
    pub fn insert(&mut self, seq: u64) -> bool {
        let word = seq / 64;
        if self.words.is_empty() {
            self.first_word = word;
        }
        while word < self.first_word {
            // Older than the oldest member (not the loop's way, but kept).
            self.words.push_front(0);
            self.first_word -= 1;
        }
        let index = (word - self.first_word) as usize;
        if index >= self.words.len() {
            self.words.resize(index + 1, 0);
        }
        let bit = 1u64 << (seq % 64);
        let absent = self.words[index] & bit == 0;
        self.words[index] |= bit;
        self.len += usize::from(absent);
        absent
    }

    /// Removes `seq`; whether it was present.
    pub fn remove(&mut self, seq: u64) -> bool {
        let Some(index) = (seq / 64).checked_sub(self.first_word) else {
            return false;
        };
        let Some(word) = self.words.get_mut(index as usize) else {
            return false;
        };
        let bit = 1u64 << (seq % 64);
        let present = *word & bit != 0;
        *word &= !bit;
        if present {
            self.len -= 1;
            while self.words.front() == Some(&0) {
                self.words.pop_front();
                self.first_word += 1;
            }
        }
        present
    }

    pub fn contains(&self, seq: u64) -> bool {
        (seq / 64)
            .checked_sub(self.first_word)
            .and_then(|index| self.words.get(index as usize))
            .is_some_and(|word| word & (1u64 << (seq % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn agrees_with_a_sorted_set() {
        let mut next = crate::invariant::test_cases();
        let (mut bits, mut model) = (SeqBits::default(), BTreeSet::new());
        let mut top = 1_000u64;
        for _ in 0..50_000 {
            let seq = top.saturating_sub(next(3_000));
            match next(3) {
                0 => {
                    top += next(20);
                    assert_eq!(bits.insert(seq), model.insert(seq));
                }
                1 => assert_eq!(bits.remove(seq), model.remove(&seq)),
                _ => assert_eq!(bits.contains(seq), model.contains(&seq)),
            }
            assert_eq!(bits.len(), model.len());
        }
        // With the oldest members gone, so are their words.
        let members: Vec<u64> = model.iter().copied().collect();
        let (old, young) = members.split_at(members.len() - 10);
        for &seq in old {
            assert!(bits.remove(seq));
        }
        assert!(bits.words.len() <= (young[9] - young[0]) as usize / 64 + 1);
        for &seq in young {
            assert!(bits.remove(seq));
        }
        assert!(bits.words.is_empty() && bits.len() == 0);
    }
}

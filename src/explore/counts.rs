//! Counting distinct traces as runs finish, cheaply enough for a 20-event
//! run: a map keyed by hash cost a twentieth of such a run once it held
//! 100,000 hashes (a cache miss per level). Runs are pushed to a buffer
//! instead; when the buffer is as long as the list of traces counted so
//! far (and at least [`BUFFER`] runs), it is sorted and merged into that
//! list, which stays sorted by hash. Each run is then moved O(log n)
//! times, always sequentially, and memory stays within twice the list.

use super::report::TraceCount;
use std::cmp::Ordering;

/// The fewest runs buffered before they are merged.
const BUFFER: usize = 1 << 16;

/// The distinct traces of a worker's runs: hash, runs, lowest seed.
#[derive(Default)]
pub(super) struct TraceCounts {
    /// Sorted by hash, one entry per hash.
    sorted: Vec<TraceCount>,
    /// Runs not merged yet, as (hash, seed).
    pending: Vec<(u64, u64)>,
}

impl TraceCounts {
    /// Counts one run of `seed` whose trace hashed to `hash`.
    pub(super) fn add(&mut self, hash: u64, seed: u64) {
        self.pending.push((hash, seed));
        if self.pending.len() >= BUFFER.max(self.sorted.len()) {
            self.compact();
        }
    }

    /// Adds every run another worker counted.
    pub(super) fn absorb(&mut self, other: TraceCounts) {
        let mut other = other;
        other.compact();
        self.compact();
        self.sorted = merge(std::mem::take(&mut self.sorted), other.sorted);
    }

    /// The distinct traces, ascending by hash.
    pub(super) fn into_sorted(mut self) -> Vec<TraceCount> {
        self.compact();
        self.sorted
    }

    fn compact(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        let mut fresh: Vec<TraceCount> = Vec::new();
        for &(hash, seed) in &self.pending {
            match fresh.last_mut() {
                // Sorted by (hash, seed): the first seed of a hash is its lowest.
                Some(last) if last.hash == hash => last.runs += 1,
                _ => fresh.push(TraceCount {
                    hash,
                    runs: 1,
                    first_seed: seed,
                }),
            }
        }
        self.pending.clear();
        self.sorted = merge(std::mem::take(&mut self.sorted), fresh);
    }
}

/// Two lists sorted by hash as one, the counts of a hash in both added.
fn merge(a: Vec<TraceCount>, b: Vec<TraceCount>) -> Vec<TraceCount> {
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (mut x, y) = (a[i], b[j]);
        match x.hash.cmp(&y.hash) {
            Ordering::Less => (out.push(x), i += 1),
            Ordering::Greater => (out.push(y), j += 1),
            Ordering::Equal => {
                x.add(y.runs, y.first_seed);
                out.push(x);
                (i += 1, j += 1)
            }
        };
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn counts_match_a_map_across_compactions_and_merges() {
        // A small seeded stream of hashes with many repeats, over more
        // runs than one buffer holds.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut expected: BTreeMap<u64, TraceCount> = BTreeMap::new();
        let mut workers = [TraceCounts::default(), TraceCounts::default()];
        for seed in 0..(3 * BUFFER as u64 + 17) {
            let hash = next() % 50_000;
            workers[(next() % 2) as usize].add(hash, seed);
            expected
                .entry(hash)
                .and_modify(|t| t.add(1, seed))
                .or_insert(TraceCount {
                    hash,
                    runs: 1,
                    first_seed: seed,
                });
        }
        let [mut a, b] = workers;
        a.absorb(b);
        let counted = a.into_sorted();
        assert_eq!(counted, expected.into_values().collect::<Vec<_>>());
    }
}

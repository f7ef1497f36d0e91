//! The seeds an exploration runs: a range, optionally one shard of it.

use std::fmt;
use std::str::FromStr;

/// A half-open range of seeds `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// `start..end`.
    pub fn new(start: u64, end: u64) -> SeedRange {
        SeedRange { start, end }
    }
}

impl Default for SeedRange {
    /// `0..1000`.
    fn default() -> Self {
        SeedRange::new(0, 1000)
    }
}

impl FromStr for SeedRange {
    type Err = String;
    /// `N` (seeds `0..N`) or `A..B`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("expected `N` or `A..B`, found `{s}`"))
        };
        let range = match s.split_once("..") {
            Some((a, b)) => SeedRange::new(number(a)?, number(b)?),
            None => SeedRange::new(0, number(s)?),
        };
        if range.start > range.end {
            return Err(format!("the range `{s}` is reversed"));
        }
        Ok(range)
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Part `index` of `count` (1-based): the seeds with `seed % count == index - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `K`, in `1..=count`.
    pub index: u64,
    /// `N`, at least 1.
    pub count: u64,
}

impl Shard {
    /// Whether `seed` belongs to this shard.
    pub fn contains(&self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;
    /// `K/N` with `1 <= K <= N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected `K/N` with 1 <= K <= N, found `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The seeds of a range and shard, indexable without listing them.
#[derive(Clone, Copy)]
pub(super) struct Seeds {
    first: u64,
    step: u64,
    pub(super) len: u64,
}

impl Seeds {
    pub(super) fn new(range: SeedRange, shard: Option<Shard>) -> Seeds {
        let Some(shard) = shard else {
            return Seeds {
                first: range.start,
                step: 1,
                len: range.end - range.start,
            };
        };
        // The distance from `range.start` to the first seed of the shard,
        // without an intermediate sum that could pass u64::MAX.
        let (want, at) = (shard.index - 1, range.start % shard.count);
        let offset = if want >= at {
            want - at
        } else {
            want + (shard.count - at)
        };
        match range.start.checked_add(offset).filter(|f| *f < range.end) {
            Some(first) => Seeds {
                first,
                step: shard.count,
                len: (range.end - first).div_ceil(shard.count),
            },
            None => Seeds {
                first: range.start,
                step: shard.count,
                len: 0,
            },
        }
    }

    pub(super) fn get(&self, i: u64) -> Option<u64> {
        (i < self.len).then(|| self.first + i * self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards_parse() {
        assert_eq!("100".parse::<SeedRange>(), Ok(SeedRange::new(0, 100)));
        assert_eq!("5..9".parse::<SeedRange>(), Ok(SeedRange::new(5, 9)));
        assert!("9..5".parse::<SeedRange>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
    }

    #[test]
    fn shard_arithmetic_holds_near_u64_max() {
        let max = u64::MAX;
        let range = SeedRange::new(max - 10, max);
        for (index, count) in [(1, max), (max, max), (max - 1, max), (3, 7), (7, 7)] {
            let seeds = Seeds::new(range, Some(Shard { index, count }));
            let mine: Vec<u64> = (0..seeds.len).filter_map(|i| seeds.get(i)).collect();
            let expected: Vec<u64> = (max - 10..max).filter(|s| s % count == index - 1).collect();
            assert_eq!(mine, expected, "shard {index}/{count}");
        }
        // The whole range split in two near the top.
        let halves: u64 = [1, 2]
            .iter()
            .map(|&index| Seeds::new(range, Some(Shard { index, count: 2 })).len)
            .sum();
        assert_eq!(halves, 10);
    }

    #[test]
    fn shards_partition_a_range() {
        let range = SeedRange::new(7, 30);
        let mut all = Vec::new();
        for index in 1..=4 {
            let seeds = Seeds::new(range, Some(Shard { index, count: 4 }));
            let mine: Vec<u64> = (0..seeds.len).filter_map(|i| seeds.get(i)).collect();
            assert!(mine.iter().all(|s| s % 4 == index - 1));
            all.extend(mine);
        }
        all.sort_unstable();
        assert_eq!(all, (7..30).collect::<Vec<_>>());
        assert_eq!(
            Seeds::new(SeedRange::new(5, 6), Some(Shard { index: 1, count: 4 })).len,
            0
        );
    }
}

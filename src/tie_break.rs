//! The policies that order timers with equal deadlines.

use std::fmt;
use std::str::FromStr;

/// How timers with equal deadlines are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TieBreak {
    /// Scheduling order (the default).
    #[default]
    Fifo,
    /// A seeded permutation: the same seed always gives the same order.
    Random,
    /// CPython's heapq-based timer queue, bit for bit.
    Heapq,
}

impl TieBreak {
    /// Every policy, in the order the CLI lists them.
    pub const ALL: [TieBreak; 3] = [TieBreak::Fifo, TieBreak::Random, TieBreak::Heapq];

    /// The spelling used in scenario headers and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TieBreak::Fifo => "fifo",
            TieBreak::Random => "random",
            TieBreak::Heapq => "heapq",
        }
    }
}

impl fmt::Display for TieBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TieBreak {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TieBreak::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("expected `fifo`, `random` or `heapq`, found `{s}`"))
    }
}

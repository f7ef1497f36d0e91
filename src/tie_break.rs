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

/// One decision a tie-order script made: which of the `of` tied timers left
/// (the ready queue) next, counting in scheduling order among those left.
///
/// See [`LoopConfig::tie_order`](crate::LoopConfig::tie_order): a run under a
/// script records every decision, so an explorer can enumerate the orders
/// depth-first (change the last decision that has an untried alternative,
/// keep the ones before it) and replay any of them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TieDecision {
    /// The index chosen, in `0..of`.
    pub chosen: u32,
    /// How many tied timers were left to choose from (at least 2).
    pub of: u32,
}

/// Parses a tie-order script as written on the command line: choices
/// separated by commas, e.g. `1,0,2` (empty: no choices, all default to 0).
pub fn parse_tie_order(s: &str) -> Result<Vec<u32>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|c| {
            c.trim()
                .parse::<u32>()
                .map_err(|_| format!("expected choices like `1,0,2`, found `{s}`"))
        })
        .collect()
}

/// The command-line spelling of a tie-order script, e.g. `1,0,2`.
pub fn format_tie_order(choices: &[u32]) -> String {
    choices
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

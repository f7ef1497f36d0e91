//! What a scenario runs with: its header, overridden by the command line.

use super::ast::Scenario;
use crate::event_loop::{LoopConfig, DEFAULT_MAX_ITERATIONS};
use crate::tie_break::TieBreak;
use crate::time::{format_duration, Instant};

/// Options from outside the file (the CLI's flags); each overrides the
/// header's setting when given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--tie-break`.
    pub tie_break: Option<TieBreak>,
    /// `--jitter`, in nanoseconds.
    pub jitter_nanos: Option<i64>,
    /// `--max-iterations`.
    pub max_iterations: Option<u64>,
    /// `--tie-order`: a script for tied timers (see
    /// [`LoopConfig::tie_order`]); exhaustive exploration reports these.
    pub tie_order: Option<Vec<u32>>,
}

/// The settings a run used: enough to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The seed.
    pub seed: u64,
    /// The tie-break policy.
    pub tie_break: TieBreak,
    /// Jitter in nanoseconds (0: none).
    pub jitter_nanos: i64,
    /// Where the clock starts, in nanoseconds.
    pub start_nanos: i64,
    /// The iteration budget per loop.
    pub max_iterations: u64,
    /// The tie-order script, if any (see [`LoopConfig::tie_order`]).
    pub tie_order: Option<Vec<u32>>,
}

impl Settings {
    /// The header's settings with `overrides` applied; defaults elsewhere.
    pub fn resolve(scenario: &Scenario, overrides: &Overrides) -> Settings {
        let header = &scenario.header;
        Settings {
            seed: overrides
                .seed
                .or(header.seed.as_ref().map(|s| s.value))
                .unwrap_or(0),
            tie_break: overrides
                .tie_break
                .or(header.tie_break.as_ref().map(|s| s.value))
                .unwrap_or_default(),
            jitter_nanos: overrides
                .jitter_nanos
                .or(header.jitter.as_ref().map(|s| s.value.nanos))
                .unwrap_or(0),
            start_nanos: header.start_time.as_ref().map_or(0, |s| s.value.nanos),
            max_iterations: overrides
                .max_iterations
                .or(header.max_iterations.as_ref().map(|s| s.value))
                .unwrap_or(DEFAULT_MAX_ITERATIONS),
            tie_order: overrides.tie_order.clone(),
        }
    }

    /// A loop configuration with these settings.
    pub fn loop_config(&self, record_trace: bool, check_invariants: bool) -> LoopConfig {
        let config = LoopConfig {
            seed: self.seed,
            tie_break: self.tie_break,
            jitter_nanos: self.jitter_nanos,
            start_time: Instant(self.start_nanos),
            max_iterations: self.max_iterations,
            record_trace,
            check_invariants,
            ..LoopConfig::default()
        };
        LoopConfig {
            tie_order: self.tie_order.clone(),
            ..config
        }
    }

    /// The flags that reproduce these settings on the command line, e.g.
    /// `--seed 7 --tie-break heapq`. The seed is always given; the rest
    /// only when not the default.
    pub fn flags(&self) -> String {
        let mut flags = format!("--seed {}", self.seed);
        if self.tie_break != TieBreak::Fifo {
            flags.push_str(&format!(" --tie-break {}", self.tie_break));
        }
        if self.jitter_nanos != 0 {
            flags.push_str(&format!(" --jitter {}", format_duration(self.jitter_nanos)));
        }
        if self.max_iterations != DEFAULT_MAX_ITERATIONS {
            flags.push_str(&format!(" --max-iterations {}", self.max_iterations));
        }
        if let Some(order) = &self.tie_order {
            flags.push_str(&format!(
                " --tie-order {}",
                crate::tie_break::format_tie_order(order)
            ));
        }
        flags
    }
}

//! What a scenario runs with: its header, overridden by the command line.

use super::ast::Scenario;
use crate::event_loop::{
    LoopConfig, DEFAULT_MAX_CALLBACKS, DEFAULT_MAX_EVENTS, DEFAULT_MAX_ITERATIONS,
    DEFAULT_MAX_PENDING,
};
use crate::python::Python;
use crate::tie_break::TieBreak;
use crate::time::{format_duration, Instant};

/// Options from outside the file (the CLI's flags); each overrides the
/// header's setting when given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--python`.
    pub python: Option<Python>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--tie-break`.
    pub tie_break: Option<TieBreak>,
    /// `--jitter`, in nanoseconds.
    pub jitter_nanos: Option<i64>,
    /// `--max-iterations`.
    pub max_iterations: Option<u64>,
    /// `--max-events`.
    pub max_events: Option<u64>,
    /// `--max-callbacks`.
    pub max_callbacks: Option<u64>,
    /// `--max-pending`.
    pub max_pending: Option<u64>,
    /// `--tie-order`: a script for tied timers (see
    /// [`LoopConfig::tie_order`]); exhaustive exploration reports these.
    pub tie_order: Option<Vec<u32>>,
}

/// The settings a run used: enough to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Whose asyncio the run is.
    pub python: Python,
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
    /// The event budget of the trace.
    pub max_events: u64,
    /// The callback budget per loop.
    pub max_callbacks: u64,
    /// The pending-object budget per loop.
    pub max_pending: u64,
    /// The tie-order script, if any (see [`LoopConfig::tie_order`]).
    pub tie_order: Option<Vec<u32>>,
}

impl Settings {
    /// The header's settings with `overrides` applied; defaults elsewhere.
    pub fn resolve(scenario: &Scenario, overrides: &Overrides) -> Settings {
        let header = &scenario.header;
        Settings {
            python: overrides
                .python
                .or(header.python.as_ref().map(|s| s.value))
                .unwrap_or_default(),
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
            max_events: overrides
                .max_events
                .or(header.max_events.as_ref().map(|s| s.value))
                .unwrap_or(DEFAULT_MAX_EVENTS),
            max_callbacks: overrides
                .max_callbacks
                .or(header.max_callbacks.as_ref().map(|s| s.value))
                .unwrap_or(DEFAULT_MAX_CALLBACKS),
            max_pending: overrides
                .max_pending
                .or(header.max_pending.as_ref().map(|s| s.value))
                .unwrap_or(DEFAULT_MAX_PENDING),
            tie_order: overrides.tie_order.clone(),
        }
    }

    /// A loop configuration with these settings.
    pub fn loop_config(&self, record_trace: bool, check_invariants: bool) -> LoopConfig {
        let config = LoopConfig {
            python: self.python,
            seed: self.seed,
            tie_break: self.tie_break,
            jitter_nanos: self.jitter_nanos,
            start_time: Instant(self.start_nanos),
            max_iterations: self.max_iterations,
            max_events: self.max_events,
            max_callbacks: self.max_callbacks,
            max_pending: self.max_pending,
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
    /// `--python 3.12 --seed 7 --tie-break heapq`. The version and the
    /// seed are always given (a replay must not depend on a default); the
    /// rest only when not the default.
    pub fn flags(&self) -> String {
        let mut flags = format!("--python {} --seed {}", self.python, self.seed);
        if self.tie_break != TieBreak::Fifo {
            flags.push_str(&format!(" --tie-break {}", self.tie_break));
        }
        if self.jitter_nanos != 0 {
            flags.push_str(&format!(" --jitter {}", format_duration(self.jitter_nanos)));
        }
        let budgets = [
            ("iterations", self.max_iterations, DEFAULT_MAX_ITERATIONS),
            ("events", self.max_events, DEFAULT_MAX_EVENTS),
            ("callbacks", self.max_callbacks, DEFAULT_MAX_CALLBACKS),
            ("pending", self.max_pending, DEFAULT_MAX_PENDING),
        ];
        for (name, value, default) in budgets {
            if value != default {
                flags.push_str(&format!(" --max-{name} {value}"));
            }
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

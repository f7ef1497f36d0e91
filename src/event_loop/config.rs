//! How a loop is set up: a plain struct with documented defaults.

use crate::event_loop::EventLoop;
use crate::python::Python;
use crate::tie_break::TieBreak;
use crate::time::Instant;

/// The default iteration budget: a million `_run_once` passes per loop.
pub const DEFAULT_MAX_ITERATIONS: u64 = 1_000_000;

/// Everything that decides a run. Two loops built from equal configs and
/// driven by the same program produce byte-identical traces.
///
/// ```
/// use loopsim::{LoopConfig, TieBreak};
/// let lp = LoopConfig { seed: 7, tie_break: TieBreak::Random, ..LoopConfig::default() }.build();
/// assert_eq!(lp.time(), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopConfig {
    /// The seed of every random choice (default 0). It is the only source
    /// of nondeterminism.
    pub seed: u64,
    /// How timers with equal deadlines are ordered (default `fifo`).
    pub tie_break: TieBreak,
    /// Each wake-up of an idle loop is late by a seeded draw in
    /// `[0, jitter]` nanoseconds (default 0: never late). Never early.
    pub jitter_nanos: i64,
    /// Where the virtual clock starts (default 0).
    pub start_time: Instant,
    /// Whose asyncio this loop is, exactly (default [`Python::V3_12`]).
    pub python: Python,
    /// `_run_once` passes a loop may make before its driver fails with
    /// `budget` (default [`DEFAULT_MAX_ITERATIONS`]).
    pub max_iterations: u64,
    /// Record the trace (default on). Off, a run costs less and
    /// [`EventLoop::trace`] stays empty.
    pub record_trace: bool,
    /// Check the loop's invariants on every pass (default on); a violation is
    /// recorded as an `invariant_violated` event.
    pub check_invariants: bool,
    /// A script that orders timers with equal deadlines instead of
    /// `tie_break` (default `None`: the policy decides). Used by exhaustive
    /// exploration to reach every order.
    ///
    /// When several timers with one deadline leave the queue in the same
    /// pass, those not already cancelled are put in scheduling order and
    /// the script picks them one at a time: each choice is an index among
    /// those still left (choices past the end of the script are 0, an index
    /// too large means the last). A group of `n` live timers takes `n - 1`
    /// choices, so the script can reach all `n!` orders. Every choice made
    /// is recorded ([`EventLoop::tie_decisions`]). Cancelled timers go
    /// first (they are skipped anyway). The invariant checker then checks
    /// deadline order only, as under `heapq`.
    pub tie_order: Option<Vec<u32>>,
    /// A deliberate bug, for proving that checks can fail (test builds only).
    #[cfg(feature = "mutants")]
    pub mutant: Option<crate::mutant::Mutant>,
}

impl Default for LoopConfig {
    fn default() -> Self {
        LoopConfig {
            seed: 0,
            tie_break: TieBreak::Fifo,
            jitter_nanos: 0,
            start_time: Instant::ZERO,
            python: Python::default(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            record_trace: true,
            check_invariants: true,
            tie_order: None,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }
}

impl LoopConfig {
    /// A new loop with this configuration, on a clock of its own.
    pub fn build(self) -> EventLoop {
        EventLoop::with_config(self)
    }
}

//! How a loop is set up: a plain struct with documented defaults.

use crate::event_loop::EventLoop;
use crate::python::Python;
use crate::tie_break::TieBreak;
use crate::time::Instant;

/// The default iteration budget: a million `_run_once` passes per loop.
pub const DEFAULT_MAX_ITERATIONS: u64 = 1_000_000;
/// The default event budget: two million events in a world's trace
/// (about 64 bytes each: 128 MiB).
pub const DEFAULT_MAX_EVENTS: u64 = 2_000_000;
/// The default callback budget: ten million callbacks run per loop (task
/// steps and other internal callbacks included), a few seconds of work.
pub const DEFAULT_MAX_CALLBACKS: u64 = 10_000_000;
/// The default pending budget: a million objects waiting in a loop (ready
/// callbacks + timers + unfinished tasks; a task with its body is a few
/// hundred bytes: well under 1 GiB).
pub const DEFAULT_MAX_PENDING: u64 = 1_000_000;

/// Which budget ran out: the `reason` of a `budget` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Budget {
    /// [`LoopConfig::max_iterations`]: `_run_once` passes of one loop.
    Iterations,
    /// [`LoopConfig::max_events`]: events in the trace.
    Events,
    /// [`LoopConfig::max_callbacks`]: callbacks one loop ran.
    Callbacks,
    /// [`LoopConfig::max_pending`]: ready callbacks, timers and unfinished
    /// tasks of one loop.
    Pending,
}

impl Budget {
    /// The trace's spelling (`budget reason=iterations`).
    pub fn as_str(self) -> &'static str {
        match self {
            Budget::Iterations => "iterations",
            Budget::Events => "events",
            Budget::Callbacks => "callbacks",
            Budget::Pending => "pending",
        }
    }
}

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
    /// `budget reason=iterations` (default [`DEFAULT_MAX_ITERATIONS`]).
    /// Checked before each pass.
    pub max_iterations: u64,
    /// Events the trace may hold (default [`DEFAULT_MAX_EVENTS`]). Events
    /// past it are not kept, and the run ends with `budget reason=events`
    /// (checked before each callback and after each pass; the scenario
    /// interpreter also checks after each statement of `main`).
    pub max_events: u64,
    /// Callbacks a loop may run, task steps and the loop's internal
    /// callbacks included (default [`DEFAULT_MAX_CALLBACKS`]). When it has
    /// run that many and another is next, the run ends with `budget
    /// reason=callbacks`.
    pub max_callbacks: u64,
    /// Objects a loop may hold waiting: ready callbacks (cancelled ones not
    /// yet skipped included), timers (cancelled ones not yet dropped
    /// included) and tasks not done (default [`DEFAULT_MAX_PENDING`]).
    /// Checked before each callback: over it, the run ends with `budget
    /// reason=pending`.
    pub max_pending: u64,
    /// Record the trace (default on). Off, a run costs less and
    /// [`EventLoop::trace`] stays empty.
    pub record_trace: bool,
    /// Record the loop's state at the start of every pass (default off):
    /// the ready queue, the timers in the order they will leave, the tasks
    /// and what each awaits ([`EventLoop::states`]), and each event's source
    /// tag ([`EventLoop::set_source`]). Off, a pass pays one test of this
    /// flag.
    pub record_state: bool,
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
            max_events: DEFAULT_MAX_EVENTS,
            max_callbacks: DEFAULT_MAX_CALLBACKS,
            max_pending: DEFAULT_MAX_PENDING,
            record_trace: true,
            record_state: false,
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

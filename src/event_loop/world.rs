//! What sibling loops share: one virtual clock, one trace, one seed.
//!
//! asyncio's loops all read `time.monotonic()`, so loops made with
//! [`EventLoop::new_event_loop`](crate::EventLoop::new_event_loop) share this
//! world: the same clock, the same trace (events of all loops interleaved in
//! the order they happened) and the same seeded streams.

use super::recorder::Recorder;
use crate::event_loop::{LoopConfig, LoopInner};
use crate::invariant::Checker;
use crate::loop_state::PassState;
use crate::rng::{SeededRng, Stream};
use crate::tie_break::TieDecision;
use std::cell::{Cell, RefCell};
use std::rc::Weak;

pub(crate) struct World {
    /// Virtual time in nanoseconds.
    pub clock: Cell<i64>,
    /// The next handle sequence number.
    next_seq: Cell<u64>,
    /// The trace: kept, or streamed to a sink (`recorder/`).
    pub trace: RefCell<Recorder>,
    /// An event was refused: the trace held `max_events` already.
    pub events_overflowed: Cell<bool>,
    /// A `budget` was recorded: the whole run is over, nothing more is
    /// recorded, and every loop of the world stops at its next check.
    pub budget_spent: Cell<bool>,
    /// The `run_until_complete` stop callbacks on futures, by the future's
    /// identity and the callback's id: CPython's `_run_until_complete_cb`
    /// is one function, so its `remove_done_callback` removes every copy
    /// from the future (`run_until_complete`).
    pub stop_callbacks: RefCell<Vec<(*const (), u64)>>,
    pub program_rng: RefCell<SeededRng>,
    pub tie_rng: RefCell<SeededRng>,
    pub jitter_rng: RefCell<SeededRng>,
    /// The invariant checker, fed what the loops report.
    pub checker: RefCell<Option<Checker>>,
    pub config: LoopConfig,
    /// The name the trace gives unnamed callbacks, shared, not allocated
    /// per event.
    pub unnamed_callback: std::rc::Rc<str>,
    /// Default task names handed out (`Task-N`): CPython's
    /// `_task_name_counter`, per world instead of per process, so that a
    /// trace never depends on what else ran in the process.
    task_numbers: Cell<u64>,
    /// How many loops of this world exist (loop ids).
    pub loops_made: Cell<u32>,
    /// The tie-order script and the decisions made so far, if scripted.
    pub tie_script: Option<RefCell<TieScript>>,
    /// Set while a statement of a scenario's `main` runs outside any pass
    /// (see [`EventLoop::run_statement`](super::EventLoop::run_statement)):
    /// then [`statement_loop`](World::statement_loop) stamps every event.
    pub stamping: Cell<bool>,
    /// The loop the running `main` statement acts on.
    pub statement_loop: RefCell<Weak<LoopInner>>,
    /// Futures whose exception nobody retrieved (`unretrieved.rs`).
    pub unretrieved: RefCell<Vec<super::unretrieved::Marked>>,
    /// `config.check_invariants || config.record_state`: whether a pass's
    /// start has anything to report (one test per pass for both).
    pub pass_hooks: bool,
    /// The loops' states at the start of each pass (`config.record_state`).
    pub states: RefCell<Vec<PassState>>,
    /// Where in its source the program is (`EventLoop::set_source`): what
    /// each event recorded with `config.record_state` on is tagged with.
    pub source: Cell<u32>,
    /// Each event's source tag, parallel to `trace` (`config.record_state`).
    pub sources: RefCell<Vec<u32>>,
    /// A scenario's `try` around a statement that does not await
    /// ([`EventLoop::catching`](super::EventLoop::catching)): `Some` while
    /// it runs, holding the first error the statement raised, which is
    /// then not recorded as an `error` event. A driver's passes run with
    /// it put aside: their callbacks' errors are not the statement's.
    pub catch: RefCell<Option<Option<crate::error::Error>>>,
}

/// A tie-order script being followed ([`LoopConfig::tie_order`]).
pub(crate) struct TieScript {
    choices: Vec<u32>,
    pub made: Vec<TieDecision>,
}

impl TieScript {
    /// The next choice among `of` (>= 2) tied timers, recorded.
    pub fn choose(&mut self, of: usize) -> usize {
        let of = u32::try_from(of).unwrap_or(u32::MAX);
        let chosen = self
            .choices
            .get(self.made.len())
            .copied()
            .unwrap_or(0)
            .min(of - 1);
        self.made.push(TieDecision { chosen, of });
        chosen as usize
    }
}

impl World {
    pub fn new(config: LoopConfig) -> World {
        let pass_hooks = config.check_invariants || config.record_state;
        World {
            clock: Cell::new(config.start_time.as_nanos()),
            next_seq: Cell::new(0),
            // Off, nothing is recorded; states tag each event with its
            // source: both take the long path.
            trace: RefCell::new(Recorder::new(
                if config.record_trace && !config.record_state {
                    config.max_events
                } else {
                    0
                },
            )),
            events_overflowed: Cell::new(false),
            budget_spent: Cell::new(false),
            stop_callbacks: RefCell::new(Vec::new()),
            program_rng: RefCell::new(SeededRng::new(config.seed, Stream::Program)),
            tie_rng: RefCell::new(SeededRng::new(config.seed, Stream::TieBreak)),
            jitter_rng: RefCell::new(SeededRng::new(config.seed, Stream::Jitter)),
            checker: RefCell::new(config.check_invariants.then(|| {
                let mut checker = Checker::for_policy(config.tie_break);
                // A script orders ties its own way: check deadlines only.
                checker.total_tie_order &= config.tie_order.is_none();
                checker
            })),
            tie_script: config.tie_order.clone().map(|choices| {
                RefCell::new(TieScript {
                    choices,
                    made: Vec::new(),
                })
            }),
            config,
            pass_hooks,
            states: RefCell::new(Vec::new()),
            source: Cell::new(0),
            sources: RefCell::new(Vec::new()),
            catch: RefCell::new(None),
            unnamed_callback: "callback".into(),
            task_numbers: Cell::new(0),
            loops_made: Cell::new(0),
            stamping: Cell::new(false),
            statement_loop: RefCell::new(Weak::new()),
            unretrieved: RefCell::new(Vec::new()),
        }
    }

    /// The key that orders a timer among equal deadlines under `random`.
    pub fn tie_break_key(&self) -> u64 {
        #[cfg(feature = "mutants")]
        if self.config.mutant == Some(crate::mutant::Mutant::UnseededRandomTies) {
            // The bug: a fixed stream instead of the seed's.
            let n = self.next_seq.get();
            return n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        }
        self.tie_rng.borrow_mut().next_u64()
    }

    /// The `N` of the next `Task-N`, from 1.
    pub fn next_task_number(&self) -> u64 {
        let n = self.task_numbers.get() + 1;
        self.task_numbers.set(n);
        n
    }

    #[inline]
    pub fn next_seq(&self) -> u64 {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        seq
    }
}

//! A test harness for your own loop code: run it under many seeds, and
//! when one fails, say how to rerun exactly that seed.
//!
//! [`Harness::run`] creates one [`EventLoop`] per seed from the harness's
//! settings, hands it to your test, and judges the result: the test's own
//! `Err`, and the loop's trace (`check_failed`, `invariant_violated` or
//! `budget` events fail the seed too). Each seed runs twice and the traces
//! must be equal: a test that is not deterministic fails with the first
//! event where the runs differ.
//!
//! ```
//! use loopsim::{EventLoop, Harness, TieBreak};
//!
//! // Two timers due at once: under `random` their order depends on the
//! // seed, and this test wrongly assumes `a` always runs first.
//! fn ordering(lp: &EventLoop) -> Result<(), String> {
//!     let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
//!     for name in ["a", "b"] {
//!         let order = order.clone();
//!         lp.call_later(1.0, move |_| order.borrow_mut().push(name)).map_err(|e| e.to_string())?;
//!     }
//!     let _ = lp.run_forever(); // ends `idle` once both ran
//!     let order = order.borrow();
//!     if order.as_slice() == ["a", "b"] { Ok(()) } else { Err(format!("ran in the order {order:?}")) }
//! }
//!
//! let harness = Harness::from_env().tie_break(TieBreak::Random).test_name("ordering");
//! // `harness.run(ordering)` would panic with this failure's text:
//! let failure = harness.check(ordering).unwrap_err();
//! assert_eq!(
//!     failure.to_string(),
//!     format!(
//!         "loopsim: seed {0} failed: ran in the order [\"b\", \"a\"]\n\
//!          rerun it with: LOOPSIM_SEED={0} cargo test ordering",
//!         failure.seed
//!     )
//! );
//! // Under `fifo` the order is always a, b:
//! Harness::new().tie_break(TieBreak::Fifo).run(ordering);
//! ```
//!
//! [`Harness::from_env`] is the one place the environment is read: with
//! `LOOPSIM_SEED=S` set it runs only seed `S`. [`Harness::check`] returns the
//! failure as a value instead of panicking.

use crate::event_loop::{EventLoop, LoopConfig, DEFAULT_MAX_ITERATIONS};
use crate::tie_break::TieBreak;
use crate::trace::{first_divergence, Event};
use std::fmt;
use std::ops::Range;

/// The variable [`Harness::from_env`] reads: one seed to rerun.
pub const SEED_VARIABLE: &str = "LOOPSIM_SEED";

/// Runs a test under many seeds. A plain struct; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Harness {
    /// The seeds to run (default `0..100`).
    pub seeds: Range<u64>,
    /// How equal deadlines are ordered (default `random`: the seed matters).
    pub tie_break: TieBreak,
    /// Wake-up jitter in nanoseconds (default 0).
    pub jitter_nanos: i64,
    /// The iteration budget per loop (default [`DEFAULT_MAX_ITERATIONS`]).
    pub max_iterations: u64,
    /// The test's name for the rerun command (default: the name of the
    /// current thread, which `cargo test` sets to the test's path).
    pub test_name: Option<String>,
}

impl Default for Harness {
    fn default() -> Self {
        Harness {
            seeds: 0..100,
            tie_break: TieBreak::Random,
            jitter_nanos: 0,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            test_name: None,
        }
    }
}

/// A failing seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarnessFailure {
    /// The seed.
    pub seed: u64,
    /// What failed: the test's error, the loop's failure event, or the
    /// nondeterminism.
    pub message: String,
    /// The trace of the failing run.
    pub trace: Vec<Event>,
    /// The command that reruns this seed: `LOOPSIM_SEED=S cargo test NAME`.
    pub rerun: String,
}

impl fmt::Display for HarnessFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loopsim: seed {} failed: {}\nrerun it with: {}",
            self.seed, self.message, self.rerun
        )
    }
}

impl Harness {
    /// The defaults.
    pub fn new() -> Harness {
        Harness::default()
    }

    /// The defaults, except that `LOOPSIM_SEED=S` in the environment runs
    /// only seed `S`. Panics if the variable is set but not a number.
    pub fn from_env() -> Harness {
        let mut harness = Harness::default();
        if let Ok(text) = std::env::var(SEED_VARIABLE) {
            let seed: u64 = text
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={text} is not a seed"));
            harness.seeds = seed..seed.saturating_add(1);
        }
        harness
    }

    /// With these seeds.
    pub fn seeds(self, seeds: Range<u64>) -> Harness {
        Harness { seeds, ..self }
    }

    /// With this tie-break policy.
    pub fn tie_break(self, tie_break: TieBreak) -> Harness {
        Harness { tie_break, ..self }
    }

    /// With this name in the rerun command.
    pub fn test_name(self, name: impl Into<String>) -> Harness {
        Harness {
            test_name: Some(name.into()),
            ..self
        }
    }

    /// The loop configuration for `seed`.
    pub fn config(&self, seed: u64) -> LoopConfig {
        LoopConfig {
            seed,
            tie_break: self.tie_break,
            jitter_nanos: self.jitter_nanos,
            max_iterations: self.max_iterations,
            ..LoopConfig::default()
        }
    }

    /// Runs `test` once per seed on a fresh loop; panics at the first
    /// failing seed with its [`HarnessFailure`] (which names the seed and
    /// the command to rerun it).
    pub fn run(&self, test: impl Fn(&EventLoop) -> Result<(), String>) {
        if let Err(failure) = self.check(test) {
            panic!("{failure}");
        }
    }

    /// [`run`](Harness::run), returning the first failure instead of panicking.
    pub fn check(
        &self,
        test: impl Fn(&EventLoop) -> Result<(), String>,
    ) -> Result<(), HarnessFailure> {
        for seed in self.seeds.clone() {
            let (result, trace) = self.once(seed, &test);
            let (_, again) = self.once(seed, &test);
            let problem = match (result, first_divergence(&trace, &again)) {
                (Err(message), _) => Some(message),
                (Ok(()), Some(divergence)) => Some(format!("nondeterminism: {divergence}")),
                (Ok(()), None) => trace
                    .iter()
                    .find(|e| e.kind.is_failure())
                    .map(|e| e.to_text()),
            };
            if let Some(message) = problem {
                return Err(HarnessFailure {
                    seed,
                    message,
                    trace,
                    rerun: self.rerun(seed),
                });
            }
        }
        Ok(())
    }

    fn once(
        &self,
        seed: u64,
        test: &impl Fn(&EventLoop) -> Result<(), String>,
    ) -> (Result<(), String>, Vec<Event>) {
        let lp = self.config(seed).build();
        let result = test(&lp);
        let trace = lp.take_trace();
        let _ = lp.close();
        (result, trace)
    }

    fn rerun(&self, seed: u64) -> String {
        let thread = std::thread::current();
        let name = self
            .test_name
            .as_deref()
            .or(thread.name().filter(|n| *n != "main"))
            .unwrap_or("<test name>");
        format!("{SEED_VARIABLE}={seed} cargo test {name}")
    }
}

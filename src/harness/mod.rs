//! A test harness for your own loop code: run it under many seeds, and
//! when one fails, say how to rerun exactly that seed.
//!
//! [`Harness::run`] creates one [`EventLoop`] per seed from the harness's
//! settings, hands it to your test, and judges what happened. A seed fails
//! when the test
//!
//! * panics, in its own code or in a task or callback it ran (an
//!   `assert!`, an `unwrap`): the failure names the panic's `file:line:col`
//!   in your code;
//! * returns `Err` (the test returns [`TestResult`], so `?` works on
//!   `loopsim::Error`, any `std::error::Error + Send + Sync`,
//!   `anyhow::Error` and strings);
//! * leaves a failure in the trace: `check_failed`, `invariant_violated`,
//!   `budget`;
//! * leaves an exception nobody handled: a callback that returned `Err`
//!   (an `exception` event), or a task or future whose exception nobody
//!   awaited or asked for (asyncio's `Task exception was never retrieved`,
//!   see [`EventLoop::unretrieved_exceptions`]). Opt out per harness with
//!   [`Harness::allow_unhandled_exceptions`].
//!
//! Each passing seed runs twice and the traces must be equal: a test that
//! is not deterministic fails with the first event where the runs differ.
//! The failure says the seed and the command that reruns only that seed:
//!
//! ```text
//! loopsim: seed 3 failed: panicked at tests/retry.rs:14:9: assertion `left == right` failed
//!   left: ["b", "a"]
//!  right: ["a", "b"]
//! rerun it with: LOOPSIM_SEED=3 cargo test retries_in_order -- --exact
//! ```
//!
//! An example, with the failure as a value ([`Harness::check`]):
//!
//! ```
//! use loopsim::harness::TestResult;
//! use loopsim::{EventLoop, Harness, TieBreak};
//! use std::{cell::RefCell, rc::Rc};
//!
//! // Two timers due at once: under `random` their order depends on the
//! // seed, and this test wrongly assumes `a` always runs first.
//! fn ordering(lp: &EventLoop) -> TestResult {
//!     let order = Rc::new(RefCell::new(Vec::new()));
//!     for name in ["a", "b"] {
//!         let order = order.clone();
//!         lp.call_later(1.0, move |_| order.borrow_mut().push(name))?;
//!     }
//!     lp.run_forever()?; // ends `Ended::Idle` once both ran
//!     assert_eq!(*order.borrow(), ["a", "b"]);
//!     Ok(())
//! }
//!
//! let harness = Harness::from_env().tie_break(TieBreak::Random).test_name("ordering");
//! // `harness.run(ordering)` would panic with this failure's text:
//! let failure = harness.check(ordering).unwrap_err();
//! let panic = failure.panic.as_ref().unwrap();
//! assert!(panic.file.ends_with(".rs") && panic.message.contains("left == right"));
//! assert!(failure.to_string().starts_with(&format!(
//!     "loopsim: seed {} failed: panicked at {}:{}:",
//!     failure.seed, panic.file, panic.line
//! )));
//! assert!(failure.to_string().ends_with(&format!(
//!     "rerun it with: LOOPSIM_SEED={} cargo test ordering -- --exact",
//!     failure.seed
//! )));
//! // Under `fifo` the order is always a, b:
//! Harness::new().tie_break(TieBreak::Fifo).run(ordering);
//! ```
//!
//! [`Harness::from_env`] is the one place the environment is read: with
//! `LOOPSIM_SEED=S` set it runs only seed `S`.

mod panic;

pub use panic::Panic;

use crate::event_loop::{EventLoop, LoopConfig, Unretrieved, DEFAULT_MAX_ITERATIONS};
use crate::python::Python;
use crate::tie_break::TieBreak;
use crate::trace::{first_divergence, Event, EventKind};
use std::fmt;
use std::ops::Range;

/// The variable [`Harness::from_env`] reads: one seed to rerun.
pub const SEED_VARIABLE: &str = "LOOPSIM_SEED";

/// What a harness test returns: `?` converts `loopsim::Error`, any
/// `std::error::Error + Send + Sync` (`io::Error`, `ParseIntError`, your
/// own), `anyhow::Error`, `Box<dyn Error + Send + Sync>`, `String` and
/// `&str` into its error. A test may also return `()` and fail only by
/// panicking.
///
/// One error type, not any `E: Display`: a closure that ends in `Ok(())`
/// or uses `?` gives the compiler nothing else to infer `E` from.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// What a harness test may return: `()` or [`TestResult`].
pub trait TestOutcome: sealed::Sealed {
    /// The error's text, if the test failed.
    fn into_failure(self) -> Option<String>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl Sealed for super::TestResult {}
}

impl TestOutcome for () {
    fn into_failure(self) -> Option<String> {
        None
    }
}

impl TestOutcome for TestResult {
    fn into_failure(self) -> Option<String> {
        self.err().map(|error| error.to_string())
    }
}

/// What a seed leaving an unhandled exception does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unhandled {
    /// The seed fails (the default).
    #[default]
    Fail,
    /// The seed may pass.
    Allow,
}

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
    /// Whose asyncio the loops are (default 3.12, as [`LoopConfig::python`]).
    pub python: Python,
    /// The test's name for the rerun command (default: the name of the
    /// current thread, which `cargo test` sets to the test's path).
    pub test_name: Option<String>,
    /// Whether an exception in a callback, or one nobody retrieved from a
    /// task or future, fails the seed (default [`Unhandled::Fail`]).
    pub unhandled: Unhandled,
}

impl Default for Harness {
    fn default() -> Self {
        Harness {
            seeds: 0..100,
            tie_break: TieBreak::Random,
            jitter_nanos: 0,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            python: Python::default(),
            test_name: None,
            unhandled: Unhandled::Fail,
        }
    }
}

/// A failing seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarnessFailure {
    /// The seed.
    pub seed: u64,
    /// What failed: the panic, the test's error, the loop's failure event,
    /// the unhandled exception, or the nondeterminism.
    pub message: String,
    /// The panic, with its place in your code, if the test panicked.
    pub panic: Option<Box<Panic>>,
    /// The trace of the failing run (up to the panic, if it panicked).
    pub trace: Vec<Event>,
    /// The command that reruns this seed:
    /// `LOOPSIM_SEED=S cargo test NAME -- --exact`.
    pub rerun: String,
}

impl fmt::Display for HarnessFailure {
    /// The seed and what failed; the panic's backtrace, if
    /// `RUST_BACKTRACE` asked for one; last, the rerun command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "loopsim: seed {} failed: {}", self.seed, self.message)?;
        if let Some(backtrace) = self.panic.as_ref().and_then(|p| p.backtrace.as_ref()) {
            writeln!(f, "backtrace of the panic:\n{}", backtrace.trim_end())?;
        }
        write!(f, "rerun it with: {}", self.rerun)
    }
}

impl std::error::Error for HarnessFailure {}

/// One run of the test on one seed.
struct Run {
    /// The test's panic, or its error's text.
    outcome: Result<Option<String>, Panic>,
    trace: Vec<Event>,
    unretrieved: Vec<Unretrieved>,
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

    /// With this wake-up jitter, in nanoseconds.
    pub fn jitter_nanos(self, jitter_nanos: i64) -> Harness {
        Harness {
            jitter_nanos,
            ..self
        }
    }

    /// With this iteration budget per loop.
    pub fn max_iterations(self, max_iterations: u64) -> Harness {
        Harness {
            max_iterations,
            ..self
        }
    }

    /// With loops that are this CPython's asyncio, exactly.
    ///
    /// ```
    /// use loopsim::{Harness, Python};
    /// let harness = Harness::new().python(Python::V3_11);
    /// assert_eq!(harness.config(7).python, Python::V3_11);
    /// ```
    pub fn python(self, python: Python) -> Harness {
        Harness { python, ..self }
    }

    /// With this name in the rerun command.
    pub fn test_name(self, name: impl Into<String>) -> Harness {
        Harness {
            test_name: Some(name.into()),
            ..self
        }
    }

    /// A callback's exception, or a task's or future's exception nobody
    /// retrieved, no longer fails a seed (they stay in the trace).
    pub fn allow_unhandled_exceptions(self) -> Harness {
        Harness {
            unhandled: Unhandled::Allow,
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
            python: self.python,
            ..LoopConfig::default()
        }
    }

    /// Runs `test` once per seed on a fresh loop (twice, to check that it
    /// is deterministic); panics at the first failing seed with its
    /// [`HarnessFailure`], which names the seed, your panic's place and the
    /// command to rerun that seed. The panic itself is reported at the
    /// line that called `run`.
    #[track_caller]
    pub fn run<R: TestOutcome>(&self, test: impl Fn(&EventLoop) -> R) {
        if let Err(failure) = self.check(test) {
            panic!("{failure}");
        }
    }

    /// [`run`](Harness::run), returning the first failure instead of panicking.
    pub fn check<R: TestOutcome>(
        &self,
        test: impl Fn(&EventLoop) -> R,
    ) -> Result<(), HarnessFailure> {
        for seed in self.seeds.clone() {
            let first = self.once(seed, &test);
            let problem = match self.problem(&first) {
                Some(problem) => Some(problem),
                None => {
                    let again = self.once(seed, &test);
                    match (first_divergence(&first.trace, &again.trace), self.problem(&again)) {
                        (Some(divergence), _) => Some((format!("nondeterminism: {divergence}"), None)),
                        (None, Some((message, panic))) => Some((
                            format!("nondeterminism: the first run passed, the second failed: {message}"),
                            panic,
                        )),
                        (None, None) => None,
                    }
                }
            };
            if let Some((message, panic)) = problem {
                return Err(HarnessFailure {
                    seed,
                    message,
                    panic,
                    trace: first.trace,
                    rerun: self.rerun(seed),
                });
            }
        }
        Ok(())
    }

    /// Why `run` fails the seed, if it does.
    fn problem(&self, run: &Run) -> Option<(String, Option<Box<Panic>>)> {
        match &run.outcome {
            Err(panic) => return Some((panic.to_string(), Some(Box::new(panic.clone())))),
            Ok(Some(error)) => return Some((error.clone(), None)),
            Ok(None) => {}
        }
        if let Some(event) = run.trace.iter().find(|e| e.kind.is_failure()) {
            return Some((event.to_text(), None));
        }
        if self.unhandled == Unhandled::Allow {
            return None;
        }
        let hint = "(Harness::allow_unhandled_exceptions() lets it pass)";
        let exception = run
            .trace
            .iter()
            .find(|e| matches!(e.kind, EventKind::Exception { .. }));
        if let Some(event) = exception {
            let message = format!(
                "a callback raised an exception nobody handled: {} {hint}",
                event.to_text()
            );
            return Some((message, None));
        }
        let first = run.unretrieved.first()?;
        let more = match run.unretrieved.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        Some((format!("{first}{more} {hint}"), None))
    }

    fn once<R: TestOutcome>(&self, seed: u64, test: &impl Fn(&EventLoop) -> R) -> Run {
        let lp = self.config(seed).build();
        // A panic out of `run_forever` unwinds through its guard, which
        // leaves the loop stopped and this thread's running loop restored.
        let outcome = panic::catch(|| test(&lp).into_failure());
        let run = Run {
            outcome,
            trace: lp.take_trace(),
            unretrieved: lp.unretrieved_exceptions(),
        };
        let _ = lp.close();
        run
    }

    fn rerun(&self, seed: u64) -> String {
        let thread = std::thread::current();
        let name = self
            .test_name
            .as_deref()
            .or(thread.name().filter(|n| *n != "main"))
            .unwrap_or("<test name>");
        format!("{SEED_VARIABLE}={seed} cargo test {name} -- --exact")
    }
}

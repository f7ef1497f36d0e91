//! loopsim: asyncio's event loop on a virtual, seedable clock.
//!
//! # The problem
//! Code with timeouts, retries and deadlines is hard to test: real sleeps are
//! slow and flaky, and the order of callbacks due at the same moment is an
//! accident of the event loop. loopsim runs such code on asyncio's own
//! scheduling rules (CPython's `_run_once`, exactly) with a clock that only
//! moves when nothing is ready, so a day of timeouts runs in microseconds and
//! every run is reproducible from its seed.
//!
//! # An example
//! ```
//! use loopsim::{sleep, EventLoop, Error, LoopConfig, TieBreak};
//!
//! let lp = LoopConfig { seed: 7, tie_break: TieBreak::Heapq, ..LoopConfig::default() }.build();
//! lp.call_later_named(30.0, "timeout", |lp: &EventLoop| lp.log("gave up")).unwrap();
//! let fetch = lp
//!     .create_task_named("fetch", async {
//!         for attempt in 1..=3i64 {
//!             sleep(10.0).await?; // a day of these takes microseconds
//!             if attempt == 3 {
//!                 return Ok(attempt);
//!             }
//!         }
//!         Err(Error::raised("unreachable"))
//!     })
//!     .unwrap();
//! assert_eq!(lp.run_until_complete(&fetch), Ok(3));
//! assert_eq!(lp.time(), 30.0);
//! let trace: Vec<String> = lp.trace().iter().map(|e| e.to_string()).collect();
//! assert_eq!(trace.last().unwrap(), "#8 t=30.0 returned driver=run_until_complete value=3");
//! ```
//!
//! # The pieces
//! * [`EventLoop`]: `call_soon`, `call_later`, `call_at`, `run_forever`,
//!   `run_until_complete`, `stop`, `close`, `time`; built from a
//!   [`LoopConfig`] (seed, [`TieBreak`] policy, jitter, start time, budget).
//! * [`Task`] and [`Future`]: asyncio's, over Rust `async` blocks that return
//!   `Result<T, Error>`; [`sleep`] and [`yield_now`] suspend a task.
//! * [`sync`]: asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
//!   `BoundedSemaphore`, `Barrier` and queues, waiter for waiter.
//! * [`trace`]: every event with its iteration and virtual time, as text for
//!   snapshots or JSON lines.
//! * [`invariant`]: the rules checked on every run.
//! * [`scenario`]: `.scn` files, parsed and run on this same loop; the
//!   language, every statement with an example, is
//!   [`scenario::language`] (`docs/scenario-language.md` in the repository).
//!
//! # Reproducing a failure
//! The seed is the only source of nondeterminism. A failing run prints its
//! settings and a command such as `loopsim replay FILE --seed 3 --tie-break
//! random`, which reproduces it byte for byte.
//!
//! # Finding the seeds that fail
//! One seed passing proves little when the order of tied timers or a
//! `rand()` delay depends on it. [`explore`] runs a scenario over a range of
//! seeds (or, with `exhaustive`, over every order of its tied timers), checks
//! each run's determinism, and lists each failing seed with its replay
//! command; [`shrink`] then cuts the scenario down to what the failure
//! needs. For Rust code, [`Harness`] runs a test closure on a fresh loop per
//! seed and, on failure (a panic in the test or in a task it ran, an
//! `Err`, an unhandled exception), panics with the seed, the place of your
//! failing line and `LOOPSIM_SEED=S cargo test NAME -- --exact` to rerun
//! exactly that seed.
//!
//! # Your own types
//! Tasks and futures carry any `T: Debug + Clone + 'static` (tuples,
//! `Vec`s, floats, your structs); the trace shows integers, strings and
//! `none` as scenarios do and other values by their `Debug` text
//! ([`TraceValue`]). [`Error`] is `Send + Sync` and a `std::error::Error`.
//!
//! # Features
//! `cli` (default) builds the `loopsim` command and colours diagnostics;
//! `fuzz` adds `fuzz_support` and `scenario::generate`. With
//! `default-features = false` the library needs neither clap, indicatif,
//! codespan-reporting nor arbitrary.
#![warn(missing_docs)]

pub mod combinators;
mod decimal;
pub mod error;
pub mod event_loop;
pub mod explore;
mod fifo_vec;
pub mod future;
#[cfg(feature = "fuzz")]
pub mod fuzz_support;
pub mod harness;
pub mod invariant;
pub mod loop_state;
#[cfg(feature = "mutants")]
pub mod mutant;
mod prefetch;
pub mod python;
pub mod rng;
pub mod scenario;
pub mod shrink;
pub mod sync;
pub mod task;
pub mod tie_break;
pub mod time;
mod timer_queue;
pub mod trace;
pub mod trace_writer;
pub mod value;
pub mod view;

pub use combinators::{
    gather, gather_return_exceptions, shield, timeout, timeout_at, wait, Gathering, ReturnWhen,
    TaskGroup,
};
pub use error::Error;
pub use event_loop::{
    get_event_loop, get_running_loop, new_event_loop, set_event_loop, Budget, CallbackResult,
    Ended, EventLoop, Handle, LoopConfig, DEFAULT_MAX_CALLBACKS, DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_PENDING,
};
pub use future::{Awaitable, Future};
pub use loop_state::PassState;
pub use task::{create_task, sleep, wait_for, yield_now, Sleep, Task, YieldNow};

pub use harness::Harness;
pub use python::Python;
pub use tie_break::{TieBreak, TieDecision};
pub use time::{Instant, Nanos};
pub use trace::{Event, EventKind};
pub use value::{TraceValue, Value};

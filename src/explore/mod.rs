//! Seed exploration: run one scenario under many seeds (or every tie order)
//! and report each failing seed with the command that replays it.
//!
//! A scenario that passes with its own seed may fail with another: a
//! `random` tie order or a `rand(A, B)` delay can reorder its callbacks.
//! [`explore`] runs it once per seed of a range and reports:
//!
//! * how many seeds ran, and how many *distinct traces* they produced (a
//!   64-bit hash of each trace's events, [`trace_hash`], computed here, so
//!   the count never depends on a hasher's seed or a map's iteration order);
//! * every failing seed, with its first failure and a `loopsim replay`
//!   command that reproduces that failure byte for byte; the rendered
//!   report groups them into distinct failures and lists a bounded number
//!   (`report.rs`).
//!
//! A seed fails when its run records `check_failed`, `invariant_violated`
//! or `budget`, or when the run is not deterministic: every seed is run
//! twice and the two traces compared ([`crate::trace::first_divergence`]); a divergence is
//! reported with its event index, iteration and virtual time.
//!
//! ```
//! use loopsim::explore::{explore, ExploreOptions, SeedRange};
//! use loopsim::scenario::parse;
//!
//! let source = "tie_break random\n\
//!     callback a:\n    log a\n\
//!     callback b:\n    log b\n\
//!     main:\n    call_later 1 a\n    call_later 1 b\n    run_forever\n";
//! let scenario = parse("ab.scn", source).unwrap();
//! let options = ExploreOptions { seeds: SeedRange::new(0, 50), ..ExploreOptions::default() };
//! let report = explore(&scenario, "ab.scn", &options, |_, _| {});
//! assert_eq!((report.seeds_run, report.distinct_traces), (50, 2));
//! assert!(report.failures.is_empty()); // both orders end idle: no check fails
//! ```
//!
//! # Parallelism, sharding, determinism of the report
//! Loops are `!Send`, so each worker thread parses the scenario again from
//! its canonical text ([`print()`]; printing never changes a trace) and takes
//! seeds from a shared atomic counter. Results are merged and sorted by seed,
//! so the report is the same whatever the thread timing and `jobs`.
//!
//! [`Shard`] `K/N` (1-based `K`) keeps the seeds with `seed % N == K - 1`:
//! `N` machines given `1/N` … `N/N` and the same range cover it exactly once.
//!
//! # Exhaustive mode
//! With [`ExploreOptions::exhaustive`], each seed is run under every order
//! of its tied timers rather than the policy's one: a depth-first search
//! over the decisions of a tie-order script ([`LoopConfig::tie_order`]).
//! Each run records its decisions; the next run keeps them up to the last
//! one that has an untried alternative and takes that alternative. The
//! search stops when no decision is left, or after
//! [`ExploreOptions::max_exhaustive`] runs for a seed (the report says
//! whether every order was reached). A failing order is replayed with
//! `--tie-order`, e.g. `loopsim replay f.scn --seed 0 --tie-order 1,0`.
//!
//! [`LoopConfig::tie_order`]: crate::LoopConfig::tie_order
//!
//! The pieces: `seeds.rs` (ranges and shards), `hash.rs` (the trace hash),
//! `worker.rs` (what one thread does with the seeds it takes), `report.rs`
//! (what was found, and its text), `json.rs` (the report as one JSON
//! object, complete enough that the reports of shards merge exactly),
//! `merge.rs` (that merge: `loopsim merge`).

mod counts;
mod hash;
mod json;
mod merge;
mod report;
mod seeds;
mod worker;

pub use hash::{trace_hash, Fnv1a};
pub use json::{JsonFailure, JsonReport, REPORT_VERSION};
pub use merge::merge_reports;
pub use report::{Failure, FailureGroup, Listing, Nondeterminism, Problem, Report, TraceCount};
pub use seeds::{SeedRange, Shard};
pub use worker::next_order;

use crate::scenario::{self, print, CommentPolicy, Overrides, Prepared, Scenario, Settings};
use counts::TraceCounts;
use seeds::Seeds;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use worker::{Partial, Work};

/// The default bound on runs per seed in exhaustive mode.
pub const DEFAULT_MAX_EXHAUSTIVE: usize = 10_000;

/// What to explore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    /// The seeds to run (default `0..1000`).
    pub seeds: SeedRange,
    /// Settings for every run (`tie_break`, `jitter`, `max_iterations`);
    /// their `seed` and `tie_order` are ignored.
    pub overrides: Overrides,
    /// Worker threads (default 1; 0: one per available core).
    pub jobs: usize,
    /// Run only this shard of the seeds (default: all).
    pub shard: Option<Shard>,
    /// Run every tie order of each seed (default off: the policy's order).
    pub exhaustive: bool,
    /// Exhaustive mode's bound on runs per seed (default
    /// [`DEFAULT_MAX_EXHAUSTIVE`]).
    pub max_exhaustive: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            seeds: SeedRange::default(),
            overrides: Overrides::default(),
            jobs: 1,
            shard: None,
            exhaustive: false,
            max_exhaustive: DEFAULT_MAX_EXHAUSTIVE,
        }
    }
}

/// `word` as one word of a POSIX shell command: as it is when it holds
/// only characters no shell treats specially, else in single quotes (a `'`
/// inside written `'\''`). Replay commands quote their file this way, so
/// that copying one into a shell runs that file, whatever its name.
///
/// ```
/// use loopsim::explore::shell_quote;
/// assert_eq!(shell_quote("scenarios/01_fifo.scn"), "scenarios/01_fifo.scn");
/// assert_eq!(shell_quote("my file;echo x.scn"), "'my file;echo x.scn'");
/// assert_eq!(shell_quote("it's.scn"), "'it'\\''s.scn'");
/// ```
pub fn shell_quote(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.into();
    }
    format!("'{}'", word.replace('\'', "'\\''")).into()
}

/// The most memory the traces of `explore`'s workers may take together:
/// 2 GiB. Each worker holds at most two traces at once (a seed's two runs,
/// compared), each of at most `max_events` events, so the worker count is
/// cut to fit (a report is the same for any number of workers).
pub const TRACE_MEMORY_BOUND: u64 = 2 << 30;

/// How many worker threads `explore` uses for `scenario`: `options.jobs`
/// (0: one per available core), at least 1, and at most as many as
/// [`TRACE_MEMORY_BOUND`] allows with the run's event budget.
pub fn workers(scenario: &Scenario, options: &ExploreOptions) -> usize {
    let asked = match options.jobs {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let max_events = Settings::resolve(scenario, &options.overrides).max_events;
    let per_worker = max_events
        .saturating_mul(2 * std::mem::size_of::<crate::trace::Event>() as u64)
        .max(1);
    let fit = usize::try_from(TRACE_MEMORY_BOUND / per_worker).unwrap_or(usize::MAX);
    asked.min(fit).max(1)
}

/// Runs `scenario` over the seeds of `options` and reports what failed.
/// `file_label` is the file name the replay commands show. `progress` is
/// called with (seeds done, seeds in all) as seeds finish, from any worker.
pub fn explore(
    scenario: &Scenario,
    file_label: &str,
    options: &ExploreOptions,
    progress: impl Fn(u64, u64) + Sync,
) -> Report {
    let seeds = Seeds::new(options.seeds, options.shard);
    let jobs = workers(scenario, options).min(usize::try_from(seeds.len).unwrap_or(usize::MAX));
    let work = Work {
        seeds,
        options,
        file_label,
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        progress: &progress,
    };
    let partials = if jobs == 1 {
        vec![work.run(&Prepared::new(scenario))]
    } else {
        let source = print(scenario);
        let results = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    let scenario = scenario::parse_with(file_label, &source, CommentPolicy::Drop)
                        .unwrap_or_else(|e| panic!("a printed scenario must parse again: {e:?}"));
                    let partial = work.run(&Prepared::new(&scenario));
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(partial);
                });
            }
        });
        results.into_inner().unwrap_or_else(|e| e.into_inner())
    };
    merge(&work, scenario, partials)
}

/// The lowest seed of `seeds` not among the failures (sorted by seed).
fn first_passing(seeds: &Seeds, failures: &[worker::Found]) -> Option<u64> {
    let mut failing = failures.iter().map(|f| f.seed).peekable();
    (0..seeds.len).map_while(|i| seeds.get(i)).find(|&seed| {
        while failing.next_if(|&f| f < seed).is_some() {}
        failing.peek() != Some(&seed)
    })
}

fn merge<P: Fn(u64, u64) + Sync>(
    work: &Work<'_, P>,
    scenario: &Scenario,
    partials: Vec<Partial>,
) -> Report {
    let mut traces = TraceCounts::default();
    let mut found = Vec::new();
    let mut report = Report {
        exhaustive: work.options.exhaustive,
        ..Report::default()
    };
    for partial in partials {
        report.seeds_run += partial.seeds_run;
        report.runs += partial.runs;
        traces.absorb(partial.traces);
        found.extend(partial.failures);
        report.incomplete.extend(partial.incomplete);
    }
    found.sort_by_key(|f| f.seed);
    report.first_passing = first_passing(&work.seeds, &found);
    let prepared = Prepared::new(scenario);
    report.failures = found
        .into_iter()
        .map(|f| work.rebuild(&prepared, f))
        .collect();
    report.incomplete.sort_unstable();
    report.traces = traces.into_sorted();
    report.distinct_traces = report.traces.len();
    report
}

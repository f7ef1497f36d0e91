//! Seed exploration: run one scenario under many seeds (or every tie order)
//! and report each failing seed with the command that replays it.
//!
//! A scenario that passes with its own seed may fail with another: a
//! `random` tie order or a `rand(A, B)` delay can reorder its callbacks.
//! [`explore`] runs it once per seed of a range and reports:
//!
//! * how many seeds ran, and how many *distinct traces* they produced (an
//!   FNV-1a 64-bit hash of each rendered text trace, computed here, so the
//!   count never depends on a hasher's seed or a map's iteration order);
//! * every failing seed, with its first failure and a `loopsim replay`
//!   command that reproduces that failure byte for byte.
//!
//! A seed fails when its run records `check_failed`, `invariant_violated`
//! or `budget`, or when the run is not deterministic: every seed is run
//! twice and the two traces compared ([`first_divergence`]); a divergence is
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

use crate::scenario::{self, print, Outcome, Overrides, RunOptions, Scenario, Settings};
use crate::tie_break::TieDecision;
use crate::trace::{first_divergence, Divergence, Event};
use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The default bound on runs per seed in exhaustive mode.
pub const DEFAULT_MAX_EXHAUSTIVE: usize = 10_000;

/// A half-open range of seeds `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// `start..end`.
    pub fn new(start: u64, end: u64) -> SeedRange {
        SeedRange { start, end }
    }
}

impl Default for SeedRange {
    /// `0..1000`.
    fn default() -> Self {
        SeedRange::new(0, 1000)
    }
}

impl FromStr for SeedRange {
    type Err = String;
    /// `N` (seeds `0..N`) or `A..B`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("expected `N` or `A..B`, found `{s}`"))
        };
        let range = match s.split_once("..") {
            Some((a, b)) => SeedRange::new(number(a)?, number(b)?),
            None => SeedRange::new(0, number(s)?),
        };
        if range.start > range.end {
            return Err(format!("the range `{s}` is reversed"));
        }
        Ok(range)
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Part `index` of `count` (1-based): the seeds with `seed % count == index - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `K`, in `1..=count`.
    pub index: u64,
    /// `N`, at least 1.
    pub count: u64,
}

impl Shard {
    /// Whether `seed` belongs to this shard.
    pub fn contains(&self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;
    /// `K/N` with `1 <= K <= N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected `K/N` with 1 <= K <= N, found `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

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

/// Why a seed failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The run's first failure event: `check_failed`, `invariant_violated`
    /// or `budget`.
    Failed(Event),
    /// Two runs with the same settings gave different traces.
    Nondeterministic(Nondeterminism),
}

/// Where two runs with the same settings first differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nondeterminism {
    /// Index of the first differing event.
    pub index: usize,
    /// The iteration of the first run's event there (or the second's).
    pub iteration: u64,
    /// Its virtual time in nanoseconds.
    pub time: i64,
    /// The two events, as [`Divergence`] shows them.
    pub detail: String,
}

impl Nondeterminism {
    fn new(d: &Divergence) -> Nondeterminism {
        let at = d.left.as_ref().or(d.right.as_ref());
        let (iteration, time) = at.map_or((0, 0), |e| (e.iteration, e.time));
        Nondeterminism {
            index: d.index,
            iteration,
            time,
            detail: d.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Failed(event) => write!(f, "{event}"),
            Problem::Nondeterministic(Nondeterminism {
                index,
                iteration,
                time,
                detail,
            }) => {
                let t = crate::time::format_secs(*time);
                write!(
                    f,
                    "nondeterminism at event {index} (iteration {iteration}, t={t}): {detail}"
                )
            }
        }
    }
}

/// A failing seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The settings of the failing run (with the tie order, in exhaustive mode).
    pub settings: Settings,
    /// What went wrong.
    pub problem: Problem,
    /// `loopsim replay FILE --seed S [flags]`: reproduces the failure.
    pub replay: String,
}

/// What an exploration found. Equal inputs give equal reports, whatever
/// the number of jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Seeds run.
    pub seeds_run: u64,
    /// Scenario runs (each also run a second time to check determinism).
    pub runs: u64,
    /// Distinct traces among all runs.
    pub distinct_traces: usize,
    /// Failing seeds, by seed (exhaustive mode: the first failing order of each).
    pub failures: Vec<Failure>,
    /// Exhaustive mode: seeds whose orders were not all run because the
    /// bound was reached. Always empty otherwise.
    pub incomplete: Vec<u64>,
    /// Whether this was an exhaustive exploration.
    pub exhaustive: bool,
}

impl Report {
    /// The summary the CLI prints: `explored N seeds: D distinct traces, F
    /// failing`, then for each failure `seed S: PROBLEM` and `reproduce: …`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "explored {} seeds: {} distinct traces, {} failing\n",
            self.seeds_run,
            self.distinct_traces,
            self.failures.len()
        );
        if self.exhaustive {
            let _ = match self.incomplete.as_slice() {
                [] => writeln!(out, "exhaustive: {} runs, every tie order explored", self.runs),
                seeds => writeln!(
                    out,
                    "exhaustive: {} runs; stopped at the bound before every tie order was explored for {} seed(s), the first {}",
                    self.runs,
                    seeds.len(),
                    seeds[0]
                ),
            };
        }
        for failure in &self.failures {
            let _ = writeln!(out, "seed {}: {}", failure.seed, failure.problem);
            let _ = writeln!(out, "reproduce: {}", failure.replay);
        }
        out
    }
}

/// FNV-1a, 64 bits, over bytes: the trace hash.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Adds `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

/// The FNV-1a 64 hash of a trace's text form ([`crate::trace::render`]),
/// computed without building the text.
pub fn trace_hash(trace: &[Event]) -> u64 {
    let mut hash = Fnv1a::default();
    for event in trace {
        let _ = event.write_text(&mut hash);
        hash.write(b"\n");
    }
    hash.finish()
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
    let jobs = match options.jobs {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let jobs = jobs
        .min(usize::try_from(seeds.len).unwrap_or(usize::MAX))
        .max(1);
    let work = Work {
        seeds,
        options,
        file_label,
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        progress: &progress,
    };
    let partials = if jobs == 1 {
        vec![work.run(scenario)]
    } else {
        let source = print(scenario);
        let results = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    let scenario = scenario::parse(file_label, &source)
                        .unwrap_or_else(|e| panic!("a printed scenario must parse again: {e:?}"));
                    let partial = work.run(&scenario);
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

/// The seeds of a range and shard, indexable without listing them.
#[derive(Clone, Copy)]
struct Seeds {
    first: u64,
    step: u64,
    len: u64,
}

impl Seeds {
    fn new(range: SeedRange, shard: Option<Shard>) -> Seeds {
        let Some(shard) = shard else {
            return Seeds {
                first: range.start,
                step: 1,
                len: range.end - range.start,
            };
        };
        let want = shard.index - 1;
        let offset = (want + shard.count - range.start % shard.count) % shard.count;
        match range.start.checked_add(offset).filter(|f| *f < range.end) {
            Some(first) => Seeds {
                first,
                step: shard.count,
                len: (range.end - first).div_ceil(shard.count),
            },
            None => Seeds {
                first: range.start,
                step: shard.count,
                len: 0,
            },
        }
    }

    fn get(&self, i: u64) -> Option<u64> {
        (i < self.len).then(|| self.first + i * self.step)
    }
}

/// What the workers share.
struct Work<'a, P> {
    seeds: Seeds,
    options: &'a ExploreOptions,
    file_label: &'a str,
    next: AtomicU64,
    done: AtomicU64,
    progress: &'a P,
}

/// One worker's findings. Events hold `Rc`s and cannot leave a worker
/// thread, so failures are sent as what reproduces them ([`Found`]).
#[derive(Default)]
struct Partial {
    seeds_run: u64,
    runs: u64,
    traces: BTreeSet<u64>,
    failures: Vec<Found>,
    incomplete: Vec<u64>,
}

/// A failing run, as a worker sends it: its seed and tie order, and the
/// divergence if it was nondeterministic. The calling thread runs a failing
/// seed again to get its failure event (runs are deterministic, which the
/// worker has just checked).
struct Found {
    seed: u64,
    tie_order: Option<Vec<u32>>,
    nondeterminism: Option<Nondeterminism>,
}

impl<P: Fn(u64, u64) + Sync> Work<'_, P> {
    /// Takes seeds until none is left.
    fn run(&self, scenario: &Scenario) -> Partial {
        let mut partial = Partial::default();
        while let Some(seed) = self.seeds.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            if self.options.exhaustive {
                self.every_order(scenario, seed, &mut partial);
            } else {
                let (_, hash, problem) = self.run_checked(scenario, seed, None);
                partial.runs += 1;
                partial.traces.insert(hash);
                if let Some(problem) = problem {
                    partial.failures.push(Found::new(seed, None, problem));
                }
            }
            partial.seeds_run += 1;
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            (self.progress)(done, self.seeds.len);
        }
        partial
    }

    /// Runs `seed` twice (with `tie_order`, if any) and judges it.
    fn run_checked(
        &self,
        scenario: &Scenario,
        seed: u64,
        tie_order: Option<Vec<u32>>,
    ) -> (Outcome, u64, Option<Problem>) {
        let overrides = Overrides {
            seed: Some(seed),
            tie_order,
            ..self.options.overrides.clone()
        };
        let options = RunOptions {
            overrides,
            ..RunOptions::default()
        };
        let first = scenario::run(scenario, &options);
        let second = scenario::run(scenario, &options);
        let hash = trace_hash(&first.trace);
        let problem = match first_divergence(&first.trace, &second.trace) {
            Some(divergence) => Some(Problem::Nondeterministic(Nondeterminism::new(&divergence))),
            None => first.failure.clone().map(Problem::Failed),
        };
        (first, hash, problem)
    }

    /// Exhaustive mode: a depth-first search over the tie decisions of `seed`.
    fn every_order(&self, scenario: &Scenario, seed: u64, partial: &mut Partial) {
        let mut prefix: Vec<u32> = Vec::new();
        let mut failed = false;
        for run in 1.. {
            let (outcome, hash, problem) = self.run_checked(scenario, seed, Some(prefix.clone()));
            partial.runs += 1;
            partial.traces.insert(hash);
            let decisions = &outcome.tie_decisions;
            if let (Some(problem), false) = (problem, failed) {
                failed = true;
                let chosen: Vec<u32> = decisions.iter().map(|d| d.chosen).collect();
                partial.failures.push(Found::new(
                    seed,
                    (!chosen.is_empty()).then_some(chosen),
                    problem,
                ));
            }
            match next_order(decisions) {
                None => return,
                Some(_) if run >= self.options.max_exhaustive => {
                    partial.incomplete.push(seed);
                    return;
                }
                Some(next) => prefix = next,
            }
        }
    }

    /// The failure `found` describes, on the calling thread.
    fn rebuild(&self, scenario: &Scenario, found: Found) -> Failure {
        let (outcome, _, problem) = self.run_checked(scenario, found.seed, found.tie_order.clone());
        let settings = Settings {
            tie_order: found.tie_order,
            ..outcome.settings
        };
        let problem = found
            .nondeterminism
            .map(Problem::Nondeterministic)
            .or(problem)
            .unwrap_or_else(|| {
                Problem::Nondeterministic(Nondeterminism {
                    index: 0,
                    iteration: 0,
                    time: 0,
                    detail: "the failure did not happen again when the seed was rerun".into(),
                })
            });
        self.failure(found.seed, settings, problem)
    }

    fn failure(&self, seed: u64, settings: Settings, problem: Problem) -> Failure {
        let mut replay = format!("loopsim replay {} {}", self.file_label, settings.flags());
        if matches!(problem, Problem::Nondeterministic(_)) {
            replay.push_str(" --check-determinism");
        }
        Failure {
            seed,
            settings,
            problem,
            replay,
        }
    }
}

/// The depth-first successor of a run's decisions: the choices up to the
/// last decision with an untried alternative, that one incremented.
/// `None` when every alternative was tried.
pub fn next_order(decisions: &[TieDecision]) -> Option<Vec<u32>> {
    let last = decisions.iter().rposition(|d| d.chosen + 1 < d.of)?;
    let mut next: Vec<u32> = decisions[..last].iter().map(|d| d.chosen).collect();
    next.push(decisions[last].chosen + 1);
    Some(next)
}

impl Found {
    fn new(seed: u64, tie_order: Option<Vec<u32>>, problem: Problem) -> Found {
        let nondeterminism = match problem {
            Problem::Nondeterministic(n) => Some(n),
            Problem::Failed(_) => None,
        };
        Found {
            seed,
            tie_order,
            nondeterminism,
        }
    }
}

fn merge<P: Fn(u64, u64) + Sync>(
    work: &Work<'_, P>,
    scenario: &Scenario,
    partials: Vec<Partial>,
) -> Report {
    let mut traces = BTreeSet::new();
    let mut found = Vec::new();
    let mut report = Report {
        exhaustive: work.options.exhaustive,
        ..Report::default()
    };
    for partial in partials {
        report.seeds_run += partial.seeds_run;
        report.runs += partial.runs;
        traces.extend(partial.traces);
        found.extend(partial.failures);
        report.incomplete.extend(partial.incomplete);
    }
    found.sort_by_key(|f| f.seed);
    report.failures = found
        .into_iter()
        .map(|f| work.rebuild(scenario, f))
        .collect();
    report.incomplete.sort_unstable();
    report.distinct_traces = traces.len();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards_parse() {
        assert_eq!("100".parse::<SeedRange>(), Ok(SeedRange::new(0, 100)));
        assert_eq!("5..9".parse::<SeedRange>(), Ok(SeedRange::new(5, 9)));
        assert!("9..5".parse::<SeedRange>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
    }

    #[test]
    fn shards_partition_a_range() {
        let range = SeedRange::new(7, 30);
        let mut all = Vec::new();
        for index in 1..=4 {
            let seeds = Seeds::new(range, Some(Shard { index, count: 4 }));
            let mine: Vec<u64> = (0..seeds.len).filter_map(|i| seeds.get(i)).collect();
            assert!(mine.iter().all(|s| s % 4 == index - 1));
            all.extend(mine);
        }
        all.sort_unstable();
        assert_eq!(all, (7..30).collect::<Vec<_>>());
        assert_eq!(
            Seeds::new(SeedRange::new(5, 6), Some(Shard { index: 1, count: 4 })).len,
            0
        );
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv1a::default();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn depth_first_successor() {
        let d = |chosen, of| TieDecision { chosen, of };
        assert_eq!(next_order(&[d(0, 3), d(0, 2)]), Some(vec![0, 1]));
        assert_eq!(next_order(&[d(0, 3), d(1, 2)]), Some(vec![1]));
        assert_eq!(next_order(&[d(2, 3), d(1, 2)]), None);
        assert_eq!(next_order(&[]), None);
    }
}

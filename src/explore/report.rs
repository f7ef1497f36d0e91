//! What an exploration found, and how the CLI shows it.
//!
//! A sweep over many seeds often fails the same way on hundreds of them. So
//! the report says first how many *distinct failures* there were (failing
//! seeds grouped by their failure without its iteration and time, e.g.
//! `check_failed cond="done ready"`), with the first seed of each; then it
//! lists failing seeds, each with the command that replays it, up to a
//! [`Listing`] bound (20 by default), and says how many it left out.

use crate::scenario::Settings;
use crate::trace::{Divergence, Event};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

/// How many failing seeds to list with their replay commands
/// (`--list N` or `--list all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// The first `N` failing seeds, in seed order.
    First(usize),
    /// Every failing seed.
    All,
}

impl Listing {
    /// The default: the first 20.
    pub const DEFAULT: Listing = Listing::First(20);

    fn limit(self) -> usize {
        match self {
            Listing::First(n) => n,
            Listing::All => usize::MAX,
        }
    }
}

impl Default for Listing {
    fn default() -> Self {
        Listing::DEFAULT
    }
}

impl FromStr for Listing {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(Listing::All);
        }
        s.parse()
            .map(Listing::First)
            .map_err(|_| format!("expected a number of seeds or `all`, found `{s}`"))
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
    pub(super) fn new(d: &Divergence) -> Nondeterminism {
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

/// One distinct trace of an exploration: its hash, how many runs gave it,
/// and the lowest seed that did (`loopsim run FILE --seed S` prints it,
/// outside exhaustive mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceCount {
    /// The [`trace_hash`](super::trace_hash) of the trace.
    pub hash: u64,
    /// How many runs gave it (each seed's determinism rerun not counted).
    pub runs: u64,
    /// The lowest seed that gave it.
    pub first_seed: u64,
}

impl TraceCount {
    /// Adds `runs` more runs, `first_seed` the lowest seed among them.
    pub fn add(&mut self, runs: u64, first_seed: u64) {
        self.runs += runs;
        self.first_seed = self.first_seed.min(first_seed);
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

impl Failure {
    /// `loopsim diff FILE --seed S --seed P [flags]`: where this failing
    /// run and seed `passing`'s part, the other flags given once (`None`
    /// for nondeterminism, and for a failing tie order, which is a run of
    /// its own rather than a seed).
    pub fn diff_command(&self, passing: u64) -> Option<String> {
        if self.settings.tie_order.is_some() || matches!(self.problem, Problem::Nondeterministic(_))
        {
            return None;
        }
        let flags = self.settings.flags();
        let label = self
            .replay
            .strip_prefix("loopsim replay ")?
            .strip_suffix(&format!(" {flags}"))?;
        diff_against(label, &flags, self.seed, passing)
    }
}

/// `loopsim diff LABEL FLAGS` with `--seed PASSING` after the failing run's
/// `--seed SEED` in `flags` (a replay command's flags; `None` when they
/// hold no such seed). The JSON report's merge builds its diff commands
/// with this too, from the replay commands.
pub(super) fn diff_against(label: &str, flags: &str, seed: u64, passing: u64) -> Option<String> {
    let mut tokens: Vec<String> = flags.split(' ').map(str::to_string).collect();
    let seed = seed.to_string();
    let at = tokens
        .windows(2)
        .position(|w| w[0] == "--seed" && w[1] == seed)?;
    tokens.splice(at + 2..at + 2, ["--seed".to_string(), passing.to_string()]);
    Some(format!("loopsim diff {label} {}", tokens.join(" ")))
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
    /// Each distinct trace: its [`trace_hash`](super::trace_hash), how many
    /// runs gave it and the lowest seed that did, in ascending order of
    /// hash (what lets the reports of shards merge exactly).
    pub traces: Vec<TraceCount>,
    /// Failing seeds, by seed (exhaustive mode: the first failing order of each).
    pub failures: Vec<Failure>,
    /// Exhaustive mode: seeds whose orders were not all run because the
    /// bound was reached. Always empty otherwise.
    pub incomplete: Vec<u64>,
    /// Whether this was an exhaustive exploration.
    pub exhaustive: bool,
    /// The lowest seed that passed, if any (what failures are diffed with).
    pub first_passing: Option<u64>,
}

impl Problem {
    /// The failure's kind: the event's (`check_failed`,
    /// `invariant_violated`, `budget`) or `nondeterminism`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Failed(event) => event.kind.name(),
            Problem::Nondeterministic(_) => "nondeterminism",
        }
    }

    /// What the failure was, without where it happened: the event's text
    /// without iteration and time, or `nondeterminism`. Seeds with the same
    /// signature failed the same way.
    pub fn signature(&self) -> String {
        match self {
            Problem::Failed(event) => event.kind.to_text(),
            Problem::Nondeterministic(_) => "nondeterminism".to_string(),
        }
    }
}

/// Failing seeds that failed the same way (the same [`Problem::signature`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureGroup {
    /// The failure's kind, as [`Problem::kind`] gives it.
    pub kind: &'static str,
    /// The failure, as [`Problem::signature`] gives it.
    pub signature: String,
    /// How many seeds failed this way.
    pub seeds: usize,
    /// The lowest of them.
    pub first_seed: u64,
    /// The command that replays the first seed's failure.
    pub replay: String,
    /// The command that diffs the first seed's run with the first passing
    /// seed's ([`Failure::diff_command`]; `None` when no seed passed).
    pub diff: Option<String>,
}

impl Report {
    /// The distinct failures, in the order of their first seed.
    pub fn distinct_failures(&self) -> Vec<FailureGroup> {
        let mut groups: Vec<FailureGroup> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for failure in &self.failures {
            let signature = failure.problem.signature();
            match index.get(&signature) {
                Some(&i) => groups[i].seeds += 1,
                None => {
                    index.insert(signature.clone(), groups.len());
                    groups.push(FailureGroup {
                        kind: failure.problem.kind(),
                        signature,
                        seeds: 1,
                        first_seed: failure.seed,
                        replay: failure.replay.clone(),
                        diff: self
                            .first_passing
                            .and_then(|passing| failure.diff_command(passing)),
                    });
                }
            }
        }
        groups
    }

    /// The summary the CLI prints by default: [`render_listing`] with
    /// [`Listing::DEFAULT`].
    ///
    /// [`render_listing`]: Report::render_listing
    pub fn render(&self) -> String {
        self.render_listing(Listing::DEFAULT)
    }

    /// The summary: `explored N seeds: D distinct traces, F failing`; with
    /// more than one failing seed, the distinct failures, each with the
    /// command that replays its first seed; then for each
    /// listed failing seed `seed S: PROBLEM` and `reproduce: …`, and how
    /// many were left out.
    pub fn render_listing(&self, listing: Listing) -> String {
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
        if self.failures.len() > 1 {
            let groups = self.distinct_failures();
            let plural = if groups.len() == 1 { "" } else { "s" };
            let _ = writeln!(out, "{} distinct failure{plural}:", groups.len());
            for g in &groups {
                let seeds = if g.seeds == 1 { "seed" } else { "seeds" };
                let _ = writeln!(out, "  {} {seeds}: {}", g.seeds, g.signature);
                let _ = writeln!(out, "    first, seed {}: {}", g.first_seed, g.replay);
                if let Some(diff) = &g.diff {
                    let _ = writeln!(out, "    where it parts from a passing seed: {diff}");
                }
            }
        }
        let listed = listing.limit().min(self.failures.len());
        for failure in &self.failures[..listed] {
            let _ = writeln!(out, "seed {}: {}", failure.seed, failure.problem);
            let _ = writeln!(out, "reproduce: {}", failure.replay);
            if self.failures.len() == 1 {
                if let Some(diff) = self.first_passing.and_then(|p| failure.diff_command(p)) {
                    let _ = writeln!(out, "where it parts from a passing seed: {diff}");
                }
            }
        }
        let left_out = self.failures.len() - listed;
        if left_out > 0 {
            let _ = writeln!(
                out,
                "... and {left_out} more failing seed{} (`--list all` lists every one)",
                if left_out == 1 { "" } else { "s" }
            );
        }
        out
    }
}

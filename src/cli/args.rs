//! The command line: what each command takes, as clap parses it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use loopsim::explore::{Listing, SeedRange, Shard};
use loopsim::scenario::{Overrides, RunOptions};
use loopsim::trace::Format;
use loopsim::{Python, TieBreak};
use std::path::PathBuf;

/// asyncio's event loop on a virtual, seedable clock.
#[derive(Parser)]
#[command(name = "loopsim", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a scenario and print its trace.
    Run {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
    },
    /// Run a scenario with an explicit seed, as a failure report says
    /// (`--seed` is required).
    #[command(mut_arg("seed", |seed| seed.required(true)))]
    Replay {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
    },
    /// Run many scenarios and print a summary (a file whose header says
    /// `expect fail` passes when it fails).
    Check {
        /// Files, or folders whose `*.scn` files are run (default: `scenarios`).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        options: RunFlags,
    },
    /// Run a scenario under many seeds; list the failing ones with the
    /// command that replays each.
    Explore {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: ExploreFlags,
    },
    /// Merge the JSON reports of the parts of one exploration (`explore
    /// --shard K/N --report FILE`, or ranges end to end) into exactly the
    /// report the whole exploration writes; exit 1 if any seed failed, 2 if
    /// the reports overlap, leave a gap or explored different things.
    Merge {
        /// The reports (`explore --report FILE` or `--format json`).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Write the merged report here rather than to standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Remove what a failure does not need: blocks and statements.
    Shrink {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
        /// Where to write the shrunk scenario.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Turn a crash file of the `schedule` fuzz target into a scenario and
    /// the command that replays it.
    Decode {
        /// The fuzz artifact (e.g. `fuzz/artifacts/schedule/crash-…`).
        artifact: PathBuf,
        /// Where to write the scenario (default: standard output).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Show where two runs part: one scenario run two or more ways (give a
    /// run option once per run: `--python 3.11 --python 3.13`, `--seed 3
    /// --seed 8`, `--tie-break fifo --tie-break random`), or two traces
    /// saved with `--format json`. Exit 0 same, 1 different.
    Diff {
        /// The scenario file, or two saved JSON traces.
        #[arg(required = true, num_args = 1..=2)]
        files: Vec<PathBuf>,
        /// A CPython version (once for all runs, or once per run).
        #[arg(long = "python", value_enum)]
        pythons: Vec<PythonArg>,
        /// A seed (once for all runs, or once per run).
        #[arg(long = "seed")]
        seeds: Vec<u64>,
        /// A tie-break policy (once for all runs, or once per run).
        #[arg(long = "tie-break", value_enum)]
        tie_breaks: Vec<TieBreakArg>,
        /// A jitter, e.g. `2ms` (once for all runs, or once per run).
        #[arg(long = "jitter", value_parser = parse_jitter)]
        jitters: Vec<i64>,
        /// The iteration budget per loop.
        #[arg(long)]
        max_iterations: Option<u64>,
        /// The event budget of the trace.
        #[arg(long)]
        max_events: Option<u64>,
        /// The callback budget per loop.
        #[arg(long)]
        max_callbacks: Option<u64>,
        /// The pending budget per loop.
        #[arg(long)]
        max_pending: Option<u64>,
    },
    /// Draw a run as one self-contained HTML page: a timeline with a lane
    /// per task, callback and future, and the loop's state at every pass.
    View {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
        /// Where to write the page (e.g. `run.html`).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Print a scenario in canonical form, or rewrite or check many.
    Fmt {
        /// Files, or folders whose `*.scn` files are formatted (without
        /// `--write` or `--check`: exactly one file, printed).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Rewrite each file that is not in canonical form.
        #[arg(long, conflicts_with = "check")]
        write: bool,
        /// Change nothing; list the files not in canonical form and exit 1
        /// if there is any.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args, Clone)]
pub(crate) struct RunFlags {
    /// The seed (overrides the file's `seed`).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    #[command(flatten)]
    pub(crate) loop_flags: LoopFlags,
    /// The trace's form.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
    /// Run twice and report the first event where the runs differ.
    #[arg(long)]
    pub(crate) check_determinism: bool,
    /// Print the loop's state before each pass: the ready queue, the
    /// timers in the order they will leave, the tasks and what each awaits.
    #[arg(long)]
    pub(crate) state: bool,
    /// Order tied timers by these choices, e.g. `1,0` (as `explore
    /// --exhaustive` reports them; overrides the policy for ties).
    #[arg(long, value_parser = loopsim::tie_break::parse_tie_order)]
    pub(crate) tie_order: Option<Choices>,
}

/// Tie-order choices (an alias, so that clap takes one comma-separated value).
pub(crate) type Choices = Vec<u32>;

#[derive(Args, Clone)]
pub(crate) struct ExploreFlags {
    /// Seeds to run: `N` for 0..N or `A..B` (default 1000; 1 with --exhaustive).
    #[arg(long)]
    pub(crate) seeds: Option<SeedRange>,
    #[command(flatten)]
    pub(crate) loop_flags: LoopFlags,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 1)]
    pub(crate) jobs: usize,
    /// Run only shard K of N (1-based): the seeds with `seed % N == K - 1`.
    #[arg(long, env = "LOOPSIM_SHARD")]
    pub(crate) shard: Option<Shard>,
    /// With --shard-count N: run only shard I, counted from 0 (a Kubernetes
    /// Indexed Job sets JOB_COMPLETION_INDEX in each pod), as --shard I+1/N
    /// would. Ignored without --shard-count.
    #[arg(long, env = "JOB_COMPLETION_INDEX")]
    pub(crate) shard_index: Option<u64>,
    /// How many shards --shard-index counts in.
    #[arg(long, env = "LOOPSIM_SHARD_COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) shard_count: Option<u64>,
    /// Run every order of tied timers for each seed.
    #[arg(long)]
    pub(crate) exhaustive: bool,
    /// With --exhaustive: at most this many runs per seed.
    #[arg(long, default_value_t = loopsim::explore::DEFAULT_MAX_EXHAUSTIVE)]
    pub(crate) max_exhaustive: usize,
    /// How many failing seeds to list with their replay commands: a number, or `all`.
    #[arg(long, default_value = "20")]
    pub(crate) list: Listing,
    /// The report's form (`json`: one object with every failing seed).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Also write the report as JSON to this file (what `loopsim merge`
    /// reads), whatever --format prints.
    #[arg(long, value_name = "FILE.json")]
    pub(crate) report: Option<PathBuf>,
}

impl ExploreFlags {
    /// The shard to run: --shard K/N, or --shard-index I with
    /// --shard-count N (each also from its environment variable).
    /// An error when both ways are given, or only half of the second.
    pub(crate) fn shard(&self) -> Result<Option<Shard>, String> {
        match (self.shard, self.shard_index, self.shard_count) {
            (Some(_), _, Some(_)) => Err(
                "--shard (or LOOPSIM_SHARD) and --shard-count (or LOOPSIM_SHARD_COUNT) \
                 both give the shard: give one"
                    .into(),
            ),
            (Some(shard), _, None) => Ok(Some(shard)),
            (None, Some(index), Some(count)) if index < count => Ok(Some(Shard {
                index: index + 1,
                count,
            })),
            (None, Some(index), Some(count)) => Err(format!(
                "--shard-index {index} (or JOB_COMPLETION_INDEX) is not below --shard-count \
                 {count}: shard indices count from 0"
            )),
            (None, None, Some(count)) => Err(format!(
                "--shard-count {count} needs --shard-index I (or JOB_COMPLETION_INDEX): \
                 which of the shards to run"
            )),
            (None, _, None) => Ok(None),
        }
    }
}

/// The flags that override a scenario's header, shared by every command
/// that runs one.
#[derive(Args, Clone)]
pub(crate) struct LoopFlags {
    /// Whose asyncio to run: 3.11, 3.12 or 3.13 (overrides `python`;
    /// default 3.12).
    #[arg(long, value_enum)]
    pub(crate) python: Option<PythonArg>,
    /// How equal deadlines are ordered (overrides `tie_break`).
    #[arg(long, value_enum)]
    pub(crate) tie_break: Option<TieBreakArg>,
    /// Each wake-up is late by up to this much, e.g. `2ms` (overrides `jitter`).
    #[arg(long, value_parser = parse_jitter)]
    pub(crate) jitter: Option<i64>,
    /// The iteration budget per loop (overrides `max_iterations`).
    #[arg(long)]
    pub(crate) max_iterations: Option<u64>,
    /// The event budget of the trace (overrides `max_events`; default 2,000,000).
    #[arg(long)]
    pub(crate) max_events: Option<u64>,
    /// The callback budget per loop (overrides `max_callbacks`; default 10,000,000).
    #[arg(long)]
    pub(crate) max_callbacks: Option<u64>,
    /// The budget of ready callbacks + timers + unfinished tasks per loop
    /// (overrides `max_pending`; default 1,000,000).
    #[arg(long)]
    pub(crate) max_pending: Option<u64>,
}

impl LoopFlags {
    /// These flags as header overrides (the seed and tie order are the
    /// caller's).
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            python: self.python.map(Python::from),
            tie_break: self.tie_break.map(TieBreak::from),
            jitter_nanos: self.jitter,
            max_iterations: self.max_iterations,
            max_events: self.max_events,
            max_callbacks: self.max_callbacks,
            max_pending: self.max_pending,
            ..Overrides::default()
        }
    }
}

/// `--format` of `run`, `replay` and `check`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people.
    Text,
    /// For programs (JSON Lines for traces and `check`).
    Json,
    /// Chrome's Trace Event Format, for Perfetto or chrome://tracing
    /// (`run` and `replay`; `check` prints text).
    Chrome,
}

/// `--format` of `explore`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// For people.
    Text,
    /// For programs: one object with every failing seed.
    Json,
}

/// `--tie-break`: the library's [`TieBreak`], with help for each value.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TieBreakArg {
    /// Equal deadlines in scheduling order.
    Fifo,
    /// A seeded permutation of equal deadlines.
    Random,
    /// CPython's heapq order, bit for bit.
    Heapq,
}

impl From<TieBreakArg> for TieBreak {
    fn from(arg: TieBreakArg) -> TieBreak {
        match arg {
            TieBreakArg::Fifo => TieBreak::Fifo,
            TieBreakArg::Random => TieBreak::Random,
            TieBreakArg::Heapq => TieBreak::Heapq,
        }
    }
}

/// `--python`: the library's [`Python`], with help for each value.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PythonArg {
    /// CPython 3.11's asyncio (its own `wait_for`).
    #[value(name = "3.11")]
    V3_11,
    /// CPython 3.12's asyncio (the default).
    #[value(name = "3.12")]
    V3_12,
    /// CPython 3.13's asyncio.
    #[value(name = "3.13")]
    V3_13,
}

impl From<PythonArg> for Python {
    fn from(arg: PythonArg) -> Python {
        match arg {
            PythonArg::V3_11 => Python::V3_11,
            PythonArg::V3_12 => Python::V3_12,
            PythonArg::V3_13 => Python::V3_13,
        }
    }
}

fn parse_jitter(s: &str) -> Result<i64, String> {
    match loopsim::time::parse_duration(s) {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err("jitter cannot be negative".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl RunFlags {
    pub(crate) fn run_options(&self) -> RunOptions {
        RunOptions {
            overrides: Overrides {
                seed: self.seed,
                tie_order: self.tie_order.clone(),
                ..self.loop_flags.overrides()
            },
            record_state: self.state,
            ..RunOptions::default()
        }
    }

    pub(crate) fn format(&self) -> Format {
        match self.format {
            OutputFormat::Text | OutputFormat::Chrome => Format::Text,
            OutputFormat::Json => Format::Json,
        }
    }
}

//! The `loopsim` command: arguments → library calls → exit code.

use clap::{Args, Parser, Subcommand, ValueEnum};
use loopsim::explore::{ExploreOptions, Listing, SeedRange, Shard};
use loopsim::scenario::{self, Outcome, Overrides, RunOptions};
use loopsim::trace::{first_divergence, render, Format};
use loopsim::TieBreak;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// asyncio's event loop on a virtual, seedable clock.
#[derive(Parser)]
#[command(name = "loopsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its trace.
    Run {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
    },
    /// Run a scenario with an explicit seed, as a failure report says.
    Replay {
        /// The scenario file.
        file: PathBuf,
        #[command(flatten)]
        options: RunFlags,
    },
    /// Run many scenarios and print a summary.
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
    /// Print a scenario in canonical form.
    Fmt {
        /// The scenario file.
        file: PathBuf,
        /// Print nothing; exit 1 if the file is not in canonical form.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args, Clone)]
struct RunFlags {
    /// The seed (overrides the file's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    loop_flags: LoopFlags,
    /// The trace's form.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Run twice and report the first event where the runs differ.
    #[arg(long)]
    check_determinism: bool,
    /// Order tied timers by these choices, e.g. `1,0` (as `explore
    /// --exhaustive` reports them; overrides the policy for ties).
    #[arg(long, value_parser = loopsim::tie_break::parse_tie_order)]
    tie_order: Option<Choices>,
}

/// Tie-order choices (an alias, so that clap takes one comma-separated value).
type Choices = Vec<u32>;

#[derive(Args, Clone)]
struct ExploreFlags {
    /// Seeds to run: `N` for 0..N or `A..B` (default 1000; 1 with --exhaustive).
    #[arg(long)]
    seeds: Option<SeedRange>,
    #[command(flatten)]
    loop_flags: LoopFlags,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Run only shard K of N: the seeds with `seed % N == K - 1`.
    #[arg(long)]
    shard: Option<Shard>,
    /// Run every order of tied timers for each seed.
    #[arg(long)]
    exhaustive: bool,
    /// With --exhaustive: at most this many runs per seed.
    #[arg(long, default_value_t = loopsim::explore::DEFAULT_MAX_EXHAUSTIVE)]
    max_exhaustive: usize,
    /// How many failing seeds to list with their replay commands: a number, or `all`.
    #[arg(long, default_value = "20")]
    list: Listing,
}

/// The flags that override a scenario's header, shared by every command
/// that runs one.
#[derive(Args, Clone)]
struct LoopFlags {
    /// How equal deadlines are ordered (overrides `tie_break`).
    #[arg(long, value_parser = parse_tie_break)]
    tie_break: Option<TieBreak>,
    /// Each wake-up is late by up to this much, e.g. `2ms` (overrides `jitter`).
    #[arg(long, value_parser = parse_jitter)]
    jitter: Option<i64>,
    /// The iteration budget per loop (overrides `max_iterations`).
    #[arg(long)]
    max_iterations: Option<u64>,
}

impl LoopFlags {
    /// These flags as header overrides (the seed and tie order are the
    /// caller's).
    fn overrides(&self) -> Overrides {
        Overrides {
            tie_break: self.tie_break,
            jitter_nanos: self.jitter,
            max_iterations: self.max_iterations,
            ..Overrides::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

fn parse_tie_break(s: &str) -> Result<TieBreak, String> {
    s.parse()
}

fn parse_jitter(s: &str) -> Result<i64, String> {
    match loopsim::time::parse_duration(s) {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err("jitter cannot be negative".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl RunFlags {
    fn run_options(&self) -> RunOptions {
        RunOptions {
            overrides: Overrides {
                seed: self.seed,
                tie_order: self.tie_order.clone(),
                ..self.loop_flags.overrides()
            },
            ..RunOptions::default()
        }
    }

    fn format(&self) -> Format {
        match self.format {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
        }
    }
}

const EXIT_FAILED: u8 = 1;
const EXIT_INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run { file, options } | Command::Replay { file, options } => run(&file, &options),
        Command::Check { paths, options } => check(&paths, &options),
        Command::Explore { file, options } => explore(&file, &options),
        Command::Shrink {
            file,
            options,
            output,
        } => shrink(&file, &options, &output),
        Command::Decode { artifact, output } => decode(&artifact, output.as_deref()),
        Command::Fmt { file, check } => fmt(&file, check),
    };
    ExitCode::from(code)
}

fn color() -> bool {
    std::io::stderr().is_terminal()
}

fn run(file: &Path, flags: &RunFlags) -> u8 {
    let scenario = match scenario::read_and_parse(file, color()) {
        Ok((_, scenario)) => scenario,
        Err(rendered) => {
            eprint!("{rendered}");
            return EXIT_INVALID;
        }
    };
    let outcome = scenario::run(&scenario, &flags.run_options());
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(render(&outcome.trace, flags.format()).as_bytes());
    let _ = stdout.flush();
    let replay = replay_command(file, &outcome);
    eprintln!("loopsim: {} ({})", file.display(), outcome.settings.flags());
    if flags.check_determinism {
        let again = scenario::run(&scenario, &flags.run_options());
        if let Some(divergence) = first_divergence(&outcome.trace, &again.trace) {
            eprintln!("loopsim: nondeterminism: {divergence}");
            eprintln!("reproduce: {replay} --check-determinism");
            return EXIT_FAILED;
        }
        eprintln!(
            "loopsim: deterministic: two runs gave {} identical events",
            outcome.trace.len()
        );
    }
    match &outcome.failure {
        Some(failure) => {
            eprintln!("loopsim: failed: {failure}");
            eprintln!("reproduce: {replay}");
            EXIT_FAILED
        }
        None => 0,
    }
}

fn replay_command(file: &Path, outcome: &Outcome) -> String {
    format!(
        "loopsim replay {} {}",
        file.display(),
        outcome.settings.flags()
    )
}

fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "scn"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn check(paths: &[PathBuf], flags: &RunFlags) -> u8 {
    let files = match scenario_files(paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for file in &files {
        match scenario::read_and_parse(file, color()) {
            Err(rendered) => {
                invalid += 1;
                println!("invalid {}", file.display());
                eprint!("{rendered}");
            }
            Ok((_, scenario)) => {
                let outcome = scenario::run(&scenario, &flags.run_options());
                match &outcome.failure {
                    None => {
                        passed += 1;
                        println!(
                            "ok      {} ({} events)",
                            file.display(),
                            outcome.trace.len()
                        );
                    }
                    Some(failure) => {
                        failed += 1;
                        println!("FAILED  {}: {failure}", file.display());
                        println!("        reproduce: {}", replay_command(file, &outcome));
                    }
                }
            }
        }
    }
    println!("check: {passed} passed, {} failed", failed + invalid);
    if invalid > 0 {
        EXIT_INVALID
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        0
    }
}

fn explore(file: &Path, flags: &ExploreFlags) -> u8 {
    let scenario = match scenario::read_and_parse(file, color()) {
        Ok((_, scenario)) => scenario,
        Err(rendered) => {
            eprint!("{rendered}");
            return EXIT_INVALID;
        }
    };
    let default_seeds = if flags.exhaustive {
        SeedRange::new(0, 1)
    } else {
        SeedRange::default()
    };
    let options = ExploreOptions {
        seeds: flags.seeds.unwrap_or(default_seeds),
        overrides: flags.loop_flags.overrides(),
        jobs: flags.jobs,
        shard: flags.shard,
        exhaustive: flags.exhaustive,
        max_exhaustive: flags.max_exhaustive,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} seeds, {per_sec}, eta {eta}",
        );
        indicatif::ProgressBar::new(0)
            .with_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()))
    });
    let report = loopsim::explore::explore(
        &scenario,
        &file.display().to_string(),
        &options,
        |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let _ = std::io::stdout()
        .lock()
        .write_all(report.render_listing(flags.list).as_bytes());
    if report.failures.is_empty() {
        0
    } else {
        EXIT_FAILED
    }
}

fn shrink(file: &Path, flags: &RunFlags, output: &Path) -> u8 {
    let scenario = match scenario::read_and_parse(file, color()) {
        Ok((_, scenario)) => scenario,
        Err(rendered) => {
            eprint!("{rendered}");
            return EXIT_INVALID;
        }
    };
    let shrunk = match loopsim::shrink::shrink_failure(&scenario, &flags.run_options()) {
        Ok(shrunk) => shrunk,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    if let Err(e) = std::fs::write(output, scenario::print(&shrunk.scenario)) {
        eprintln!("error: cannot write `{}`: {e}", output.display());
        return EXIT_INVALID;
    }
    println!(
        "shrunk {} from {} to {} statements",
        file.display(),
        shrunk.before,
        shrunk.after
    );
    0
}

fn fmt(file: &Path, check: bool) -> u8 {
    match scenario::read_and_parse(file, color()) {
        Err(rendered) => {
            eprint!("{rendered}");
            EXIT_INVALID
        }
        Ok((source, scenario)) => {
            let canonical = scenario::print(&scenario);
            if check {
                return if canonical == source { 0 } else { EXIT_FAILED };
            }
            print!("{canonical}");
            0
        }
    }
}

fn decode(artifact: &Path, output: Option<&Path>) -> u8 {
    let bytes = match std::fs::read(artifact) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", artifact.display());
            return EXIT_INVALID;
        }
    };
    let decoded = loopsim::fuzz_support::decode(&bytes);
    let target = match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &decoded.scenario_text) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return EXIT_INVALID;
            }
            path.display().to_string()
        }
        None => {
            print!("{}", decoded.scenario_text);
            "FILE.scn".to_string()
        }
    };
    eprintln!("reproduce: loopsim replay {target} {}", decoded.flags);
    0
}

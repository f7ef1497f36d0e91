//! The fuzz targets' logic, as plain functions that tests and the CLI reuse.
//!
//! The cargo-fuzz targets in `fuzz/` are one line each: they call a `check_*`
//! function here and panic on `Err`. So the same checks run on stable, in
//! `cargo test` (`tests/fuzz_corpus.rs` replays the checked-in corpus), and
//! a failure is a value that names the seed and options to replay it, not a
//! message lost in a panic hook.
//!
//! | target | function | property |
//! |---|---|---|
//! | `parse` | [`check_parse`] | any bytes: no panic; `parse ∘ print` is the identity on parsed files and `print` is idempotent |
//! | `schedule` | [`check_schedule`] | a generated scenario ([`FuzzScenario`]) runs with no violated invariant, twice to the same trace, and its printed form to the same trace |
//! | `api` | [`check_api`] | a program against the Rust API ([`ApiProgram`], with tasks using the primitives of [`sync`](crate::sync): [`SyncPart`]) does the same, and keeps to the driver's model of each primitive |
//!
//! A crash file of the `schedule` target becomes a readable scenario and
//! the flags that replay it with [`decode`]:
//!
//! ```
//! use loopsim::fuzz_support::{check_schedule, decode};
//!
//! let artifact = [7u8, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 2, 3];
//! assert!(check_schedule(&artifact).is_ok());
//! let decoded = decode(&artifact);
//! assert!(decoded.scenario_text.contains("main:"));
//! assert!(decoded.flags.starts_with("--python "));
//! // loopsim replay crash.scn <decoded.flags>
//! ```

mod api;
mod api_sync;

pub use api::{check_api, check_api_with, Action, ApiProgram, Block, TaskOp};
pub use api_sync::{SyncOp, SyncPart};

use crate::python::Python;
use crate::scenario::generate::{generate, GenConfig};
use crate::scenario::{self, Outcome, Overrides, RunOptions, Settings};
use crate::tie_break::TieBreak;
use crate::trace::{first_divergence, render, EventKind, Format};
use arbitrary::{Arbitrary, Unstructured};

/// The `parse` target: lexing, parsing and rendering diagnostics never
/// panic; a file that parses prints to text that parses back to the same
/// tree (compared as printed text, which ignores spans) and prints the same.
pub fn check_parse(bytes: &[u8]) -> Result<(), String> {
    let Ok(source) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let scenario = match scenario::parse("fuzz.scn", source) {
        Ok(scenario) => scenario,
        Err(diagnostics) => {
            let _ = scenario::render("fuzz.scn", source, &diagnostics, false);
            return Ok(());
        }
    };
    let printed = scenario::print(&scenario);
    let again = scenario::parse("printed.scn", &printed).map_err(|diagnostics| {
        let shown = scenario::render("printed.scn", &printed, &diagnostics, false);
        format!("the printed form of a valid file does not parse:\n{shown}\ninput:\n{source}\nprinted:\n{printed}")
    })?;
    let reprinted = scenario::print(&again);
    if reprinted != printed {
        return Err(format!(
            "print is not idempotent (or parse ∘ print changed the tree)\ninput:\n{source}\nprinted once:\n{printed}\nprinted twice:\n{reprinted}"
        ));
    }
    Ok(())
}

/// What the `schedule` target's input decodes to: a generated scenario and
/// the options to run it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuzzScenario {
    /// The generator's seed.
    pub gen_seed: u64,
    /// The generator's configuration.
    pub config: GenConfig,
    /// The run's seed (`--seed`).
    pub seed: u64,
    /// The tie-break policy (`--tie-break`).
    pub tie_break: TieBreak,
    /// Jitter in nanoseconds (`--jitter`).
    pub jitter_nanos: i64,
    /// Whose asyncio (`--python`).
    pub python: Python,
}

/// Jitters the `schedule` and `api` targets choose from.
const JITTERS: [i64; 6] = [0, 0, 1, 1_000, 2_000_000, 500_000_000];

impl<'a> Arbitrary<'a> for FuzzScenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let gen_seed = u64::arbitrary(u)?;
        let mut config = GenConfig {
            statements: u.int_in_range(1..=40)?,
            allow_rand: bool::arbitrary(u)?,
            tie_burst: u.int_in_range(0..=10)?,
            drivers: u.int_in_range(1..=4)?,
            other_loop: false,
            header: false,
            crowd: 0,
            python: None,
            closed_loop: false,
            sync: false,
            combinators: false,
        };
        let tie_break = *u.choose(&TieBreak::ALL)?;
        let jitter_nanos = *u.choose(&JITTERS)?;
        let seed = u64::arbitrary(u)?;
        // Read last, so inputs written before it existed decode as before.
        config.other_loop = bool::arbitrary(u)?;
        config.header = bool::arbitrary(u)?;
        // One input in eight: a crowd makes an input about six times slower.
        if u.ratio(1u8, 8u8)? {
            config.crowd = u.int_in_range(95..=130)?;
        }
        // Whose asyncio: read after the fields older inputs hold, so they decode
        // as before (to 3.11, the version they were written under).
        let python = *u.choose(&Python::ALL)?;
        // Read after the version, so older inputs decode as before.
        config.closed_loop = bool::arbitrary(u)?;
        // asyncio's primitives, in half the inputs: read last, so older
        // inputs (which end before it) decode as before, without them.
        config.sync = u.arbitrary().unwrap_or(false);
        // The combinators (gather, wait, task_group, try, timeout,
        // timeout_at, shield), read after, for the same reason.
        config.combinators = u.arbitrary().unwrap_or(false);
        Ok(FuzzScenario {
            python,
            gen_seed,
            config,
            tie_break,
            jitter_nanos,
            seed,
        })
    }
}

impl FuzzScenario {
    /// Decodes a fuzzer input; total: missing bytes read as zeros.
    pub fn from_bytes(data: &[u8]) -> FuzzScenario {
        let mut u = Unstructured::new(data);
        FuzzScenario::arbitrary(&mut u).unwrap_or_else(|_| FuzzScenario {
            gen_seed: 0,
            config: GenConfig::default(),
            seed: 0,
            tie_break: TieBreak::Fifo,
            jitter_nanos: 0,
            python: Python::default(),
        })
    }

    /// The scenario's text.
    pub fn source(&self) -> String {
        generate(self.gen_seed, &self.config)
    }

    /// The command-line overrides that give this run.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            python: Some(self.python),
            seed: Some(self.seed),
            tie_break: Some(self.tie_break),
            jitter_nanos: Some(self.jitter_nanos),
            ..Overrides::default()
        }
    }

    /// The options to run it with: trace and invariants on.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            overrides: self.overrides(),
            ..RunOptions::default()
        }
    }
}

/// The `schedule` target: decodes `data` into a [`FuzzScenario`] and
/// checks it with [`check_scenario`]. The error names the generator seed
/// and the flags that replay the failure.
pub fn check_schedule(data: &[u8]) -> Result<(), String> {
    let fuzz = FuzzScenario::from_bytes(data);
    let source = fuzz.source();
    check_scenario(&source, &fuzz.run_options()).map(drop).map_err(|e| {
        let flags = flags_for(&source, &fuzz.overrides());
        format!("{e}\ngenerator seed {} with {:?}; replay: loopsim replay FILE.scn {flags}\n{source}", fuzz.gen_seed, fuzz.config)
    })
}

/// Runs `source` with `options` and checks it: it parses; no invariant is
/// violated and the budget does not run out (unless the scenario set a
/// budget below the default: then ending by it is expected; generated
/// scenarios end long before the default); a second run gives the same
/// trace; its printed form gives the same trace. Returns the first run.
pub fn check_scenario(source: &str, options: &RunOptions) -> Result<Outcome, String> {
    let parsed = scenario::parse("gen.scn", source).map_err(|diagnostics| {
        format!(
            "the scenario does not parse:\n{}",
            scenario::render("gen.scn", source, &diagnostics, false)
        )
    })?;
    let options = RunOptions {
        record_trace: true,
        check_invariants: true,
        ..options.clone()
    };
    let first = scenario::run(&parsed, &options);
    let flags = first.settings.flags();
    let budget_is_a_bug = first.settings.max_iterations >= crate::DEFAULT_MAX_ITERATIONS;
    if let Some(event) = first.trace.iter().find(|e| match e.kind {
        EventKind::InvariantViolated { .. } => true,
        EventKind::Budget { .. } => budget_is_a_bug,
        _ => false,
    }) {
        return Err(format!(
            "{} ({flags})\ntrace:\n{}",
            event.to_text(),
            render(&first.trace, Format::Text)
        ));
    }
    let second = scenario::run(&parsed, &options);
    if let Some(divergence) = first_divergence(&first.trace, &second.trace) {
        return Err(format!("not deterministic ({flags}): {divergence}"));
    }
    let printed = scenario::print(&parsed);
    let reparsed = scenario::parse("printed.scn", &printed)
        .map_err(|_| format!("the printed scenario does not parse:\n{printed}"))?;
    let third = scenario::run(&reparsed, &options);
    if let Some(divergence) = first_divergence(&first.trace, &third.trace) {
        return Err(format!(
            "printing the scenario changed its trace ({flags}): {divergence}\nprinted:\n{printed}"
        ));
    }
    Ok(first)
}

/// A `schedule` crash file, readable: the scenario and the `loopsim
/// replay` flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The scenario, with a comment naming where it came from.
    pub scenario_text: String,
    /// E.g. `--python 3.12 --seed 3 --tie-break random --jitter 2ms`.
    pub flags: String,
}

/// Turns an input of the `schedule` target into a `.scn` file's text and
/// the flags that replay it: `loopsim replay FILE.scn <flags>`.
pub fn decode(artifact: &[u8]) -> Decoded {
    let fuzz = FuzzScenario::from_bytes(artifact);
    let source = fuzz.source();
    let flags = flags_for(&source, &fuzz.overrides());
    let c = &fuzz.config;
    let scenario_text = format!(
        "# fuzz schedule input: generator seed {}, statements {}, allow_rand {}, tie_burst {}, drivers {}\n# replay: loopsim replay FILE.scn {flags}\n\n{source}",
        fuzz.gen_seed, c.statements, c.allow_rand, c.tie_burst, c.drivers
    );
    Decoded {
        scenario_text,
        flags,
    }
}

/// The replay flags for `source` run with `overrides`.
fn flags_for(source: &str, overrides: &Overrides) -> String {
    match scenario::parse("gen.scn", source) {
        Ok(parsed) => Settings::resolve(&parsed, overrides).flags(),
        Err(_) => {
            let mut flags = format!(
                "--python {} --seed {}",
                overrides.python.unwrap_or_default(),
                overrides.seed.unwrap_or(0)
            );
            if let Some(policy) = overrides.tie_break {
                flags.push_str(&format!(" --tie-break {policy}"));
            }
            flags
        }
    }
}

/// `len` bytes of the seeded stream: inputs for the `schedule` and `api`
/// seed corpora (any bytes decode).
pub fn seed_input(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = crate::rng::SeededRng::new(seed, crate::rng::Stream::Program);
    (0..len).map(|_| rng.below(256) as u8).collect()
}

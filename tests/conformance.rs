//! Conformance: every shipped scenario, run by loopsim under `heapq` and by
//! stock CPython asyncio (`conformance/asyncio_runner.py`), must give the
//! same trace event by event, under each supported CPython version against
//! that version's interpreter. A scenario whose header pins a version
//! (`python 3.11`) is compared under that one only.
//!
//! The only exceptions are scenarios that use `rand()` or jitter, which
//! CPython cannot reproduce; they are listed when the test runs. The test
//! fails, never skips, when an interpreter cannot be found or run; how one
//! is found is [`interpreter`]'s doc.

use loopsim::scenario::{self, ast::Dur, ast::Scenario, Overrides, RunOptions};
use loopsim::trace::{render, Format};
use loopsim::{Python, TieBreak};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::Command;

/// The interpreter of CPython `version` (3.12 here as the example): the
/// first of `$LOOPSIM_PYTHON_3_12`, `python3.12` on `PATH` and
/// `$(pyenv prefix 3.12)/bin/python3.12` that runs and reports 3.12 (a
/// pyenv shim of a version not selected does not run). `.ci/run` finds
/// them the same way. Panics, saying how to get one, when none does.
fn interpreter(version: Python) -> PathBuf {
    let var = format!("LOOPSIM_PYTHON_{}", version.as_str().replace('.', "_"));
    let exe = format!("python{version}");
    let pyenv = || {
        let out = Command::new("pyenv")
            .args(["prefix", version.as_str()])
            .output()
            .ok()?;
        let prefix = String::from_utf8(out.stdout).ok()?;
        Some(PathBuf::from(prefix.trim()).join("bin").join(&exe))
    };
    let candidates = [
        std::env::var_os(&var).map(PathBuf::from),
        on_path(&exe),
        pyenv(),
    ];
    let is_version = |path: &PathBuf| {
        Command::new(path)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == version.as_str())
    };
    let tried: Vec<String> = candidates
        .iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    candidates
        .into_iter()
        .flatten()
        .find(is_version)
        .unwrap_or_else(|| {
            panic!(
            "no CPython {version} found (tried ${var}, `{exe}` on PATH, `pyenv prefix {version}`: \
             {tried:?}). CPython {version} is needed to prove loopsim's {version} semantics: \
             install it (`pyenv install {version}`, or your system's `{exe}` package) or set \
             {var} to its interpreter"
        )
        })
}

/// `name` in a folder of `PATH`, if there is one.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the scenario draws from the RNG, which CPython cannot replay.
fn uses_randomness(scenario: &Scenario) -> bool {
    let source = scenario::print(scenario);
    scenario
        .header
        .jitter
        .as_ref()
        .is_some_and(|j| j.value.nanos != 0)
        || {
            let parsed = scenario::parse("x", &source).expect("printed form parses");
            uses_rand(&parsed)
        }
}

fn uses_rand(scenario: &Scenario) -> bool {
    use loopsim::scenario::ast::{Cond, StmtKind};
    let bodies = scenario
        .blocks
        .iter()
        .filter_map(|b| b.kind.body())
        .chain([&scenario.main.body]);
    let mut kinds = bodies.flat_map(|b| &b.stmts).flat_map(|s| s.kind.nested());
    kinds.any(|kind| match kind {
        StmtKind::CallLater { delay: d, .. }
        | StmtKind::CallAt { when: d, .. }
        | StmtKind::WaitFor { timeout: d, .. }
        | StmtKind::Timeout { delay: d, .. }
        | StmtKind::TimeoutAt { when: d, .. }
        | StmtKind::Sleep(d) => {
            matches!(d, Dur::Rand(_))
        }
        StmtKind::Check {
            cond: Cond::Time(d),
            ..
        } => matches!(d, Dur::Rand(_)),
        _ => false,
    })
}

/// Runs the CPython `version` reference runner on every file of `paths`
/// in one process (`--batch`): each file's exit status and trace.
pub fn cpython_traces(version: Python, paths: &[PathBuf]) -> Vec<(i32, Vec<Json>)> {
    use std::io::Write;
    let python = interpreter(version);
    let mut child = Command::new(&python)
        .arg(repo().join("conformance/asyncio_runner.py"))
        .arg("--batch")
        .args(["--python", version.as_str()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", python.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child.wait_with_output().expect("the runner finishes");
    writer.join().unwrap().expect("the runner reads its list");
    assert!(
        output.status.success(),
        "the runner failed: {}",
        output.status
    );
    let stdout = String::from_utf8(output.stdout).expect("the runner prints UTF-8");
    let mut runs = Vec::new();
    let mut events = Vec::new();
    for line in stdout.lines() {
        match line.strip_prefix("# exit ") {
            Some(code) => runs.push((code.parse().unwrap(), std::mem::take(&mut events))),
            None => events.push(serde_json::from_str(line).expect("the runner prints JSON lines")),
        }
    }
    assert_eq!(runs.len(), paths.len(), "one result per file");
    runs
}

/// loopsim's trace of `scenario` under `heapq` as CPython `version`, as
/// JSON values.
pub fn loopsim_trace(version: Python, scenario: &Scenario) -> Vec<Json> {
    let options = RunOptions {
        overrides: Overrides {
            python: Some(version),
            tie_break: Some(TieBreak::Heapq),
            ..Overrides::default()
        },
        ..RunOptions::default()
    };
    let outcome = scenario::run(scenario, &options);
    render(&outcome.trace, Format::Json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The first event where the traces differ, with the events before it.
pub fn compare(label: &str, ours: &[Json], cpython: &[Json]) -> Result<(), String> {
    let at = ours
        .iter()
        .zip(cpython)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(cpython.len()));
    if at == ours.len() && at == cpython.len() {
        return Ok(());
    }
    let show = |e: Option<&Json>| e.map_or("<end of trace>".to_string(), Json::to_string);
    let context: Vec<String> = ours[at.saturating_sub(3)..at]
        .iter()
        .map(|e| format!("    {e}"))
        .collect();
    Err(format!(
        "{label}: first divergence at event {at}\n  after:\n{}\n  loopsim: {}\n  CPython: {}",
        context.join("\n"),
        show(ours.get(at)),
        show(cpython.get(at))
    ))
}

/// Every shipped scenario that `version` runs (no `python` header, or
/// that version's), under `version`, by loopsim and by that interpreter.
fn shipped_scenarios_match(version: Python) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    let mut exempt = Vec::new();
    let mut compared = Vec::new();
    for path in &files {
        let (_, parsed) = scenario::read_and_parse(path, false).unwrap_or_else(|e| panic!("{e}"));
        if parsed
            .header
            .python
            .as_ref()
            .is_some_and(|p| p.value != version)
        {
            continue;
        }
        if uses_randomness(&parsed) {
            exempt.push(path.file_name().unwrap().to_string_lossy().to_string());
        } else {
            compared.push((path.clone(), parsed));
        }
    }
    let paths: Vec<PathBuf> = compared.iter().map(|(p, _)| p.clone()).collect();
    let cpython = cpython_traces(version, &paths);
    let mut failures = Vec::new();
    for ((path, parsed), (code, theirs)) in compared.iter().zip(&cpython) {
        assert!(
            matches!(code, 0 | 1),
            "CPython {version}'s runner rejected {}: exit {code}",
            path.display()
        );
        let label = format!("{} under {version}", path.display());
        if let Err(divergence) = compare(&label, &loopsim_trace(version, parsed), theirs) {
            failures.push(divergence);
        }
    }
    let compared = compared.len();
    println!(
        "compared {compared} scenarios with CPython {version}; exempt (rand/jitter): {}",
        exempt.join(", ")
    );
    assert!(compared >= 40, "too few scenarios compared: {compared}");
    assert!(
        failures.is_empty(),
        "{} scenarios diverge from CPython {version}:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn shipped_scenarios_match_cpython_3_11() {
    shipped_scenarios_match(Python::V3_11);
}

/// How many random scenarios to compare: 2,000 by default (a few seconds;
/// 30,000 found the bugs of scenarios 74, 79 and 80, 20,000 those of 85), more on demand
/// with `LOOPSIM_CONFORMANCE_RANDOM=N cargo test --test conformance`.
fn random_count() -> u64 {
    std::env::var("LOOPSIM_CONFORMANCE_RANDOM")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// Differential testing: random valid scenarios from the generator the fuzz
/// targets share (`scenario::generate`), each with a `python` header naming
/// `version` (the same programs for every version), run by loopsim under
/// `heapq` and by that CPython. A third of them have a second loop, a fifth a header
/// (a start time, a small budget), a seventh a crowd of 90-129 timers thinned
/// out (CPython's heap compaction), half calls on a closed loop, half the
/// primitives and half the combinators. A divergence prints the scenario and
/// keeps it under `target/conformance-divergences/` to become a regression
/// scenario.
/// Every fourth generated scenario gets a small event, callback or pending
/// budget in its header, so that runs end by each of them, at every kind
/// of callback (task steps and wake-ups included), in both runners.
fn with_small_budget(seed: u64, source: String) -> String {
    if seed % 4 != 1 {
        return source;
    }
    let line = match (seed / 4) % 3 {
        0 => format!("max_callbacks {}", 3 + seed % 40),
        1 => format!("max_pending {}", 1 + seed % 12),
        _ => format!("max_events {}", 4 + seed % 50),
    };
    format!("{line}\n{source}")
}

fn random_scenarios_match(version: Python) {
    use loopsim::scenario::generate::{generate, GenConfig};
    let count = random_count();
    let dir = repo().join(format!("target/conformance-random/{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = Vec::new();
    for seed in 0..count {
        let config = GenConfig {
            tie_burst: [0, 0, 4, 9][seed as usize % 4],
            other_loop: seed % 3 == 1,
            header: seed % 5 == 2,
            crowd: if seed % 7 == 3 {
                90 + (seed as usize % 40)
            } else {
                0
            },
            python: Some(version),
            closed_loop: seed % 4 < 2,
            // asyncio's primitives in half the runs, the combinators in
            // half (a quarter with both).
            sync: seed % 2 == 1,
            combinators: seed % 4 >= 2,
            ..GenConfig::default()
        };
        let source = with_small_budget(seed, generate(seed, &config));
        let path = dir.join(format!("random-{seed}.scn"));
        std::fs::write(&path, &source).unwrap();
        cases.push((seed, path, source));
    }
    let paths: Vec<PathBuf> = cases.iter().map(|(_, p, _)| p.clone()).collect();
    let cpython = cpython_traces(version, &paths);
    let mut failures = Vec::new();
    for ((seed, _, source), (code, theirs)) in cases.iter().zip(&cpython) {
        assert!(
            matches!(code, 0 | 1),
            "CPython {version}'s runner rejected generated seed {seed}: exit {code}\n{source}"
        );
        let parsed = scenario::parse("random.scn", source).expect("generated scenarios parse");
        if let Err(divergence) = compare(
            &format!("generated seed {seed} under {version}"),
            &loopsim_trace(version, &parsed),
            theirs,
        ) {
            let keep = repo().join("target/conformance-divergences");
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::write(keep.join(format!("random-{version}-{seed}.scn")), source).unwrap();
            failures.push(format!("{divergence}\n--- scenario ---\n{source}"));
        }
    }
    println!("compared {count} random scenarios with CPython {version}");
    assert!(
        failures.is_empty(),
        "{} random scenarios diverge from CPython {version}:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn random_scenarios_match_cpython_3_11() {
    random_scenarios_match(Python::V3_11);
}

#[test]
fn shipped_scenarios_match_cpython_3_12() {
    shipped_scenarios_match(Python::V3_12);
}

#[test]
fn shipped_scenarios_match_cpython_3_13() {
    shipped_scenarios_match(Python::V3_13);
}

#[test]
fn random_scenarios_match_cpython_3_12() {
    random_scenarios_match(Python::V3_12);
}

#[test]
fn random_scenarios_match_cpython_3_13() {
    random_scenarios_match(Python::V3_13);
}

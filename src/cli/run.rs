//! `run`, `replay` and `check`: one scenario with its trace, or many with
//! a summary.

use super::args::RunFlags;
use super::{color, load, EXIT_FAILED, EXIT_INVALID};
use loopsim::scenario::{self, Outcome};
use loopsim::trace::{first_divergence, render};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `run` and `replay`: prints the trace; on a failure says what failed and
/// the command that replays it, and exits 1.
pub(crate) fn run(file: &Path, flags: &RunFlags) -> u8 {
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
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

/// `loopsim replay FILE FLAGS`: the command that reruns `outcome` byte for byte.
fn replay_command(file: &Path, outcome: &Outcome) -> String {
    format!(
        "loopsim replay {} {}",
        file.display(),
        outcome.settings.flags()
    )
}

/// The files to check: each path, or the `*.scn` files of a folder, sorted
/// by name (default: `scenarios/`).
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

/// `check`: runs every file, prints one line each and a summary; exits 2 if
/// any file is invalid, else 1 if any failed.
pub(crate) fn check(paths: &[PathBuf], flags: &RunFlags) -> u8 {
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

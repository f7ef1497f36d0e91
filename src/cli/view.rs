//! `view`: a run as one self-contained HTML page; and the Chrome trace
//! that `run --format chrome` prints.

use super::args::RunFlags;
use super::run::replay_command;
use super::{color, EXIT_INVALID};
use loopsim::scenario::{self, CommentPolicy, Outcome, RunOptions, Scenario};
use loopsim::view;
use std::path::Path;

/// Reads, parses and runs `file` with the loop's state recorded.
fn run_observed(file: &Path, flags: &RunFlags) -> Result<(String, Scenario, Outcome), u8> {
    let (source, scenario) = scenario::read_and_parse_with(file, color(), CommentPolicy::Drop)
        .map_err(|rendered| {
            err!("{rendered}");
            EXIT_INVALID
        })?;
    let options = RunOptions {
        record_state: true,
        ..flags.run_options()
    };
    let outcome = scenario::run(&scenario, &options);
    Ok((source, scenario, outcome))
}

/// `loopsim view FILE [flags] -o OUT.html`: writes the page; exit 0 once
/// it is written (a failing run is shown in it, and said on stderr).
pub(crate) fn view(file: &Path, flags: &RunFlags, output: &Path) -> u8 {
    let (source, scenario, outcome) = match run_observed(file, flags) {
        Ok(run) => run,
        Err(code) => return code,
    };
    let reproduce = replay_command(file, &outcome);
    let name = file.display().to_string();
    let html = view::page(&name, &source, &scenario, &outcome, &reproduce);
    if let Err(e) = std::fs::write(output, html) {
        errln!("error: cannot write `{}`: {e}", output.display());
        return EXIT_INVALID;
    }
    errln!(
        "loopsim: {} ({}): {} events, {} passes -> {}",
        name,
        outcome.settings.flags(),
        outcome.trace.len(),
        outcome.states.len(),
        output.display()
    );
    if let Some(failure) = &outcome.failure {
        errln!("loopsim: the run failed: {failure}");
    }
    0
}

/// `run --format chrome`: the Trace Event Format on stdout; the run's
/// outcome, for the exit status.
pub(crate) fn chrome(file: &Path, flags: &RunFlags) -> Result<Outcome, u8> {
    let (source, scenario, outcome) = run_observed(file, flags)?;
    let lanes = view::lanes::place(&scenario, &source, &outcome);
    out!(
        "{}",
        view::chrome::render(&file.display().to_string(), &outcome, &lanes)
    );
    Ok(outcome)
}

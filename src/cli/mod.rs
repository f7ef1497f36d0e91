//! The `loopsim` command's pieces: `args.rs` (what clap parses), `run.rs`
//! (`run`, `replay`, `check`), `explore.rs` (`explore`, `shrink`),
//! `files.rs` (`fmt`, `decode`). Each command returns its exit status.

pub(crate) mod args;
mod explore;
mod files;
mod run;

pub(crate) use explore::{explore, shrink};
pub(crate) use files::{decode, fmt};
pub(crate) use run::{check, run};

use loopsim::scenario::{self, Scenario};
use std::io::IsTerminal;
use std::path::Path;

/// The scenario ran and failed: a check, an invariant, the budget, or determinism.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad input: a scenario that does not parse, a file that cannot be read.
pub(crate) const EXIT_INVALID: u8 = 2;

/// Diagnostics in colour when standard error is a terminal.
pub(crate) fn color() -> bool {
    std::io::stderr().is_terminal()
}

/// Reads and parses `file`; on failure prints the diagnostic and gives the
/// exit status for invalid input.
pub(crate) fn load(file: &Path) -> Result<Scenario, u8> {
    scenario::read_and_parse(file, color())
        .map(|(_, scenario)| scenario)
        .map_err(|rendered| {
            eprint!("{rendered}");
            EXIT_INVALID
        })
}

//! The `loopsim` command's pieces: `args.rs` (what clap parses), `run.rs`
//! (`run`, `replay`, `check`), `explore.rs` (`explore`, `shrink`),
//! `files.rs` (`fmt`, `decode`), `view.rs` (`view`, and `run --format
//! chrome`), `merge.rs` (`merge`). Each command returns its exit status.
//! `--format json` output is built with `serde_json` here, from the
//! library's data (the explore report's object is the library's own).

#[macro_use]
pub(crate) mod output;
pub(crate) mod args;
mod diff;
mod explore;
mod files;
mod merge;
mod run;
mod view;

pub(crate) use diff::{diff, Variants as DiffVariants};
pub(crate) use explore::{explore, shrink};
pub(crate) use files::{decode, fmt, FmtMode};
pub(crate) use merge::merge;
pub(crate) use run::{check, run};
pub(crate) use view::view;

use loopsim::scenario::{self, CommentPolicy, Scenario};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

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
    scenario::read_and_parse_with(file, color(), CommentPolicy::Drop)
        .map(|(_, scenario)| scenario)
        .map_err(|rendered| {
            err!("{rendered}");
            EXIT_INVALID
        })
}

/// The scenario files named by `paths`: each file as given, and the
/// `*.scn` files of each folder, sorted by name.
pub(crate) fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "scn"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

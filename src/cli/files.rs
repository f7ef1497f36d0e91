//! `fmt` and `decode`: a scenario in canonical form, and a fuzz crash file
//! turned into one.

use super::{color, EXIT_FAILED, EXIT_INVALID};
use loopsim::scenario;
use std::path::Path;

/// `fmt`: prints the canonical form; with `check`, exits 1 unless the file
/// is already in it.
pub(crate) fn fmt(file: &Path, check: bool) -> u8 {
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

/// `decode`: a `schedule` fuzz crash file as a scenario, and the command
/// that replays it.
pub(crate) fn decode(artifact: &Path, output: Option<&Path>) -> u8 {
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

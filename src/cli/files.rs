//! `fmt` and `decode`: a scenario in canonical form, and a fuzz crash file
//! turned into one.

use super::{color, scenario_files, EXIT_FAILED, EXIT_INVALID};
use loopsim::scenario;
use std::path::{Path, PathBuf};

/// What `fmt` does with the files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FmtMode {
    /// Print the canonical form of the one file.
    Print,
    /// Rewrite each file not in canonical form, and name it.
    Write,
    /// Change nothing; name each file not in canonical form (exit 1).
    Check,
}

/// `fmt`: prints one file's canonical form, or rewrites (`--write`) or
/// checks (`--check`) every file and folder given. Exits 2 if a file is
/// invalid or cannot be written, else 1 if `--check` found a file not in
/// canonical form.
pub(crate) fn fmt(paths: &[PathBuf], mode: FmtMode) -> u8 {
    let files = match scenario_files(paths) {
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    if mode == FmtMode::Print && files.len() != 1 {
        errln!(
            "error: `loopsim fmt` prints one file; {} given (use `--write` or `--check` for several)",
            files.len()
        );
        return EXIT_INVALID;
    }
    let (mut invalid, mut unformatted) = (false, Vec::new());
    for file in &files {
        let (source, scenario) = match scenario::read_and_parse(file, color()) {
            Ok(parsed) => parsed,
            Err(rendered) => {
                err!("{rendered}");
                invalid = true;
                continue;
            }
        };
        let canonical = scenario::print(&scenario);
        match mode {
            FmtMode::Print => out!("{canonical}"),
            _ if canonical == source => {}
            FmtMode::Check => {
                outln!("{}", file.display());
                unformatted.push(file);
            }
            FmtMode::Write => match std::fs::write(file, &canonical) {
                Ok(()) => outln!("formatted {}", file.display()),
                Err(e) => {
                    errln!("error: cannot write `{}`: {e}", file.display());
                    invalid = true;
                }
            },
        }
    }
    if invalid {
        return EXIT_INVALID;
    }
    if unformatted.is_empty() {
        return 0;
    }
    let files = if unformatted.len() == 1 {
        "file is"
    } else {
        "files are"
    };
    errln!(
        "loopsim: {} {files} not in canonical form (`loopsim fmt --write` rewrites them)",
        unformatted.len()
    );
    EXIT_FAILED
}

/// `decode`: a `schedule` fuzz crash file as a scenario, and the command
/// that replays it.
pub(crate) fn decode(artifact: &Path, output: Option<&Path>) -> u8 {
    let bytes = match scenario::source::read_source(artifact) {
        Ok(bytes) => bytes,
        Err(e) => {
            errln!("error: cannot read `{}`: {e}", artifact.display());
            return EXIT_INVALID;
        }
    };
    let decoded = loopsim::fuzz_support::decode(&bytes);
    let target = match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &decoded.scenario_text) {
                errln!("error: cannot write `{}`: {e}", path.display());
                return EXIT_INVALID;
            }
            path.display().to_string()
        }
        None => {
            out!("{}", decoded.scenario_text);
            "FILE.scn".to_string()
        }
    };
    let target = loopsim::explore::shell_quote(&target);
    errln!("reproduce: loopsim replay {target} {}", decoded.flags);
    0
}

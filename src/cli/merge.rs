//! `merge`: the JSON reports of an exploration's shards (or of ranges end
//! to end) as the one report of the whole (`loopsim::explore::merge_reports`).

use super::{EXIT_FAILED, EXIT_INVALID};
use loopsim::explore::{merge_reports, JsonReport};
use std::path::{Path, PathBuf};

/// Reads every report, merges them and prints (or writes) the result;
/// exits 1 if a seed failed, as the whole exploration would have, and 2
/// on a report that cannot be read or that does not fit with the others.
pub(crate) fn merge(paths: &[PathBuf], output: Option<&Path>) -> u8 {
    let mut reports = Vec::new();
    for path in paths {
        match read(path) {
            Ok(report) => reports.push((path.display().to_string(), report)),
            Err(message) => {
                errln!("error: {message}");
                return EXIT_INVALID;
            }
        }
    }
    let merged = match merge_reports(&reports) {
        Ok(merged) => merged,
        Err(message) => {
            errln!("error: cannot merge: {message}");
            return EXIT_INVALID;
        }
    };
    let json = format!("{}\n", merged.to_json());
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, json) {
                errln!("error: cannot write `{}`: {e}", path.display());
                return EXIT_INVALID;
            }
        }
        None => out!("{json}"),
    }
    if merged.failures.is_empty() {
        0
    } else {
        EXIT_FAILED
    }
}

/// One report file, parsed; the error names the file (and, for bad JSON,
/// the line and column).
fn read(path: &Path) -> Result<JsonReport, String> {
    let name = path.display();
    let hint = "(a report is what `loopsim explore --report FILE` writes)";
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or_default();
        format!(
            "{name}:{}:{}: not JSON: {what} {hint}",
            e.line(),
            e.column()
        )
    })?;
    JsonReport::from_json(&value)
        .map_err(|e| format!("{name}: not a loopsim explore report: {e} {hint}"))
}

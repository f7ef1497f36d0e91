//! `diff`: one scenario under two or more CPython versions, compared
//! event by event (the first divergence, with a few events before it).

use super::args::PythonArg;
use super::{load, EXIT_FAILED, EXIT_INVALID};
use loopsim::scenario::{self, Overrides, RunOptions};
use loopsim::trace::{first_divergence, Event};
use loopsim::Python;
use std::path::Path;

/// Events shown before the divergence, from each trace.
const CONTEXT: usize = 3;

/// `loopsim diff FILE --python A --python B ...`: exit 0 when every
/// version gives the same trace, 1 when one differs, 2 on bad input.
pub(crate) fn diff(file: &Path, pythons: &[PythonArg]) -> u8 {
    let versions: Vec<Python> = pythons.iter().map(|&p| Python::from(p)).collect();
    if versions.len() < 2 {
        super::output::err!("error: `loopsim diff` needs two or more `--python` versions\n");
        return EXIT_INVALID;
    }
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let traces: Vec<Vec<Event>> = versions
        .iter()
        .map(|&python| {
            let options = RunOptions {
                overrides: Overrides {
                    python: Some(python),
                    ..Overrides::default()
                },
                ..RunOptions::default()
            };
            scenario::run(&scenario, &options).trace
        })
        .collect();
    for (i, trace) in traces.iter().enumerate().skip(1) {
        if let Some(divergence) = first_divergence(&traces[0], trace) {
            let at = divergence.index;
            out!(
                "traces differ between {} and {} at event {at}:\n",
                versions[0],
                versions[i]
            );
            for (version, trace) in [(versions[0], &traces[0]), (versions[i], trace)] {
                out!("  {version}:\n");
                for event in &trace[at.saturating_sub(CONTEXT)..at] {
                    out!("      {event}\n");
                }
                match trace.get(at) {
                    Some(event) => out!("    > {event}\n"),
                    None => out!("    > <end of trace>\n"),
                }
            }
            return EXIT_FAILED;
        }
    }
    let names: Vec<&str> = versions.iter().map(|v| v.as_str()).collect();
    out!("same trace on {}\n", names.join(", "));
    0
}

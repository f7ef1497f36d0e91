//! `diff`: where two runs part. Either one scenario run two or more ways
//! (any run option given once per run: `--python 3.11 --python 3.13`,
//! `--seed 3 --seed 8`, `--tie-break fifo --tie-break random`, ...), or
//! two saved JSON traces. Prints the first divergence with a few events of
//! context from each side (exit 1), or says the traces are the same
//! (exit 0); bad input is exit 2.

use super::args::{PythonArg, TieBreakArg};
use super::{load, EXIT_FAILED, EXIT_INVALID};
use loopsim::loop_state::first_choice_apart;
use loopsim::scenario::{self, Outcome, Overrides, RunOptions};
use loopsim::time::format_duration;
use loopsim::trace::first_divergence;
use loopsim::{Python, TieBreak};
use serde_json::Value as Json;
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Events shown before the divergence, from each trace.
const CONTEXT: usize = 3;

/// The run options `diff` varies: each given once (for every run) or once
/// per run.
pub(crate) struct Variants {
    pub(crate) pythons: Vec<PythonArg>,
    pub(crate) seeds: Vec<u64>,
    pub(crate) tie_breaks: Vec<TieBreakArg>,
    pub(crate) jitters: Vec<i64>,
    /// The budgets and the rest, the same for every run.
    pub(crate) common: Overrides,
}

impl Variants {
    fn any(&self) -> bool {
        !(self.pythons.is_empty()
            && self.seeds.is_empty()
            && self.tie_breaks.is_empty()
            && self.jitters.is_empty())
            || self.common != Overrides::default()
    }

    /// How many runs: the one count (at least 2) of every option given
    /// more than once.
    fn runs(&self) -> Result<usize, String> {
        let counts = [
            self.pythons.len(),
            self.seeds.len(),
            self.tie_breaks.len(),
            self.jitters.len(),
        ];
        let many: Vec<usize> = counts.into_iter().filter(|&n| n > 1).collect();
        match many.first() {
            None => Err("give at least one run option twice, e.g. `--seed 3 --seed 8` or `--python 3.11 --python 3.13`".into()),
            Some(&n) if many.iter().all(|&m| m == n) => Ok(n),
            Some(_) => Err("each option given more than once must be given the same number of times (once per run)".into()),
        }
    }

    /// Run `i`'s overrides, and its label: the values that vary.
    fn run(&self, i: usize) -> (Overrides, String) {
        fn pick<T: Copy>(values: &[T], i: usize) -> Option<T> {
            values.get(i).or(values.first()).copied()
        }
        let mut label = Vec::new();
        let mut name = |values_len: usize, text: String| {
            if values_len > 1 {
                label.push(text);
            }
        };
        let python = pick(&self.pythons, i).map(Python::from);
        let seed = pick(&self.seeds, i);
        let tie_break = pick(&self.tie_breaks, i).map(TieBreak::from);
        let jitter = pick(&self.jitters, i);
        name(
            self.pythons.len(),
            python.map(|p| p.to_string()).unwrap_or_default(),
        );
        name(self.seeds.len(), format!("seed {}", seed.unwrap_or(0)));
        name(
            self.tie_breaks.len(),
            tie_break.map(|t| t.to_string()).unwrap_or_default(),
        );
        name(
            self.jitters.len(),
            format!("jitter {}", format_duration(jitter.unwrap_or(0))),
        );
        let overrides = Overrides {
            python: python.or(self.common.python),
            seed: seed.or(self.common.seed),
            tie_break: tie_break.or(self.common.tie_break),
            jitter_nanos: jitter.or(self.common.jitter_nanos),
            ..self.common.clone()
        };
        (overrides, label.join(" "))
    }
}

/// `loopsim diff FILE [options, some given once per run]` or
/// `loopsim diff A.jsonl B.jsonl`.
pub(crate) fn diff(files: &[PathBuf], variants: &Variants) -> u8 {
    match files {
        [file] => diff_runs(file, variants),
        [left, right] if !variants.any() => diff_saved(left, right),
        [_, _] => {
            super::output::err!("error: two saved traces take no run options\n");
            EXIT_INVALID
        }
        _ => {
            super::output::err!(
                "error: `loopsim diff` takes one scenario or two saved JSON traces\n"
            );
            EXIT_INVALID
        }
    }
}

fn diff_runs(file: &Path, variants: &Variants) -> u8 {
    let runs = match variants.runs() {
        Ok(n) => n,
        Err(message) => {
            super::output::err!("error: {message}\n");
            return EXIT_INVALID;
        }
    };
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let outcomes: Vec<(String, Outcome)> = (0..runs)
        .map(|i| {
            let (overrides, label) = variants.run(i);
            let options = RunOptions {
                overrides,
                record_state: true,
                ..RunOptions::default()
            };
            (label, scenario::run(&scenario, &options))
        })
        .collect();
    let (first_label, first) = &outcomes[0];
    for (label, outcome) in &outcomes[1..] {
        if let Some(divergence) = first_divergence(&first.trace, &outcome.trace) {
            let at = divergence.index;
            out!("traces differ between {first_label} and {label} at event {at}:\n");
            show(first_label, &first.trace, at);
            show(label, &outcome.trace, at);
            if let Some(apart) = first_choice_apart(&first.states, &outcome.states, at) {
                out!(
                    "where they chose apart: {}\n",
                    apart.describe(first_label, label)
                );
            }
            return EXIT_FAILED;
        }
    }
    let labels: Vec<&str> = outcomes.iter().map(|(label, _)| label.as_str()).collect();
    out!("same trace on {}\n", labels.join(", "));
    0
}

/// `label`'s events just before `at`, and the one at `at`.
fn show<E: Display>(label: &str, trace: &[E], at: usize) {
    out!("  {label}:\n");
    for event in &trace[at.saturating_sub(CONTEXT)..at] {
        out!("      {event}\n");
    }
    match trace.get(at) {
        Some(event) => out!("    > {event}\n"),
        None => out!("    > <end of trace>\n"),
    }
}

/// Two traces saved by `--format json`: their events (lines with an
/// `event` key; `--state` lines are skipped) compared as JSON values.
fn diff_saved(left: &Path, right: &Path) -> u8 {
    let (a, b) = match (read_events(left), read_events(right)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(message), _) | (_, Err(message)) => {
            super::output::err!("error: {message}\n");
            return EXIT_INVALID;
        }
    };
    let at = a.iter().zip(&b).position(|(x, y)| x.1 != y.1);
    let at = match at {
        Some(at) => at,
        None if a.len() == b.len() => {
            out!("same trace in {} and {}\n", left.display(), right.display());
            return 0;
        }
        None => a.len().min(b.len()),
    };
    out!(
        "traces differ between {} and {} at event {at}:\n",
        left.display(),
        right.display()
    );
    let texts = |events: &[(String, Json)]| events.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
    show(&left.display().to_string(), &texts(&a), at);
    show(&right.display().to_string(), &texts(&b), at);
    EXIT_FAILED
}

/// Each event line of a JSON trace file: its text and its value.
fn read_events(path: &Path) -> Result<Vec<(String, Json)>, String> {
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!(
            "cannot read `{}`: not a regular file",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(cannot)?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Json = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}:{}:{}: expected one JSON object per line (a trace written by `--format json`): {e}",
                path.display(),
                n + 1,
                e.column()
            )
        })?;
        if value.get("event").is_some() {
            events.push((line.trim().to_string(), value));
        }
    }
    Ok(events)
}

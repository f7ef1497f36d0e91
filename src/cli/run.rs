//! `run`, `replay` and `check`: one scenario with its trace, or many with
//! a summary.

use super::args::{OutputFormat, RunFlags};
use super::{color, load, scenario_files, EXIT_FAILED, EXIT_INVALID};
use loopsim::explore::Fnv1a;
use loopsim::loop_state::render_with_states;
use loopsim::scenario::ast::Scenario;
use loopsim::scenario::span::line_col;
use loopsim::scenario::{self, CommentPolicy, Outcome};
use loopsim::trace::first_divergence;
use serde_json::json;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// `run` and `replay`: prints the trace; on a failure says what failed and
/// the command that replays it, and exits 1.
pub(crate) fn run(file: &Path, flags: &RunFlags) -> u8 {
    if flags.format == OutputFormat::Chrome {
        return match super::view::chrome(file, flags) {
            Ok(outcome) => finish(file, &outcome),
            Err(code) => code,
        };
    }
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let options = flags.run_options();
    if flags.state {
        let outcome = scenario::run(&scenario, &options);
        let text = render_with_states(&outcome.trace, &outcome.states, flags.format());
        out!("{text}");
        return settle(file, &scenario, flags, &outcome);
    }
    // The trace is written as it is recorded, never held whole.
    let hash = flags
        .check_determinism
        .then(|| Rc::new(Cell::new(Fnv1a::default())));
    let sink = super::output::stdout_sink(flags.format(), hash.clone());
    let (outcome, remains) = scenario::run_streamed_keeping(&scenario, &options, sink);
    let code = match hash {
        Some(hash) => settle_streamed(file, &scenario, flags, &outcome, hash.get()),
        None => settle(file, &scenario, flags, &outcome),
    };
    // The process ends after this: freeing the tree and the run piece by
    // piece would only take time (about a tenth of a big run's).
    std::mem::forget(remains);
    std::mem::forget(scenario);
    code
}

/// After the trace: the settings, the determinism check (with the trace
/// kept) and the verdict.
fn settle(file: &Path, scenario: &Scenario, flags: &RunFlags, outcome: &Outcome) -> u8 {
    errln!("loopsim: {} ({})", file.display(), outcome.settings.flags());
    if flags.check_determinism {
        let again = scenario::run(scenario, &flags.run_options());
        if let Some(code) = divergence(file, outcome, &again) {
            return code;
        }
        errln!(
            "loopsim: deterministic: two runs gave {} identical events",
            outcome.events
        );
    }
    finish(file, outcome)
}

/// [`settle`] for a streamed run, whose trace is gone: a second run is
/// compared by the hash of its lines and its count; only when they differ
/// are both run again, kept, to show where.
fn settle_streamed(
    file: &Path,
    scenario: &Scenario,
    flags: &RunFlags,
    outcome: &Outcome,
    hash: Fnv1a,
) -> u8 {
    errln!("loopsim: {} ({})", file.display(), outcome.settings.flags());
    let options = flags.run_options();
    let again_hash = Rc::new(Cell::new(Fnv1a::default()));
    let sink = super::output::hash_sink(flags.format(), again_hash.clone());
    let again = scenario::run_streamed(scenario, &options, sink);
    if (again.events, again_hash.get().finish()) != (outcome.events, hash.finish()) {
        let first = scenario::run(scenario, &options);
        let second = scenario::run(scenario, &options);
        if let Some(code) = divergence(file, &first, &second) {
            return code;
        }
        errln!(
            "loopsim: nondeterminism: two runs gave traces of {} and {} events that hash apart",
            outcome.events,
            again.events
        );
        errln!(
            "reproduce: {} --check-determinism",
            replay_command(file, outcome)
        );
        return EXIT_FAILED;
    }
    errln!(
        "loopsim: deterministic: two runs gave {} identical events",
        outcome.events
    );
    finish(file, outcome)
}

/// Says where two runs of one file parted (exit 1), or that they did not
/// (`None`).
fn divergence(file: &Path, outcome: &Outcome, again: &Outcome) -> Option<u8> {
    match first_divergence(&outcome.trace, &again.trace) {
        Some(divergence) => {
            errln!("loopsim: nondeterminism: {divergence}");
            errln!(
                "reproduce: {} --check-determinism",
                replay_command(file, outcome)
            );
            Some(EXIT_FAILED)
        }
        None => None,
    }
}

/// Says what failed and how to replay it (exit 1), or exits 0.
fn finish(file: &Path, outcome: &Outcome) -> u8 {
    match &outcome.failure {
        Some(failure) => {
            errln!("loopsim: failed: {failure}");
            errln!("reproduce: {}", replay_command(file, outcome));
            EXIT_FAILED
        }
        None => 0,
    }
}

/// `loopsim replay FILE FLAGS`: the command that reruns `outcome` byte for byte.
pub(crate) fn replay_command(file: &Path, outcome: &Outcome) -> String {
    format!(
        "loopsim replay {} {}",
        loopsim::explore::shell_quote(&file.display().to_string()),
        outcome.settings.flags()
    )
}

/// `check`: runs every file, prints one line each (or, with `--format
/// json`, one JSON object each) and a summary; exits 2 if any file is
/// invalid, else 1 if any failed. A file whose header says `expect fail`
/// passes when its run fails, and fails when it passes.
pub(crate) fn check(paths: &[PathBuf], flags: &RunFlags) -> u8 {
    let default = [PathBuf::from("scenarios")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let files = match scenario_files(paths) {
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let json = flags.format == OutputFormat::Json;
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for (n, file) in files.iter().enumerate() {
        let last = n + 1 == files.len();
        let verdict = check_one(file, flags, !json && color(), last);
        match verdict.status {
            Status::Passed => passed += 1,
            Status::Failed => failed += 1,
            Status::Invalid => invalid += 1,
        }
        let line = if json {
            verdict.to_json(file).to_string()
        } else {
            verdict.to_text(file)
        };
        outln!("{line}");
        if let (false, Some(rendered)) = (json, &verdict.diagnostics) {
            err!("{rendered}");
        }
    }
    if !json {
        outln!("check: {passed} passed, {} failed", failed + invalid);
    }
    if invalid > 0 {
        EXIT_INVALID
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        0
    }
}

/// How one file of `check` did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Passed,
    Failed,
    Invalid,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
        }
    }
}

/// One file of `check`: its status, and what the run gave (`None` when the
/// file is invalid).
struct Verdict {
    status: Status,
    expect_fail: bool,
    outcome: Option<Outcome>,
    replay: Option<String>,
    /// The rendered parse errors of an invalid file.
    diagnostics: Option<String>,
}

/// `last`: nothing runs after this file, so what it parsed and ran is
/// left to the process's exit rather than freed.
fn check_one(file: &Path, flags: &RunFlags, color: bool, last: bool) -> Verdict {
    let (_, scenario) = match scenario::read_and_parse_with(file, color, CommentPolicy::Drop) {
        Ok(parsed) => parsed,
        Err(rendered) => {
            return Verdict {
                status: Status::Invalid,
                expect_fail: false,
                outcome: None,
                replay: None,
                diagnostics: Some(rendered),
            }
        }
    };
    // Only the count and the first failure are needed: nothing is kept.
    let (outcome, remains) =
        scenario::run_streamed_keeping(&scenario, &flags.run_options(), Box::new(|_| {}));
    let expect_fail = scenario.expects_failure();
    if last {
        std::mem::forget(remains);
        std::mem::forget(scenario);
    } else {
        drop(remains);
    }
    let status = if outcome.failed() == expect_fail {
        Status::Passed
    } else {
        Status::Failed
    };
    Verdict {
        status,
        expect_fail,
        replay: Some(replay_command(file, &outcome)),
        outcome: Some(outcome),
        diagnostics: None,
    }
}

impl Verdict {
    /// `ok      FILE (N events)`, `ok      FILE (failed as expected: EVENT)`,
    /// `FAILED  FILE: EVENT` or `invalid FILE`; a failure adds its replay
    /// command on a second line.
    fn to_text(&self, file: &Path) -> String {
        let (Some(outcome), Some(replay)) = (&self.outcome, &self.replay) else {
            return format!("invalid {}", file.display());
        };
        let name = file.display();
        let events = outcome.events;
        match (self.status, &outcome.failure) {
            (Status::Passed, Some(event)) => {
                format!("ok      {name} ({events} events, failed as expected: {event})")
            }
            (Status::Passed, None) => format!("ok      {name} ({events} events)"),
            (_, Some(event)) => format!("FAILED  {name}: {event}\n        reproduce: {replay}"),
            (_, None) => format!(
                "FAILED  {name}: expected a failure (`expect fail`), but every check held\n        \
                 reproduce: {replay}"
            ),
        }
    }

    /// `{"file", "status": "passed"|"failed"|"invalid", "expect":
    /// "pass"|"fail", "events", "failure": EVENT|null, "settings",
    /// "replay"}`; an invalid file has `error` (the diagnostics' text) and
    /// `errors` (each `{"line", "column", "message"}`) instead of the
    /// run's fields.
    fn to_json(&self, file: &Path) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        let mut put = |key: &str, value: serde_json::Value| {
            object.insert(key.to_string(), value);
        };
        put("file", json!(file.display().to_string()));
        put("status", json!(self.status.as_str()));
        match (&self.outcome, &self.replay) {
            (Some(outcome), Some(replay)) => {
                put(
                    "expect",
                    json!(if self.expect_fail { "fail" } else { "pass" }),
                );
                put("events", json!(outcome.events));
                let failure = outcome
                    .failure
                    .as_ref()
                    .map_or(serde_json::Value::Null, |e| {
                        serde_json::from_str(&e.to_json()).unwrap_or(serde_json::Value::Null)
                    });
                put("failure", failure);
                put("settings", json!(outcome.settings.flags()));
                put("replay", json!(replay));
            }
            _ => {
                put("error", json!(self.diagnostics.as_deref().unwrap_or("")));
                put("errors", json!(diagnostics_json(file)));
            }
        }
        serde_json::Value::Object(object)
    }
}

/// The parse errors of `file` as `{"line", "column", "message"}` objects
/// (empty when it cannot even be read as text: `error` says why).
fn diagnostics_json(file: &Path) -> Vec<serde_json::Value> {
    let Ok(source) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Err(diagnostics) =
        scenario::parse_with(&file.display().to_string(), &source, CommentPolicy::Drop)
    else {
        return Vec::new();
    };
    diagnostics
        .iter()
        .map(|d| {
            let (line, column) = line_col(&source, d.span.start);
            json!({"line": line, "column": column, "message": d.message})
        })
        .collect()
}

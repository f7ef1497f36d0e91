//! Pictures of a run: views over the data the library already has (the
//! trace, the loop's state at each pass, each event's statement).
//!
//! * `lanes.rs`: who recorded each event (a task, a callback, a future,
//!   `main`, the loop) and its scenario line;
//! * `chrome.rs`: Chrome's Trace Event Format (`loopsim run --format chrome`);
//! * this file and its assets `page.html`, `page.css`, `page.js`: one
//!   self-contained HTML page (`loopsim view`), a timeline on a canvas with
//!   the run's data embedded as JSON. No network: the page is the file.
//!
//! ```
//! use loopsim::scenario::{parse, run, RunOptions};
//! use loopsim::view;
//!
//! let source = "callback tick:\n    log tick\n\nmain:\n    call_later 1.5 tick\n    run_forever\n";
//! let scenario = parse("demo.scn", source).unwrap();
//! let outcome = run(&scenario, &RunOptions { record_state: true, ..RunOptions::default() });
//! let html = view::page("demo.scn", source, &scenario, &outcome, "loopsim replay demo.scn --seed 0");
//! assert!(html.starts_with("<!DOCTYPE html>") && html.contains("\"tick\""));
//! ```

pub mod chrome;
pub mod lanes;

use crate::loop_state::{PassState, TimerState};
use crate::scenario::{Outcome, Scenario};
use crate::time::format_duration;
use lanes::{place, tie_groups, LaneKind, Lanes};
use serde_json::{json, Value as Json};

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// At most this many entries of each list of a pass go into the page (the
/// rest are counted): a loop with a million timers stays a page.
const LIST_CAP: usize = 200;

/// The page for one run of `scenario` (whose text is `source`), run with
/// [`RunOptions::record_state`](crate::scenario::RunOptions::record_state)
/// on. `reproduce` is the command the page shows.
pub fn page(
    file: &str,
    source: &str,
    scenario: &Scenario,
    outcome: &Outcome,
    reproduce: &str,
) -> String {
    let lanes = place(scenario, source, outcome);
    let data = data(file, source, outcome, &lanes, reproduce);
    // `</` would end the script element: JSON may write it `<\/`.
    let data = data.to_string().replace("</", "<\\/");
    let title = file
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    PAGE.replace("{{TITLE}}", &title)
        .replace("{{STYLE}}", STYLE)
        .replace("{{SCRIPT}}", SCRIPT)
        .replace("{{DATA}}", &data)
}

/// The run as the page reads it: events as compact arrays
/// `[iteration, time_ns, kind, lane, line, text]`, passes as objects.
fn data(file: &str, source: &str, outcome: &Outcome, lanes: &Lanes, reproduce: &str) -> Json {
    let events: Vec<Json> = outcome
        .trace
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!([
                e.iteration,
                e.time,
                e.kind.name(),
                lanes.lane_of[i],
                lanes.line_of[i],
                e.kind.to_text()
            ])
        })
        .collect();
    let ends = pass_ends(outcome, lanes);
    let passes: Vec<Json> = outcome
        .states
        .iter()
        .zip(ends)
        .map(|(state, end)| pass(state, end))
        .collect();
    let settings = &outcome.settings;
    let mut chips = vec![
        json!(["python", settings.python.to_string()]),
        json!(["seed", settings.seed]),
        json!(["tie_break", settings.tie_break.as_str()]),
    ];
    if settings.jitter_nanos != 0 {
        chips.push(json!(["jitter", format_duration(settings.jitter_nanos)]));
    }
    if settings.start_nanos != 0 {
        chips.push(json!(["start_time", format_duration(settings.start_nanos)]));
    }
    chips.push(json!(["max_iterations", settings.max_iterations]));
    if let Some(order) = &settings.tie_order {
        chips.push(json!([
            "tie_order",
            crate::tie_break::format_tie_order(order)
        ]));
    }
    json!({
        "file": file,
        "settings": chips,
        "reproduce": reproduce,
        "failure": outcome.failure.as_ref().map(|f| f.to_text()),
        "source": source.lines().collect::<Vec<_>>(),
        "lanes": lanes.lanes.iter().map(|l| json!([&*l.name, l.kind.as_str()])).collect::<Vec<_>>(),
        "events": events,
        "passes": passes,
    })
}

/// Where each pass's events end: at the next pass, or at the first event
/// of `main` after it (the driver returned).
fn pass_ends(outcome: &Outcome, lanes: &Lanes) -> Vec<usize> {
    let main = lanes
        .lanes
        .iter()
        .position(|l| l.kind == LaneKind::Main)
        .unwrap_or(usize::MAX);
    let states = &outcome.states;
    (0..states.len())
        .map(|i| {
            let next = states
                .get(i + 1)
                .map_or(outcome.trace.len(), |s| s.at_event);
            (states[i].at_event..next)
                .find(|&e| lanes.lane_of[e] == main)
                .unwrap_or(next)
        })
        .collect()
}

fn timers(list: &[TimerState]) -> Vec<Json> {
    list.iter()
        .take(LIST_CAP)
        .map(|t| json!([t.when, &*t.name, t.cancelled]))
        .collect()
}

fn pass(state: &PassState, end: usize) -> Json {
    json!({
        "loop": state.loop_id,
        "it": state.iteration,
        "t": state.time,
        "now": state.now,
        "at": state.at_event,
        "end": end,
        "ready": state.ready.iter().take(LIST_CAP).map(|r| &**r).collect::<Vec<_>>(),
        "readyN": state.ready.len(),
        "timers": timers(&state.timers),
        "timersN": state.timers.len(),
        "order": state.order.describe(),
        "due": timers(&state.due),
        "tasks": state.tasks.iter().take(LIST_CAP).map(|t| json!([&*t.name, t.awaits.to_string()])).collect::<Vec<_>>(),
        "tasksN": state.tasks.len(),
        "ties": tie_groups(state).into_iter().map(|(when, names)| {
            json!([when, names.iter().map(|n| &**n).collect::<Vec<_>>()])
        }).collect::<Vec<_>>(),
    })
}

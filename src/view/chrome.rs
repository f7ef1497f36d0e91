//! A run in Chrome's Trace Event Format, for Perfetto (ui.perfetto.dev) or
//! `chrome://tracing`.
//!
//! Timestamps are virtual time (microseconds, as the format counts). Each
//! loop's passes are slices on a track of their own: a pass lasts as long
//! as its wait (the clock's jump), so a pass that does not wait is a slice
//! of zero length, because virtual time does not move while callbacks run.
//! Every event is an instant on its lane's track (one per task, callback
//! and future, plus `main`), with its iteration, fields and scenario line
//! as arguments.

use super::lanes::Lanes;
use crate::scenario::Outcome;
use crate::trace::Field;
use crate::value::Value;
use serde_json::{json, Value as Json};

/// Microseconds, as the format counts, from nanoseconds.
fn micros(nanos: i64) -> Json {
    serde_json::Number::from_f64(nanos as f64 / 1e3).map_or(Json::Null, Json::Number)
}

/// The whole file: `{"traceEvents":[...],"displayTimeUnit":"ms",...}`.
/// `title` names the process (the scenario file).
pub fn render(title: &str, outcome: &Outcome, lanes: &Lanes) -> String {
    const PID: u32 = 1;
    let loops = outcome
        .states
        .iter()
        .map(|s| s.loop_id)
        .max()
        .map_or(1, |m| m + 1);
    // Tracks: one per loop's passes, then one per lane.
    let lane_tid = |lane: usize| loops as usize + 1 + lane;
    let mut events = vec![json!({
        "name": "process_name", "ph": "M", "pid": PID, "tid": 0,
        "args": {"name": format!("loopsim {title}")},
    })];
    for id in 0..loops {
        let name = if id == 0 {
            "passes (loop main)".to_string()
        } else {
            format!("passes (loop {id})")
        };
        events.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": id + 1, "args": {"name": name}}));
        events.push(json!({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": id + 1, "args": {"sort_index": id}}));
    }
    for (i, lane) in lanes.lanes.iter().enumerate() {
        let name = format!("{} {}", lane.kind.as_str(), lane.name);
        events.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": lane_tid(i), "args": {"name": name}}));
        events.push(json!({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": lane_tid(i), "args": {"sort_index": loops as usize + i}}));
    }
    for state in &outcome.states {
        let mut args = state.to_json_value();
        args["events"] = json!(state.at_event);
        events.push(json!({
            "name": format!("pass #{}", state.iteration),
            "cat": "pass",
            "ph": "X",
            "ts": micros(state.time),
            "dur": micros(state.now - state.time),
            "pid": PID,
            "tid": state.loop_id + 1,
            "args": args,
        }));
    }
    for (i, event) in outcome.trace.iter().enumerate() {
        let mut args = json!({"iteration": event.iteration, "index": i});
        for (key, field) in event.kind.fields() {
            args[key] = match field {
                Field::Name(s) | Field::Text(s) => json!(s),
                Field::Val(Value::Int(n)) => json!(n),
                Field::Val(Value::Str(s)) => json!(&**s),
                Field::Val(Value::None) => Json::Null,
                Field::Val(Value::Debug(s)) => json!({ "debug": &**s }),
            };
        }
        if let Some(&line) = lanes.line_of.get(i).filter(|&&l| l > 0) {
            args["line"] = json!(line);
        }
        let lane = lanes.lane_of.get(i).copied().unwrap_or(0);
        events.push(json!({
            "name": event.kind.to_text(),
            "cat": event.kind.name(),
            "ph": "i",
            "s": "t",
            "ts": micros(event.time),
            "pid": PID,
            "tid": lane_tid(lane),
            "args": args,
        }));
    }
    let mut out = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"settings": outcome.settings.flags()},
    })
    .to_string();
    out.push('\n');
    out
}

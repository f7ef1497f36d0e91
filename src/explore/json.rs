//! The report as one JSON object (`loopsim explore --format json`).
//!
//! It holds everything the text report summarises, unabridged, so that
//! the reports of the shards of one exploration (`--shard K/N`) can be
//! merged into exactly the report of the whole range:
//!
//! * `seeds_run` and `runs` add up;
//! * `trace_hashes` (every distinct trace's FNV-1a hash, 16 hex digits,
//!   ascending) merge as a set union, and `distinct_traces` is its size;
//! * `failures` (every failing seed, not only the listed ones) concatenate
//!   and sort by seed; `failures_by_kind` and `distinct_failures` are then
//!   recomputed from them (the first seed of a group is the lowest);
//! * `incomplete` concatenates and sorts.
//!
//! `file` and `options` say what was explored; reports merge only when
//! they agree on both (the shard aside). Keys are in alphabetical order.
//!
//! ```
//! use loopsim::explore::{explore, ExploreOptions, SeedRange};
//! use loopsim::scenario::parse;
//!
//! let source = "tie_break random\nfuture f\n\
//!     callback a:\n    set_result f 1\n\
//!     callback b:\n    set_result f 2\n\
//!     main:\n    call_later 1 a\n    call_later 1 b\n    run_until_complete f\n    check result f == 1\n";
//! let scenario = parse("ab.scn", source).unwrap();
//! let options = ExploreOptions { seeds: SeedRange::new(0, 20), ..ExploreOptions::default() };
//! let report = explore(&scenario, "ab.scn", &options, |_, _| {});
//! let json = report.to_json("ab.scn", &options);
//! assert_eq!(json["seeds_run"], 20);
//! assert_eq!(json["distinct_traces"], 2);
//! let failing = json["failures_by_kind"]["check_failed"].as_u64().unwrap();
//! assert!(failing > 0 && failing < 20);
//! assert_eq!(json["failures"][0]["replay"].as_str().unwrap(),
//!     format!("loopsim replay ab.scn --python 3.12 --seed {} --tie-break random", json["failures"][0]["seed"]));
//! ```

use super::report::{Failure, Problem, Report};
use super::ExploreOptions;
use crate::time::format_duration;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

impl Report {
    /// The whole report as one JSON object; `file_label` and `options` are
    /// what [`explore`](super::explore) was given.
    pub fn to_json(&self, file_label: &str, options: &ExploreOptions) -> Value {
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for failure in &self.failures {
            *by_kind.entry(failure.problem.kind()).or_default() += 1;
        }
        let groups: Vec<Value> = self
            .distinct_failures()
            .into_iter()
            .map(|g| {
                json!({
                    "kind": g.kind,
                    "signature": g.signature,
                    "seeds": g.seeds,
                    "first_seed": g.first_seed,
                    "replay": g.replay,
                    "diff": g.diff,
                })
            })
            .collect();
        json!({
            "file": file_label,
            "options": options_json(options),
            "seeds_run": self.seeds_run,
            "runs": self.runs,
            "distinct_traces": self.distinct_traces,
            "trace_hashes": self.trace_hashes.iter().map(|h| format!("{h:016x}")).collect::<Vec<_>>(),
            "failing_seeds": self.failures.len(),
            "failures_by_kind": by_kind,
            "distinct_failures": groups,
            "failures": self.failures.iter().map(failure_json).collect::<Vec<_>>(),
            "exhaustive": self.exhaustive,
            "incomplete": self.incomplete,
            "first_passing": self.first_passing,
        })
    }
}

fn options_json(options: &ExploreOptions) -> Value {
    let o = &options.overrides;
    json!({
        "seeds": {"start": options.seeds.start, "end": options.seeds.end},
        "shard": options.shard.map(|s| format!("{}/{}", s.index, s.count)),
        "python": o.python.map(|p| p.as_str()),
        "python": o.python.map(|p| p.as_str()),
        "tie_break": o.tie_break.map(|t| t.as_str()),
        "jitter": o.jitter_nanos.map(format_duration),
        "max_iterations": o.max_iterations,
        "max_events": o.max_events,
        "max_callbacks": o.max_callbacks,
        "max_pending": o.max_pending,
        "exhaustive": options.exhaustive,
        "max_exhaustive": options.exhaustive.then_some(options.max_exhaustive),
    })
}

/// One failing seed: `seed`, `kind`, `signature`, `problem` (its text),
/// `event` (the failure event as a trace line's JSON object, or `null` for
/// nondeterminism), `tie_order` (exhaustive mode, or `null`) and `replay`.
fn failure_json(failure: &Failure) -> Value {
    let event = match &failure.problem {
        Problem::Failed(event) => {
            serde_json::from_str::<Value>(&event.to_json()).unwrap_or(Value::Null)
        }
        Problem::Nondeterministic(_) => Value::Null,
    };
    let mut object = Map::new();
    object.insert("seed".into(), json!(failure.seed));
    object.insert("kind".into(), json!(failure.problem.kind()));
    object.insert("signature".into(), json!(failure.problem.signature()));
    object.insert("problem".into(), json!(failure.problem.to_string()));
    object.insert("event".into(), event);
    object.insert("tie_order".into(), json!(failure.settings.tie_order));
    object.insert("replay".into(), json!(failure.replay));
    Value::Object(object)
}

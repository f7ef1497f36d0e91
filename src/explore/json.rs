//! The report as one JSON object (`loopsim explore --format json`, or
//! `--report FILE.json`), and that object read back ([`JsonReport`]).
//!
//! It holds everything the text report summarises, unabridged, so that
//! the reports of the shards of one exploration (`--shard K/N`) merge into
//! exactly the report of the whole range (`merge.rs`, `loopsim merge`):
//!
//! * `seeds_run` and `runs` add up;
//! * `traces` (every distinct trace: its `hash` ([`trace_hash`]) as 16 hex digits,
//!   the `runs` that gave it and the lowest seed that did, `first_seed`;
//!   ascending by hash) merge by hash, runs adding up and the lowest first
//!   seed kept; `distinct_traces` is their number;
//! * `failures` (every failing seed, not only the listed ones) concatenate
//!   and sort by seed; `failing_seeds`, `failures_by_kind` and
//!   `distinct_failures` are then recomputed from them (the first seed of
//!   a group is the lowest; its `diff` command is against `first_passing`,
//!   the lowest passing seed of all);
//! * `incomplete` concatenates and sorts.
//!
//! [`trace_hash`]: super::trace_hash
//!
//! `file` and `options` say what was explored, `options.seeds` and
//! `options.shard` which seeds. `report_version` is 1; a change that an
//! older `loopsim merge` would misread raises it. Keys are in alphabetical
//! order, and the object is written on one line.
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
//! let runs: u64 = (0..2).map(|i| json["traces"][i]["runs"].as_u64().unwrap()).sum();
//! assert_eq!(runs, 20);
//! let failing = json["failures_by_kind"]["check_failed"].as_u64().unwrap();
//! assert!(failing > 0 && failing < 20);
//! assert_eq!(json["failures"][0]["replay"].as_str().unwrap(),
//!     format!("loopsim replay ab.scn --python 3.12 --seed {} --tie-break random", json["failures"][0]["seed"]));
//! ```

use super::report::{diff_against, Failure, Problem, Report, TraceCount};
use super::seeds::{SeedRange, Shard};
use super::{shell_quote, ExploreOptions};
use crate::time::format_duration;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The version of the report's JSON form (its `report_version`).
pub const REPORT_VERSION: u64 = 1;

/// An exploration's report as its JSON object holds it: plain data, read
/// back from the object ([`JsonReport::from_json`]) and merged with the
/// reports of other shards ([`merge_reports`](super::merge_reports)).
#[derive(Clone, Debug, PartialEq)]
pub struct JsonReport {
    /// The scenario file, as the replay commands name it.
    pub file: String,
    /// The seeds explored (with `shard`, only that shard of them).
    pub seeds: SeedRange,
    /// The shard explored, if any.
    pub shard: Option<Shard>,
    /// Every other option (`options` without `seeds` and `shard`).
    pub options: Map<String, Value>,
    /// Whether every tie order of each seed was run.
    pub exhaustive: bool,
    /// Seeds run.
    pub seeds_run: u64,
    /// Scenario runs.
    pub runs: u64,
    /// Each distinct trace, ascending by hash.
    pub traces: Vec<TraceCount>,
    /// Every failing seed, by seed.
    pub failures: Vec<JsonFailure>,
    /// Exhaustive mode: seeds stopped at the bound, ascending.
    pub incomplete: Vec<u64>,
    /// The lowest passing seed, if any.
    pub first_passing: Option<u64>,
}

/// A failing seed, as the report's `failures` hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonFailure {
    /// The seed.
    pub seed: u64,
    /// [`Problem::kind`].
    pub kind: String,
    /// [`Problem::signature`].
    pub signature: String,
    /// The problem's text.
    pub problem: String,
    /// The failure event as a trace line's JSON object (`null` for
    /// nondeterminism).
    pub event: Value,
    /// Exhaustive mode: the failing tie order.
    pub tie_order: Option<Vec<u32>>,
    /// The command that replays the failure.
    pub replay: String,
}

impl Report {
    /// The whole report as one JSON object; `file_label` and `options` are
    /// what [`explore`](super::explore) was given.
    pub fn to_json(&self, file_label: &str, options: &ExploreOptions) -> Value {
        JsonReport::new(self, file_label, options).to_json()
    }
}

impl JsonReport {
    /// The JSON form of `report`.
    pub fn new(report: &Report, file_label: &str, options: &ExploreOptions) -> JsonReport {
        JsonReport {
            file: file_label.to_string(),
            seeds: options.seeds,
            shard: options.shard,
            options: options_json(options),
            exhaustive: report.exhaustive,
            seeds_run: report.seeds_run,
            runs: report.runs,
            traces: report.traces.clone(),
            failures: report.failures.iter().map(JsonFailure::new).collect(),
            incomplete: report.incomplete.clone(),
            first_passing: report.first_passing,
        }
    }

    /// The report's JSON object.
    pub fn to_json(&self) -> Value {
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for failure in &self.failures {
            *by_kind.entry(&failure.kind).or_default() += 1;
        }
        let mut options = self.options.clone();
        options.insert(
            "seeds".into(),
            json!({"end": self.seeds.end, "start": self.seeds.start}),
        );
        options.insert(
            "shard".into(),
            json!(self.shard.map(|s| format!("{}/{}", s.index, s.count))),
        );
        let traces: Vec<Value> = self
            .traces
            .iter()
            .map(|t| json!({"first_seed": t.first_seed, "hash": format!("{:016x}", t.hash), "runs": t.runs}))
            .collect();
        json!({
            "distinct_failures": self.distinct_failures(),
            "distinct_traces": self.traces.len(),
            "exhaustive": self.exhaustive,
            "failing_seeds": self.failures.len(),
            "failures": self.failures.iter().map(JsonFailure::to_json).collect::<Vec<_>>(),
            "failures_by_kind": by_kind,
            "file": self.file,
            "first_passing": self.first_passing,
            "incomplete": self.incomplete,
            "options": options,
            "report_version": REPORT_VERSION,
            "runs": self.runs,
            "seeds_run": self.seeds_run,
            "traces": traces,
        })
    }

    /// The distinct failures (failing seeds grouped by signature, in the
    /// order of their first seed), as the object's `distinct_failures`.
    fn distinct_failures(&self) -> Vec<Value> {
        let mut groups: Vec<(&JsonFailure, usize)> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for failure in &self.failures {
            match index.get(failure.signature.as_str()) {
                Some(&i) => groups[i].1 += 1,
                None => {
                    index.insert(&failure.signature, groups.len());
                    groups.push((failure, 1));
                }
            }
        }
        groups
            .into_iter()
            .map(|(first, seeds)| {
                json!({
                    "diff": self.first_passing.and_then(|p| self.diff_command(first, p)),
                    "first_seed": first.seed,
                    "kind": first.kind,
                    "replay": first.replay,
                    "seeds": seeds,
                    "signature": first.signature,
                })
            })
            .collect()
    }

    /// [`Failure::diff_command`], from the replay command.
    fn diff_command(&self, failure: &JsonFailure, passing: u64) -> Option<String> {
        if failure.tie_order.is_some() || failure.kind == "nondeterminism" {
            return None;
        }
        let label = shell_quote(&self.file);
        let flags = failure
            .replay
            .strip_prefix("loopsim replay ")?
            .strip_prefix(label.as_ref())?
            .strip_prefix(' ')?;
        diff_against(&label, flags, failure.seed, passing)
    }

    /// Reads a report's JSON object back; the error names the first key
    /// that is missing or holds the wrong kind of value.
    pub fn from_json(value: &Value) -> Result<JsonReport, String> {
        let o = Obj::new(value, "the report")?;
        let version = o.u64("report_version")?;
        if version != REPORT_VERSION {
            return Err(format!(
                "report_version {version}, where this loopsim reads {REPORT_VERSION}"
            ));
        }
        let mut options = Obj::new(o.get("options")?, "`options`")?.0.clone();
        let seeds = Obj::new(
            options.get("seeds").unwrap_or(&Value::Null),
            "`options.seeds`",
        )?;
        let seeds = SeedRange::new(seeds.u64("start")?, seeds.u64("end")?);
        let shard = match options.get("shard") {
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse().map_err(|e| format!("`options.shard`: {e}"))?),
            _ => return Err("`options.shard` must be `K/N` or null".into()),
        };
        options.remove("seeds");
        options.remove("shard");
        let traces = o
            .array("traces")?
            .iter()
            .map(|t| {
                let t = Obj::new(t, "an entry of `traces`")?;
                let hash = t.str("hash")?;
                Ok(TraceCount {
                    hash: u64::from_str_radix(hash, 16)
                        .map_err(|_| format!("`traces`: `{hash}` is no hexadecimal hash"))?,
                    runs: t.u64("runs")?,
                    first_seed: t.u64("first_seed")?,
                })
            })
            .collect::<Result<_, String>>()?;
        let failures = o
            .array("failures")?
            .iter()
            .map(JsonFailure::from_json)
            .collect::<Result<_, String>>()?;
        Ok(JsonReport {
            file: o.str("file")?.to_string(),
            seeds,
            shard,
            options,
            exhaustive: o.bool("exhaustive")?,
            seeds_run: o.u64("seeds_run")?,
            runs: o.u64("runs")?,
            traces,
            failures,
            incomplete: o.u64s("incomplete")?,
            first_passing: o.optional_u64("first_passing")?,
        })
    }
}

impl JsonFailure {
    fn new(failure: &Failure) -> JsonFailure {
        let event = match &failure.problem {
            Problem::Failed(event) => {
                serde_json::from_str::<Value>(&event.to_json()).unwrap_or(Value::Null)
            }
            Problem::Nondeterministic(_) => Value::Null,
        };
        JsonFailure {
            seed: failure.seed,
            kind: failure.problem.kind().to_string(),
            signature: failure.problem.signature(),
            problem: failure.problem.to_string(),
            event,
            tie_order: failure.settings.tie_order.clone(),
            replay: failure.replay.clone(),
        }
    }

    /// One failing seed: `seed`, `kind`, `signature`, `problem` (its text),
    /// `event` (the failure event as a trace line's JSON object, or `null`
    /// for nondeterminism), `tie_order` (exhaustive mode, or `null`) and
    /// `replay`.
    fn to_json(&self) -> Value {
        json!({
            "event": self.event,
            "kind": self.kind,
            "problem": self.problem,
            "replay": self.replay,
            "seed": self.seed,
            "signature": self.signature,
            "tie_order": self.tie_order,
        })
    }

    fn from_json(value: &Value) -> Result<JsonFailure, String> {
        let o = Obj::new(value, "an entry of `failures`")?;
        let tie_order = match o.get("tie_order")? {
            Value::Null => None,
            order => Some(
                order
                    .as_array()
                    .and_then(|a| {
                        a.iter()
                            .map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok()))
                            .collect()
                    })
                    .ok_or("`tie_order` must be a list of choices or null")?,
            ),
        };
        Ok(JsonFailure {
            seed: o.u64("seed")?,
            kind: o.str("kind")?.to_string(),
            signature: o.str("signature")?.to_string(),
            problem: o.str("problem")?.to_string(),
            event: o.get("event")?.clone(),
            tie_order,
            replay: o.str("replay")?.to_string(),
        })
    }
}

/// `options` as the report writes them (`seeds` and `shard` aside).
fn options_json(options: &ExploreOptions) -> Map<String, Value> {
    let o = &options.overrides;
    let value = json!({
        "exhaustive": options.exhaustive,
        "jitter": o.jitter_nanos.map(format_duration),
        "max_callbacks": o.max_callbacks,
        "max_events": o.max_events,
        "max_exhaustive": options.exhaustive.then_some(options.max_exhaustive),
        "max_iterations": o.max_iterations,
        "max_pending": o.max_pending,
        "python": o.python.map(|p| p.as_str()),
        "tie_break": o.tie_break.map(|t| t.as_str()),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A JSON object being read, for errors that name the missing key.
struct Obj<'a>(&'a Map<String, Value>, &'a str);

impl<'a> Obj<'a> {
    fn new(value: &'a Value, what: &'a str) -> Result<Obj<'a>, String> {
        value
            .as_object()
            .map(|map| Obj(map, what))
            .ok_or_else(|| format!("{what} is not a JSON object"))
    }

    fn get(&self, key: &str) -> Result<&'a Value, String> {
        self.0
            .get(key)
            .ok_or_else(|| format!("{} has no `{key}`", self.1))
    }

    fn typed<T>(
        &self,
        key: &str,
        what: &str,
        f: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<T, String> {
        f(self.get(key)?).ok_or_else(|| format!("`{key}` of {} must be {what}", self.1))
    }

    fn u64(&self, key: &str) -> Result<u64, String> {
        self.typed(key, "a non-negative integer", Value::as_u64)
    }

    fn optional_u64(&self, key: &str) -> Result<Option<u64>, String> {
        self.typed(key, "a non-negative integer or null", |v| match v {
            Value::Null => Some(None),
            v => v.as_u64().map(Some),
        })
    }

    fn u64s(&self, key: &str) -> Result<Vec<u64>, String> {
        self.typed(key, "a list of non-negative integers", |v| {
            v.as_array()?.iter().map(Value::as_u64).collect()
        })
    }

    fn str(&self, key: &str) -> Result<&'a str, String> {
        self.typed(key, "a string", Value::as_str)
    }

    fn bool(&self, key: &str) -> Result<bool, String> {
        self.typed(key, "true or false", Value::as_bool)
    }

    fn array(&self, key: &str) -> Result<&'a Vec<Value>, String> {
        self.typed(key, "a list", Value::as_array)
    }
}

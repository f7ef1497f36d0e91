//! Merging the JSON reports of parts of one exploration into the report of
//! the whole (`loopsim merge`): byte for byte the report that one
//! unsharded `explore` of the whole would have written.
//!
//! Reports merge when they explored the same `file` with the same options
//! (apart from `seeds` and `shard`) and their seeds fit together in one
//! of two ways:
//!
//! * **the shards of one range**: every report has the same range and a
//!   shard `K/N` of the same `N`, and each of `1/N` … `N/N` is there
//!   exactly once; the merge is the report of the range, unsharded;
//! * **ranges end to end**: every report has the same shard (or none) and
//!   the ranges, sorted, follow one another with neither gap nor overlap
//!   (`0..500` and `500..1000`); the merge is the report of their union,
//!   with that shard.
//!
//! Anything else (a shard twice, a shard missing, shards of different
//! counts, overlapping ranges, a gap, another file or option) is an error
//! naming the reports concerned, and nothing is merged: a merge that
//! silently dropped or counted twice some seeds would not be the report of
//! any run. How the parts of a report combine is in `json.rs`.

use super::json::JsonReport;
use super::report::TraceCount;
use super::seeds::{SeedRange, Shard};
use std::collections::BTreeMap;

/// Merges `reports` (each with a name for errors, e.g. its file's path)
/// into the report of the exploration they are parts of.
pub fn merge_reports(reports: &[(String, JsonReport)]) -> Result<JsonReport, String> {
    let Some((first_name, first)) = reports.first() else {
        return Err("no reports to merge".into());
    };
    for (name, report) in &reports[1..] {
        same_exploration((first_name, first), (name, report))?;
    }
    let (seeds, shard) = coverage(reports)?;
    let mut traces: BTreeMap<u64, TraceCount> = BTreeMap::new();
    let mut merged = JsonReport {
        seeds,
        shard,
        seeds_run: 0,
        runs: 0,
        traces: Vec::new(),
        failures: Vec::new(),
        incomplete: Vec::new(),
        first_passing: None,
        ..first.clone()
    };
    for (_, report) in reports {
        merged.seeds_run += report.seeds_run;
        merged.runs += report.runs;
        for t in &report.traces {
            traces
                .entry(t.hash)
                .and_modify(|mine| mine.add(t.runs, t.first_seed))
                .or_insert(*t);
        }
        merged.failures.extend(report.failures.iter().cloned());
        merged.incomplete.extend(&report.incomplete);
        merged.first_passing = match (merged.first_passing, report.first_passing) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    merged.traces = traces.into_values().collect();
    merged.failures.sort_by_key(|f| f.seed);
    merged.incomplete.sort_unstable();
    if let Some(w) = merged.failures.windows(2).find(|w| w[0].seed == w[1].seed) {
        return Err(format!(
            "seed {} fails in two reports: they overlap",
            w[0].seed
        ));
    }
    Ok(merged)
}

/// An error unless `a` and `b` explored the same file the same way.
fn same_exploration(a: (&String, &JsonReport), b: (&String, &JsonReport)) -> Result<(), String> {
    let ((a_name, a), (b_name, b)) = (a, b);
    if a.file != b.file {
        return Err(format!(
            "`{a_name}` explored `{}` and `{b_name}` explored `{}`: only the reports of one exploration merge",
            a.file, b.file
        ));
    }
    let keys = a.options.keys().chain(b.options.keys());
    if let Some(key) = keys
        .into_iter()
        .find(|k| a.options.get(*k) != b.options.get(*k))
    {
        let show = |r: &JsonReport| match r.options.get(key) {
            None | Some(serde_json::Value::Null) => "not given".to_string(),
            Some(v) => v.to_string(),
        };
        return Err(format!(
            "`{a_name}` explored with {key} {} and `{b_name}` with {key} {}: only the reports of one exploration merge",
            show(a),
            show(b)
        ));
    }
    Ok(())
}

/// The seeds the reports cover together, as one range and shard, or why
/// they do not fit together (module docs).
fn coverage(reports: &[(String, JsonReport)]) -> Result<(SeedRange, Option<Shard>), String> {
    let first = &reports[0].1;
    if reports.iter().all(|(_, r)| r.shard == first.shard) {
        return end_to_end(reports).map(|range| (range, first.shard));
    }
    let count = first.shard.map(|s| s.count);
    let shards_of_one_range = reports.iter().all(|(_, r)| {
        r.seeds == first.seeds && r.shard.map(|s| s.count) == count && count.is_some()
    });
    if !shards_of_one_range {
        let show = |(name, r): &(String, JsonReport)| {
            let shard = r.shard.map_or("unsharded".into(), |s| {
                format!("shard {}/{}", s.index, s.count)
            });
            format!("`{name}`: seeds {}, {shard}", r.seeds)
        };
        let all: Vec<String> = reports.iter().map(show).collect();
        return Err(format!(
            "mismatched shards ({}): reports merge when they are the shards 1/N..N/N of one range, \
             or ranges end to end with one shard",
            all.join("; ")
        ));
    }
    let count = count.unwrap_or(1);
    let mut by_index: BTreeMap<u64, &str> = BTreeMap::new();
    for (name, report) in reports {
        let index = report.shard.map_or(0, |s| s.index);
        if let Some(other) = by_index.insert(index, name) {
            return Err(format!(
                "`{other}` and `{name}` are both shard {index}/{count}: they overlap"
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard {} of seeds {} missing: the merge would not cover the range",
            missing.join(", "),
            first.seeds
        ));
    }
    Ok((first.seeds, None))
}

/// The union of the reports' ranges, when they follow one another.
fn end_to_end(reports: &[(String, JsonReport)]) -> Result<SeedRange, String> {
    let mut sorted: Vec<&(String, JsonReport)> = reports.iter().collect();
    sorted.sort_by_key(|(_, r)| (r.seeds.start, r.seeds.end));
    for pair in sorted.windows(2) {
        let ((a_name, a), (b_name, b)) = (pair[0], pair[1]);
        if b.seeds.start < a.seeds.end {
            return Err(format!(
                "`{a_name}` (seeds {}) and `{b_name}` (seeds {}) overlap",
                a.seeds, b.seeds
            ));
        }
        if b.seeds.start > a.seeds.end {
            return Err(format!(
                "seeds {}..{} are in none of the reports (`{a_name}` ends at {}, `{b_name}` starts at {})",
                a.seeds.end, b.seeds.start, a.seeds.end, b.seeds.start
            ));
        }
    }
    let (first, last) = (&sorted[0].1, &sorted[sorted.len() - 1].1);
    Ok(SeedRange::new(first.seeds.start, last.seeds.end))
}

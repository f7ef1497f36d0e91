//! Every shipped scenario's trace, snapshotted.
//!
//! A changed trace fails here: review it with `cargo insta review` and keep
//! the new snapshot only if the change is intended. Each run is also
//! checked for determinism and for fmt stability (formatting a scenario never
//! changes its trace).

use loopsim::scenario::{self, RunOptions};
use loopsim::trace::{first_divergence, render, Format};

fn trace_of(path: &std::path::Path) -> String {
    let (_, parsed) = scenario::read_and_parse(path, false).unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions::default();
    let outcome = scenario::run(&parsed, &options);
    let again = scenario::run(&parsed, &options);
    if let Some(divergence) = first_divergence(&outcome.trace, &again.trace) {
        panic!("{}: not deterministic: {divergence}", path.display());
    }
    let reformatted =
        scenario::parse("fmt", &scenario::print(&parsed)).expect("printed form parses");
    let after_fmt = scenario::run(&reformatted, &options);
    assert_eq!(
        outcome.trace,
        after_fmt.trace,
        "{}: fmt changed the trace",
        path.display()
    );
    let verdict = match &outcome.failure {
        None => "ok".to_string(),
        Some(failure) => format!("FAILED at {failure}"),
    };
    format!(
        "# {}\n# {verdict}\n{}",
        outcome.settings.flags(),
        render(&outcome.trace, Format::Text)
    )
}

#[test]
fn scenario_traces() {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::glob!("../scenarios", "*.scn", |path| {
            insta::assert_snapshot!(trace_of(path));
        });
    });
}

/// The shipped scenarios are what `loopsim fmt` prints, so a user who
/// copies one starts from the canonical form.
#[test]
fn shipped_scenarios_are_in_canonical_form() {
    let mut off = Vec::new();
    let mut dir: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "scn"))
        .collect();
    dir.sort();
    for path in dir {
        let (source, parsed) =
            scenario::read_and_parse(&path, false).unwrap_or_else(|e| panic!("{e}"));
        if scenario::print(&parsed) != source {
            off.push(path.display().to_string());
        }
    }
    assert!(
        off.is_empty(),
        "not in canonical form (run `cargo run -- fmt --write scenarios`): {off:?}"
    );
}

//! `explore` and `shrink`: searching seeds for failures, and cutting a
//! failing scenario down.

use super::args::{ExploreFlags, ReportFormat, RunFlags};
use super::{load, EXIT_FAILED, EXIT_INVALID};
use loopsim::explore::{ExploreOptions, SeedRange};
use loopsim::scenario;
use loopsim::shrink::Dependence;
use std::io::IsTerminal;
use std::path::Path;

/// `explore`: runs the seeds, prints the report (with a progress bar on a
/// terminal); exits 1 if any seed failed.
pub(crate) fn explore(file: &Path, flags: &ExploreFlags) -> u8 {
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let shard = match flags.shard() {
        Ok(shard) => shard,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    let default_seeds = if flags.exhaustive {
        SeedRange::new(0, 1)
    } else {
        SeedRange::default()
    };
    let options = ExploreOptions {
        seeds: flags.seeds.unwrap_or(default_seeds),
        overrides: flags.loop_flags.overrides(),
        jobs: flags.jobs,
        shard,
        exhaustive: flags.exhaustive,
        max_exhaustive: flags.max_exhaustive,
    };
    let workers = loopsim::explore::workers(&scenario, &options);
    if flags.jobs > workers {
        errln!(
            "loopsim: explore: {workers} workers, not {}: each may hold two traces of up to \
             max_events events, and all of them at most 2 GiB (a lower --max-events allows more)",
            flags.jobs
        );
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} seeds, {per_sec}, eta {eta}",
        );
        indicatif::ProgressBar::new(0)
            .with_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()))
    });
    let label = file.display().to_string();
    let report = loopsim::explore::explore(&scenario, &label, &options, |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let json = || format!("{}\n", report.to_json(&label, &options));
    if let Some(path) = &flags.report {
        if let Err(e) = std::fs::write(path, json()) {
            errln!("error: cannot write the report `{}`: {e}", path.display());
            return EXIT_INVALID;
        }
    }
    let text = match flags.format {
        ReportFormat::Text => report.render_listing(flags.list),
        ReportFormat::Json => json(),
    };
    out!("{text}");
    if report.failures.is_empty() {
        0
    } else {
        EXIT_FAILED
    }
}

/// `shrink`: writes the smallest scenario that fails as this one does.
pub(crate) fn shrink(file: &Path, flags: &RunFlags, output: &Path) -> u8 {
    let scenario = match load(file) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let shrunk = match loopsim::shrink::shrink_failure(&scenario, &flags.run_options()) {
        Ok(shrunk) => shrunk,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_INVALID;
        }
    };
    if let Err(e) = std::fs::write(output, scenario::print(&shrunk.scenario)) {
        errln!("error: cannot write `{}`: {e}", output.display());
        return EXIT_INVALID;
    }
    outln!(
        "shrunk {} from {} to {} statements",
        file.display(),
        shrunk.before,
        shrunk.after
    );
    let out = output.display();
    match &shrunk.dependence {
        Dependence::Always => {}
        Dependence::Seed(seed) => {
            errln!(
                "loopsim: still an ordering bug: `loopsim run {} --seed {seed}` passes",
                loopsim::explore::shell_quote(&out.to_string())
            )
        }
        Dependence::TieOrder(order) => errln!(
            "loopsim: still an ordering bug: `loopsim run {} --tie-order {}` passes",
            loopsim::explore::shell_quote(&out.to_string()),
            loopsim::tie_break::format_tie_order(order)
        ),
    }
    0
}

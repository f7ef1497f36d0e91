//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/`) through the
//! fuzz targets' checks, on stable, in plain `cargo test`.
//!
//! Every file goes through all three checks: each must hold for any bytes.
//! To regenerate the generated part of the corpus, run
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus`.

use loopsim::fuzz_support::{check_api, check_parse, check_schedule, decode, seed_input};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
}

fn files(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join(target))
        .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_every_check() {
    let mut failures = Vec::new();
    let mut count = 0;
    for target in ["parse", "schedule", "api"] {
        let files = files(target);
        assert!(
            files.len() >= 24,
            "fuzz/corpus/{target} has only {} files",
            files.len()
        );
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            count += 1;
            for (check, result) in [
                ("parse", check_parse(&bytes)),
                ("schedule", check_schedule(&bytes)),
                ("api", check_api(&bytes)),
            ] {
                if let Err(message) = result {
                    failures.push(format!("{} ({check}): {message}", path.display()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} corpus files failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn schedule_inputs_decode_to_replayable_scenarios() {
    for path in files("schedule").into_iter().take(8) {
        let decoded = decode(&std::fs::read(&path).unwrap());
        let scenario = loopsim::scenario::parse("decoded.scn", &decoded.scenario_text);
        assert!(
            scenario.is_ok(),
            "{}: decoded text does not parse",
            path.display()
        );
        assert!(decoded.flags.starts_with("--python "), "{}", decoded.flags);
    }
}

/// Writes the generated seed corpus of the `schedule` and `api` targets and
/// the `parse` corpus (the example scenarios and the malformed ones).
#[test]
#[ignore = "writes fuzz/corpus; run on purpose"]
fn write_seed_corpus() {
    let root = corpus_dir();
    for target in ["schedule", "api"] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for seed in 0..32u64 {
            let len = [16, 32, 64, 128, 256][seed as usize % 5];
            std::fs::write(
                dir.join(format!("seed-{seed:02}")),
                seed_input(seed + 1000 * (target == "api") as u64, len),
            )
            .unwrap();
        }
    }
    // Longer `api` inputs: their last bytes make primitives tasks
    // (`fuzz_support::SyncPart`), as in tests/api_sync.rs.
    for i in 0..8u64 {
        std::fs::write(
            root.join("api").join(format!("sync-{i:02}")),
            seed_input(10_000 + i, 900),
        )
        .unwrap();
    }
    let dir = root.join("parse");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for source in ["scenarios", "tests/malformed"] {
        for entry in std::fs::read_dir(manifest.join(source)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "scn") {
                let name = format!(
                    "{}-{}",
                    source.replace('/', "-"),
                    path.file_name().unwrap().to_string_lossy()
                );
                std::fs::copy(&path, dir.join(name)).unwrap();
            }
        }
    }
}

/// Found by the `api` target: cancelling a task in an await cycle recursed
/// through the tasks' waiters until the stack overflowed (CPython raises
/// `RecursionError` there; loopsim cuts the cycle).
#[test]
fn cancelling_a_task_in_an_await_cycle_ends() {
    let source = "\
task a:
    await b
task b:
    await a
callback cb:
    cancel a
main:
    create_task a
    create_task b
    call_later 1 cb
    run_forever
    check not done a
";
    let outcome = loopsim::fuzz_support::check_scenario(source, &Default::default()).unwrap();
    let text = loopsim::trace::render(&outcome.trace, loopsim::trace::Format::Text);
    assert!(text.contains("call name=cb"), "{text}");
}

//! The `api` fuzz target drives asyncio's primitives through the Rust API
//! (`fuzz_support::SyncPart`), checks its model of each after every call,
//! and fails when the loop is broken on purpose (`--features mutants`).
#![cfg(feature = "fuzz")]

use loopsim::fuzz_support::{check_api, seed_input, ApiProgram};

/// Inputs of the seeded stream long enough to hold primitives tasks.
fn input(i: u64) -> Vec<u8> {
    seed_input(10_000 + i, 900)
}

#[test]
fn seeded_inputs_drive_the_primitives_and_pass() {
    let mut with_tasks = 0;
    for i in 0..3000 {
        let data = input(i);
        if !ApiProgram::from_bytes(&data).sync.tasks.is_empty() {
            with_tasks += 1;
        }
        if let Err(failure) = check_api(&data) {
            panic!("input {i}: {failure}");
        }
    }
    assert!(
        with_tasks > 1500,
        "only {with_tasks} inputs had primitives tasks"
    );
}

#[cfg(feature = "mutants")]
mod mutants {
    use super::input;
    use loopsim::fuzz_support::check_api_with;
    use loopsim::mutant::Mutant;
    use loopsim::LoopConfig;

    /// The first of the seeded inputs whose check fails with `mutant` on,
    /// and how.
    fn first_failure(mutant: Mutant) -> Option<(u64, String)> {
        let config = LoopConfig {
            mutant: Some(mutant),
            ..LoopConfig::default()
        };
        (0..3000).find_map(|i| {
            check_api_with(&input(i), config.clone())
                .err()
                .map(|failure| (i, failure.lines().next().unwrap_or("").to_string()))
        })
    }

    #[test]
    fn each_primitive_mutant_fails_the_target() {
        let mut report = Vec::new();
        for mutant in Mutant::SYNC {
            let (i, how) = first_failure(mutant)
                .unwrap_or_else(|| panic!("{mutant:?} passed 3000 inputs of the api target"));
            report.push(format!("{mutant:?}: input {i}: {how}"));
        }
        eprintln!("{}", report.join("\n"));
    }

    #[test]
    fn a_queue_out_of_order_fails_the_model_where_no_invariant_of_the_loop_looks() {
        let (i, how) = first_failure(Mutant::QueueGetsNewest)
            .expect("QueueGetsNewest passed 3000 inputs of the api target");
        eprintln!("QueueGetsNewest: input {i}: {how}");
        assert!(how.contains("invariant=api_model"), "{how}");
        assert!(how.contains("Queue: got"), "{how}");
    }
}

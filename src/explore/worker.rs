//! One worker thread: take seed indices from the shared counter until none
//! is left, run each seed twice (or every tie order of it), and keep what a
//! report needs.

use super::counts::TraceCounts;
use super::hash::trace_hash;
use super::seeds::Seeds;
use super::{ExploreOptions, Failure, Nondeterminism, Problem};
use crate::scenario::{Outcome, Overrides, Prepared, RunOptions, Settings};
use crate::tie_break::TieDecision;
use crate::trace::first_divergence;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the workers share.
pub(super) struct Work<'a, P> {
    pub(super) seeds: Seeds,
    pub(super) options: &'a ExploreOptions,
    pub(super) file_label: &'a str,
    pub(super) next: AtomicU64,
    pub(super) done: AtomicU64,
    pub(super) progress: &'a P,
}

/// One worker's findings. Events hold `Rc`s and cannot leave a worker
/// thread, so failures are sent as what reproduces them ([`Found`]).
#[derive(Default)]
pub(super) struct Partial {
    pub(super) seeds_run: u64,
    pub(super) runs: u64,
    /// Each distinct trace's hash: how many runs gave it, and the lowest seed.
    pub(super) traces: TraceCounts,
    pub(super) failures: Vec<Found>,
    pub(super) incomplete: Vec<u64>,
}

/// A failing run, as a worker sends it: its seed and tie order, and the
/// divergence if it was nondeterministic. The calling thread runs a failing
/// seed again to get its failure event (runs are deterministic, which the
/// worker has just checked).
pub(super) struct Found {
    pub(super) seed: u64,
    pub(super) tie_order: Option<Vec<u32>>,
    pub(super) nondeterminism: Option<Nondeterminism>,
}

impl<P: Fn(u64, u64) + Sync> Work<'_, P> {
    /// Takes seeds until none is left.
    pub(super) fn run(&self, scenario: &Prepared<'_>) -> Partial {
        let mut partial = Partial::default();
        while let Some(seed) = self.seeds.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            if self.options.exhaustive {
                self.every_order(scenario, seed, &mut partial);
            } else {
                let (_, hash, problem) = self.run_checked(scenario, seed, None);
                partial.runs += 1;
                partial.traces.add(hash, seed);
                if let Some(problem) = problem {
                    partial.failures.push(Found::new(seed, None, problem));
                }
            }
            partial.seeds_run += 1;
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            (self.progress)(done, self.seeds.len);
        }
        partial
    }

    /// Runs `seed` twice (with `tie_order`, if any) and judges it.
    fn run_checked(
        &self,
        scenario: &Prepared<'_>,
        seed: u64,
        tie_order: Option<Vec<u32>>,
    ) -> (Outcome, u64, Option<Problem>) {
        let overrides = Overrides {
            seed: Some(seed),
            tie_order,
            ..self.options.overrides.clone()
        };
        let options = RunOptions {
            overrides,
            ..RunOptions::default()
        };
        let first = scenario.run(&options);
        let second = scenario.run(&options);
        let hash = trace_hash(&first.trace);
        let problem = match first_divergence(&first.trace, &second.trace) {
            Some(divergence) => Some(Problem::Nondeterministic(Nondeterminism::new(&divergence))),
            None => first.failure.clone().map(Problem::Failed),
        };
        (first, hash, problem)
    }

    /// Exhaustive mode: a depth-first search over the tie decisions of `seed`.
    fn every_order(&self, scenario: &Prepared<'_>, seed: u64, partial: &mut Partial) {
        let mut prefix: Vec<u32> = Vec::new();
        let mut failed = false;
        for run in 1.. {
            let (outcome, hash, problem) = self.run_checked(scenario, seed, Some(prefix.clone()));
            partial.runs += 1;
            partial.traces.add(hash, seed);
            let decisions = &outcome.tie_decisions;
            if let (Some(problem), false) = (problem, failed) {
                failed = true;
                let chosen: Vec<u32> = decisions.iter().map(|d| d.chosen).collect();
                partial.failures.push(Found::new(
                    seed,
                    (!chosen.is_empty()).then_some(chosen),
                    problem,
                ));
            }
            match next_order(decisions) {
                None => return,
                Some(_) if run >= self.options.max_exhaustive => {
                    partial.incomplete.push(seed);
                    return;
                }
                Some(next) => prefix = next,
            }
        }
    }

    /// The failure `found` describes, on the calling thread.
    pub(super) fn rebuild(&self, scenario: &Prepared<'_>, found: Found) -> Failure {
        let (outcome, _, problem) = self.run_checked(scenario, found.seed, found.tie_order.clone());
        let settings = Settings {
            tie_order: found.tie_order,
            ..outcome.settings
        };
        let problem = found
            .nondeterminism
            .map(Problem::Nondeterministic)
            .or(problem)
            .unwrap_or_else(|| {
                Problem::Nondeterministic(Nondeterminism {
                    index: 0,
                    iteration: 0,
                    time: 0,
                    detail: "the failure did not happen again when the seed was rerun".into(),
                })
            });
        self.failure(found.seed, settings, problem)
    }

    fn failure(&self, seed: u64, settings: Settings, problem: Problem) -> Failure {
        let mut replay = format!(
            "loopsim replay {} {}",
            super::shell_quote(self.file_label),
            settings.flags()
        );
        if matches!(problem, Problem::Nondeterministic(_)) {
            replay.push_str(" --check-determinism");
        }
        Failure {
            seed,
            settings,
            problem,
            replay,
        }
    }
}

/// The depth-first successor of a run's decisions: the choices up to the
/// last decision with an untried alternative, that one incremented.
/// `None` when every alternative was tried.
pub fn next_order(decisions: &[TieDecision]) -> Option<Vec<u32>> {
    let last = decisions.iter().rposition(|d| d.chosen + 1 < d.of)?;
    let mut next: Vec<u32> = decisions[..last].iter().map(|d| d.chosen).collect();
    next.push(decisions[last].chosen + 1);
    Some(next)
}

impl Found {
    fn new(seed: u64, tie_order: Option<Vec<u32>>, problem: Problem) -> Found {
        let nondeterminism = match problem {
            Problem::Nondeterministic(n) => Some(n),
            Problem::Failed(_) => None,
        };
        Found {
            seed,
            tie_order,
            nondeterminism,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_first_successor() {
        let d = |chosen, of| TieDecision { chosen, of };
        assert_eq!(next_order(&[d(0, 3), d(0, 2)]), Some(vec![0, 1]));
        assert_eq!(next_order(&[d(0, 3), d(1, 2)]), Some(vec![1]));
        assert_eq!(next_order(&[d(2, 3), d(1, 2)]), None);
        assert_eq!(next_order(&[]), None);
    }
}

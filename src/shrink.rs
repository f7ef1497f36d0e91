//! Shrinking: the smallest scenario that still shows the same bug.
//!
//! Once exploration finds a failing seed, the scenario that shows it is
//! often larger than the bug. [`shrink`] removes what the failure does not
//! need, greedily: whole blocks (when nothing refers to them any more), then
//! single statements, keeping each removal after which the run still fails
//! *the same way*: the same event kind with the same `check` condition text
//! or invariant ([`same_failure`]). It repeats until no single removal
//! keeps the failure.
//!
//! A failure that depends on order must stay one. If some seed of a small
//! sample ([`SEED_SAMPLE`]) passes, or, failing that, some order of the
//! failing seed's tied timers passes, the bug is an ordering bug; removing
//! the race itself (say, the timer that sets what the check looks at) would
//! give a file that fails for every seed and no longer shows it. So
//! [`shrink_failure`] keeps a removal only if the smaller file still passes
//! for some seed of the sample (or some tie order), as [`Dependence`] says.
//!
//! Every candidate is printed ([`print()`]) and parsed again, so the result is
//! always a valid file, and the search is deterministic: candidates are
//! tried in a fixed order (blocks last to first, then statements last to
//! first) and each run is deterministic.
//!
//! ```
//! use loopsim::scenario::{parse, print, RunOptions};
//! use loopsim::shrink::{shrink_failure, Dependence};
//!
//! let source = "callback noise:\n    log noise\n\
//!     callback bad:\n    check time == 5\n\
//!     main:\n    log start\n    call_soon noise\n    call_later 1 bad\n    run_forever\n";
//! let scenario = parse("big.scn", source).unwrap();
//! let shrunk = shrink_failure(&scenario, &RunOptions::default()).unwrap();
//! assert_eq!((shrunk.before, shrunk.after), (8, 4));
//! assert_eq!(shrunk.dependence, Dependence::Always); // no order passes
//! assert_eq!(print(&shrunk.scenario), "seed 0\n\ncallback bad:\n    check time == 5\n\nmain:\n    call_later 1 bad\n    run_forever\n");
//! ```

use crate::explore::next_order;
use crate::python::Python;
use crate::scenario::ast::{Body, Comments, DurLit, Header, Scenario, Setting, Trivia};
use crate::scenario::{parse, print, run, Outcome, Overrides, RunOptions, Settings};
use crate::tie_break::TieBreak;
use crate::time::format_duration;
use crate::trace::{Event, EventKind};
use crate::{
    DEFAULT_MAX_CALLBACKS, DEFAULT_MAX_EVENTS, DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_PENDING,
};

/// The seeds `0..SEED_SAMPLE` are tried to tell whether a failure depends
/// on the seed.
pub const SEED_SAMPLE: u64 = 32;

/// At most this many orders of tied timers are tried to tell whether a
/// failure depends on the tie order.
pub const MAX_TIE_ORDERS: usize = 256;

/// How a failure depends on order: what shrinking must keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dependence {
    /// Every seed of the sample and every tie order tried fails: any
    /// smaller file that fails the same way will do.
    Always,
    /// The file passes with this seed (of `0..SEED_SAMPLE`): an ordering
    /// bug the seed decides.
    Seed(u64),
    /// Every seed of the sample fails, but the failing seed passes with
    /// this order of its tied timers (`--tie-order`).
    TieOrder(Vec<u32>),
}

/// A shrunk scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The smallest scenario found.
    pub scenario: Scenario,
    /// [`statement_count`] before.
    pub before: usize,
    /// [`statement_count`] after.
    pub after: usize,
    /// Candidate runs made.
    pub runs: usize,
    /// How the shrunk scenario's failure depends on order (what passes),
    /// as the original's did.
    pub dependence: Dependence,
}

/// The statements of a scenario: every statement of every body (`main`'s
/// included) plus one per `callback`, `task` or `future` block.
pub fn statement_count(scenario: &Scenario) -> usize {
    let bodies: usize = scenario
        .blocks
        .iter()
        .filter_map(|b| b.kind.body())
        .map(|b| b.stmts.len())
        .sum();
    scenario.blocks.len() + bodies + scenario.main.body.stmts.len()
}

/// Whether two failure events are the same failure: the same kind, and for
/// `check_failed` the same condition, for `invariant_violated` the same
/// invariant. Times, iterations and messages may differ.
pub fn same_failure(a: &Event, b: &Event) -> bool {
    match (&a.kind, &b.kind) {
        (EventKind::CheckFailed { cond: x }, EventKind::CheckFailed { cond: y }) => x == y,
        (
            EventKind::InvariantViolated { invariant: x, .. },
            EventKind::InvariantViolated { invariant: y, .. },
        ) => x == y,
        (x, y) => x.name() == y.name(),
    }
}

/// How `scenario`'s run under `options` depends on order: a seed of the
/// sample that passes (`hint` first, if given), else a tie order of the
/// run's own seed that passes, else [`Dependence::Always`].
pub fn dependence(scenario: &Scenario, options: &RunOptions, hint: Option<u64>) -> Dependence {
    match passing_seed(scenario, options, hint) {
        Some(seed) => Dependence::Seed(seed),
        None => {
            passing_tie_order(scenario, options).map_or(Dependence::Always, Dependence::TieOrder)
        }
    }
}

/// Whether `scenario` still depends on order as `wanted` says (a seed of
/// the sample passes, or a tie order does); `Some` with the new witness.
fn keeps(scenario: &Scenario, options: &RunOptions, wanted: &Dependence) -> Option<Dependence> {
    match wanted {
        Dependence::Always => Some(Dependence::Always),
        Dependence::Seed(hint) => {
            passing_seed(scenario, options, Some(*hint)).map(Dependence::Seed)
        }
        Dependence::TieOrder(_) => passing_tie_order(scenario, options).map(Dependence::TieOrder),
    }
}

/// A seed of `0..SEED_SAMPLE` (`hint` tried first) with which the run passes.
fn passing_seed(scenario: &Scenario, options: &RunOptions, hint: Option<u64>) -> Option<u64> {
    let with_seed = |seed: u64| RunOptions {
        overrides: Overrides {
            seed: Some(seed),
            tie_order: None,
            ..options.overrides.clone()
        },
        record_trace: false,
        ..options.clone()
    };
    hint.into_iter()
        .chain((0..SEED_SAMPLE).filter(|&s| Some(s) != hint))
        .find(|&seed| !run(scenario, &with_seed(seed)).failed())
}

/// A tie order of the run's seed with which it passes: a depth-first
/// search over the orders, as `explore --exhaustive` makes, of at most
/// [`MAX_TIE_ORDERS`] runs.
fn passing_tie_order(scenario: &Scenario, options: &RunOptions) -> Option<Vec<u32>> {
    let mut order: Vec<u32> = Vec::new();
    for _ in 0..MAX_TIE_ORDERS {
        let with_order = RunOptions {
            overrides: Overrides {
                tie_order: Some(order.clone()),
                ..options.overrides.clone()
            },
            record_trace: false,
            ..options.clone()
        };
        let outcome = run(scenario, &with_order);
        if !outcome.failed() {
            return Some(outcome.tie_decisions.iter().map(|d| d.chosen).collect());
        }
        order = next_order(&outcome.tie_decisions)?;
    }
    None
}

/// Shrinks `scenario` while it fails as it does now under `options`
/// (compared with [`same_failure`]) and keeps its [`dependence`] on order.
/// `Err` when it does not fail.
pub fn shrink_failure(scenario: &Scenario, options: &RunOptions) -> Result<Shrunk, String> {
    let outcome = run(scenario, options);
    let Some(failure) = outcome.failure else {
        return Err(format!(
            "the scenario does not fail with {}",
            outcome.settings.flags()
        ));
    };
    let mut witness = dependence(scenario, options, None);
    let mut shrunk = shrink(scenario, options, |candidate: &Scenario, o: &Outcome| {
        if !o
            .failure
            .as_ref()
            .is_some_and(|f| same_failure(&failure, f))
        {
            return false;
        }
        match keeps(candidate, options, &witness) {
            Some(found) => {
                witness = found;
                true
            }
            None => false,
        }
    });
    shrunk.dependence = keeps(&shrunk.scenario, options, &witness).unwrap_or(witness);
    Ok(shrunk)
}

/// Greedily removes blocks and statements from `scenario` while `keep`
/// holds for the candidate and its run under `options`.
///
/// The result carries, in its header, the settings the run used (seed,
/// policy, jitter, budget), so running the file alone fails the same way;
/// comments are dropped. A tie-order script (`options.overrides.tie_order`)
/// cannot be written in a header and stays an option of the run. Its
/// `dependence` is [`Dependence::Always`]: [`shrink_failure`] says more.
pub fn shrink(
    scenario: &Scenario,
    options: &RunOptions,
    mut keep: impl FnMut(&Scenario, &Outcome) -> bool,
) -> Shrunk {
    let before = statement_count(scenario);
    let mut current = scenario.clone();
    strip_comments(&mut current);
    current.header = header_for(
        &Settings::resolve(scenario, &options.overrides),
        &scenario.header,
    );
    let mut runs = 0;
    let mut try_candidate = |candidate: Scenario| -> Option<Scenario> {
        let parsed = parse("shrunk.scn", &print(&candidate)).ok()?;
        runs += 1;
        let outcome = run(&parsed, options);
        keep(&parsed, &outcome).then_some(parsed)
    };
    // The starting point must itself fail (it may not, if the settings
    // could not all be written in the header): otherwise nothing is removed.
    if let Some(start) = try_candidate(current.clone()) {
        current = start;
        while let Some(smaller) = removals(&current).into_iter().find_map(&mut try_candidate) {
            current = smaller;
        }
    } else {
        current = scenario.clone();
    }
    Shrunk {
        after: statement_count(&current),
        scenario: current,
        before,
        runs,
        dependence: Dependence::Always,
    }
}

/// Every scenario one removal smaller than `s`, in the order they are tried.
fn removals(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    for i in (0..s.blocks.len()).rev() {
        let mut c = s.clone();
        c.blocks.remove(i);
        out.push(c);
    }
    for i in (0..s.main.body.stmts.len()).rev() {
        let mut c = s.clone();
        c.main.body.stmts.remove(i);
        out.push(c);
    }
    for b in (0..s.blocks.len()).rev() {
        let n = s.blocks[b].kind.body().map_or(0, |body| body.stmts.len());
        for i in (0..n).rev() {
            let mut c = s.clone();
            if let Some(body) = body_mut(&mut c, b) {
                body.stmts.remove(i);
            }
            out.push(c);
        }
    }
    out
}

fn body_mut(s: &mut Scenario, block: usize) -> Option<&mut Body> {
    use crate::scenario::ast::BlockKind;
    match &mut s.blocks[block].kind {
        BlockKind::Callback(body) | BlockKind::Task(body) => Some(body),
        BlockKind::Future | BlockKind::Primitive(_) => None,
    }
}

/// `settings` as header lines (the defaults left out; `start_time` kept).
fn header_for(settings: &Settings, original: &Header) -> Header {
    fn setting<T>(value: T) -> Setting<T> {
        Setting {
            value,
            span: Default::default(),
            trivia: Trivia::default(),
        }
    }
    let lit = |nanos: i64| DurLit {
        nanos,
        text: format_duration(nanos).into(),
        span: Default::default(),
    };
    Header {
        python: (original.python.is_some() || settings.python != Python::default())
            .then(|| setting(settings.python)),
        seed: Some(setting(settings.seed)),
        tie_break: (settings.tie_break != TieBreak::Fifo).then(|| setting(settings.tie_break)),
        jitter: (settings.jitter_nanos != 0).then(|| setting(lit(settings.jitter_nanos))),
        start_time: original.start_time.clone().map(without_comments),
        max_iterations: (settings.max_iterations != DEFAULT_MAX_ITERATIONS)
            .then(|| setting(settings.max_iterations)),
        max_events: (settings.max_events != DEFAULT_MAX_EVENTS)
            .then(|| setting(settings.max_events)),
        max_callbacks: (settings.max_callbacks != DEFAULT_MAX_CALLBACKS)
            .then(|| setting(settings.max_callbacks)),
        max_pending: (settings.max_pending != DEFAULT_MAX_PENDING)
            .then(|| setting(settings.max_pending)),
        expect: original.expect.clone().map(without_comments),
    }
}

/// A setting kept from the original header, without its comments (which
/// name the original's comment text, not the shrunk scenario's).
fn without_comments<T>(setting: Setting<T>) -> Setting<T> {
    Setting {
        trivia: Trivia::default(),
        ..setting
    }
}

fn strip_comments(s: &mut Scenario) {
    fn body(b: &mut Body) {
        b.trailing_comments = Comments::default();
        for stmt in &mut b.stmts {
            stmt.trivia = Trivia::default();
        }
    }
    s.file_comments = Comments::default();
    s.trailing_comments = Comments::default();
    s.comment_text.clear();
    s.main.trivia = Trivia::default();
    body(&mut s.main.body);
    for i in 0..s.blocks.len() {
        s.blocks[i].trivia = Trivia::default();
        if let Some(b) = body_mut(s, i) {
            body(b);
        }
    }
    let h = &mut s.header;
    let clear = |t: &mut Trivia| *t = Trivia::default();
    h.python.iter_mut().for_each(|x| clear(&mut x.trivia));
    h.seed.iter_mut().for_each(|x| clear(&mut x.trivia));
    h.tie_break.iter_mut().for_each(|x| clear(&mut x.trivia));
    h.jitter.iter_mut().for_each(|x| clear(&mut x.trivia));
    h.start_time.iter_mut().for_each(|x| clear(&mut x.trivia));
    for budget in [
        &mut h.max_iterations,
        &mut h.max_events,
        &mut h.max_callbacks,
        &mut h.max_pending,
    ] {
        budget.iter_mut().for_each(|x| clear(&mut x.trivia));
    }
    h.expect.iter_mut().for_each(|x| clear(&mut x.trivia));
}

//! Shrinking keeps the bug: the same failing check, and, for an ordering
//! bug, an order that passes.

use loopsim::scenario::{self, parse, print, Overrides, RunOptions, Scenario};
use loopsim::shrink::{same_failure, shrink_failure, Dependence, SEED_SAMPLE};
use loopsim::TieBreak;

fn load(path: &str) -> Scenario {
    let source = std::fs::read_to_string(path).unwrap();
    parse(path, &source).unwrap()
}

fn with(overrides: Overrides) -> RunOptions {
    RunOptions {
        overrides,
        ..RunOptions::default()
    }
}

fn seed(seed: u64) -> RunOptions {
    with(Overrides {
        seed: Some(seed),
        ..Overrides::default()
    })
}

/// `tests/explore/big.scn` hides an ordering bug (`second` assumes `first`
/// ran; under `random` ties that depends on the seed) in unrelated work.
/// Removing `call_later 1 first` would still fail `check done first_ran`,
/// for every seed: the shrinker must not take that removal.
#[test]
fn an_ordering_bug_shrinks_to_the_race_not_to_a_certain_failure() {
    let big = load("tests/explore/big.scn");
    let options = with(Overrides {
        seed: Some(4),
        tie_break: Some(TieBreak::Random),
        ..Overrides::default()
    });
    let failure = scenario::run(&big, &options).failure.expect("seed 4 fails");
    let shrunk = shrink_failure(&big, &options).unwrap();
    assert_eq!(
        print(&shrunk.scenario),
        "seed 4\ntie_break random\n\nfuture first_ran\n\n\
         callback first:\n    set_result first_ran 1\n\n\
         callback second:\n    check done first_ran\n\n\
         main:\n    call_later 1 first\n    call_later 1 second\n    run_forever\n"
    );
    let small = parse("small.scn", &print(&shrunk.scenario)).unwrap();
    // The same check fails, with the file's own settings ...
    let again = scenario::run(&small, &RunOptions::default())
        .failure
        .expect("the shrunk file fails");
    assert!(same_failure(&failure, &again), "{failure} vs {again}");
    // ... and some seed still passes: it is still an ordering bug.
    let Dependence::Seed(passing) = shrunk.dependence else {
        panic!("{:?}", shrunk.dependence)
    };
    assert!(passing < SEED_SAMPLE);
    assert!(!scenario::run(&small, &seed(passing)).failed());
    let outcomes: Vec<bool> = (0..SEED_SAMPLE)
        .map(|s| scenario::run(&small, &seed(s)).failed())
        .collect();
    assert!(outcomes.contains(&true) && outcomes.contains(&false));
}

/// Under `fifo`, `second` (scheduled first) always runs first, so every
/// seed fails; only another order of the two tied timers passes. The
/// shrunk file keeps both timers, and that order still passes.
#[test]
fn a_bug_only_a_tie_order_avoids_keeps_both_tied_timers() {
    let source = "future first_ran\n\
        callback first:\n    log first\n    set_result first_ran 1\n\
        callback second:\n    log second\n    check done first_ran\n\
        callback noise:\n    log noise\n\
        main:\n    call_soon noise\n    call_later 1 second\n    call_later 1 first\n    run_forever\n    log end\n";
    let scenario = parse("fifo.scn", source).unwrap();
    let shrunk = shrink_failure(&scenario, &RunOptions::default()).unwrap();
    assert_eq!(
        print(&shrunk.scenario),
        "seed 0\n\nfuture first_ran\n\n\
         callback first:\n    set_result first_ran 1\n\n\
         callback second:\n    check done first_ran\n\n\
         main:\n    call_later 1 second\n    call_later 1 first\n    run_forever\n"
    );
    assert_eq!(shrunk.dependence, Dependence::TieOrder(vec![1]));
    let swapped = with(Overrides {
        tie_order: Some(vec![1]),
        ..Overrides::default()
    });
    assert!(!scenario::run(&shrunk.scenario, &swapped).failed());
    assert!(scenario::run(&shrunk.scenario, &RunOptions::default()).failed());
}

/// A failure no order avoids shrinks freely, to the failing check alone.
#[test]
fn a_failure_every_order_shows_shrinks_to_the_check() {
    let source = "future f\n\
        callback a:\n    set_result f 1\n\
        callback b:\n    log b\n\
        main:\n    call_later 1 a\n    call_later 1 b\n    run_forever\n    check result f == 2\n";
    let scenario = parse("always.scn", source).unwrap();
    let options = with(Overrides {
        tie_break: Some(TieBreak::Random),
        ..Overrides::default()
    });
    let shrunk = shrink_failure(&scenario, &options).unwrap();
    assert_eq!(shrunk.dependence, Dependence::Always);
    assert_eq!(
        print(&shrunk.scenario),
        "seed 0\ntie_break random\n\nfuture f\n\nmain:\n    check result f == 2\n"
    );
}

/// The shrinker never trades the failing check for another one: removing
/// `check done f` would leave a file that still fails, at the other check.
#[test]
fn the_shrunk_file_fails_at_the_same_check() {
    let source = "future f\n\
        main:\n    log start\n    check done f\n    check result f == 2\n";
    let scenario = parse("two_checks.scn", source).unwrap();
    let shrunk = shrink_failure(&scenario, &RunOptions::default()).unwrap();
    let outcome = scenario::run(&shrunk.scenario, &RunOptions::default());
    assert_eq!(
        outcome.failure.unwrap().kind.to_text(),
        "check_failed cond=\"done f\""
    );
    assert_eq!(
        print(&shrunk.scenario),
        "seed 0\n\nfuture f\n\nmain:\n    check done f\n"
    );
}

/// A scenario parsed with its comments (as `parse` keeps them) shrinks
/// without them, even those on the `expect` and `start_time` lines the
/// shrunk header keeps: the result prints, and says nothing its file did
/// not.
#[test]
fn a_scenario_with_comments_shrinks_to_one_without_them() {
    let source = "# the file's comment\n\n\
        # why it fails\nexpect fail  # on purpose\n\
        start_time 5  # a late start\n\n\
        callback bad:\n    # the bug\n    check time == 7\n\n\
        main:\n    log noise  # not needed\n    call_later 1 bad\n    run_forever\n";
    let original = parse("commented.scn", source).unwrap();
    assert!(!original.comment_text.is_empty());
    let shrunk = shrink_failure(&original, &RunOptions::default()).unwrap();
    let printed = print(&shrunk.scenario);
    assert!(!printed.contains('#'), "{printed}");
    assert!(
        printed.contains("\nstart_time 5\nexpect fail\n"),
        "{printed}"
    );
    assert!(!printed.contains("log noise"), "{printed}");
}

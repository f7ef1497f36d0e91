//! Seed exploration, shrinking and the harness, through the library and the CLI.

use loopsim::explore::{explore, ExploreOptions, Problem, Report, SeedRange, Shard};
use loopsim::scenario::{self, parse, Overrides, RunOptions, Scenario};
use loopsim::shrink::{same_failure, shrink_failure, statement_count};
use loopsim::trace::{render, Format};
use loopsim::TieBreak;
use std::process::{Command, Output};

const ORDER: &str = "tests/explore/order.scn";
const BIG: &str = "tests/explore/big.scn";
const TEN: &str = "tests/explore/ten.scn";

fn load(path: &str) -> Scenario {
    let source = std::fs::read_to_string(path).unwrap();
    parse(path, &source).unwrap()
}

fn loopsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn sweep(path: &str, seeds: SeedRange, jobs: usize, shard: Option<Shard>) -> Report {
    let options = ExploreOptions {
        seeds,
        jobs,
        shard,
        ..ExploreOptions::default()
    };
    explore(&load(path), path, &options, |_, _| {})
}

/// Every `seed S: EVENT` / `reproduce: COMMAND` pair the CLI printed.
fn reported_failures(stdout: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = stdout.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("seed ") && w[1].starts_with("reproduce: "))
        .map(|w| {
            let problem = w[0].split_once(": ").unwrap().1.to_string();
            (problem, w[1].trim_start_matches("reproduce: ").to_string())
        })
        .collect()
}

/// Runs a `loopsim replay …` command line and checks that it reports
/// exactly `problem` and the same command again.
fn assert_replays(problem: &str, command: &str) {
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(&args[..2], ["loopsim", "replay"]);
    let out = loopsim(&args[1..]);
    assert_eq!(out.status.code(), Some(1), "{command}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("\nloopsim: failed: {problem}\n")),
        "{command}:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("\nreproduce: {command}\n")),
        "{command}:\n{stderr}"
    );
}

#[test]
fn explore_finds_the_failing_seeds_and_each_replay_reproduces_its_failure() {
    let out = loopsim(&["explore", ORDER, "--seeds", "20"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let failures = reported_failures(&stdout);
    assert!(stdout.starts_with(&format!(
        "explored 20 seeds: 2 distinct traces, {} failing\n",
        failures.len()
    )));
    assert!(!failures.is_empty() && failures.len() < 20, "{stdout}");
    for (problem, command) in &failures {
        assert_eq!(problem, "#1 t=1.0 check_failed cond=\"done first_ran\"");
        assert_replays(problem, command);
    }
    // The library's report says the same as the CLI.
    let report = sweep(ORDER, SeedRange::new(0, 20), 1, None);
    assert_eq!(report.render(), stdout);
    for failure in &report.failures {
        let options = RunOptions {
            overrides: Overrides {
                seed: Some(failure.seed),
                ..Overrides::default()
            },
            ..RunOptions::default()
        };
        let again = scenario::run(&load(ORDER), &options);
        assert_eq!(
            Problem::Failed(again.failure.clone().unwrap()),
            failure.problem
        );
        // The replay command prints this very trace, byte for byte.
        let args: Vec<&str> = failure.replay.split_whitespace().skip(1).collect();
        let replayed = loopsim(&args);
        assert_eq!(text(&replayed.stdout), render(&again.trace, Format::Text));
    }
}

#[test]
fn many_failing_seeds_are_grouped_by_failure_and_listed_up_to_a_bound() {
    // Under a budget of 6 passes, half the seeds run out of it and the
    // other half fail the check first: two distinct failures, 40 seeds.
    let args = ["explore", BIG, "--seeds", "40", "--max-iterations", "6"];
    let out = loopsim(&args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let replay = |seed: u32| {
        format!("loopsim replay {BIG} --python 3.12 --seed {seed} --tie-break random --max-iterations 6")
    };
    let head = format!(
        "explored 40 seeds: 2 distinct traces, 40 failing\n\
         2 distinct failures:\n  \
         20 seeds: budget reason=iterations\n    first, seed 0: {}\n  \
         20 seeds: check_failed cond=\"done first_ran\"\n    first, seed 2: {}\n",
        replay(0),
        replay(2)
    );
    assert!(stdout.starts_with(&head), "{stdout}");
    // The first 20 failing seeds, in seed order, then what was left out.
    let listed = reported_failures(&stdout);
    assert_eq!(listed.len(), 20);
    assert_eq!(
        listed[0],
        ("#6 t=1.0 budget reason=iterations".to_string(), replay(0))
    );
    assert_eq!(
        listed[2],
        (
            "#6 t=1.0 check_failed cond=\"done first_ran\"".to_string(),
            replay(2)
        )
    );
    assert!(stdout.ends_with("\n... and 20 more failing seeds (`--list all` lists every one)\n"));
    // Each group's first seed replays its failure.
    for (problem, command) in [&listed[0], &listed[2]] {
        assert_replays(problem, command);
    }
    // `--list all` lists all 40; `--list 0` keeps only the groups.
    let all = text(&loopsim(&[&args[..], &["--list", "all"]].concat()).stdout);
    assert_eq!(reported_failures(&all).len(), 40);
    assert!(
        all.starts_with(&head) && !all.contains("more failing"),
        "{all}"
    );
    let none = text(&loopsim(&[&args[..], &["--list", "0"]].concat()).stdout);
    assert!(none.starts_with(&head) && reported_failures(&none).is_empty());
    assert!(none.ends_with("\n... and 40 more failing seeds (`--list all` lists every one)\n"));
    // The library gives the same groups.
    let report = explore(
        &load(BIG),
        BIG,
        &ExploreOptions {
            seeds: SeedRange::new(0, 40),
            overrides: Overrides {
                max_iterations: Some(6),
                ..Overrides::default()
            },
            ..ExploreOptions::default()
        },
        |_, _| {},
    );
    let groups: Vec<_> = report
        .distinct_failures()
        .into_iter()
        .map(|g| (g.signature, g.seeds, g.first_seed))
        .collect();
    assert_eq!(
        groups,
        [
            ("budget reason=iterations".to_string(), 20, 0),
            ("check_failed cond=\"done first_ran\"".to_string(), 20, 2)
        ]
    );
    assert_eq!(report.render(), stdout);
    // A bad bound is a usage error.
    let bad = loopsim(&[&args[..], &["--list", "some"]].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("expected a number of seeds or `all`, found `some`"));
}

#[test]
fn replay_commands_carry_every_option() {
    for flags in [
        &["--jitter", "1ms", "--max-iterations", "50"][..],
        &["--max-iterations", "3"],
    ] {
        let mut args = vec!["explore", BIG, "--seeds", "8"];
        args.extend_from_slice(flags);
        let stdout = text(&loopsim(&args).stdout);
        let failures = reported_failures(&stdout);
        assert!(!failures.is_empty(), "{stdout}");
        for (problem, command) in &failures {
            assert!(command.contains(flags.join(" ").as_str()), "{command}");
            assert_replays(problem, command);
        }
    }
}

#[test]
fn passing_seeds_exit_zero() {
    let out = loopsim(&["explore", ORDER, "--seeds", "20", "--tie-break", "fifo"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "explored 20 seeds: 1 distinct traces, 0 failing\n"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn shards_partition_the_seeds() {
    let range = SeedRange::new(3, 40);
    let whole = sweep(BIG, range, 1, None);
    let mut failing = Vec::new();
    let mut seeds_run = 0;
    for index in 1..=3 {
        let part = sweep(BIG, range, 1, Some(Shard { index, count: 3 }));
        assert!(part.failures.iter().all(|f| f.seed % 3 == index - 1));
        seeds_run += part.seeds_run;
        failing.extend(part.failures);
    }
    failing.sort_by_key(|f| f.seed);
    assert_eq!(seeds_run, 37);
    assert_eq!(failing, whole.failures);
    let out = loopsim(&["explore", BIG, "--seeds", "3..40", "--shard", "2/3"]);
    let seeds: Vec<u64> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("seed ")?.split(':').next()?.parse().ok())
        .collect();
    let expected: Vec<u64> = whole
        .failures
        .iter()
        .map(|f| f.seed)
        .filter(|s| s % 3 == 1)
        .collect();
    assert_eq!(seeds, expected);
    assert_eq!(
        loopsim(&["explore", BIG, "--shard", "4/3"]).status.code(),
        Some(2)
    );
}

#[test]
fn reports_do_not_depend_on_the_number_of_jobs() {
    for path in [ORDER, BIG, TEN] {
        let one = sweep(path, SeedRange::new(0, 64), 1, None);
        let two = sweep(path, SeedRange::new(0, 64), 2, None);
        assert_eq!(one, two, "{path}");
        assert_eq!(one.seeds_run, 64);
    }
    let one = loopsim(&["explore", BIG, "--seeds", "100", "--jobs", "1"]);
    let two = loopsim(&["explore", BIG, "--seeds", "100", "--jobs", "2"]);
    assert_eq!(text(&one.stdout), text(&two.stdout));
}

#[test]
fn exhaustive_mode_runs_every_tie_order_once() {
    let out = loopsim(&["explore", TEN, "--exhaustive"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(
        "explored 1 seeds: 12 distinct traces, 1 failing\nexhaustive: 12 runs, every tie order explored\n"
    ));
    let failures = reported_failures(&stdout);
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1.contains(" --tie-order "), "{stdout}");
    assert_replays(&failures[0].0, &failures[0].1);

    let options = ExploreOptions {
        exhaustive: true,
        max_exhaustive: 5,
        ..ExploreOptions::default()
    };
    let bounded = explore(
        &load(TEN),
        TEN,
        &ExploreOptions {
            seeds: SeedRange::new(0, 2),
            ..options
        },
        |_, _| {},
    );
    assert_eq!((bounded.runs, bounded.incomplete.clone()), (10, vec![0, 1]));
    assert!(bounded.render().contains("stopped at the bound"));
}

#[test]
fn exhaustive_mode_finds_orders_sampling_misses() {
    // `fifo` never fails this scenario; some tie order does.
    let fifo = Overrides {
        tie_break: Some(TieBreak::Fifo),
        ..Overrides::default()
    };
    let sampled = ExploreOptions {
        overrides: fifo.clone(),
        ..ExploreOptions::default()
    };
    assert!(explore(&load(ORDER), ORDER, &sampled, |_, _| {})
        .failures
        .is_empty());
    let exhaustive = ExploreOptions {
        overrides: fifo,
        seeds: SeedRange::new(0, 1),
        exhaustive: true,
        ..sampled
    };
    let report = explore(&load(ORDER), ORDER, &exhaustive, |_, _| {});
    assert_eq!(
        (report.runs, report.distinct_traces, report.failures.len()),
        (2, 2, 1)
    );
}

#[test]
fn shrink_keeps_the_same_failure_in_fewer_statements() {
    let big = load(BIG);
    let options = RunOptions {
        overrides: Overrides {
            seed: Some(4),
            tie_break: Some(TieBreak::Random),
            ..Overrides::default()
        },
        ..RunOptions::default()
    };
    let failure = scenario::run(&big, &options).failure.expect("seed 4 fails");
    let shrunk = shrink_failure(&big, &options).unwrap();
    assert_eq!(shrunk.before, statement_count(&big));
    assert!(
        shrunk.after < shrunk.before / 2,
        "{} -> {}",
        shrunk.before,
        shrunk.after
    );
    // The file alone (its header has the settings) fails the same way.
    let printed = scenario::print(&shrunk.scenario);
    let reparsed = parse("shrunk.scn", &printed).unwrap();
    let again = scenario::run(&reparsed, &RunOptions::default())
        .failure
        .expect("still fails");
    assert!(same_failure(&failure, &again), "{failure} vs {again}");
    // Deterministic.
    assert_eq!(shrink_failure(&big, &options).unwrap(), shrunk);

    let out_path = std::env::temp_dir().join(format!("loopsim-shrunk-{}.scn", std::process::id()));
    let out_file = out_path.to_str().unwrap();
    let out = loopsim(&[
        "shrink",
        BIG,
        "--seed",
        "4",
        "--tie-break",
        "random",
        "-o",
        out_file,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "shrunk {BIG} from {} to {} statements\n",
            shrunk.before, shrunk.after
        )
    );
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), printed);
    assert_eq!(loopsim(&["run", out_file]).status.code(), Some(1));
    let _ = std::fs::remove_file(&out_path);
    assert_eq!(
        loopsim(&[
            "shrink",
            BIG,
            "--seed",
            "0",
            "--tie-break",
            "fifo",
            "-o",
            out_file
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn a_tie_order_script_picks_each_tied_timer_and_records_its_choices() {
    use loopsim::{LoopConfig, TieDecision};
    for policy in TieBreak::ALL {
        let config = LoopConfig {
            tie_break: policy,
            tie_order: Some(vec![2, 1]),
            ..LoopConfig::default()
        };
        let lp = config.build();
        for name in ["a", "b", "c"] {
            lp.call_later_named(1.0, name, |_: &loopsim::EventLoop| {})
                .unwrap();
        }
        let late = lp
            .call_later_named(1.0, "cancelled", |_: &loopsim::EventLoop| {})
            .unwrap();
        late.cancel();
        let _ = lp.run_forever();
        let calls: Vec<String> = lp.trace().iter().map(|e| e.to_text()).collect();
        assert_eq!(
            calls,
            [
                "#1 t=1.0 call name=c",
                "#1 t=1.0 call name=b",
                "#1 t=1.0 call name=a",
                "#2 t=1.0 idle"
            ],
            "{policy}"
        );
        let decisions = lp.tie_decisions();
        assert_eq!(
            decisions,
            [
                TieDecision { chosen: 2, of: 3 },
                TieDecision { chosen: 1, of: 2 }
            ]
        );
    }
}

/// Each distinct failure comes with `loopsim diff FILE --seed F --seed P
/// [flags]`: its first seed against the first seed that passed, with the
/// other flags once (the syntax of `loopsim diff`).
#[test]
fn each_distinct_failure_gets_a_diff_against_a_passing_seed() {
    let out = loopsim(&["explore", ORDER, "--seeds", "20", "--jitter", "1ms"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let report = sweep(ORDER, SeedRange::new(0, 20), 1, None);
    let passing = report.first_passing.expect("some seed passes");
    let failing = report.failures[0].seed;
    let expected = format!(
        "    where it parts from a passing seed: loopsim diff {ORDER} --python 3.12 --seed {failing} --seed {passing} --tie-break random --jitter 1ms\n"
    );
    assert!(stdout.contains(&expected), "{stdout}");
    // The passing seed passes, the failing one fails.
    let seed = passing.to_string();
    let flags = ["--tie-break", "random", "--jitter", "1ms"];
    let run = |seed: &str| {
        let mut args = vec!["replay", ORDER, "--seed", seed];
        args.extend(flags);
        loopsim(&args).status.code()
    };
    assert_eq!(run(&seed), Some(0));
    assert_eq!(run(&failing.to_string()), Some(1));
    // Nothing passes: no diff.
    let all_fail = sweep(
        "scenarios/53_check_failed.scn",
        SeedRange::new(0, 3),
        1,
        None,
    );
    assert_eq!(all_fail.failures.len(), 3);
    assert!(all_fail.first_passing.is_none());
    assert!(all_fail
        .distinct_failures()
        .iter()
        .all(|g| g.diff.is_none()));
}

/// `--jobs` cannot make explore's memory grow without bound: the workers'
/// traces together stay under `TRACE_MEMORY_BOUND`, so the worker count is
/// cut by the event budget (the report is the same for any count).
#[test]
fn workers_are_bounded_by_the_memory_their_traces_may_take() {
    use loopsim::explore::{workers, TRACE_MEMORY_BOUND};
    let scenario = load(ORDER);
    let options = |jobs, max_events| ExploreOptions {
        jobs,
        overrides: Overrides {
            max_events,
            ..Overrides::default()
        },
        ..ExploreOptions::default()
    };
    let per_worker = 2 * 64 * loopsim::DEFAULT_MAX_EVENTS;
    assert_eq!(
        std::mem::size_of::<loopsim::Event>(),
        64,
        "the bound assumes 64-byte events"
    );
    let fit = (TRACE_MEMORY_BOUND / per_worker) as usize;
    assert_eq!(workers(&scenario, &options(1000, None)), fit);
    assert_eq!(workers(&scenario, &options(2, None)), 2);
    assert_eq!(workers(&scenario, &options(1000, Some(1000))), 1000);
    assert_eq!(workers(&scenario, &options(4, Some(u64::MAX))), 1);
}

#[test]
fn the_explore_benchmarks_are_the_sizes_they_say_and_pass() {
    // benches/explore.sh reports runs per second on these: small (about
    // 20 events), medium (about 2,000), large (about 200,000), each
    // passing for every seed, so a sweep measures explore rather than the
    // rebuilding of failures.
    for (name, seeds, low, high) in [
        ("small", 200, 15, 25),
        ("medium", 20, 1_800, 2_200),
        ("large", 2, 180_000, 220_000),
    ] {
        let path = format!("benches/explore/{name}.scn");
        let scenario = load(&path);
        let report = explore(
            &scenario,
            &path,
            &ExploreOptions {
                seeds: SeedRange::new(0, seeds),
                ..ExploreOptions::default()
            },
            |_, _| {},
        );
        assert!(report.failures.is_empty(), "{name}: {}", report.render());
        assert!(
            report.distinct_traces > 1,
            "{name}: the seed orders its ties"
        );
        for seed in 0..2 {
            let options = RunOptions {
                overrides: Overrides {
                    seed: Some(seed),
                    ..Overrides::default()
                },
                ..RunOptions::default()
            };
            let events = scenario::run(&scenario, &options).trace.len();
            assert!(
                (low..=high).contains(&events),
                "{name}, seed {seed}: {events} events"
            );
        }
    }
}

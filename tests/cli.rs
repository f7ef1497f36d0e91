//! The `loopsim` command: exit codes, stdout and stderr, as users see them.

use std::process::{Command, Output};

fn loopsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("loopsim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn a_passing_run_prints_its_trace_and_exits_0() {
    let out = loopsim(&["run", "tests/cli/pass.scn"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out), @r#"
    #1 t=1.0 call name=tick
    #1 t=1.0 log text="tick"
    #2 t=2.0 call name=tick
    #2 t=2.0 log text="tick"
    #3 t=3.0 call name=halt
    #3 t=3.0 stop
    #3 t=3.0 returned driver=run_forever
    "#);
    assert_eq!(
        stderr(&out),
        "loopsim: tests/cli/pass.scn (--seed 0)\n",
        "the seed in use is always shown"
    );
}

#[test]
fn json_lines_carry_iteration_time_and_event() {
    let out = loopsim(&["run", "tests/cli/pass.scn", "--format", "json"]);
    let first = stdout(&out).lines().next().unwrap().to_string();
    assert_eq!(
        first,
        r#"{"iteration":1,"time":1.0,"event":"call","name":"tick"}"#
    );
}

#[test]
fn a_failing_run_exits_1_and_prints_its_replay_command() {
    let out = loopsim(&["run", "tests/cli/fail.scn", "--seed", "0"]);
    let seed = (0..64)
        .map(|s| s.to_string())
        .find(|s| {
            loopsim(&["run", "tests/cli/fail.scn", "--seed", s])
                .status
                .code()
                == Some(1)
        })
        .expect("some seed puts b first");
    let failing = loopsim(&["run", "tests/cli/fail.scn", "--seed", &seed]);
    assert_eq!(failing.status.code(), Some(1));
    let err = stderr(&failing);
    let replay =
        format!("reproduce: loopsim replay tests/cli/fail.scn --seed {seed} --tie-break random\n");
    assert!(err.ends_with(&replay), "{err}");
    assert!(
        err.contains(r#"failed: "#) && err.contains(r#"check_failed cond="result first == \"a\"""#),
        "{err}"
    );
    // The replay command reproduces the run byte for byte.
    let replayed = loopsim(&[
        "replay",
        "tests/cli/fail.scn",
        "--seed",
        &seed,
        "--tie-break",
        "random",
    ]);
    assert_eq!(replayed.status.code(), Some(1));
    assert_eq!(stdout(&replayed), stdout(&failing));
    assert!(matches!(out.status.code(), Some(0 | 1)));
}

#[test]
fn flags_override_the_header() {
    let fifo = loopsim(&["run", "tests/cli/fail.scn", "--tie-break", "fifo"]);
    assert_eq!(
        fifo.status.code(),
        Some(0),
        "under fifo `a` always runs first"
    );
    assert!(
        stderr(&fifo).contains("(--seed 3)"),
        "the header's seed, no tie-break flag: {}",
        stderr(&fifo)
    );
}

#[test]
fn an_invalid_file_exits_2_with_file_line_col() {
    let out = loopsim(&["run", "tests/cli/invalid.scn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    insta::assert_snapshot!(stderr(&out), @r"
    error: undefined callback `nowhere`
      --> tests/cli/invalid.scn:2:15
      |
    2 |     call_soon nowhere
      |               ^^^^^^^ no callback has this name

    error: `sleep` is only allowed in a task body, not in `main`
      --> tests/cli/invalid.scn:3:5
      |
    3 |     sleep 1
      |     ^^^^^^^ task-only statement
      |
      = `sleep`, `yield`, `await`, `wait_for` and `return` suspend or finish a coroutine: write them in a `task` block
    ");
}

#[test]
fn a_missing_file_and_bad_flags_exit_2() {
    let missing = loopsim(&["run", "tests/cli/nope.scn"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("tests/cli/nope.scn"),
        "{}",
        stderr(&missing)
    );
    let bad_policy = loopsim(&["run", "tests/cli/pass.scn", "--tie-break", "lifo"]);
    assert_eq!(bad_policy.status.code(), Some(2));
    assert!(stderr(&bad_policy).contains("expected `fifo`, `random` or `heapq`, found `lifo`"));
    let bad_jitter = loopsim(&["run", "tests/cli/pass.scn", "--jitter", "soon"]);
    assert_eq!(bad_jitter.status.code(), Some(2));
}

#[test]
fn the_budget_exits_1() {
    let out = loopsim(&["run", "tests/cli/pass.scn", "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).ends_with("#2 t=2.0 budget\n"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("--max-iterations 2"));
}

#[test]
fn check_summarises_many_files() {
    let out = loopsim(&[
        "check",
        "tests/cli/pass.scn",
        "tests/cli/fail.scn",
        "--tie-break",
        "fifo",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).ends_with("check: 2 passed, 0 failed\n"),
        "{}",
        stdout(&out)
    );
    let with_invalid = loopsim(&["check", "tests/cli"]);
    assert_eq!(with_invalid.status.code(), Some(2));
    assert!(stdout(&with_invalid).contains("invalid tests/cli/invalid.scn"));
    let shipped = loopsim(&["check", "scenarios"]);
    assert_eq!(
        shipped.status.code(),
        Some(1),
        "the budget and check_failed examples fail on purpose"
    );
}

#[test]
fn check_determinism_runs_twice() {
    let out = loopsim(&[
        "run",
        "tests/cli/fail.scn",
        "--tie-break",
        "fifo",
        "--check-determinism",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("deterministic: two runs gave"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fmt_prints_the_canonical_form() {
    let out = loopsim(&["fmt", "tests/cli/pass.scn"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string("tests/cli/pass.scn").unwrap()
    );
    assert_eq!(
        loopsim(&["fmt", "--check", "tests/cli/pass.scn"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        loopsim(&["fmt", "tests/cli/invalid.scn"]).status.code(),
        Some(2)
    );
}

#[test]
fn decode_turns_a_fuzz_input_into_a_replayable_scenario() {
    let dir = std::env::temp_dir().join(format!("loopsim-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = dir.join("crash-input");
    std::fs::write(&artifact, loopsim::fuzz_support::seed_input(5, 64)).unwrap();
    let out_file = dir.join("crash.scn");
    let decoded = loopsim(&[
        "decode",
        artifact.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(decoded.status.code(), Some(0), "{}", stderr(&decoded));
    let err = stderr(&decoded);
    let replay = err
        .trim_end()
        .strip_prefix("reproduce: loopsim ")
        .expect("a replay command");
    let args: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(args[0], "replay");
    let replayed = loopsim(&args);
    assert!(
        matches!(replayed.status.code(), Some(0 | 1)),
        "{}",
        stderr(&replayed)
    );
    let again = loopsim(&args);
    assert_eq!(
        stdout(&replayed),
        stdout(&again),
        "the replay is deterministic"
    );
    assert!(!stdout(&replayed).is_empty());
    assert_eq!(loopsim(&["decode", "no/such/file"]).status.code(), Some(2));
}

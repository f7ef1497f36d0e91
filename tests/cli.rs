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
        "loopsim: tests/cli/pass.scn (--python 3.12 --seed 0)\n",
        "the Python version and the seed in use are always shown"
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
        format!("reproduce: loopsim replay tests/cli/fail.scn --python 3.12 --seed {seed} --tie-break random\n");
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
        stderr(&fifo).contains("(--python 3.12 --seed 3)"),
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
    assert!(
        stderr(&bad_policy).contains("[possible values: fifo, random, heapq]"),
        "{}",
        stderr(&bad_policy)
    );
    let bad_jitter = loopsim(&["run", "tests/cli/pass.scn", "--jitter", "soon"]);
    assert_eq!(bad_jitter.status.code(), Some(2));
}

#[test]
fn the_budget_exits_1() {
    let out = loopsim(&["run", "tests/cli/pass.scn", "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).ends_with("#2 t=2.0 budget reason=iterations\n"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("--max-iterations 2"));
}

/// Each budget is a flag of every command that runs scenarios, names
/// itself in the `budget` event and in the replay command.
#[test]
fn every_budget_is_a_flag_of_every_command() {
    let cases = [
        ("--max-events", "2", "#2 t=2.0 budget reason=events\n"),
        ("--max-callbacks", "1", "#2 t=2.0 budget reason=callbacks\n"),
        ("--max-pending", "2", "#1 t=1.0 budget reason=pending\n"),
    ];
    for (flag, value, last) in cases {
        for command in ["run", "replay"] {
            let out = loopsim(&[command, "tests/cli/pass.scn", "--seed", "0", flag, value]);
            assert_eq!(out.status.code(), Some(1), "{command} {flag}");
            assert!(stdout(&out).ends_with(last), "{flag}: {}", stdout(&out));
            assert!(
                stderr(&out).contains(&format!(
                    "reproduce: loopsim replay tests/cli/pass.scn --python 3.12 --seed 0 {flag} {value}"
                )),
                "{}",
                stderr(&out)
            );
        }
        let check = loopsim(&["check", "tests/cli/pass.scn", flag, value]);
        assert_eq!(check.status.code(), Some(1));
        assert!(
            stdout(&check).contains("budget reason="),
            "{}",
            stdout(&check)
        );
        let explore = loopsim(&["explore", "tests/cli/pass.scn", "--seeds", "3", flag, value]);
        assert_eq!(explore.status.code(), Some(1));
        assert!(
            stdout(&explore).contains(&format!("{flag} {value}")),
            "{}",
            stdout(&explore)
        );
        let shrunk = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("loopsim-budget-shrink{flag}.scn"));
        let shrink = loopsim(&[
            "shrink",
            "tests/cli/pass.scn",
            flag,
            value,
            "-o",
            shrunk.to_str().unwrap(),
        ]);
        assert_eq!(shrink.status.code(), Some(0), "{}", stderr(&shrink));
        let text = std::fs::read_to_string(&shrunk).unwrap();
        assert!(
            text.contains(&format!("{} {value}", &flag[2..].replace('-', "_"))),
            "{text}"
        );
    }
}

#[test]
fn budgets_in_the_header_and_a_flag_that_overrides_them() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("loopsim-budget-header");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fork.scn");
    std::fs::write(
        &file,
        "max_callbacks 3\n\ncallback fork:\n    call_soon fork\n    call_soon fork\n\nmain:\n    call_soon fork\n    run_forever\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = loopsim(&["run", file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).matches("call name=fork").count(), 3);
    assert!(stdout(&out).ends_with("budget reason=callbacks\n"));
    let more = loopsim(&["run", file, "--max-callbacks", "5"]);
    assert_eq!(stdout(&more).matches("call name=fork").count(), 5);
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
        Some(0),
        "the examples that fail on purpose say `expect fail`: {}",
        stdout(&shipped)
    );
    assert!(stdout(&shipped).contains(
        "ok      scenarios/20_budget.scn (11 events, failed as expected: #5 t=0.0 budget reason=iterations)\n"
    ));
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
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("decode-cli");
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

#[test]
fn expect_fail_passes_check_only_when_the_run_fails() {
    let out = loopsim(&[
        "check",
        "tests/cli/expected_failure.scn",
        "tests/cli/unmet_expectation.scn",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "ok      tests/cli/expected_failure.scn (1 events, failed as expected: #0 t=0.0 check_failed cond=\"is_running\")\n\
         FAILED  tests/cli/unmet_expectation.scn: expected a failure (`expect fail`), but every check held\n        \
         reproduce: loopsim replay tests/cli/unmet_expectation.scn --python 3.12 --seed 0\n\
         check: 1 passed, 1 failed\n"
    );
    // `run` keeps the contract's exit status: the run did fail.
    assert_eq!(
        loopsim(&["run", "tests/cli/expected_failure.scn"])
            .status
            .code(),
        Some(1)
    );
    // The printer keeps the line.
    let printed = stdout(&loopsim(&["fmt", "tests/cli/expected_failure.scn"]));
    assert!(printed.contains("\nexpect fail\n"), "{printed}");
}

#[test]
fn check_format_json_prints_one_object_per_scenario() {
    let out = loopsim(&[
        "check",
        "--format",
        "json",
        "tests/cli/pass.scn",
        "tests/cli/fail.scn",
        "tests/cli/expected_failure.scn",
        "tests/cli/invalid.scn",
    ]);
    assert_eq!(out.status.code(), Some(2), "an invalid file: exit 2");
    let objects: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    assert_eq!(objects.len(), 4, "no summary line: {}", stdout(&out));
    assert_eq!(
        objects[0],
        serde_json::json!({
            "file": "tests/cli/pass.scn", "status": "passed", "expect": "pass",
            "events": 7, "failure": null, "settings": "--python 3.12 --seed 0",
            "replay": "loopsim replay tests/cli/pass.scn --python 3.12 --seed 0",
        })
    );
    assert_eq!(objects[1]["status"], "failed");
    assert_eq!(objects[1]["failure"]["event"], "check_failed");
    assert_eq!(objects[1]["failure"]["cond"], "result first == \"a\"");
    assert_eq!(objects[2]["status"], "passed");
    assert_eq!(objects[2]["expect"], "fail");
    assert_eq!(objects[2]["failure"]["cond"], "is_running");
    assert_eq!(objects[3]["status"], "invalid");
    assert!(objects[3]["error"]
        .as_str()
        .unwrap()
        .contains("tests/cli/invalid.scn:2:15"));
    assert_eq!(
        objects[3]["errors"][0],
        serde_json::json!({"line": 2, "column": 15, "message": "undefined callback `nowhere`"})
    );
    assert_eq!(objects[3]["errors"].as_array().unwrap().len(), 2);
    assert!(
        stderr(&out).is_empty(),
        "in JSON the errors are in the object"
    );
}

#[test]
fn explore_format_json_is_one_complete_report() {
    let out = loopsim(&[
        "explore",
        "tests/cli/fail.scn",
        "--seeds",
        "40",
        "--format",
        "json",
        "--list",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one object: {text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["file"], "tests/cli/fail.scn");
    assert_eq!(report["seeds_run"], 40);
    assert_eq!(
        report["options"]["seeds"],
        serde_json::json!({"start": 0, "end": 40})
    );
    assert_eq!(report["distinct_traces"], 2);
    assert_eq!(report["traces"].as_array().unwrap().len(), 2);
    let failing = report["failing_seeds"].as_u64().unwrap();
    assert!(failing > 1 && failing < 40, "{failing}");
    assert_eq!(report["failures_by_kind"]["check_failed"], failing);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(
        failures.len() as u64,
        failing,
        "every failing seed, not only the listed one"
    );
    let groups = report["distinct_failures"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["seeds"], failing);
    assert_eq!(groups[0]["kind"], "check_failed");
    assert_eq!(groups[0]["first_seed"], failures[0]["seed"]);
    // Each failing seed's replay command reproduces its failure.
    let replay = failures[0]["replay"].as_str().unwrap();
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let replayed = loopsim(&args);
    assert_eq!(replayed.status.code(), Some(1));
    assert!(stderr(&replayed).contains(failures[0]["problem"].as_str().unwrap()));
}

#[test]
fn explore_json_reports_of_shards_merge_into_the_whole() {
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "explore",
            "tests/cli/fail.scn",
            "--seeds",
            "30",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_slice(&loopsim(&args).stdout).unwrap()
    };
    let whole = run(&[]);
    let shards = [run(&["--shard", "1/2"]), run(&["--shard", "2/2"])];
    let sum = |key: &str| shards.iter().map(|s| s[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("seeds_run"), whole["seeds_run"].as_u64().unwrap());
    assert_eq!(sum("runs"), whole["runs"].as_u64().unwrap());
    let mut hashes: Vec<&str> = shards
        .iter()
        .flat_map(|s| s["traces"].as_array().unwrap())
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    hashes.sort();
    hashes.dedup();
    let whole_hashes: Vec<&str> = whole["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, whole_hashes);
    let mut failures: Vec<serde_json::Value> = shards
        .iter()
        .flat_map(|s| s["failures"].as_array().unwrap().clone())
        .collect();
    failures.sort_by_key(|f| f["seed"].as_u64());
    assert_eq!(&failures, whole["failures"].as_array().unwrap());
}

#[test]
fn replay_requires_a_seed() {
    let out = loopsim(&["replay", "tests/cli/pass.scn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--seed <SEED>"), "{}", stderr(&out));
    assert_eq!(
        loopsim(&["replay", "tests/cli/pass.scn", "--seed", "0"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn help_lists_the_values_of_enum_options() {
    let run_help = stdout(&loopsim(&["run", "--help"]));
    for value in ["fifo", "random", "heapq", "text", "json"] {
        assert!(
            run_help.contains(&format!("- {value}")),
            "{value}: {run_help}"
        );
    }
    let explore_help = stdout(&loopsim(&["explore", "-h"]));
    assert!(
        explore_help.contains("[possible values: fifo, random, heapq]"),
        "{explore_help}"
    );
    assert!(
        explore_help.contains("[possible values: text, json]"),
        "{explore_help}"
    );
}

/// A fresh folder under the target directory, for files a test changes.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn fmt_check_names_the_unformatted_files_and_write_fixes_them() {
    let dir = scratch("fmt-many");
    let messy = "main:\n  log   hi\n";
    std::fs::write(dir.join("a_messy.scn"), messy).unwrap();
    std::fs::write(dir.join("b_clean.scn"), "main:\n    log hi\n").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/c_messy.scn"),
        "future f\nmain:\n    run_until_complete  f\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let sub = format!("{d}/sub");

    let check = loopsim(&["fmt", "--check", d, &sub]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        stdout(&check),
        format!("{d}/a_messy.scn\n{d}/sub/c_messy.scn\n")
    );
    assert!(
        stderr(&check).contains("2 files are not in canonical form"),
        "{}",
        stderr(&check)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a_messy.scn")).unwrap(),
        messy,
        "--check changes nothing"
    );

    let write = loopsim(&["fmt", "--write", d, &sub]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    assert_eq!(
        stdout(&write),
        format!("formatted {d}/a_messy.scn\nformatted {d}/sub/c_messy.scn\n")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a_messy.scn")).unwrap(),
        "main:\n    log hi\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/c_messy.scn")).unwrap(),
        "future f\n\nmain:\n    run_until_complete f\n"
    );
    let again = loopsim(&["fmt", "--check", d, &sub]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again), "");

    let several = loopsim(&["fmt", d]);
    assert_eq!(
        several.status.code(),
        Some(2),
        "printing needs exactly one file"
    );
    assert_eq!(
        loopsim(&["fmt", "--check", "tests/cli/invalid.scn"])
            .status
            .code(),
        Some(2)
    );
}

/// The README's bug-hunting walkthrough, step by step, as it shows it.
#[test]
fn the_readme_walkthrough_finds_replays_and_shrinks_the_ordering_bug() {
    const FILE: &str = "scenarios/160_ordering_bug_found_by_explore.scn";
    assert_eq!(
        loopsim(&["run", FILE]).status.code(),
        Some(0),
        "its own seed passes"
    );
    let explored = loopsim(&["explore", FILE, "--seeds", "1000"]);
    assert_eq!(explored.status.code(), Some(1));
    let readme = std::fs::read_to_string("README.md").unwrap();
    let shown: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.contains(&format!("$ loopsim explore {FILE} --seeds 1000")))
        .skip(1)
        .take_while(|l| !l.trim().starts_with("..."))
        .map(str::trim)
        .collect();
    assert_eq!(shown.len(), 6, "{shown:?}");
    let printed: Vec<String> = stdout(&explored)
        .lines()
        .take(6)
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(printed, shown);

    let replay = loopsim(&["replay", FILE, "--seed", "2", "--tie-break", "random"]);
    assert_eq!(replay.status.code(), Some(1));
    assert!(stdout(&replay).contains(
        "#4 t=1.0 call name=serve\n#4 t=1.0 log text=\"serving\"\n#4 t=1.0 check_failed"
    ));

    let small = scratch("walkthrough").join("small.scn");
    let small = small.to_str().unwrap();
    let shrunk = loopsim(&[
        "shrink",
        FILE,
        "--seed",
        "2",
        "--tie-break",
        "random",
        "-o",
        small,
    ]);
    assert_eq!(shrunk.status.code(), Some(0));
    assert!(
        stderr(&shrunk).contains("still an ordering bug"),
        "{}",
        stderr(&shrunk)
    );
    assert_eq!(
        loopsim(&["run", small]).status.code(),
        Some(1),
        "fails alone"
    );
    let text = std::fs::read_to_string(small).unwrap();
    assert!(
        text.contains("call_later 1 refresh") && text.contains("call_later 1 serve"),
        "{text}"
    );
}

#[test]
fn explore_json_in_exhaustive_mode_names_the_failing_tie_order() {
    let out = loopsim(&[
        "explore",
        "tests/explore/order.scn",
        "--tie-break",
        "fifo",
        "--exhaustive",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exhaustive"], true);
    assert_eq!(report["options"]["tie_break"], "fifo");
    assert_eq!(report["runs"], 2, "two orders of the two tied timers");
    assert_eq!(report["incomplete"], serde_json::json!([]));
    let failure = &report["failures"][0];
    assert_eq!(failure["tie_order"], serde_json::json!([1]));
    assert!(
        failure["replay"]
            .as_str()
            .unwrap()
            .ends_with("--tie-order 1"),
        "{failure}"
    );
}

/// `reproduce:` lines quote the file for the shell: pasting one into `sh`
/// replays that file, whatever characters its name holds.
#[test]
fn replay_commands_are_shell_quoted() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("quote-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("my file;echo x'.scn");
    std::fs::copy("tests/cli/pass.scn", &file).unwrap();
    let path = file.to_str().unwrap();
    let out = loopsim(&["run", path, "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let quoted = format!("'{}'", path.replace('\'', "'\\''"));
    let line =
        format!("reproduce: loopsim replay {quoted} --python 3.12 --seed 0 --max-iterations 2");
    assert!(stderr(&out).contains(&line), "{}", stderr(&out));
    let command = line
        .strip_prefix("reproduce: loopsim ")
        .unwrap()
        .to_string();
    let replayed = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" {command}"))
        .arg(env!("CARGO_BIN_EXE_loopsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(replayed.status.code(), Some(1), "{}", stderr(&replayed));
    assert_eq!(stdout(&replayed), stdout(&out));
    let explored = loopsim(&["explore", path, "--seeds", "2", "--max-iterations", "2"]);
    assert!(
        stdout(&explored).contains(&format!("loopsim replay {quoted} --")),
        "{}",
        stdout(&explored)
    );
}

/// Control characters in a scenario's text never reach the terminal as
/// they are: the text trace escapes them as JSON does, and diagnostics
/// show them escaped (messages) or blanked (source lines).
#[test]
fn control_characters_are_escaped_in_traces_and_diagnostics() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ctl-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.scn");
    std::fs::write(&log, "main:\n    log x\u{1b}[31my\u{7f}z\rq\u{9b}\n").unwrap();
    let out = loopsim(&["run", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "#0 t=0.0 log text=\"x\\u001b[31my\\u007fz\\rq\\u009b\"\n"
    );
    let bad = dir.join("bad.scn");
    std::fs::write(&bad, "main:\n    bogus\u{1b}[2J here\n").unwrap();
    let out = loopsim(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("unknown statement `bogus\\u{1b}[2J`"), "{err}");
    assert!(err.contains("bogus?[2J here"), "{err}");
}

#[test]
fn shrink_says_which_order_still_passes() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shrink-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("small.scn");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "shrink",
            "tests/explore/big.scn",
            "--seed",
            "4",
            "--tie-break",
            "random",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    let expected = format!(
        "loopsim: still an ordering bug: `loopsim run {} --seed 0` passes\n",
        out_file.display()
    );
    assert_eq!(err, expected);
}

/// `loopsim diff`: CPython 3.11's and 3.12's `wait_for` part at the
/// awaiting task's wake-up (scenario 76); a scenario without `wait_for`
/// runs the same on every version.
#[test]
fn diff_shows_where_versions_part() {
    let out = loopsim(&[
        "diff",
        "scenarios/76_wait_for_in_time_and_timeout.scn",
        "--python",
        "3.11",
        "--python",
        "3.12",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.starts_with("traces differ between 3.11 and 3.12 at event 7:\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    > #5 t=1.0 step task=waits_quick\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    > #4 t=1.0 step task=waits_quick\n"),
        "{shown}"
    );

    let same = loopsim(&[
        "diff",
        "scenarios/13_run_until_complete_sleep.scn",
        "--python",
        "3.11",
        "--python",
        "3.12",
        "--python",
        "3.13",
    ]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), "same trace on 3.11, 3.12, 3.13\n");

    let one = loopsim(&[
        "diff",
        "scenarios/13_run_until_complete_sleep.scn",
        "--python",
        "3.11",
    ]);
    assert_eq!(one.status.code(), Some(2));
    let missing = loopsim(&[
        "diff",
        "no/such.scn",
        "--python",
        "3.11",
        "--python",
        "3.12",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `loopsim diff` of two seeds: the first divergence and the tie the two
/// runs decided apart (scenario 160's race); two saved JSON traces; and
/// the misuses, which are exit 2.
#[test]
fn diff_of_two_seeds_names_the_tie_they_decided_apart() {
    let file = "scenarios/160_ordering_bug_found_by_explore.scn";
    let out = loopsim(&[
        "diff",
        file,
        "--python",
        "3.12",
        "--seed",
        "12",
        "--seed",
        "0",
        "--tie-break",
        "random",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.starts_with("traces differ between seed 12 and seed 0 at event 3:\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    > #4 t=1.0 call name=serve\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    > #4 t=1.0 call name=refresh\n"),
        "{shown}"
    );
    assert!(
        shown.ends_with(
            "where they chose apart: pass #4 (t=0.5): tied timers left as [serve, refresh] \
             under seed 12, as [refresh, serve] under seed 0\n"
        ),
        "{shown}"
    );

    let dir = std::env::temp_dir().join(format!("loopsim-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let save = |seed: &str, name: &str| {
        let out = loopsim(&[
            "run",
            file,
            "--seed",
            seed,
            "--tie-break",
            "random",
            "--format",
            "json",
        ]);
        let path = dir.join(name);
        std::fs::write(&path, out.stdout).unwrap();
        path.display().to_string()
    };
    let (a, b) = (save("12", "a.jsonl"), save("0", "b.jsonl"));
    let saved = loopsim(&["diff", &a, &b]);
    assert_eq!(saved.status.code(), Some(1), "{}", stderr(&saved));
    assert!(stdout(&saved)
        .contains(r#"    > {"iteration":4,"time":1.0,"event":"call","name":"serve"}"#));
    let same = loopsim(&["diff", &a, &a]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), format!("same trace in {a} and {a}\n"));

    for bad in [
        vec!["diff", file, "--seed", "1"],
        vec![
            "diff", file, "--seed", "1", "--seed", "2", "--python", "3.11", "--python", "3.12",
            "--python", "3.13",
        ],
        vec!["diff", &a, &b, "--seed", "1"],
        vec!["diff", &a, file],
    ] {
        let out = loopsim(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stdout(&out));
        assert!(stderr(&out).contains("error"), "{bad:?}: {}", stderr(&out));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

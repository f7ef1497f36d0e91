//! Sweeps beyond one machine: `explore --report`, the shard from the
//! environment, and `loopsim merge`. The recipes that ship with loopsim
//! (`.github/workflows/explore.yml`, `examples/k8s/explore-job.yaml`) are
//! read with a YAML parser (Python's PyYAML) and their scripts run as they
//! are written, one process per shard, all at once; the merge of their
//! reports must be the single run's report, byte for byte.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Fails for about half of the seeds (a random tie).
const FAILING: &str = "tests/cli/fail.scn";

fn loopsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .args(args)
        .current_dir(ROOT)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("LOOPSIM_SHARD")
        .env_remove("LOOPSIM_SHARD_COUNT")
        .output()
        .expect("loopsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loopsim-merge-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A YAML file as JSON, parsed by PyYAML (`python3 -c 'import yaml'`).
fn yaml(path: &str) -> Value {
    let script = "import json, sys, yaml\n\
                  print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))";
    let out = Command::new("python3")
        .args(["-c", script, path])
        .current_dir(ROOT)
        .output()
        .expect("python3 runs (it is needed for the conformance tests too)");
    assert!(
        out.status.success(),
        "{path} must parse as YAML (PyYAML missing? `python3 -m pip install pyyaml`): {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `script` run by `shell` as a recipe runs it: `loopsim` on the PATH,
/// the recipe's variables set to this test's scenario, seeds and folder.
fn spawn(shell: &str, script: &str, cwd: &Path, env: &[(&str, String)]) -> Child {
    let bin = Path::new(env!("CARGO_BIN_EXE_loopsim")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(shell);
    command
        .args(["-e", "-c", script])
        .current_dir(cwd)
        .env("PATH", path)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("LOOPSIM_SHARD")
        .env_remove("LOOPSIM_SHARD_COUNT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("the shell runs")
}

fn finish(child: Child, what: &str) -> Output {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{what}: {out:?}");
    out
}

/// The single run's report of `seeds` seeds of `FAILING`, as
/// `explore --report` writes it (and `--format json` prints it).
fn whole_report(dir: &Path, seeds: &str) -> Vec<u8> {
    let file = dir.join("whole.json");
    let out = loopsim(&[
        "explore",
        FAILING,
        "--seeds",
        seeds,
        "--format",
        "json",
        "--report",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "some seeds fail: {}",
        stderr(&out)
    );
    let written = std::fs::read(&file).unwrap();
    assert_eq!(
        written, out.stdout,
        "--report writes what --format json prints"
    );
    written
}

fn step_running<'a>(steps: &'a Value, command: &str) -> &'a str {
    steps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|run| run.contains(command))
        .unwrap_or_else(|| panic!("a step runs `{command}`"))
}

#[test]
fn the_github_workflow_shards_merge_into_the_single_run_byte_for_byte() {
    let workflow = yaml(".github/workflows/explore.yml");
    let jobs = &workflow["jobs"];
    assert_eq!(jobs["explore"]["needs"], "build");
    assert_eq!(jobs["merge"]["needs"], "explore");
    let shards = jobs["explore"]["strategy"]["matrix"]["shard"]
        .as_array()
        .unwrap();
    let n = shards.len();
    assert!(n > 1, "a matrix of shards");
    assert_eq!(
        shards
            .iter()
            .map(|s| s.as_u64().unwrap())
            .collect::<Vec<_>>(),
        (1..=n as u64).collect::<Vec<_>>()
    );
    for var in ["SCENARIO", "SEEDS", "REPORTS"] {
        assert!(workflow["env"][var].is_string(), "the workflow sets {var}");
    }
    let explore = step_running(&jobs["explore"]["steps"], "loopsim explore");
    let merge = step_running(&jobs["merge"]["steps"], "loopsim merge");

    let dir = scratch("github");
    let reports = dir.join("reports");
    let env = [
        ("SCENARIO", FAILING.to_string()),
        ("SEEDS", "0..60".to_string()),
        ("REPORTS", reports.display().to_string()),
    ];
    // Every shard at once, as the matrix runs them.
    let children: Vec<Child> = (1..=n)
        .map(|k| {
            let script = explore
                .replace("${{ matrix.shard }}", &k.to_string())
                .replace("${{ strategy.job-total }}", &n.to_string());
            spawn("bash", &script, Path::new(ROOT), &env)
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        finish(child, &format!("shard {}", k + 1));
    }
    let merged = spawn("bash", merge, &dir, &env).wait_with_output().unwrap();
    assert_eq!(
        merged.status.code(),
        Some(1),
        "the merge job fails when some seed failed: {merged:?}"
    );
    let merged = std::fs::read(dir.join("report.json")).unwrap();
    assert_eq!(
        String::from_utf8(merged).unwrap(),
        String::from_utf8(whole_report(&dir, "0..60")).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_kubernetes_indexed_job_merges_into_the_single_run_byte_for_byte() {
    let job = yaml("examples/k8s/explore-job.yaml");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert!(n > 1);
    let container = &spec["template"]["spec"]["containers"][0];
    let env: Vec<(String, String)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let (name, value) = (e["name"].as_str().unwrap(), e["value"].as_str().unwrap());
            (name.to_string(), value.to_string())
        })
        .collect();
    let count = env
        .iter()
        .find(|(k, _)| k == "LOOPSIM_SHARD_COUNT")
        .unwrap();
    assert_eq!(
        count.1,
        n.to_string(),
        "LOOPSIM_SHARD_COUNT is `completions`"
    );
    assert_eq!(container["command"], serde_json::json!(["sh", "-c"]));
    let script = container["args"][0].as_str().unwrap();
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(
        env.iter().any(|(k, v)| k == "REPORTS" && v == mount),
        "the reports go to the shared volume"
    );

    let dir = scratch("k8s");
    let mut env: Vec<(&str, String)> = env
        .iter()
        .filter(|(k, _)| !["SCENARIO", "SEEDS", "REPORTS"].contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    env.push(("SCENARIO", FAILING.to_string()));
    env.push(("SEEDS", "0..60".to_string()));
    env.push(("REPORTS", dir.display().to_string()));
    // Every pod at once; Kubernetes gives each its JOB_COMPLETION_INDEX.
    let children: Vec<Child> = (0..n)
        .map(|index| {
            let mut env = env.clone();
            env.push(("JOB_COMPLETION_INDEX", index.to_string()));
            spawn("sh", script, Path::new(ROOT), &env)
        })
        .collect();
    for (index, child) in children.into_iter().enumerate() {
        finish(child, &format!("pod {index}"));
    }
    let mut reports: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    reports.sort();
    assert_eq!(reports.len() as u64, n, "{reports:?}");
    let mut args = vec!["merge"];
    args.extend(reports.iter().map(String::as_str));
    let merged = loopsim(&args);
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    assert_eq!(
        String::from_utf8(merged.stdout).unwrap(),
        String::from_utf8(whole_report(&dir, "0..60")).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `explore FAILING` with `args` and returns the report's path.
fn report(dir: &Path, name: &str, args: &[&str]) -> String {
    let path = dir.join(name).display().to_string();
    let mut all = vec!["explore", FAILING, "--report", &path];
    all.extend_from_slice(args);
    let out = loopsim(&all);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    path
}

#[test]
fn ranges_end_to_end_and_exhaustive_shards_merge_too() {
    let dir = scratch("ranges");
    let whole = report(&dir, "whole.json", &["--seeds", "0..45"]);
    let a = report(&dir, "a.json", &["--seeds", "20..45"]);
    let b = report(&dir, "b.json", &["--seeds", "0..20"]);
    let merged = loopsim(&["merge", &a, &b]);
    assert_eq!(merged.stdout, std::fs::read(&whole).unwrap());
    // A merged report merges again.
    let c = report(&dir, "c.json", &["--seeds", "45..50"]);
    let ab = dir.join("ab.json").display().to_string();
    assert_eq!(
        loopsim(&["merge", &a, &b, "-o", &ab]).status.code(),
        Some(1)
    );
    let whole50 = report(&dir, "whole50.json", &["--seeds", "50"]);
    assert_eq!(
        loopsim(&["merge", &c, &ab]).stdout,
        std::fs::read(&whole50).unwrap()
    );
    // Exhaustive mode: every tie order of each seed, and the runs add up.
    let exhaustive = ["--exhaustive", "--seeds", "0..5", "--tie-break", "fifo"];
    let whole = report(&dir, "ex.json", &exhaustive);
    let shards: Vec<String> = (1..=2)
        .map(|k| {
            let shard = format!("{k}/2");
            let mut args = exhaustive.to_vec();
            args.extend(["--shard", &shard]);
            report(&dir, &format!("ex{k}.json"), &args)
        })
        .collect();
    let merged = loopsim(&["merge", &shards[1], &shards[0]]);
    assert_eq!(merged.stdout, std::fs::read(&whole).unwrap());
    let json: Value = serde_json::from_slice(&merged.stdout).unwrap();
    let runs: u64 = json["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["runs"].as_u64().unwrap())
        .sum();
    assert_eq!(json["runs"], runs);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reports_that_do_not_fit_together_are_refused_with_exit_2() {
    let dir = scratch("refused");
    let s1 = report(&dir, "s1.json", &["--seeds", "30", "--shard", "1/3"]);
    let s2 = report(&dir, "s2.json", &["--seeds", "30", "--shard", "2/3"]);
    let s3 = report(&dir, "s3.json", &["--seeds", "30", "--shard", "3/3"]);
    let other_n = report(&dir, "t1.json", &["--seeds", "30", "--shard", "1/2"]);
    let fifo = report(
        &dir,
        "fifo.json",
        &["--seeds", "30", "--shard", "3/3", "--tie-break", "fifo"],
    );
    let low = report(&dir, "low.json", &["--seeds", "0..20"]);
    let high = report(&dir, "high.json", &["--seeds", "10..30"]);
    let far = report(&dir, "far.json", &["--seeds", "25..30"]);
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "{\"seeds_run\": 3,\n").unwrap();
    let not_report = dir.join("other.json");
    std::fs::write(&not_report, "{\"seeds_run\": 3}\n").unwrap();
    let (not_json, not_report) = (
        not_json.display().to_string(),
        not_report.display().to_string(),
    );
    let cases: [(&[&str], &str); 8] = [
        (&[&s1, &s2, &s2, &s3], "are both shard 2/3: they overlap"),
        (&[&s1, &s3], "shard 2/3 of seeds 0..30 missing"),
        (&[&s1, &s2, &other_n], "mismatched shards"),
        (&[&s1, &s2, &fifo], "with tie_break \"fifo\""),
        (&[&low, &high], "(seeds 0..20) and"),
        (&[&low, &far], "seeds 20..25 are in none of the reports"),
        (&[&s1, &not_json], "not.json:2:0: not JSON"),
        (
            &[&not_report],
            "not a loopsim explore report: the report has no `report_version`",
        ),
    ];
    for (reports, message) in cases {
        let mut args = vec!["merge"];
        args.extend_from_slice(reports);
        let out = loopsim(&args);
        assert_eq!(out.status.code(), Some(2), "{reports:?}");
        assert!(out.stdout.is_empty(), "nothing is merged: {reports:?}");
        assert!(
            stderr(&out).contains(message),
            "{message}: {}",
            stderr(&out)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_shard_comes_from_the_environment_too() {
    let json = |envs: &[(&str, &str)], args: &[&str]| -> (Option<i32>, Value, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_loopsim"));
        command
            .args(["explore", FAILING, "--seeds", "20", "--format", "json"])
            .args(args)
            .current_dir(ROOT)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("LOOPSIM_SHARD")
            .env_remove("LOOPSIM_SHARD_COUNT");
        for (k, v) in envs {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        let value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), value, stderr(&out))
    };
    let shard = |v: &Value| v["options"]["shard"].clone();
    let (_, flag, _) = json(&[], &["--shard", "2/4"]);
    assert_eq!(shard(&flag), "2/4");
    let (_, var, _) = json(&[("LOOPSIM_SHARD", "2/4")], &[]);
    assert_eq!(var, flag);
    let (_, indexed, _) = json(
        &[("JOB_COMPLETION_INDEX", "1"), ("LOOPSIM_SHARD_COUNT", "4")],
        &[],
    );
    assert_eq!(indexed, flag);
    let (_, flags, _) = json(&[], &["--shard-index", "1", "--shard-count", "4"]);
    assert_eq!(flags, flag);
    // An Indexed Job's index alone shards nothing: every pod of a job that
    // does not shard would otherwise run a different part.
    let (_, alone, _) = json(&[("JOB_COMPLETION_INDEX", "1")], &[]);
    assert_eq!(shard(&alone), Value::Null);
    assert_eq!(alone["seeds_run"], 20);
    for (envs, args, message) in [
        (
            &[("JOB_COMPLETION_INDEX", "4"), ("LOOPSIM_SHARD_COUNT", "4")][..],
            &[][..],
            "is not below --shard-count 4",
        ),
        (
            &[("LOOPSIM_SHARD", "1/2")],
            &["--shard-count", "4"],
            "give one",
        ),
        (&[], &["--shard-count", "4"], "needs --shard-index"),
        (&[("LOOPSIM_SHARD", "5/4")], &[], "expected `K/N`"),
    ] {
        let (code, _, err) = json(envs, args);
        assert_eq!(code, Some(2), "{envs:?} {args:?}");
        assert!(err.contains(message), "{message}: {err}");
    }
}

#[test]
fn every_shipped_yaml_file_parses_and_clusterfuzzlite_builds_rust() {
    for file in [
        ".github/workflows/explore.yml",
        ".github/workflows/cflite_pr.yml",
        "examples/k8s/explore-job.yaml",
        ".clusterfuzzlite/project.yaml",
    ] {
        assert!(yaml(file).is_object(), "{file}");
    }
    assert_eq!(yaml(".clusterfuzzlite/project.yaml")["language"], "rust");
    let pr = yaml(".github/workflows/cflite_pr.yml");
    let steps = pr["jobs"]["PR"]["steps"].as_array().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert_eq!(
        uses,
        [
            "google/clusterfuzzlite/actions/build_fuzzers@v1",
            "google/clusterfuzzlite/actions/run_fuzzers@v1"
        ]
    );
    assert_eq!(steps[0]["with"]["language"], "rust");
    assert_eq!(steps[1]["with"]["mode"], "code-change");
    // The Dockerfile puts build.sh where ClusterFuzzLite runs it, and
    // build.sh builds every cargo-fuzz target of fuzz/Cargo.toml.
    let dockerfile =
        std::fs::read_to_string(format!("{ROOT}/.clusterfuzzlite/Dockerfile")).unwrap();
    assert!(dockerfile.contains("FROM gcr.io/oss-fuzz-base/base-builder-rust"));
    assert!(dockerfile.contains("COPY .clusterfuzzlite/build.sh $SRC/"));
    let build = std::fs::read_to_string(format!("{ROOT}/.clusterfuzzlite/build.sh")).unwrap();
    let manifest = std::fs::read_to_string(format!("{ROOT}/fuzz/Cargo.toml")).unwrap();
    let targets: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "loopsim-fuzz")
        .collect();
    assert_eq!(targets, ["parse", "schedule", "api"]);
    assert!(build.contains(&format!("targets=({})", targets.join(" "))));
}

//! The pictures of a run: lanes and lines, the Chrome trace, the page's
//! data (the browser itself is driven in `tests/browser.rs`).

use loopsim::scenario::{self, RunOptions};
use loopsim::view::lanes::{place, LaneKind};
use std::process::Command;

const RACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/175_timeout_race.scn"
);

#[test]
fn each_event_has_its_lane_and_scenario_line() {
    let (source, parsed) = scenario::read_and_parse(RACE.as_ref(), false).unwrap();
    let options = RunOptions {
        record_state: true,
        ..RunOptions::default()
    };
    let outcome = scenario::run(&parsed, &options);
    let lanes = place(&parsed, &source, &outcome);
    let placed: Vec<String> = outcome
        .trace
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let lane = &lanes.lanes[lanes.lane_of[i]];
            format!(
                "{:<9} {:<8} line {:>2}  {}",
                lane.kind.as_str(),
                lane.name,
                lanes.line_of[i],
                e.kind.to_text()
            )
        })
        .collect();
    insta::assert_snapshot!(placed.join("\n"), @r#"
    task      client   line 11  step task=client
    task      client   line 12  log text="sending request"
    callback  give_up  line  8  call name=give_up
    future    reply    line  9  done name=reply state=exception
    task      client   line 13  step task=client
    task      client   line 14  error message="invalid state"
    task      client   line 14  done name=client state=result value=none
    loop      loop     line  0  stop
    main      main     line 19  error message="timeout"
    main      main     line 20  check_failed cond="result reply == \"ok\""
    "#);
    assert_eq!(lanes.lanes[0].kind, LaneKind::Main);
}

#[test]
fn chrome_trace_has_a_slice_per_pass_and_an_instant_per_event() {
    let out = Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .args(["run", RACE, "--format", "chrome"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the run fails its check");
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let events = trace["traceEvents"].as_array().unwrap();
    let of = |ph: &'static str| events.iter().filter(move |e| e["ph"] == ph);
    let passes: Vec<_> = of("X").collect();
    assert_eq!(passes.len(), 3);
    // Pass 2 waited from t=0 to t=3: a slice of 3 s, in microseconds.
    assert_eq!(passes[1]["name"], "pass #2");
    assert_eq!(passes[1]["ts"].as_f64(), Some(0.0));
    assert_eq!(passes[1]["dur"].as_f64(), Some(3e6));
    assert_eq!(passes[1]["args"]["due"][0]["name"], "wake client");
    let instants: Vec<_> = of("i").collect();
    assert_eq!(instants.len(), 10);
    assert_eq!(instants[2]["name"], "call name=give_up");
    assert_eq!(instants[2]["ts"].as_f64(), Some(3e6));
    assert_eq!(instants[2]["args"]["line"], 8);
    // One named track per lane, and one for the passes.
    let tracks: Vec<&str> = of("M")
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tracks,
        [
            "passes (loop main)",
            "main main",
            "task client",
            "callback give_up",
            "future reply",
            "loop loop"
        ]
    );
}

#[test]
fn run_state_prints_states_between_events_in_both_forms() {
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_loopsim"))
            .args(["run", RACE, "--state", "--format", format])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run("text");
    assert!(
        text.starts_with("-- pass #1 t=0.0\n   ready:  step client\n"),
        "{text}"
    );
    assert!(text.contains("   due:    t=3.0 wake client, t=3.0 give_up\n"));
    let json = run("json");
    let states: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["state"].is_object())
        .collect();
    assert_eq!(states.len(), 3);
    assert_eq!(states[1]["state"]["tasks"][0]["until"].as_f64(), Some(3.0));
    let plain = Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .args(["run", RACE])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8(plain.stdout).unwrap().contains("-- pass"),
        "off by default"
    );
}

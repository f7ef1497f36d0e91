//! The loop's state at each pass (`LoopConfig::record_state`, `loopsim run
//! --state`): what it lists is what the loop then does, and recording it
//! changes nothing else.

use loopsim::loop_state::{render_with_states, Awaits, PassState, TimerOrder};
use loopsim::scenario::{self, Outcome, Overrides, RunOptions};
use loopsim::trace::{Event, Format};
use loopsim::TieBreak;
use std::path::PathBuf;

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "scn"))
            .collect();
    files.sort();
    files
}

fn run(path: &std::path::Path, overrides: Overrides, record_state: bool) -> Outcome {
    let (_, parsed) = scenario::read_and_parse(path, false).unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        overrides,
        record_state,
        ..RunOptions::default()
    };
    scenario::run(&parsed, &options)
}

/// The timers that became due in a pass are the live timers the state
/// listed first, in the listed order: the listing is the order the policy
/// pops them (under `heapq`, CPython's heap order, compaction included).
fn check_due_is_listed_first(name: &str, state: &PassState) {
    let live: Vec<(i64, &str)> = state
        .timers
        .iter()
        .filter(|t| !t.cancelled)
        .map(|t| (t.when, &*t.name))
        .collect();
    // Cancelled timers leave at the pass's sweep when at the head, or go
    // to the ready queue with the others and are skipped there.
    let due: Vec<(i64, &str)> = state
        .due
        .iter()
        .filter(|t| !t.cancelled)
        .map(|t| (t.when, &*t.name))
        .collect();
    assert!(due.len() <= live.len(), "{name} pass {}", state.iteration);
    assert_eq!(
        &live[..due.len()],
        &due[..],
        "{name} pass {}: the due timers are not the first listed",
        state.iteration
    );
    assert!(state.due.iter().all(|t| t.when <= state.now));
    assert!(live[due.len()..].iter().all(|(when, _)| *when > state.now));
}

#[test]
fn states_list_timers_in_the_order_they_fire_and_change_no_trace() {
    let mut passes = 0;
    for path in shipped() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for policy in TieBreak::ALL {
            for seed in [0, 1] {
                let overrides = Overrides {
                    seed: Some(seed),
                    tie_break: Some(policy),
                    ..Overrides::default()
                };
                let plain = run(&path, overrides.clone(), false);
                let observed = run(&path, overrides, true);
                assert_eq!(
                    plain.trace, observed.trace,
                    "{name}: --state changed the trace"
                );
                assert!(plain.states.is_empty() && plain.sources.is_empty());
                assert_eq!(observed.sources.len(), observed.trace.len(), "{name}");
                let mut at = 0;
                for state in &observed.states {
                    assert!(state.at_event >= at && state.at_event <= observed.trace.len());
                    at = state.at_event;
                    assert_eq!(state.order, TimerOrder::Policy(policy));
                    assert!(state.now >= state.time);
                    check_due_is_listed_first(&name, state);
                    passes += 1;
                }
                // A pass's events carry its number and its clock after the wait.
                for (i, state) in observed.states.iter().enumerate() {
                    let end = observed
                        .states
                        .get(i + 1)
                        .map_or(observed.trace.len(), |s| s.at_event);
                    for event in &observed.trace[state.at_event..end] {
                        if event.iteration == state.iteration && state.loop_id == 0 {
                            assert_eq!(event.time, state.now, "{name}: {event}");
                        }
                    }
                }
            }
        }
    }
    assert!(passes > 1000, "{passes} passes checked");
}

fn state_text(file: &str, overrides: Overrides) -> String {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).join(file);
    let outcome = run(&path, overrides, true);
    render_with_states(&outcome.trace, &outcome.states, Format::Text)
}

#[test]
fn a_sleeping_task_shows_its_wake_up_timer_and_the_clock_jump() {
    insta::assert_snapshot!(state_text("13_run_until_complete_sleep.scn", Overrides::default()), @r#"
    -- pass #1 t=0.0
       ready:  step main_coro
       timers: (empty)
       tasks:  main_coro: first step ready
    #1 t=0.0 step task=main_coro
    #1 t=0.0 log text="hello"
    -- pass #2 t=0.0 -> 1.0 (waited 1.0)
       ready:  (empty)
       timers: t=1.0 wake main_coro   [fifo]
       due:    t=1.0 wake main_coro
       tasks:  main_coro: sleep until t=1.0
    -- pass #3 t=1.0
       ready:  step main_coro
       timers: (empty)
       tasks:  main_coro: step ready
    #3 t=1.0 step task=main_coro
    #3 t=1.0 log text="world"
    #3 t=1.0 done name=main_coro state=result value=5
    -- pass #4 t=1.0
       ready:  stop (run_until_complete)
       timers: (empty)
       tasks:  (empty)
    #4 t=1.0 stop
    #4 t=1.0 returned driver=run_until_complete value=5
    "#);
}

#[test]
fn heapq_ties_are_listed_in_cpythons_pop_order() {
    let text = state_text("43_heapq_eight_with_later.scn", Overrides::default());
    let first: Vec<&str> = text.lines().take(5).collect();
    assert_eq!(
        first,
        [
            "-- pass #1 t=0.0 -> 5.0 (waited 5.0)",
            "   ready:  (empty)",
            "   timers: t=5.0 A, t=5.0 C, t=5.0 G, t=5.0 F, t=5.0 H, t=5.0 B, t=5.0 D, t=5.0 E, t=6.0 Z   [heapq]",
            "   due:    t=5.0 A, t=5.0 C, t=5.0 G, t=5.0 F, t=5.0 H, t=5.0 B, t=5.0 D, t=5.0 E",
            "   tasks:  (empty)",
        ]
    );
}

#[test]
fn a_tie_order_script_says_so_and_its_due_order_is_the_scripts() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/47_ties_fifo.scn"
    ));
    let outcome = run(
        &path,
        Overrides {
            tie_order: Some(vec![2, 1]),
            ..Overrides::default()
        },
        true,
    );
    let with_ties = outcome
        .states
        .iter()
        .find(|s| s.due.len() >= 3)
        .expect("a pass where three timers tie");
    assert_eq!(with_ties.order, TimerOrder::Scripted(TieBreak::Fifo));
    let calls: Vec<&str> = outcome.trace[with_ties.at_event..]
        .iter()
        .filter_map(|e: &Event| match &e.kind {
            loopsim::EventKind::Call { name } if e.iteration == with_ties.iteration => {
                Some(&**name)
            }
            _ => None,
        })
        .collect();
    let due: Vec<&str> = with_ties.due.iter().map(|t| &*t.name).collect();
    assert_eq!(calls[..due.len()], due[..]);
}

#[test]
fn cancelled_waits_and_awaited_futures_are_named() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/31_cancel_while_awaiting_future.scn"
    ));
    let outcome = run(&path, Overrides::default(), true);
    let awaiting = outcome
        .states
        .iter()
        .flat_map(|s| &s.tasks)
        .find(|t| matches!(t.awaits, Awaits::Future { .. }))
        .expect("a task awaiting a future");
    assert!(awaiting.to_string().contains("awaits "), "{awaiting}");
    let json = outcome.states[0].to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(value["state"]["ready"].is_array(), "{json}");
}

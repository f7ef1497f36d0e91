//! A scenario and the same program written against the Rust API produce the
//! same trace: the interpreter is a thin layer over the library's loop.

use loopsim::scenario::{self, RunOptions};
use loopsim::trace::{render, Format};
use loopsim::*;

fn scenario_trace(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let (_, parsed) = scenario::read_and_parse(&path, false).unwrap();
    render(
        &scenario::run(&parsed, &RunOptions::default()).trace,
        Format::Text,
    )
}

#[test]
fn a_task_awaiting_a_task() {
    let lp = EventLoop::new();
    let parent = lp
        .create_task_named("parent", async {
            let lp = get_running_loop().unwrap();
            let child = lp.create_task_named("child", async {
                get_running_loop().unwrap().log("child_start");
                sleep(1.0).await?;
                get_running_loop().unwrap().log("child_end");
                Ok(Value::Int(7))
            })?;
            child.await?;
            lp.log("parent_resumed");
            Ok(Value::Int(8))
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&parent), Ok(Value::Int(8)));
    assert_eq!(
        render(&lp.trace(), Format::Text),
        scenario_trace("scenarios/26_task_await_task.scn")
    );
}

#[test]
fn cancelling_a_sleeping_task() {
    let lp = EventLoop::new();
    let sleeper = lp
        .create_task_named("sleeper", async {
            let lp = get_running_loop().unwrap();
            lp.log("sleeping");
            sleep(10.0).await?;
            lp.log("never");
            Ok(Value::None)
        })
        .unwrap();
    let target = sleeper.clone();
    lp.call_later_named(1.0, "killer", move |_: &EventLoop| {
        target.cancel();
    })
    .unwrap();
    assert_eq!(lp.run_until_complete(&sleeper), Err(Error::Cancelled));
    assert_eq!(lp.run_forever(), Ok(Ended::Idle));
    assert_eq!(lp.time(), 1.0);
    assert_eq!(
        render(&lp.trace(), Format::Text),
        scenario_trace("scenarios/30_cancel_while_sleeping.scn")
    );
}

#[test]
fn wait_for_in_time_and_timing_out() {
    let lp = EventLoop::new();
    let quick = lp
        .create_task_named("quick", async {
            sleep(1.0).await?;
            get_running_loop().unwrap().log("quick_done");
            Ok(Value::Int(7))
        })
        .unwrap();
    let slow = lp
        .create_task_named("slow", async {
            sleep(5.0).await?;
            get_running_loop().unwrap().log("never");
            Ok(Value::None)
        })
        .unwrap();
    let awaited = quick.clone();
    let waits_quick = lp
        .create_task_named("waits_quick", async move {
            let value = wait_for(awaited, 2.0).await?;
            get_running_loop().unwrap().log("got_quick");
            assert_eq!(value, Value::Int(7));
            Ok(Value::None)
        })
        .unwrap();
    let awaited = slow.clone();
    let waits_slow = lp
        .create_task_named("waits_slow", async move {
            wait_for(awaited, 2.0).await?;
            get_running_loop().unwrap().log("never_either");
            Ok(Value::None)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&waits_quick), Ok(Value::None));
    assert_eq!(lp.run_until_complete(&waits_slow), Err(Error::Timeout));
    assert!(slow.cancelled(), "the awaited task is cancelled, and done");
    assert_eq!(lp.time(), 2.0);
    assert_eq!(
        render(&lp.trace(), Format::Text),
        scenario_trace("scenarios/76_wait_for_in_time_and_timeout.scn")
    );
}

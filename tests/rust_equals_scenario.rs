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
    assert_eq!(lp.run_forever(), Err(Error::Idle));
    assert_eq!(lp.time(), 1.0);
    assert_eq!(
        render(&lp.trace(), Format::Text),
        scenario_trace("scenarios/30_cancel_while_sleeping.scn")
    );
}

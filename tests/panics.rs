//! A callback or task that panics: the panic reaches the caller of the
//! driver, and the loop is left as asyncio's `finally` leaves it (not
//! running, not stopping, the thread's running loop restored), so that the
//! same loop and the thread's other loops can run again.

use loopsim::{get_running_loop, EventLoop};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The loop is usable after the panic: it runs again, and so does another.
fn assert_usable(lp: &EventLoop) {
    assert!(!lp.is_running(), "the loop still says it is running");
    assert!(
        get_running_loop().is_none(),
        "the thread still has a running loop"
    );
    lp.call_soon(|lp: &EventLoop| lp.stop()).unwrap();
    lp.run_forever().expect("the same loop runs again");
    let other = EventLoop::new();
    other.call_soon(|lp: &EventLoop| lp.stop()).unwrap();
    other
        .run_forever()
        .expect("another loop on this thread runs");
    let task = lp.create_task(async { Ok(7) }).unwrap();
    assert_eq!(lp.run_until_complete(&task).unwrap(), 7, "tasks step again");
}

#[test]
fn a_panicking_callback_propagates_and_leaves_the_loop_usable() {
    let lp = EventLoop::new();
    lp.call_soon(|_: &EventLoop| -> () { panic!("boom in a callback") })
        .unwrap();
    lp.call_soon(|lp: &EventLoop| lp.log("after the panic"))
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| lp.run_forever()));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in a callback"));
    assert_usable(&lp);
    // What was queued behind the panicking callback stayed queued, and ran
    // in the next run.
    let logs: Vec<String> = lp.trace().iter().map(|e| e.to_text()).collect();
    assert!(
        logs.iter()
            .any(|l| l.ends_with("log text=\"after the panic\"")),
        "{logs:?}"
    );
}

#[test]
fn a_panicking_task_propagates_and_leaves_the_loop_usable() {
    let lp = EventLoop::new();
    let task = lp
        .create_task(async {
            loopsim::yield_now().await?;
            if true {
                panic!("boom in a task");
            }
            Ok(())
        })
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| lp.run_until_complete(&task)));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in a task"));
    assert_usable(&lp);
}

#[test]
fn a_panic_in_a_nested_loop_restores_the_outer_state() {
    // Loop B panics while loop A is not running: afterwards neither runs,
    // and A can still be run.
    let a = EventLoop::new();
    let b = a.new_event_loop();
    b.call_soon(|_: &EventLoop| -> () { panic!("boom in b") })
        .unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| b.run_forever())).is_err());
    assert!(!b.is_running());
    assert_usable(&a);
    assert_usable(&b);
}

//! Every example of the asyncio lesson, written against the Rust API, with
//! its exact trace. The iteration numbers are CPython's (checked against
//! real asyncio by the conformance suite).

use loopsim::trace::{render, Format};
use loopsim::*;
use std::cell::RefCell;
use std::rc::Rc;

fn text(lp: &EventLoop) -> String {
    render(&lp.trace(), Format::Text)
}

#[test]
fn get_new_and_set_event_loop() {
    let first = get_event_loop();
    assert_eq!(
        first,
        get_event_loop(),
        "get_event_loop returns the current loop"
    );
    let other = new_event_loop();
    assert_ne!(first, other, "new_event_loop makes a new loop");
    assert_eq!(
        first,
        get_event_loop(),
        "new_event_loop does not make it current"
    );
    set_event_loop(&other);
    assert_eq!(other, get_event_loop());
}

#[test]
fn run_until_complete_of_a_coroutine_that_sleeps() {
    let lp = EventLoop::new();
    let result = lp.block_on(async {
        sleep(1.0).await?;
        Ok::<_, Error>("hello")
    });
    assert_eq!(result, Ok("hello"));
    assert_eq!(lp.time(), 1.0);
    insta::assert_snapshot!(text(&lp), @r#"
    #1 t=0.0 step task=Task-1
    #3 t=1.0 step task=Task-1
    #3 t=1.0 done name=Task-1 state=result value="hello"
    #4 t=1.0 stop
    #4 t=1.0 returned driver=run_until_complete value="hello"
    "#);
}

#[test]
fn run_forever_and_stop_from_a_callback() {
    let lp = EventLoop::new();
    lp.call_soon_named("hello", |lp: &EventLoop| lp.log("Hello World"))
        .unwrap();
    lp.call_later_named(2.0, "bye", |lp: &EventLoop| lp.stop())
        .unwrap();
    lp.call_later_named(3.0, "never", |_: &EventLoop| ())
        .unwrap();
    assert_eq!(lp.run_forever(), Ok(Ended::Stopped));
    insta::assert_snapshot!(text(&lp), @r#"
    #1 t=0.0 call name=hello
    #1 t=0.0 log text="Hello World"
    #2 t=2.0 call name=bye
    #2 t=2.0 stop
    #2 t=2.0 returned driver=run_forever
    "#);
}

#[test]
fn stop_before_run_forever_runs_one_batch() {
    let lp = EventLoop::new();
    lp.stop();
    lp.call_soon_named("a", |lp: &EventLoop| {
        lp.call_soon_named("b", |_: &EventLoop| ()).unwrap();
    })
    .unwrap();
    assert_eq!(lp.run_forever(), Ok(Ended::Stopped));
    assert_eq!(lp.iteration(), 1);
    insta::assert_snapshot!(text(&lp), @r"
    #0 t=0.0 stop
    #1 t=0.0 call name=a
    #1 t=0.0 returned driver=run_forever
    ");
}

#[test]
fn is_running_inside_and_outside() {
    let lp = EventLoop::new();
    assert!(!lp.is_running());
    let seen = Rc::new(RefCell::new(None));
    let inside = seen.clone();
    lp.call_soon(move |lp: &EventLoop| {
        *inside.borrow_mut() = Some(lp.is_running());
        lp.stop();
    })
    .unwrap();
    lp.run_forever().unwrap();
    assert_eq!(*seen.borrow(), Some(true));
    assert!(!lp.is_running());
}

#[test]
fn call_soon_call_later_call_at() {
    let lp = EventLoop::new();
    lp.call_at_named(3.0, "at_3", |_: &EventLoop| ()).unwrap();
    lp.call_later_named(1.0, "later_1", |_: &EventLoop| ())
        .unwrap();
    lp.call_soon_named("soon", |_: &EventLoop| ()).unwrap();
    lp.call_later_named(-1.0, "past", |_: &EventLoop| ())
        .unwrap();
    assert_eq!(lp.run_forever(), Ok(Ended::Idle));
    insta::assert_snapshot!(text(&lp), @r"
    #1 t=0.0 call name=soon
    #1 t=0.0 call name=past
    #2 t=1.0 call name=later_1
    #3 t=3.0 call name=at_3
    #4 t=3.0 idle
    ");
}

#[test]
fn create_task_and_run_until_complete() {
    let lp = EventLoop::new();
    let worker = lp
        .create_task_named("worker", async {
            yield_now().await?;
            sleep(0.5).await?;
            Ok::<_, Error>(7i64)
        })
        .unwrap();
    let waiter = worker.clone();
    let main = lp
        .create_task_named("main", async move { Ok::<_, Error>(waiter.await? * 6) })
        .unwrap();
    assert_eq!(lp.run_until_complete(&main), Ok(42));
    insta::assert_snapshot!(text(&lp), @r"
    #1 t=0.0 step task=worker
    #1 t=0.0 step task=main
    #2 t=0.0 step task=worker
    #4 t=0.5 step task=worker
    #4 t=0.5 done name=worker state=result value=7
    #5 t=0.5 step task=main
    #5 t=0.5 done name=main state=result value=42
    #6 t=0.5 stop
    #6 t=0.5 returned driver=run_until_complete value=42
    ");
}

/// Fires `names` at one deadline (plus `extra` later timers) under `heapq`
/// and returns the order they ran in.
fn heapq_order(names: &[&str], later: usize) -> String {
    let lp = LoopConfig {
        tie_break: TieBreak::Heapq,
        ..LoopConfig::default()
    }
    .build();
    let order = Rc::new(RefCell::new(Vec::new()));
    for name in names {
        let (order, name) = (order.clone(), name.to_string());
        lp.call_at(5.0, move |_: &EventLoop| order.borrow_mut().push(name))
            .unwrap();
    }
    for _ in 0..later {
        lp.call_at(10.0, |_: &EventLoop| ()).unwrap();
    }
    let _ = lp.run_forever();
    let order = order.borrow().join(" ");
    order
}

#[test]
fn heapq_orders_are_cpythons() {
    let letters = ["A", "B", "C", "D", "E", "F", "G", "H"];
    assert_eq!(heapq_order(&letters, 0), "A C G F H E B D");
    assert_eq!(heapq_order(&letters, 1), "A C G F H B D E");
    let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    assert_eq!(heapq_order(&digits, 0), "0 2 6 9 8 5 7 4 1 3");
}

#[test]
fn fifo_and_random_ties() {
    let run = |tie_break, seed| {
        let lp = LoopConfig {
            tie_break,
            seed,
            ..LoopConfig::default()
        }
        .build();
        for name in ["A", "B", "C", "D", "E", "F", "G", "H"] {
            lp.call_at_named(5.0, name, |_: &EventLoop| ()).unwrap();
        }
        let _ = lp.run_forever();
        text(&lp)
    };
    assert!(run(TieBreak::Fifo, 1).starts_with("#1 t=5.0 call name=A\n#1 t=5.0 call name=B"));
    assert_eq!(
        run(TieBreak::Random, 3),
        run(TieBreak::Random, 3),
        "same seed, same order"
    );
    let orders: std::collections::BTreeSet<String> =
        (0..20).map(|seed| run(TieBreak::Random, seed)).collect();
    assert!(
        orders.len() > 10,
        "seeds give different orders: {}",
        orders.len()
    );
}

#[test]
fn a_wait_is_capped_at_one_day() {
    let lp = EventLoop::new();
    lp.call_later_named(2.5 * 86_400.0, "late", |_: &EventLoop| ())
        .unwrap();
    assert_eq!(lp.run_forever(), Ok(Ended::Idle));
    insta::assert_snapshot!(text(&lp), @r"
    #3 t=216000.0 call name=late
    #4 t=216000.0 idle
    ");
}

#[test]
fn every_loop_error_message() {
    let lp = EventLoop::new();
    let other = lp.new_event_loop();
    lp.call_soon(move |lp: &EventLoop| {
        let _ = lp.run_forever();
        let _ = lp.close();
        let _ = other.run_forever();
        lp.stop();
    })
    .unwrap();
    lp.run_forever().unwrap();
    let fut = lp.create_future_named::<i64>("f");
    fut.set_result(1).unwrap();
    assert_eq!(fut.set_result(2), Err(Error::InvalidState));
    let pending = lp.create_future::<()>();
    lp.stop();
    assert_eq!(
        lp.run_until_complete(&pending),
        Err(Error::StoppedBeforeComplete)
    );
    lp.close().unwrap();
    assert_eq!(lp.call_soon(|_: &EventLoop| ()).err(), Some(Error::Closed));
    insta::assert_snapshot!(text(&lp), @r#"
    #1 t=0.0 call name=callback
    #1 t=0.0 error message="This event loop is already running"
    #1 t=0.0 error message="Cannot close a running event loop"
    #0 t=0.0 error message="Cannot run the event loop while another loop is running"
    #1 t=0.0 stop
    #1 t=0.0 returned driver=run_forever
    #1 t=0.0 done name=f state=result value=1
    #1 t=0.0 error message="invalid state"
    #1 t=0.0 stop
    #2 t=0.0 error message="Event loop stopped before Future completed."
    #2 t=0.0 error message="Event loop is closed"
    "#);
}

#[test]
fn cancelling_tasks_where_cpython_would() {
    let lp = EventLoop::new();
    let never_started = lp
        .create_task_named("never_started", async { Ok::<_, Error>(()) })
        .unwrap();
    assert!(never_started.cancel());
    let sleeper = lp
        .create_task_named("sleeper", async { sleep(10.0).await.map(|_| 1i64) })
        .unwrap();
    let fut = lp.create_future_named::<i64>("fut");
    let awaited = fut.clone();
    let waiter = lp
        .create_task_named("waiter", async move { awaited.await })
        .unwrap();
    let finished = lp
        .create_task_named("finished", async { Ok::<_, Error>(()) })
        .unwrap();
    let (s, w) = (sleeper.clone(), waiter.clone());
    lp.call_later_named(1.0, "cancel_both", move |_: &EventLoop| {
        s.cancel();
        w.cancel();
    })
    .unwrap();
    let _ = lp.run_forever();
    assert!(
        !finished.cancel(),
        "cancelling a finished task does nothing"
    );
    assert!(
        never_started.cancelled() && sleeper.cancelled() && waiter.cancelled() && fut.cancelled()
    );
    insta::assert_snapshot!(text(&lp), @r"
    #1 t=0.0 step task=never_started
    #1 t=0.0 done name=never_started state=cancelled
    #1 t=0.0 step task=sleeper
    #1 t=0.0 step task=waiter
    #1 t=0.0 step task=finished
    #1 t=0.0 done name=finished state=result value=none
    #2 t=1.0 call name=cancel_both
    #2 t=1.0 done name=fut state=cancelled
    #3 t=1.0 step task=sleeper
    #3 t=1.0 done name=sleeper state=cancelled
    #3 t=1.0 step task=waiter
    #3 t=1.0 done name=waiter state=cancelled
    #4 t=1.0 idle
    ");
}

#[test]
fn a_raising_callback_reaches_the_exception_handler() {
    let lp = EventLoop::new();
    lp.call_soon_named("boom", |_: &EventLoop| Err(Error::raised("kaput")))
        .unwrap();
    let _ = lp.run_forever();
    insta::assert_snapshot!(text(&lp), @r#"
    #1 t=0.0 call name=boom
    #1 t=0.0 exception name=boom message="kaput"
    #2 t=0.0 idle
    "#);
}

#[test]
fn recording_can_be_turned_off() {
    let lp = LoopConfig {
        record_trace: false,
        ..LoopConfig::default()
    }
    .build();
    lp.call_soon(|lp: &EventLoop| lp.log("unseen")).unwrap();
    let _ = lp.run_forever();
    assert!(lp.trace().is_empty());
}

/// `Task-N` numbers the tasks made without a name, in order, as CPython
/// does (`Task-1 named Task-2`), whether or not the trace is on (with it off
/// the name is only written out when asked for). Loops sharing a world share
/// the count; a new world starts again at 1.
#[test]
fn default_task_names_count_every_task() {
    for record_trace in [true, false] {
        let lp = LoopConfig {
            record_trace,
            ..LoopConfig::default()
        }
        .build();
        let first = lp.create_task(async { Ok::<_, Error>(()) }).unwrap();
        let named = lp
            .create_task_named("named", async { Ok::<_, Error>(()) })
            .unwrap();
        let third = lp.create_task(async { Ok::<_, Error>(()) }).unwrap();
        lp.run_until_complete(&third).unwrap();
        let names = [first.name(), named.name(), third.name()];
        assert_eq!(
            names,
            ["Task-1", "named", "Task-2"],
            "trace on: {record_trace}"
        );
        let sibling = lp.new_event_loop();
        let fourth = sibling.create_task(async { Ok::<_, Error>(()) }).unwrap();
        assert_eq!(fourth.name(), "Task-3");
    }
    let fresh = EventLoop::new();
    let task = fresh.create_task(async { Ok::<_, Error>(()) }).unwrap();
    assert_eq!(task.name(), "Task-1");
}

/// A handle names its callback, not the slot the loop stored it in: once
/// the callback has run, its slot is reused, and cancelling the old handle
/// then only marks that handle (as asyncio's `h.cancel()` after the run
/// does), never the callback now in the slot. Clones share the mark, which
/// outlives the loop.
#[test]
fn a_handle_cancelled_after_its_callback_ran_touches_nothing_else() {
    let lp = EventLoop::new();
    let first = lp
        .call_soon_named("first", |lp: &EventLoop| lp.stop())
        .unwrap();
    lp.run_forever().unwrap();
    // `first` has run; `second` takes the slot it left.
    let second = lp.call_soon_named("second", |_: &EventLoop| ()).unwrap();
    let alias = first.clone();
    assert!(!first.cancelled());
    alias.cancel();
    assert!(first.cancelled() && alias.cancelled() && !second.cancelled());
    let _ = lp.run_forever();
    insta::assert_snapshot!(text(&lp), @r"
    #1 t=0.0 call name=first
    #1 t=0.0 stop
    #1 t=0.0 returned driver=run_forever
    #2 t=0.0 call name=second
    #3 t=0.0 idle
    ");
    let timer = lp.call_later(1.0, |_: &EventLoop| ()).unwrap();
    timer.cancel();
    let copy = timer.clone();
    drop(lp);
    assert!(timer.cancelled() && copy.cancelled());
    timer.cancel(); // the loop is gone: nothing to do
}

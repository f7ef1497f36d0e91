//! The workloads on loopsim, shared by `compare_loopsim` (plain binary) and
//! `loop_workloads` (criterion). Each function builds a fresh loop, schedules,
//! runs, checks that every event happened, and returns the number of events.
//!
//! Callbacks capture the target count (8 bytes) and bump a thread-local
//! counter; the one that reaches the target calls `stop()`, as the CPython and
//! tokio versions do.
#![allow(dead_code)]

use crate::common::{SLEEPS_PER_TASK, W5_PAIRS, W5_TASKS, W6_ITEMS, W6_MAXSIZE};
use loopsim::{EventLoop, LoopConfig, Nanos};
use std::cell::Cell;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn bump() -> u64 {
    COUNT.with(|c| {
        let v = c.get() + 1;
        c.set(v);
        v
    })
}

fn reset() {
    COUNT.with(|c| c.set(0));
}

fn count() -> u64 {
    COUNT.with(|c| c.get())
}

/// A loop for benchmarking: no invariant checker, no budgets (W3 1M holds
/// a million timers, more than the default pending budget), the trace on
/// or off.
pub fn new_loop(record_trace: bool) -> EventLoop {
    LoopConfig {
        record_trace,
        check_invariants: false,
        max_iterations: u64::MAX,
        max_events: u64::MAX,
        max_callbacks: u64::MAX,
        max_pending: u64::MAX,
        ..LoopConfig::default()
    }
    .build()
}

fn step(lp: &EventLoop, n: u64) {
    if bump() < n {
        lp.call_soon(move |lp: &EventLoop| step(lp, n))
            .expect("call_soon");
    } else {
        lp.stop();
    }
}

/// W1: a chain of `n` callbacks, each `call_soon`ing the next.
pub fn w1_chain(n: u64, record_trace: bool) -> u64 {
    reset();
    let lp = new_loop(record_trace);
    lp.call_soon(move |lp: &EventLoop| step(lp, n))
        .expect("call_soon");
    lp.run_forever().expect("W1 run_forever");
    assert_eq!(count(), n);
    n
}

/// W2: `n` callbacks scheduled up front, then run.
pub fn w2_bulk(n: u64, record_trace: bool) -> u64 {
    reset();
    let lp = new_loop(record_trace);
    for _ in 0..n {
        lp.call_soon(move |lp: &EventLoop| {
            if bump() == n {
                lp.stop();
            }
        })
        .expect("call_soon");
    }
    lp.run_forever().expect("W2 run_forever");
    assert_eq!(count(), n);
    n
}

/// Schedules one `call_later` per delay (nanoseconds) on `lp`.
pub fn schedule_timers(lp: &EventLoop, delays: &[u64]) {
    let n = delays.len() as u64;
    for &d in delays {
        lp.call_later(Nanos(d as i64), move |lp: &EventLoop| {
            if bump() == n {
                lp.stop();
            }
        })
        .expect("call_later");
    }
}

/// W3: one `call_later` per delay, run until all fired.
pub fn w3_timers(delays: &[u64], record_trace: bool) -> u64 {
    reset();
    let lp = new_loop(record_trace);
    schedule_timers(&lp, delays);
    lp.run_forever().expect("W3 run_forever");
    assert_eq!(count(), delays.len() as u64);
    assert!(lp.time() > 900.0, "clock at {}", lp.time());
    delays.len() as u64
}

/// W4: one task per `SLEEPS_PER_TASK` delays (`N_TASKS` for the full
/// list), task i sleeping `delays[i*10..i*10+10]` in turn. Each task owns a
/// copy of its delays, as the CPython version's task owns its tuple.
pub fn w4_sleeps(delays: &[u64], record_trace: bool) -> u64 {
    reset();
    let tasks = (delays.len() / SLEEPS_PER_TASK) as u64;
    let lp = new_loop(record_trace);
    for mine in delays.chunks_exact(SLEEPS_PER_TASK) {
        let mine: [u64; SLEEPS_PER_TASK] = mine.try_into().expect("a whole chunk");
        lp.create_task(async move {
            for &d in &mine {
                loopsim::sleep(Nanos(d as i64)).await?;
            }
            if bump() == tasks {
                loopsim::get_running_loop().expect("running loop").stop();
            }
            Ok(())
        })
        .expect("create_task");
    }
    lp.run_forever().expect("W4 run_forever");
    assert_eq!(count(), tasks);
    let end = lp.time();
    assert!(end > 0.05 && end < 0.1, "clock at {end}");
    delays.len() as u64
}

/// W5: `W5_TASKS` tasks share one `Lock`; each takes it `W5_PAIRS /
/// W5_TASKS` times, holding it across a `yield` so that the others queue
/// on it: every release hands the lock to the next waiter.
pub fn w5_lock(record_trace: bool) -> u64 {
    let lp = new_loop(record_trace);
    let lock = loopsim::sync::Lock::new();
    let mut tasks = Vec::new();
    for _ in 0..W5_TASKS {
        let lock = lock.clone();
        tasks.push(
            lp.create_task(async move {
                for _ in 0..W5_PAIRS / W5_TASKS {
                    lock.acquire().await?;
                    loopsim::yield_now().await?;
                    lock.release()?;
                }
                Ok(())
            })
            .expect("create_task"),
        );
    }
    let last = tasks.pop().expect("tasks");
    lp.run_until_complete(&last).expect("W5");
    assert!(tasks.iter().all(|t| t.done()) && !lock.locked());
    W5_PAIRS
}

/// W6: a producer puts `W6_ITEMS` integers into a `Queue` of
/// `W6_MAXSIZE`, a consumer gets them all.
pub fn w6_queue(record_trace: bool) -> u64 {
    let lp = new_loop(record_trace);
    let q = loopsim::sync::Queue::new(W6_MAXSIZE);
    let producer = {
        let q = q.clone();
        lp.create_task(async move {
            for i in 0..W6_ITEMS as i64 {
                q.put(i).await?;
            }
            Ok(())
        })
        .expect("create_task")
    };
    let consumer = lp
        .create_task(async move {
            let mut sum = 0i64;
            for _ in 0..W6_ITEMS {
                sum += q.get().await?;
            }
            Ok(sum)
        })
        .expect("create_task");
    let sum = lp.run_until_complete(&consumer).expect("W6");
    assert!(producer.done());
    assert_eq!(sum, (W6_ITEMS as i64 - 1) * W6_ITEMS as i64 / 2);
    W6_ITEMS
}

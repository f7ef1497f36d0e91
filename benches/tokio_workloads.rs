//! The loopsim workloads on tokio, as the baseline: a `current_thread`
//! runtime with `start_paused(true)`, so time auto-advances to the next timer
//! whenever the runtime is idle (tokio's own virtual clock, 1 ms timer
//! resolution).
//!
//! Analogues chosen for asyncio's `call_soon` (W1, W2): one `tokio::spawn`ed
//! task per callback. A task is what tokio puts on its ready queue, and, like
//! a loopsim `Handle`, each costs one allocation. (`spawn_local` would need a
//! `LocalSet` and its second queue; `yield_now` reuses a single task and is
//! printed only as the extra row `W1x_yield_now_1M`.) For `call_later` (W3)
//! each timer is a spawned task awaiting `sleep_until`, with no `DelayQueue`.
//! W4 is 100k tasks each awaiting `sleep` ten times.
//!
//! Output: `name ns_per_event` lines (and `#` comment lines), the format that
//! `benches/compare.sh` reads. `BENCH_REPS` sets the repetitions (default 5;
//! the fastest run is printed).
//!
//! Run: `cargo bench --bench tokio_workloads`

mod common;

use common::*;
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

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

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

/// W1: task k spawns task k+1; the last one wakes `block_on`'s future.
fn chain(k: u64, n: u64, done: Arc<Notify>) {
    tokio::spawn(async move {
        bump();
        if k + 1 < n {
            chain(k + 1, n, done);
        } else {
            done.notify_one();
        }
    });
}

fn w1_chain(n: u64) -> u64 {
    reset();
    let rt = runtime();
    rt.block_on(async {
        let done = Arc::new(Notify::new());
        chain(0, n, done.clone());
        done.notified().await;
    });
    assert_eq!(count(), n);
    n
}

fn w1_yield(n: u64) -> u64 {
    reset();
    let rt = runtime();
    rt.block_on(async {
        tokio::spawn(async move {
            for _ in 0..n {
                bump();
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    assert_eq!(count(), n);
    n
}

fn w2_bulk(n: u64) -> u64 {
    reset();
    let rt = runtime();
    rt.block_on(async {
        let done = Arc::new(Notify::new());
        for _ in 0..n {
            let done = done.clone();
            tokio::spawn(async move {
                if bump() == n {
                    done.notify_one();
                }
            });
        }
        done.notified().await;
    });
    assert_eq!(count(), n);
    n
}

fn w3_timers(delays: &'static [u64]) -> u64 {
    reset();
    let n = delays.len() as u64;
    let rt = runtime();
    rt.block_on(async {
        let done = Arc::new(Notify::new());
        let start = tokio::time::Instant::now();
        for &d in delays {
            let done = done.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(start + Duration::from_nanos(d)).await;
                if bump() == n {
                    done.notify_one();
                }
            });
        }
        done.notified().await;
    });
    assert_eq!(count(), n);
    n
}

/// W4: as loopsim's (`loopsim_work::w4_sleeps`), each task owning its delays.
fn w4_sleeps(delays: &[u64]) -> u64 {
    reset();
    let tasks = N_TASKS as u64;
    let rt = runtime();
    rt.block_on(async {
        let done = Arc::new(Notify::new());
        for mine in delays.chunks_exact(SLEEPS_PER_TASK) {
            let mine: [u64; SLEEPS_PER_TASK] = mine.try_into().expect("a whole chunk");
            let done = done.clone();
            tokio::spawn(async move {
                for &d in &mine {
                    tokio::time::sleep(Duration::from_nanos(d)).await;
                }
                if bump() == tasks {
                    done.notify_one();
                }
            });
        }
        done.notified().await;
    });
    assert_eq!(count(), tasks);
    delays.len() as u64
}

/// W5: `W5_TASKS` tasks share a `tokio::sync::Mutex`, each locking it
/// `W5_PAIRS / W5_TASKS` times and holding it across a `yield_now`, so the
/// others queue on it (tokio's mutex is fair: FIFO, as asyncio's lock).
fn w5_lock() -> u64 {
    let rt = runtime();
    rt.block_on(async {
        let lock = Arc::new(tokio::sync::Mutex::new(0u64));
        let mut tasks = Vec::new();
        for _ in 0..W5_TASKS {
            let lock = lock.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..W5_PAIRS / W5_TASKS {
                    let mut held = lock.lock().await;
                    tokio::task::yield_now().await;
                    *held += 1;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*lock.lock().await, W5_PAIRS);
    });
    W5_PAIRS
}

/// W6: a producer sends `W6_ITEMS` integers through a `tokio::sync::mpsc`
/// channel of `W6_MAXSIZE`, a consumer receives them all.
fn w6_queue() -> u64 {
    let rt = runtime();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(W6_MAXSIZE);
        let producer = tokio::spawn(async move {
            for i in 0..W6_ITEMS {
                tx.send(i).await.unwrap();
            }
        });
        let consumer = tokio::spawn(async move {
            let mut sum = 0u64;
            for _ in 0..W6_ITEMS {
                sum += rx.recv().await.unwrap();
            }
            sum
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), (W6_ITEMS - 1) * W6_ITEMS / 2);
    });
    W6_ITEMS
}

/// M1: 1M sleeping tasks, measured once all are registered with the timer:
/// `block_on`'s own 1 ns sleep can only fire after the runtime has polled
/// every task once and gone idle.
fn m1_memory(delays: &'static [u64]) {
    reset();
    let rt = runtime();
    let (live, peak, fired) = rt.block_on(async {
        CountingAlloc::start();
        let start = tokio::time::Instant::now();
        for &d in delays {
            tokio::spawn(async move {
                tokio::time::sleep_until(start + Duration::from_nanos(d)).await;
                bump();
            });
        }
        tokio::time::sleep(Duration::from_nanos(1)).await;
        let (live, peak) = CountingAlloc::stop();
        (live, peak, count())
    });
    println!(
        "# tokio M1: {fired} of {} timers had fired when measured (1 ms resolution)",
        delays.len()
    );
    report_memory("tokio", delays.len() - fired as usize, live, peak);
    drop(rt);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench
    // binaries without it, and should not spend minutes here.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("tokio_workloads: run with `cargo bench --bench tokio_workloads`");
        return;
    }
    let w3_small: &'static [u64] = Box::leak(w3_delays_ns(N_TIMERS_SMALL).into_boxed_slice());
    let w3_large: &'static [u64] = Box::leak(w3_delays_ns(N_TIMERS_LARGE).into_boxed_slice());
    let w4: &'static [u64] = Box::leak(w4_delays_ns().into_boxed_slice());

    println!(
        "# tokio current_thread, start_paused(true); {} reps",
        reps()
    );
    report("W1_call_soon_chain_1M", || w1_chain(N_SOON));
    report("W2_call_soon_bulk_1M", || w2_bulk(N_SOON));
    report("W3_call_later_100k", || w3_timers(w3_small));
    report("W3_call_later_1M", || w3_timers(w3_large));
    report("W4_sleep_100kx10", || w4_sleeps(w4));
    report("W5_lock_handoff_1M", w5_lock);
    report("W6_queue_pingpong_1M", w6_queue);
    report("W1x_yield_now_1M", || w1_yield(N_SOON));
    if selected("M1") {
        m1_memory(w3_large);
    }
}

//! loopsim's side of `benches/compare.sh`: W1–W6 and M1 as plain timed runs,
//! printed as `name ns_per_event` lines like `tokio_workloads` and
//! `asyncio_workloads.py` print theirs. `BENCH_REPS` sets the repetitions
//! (default 5; the fastest run is printed).
//!
//! Rows without a suffix run with the trace off and the invariant checker
//! off; rows ending in `_trace` run the same workload with the trace on.
//!
//! The counting allocator (for M1) is installed for the whole binary but
//! counts only during M1; otherwise it costs one relaxed load per call, the
//! same as in `tokio_workloads`. The criterion bench `loop_workloads` runs
//! without it, as a cross-check.
//!
//! Run: `cargo bench --bench compare_loopsim`

mod common;
mod loopsim_work;

use common::*;
use loopsim_work::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// M1: 1M pending timers (the W3 delays), counted from an empty loop.
fn m1_memory(delays: &[u64]) {
    let lp = new_loop(false);
    CountingAlloc::start();
    schedule_timers(&lp, delays);
    let (live, peak) = CountingAlloc::stop();
    report_memory("loopsim", delays.len(), live, peak);
    drop(lp);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench
    // binaries without it, and should not spend minutes here.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("compare_loopsim: run with `cargo bench --bench compare_loopsim`");
        return;
    }
    let w3_small = w3_delays_ns(N_TIMERS_SMALL);
    let w3_large = w3_delays_ns(N_TIMERS_LARGE);
    let w4: &'static [u64] = Box::leak(w4_delays_ns().into_boxed_slice());

    println!(
        "# loopsim, trace off / on, invariant checker off; {} reps",
        reps()
    );
    for (suffix, trace) in [("", false), ("_trace", true)] {
        report(&format!("W1_call_soon_chain_1M{suffix}"), || {
            w1_chain(N_SOON, trace)
        });
        report(&format!("W2_call_soon_bulk_1M{suffix}"), || {
            w2_bulk(N_SOON, trace)
        });
        report(&format!("W3_call_later_100k{suffix}"), || {
            w3_timers(&w3_small, trace)
        });
        report(&format!("W3_call_later_1M{suffix}"), || {
            w3_timers(&w3_large, trace)
        });
        report(&format!("W4_sleep_100kx10{suffix}"), || {
            w4_sleeps(w4, trace)
        });
        report(&format!("W5_lock_handoff_1M{suffix}"), || w5_lock(trace));
        report(&format!("W6_queue_pingpong_1M{suffix}"), || w6_queue(trace));
    }
    if selected("M1") {
        m1_memory(&w3_large);
    }
}

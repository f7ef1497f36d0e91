//! Criterion benchmarks of loopsim for W1–W4 (see `benches/README.md`).
//!
//! Each group has two rows: `trace_off` (the trace and the invariant checker
//! off: the loop's own cost) and `trace_on` (the trace recorded, checker
//! still off: what recording costs). Throughput is in events (callbacks,
//! timers or sleeps), so criterion prints events per second; ns per event is
//! the time per iteration divided by the event count in the group name.
//!
//! Small samples keep the whole run to a couple of minutes on 2 cores.
//!
//! Run: `cargo bench --bench loop_workloads`

mod common;
mod loopsim_work;

use common::*;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use loopsim_work::*;
use std::time::Duration;

fn group<'a>(c: &'a mut Criterion, name: &str, events: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(events));
    g
}

fn bench(c: &mut Criterion) {
    // `cargo test --benches` runs each benchmark once, unoptimized and
    // without `--bench`: there, 1/100 of each workload is enough to check it.
    let div = if std::env::args().any(|a| a == "--bench") {
        1
    } else {
        100
    };
    let n_soon = N_SOON / div as u64;
    let w3_small = w3_delays_ns(N_TIMERS_SMALL / div);
    let w3_large = w3_delays_ns(N_TIMERS_LARGE / div);
    let mut w4 = w4_delays_ns();
    w4.truncate(w4.len() / div);
    let w4: &'static [u64] = Box::leak(w4.into_boxed_slice());

    for (row, trace) in [("trace_off", false), ("trace_on", true)] {
        let mut g = group(c, "W1_call_soon_chain_1M", n_soon);
        g.bench_function(row, |b| b.iter(|| w1_chain(n_soon, trace)));
        g.finish();

        let mut g = group(c, "W2_call_soon_bulk_1M", n_soon);
        g.bench_function(row, |b| b.iter(|| w2_bulk(n_soon, trace)));
        g.finish();

        let mut g = group(c, "W3_call_later_100k", w3_small.len() as u64);
        g.bench_function(row, |b| b.iter(|| w3_timers(&w3_small, trace)));
        g.finish();

        let mut g = group(c, "W3_call_later_1M", w3_large.len() as u64);
        g.bench_function(row, |b| b.iter(|| w3_timers(&w3_large, trace)));
        g.finish();

        let mut g = group(c, "W4_sleep_100kx10", w4.len() as u64);
        g.bench_function(row, |b| b.iter(|| w4_sleeps(w4, trace)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

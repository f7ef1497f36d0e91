use loopsim::*;
use std::cell::Cell;
thread_local! { static N: Cell<u64> = const { Cell::new(0) }; }
fn next(lp: &EventLoop) {
    let n = N.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n >= 1_000_000 {
        lp.stop();
    } else {
        let _ = lp.call_soon(next);
    }
}
fn main() {
    for rec in [false, true] {
        let lp = LoopConfig {
            record_trace: rec,
            check_invariants: false,
            max_iterations: u64::MAX,
            ..Default::default()
        }
        .build();
        N.with(|c| c.set(0));
        let _ = lp.call_soon(next);
        let t = std::time::Instant::now();
        lp.run_forever().unwrap();
        println!(
            "W1 rec={rec} {:.1} ns/cb",
            t.elapsed().as_nanos() as f64 / 1e6
        );
        let lp = LoopConfig {
            record_trace: rec,
            check_invariants: false,
            max_iterations: u64::MAX,
            ..Default::default()
        }
        .build();
        for _ in 0..1_000_000 {
            let _ = lp.call_soon(|_: &EventLoop| ());
        }
        let t = std::time::Instant::now();
        let _ = lp.run_forever();
        println!(
            "W2 rec={rec} {:.1} ns/cb",
            t.elapsed().as_nanos() as f64 / 1e6
        );
        let lp = LoopConfig {
            record_trace: rec,
            check_invariants: false,
            max_iterations: u64::MAX,
            ..Default::default()
        }
        .build();
        let mut x: u64 = 88172645463325252;
        let t = std::time::Instant::now();
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let _ = lp.call_later(Nanos((x % 1_000_000_000_000) as i64), |_: &EventLoop| ());
        }
        let _ = lp.run_forever();
        println!(
            "W3 1M rec={rec} {:.1} ns/timer",
            t.elapsed().as_nanos() as f64 / 1e6
        );
    }
}

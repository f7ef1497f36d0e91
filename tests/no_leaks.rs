//! A run frees everything it allocated, even when tasks are still waiting
//! at the end (on a sleep, a future or each other): the fuzzer's leak check
//! found that such tasks kept themselves alive through their done callbacks.

use loopsim::fuzz_support::{check_api, seed_input};
use loopsim::scenario::generate::{generate, GenConfig};
use loopsim::scenario::{parse, run, RunOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Counts the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const WAITING: &str = "\
future f
task sleeper:
    sleep 3
task waiter:
    await f
task chained:
    await sleeper
callback cb:
    log done
main:
    create_task sleeper
    create_task sleeper
    create_task waiter
    create_task chained
    add_done_callback chained cb
    add_done_callback f cb
    call_later 1 cb
    stop
    run_forever
    close
";

/// Net bytes still allocated after `f`, once allocations made the first
/// time (thread-locals, lazily built tables) are out of the way.
fn leaked(f: impl Fn()) -> isize {
    f();
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..10 {
        f();
    }
    LIVE.load(Ordering::SeqCst) - before
}

#[test]
fn runs_leave_nothing_behind() {
    let scenario = parse("waiting.scn", WAITING).unwrap();
    let bytes = leaked(|| drop(run(&scenario, &RunOptions::default())));
    assert_eq!(bytes, 0, "a scenario run with waiting tasks leaked");

    let sources: Vec<String> = (0..50)
        .map(|seed| generate(seed, &GenConfig::default()))
        .collect();
    let parsed: Vec<_> = sources
        .iter()
        .map(|s| parse("gen.scn", s).unwrap())
        .collect();
    let bytes = leaked(|| {
        for scenario in &parsed {
            drop(run(scenario, &RunOptions::default()));
        }
    });
    assert_eq!(bytes, 0, "generated scenario runs leaked");

    let inputs: Vec<Vec<u8>> = (0..50).map(|seed| seed_input(seed, 256)).collect();
    let bytes = leaked(|| {
        for input in &inputs {
            check_api(input).unwrap();
        }
    });
    assert_eq!(bytes, 0, "api programs leaked");
}

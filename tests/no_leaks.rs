//! A run frees everything it allocated, even when tasks are still waiting
//! at the end (on a sleep, a future or each other): the fuzzer's leak check
//! found that such tasks kept themselves alive through their done callbacks.

use loopsim::fuzz_support::{check_api, seed_input};
use loopsim::scenario::generate::{generate, GenConfig};
use loopsim::scenario::{parse, run, run_streamed_keeping, RunOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the bytes this thread allocated and has not freed (the test
/// harness's own threads allocate meanwhile, so a global count would be
/// noisy).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
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
    let before = live();
    for _ in 0..10 {
        f();
    }
    live() - before
}

#[test]
fn runs_leave_nothing_behind() {
    let scenario = parse("waiting.scn", WAITING).unwrap();
    let bytes = leaked(|| drop(run(&scenario, &RunOptions::default())));
    assert_eq!(bytes, 0, "a scenario run with waiting tasks leaked");
    // What `loopsim run` keeps to the end (and then leaves to the exit)
    // is freed when dropped, as `run` frees it.
    let bytes = leaked(|| {
        let sink = Box::new(|_: &loopsim::Event| {});
        let (outcome, remains) = run_streamed_keeping(&scenario, &RunOptions::default(), sink);
        drop((outcome, remains));
    });
    assert_eq!(bytes, 0, "a streamed run's remains leaked");

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

/// Through the Rust API (as the harness runs seeds): a task awaiting a
/// future that is never done, and two tasks awaiting each other, are
/// cycles of `Rc`s (each holds the other's wake-up); closing and dropping
/// the loop frees them. 20,000 such loops used to grow RSS by 200 MB.
#[test]
fn tasks_left_waiting_are_freed_with_their_loop() {
    use loopsim::{EventLoop, Future};
    let awaiting_a_future = || {
        let lp = EventLoop::new();
        let never: Future<i64> = lp.create_future();
        let task = lp
            .create_task(async move { never.await })
            .expect("create_task");
        lp.call_soon(|lp: &EventLoop| lp.stop()).unwrap();
        lp.run_forever().unwrap();
        assert!(!task.done());
        lp.close().unwrap();
    };
    let awaiting_each_other = || {
        let lp = EventLoop::new();
        let slot: std::rc::Rc<std::cell::RefCell<Option<loopsim::Task<i64>>>> = Default::default();
        let other = slot.clone();
        let a = lp
            .create_task(async move {
                loopsim::yield_now().await?;
                let b = other.borrow_mut().take().expect("b");
                b.await
            })
            .unwrap();
        let a2 = a.clone();
        let b = lp.create_task(async move { a2.await }).unwrap();
        *slot.borrow_mut() = Some(b);
        drop(slot);
        lp.call_later(1.0, |lp: &EventLoop| lp.stop()).unwrap();
        lp.run_forever().unwrap();
        assert!(!a.done());
        lp.close().unwrap();
    };
    for (what, case) in [
        (
            "a task awaiting a pending future",
            &awaiting_a_future as &dyn Fn(),
        ),
        ("two tasks awaiting each other", &awaiting_each_other),
    ] {
        case(); // warm up: thread-locals, lazily built statics
        let leaked = leaked(|| {
            for _ in 0..50 {
                case();
            }
        });
        assert_eq!(leaked, 0, "{what}: {leaked} bytes leaked over 50 loops");
    }
}

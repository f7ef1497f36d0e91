//! Shared by the `harness = false` bench binaries (`compare_loopsim`,
//! `tokio_workloads`, and the criterion `loop_workloads`): the workload sizes,
//! the pseudo-random delay sequence, a gated counting allocator, timing and
//! the `name value` output format. `benches/asyncio_workloads.py` mirrors the
//! sequence and the sizes exactly.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// W1 / W2: number of `call_soon` callbacks.
pub const N_SOON: u64 = 1_000_000;
/// W3: the two timer counts.
pub const N_TIMERS_SMALL: usize = 100_000;
pub const N_TIMERS_LARGE: usize = 1_000_000;
/// W4: tasks, and sleeps per task.
pub const N_TASKS: usize = 100_000;
pub const SLEEPS_PER_TASK: usize = 10;
/// M1: pending timers.
pub const N_PENDING: usize = 1_000_000;
/// W5: tasks contending for one lock, and acquire/release pairs in all.
pub const W5_TASKS: u64 = 100;
pub const W5_PAIRS: u64 = 1_000_000;
/// W6: items through a bounded queue of `W6_MAXSIZE`, producer to consumer.
pub const W6_ITEMS: u64 = 1_000_000;
pub const W6_MAXSIZE: usize = 16;

/// The one pseudo-random sequence of every implementation: a 64-bit LCG
/// (Knuth's MMIX constants), seeded with a constant, whose output is the high
/// 32 bits of the state after each step.
pub struct Lcg(u64);

pub const LCG_SEED: u64 = 0x2545_F491_4F6C_DD1D;
const LCG_MUL: u64 = 6_364_136_223_846_793_005;
const LCG_INC: u64 = 1_442_695_040_888_963_407;

impl Lcg {
    pub fn new() -> Lcg {
        Lcg(LCG_SEED)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(LCG_MUL).wrapping_add(LCG_INC);
        (self.0 >> 32) as u32
    }

    /// A value in `[0, bound)`: `(next_u32 * bound) >> 32`, exact in u128.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u32() as u128 * bound as u128) >> 32) as u64
    }
}

impl Default for Lcg {
    fn default() -> Self {
        Lcg::new()
    }
}

/// W3 / M1 delays: the first `n` values in `[0, 1000 s)`, in nanoseconds.
pub fn w3_delays_ns(n: usize) -> Vec<u64> {
    let mut g = Lcg::new();
    (0..n).map(|_| g.below(1_000_000_000_000)).collect()
}

/// W4 delays: value `i * SLEEPS_PER_TASK + j` is task i's j-th sleep, in
/// `[0, 10 ms)`, in nanoseconds.
pub fn w4_delays_ns() -> Vec<u64> {
    let mut g = Lcg::new();
    (0..N_TASKS * SLEEPS_PER_TASK)
        .map(|_| g.below(10_000_000))
        .collect()
}

/// A global allocator that forwards to `System` and, only while
/// [`CountingAlloc::start`] is in force, counts live bytes and their peak.
/// When it is off the cost is one relaxed load per call, paid by loopsim and
/// tokio alike.
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl CountingAlloc {
    /// Starts counting from zero.
    pub fn start() {
        LIVE.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
    }

    /// Stops counting; returns (live bytes now, peak live bytes) allocated
    /// since `start` (frees of older blocks count negative).
    pub fn stop() -> (isize, usize) {
        COUNTING.store(false, Ordering::Relaxed);
        (
            LIVE.load(Ordering::Relaxed) as isize,
            PEAK.load(Ordering::Relaxed),
        )
    }

    /// (live, peak) without stopping.
    pub fn read() -> (isize, usize) {
        (
            LIVE.load(Ordering::Relaxed) as isize,
            PEAK.load(Ordering::Relaxed),
        )
    }

    fn add(n: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            let now = LIVE.fetch_add(n, Ordering::Relaxed).wrapping_add(n);
            if (now as isize) > PEAK.load(Ordering::Relaxed) as isize {
                PEAK.store(now, Ordering::Relaxed);
            }
        }
    }

    fn sub(n: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call forwards to `System` unchanged; only counters are kept.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::add(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::add(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::sub(layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            Self::add(new_size - layout.size());
        } else {
            Self::sub(layout.size() - new_size);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// How many timed repetitions each workload gets (`BENCH_REPS`, default 5).
pub fn reps() -> usize {
    std::env::var("BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(5)
}

/// Name prefixes given on the command line (after `cargo bench --bench X --`;
/// a trailing `$` asks for the exact name); none selects everything.
pub fn selected(name: &str) -> bool {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    wanted.is_empty()
        || wanted.iter().any(|w| match w.strip_suffix('$') {
            Some(exact) => name == exact,
            None => name.starts_with(w.as_str()),
        })
}

/// Nanoseconds this thread has spent on a CPU (Linux schedstat), to tell
/// how much of a wall-clock measurement other processes took.
pub fn on_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Page faults this thread has taken so far (minor and major): a run that
/// takes many got its memory from the kernel afresh, a cost of the
/// allocator's policy as much as of the workload.
pub fn page_faults() -> u64 {
    // SAFETY: `getrusage` writes the struct it is given, nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } != 0 {
        return 0;
    }
    (usage.ru_minflt + usage.ru_majflt) as u64
}

/// Runs `f` (which returns the number of events it did) `reps()` times after
/// one untimed warm-up, and prints `name min_ns_per_event` (the least
/// disturbed run: on a shared 2-core machine the spread is other processes)
/// plus a comment line with the median, the max and the share of the wall
/// time this thread was on a CPU.
pub fn report<F: FnMut() -> u64>(name: &str, mut f: F) {
    if !selected(name) {
        return;
    }
    f();
    let (mut wall_total, mut cpu_total) = (0u128, 0u64);
    // The least on-CPU time per event of any run: on a loaded machine,
    // where the wall time is mostly waiting for a CPU, the one to compare.
    let mut cpu_min = f64::INFINITY;
    let mut faults = Vec::new();
    let mut per_event: Vec<f64> = (0..reps())
        .map(|_| {
            let cpu = on_cpu_ns();
            let faulted = page_faults();
            let t = Instant::now();
            let events = f();
            let wall = t.elapsed().as_nanos();
            faults.push(page_faults() - faulted);
            wall_total += wall;
            let on_cpu = on_cpu_ns().zip(cpu).map_or(0, |(b, a)| b - a);
            cpu_total += on_cpu;
            cpu_min = cpu_min.min(on_cpu as f64 / events as f64);
            wall as f64 / events as f64
        })
        .collect();
    per_event.sort_by(|a, b| a.total_cmp(b));
    let min = per_event[0];
    println!(
        "# {name}: min {min:.1} median {:.1} max {:.1} over {} runs; on CPU {:.0}% of wall; on-CPU min {cpu_min:.1}; page faults a run {}-{}",
        per_event[per_event.len() / 2],
        per_event[per_event.len() - 1],
        per_event.len(),
        cpu_total as f64 * 100.0 / wall_total as f64,
        faults.iter().min().unwrap_or(&0),
        faults.iter().max().unwrap_or(&0),
    );
    println!("{name} {min:.1}");
}

/// Prints the M1 lines from the counter values after `n` timers are pending.
pub fn report_memory(prefix: &str, n: usize, live: isize, peak: usize) {
    println!(
        "# {prefix}: live {live} B, peak {peak} B for {n} pending timers (counting allocator)"
    );
    println!("M1_bytes_per_timer_1M {:.1}", live as f64 / n as f64);
    println!("M1_peak_MiB_1M {:.1}", peak as f64 / (1024.0 * 1024.0));
}

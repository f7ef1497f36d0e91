#!/usr/bin/env python3
"""The loopsim workloads on CPython's own asyncio, as the reference baseline.

The loop is the stock ``asyncio.SelectorEventLoop`` with a virtual clock:
``time()`` returns a counter, and the selector's ``select(timeout)`` adds
``timeout`` to that counter and returns no events, so time jumps to the next
timer whenever nothing is ready. Everything else (ready deque, timer heap,
``_run_once``, ``Handle``/``TimerHandle``, tasks, ``asyncio.sleep``) is
CPython's code, unchanged. Debug mode is off; the cyclic GC is on, as by
default.

Workloads, sizes and the pseudo-random sequence are those of
``benches/common/mod.rs``: a 64-bit LCG with Knuth's MMIX constants, seed
0x2545F4914F6CDD1D, output = the high 32 bits of the state after each step,
value in [0, bound) = (output * bound) >> 32, in integer nanoseconds (given
to asyncio as ``ns / 1e9`` seconds).

Prints ``name ns_per_event`` lines (the fastest of ``PY_BENCH_REPS`` timed
runs, default 3) and ``#`` comment lines.

Run: ``python3 benches/asyncio_workloads.py [workload-prefix ...]``
"""

import asyncio
import gc
import os
import platform
import selectors
import sys
import time
import tracemalloc

N_SOON = 1_000_000
N_TIMERS_SMALL = 100_000
N_TIMERS_LARGE = 1_000_000
N_TASKS = 100_000
SLEEPS_PER_TASK = 10
N_PENDING = 1_000_000

LCG_SEED = 0x2545F4914F6CDD1D
LCG_MUL = 6364136223846793005
LCG_INC = 1442695040888963407
MASK64 = (1 << 64) - 1


def lcg_below(n, bound):
    """The first n values in [0, bound) of the shared sequence."""
    state = LCG_SEED
    out = []
    append = out.append
    for _ in range(n):
        state = (state * LCG_MUL + LCG_INC) & MASK64
        append(((state >> 32) * bound) >> 32)
    return out


def w3_delays_s(n):
    return [ns / 1e9 for ns in lcg_below(n, 1_000_000_000_000)]


def w4_delays_s():
    flat = [ns / 1e9 for ns in lcg_below(N_TASKS * SLEEPS_PER_TASK, 10_000_000)]
    return [
        tuple(flat[i : i + SLEEPS_PER_TASK])
        for i in range(0, len(flat), SLEEPS_PER_TASK)
    ]


class Idle(Exception):
    """select(None): nothing ready and no timers; the workload lost events."""


class VirtualSelector(selectors._BaseSelectorImpl):
    """Registers like a real selector (the loop's self-pipe), never polls."""

    def __init__(self):
        super().__init__()
        self.clock = None

    def select(self, timeout=None):
        if timeout is None:
            raise Idle("loop idle: nothing ready and no timers")
        if timeout > 0:
            self.clock.now += timeout
        return []


class VirtualClock:
    __slots__ = ("now",)

    def __init__(self):
        self.now = 0.0


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        selector = VirtualSelector()
        self._vclock = selector.clock = VirtualClock()
        super().__init__(selector)

    def time(self):
        return self._vclock.now


def new_loop():
    loop = VirtualLoop()
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    return loop


def w1_chain(n):
    loop = new_loop()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count < n:
            loop.call_soon(cb)
        else:
            loop.stop()

    loop.call_soon(cb)
    loop.run_forever()
    loop.close()
    assert count == n, count
    return n


def w2_bulk(n):
    loop = new_loop()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == n:
            loop.stop()

    call_soon = loop.call_soon
    for _ in range(n):
        call_soon(cb)
    loop.run_forever()
    loop.close()
    assert count == n, count
    return n


def w3_timers(delays):
    loop = new_loop()
    n = len(delays)
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == n:
            loop.stop()

    call_later = loop.call_later
    for d in delays:
        call_later(d, cb)
    loop.run_forever()
    end = loop.time()
    loop.close()
    assert count == n, count
    assert end > 900.0, end  # the virtual clock really ran to ~1000 s
    return n


def w4_sleeps(per_task):
    loop = new_loop()
    n = len(per_task)
    done = 0
    sleep = asyncio.sleep

    async def worker(mine):
        nonlocal done
        for d in mine:
            await sleep(d)
        done += 1
        if done == n:
            loop.stop()

    create_task = loop.create_task
    for mine in per_task:
        create_task(worker(mine))
    loop.run_forever()
    end = loop.time()
    loop.close()
    assert done == n, done
    assert 0.05 < end < 0.1, end  # ten sleeps of [0, 10) ms each
    return n * SLEEPS_PER_TASK


W5_TASKS = 100
W5_PAIRS = 1_000_000
W6_ITEMS = 1_000_000
W6_MAXSIZE = 16


def w5_lock():
    """W5: 100 tasks share one asyncio.Lock, each taking it 10,000 times and
    holding it across a `sleep(0)`, so that the others queue on it."""
    loop = new_loop()
    lock = asyncio.Lock()
    sleep = asyncio.sleep

    async def worker():
        for _ in range(W5_PAIRS // W5_TASKS):
            await lock.acquire()
            await sleep(0)
            lock.release()

    tasks = [loop.create_task(worker()) for _ in range(W5_TASKS)]
    loop.run_until_complete(tasks[-1])
    assert all(t.done() for t in tasks) and not lock.locked()
    loop.close()
    return W5_PAIRS


def w6_queue():
    """W6: a producer puts 1M integers into an asyncio.Queue(16), a consumer
    gets them all."""
    loop = new_loop()
    q = asyncio.Queue(W6_MAXSIZE)

    async def producer():
        put = q.put
        for i in range(W6_ITEMS):
            await put(i)

    async def consumer():
        get = q.get
        total = 0
        for _ in range(W6_ITEMS):
            total += await get()
        return total

    loop.create_task(producer())
    total = loop.run_until_complete(consumer())
    assert total == (W6_ITEMS - 1) * W6_ITEMS // 2
    loop.close()
    return W6_ITEMS


def m1_memory(delays):
    loop = new_loop()

    def cb():
        pass

    call_later = loop.call_later
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    for d in delays:
        call_later(d, cb)
    live, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = len(delays)
    live -= base
    peak -= base
    print(f"# asyncio: live {live} B, peak {peak} B for {n} pending timers (tracemalloc)")
    print(f"M1_bytes_per_timer_1M {live / n:.1f}")
    print(f"M1_peak_MiB_1M {peak / (1024 * 1024):.1f}")
    loop.close()


def report(name, fn, *args):
    # No warm-up run: CPython has no JIT to warm, and W4 alone takes ~20 s.
    reps = max(1, int(os.environ.get("PY_BENCH_REPS", "3")))
    per_event = []
    wall_total = cpu_total = 0
    cpu_min = float("inf")  # the least on-CPU time per event of any run
    for _ in range(reps):
        c = time.thread_time_ns()
        t = time.perf_counter_ns()
        events = fn(*args)
        wall = time.perf_counter_ns() - t
        on_cpu = time.thread_time_ns() - c
        cpu_total += on_cpu
        cpu_min = min(cpu_min, on_cpu / events)
        wall_total += wall
        per_event.append(wall / events)
    per_event.sort()
    best = per_event[0]
    print(
        f"# {name}: min {best:.1f} median {per_event[len(per_event) // 2]:.1f} "
        f"max {per_event[-1]:.1f} over {reps} runs; on CPU "
        f"{cpu_total * 100 / wall_total:.0f}% of wall; on-CPU min {cpu_min:.1f}"
    )
    print(f"{name} {best:.1f}", flush=True)


def main(argv):
    wanted = argv[1:]

    def on(name):
        return not wanted or any(name.startswith(w) for w in wanted)

    print(
        f"# CPython {platform.python_version()} asyncio, SelectorEventLoop with a "
        f"virtual clock; gc {'on' if gc.isenabled() else 'off'}"
    )
    if on("W1_call_soon_chain_1M"):
        report("W1_call_soon_chain_1M", w1_chain, N_SOON)
    if on("W2_call_soon_bulk_1M"):
        report("W2_call_soon_bulk_1M", w2_bulk, N_SOON)
    if on("W3_call_later_100k"):
        report("W3_call_later_100k", w3_timers, w3_delays_s(N_TIMERS_SMALL))
    if on("W3_call_later_1M"):
        report("W3_call_later_1M", w3_timers, w3_delays_s(N_TIMERS_LARGE))
    if on("W4_sleep_100kx10"):
        report("W4_sleep_100kx10", w4_sleeps, w4_delays_s())
    if on("W5_lock_handoff_1M"):
        report("W5_lock_handoff_1M", w5_lock)
    if on("W6_queue_pingpong_1M"):
        report("W6_queue_pingpong_1M", w6_queue)
    if on("M1"):
        m1_memory(w3_delays_s(N_PENDING))


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/env python3
"""Facts about CPython's asyncio loop that loopsim must reproduce.

    python3 conformance/heapq_facts.py

Part 1 uses a completely stock `asyncio.new_event_loop()` on the real clock
(no virtual time, nothing overridden): the order in which timers with one
and the same deadline fire is decided by CPython's heapq alone.

Part 2 runs small scenarios through asyncio_runner.py (stock BaseEventLoop,
virtual clock) and prints their traces iteration by iteration.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asyncio_runner  # noqa: E402


def tie_order(names, later=None, cancel_every=None):
    """Schedules loop.call_at(T) for each name (same T), optionally with one
    later timer pushed 'before' or 'after' them, and returns the firing order.
    No other timer is in the queue (the loop stops from the last callback)."""
    loop = asyncio.new_event_loop()
    out = []
    T = loop.time() + 0.05

    def fire(n):
        out.append(n)
        if len(out) == len(names):
            loop.stop()
    if later == "before":
        loop.call_at(T + 10, out.append, "LATER")
    for n in names:
        loop.call_at(T, fire, n)
    if later == "after":
        loop.call_at(T + 10, out.append, "LATER")
    loop.run_forever()
    loop.close()
    return out


def run_scenario(text):
    sc = asyncio_runner.parse(text)
    lines = []
    r = asyncio_runner.Runner(sc, sc.header.get("max_iterations", 1_000_000), lines, "text")
    r.run_main()
    return "".join(line + "\n" for line in lines)


SCENARIOS = [
    ("run_until_complete of a task that does `sleep 1` then returns 5", """
task t:
    sleep 1
    return 5
main:
    run_until_complete t
"""),
    ("stop before run_forever (one callback queued)", """
callback cb:
    log cb
main:
    call_soon cb
    stop
    run_forever
"""),
    ("a 2-day timer (wait cap 86,400 s)", """
callback cb:
    log fired
main:
    call_later 172800 cb
    run_forever
"""),
    ("a 2-day + 1 ns timer", """
callback cb:
    log fired
main:
    call_later 172800.000000001 cb
    run_forever
"""),
    ("task cancelled before its first step", """
task t:
    log never
main:
    create_task t
    cancel t
    run_until_complete t
"""),
    ("task cancelled while sleeping", """
task t:
    sleep 10
    log never
callback killer:
    cancel t
main:
    create_task t
    call_later 1 killer
    run_until_complete t
    run_forever
"""),
    ("task cancelled while awaiting a future (the future is cancelled too)", """
future f
task t:
    await f
    log never
callback killer:
    cancel t
main:
    create_task t
    call_later 1 killer
    run_until_complete t
    check cancelled f
"""),
]


def main():
    print("== Part 1: equal-deadline timers on a stock asyncio loop "
          f"(CPython {sys.version.split()[0]})")
    eight = list("ABCDEFGH")
    print("8 x call_at(T), A..H, alone in the queue:   ", " ".join(tie_order(eight)))
    print("same + one later timer pushed after them:   ",
          " ".join(tie_order(eight, later="after")))
    print("same + one later timer pushed before them:  ",
          " ".join(tie_order(eight, later="before")))
    print("10 x call_at(T), 0..9, alone in the queue:  ",
          " ".join(tie_order([str(i) for i in range(10)])))
    for n in (2, 3, 4, 5):
        print(f"{n} x call_at(T), alone:                      ",
              " ".join(tie_order([chr(65 + i) for i in range(n)])))
    print("same orders through asyncio_runner (virtual clock), scenarios 42-45:")
    here = os.path.dirname(os.path.abspath(__file__))
    for f in ("42_heapq_eight_alone", "43_heapq_eight_with_later",
              "44_heapq_later_pushed_first", "45_heapq_ten"):
        path = os.path.join(here, "..", "scenarios", f + ".scn")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                trace = run_scenario(fh.read())
            calls = [ln.split("name=")[1] for ln in trace.splitlines() if " call name=" in ln]
            print(f"   {f + ':':31} {' '.join(calls)}")
    print()
    print("== Part 2: iteration-by-iteration traces (asyncio_runner, text form)")
    for title, text in SCENARIOS:
        print(f"-- {title}")
        for line in text.strip("\n").splitlines():
            print("   | " + line)
        print(run_scenario(text), end="")
        print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the whole-run benchmark's scenario: N `call_later` timers (default
100,000) to millisecond deadlines in [0, 1000) s, each running one callback
that logs once, then `run_forever` until the loop is idle.

    python3 benches/timers_scenario.py [N] > timers.scn

The deadlines come from the benchmarks' one delay sequence (benches/README.md,
"Delays": Knuth's MMIX LCG seeded with 0x2545F4914F6CDD1D, the high 32 bits
of each state), so the file is the same on every machine. Literal delays,
not `rand()`, so that CPython's reference runner runs the same file.
"""

import sys

MASK = (1 << 64) - 1


def delays_ms(n, bound_ms=1_000_000):
    state = 0x2545F4914F6CDD1D
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        yield ((state >> 32) * bound_ms) >> 32


def main(argv):
    n = int(argv[1]) if len(argv) > 1 else 100_000
    out = [
        f"# {n:,} timers to millisecond deadlines in [0, 1000) s, one log each:",
        "# the whole-run benchmark (benches/whole_run.sh).",
        "",
        "callback tick:",
        "    log tick",
        "",
        "main:",
    ]
    out += [f"    call_later {d}ms tick" for d in delays_ms(n)]
    out.append("    run_forever")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)

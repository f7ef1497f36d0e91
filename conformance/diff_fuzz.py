#!/usr/bin/env python3
"""Differential fuzzing: random scenarios, run by loopsim and by CPython.

    python3 conformance/diff_fuzz.py --loopsim PATH/TO/loopsim [--count N] [--seed S] [--keep DIR]

Generates random valid scenarios (one loop, no rand/jitter, no self-awaits,
so every message is deterministic), runs each with
`loopsim run --format json --tie-break heapq` and with asyncio_runner.py,
and reports the first divergent event of each mismatch. Failing scenarios are
written to --keep (default /tmp/loopsim-diff).
"""

import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "asyncio_runner.py")

DURS = ["0", "1", "2", "0.5", "-1", "1ms", "3", "1"]
TIMES = ["0", "1", "2", "3", "5", "-1"]
VALUES = ["1", "2", "none", '"x"', "-3"]


def gen(rng):
    n_cb = rng.randint(1, 4)
    n_task = rng.randint(0, 3)
    n_fut = rng.randint(0, 2)
    cbs = [f"c{i}" for i in range(n_cb)]
    tasks = [f"t{i}" for i in range(n_task)]
    futs = [f"f{i}" for i in range(n_fut)]
    handles = ["h0", "h1"]

    def action(ctx, self_task=None):
        r = rng.random()
        others = [t for t in tasks if t != self_task]
        awaitables = others + futs
        if r < 0.12:
            return f"log L{rng.randint(0, 99)}"
        if r < 0.24:
            h = f" as {rng.choice(handles)}" if rng.random() < 0.3 else ""
            return f"call_soon {rng.choice(cbs)}{h}"
        if r < 0.36:
            h = f" as {rng.choice(handles)}" if rng.random() < 0.3 else ""
            return f"call_later {rng.choice(DURS)} {rng.choice(cbs)}{h}"
        if r < 0.42:
            h = f" as {rng.choice(handles)}" if rng.random() < 0.3 else ""
            return f"call_at {rng.choice(TIMES)} {rng.choice(cbs)}{h}"
        if r < 0.50 and others:
            return f"create_task {rng.choice(others)}"
        if r < 0.56:
            pool = handles + awaitables
            return f"cancel {rng.choice(pool)}"
        if r < 0.63 and futs:
            return f"set_result {rng.choice(futs)} {rng.choice(VALUES)}"
        if r < 0.66 and futs:
            return f"set_exception {rng.choice(futs)} E{rng.randint(0, 9)}"
        if r < 0.71 and awaitables:
            return f"add_done_callback {rng.choice(awaitables)} {rng.choice(cbs)}"
        if r < 0.75:
            return "stop"
        if r < 0.76:
            return "close"
        if r < 0.78:
            return f"raise R{rng.randint(0, 9)}"
        if r < 0.90:
            c = rng.random()
            neg = "not " if rng.random() < 0.3 else ""
            if c < 0.2:
                return f"check {neg}is_running"
            if c < 0.3:
                return f"check {neg}is_closed"
            if c < 0.5 and awaitables:
                return f"check {neg}done {rng.choice(awaitables)}"
            if c < 0.7 and (awaitables or handles):
                return f"check {neg}cancelled {rng.choice(awaitables + handles)}"
            if c < 0.85 and awaitables:
                return f"check {neg}result {rng.choice(awaitables)} == {rng.choice(VALUES)}"
            return f"check {neg}time == {rng.choice(TIMES)}"
        if r < 0.95 and ctx != "main":
            return "run_forever" if rng.random() < 0.5 else f"run_until_complete {rng.choice(awaitables or ['x'])}" if awaitables else "run_forever"
        return f"log L{rng.randint(0, 99)}"

    lines = ["max_iterations 60"]
    for c in cbs:
        lines.append(f"callback {c}:")
        for _ in range(rng.randint(1, 3)):
            lines.append("    " + action("callback"))
    for t in tasks:
        lines.append(f"task {t}:")
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            others = [x for x in tasks if x != t]
            if r < 0.25:
                lines.append(f"    sleep {rng.choice(DURS)}")
            elif r < 0.35:
                lines.append("    yield")
            elif r < 0.5 and (others or futs):
                lines.append(f"    await {rng.choice(others + futs)}")
            else:
                lines.append("    " + action("task", t))
        if rng.random() < 0.5:
            lines.append(f"    return {rng.choice(VALUES)}")
    for f in futs:
        lines.append(f"future {f}")
    lines.append("main:")
    for _ in range(rng.randint(2, 8)):
        r = rng.random()
        if r < 0.2:
            lines.append("    run_forever")
        elif r < 0.35 and (tasks or futs):
            lines.append(f"    run_until_complete {rng.choice(tasks + futs)}")
        elif r < 0.45 and tasks:
            lines.append(f"    create_task {rng.choice(tasks)}")
        else:
            a = action("main")
            lines.append("    " + a)
    lines.append("    run_forever")
    # Every task body is created somewhere in main, so its name is a task
    # instance for the resolver (otherwise most files would be invalid).
    main_at = lines.index("main:") + 1
    for t in tasks:
        lines.insert(rng.randint(main_at, len(lines)), f"    create_task {t}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loopsim", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default="/tmp/loopsim-diff")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per run")
    a = ap.parse_args()
    os.makedirs(a.keep, exist_ok=True)
    rng = random.Random(a.seed)
    bad = 0
    invalid = 0
    timeouts = 0
    for i in range(a.count):
        text = gen(rng)
        path = os.path.join(a.keep, f"case_{a.seed}_{i}.scn")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            rs = subprocess.run([a.loopsim, "run", path, "--format", "json", "--tie-break", "heapq"],
                                capture_output=True, text=True, timeout=a.timeout)
            py = subprocess.run([sys.executable, RUNNER, path], capture_output=True, text=True,
                                timeout=a.timeout)
        except subprocess.TimeoutExpired:
            # e.g. a callback that schedules itself twice: exponential work for both
            timeouts += 1
            os.remove(path)
            continue
        if rs.returncode == 2 and py.returncode == 2:
            invalid += 1
            os.remove(path)
            continue
        if rs.stdout == py.stdout and rs.returncode == py.returncode:
            os.remove(path)
            continue
        bad += 1
        rl, pl = rs.stdout.splitlines(), py.stdout.splitlines()
        at = next((k for k, (x, y) in enumerate(zip(rl, pl)) if x != y), min(len(rl), len(pl)))
        print(f"DIFF {path}: exit loopsim={rs.returncode} cpython={py.returncode}; event {at}")
        print(f"   loopsim: {rl[at] if at < len(rl) else '<end>'} {rs.stderr.strip()[:300]}")
        print(f"   cpython: {pl[at] if at < len(pl) else '<end>'} {py.stderr.strip()[:300]}", flush=True)
    print(f"{a.count} cases: {bad} differ, {invalid} invalid for both, {timeouts} timed out (skipped)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

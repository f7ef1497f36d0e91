#!/usr/bin/env bash
# Runs the workloads on loopsim, tokio and CPython asyncio, one after the
# other, and prints a side-by-side table of ns per event with the targets.
#
#   bash benches/compare.sh            # everything (~5-8 minutes on 2 cores)
#   BENCH_REPS=3 PY_BENCH_REPS=1 bash benches/compare.sh   # quicker, noisier
#
# Environment: BENCH_REPS (Rust repetitions, default 5), ROUNDS (fresh
# processes per loopsim row, default 3), PY_BENCH_REPS
# (CPython repetitions, default 3), PYTHON (default python3),
# CARGO_TARGET_DIR (as cargo reads it), OUT (where the raw outputs go;
# default a fresh temporary directory). The fastest run of each is compared.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$(mktemp -d -t loopsim-compare.XXXXXX)}
mkdir -p "$OUT"

# glibc's malloc hands freed memory back to the kernel by heuristics (a
# dynamic mmap threshold, trimming the heap's top) that move with the exact
# sizes and order of a process's allocations. Between repetitions that
# decided whether a workload's memory came back as fresh pages: W3 100k
# took 1,300 page faults a repetition in one binary and none in the next,
# for an unrelated change, and was 20 ns a timer slower for it, on and off
# in turn with the trace. Fixed thresholds keep freed memory in the process
# for every runtime alike (a repetition after the first faults no page),
# so a row measures the loop, not the allocator's guess. To run with
# glibc's defaults: GLIBC_TUNABLES= bash benches/compare.sh
export GLIBC_TUNABLES=${GLIBC_TUNABLES-glibc.malloc.trim_threshold=17179869184:glibc.malloc.mmap_threshold=33554432}

echo "# $(date -u '+%Y-%m-%dT%H:%M:%SZ') on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# $(rustc --version); $($PYTHON --version 2>&1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# raw outputs in $OUT; GLIBC_TUNABLES=${GLIBC_TUNABLES:-(unset: the defaults)}"

echo "# building the bench binaries ..." >&2
cargo bench --no-run --bench compare_loopsim --bench tokio_workloads >"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log" >&2; exit 1; }

# Each workload runs in a process of its own: the allocator's state left by
# one workload (glibc's free lists after a million frees) otherwise changes
# the next one's time by up to 1.5x. Even so, W3 1M's time moves from
# process to process (92 to 167 ns at one quiet hour, same binary), more
# than recording costs; so loopsim's rows run in ROUNDS rounds of fresh
# processes, trace off and on in turn (off first in odd rounds, on first in
# even ones), and the fastest of all is kept.
W="W1_call_soon_chain_1M W2_call_soon_bulk_1M W3_call_later_100k W3_call_later_1M W4_sleep_100kx10 W5_lock_handoff_1M W6_queue_pingpong_1M"
ROUNDS=${ROUNDS:-3}
: >"$OUT/loopsim.txt"; : >"$OUT/tokio.txt"; : >"$OUT/asyncio.txt"
echo "# running loopsim (compare_loopsim), $ROUNDS rounds ..." >&2
for round in $(seq "$ROUNDS"); do
    for w in $W; do
        pair="$w ${w}_trace"
        [ $((round % 2)) -eq 0 ] && pair="${w}_trace $w"
        for name in $pair; do
            cargo bench -q --bench compare_loopsim -- "$name\$" 2>>"$OUT/build.log" | tee -a "$OUT/loopsim.txt" >&2
        done
    done
done
cargo bench -q --bench compare_loopsim -- 'M1$' 2>>"$OUT/build.log" | tee -a "$OUT/loopsim.txt" >&2
echo "# running tokio (tokio_workloads) ..." >&2
for name in $W W1x_yield_now_1M M1; do
    cargo bench -q --bench tokio_workloads -- "$name\$" 2>>"$OUT/build.log" | tee -a "$OUT/tokio.txt" >&2
done
echo "# running CPython asyncio (asyncio_workloads.py) ..." >&2
for name in $W M1; do
    "$PYTHON" benches/asyncio_workloads.py "$name" | tee -a "$OUT/asyncio.txt" >&2
done

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" - "$OUT/loopsim.txt" "$OUT/tokio.txt" "$OUT/asyncio.txt" <<'PY'
import sys


import re

ON_CPU = re.compile(r"^# (\S+): .* on CPU (\d+)% of wall")


def load(path):
    out, cpu = {}, {}
    for line in open(path):
        parts = line.split()
        m = ON_CPU.match(line)
        if m:
            cpu[m.group(1)] = int(m.group(2))
        elif len(parts) == 2 and not line.startswith("#"):
            # A row run in several processes (ROUNDS): the fastest.
            out[parts[0]] = min(out.get(parts[0], float("inf")), float(parts[1]))
    return out, cpu


(ls, ls_cpu), (tk, tk_cpu), (py, py_cpu) = (load(p) for p in sys.argv[1:4])

ROWS = [
    # key, label, unit, target (loopsim must be <= this)
    ("W1_call_soon_chain_1M", "W1 call_soon chain, 1M", "ns/callback", 20),
    ("W2_call_soon_bulk_1M", "W2 call_soon bulk, 1M", "ns/callback", 60),
    ("W3_call_later_100k", "W3 call_later, 100k", "ns/timer", 250),
    ("W3_call_later_1M", "W3 call_later, 1M", "ns/timer", 500),
    ("W4_sleep_100kx10", "W4 100k tasks x 10 sleeps", "ns/sleep", 300),
    ("W5_lock_handoff_1M", "W5 lock hand-off, 100 tasks, 1M pairs", "ns/pair", None),
    ("W6_queue_pingpong_1M", "W6 queue of 16, 1M items", "ns/item", None),
    ("M1_bytes_per_timer_1M", "M1 1M pending timers", "B/timer", 64 * 1024 * 1024 / 1e6),
    ("M1_peak_MiB_1M", "M1 1M pending timers, peak", "MiB", 64),
]


def num(v):
    return "-" if v is None else f"{v:,.1f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


header = ["workload", "unit", "loopsim", "tokio", "CPython", "tokio/loopsim",
          "CPython/loopsim", "target", "loopsim meets", "on CPU l/t/p"]
table = [header]
for key, label, unit, target in ROWS:
    l, t, p = ls.get(key), tk.get(key), py.get(key)
    if target is None:
        # W5, W6: at least 50x faster than CPython and faster than tokio.
        target = min(x for x in (p / 50 if p else None, t) if x is not None) if (p or t) else 0
    meets = "-" if l is None else ("yes" if l <= target else "NO")
    oncpu = "/".join(str(c.get(key, "-")) for c in (ls_cpu, tk_cpu, py_cpu))
    table.append([label, unit, num(l), num(t), num(p), ratio(t, l), ratio(p, l),
                  f"<= {target:.4g}", meets, "" if key.startswith("M1") else oncpu + " %"])

trace = [["workload (loopsim)", "trace off ns", "trace on ns", "recording costs"]]
for key, label, unit, _ in ROWS[:7]:
    off, on = ls.get(key), ls.get(key + "_trace")
    if off is not None and on is not None:
        trace.append([label, num(off), num(on), f"{on - off:+,.1f} ns ({(on / off - 1) * 100:+.0f}%)"])


def show(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        print("| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


print()
print("ns per event: the fastest of the repetitions (wall time). 'on CPU': the share of")
print("the wall time the benchmark thread was on a CPU (loopsim/tokio/CPython); under")
print("~95% other processes inflated that row.")
show(table)
print()
show(trace)
extra = sorted(set(tk) - {r[0] for r in ROWS})
for key in extra:
    print(f"tokio extra: {key} {tk[key]:,.1f}")
PY

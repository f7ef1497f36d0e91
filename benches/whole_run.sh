#!/usr/bin/env bash
# Whole runs of the command, side by side with CPython: parse, interpret,
# check invariants and write the trace, as a user runs them.
#
#   bash benches/whole_run.sh                 # ~1-2 minutes on 2 cores
#   REPS=3 PY_REPS=1 bash benches/whole_run.sh
#
# The scenario is benches/timers_scenario.py's: N (default 100,000)
# `call_later` timers to millisecond deadlines, one `log` each, then
# `run_forever` (200,001 events). Timed, each the fastest of REPS (loopsim,
# default 5) or PY_REPS (CPython, default 2) runs, as wall time and as CPU
# time (user + system, from the child's rusage):
#
#   loopsim run FILE --format json > FILE     vs  CPython's runner, --format json
#   loopsim run FILE --format text > FILE     vs  CPython's runner, --format text
#   loopsim check FILE
#   loopsim explore FILE --seeds 2 --jobs 1   (each seed run twice and hashed)
#
# The CPython runner (conformance/asyncio_runner.py) runs the same file on
# stock asyncio with a virtual clock; both traces are compared byte for
# byte. Then the memory case: a callback that logs and schedules itself
# until 10,000,000 events, its trace written to a file, and the peak RSS of
# that process (wait4; it counts the memory of the script's Python at the
# fork, about 10 MiB, so the script keeps it small).
#
# Environment: N, REPS, PY_REPS, PYTHON (a CPython 3.12; default
# pyenv's 3.12, else `python3.12` on PATH), CARGO_TARGET_DIR, OUT (where files go;
# default a fresh temporary directory, deleted at the end unless given).
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-100000}
REPS=${REPS:-5}
PY_REPS=${PY_REPS:-2}
if [ -z "${PYTHON:-}" ]; then
    # pyenv's shims may name a python3.12 that is not selected: ask pyenv.
    if command -v pyenv >/dev/null && prefix=$(pyenv prefix 3.12 2>/dev/null); then
        PYTHON=$prefix/bin/python3.12
    else
        PYTHON=python3.12
    fi
fi
if [ -z "${OUT:-}" ]; then
    OUT=$(mktemp -d -t loopsim-whole.XXXXXX)
    trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"
BIN=${CARGO_TARGET_DIR:-target}/release/loopsim

echo "# $(date -u '+%Y-%m-%dT%H:%M:%SZ') on $(nproc) cores; $(rustc --version); $("$PYTHON" --version 2>&1)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# building ..." >&2
cargo build --release -q
python3 benches/timers_scenario.py "$N" >"$OUT/timers.scn"
printf 'max_events 10000000\nmax_iterations 100000000\n\ncallback tick:\n    log tick\n    call_soon tick\n\nmain:\n    call_soon tick\n    run_forever\n' >"$OUT/ten_million.scn"

python3 - "$BIN" "$PYTHON" "$OUT" "$REPS" "$PY_REPS" <<'PY'
import filecmp
import os
import subprocess
import sys
import time

BIN, PYTHON, OUT, REPS, PY_REPS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
scn = os.path.join(OUT, "timers.scn")


def timed(argv, stdout_path, reps):
    """Fastest wall and CPU seconds of `reps` runs, the last exit status, peak RSS (KiB)."""
    best_wall = best_cpu = float("inf")
    code = rss = None
    for _ in range(reps):
        with open(stdout_path, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        code, rss = proc.returncode, usage.ru_maxrss
        best_wall = min(best_wall, wall)
        best_cpu = min(best_cpu, usage.ru_utime + usage.ru_stime)
    return best_wall, best_cpu, code, rss


def out(name):
    return os.path.join(OUT, name)


runner = ["conformance/asyncio_runner.py", scn]
rows = [
    ("run --format json", [BIN, "run", scn, "--format", "json"], out("loopsim.json"),
     [PYTHON] + runner + ["--format", "json"], out("cpython.json")),
    ("run --format text", [BIN, "run", scn, "--format", "text"], out("loopsim.txt"),
     [PYTHON] + runner + ["--format", "text"], out("cpython.txt")),
    ("check", [BIN, "check", scn], os.devnull, None, None),
    ("explore --seeds 2 --jobs 1", [BIN, "explore", scn, "--seeds", "2", "--jobs", "1"], os.devnull, None, None),
]
table = [["command", "loopsim wall s", "loopsim CPU s", "CPython wall s", "CPython CPU s", "CPython/loopsim (wall)", "(CPU)", "peak RSS MiB"]]
for label, argv, path, py_argv, py_path in rows:
    print(f"# timing {label} ...", file=sys.stderr)
    wall, cpu, code, rss = timed(argv, path, REPS)
    cells = [label, f"{wall:.3f}", f"{cpu:.3f}"]
    if py_argv:
        py_wall, py_cpu, py_code, _ = timed(py_argv, py_path, PY_REPS)
        # Compared a block at a time: a child's peak RSS (wait4) counts
        # this process's memory at the fork, so this one stays small.
        same = filecmp.cmp(path, py_path, shallow=False)
        if not same or code != py_code:
            sys.exit(f"{label}: loopsim and CPython disagree (exit {code} vs {py_code}, same trace: {same})")
        cells += [f"{py_wall:.3f}", f"{py_cpu:.3f}", f"{py_wall / wall:.1f}x", f"{py_cpu / cpu:.1f}x"]
    else:
        cells += ["-", "-", "-", "-"]
    table.append(cells + [f"{rss / 1024:.1f}"])

print("# timing the 10M-event run ...", file=sys.stderr)
ten = out("ten_million.txt")
wall, cpu, code, rss = timed([BIN, "run", out("ten_million.scn")], ten, 1)
size = os.path.getsize(ten)
os.remove(ten)
table.append(["run, 10M events, text to a file", f"{wall:.3f}", f"{cpu:.3f}", "-", "-", "-", "-", f"{rss / 1024:.1f}"])


def show(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


print(f"# {scn}: traces identical to CPython's in both formats; 10M-event run: exit {code}, {size / 2**20:.0f} MiB of trace")
show(table)
PY
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

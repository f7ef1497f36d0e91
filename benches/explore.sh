#!/usr/bin/env bash
# Explore throughput: seeds explored per second per core, on the three
# scenarios of benches/explore/ (small: about 20 events, medium: about
# 2,000, large: about 200,000), each with `--jobs 1` in a process of its
# own. A seed is run twice (the determinism check) and its trace hashed,
# as every `loopsim explore` does; runs/s/core counts seeds.
#
#   bash benches/explore.sh                 # the fastest of 3 per scenario
#   BENCH_REPS=5 bash benches/explore.sh small
#
# Per core: seeds divided by the process's CPU time (user + system, from
# /usr/bin/time), which a busy machine inflates less than wall time; both
# are printed, with the share of wall time the process was on a CPU. The
# numbers go into benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

reps="${BENCH_REPS:-3}"
if [ ! -x /usr/bin/time ]; then
    echo "error: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
cargo build --release --quiet --bin loopsim
bin=target/release/loopsim
# scenario and seeds per measurement (about 1-2 s of CPU each)
declare -A seeds=([small]=200000 [medium]=2000 [large]=20)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(small medium large)

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %8s %10s %14s %12s %8s\n' scenario events seeds "runs/s/core" "runs/s wall" "on CPU"
for name in "${names[@]}"; do
    file="benches/explore/$name.scn"
    n="${seeds[$name]}"
    events=$("$bin" run "$file" --seed 0 2>/dev/null | wc -l)
    best_cpu="" best=""
    for _ in $(seq "$reps"); do
        stats=$( { /usr/bin/time -f '%e %U %S' "$bin" explore "$file" --seeds "$n" --jobs 1 >/dev/null; } 2>&1 | tail -1)
        read -r wall user sys <<<"$stats"
        cpu=$(awk "BEGIN { print $user + $sys }")
        if [ -z "$best_cpu" ] || awk "BEGIN { exit !($cpu < $best_cpu) }"; then
            best_cpu=$cpu best="$wall $cpu"
        fi
    done
    read -r wall cpu <<<"$best"
    awk -v name="$name" -v events="$events" -v n="$n" -v wall="$wall" -v cpu="$cpu" 'BEGIN {
        printf "%-8s %8d %10d %14.0f %12.0f %7.0f%%\n", name, events, n, n / cpu, n / wall, 100 * cpu / wall
    }'
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

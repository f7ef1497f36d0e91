#!/usr/bin/env bash
# Fuzz smoke test: replay the checked-in corpus through the targets' checks
# (stable, `cargo test`), then a short libFuzzer run per target. New inputs
# go to a scratch directory, never into fuzz/corpus.
#
#   bash fuzz/smoke.sh            # 2000 runs per target
#   RUNS=100000 bash fuzz/smoke.sh
#   SEED=0 bash fuzz/smoke.sh     # libFuzzer picks a new seed (CI keeps 1:
#                                 # the same inputs each run, so a red CI
#                                 # is a change, not a lucky draw)
#
# Every input runs under libFuzzer's limits: more than RSS_LIMIT_MB of
# memory (default 1024, the budgets' bound: DESIGN.md, "Budgets") or more
# than TIMEOUT seconds on one input (default 10) is a finding, not a hang.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-2000}"
seed="${SEED:-1}"
rss_limit_mb="${RSS_LIMIT_MB:-1024}"
timeout="${TIMEOUT:-10}"
cargo test --test fuzz_corpus

# cargo-fuzz wants nightly for its sanitizer flags; on stable, build
# without a sanitizer (`-s none`) instead.
if cargo +nightly --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz run)
else
    fuzz=(cargo fuzz run -s none)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in parse schedule api; do
    mkdir -p "$scratch/$target"
    "${fuzz[@]}" "$target" "$scratch/$target" "fuzz/corpus/$target" -- -runs="$runs" \
        -rss_limit_mb="$rss_limit_mb" -timeout="$timeout" -seed="$seed"
done

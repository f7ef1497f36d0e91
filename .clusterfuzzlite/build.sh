#!/usr/bin/env bash
# Builds the three cargo-fuzz targets of fuzz/ (parse, schedule, api) for
# ClusterFuzzLite and puts in $OUT, for each target T: the fuzzer T, its
# seed corpus T_seed_corpus.zip (fuzz/corpus/T) and T.options (libFuzzer's
# limits, those of fuzz/smoke.sh: more than 1024 MiB or 10 s on one input
# is a finding).
#
# In ClusterFuzzLite's image (Dockerfile beside this file) the image sets
# $SRC, $OUT and $SANITIZER, and its cargo carries the sanitizer's flags.
# It runs outside Docker too, each variable with a default (CI runs it so):
#
#   bash .clusterfuzzlite/build.sh
#   OUT=/tmp/fuzzers SANITIZER=none bash .clusterfuzzlite/build.sh
#
#   SRC        the folder holding the checkout `loopsim` (default: the
#              checkout this script is in)
#   OUT        where the fuzzers go (default: fuzz/target/clusterfuzzlite)
#   SANITIZER  address (the default on a nightly toolchain), none (the
#              default without one) or coverage (the image's own build)
#   CARGO_TARGET_DIR  cargo's build folder (default: fuzz/target, shared
#              with fuzz/smoke.sh, which builds with the same flags)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -f "$here/../fuzz/Cargo.toml" ]; then
    root="$(cd "$here/.." && pwd)"        # run from the checkout
else
    root="${SRC:?SRC is the folder holding the checkout loopsim}/loopsim"  # $SRC/build.sh in the image
fi
out="${OUT:-$root/fuzz/target/clusterfuzzlite}"
targets=(parse schedule api)

# The toolchain: sanitizers need a nightly one; `+nightly` only when the
# default is not (the image's cargo is a wrapper over a nightly).
cargo=(cargo)
if ! cargo --version | grep -q nightly && cargo +nightly --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
fi
nightly=false
"${cargo[@]}" --version | grep -q nightly && nightly=true
sanitizer="${SANITIZER:-$($nightly && echo address || echo none)}"
case "$sanitizer" in
    coverage) flags=() ;;                 # the image's cargo builds it its own way
    none) flags=(-s none) ;;
    *)
        if ! $nightly; then
            echo "error: SANITIZER=$sanitizer needs a nightly toolchain" \
                "(rustup toolchain install nightly), or SANITIZER=none" >&2
            exit 2
        fi
        flags=(-s "$sanitizer")
        ;;
esac

cd "$root"
# Release with debug assertions and overflow checks (cargo-fuzz's default):
# an overflow is a finding.
"${cargo[@]}" fuzz build "${flags[@]}"

triple="$(rustc -vV | sed -n 's/^host: //p')"
built="${CARGO_TARGET_DIR:-$root/fuzz/target}/$triple/release"
mkdir -p "$out"
for t in "${targets[@]}"; do
    cp "$built/$t" "$out/$t"
    rm -f "$out/${t}_seed_corpus.zip"
    if command -v zip >/dev/null 2>&1; then
        (cd "fuzz/corpus/$t" && zip -q -r "$out/${t}_seed_corpus.zip" .)
    else
        (cd "fuzz/corpus/$t" && python3 -m zipfile -c "$out/${t}_seed_corpus.zip" ./*)
    fi
    printf '[libfuzzer]\nrss_limit_mb = 1024\ntimeout = 10\n' > "$out/$t.options"
done
echo "built ${targets[*]} (sanitizer: $sanitizer) in $out"

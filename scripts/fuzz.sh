#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the fuzz targets and runs them (docs/robustness.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (npm run fuzz -- SECONDS)
#       the long run: each target (default: all) for SECONDS (default 600),
#       one after the other; the corpus grows in build/fuzz/corpus/TARGET
#       and is kept between runs
#   scripts/fuzz.sh --check SECONDS
#       the bounded run of the test suite: each target for SECONDS from the
#       seed corpus alone, with a fixed random seed; keeps nothing
#
# The build (build/fuzz) uses clang with libFuzzer, ASan and UBSan, and
# writes the seed corpus from the golden tests (build/fuzz/seeds). A crash,
# a sanitizer report, a broken invariant or a leak stops the target: the
# input is saved in build/fuzz/crashes/TARGET/, libFuzzer's report is
# printed, and the script exits 1. Reproduce with
#   build/fuzz/fuzz/TARGET build/fuzz/crashes/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(parse_fuzz ipvs_fuzz)
BUILD=build/fuzz
check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
seconds=${1:-600}
shift || true
[ $# -gt 0 ] && TARGETS=("$@")
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: SECONDS must be a positive integer, got '$seconds'" >&2; exit 2; }

mkdir -p "$BUILD"
if ! { cmake -S . -B "$BUILD" -DFULCRUM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ &&
       cmake --build "$BUILD" -j"$(nproc)"; } >"$BUILD/build.log" 2>&1; then
  tail -80 "$BUILD/build.log" >&2
  echo "fuzz: the build or the sanitized test suite failed; full log $BUILD/build.log" >&2
  exit 1
fi

# Frames are at most 2048 bytes; an ipvs input holds many records.
max_len() { [ "$1" = parse_fuzz ] && echo 2049 || echo 16384; }

run_target() {
  local t=$1 corpus
  [ -x "$BUILD/fuzz/$t" ] || { echo "fuzz: no target '$t' (have: parse_fuzz ipvs_fuzz)" >&2; exit 2; }
  local crashes=$BUILD/crashes/$t log=$BUILD/logs/$t.log
  mkdir -p "$crashes" "$BUILD/logs"
  local extra=()
  if $check; then
    corpus=$(mktemp -d "$BUILD/check-corpus.XXXXXX")
    extra=(-seed=1)
  else
    corpus=$BUILD/corpus/$t
    mkdir -p "$corpus"
  fi
  local rc=0
  "$BUILD/fuzz/$t" "${extra[@]}" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" "$BUILD/seeds/${t%_fuzz}" >"$log" 2>&1 || rc=$?
  $check && rm -rf "$corpus"
  if [ $rc -ne 0 ]; then
    grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' "$log" | tail -60 >&2
    echo "fuzz: $t FAILED (exit $rc); full log $log, input in $crashes/" >&2
    return 1
  fi
  local runs speed
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz: $t ok: $runs inputs in ${seconds}s ($speed/s), no crash"
}

status=0
for t in "${TARGETS[@]}"; do run_target "$t" || status=1; done
exit $status

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Before/after in one run: the fastpath and cps benchmarks of this checkout
# against those of another commit, interleaved on the same machine, so
# that the host's drift cancels out of the ratio.
#
#   bash bench/compare.sh COMMIT [WORKLOAD ...]
#
# COMMIT is built (Release, bench targets only) in a detached worktree under
# build/compare/; the checkout's own build is build/bench (run bench/run.sh
# or this script builds it). WORKLOADs are fastpath workloads as
# "name:flows" (default: nat:1024 fullnat:1024 flood:1024 nat:65536) and
# "cps:wrr" / "cps:mh". Each is measured BENCH_ROUNDS times (3) for both
# builds, alternating, and the table gives the medians and new/old.
# Captures are written by this checkout's fastpath (the format is the
# same on both sides). Exit 1 when a run failed, 2 when not ready.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

BASE=${1:?usage: bench/compare.sh COMMIT [WORKLOAD ...]}
shift
WORKLOADS=("$@")
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(nat:1024 fullnat:1024 flood:1024 nat:65536 cps:wrr)
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-4}
OUT=${BENCH_OUT:-bench/out}/compare
NEW=build/bench
SHA=$(git rev-parse --short "$BASE") || exit 2
OLD=build/compare/$SHA
mkdir -p "$OUT" build/compare

log() { printf 'compare: %s\n' "$*" >&2; }

build_tree() {  # source-dir build-dir
  cmake -S "$1" -B "$2" -DFULCRUM_BENCH=ON -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 &&
    cmake --build "$2" -j2 --target fastpath cps >>"$OUT/build.log" 2>&1 ||
    { tail -20 "$OUT/build.log" >&2; log "build of $1 failed"; exit 2; }
}
if [ ! -x "$OLD/build/bench/fastpath" ]; then
  [ -d "$OLD/src" ] || git worktree add -q --detach "$OLD/src" "$BASE" || exit 2
  log "building $SHA"
  build_tree "$OLD/src" "$OLD/build/bench"
fi
log "building this checkout"
build_tree . "$NEW"

one() {  # build-dir label workload -> value (Mpps per worker, or M conns/s) or nothing
  local dir=$1 name=${3%%:*} arg=${3#*:} logf
  logf="$OUT/$2-${3/:/-}.log"
  if [ "$name" = cps ]; then
    timeout 60 "$dir/cps" --sched "$arg" --seconds "$SECS" >"$logf" 2>&1 || return 0
    result "$logf" cps mcps
    return 0
  fi
  local pcap="$OUT/$name-$arg.pcap"
  [ -f "$pcap" ] || "$NEW/fastpath" --write-pcap "$pcap" --workload "$name" --flows "$arg" >/dev/null || return 0
  timeout -k 5 $((SECS + 30)) "$dir/fastpath" --workload "$name" --flows "$arg" --pcap "$(realpath "$pcap")" \
    --lcores 0,1 --warmup 1 --duration "$SECS" </dev/null >"$logf" 2>&1 || return 0
  result "$logf" fastpath per_worker_mpps | awk '{ printf "%.2f\n", $1 }'
}

declare -A A=() B=()
FAILED=0
for r in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    a=$(one "$OLD/build/bench" "$SHA" "$w"); b=$(one "$NEW" this "$w")
    [ -n "$a" ] && [ -n "$b" ] || { log "round $r: $w FAILED (logs in $OUT)"; FAILED=1; continue; }
    log "round $r: $w $SHA $a, this $b"
    A[$w]+="$a " B[$w]+="$b "
  done
done

echo "Commit $(git rev-parse --short HEAD) against $SHA, $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); median of $ROUNDS alternating runs of ${SECS} s"
echo
echo "| workload | $SHA | this | this / $SHA | runs $SHA | runs this |"
echo "|---|---:|---:|---:|---|---|"
for w in "${WORKLOADS[@]}"; do
  # shellcheck disable=SC2086
  a=$(median ${A[$w]:-}); b=$(median ${B[$w]:-})
  ratio=$([ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }' || echo n/a)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$w" "${a:-FAILED}" "${b:-FAILED}" "$ratio" "${A[$w]:-}" "${B[$w]:-}"
done
echo "(fastpath workloads in Mpps per worker, cps in M new connections/s per worker)"
exit "$FAILED"

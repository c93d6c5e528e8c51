#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The fastpath benchmark (`npm run bench`, after scripts/setup.sh).
#
# Builds bench/fastpath (Release), writes the captures (bench/out/*.pcap),
# then measures, in rounds, on the same vdev type, lcores 0,1 (one polling
# core):
#   testpmd io        dpdk-testpmd --forward-mode=io on echo.pcap (rx, tx; touches no header)
#   testpmd 5tswap    dpdk-testpmd --forward-mode=5tswap on echo.pcap (rx, swap L2/L3/L4, tx)
#   fastpath echo     Fulcrum answering ICMP echo requests (echo.pcap: one ARP
#                     reply, 1024 distinct 64-byte echo requests to 10.0.0.2)
#   fastpath nat 1k   Fulcrum forwarding established TCP connections of 1024
#   fastpath dr 1k    flows to a service with 4 dests in IPVS NAT (both ways),
#   fastpath tun 1k   DR and TUN mode ({nat,dr,tun}-1k.pcap)
#   fastpath fullnat 1k  the NAT workload in FULLNAT: the dests answer two local
#                     addresses (fullnat-1k.pcap)
#   fastpath flood 1k SYNs from 4096 client ports to a synproxy service: each
#                     answered with a cookie SYN-ACK, no connection made
#   fastpath nat 64k  the same NAT workload with BENCH_LARGE_FLOWS flows (65536;
#                     skipped when the free hugepages cannot hold its capture)
#   testpmd 5tswap 64k  testpmd 5tswap on that capture: net_pcap copies each
#                     frame from an mbuf of a ring of ~262k, which is slower
#                     than from a ring of 1025, so this is the large row's
#                     fair reference
#   fastpath fullnat 1M  FULLNAT with BENCH_HUGE_FLOWS flows (1048576; 17 local
#                     addresses), in mbufs of 256 bytes so that its 4.2M
#                     frames fit in ~2.3 GB of hugepages; the reservation is
#                     raised for it when the memory is there (and put back at
#                     exit), else the 1M rows are skipped
#   testpmd 5tswap 1M  testpmd 5tswap on that capture, in mbufs of the same size
#   fastpath nat 1M, dr 1M, tun 1M  the other modes with as many flows, in the
#                     same mbufs (one run at a time: the reservation is the
#                     same); testpmd 5tswap 1M is their reference too, their
#                     captures holding as many frames of the same size
# The rounds are interleaved and each line reports the median of its rounds,
# because the host's speed drifts: only the ratios within one run mean
# anything.
#
# Then bench/cps: new connections per second (wrr, mh), and bench/scale:
# memory and lookup cost of the connection table at 1M and 10M connections
# against rte_mempool + rte_hash (BENCH_SCALE_LARGE=0 skips the 10M run),
# and bench/steer: the cycles software steering adds to a packet with 1
# service and with 10,000, in the same run.
#
# Then bench/control: the control plane at 10k services x 8 dests
# (BENCH_CONTROL=0 skips it; CONTROL_* knobs in bench/control.ts), and
# bench/control-health: health checks of those 80,000 dests
# (BENCH_CONTROL_HEALTH=0 skips it; HEALTH_* knobs in its file).
#
# Then bench/e2e.sh (BENCH_E2E=0 skips it; its own knobs are BENCH_E2E_*):
# HTTP with wrk through Fulcrum, nftables, HAProxy and nginx stream in
# network namespaces, against the direct client -> server ceiling.
#
# Environment: BENCH_ROUNDS (3), BENCH_SECONDS (measured seconds per run, 4),
# BENCH_LARGE_FLOWS (65536; 0 skips the row), BENCH_HUGE_FLOWS (1048576; 0
# skips the 1M rows), BENCH_LARGE_REF (1; 0 drops the "testpmd 5tswap" rows on
# the large captures, and saves ~30 s each),
# BENCH_OUT (bench/out). Exit status: 0 when every measurement succeeded,
# 1 when one failed (its log is named), 2 when the host is not ready.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
SECONDS_MEASURED=${BENCH_SECONDS:-4}
LARGE_FLOWS=${BENCH_LARGE_FLOWS:-65536}
HUGE_FLOWS=${BENCH_HUGE_FLOWS:-1048576}
SMALL_MBUF=256             # bytes of data room in the 1M row's mbufs
LARGE_REF=${BENCH_LARGE_REF:-1}
OUT=${BENCH_OUT:-bench/out}
BUILD=build/bench
LCORES=0,1
WORKERS=1                  # EAL lcores minus the idle main lcore
MIN_FREE_HUGEPAGES=256     # testpmd's default pool alone takes ~190 x 2 MB

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

# ------------------------------------------------------------------ host
check_host() {
  command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (Debian package dpdk); run: npm run setup"
  command -v cmake >/dev/null || die "cmake not found; run: npm run setup"
  grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts ||
    die "no hugetlbfs at /dev/hugepages; run scripts/setup.sh as root (it reserves 512 x 2 MB)"
  local total free
  total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  [ "${total:-0}" -gt 0 ] ||
    die "no hugepages reserved; run scripts/setup.sh as root (it reserves 512 x 2 MB)"
  [ "${free:-0}" -ge "$MIN_FREE_HUGEPAGES" ] ||
    die "only ${free:-0} of $total hugepages free, need $MIN_FREE_HUGEPAGES (is another DPDK process running?)"
  [ "$(nproc)" -ge 2 ] || die "need at least 2 CPUs (main lcore + one worker)"
}

# ------------------------------------------------------------------ build
build() {
  log "building $BUILD/fastpath, cps, scale and steer (Release)"
  cmake -S . -B "$BUILD" -DFULCRUM_BENCH=ON -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 &&
    cmake --build "$BUILD" -j2 --target fastpath cps scale steer >>"$OUT/build.log" 2>&1 ||
    { tail -30 "$OUT/build.log" >&2; die "build failed (log: $OUT/build.log)"; }
}

# ------------------------------------------------------------------ runs
# Each prints Mpps per worker on stdout, or nothing when it failed.

# testpmd prints "Rx-pps: N" every second ("since last show"); it takes ~3 s
# to start (a 155k-mbuf pool), hence the margin. The first two
# samples cover start-up; the median of the rest is the rate.
run_testpmd() {  # mode logfile [capture [total mbufs [mbuf size]]]
  local mode=$1 logf=$2 pcap=${3:-$PCAP} mbufs=${4:-} size=${5:-}
  # Loading a capture of 4M frames takes seconds more.
  timeout -k 5 -s INT $((SECONDS_MEASURED + 6 + ${mbufs:-0} * 2 / 1000000)) \
    dpdk-testpmd -l "$LCORES" --no-pci --in-memory \
    --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" \
    -- --forward-mode="$mode" --stats-period 1 ${mbufs:+--total-num-mbufs=$mbufs} ${size:+--mbuf-size=$size} \
    </dev/null >"$logf" 2>&1
  grep -q "Set $mode packet forwarding mode" "$logf" || return 0
  local samples
  samples=$(awk '
    /Rx-pps:/ { rx[n++] = $2 }
    /Tx-pps:/ { tx[m++] = $2 }
    END {
      for (i = 2; i < n; i++) if (tx[i] < 0.98 * rx[i]) exit
      for (i = 2; i < n; i++) print rx[i]
    }' "$logf")
  [ "$(printf '%s' "$samples" | grep -c .)" -ge 2 ] || return 0
  # shellcheck disable=SC2086
  median $samples | awk -v w="$WORKERS" '$1 > 0 { printf "%.2f\n", $1 / 1e6 / w }'
}

run_fastpath() {  # logfile workload [flows [mbuf size]]
  local logf=$1 workload=$2 flows=${3:-} size=${4:-}
  local pcap=$PCAP
  [ "$workload" = echo ] || pcap=$(realpath "$OUT/$workload-$flows.pcap")
  # The warm-up replays the capture once at least: its SYN phase makes the connections.
  local warmup=$(( ${flows:-0} >= 262144 ? 3 : 1 ))
  timeout -k 5 $((SECONDS_MEASURED + 30)) \
    "$BUILD/fastpath" --workload "$workload" ${flows:+--flows "$flows"} ${size:+--mbuf-size "$size"} --pcap "$pcap" \
    --lcores "$LCORES" --warmup "$warmup" --duration "$SECONDS_MEASURED" </dev/null >"$logf" 2>&1 || return 0
  result "$logf" fastpath per_worker_mpps | awk '{ printf "%.2f\n", $1 }'
}

# Hugepages (2 MB) a fastpath run needs for a capture of `frames` frames
# and `flows` flows: net_pcap keeps every frame in an mbuf of the port's
# pool (~2.4 KB each with its headroom and headers at the default size,
# 448 bytes at 256), plus the usual 8191; the connection table (max_conns,
# twice the flows) ~340 bytes per flow (2.23 GB in all measured at 1M
# FULLNAT flows; fastpath runs without the SYN proxy's pool but for the
# flood); EAL and the rest ~100 MB.
pages_for() {  # frames flows [mbuf size]
  awk -v f="$1" -v c="$2" -v s="${3:-2176}" 'BEGIN {
    elem = (s == 2176 ? 2432 : s + 192)
    printf "%d\n", ((f + 8191) * elem / 1048576 + c * 340 / 1048576 + 100) / 2 + 1 }'
}
short() { awk -v n="$1" 'BEGIN { if (n % 1048576 == 0) printf "%dM\n", n / 1048576; else if (n % 1024 == 0) printf "%dk\n", n / 1024; else print n }'; }

# Raises the hugepage reservation until `need` pages are free, when half of
# the available memory covers the difference; the first raise puts the
# old reservation back at exit. Fails when the pages are not there.
ORIG_HUGEPAGES=""
reserve_hugepages() {  # need
  local need=$1 total free avail
  total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  [ "${free:-0}" -ge "$need" ] && return 0
  avail=$(awk '/^MemAvailable:/ {print int($2 / 2048)}' /proc/meminfo)
  [ $((need - free)) -le $((avail / 2)) ] || return 1
  if [ -z "$ORIG_HUGEPAGES" ]; then
    ORIG_HUGEPAGES=$total
    trap 'echo "$ORIG_HUGEPAGES" >/proc/sys/vm/nr_hugepages' EXIT
  fi
  echo $((total + need - free)) >/proc/sys/vm/nr_hugepages 2>/dev/null || return 1
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  log "raised the hugepage reservation from $total to $(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo) pages ($free free) for the large rows"
  [ "${free:-0}" -ge "$need" ]
}

# ------------------------------------------------------------------ main
mkdir -p "$OUT"
check_host
build
PCAP=$(realpath "$OUT/echo.pcap")
"$BUILD/fastpath" --write-pcap "$PCAP" --frames 1024 || die "cannot write $PCAP"

# name -> "workload flows"; the captures are named workload-flows.pcap.
NAMES=("testpmd io" "testpmd 5tswap" "fastpath echo")
declare -A FP=([fastpath echo]="echo")
for w in nat dr tun fullnat flood; do
  NAMES+=("fastpath $w 1k")
  FP[fastpath $w 1k]="$w 1024"
done
# The large rows: a fastpath workload on a capture of many flows and, with
# BENCH_LARGE_REF, testpmd 5tswap on the same capture (its fair reference).
# name -> capture, mbufs and mbuf size of the testpmd rows; name -> mbuf size of the fastpath rows.
declare -A TP_PCAP=() TP_MBUFS=() MBUF_SIZE=()
LARGE_ROWS=()
add_large_row() {  # workload flows mbuf size
  local w=$1 flows=$2 size=$3 name need
  [ "$flows" -gt 0 ] || return 0
  name="fastpath $w $(short "$flows")"
  need=$(pages_for $((flows * 4 + 8 + (LARGE_REF == 1 ? 32768 : 0))) "$flows" "$size")
  if ! reserve_hugepages "$need"; then
    log "skipping $name: it needs ~$need free hugepages, $(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo) are free"
    return 0
  fi
  NAMES+=("$name")
  FP[$name]="$w $flows"
  MBUF_SIZE[$name]=$size
  LARGE_ROWS+=("$name")
  # One reference per number of flows, on the first such row's capture:
  # every workload's capture holds 4 frames a flow plus 8, of 64 bytes,
  # so testpmd's copy from the ring costs the same on any of them.
  local ref
  ref="testpmd 5tswap $(short "$flows")"
  if [ "$LARGE_REF" = 1 ] && [ -z "${TP_PCAP[$ref]:-}" ]; then
    NAMES+=("$ref")
    TP_PCAP[$ref]="$OUT/$w-$flows.pcap"
    TP_MBUFS[$ref]=$((flows * 4 + 8 + 32768))
    MBUF_SIZE[$ref]=$size
  fi
}
add_large_row nat "$LARGE_FLOWS" 2176
# The 1M rows: FULLNAT first, so that the reference is on its capture.
for w in fullnat nat dr tun; do add_large_row "$w" "$HUGE_FLOWS" "$SMALL_MBUF"; done
for name in "${NAMES[@]}"; do
  read -r w flows <<<"${FP[$name]:-}"
  case ${w:-echo} in
    echo) ;;
    *) "$BUILD/fastpath" --write-pcap "$OUT/$w-$flows.pcap" --workload "$w" --flows "$flows" ||
         die "cannot write $OUT/$w-$flows.pcap" ;;
  esac
done

declare -A RESULTS=()
FAILED=0
for r in $(seq 1 "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    tag=${name// /-}
    logf="$OUT/$tag.$r.log"
    case $name in
      "testpmd io") v=$(run_testpmd io "$logf") ;;
      "testpmd 5tswap") v=$(run_testpmd 5tswap "$logf") ;;
      "testpmd 5tswap "*)
        v=$(run_testpmd 5tswap "$logf" "$(realpath "${TP_PCAP[$name]}")" "${TP_MBUFS[$name]}" "${MBUF_SIZE[$name]}") ;;
      fastpath*)
        # shellcheck disable=SC2086  # "workload flows", split on purpose
        v=$(run_fastpath "$logf" ${FP[$name]} ${MBUF_SIZE[$name]:-}) ;;
    esac
    if [ -z "$v" ]; then
      log "round $r: $name FAILED to measure (log: $logf)"
      tail -15 "$logf" >&2
      FAILED=1
    else
      log "round $r: $name $v Mpps per worker"
      RESULTS[$name]+="$v "
    fi
  done
done

# The last round's fastpath tables, for the record (drops, cycles per
# packet, connections).
for name in "${NAMES[@]}"; do
  case $name in fastpath*) ;; *) continue ;; esac
  last_fp="$OUT/${name// /-}.$ROUNDS.log"
  [ -f "$last_fp" ] || continue
  echo
  echo "$name:"
  sed -n '/^worker/,/^other counters/p' "$last_fp" | sed 's/^/    /'
done

declare -A MED=()
for name in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  MED[$name]=$(median ${RESULTS[$name]:-})
done
ratio() {  # value reference
  [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "n/a"
}

echo
dirty=$(git status --porcelain -- dataplane CMakeLists.txt bench/fastpath.cpp 2>/dev/null | awk '{ print $2 }' | paste -sd' ')
echo "Commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')${dirty:+ (uncommitted: $dirty)}, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), DPDK $(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null || echo '?'), kernel $(uname -r)"
echo "Workloads: 64-byte frames; echo: ICMP echo requests (1024 distinct) + 1 ARP reply per replay round; nat/dr/tun/fullnat: TCP service 10.0.0.100:80, 4 dests, rr, N established flows x 4 packets (nat, fullnat: 2 each way; fullnat from 2 local addresses, 17 at 1M flows) + 8 ARP replies per round; net_pcap infinite_rx, tx dropped by the PMD; lcores $LCORES ($WORKERS worker); median of $ROUNDS interleaved runs of ${SECONDS_MEASURED} s"
echo
echo "| name | Mpps per worker (median) | runs | x testpmd io | x testpmd 5tswap |"
echo "|---|---:|---|---:|---:|"
for name in "${NAMES[@]}"; do
  printf '| %s | %s | %s | %s | %s |\n' "$name" "${MED[$name]:-FAILED}" \
    "$(echo ${RESULTS[$name]:-} | sed 's/ /, /g')" \
    "$(ratio "${MED[$name]}" "${MED[testpmd io]}")" \
    "$(ratio "${MED[$name]}" "${MED[testpmd 5tswap]}")"
done

if [ "$LARGE_REF" = 1 ] && [ "${#LARGE_ROWS[@]}" -gt 0 ]; then
  echo
  for name in "${LARGE_ROWS[@]}"; do
    ref="testpmd 5tswap ${name##* }"
    echo "$name against testpmd 5tswap on a capture of as many flows ($ref, on ${TP_PCAP[$ref]##*/}): $(ratio "${MED[$name]}" "${MED[$ref]}")"
  done
fi

# ---------------------------------------------------- cps and scale
# bench/cps drives process_burst and the connection table with no port:
# new connections per second over the full TCP lifecycle (with the echo
# path of the same harness as its reference), and memory and lookup cost
# per connection at SCALE_CONNS.
echo
echo "| bench/cps | M new conns/s per worker | cycles per conn | echo cycles per packet (reference) |"
echo "|---|---:|---:|---:|"
for sched in wrr mh; do
  logf="$OUT/cps-$sched.log"
  if timeout 60 "$BUILD/cps" --sched "$sched" --seconds "$SECONDS_MEASURED" >"$logf" 2>&1; then
    awk -v s="$sched" '/^RESULT cps/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      printf "| %s | %s | %s | %s |\n", s, r["mcps"], r["cycles_per_conn"], r["echo_cycles"] }' "$logf"
  else
    log "cps $sched FAILED (log: $logf)"; FAILED=1
  fi
done
# bench/scale: the connection table at 1M connections (hugepages) and at
# BENCH_SCALE_LARGE (10M; without hugepages, which cannot hold it), each
# against rte_mempool + rte_hash holding the same connections in the same
# run.
echo
for spec in "1048576" "${BENCH_SCALE_LARGE:-10485760} --no-huge"; do
  read -r conns flag <<<"$spec"
  [ "$conns" -gt 0 ] || continue
  logf="$OUT/scale-$conns.log"
  # shellcheck disable=SC2086  # the flag is empty or one word
  if timeout 300 "$BUILD/scale" --conns "$conns" $flag >"$logf" 2>&1; then
    grep '^scale:' "$logf"
    awk '/^RESULT scale/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      printf "scale: %s conns: %s vs %s bytes per connection, lookup %s x the reference\n",
             r["conns"], r["bytes_per_conn"], r["ref_bytes_per_conn"], r["lookup_ratio"] }' "$logf"
  else
    log "scale $conns FAILED (log: $logf)"; FAILED=1
  fi
done

# bench/steer: what software steering costs a packet with 1 service and
# with 10,000 persistent ones (10,000 VIPs, 80,000 NAT dests), same run.
logf="$OUT/steer.log"
if timeout 120 "$BUILD/steer" --services 10000 >"$logf" 2>&1; then
  grep '^steer:' "$logf"
else
  log "steer FAILED (log: $logf)"; FAILED=1
fi

# ---------------------------------------------------- control plane
# bench/control (bench/control.ts): Apply, unary calls and /metrics at
# 10k services x 8 dests against a real `fulcrum start`; BENCH_CONTROL=0
# skips it. No hugepages.
if [ "${BENCH_CONTROL:-1}" != 0 ]; then
  echo
  if ! timeout 1800 node dist/bench/control.js 2>"$OUT/control.log"; then
    log "control FAILED (log: $OUT/control.log)"; tail -15 "$OUT/control.log" >&2; FAILED=1
  fi
fi

# bench/control-health (bench/control-health.ts): TCP health checks of
# 80,000 dests in a network namespace of its own; BENCH_CONTROL_HEALTH=0
# skips it.
if [ "${BENCH_CONTROL:-1}" != 0 ] && [ "${BENCH_CONTROL_HEALTH:-1}" != 0 ]; then
  echo
  if ! timeout 900 node dist/bench/control-health.js 2>"$OUT/control-health.log"; then
    log "control-health FAILED (log: $OUT/control-health.log)"; tail -15 "$OUT/control-health.log" >&2; FAILED=1
  fi
fi

# ---------------------------------------------------- e2e
# HTTP through Fulcrum and its peers in network namespaces (bench/e2e.sh).
if [ "${BENCH_E2E:-1}" != 0 ]; then
  echo
  bash bench/e2e.sh || { log "e2e FAILED (its lines above say which row)"; FAILED=1; }
fi

if [ "$FAILED" -ne 0 ]; then
  log "some measurements failed; see the logs in $OUT"
  exit 1
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The end-to-end benchmark (bench/README.md, "e2e"): HTTP with wrk through
# Fulcrum (af_packet and af_xdp ports, NAT and FULLNAT), nftables DNAT,
# HAProxy and nginx stream, on one sandbox of network namespaces (tag
# be2e), against the direct client -> server ceiling; interleaved rounds,
# median of each. Run by bench/run.sh (BENCH_E2E=0 skips it) or alone,
# after scripts/setup.sh, as root.
#
# Environment: BENCH_E2E_ROUNDS (3), BENCH_E2E_SECONDS (measured seconds per
# load, 5), BENCH_E2E_CONNS (wrk connections, 64), BENCH_E2E_FULLNAT (1; 0
# drops the FULLNAT rows), BENCH_E2E_IDLE_SLEEP_US (10; the extra Fulcrum
# af_packet NAT row with that dataplane.idle_sleep_us, 0 drops it),
# BENCH_E2E_ONLY (comma-separated parts of row names: only those, and
# direct). Exit status: 0 when every system answered every request in every
# round, 1 otherwise, 2 when the host is not ready.
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf 'bench e2e: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs: 0 for the load (wrk, servers), 1 for the balancer"
for tool in wrk haproxy nft nginx taskset node; do
  command -v "$tool" >/dev/null || die "$tool not found; run: npm run setup (scripts/setup.sh installs it)"
done
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || die "nginx's stream module is missing (Debian package libnginx-mod-stream); run: npm run setup"
[ -f dist/bench/e2e.js ] || die "dist/bench/e2e.js missing; run: npm run build"
free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 128 ] || die "only ${free:-0} hugepages free, Fulcrum's runs take 128 (-m 256)"

echo "Commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null), haproxy $(dpkg-query -W -f='${Version}' haproxy 2>/dev/null), nginx $(dpkg-query -W -f='${Version}' nginx 2>/dev/null), nftables $(dpkg-query -W -f='${Version}' nftables 2>/dev/null), DPDK $(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null)"
echo "CPUs: 0 = the load (wrk -t1, the three nginx servers, the client's and servers' receive processing by RPS, Fulcrum's idle control thread); 1 = the balancer (Fulcrum's worker lcore, HAProxy's one thread, nginx stream's one worker, and by RPS the balancer namespace's receive processing, which is all of nftables' forwarding)"
echo "Load: wrk -t1 -c${BENCH_E2E_CONNS:-64} --latency, ${BENCH_E2E_SECONDS:-5} s keep-alive then ${BENCH_E2E_SECONDS:-5} s with 'Connection: close' (a new connection per request), to a 64-byte static page; each system started afresh per round after a 1 s warm-up; median of ${BENCH_E2E_ROUNDS:-3} interleaved rounds; Fulcrum: rr over 3 dests, hugepages (--socket-mem=256 --socket-limit=256)"
node dist/bench/e2e.js

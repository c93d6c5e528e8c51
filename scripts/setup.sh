#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The one set-up step behind `npm start` and `npm test`: on a fresh Debian 12
# machine (as root) it installs the Debian packages Fulcrum needs when they
# are missing, reserves hugepages and mounts hugetlbfs when absent, installs
# the npm dependencies and builds. Safe to run again: each step is skipped
# when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: DPDK, compilers, GoogleTest. Run and test: iproute2 (namespaces,
# veth), ethtool (offloads), ping, taskset (util-linux), testpmd (dpdk-dev,
# the benchmark reference), python3 (the TUN test's decapsulator), tcpdump
# (tests that look at the wire), nginx-light (a real server that reads the
# PROXY protocol in the FULLNAT test), hping3 (floods in the robustness
# tests), prometheus (evaluates the Grafana dashboard's queries in the
# metrics test), openssl (certificates for the HTTPS health-check and the
# API's TLS tests), systemd (systemd-analyze checks deploy/fulcrum.service).
# bench/e2e.sh: wrk (the load), haproxy, nftables and libnginx-mod-stream
# (the peers it measures Fulcrum against).
# Fuzzing: clang, and libclang-rt-dev for libFuzzer and the ASan/UBSan
# runtimes (scripts/fuzz.sh).
PACKAGES=(libdpdk-dev dpdk dpdk-dev pkg-config cmake make g++ googletest libgtest-dev
  iproute2 ethtool iputils-ping util-linux python3 tcpdump nginx-light hping3 prometheus openssl systemd
  clang libclang-rt-dev
  wrk haproxy nftables libnginx-mod-stream)
HUGEPAGES=${FULCRUM_HUGEPAGES:-512}

log() { printf 'setup: %s\n' "$*"; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}; run as root or install them"; exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Hugepages are what DPDK is fast with; everything still runs without them
# (the sandbox falls back to --no-huge), so failure here is a warning.
reserve_hugepages() {
  [ "$(id -u)" -eq 0 ] || return 0
  local have; have=$(cat /proc/sys/vm/nr_hugepages)
  if [ "$have" -lt "$HUGEPAGES" ]; then
    echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
    log "hugepages: $(cat /proc/sys/vm/nr_hugepages) x 2 MB reserved"
  fi
  if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || log "warning: cannot mount hugetlbfs"
  fi
}

install_npm() {
  # npm writes node_modules/.package-lock.json; it is older than the
  # lock file whenever the dependencies changed.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

install_packages
reserve_hugepages
install_npm
bash scripts/build.sh

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The long form of the leak check (docs/robustness.md): the seeded mixed
# run of test/dataplane/leak_test.cpp for many more steps and seeds than
# ctest runs, after which every pool must be back at its starting level;
# then the end-to-end check (test/e2e/leak.test.ts) for E2E_SECONDS of
# traffic whose clients close in order, so that every connection passes
# TIME_WAIT (120 s) before the pools are compared (needs the build in dist/
# and root for the network namespaces).
#
#   scripts/soak-leak.sh [STEPS] [SEEDS] [E2E_SECONDS]
#     (default 1000000 steps, seeds "1 2 3 4", 30 s: about 3 + 3 minutes)
#
# Run by `npm run soak` with every other scripts/soak-*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${1:-1000000}
seeds=${2:-"1 2 3 4"}
e2e_seconds=${3:-30}
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || { echo "soak-leak: STEPS must be a positive integer, got '$steps'" >&2; exit 2; }
[[ "$e2e_seconds" =~ ^[1-9][0-9]*$ ]] || { echo "soak-leak: E2E_SECONDS must be a positive integer, got '$e2e_seconds'" >&2; exit 2; }

cmake -S . -B build/ctest -DFULCRUM_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/ctest -j2 --target fulcrum_tests >/dev/null
start=$(date +%s)
FULCRUM_LEAK_STEPS=$steps FULCRUM_LEAK_SEEDS=$seeds \
  build/ctest/fulcrum_tests --gtest_filter='LeakCheck.*' --gtest_brief=1
echo "soak-leak: $steps steps for each seed of \"$seeds\", every pool back, in $(( $(date +%s) - start )) s"

start=$(date +%s)
LEAK_SECONDS=$e2e_seconds LEAK_CLOSE=fin node --test --test-timeout=600000 dist/test/e2e/leak.test.js
echo "soak-leak: end to end, $e2e_seconds s of traffic closed in order, every pool back, in $(( $(date +%s) - start )) s"

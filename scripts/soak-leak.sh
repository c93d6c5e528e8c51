#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The long form of the leak check (docs/robustness.md): the seeded mixed
# run of test/dataplane/leak_test.cpp for many more steps and seeds than
# ctest runs, after which every pool must be back at its starting level.
#
#   scripts/soak-leak.sh [STEPS] [SEEDS]    (default 1000000 steps, seeds "1 2 3 4": about 3 minutes)
#
# Run by `npm run soak` with every other scripts/soak-*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${1:-1000000}
seeds=${2:-"1 2 3 4"}
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || { echo "soak-leak: STEPS must be a positive integer, got '$steps'" >&2; exit 2; }

cmake -S . -B build/ctest -DFULCRUM_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/ctest -j2 --target fulcrum_tests >/dev/null
start=$(date +%s)
FULCRUM_LEAK_STEPS=$steps FULCRUM_LEAK_SEEDS=$seeds \
  build/ctest/fulcrum_tests --gtest_filter='LeakCheck.*' --gtest_brief=1
echo "soak-leak: $steps steps for each seed of \"$seeds\", every pool back, in $(( $(date +%s) - start )) s"

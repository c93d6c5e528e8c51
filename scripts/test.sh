#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole suite: the C++ GoogleTest suite under ctest, then the same
# suite under ASan and UBSan and a bounded run of every fuzz target
# (scripts/fuzz.sh --check: FULCRUM_FUZZ_SECONDS each, default 20), then
# the TypeScript tests (control plane, then end-to-end in network namespaces)
# under node's test runner. End-to-end files run one at a time: each
# starts a DPDK worker that polls a core of this small machine.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build/ctest -DFULCRUM_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/ctest -j"$(nproc)" >/dev/null
(cd build/ctest && ctest --output-on-failure -j"$(nproc)" --timeout 120)

bash scripts/fuzz.sh --check "${FULCRUM_FUZZ_SECONDS:-20}"

mapfile -t files < <(find dist/test/control dist/test/e2e -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"

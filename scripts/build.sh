#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the native addon (cmake-js, against DPDK via pkg-config) and the
# TypeScript (strict). Incremental: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install cmake-js compile --out build/addon --log-level error >/dev/null
npx --no-install tsc -p .
echo "build: addon build/addon/Release/fulcrum.node, TypeScript dist/"

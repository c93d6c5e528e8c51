#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the native addon (cmake-js, against DPDK via pkg-config) and the
# TypeScript (strict). Incremental: a second run only rebuilds what changed.
# The API's TypeScript types are generated from proto/ first (not checked in).
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install cmake-js compile --out build/addon --log-level error >/dev/null
rm -rf control/src/api/gen
npx --no-install proto-loader-gen-types --keepCase --longs String --enums String --defaults --oneofs \
  --grpcLib @grpc/grpc-js -I proto -O control/src/api/gen fulcrum/v1/fulcrum.proto >/dev/null
npx --no-install tsc -p .
echo "build: addon build/addon/Release/fulcrum.node, TypeScript dist/"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The full form of the churn test (`npm run soak` runs every
# scripts/soak-*.sh): test/e2e/churn.test.ts for CHURN_SECONDS (60) at
# CHURN_RATE (1000) changes per second, in its namespace topology (tag
# cload). `npm test` runs the same file for 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
CHURN_SECONDS=${CHURN_SECONDS:-60} CHURN_RATE=${CHURN_RATE:-1000} \
  node --test --test-timeout=600000 dist/test/e2e/churn.test.js

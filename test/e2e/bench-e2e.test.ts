// SPDX-License-Identifier: Apache-2.0
//
// A short run of bench/e2e.sh (the benchmark itself is `npm run bench`):
// direct, Fulcrum af_packet NAT and nftables DNAT, one round of 1 s per
// load. The script exits 1 when a system missed a request (a wrk socket
// error or non-2xx answer), left a server under 20 % of the packets, or
// Fulcrum counted a loss; here every row must also have numbers.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const SCRIPT = path.resolve(__dirname, '../../../bench/e2e.sh');

test('bench/e2e.sh measures direct, Fulcrum and nftables, every request answered', { timeout: 90_000 }, async () => {
  const env = {
    ...process.env, BENCH_E2E_ROUNDS: '1', BENCH_E2E_SECONDS: '1', BENCH_E2E_FULLNAT: '0', BENCH_E2E_IDLE_SLEEP_US: '0',
    BENCH_E2E_ONLY: 'af_packet nat,nftables',
  };
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('bash', [SCRIPT], { env, timeout: 80_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
  assert.equal(code, 0, out);
  for (const row of ['direct \\(client -> server 1\\)', 'fulcrum af_packet nat', 'nftables dnat']) {
    // Both tables: a rate, its run, two ratios, p50 and p99.
    const cells = new RegExp(`^\\| ${row} \\| (\\d+) \\| \\d+ \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\|$`, 'gm');
    const rates = [...out.matchAll(cells)].map((m) => Number(m[1]));
    assert.equal(rates.length, 2, `${row}: ${out}`);
    assert.ok(rates.every((r) => r > 0), out);
  }
  // BENCH_E2E_ONLY left the other rows out.
  assert.doesNotMatch(out, /^\| (fulcrum af_xdp|haproxy|nginx|fulcrum af_packet fullnat)/m);
  assert.doesNotMatch(out, /FAILED|PROBLEM/);
});

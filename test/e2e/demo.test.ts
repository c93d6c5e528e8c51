// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum demo` as a user runs it (`npm start`): it must balance HTTP over
// the three servers in FULLNAT, print the ipvsadm-style listing, and clean
// up after itself.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const BIN = path.resolve(__dirname, '../../../bin/fulcrum.js');

function demo(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'demo', '--duration', '1', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

test('the demo balances 300 requests 3:2:1 in FULLNAT from its local address', { timeout: 150_000 }, async () => {
  const { code, out } = await demo([]);
  assert.equal(code, 0, out);
  assert.match(out, /300\/300: s1 150, s2 100, s3 50; errors 0/);
  assert.match(out, /-> 10\.0\.1\.11:80\s+FullNat\s+3\s+0\s+150/);
  assert.match(out, /10\.0\.1\.50\s+1\s+300\s+64511\s+0\s+300/);
  assert.match(out, /removing the namespaces/);
});

test('--forward nat shows the NAT variant; a bad mode is a usage error', { timeout: 150_000 }, async () => {
  const { code, out } = await demo(['--forward', 'nat']);
  assert.equal(code, 0, out);
  assert.match(out, /-> 10\.0\.1\.11:80\s+Masq\s+3\s+0\s+150/);
  const bad = await demo(['--forward', 'dr']);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--forward takes fullnat or nat, not 'dr'/);
});

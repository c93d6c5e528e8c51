// SPDX-License-Identifier: Apache-2.0
//
// The `fulcrum` command's handling of bad input: one clear message naming
// the problem, exit code 2, never a stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

const BIN = path.resolve(__dirname, '../../../bin/fulcrum.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fulcrum(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace printed:\n${r.stderr}`);
  return r;
}

function startWith(yaml: string) {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return fulcrum(['start', '--config', file]);
}

const PORT = `  ports:\n    - name: wan\n      device: net_null0\n      address: 10.0.0.2/24\n`;

const CASES: { name: string; yaml: string; expect: RegExp }[] = [
  { name: 'unknown key', yaml: `dataplane:\n  lcore: "0-1"\n${PORT}`, expect: /dataplane: unknown key 'lcore'/ },
  { name: 'bad CIDR', yaml: `dataplane:\n  lcores: "0-1"\n${PORT.replace('10.0.0.2/24', '10.0.0.300/24')}`, expect: /dataplane\.ports\[0\]\.address/ },
  { name: 'missing device', yaml: `dataplane:\n  lcores: "0-1"\n${PORT.replace('net_null0', 'net_af_packet0,iface=nosuchif9')}`, expect: /interface 'nosuchif9' does not exist/ },
  { name: 'lcores beyond the machine', yaml: `dataplane:\n  lcores: "0-4095"\n${PORT}`, expect: /dataplane\.lcores/ },
  { name: 'unknown vdev', yaml: `dataplane:\n  lcores: "0-1"\n${PORT.replace('net_null0', 'net_bogus0')}`, expect: /unknown vdev driver 'net_bogus'/ },
  { name: 'YAML syntax', yaml: `dataplane:\n  lcores: [\n`, expect: /\.yaml:\d+:\d+: YAML syntax error/ },
];

for (const c of CASES) {
  test(`start rejects a config with ${c.name}: exit 2, field named`, () => {
    const r = startWith(c.yaml);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /invalid config/);
    assert.match(r.stderr, c.expect);
  });
}

test('start with a config file that does not exist says so', () => {
  const r = fulcrum(['start', '--config', path.join(dir, 'nope.yaml')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read config .*nope\.yaml/);
});

test('start without --config and unknown commands print usage and exit 2', () => {
  const missing = fulcrum(['start']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /start needs --config FILE/);
  const unknown = fulcrum(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

// SPDX-License-Identifier: Apache-2.0
//
// Local-address pool exhaustion end to end: a pool of four ports
// (dataplane.local_ports), four connections holding them. A fifth client
// cannot connect: its SYN is refused and counted, and the balancer logs it
// once and warns that the pool is full. The four connections that hold the
// ports still complete their requests.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Sandbox } from '../../control/src/demo/sandbox';

const HOLD = path.resolve(__dirname, 'fixtures/hold.js');
const VIP = '10.0.0.100';
const LADDR = '10.0.1.50';

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({
    tag: 'fpool',
    servers: 1,
    serverMode: 'fullnat',
    dataplane: ['  local_ports: "61000-61003"'],
    services: `
  - name: web
    protocol: tcp
    vip: ${VIP}
    port: 80
    scheduler: rr
    forward: fullnat
    local_addresses: [${LADDR}]
    dests: [{ address: 10.0.1.11, port: 80 }]`,
  });
});

after(async () => {
  await sb?.stop();
});

test('a full pool refuses new flows, counts and logs them; the flows holding its ports complete', { timeout: 60_000 }, async () => {
  const r = await sb.client([process.execPath, HOLD, VIP, '80', '4', '1500'], 30_000);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { connected: number; probe: string; answers: string[] };
  assert.equal(got.connected, 4);
  assert.equal(got.probe, 'failed', 'a fifth connection got through a pool of four ports');
  assert.deepEqual(got.answers, ['s1', 's1', 's1', 's1']);
  const c = await sb.counters();
  assert.ok((c.drop_laddr_exhausted ?? 0n) >= 1n, 'no refusal counted');
  assert.equal(c.conns_created, 4n);
  // The pool watcher runs once a second.
  const deadline = Date.now() + 5000;
  while (!/refused \d+ new flow/.test(sb.log) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  assert.match(sb.log, new RegExp(`local address ${LADDR.replace(/\./g, '\\.')}: worker 0 refused \\d+ new flow\\(s\\), all 4 of its ports in use`));
  assert.match(sb.log, /worker 0 uses 4 of 4 ports/);
  // However many SYN retries the flood of refusals was, one log line.
  assert.equal(sb.log.match(/refused \d+ new flow/g)?.length, 1);
});

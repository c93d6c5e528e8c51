// SPDX-License-Identifier: Apache-2.0
//
// Two workers sharing one CPU (EAL lcore@cpu mapping), one af_packet port
// with a queue pair each. Client flows spread over both workers, and what
// one worker learns by ARP reaches the other through its inbox, so a reply
// held on one worker is released by an ARP answer received on the other.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BALANCER_ADDRESS, CLIENT_ADDRESS, Sandbox, parseCounterTable, parseNeighbours } from '../../control/src/demo/sandbox';

const SOURCES = Array.from({ length: 16 }, (_, i) => `10.0.0.${11 + i}`);
let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'mw', lcores: '0@0,1-2@1' });
  for (const src of SOURCES) await sb.client(['ip', 'addr', 'add', `${src}/24`, 'dev', 'eth0']);
});

after(async () => {
  await sb?.stop();
});

test('two workers start, each with its own queue pair', () => {
  assert.match(sb.log, /2 worker\(s\) on lcores 1,2/);
});

test('pings from 16 sources are all answered; both workers carry traffic', { timeout: 60_000 }, async () => {
  const pings = await Promise.all(
    SOURCES.map((src) => sb.client(['ping', '-c', '2', '-i', '0.2', '-W', '3', '-I', src, BALANCER_ADDRESS], 20_000)),
  );
  pings.forEach((p, i) => assert.equal(p.code, 0, `from ${SOURCES[i]}: ${p.stdout}${p.stderr}`));
  const { workers } = parseCounterTable(await sb.status());
  assert.equal(workers.length, 2);
  for (const [w, c] of workers.entries()) assert.ok(c.rx_packets > 0n, `worker ${w} received nothing`);
});

test('every worker knows every source: neighbours are shared between workers', { timeout: 30_000 }, async () => {
  const rows = parseNeighbours(await sb.status());
  const clientMac = (await sb.client(['cat', '/sys/class/net/eth0/address'])).stdout.trim().toLowerCase();
  for (const lcore of [1, 2]) {
    const known = new Set(rows.filter((r) => r.lcore === lcore && r.state === 'reachable' && r.mac === clientMac).map((r) => r.address));
    for (const src of [CLIENT_ADDRESS, ...SOURCES]) {
      if (src === CLIENT_ADDRESS && !known.has(src)) continue; // the primary may never have talked to us
      assert.ok(known.has(src), `lcore ${lcore} does not know ${src}: ${JSON.stringify(rows)}`);
    }
  }
});

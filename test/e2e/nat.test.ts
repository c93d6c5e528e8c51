// SPDX-License-Identifier: Apache-2.0
//
// NAT end to end: kernel HTTP clients and servers in network namespaces,
// the DPDK dataplane between them scheduling with wrr and rewriting
// addresses both ways.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Sandbox } from '../../control/src/demo/sandbox';

const VIP = '10.0.0.100';
const CLIENT = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const SERVICES = `
  - name: web
    protocol: tcp
    vip: ${VIP}
    port: 80
    scheduler: wrr
    forward: nat
    dests:
      - { address: 10.0.1.11, port: 80, weight: 3 }
      - { address: 10.0.1.12, port: 80, weight: 2 }
      - { address: 10.0.1.13, port: 80, weight: 1 }`;

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'nat', servers: 3, services: SERVICES });
});

after(async () => {
  await sb?.stop();
});

async function load(count: number, concurrency = 1): Promise<{ answers: Record<string, number>; errors: number }> {
  const r = await sb.client([process.execPath, CLIENT, `http://${VIP}/`, String(count), String(concurrency)], 120_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

test('the VIP answers ARP and ping', { timeout: 20_000 }, async () => {
  const ping = await sb.client(['ping', '-c', '2', '-i', '0.2', '-W', '2', VIP]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
});

test('wrr 3:2:1 over 600 new connections, every request answered', { timeout: 180_000 }, async () => {
  const { answers, errors } = await load(600);
  assert.equal(errors, 0, JSON.stringify(answers));
  assert.deepEqual(answers, { s1: 300, s2: 200, s3: 100 });
  const c = await sb.counters();
  assert.ok(c.conns_created >= 600n, `conns_created ${c.conns_created}`);
});

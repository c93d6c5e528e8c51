// SPDX-License-Identifier: Apache-2.0
//
// NAT end to end: kernel HTTP clients and servers in network namespaces,
// the DPDK dataplane between them scheduling with wrr and rewriting
// addresses both ways.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Sandbox, WEB_SERVICE as SERVICES, WEB_VIP as VIP } from '../../control/src/demo/sandbox';

const CLIENT = path.resolve(__dirname, '../../control/src/demo/http-load.js');

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

test('the status lists services like ipvsadm -L -n and connections like ipvsadm -L -c', { timeout: 20_000 }, async () => {
  const status = await sb.status();
  assert.match(status, /TCP  10\.0\.0\.100:80 wrr/);
  // After the 600 closed connections: all inactive (TIME_WAIT), 300/200/100.
  assert.match(status, /-> 10\.0\.1\.11:80\s+Masq\s+3\s+0\s+300/);
  assert.match(status, /-> 10\.0\.1\.13:80\s+Masq\s+1\s+0\s+100/);
  const rows = status.split('\n').filter((l) => /^\s*TCP\s+\d\d:\d\d\s+TIME_WAIT\s+10\.0\.0\.1:\d+\s+10\.0\.0\.100:80\s+10\.0\.1\.1[123]:80$/.test(l));
  assert.equal(rows.length, 20, status);
});

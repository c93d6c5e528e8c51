// SPDX-License-Identifier: Apache-2.0
//
// Passive health checks end to end: with no probe configured, a real
// server that stops listening refuses the connections sent to it (the
// kernel answers the SYN with an RST), the dataplane counts the refusals
// against the dest, and the control plane inhibits it: new connections
// avoid it. Once its back-off is over it is tried again, and once it
// listens again it gets its share.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Sandbox } from '../../control/src/demo/sandbox';
import { httpLoad, until } from './fixtures/http-load';

const SERVICES = `
  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: rr
    passive_check: true
    dests:
      - { address: 10.0.1.11, port: 80 }
      - { address: 10.0.1.12, port: 80 }
      - { address: 10.0.1.13, port: 80 }`;

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'passive', servers: 3, services: SERVICES });
});

after(async () => {
  await sb?.stop();
});

const load = (count: number) => httpLoad(sb, 'http://10.0.0.100/', count);

test('a server that refuses connections is inhibited, then tried again after its back-off', { timeout: 90_000 }, async () => {
  assert.deepEqual(await load(30), { answers: { s1: 10, s2: 10, s3: 10 }, errors: 0 });
  await sb.stopServer(1);
  // The first connections sent to s2 are refused; within a second or two
  // the dest is out and every request is answered by s1 and s3.
  await until(sb, 's2 inhibited', async () => {
    const r = await load(12);
    return r.errors === 0 && r.answers.s2 === undefined;
  }, 20_000);
  assert.match(sb.log, /fulcrum: health: web 10\.0\.1\.12:80 down, inhibited \(passive: \d+ connection\(s\) refused or unanswered; back in 2 s\)/);
  const c = await sb.counters();
  assert.ok((c.conns_created ?? 0n) > 0n);
  // Listening again, it comes back once the back-off is over.
  await sb.startServer(1);
  await until(sb, 's2 back', async () => /web 10\.0\.1\.12:80 back \(passive back-off over\)/.test(sb.log), 70_000);
  const back = await load(30);
  assert.equal(back.errors, 0);
  assert.ok((back.answers.s2 ?? 0) > 0, JSON.stringify(back));
});

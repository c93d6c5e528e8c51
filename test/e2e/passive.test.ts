// SPDX-License-Identifier: Apache-2.0
//
// Passive health checks end to end: with no probe configured, a real
// server that stops listening refuses the connections sent to it (the
// kernel answers the SYN with an RST), the dataplane counts the refusals
// against the dest, and the control plane inhibits it: new connections
// avoid it. Once its back-off is over it is tried again, and once it
// listens again it gets its share. Verdicts taken together reach the
// dataplane in one publication.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { METRICS_URL, Sandbox } from '../../control/src/demo/sandbox';
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

/** Publications so far: the dataplane times each one's spec stage. */
async function publications(): Promise<number> {
  const r = await sb.get(METRICS_URL);
  const m = /^fulcrum_control_apply_stage_seconds_count\{stage="spec"\} (\d+)$/m.exec(r.body);
  assert.ok(m, 'no spec stage count in /metrics');
  return Number(m[1]);
}

test('verdicts taken together are published together: three dests out, fewer publications', { timeout: 60_000 }, async () => {
  const before = await publications();
  const mark = sb.log.length;
  for (const i of [0, 1, 2]) await sb.stopServer(i);
  // One round of connections refused by all three, well within one of the
  // checker's once-a-second looks, or across two of them.
  const refused = await load(6);
  assert.equal(refused.errors, 6, JSON.stringify(refused));
  const downs = () => sb.log.slice(mark).match(/fulcrum: health: web 10\.0\.1\.1\d:80 down, inhibited/g)?.length ?? 0;
  await until(sb, 'three dests inhibited', async () => downs() === 3, 10_000);
  const published = (await publications()) - before;
  // One publication per look that took verdicts (at most two looks), not one per verdict.
  assert.ok(published >= 1 && published <= 2, `${published} publications for 3 verdicts`);
  for (const i of [0, 1, 2]) await sb.startServer(i);
});

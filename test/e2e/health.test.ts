// SPDX-License-Identifier: Apache-2.0
//
// Health checks end to end: three kernel HTTP servers behind a running
// Fulcrum (NAT, wrr), checked over HTTP from the balancer namespace's
// kernel leg on the server LAN (from its address, health_check.source).
// A stopped server is inhibited within interval x fall, new connections
// avoid it, and it returns after rise checks once restarted; a reload
// keeps a failed dest out; on_fail remove takes it out of the listing.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { CHECK_ADDRESS, Sandbox } from '../../control/src/demo/sandbox';

const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const VIP = '10.0.0.100';
const INTERVAL_MS = 500;
const TIMEOUT_MS = 300;
const RISE = 2;
const FALL = 2;
// Timers, process start-up and a loaded 2-CPU machine.
const SLACK_MS = 1000;

function services(weights: [number, number, number], onFail: 'inhibit' | 'remove'): string {
  const dests = weights.map((w, i) => `      - { address: 10.0.1.1${i + 1}, port: 80, weight: ${w} }`).join('\n');
  return `
  - name: web
    protocol: tcp
    vip: ${VIP}
    port: 80
    scheduler: wrr
    health_check: { type: http, path: /, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: ${RISE}, fall: ${FALL}, on_fail: ${onFail}, source: ${CHECK_ADDRESS} }
    dests:
${dests}`;
}

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'hc', servers: 3, checkLeg: true, services: services([1, 1, 1], 'inhibit') });
});

after(async () => {
  await sb?.stop();
});

async function load(count: number): Promise<Record<string, number>> {
  const r = await sb.client([process.execPath, HTTP_LOAD, `http://${VIP}/`, String(count)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
  assert.equal(out.errors, 0, JSON.stringify(out));
  return out.answers;
}

/** Milliseconds until the balancer logs a line matching re (after `from`), failing after ms. */
async function logged(re: RegExp, from: number, ms: number): Promise<number> {
  const started = Date.now();
  while (!re.test(sb.log.slice(from))) {
    if (Date.now() - started > ms) assert.fail(`no ${re} in ${ms} ms:\n${sb.log.slice(from)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

const DOWN_WITHIN = INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS;
const UP_WITHIN = INTERVAL_MS * RISE + SLACK_MS;

test('all healthy: every server gets new connections, no verdict logged', { timeout: 60_000 }, async () => {
  // A few rounds of checks first.
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
  assert.deepEqual(await load(30), { s1: 10, s2: 10, s3: 10 });
  assert.doesNotMatch(sb.log, /fulcrum: health:/);
});

test('a stopped server is inhibited within interval x fall, avoided, and back after rise', { timeout: 90_000 }, async () => {
  let mark = sb.log.length;
  await sb.stopServer(1);
  const downIn = await logged(/fulcrum: health: web 10\.0\.1\.12:80 down, inhibited \(connection refused\)/, mark, DOWN_WITHIN);
  assert.deepEqual(await load(30), { s1: 15, s3: 15 });
  // Inhibited, not removed: the dest is still listed with its weight; the
  // status dump's health table says why.
  const status = await sb.status();
  assert.match(status, /-> 10\.0\.1\.12:80\s+Masq\s+1\s/);
  assert.match(status, /web\s+10\.0\.1\.12:80\s+down\s+\d+\s+[1-9]\d*\s+connection refused/);
  assert.match(status, /web\s+10\.0\.1\.11:80\s+up\s+[1-9]\d*\s+0\s+HTTP 200/);
  mark = sb.log.length;
  await sb.startServer(1);
  const upIn = await logged(/fulcrum: health: web 10\.0\.1\.12:80 up \(HTTP 200\)/, mark, UP_WITHIN);
  assert.deepEqual(await load(30), { s1: 10, s2: 10, s3: 10 });
  process.stdout.write(`# down after ${downIn} ms (limit ${DOWN_WITHIN}), up after ${upIn} ms (limit ${UP_WITHIN})\n`);
});

test('a reload keeps a failed dest out; on_fail remove drops it from the listing until it recovers', { timeout: 90_000 }, async () => {
  let mark = sb.log.length;
  await sb.stopServer(2);
  await logged(/web 10\.0\.1\.13:80 down, inhibited/, mark, DOWN_WITHIN);
  // New weights, same check: the dest stays inhibited through the apply.
  await sb.reload(services([2, 1, 1], 'inhibit'));
  assert.deepEqual(await load(30), { s1: 20, s2: 10 });
  // Another on_fail: the verdict stays, the dest leaves the service.
  await sb.reload(services([2, 1, 1], 'remove'));
  const status = await sb.status();
  assert.doesNotMatch(status, /-> 10\.0\.1\.13:80/);
  assert.match(status, /-> 10\.0\.1\.12:80/);
  assert.deepEqual(await load(30), { s1: 20, s2: 10 });
  mark = sb.log.length;
  await sb.startServer(2);
  await logged(/web 10\.0\.1\.13:80 up/, mark, UP_WITHIN);
  assert.match(await sb.status(), /-> 10\.0\.1\.13:80\s+Masq\s+1\s/);
  assert.deepEqual(await load(40), { s1: 20, s2: 10, s3: 10 });
});

// SPDX-License-Identifier: Apache-2.0
//
// Config changes at run time (SIGHUP): quiescing a dest stops new
// connections to it while an open one keeps working; removing a dest
// reschedules its persistent clients; a removed dest's open connection
// drains, or, with expire_nodest_conn, ends at its next packet; a reload
// the dataplane refuses leaves every id as it was.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { METRICS_URL, Sandbox } from '../../control/src/demo/sandbox';
import { output } from './fixtures/http-load';

const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const KEEPALIVE = path.resolve(__dirname, 'fixtures/keepalive.js');

// One dest each, so which dest holds a connection is known: removing it
// leaves the service with none.
function removal(kept: boolean, expireWeight = 1): string {
  const dest = (a: string, weight = 1) => (kept ? `[{ address: ${a}, port: 80, weight: ${weight} }]` : '[]');
  return `
  - { name: drain, protocol: tcp, vip: 10.0.0.102, port: 80, dests: ${dest('10.0.1.11')} }
  - { name: expire, protocol: tcp, vip: 10.0.0.103, port: 80, expire_nodest_conn: true, dests: ${dest('10.0.1.12', expireWeight)} }`;
}

function services(weights: [number, number, number], sticky: string[], removalKept = true, expireWeight = 1): string {
  const dests = weights.map((w, i) => `      - { address: 10.0.1.1${i + 1}, port: 80, weight: ${w} }`).join('\n');
  const stickyDests = sticky.map((a) => `      - { address: ${a}, port: 80 }`).join('\n');
  return `
  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: rr
    dests:
${dests}
  - name: sticky
    protocol: tcp
    vip: 10.0.0.101
    port: 80
    scheduler: rr
    persistence: { timeout: 600 }
    dests:
${stickyDests}${removal(removalKept, expireWeight)}`;
}

const ALL = ['10.0.1.11', '10.0.1.12', '10.0.1.13'];
let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'chg', servers: 3, services: services([1, 1, 1], ALL) });
});

after(async () => {
  await sb?.stop();
});

async function load(vip: string, count: number): Promise<Record<string, number>> {
  const r = await sb.client([process.execPath, HTTP_LOAD, `http://${vip}/`, String(count)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
  assert.equal(out.errors, 0, JSON.stringify(out));
  return out.answers;
}

test('quiescing a dest: no new connections to it, the open one keeps working', { timeout: 60_000 }, async () => {
  const keep = sb.topo.spawn('client', [process.execPath, KEEPALIVE, 'http://10.0.0.100/', '4']);
  const done = output(keep);
  await new Promise((r) => setTimeout(r, 1000));
  const status = await sb.status();
  // Which dest holds the long-lived connection: the one with an active connection.
  const held = /-> (10\.0\.1\.1\d):80\s+Masq\s+1\s+1\s/.exec(status)?.[1];
  assert.ok(held, status);
  const weights = ALL.map((a) => (a === held ? 0 : 1)) as [number, number, number];
  await sb.reload(services(weights, ALL));
  const fresh = await load('10.0.0.100', 20);
  const heldName = `s${Number(held.slice(-1))}`;
  assert.equal(fresh[heldName], undefined, `quiesced ${heldName} got new connections: ${JSON.stringify(fresh)}`);
  assert.equal(Object.values(fresh).reduce((a, b) => a + b, 0), 20);
  const kept = JSON.parse((await done).trim().split('\n').pop() as string) as { answers: Record<string, number>; errors: number; sockets: number };
  assert.equal(kept.errors, 0, JSON.stringify(kept));
  assert.equal(kept.sockets, 1);
  assert.deepEqual(Object.keys(kept.answers), [heldName]);
  assert.ok(kept.answers[heldName] >= 20, JSON.stringify(kept));
});

test('removing a dest reschedules its persistent clients', { timeout: 60_000 }, async () => {
  const first = Object.keys(await load('10.0.0.101', 5));
  assert.equal(first.length, 1);
  const gone = `10.0.1.1${first[0].slice(1)}`;
  await sb.reload(services([1, 1, 1], ALL.filter((a) => a !== gone)));
  const after = Object.keys(await load('10.0.0.101', 5));
  assert.equal(after.length, 1);
  assert.notEqual(after[0], first[0], 'the client stayed on the removed dest');
});

test('an invalid config on SIGHUP is refused and the running config kept', { timeout: 30_000 }, async () => {
  await assert.rejects(sb.reload('  - name: broken\n    protocol: sctp\n'), /reload refused/);
  assert.equal(Object.values(await load('10.0.0.100', 3)).reduce((a, b) => a + b, 0), 3);
});

async function expiredNodest(): Promise<number> {
  const r = await sb.get(METRICS_URL);
  const m = /^fulcrum_worker_events_total\{lcore="\d+",event="conns_expired_nodest"\} (\d+)$/m.exec(r.body);
  assert.ok(m, 'no conns_expired_nodest in /metrics');
  return Number(m[1]);
}

test('a removed dest with a live connection: it drains, or with expire_nodest_conn ends at its next packet', { timeout: 60_000 }, async () => {
  const drain = output(sb.topo.spawn('client', [process.execPath, KEEPALIVE, 'http://10.0.0.102/', '5']));
  const expire = output(sb.topo.spawn('client', [process.execPath, KEEPALIVE, 'http://10.0.0.103/', '5']));
  await new Promise((r) => setTimeout(r, 1500));
  const expiredBefore = await expiredNodest();
  await sb.reload(services([1, 1, 1], ALL, false));
  const result = async (p: Promise<string>) =>
    JSON.parse((await p).trim().split('\n').pop() as string) as { answers: Record<string, number>; errors: number; sockets: number };
  const [drained, ended] = [await result(drain), await result(expire)];
  // Without expire_nodest_conn the connection outlives its dest: every request answered, by it, on one socket.
  assert.equal(drained.errors, 0, JSON.stringify(drained));
  assert.equal(drained.sockets, 1);
  assert.deepEqual(Object.keys(drained.answers), ['s1']);
  assert.ok(drained.answers.s1 >= 30, JSON.stringify(drained));
  // With it the next packet ends the connection; the service has no dest left to reconnect to.
  assert.ok(ended.errors >= 1, JSON.stringify(ended));
  assert.ok((ended.answers.s2 ?? 0) < drained.answers.s1, JSON.stringify(ended));
  assert.ok((await expiredNodest()) > expiredBefore, 'conns_expired_nodest did not move');
  await sb.reload(services([1, 1, 1], ALL));
});

// The schema accepts any table size; the dataplane refuses one that is not
// prime, so this config gets as far as the publication and fails there.
const REFUSED_BY_THE_DATAPLANE = `
  - { name: refused, protocol: tcp, vip: 10.0.0.104, port: 80, scheduler: mh, mh: { table_size: 65536 }, dests: [{ address: 10.0.1.13, port: 80 }] }`;

test('a reload the dataplane refuses changes nothing: a live connection to a dest it removed survives it and the next change', { timeout: 60_000 }, async () => {
  const expire = output(sb.topo.spawn('client', [process.execPath, KEEPALIVE, 'http://10.0.0.103/', '5']));
  await new Promise((r) => setTimeout(r, 1500));
  const expiredBefore = await expiredNodest();
  // Removes expire's dest (its connection lives on, so its id drains) and is refused as a whole.
  await assert.rejects(sb.reload(services([1, 1, 1], ALL, false) + REFUSED_BY_THE_DATAPLANE), /reload refused/);
  // The next change of that service sends it to the dataplane whole: with the dest's
  // id as it was, the connection is still the dest's (expire_nodest_conn would end it otherwise).
  await sb.reload(services([1, 1, 1], ALL, true, 2));
  const status = await sb.status();
  assert.match(status, /-> 10\.0\.1\.12:80\s+Masq\s+2\s+1\s/, `the dest's live connection is not counted as its:\n${status}`);
  const kept = JSON.parse((await expire).trim().split('\n').pop() as string) as { answers: Record<string, number>; errors: number; sockets: number };
  assert.equal(kept.errors, 0, JSON.stringify(kept));
  assert.equal(kept.sockets, 1);
  assert.ok((kept.answers.s2 ?? 0) >= 30, JSON.stringify(kept));
  assert.equal(await expiredNodest(), expiredBefore, 'a connection was ended as one to a removed dest');
  await sb.reload(services([1, 1, 1], ALL));
});

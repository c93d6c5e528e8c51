// SPDX-License-Identifier: Apache-2.0
//
// Floods from a namespace (hping3, bounded in time) against a balancer
// with a small connection pool (1024), while one long-lived HTTP
// connection keeps making requests through it:
//   - a spoofed-source UDP flood fills the pool: new flows are refused and
//     counted, the established connection never misses an answer, the
//     process's memory stays flat, and once the flood's connections expire
//     new clients are served again;
//   - an ACK flood creates no state at all;
//   - a SYN flood (without synproxy) fills the pool with half-open
//     connections: refused and counted, the established connection unhurt.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Sandbox } from '../../control/src/demo/sandbox';

const KEEPALIVE = path.resolve(__dirname, 'fixtures/keepalive.js');
const LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const MAX_CONNS = 1024;
const SERVICES = `
  - name: dns
    protocol: udp
    vip: 10.0.0.100
    port: 53
    scheduler: rr
    timeouts: { udp: 2s }
    dests: [{ address: 10.0.1.11, port: 5353 }]
  - name: web
    protocol: tcp
    vip: 10.0.0.101
    port: 80
    scheduler: rr
    dests: [{ address: 10.0.1.11, port: 80 }]`;

let sb: Sandbox;
let keep: ChildProcess;
let keepResult: Promise<string>;

before(async () => {
  sb = await Sandbox.start({ tag: 'flood', servers: 1, maxConns: MAX_CONNS, services: SERVICES });
  keep = sb.topo.spawn('client', [process.execPath, KEEPALIVE, 'http://10.0.0.101/', '25']);
  keepResult = new Promise((resolve) => {
    let text = '';
    keep.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    keep.once('exit', () => resolve(text));
  });
  await new Promise((r) => setTimeout(r, 1000));
});

after(async () => {
  keep?.kill();
  await sb?.stop();
});

/** hping3 from the client namespace for `seconds`, then SIGINT. */
async function flood(args: string[], seconds: number): Promise<void> {
  const r = await sb.client(['timeout', '-s', 'INT', String(seconds), 'hping3', '--flood', '--rand-source', ...args], (seconds + 5) * 1000);
  assert.ok(r.code === 0 || r.code === 124, `hping3 failed (${r.code}): ${r.stderr}`);
}

function rssKb(): number {
  const status = readFileSync(`/proc/${sb.balancer.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

async function newConnections(count: number): Promise<{ answers: Record<string, number>; errors: number }> {
  const r = await sb.client([process.execPath, LOAD, 'http://10.0.0.101/', String(count)], 30_000);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

test('a spoofed UDP flood fills the pool: refused and counted, memory flat, recovery after expiry', { timeout: 60_000 }, async () => {
  const rss0 = rssKb();
  await flood(['--udp', '-p', '53', '10.0.0.100'], 3);
  const c = await sb.counters();
  assert.ok((c.drop_conn_pool_full ?? 0n) > 0n, `the pool never filled: ${JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  assert.ok((c.conns_created ?? 0n) >= BigInt(MAX_CONNS - 2));
  const grown = rssKb() - rss0;
  assert.ok(grown < 16 * 1024, `the balancer grew by ${grown} kB during the flood`);
  // UDP connections live 2 s here: then the pool is free again.
  await new Promise((r) => setTimeout(r, 4000));
  const after = await newConnections(10);
  assert.deepEqual(after, { answers: { s1: 10 }, errors: 0 });
});

test('an ACK flood creates no connection', { timeout: 30_000 }, async () => {
  const before = await sb.counters();
  await flood(['-A', '-p', '80', '10.0.0.101'], 2);
  const c = await sb.counters();
  assert.equal(c.conns_created, before.conns_created);
  assert.ok((c.drop_no_conn ?? 0n) > (before.drop_no_conn ?? 0n) + 1000n, 'the ACKs were not counted');
});

test('a SYN flood fills the pool with half-open connections: refused and counted', { timeout: 30_000 }, async () => {
  const before = await sb.counters();
  await flood(['-S', '-p', '80', '10.0.0.101'], 2);
  const c = await sb.counters();
  assert.ok((c.drop_conn_pool_full ?? 0n) > (before.drop_conn_pool_full ?? 0n));
});

test('the established connection was answered throughout', { timeout: 40_000 }, async () => {
  const out = JSON.parse((await keepResult).split('\n').filter(Boolean).pop() ?? '') as { answers: Record<string, number>; errors: number; sockets: number };
  assert.equal(out.errors, 0);
  assert.equal(out.sockets, 1, 'the connection was replaced');
  // One request every 100 ms or so for 25 s, floods included.
  assert.ok((out.answers.s1 ?? 0) > 100, JSON.stringify(out));
  assert.equal(sb.balancer.exitCode, null, 'the balancer exited');
});

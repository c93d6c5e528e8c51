// SPDX-License-Identifier: Apache-2.0
//
// The SYN proxy end to end, with real kernel clients and servers: HTTP
// through it in NAT and in FULLNAT; 10 MB each way through each, compared
// by SHA-256; a dest that refuses the connection gives the client an RST;
// a spoofed SYN flood (hping3, bounded) is answered with cookies while
// legitimate clients keep being served, and creates no connection.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Sandbox } from '../../control/src/demo/sandbox';

const LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const FETCH = path.resolve(__dirname, 'fixtures/fetch.js');
const NAT_VIP = '10.0.0.100';
const FNAT_VIP = '10.0.0.101';
const REFUSING_VIP = '10.0.0.102';
const MB10 = 10 * 1024 * 1024;

function service(name: string, vip: string, port: number, forward: string, dests: string): string {
  const laddrs = forward === 'fullnat' ? '\n    local_addresses: [10.0.1.50]' : '';
  return `
  - name: ${name}
    protocol: tcp
    vip: ${vip}
    port: ${port}
    scheduler: rr
    forward: ${forward}${laddrs}
    synproxy: true
    dests: [${dests}]`;
}
const WEB = '{ address: 10.0.1.11, port: 80 }, { address: 10.0.1.12, port: 80 }';
const BIG = '{ address: 10.0.1.11, port: 8000 }';
const SERVICES = [
  service('web', NAT_VIP, 80, 'nat', WEB),
  service('big', NAT_VIP, 8000, 'nat', BIG),
  service('fweb', FNAT_VIP, 80, 'fullnat', WEB),
  service('fbig', FNAT_VIP, 8000, 'fullnat', BIG),
  service('refusing', REFUSING_VIP, 80, 'nat', '{ address: 10.0.1.11, port: 81 }'),
].join('');

// In s1 on 8000: GET /N answers N bytes of the fetch.js pattern; PUT
// answers the SHA-256 of what it received.
const BIG_SERVER = `
const http = require('http'), crypto = require('crypto');
http.createServer((q, r) => {
  if (q.method === 'PUT') {
    const h = crypto.createHash('sha256');
    q.on('data', (d) => h.update(d));
    q.on('end', () => r.end(h.digest('hex')));
    return;
  }
  const n = Number(q.url.slice(1)), b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) % 251;
  r.end(b);
}).listen(8000, () => console.log('ready'));`;

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'synp', servers: 2, services: SERVICES });
  const big = sb.topo.spawn('s1', [process.execPath, '-e', BIG_SERVER]);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('big server not ready')), 10_000);
    big.stdout?.once('data', () => (clearTimeout(t), resolve()));
  });
});

after(async () => {
  await sb?.stop();
});

async function load(url: string, count: number, concurrency = 1) {
  const r = await sb.client([process.execPath, LOAD, url, String(count), String(concurrency)], 120_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

async function fetch(url: string, upload?: number) {
  const r = await sb.client([process.execPath, FETCH, url, ...(upload ? [String(upload)] : [])], 60_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as { status: number; bytes: number; sha256: string; uploadSha256?: string; body?: string };
}

for (const [mode, vip] of [['NAT', NAT_VIP], ['FULLNAT', FNAT_VIP]] as const) {
  test(`HTTP through the SYN proxy in ${mode}`, { timeout: 60_000 }, async () => {
    const before = await sb.counters();
    const { answers, errors } = await load(`http://${vip}/`, 30);
    assert.equal(errors, 0, JSON.stringify(answers));
    assert.deepEqual(answers, { s1: 15, s2: 15 });
    const c = await sb.counters();
    assert.ok((c.synproxy_syn_cookies ?? 0n) - (before.synproxy_syn_cookies ?? 0n) >= 30n);
    assert.equal((c.synproxy_established ?? 0n) - (before.synproxy_established ?? 0n), 30n);
  });

  test(`10 MB each way through the SYN proxy in ${mode} arrive intact`, { timeout: 90_000 }, async () => {
    const down = await fetch(`http://${vip}:8000/${MB10}`);
    assert.equal(down.status, 200);
    assert.equal(down.bytes, MB10);
    const { createHash } = await import('node:crypto');
    const b = Buffer.alloc(MB10);
    for (let i = 0; i < MB10; i++) b[i] = (i * 7 + 3) % 251;
    assert.equal(down.sha256, createHash('sha256').update(b).digest('hex'));
    const up = await fetch(`http://${vip}:8000/up`, MB10);
    assert.equal(up.status, 200);
    // The server answers the SHA-256 of what it got; fetch hashes that answer.
    assert.equal(up.sha256, createHash('sha256').update(up.uploadSha256 as string).digest('hex'));
  });
}

test('a dest that refuses: the client, connected to the proxy, gets a reset (not a refusal)', { timeout: 20_000 }, async () => {
  const script = `
const s = require('net').connect(80, '${REFUSING_VIP}');
let connected = false;
s.on('connect', () => { connected = true; s.write('GET / HTTP/1.0\\r\\n\\r\\n'); });
s.on('error', (e) => { console.log(JSON.stringify({ connected, error: e.code })); process.exit(0); });
s.on('close', () => { console.log(JSON.stringify({ connected, error: 'closed' })); process.exit(0); });
setTimeout(() => { console.log(JSON.stringify({ connected, error: 'timeout' })); process.exit(0); }, 8000);`;
  const r = await sb.client([process.execPath, '-e', script], 15_000);
  // The handshake with the proxy completed, so the kernel reports a reset
  // of an established connection (without the proxy, the dest's RST to the
  // SYN would be ECONNREFUSED). Whether Node emitted 'connect' before the
  // reset arrived is a race of its own.
  assert.equal(JSON.parse(r.stdout).error, 'ECONNRESET', r.stdout);
  const c = await sb.counters();
  assert.ok((c.synproxy_dest_refused ?? 0n) >= 1n);
});

test('a SYN flood is answered with cookies, makes no connection, and clients keep being served', { timeout: 60_000 }, async () => {
  const before = await sb.counters();
  const started = Date.now();
  const flood = sb.client(['timeout', '-s', 'INT', '4', 'hping3', '--flood', '--rand-source', '-S', '-p', '80', NAT_VIP], 15_000);
  await new Promise((r) => setTimeout(r, 500));
  const { answers, errors } = await load(`http://${NAT_VIP}/`, 20, 2);
  await flood;
  const seconds = (Date.now() - started) / 1000;
  const c = await sb.counters();
  assert.equal(errors, 0, JSON.stringify(answers));
  assert.equal((answers.s1 ?? 0) + (answers.s2 ?? 0), 20);
  const cookies = (c.synproxy_syn_cookies ?? 0n) - (before.synproxy_syn_cookies ?? 0n);
  const created = (c.conns_created ?? 0n) - (before.conns_created ?? 0n);
  assert.ok(cookies > 1000n, `only ${cookies} SYN-ACKs`);
  assert.equal(created, 20n, 'the flood created connections');
  console.log(`# SYN flood: ${cookies} SYN cookies in ${seconds.toFixed(1)} s (${(Number(cookies) / seconds / 1000).toFixed(0)} k/s), connections created: ${created} (the 20 legitimate ones)`);
});

// SPDX-License-Identifier: Apache-2.0
//
// Broken dests, end to end with real kernel peers (issue #8, "Faults"):
// s1 blackholes (its namespace drops every packet: nft), s2 resets (its
// server stopped: the kernel answers SYNs with RST), s3 answers slowly (a
// server that waits 1.5 s before each answer), s4 is sound. The web
// service has TCP health checks and passive checks: it keeps serving
// every client through s3 and s4. Services without checks show what IPVS
// does with the connections themselves: to the blackhole they stay
// SYN_RECV and expire with its timeout, to the resetting dest the RST
// reaches the client and the connection closes. A client reusing the port
// of a half-open connection to a dest its checks took out is scheduled
// afresh, and a UDP flow from a fixed client port moves off a dest its
// checks took out. Nothing crashes; with the faults gone every dest serves
// again.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';

import { FulcrumApi } from '../../control/src/api/client';
import type { Connection__Output } from '../../control/src/api/gen/fulcrum/v1/Connection';
import { CHECK_ADDRESS, Sandbox, serverNamespace } from '../../control/src/demo/sandbox';
import { httpLoad, until as untilIn } from './fixtures/http-load';

const SLOW_MS = 1500;
const UDP_PORT = 5140;  // the syslog service's dests' echo servers (s1, s4)
const dests = (ids: number[]) => ids.map((i) => `      - { address: 10.0.1.1${i}, port: 80 }`).join('\n');
const SERVICES = `
  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: rr
    passive_check: true
    health_check: { type: tcp, interval: 300ms, timeout: 300ms, rise: 2, fall: 2, source: ${CHECK_ADDRESS} }
    dests:
${dests([1, 2, 3, 4])}
  - name: hole
    protocol: tcp
    vip: 10.0.0.101
    port: 80
    dests:
${dests([1])}
  - name: refuse
    protocol: tcp
    vip: 10.0.0.102
    port: 80
    dests:
${dests([2])}
  - name: reuse
    protocol: tcp
    vip: 10.0.0.103
    port: 80
    scheduler: rr
    health_check: { type: tcp, interval: 300ms, timeout: 300ms, rise: 2, fall: 2, source: ${CHECK_ADDRESS} }
    dests:
${dests([1, 4])}
  - name: syslog
    protocol: udp
    vip: 10.0.0.104
    port: 514
    scheduler: rr
    health_check: { type: udp, send: ping, expect: s, interval: 300ms, timeout: 300ms, rise: 2, fall: 2, source: ${CHECK_ADDRESS} }
    dests:
      - { address: 10.0.1.11, port: ${UDP_PORT} }
      - { address: 10.0.1.14, port: ${UDP_PORT} }`;
// Answers every datagram with its server's name (argv[1]).
const UDP_NAMED = `const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(process.argv[1], r.port, r.address));
s.bind(${UDP_PORT}, () => console.log('listening'));`;
// A client with a fixed source port (argv[3]), as syslog and RADIUS
// clients have: a datagram to argv[1]:argv[2] every 100 ms, each answer
// printed on a line. Unconnected, so port unreachable errors pass it by.
const UDP_FIXED_PORT = `const [vip, port, cport] = process.argv.slice(1);
const s = require('dgram').createSocket('udp4');
s.on('message', (m) => console.log(m.toString()));
s.bind(Number(cport), () => setInterval(() => s.send('log line', Number(port), vip), 100));`;
// One GET from the client namespace's port argv[2]; prints the answer or "error: ...".
const FROM_PORT = `const [url, port] = process.argv.slice(1);
const req = require('http').get(url, { localPort: Number(port), timeout: 5000, agent: false, headers: { Connection: 'close' } }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => console.log(body.trim()));
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => console.log('error: ' + e.message));`;
// Answers with its name after SLOW_MS.
const SLOW_SERVER = `require('http').createServer((q, r) => setTimeout(() => r.end('s3\\n'), ${SLOW_MS}))
  .listen(80, () => console.log('listening'))`;

let sb: Sandbox;
let api: FulcrumApi;
let slow: ChildProcess | undefined;
const udpServers = new Map<string, ChildProcess>();

before(async () => {
  sb = await Sandbox.start({ tag: 'robu', servers: 4, checkLeg: true, services: SERVICES });
  api = new FulcrumApi(sb.socket);
  await startUdpServers();
});

after(async () => {
  slow?.kill();
  for (const server of udpServers.values()) server.kill();
  api?.close();
  await sb?.stop();
});

const load = (vip: string, count: number, concurrency = 4) => httpLoad(sb, `http://${vip}/`, count, concurrency);

const conns = (req: object) => api.collect<Connection__Output>(api.client.ListConnections(req));

async function nft(ns: string, rules: string): Promise<void> {
  const r = await sb.topo.exec(ns, ['nft', '-f', '-'], { input: rules });
  assert.equal(r.code, 0, r.stderr);
}

/** The syslog service's echo servers on s1 and s4, those not running. */
async function startUdpServers(): Promise<void> {
  for (const [i, name] of [[0, 's1'], [3, 's4']] as const) {
    const running = udpServers.get(name);
    if (running !== undefined && running.exitCode === null && running.signalCode === null) continue;
    const server = sb.topo.spawn(serverNamespace(i), [process.execPath, '-e', UDP_NAMED, name]);
    udpServers.set(name, server);
    await new Promise<void>((resolve) => server.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));
  }
}

const until = (what: string, ok: () => Promise<boolean>, ms: number) => untilIn(sb, what, ok, ms);

test('a client reusing the port of a half-open connection to a dest its checks took out reaches another dest', { timeout: 60_000 }, async () => {
  await until('s1 and s4 serving reuse', async () => {
    const r = await load('10.0.0.103', 4);
    return r.errors === 0 && r.answers.s1 === 2 && r.answers.s4 === 2;
  }, 20_000);
  // s1 drops the client's packets but not the checks': its connections
  // stay half-open (SYN_RECV) in the balancer while it is still healthy.
  await nft(serverNamespace(0), `table inet reuse { chain in { type filter hook input priority 0; ip saddr != ${CHECK_ADDRESS} drop; }; }`);
  try {
    await reuseTheHalfOpenPorts();
  } finally {
    await nft(serverNamespace(0), 'delete table inet reuse');
  }
});

/** The reuse test once s1 drops the client's packets. */
async function reuseTheHalfOpenPorts(): Promise<void> {
  assert.deepEqual(await load('10.0.0.103', 4, 4), { answers: { s4: 2 }, errors: 2 });
  const half = (await conns({ service: 'reuse' })).filter((c) => c.daddr === '10.0.1.11' && c.state === 'SYN_RECV');
  assert.equal(half.length, 2, JSON.stringify(half));
  // Now its checks fail too, and it is inhibited.
  const mark = sb.log.length;
  await nft(serverNamespace(0), 'delete table inet reuse; table inet reuse { chain in { type filter hook input priority 0; policy drop; }; }');
  await until('s1 inhibited', async () => /fulcrum: health: reuse 10\.0\.1\.11:80 down/.test(sb.log.slice(mark)), 10_000);
  // The same client ports again: each SYN is a new connection, scheduled
  // to s4, not sent after the old one to s1.
  const rescheduled = async () => (await sb.counters()).conns_rescheduled ?? 0n;  // listed once it moved
  const before = await rescheduled();
  for (const c of half) {
    const r = await sb.client([process.execPath, '-e', FROM_PORT, 'http://10.0.0.103/', String(c.cport)], 10_000);
    assert.equal(r.stdout.trim(), 's4', `from port ${c.cport}: ${r.stdout}${r.stderr}`);
  }
  assert.equal((await rescheduled()) - before, 2n);
}

test('a UDP flow from a fixed client port moves off a dest its checks took out', { timeout: 60_000 }, async () => {
  const client = sb.topo.spawn('client', [process.execPath, '-e', UDP_FIXED_PORT, '10.0.0.104', '514', '40514']);
  try {
    const answers: string[] = [];
    client.stdout?.on('data', (d: Buffer) => answers.push(...d.toString().split('\n').filter((l) => l !== '')));
    await until('the flow answered', async () => answers.length > 0, 10_000);
    // Whichever dest has the flow stops answering (its kernel says port
    // unreachable); once its checks take it out, the other answers.
    const first = answers[0];
    const other = first === 's1' ? 's4' : 's1';
    const rescheduledBefore = (await sb.counters()).conns_rescheduled ?? 0n;
    const mark = sb.log.length;
    const stopping = udpServers.get(first) as ChildProcess;
    const exited = new Promise((resolve) => stopping.once('exit', resolve));
    stopping.kill();
    await exited;
    await until(`${other} answering`, async () => answers.includes(other), 10_000);
    assert.match(sb.log.slice(mark), /fulcrum: health: syslog 10\.0\.1\.1[14]:5140 down/);
    const flow = (await conns({ service: 'syslog' })).filter((c) => c.cport === 40514);
    assert.equal(flow.length, 1, JSON.stringify(flow));
    assert.equal(flow[0].daddr, other === 's1' ? '10.0.1.11' : '10.0.1.14');
    assert.equal(((await sb.counters()).conns_rescheduled ?? 0n) - rescheduledBefore, 1n);
  } finally {
    client.kill();
    await startUdpServers();  // the one stopped answers again
  }
});

test('blackholing, resetting and slow dests: the checked service serves through the others', { timeout: 90_000 }, async () => {
  await until('every dest serving', async () => {
    const r = await load('10.0.0.100', 8);
    return r.errors === 0 && Object.keys(r.answers).length === 4;
  }, 20_000);

  await nft(serverNamespace(0), 'table inet robu { chain in { type filter hook input priority 0; policy drop; }; }');
  await sb.stopServer(1);
  await sb.stopServer(2);
  const server = sb.topo.spawn(serverNamespace(2), [process.execPath, '-e', SLOW_SERVER]);
  slow = server;
  await new Promise<void>((resolve) => server.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));

  // Within the checks' fall time s1 and s2 are out; every request is
  // answered, the slow dest's late but whole.
  await until('s1 and s2 inhibited', async () => {
    const r = await load('10.0.0.100', 8);
    return r.errors === 0 && r.answers.s1 === undefined && r.answers.s2 === undefined;
  }, 20_000);
  const started = Date.now();
  const r = await load('10.0.0.100', 20, 20);
  assert.deepEqual(r, { answers: { s3: 10, s4: 10 }, errors: 0 });
  assert.ok(Date.now() - started >= SLOW_MS, 'the slow dest answered at once');
});

test('without checks: to a blackhole connections stay SYN_RECV until its timeout; a reset reaches the client', { timeout: 60_000 }, async () => {
  // The client gives up after its 5 s timeout; the balancer's connection
  // has only ever seen the client's SYNs.
  assert.deepEqual(await load('10.0.0.101', 2, 2), { answers: {}, errors: 2 });
  const half = await conns({ service: 'hole' });
  assert.equal(half.length, 2, JSON.stringify(half));
  for (const c of half) {
    assert.equal(c.state, 'SYN_RECV');
    assert.equal(c.daddr, '10.0.1.11');
    assert.ok(Number(c.expires_in?.seconds) <= 60, `expires in ${c.expires_in?.seconds} s, not within SYN_RECV's 60`);
  }
  // Refused at once, not timed out: the RST came through.
  const started = Date.now();
  assert.deepEqual(await load('10.0.0.102', 3, 3), { answers: {}, errors: 3 });
  assert.ok(Date.now() - started < 4000, 'the refusal took as long as a timeout');
  const refused = await conns({ service: 'refuse' });
  assert.equal(refused.length, 3, JSON.stringify(refused));
  for (const c of refused) {
    assert.equal(c.state, 'CLOSE');
    assert.ok(Number(c.expires_in?.seconds) <= 10, `expires in ${c.expires_in?.seconds} s, not within CLOSE's 10`);
  }
});

test('with the faults gone every dest serves again; the balancer never stopped', { timeout: 60_000 }, async () => {
  await nft(serverNamespace(0), 'delete table inet robu');
  const exited = new Promise((resolve) => slow?.once('exit', resolve));
  slow?.kill();
  await exited;
  slow = undefined;
  await sb.startServer(1);
  await sb.startServer(2);
  await until('every dest back', async () => {
    const r = await load('10.0.0.100', 8);
    return r.errors === 0 && Object.keys(r.answers).length === 4;
  }, 20_000);
  assert.equal(sb.balancer.exitCode, null);
  const counters = await sb.counters();
  assert.ok(counters.conns_created > 0n && counters.rx_packets > 0n);
});

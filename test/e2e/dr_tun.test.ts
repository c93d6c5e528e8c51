// SPDX-License-Identifier: Apache-2.0
//
// Direct routing and IP-in-IP tunnelling end to end: the balancer sees only
// the client's half of each connection; the servers own the VIP and answer
// the client directly, over its leg on the server LAN (eth1).

import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CLIENT_ADDRESS, LAN_ADDRESS, Sandbox, TUNNEL_DEVICE, parseCounterTable, serverAddress, serverNamespace, type ServerMode } from '../../control/src/demo/sandbox';

const LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const REQUESTS = 40;
const SERVERS = 2;
// Per connection the client sends at least its SYN, the request and the ACK
// of the answer, and a server at least its SYN-ACK, the answer and its FIN.
const MIN_PACKETS_PER_CONN = 3n;
const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version']).error === undefined;

function services(name: string, vip: string, forward: ServerMode): string {
  const dests = Array.from({ length: SERVERS }, (_, i) => `      - { address: ${serverAddress(i)}, port: 80 }`);
  return [
    `  - name: ${name}`,
    '    protocol: tcp',
    `    vip: ${vip}`,
    '    port: 80',
    '    scheduler: rr',
    `    forward: ${forward}`,
    '    dests:',
    ...dests,
  ].join('\n');
}

function startSandbox(mode: ServerMode, vip: string): Promise<Sandbox> {
  return Sandbox.start({ tag: mode, servers: SERVERS, services: services(`${mode}-web`, vip, mode), serverMode: mode, vips: [vip] });
}

async function load(sb: Sandbox, vip: string, count: number): Promise<{ answers: Record<string, number>; errors: number }> {
  const r = await sb.client([process.execPath, LOAD, `http://${vip}/`, String(count)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

/** An address as a regular expression that matches only it. */
function re(address: string): string {
  return address.replace(/\./g, '\\.');
}

/** A kernel interface counter (e.g. rx_packets) of dev in namespace ns. */
async function linkCounter(sb: Sandbox, ns: string, dev: string, name: string): Promise<bigint> {
  const r = await sb.topo.exec(ns, ['cat', `/sys/class/net/${dev}/statistics/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  return BigInt(r.stdout.trim());
}

// The client must send to the VIP through the balancer on eth0 -- never ARP
// for it on the server LAN, where a server could answer and be sent the
// connection directly.
async function assertVipBehindBalancer(sb: Sandbox, vip: string): Promise<void> {
  const route = await sb.client(['ip', 'route', 'get', vip]);
  assert.match(route.stdout, / dev eth0 /, route.stdout);
  const ping = await sb.client(['ping', '-c', '2', '-i', '0.2', '-W', '2', vip]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  const onWan = await sb.client(['ip', 'neigh', 'show', vip, 'dev', 'eth0']);
  assert.ok(onWan.stdout.toLowerCase().includes(sb.balancerMac), `client's neighbour for ${vip} on eth0: '${onWan.stdout}'`);
  const onLan = await sb.client(['ip', 'neigh', 'show', vip, 'dev', 'eth1']);
  assert.equal(onLan.stdout.trim(), '', `the client resolved ${vip} on the server LAN`);
  // Nor do the servers claim the VIP: asked by ARP on the server LAN (a
  // ping bound to eth1 takes the VIP to be on that link), nobody answers.
  const asked = await sb.client(['ping', '-c', '1', '-W', '1', '-I', 'eth1', vip]);
  assert.notEqual(asked.code, 0, asked.stdout);
  const claimed = await sb.client(['ip', 'neigh', 'show', vip, 'dev', 'eth1']);
  assert.doesNotMatch(claimed.stdout, /lladdr/, `a server answered ARP for ${vip}: '${claimed.stdout}'`);
}

// What the client and the balancer see of a load: the answers, the
// balancer's status after it and counter deltas, and the packets the client
// received on each leg.
async function measuredLoad(sb: Sandbox, vip: string, count: number) {
  const clientRx = () => Promise.all(['eth0', 'eth1'].map((dev) => linkCounter(sb, 'client', dev, 'rx_packets')));
  const before = await sb.counters();
  const [wanBefore, lanBefore] = await clientRx();
  const { answers, errors } = await load(sb, vip, count);
  const status = await sb.status();
  const [wanAfter, lanAfter] = await clientRx();
  const after = parseCounterTable(status).total;
  const delta = (name: string) => (after[name] ?? 0n) - (before[name] ?? 0n);
  return { answers, errors, status, after, delta, rx: { wan: wanAfter - wanBefore, lan: lanAfter - lanBefore } };
}

// What dr and tun share: rr alternates over the two servers, the balancer
// saw every connection arrive and never had a reply to handle, and the
// answers reached the client on the server LAN, not through the balancer.
async function assertDirectAnswers(sb: Sandbox, vip: string) {
  const m = await measuredLoad(sb, vip, REQUESTS);
  assert.equal(m.errors, 0, JSON.stringify(m.answers));
  assert.deepEqual(m.answers, { s1: REQUESTS / 2, s2: REQUESTS / 2 });
  assert.ok(m.delta('conns_created') >= BigInt(REQUESTS), `conns_created +${m.delta('conns_created')}`);
  assert.ok(m.delta('rx_packets') >= BigInt(REQUESTS) * MIN_PACKETS_PER_CONN, `rx_packets +${m.delta('rx_packets')}`);
  // The status table leaves out counters that are zero.
  assert.equal(m.after.drop_fwd_mode ?? 0n, 0n, m.status);
  assert.ok(m.rx.lan >= BigInt(REQUESTS) * MIN_PACKETS_PER_CONN, `client eth1 received ${m.rx.lan} packets`);
  // The balancer sends the client ARP at most.
  assert.ok(m.rx.wan < BigInt(REQUESTS), `client eth0 received ${m.rx.wan} packets`);
  return m;
}

describe('dr: the balancer forwards the client\'s frames unchanged to a server\'s MAC', () => {
  const VIP = '10.0.0.101';
  let sb: Sandbox;

  before(async () => {
    sb = await startSandbox('dr', VIP);
  });

  after(async () => {
    await sb?.stop();
  });

  test('the client reaches the VIP through the balancer, not on the server LAN', { timeout: 20_000 }, async () => {
    await assertVipBehindBalancer(sb, VIP);
  });

  test(`rr over ${REQUESTS} new connections: ${REQUESTS / 2} per server, answered directly`, { timeout: 90_000 }, async () => {
    const { status } = await assertDirectAnswers(sb, VIP);
    assert.match(status, /-> 10\.0\.1\.11:80\s+Route\s/, status);
  });
});

describe('tun: the balancer sends the client\'s packets IP-in-IP to a server', () => {
  const VIP = '10.0.0.102';
  let sb: Sandbox;

  before(async () => {
    sb = await startSandbox('tun', VIP);
  });

  after(async () => {
    await sb?.stop();
  });

  test('the client reaches the VIP through the balancer, not on the server LAN', { timeout: 20_000 }, async () => {
    await assertVipBehindBalancer(sb, VIP);
  });

  test(`rr over ${REQUESTS} new connections: ${REQUESTS / 2} per server, decapsulated on ${TUNNEL_DEVICE}`, { timeout: 90_000 }, async () => {
    const servers = Array.from({ length: SERVERS }, (_, i) => serverNamespace(i));
    const tunnelRx = () => Promise.all(servers.map((ns) => linkCounter(sb, ns, TUNNEL_DEVICE, 'rx_packets')));
    const rxBefore = await tunnelRx();
    const { delta, status } = await assertDirectAnswers(sb, VIP);
    const rxAfter = await tunnelRx();
    assert.equal(delta('drop_tun_too_big'), 0n);
    assert.match(status, /-> 10\.0\.1\.11:80\s+Tunnel\s/, status);
    // Only decapsulation puts packets into the tunnel device.
    servers.forEach((ns, i) => {
      const got = rxAfter[i] - rxBefore[i];
      assert.ok(got >= BigInt(REQUESTS / 2) * MIN_PACKETS_PER_CONN, `${ns} ${TUNNEL_DEVICE} received ${got} packets`);
    });
  });

  test(
    'on the server LAN the client\'s packets travel inside proto 4, never bare',
    { timeout: 60_000, skip: HAVE_TCPDUMP ? false : 'tcpdump is not installed' },
    async () => {
      const requests = 10; // rr: every other one to s1
      const lines = await capture(sb, serverNamespace(0), `ip proto 4 or dst host ${VIP}`, async () => {
        const { answers, errors } = await load(sb, VIP, requests);
        assert.equal(errors, 0, JSON.stringify(answers));
      });
      // tcpdump prints an IP-in-IP packet as "IP outer-src > outer-dst: IP inner-src.port > inner-dst.port: ...".
      const inner = `IP ${re(CLIENT_ADDRESS)}\\.\\d+ > ${re(VIP)}\\.80:`;
      const encapsulated = new RegExp(`IP ${re(LAN_ADDRESS)} > ${re(serverAddress(0))}: ${inner}`);
      const bare = new RegExp(`^\\S+ ${inner}`);
      const text = lines.join('\n');
      assert.ok(lines.filter((l) => encapsulated.test(l)).length >= (requests / 2) * Number(MIN_PACKETS_PER_CONN), text);
      assert.equal(lines.filter((l) => bare.test(l)).length, 0, text);
    },
  );
});

// Runs tcpdump on eth0 of ns while `during` runs and returns the packets it
// printed. timeout(1) bounds it even if the test dies before stopping it;
// immediate mode hands each packet to tcpdump at once instead of a block of
// them a second later, so stopping it soon after loses nothing.
async function capture(sb: Sandbox, ns: string, filter: string, during: () => Promise<void>): Promise<string[]> {
  const dump = sb.topo.spawn(ns, ['timeout', '50', 'tcpdump', '--immediate-mode', '-l', '-nn', '-i', 'eth0', filter]);
  let stdout = '';
  let stderr = '';
  dump.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  dump.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => dump.once('exit', () => resolve()));
  try {
    await waitForListening(dump, () => stderr, exited);
    await during();
    await quiet(dump, 200, 2_000);
  } finally {
    dump.kill('SIGINT'); // timeout(1) passes it on to tcpdump
    await exited;
  }
  return stdout.split('\n').filter(Boolean);
}

function waitForListening(dump: ChildProcess, stderr: () => string, exited: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr()}`)), 10_000);
    const onData = () => {
      if (!stderr().includes('listening on')) return;
      clearTimeout(timer);
      dump.stderr?.off('data', onData);
      resolve();
    };
    dump.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited: ${stderr()}`));
    });
  });
}

// Resolves once the child has printed nothing for quietMs, or after maxMs.
function quiet(child: ChildProcess, quietMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let timer = setTimeout(done, quietMs);
    const cap = setTimeout(done, maxMs);
    const onData = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    child.stdout?.on('data', onData);
    function done() {
      clearTimeout(timer);
      clearTimeout(cap);
      child.stdout?.off('data', onData);
      resolve();
    }
  });
}

// SPDX-License-Identifier: Apache-2.0
//
// SNAT end to end: a real server behind the balancer (10.0.1.11) reaches a
// host on the other side (the client namespace, 10.0.0.1) through the
// balancer, which it uses as its gateway. The outside host sees only the
// pool address 10.0.0.60: for TCP, for UDP and for ping, whose identifier
// comes from the pool.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CLIENT_ADDRESS, LAN_ADDRESS, Sandbox } from '../../control/src/demo/sandbox';

const POOL = '10.0.0.60';
let sb: Sandbox;

// Prints every peer it hears from: TCP answers with the peer's address,
// UDP echoes it back.
const OUTSIDE_HOST = `
const net = require('net'), dgram = require('dgram');
net.createServer((s) => s.end(s.remoteAddress.replace('::ffff:', '') + '\\n')).listen(8000, () => {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(r.address, r.port, r.address));
  u.bind(8001, () => console.log('ready'));
});`;

const INSIDE_CLIENT = `
const net = require('net'), dgram = require('dgram');
const [host] = process.argv.slice(1);
const tcp = new Promise((res) => {
  const s = net.connect(8000, host); let d = '';
  s.on('data', (x) => (d += x)); s.on('close', () => res(d.trim())); s.on('error', (e) => res('error ' + e.message));
});
const udp = new Promise((res) => {
  const u = dgram.createSocket('udp4');
  const t = setTimeout(() => { u.close(); res('timeout'); }, 3000);
  u.on('message', (m) => { clearTimeout(t); u.close(); res(m.toString()); });
  u.send('who am i', 8001, host);
});
Promise.all([tcp, udp]).then(([t, u]) => console.log(JSON.stringify({ tcp: t, udp: u })));`;

before(async () => {
  sb = await Sandbox.start({
    tag: 'snat',
    servers: 1,
    serverMode: 'fullnat',
    snat: `
  - name: servers
    source: 10.0.1.0/24
    local_addresses: [${POOL}]`,
  });
  await sb.topo.exec('s1', ['ip', 'route', 'add', 'default', 'via', LAN_ADDRESS]);
  const host = sb.topo.spawn('client', [process.execPath, '-e', OUTSIDE_HOST]);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('outside host not ready')), 10_000);
    host.stdout?.once('data', () => {
      clearTimeout(t);
      resolve();
    });
  });
});

after(async () => {
  await sb?.stop();
});

test('TCP and UDP from behind the balancer reach the outside from the pool address', { timeout: 30_000 }, async () => {
  const r = await sb.topo.exec('s1', [process.execPath, '-e', INSIDE_CLIENT, CLIENT_ADDRESS], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { tcp: POOL, udp: POOL });
  const status = await sb.status();
  assert.match(status, /servers\s+10\.0\.1\.0\/24\s+0\.0\.0\.0\/0\s+any\s+10\.0\.0\.60\s+2\s/);
});

test('ping from behind the balancer: the outside sees the pool address, the server its replies', { timeout: 30_000 }, async () => {
  const dump = sb.topo.spawn('client', ['tcpdump', '--immediate-mode', '-l', '-n', '-i', 'eth0', 'icmp']);
  let seen = '';
  dump.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
  await new Promise((res) => setTimeout(res, 1000));
  const ping = await sb.topo.exec('s1', ['ping', '-c', '3', '-i', '0.2', '-W', '2', CLIENT_ADDRESS]);
  await new Promise((res) => setTimeout(res, 300));
  dump.kill('SIGINT');
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /3 received/);
  assert.match(seen, new RegExp(`IP ${POOL.replace(/\./g, '\\.')} > ${CLIENT_ADDRESS.replace(/\./g, '\\.')}: ICMP echo request`));
  assert.doesNotMatch(seen, /10\.0\.1\.11/);
});

// SPDX-License-Identifier: Apache-2.0
//
// The `fulcrum` client commands against a real running balancer (null
// ports, so every counter is zero and the output is exact): golden
// listings, the apply diff, the edit commands, and the failures a user
// meets (exit 1 with the balancer's message, exit 2 for usage, a hint when
// nothing listens).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { Balancer } from './fixtures/balancer';

const BIN = path.resolve(__dirname, '../../../bin/fulcrum.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-cli-client-'));
let lb: Balancer;

before(async () => {
  lb = await Balancer.start(dir, {
    services: `  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: wrr
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    dests:
      - { address: 10.0.1.11, port: 80, weight: 3 }
      - { address: 10.0.1.12, port: 80, forward: dr, upper: 100, lower: 50 }`,
  });
});

after(async () => {
  await lb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Asynchronous: the balancer answering is the test process's child, and a
// synchronous spawn would stop this event loop while it must read its output.
function fulcrum(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--socket', lb.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      assert.doesNotMatch(stderr, /\n\s+at /, `stack trace printed:\n${stderr}`);
      resolve({ status, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await fulcrum(...args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('list prints the ipvsadm -L -n table', async () => {
  assert.equal(
    await ok('list'),
    `Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.100:80 wrr persistent 300 mask 255.255.255.0
  -> 10.0.1.11:80                  Masq    3      0          0
  -> 10.0.1.12:80                  Route   1      0          0
`,
  );
});

test('list --stats, --thresholds and --persistent-conn print their ipvsadm columns', async () => {
  assert.equal(
    await ok('list', '--stats'),
    `Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.100:80                       0        0        0        0        0
  -> 10.0.1.11:80                        0        0        0        0        0
  -> 10.0.1.12:80                        0        0        0        0        0
`,
  );
  assert.equal(
    await ok('list', '--thresholds'),
    `Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn  InActConn
  -> RemoteAddress:Port
TCP  10.0.0.100:80
  -> 10.0.1.11:80                          0          0          0          0
  -> 10.0.1.12:80                        100         50          0          0
`,
  );
  assert.equal(
    await ok('list', '--persistent-conn'),
    `Prot LocalAddress:Port            Weight PersistConn ActiveConn  InActConn
  -> RemoteAddress:Port
TCP  10.0.0.100:80
  -> 10.0.1.11:80                      3           0          0          0
  -> 10.0.1.12:80                      1           0          0          0
`,
  );
  const rate = await ok('list', '--rate');
  assert.match(rate, /^Prot LocalAddress:Port {17}CPS {4}InPPS {3}OutPPS {4}InBPS {3}OutBPS\n/);
  assert.match(rate, /\n {2}-> 10\.0\.1\.12:80 {24}0 {8}0 {8}0 {8}0 {8}0\n$/);
});

test('--json prints what the API answered', async () => {
  const doc = JSON.parse(await ok('list', '--json')) as { services: { service: { name: string; dests: object[] }; stats: { counters: { conns: string } } }[] };
  assert.equal(doc.services[0].service.name, 'web');
  assert.equal(doc.services[0].service.dests.length, 2);
  assert.equal(doc.services[0].stats.counters.conns, '0');
  assert.doesNotMatch(JSON.stringify(doc), /"_weight"/);
  const conns = JSON.parse(await ok('conns', '--json')) as { connections: unknown[] };
  assert.deepEqual(conns, { connections: [] });
  const stats = await ok('stats');
  assert.match(stats, /^counter +lcore 1 +total\nrx_packets +\d+ +\d+\n/);
  assert.match(stats, /\n\npools:\npool +of +used +capacity +templates\nconnections +lcore 1 +0 +4096 +0\nsynproxy +lcore 1 +0 +4096 +-\nmbufs +port wan +\d+ +2047 +-\nmbufs +port lan +\d+ +2047 +-\n?$/);
  const json = JSON.parse(await ok('stats', '--json')) as { pools: { pool: string; port: string; capacity: string }[] };
  assert.deepEqual(json.pools.map((p) => `${p.pool} ${p.port} ${p.capacity}`), ['connections  4096', 'synproxy  4096', 'mbufs wan 2047', 'mbufs lan 2047']);
});

test('conns prints the ipvsadm -L -c header', async () => {
  assert.equal(await ok('conns'), 'pro expire state       source                virtual               destination\n');
});

test('service, dest and laddr commands edit the running state', async () => {
  assert.equal(await ok('service', 'add', 'dns', '--udp', '10.0.0.53:53', '-s', 'sh'), 'generation 1\n');
  await ok('service', 'edit', 'dns', '-s', 'rr', '-p', '60');
  await ok('dest', 'add', 'dns', '10.0.1.21:53', '-w', '2');
  await ok('dest', 'edit', 'dns', '10.0.1.21:53', '-x', '10');
  await ok('laddr', 'add', 'dns', '10.0.1.50');
  assert.equal(await ok('laddr', 'list', 'dns'), '10.0.1.50\n');
  assert.match(await ok('stats'), /\n\nlocal address port pools:\nlocal address +lcore +used +capacity +exhausted +conns\n10\.0\.1\.50 +1 +0 +\d+ +0 +0\n$/);
  const list = await ok('list', '--thresholds');
  assert.match(list, /\nUDP  10\.0\.0\.53:53\n {2}-> 10\.0\.1\.21:53 +10 +0 +0 +0\n$/);
  assert.match(await ok('list'), /\nUDP  10\.0\.0\.53:53 rr persistent 60\n {2}-> 10\.0\.1\.21:53 {18}Masq {4}2 /);
  // One service, as ipvsadm -L -n -u VIP:PORT lists it: the header and that service only.
  const one = await ok('list', 'dns', '--stats');
  assert.match(one, /^Prot LocalAddress:Port {15}Conns/);
  assert.match(one, /\nUDP  10\.0\.0\.53:53 +0 +0 +0 +0 +0\n {2}-> 10\.0\.1\.21:53 +0 +0 +0 +0 +0\n$/);
  assert.doesNotMatch(one, /10\.0\.0\.100/);
  assert.deepEqual((JSON.parse(await ok('list', 'dns', '--json')) as { services: { stats: { name: string } }[] }).services.map((x) => x.stats.name), ['dns']);
  const missing = await fulcrum('list', 'nope');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no service named 'nope'/);
  await ok('dest', 'del', 'dns', '10.0.1.21:53');
  await ok('laddr', 'del', 'dns', '10.0.1.50');
  await ok('service', 'del', 'dns');
  assert.doesNotMatch(await ok('list'), /10\.0\.0\.53/);
});

test('apply -f prints the diff; --dry-run changes nothing', async () => {
  const file = path.join(dir, 'apply.yaml');
  writeFileSync(
    file,
    `services:
  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: wrr
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    dests:
      - { address: 10.0.1.11, port: 80, weight: 5 }
  - name: ntp
    protocol: udp
    vip: 10.0.0.123
    port: 123
`,
  );
  const diff = `- service web dest 10.0.1.12:80
~ service web dest 10.0.1.11:80: weight: 3 -> 5
+ service ntp
`;
  const before = await ok('list');
  assert.equal(await ok('apply', '-f', file, '--dry-run'), `${diff}dry run: 3 change(s) not applied\n`);
  assert.equal(await ok('list'), before);
  assert.match(await ok('apply', '-f', file), new RegExp(`^${diff.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}applied 3 change\\(s\\): generation \\d+\\n$`));
  assert.equal(await ok('apply', '-f', file), 'no changes\n');
  assert.match(await ok('list'), /UDP  10\.0\.0\.123:123 wlc\n$/);
});

test('refusals: the balancer message and exit 1; usage mistakes exit 2', async () => {
  const dup = await fulcrum('dest', 'add', 'web', '10.0.1.11:80');
  assert.equal(dup.status, 1);
  assert.equal(dup.stderr, "fulcrum: service 'web' already has dest 10.0.1.11:80\n");
  const bad = await fulcrum('dest', 'add', 'web', '10.0.1.13:80', '-w', '70000');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'fulcrum: services[0].dests[1].weight: must be from 0 to 65535, got 70000\n');
  const gone = await fulcrum('service', 'del', 'nope');
  assert.equal(gone.stderr, "fulcrum: no service named 'nope'\n");
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'services:\n  - name: x\n    protocol: sctp\n    vip: 10.0.0.9\n    port: 1\n');
  const invalid = await fulcrum('apply', '-f', file);
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /bad\.yaml: services\[0\]\.protocol: .*sctp/);
  for (const args of [['service', 'frob'], ['dest', 'add', 'web'], ['service', 'add', 'x'], ['apply'], ['list', '--stats', '--rate'], ['list', 'web', 'dns'], ['dest', 'add', 'web', '10.0.1.9:80', '-w', 'lots']]) {
    const r = await fulcrum(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^fulcrum: .*\nusage: fulcrum/, args.join(' '));
  }
});

test('without a balancer: a hint, exit 1', async () => {
  const r = await new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'list', '--socket', path.join(dir, 'none.sock')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status) => resolve({ status, stdout: '', stderr }));
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `fulcrum: cannot connect to ${path.join(dir, 'none.sock')}: is fulcrum running?\n`);
});

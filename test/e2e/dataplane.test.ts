// SPDX-License-Identifier: Apache-2.0
//
// End to end: a kernel client in a network namespace talks to the DPDK
// dataplane (net_af_packet) running in `fulcrum start` in another.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { BALANCER_ADDRESS, Sandbox } from '../../control/src/demo/sandbox';

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ tag: 'e2e' });
});

after(async () => {
  await sb?.stop();
});

async function clientNeighbour(): Promise<string> {
  return (await sb.client(['ip', 'neigh', 'show', BALANCER_ADDRESS])).stdout.toLowerCase();
}

test('the kernel in the balancer namespace owns no address: answers come from DPDK', async () => {
  const addr = await sb.topo.exec('lb', ['ip', '-4', 'addr', 'show', 'dev', 'wan0']);
  assert.equal(addr.stdout.includes('inet '), false, addr.stdout);
});

test('only the worker thread runs on the worker CPU; V8, libuv and EAL threads stay on the control CPU', async () => {
  const pid = sb.balancer.pid as number;
  const tasks = readdirSync(`/proc/${pid}/task`);
  const threads = tasks.map((tid) => {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    return { name: field('Name'), cpus: field('Cpus_allowed_list') };
  });
  const workers = threads.filter((t) => t.name.startsWith('rte-worker'));
  assert.deepEqual(workers.map((t) => t.cpus), ['1'], JSON.stringify(threads));
  for (const t of threads.filter((x) => !x.name.startsWith('rte-worker'))) assert.equal(t.cpus, '0', `${t.name} may run on ${t.cpus}`);
  assert.ok(threads.length > 4, 'expected V8/libuv threads too');
});

test('a gratuitous ARP announces the address at start', { timeout: 10_000 }, async () => {
  let neigh = '';
  for (let i = 0; i < 50 && !neigh.includes(sb.balancerMac); i++) {
    neigh = await clientNeighbour();
    if (!neigh.includes(sb.balancerMac)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(neigh.includes(sb.balancerMac), `client learned nothing from the GARP: '${neigh}'`);
  assert.ok((await sb.counters()).garp_sent >= 1n);
});

test('ping is answered; the balancer resolves the client by ARP, holding the reply', { timeout: 20_000 }, async () => {
  // The client knows the balancer from the GARP, so its first echo reaches
  // a balancer that has never seen the client's MAC.
  const ping = await sb.client(['ping', '-c', '3', '-i', '0.2', '-W', '2', BALANCER_ADDRESS]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /3 packets transmitted, 3 received/);
  const c = await sb.counters();
  assert.ok(c.icmp_echo_replies >= 3n, `icmp_echo_replies ${c.icmp_echo_replies}`);
  assert.ok(c.arp_requests_sent >= 1n, 'the balancer never asked for the client');
  assert.ok(c.neigh_held >= 1n && c.neigh_released >= 1n, 'the first reply was not held and released');
});

test('ARP requests from the client are answered with the DPDK port MAC', { timeout: 20_000 }, async () => {
  await sb.client(['ip', 'neigh', 'flush', 'dev', 'eth0']);
  const before = (await sb.counters()).arp_replies_sent ?? 0n;
  const ping = await sb.client(['ping', '-c', '1', '-W', '2', BALANCER_ADDRESS]);
  assert.equal(ping.code, 0, ping.stdout);
  assert.ok((await clientNeighbour()).includes(sb.balancerMac));
  assert.ok((await sb.counters()).arp_replies_sent > before);
});

test('pings to an address the balancer does not own get no answer and are counted', { timeout: 20_000 }, async () => {
  // Answer ARP for .99 on the client side so the echo reaches the balancer.
  await sb.client(['ip', 'neigh', 'replace', '10.0.0.99', 'lladdr', sb.balancerMac, 'dev', 'eth0']);
  const before = (await sb.counters()).drop_not_ours ?? 0n;
  const ping = await sb.client(['ping', '-c', '2', '-i', '0.2', '-W', '1', '10.0.0.99']);
  assert.notEqual(ping.code, 0);
  assert.ok((await sb.counters()).drop_not_ours >= before + 2n);
});

test('SIGTERM stops the workers and closes the ports cleanly', { timeout: 20_000 }, async () => {
  const code = await sb.stop();
  assert.equal(code, 0, sb.log);
  assert.match(sb.log, /SIGTERM: workers stopped, ports closed/);
});

// SPDX-License-Identifier: Apache-2.0
//
// The API on a balancer that carries traffic: a service created over gRPC
// balances real kernel HTTP clients and servers in network namespaces;
// ListConnections and `fulcrum conns` show the connections with filters;
// GetStats reports the service's rates; an Apply keeps an open connection
// working while it changes the service around it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { FulcrumApi } from '../../control/src/api/client';
import type { Connection__Output } from '../../control/src/api/gen/fulcrum/v1/Connection';
import { CLIENT_ADDRESS, Sandbox, serverAddress, WEB_LADDR } from '../../control/src/demo/sandbox';
import { output } from './fixtures/http-load';

const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const KEEPALIVE = path.resolve(__dirname, 'fixtures/keepalive.js');
const BIN = path.resolve(__dirname, '../../../bin/fulcrum.js');
const VIP = '10.0.0.100';

let sb: Sandbox;
let api: FulcrumApi;

before(async () => {
  sb = await Sandbox.start({ tag: 'api', servers: 3 });
  api = new FulcrumApi(sb.socket);
});

after(async () => {
  api?.close();
  await sb?.stop();
});

async function load(count: number, vip = VIP): Promise<Record<string, number>> {
  const r = await sb.client([process.execPath, HTTP_LOAD, `http://${vip}/`, String(count)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
  assert.equal(out.errors, 0, JSON.stringify(out));
  return out.answers;
}

const conns = (req: object) => api.collect<Connection__Output>(api.client.ListConnections(req));

test('a service created over gRPC balances real clients', { timeout: 60_000 }, async () => {
  await api.call('CreateService', {
    service: {
      name: 'web',
      protocol: 'PROTOCOL_TCP',
      vip: VIP,
      port: 80,
      scheduler: 'SCHEDULER_RR',
      dests: [0, 1, 2].map((i) => ({ address: serverAddress(i), port: 80 })),
    },
  });
  const answers = await load(30);
  assert.deepEqual(answers, { s1: 10, s2: 10, s3: 10 });
});

test('ListConnections lists them, filtered by service, dest, client and state', { timeout: 60_000 }, async () => {
  const keep = sb.topo.spawn('client', [process.execPath, KEEPALIVE, `http://${VIP}/`, '4']);
  const done = output(keep);
  await new Promise((r) => setTimeout(r, 1000));
  const established = await conns({ service: 'web', state: 'ESTABLISHED' });
  assert.equal(established.length, 1, JSON.stringify(established));
  const c = established[0];
  assert.equal(c.service, 'web');
  assert.equal(c.caddr, CLIENT_ADDRESS);
  assert.equal(c.vaddr, VIP);
  assert.equal(c.vport, 80);
  assert.equal(c.template, false);
  assert.ok(Number(c.expires_in?.seconds) > 60, 'an established connection expires in minutes');
  assert.equal((await conns({ service: 'web', daddr: c.daddr, dport: 80, state: 'ESTABLISHED' })).length, 1);
  const other = [0, 1, 2].map(serverAddress).find((a) => a !== c.daddr) as string;
  assert.equal((await conns({ service: 'web', daddr: other, dport: 80, state: 'ESTABLISHED' })).length, 0);
  assert.equal((await conns({ client_prefix: '10.0.0.0/24', state: 'ESTABLISHED' })).length, 1);
  assert.equal((await conns({ client_prefix: '192.168.0.0/16' })).length, 0);
  // The 30 closed connections of the load linger in TIME_WAIT.
  assert.ok((await conns({ service: 'web', state: 'TIME_WAIT' })).length >= 20);

  const cli = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'conns', '--socket', sb.socket, '--state', 'ESTABLISHED'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.once('close', () => resolve(text));
  });
  const row = new RegExp(`^TCP \\d\\d:\\d\\d  ESTABLISHED ${CLIENT_ADDRESS}:${c.cport} +${VIP}:80 +${c.daddr.replace(/\./g, '\\.')}:80$`, 'm');
  assert.match(cli, /^pro expire state {7}source {16}virtual {15}destination\n/);
  assert.match(cli, row);

  // Apply changes the service around the open connection, which keeps working.
  const { state } = await api.call('GetDesiredState', {});
  const web = state?.services[0];
  assert.ok(web);
  const r = await api.call('Apply', {
    state: { services: [{ ...web, dests: web.dests.map((d) => ({ ...d, weight: d.address === c.daddr ? 0 : 2 })) }] },
  });
  assert.equal(r.changes.length, 3);
  const kept = JSON.parse((await done).trim().split('\n').pop() as string) as { errors: number; sockets: number; answers: Record<string, number> };
  assert.equal(kept.errors, 0, JSON.stringify(kept));
  assert.equal(kept.sockets, 1);
  assert.ok(Object.values(kept.answers)[0] >= 20, JSON.stringify(kept));
});

test('GetStats reports the service and dest rates over the window', { timeout: 60_000 }, async () => {
  const loading = load(200);
  // Measure once the load is under way (starting a client may take a while
  // on a busy machine), not at a fixed delay.
  const conns = async () => Number((await api.call('GetStats', {})).services.find((s) => s.name === 'web')?.counters?.conns ?? 0);
  const base = await conns();
  for (let i = 0; i < 100 && (await conns()) < base + 5; i++) await new Promise((r) => setTimeout(r, 50));
  const stats = await api.call('GetStats', { window: { seconds: 1 } });
  await loading;
  const web = stats.services.find((s) => s.name === 'web');
  assert.ok(web?.rates, JSON.stringify(stats.services));
  assert.ok(web.rates.conns_per_s > 5, `conns/s ${web.rates.conns_per_s}`);
  assert.ok(web.rates.inpkts_per_s > web.rates.conns_per_s, JSON.stringify(web.rates));
  assert.ok(web.rates.outbytes_per_s > 0, JSON.stringify(web.rates));
  const quiesced = web.dests.filter((d) => d.rates?.conns_per_s === 0);
  assert.equal(quiesced.length, 1, 'the weight-0 dest got new connections');
  // Once the load is over: 30 + 1 + 200 connections since the service was created.
  const after = (await api.call('GetStats', {})).services.find((s) => s.name === 'web');
  assert.equal(after?.counters?.conns, '231', JSON.stringify(after?.counters));
});

test('a FULLNAT service built with the laddr RPCs: its connections show the local address', { timeout: 60_000 }, async () => {
  const FULL_VIP = '10.0.0.101';
  const service = { name: 'full', protocol: 'PROTOCOL_TCP' as const, vip: FULL_VIP, port: 80, scheduler: 'SCHEDULER_RR' as const };
  await api.call('CreateService', { service: { ...service, dests: [{ address: serverAddress(0), port: 80 }] } });
  await api.call('CreateLocalAddress', { service: 'full', address: WEB_LADDR });
  await api.call('UpdateService', { service: { ...service, forward: 'FORWARD_MODE_FULLNAT' }, update_mask: { paths: ['forward'] } });
  assert.deepEqual(await load(5, FULL_VIP), { s1: 5 });
  const rows = await conns({ service: 'full', state: 'TIME_WAIT' });
  assert.equal(rows.length, 5);
  for (const c of rows) {
    assert.equal(c.laddr, WEB_LADDR);
    assert.ok(c.lport > 0);
  }
  const pool = (await api.call('GetStats', {})).local_addresses.find((l) => l.address === WEB_LADDR);
  assert.ok(pool, 'no pool statistics for the laddr');
  assert.equal(pool.workers.reduce((t, w) => t + Number(w.conns), 0), 5);
  assert.ok(pool.workers.every((w) => Number(w.capacity) > 0));
  // The pool address cannot go while the service is FULLNAT.
  await assert.rejects(api.call('DeleteLocalAddress', { service: 'full', address: WEB_LADDR }), /local_addresses: forward fullnat needs at least one local address/);
});

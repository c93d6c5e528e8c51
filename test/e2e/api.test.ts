// SPDX-License-Identifier: Apache-2.0
//
// The gRPC API through a real grpc-js client against a real `fulcrum
// start` (the DPDK dataplane on null ports): every desired-state RPC with
// valid and invalid input, Apply with its diff and dry run, events, stats,
// the health service and reflection. Traffic-dependent RPCs (connections,
// rates of a service) are in api-traffic.test.ts.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import { FulcrumApi } from '../../control/src/api/client';
import type { Event__Output } from '../../control/src/api/gen/fulcrum/v1/Event';
import type { Service } from '../../control/src/api/gen/fulcrum/v1/Service';
import { readStateFile } from '../../control/src/state/file';
import { journalFile } from '../../control/src/state/journal';
import { Balancer, metricsPort } from './fixtures/balancer';
import { rejectsWith } from './fixtures/grpc-assert';

const WEB = `  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: wrr
    dests:
      - { address: 10.0.1.11, port: 80, weight: 2 }
      - { address: 10.0.1.12, port: 80 }`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-api-'));
let lb: Balancer;
let api: FulcrumApi;

before(async () => {
  // Three services at most: the dataplane's own limit, for FAILED_PRECONDITION;
  // no SYN proxy (no state pool), which a synproxy service runs into.
  lb = await Balancer.start(dir, { services: WEB, dataplane: ['  max_services: 3', '  synproxy: { max_conns: 0 }'] });
  api = new FulcrumApi(lb.socket);
});

after(async () => {
  api?.close();
  await lb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const dns = (name: string, vip: string, more: Partial<Service> = {}): Service => ({
  name,
  protocol: 'PROTOCOL_UDP',
  vip,
  port: 53,
  dests: [{ address: '10.0.1.21', port: 53 }],
  ...more,
});

/** What a restart would read: the state file with its journal's records. */
function savedState(): { generation: number; services: { name: string; scheduler: string; dests: { address: string; weight: number }[] }[]; snat: { name: string }[] } {
  const saved = readStateFile(lb.stateFile, ['wan', 'lan']);
  assert.ok(saved, 'no state file');
  return { generation: saved.generation, ...saved.desired };
}

/** The bytes on disk: the state file and its journal. */
const savedBytes = () => [lb.stateFile, journalFile(lb.stateFile)].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : ''));

test('the socket is mode 0600', () => {
  assert.equal(statSync(lb.socket).mode & 0o777, 0o600);
});

test('ListServices and GetService show the config file services with defaults filled in', async () => {
  const { services } = await api.call('ListServices', {});
  assert.deepEqual(services.map((s) => s.name), ['web']);
  const { service } = await api.call('GetService', { name: 'web' });
  assert.equal(service?.scheduler, 'SCHEDULER_WRR');
  assert.equal(service?.forward, 'FORWARD_MODE_NAT');
  assert.deepEqual(service?.dests.map((d) => [d.address, d.port, d.weight]), [['10.0.1.11', 80, 2], ['10.0.1.12', 80, 1]]);
  await rejectsWith(api.call('GetService', { name: 'nope' }), 'NOT_FOUND', /no service named 'nope'/);
});

test('CreateService applies and persists; refusals name the field or the conflict', async () => {
  const r = await api.call('CreateService', { service: dns('dns', '10.0.0.53') });
  assert.equal(r.service?.scheduler, 'SCHEDULER_WLC');
  assert.equal(savedState().generation, Number(r.generation));
  assert.deepEqual(savedState().services.map((s) => s.name), ['web', 'dns']);
  await rejectsWith(api.call('CreateService', { service: dns('dns', '10.0.0.54') }), 'ALREADY_EXISTS', /service named 'dns' already exists/);
  await rejectsWith(api.call('CreateService', { service: dns('dns2', '10.0.0.53') }), 'ALREADY_EXISTS', /'dns' already answers for udp 10\.0\.0\.53:53/);
  await rejectsWith(api.call('CreateService', {}), 'INVALID_ARGUMENT', /^service: is required$/);
  await rejectsWith(api.call('CreateService', { service: dns('x', '10.0.0.300') }), 'INVALID_ARGUMENT', /services\[2\]\.vip: '10\.0\.0\.300' is not an IPv4 address/);
  await rejectsWith(api.call('CreateService', { service: dns('x', '10.0.0.55', { protocol: 'PROTOCOL_UNSPECIFIED' }) }), 'INVALID_ARGUMENT', /services\[2\]\.protocol: is required/);
  await rejectsWith(api.call('CreateService', { service: dns('x', '10.0.0.55', { port: 0 }) }), 'INVALID_ARGUMENT', /services\[2\]\.port: port 0 .* needs persistence/);
  await rejectsWith(
    api.call('CreateService', { service: dns('x', '10.0.0.55', { protocol: 'PROTOCOL_TCP', forward: 'FORWARD_MODE_FULLNAT' }) }),
    'INVALID_ARGUMENT',
    /services\[2\]\.local_addresses: forward fullnat needs at least one local address/,
  );
  await rejectsWith(
    api.call('CreateService', { service: dns('x', '10.0.0.55', { health_check: { type: 'HEALTH_CHECK_TYPE_TCP', interval: { seconds: 1 }, timeout: { seconds: 5 } } }) }),
    'INVALID_ARGUMENT',
    /services\[2\]\.health_check\.timeout: timeout 5s is longer than interval 1s/,
  );
  assert.deepEqual(savedState().services.map((s) => s.name), ['web', 'dns'], 'a refused change was persisted');
});

test('a state the dataplane refuses is FAILED_PRECONDITION and changes nothing', async () => {
  await api.call('CreateService', { service: dns('dns3', '10.0.0.63') });
  const before = savedState().generation;
  await rejectsWith(api.call('CreateService', { service: dns('dns4', '10.0.0.64') }), 'FAILED_PRECONDITION', /too many services: at most 3/);
  assert.equal(savedState().generation, before);
  assert.deepEqual((await api.call('ListServices', {})).services.map((s) => s.name), ['web', 'dns', 'dns3']);
  await api.call('DeleteService', { name: 'dns3' });
  await rejectsWith(api.call('DeleteService', { name: 'dns3' }), 'NOT_FOUND', /no service named 'dns3'/);
});

test('a synproxy service without the SYN proxy is FAILED_PRECONDITION, naming why', async () => {
  const before = savedState().generation;
  const web2 = { name: 'web2', protocol: 'PROTOCOL_TCP' as const, vip: '10.0.0.102', port: 80, synproxy: true, dests: [{ address: '10.0.1.11', port: 80 }] };
  await rejectsWith(api.call('CreateService', { service: web2 }), 'FAILED_PRECONDITION',
    /synproxy is on, but the SYN proxy is off \(dataplane\.synproxy\.max_conns is 0\)/);
  assert.equal(savedState().generation, before);
  assert.ok(!(await api.call('ListServices', {})).services.some((x) => x.name === 'web2'));
});

test('UpdateService replaces the masked fields only; the whole service without a mask', async () => {
  const r = await api.call('UpdateService', { service: { name: 'web', scheduler: 'SCHEDULER_RR' }, update_mask: { paths: ['scheduler'] } });
  assert.equal(r.service?.scheduler, 'SCHEDULER_RR');
  assert.equal(r.service?.dests.length, 2, 'the mask kept the dests');
  assert.equal(savedState().services[0].scheduler, 'rr');
  const whole = await api.call('UpdateService', {
    service: dns('dns', '10.0.0.53', { scheduler: 'SCHEDULER_SH', health_check: { type: 'HEALTH_CHECK_TYPE_UDP', send: 'q' } }),
  });
  assert.equal(whole.service?.scheduler, 'SCHEDULER_SH');
  // A service read can be sent back as it is: nothing changes.
  const same = await api.call('UpdateService', { service: whole.service });
  assert.equal(same.generation, whole.generation);
  await rejectsWith(api.call('UpdateService', { service: { name: 'nope' } }), 'NOT_FOUND', /no service named 'nope'/);
  await rejectsWith(api.call('UpdateService', { service: { name: 'web' }, update_mask: { paths: ['name'] } }), 'INVALID_ARGUMENT', /cannot be renamed/);
  await rejectsWith(
    api.call('UpdateService', { service: { name: 'web', mh: { table_size: 2 } }, update_mask: { paths: ['mh'] } }),
    'INVALID_ARGUMENT',
    /services\[0\]\.mh\.table_size: must be from 3/,
  );
});

test('dests: create, get, update, delete, and each refusal', async () => {
  const created = await api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.13', port: 80, weight: 0 } });
  assert.equal(created.dest?.weight, 0, 'weight 0 (quiesced) is kept, not taken for unset');
  assert.equal((await api.call('GetDest', { service: 'web', address: '10.0.1.13', port: 80 })).dest?.weight, 0);
  await api.call('UpdateDest', { service: 'web', dest: { address: '10.0.1.13', port: 80, weight: 5, upper: 100 } });
  const { dests } = await api.call('ListDests', { service: 'web' });
  assert.deepEqual(dests.map((d) => [d.address, d.weight, d.upper]), [['10.0.1.11', 2, 0], ['10.0.1.12', 1, 0], ['10.0.1.13', 5, 100]]);
  assert.equal(savedState().services[0].dests[2].weight, 5);
  await rejectsWith(api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.13', port: 80 } }), 'ALREADY_EXISTS', /already has dest 10\.0\.1\.13:80/);
  await rejectsWith(api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.14', port: 80, weight: 70000 } }), 'INVALID_ARGUMENT', /^services\[0\]\.dests\[3\]\.weight: must be from 0 to 65535, got 70000$/);
  await rejectsWith(api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.14', port: 80, upper: 10, lower: 20 } }), 'INVALID_ARGUMENT', /dests\[3\]\.lower: lower 20 is above upper 10/);
  await rejectsWith(api.call('CreateDest', { service: 'web', dest: { address: '224.0.0.1', port: 80 } }), 'INVALID_ARGUMENT', /dests\[3\]\.address: '224\.0\.0\.1' .*not a unicast/);
  await rejectsWith(api.call('CreateDest', { service: 'nope', dest: { address: '10.0.1.14', port: 80 } }), 'NOT_FOUND', /no service named 'nope'/);
  await rejectsWith(api.call('UpdateDest', { service: 'web', dest: { address: '10.0.1.99', port: 80 } }), 'NOT_FOUND', /has no dest 10\.0\.1\.99:80/);
  await rejectsWith(api.call('GetDest', { service: 'web', address: '10.0.1.13', port: 81 }), 'NOT_FOUND', /has no dest 10\.0\.1\.13:81/);
  await api.call('DeleteDest', { service: 'web', address: '10.0.1.13', port: 80 });
  await rejectsWith(api.call('DeleteDest', { service: 'web', address: '10.0.1.13', port: 80 }), 'NOT_FOUND', /has no dest/);
  assert.equal(savedState().services[0].dests.length, 2);
});

test('local addresses: create, list, delete, and each refusal', async () => {
  await api.call('CreateLocalAddress', { service: 'web', address: '10.0.1.50' });
  await api.call('CreateLocalAddress', { service: 'web', address: '10.0.1.51' });
  assert.deepEqual((await api.call('ListLocalAddresses', { service: 'web' })).addresses, ['10.0.1.50', '10.0.1.51']);
  await rejectsWith(api.call('CreateLocalAddress', { service: 'web', address: '10.0.1.50' }), 'ALREADY_EXISTS', /already has local address 10\.0\.1\.50/);
  await rejectsWith(api.call('CreateLocalAddress', { service: 'web', address: 'ten' }), 'INVALID_ARGUMENT', /services\[0\]\.local_addresses\[2\]: 'ten' is not an IPv4 address/);
  await rejectsWith(api.call('DeleteLocalAddress', { service: 'web', address: '10.0.1.52' }), 'NOT_FOUND', /has no local address 10\.0\.1\.52/);
  await rejectsWith(api.call('ListLocalAddresses', { service: 'nope' }), 'NOT_FOUND', /no service named 'nope'/);
  await api.call('DeleteLocalAddress', { service: 'web', address: '10.0.1.51' });
  assert.deepEqual((await api.call('ListLocalAddresses', { service: 'web' })).addresses, ['10.0.1.50']);
});

test('Apply: a dry run reports the diff and changes nothing; the apply changes only the difference', async () => {
  const { state, generation } = await api.call('GetDesiredState', {});
  assert.ok(state);
  const web = state.services.find((s) => s.name === 'web') as Service;
  const next = {
    services: [
      { ...web, dests: [{ address: '10.0.1.11', port: 80, weight: 3 }, { address: '10.0.1.15', port: 80 }] },
      dns('dns-b', '10.0.0.57'),
    ],
  };
  const fileBefore = savedBytes();
  const dry = await api.call('Apply', { state: next, dry_run: true });
  const expected = [
    '- service dns',
    '- service web dest 10.0.1.12:80',
    '~ service web dest 10.0.1.11:80: weight: 2 -> 3',
    '+ service web dest 10.0.1.15:80',
    '+ service dns-b',
  ];
  assert.deepEqual(dry.changes.map((c) => c.text), expected);
  assert.equal(dry.applied, false);
  assert.equal(dry.generation, generation);
  assert.deepEqual(savedBytes(), fileBefore, 'a dry run wrote the state file');
  assert.deepEqual((await api.call('ListServices', {})).services.map((s) => s.name), ['web', 'dns']);

  const real = await api.call('Apply', { state: next });
  assert.deepEqual(real.changes.map((c) => c.text), expected);
  assert.equal(real.applied, true);
  assert.equal(Number(real.generation), Number(generation) + 1);
  assert.deepEqual((await api.call('ListServices', {})).services.map((s) => s.name), ['web', 'dns-b']);
  assert.deepEqual(savedState().services.map((s) => s.name), ['web', 'dns-b']);

  const again = await api.call('Apply', { state: next });
  assert.deepEqual(again.changes, []);
  assert.equal(again.applied, false);
});

test('Apply refuses an invalid state as a whole, naming every field', async () => {
  const before = savedState();
  await rejectsWith(
    api.call('Apply', {
      state: {
        services: [dns('a', '10.0.0.70', { dests: [{ address: '10.0.1.1', port: 53 }, { address: '10.0.1.2', port: 53, weight: 70000 }] })],
        snat: [{ name: 'out', source: '10.0.1.0/24', out_port: 'dmz', local_addresses: ['10.0.0.9'] }],
      },
    }),
    'INVALID_ARGUMENT',
    /services\[0\]\.dests\[1\]\.weight: must be from 0 to 65535, got 70000; snat\[0\]\.out_port: unknown port 'dmz' \(ports: wan, lan\)/,
  );
  await rejectsWith(api.call('Apply', { state: { services: [dns('a', '10.0.0.70'), dns('a', '10.0.0.71')] } }), 'INVALID_ARGUMENT', /services\[1\]\.name: duplicate service name 'a'/);
  // An enum value the API does not have (a newer client's, say): named, not an internal error.
  const unknown = dns('a', '10.0.0.70', { protocol: 7 as unknown as 'PROTOCOL_UDP' });
  await rejectsWith(api.call('Apply', { state: { services: [unknown] } }), 'INVALID_ARGUMENT', /^services\[0\]\.protocol: '7' is not one of tcp, udp$/);
  await rejectsWith(api.call('CreateService', { service: unknown }), 'INVALID_ARGUMENT', /services\[\d\]\.protocol: '7' is not one of tcp, udp$/);
  assert.deepEqual(savedState(), before);
});

test('Apply adds an SNAT rule; its counters and pool address are reported', async () => {
  const { state } = await api.call('GetDesiredState', {});
  const rule = { name: 'out', source: '10.0.1.0/24', out_port: 'wan', local_addresses: ['10.0.0.9'] };
  const r = await api.call('Apply', { state: { services: state?.services, snat: [rule] } });
  assert.deepEqual(r.changes.map((c) => c.text), ['+ snat rule out']);
  assert.deepEqual((await api.call('GetDesiredState', {})).state?.snat, [{ ...rule, destination: '0.0.0.0/0' }]);
  assert.equal(savedState().snat[0].name, 'out');
  const stats = await api.call('GetStats', {});
  assert.deepEqual(stats.snat_rules.map((x) => x.name), ['out']);
  assert.ok(stats.local_addresses.some((l) => l.address === '10.0.0.9'), JSON.stringify(stats.local_addresses));
});

test('WatchEvents streams a config event for every applied change', { timeout: 10_000 }, async () => {
  const stream = api.client.WatchEvents({});
  const got = new Promise<Event__Output>((resolve, reject) => {
    stream.on('data', (e: Event__Output) => resolve(e));
    stream.on('error', reject);
  });
  // The subscription is made when the server sees the call: give it a moment.
  await new Promise((r) => setTimeout(r, 200));
  const r = await api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.16', port: 80 } });
  const e = await got;
  stream.cancel();
  assert.equal(e.event, 'config');
  assert.equal(e.config?.generation, r.generation);
  assert.deepEqual(e.config?.changes, ['+ service web dest 10.0.1.16:80']);
  assert.ok(Math.abs(Number(e.at?.seconds) * 1000 - Date.now()) < 5000);
});

test('GetStats: counters per worker, service and dest; rates over the window', { timeout: 15_000 }, async () => {
  const now = await api.call('GetStats', {});
  assert.equal(now.workers.length, 1);
  assert.deepEqual(now.workers[0].rates, {});
  assert.deepEqual(now.services.map((s) => s.name), ['web', 'dns-b']);
  assert.equal(now.services[0].rates, null);
  assert.equal(now.services[0].dests.length, 3);
  assert.equal(now.services[0].counters?.conns, '0');
  // Every pool: the worker's connections and SYN proxy states (none: synproxy.max_conns 0), each port's mbufs.
  assert.deepEqual(now.pools.map((p) => [p.pool, p.lcore, p.port, p.capacity]), [
    ['connections', 1, '', '4096'], ['synproxy', 1, '', '0'], ['mbufs', 0, 'wan', '2047'], ['mbufs', 0, 'lan', '2047'],
  ]);
  assert.equal(now.pools[0].used, '0');
  // The null port delivers packets endlessly: the worker's rx rate is real.
  const r = await api.call('GetStats', { window: { nanos: 300e6 } });
  const window = Number(r.window?.seconds) + (r.window?.nanos ?? 0) / 1e9;
  assert.ok(window >= 0.3 && window < 1, `window ${window}`);
  assert.ok(r.workers[0].rates.rx_packets > 1000, `rx rate ${r.workers[0].rates.rx_packets}`);
  assert.deepEqual(r.services[0].rates, { conns_per_s: 0, inpkts_per_s: 0, outpkts_per_s: 0, inbytes_per_s: 0, outbytes_per_s: 0 });
  await rejectsWith(api.call('GetStats', { window: { seconds: 60 } }), 'INVALID_ARGUMENT', /^window: must be 0 or from 100 ms to 10000 ms, got 60000 ms$/);
});

test('GetStats: the services named, in that order; workers only; refusals name the field', async () => {
  const named = await api.call('GetStats', { services: ['dns-b', 'web'] });
  assert.deepEqual(named.services.map((s) => [s.name, s.dests.length]), [['dns-b', 1], ['web', 3]]);
  assert.equal(named.workers.length, 1);
  const rated = await api.call('GetStats', { services: ['web'], window: { nanos: 100e6 } });
  assert.deepEqual(rated.services.map((s) => [s.name, s.rates?.conns_per_s]), [['web', 0]]);
  const workers = await api.call('GetStats', { workers_only: true });
  assert.deepEqual([workers.services, workers.snat_rules], [[], []]);
  assert.equal(workers.workers.length, 1);
  assert.equal(workers.pools.length, 4);
  await rejectsWith(api.call('GetStats', { services: ['web', 'nope'] }), 'NOT_FOUND', /^no service named 'nope'$/);
  await rejectsWith(api.call('GetStats', { services: ['web', 'web'] }), 'INVALID_ARGUMENT', /^services: 'web' is named twice$/);
  await rejectsWith(api.call('GetStats', { services: ['web'], workers_only: true }), 'INVALID_ARGUMENT', /^services: must be empty with workers_only$/);
});

test('ListConnections refuses unknown services and dests, bad prefixes and states', async () => {
  const list = (req: object) => api.collect(api.client.ListConnections(req));
  assert.deepEqual(await list({ service: 'web' }), []);
  await rejectsWith(list({ service: 'nope' }), 'NOT_FOUND', /no service named 'nope'/);
  await rejectsWith(list({ service: 'web', daddr: '10.0.1.99', dport: 80 }), 'NOT_FOUND', /has no dest 10\.0\.1\.99:80/);
  await rejectsWith(list({ daddr: '10.0.1.11', dport: 80 }), 'INVALID_ARGUMENT', /^daddr: needs service/);
  await rejectsWith(list({ client_prefix: '10.0.0/8' }), 'INVALID_ARGUMENT', /^client_prefix: '10\.0\.0\/8' is not/);
  await rejectsWith(list({ state: 'SLEEPY' }), 'INVALID_ARGUMENT', /^state: unknown TCP state 'SLEEPY'/);
});

test('the health service answers SERVING; reflection lists the Fulcrum service', async () => {
  const { protoPath } = await import('grpc-health-check');
  const healthPkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as any;
  const health = new healthPkg.grpc.health.v1.Health(`unix:${lb.socket}`, grpc.credentials.createInsecure());
  const check = (service: string) =>
    new Promise<{ status: string }>((resolve, reject) => health.Check({ service }, (e: Error, r: { status: string }) => (e ? reject(e) : resolve(r))));
  assert.equal((await check('')).status, 'SERVING');
  assert.equal((await check('fulcrum.v1.Fulcrum')).status, 'SERVING');
  health.close();

  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const reflectionPkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true })) as any;
  const reflection = new reflectionPkg.grpc.reflection.v1.ServerReflection(`unix:${lb.socket}`, grpc.credentials.createInsecure());
  const stream = reflection.ServerReflectionInfo();
  const answer = new Promise<{ list_services_response: { service: { name: string }[] } }>((resolve, reject) => {
    stream.on('data', resolve);
    stream.on('error', reject);
  });
  stream.write({ list_services: '' });
  const names = (await answer).list_services_response.service.map((s) => s.name);
  stream.end();
  reflection.close();
  assert.ok(names.includes('fulcrum.v1.Fulcrum'), names.join(', '));
  assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
});

test('every unary call is timed in /metrics by method and status code', async () => {
  await api.call('ListServices', {});
  await rejectsWith(api.call('GetService', { name: 'no-such-service' }), 'NOT_FOUND', /no service named/);
  const text = await (await fetch(`http://127.0.0.1:${metricsPort(lb.dir)}/metrics`)).text();
  const count = (method: string, code: string) =>
    Number(new RegExp(`^fulcrum_control_request_duration_seconds_count\\{method="${method}",code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  assert.ok(count('ListServices', 'OK') >= 1, text.split('\n').filter((l) => l.includes('request_duration_seconds_count')).join('\n'));
  assert.ok(count('GetService', 'NOT_FOUND') >= 1);
});

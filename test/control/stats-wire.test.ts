// SPDX-License-Identifier: Apache-2.0
//
// GetStats' services part, encoded by stats.ts from sampled rows rather
// than by the loader: the bytes must be the loader's own encoding of the
// same reply, counters past 2^53 must stay exact, rates must match each
// dest with its earlier value, and a large reply must let the event loop
// turn. (The RPC end to end: test/e2e/api.test.ts, api-traffic.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MethodDefinition } from '@grpc/grpc-js';

import type { GetStatsResponse__Output } from '../../control/src/api/gen/fulcrum/v1/GetStatsResponse';
import { fulcrumProto } from '../../control/src/api/proto';
import { loaderReplySerializer, SLICE_MESSAGES } from '../../control/src/api/reply-wire';
import { clockPast, servicesWire } from '../../control/src/api/stats';
import { serviceSchema, type ServiceConfig } from '../../control/src/config/schema';
import { StatView } from '../../control/src/dataplane/counters';
import type { ServiceSample } from '../../control/src/dataplane/dataplane';
import { turnsDuring } from './turns';

// The dataplane's row layouts (FULCRUM_SERVICE_STATS, FULCRUM_DEST_STATS), in their order.
const SERVICE_FIELDS = ['conns', 'live', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];
const DEST_FIELDS = ['active', 'inactive', 'persistent', 'conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];
const WORKERS = 2;
const ROWS = 8;

/** A StatView of WORKERS workers x ROWS rows with these fields, all 0; set() writes worker w's row. */
function rows(names: string[]) {
  const words = new BigUint64Array(WORKERS * ROWS * names.length);
  const view = new StatView(words.buffer, { names, stride: names.length }, ROWS);
  const set = (w: number, row: number, values: Record<string, bigint>) => {
    for (const [k, v] of Object.entries(values)) words[(w * ROWS + row) * names.length + names.indexOf(k)] = v;
  };
  return { view, set };
}

function service(name: string, dests: [string, number][]): ServiceConfig {
  return serviceSchema.parse({ name, protocol: 'tcp', vip: '10.0.0.1', port: 80, dests: dests.map(([address, port]) => ({ address, port })) });
}

type Rows = ReturnType<typeof rows>;

/** A ServiceSample of these services at these rows (ids), each with its dests' rows. */
function sample(services: ServiceConfig[], serviceRows: number[], destRows: number[][], s: Rows, d: Rows): ServiceSample {
  const destStart = [0];
  for (const r of destRows) destStart.push(destStart.at(-1)! + r.length);
  return {
    services, missing: [], own: s.view.sums(serviceRows), dests: d.view.sums(destRows.flat()), destStart,
    fields: { service: SERVICE_FIELDS, dest: DEST_FIELDS },
  };
}

/** The reply as a client reads it. */
function decode(chunks: Uint8Array[]): GetStatsResponse__Output {
  const service = fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<unknown, GetStatsResponse__Output>>;
  return service.GetStats.responseDeserialize(Buffer.concat(chunks));
}

const zero = { conns: '0', inpkts: '0', outpkts: '0', inbytes: '0', outbytes: '0', active: '0', inactive: '0', persistent: '0' };
const BIG = 2n ** 60n + 5n;  // past 2^53: a double would round it
const MAX = 2n ** 64n - 1n;  // the largest: its high half has the top bit set

test('the services part is the loader\'s encoding of the same counters, exact past 2^53', async () => {
  const s = rows(SERVICE_FIELDS);
  const d = rows(DEST_FIELDS);
  s.set(0, 0, { conns: 2n ** 32n, inbytes: 2n ** 59n, live: 9n });
  s.set(1, 0, { conns: 1n, inbytes: 2n ** 59n + 5n });
  d.set(0, 3, { active: 2n, inactive: 1n, conns: 7n, outbytes: 2n ** 59n });
  d.set(1, 3, { active: 3n, persistent: 1n, outbytes: 2n ** 59n + 5n });
  d.set(1, 5, { active: 4n, conns: 9n, inpkts: MAX });
  const web = service('web', [['10.0.1.11', 80], ['10.0.1.12', 80]]);
  const dns = service('dns', [['10.0.2.1', 53]]);
  const chunks = await servicesWire(sample([web, dns], [0, 1], [[3, 5], [6]], s, d), undefined, 0);

  const expected = {
    services: [
      {
        name: 'web',
        counters: { ...zero, conns: String(2n ** 32n + 1n), inbytes: String(BIG), active: '9', inactive: '1', persistent: '1' },
        rates: null,
        dests: [
          { address: '10.0.1.11', port: 80, counters: { ...zero, active: '5', inactive: '1', persistent: '1', conns: '7', outbytes: String(BIG) }, rates: null },
          { address: '10.0.1.12', port: 80, counters: { ...zero, active: '4', conns: '9', inpkts: String(MAX) }, rates: null },
        ],
      },
      { name: 'dns', counters: zero, rates: null, dests: [{ address: '10.0.2.1', port: 53, counters: zero, rates: null }] },
    ],
  };
  // Byte for byte what the loader makes of the reply built as decimal strings.
  assert.deepEqual(Buffer.concat(chunks), loaderReplySerializer('GetStats')(expected));
  assert.deepEqual(decode(chunks).services, expected.services);
});

test('rates match each dest with its earlier value: by position when unchanged, else by address', async () => {
  const s = rows(SERVICE_FIELDS);
  const d = rows(DEST_FIELDS);
  const web = service('web', [['10.0.1.11', 80], ['10.0.1.12', 80]]);
  const dnsBefore = service('dns', [['10.0.2.1', 53], ['10.0.2.2', 53]]);
  // dns changed meanwhile: its dests reordered and one added (rows 4, 5 kept; 6 new).
  const dnsNow = service('dns', [['10.0.2.3', 53], ['10.0.2.2', 53], ['10.0.2.1', 53]]);
  d.set(0, 0, { conns: 10n, inpkts: 100n });
  d.set(0, 4, { conns: 4n });
  d.set(0, 5, { inbytes: 2n ** 60n });
  s.set(0, 0, { conns: 10n });
  const before = sample([web, dnsBefore], [0, 1], [[0, 1], [4, 5]], s, d);
  d.set(0, 0, { conns: 30n, inpkts: 300n });
  d.set(1, 1, { outpkts: 8n });
  d.set(0, 4, { conns: 10n });
  d.set(0, 5, { inbytes: 2n ** 60n + 2n });
  d.set(0, 6, { conns: 50n });
  s.set(1, 0, { conns: 40n });
  const now = sample([dnsNow, web], [1, 0], [[6, 5, 4], [0, 1]], s, d);
  const got = decode(await servicesWire(now, before, 2)).services;

  const r = (more: Record<string, number> = {}) => ({ conns_per_s: 0, inpkts_per_s: 0, outpkts_per_s: 0, inbytes_per_s: 0, outbytes_per_s: 0, ...more });
  assert.deepEqual(got.map((x) => x.name), ['dns', 'web'], 'in the order of the later sample');
  assert.deepEqual(got[1].rates, r({ conns_per_s: 20 }));
  assert.deepEqual(got[1].dests.map((x) => x.rates), [r({ conns_per_s: 10, inpkts_per_s: 100 }), r({ outpkts_per_s: 4 })]);
  // 10.0.2.3 is new: no earlier value, no rates (not its whole count over the window).
  assert.deepEqual(got[0].dests.map((x) => x.rates), [null, r({ inbytes_per_s: 1 }), r({ conns_per_s: 3 })]);
});

test('a large services part is encoded in slices with the event loop turning between them', async () => {
  const count = SLICE_MESSAGES * 3 + 7;
  const words = (names: string[]) => new StatView(new BigUint64Array(count * names.length).buffer, { names, stride: names.length }, count);
  const services = Array.from({ length: count }, (_, i) => service(`svc${i}`, [[`10.1.${i >> 8}.${i & 255}`, 80]]));
  const ids = services.map((_, i) => i);
  const destStart = [...ids, count];
  const big: ServiceSample = {
    services, missing: [], own: words(SERVICE_FIELDS).sums(ids), dests: words(DEST_FIELDS).sums(ids), destStart,
    fields: { service: SERVICE_FIELDS, dest: DEST_FIELDS },
  };
  const { result: chunks, turns } = await turnsDuring(() => servicesWire(big, undefined, 0));
  assert.equal(chunks.length, 4);
  assert.ok(turns >= chunks.length - 1, `the event loop turned ${turns} times over ${chunks.length} slices`);
  const got = decode(chunks).services;
  assert.equal(got.length, count);
  assert.equal(got.at(-1)?.dests[0].address, `10.1.${(count - 1) >> 8}.${(count - 1) & 255}`);
});

test('a rate window is never shorter than asked: the clock is past its end when it closes', async () => {
  // libuv's timers count whole milliseconds of a coarse clock, so a timer
  // alone ends up to a millisecond or more early by process.hrtime (here
  // a 3 ms one, about 1 in 60); over 500 windows, not one may be short.
  let shortest = Infinity;
  for (let i = 0; i < 500; i++) {
    const started = process.hrtime.bigint();
    await clockPast(started + 2_000_000n);
    shortest = Math.min(shortest, Number(process.hrtime.bigint() - started) / 1e6);
  }
  assert.ok(shortest >= 2, `a 2 ms window closed after ${shortest} ms`);
});

// SPDX-License-Identifier: Apache-2.0
//
// The table a service crosses into the addon as: every field survives
// packing, a service built from config lands in the right words, and a
// layout the addon reads otherwise is refused before anything is sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ServiceSpec } from '../../control/src/dataplane/addon';
import { loadAddon } from '../../control/src/dataplane/addon';
import {
  checkSpecLayout, CLIENT_ADDRESSES, DEST_WORDS, EXTRA_WORDS, FORWARD_MODES, LADDR_WORDS, packService, S,
  SERVICE_WORDS, specLayout, unpackService,
} from '../../control/src/dataplane/spec-table';

const MAX = 0xffffffff;

function spec(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    id: 16383,
    proto: 'udp',
    vip: '255.255.255.254',
    port: 65535,
    extra: [{ proto: 'tcp', vip: '0.0.0.1', port: 0 }, { proto: 'udp', vip: '10.1.2.3', port: 53 }],
    scheduler: 'twos',
    sched: { mhTableSize: 16777213, mhHashPort: true, mhFallback: false, lblcExpireMs: MAX, lblcrShrinkMs: 1 },
    persistMs: MAX,
    persistMask: '255.255.255.0',
    expireNodest: true,
    synproxy: false,
    timeouts: { tcp: MAX, tcpfin: 0, udp: 1 },
    laddrs: [{ id: 0, ip: '128.0.0.0' }, { id: 1023, ip: '10.0.1.51' }, { id: 7, ip: '192.168.0.1' }],
    clientAddress: 'proxy_v2',
    dests: FORWARD_MODES.map((fwd, i) => ({
      id: 1_048_575 - i,
      ip: ['0.0.0.1', '10.1.2.3', '192.168.255.254', '255.255.255.255', '128.0.0.0'][i],
      port: [0, 1, 8080, 65535, 443][i],
      fwd,
      weight: [0, 1, 100, MAX, 7][i],
      upper: i * 1000,
      lower: i * 500,
      available: i % 2 === 0,
    })),
    ...over,
  };
}

test('every field of a service survives its table, at the edges of its range', () => {
  const s = spec();
  const t = packService(s);
  const words = SERVICE_WORDS.length + 2 * EXTRA_WORDS.length + 3 * LADDR_WORDS.length + 5 * DEST_WORDS.length;
  assert.equal(t.length, words);
  assert.deepEqual(unpackService(t), s);
  // Each named word where the layout says, in host order.
  assert.equal(t[S.vip], 0xfffffffe);
  assert.equal(t[S.persistMask], 0xffffff00);
  assert.equal(t[S.proto], 17);
  assert.equal(t[S.clientAddress], CLIENT_ADDRESSES.indexOf('proxy_v2'));
  const flags = { mhHashPort: 1, mhFallback: 0, expireNodest: 1, synproxy: 0 };
  for (const [w, v] of Object.entries(flags)) assert.equal(t[S[w as keyof typeof S]], v, w);
});

test('a service without endpoints, local addresses or dests is its header alone', () => {
  const s = spec({ extra: [], laddrs: [], dests: [], proto: 'tcp', clientAddress: 'none', scheduler: 'rr' });
  const t = packService(s);
  assert.equal(t.length, SERVICE_WORDS.length);
  assert.deepEqual(unpackService(t), s);
  assert.equal(t[S.scheduler], 0);
});

test('an address that is not one is a bug the packing names', () => {
  assert.throws(() => packService(spec({ vip: '10.0.0.256' })), /vip: '10.0.0.256' is not an IPv4 address/);
});

test('the addon reads the layout this side writes', () => {
  assert.deepEqual(loadAddon().specLayout(), specLayout());
});

test('the addon reading another layout is refused, naming what differs', () => {
  assert.doesNotThrow(() => checkSpecLayout(specLayout()));
  const swapped = specLayout();
  [swapped.dest[4], swapped.dest[5]] = [swapped.dest[5], swapped.dest[4]];
  assert.throws(() => checkSpecLayout(swapped), /reads services as \{"dest":\[.*"upper","weight".*\]\}, not as .*rebuild it/);
  const fewer = { ...specLayout(), schedulers: ['rr', 'wrr'] };
  assert.throws(() => checkSpecLayout(fewer), /\{"schedulers":\["rr","wrr"\]\}.*rebuild it/);
});

// SPDX-License-Identifier: Apache-2.0
//
// ListServices and GetDesiredState replies made from each service's
// encoding, kept per config object (service-wire.ts): the bytes must be
// the loader's own encoding of the same reply, a changed service must be
// encoded anew, and many new services are encoded in slices with the
// event loop turning between them. (The RPCs end to end: test/e2e/api.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { desiredOut, serviceOut } from '../../control/src/api/convert';
import { loaderReplySerializer, SLICE_MESSAGES } from '../../control/src/api/reply-wire';
import { desiredStateWire, listServicesWire } from '../../control/src/api/service-wire';
import { serviceSchema, type ServiceConfig } from '../../control/src/config/schema';
import { validateDesired } from '../../control/src/state/desired';
import { turnsDuring } from './turns';

const web = (weight: number): ServiceConfig =>
  serviceSchema.parse({
    name: 'web', protocol: 'tcp', vip: '10.0.0.100', port: 80, scheduler: 'mh', forward: 'fullnat',
    persistence: { timeout: 300, netmask: '255.255.255.0' }, synproxy: true, local_addresses: ['10.0.1.10'],
    health_check: { type: 'http', path: '/', interval: '1s' },
    dests: [{ address: '10.0.1.21', port: 8080, weight }, { address: '10.0.1.22', port: 8080, forward: 'nat' }],
  });
const dns = serviceSchema.parse({ name: 'dns', protocol: 'udp', vip: '10.0.0.53', port: 53, dests: [{ address: '10.0.2.1', port: 53 }] });

test('ListServices is the loader\'s encoding of the same services; a changed service is encoded anew', async () => {
  const before = [web(3), dns];
  assert.deepEqual(await listServicesWire(before), loaderReplySerializer('ListServices')({ services: before.map(serviceOut) }));
  // An edit makes a new config object for web; dns is the same object.
  const after = [dns, web(5)];
  assert.deepEqual(await listServicesWire(after), loaderReplySerializer('ListServices')({ services: after.map(serviceOut) }));
  assert.deepEqual(await listServicesWire([]), Buffer.alloc(0));
});

test('GetDesiredState is the loader\'s encoding of the state and its generation', async () => {
  const snat = validateDesired({ snat: [{ name: 'out', source: '10.0.1.0/24', out_port: 'wan', local_addresses: ['10.0.0.9'] }] }, ['wan']).snat;
  const d = { services: [web(3), dns], snat };
  const loader = loaderReplySerializer('GetDesiredState');
  assert.deepEqual(await desiredStateWire(d, 42), loader({ state: desiredOut(d), generation: '42' }));
  const empty = { services: [], snat: [] };
  assert.deepEqual(await desiredStateWire(empty, 0), loader({ state: desiredOut(empty), generation: '0' }));
});

test('many new services are encoded in slices with the event loop turning between them; known ones are not encoded again', async () => {
  const count = SLICE_MESSAGES * 3 + 1;
  const services = Array.from({ length: count }, (_, i) =>
    serviceSchema.parse({ name: `svc${i}`, protocol: 'tcp', vip: `10.9.${i >> 8}.${i & 255}`, port: 80, dests: [{ address: '10.1.0.1', port: 80 }] }),
  );
  const first = await turnsDuring(() => listServicesWire(services));
  assert.ok(first.turns >= 3, `the event loop turned ${first.turns} times over ${count} services`);
  assert.deepEqual(first.result, loaderReplySerializer('ListServices')({ services: services.map(serviceOut) }));
  // The same objects again: every encoding is known, so nothing is sliced (the loop need not turn).
  const again = await turnsDuring(() => listServicesWire(services));
  assert.equal(again.turns, 0);
  assert.deepEqual(again.result, first.result);
});

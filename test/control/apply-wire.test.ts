// SPDX-License-Identifier: Apache-2.0
//
// Apply's request read service by service (apply-wire.ts), through the
// loader's own serializer: each service arrives as what the loader would
// have decoded, keyed by its bytes; the rest of the request as the loader
// reads it; and the store's cache decodes only the services it has not
// seen, so an Apply that repeats 10,000 services decodes none of them.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MethodDefinition } from '@grpc/proto-loader';

import { applyRequestIn, type ApplyWire } from '../../control/src/api/apply-wire';
import { serviceIn, snatIn } from '../../control/src/api/convert';
import type { ApplyRequest, ApplyRequest__Output } from '../../control/src/api/gen/fulcrum/v1/ApplyRequest';
import type { Service } from '../../control/src/api/gen/fulcrum/v1/Service';
import { fulcrumProto } from '../../control/src/api/proto';
import { desiredInput, EncodedInput } from '../../control/src/state/desired';
import { StateError } from '../../control/src/state/errors';
import { ServiceCache } from '../../control/src/state/validated';

const apply = (fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<ApplyRequest, unknown, ApplyRequest__Output, unknown>>).Apply;
const encode = (r: ApplyRequest): Buffer => apply.requestSerialize(r);

function service(name: string, vip: string, weight = 1): Service {
  return { name, protocol: 'PROTOCOL_TCP', vip, port: 80, scheduler: 'SCHEDULER_WRR', dests: [{ address: '10.0.0.11', port: 8080, weight }] };
}

const SNAT = [{ name: 'out', source: '10.0.1.0/24', local_addresses: ['192.0.2.1'] }];

test('each service arrives as the loader decodes it, keyed by its bytes; dry_run and snat arrive', () => {
  const a = service('a', '10.0.0.100');
  const b = service('b', '10.0.0.101');
  const request = { state: { services: [a, b], snat: SNAT }, dry_run: true };
  const wire = applyRequestIn(encode(request));
  const loader = apply.requestDeserialize(encode(request));
  assert.equal(wire.dry_run, true);
  assert.deepEqual(wire.state.snat, loader.state!.snat.map(snatIn));
  assert.deepEqual(wire.state.services.map((s) => s.input()), loader.state!.services.map(serviceIn));
  // The same service in another request has the same key; another service or a changed one does not.
  const again = applyRequestIn(encode({ state: { services: [service('c', '10.0.0.102'), a, service('b', '10.0.0.101', 2)] } }));
  assert.equal(again.dry_run, false);
  assert.deepEqual(again.state.snat, []);
  assert.equal(again.state.services[1].key, wire.state.services[0].key);
  assert.notEqual(again.state.services[0].key, wire.state.services[0].key);
  assert.notEqual(again.state.services[2].key, wire.state.services[1].key);
});

test('a state given twice counts once, the last, as the loader reads it; a request cut short is refused', () => {
  // Two encoded messages one after the other are one message with both's fields.
  const both = Buffer.concat([
    encode({ state: { services: [service('a', '10.0.0.100')] } }),
    encode({ state: { services: [service('b', '10.0.0.101')], snat: SNAT }, dry_run: true }),
  ]);
  const wire = applyRequestIn(both);
  const loader = apply.requestDeserialize(both);
  assert.deepEqual(wire.state.services.map((s) => s.input().name), ['b']);
  assert.deepEqual(wire.state.services.map((s) => s.input()), loader.state!.services.map(serviceIn));
  assert.deepEqual(wire.state.snat, loader.state!.snat.map(snatIn));
  assert.equal(wire.dry_run, true);
  const whole = encode({ state: { services: [service('a', '10.0.0.100')] } });
  assert.throws(() => applyRequestIn(whole.subarray(0, whole.length - 3)), RangeError);
  assert.equal(applyRequestIn(Buffer.alloc(0)).state.services.length, 0);
});

/** The request's services, counting how many of them get decoded. */
function counted(wire: ApplyWire, count: { decodes: number }): ApplyWire {
  const services = wire.state.services.map((s) => new EncodedInput(s.key, () => (count.decodes++, s.input())));
  return { ...wire, state: { ...wire.state, services } };
}

test('the cache decodes only the services it has not seen', () => {
  const services = Array.from({ length: 50 }, (_, i) => service(`s${i}`, `10.0.2.${i + 1}`));
  const cache = new ServiceCache({ services: [], snat: [] });
  const first = { decodes: 0 };
  const v1 = cache.validate(counted(applyRequestIn(encode({ state: { services } })), first).state, ['wan']);
  assert.equal(first.decodes, 50);
  cache.replace(v1);
  // The same fleet again, with one service reweighted.
  services[7] = service('s7', '10.0.2.8', 5);
  const second = { decodes: 0 };
  const v2 = cache.validate(counted(applyRequestIn(encode({ state: { services } })), second).state, ['wan']);
  assert.equal(second.decodes, 1);
  assert.deepEqual(v2.fresh.map((e) => e.config.name), ['s7']);
  assert.equal(v2.desired.services[7].dests[0].weight, 5);
  // Unchanged services are the very validated objects of the first Apply (spec caches key on them).
  assert.ok(v2.desired.services.every((s, i) => i === 7 || s === v1.desired.services[i]));
});

test('plain input (the config file read again) finds the running services by their text, also after an Apply changed one', () => {
  const services = Array.from({ length: 20 }, (_, i) => service(`s${i}`, `10.0.2.${i + 1}`));
  const cache = new ServiceCache({ services: [], snat: [] });
  const v1 = cache.validate(applyRequestIn(encode({ state: { services } })).state, ['wan']);
  cache.replace(v1);
  const again = cache.validate(desiredInput(v1.desired), ['wan']);
  assert.equal(again.fresh.length, 0, 'every service found by its text');
  assert.ok(again.desired.services.every((s, i) => s === v1.desired.services[i]));
  services[3] = service('s3', '10.0.2.4', 9);
  const v2 = cache.validate(applyRequestIn(encode({ state: { services } })).state, ['wan']);
  cache.replace(v2);
  // The texts are those of the running list now: the changed service by its new text.
  const after = cache.validate(desiredInput(v2.desired), ['wan']);
  assert.equal(after.fresh.length, 0);
  assert.equal(after.desired.services[3], v2.desired.services[3]);
  assert.equal(after.desired.services[3].dests[0].weight, 9);
  // And the old text is a change again.
  const back = cache.validate(desiredInput(v1.desired), ['wan']);
  assert.deepEqual(back.fresh.map((e) => e.config.name), ['s3']);
});

test('an invalid Apply read from the wire gets the config file\'s errors, naming the service', () => {
  const cache = new ServiceCache({ services: [], snat: [] });
  const wire = applyRequestIn(encode({ state: { services: [service('a', '10.0.0.100'), service('a', '10.0.0.101')] } }));
  assert.throws(() => cache.validate(wire.state, ['wan']), (err: unknown) => {
    assert.ok(err instanceof StateError);
    assert.match(err.message, /^services\[1\]\.name: .*'a'/);
    return true;
  });
});

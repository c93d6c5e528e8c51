// SPDX-License-Identifier: Apache-2.0
//
// The API's messages to the config's input form, through the real codec:
// an ApplyRequest encoded by the loader's own serializer and read by
// Apply's deserializer (apply-wire.ts), its services then decoded as the
// store's cache decodes them (decoded messages, whose unset fields read
// the type's defaults, as the server sees them). An unset
// field must be absent, not undefined, at every depth (the strict schema
// would take an undefined key as given), and what is set must arrive.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MethodDefinition } from '@grpc/proto-loader';

import { applyRequestIn } from '../../control/src/api/apply-wire';
import { serviceIn } from '../../control/src/api/convert';
import type { ApplyRequest } from '../../control/src/api/gen/fulcrum/v1/ApplyRequest';
import type { Service, Service__Output } from '../../control/src/api/gen/fulcrum/v1/Service';
import { fulcrumProto, fulcrumTypes, LOADER_OPTIONS } from '../../control/src/api/proto';
import { decodedInput, validateDesired, type Input } from '../../control/src/state/desired';
import { FULL } from './full-service';

/** The input form the store gets from this request, every service decoded. */
function serverSide(request: ApplyRequest): Input {
  const apply = fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<ApplyRequest, unknown>>;
  return decodedInput(applyRequestIn(apply.Apply.requestSerialize(request)).state) as Input;
}

/** The paths of every undefined value below v. */
function undefinedPaths(v: unknown, at = ''): string[] {
  if (v === null || typeof v !== 'object') return v === undefined ? [at] : [];
  return Object.entries(v).flatMap(([k, x]) => undefinedPaths(x, `${at}.${k}`));
}

test('a minimal service arrives with only what was set, and validates with the defaults', () => {
  const input = serverSide({
    state: { services: [{ name: 'web', protocol: 'PROTOCOL_TCP', vip: '10.0.0.100', port: 80, dests: [{ address: '10.0.0.11', port: 8080 }] }] },
  });
  assert.deepEqual(undefinedPaths(input), []);
  assert.deepEqual((input.services as Input[])[0], {
    name: 'web',
    protocol: 'tcp',
    vip: '10.0.0.100',
    port: 80,
    synproxy: false,
    local_addresses: [],
    passive_check: false,
    expire_nodest_conn: false,
    endpoints: [],
    dests: [{ address: '10.0.0.11', port: 8080, upper: 0, lower: 0 }],
  });
  const web = validateDesired(input, ['wan']).services[0];
  assert.equal(web.scheduler, 'wlc');
  assert.equal(web.dests[0].weight, 1);
});

test('nested messages arrive without undefined keys: persistence, timeouts, endpoints, health checks', () => {
  const input = serverSide({
    state: {
      services: [{
        name: 'web',
        protocol: 'PROTOCOL_TCP',
        vip: '10.0.0.100',
        port: 80,
        scheduler: 'SCHEDULER_RR',
        persistence: { timeout: { seconds: '300' } },
        timeouts: { tcp: { seconds: '900' } },
        endpoints: [{ port: 443 }],
        health_check: { type: 'HEALTH_CHECK_TYPE_TCP', interval: { seconds: '2' } },
        dests: [{ address: '10.0.0.11', port: 80, weight: 3, health_check: { type: 'HEALTH_CHECK_TYPE_TCP' } }],
      }],
    },
  });
  assert.deepEqual(undefinedPaths(input), []);
  const web = (input.services as Input[])[0];
  assert.deepEqual(web.persistence, { timeout: 300 });
  assert.deepEqual(web.timeouts, { tcp: '900000ms' });
  assert.deepEqual(web.endpoints, [{ port: 443 }]);
  assert.deepEqual(web.health_check, { type: 'tcp', interval: '2000ms' });
  assert.deepEqual((web.dests as unknown[])[0], { address: '10.0.0.11', port: 80, weight: 3, upper: 0, lower: 0, health_check: { type: 'tcp' } });
});

// Apply reads its services as decoded messages (apply-wire.ts); every
// other call, and the client, as the loader's objects. Both must make the
// same input of every field, set or not.
test('a decoded message and the loader reading of the same bytes make the same input', () => {
  const T = fulcrumTypes().lookupType('fulcrum.v1.Service');
  const cases: Service[] = [FULL, {}, { name: 'x', dests: [{}] }, { health_check: {}, persistence: {}, timeouts: {}, mh: {}, lblc: {} }];
  // Every value of every enum, one service each.
  for (const [field, prefix] of [['protocol', 'Protocol'], ['scheduler', 'Scheduler'], ['forward', 'ForwardMode'], ['client_address', 'ClientAddressMode']] as const) {
    for (const value of Object.keys(fulcrumTypes().lookupEnum(`fulcrum.v1.${prefix}`).values)) cases.push({ name: 'e', [field]: value });
  }
  for (const s of cases) {
    const bytes = T.encode(T.fromObject(s)).finish();
    const loader = serviceIn(T.toObject(T.decode(bytes), LOADER_OPTIONS) as Service__Output);
    assert.deepEqual(serviceIn(T.decode(bytes) as unknown as Service__Output), loader, JSON.stringify(s));
  }
  // Unset and 0 are different weights: 0 quiesces, unset is the default 1.
  const dests = (serverSide({ state: { services: [FULL] } }).services as Input[])[0].dests as Input[];
  assert.deepEqual(dests.map((d) => d.weight), [0, undefined, 65535]);
});

test('an enum value the API does not have is refused by name, not thrown on', () => {
  const input = serverSide({ state: { services: [{ name: 'web', protocol: 7 as unknown as 'PROTOCOL_TCP', vip: '10.0.0.100', port: 80 }] } });
  assert.equal((input.services as Input[])[0].protocol, '7');
  assert.throws(() => validateDesired(input, ['wan']), /services\[0\]\.protocol: .*'7'/);
});

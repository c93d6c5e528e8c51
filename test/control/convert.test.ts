// SPDX-License-Identifier: Apache-2.0
//
// The API's messages to the config's input form, through the real codec:
// an ApplyRequest encoded by the loader's own serializer and read by
// Apply's deserializer (apply-wire.ts), its services then decoded as the
// store's cache decodes them (defaults filled in by the loader's reading,
// as the server sees it). An unset
// field must be absent, not undefined, at every depth (the strict schema
// would take an undefined key as given), and what is set must arrive.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MethodDefinition } from '@grpc/proto-loader';

import { applyRequestIn } from '../../control/src/api/apply-wire';
import type { ApplyRequest } from '../../control/src/api/gen/fulcrum/v1/ApplyRequest';
import { fulcrumProto } from '../../control/src/api/proto';
import { decodedInput, validateDesired, type Input } from '../../control/src/state/desired';

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

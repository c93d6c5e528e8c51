// SPDX-License-Identifier: Apache-2.0
//
// The two-pass encoder writes protobufjs's bytes, field for field: the
// same messages through both give the same bytes, and those decode to
// what was encoded. Edges: unset and default values, explicit zeros, empty
// and long repeated fields, multi-byte UTF-8, every enum value, 64-bit
// values past 32 bits, lengths past one varint byte.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MethodDefinition } from '@grpc/proto-loader';

import { encoderOf } from '../../control/src/api/fast-encode';
import type { ApplyRequest } from '../../control/src/api/gen/fulcrum/v1/ApplyRequest';
import type { Service } from '../../control/src/api/gen/fulcrum/v1/Service';
import { fulcrumProto, fulcrumTypes } from '../../control/src/api/proto';
import { FULL } from './full-service';

function same(typeName: string, objects: object[]): void {
  const T = fulcrumTypes().lookupType(typeName);
  const fast = encoderOf(T);
  for (const o of objects) {
    const m = T.fromObject(o);
    const want = Buffer.from(T.encode(m).finish());
    const got = fast(m);
    assert.ok(got.equals(want), `${typeName} ${JSON.stringify(o).slice(0, 200)}:\n got ${got.toString('hex')}\nwant ${want.toString('hex')}`);
    assert.deepEqual(T.toObject(T.decode(got)), T.toObject(m));
  }
}

const enumCases = (): Service[] => {
  const out: Service[] = [];
  for (const [field, name] of [['protocol', 'Protocol'], ['scheduler', 'Scheduler'], ['forward', 'ForwardMode'], ['client_address', 'ClientAddressMode']] as const) {
    for (const value of Object.keys(fulcrumTypes().lookupEnum(`fulcrum.v1.${name}`).values)) out.push({ name: 'e', [field]: value });
  }
  return out;
};

test('services encode to protobufjs bytes: every field, none, defaults set, every enum value', () => {
  same('fulcrum.v1.Service', [
    FULL,
    {},
    { name: '', port: 0, synproxy: false, dests: [] },
    { name: 'x', dests: [{}], health_check: {}, persistence: {}, timeouts: {}, mh: {}, lblc: {} },
    { name: 'dëst-ünïcode-名前', vip: '10.0.0.1', port: 65535, dests: [{ address: 'a'.repeat(300), weight: 4294967295 }] },
    { persistence: { timeout: { seconds: '4233600', nanos: 999_999_999 } }, timeouts: { tcp: { seconds: '9007199254740993' } } },
    { lblc: { expire: { seconds: '-1' } } },
    ...enumCases(),
  ]);
});

test('an ApplyRequest of many services encodes to protobufjs bytes', () => {
  const services: Service[] = [];
  for (let i = 0; i < 300; i++) {
    services.push({ ...FULL, name: `svc${i}`, dests: Array.from({ length: i % 20 }, (_, j) => ({ address: `10.1.${i % 256}.${j}`, port: 8000 + j, weight: j })) });
  }
  same('fulcrum.v1.ApplyRequest', [{ state: { services } }, { state: { services: [], snat: [] } }, { dry_run: true }, {}]);
});

test("the client's Apply serializer writes protobufjs's bytes, and the server reads them", () => {
  const apply = (fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<ApplyRequest, unknown>>).Apply;
  const T = fulcrumTypes().lookupType('fulcrum.v1.ApplyRequest');
  const request: ApplyRequest = { state: { services: [FULL, { name: 'b', dests: [{ address: '10.0.0.2' }] }] }, dry_run: true };
  const bytes = apply.requestSerialize(request);
  assert.ok(bytes.equals(Buffer.from(T.encode(T.fromObject(request)).finish())));
  assert.deepEqual(apply.requestDeserialize(bytes), apply.requestDeserialize(Buffer.from(T.encode(T.fromObject(request)).finish())));
});

test('64-bit counters as numbers and as 32-bit halves encode to protobufjs bytes', () => {
  const values = [0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 7, 2 ** 53 - 1, { low: -1, high: -1 }, { low: 5, high: 0x7fffffff }];
  same('fulcrum.v1.Counters', values.map((v) => ({ conns: v, inpkts: v, outbytes: v })));
  // Plain objects, as stats.ts hands its messages over (no fromObject).
  const T = fulcrumTypes().lookupType('fulcrum.v1.Counters');
  for (const v of values) {
    const m = { conns: v, inbytes: v };
    assert.ok(encoderOf(T)(m).equals(Buffer.from(T.encode(m).finish())), JSON.stringify(v));
  }
});

// SPDX-License-Identifier: Apache-2.0
//
// The schema's fast parse (config/fast.ts) against zod's parse of the same
// schema: on every valid service and on thousands of broken variants of
// them, the fast parse either gives up or gives exactly what zod gives,
// key order included; and it does not give up on valid services.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compile, FAIL } from '../../control/src/config/fast';
import { parseValidService, serviceSchema } from '../../control/src/config/schema';
import { leaf } from '../../control/src/config/leaves';
import { z } from 'zod';
import { fleet } from '../../bench/control-state';
import { applyRequestIn } from '../../control/src/api/apply-wire';
import { fulcrumProto } from '../../control/src/api/proto';
import type { ApplyRequest } from '../../control/src/api/gen/fulcrum/v1/ApplyRequest';
import type { MethodDefinition } from '@grpc/proto-loader';

type Json = Record<string, unknown>;

const fast = compile(serviceSchema);

function exampleServices(): Json[] {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const doc = parseYaml(fs.readFileSync(path.join(dir, 'deploy', 'fulcrum.example.yaml'), 'utf8')) as Json;
  return doc.services as Json[];
}

// Every key of the service schema given at least once, with the null a
// YAML key without a value reads as.
const EVERY_KEY: Json = {
  name: 'full.set-1',
  protocol: 'tcp',
  vip: '10.0.0.50',
  port: 443,
  scheduler: 'mh',
  forward: 'fullnat',
  persistence: { timeout: 60, netmask: '255.255.0.0' },
  synproxy: true,
  local_addresses: ['10.0.1.50', '10.0.1.51'],
  client_address: 'proxy_v2',
  health_check: { type: 'https', path: '/healthz', expect_status: 204, interval: '5s', timeout: '1500ms', rise: 3, fall: 4, port: 8443, source: '10.0.1.9', on_fail: 'remove' },
  passive_check: true,
  timeouts: { tcp: '15m', tcpfin: '2m', udp: null },
  expire_nodest_conn: true,
  endpoints: [{ port: 8443 }, { protocol: 'tcp', vip: '10.0.0.51', port: 443 }],
  mh: { table_size: 251, hash_port: true, fallback: true },
  lblc: { expire: 3600, shrink: '30s' },
  dests: [
    { address: '10.0.1.21', port: 8443, weight: 5, upper: 100, lower: 50 },
    { address: '10.0.1.22', port: 8443, weight: 0, forward: 'nat', health_check: { type: 'tcp', port: 9000 } },
    { address: '10.0.1.23', port: 8443, health_check: null },
  ],
};

const UDP: Json = {
  name: 'dns', protocol: 'udp', vip: '10.0.0.53', port: 53, scheduler: 'sh',
  health_check: { type: 'udp', send: 'ping', expect: 'pong' },
  dests: [{ address: '10.0.2.1', port: 53 }, { address: '10.0.2.2', port: 53, weight: 2 }],
};

/** bench/control's fleet as an Apply hands it to the schema. */
function benchServices(): Json[] {
  const methods = fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<ApplyRequest, unknown>>;
  const bytes = methods.Apply.requestSerialize({ state: fleet(300, 3) });
  return applyRequestIn(bytes).state.services.filter((_, i) => i % 10 === 0).map((e) => e.input());
}

function validServices(): Json[] {
  return [...exampleServices(), EVERY_KEY, UDP, ...benchServices()];
}

/** Some value in o's tree is undefined. */
function hasUndefined(o: unknown): boolean {
  if (o === undefined) return true;
  if (o === null || typeof o !== 'object') return false;
  return Object.values(o).some(hasUndefined);
}

// Values that break one field or another: wrong types, out of range, not
// an address, a key with no value, an unknown duration.
const BAD_VALUES: unknown[] = ['', 'x', '10.0.0.1', '0.0.0.0', '255.255.255.255', '1s', '/p', -1, 0, 1.5, 70000, 2_000_000, true, null, [], {}, [1], { x: 1 }];

/** Every value in o's tree with the path to it (objects and arrays included). */
function* paths(o: unknown, at: (string | number)[] = []): Generator<(string | number)[]> {
  if (o === null || typeof o !== 'object') return;
  for (const [k, v] of Object.entries(o)) {
    const p = [...at, Array.isArray(o) ? Number(k) : k];
    yield p;
    yield* paths(v, p);
  }
}

function clone<T>(o: T): T {
  return structuredClone(o);
}

/** o with the value at p replaced (undefined: the key deleted). */
function edit(o: Json, p: (string | number)[], value: unknown, remove = false): Json {
  const out = clone(o);
  let parent = out as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (remove) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = value;
  }
  return out;
}

/** Broken (and some still valid) variants of s: each field removed, replaced, and objects given an unknown key. */
function* variants(s: Json): Generator<unknown> {
  for (const p of paths(s)) {
    yield edit(s, p, undefined, true);
    yield edit(s, p, undefined);  // the key given as undefined
    for (const v of BAD_VALUES) yield edit(s, p, v);
  }
  for (const p of [[], ...paths(s)]) {
    const target = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], s);
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      yield p.length === 0 ? { ...s, extra: 1 } : edit(s, [...p, 'extra'], 1);
    }
  }
  // Cross-field rules.
  yield { ...s, port: 0, persistence: undefined };
  yield { ...s, forward: 'fullnat', local_addresses: [] };
  yield { ...s, synproxy: true, protocol: 'udp' };
  yield { ...s, synproxy: true, forward: 'dr' };
  yield { ...s, dests: [{ address: '10.9.9.9', port: 1 }, { address: '10.9.9.9', port: 1 }] };
  yield { ...s, dests: [{ address: '10.9.9.9', port: 1, upper: 5, lower: 6 }] };
  yield { ...s, health_check: { type: 'tcp', interval: '1s', timeout: '2s' } };
  yield { ...s, health_check: { type: 'tcp', path: '/x' } };
  yield { ...s, health_check: { type: 'tcp' }, dests: [{ address: '10.9.9.9', port: 0 }] };
  yield { ...s, local_addresses: ['10.0.1.50', '10.0.1.50'] };
  yield 'a service';
  yield null;
  yield [];
}

describe('fast parse of services', () => {
  test('the service schema has a fast form', () => {
    assert.ok(fast, 'compile(serviceSchema) found a part it does not know');
  });

  test('valid services: the fast parse gives what zod gives, key order included', () => {
    for (const s of validServices()) {
      const z = serviceSchema.parse(s);
      const f = fast?.(s);
      assert.notEqual(f, FAIL, `fast parse gave up on valid service ${String(s.name)}`);
      assert.deepStrictEqual(f, z);
      assert.equal(JSON.stringify(f), JSON.stringify(z));
    }
  });

  test('broken variants: the fast parse gives up, or gives what zod gives', () => {
    let accepted = 0;
    let refused = 0;
    for (const s of [EVERY_KEY, UDP, exampleServices()[0]]) {
      for (const v of variants(s)) {
        const z = serviceSchema.safeParse(v);
        const f = fast?.(v);
        if (f === FAIL) {
          // Giving up on a valid input costs only time: allowed for keys given as undefined.
          assert.ok(!z.success || hasUndefined(v), `fast parse gave up on a valid input: ${JSON.stringify(v)}`);
          if (!z.success) refused++;
          continue;
        }
        accepted++;
        assert.ok(z.success, `fast parse accepted what zod refuses: ${JSON.stringify(v)}: ${z.error?.issues[0]?.message}`);
        assert.deepStrictEqual(f, z.data, JSON.stringify(v));
        assert.equal(JSON.stringify(f), JSON.stringify(z.data));
      }
    }
    // The variants exercise both sides: many still valid, most broken.
    assert.ok(accepted > 100, `only ${accepted} variants accepted`);
    assert.ok(refused > 1000, `only ${refused} variants refused`);
  });

  test('parseValidService: the fast result, zod when the fast parse gives up, undefined when invalid', () => {
    assert.deepStrictEqual(parseValidService(EVERY_KEY), serviceSchema.parse(EVERY_KEY));
    // A key given as undefined: the fast parse gives up, zod accepts.
    const withUndefined = { ...UDP, synproxy: undefined };
    assert.equal(fast?.(withUndefined), FAIL);
    assert.deepStrictEqual(parseValidService(withUndefined), serviceSchema.parse(withUndefined));
    assert.equal(parseValidService({ ...UDP, port: 70000 }), undefined);
  });

  test('a schema with a part compile does not know has no fast form', () => {
    assert.equal(compile(z.object({ a: z.string() })), undefined);
    assert.equal(compile(z.array(leaf(() => undefined)).min(1)), undefined);
    assert.ok(compile(z.array(leaf(() => undefined))));
  });
});

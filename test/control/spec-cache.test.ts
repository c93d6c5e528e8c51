// SPDX-License-Identifier: Apache-2.0
//
// The spec cache between Dataplane.apply and the addon: a service the
// last apply sent unchanged crosses as its id, anything else as a fresh
// spec. (The addon's side, resolving ids to the specs it converted last
// time, runs in every e2e test that changes a running balancer, e.g.
// test/e2e/changes.test.ts and health.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';
import { DestOverlay, destKey, serviceKey, type SpecIds } from '../../control/src/dataplane/services';
import { ServiceSpecCache } from '../../control/src/dataplane/spec-cache';
import { unpackService } from '../../control/src/dataplane/spec-table';

const CONFIG = `
dataplane:
  lcores: "0-1"
  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]
services:
  - { name: web, protocol: tcp, vip: 10.0.0.100, port: 80, dests: [{ address: 10.0.0.11, port: 80 }, { address: 10.0.0.12, port: 80 }] }
  - { name: api, protocol: tcp, vip: 10.0.0.100, port: 81, dests: [{ address: 10.0.0.11, port: 81 }] }
`;

function setup() {
  const services = parseConfig(CONFIG, 'c.yaml').services;
  const numbered = (keys: string[]) => new Map(keys.map((k, i) => [k, i + 1]));
  const ids: SpecIds = {
    services: numbered(services.map(serviceKey)),
    dests: numbered(services.flatMap((s) => s.dests.map((d) => destKey(s, d)))),
    laddrs: new Map(),
  };
  return { services, ids, overlay: new DestOverlay(), cache: new ServiceSpecCache() };
}

const asSpec = (x: Uint32Array | number) => unpackService(x as Uint32Array);

test('the first apply sends every spec; the same services again cross as their ids', () => {
  const { services, ids, overlay, cache } = setup();
  const first = cache.specs(services, ids, overlay);
  assert.deepEqual(first.map((x) => typeof x), ['object', 'object']);
  assert.deepEqual(first.map((x) => asSpec(x).id), [1, 2]);
  cache.sent();
  assert.deepEqual(cache.specs(services, ids, overlay), [1, 2]);
});

test('a changed service (a new config object) is sent whole; the others as ids', () => {
  const { services, ids, overlay, cache } = setup();
  cache.specs(services, ids, overlay);
  cache.sent();
  const [web, api] = services;
  const reweighted = { ...web, dests: [{ ...web.dests[0], weight: 7 }, web.dests[1]] };
  const next = cache.specs([reweighted, api], ids, overlay);
  assert.equal(asSpec(next[0]).dests[0].weight, 7);
  assert.equal(next[1], 2);
});

test('a health verdict on a dest re-sends its service with the new availability', () => {
  const { services, ids, overlay, cache } = setup();
  cache.specs(services, ids, overlay);
  cache.sent();
  const [web] = services;
  overlay.set(destKey(web, web.dests[1]), 'inhibit');
  const next = cache.specs(services, ids, overlay);
  assert.deepEqual(asSpec(next[0]).dests.map((d) => d.available), [true, false]);
  assert.equal(next[1], 2, 'the other service is untouched');
});

test('specs the addon did not take (no sent()) are never referred to by id', () => {
  const { services, ids, overlay, cache } = setup();
  cache.specs(services, ids, overlay);
  // The apply failed: nothing was sent, so the next apply sends specs again.
  assert.deepEqual(cache.specs(services, ids, overlay).map((x) => typeof x), ['object', 'object']);
});

test('a config object sent two applies ago, but not by the last, is sent whole again', () => {
  const { services, ids, overlay, cache } = setup();
  const [web, api] = services;
  cache.specs([web, api], ids, overlay);
  cache.sent();
  const reweighted = { ...web, dests: [{ ...web.dests[0], weight: 7 }, web.dests[1]] };
  cache.specs([reweighted, api], ids, overlay);
  cache.sent();
  // The addon holds the reweighted web now: the old object (a restored state) is a change again.
  const back = cache.specs([web, api], ids, overlay);
  assert.equal(typeof back[0], 'object');
  assert.equal(asSpec(back[0]).dests[0].weight, 1);
  assert.equal(back[1], 2);
});

test('services that changed places are found, and one replaced in its place is sent whole', () => {
  const { services, ids, overlay, cache } = setup();
  const [web, api] = services;
  cache.specs([web, api], ids, overlay);
  cache.sent();
  // Each at the other's place: not the entry of the object that was there.
  assert.deepEqual(cache.specs([api, web], ids, overlay), [2, 1]);
  cache.sent();
  const reweighted = { ...web, dests: [{ ...web.dests[0], weight: 9 }, web.dests[1]] };
  const next = cache.specs([api, reweighted], ids, overlay);
  assert.equal(next[0], 2);
  assert.equal(asSpec(next[1]).dests[0].weight, 9);
  // A refused apply (no sent()): its new entry is not referred to by id at its place either.
  assert.equal(typeof cache.specs([api, reweighted], ids, overlay)[1], 'object');
});

// SPDX-License-Identifier: Apache-2.0
//
// The health-check overlay over applied configs: what the snapshot spec
// gets for inhibited and removed dests, and how long an entry lives.
// (Through a running dataplane: test/e2e/health.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';
import { DestOverlay, destKey, serviceSpecs } from '../../control/src/dataplane/services';
import { unpackService } from '../../control/src/dataplane/spec-table';

const CONFIG = `
dataplane:
  lcores: "0-1"
  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]
services:
  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    dests:
      - { address: 10.0.0.11, port: 80 }
      - { address: 10.0.0.12, port: 80 }
      - { address: 10.0.0.13, port: 80 }
`;

test('inhibited dests are unavailable in the spec, removed ones are left out, entries end with their dest', () => {
  const services = parseConfig(CONFIG, 'o.yaml').services;
  const [web] = services;
  const [a, b, c] = web.dests.map((d) => destKey(web, d));
  const overlay = new DestOverlay();
  assert.equal(overlay.set(a, 'inhibit'), true);
  assert.equal(overlay.set(a, 'inhibit'), false, 'no change, no re-publish');
  assert.equal(overlay.set(b, 'remove'), true);
  const shown = overlay.filter(services);
  assert.deepEqual(shown[0].dests.map((d) => d.address), ['10.0.0.11', '10.0.0.13']);
  const ids = new Map([[a, 1], [c, 3]]);
  const spec = unpackService(serviceSpecs(shown, { services: new Map([['web', 0]]), dests: ids, laddrs: new Map() }, overlay)[0]);
  assert.deepEqual(spec.dests.map((d) => [d.ip, d.available]), [['10.0.0.11', false], ['10.0.0.13', true]]);
  assert.equal(overlay.set(a, undefined), true);
  assert.equal(overlay.available(a), true);
  // A config without dest b forgets it: if b comes back, it comes back available.
  overlay.retain([{ ...web, dests: web.dests.filter((d) => d.address !== '10.0.0.12') }]);
  assert.equal(overlay.available(b), true);
  assert.equal(overlay.filter(services)[0].dests.length, 3);
});

test('active and passive verdicts are separate sources: a dest is out while either holds it out', () => {
  const overlay = new DestOverlay();
  assert.equal(overlay.set('k', 'inhibit', 'active'), true);
  assert.equal(overlay.set('k', 'inhibit', 'passive'), false, 'already out: nothing to re-publish');
  assert.equal(overlay.set('k', undefined, 'active'), false, 'passive still holds it out');
  assert.equal(overlay.available('k'), false);
  assert.equal(overlay.set('k', undefined, 'passive'), true);
  assert.equal(overlay.available('k'), true);
  // 'remove' from one source wins over 'inhibit' from the other.
  overlay.set('k', 'inhibit', 'passive');
  assert.equal(overlay.set('k', 'remove', 'active'), true);
});

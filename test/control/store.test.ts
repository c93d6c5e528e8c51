// SPDX-License-Identifier: Apache-2.0
//
// The store's group commit, without a balancer: changes of one event-loop
// turn share a snapshot and a save; changes that arrive while a save is on
// its way to the disk gather into the next batch; a save that fails takes
// its batch and every change accepted on top of it back, dataplane
// included. (With a real dataplane and gRPC: test/e2e/api-restart.test.ts
// for the failed save, test/e2e/churn.test.ts for the batching.)

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';
import type { FulcrumConfig } from '../../control/src/config/schema';
import { createDest, findService } from '../../control/src/state/edits';
import { readStateFile } from '../../control/src/state/file';
import { DesiredStateStore } from '../../control/src/state/store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
dataplane:
  lcores: "0-1"
  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]
services:
  - { name: web, protocol: tcp, vip: 10.0.0.100, port: 80, dests: [{ address: 10.0.0.11, port: 80 }] }
`;

/** Records what the store publishes: the dests of web, per publication. */
class Recorder {
  readonly published: string[][] = [];
  apply(cfg: FulcrumConfig): number {
    this.published.push(cfg.services[0].dests.map((d) => d.address));
    return this.published.length;
  }
}

function store(file: string) {
  const sink = new Recorder();
  return { sink, store: new DesiredStateStore(parseConfig(CONFIG, 'c.yaml'), sink, file) };
}

const addDest = (s: DesiredStateStore, address: string) =>
  s.change((d) => createDest(findService(d, 'web'), { address, port: 80 }));

test('changes of one turn share a publication and a save; a change during the save goes in the next batch', async () => {
  const file = path.join(dir, 'a', 'state.json');
  const { sink, store: s } = store(file);
  const first = [addDest(s, '10.0.0.12'), addDest(s, '10.0.0.13')];
  // After the first batch is published its save is in flight: this change waits for it.
  await new Promise((r) => setImmediate(r));
  assert.equal(sink.published.length, 1);
  const later = addDest(s, '10.0.0.14');
  const results = await Promise.all([...first, later]);
  assert.deepEqual(results.map((r) => r.generation), [1, 2, 3]);
  assert.deepEqual(sink.published, [
    ['10.0.0.11', '10.0.0.12', '10.0.0.13'],
    ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'],
  ]);
  const saved = readStateFile(file, ['wan']);
  assert.equal(saved?.generation, 3);
  assert.deepEqual(saved?.desired.services[0].dests.map((d) => d.address), ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']);
});

test('a failed save fails its batch and the changes made on top of it; the saved state is published again', async () => {
  const file = path.join(dir, 'b', 'state.json');
  mkdirSync(file, { recursive: true });  // a directory where the file goes: the rename fails
  const { sink, store: s } = store(file);
  const first = addDest(s, '10.0.0.12');
  await new Promise((r) => setImmediate(r));
  const later = addDest(s, '10.0.0.13');
  for (const p of [first, later]) await assert.rejects(p, /cannot write state file/);
  assert.equal(s.generation, 0);
  assert.deepEqual(s.current.services[0].dests.map((d) => d.address), ['10.0.0.11']);
  assert.deepEqual(sink.published.at(-1), ['10.0.0.11'], 'the dataplane runs the saved state again');
  // And the store works on: the next change is its own batch.
  await assert.rejects(addDest(s, '10.0.0.14'), /cannot write state file/);
});

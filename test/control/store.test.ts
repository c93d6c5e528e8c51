// SPDX-License-Identifier: Apache-2.0
//
// The store's group commit, without a balancer: changes of one event-loop
// turn share a snapshot and a save; changes that arrive while a save is on
// its way to the disk gather into the next batch; the save is written
// while the publication runs and replaces the state file only after it;
// a save or a publication that fails takes its batch and every change
// accepted on top of it back, dataplane included. And its incremental validation and diff (state/validated.ts)
// against the whole-state ones, over random edits (of the whole state and of
// one service), Applies and failures. (With a real dataplane and gRPC: test/e2e/api-restart.test.ts
// for the failed save, test/e2e/churn.test.ts for the batching.)

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';
import type { FulcrumConfig } from '../../control/src/config/schema';
import { desiredInput, validateDesired, type DesiredInput } from '../../control/src/state/desired';
import { diffDesired } from '../../control/src/state/diff';
import { createDest, createService, deleteDest, deleteService, findService, updateDest } from '../../control/src/state/edits';
import { readStateFile } from '../../control/src/state/file';
import { DesiredStateStore, type ApplyResult } from '../../control/src/state/store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
dataplane:
  lcores: "0-1"
  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]
services:
  - { name: web, protocol: tcp, vip: 10.0.0.100, port: 80, dests: [{ address: 10.0.0.11, port: 80 }] }
`;

/** Records what the store publishes: the dests of its first service, per publication. */
class Recorder {
  readonly published: string[][] = [];
  /** Runs first in each apply: may throw (the engine refuses) or hold the thread. */
  onApply: (cfg: FulcrumConfig) => void = () => undefined;
  apply(cfg: FulcrumConfig): number {
    this.onApply(cfg);
    this.published.push(cfg.services[0]?.dests.map((d) => d.address) ?? []);
    return this.published.length;
  }
}

const webDests = (s: DesiredStateStore) => s.current.services[0]?.dests.map((d) => d.address) ?? [];

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
  // The file is written from the texts the cache made: it reads back as the very state.
  assert.deepEqual(saved?.desired, s.current);
});

test('a failed save fails its batch and the changes made on top of it; the saved state is published again', async () => {
  const file = path.join(dir, 'b', 'state.json');
  mkdirSync(file, { recursive: true });  // a directory where the file goes: the rename fails
  const { sink, store: s } = store(file);
  const byName = () => s.service('web')?.dests.map((d) => d.address);
  assert.deepEqual(byName(), ['10.0.0.11']);
  const first = addDest(s, '10.0.0.12');
  // Lookups by name follow the state at once, and its undoing.
  assert.deepEqual(byName(), ['10.0.0.11', '10.0.0.12']);
  await new Promise((r) => setImmediate(r));
  const later = addDest(s, '10.0.0.13');
  for (const p of [first, later]) await assert.rejects(p, /cannot write state file/);
  assert.equal(s.generation, 0);
  assert.deepEqual(s.current.services[0].dests.map((d) => d.address), ['10.0.0.11']);
  assert.deepEqual(byName(), ['10.0.0.11']);
  assert.equal(s.service('none'), undefined);
  assert.deepEqual(sink.published.at(-1), ['10.0.0.11'], 'the dataplane runs the saved state again');
  // And the store works on: the next change is its own batch.
  await assert.rejects(addDest(s, '10.0.0.14'), /cannot write state file/);
});

test('the save is written while the publication holds the event loop, and replaces the state file only after it', async () => {
  const file = path.join(dir, 'c', 'state.json');
  const tmp = path.join(dir, 'c', `.state.json.${process.pid}.tmp`);
  const { sink, store: s } = store(file);
  await addDest(s, '10.0.0.12');
  const sizes: number[] = [];
  sink.onApply = () => {
    // Synchronous, as Dataplane.apply is: nothing of the event loop runs
    // meanwhile, so the temporary file fills only if its write is one job
    // of the thread pool. Waits until it stops growing (at most 5 s).
    for (const until = Date.now() + 5000; Date.now() < until; ) {
      const size = existsSync(tmp) ? statSync(tmp).size : 0;
      if (size > 0 && size === sizes.at(-1)) break;
      sizes.push(size);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    assert.equal(readStateFile(file, ['wan'])?.generation, 1, 'the state file is the old one during the publication');
  };
  await addDest(s, '10.0.0.13');
  assert.ok((sizes.at(-1) ?? 0) > 0, 'the temporary file was written during the publication');
  assert.equal(readStateFile(file, ['wan'])?.generation, 2);
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
});

test('a refused publication leaves the state file as it was, with nothing beside it', async () => {
  const file = path.join(dir, 'd', 'state.json');
  const { sink, store: s } = store(file);
  await addDest(s, '10.0.0.12');
  sink.onApply = (cfg) => {
    if (cfg.services[0].dests.some((d) => d.address === '10.0.0.13')) throw new Error('refused by the engine');
  };
  await assert.rejects(addDest(s, '10.0.0.13'), /refused by the engine/);
  assert.equal(readStateFile(file, ['wan'])?.generation, 1);
  // Its staged write is removed once the job is done with it. (Polling the
  // directory instead raced the job: it may not have made the file yet.)
  await s.settled();
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
  assert.deepEqual(sink.published.at(-1), ['10.0.0.11', '10.0.0.12'], 'the dataplane runs the saved state again');
  // Refused again, and a change right after it: its save waits for the
  // discard, which would otherwise remove the file it writes.
  await Promise.all([
    assert.rejects(addDest(s, '10.0.0.13'), /refused by the engine/),
    new Promise((r) => setImmediate(r)).then(() => addDest(s, '10.0.0.14')),
  ]);
  assert.deepEqual(readStateFile(file, ['wan'])?.desired.services[0].dests.map((d) => d.address), ['10.0.0.11', '10.0.0.12', '10.0.0.14']);
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
});

// A small deterministic generator: the same sequence on every run.
function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x >>> 12) % n;  // the high bits: an LCG's low bits repeat with short periods
  };
}

/** A change to run, and the state (input form) its diff is against, once it ran. */
type Op = (s: DesiredStateStore) => { run: Promise<ApplyResult>; target: () => DesiredInput };

function randomOp(r: (n: number) => number, s: DesiredStateStore): Op {
  const names = s.current.services.map((x) => x.name);
  const name = names.length > 0 ? names[r(names.length)] : 'web';
  const dest = { address: `10.0.0.${10 + r(6)}`, port: 80 };
  const vip = `10.0.0.${100 + r(8)}`;
  const edit = (fn: Parameters<DesiredStateStore['change']>[0]): Op => (st) => ({ run: st.change(fn), target: () => st.input() });
  // changeService: one service validated alone (the API's dest and laddr edits), the full schema when it is refused.
  const one = (fn: Parameters<DesiredStateStore['changeService']>[1]): Op => (st) => ({ run: st.changeService(name, fn), target: () => st.input() });
  const ops: Op[] = [
    edit((d) => createService(d, { name: `s${r(8)}`, protocol: 'tcp', vip, port: 80, dests: [dest] })),
    edit((d) => deleteService(d, name)),
    edit((d) => createDest(findService(d, name), dest)),
    edit((d) => deleteDest(findService(d, name), dest.address, dest.port)),
    edit((d) => updateDest(findService(d, name), { ...dest, weight: r(5) })),
    one((svc) => createDest(svc, dest)),
    one((svc) => deleteDest(svc, dest.address, dest.port)),
    // weight -1: refused by the schema, worded by the full one.
    one((svc) => updateDest(svc, { ...dest, weight: r(5) - 1 })),
    // A whole state: the store's services, one maybe edited (maybe onto another's endpoint),
    // one maybe listed twice; maybe a dry run.
    (st) => {
      const next: DesiredInput = st.input();
      const n = next.services.length;
      if (n > 0 && r(2) === 0) next.services[r(n)] = { ...next.services[r(n)], port: 80 + r(2), vip: `10.0.0.${100 + r(8)}` };
      if (n > 0 && r(4) === 0) next.services.push({ ...next.services[0] });
      return { run: st.apply(next, r(4) === 0), target: () => desiredInput(validateDesired(next, ['wan'])) };
    },
  ];
  return ops[r(ops.length)];
}

test('incremental validation and diff agree with the whole-state ones over random changes, failed saves included', async () => {
  const file = path.join(dir, 'c', 'state.json');
  const { sink, store: s } = store(file);
  const r = rng(7);
  let applied = 0;
  let refused = 0;
  for (let step = 0; step < 400; step++) {
    const before = s.input();
    const failing = r(10) === 0;
    if (failing) {
      // A directory where the state file goes: the next save fails.
      rmSync(file, { force: true });
      mkdirSync(file, { recursive: true });
    }
    const op = randomOp(r, s);
    let target: (() => DesiredInput) | undefined;
    const outcome = await Promise.resolve()
      .then(() => {
        const o = op(s);
        target = o.target;
        return o.run;
      })
      .then(
        (res) => ({ ok: true as const, res }),
        (err: unknown) => ({ ok: false as const, err }),
      );
    if (failing) rmSync(file, { recursive: true, force: true });
    const after = s.input();
    // What the store holds is exactly what the full schema makes of its input form.
    assert.deepEqual(s.current, validateDesired(after, ['wan']), `step ${step}`);
    if (outcome.ok) {
      applied += outcome.res.applied ? 1 : 0;
      assert.deepEqual(outcome.res.changes, diffDesired(before, (target as () => DesiredInput)()), `step ${step}`);
      if (!outcome.res.applied) assert.deepEqual(after, before, `step ${step}: a dry run or no-op changes nothing`);
    } else {
      refused++;
      assert.deepEqual(after, before, `step ${step}: a refused or failed change changes nothing (${String(outcome.err)})`);
    }
    if (sink.published.length > 0) assert.deepEqual(sink.published.at(-1), webDests(s), `step ${step}: the dataplane runs the state`);
  }
  // The walk did both: changes that landed and changes that were refused or failed.
  assert.ok(applied > 50 && refused > 20, `${applied} applied, ${refused} refused`);
});

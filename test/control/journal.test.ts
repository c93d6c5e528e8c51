// SPDX-License-Identifier: Apache-2.0
//
// The state file's journal (state/journal.ts, state/saver.ts): small
// changes are appended as records beside the state file, which is
// written whole again when the journal would outgrow half of it; the two
// read back as exactly the store's state (generation, services in order,
// snat rules) after any change. A torn last record is a change never
// answered and is left out; damage before the last record is refused; a
// journal that continues an older state file is not read; a failed
// append fails its batch and the next save is whole; a stop folds the
// journal into the state file.

import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';
import { desiredInput, type DesiredInput, type Input } from '../../control/src/state/desired';
import { createDest, deleteService, updateDest } from '../../control/src/state/edits';
import { readStateFile, StateFileError } from '../../control/src/state/file';
import { journalFile } from '../../control/src/state/journal';
import { DesiredStateStore } from '../../control/src/state/store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PORTS = ['wan'];
const SERVICES = 40;

function service(i: number): Input {
  return { name: `svc${i}`, protocol: 'tcp', vip: `10.0.${i >> 8}.${i & 255}`, port: 80, dests: [{ address: '10.1.0.1', port: 80 }] };
}

function config(services: number): string {
  return `
dataplane:
  lcores: "0-1"
  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]
services:
${Array.from({ length: services }, (_, i) => `  - ${JSON.stringify(service(i))}`).join('\n')}
`;
}

function store(file: string, services = SERVICES): DesiredStateStore {
  return new DesiredStateStore(parseConfig(config(services), 'c.yaml'), { apply: () => 0 }, file);
}

/** A store whose first save (whole, as every process's first) and one record are on disk. */
async function withRecord(name: string): Promise<{ file: string; s: DesiredStateStore }> {
  const file = path.join(dir, name, 'state.json');
  const s = store(file);
  await s.change((d) => deleteService(d, 'svc0'));
  await s.changeService('svc1', (svc) => createDest(svc, { address: '10.1.0.2', port: 80 }));
  return { file, s };
}

/** What the store holds is what a start would read: its generation, its services in order, its snat rules. */
function assertReadsBack(s: DesiredStateStore, file: string, what: string): void {
  assert.deepEqual(readStateFile(file, PORTS), { generation: s.generation, desired: s.current }, what);
}

/** The state file's own generation (without its journal). */
const fileGeneration = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { generation: number }).generation;

function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x >>> 12) % n;
  };
}

const SNAT = { name: 'out', source: '10.2.0.0/24', out_port: 'wan', local_addresses: ['10.0.0.9'] };

/** A random change of every kind a record must carry: edits in place, new services, removals, reorders, snat. */
function randomChange(r: (n: number) => number, s: DesiredStateStore, next: () => number): Promise<unknown> {
  const names = s.current.services.map((x) => x.name);
  const name = names[r(names.length)];
  const dest = { address: `10.1.0.${1 + r(20)}`, port: 80 };
  const whole = (edit: (d: DesiredInput) => void) => {
    const d = s.input();
    edit(d);
    return s.apply(d);
  };
  switch (r(8)) {
    // Maybe there already, or refused: the edit throws, and the walk goes on.
    case 0: return Promise.resolve().then(() => s.changeService(name, (svc) => createDest(svc, dest))).catch(() => undefined);
    case 1: return s.changeService(name, (svc) => updateDest(svc, { ...findDest(svc, dest), weight: r(9) }));
    case 2: return s.change((d) => deleteService(d, name));
    // A new service last, or in the middle (the order of the list must come back too).
    case 3: return whole((d) => d.services.push(service(next())));
    case 4: return whole((d) => d.services.splice(r(d.services.length + 1), 0, service(next())));
    // Two services trade places; a service removed and one of its name added elsewhere.
    case 5: return whole((d) => {
      const [i, j] = [r(d.services.length), r(d.services.length)];
      [d.services[i], d.services[j]] = [d.services[j], d.services[i]];
    });
    case 6: return whole((d) => {
      const [gone] = d.services.splice(r(d.services.length), 1);
      d.services.splice(r(d.services.length + 1), 0, { ...gone, port: 81 + r(3) });
    });
    default: return whole((d) => (d.snat = d.snat.length > 0 && r(2) === 0 ? [] : [{ ...SNAT, local_addresses: [`10.0.0.${9 + r(5)}`] }]));
  }
}

function findDest(svc: Input, dest: { address: string; port: number }): { address: string; port: number } {
  const found = (svc.dests as { address: string; port: number }[]).find((d) => d.address === dest.address);
  return found ?? (svc.dests as { address: string; port: number }[])[0];
}

test('the state file and its journal read back as the store state after every change', async () => {
  const file = path.join(dir, 'walk', 'state.json');
  const s = store(file);
  const r = rng(11);
  let serial = SERVICES;
  let appended = 0;
  let folded = 0;
  let lastFileGen = 0;
  const carried = { order: 0, snat: 0, removed: 0 };
  for (let step = 0; step < 300; step++) {
    // One change, or two or three in one batch (one record for all of them).
    await Promise.all(Array.from({ length: r(4) === 0 ? 2 + r(2) : 1 }, () => randomChange(r, s, () => serial++)));
    await s.settled();
    if (s.generation === 0) continue;  // nothing saved yet
    assertReadsBack(s, file, `step ${step}`);
    const own = fileGeneration(file);
    if (own < s.generation) {
      appended++;
      const last = JSON.parse(readFileSync(journalFile(file), 'utf8').trimEnd().split('\n').at(-1) as string) as Record<string, unknown[]>;
      for (const k of ['order', 'snat', 'removed'] as const) if ((last[k]?.length ?? 0) > 0) carried[k]++;
    }
    if (own !== lastFileGen && lastFileGen !== 0) folded++;
    lastFileGen = own;
    // Never more than half the state file beside it.
    if (existsSync(journalFile(file))) assert.ok(statSync(journalFile(file)).size <= statSync(file).size / 2, `step ${step}: journal too long`);
  }
  // The walk did both: changes kept as records, and the state file written whole again.
  assert.ok(appended > 100 && folded > 3, `${appended} steps read records, the state file was written whole ${folded} times`);
  for (const [k, n] of Object.entries(carried)) assert.ok(n > 5, `only ${n} records carried ${k}`);
  // A stop folds the journal into the state file: the file alone is the state.
  assert.ok(existsSync(journalFile(file)), 'a journal to fold');
  await s.close();
  assert.equal(existsSync(journalFile(file)), false);
  assert.equal(fileGeneration(file), s.generation);
  assertReadsBack(s, file, 'after close');
  // Nothing may be saved beside the fold, or after it.
  await assert.rejects(async () => s.change((d) => deleteService(d, d.services[0].name as string)), /the balancer is stopping/);
  assertReadsBack(s, file, 'a change after close');
});

test('a state file deleted under a running store is written whole at the next save', async () => {
  const { file, s } = await withRecord('deleted');
  rmSync(file);
  await s.changeService('svc2', (svc) => createDest(svc, { address: '10.1.0.3', port: 80 }));
  assert.equal(fileGeneration(file), 3, 'whole: a start would drop a journal without its state file');
  assert.equal(existsSync(journalFile(file)), false);
  assertReadsBack(s, file, 'after the deletion');
});

test('a state file naming a service twice is refused as such, journal or not', async () => {
  const { file } = await withRecord('twice');
  const lines = readFileSync(file, 'utf8').split('\n');
  const svc2 = lines.findIndex((l) => l.includes('"name":"svc2"'));
  writeFileSync(file, [...lines.slice(0, svc2), lines[svc2].replace('"svc2"', '"svc1"'), ...lines.slice(svc2 + 1)].join('\n'));
  assert.throws(() => readStateFile(file, PORTS), /duplicate service name 'svc1'/);
});

test('a dest edit appends one line to the journal and leaves the state file alone', async () => {
  const file = path.join(dir, 'edit', 'state.json');
  const s = store(file);
  await s.change((d) => deleteService(d, 'svc0'));  // the first save of a process is whole
  const before = readFileSync(file);
  await s.changeService('svc1', (svc) => createDest(svc, { address: '10.1.0.2', port: 80 }));
  await s.changeService('svc2', (svc) => createDest(svc, { address: '10.1.0.3', port: 80 }));
  assert.deepEqual(readFileSync(file), before);
  const lines = readFileSync(journalFile(file), 'utf8').split('\n');
  assert.deepEqual(JSON.parse(lines[0]), { format: 'fulcrum-journal', version: 1, base: 1 });
  assert.equal(lines.length, 4, 'header, two records, and the newline ending the last');
  const record = JSON.parse(lines[2]) as { generation: number; removed: string[]; services: Input[] };
  assert.deepEqual({ ...record, services: record.services.map((x) => x.name) }, { generation: 3, removed: [], services: ['svc2'] });
  assert.equal(statSync(journalFile(file)).mode & 0o777, 0o600);
  assertReadsBack(s, file, 'two records');
  // The same edit by a whole Apply: the service in its place, nothing removed, no order.
  const whole = s.input();
  whole.services[5] = { ...whole.services[5], dests: [{ address: '10.1.0.7', port: 80 }] };
  await s.apply(whole);
  const applied = JSON.parse(readFileSync(journalFile(file), 'utf8').split('\n')[3]) as Record<string, unknown>;
  assert.deepEqual({ ...applied, services: (applied.services as Input[]).map((x) => x.name) }, { generation: 4, removed: [], services: ['svc6'] });
});

test('a torn last record is left out; damage before the last one is refused; a journal of an older state file is not read', async () => {
  const { file } = await withRecord('torn');
  const answered = readStateFile(file, PORTS);
  const journal = journalFile(file);
  const good = readFileSync(journal, 'utf8');
  const record = good.split('\n')[1].replace('"generation":2', '"generation":3').replace('10.1.0.2', '10.1.0.9');
  // Killed while appending: the record's first part only, or all but its newline.
  for (const tail of [record.slice(0, 40), record]) {
    writeFileSync(journal, good + tail);
    assert.deepEqual(readStateFile(file, PORTS), answered, `torn tail ${tail.length} bytes`);
  }
  // A last line that does not parse: torn too.
  writeFileSync(journal, `${good}{"generation":3,"rem\0\0\0\n`);
  assert.deepEqual(readStateFile(file, PORTS), answered);
  // The same before a good record is damage.
  writeFileSync(journal, `${good}{"generation":3,"rem\n${record}\n`);
  assert.throws(() => readStateFile(file, PORTS), (err: Error) =>
    err instanceof StateFileError && err.message.includes(`journal ${journal}: line 3: not valid JSON`));
  // A record that does not follow the one before it.
  writeFileSync(journal, `${good}${record.replace('"generation":3', '"generation":2')}\n`);
  assert.throws(() => readStateFile(file, PORTS), /line 3: generation 2 does not follow 2/);
  // The complete record is read.
  writeFileSync(journal, `${good}${record}\n`);
  const three = readStateFile(file, PORTS);
  assert.equal(three?.generation, 3);
  assert.deepEqual(three?.desired.services.find((x) => x.name === 'svc1')?.dests.map((d) => d.address), ['10.1.0.1', '10.1.0.9']);
  // A journal left beside a newer state file (its removal did not happen) is not read.
  writeFileSync(journal, good.replace('"base":1', '"base":0'));
  assert.equal(readStateFile(file, PORTS)?.generation, 1);
  // One left without its state file (deleted, to start from the config
  // file) is removed: a new state file of generation 1 must not take it.
  writeFileSync(journal, `${good}${record}\n`);
  rmSync(file);
  assert.equal(readStateFile(file, PORTS), undefined);
  assert.equal(existsSync(journal), false);
});

test('a failed append fails its batch, and the save after it is whole', async () => {
  const file = path.join(dir, 'fail', 'state.json');
  const s = store(file);
  await s.change((d) => deleteService(d, 'svc0'));
  const journal = journalFile(file);
  mkdirSync(journal);  // a directory where the journal goes: the append fails
  await assert.rejects(
    s.changeService('svc1', (svc) => createDest(svc, { address: '10.1.0.2', port: 80 })),
    new RegExp(`cannot write state file journal ${journal}: open ${journal}: Is a directory`),
  );
  assert.equal(s.generation, 1, 'rolled back');
  rmSync(journal, { recursive: true });
  await s.changeService('svc1', (svc) => createDest(svc, { address: '10.1.0.3', port: 80 }));
  assert.equal(fileGeneration(file), 2, 'written whole');
  assert.equal(existsSync(journal), false);
  assertReadsBack(s, file, 'after the failure');
});

test('a start reads the journal, and its first save is whole', async () => {
  const { file } = await withRecord('restart');
  // A torn record after it: the next process must not write after it.
  appendFileSync(journalFile(file), '{"generation":3,"removed":[');
  const saved = readStateFile(file, PORTS);
  assert.equal(saved?.generation, 2);
  const cfg = { ...parseConfig(config(SERVICES), 'c.yaml'), ...saved?.desired };
  const next = new DesiredStateStore(cfg, { apply: () => 0 }, file, saved?.generation);
  await next.changeService('svc2', (svc) => createDest(svc, { address: '10.1.0.4', port: 80 }));
  assert.equal(fileGeneration(file), 3);
  assert.equal(existsSync(journalFile(file)), false);
  assertReadsBack(next, file, 'after the restart');
  await next.changeService('svc3', (svc) => createDest(svc, { address: '10.1.0.5', port: 80 }));
  assert.equal(fileGeneration(file), 3, 'then appended');
  assertReadsBack(next, file, 'a record after the restart');
  assert.deepEqual(desiredInput(next.current).services.length, SERVICES - 1);
});

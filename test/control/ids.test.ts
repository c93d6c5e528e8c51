// SPDX-License-Identifier: Apache-2.0
//
// Stable ids for services and dests: kept while the entry exists, drained
// before reuse while connections still count against them.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IdAllocator } from '../../control/src/dataplane/ids';

test('existing keys keep their ids across applies; new keys get fresh ones', () => {
  const ids = new IdAllocator(8, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  const second = ids.assign(['b', 'c', 'a'], () => true);
  assert.equal(second.get('a'), first.get('a'));
  assert.equal(second.get('b'), first.get('b'));
  assert.ok(![first.get('a'), first.get('b')].includes(second.get('c')));
});

test('a removed id is reused only once it is idle', () => {
  const ids = new IdAllocator(2, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  const aId = first.get('a') as number;
  ids.assign(['b'], () => true); // a starts draining
  const busy = (id: number) => id !== aId;
  assert.throws(() => ids.assign(['b', 'c'], busy), /too many dests: at most 2 \(raise dataplane.max_dests\)/);
  const later = ids.assign(['b', 'c'], () => true);
  assert.equal(later.get('c'), aId);
});

test('the same keys again keep the same map; ids drained meanwhile are still reclaimed', () => {
  const ids = new IdAllocator(2, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  const bId = first.get('b') as number;
  const kept = ids.assign(['a'], () => true);  // b drains
  assert.equal(ids.assign(['a'], () => false), kept, 'the same keys: the same map');
  // b's id went idle since: the next assign of the same keys frees it for c.
  assert.equal(ids.assign(['a'], () => true), kept);
  assert.equal(ids.assign(['a', 'c'], () => false).get('c'), bId);
  assert.notEqual(ids.assign(['c', 'a'], () => true), kept, 'another order is another list');
});

test('a refused assign changes nothing', () => {
  const ids = new IdAllocator(1, 'service');
  const first = ids.assign(['a'], () => true);
  assert.throws(() => ids.assign(['a', 'b'], () => true), /too many services/);
  assert.deepEqual(ids.assign(['a'], () => true), first);
});

test('a key swapped for another in one assign drains; the ids handed out earlier stay as they were', () => {
  const ids = new IdAllocator(3, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  const swapped = ids.assign(['a', 'c', 'c'], () => true);
  assert.deepEqual([...swapped.keys()], ['a', 'c']);
  assert.deepEqual([...first], [['a', 0], ['b', 1]]);
  const bId = first.get('b') as number;
  assert.throws(() => ids.assign(['a', 'c', 'd'], (id) => id !== bId), /too many dests/);
  assert.equal(ids.assign(['a', 'c', 'd'], () => true).get('d'), bId);
  assert.deepEqual([...swapped], [['a', 0], ['c', 2]]);
});

test('assignGroups: the same groups (the arrays, or their keys again) keep the map as it is; another key changes it', () => {
  const ids = new IdAllocator(8, 'dest');
  const web = ['web|a', 'web|b'];
  const api = ['api|a'];
  const first = ids.assignGroups([web, api], () => true);
  assert.deepEqual([...first], [['web|a', 0], ['web|b', 1], ['api|a', 2]]);
  assert.equal(ids.assignGroups([web, api], () => true), first, 'the same arrays');
  assert.equal(ids.assignGroups([[...web], api], () => true), first, 'a reweighted service: its keys again');
  assert.deepEqual([...first], [['web|a', 0], ['web|b', 1], ['api|a', 2]]);
  const swapped = ids.assignGroups([['web|a', 'web|c'], api], () => true);
  assert.deepEqual(new Map(swapped), new Map([['web|a', 0], ['web|c', 3], ['api|a', 2]]));
  const reordered = ids.assignGroups([api, ['web|a', 'web|c']], () => true);
  assert.deepEqual(new Map(reordered), new Map([['web|a', 0], ['web|c', 3], ['api|a', 2]]), 'another order: the same ids');
});

test('assignGroups visits only the groups that came and went: a removed key drains, a moved key keeps its id', () => {
  const ids = new IdAllocator(6, 'dest');
  const kept = [['k|1'], ['k|2'], ['k|3']];
  const first = ids.assignGroups([...kept, ['web|a', 'web|b']], () => true);
  ids.commit();
  // web (another array: an edited service) loses b and gains c. a keeps
  // its id; b's (4) drains while busy, so c takes a fresh one.
  const busy = (id: number) => id !== 4;
  const edited = ids.assignGroups([...kept, ['web|a', 'web|c']], busy);
  ids.commit();
  const expected = new Map([['k|1', 0], ['k|2', 1], ['k|3', 2], ['web|a', 3], ['web|c', 5]]);
  assert.deepEqual(new Map(edited), expected);
  assert.equal(edited, first, 'changed in place: no new map of every key');
  assert.throws(() => ids.assignGroups([...kept, ['web|a', 'web|c'], ['new|x']], busy), /too many dests: at most 6/);
  assert.deepEqual(new Map(ids.assignGroups([...kept, ['web|a', 'web|c']], busy)), expected, 'the refused assign changed nothing');
  // Idle now: b's id is the next new key's.
  assert.equal(ids.assignGroups([...kept, ['web|a', 'web|c'], ['new|x']], () => true).get('new|x'), 4);
});

test('assign() between two assignGroups() with the same groups: the second makes the groups\' map again', () => {
  const ids = new IdAllocator(8, 'dest');
  const groups = [['a', 'b'], ['c']];
  ids.assignGroups(groups, () => true);
  const other = ids.assign(['a'], () => true);
  const again = ids.assignGroups(groups, () => true);
  assert.notEqual(again, other);
  assert.deepEqual([...again.keys()], ['a', 'b', 'c']);
});

test('undo() takes the last assign back: its new ids free again, its removed keys not draining', () => {
  const ids = new IdAllocator(3, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  ids.commit();
  const refused = ids.assign(['a', 'c'], () => false);  // b drains (busy), c takes id 2
  assert.equal(refused.get('c'), 2);
  ids.undo();
  // As before the assign: b keeps its id (not draining: idle, it would be
  // handed out again), and c's id is free for the next new key.
  const again = ids.assign(['a', 'b', 'd'], () => true);
  assert.equal(again.get('a'), first.get('a'));
  assert.equal(again.get('b'), first.get('b'));
  assert.equal(again.get('d'), 2);
  // All three ids are in use, none twice: a fourth key finds none.
  ids.commit();
  assert.throws(() => ids.assign(['a', 'b', 'd', 'e'], () => false), /too many dests/);
});

test('undo() after commit(), or after a refused assign, changes nothing', () => {
  const ids = new IdAllocator(2, 'dest');
  const first = ids.assign(['a', 'b'], () => true);
  ids.commit();
  ids.undo();
  assert.equal(ids.assign(['a', 'b'], () => true), first);
  ids.commit();
  assert.throws(() => ids.assign(['a', 'b', 'c'], () => true), /too many dests/);
  ids.undo();
  assert.deepEqual([...ids.assign(['b', 'a'], () => true)], [['b', 1], ['a', 0]]);
});

test('undo() of an assignGroups() puts the groups back: the same groups again keep the map', () => {
  const ids = new IdAllocator(4, 'dest');
  const groups = [['a', 'b'], ['c']];
  const first = ids.assignGroups(groups, () => true);
  ids.commit();
  ids.assignGroups([['a'], ['c']], () => false);
  ids.undo();
  assert.equal(ids.assignGroups(groups, () => true), first);
});

test('assignGroups over random edits, refusals and undos: every key has an id of its own, kept keys keep theirs', () => {
  let x = 7;
  const r = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 12) % n;
  const ids = new IdAllocator(40, 'dest');
  // Services 0..7, each a group of some of its dests 0..5; an edit makes a new array.
  let groups: string[][] = [];
  let committed = new Map<string, number>();
  // Ids of removed keys, until an assign finds them idle.
  const draining = new Set<number>();
  for (let step = 0; step < 400; step++) {
    const next = groups.filter(() => r(6) !== 0).map((g) => (r(3) === 0 ? [...g] : g));
    for (let i = r(3); i > 0; i--) {
      const svc = r(8);
      const at = next.findIndex((g) => g[0]?.startsWith(`s${svc}|`));
      const g = [...new Set(Array.from({ length: 1 + r(5) }, () => `s${svc}|d${r(6)}`))];
      if (at >= 0) next[at] = g;
      else next.push(g);
    }
    const idle = r(2) === 0 ? () => true : (id: number) => id % 3 !== 0;
    for (const id of draining) if (idle(id)) draining.delete(id);  // every assign reclaims first
    let map: ReadonlyMap<string, number>;
    try {
      map = ids.assignGroups(next, idle);
    } catch (err) {
      assert.match((err as Error).message, /too many dests/);
      assert.deepEqual(new Map(ids.assignGroups(groups, () => false)), committed, `step ${step}: refused, nothing changed`);
      ids.commit();
      continue;
    }
    const keys = next.flat();
    assert.deepEqual([...map.keys()].sort(), [...keys].sort(), `step ${step}: exactly the groups' keys`);
    assert.equal(new Set(map.values()).size, map.size, `step ${step}: no id twice`);
    const before = new Set(committed.values());
    for (const [key, id] of map) {
      if (committed.has(key)) assert.equal(id, committed.get(key), `step ${step}: ${key} kept its id`);
      else assert.ok(!before.has(id) && !draining.has(id), `step ${step}: ${key} got ${id}, in use or draining`);
    }
    if (r(4) === 0) {
      ids.undo();
      assert.deepEqual(new Map(ids.assignGroups(groups, () => false)), committed, `step ${step}: undone`);
    } else {
      for (const [key, id] of committed) if (!map.has(key)) draining.add(id);
      groups = next;
      committed = new Map(map);
    }
    ids.commit();
  }
});

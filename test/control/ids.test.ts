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

test('assignGroups: the same groups (the arrays, or their keys again) keep the same map; another key changes it', () => {
  const ids = new IdAllocator(8, 'dest');
  const web = ['web|a', 'web|b'];
  const api = ['api|a'];
  const first = ids.assignGroups([web, api], () => true);
  assert.deepEqual([...first.keys()], ['web|a', 'web|b', 'api|a']);
  assert.equal(ids.assignGroups([web, api], () => true), first, 'the same arrays');
  assert.equal(ids.assignGroups([[...web], api], () => true), first, 'a reweighted service: its keys again');
  const swapped = ids.assignGroups([['web|a', 'web|c'], api], () => true);
  assert.notEqual(swapped, first);
  assert.equal(swapped.get('web|a'), first.get('web|a'));
  assert.equal(swapped.get('api|a'), first.get('api|a'));
  assert.equal(swapped.has('web|b'), false);
  assert.notEqual(ids.assignGroups([api, ['web|a', 'web|c']], () => true), swapped, 'another order is another list');
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

// SPDX-License-Identifier: Apache-2.0
//
// PositionalMemo (control/src/dataplane/positional.ts): a result is reused
// only for the very object at the very place it had in the last list.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PositionalMemo } from '../../control/src/dataplane/positional';

test('results are reused by position and object, made anew otherwise', () => {
  const calls: string[] = [];
  const memo = new PositionalMemo((o: { name: string }) => {
    calls.push(o.name);
    return [o.name];
  });
  const [a, b, c] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
  const first = memo.map([a, b]);
  assert.deepEqual(calls, ['a', 'b']);
  const again = memo.map([a, b]);
  assert.deepEqual(calls, ['a', 'b'], 'the same list: nothing made');
  assert.equal(again[0], first[0], 'the very result');
  // b replaced by c at its place, then a and c trade places: made anew.
  memo.map([a, c]);
  memo.map([c, a]);
  assert.deepEqual(calls, ['a', 'b', 'c', 'c', 'a']);
  // The caller may append to what it got: the memo's own copy is untouched.
  const out = memo.map([c, a]);
  out.push(['x']);
  out[0] = ['changed'];
  assert.deepEqual(memo.map([c, a, b]), [['c'], ['a'], ['b']]);
  assert.deepEqual(calls, ['a', 'b', 'c', 'c', 'a', 'b']);
});

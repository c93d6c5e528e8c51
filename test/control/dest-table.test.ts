// SPDX-License-Identifier: Apache-2.0
//
// The dest table a service's dests cross into the addon as: every field
// of every row survives packing, and a layout the addon reads otherwise
// is refused before anything is sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DestSpec } from '../../control/src/dataplane/addon';
import { checkDestLayout, DEST_WORDS, FORWARD_MODES, packDests, unpackDests } from '../../control/src/dataplane/dest-table';

test('every field of every dest survives the table, at the edges of its range', () => {
  const dests: DestSpec[] = FORWARD_MODES.map((fwd, i) => ({
    id: 1_048_575 - i,
    ip: ['0.0.0.1', '10.1.2.3', '192.168.255.254', '255.255.255.255', '128.0.0.0'][i],
    port: [0, 1, 8080, 65535, 443][i],
    fwd,
    weight: [0, 1, 100, 0xffffffff, 7][i],
    upper: i * 1000,
    lower: i * 500,
    available: i % 2 === 0,
  }));
  const table = packDests(dests);
  assert.equal(table.length, dests.length * DEST_WORDS.length);
  assert.deepEqual(unpackDests(table), dests);
  assert.deepEqual(unpackDests(packDests([])), []);
});

test('the addon reading another layout is refused, naming both', () => {
  assert.doesNotThrow(() => checkDestLayout({ words: [...DEST_WORDS], forwards: [...FORWARD_MODES] }));
  const swapped = [...DEST_WORDS];
  [swapped[4], swapped[5]] = [swapped[5], swapped[4]];
  assert.throws(() => checkDestLayout({ words: swapped, forwards: [...FORWARD_MODES] }), /reads dests as .*"upper","weight".*rebuild it/);
  assert.throws(() => checkDestLayout({ words: [...DEST_WORDS], forwards: ['nat', 'dr'] }), /rebuild it/);
});

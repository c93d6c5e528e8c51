// SPDX-License-Identifier: Apache-2.0
//
// A service's dests as they cross into the addon: one Uint32Array, one
// row of DEST_WORDS words per dest. 80,000 dests as objects cost the
// binding a property lookup per field, most of an Apply's time there; a
// table costs it one call per service. The addon exports the layout it
// reads (destLayout()) and Dataplane.start checks it against this one.

import { formatIPv4, parseIPv4 } from '../config/ipv4';
import type { DestSpec, ForwardName } from './addon';

/** The words of a row, in order. */
export const DEST_WORDS = ['id', 'ip', 'port', 'fwd', 'weight', 'upper', 'lower', 'available'] as const;
/** A row's fwd word indexes this list. */
export const FORWARD_MODES: readonly ForwardName[] = ['nat', 'dr', 'tun', 'fullnat', 'snat'];

const W = DEST_WORDS.length;

/** The table of these dests (addresses as host-order numbers). */
export function packDests(dests: readonly DestSpec[]): Uint32Array {
  const t = destTable(dests.length);
  dests.forEach((d, j) => writeDest(t, j, d.id, d.ip, d.port, d.fwd, d.weight, d.upper, d.lower, d.available));
  return t;
}

/** A table of n dests, its rows to be written by writeDest. */
export function destTable(n: number): Uint32Array {
  return new Uint32Array(n * W);
}

/**
 * Row j of table t. Fields, not a DestSpec: an Apply from empty writes
 * 80,000 rows, and an object for each was garbage the collector copied
 * with the live specs around it.
 */
export function writeDest(
  t: Uint32Array, j: number, id: number, address: string, port: number, fwd: ForwardName,
  weight: number, upper: number, lower: number, available: boolean,
): void {
  const ip = parseIPv4(address);
  if (ip === null) throw new Error(`dest ${id}: '${address}' is not an IPv4 address`);
  const o = j * W;
  t[o] = id;
  t[o + 1] = ip;
  t[o + 2] = port;
  t[o + 3] = FORWARD_MODES.indexOf(fwd);
  t[o + 4] = weight;
  t[o + 5] = upper;
  t[o + 6] = lower;
  t[o + 7] = available ? 1 : 0;
}

/** The dests a table holds (for tests: the binding reads the table itself). */
export function unpackDests(t: Uint32Array): DestSpec[] {
  const out: DestSpec[] = [];
  for (let o = 0; o < t.length; o += W) {
    out.push({
      id: t[o],
      ip: formatIPv4(t[o + 1]),
      port: t[o + 2],
      fwd: FORWARD_MODES[t[o + 3]],
      weight: t[o + 4],
      upper: t[o + 5],
      lower: t[o + 6],
      available: t[o + 7] === 1,
    });
  }
  return out;
}

/** Throws naming the difference when the addon reads another layout (a stale build). */
export function checkDestLayout(addon: { words: string[]; forwards: string[] }): void {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(addon.words, DEST_WORDS) || !same(addon.forwards, FORWARD_MODES)) {
    throw new Error(`the addon reads dests as ${JSON.stringify(addon)}, not as ${JSON.stringify({ words: DEST_WORDS, forwards: FORWARD_MODES })}: rebuild it (npm run build)`);
  }
}

// SPDX-License-Identifier: Apache-2.0
//
// EAL lcore lists. Two forms:
//   "0-1", "0,2-3"        lcore N runs on CPU N (EAL -l)
//   "0@0,1@1,2@1"         lcore@cpu: lcores mapped onto CPUs (EAL --lcores),
//                         so two workers can share a CPU on a small machine
// The order is kept as written because the first lcore becomes the control
// thread (EAL main lcore).

/** Largest lcore id accepted; stops "0-99999999" from expanding into a huge array. */
export const MAX_LCORE_ID = 1023;

const ITEM = /^(\d+)(?:-(\d+))?(?:@(\d+))?$/;

export interface LcoreSlot {
  lcore: number;
  /** The CPU the lcore's thread is pinned to. */
  cpu: number;
}

/**
 * Expands an lcore list into (lcore, cpu) pairs in the order written.
 * Throws an Error naming the offending item for garbage, descending
 * ranges, ids above MAX_LCORE_ID and duplicate lcores.
 */
export function parseLcoreMap(list: string): LcoreSlot[] {
  if (list.trim() === '') throw new Error('the lcore list is empty');
  const slots = list.split(',').flatMap((item) => expandItem(item.trim()));
  const seen = new Set<number>();
  for (const { lcore } of slots) {
    if (seen.has(lcore)) throw new Error(`lcore ${lcore} is listed twice`);
    seen.add(lcore);
  }
  return slots;
}

/** The lcore ids of a list, in the order written. */
export function parseLcores(list: string): number[] {
  return parseLcoreMap(list).map((s) => s.lcore);
}

/** True when the list maps lcores onto CPUs (EAL --lcores rather than -l). */
export function isLcoreMap(list: string): boolean {
  return list.includes('@');
}

function expandItem(item: string): LcoreSlot[] {
  const m = ITEM.exec(item);
  if (!m) {
    throw new Error(`'${item}' is not an lcore id or range (write e.g. 0-3, 0,2-3 or 0@0,1-2@1)`);
  }
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  const cpu = m[3] === undefined ? undefined : Number(m[3]);
  for (const id of [first, last, cpu ?? 0]) {
    if (id > MAX_LCORE_ID) throw new Error(`lcore ${id} is out of range (0..${MAX_LCORE_ID})`);
  }
  if (last < first) throw new Error(`range ${item} is descending (write ${last}-${first})`);
  const slots: LcoreSlot[] = [];
  for (let id = first; id <= last; id++) slots.push({ lcore: id, cpu: cpu ?? id });
  return slots;
}

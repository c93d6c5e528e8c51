// SPDX-License-Identifier: Apache-2.0
//
// EAL lcore lists ("0-1", "0,2-3"). The order is kept as written because
// the first lcore becomes the control thread (EAL main lcore).

/** Largest lcore id accepted; stops "0-99999999" from expanding into a huge array. */
export const MAX_LCORE_ID = 1023;

const ITEM = /^(\d+)(?:-(\d+))?$/;

/**
 * Expands an EAL lcore list into lcore ids in the order written.
 * Throws an Error naming the offending item for garbage, descending
 * ranges, ids above MAX_LCORE_ID and duplicates.
 */
export function parseLcores(list: string): number[] {
  const items = list.split(',').map((item) => item.trim());
  if (list.trim() === '') throw new Error('the lcore list is empty');
  const ids: number[] = [];
  for (const item of items) ids.push(...expandItem(item));
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) throw new Error(`lcore ${id} is listed twice`);
    seen.add(id);
  }
  return ids;
}

function expandItem(item: string): number[] {
  const m = ITEM.exec(item);
  if (!m) {
    throw new Error(`'${item}' is not an lcore id or range (write e.g. 0-3 or 0,2-3)`);
  }
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  for (const id of [first, last]) {
    if (id > MAX_LCORE_ID) throw new Error(`lcore ${id} is out of range (0..${MAX_LCORE_ID})`);
  }
  if (last < first) throw new Error(`range ${item} is descending (write ${last}-${first})`);
  const ids: number[] = [];
  for (let id = first; id <= last; id++) ids.push(id);
  return ids;
}

// SPDX-License-Identifier: Apache-2.0
//
// The difference between two desired states, object by object: services
// by name, their dests by <address, port>, their laddrs, snat rules by
// name. Computed on the input form, so values read as in a config file
// ("interval: 2s -> 5s"). What `fulcrum apply` prints and what a config
// event carries.

import type { DesiredInput, Input } from './desired';

export type ChangeAction = 'add' | 'remove' | 'change';

export interface Change {
  action: ChangeAction;
  /** "service web", "service web dest 10.0.1.11:80", "service web laddr 10.0.1.50", "snat rule out". */
  object: string;
  /** For 'change': "weight: 1 -> 3", one per field. */
  fields: string[];
}

const MARK: Record<ChangeAction, string> = { add: '+', remove: '-', change: '~' };

/** "~ service web dest 10.0.1.11:80: weight: 1 -> 3". */
export function changeText(c: Change): string {
  return `${MARK[c.action]} ${c.object}${c.fields.length > 0 ? `: ${c.fields.join(', ')}` : ''}`;
}

export function diffDesired(from: DesiredInput, to: DesiredInput): Change[] {
  return [...diffServices(from.services, to.services), ...diffSnat(from.snat, to.snat)];
}

/**
 * Services by name. Lists that share their unchanged services (the very
 * objects) may be given as just the services that left and those that
 * came: the result is the same, in the same order.
 */
export function diffServices(from: Input[], to: Input[]): Change[] {
  return diffKeyed(from, to, (s) => String(s.name), (name, a, b) => diffService(name, a, b), 'service');
}

export function diffSnat(from: Input[], to: Input[]): Change[] {
  return diffKeyed(from, to, (r) => String(r.name), (name, a, b) => fieldChange(`snat rule ${name}`, a, b), 'snat rule');
}

// Inside a service: its own fields, then its dests and laddrs as objects.
const NESTED = ['dests', 'local_addresses'];

function diffService(name: string, a: Input, b: Input): Change[] {
  if (a === b) return [];
  const object = `service ${name}`;
  const dests = diffKeyed(
    list(a.dests),
    list(b.dests),
    (d) => `${String(d.address)}:${String(d.port)}`,
    (key, x, y) => fieldChange(`${object} dest ${key}`, x, y),
    `${object} dest`,
  );
  const laddrs = diffKeyed(
    list(a.local_addresses).map((address) => ({ address })),
    list(b.local_addresses).map((address) => ({ address })),
    (l) => String(l.address),
    () => [],
    `${object} laddr`,
  );
  return [...fieldChange(object, a, b, NESTED), ...dests, ...laddrs];
}

function diffKeyed(
  from: Input[],
  to: Input[],
  keyOf: (o: Input) => string,
  changed: (key: string, a: Input, b: Input) => Change[],
  noun: string,
): Change[] {
  const before = new Map(from.map((o) => [keyOf(o), o]));
  const after = new Map(to.map((o) => [keyOf(o), o]));
  const out: Change[] = [];
  for (const key of before.keys()) if (!after.has(key)) out.push({ action: 'remove', object: `${noun} ${key}`, fields: [] });
  for (const [key, o] of after) {
    const old = before.get(key);
    if (old === undefined) out.push({ action: 'add', object: `${noun} ${key}`, fields: [] });
    else out.push(...changed(key, old, o));
  }
  return out;
}

/** One 'change' listing every differing top-level field, or nothing. */
function fieldChange(object: string, a: Input, b: Input, skip: string[] = []): Change[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !skip.includes(k));
  const fields = keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${show(a[k])} -> ${show(b[k])}`);
  return fields.length === 0 ? [] : [{ action: 'change', object, fields }];
}

function show(v: unknown): string {
  if (v === undefined) return 'none';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function list<T = Input>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

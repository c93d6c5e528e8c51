// SPDX-License-Identifier: Apache-2.0
//
// Building blocks of the config schema.
//
// Leaves are transforms that report a custom issue with our own wording.
// A failed leaf leaves its object "dirty" instead of aborting the parse, so
// the checks that span several fields still run and one pass reports every
// problem: zod 4 skips an object's refinements once any issue below it
// lacks `continue: true`, so every issue we raise carries it (zod's own
// structural ones, invalid_type for a non-mapping or non-list, still abort).
// Cross-field checks must therefore tolerate invalid field values: a failed
// leaf holds zod's NEVER sentinel, never a value of its declared type.
//
// Defaults are `.prefault(...)`: written as in the YAML ('300s', {}) and
// parsed like a given value. zod 4's `.default(...)` hands its value out
// as it is, without the leaf's conversion or the object's own defaults.

import { z } from 'zod';

import { registerLeaf, registerStrict } from './fast';

export type Leaf<T> = z.ZodType<T, unknown>;
/** A check returns the problems with a value (none: empty/undefined). */
export type Check = (value: unknown) => string | string[] | undefined;

/** A leaf whose value, once `check` finds nothing wrong, is `convert(value)`. */
export function leaf<T>(check: Check, convert: (value: unknown) => T = (value) => value as T): Leaf<T> {
  const problems = (value: unknown): readonly string[] => {
    const found = value === undefined ? 'is required' : check(value);
    return found === undefined ? [] : Array.isArray(found) ? found : [found];
  };
  const schema = z.transform((value: unknown, ctx) => {
    const found = problems(value);
    if (found.length === 0) return convert(value);
    for (const message of found) report(ctx, [], message);
    return z.NEVER;
  });
  registerLeaf(schema, { problems, convert });
  return schema;
}

/** Short rendering of a raw YAML value for messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 60 ? `'${value.slice(0, 57)}...'` : `'${value}'`;
  }
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A string leaf; `check` sees only non-empty strings. */
export function text<T extends string = string>(check?: (s: string) => string | string[] | undefined): Leaf<T> {
  return leaf<T>((v) => {
    if (typeof v !== 'string') return `expected a string, got ${show(v)}`;
    if (v === '') return 'must not be empty';
    return check?.(v);
  });
}

export function int(min: number, max: number): Leaf<number> {
  return leaf<number>((v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return `expected a whole number from ${min} to ${max}, got ${show(v)}`;
    }
    if (v < min || v > max) return `must be from ${min} to ${max}, got ${v}`;
    return undefined;
  });
}

export function bool(): Leaf<boolean> {
  return leaf<boolean>((v) => (typeof v === 'boolean' ? undefined : `expected true or false, got ${show(v)}`));
}

export function oneOf<const T extends readonly string[]>(values: T): Leaf<T[number]> {
  return leaf<T[number]>((v) => {
    if (typeof v === 'string' && values.includes(v)) return undefined;
    const hint = typeof v === 'string' ? closest(v, values) : undefined;
    const dym = hint === undefined ? '' : ` (did you mean '${hint}'?)`;
    return `${show(v)} is not one of ${values.join(', ')}${dym}`;
  });
}

/**
 * A list of at least one item. Not zod's `.min(1)`: that check runs on any
 * value with a length, so `ports: ''` would get "at least one" on top of
 * "expected a list".
 */
export function nonEmptyList<T extends z.ZodType>(item: T, message: string) {
  return z.array(item).superRefine((list, ctx) => {
    if (list.length === 0) report(ctx, [], message);
  });
}

export interface StrictOptions {
  /** The document's root: its unknown keys are worded as top-level ones. */
  topLevel?: boolean;
  /** Problems with the keys given, seen on the raw input before defaults fill keys in. */
  keyProblems?: (raw: Record<string, unknown>) => KeyProblem[];
}

export interface KeyProblem {
  key: string;
  message: string;
}

/**
 * An object that rejects unknown keys, one problem per key with a
 * suggestion. Done in a preprocess rather than with `z.strictObject`
 * because zod reports all unknown keys of an object in one issue and does
 * not know the close matches.
 * A known key written with no value (`control:` with everything below it
 * commented out) counts as absent, so its default applies.
 */
export function strictObject<S extends z.ZodRawShape>(shape: S, options: StrictOptions = {}) {
  const known = Object.keys(shape);
  // A set and a for-in: this runs for every object of a 10k-service Apply.
  const isKnown = new Set(known);
  const schema = z.preprocess((raw, ctx) => {
    if (!isPlainObject(raw)) return raw;
    for (const p of options.keyProblems?.(raw) ?? []) keyIssue(ctx, p.key, [p.key], p.message);
    let empty = false;
    for (const key in raw) {
      if (!Object.hasOwn(raw, key)) continue;
      if (!isKnown.has(key)) keyIssue(ctx, key, [], unknownKeyMessage(key, known, options.topLevel === true));
      else if (raw[key] === null) empty = true;
    }
    // z.object makes an object of its own and leaves unknown keys out:
    // raw needs copying only to drop the keys given no value.
    return empty ? withoutNulls(raw) : raw;
  }, z.object(shape));
  registerStrict(schema._zod.def.in, { known: isKnown, keyProblems: options.keyProblems });
  return schema;
}

function withoutNulls(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in raw) if (Object.hasOwn(raw, key) && raw[key] !== null) out[key] = raw[key];
  return out;
}

// A preprocess that raises any other issue ends its pipe before the object
// is parsed; zod lets unrecognized_keys through (they are about the keys
// given, not the value), so the object's own problems are still reported.
function keyIssue(ctx: z.RefinementCtx, key: string, path: string[], message: string): void {
  ctx.addIssue({ code: 'unrecognized_keys', keys: [key], path, message, continue: true });
}

function unknownKeyMessage(key: string, known: readonly string[], topLevel: boolean): string {
  const hint = closest(key, known);
  const what = topLevel ? 'unknown top-level key' : 'unknown key';
  const tail = hint === undefined ? ` (known: ${known.join(', ')})` : ` (did you mean '${hint}'?)`;
  return `${what} '${key}'${tail}`;
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Adds an issue at a path below the value being checked; the checks above it still run. */
export function report(ctx: z.RefinementCtx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message, continue: true });
}

// SPDX-License-Identifier: Apache-2.0
//
// The schema's valid case without zod's machinery. An Apply from empty
// parses 10,000 services of 90,000 objects, and zod's run of them (a
// payload and an issue list per field, pipes, lazy getters, a cold JIT of
// a large library) cost more than half the Apply. Almost every input is
// valid, so `compile` turns a schema into a plain function that runs the
// very same leaves, defaults and refinements, and gives up (FAIL) at the
// first sign of a problem: the caller then parses with zod, which words
// every problem as before. One set of rules, two ways to run it.
//
// compile walks the schema's definition and knows the parts the config
// schema is made of: our leaves and strict objects (registered here by
// leaves.ts), optional, prefault, array and superRefine checks. A schema
// with any other part has no fast form (compile returns undefined).
//
// The output must be what zod's is, key order included (the state file
// and the caches know a service by its JSON text): fast.test.ts compares
// both on valid and broken inputs.

import type { z } from 'zod';

/** What a fast parse gives when the input is not plainly valid. */
export const FAIL: unique symbol = Symbol('fast parse failed');

export type FastParse<T = unknown> = (value: unknown) => T | typeof FAIL;

/** A key with this value is left out of the object (an optional key not given). */
const ABSENT: unique symbol = Symbol('absent');

type Part = (value: unknown) => unknown;

interface LeafRule {
  /** The problems with a given value, as leaf() reports them (none: empty). */
  problems: (value: unknown) => readonly string[];
  convert: (value: unknown) => unknown;
}

interface StrictRule {
  /** Keys of the object schema. */
  known: ReadonlySet<string>;
  /** Problems seen on the raw keys (strictObject's keyProblems), if any. */
  keyProblems?: (raw: Record<string, unknown>) => readonly unknown[];
}

const leafRules = new WeakMap<object, LeafRule>();
const strictRules = new WeakMap<object, StrictRule>();

/** Called by leaf(): the transform schema and what it runs. */
export function registerLeaf(schema: object, rule: LeafRule): void {
  leafRules.set(schema, rule);
}

/** Called by strictObject(): its preprocess step and what it refuses. */
export function registerStrict(preprocess: object, rule: StrictRule): void {
  strictRules.set(preprocess, rule);
}

/** The schema's fast parse, or undefined when it has a part compile does not know. */
export function compile<T>(schema: z.ZodType<T, unknown>): FastParse<T> | undefined {
  const part = partOf(schema);
  if (part === undefined) return undefined;
  return (value) => {
    try {
      const out = part(value);
      return out === ABSENT ? FAIL : (out as T);
    } catch (err) {
      if (err === FAIL) return FAIL;
      throw err;
    }
  };
}

// Parts throw FAIL rather than return it: the valid case, which is what
// this is for, then pays no test at every level.
function fail(): never {
  throw FAIL;
}

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string }; check: (payload: Payload) => unknown } }[];
  innerType?: object;
  defaultValue?: unknown;
  element?: object;
  in?: object;
  out?: object;
  shape?: Record<string, object>;
}

interface Payload {
  value: unknown;
  issues: unknown[];
}

function defOf(schema: object): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

function partOf(schema: object): Part | undefined {
  const def = defOf(schema);
  const base = basePart(schema, def);
  if (base === undefined || def.checks === undefined || def.checks.length === 0) return base;
  const checks = def.checks;
  // Only refinements (superRefine) are known: each runs on the value and
  // may add issues to the payload.
  if (checks.some((c) => c._zod.def.check !== 'custom')) return undefined;
  return (value) => {
    const out = base(value);
    const payload: Payload = { value: out, issues: [] };
    for (const c of checks) {
      if (c._zod.check(payload) instanceof Promise) fail();
      if (payload.issues.length > 0) fail();
    }
    return out;
  };
}

function basePart(schema: object, def: Def): Part | undefined {
  switch (def.type) {
    case 'transform':
      return leafPart(leafRules.get(schema));
    case 'optional':
      return optionalPart(def.innerType as object);
    case 'prefault': {
      const inner = partOf(def.innerType as object);
      const fallback = def.defaultValue;
      return inner && ((value) => inner(value === undefined ? fallback : value));
    }
    case 'array': {
      const element = partOf(def.element as object);
      return element && ((value) => arrayOf(value, element));
    }
    case 'pipe':
      return strictPart(strictRules.get(def.in as object), def.out as object);
    default:
      return undefined;
  }
}

function leafPart(rule: LeafRule | undefined): Part | undefined {
  if (rule === undefined) return undefined;
  return (value) => {
    if (value === undefined || rule.problems(value).length > 0) fail();
    return rule.convert(value);
  };
}

function optionalPart(innerType: object): Part | undefined {
  const inner = partOf(innerType);
  if (inner === undefined) return undefined;
  // zod's optional of a defaulted schema fills the default in for absence.
  if (defOf(innerType).type === 'prefault') return inner;
  return (value) => (value === undefined ? ABSENT : inner(value));
}

function arrayOf(value: unknown, element: Part): unknown[] {
  if (!Array.isArray(value)) fail();
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item = element(value[i]);
    if (item === ABSENT) fail();
    out[i] = item;
  }
  return out;
}

function strictPart(rule: StrictRule | undefined, objectSchema: object): Part | undefined {
  const def = defOf(objectSchema);
  if (rule === undefined || def.type !== 'object' || def.shape === undefined) return undefined;
  if (def.checks !== undefined && def.checks.length > 0) return undefined;
  const shape = def.shape;
  const keys = Object.keys(shape);
  const parts: Part[] = [];
  for (const key of keys) {
    const part = partOf(shape[key]);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  const { known, keyProblems } = rule;
  return (raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail();
    const o = raw as Record<string, unknown>;
    for (const key in o) {
      // An unknown key, or a key given as undefined (zod keeps those).
      if (!Object.hasOwn(o, key)) continue;
      if (!known.has(key) || o[key] === undefined) fail();
    }
    if (keyProblems !== undefined && keyProblems(o).length > 0) fail();
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const given = o[keys[i]];
      // A key written with no value counts as absent (strictObject).
      const value = parts[i](given === null ? undefined : given);
      if (value !== ABSENT) out[keys[i]] = value;
    }
    return out;
  };
}

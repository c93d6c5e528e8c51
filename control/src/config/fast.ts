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
  const plan = planOf(schema);
  if (plan === undefined) return undefined;
  return (value) => {
    try {
      const out = run(plan, value);
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

interface ZodCheck {
  _zod: { def: { check: string }; check: (payload: Payload) => unknown };
}

interface Def {
  type: string;
  checks?: ZodCheck[];
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

const enum Kind {
  Leaf,
  Optional,
  Prefault,
  Array,
  Object,
}

// A schema as data, run by one function (run), not a closure per part:
// V8 warms code up per closure, and each of a service's ~100 parts took
// thousands of calls to; one function that every part runs through is
// hot after a few services, which is what the first Apply of a fresh
// process pays for. Every Plan has the same fields, so run's loads stay
// monomorphic.
class Plan {
  constructor(
    readonly kind: Kind,
    readonly checks: readonly ZodCheck[] | null,
    readonly inner: Plan | null = null,
    readonly leaf: LeafRule | null = null,
    readonly fallback: unknown = undefined,
    readonly keys: readonly string[] | null = null,
    readonly fields: readonly Plan[] | null = null,
    readonly strict: StrictRule | null = null,
  ) {}
}

function planOf(schema: object): Plan | undefined {
  const def = defOf(schema);
  const checks = def.checks === undefined || def.checks.length === 0 ? null : def.checks;
  // Only refinements (superRefine) are known: each runs on the value and
  // may add issues to the payload.
  if (checks !== null && checks.some((c) => c._zod.def.check !== 'custom')) return undefined;
  switch (def.type) {
    case 'transform': {
      const rule = leafRules.get(schema);
      return rule && new Plan(Kind.Leaf, checks, null, rule);
    }
    case 'optional': {
      const innerType = def.innerType as object;
      const inner = planOf(innerType);
      // zod's optional of a defaulted schema fills the default in for
      // absence: the inner prefault runs on undefined as it is.
      if (inner === undefined || defOf(innerType).type === 'prefault') return inner && withChecks(inner, checks);
      return new Plan(Kind.Optional, checks, inner);
    }
    case 'prefault': {
      const inner = planOf(def.innerType as object);
      return inner && new Plan(Kind.Prefault, checks, inner, null, def.defaultValue);
    }
    case 'array': {
      const element = planOf(def.element as object);
      return element && new Plan(Kind.Array, checks, element);
    }
    case 'pipe':
      return objectPlan(strictRules.get(def.in as object), def.out as object, checks);
    default:
      return undefined;
  }
}

/** p with these checks run after its own (p's unchanged when there are none). */
function withChecks(p: Plan, checks: readonly ZodCheck[] | null): Plan {
  if (checks === null) return p;
  return new Plan(p.kind, [...(p.checks ?? []), ...checks], p.inner, p.leaf, p.fallback, p.keys, p.fields, p.strict);
}

function objectPlan(rule: StrictRule | undefined, objectSchema: object, checks: readonly ZodCheck[] | null): Plan | undefined {
  const def = defOf(objectSchema);
  if (rule === undefined || def.type !== 'object' || def.shape === undefined) return undefined;
  if (def.checks !== undefined && def.checks.length > 0) return undefined;
  const shape = def.shape;
  const keys = Object.keys(shape);
  const fields: Plan[] = [];
  for (const key of keys) {
    const field = planOf(shape[key]);
    if (field === undefined) return undefined;
    fields.push(field);
  }
  return new Plan(Kind.Object, checks, null, null, undefined, keys, fields, rule);
}

function run(p: Plan, value: unknown): unknown {
  let out: unknown;
  switch (p.kind) {
    case Kind.Leaf: {
      const rule = p.leaf as LeafRule;
      if (value === undefined || rule.problems(value).length > 0) fail();
      out = rule.convert(value);
      break;
    }
    case Kind.Optional:
      if (value === undefined) return ABSENT;
      out = run(p.inner as Plan, value);
      break;
    case Kind.Prefault:
      out = run(p.inner as Plan, value === undefined ? p.fallback : value);
      break;
    case Kind.Array:
      out = runArray(p.inner as Plan, value);
      break;
    case Kind.Object:
      out = runObject(p, value);
      break;
  }
  if (p.checks !== null) runChecks(p.checks, out);
  return out;
}

function runChecks(checks: readonly ZodCheck[], value: unknown): void {
  const payload: Payload = { value, issues: [] };
  for (const c of checks) {
    if (c._zod.check(payload) instanceof Promise) fail();
    if (payload.issues.length > 0) fail();
  }
}

function runArray(element: Plan, value: unknown): unknown[] {
  if (!Array.isArray(value)) fail();
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item = run(element, value[i]);
    if (item === ABSENT) fail();
    out[i] = item;
  }
  return out;
}

function runObject(p: Plan, raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail();
  const o = raw as Record<string, unknown>;
  const { known, keyProblems } = p.strict as StrictRule;
  for (const key in o) {
    // An unknown key, or a key given as undefined (zod keeps those).
    if (!Object.hasOwn(o, key)) continue;
    if (!known.has(key) || o[key] === undefined) fail();
  }
  if (keyProblems !== undefined && keyProblems(o).length > 0) fail();
  const keys = p.keys as readonly string[];
  const fields = p.fields as readonly Plan[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const given = o[keys[i]];
    // A key written with no value counts as absent (strictObject).
    const value = run(fields[i], given === null ? undefined : given);
    if (value !== ABSENT) out[keys[i]] = value;
  }
  return out;
}

// SPDX-License-Identifier: Apache-2.0
//
// Validation that costs what changed, not what exists. A service is valid
// on its own or not (the schema's per-service rules), and a set of valid
// services is valid when names and endpoints do not collide (a linear
// check). So the store remembers, per running service, the texts of the
// input forms it was validated from (the form a client sent, and the
// store's own input form), and a later desired state reuses the validated
// service for every text it has seen: with 80,000 dests, one CreateDest
// validates one service, and an Apply validates what the operator edited.
// Anything that fails takes the full schema, so errors read exactly as
// the config file's.

import { answeredEndpoints, endpointText, serviceSchema, type ServiceConfig } from '../config/schema';
import { plain, serviceInput, validateDesired, type Desired, type DesiredInput, type Input } from './desired';

/** A running service: what it was validated as, its input form, and the texts it is known by. */
interface Entry {
  config: ServiceConfig;
  input: Input;
  texts: string[];
  /** What no other service may have: its name and every endpoint it answers for. */
  claims: string[];
}

export interface Validated {
  desired: Desired;
  /** The input form of desired; unchanged services are the very objects of the previous one. */
  input: DesiredInput;
  /** Text -> entry, for the cache that follows a commit of this state. */
  entries: Map<string, Entry>;
}

const TOP_LEVEL = new Set(['services', 'snat']);

function entry(config: ServiceConfig, raw?: string): Entry {
  const input = serviceInput(config);
  const text = JSON.stringify(input);
  const claims = [`name ${config.name}`, ...answeredEndpoints(config).map(endpointText)];
  return { config, input, texts: raw === undefined || raw === text ? [text] : [raw, text], claims };
}

/** True when no two services claim the same name or endpoint (serviceSetProblems then finds nothing). */
function claimsUnique(list: Entry[]): boolean {
  const seen = new Set<string>();
  for (const e of list) {
    for (const c of e.claims) {
      if (seen.has(c)) return false;
      seen.add(c);
    }
  }
  return true;
}

function index(list: Entry[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const e of list) for (const t of e.texts) out.set(t, e);
  return out;
}

function validated(desired: Desired, list: Entry[]): Validated {
  return { desired, input: { services: list.map((e) => e.input), snat: desired.snat.map((r) => plain(r)) }, entries: index(list) };
}

export class ServiceCache {
  private byText: Map<string, Entry>;
  private byConfig: Map<ServiceConfig, Entry>;
  // The input objects the cache handed out (input()): an edit's draft
  // shares every service it did not touch, so these are found without
  // turning them into text. Nothing edits them in place (edits copy).
  private byInput: Map<Input, Entry>;

  constructor(desired: Desired) {
    const list = desired.services.map((c) => entry(c));
    this.byText = index(list);
    this.byConfig = new Map(list.map((e) => [e.config, e]));
    this.byInput = new Map(list.map((e) => [e.input, e]));
  }

  /** The input form of the running state (its services shared: copy one before editing it). */
  input(desired: Desired): DesiredInput {
    return {
      services: desired.services.map((s) => this.byConfig.get(s)?.input ?? serviceInput(s)),
      snat: desired.snat.map((r) => plain(r)),
    };
  }

  /** Validates like validateDesired (and throws the same StateError), reusing known services. */
  validate(input: unknown, portNames: readonly string[]): Validated {
    return this.incremental(input, portNames) ?? full(input, portNames);
  }

  /** After a commit: the cache describes the state now running. */
  replace(v: Validated): void {
    this.byText = v.entries;
    const list = [...new Set(v.entries.values())];
    this.byConfig = new Map(list.map((e) => [e.config, e]));
    this.byInput = new Map(list.map((e) => [e.input, e]));
  }

  /** What restore() takes back to (the maps are replaced, never changed, so no copy). */
  save(): { byText: Map<string, Entry>; byConfig: Map<ServiceConfig, Entry>; byInput: Map<Input, Entry> } {
    return { byText: this.byText, byConfig: this.byConfig, byInput: this.byInput };
  }

  restore(saved: ReturnType<ServiceCache['save']>): void {
    ({ byText: this.byText, byConfig: this.byConfig, byInput: this.byInput } = saved);
  }

  private incremental(input: unknown, portNames: readonly string[]): Validated | undefined {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
    const o = input as Record<string, unknown>;
    const raw = o.services ?? [];
    if (Object.keys(o).some((k) => !TOP_LEVEL.has(k)) || !Array.isArray(raw)) return undefined;
    const list: Entry[] = [];
    for (const s of raw as unknown[]) {
      let e = this.byInput.get(s as Input);
      if (e !== undefined) {
        list.push(e);
        continue;
      }
      const text = JSON.stringify(s);
      e = this.byText.get(text);
      if (e === undefined) {
        const r = serviceSchema.safeParse(s);
        if (!r.success) return undefined;
        e = entry(r.data, text);
      }
      list.push(e);
    }
    // A clash takes the full schema, which words it (an API edit refuses clashes itself, first).
    if (!claimsUnique(list)) return undefined;
    const services = list.map((e) => e.config);
    // The snat rules are few: the full schema, unless there are none.
    const none = o.snat === undefined || (Array.isArray(o.snat) && o.snat.length === 0);
    const snat = none ? [] : validateDesired({ snat: o.snat }, portNames).snat;
    return validated({ services, snat }, list);
  }
}

function full(input: unknown, portNames: readonly string[]): Validated {
  const desired = validateDesired(input, portNames);
  return validated(desired, desired.services.map((c) => entry(c)));
}

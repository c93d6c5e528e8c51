// SPDX-License-Identifier: Apache-2.0
//
// Validation that costs what changed, not what exists. A service is valid
// on its own or not (the schema's per-service rules), and a set of valid
// services is valid when names and endpoints do not collide. So the cache
// keeps, for the running desired state, every service's validated form,
// its input form, what it is known by (the key of its encoding, or the
// JSON text a client sent, and the store's own text) and its claims (name
// and endpoints), in indexes it changes in place by what each commit
// changed (the JSON texts' only when a plain input asks). A later desired
// state reuses the validated service for every input object the cache
// handed out (an edit's draft shares the services it did not touch) and
// every key and text it has seen, so with 80,000 dests one
// CreateDest validates one service, checks its claims against the index,
// and makes the diff from the services that changed; an Apply decodes
// and validates what the operator edited. What the cost still has of the
// whole state is a pass over the list (identity and key lookups, no
// parsing, no new indexes; plain input, the config file read again, adds
// an index of texts). A commit can be undone back to a checkpoint
// (a failed save puts the saved state back).
// Anything that fails takes the full schema, so errors read exactly as
// the config file's.

import { answeredEndpoints, endpointText, parseValidService, type ServiceConfig } from '../config/schema';
import { decodedInput, EncodedInput, plain, serviceInput, validateDesired, type Desired, type DesiredInput, type Input } from './desired';
import type { JournalChange } from './journal';

/** A running (or about to run) service: what it was validated as, and what it is known by. */
interface Entry {
  config: ServiceConfig;
  input: Input;
  /** The EncodedInput key it arrived with, if it arrived encoded. */
  key?: string;
  /**
   * JSON.stringify(input) in UTF-8, made by the first save that writes
   * it: what the state file holds for it. Not kept as a string: the
   * texts of 10,000 services are 12 MB that the garbage collector would
   * copy through the rest of the Apply.
   */
  bytes?: Buffer;
  /** The JSON text a plain input arrived as, where it is not the entry's own. */
  arrivedAs?: string;
  /** What no other service may have: its name and every endpoint it answers for. */
  claims: string[];
  /** The validation (or changeSince's pass) that last listed it: duplicates and removals are found by it. */
  seen: number;
}

/** A state's services as a change of the running ones: enough to make it, and to take it back. */
interface Commit {
  /** In list order: the whole new list, the services that are new to it, and the running ones it left out. */
  list: Entry[];
  fresh: Entry[];
  removed: Entry[];
  /** Each new service took the place of the removed one of its name (an edit of one service): the order of names is kept. */
  inPlace?: boolean;
}

export interface Validated extends Commit {
  desired: Desired;
  /** The input form of desired's snat rules (the services': list's entries). */
  snatInput: Input[];
}

const TOP_LEVEL = new Set(['services', 'snat']);

const nameClaim = (name: string) => `name ${name}`;

/** The entry of a validated service, known by its key if it arrived encoded, else by the JSON text it arrived as (raw). */
function entry(config: ServiceConfig, arrived: { key?: string; raw?: string } = {}): Entry {
  const input = serviceInput(config);
  const claims = [nameClaim(config.name), ...answeredEndpoints(config).map(endpointText)];
  const { key, raw } = arrived;
  const arrivedAs = raw === undefined || raw === JSON.stringify(input) ? undefined : raw;
  return { config, input, key, arrivedAs, claims, seen: 0 };
}

/** The entry's own JSON text (the state file's). */
function textOf(e: Entry): string {
  return e.bytes === undefined ? JSON.stringify(e.input) : e.bytes.toString('utf8');
}

/**
 * The validated state of these entries. Its service list is made when
 * first read: 64 dest edits batched into one publication each make a
 * state, and at 10,000 services making every one's list cost more than
 * the edit itself; only the batch's last is read (published, answered).
 */
function desiredOf(list: readonly Entry[], snat: Desired['snat']): Desired {
  let services: ServiceConfig[] | undefined;
  return {
    get services(): ServiceConfig[] {
      services ??= list.map((e) => e.config);
      return services;
    },
    snat,
  };
}

/**
 * v's services as the state file writes them: the UTF-8 of their own
 * texts (textOf), made once per entry (in memory of their
 * own: a slice of a shared pool would keep the pool alive).
 */
export function serviceBytes(v: Validated): Buffer[] {
  return v.list.map(bytesOf);
}

const bytesOf = (e: Entry): Buffer => (e.bytes ??= utf8(textOf(e)));
const nameOf = (e: Entry): string => e.config.name;

function utf8(text: string): Buffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  out.write(text);
  return out;
}

export class ServiceCache {
  private list: Entry[] = [];
  /** The running services by EncodedInput key (an Apply's services). */
  private readonly byKey = new Map<string, Entry>();
  // The running services by JSON text, made when a plain input is looked
  // up (the config file read again) and dropped by any change of the
  // list. An Apply's services arrive encoded and never need it: hashing
  // 10,000 texts of a kilobyte on every Apply cost more than its diff.
  private byJson: Map<string, Entry> | undefined;
  // The input objects the cache handed out (input()): found without
  // turning them into text. Nothing edits them in place (edits copy).
  private readonly byInput = new Map<Input, Entry>();
  private readonly claims = new Map<string, Entry>();
  private epoch = 0;
  /** Commits since checkpoint `base`, oldest first. */
  private log: Commit[] = [];
  private base = 0;
  /** The list as of checkpoint `base`. */
  private beforeLog: Entry[] = [];

  constructor(desired: Desired) {
    const list = desired.services.map((c) => entry(c));
    this.apply({ list, fresh: list, removed: [] });
    this.beforeLog = list;
  }

  /** The input form of the running services with these snat rules (the services shared: copy one before editing it). */
  input(snat: Desired['snat']): DesiredInput {
    return { services: this.list.map((e) => e.input), snat: snat.map((r) => plain(r)) };
  }

  /** The running services as the state file writes them (serviceBytes). */
  bytes(): Buffer[] {
    return this.list.map(bytesOf);
  }

  /** The running service named `name` (its name is one of its claims). */
  service(name: string): ServiceConfig | undefined {
    return this.claims.get(nameClaim(name))?.config;
  }

  /** The input form of the running service named `name` (shared: copy it before editing). */
  serviceInput(name: string): Input | undefined {
    return this.claims.get(nameClaim(name))?.input;
  }

  /**
   * The running services with the one named `name` replaced by `next`
   * (input form, same name), and these snat rules: what validate() makes
   * of that state, for the cost of one service (an API edit of a dest or
   * laddr, where a draft of 10,000 services and a pass over them cost
   * ten times the edit). Undefined where only the full schema can say
   * what is wrong (an invalid service, a clash): validate() words it.
   */
  replaceOne(name: string, next: Input, snat: Desired['snat']): Validated | undefined {
    const old = this.claims.get(nameClaim(name));
    if (old === undefined || next.name !== name) return undefined;
    const config = parseValidService(next);
    if (config === undefined) return undefined;
    const e = entry(config);
    if (e.claims.some((k) => (this.claims.get(k) ?? old) !== old)) return undefined;
    const list = this.list.slice();
    list[list.indexOf(old)] = e;
    return { ...this.validated(snat, list, [e], [old]), inPlace: true };
  }

  /** Validates like validateDesired (and throws the same StateError), reusing known services. */
  validate(input: unknown, portNames: readonly string[]): Validated {
    return this.incremental(input, portNames) ?? this.full(input, portNames);
  }

  /** After a commit: the cache describes v's state. */
  replace(v: Validated): void {
    const c: Commit = { list: v.list, fresh: v.fresh, removed: v.removed, inPlace: v.inPlace };
    this.apply(c);
    this.log.push(c);
  }

  /** A checkpoint restore() can take the cache back to. */
  save(): number {
    return this.base + this.log.length;
  }

  /** Takes back every commit after the checkpoint. */
  restore(checkpoint: number): void {
    while (this.base + this.log.length > checkpoint) {
      const c = this.log.pop() as Commit;
      const previous = this.log.at(-1)?.list ?? this.beforeLog;
      this.apply({ list: previous, fresh: c.removed, removed: c.fresh });
    }
  }

  /**
   * What the running list changed since `checkpoint` (not before the last
   * forget()), as a journal record holds it: the services it gained (new
   * or edited), the names it lost, and its order of names when the
   * record's replay (journal.ts: an edited service keeps its place, a new
   * one goes last) would not make it. When every commit since was an
   * edit in place it costs what they changed (a batch of dest edits);
   * otherwise a pass over both lists.
   */
  changeSince(checkpoint: number): JournalChange {
    const commits = this.log.slice(checkpoint - this.base);
    if (commits.every((c) => c.inPlace === true)) {
      // The latest entry of each name edited: the earlier ones were replaced in turn.
      const byName = new Map<string, Entry>();
      for (const c of commits) for (const e of c.fresh) byName.set(nameOf(e), e);
      return { services: [...byName.values()].map(bytesOf), removed: [] };
    }
    const before = checkpoint === this.base ? this.beforeLog : this.log[checkpoint - this.base - 1].list;
    return this.listChange(before, this.list);
  }

  /**
   * What turned list `before` into `after`, by passes over both that mark
   * entries with epochs (as a validation does) rather than put 10,000 of
   * them in Sets, which cost 10-20 ms.
   */
  private listChange(before: readonly Entry[], after: readonly Entry[]): JournalChange {
    const inAfter = this.mark(after);
    const lost = before.filter((e) => e.seen !== inAfter);
    const inBefore = this.mark(before);
    const gained = after.filter((e) => e.seen !== inBefore);
    const named = new Set(gained.map(nameOf));
    const edited = new Set(lost.map(nameOf).filter((n) => named.has(n)));
    const removed = new Set(lost.map(nameOf).filter((n) => !edited.has(n)));
    // The replay's order: the names kept or edited in their places, then the new ones.
    let j = 0;
    const next = (e: Entry) => j < after.length && nameOf(after[j++]) === nameOf(e);
    let same = before.every((e) => removed.has(nameOf(e)) || next(e));
    for (const e of gained) if (same && !edited.has(nameOf(e))) same = next(e);
    return { services: gained.map(bytesOf), removed: [...removed], order: same ? undefined : after.map(nameOf) };
  }

  /** Marks every entry of list with a new epoch, and returns it. */
  private mark(list: readonly Entry[]): number {
    const epoch = ++this.epoch;
    for (const e of list) e.seen = epoch;
    return epoch;
  }

  /** No restore will go back before the checkpoint: its commits need not be kept. */
  forget(checkpoint: number): void {
    const n = Math.min(checkpoint - this.base, this.log.length);
    if (n <= 0) return;
    this.beforeLog = this.log[n - 1].list;
    this.log = this.log.slice(n);
    this.base += n;
  }

  private apply(c: Commit): void {
    for (const e of c.removed) {
      if (e.key !== undefined && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
      this.byInput.delete(e.input);
      for (const k of e.claims) if (this.claims.get(k) === e) this.claims.delete(k);
    }
    for (const e of c.fresh) {
      if (e.key !== undefined) this.byKey.set(e.key, e);
      this.byInput.set(e.input, e);
      for (const k of e.claims) this.claims.set(k, e);
    }
    this.list = c.list;
    this.byJson = undefined;
  }

  /** The running entry known by this JSON text. */
  private byText(text: string): Entry | undefined {
    if (this.byJson === undefined) {
      this.byJson = new Map();
      for (const e of this.list) {
        this.byJson.set(textOf(e), e);
        if (e.arrivedAs !== undefined) this.byJson.set(e.arrivedAs, e);
      }
    }
    return this.byJson.get(text);
  }

  private incremental(input: unknown, portNames: readonly string[]): Validated | undefined {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
    const o = input as Record<string, unknown>;
    const raw = o.services ?? [];
    if (Object.keys(o).some((k) => !TOP_LEVEL.has(k)) || !Array.isArray(raw)) return undefined;
    const epoch = ++this.epoch;
    const list: Entry[] = [];
    const fresh: Entry[] = [];
    for (const s of raw as unknown[]) {
      let e = this.byInput.get(s as Input);
      if (e === undefined) {
        // Known by its key if it arrived encoded, else by its text.
        const arrived = s instanceof EncodedInput ? { key: s.key } : { raw: JSON.stringify(s) };
        e = arrived.key !== undefined ? this.byKey.get(arrived.key) : this.byText(arrived.raw as string);
        if (e === undefined) {
          const config = parseValidService(s instanceof EncodedInput ? s.input() : s);
          if (config === undefined) return undefined;
          e = entry(config, arrived);
          fresh.push(e);
        }
      }
      // Listed twice: a duplicate, which the full schema words.
      if (e.seen === epoch) return undefined;
      e.seen = epoch;
      list.push(e);
    }
    // A clash takes the full schema too (an API edit refuses clashes itself, first).
    if (!this.claimsFree(fresh, epoch)) return undefined;
    // The snat rules are few: the full schema, unless there are none.
    const none = o.snat === undefined || (Array.isArray(o.snat) && o.snat.length === 0);
    const snat = none ? [] : validateDesired({ snat: o.snat }, portNames).snat;
    return this.validated(snat, list, fresh, this.list.filter((e) => e.seen !== epoch));
  }

  /** No new service claims what another new one, or a running one still listed, claims. */
  private claimsFree(fresh: Entry[], epoch: number): boolean {
    const taken = new Set<string>();
    for (const e of fresh) {
      for (const k of e.claims) {
        if (taken.has(k) || this.claims.get(k)?.seen === epoch) return false;
        taken.add(k);
      }
    }
    return true;
  }

  private full(input: unknown, portNames: readonly string[]): Validated {
    const desired = validateDesired(decodedInput(input), portNames);
    const list = desired.services.map((c) => entry(c));
    return this.validated(desired.snat, list, list, this.list);
  }

  private validated(snat: Desired['snat'], list: Entry[], fresh: Entry[], removed: Entry[]): Validated {
    return {
      desired: desiredOf(list, snat),
      snatInput: snat.map((r) => plain(r)),
      list,
      fresh,
      removed,
    };
  }
}

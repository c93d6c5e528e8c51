// SPDX-License-Identifier: Apache-2.0
//
// The state file's journal: the changes saved since the state file was
// last written whole, one line each, appended beside it (STATE.journal).
// At 10,000 services x 8 dests the state file is 9 MB; writing it whole
// for each dest edit cost most of the edit (12-15 ms of 25) and wrote
// 9 MB to the disk per batch. A record holds what the batch changed:
// the services that are new or edited (whole, as the state file writes
// them), the names of those removed, the snat rules when they changed,
// and the order of the names when the replay would not make it.
//
// The first line names the generation of the state file it continues
// ({"format":"fulcrum-journal","version":1,"base":G}); a journal that
// continues another (left behind when a whole state file replaced its
// own) is not read. Only the last record can be torn (each is fsynced
// before the next is written, and before its change is answered): a last
// line without its newline, or that does not parse, is a change that was
// never answered, and is left out. A bad line before others is damage,
// and is refused like a bad state file.

import * as fs from 'node:fs';

import type { Input } from './desired';
import { pushJoined } from './parts';

const FORMAT = 'fulcrum-journal';
const VERSION = 1;

/** A batch's change of the services and snat rules, as a record holds it. */
export interface JournalChange {
  /** The services new or edited since the last record: their state-file JSON in UTF-8. */
  services: readonly Uint8Array[];
  /** Names of the services that are gone (not also among `services`). */
  removed: readonly string[];
  /** Every service's name in list order, when replaying the rest would not make that order. */
  order?: readonly string[];
  /** The snat rules (input form), when they changed. */
  snat?: readonly Input[];
}

/** Where the journal of `stateFile` lives. */
export function journalFile(stateFile: string): string {
  return `${stateFile}.journal`;
}

/** The journal's first line: it continues the state file of generation `base`. */
export function journalHeader(base: number): Buffer {
  return Buffer.from(`${JSON.stringify({ format: FORMAT, version: VERSION, base })}\n`);
}

const SERVICES_OPEN = Buffer.from(',"services":[');
const COMMA = Buffer.from(',');
const RECORD_CLOSE = Buffer.from(']}\n');

/** The record of `change` at `generation` as parts of one line (the services' bytes as they are). */
export function journalRecord(generation: number, change: JournalChange): Uint8Array[] {
  const { removed, order, snat } = change;
  const head = JSON.stringify({ generation, removed, order, snat }).slice(0, -1);
  const parts: Uint8Array[] = [Buffer.from(head), SERVICES_OPEN];
  pushJoined(parts, change.services, COMMA);
  parts.push(RECORD_CLOSE);
  return parts;
}

/** A state in input form, as the state file and the journal's records make it. */
export interface JournalState {
  generation: number;
  services: unknown[];
  snat: unknown;
}

/**
 * `base` (the state file's) with the records of the journal beside
 * `stateFile` replayed on it; base itself when there is no journal or it
 * continues another state file. Throws an Error naming the journal and
 * the line when it is damaged.
 */
export function replayJournal(stateFile: string, base: JournalState): JournalState {
  const file = journalFile(stateFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return base;
    throw new Error(`journal ${file}: cannot read: ${(err as Error).message}`);
  }
  const lines = whole(text);
  const problem = (i: number, what: string) => new Error(`journal ${file}: line ${i + 1}: ${what}`);
  // The header alone can be torn only when nothing follows it.
  const header = parsed(lines, 0, problem);
  if (header === undefined) return base;
  if (header.format !== FORMAT || header.version !== VERSION || !Number.isSafeInteger(header.base)) {
    throw problem(0, `not a ${FORMAT} version ${VERSION} header`);
  }
  if (header.base !== base.generation) return base;  // continues an older state file
  // Keyed by name, a state file that lists a name twice would lose one:
  // left as it is, the schema refuses it, naming both.
  if (new Set(base.services.map(nameOf)).size !== base.services.length) return base;
  const replay = new Replay(base);
  for (let i = 1; i < lines.length; i++) {
    const r = parsed(lines, i, problem);
    if (r === undefined) break;  // the torn last record
    const bad = replay.apply(r);
    if (bad !== undefined) throw problem(i, bad);
  }
  return replay.state();
}

/** The complete lines of text (those its newlines end); what follows the last newline is torn. */
function whole(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

/** Line i as an object; undefined when it is the last and does not parse (torn); throws when another does not. */
function parsed(lines: string[], i: number, problem: (i: number, what: string) => Error): Record<string, unknown> | undefined {
  if (i >= lines.length) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(lines[i]);
  } catch (err) {
    if (i === lines.length - 1) return undefined;
    throw problem(i, `not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw problem(i, 'not an object');
  return v as Record<string, unknown>;
}

const nameOf = (s: unknown, i: number): string => {
  const name = (s as Input | null)?.name;
  return typeof name === 'string' ? name : `\0unnamed ${i}`;  // the schema refuses it after the replay
};

/** A state as records change it: services by name, in list order (a Map keeps a replaced key's place). */
class Replay {
  private generation: number;
  private readonly services = new Map<string, unknown>();
  private snat: unknown;

  constructor(base: JournalState) {
    this.generation = base.generation;
    base.services.forEach((s, i) => this.services.set(nameOf(s, i), s));
    this.snat = base.snat;
  }

  /** Applies record r; what is wrong with it, if anything. */
  apply(r: Record<string, unknown>): string | undefined {
    const { generation, removed, services, order, snat } = r;
    if (!Number.isSafeInteger(generation) || (generation as number) <= this.generation) {
      return `generation ${String(generation)} does not follow ${this.generation}`;
    }
    if (!isStrings(removed) || !Array.isArray(services) || (order !== undefined && !isStrings(order))) {
      return 'removed, services and order must be lists (of names, services, names)';
    }
    for (const name of removed) this.services.delete(name);
    services.forEach((s, i) => this.services.set(nameOf(s, i), s));
    if (order !== undefined) {
      const bad = this.reorder(order);
      if (bad !== undefined) return bad;
    }
    if (snat !== undefined) this.snat = snat;
    this.generation = generation as number;
    return undefined;
  }

  private reorder(order: string[]): string | undefined {
    if (order.length !== this.services.size || order.some((n) => !this.services.has(n))) {
      return 'order does not name the services the record leaves';
    }
    const byName = new Map(this.services);
    this.services.clear();
    for (const n of order) this.services.set(n, byName.get(n));
    return this.services.size === byName.size ? undefined : 'order names a service twice';
  }

  state(): JournalState {
    return { generation: this.generation, services: [...this.services.values()], snat: this.snat };
  }
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

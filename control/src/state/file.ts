// SPDX-License-Identifier: Apache-2.0
//
// The state file: the last accepted desired state, so a restart restores
// exactly it. Written atomically (temporary file, fsync, rename, fsync of
// the directory): after a crash the file holds the old or the new state,
// never a mix. The temporary file can be written ahead (stageStateFile)
// and made the state file only once the state is known good. JSON with
// the config file's keys, so an operator can read it and `fulcrum apply
// -f` a copy of it.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

import { loadAddon } from '../dataplane/addon';
import { desiredInput, validateDesired, type Desired, type DesiredInput, type Input } from './desired';
import { StateError } from './errors';
import { journalFile, replayJournal } from './journal';
import { pushJoined } from './parts';

const FORMAT = 'fulcrum-state';
const VERSION = 1;

export interface SavedState {
  generation: number;
  desired: Desired;
}

/** A desired state as the file holds it: each service as its JSON text in UTF-8, the snat rules in input form. */
export interface StateBody {
  services: readonly Uint8Array[];
  snat: readonly Input[];
}

/** The body of an input form (callers that have the services' bytes pass those instead). */
function stateBody(input: DesiredInput): StateBody {
  return { services: input.services.map((s) => Buffer.from(JSON.stringify(s))), snat: input.snat };
}

/** A state file's next contents, on their way to the disk beside it (a temporary file). */
export interface StagedStateFile {
  /** How many bytes it writes. */
  readonly bytes: number;
  /** Makes them the state file (rename, fsync of the directory); rejects with StateError('unavailable') naming the file. */
  commit(): Promise<void>;
  /** Drops them: the state file stays as it was. Never rejects. */
  discard(): Promise<void>;
}

/**
 * Starts writing the state to a temporary file beside `file`, fsync
 * included, as one job off the event loop (the addon's writeFileDurable):
 * it goes on while the caller holds the event loop, as the store does
 * when it publishes the same state to the dataplane meanwhile. `body` is
 * state.desired's when the caller has it already (the store's cache
 * holds every service's bytes). The list of parts is made at once (a
 * later change cannot leak into it: parts are never written to). Control
 * thread; one staged state at a time per file, until it is committed or
 * discarded.
 */
export function stageStateFile(file: string, state: SavedState, body: StateBody = stateBody(desiredInput(state.desired))): StagedStateFile {
  const parts = stateParts(state.generation, body);
  const dir = path.dirname(file);
  const tmp = tempFile(file, process.pid);
  let written: Promise<void>;
  try {
    // Synchronous, a system call or two when the directory exists: a
    // promise here would put off the write until the event loop turns.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    written = loadAddon().writeFileDurable(tmp, parts);
  } catch (err) {
    written = Promise.reject(err);
  }
  written.catch(() => undefined);  // commit or discard answers it
  return {
    bytes: parts.reduce((n, p) => n + p.byteLength, 0),
    commit: async () => {
      try {
        await written;
        await fsp.rename(tmp, file);
        await syncDir(dir);
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => undefined);  // the error to report is err
        throw new StateError('unavailable', `cannot write state file ${file}: ${(err as Error).message}`);
      }
    },
    discard: async () => {
      await written.catch(() => undefined);  // the job may still be writing the file
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
    },
  };
}

/** Writes the state (stageStateFile, then commit). */
export function writeStateFile(file: string, state: SavedState, body?: StateBody): Promise<void> {
  return stageStateFile(file, state, body).commit();
}

// One service (or snat rule) per line: half the bytes of indented JSON at
// 80,000 dests, and still a file an operator reads, greps and diffs. The
// services' bytes are written as they are, one part each: a batch of dest
// edits at 10,000 services saves 9 MB, and joining it as text, then
// encoding that (or copying it into one buffer), cost more than the edits.
function stateParts(generation: number, body: StateBody): Uint8Array[] {
  const head = JSON.stringify({ format: FORMAT, version: VERSION, generation }).slice(0, -1);
  const parts: Uint8Array[] = [Buffer.from(`${head},\n"services": `)];
  listBytes(parts, body.services);
  parts.push(Buffer.from(',\n"snat": '));
  listBytes(parts, body.snat.map((r) => Buffer.from(JSON.stringify(r))));
  parts.push(Buffer.from('\n}\n'));
  return parts;
}

const COMMA_LINE = Buffer.from(',\n');

/** items as a JSON list, one per line, appended to parts. */
function listBytes(parts: Uint8Array[], items: readonly Uint8Array[]): void {
  if (items.length === 0) {
    parts.push(Buffer.from('[]'));
    return;
  }
  parts.push(Buffer.from('[\n'));
  pushJoined(parts, items, COMMA_LINE);
  parts.push(Buffer.from('\n]'));
}

function tempFile(file: string, pid: number | string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
}

/**
 * Removes the temporary files of saves cut short by a killed process (the
 * state file itself is whole then: the rename never happened). A file of
 * a process still alive is left alone: it may be saving right now.
 */
export function removeStaleTempFiles(file: string): void {
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;  // no directory yet: nothing was ever saved
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? Number(name.slice(prefix.length, -4)) : NaN;
    if (Number.isSafeInteger(pid) && pid > 0 && !alive(pid)) fs.rmSync(tempFile(file, pid), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes the directory's entries durable (a file renamed or created in it). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class StateFileError extends Error {
  constructor(file: string, problem: string) {
    super(`state file ${file}: ${problem} (fix it, or delete it to start from the config file's services)`);
    this.name = 'StateFileError';
  }
}

/**
 * The saved state (the state file, then its journal's records), or
 * undefined when there is no state file. Throws StateFileError when
 * either is unusable.
 */
export function readStateFile(file: string, portNames: readonly string[]): SavedState | undefined {
  removeStaleTempFiles(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateFileError(file, `cannot read: ${(err as Error).message}`);
    // A journal without its state file (deleted to start from the config
    // file) continues nothing; left, a new state file of its generation
    // would take its records.
    try {
      fs.rmSync(journalFile(file), { force: true });
    } catch (rmErr) {
      throw new StateFileError(file, `cannot remove the journal left without it: ${(rmErr as Error).message}`);
    }
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new StateFileError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || doc.format !== FORMAT || doc.version !== VERSION) {
    throw new StateFileError(file, `not a ${FORMAT} version ${VERSION} document`);
  }
  const generation = doc.generation;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) {
    throw new StateFileError(file, 'generation is not a whole number');
  }
  try {
    // The changes saved since the file was written whole (journal.ts).
    const base = { generation, services: doc.services as unknown[], snat: doc.snat };
    const state = Array.isArray(doc.services) ? replayJournal(file, base) : base;
    return { generation: state.generation, desired: validateDesired({ services: state.services, snat: state.snat }, portNames) };
  } catch (err) {
    throw new StateFileError(file, (err as Error).message);
  }
}

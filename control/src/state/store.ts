// SPDX-License-Identifier: Apache-2.0
//
// The desired-state store: the one place a change to services and snat
// rules goes through, whoever asks (gRPC, the CLI over gRPC, SIGHUP).
// A change is validated by the config schema, diffed against the running
// state, published to the dataplane as one snapshot (connections
// untouched), persisted to the state file and announced on the event bus,
// in that order; a failure at any step leaves everything as it was.
//
// Control thread only. Every method runs to completion synchronously, so
// two changes never interleave.

import type { FulcrumConfig } from '../config/schema';
import { events } from '../events';
import { timeStage } from '../metrics/apply';
import { desiredInput, type Desired, type DesiredInput } from './desired';
import { changeText, diffDesired, type Change } from './diff';
import { StateError } from './errors';
import { writeStateFile } from './file';
import { ServiceCache, type Validated } from './validated';

/** What the store drives: Dataplane.apply. */
export interface DataplaneSink {
  apply(cfg: FulcrumConfig): number;
}

export interface ApplyResult {
  changes: Change[];
  /** False for a dry run or when nothing differed. */
  applied: boolean;
  generation: number;
}

export class DesiredStateStore {
  private desired: Desired;
  private gen: number;
  private readonly cache: ServiceCache;

  /**
   * `base` is the running config (its services and snat are the initial
   * desired state: from the state file when there was one), `generation`
   * the state file's, 0 without one.
   */
  constructor(
    private base: FulcrumConfig,
    private readonly dp: DataplaneSink,
    private readonly stateFile: string,
    generation = 0,
  ) {
    this.desired = { services: base.services, snat: base.snat };
    this.gen = generation;
    this.cache = new ServiceCache(this.desired);
  }

  get generation(): number {
    return this.gen;
  }

  /** The running desired state (validated form). Do not modify it. */
  get current(): Desired {
    return this.desired;
  }

  /** The running desired state in input form, a copy the caller may edit. */
  input(): DesiredInput {
    return desiredInput(this.desired);
  }

  /**
   * A draft for an edit: the running input form, its service list a copy
   * but each service shared with the store until edits.findService copies
   * the one it edits (copying 80,000 dests for every change would make a
   * change cost the size of the state).
   */
  private draft(): DesiredInput {
    return this.cache.input(this.desired);
  }

  /** Replaces the whole desired state (input form) with `next`; dryRun only reports the difference. */
  apply(next: unknown, dryRun = false): ApplyResult {
    return this.commit(this.validate(next), dryRun);
  }

  /** Edits a copy of the input form with `edit` (which may throw StateError) and applies the result. */
  change(edit: (draft: DesiredInput) => void): ApplyResult {
    const draft = this.draft();
    edit(draft);
    return this.commit(this.validate(draft), false);
  }

  /**
   * SIGHUP: the config file read again becomes the running config (its
   * routes) and its services and snat rules the desired state. Published
   * even when only routes differ.
   */
  reload(next: FulcrumConfig): ApplyResult {
    const old = this.base;
    this.base = next;
    try {
      return this.commit(this.validate(desiredInput(next)), false, JSON.stringify(old) !== JSON.stringify(next));
    } catch (err) {
      this.base = old;
      throw err;
    }
  }

  private validate(input: unknown): Validated {
    return timeStage('validate', () => this.cache.validate(input, this.base.dataplane.ports.map((p) => p.name)));
  }

  private commit(v: Validated, dryRun: boolean, force = false): ApplyResult {
    const next = v.desired;
    // Unchanged services are the same objects in both forms, so the diff skips them at once.
    const changes = timeStage('diff', () => diffDesired(this.cache.input(this.desired), v.input));
    if (dryRun || (changes.length === 0 && !force)) return { changes, applied: false, generation: this.gen };
    this.publish(next);
    if (changes.length === 0) return { changes, applied: true, generation: this.gen };
    try {
      timeStage('state_file', () => writeStateFile(this.stateFile, { generation: this.gen + 1, desired: next }, v.input));
    } catch (err) {
      this.publish(this.desired);
      throw err;
    }
    this.desired = next;
    this.cache.replace(v);
    this.gen += 1;
    events.publish({ kind: 'config', generation: this.gen, changes: changes.map(changeText) });
    return { changes, applied: true, generation: this.gen };
  }

  private publish(d: Desired): void {
    try {
      this.dp.apply({ ...this.base, services: d.services, snat: d.snat });
    } catch (err) {
      throw new StateError('refused', (err as Error).message);
    }
  }
}

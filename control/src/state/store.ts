// SPDX-License-Identifier: Apache-2.0
//
// The desired-state store: the one place a change to services and snat
// rules goes through, whoever asks (gRPC, the CLI over gRPC, SIGHUP).
//
// A change is validated by the config schema and diffed against the
// latest state at once, synchronously, so its errors are its own and two
// changes never interleave. It then joins the open batch: at the end of
// the event-loop turn the batch is published to the dataplane as one
// snapshot (connections untouched), persisted with one fsync (a record of
// what it changed appended to the state file's journal, or the whole
// state file: saver.ts), and announced on the event bus, in that order,
// and only then is each of its changes answered. That is group commit: 1,000 changes a
// second from concurrent clients cost a few snapshots and fsyncs a
// second, not 1,000 of each, and the guarantee stays that an answered
// change is on disk. The disk work runs off the event loop (a whole
// state file is written to a temporary file while the snapshot is built
// and replaces the state file once the dataplane took the state; a
// journal record is appended once the dataplane took it): while
// one batch's save is in flight, new changes are validated and gather in
// the next batch, which goes when the save is done (one save at a time). A
// failure to publish or to save fails every change of the batch, and the
// changes gathered on top of it, and puts the last saved state back
// (dataplane included). Reads see a change as soon as it is validated, a
// moment before it is answered.
//
// Control thread only.

import type { FulcrumConfig } from '../config/schema';
import { events } from '../events';
import { secondsSince, timeStage } from '../metrics/apply';
import { desiredInput, plain, type Desired, type DesiredInput, type Input } from './desired';
import { changeText, diffServices, diffSnat, type Change } from './diff';
import { StateError } from './errors';
import type { StagedStateFile } from './file';
import { StateSaver } from './saver';
import { ServiceCache, serviceBytes, type Validated } from './validated';

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

interface Saved {
  base: FulcrumConfig;
  desired: Desired;
  gen: number;
  /** The cache's checkpoint of this state. */
  cache: number;
}

interface Batch {
  changes: { result: ApplyResult; resolve: (r: ApplyResult) => void; reject: (e: unknown) => void }[];
  /** Publish even without changes (a reload that changed only routes). */
  force: boolean;
  /** The latest state it holds: what is saved. */
  last: Validated;
}

export class DesiredStateStore {
  private desired: Desired;
  private gen: number;
  private readonly cache: ServiceCache;
  /** The last published and saved state: what a failed batch returns to. */
  private saved: Saved;
  private batch: Batch | undefined;
  /** The save in progress, if any: at most one at a time. */
  private saving: Promise<void> | undefined;
  private readonly saver: StateSaver;
  /** close() was called: changes are refused. */
  private closing = false;

  /**
   * `base` is the running config (its services and snat are the initial
   * desired state: from the state file when there was one), `generation`
   * the state file's, 0 without one.
   */
  constructor(
    private base: FulcrumConfig,
    private readonly dp: DataplaneSink,
    stateFile: string,
    generation = 0,
  ) {
    this.desired = { services: base.services, snat: base.snat };
    this.gen = generation;
    this.cache = new ServiceCache(this.desired);
    this.saved = this.snapshot();
    this.saver = new StateSaver(stateFile);
  }

  get generation(): number {
    return this.gen;
  }

  /** The latest desired state (validated form), answered or about to be. Do not modify it. */
  get current(): Desired {
    return this.desired;
  }

  /**
   * The service of current named `name`, from the service cache's index
   * of claims, which each commit and its undoing change in place: a search
   * of 10,000 services was most of what a GetService or a dest edit cost
   * the event loop.
   */
  service(name: string): Desired['services'][number] | undefined {
    return this.cache.service(name);
  }

  /** The running desired state in input form, a copy the caller may edit. */
  input(): DesiredInput {
    return desiredInput(this.desired);
  }

  /** Resolves once no change is waiting for its batch and no save is in flight. */
  async settled(): Promise<void> {
    while (this.saving !== undefined || this.batch !== undefined) {
      await (this.saving ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  /**
   * At a stop, once no more changes come: waits for those in flight, then
   * writes the journal's records into the state file, so that a stopped
   * balancer's state file alone holds its state (saver.ts). Changes
   * (a SIGHUP's too) are refused from now on. Rejects with
   * StateError('unavailable') when it cannot; the journal then still
   * holds them, and the next start reads both.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.settled();
    const state = { generation: this.gen, desired: this.desired };
    await this.saver.fold(state, () => ({ services: this.cache.bytes(), snat: this.desired.snat.map((r) => plain(r)) }));
  }

  /** Replaces the whole desired state (input form) with `next`; dryRun only reports the difference. */
  apply(next: unknown, dryRun = false): Promise<ApplyResult> {
    return this.commit(this.validate(next), dryRun);
  }

  /** Edits a draft of the input form with `edit` (which may throw StateError) and applies the result. */
  change(edit: (draft: DesiredInput) => void): Promise<ApplyResult> {
    const draft = this.cache.input(this.desired.snat);
    edit(draft);
    return this.commit(this.validate(draft), false);
  }

  /**
   * Edits a copy of the named service's input form with `edit` (which may
   * throw StateError) and applies the result: change() for one service,
   * costing what the service is rather than what the state is. A result
   * the service cache cannot vouch for alone (invalid, or clashing with
   * another service) goes through change(), which words the refusal.
   */
  changeService(name: string, edit: (svc: Input) => void): Promise<ApplyResult> {
    const running = this.cache.serviceInput(name);
    if (running === undefined) throw new StateError('not_found', `no service named '${name}'`);
    const svc = plain(running);
    edit(svc);
    const v = timeStage('validate', () => this.cache.replaceOne(name, svc, this.desired.snat));
    if (v !== undefined) return this.commit(v, false);
    return this.change((d) => {
      d.services[d.services.findIndex((s) => s.name === name)] = svc;
    });
  }

  /**
   * SIGHUP: the config file read again becomes the running config (its
   * routes) and its services and snat rules the desired state. Published
   * even when only routes differ.
   */
  reload(next: FulcrumConfig): Promise<ApplyResult> {
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

  /** Synchronous up to joining the batch; throws the validation's StateError itself. */
  private commit(v: Validated, dryRun: boolean, force = false): Promise<ApplyResult> {
    // Only the services that left and those that came are compared: the rest are the same entries.
    const changes = timeStage('diff', () => [
      ...diffServices(v.removed.map((e) => e.input), v.fresh.map((e) => e.input)),
      ...diffSnat(this.desired.snat.map((r) => plain(r)), v.snatInput),
    ]);
    if (dryRun || (changes.length === 0 && !force)) return Promise.resolve({ changes, applied: false, generation: this.gen });
    // close() folds the journal into the state file: no save may run beside it.
    if (this.closing) throw new StateError('unavailable', 'the balancer is stopping: changes are no longer taken');
    if (changes.length > 0) {
      this.desired = v.desired;
      this.cache.replace(v);
      this.gen += 1;
    }
    const result = { changes, applied: true, generation: this.gen };
    const batch = this.openBatch(v);
    batch.force ||= force;
    batch.last = v;
    return new Promise((resolve, reject) => batch.changes.push({ result, resolve, reject }));
  }

  private openBatch(v: Validated): Batch {
    if (this.batch === undefined) {
      this.batch = { changes: [], force: false, last: v };
      // While a save is on its way to the disk the batch keeps growing; it flushes when the save is done.
      if (this.saving === undefined) setImmediate(() => this.flush());
    }
    return this.batch;
  }

  /**
   * Publishes the batch and saves it, then answers its changes. The save
   * is staged first: a whole state file's disk work (one job off the
   * event loop) goes on while the publication holds the event loop, and
   * the new file takes the old one's place only once the dataplane took
   * the state; a journal record is appended only then.
   */
  private flush(): void {
    const batch = this.batch as Batch;
    this.batch = undefined;
    const next = this.snapshot();
    const started = process.hrtime.bigint();
    const staged = next.gen === this.saved.gen ? undefined : this.stage(next, batch.last);
    const staging = secondsSince(started);  // the file's text: part of the state_file stage
    let done: Promise<void>;
    try {
      this.publish(this.desired);
      const saved = staged === undefined ? Promise.resolve() : timeStage('state_file', () => staged.commit(), staging);
      done = saved.then(
        () => this.answer(batch, next),
        (err: unknown) => this.fail(batch, err),
      );
    } catch (err) {
      // The discard first: the next save must wait for it, whatever fail() does.
      done = staged?.discard() ?? Promise.resolve();
      this.fail(batch, err);
    }
    this.saving = done.finally(() => {
      this.saving = undefined;
      if (this.batch !== undefined) setImmediate(() => this.flush());
    });
  }

  /** The save of `next` (v its validation): a journal record of what changed since the last save, or the whole state file. */
  private stage(next: Saved, v: Validated): StagedStateFile {
    const state = { generation: next.gen, desired: next.desired };
    const snatChanged = () => JSON.stringify(next.desired.snat) !== JSON.stringify(this.saved.desired.snat);
    return this.saver.stage(
      state,
      () => ({ services: serviceBytes(v), snat: v.snatInput }),
      () => ({ ...this.cache.changeSince(this.saved.cache), snat: snatChanged() ? v.snatInput : undefined }),
    );
  }

  private answer(batch: Batch, saved: Saved): void {
    this.saved = saved;
    this.cache.forget(saved.cache);
    for (const c of batch.changes) {
      if (c.result.changes.length > 0) {
        events.publish({ kind: 'config', generation: c.result.generation, changes: c.result.changes.map(changeText) });
      }
      c.resolve(c.result);
    }
  }

  /**
   * The batch failed: the saved state goes back, dataplane included. The
   * changes accepted meanwhile were validated on top of the failed batch,
   * so they fail with it.
   */
  private fail(batch: Batch, err: unknown): void {
    const later = this.batch?.changes ?? [];
    this.batch = undefined;
    this.restore();
    for (const c of [...batch.changes, ...later]) c.reject(err);
  }

  private snapshot(): Saved {
    return { base: this.base, desired: this.desired, gen: this.gen, cache: this.cache.save() };
  }

  // The dataplane may run a state of the failed batch: put the saved one back.
  private restore(): void {
    ({ base: this.base, desired: this.desired, gen: this.gen } = this.saved);
    this.cache.restore(this.saved.cache);
    try {
      this.publish(this.desired);
    } catch (err) {
      process.stderr.write(`fulcrum: cannot put the saved state back in the dataplane: ${(err as Error).message}\n`);
    }
  }

  private publish(d: Desired): void {
    try {
      this.dp.apply({ ...this.base, services: d.services, snat: d.snat });
    } catch (err) {
      throw new StateError('refused', (err as Error).message);
    }
  }
}

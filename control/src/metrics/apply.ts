// SPDX-License-Identifier: Apache-2.0
//
// Where a desired-state change spends its time: the store and the
// dataplane time each stage of a commit (validate, diff, spec, snapshot
// build, publish, state file) into one histogram, so a slow Apply at scale
// shows which stage to blame (bench/control reads it). Like the request
// histogram it exists before any registry, so the state code needs only
// this import.

import { Histogram, type Registry } from 'prom-client';

export type ApplyStage = 'validate' | 'diff' | 'spec' | 'snapshot_build' | 'publish' | 'state_file';

const stageDuration = new Histogram({
  name: 'fulcrum_control_apply_stage_seconds',
  help: 'Time a desired-state change spends in each stage: validate, diff, spec (ids and the engine spec), snapshot_build (C++), publish, state_file (the save: a journal record made and appended after publish, or the whole state file: its text made, and what it waits for the disk after publish, the write running during spec and snapshot_build)',
  labelNames: ['stage'],
  buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers: [],
});

export function observeApplyStage(stage: ApplyStage, seconds: number): void {
  stageDuration.observe({ stage }, seconds);
}

/**
 * Runs fn and records its duration as `stage`, also when it throws; a
 * promise fn returns is timed until it settles (the state file's commit).
 * `before`: seconds the stage spent earlier, recorded with fn's as one.
 */
export function timeStage<T>(stage: ApplyStage, fn: () => T, before = 0): T {
  const started = process.hrtime.bigint();
  const done = () => observeApplyStage(stage, before + secondsSince(started));
  let result: T;
  try {
    result = fn();
  } catch (err) {
    done();
    throw err;
  }
  if (result instanceof Promise) return result.finally(done) as T;
  done();
  return result;
}

/** Seconds since `started`, a process.hrtime.bigint(). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function registerApplyMetrics(registry: Registry): void {
  registry.registerMetric(stageDuration);
}

// SPDX-License-Identifier: Apache-2.0
//
// Durations in the config: "500ms", "2s", "5m", "1h" or a bare number of
// seconds (YAML `interval: 2`). Everything downstream works in milliseconds.

import { leaf, show, type Leaf } from './leaves';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/;
const HINT = 'write e.g. 500ms, 2s, 5m, 1h, or a number of seconds';

/** Parses a duration to whole milliseconds; throws an Error on bad input. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${value} is not a duration (${HINT})`);
    return Math.round(value * 1000);
  }
  const m = DURATION.exec(value.trim());
  if (!m) throw new Error(`'${value}' is not a duration (${HINT})`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']);
}

/** Milliseconds in the largest unit that divides them exactly ("5m", "1500ms"). */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's']) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration field, parsed to milliseconds and bounded to [minMs, maxMs]. */
export function duration(minMs: number, maxMs: number): Leaf<number> {
  return leaf((value) => durationProblem(value, minMs, maxMs), (value) => parseDuration(value as string | number));
}

function durationProblem(value: unknown, minMs: number, maxMs: number): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return `expected a duration (${HINT}), got ${show(value)}`;
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    return (err as Error).message;
  }
  if (ms < minMs || ms > maxMs) {
    return `must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, got ${show(value)}`;
  }
  return undefined;
}

// SPDX-License-Identifier: Apache-2.0
//
// Checks in flight against the process's open-file limit. Every check
// holds a socket while it runs, so control.health.max_in_flight above
// what the limit leaves would run the process out of file descriptors
// at the fleet's first round of checks: the checks would end
// inconclusive (EMFILE) and, worse, the API's state-file writes would
// fail with them. So the limiter gets the lower of the two, and the
// operator a line that says why and what to raise.

import { readFileSync } from 'node:fs';

/** Open files kept for everything but checks: API connections, the state file, /metrics, DPDK's own. */
export const RESERVED_FILES = 256;

/** The soft limit on open files in a /proc/<pid>/limits text; undefined when unlimited or not found. */
export function openFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limitsText);
  if (m === null || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isInteger(n) ? n : undefined;
}

/** This process's open-file limit (undefined where /proc says nothing). */
export function ownOpenFileLimit(): number | undefined {
  try {
    return openFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The checks that may run at once: `configured`, or fewer when the
 * open-file limit leaves fewer (with the line to log about it).
 */
export function checkPlaces(configured: number, fileLimit: number | undefined): { places: number; note?: string } {
  if (fileLimit === undefined || configured + RESERVED_FILES <= fileLimit) return { places: configured };
  const places = Math.max(1, fileLimit - RESERVED_FILES);
  const note =
    `fulcrum: health: control.health.max_in_flight ${configured} is more than the open-file limit ` +
    `(${fileLimit}, ${RESERVED_FILES} kept for the API, the state file and metrics) allows: ` +
    `at most ${places} checks run at once; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n)`;
  return { places, note };
}

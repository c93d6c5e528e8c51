// SPDX-License-Identifier: Apache-2.0
//
// What every checker takes and returns, and how errors become reasons.

export interface CheckTarget {
  address: string;
  port: number;
}

export interface CheckResult {
  ok: boolean;
  /** What happened, for logs and events ("connected", "HTTP 503, expected 200", "timed out after 1000 ms"). */
  reason: string;
  /** The check could not run on this host (it ran out of file descriptors, say): it says nothing of the dest. */
  inconclusive?: true;
}

const ERROR_NAMES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'no source address or port to check from (EADDRNOTAVAIL)',
  EMFILE: 'too many open files (EMFILE)',
  ENFILE: 'too many open files on the host (ENFILE)',
  ENOBUFS: 'no buffer space (ENOBUFS)',
  ENOMEM: 'out of memory (ENOMEM)',
};

// The host's own shortages, not the dest's doing: a balancer out of file
// descriptors would otherwise take every dest out at once. EADDRNOTAVAIL
// is the host's too: its ephemeral ports ran out, or `source` names an
// address it does not have; either way no packet left for the dest.
const HOST_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']);

/** The result of a check its deadline cut off. */
export function timedOut(timeoutMs: number): CheckResult {
  return { ok: false, reason: `timed out after ${timeoutMs} ms` };
}

/** The result of a check that failed with err: inconclusive when the host caused it. */
export function failedCheck(err: unknown): CheckResult {
  const e = err as NodeJS.ErrnoException;
  const reason = (e.code !== undefined ? ERROR_NAMES[e.code] : undefined) ?? e.message;
  return e.code !== undefined && HOST_ERRORS.has(e.code) ? { ok: false, reason: `not checked: ${reason}`, inconclusive: true } : { ok: false, reason };
}

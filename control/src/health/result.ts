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
}

const ERROR_NAMES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'source address not on this host',
  ABORT_ERR: 'timed out',
};

/** A short reason for a failed check's error; `timeoutMs` names the limit when the check was cut off. */
export function failureReason(err: unknown, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException;
  const name = (e.code && ERROR_NAMES[e.code]) ?? (e.name === 'AbortError' ? 'timed out' : e.message);
  return name === 'timed out' ? `timed out after ${timeoutMs} ms` : name;
}

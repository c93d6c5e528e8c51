// SPDX-License-Identifier: Apache-2.0
//
// One health check of one dest, bounded by the check's timeout. Each type
// is a small function in its own file (tcp.ts, http.ts, udp.ts) listed in
// one registry here. A checker must settle promptly once its signal
// aborts (the timeout); runCheck turns whatever happens into a result and
// never throws, so a broken server can never break the scheduler.

import type { HealthCheckConfig, HealthCheckType } from '../config/schema';
import { httpCheck } from './http';
import { failedCheck, type CheckResult, type CheckTarget } from './result';
import { tcpCheck } from './tcp';
import { udpCheck } from './udp';

export type { CheckResult, CheckTarget } from './result';

export type Checker = (target: CheckTarget, hc: HealthCheckConfig, signal: AbortSignal) => Promise<CheckResult>;

const CHECKERS: Record<HealthCheckType, Checker> = {
  tcp: tcpCheck,
  http: httpCheck,
  https: httpCheck,
  udp: udpCheck,
};

/**
 * Runs one check of target; resolves within about hc.timeout. The timeout
 * aborts only after the I/O that came in before it has been read: timers
 * run before I/O in each turn of the event loop, so after the control
 * thread was held up (a large Apply, a scrape at 80,000 dests) a check
 * whose answer came in time would otherwise fail with its timeout, and a
 * busy balancer would take healthy dests out. Event loop only.
 */
export async function runCheck(target: CheckTarget, hc: HealthCheckConfig): Promise<CheckResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => setImmediate(() => controller.abort()), hc.timeout);
  try {
    return await CHECKERS[hc.type](target, hc, controller.signal);
  } catch (err) {
    return failedCheck(err, hc.timeout);
  } finally {
    clearTimeout(timer);
  }
}

// SPDX-License-Identifier: Apache-2.0
//
// One health check of one dest, bounded by the check's timeout. Each type
// is a small function in its own file (tcp.ts, http.ts, udp.ts) listed in
// one registry here. A checker must settle promptly once its deadline
// expires (deadline.ts); runCheck turns whatever happens into a result and
// never throws, so a broken server can never break the scheduler.

import type { HealthCheckConfig, HealthCheckType } from '../config/schema';
import { Deadline } from './deadline';
import { httpCheck } from './http';
import { failedCheck, type CheckResult, type CheckTarget } from './result';
import { tcpCheck } from './tcp';
import { udpCheck } from './udp';

export type { CheckResult, CheckTarget } from './result';

export type Checker = (target: CheckTarget, hc: HealthCheckConfig, deadline: Deadline) => Promise<CheckResult>;

const CHECKERS: Record<HealthCheckType, Checker> = {
  tcp: tcpCheck,
  http: httpCheck,
  https: httpCheck,
  udp: udpCheck,
};

/** Runs one check of target; resolves within about hc.timeout. Event loop only. */
export async function runCheck(target: CheckTarget, hc: HealthCheckConfig): Promise<CheckResult> {
  const deadline = new Deadline(hc.timeout);
  try {
    return await CHECKERS[hc.type](target, hc, deadline);
  } catch (err) {
    return failedCheck(err);
  } finally {
    deadline.end();
  }
}

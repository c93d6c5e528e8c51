// SPDX-License-Identifier: Apache-2.0
//
// HTTP(S) check: a GET of hc.path must answer hc.expect_status. Each
// check opens its own connection (no keep-alive: a pooled connection
// would hide a server that stopped accepting). HTTPS does not verify the
// certificate: real servers behind a balancer commonly use self-signed
// or VIP-named ones, and the check asks whether the server answers, not
// who it is.

import * as http from 'node:http';
import * as https from 'node:https';
import type { HealthCheckConfig } from '../config/schema';
import type { Deadline } from './deadline';
import { failedCheck, timedOut, type CheckResult, type CheckTarget } from './result';

export function httpCheck(target: CheckTarget, hc: HealthCheckConfig, deadline: Deadline): Promise<CheckResult> {
  const options: https.RequestOptions = {
    host: target.address,
    port: target.port,
    localAddress: hc.source,
    path: hc.path,
    agent: false,
    headers: { Connection: 'close', 'User-Agent': 'fulcrum-health-check' },
    ...(hc.type === 'https' ? { rejectUnauthorized: false } : {}),
  };
  const get = hc.type === 'https' ? https.get : http.get;
  return new Promise((resolve) => {
    const req = get(options, (res) => {
      // The status is all we need: drop the connection, and whatever it
      // reports afterwards (an aborted body) with it.
      res.on('error', () => undefined);
      req.destroy();
      const status = res.statusCode ?? 0;
      if (status === hc.expect_status) resolve({ ok: true, reason: `HTTP ${status}` });
      else resolve({ ok: false, reason: `HTTP ${status}, expected ${hc.expect_status}` });
    });
    // on, not once: a late second error must not become an uncaught one.
    req.on('error', (err) => {
      req.destroy();
      resolve(failedCheck(err));
    });
    // Settled first: the destroy's own error comes after and changes nothing.
    deadline.onExpire(() => {
      resolve(timedOut(hc.timeout));
      req.destroy();
    });
  });
}

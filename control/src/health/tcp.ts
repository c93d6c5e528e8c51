// SPDX-License-Identifier: Apache-2.0
//
// TCP check: healthy when a connection opens (the dest's kernel answered
// SYN with SYN-ACK and something listens); closed again at once.

import * as net from 'node:net';
import type { HealthCheckConfig } from '../config/schema';
import type { Deadline } from './deadline';
import { failedCheck, timedOut, type CheckResult, type CheckTarget } from './result';

export function tcpCheck(target: CheckTarget, hc: HealthCheckConfig, deadline: Deadline): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.address, port: target.port, localAddress: hc.source });
    const settle = (result: CheckResult) => {
      resolve(result);
      socket.destroy();
    };
    socket.once('connect', () => settle({ ok: true, reason: 'connected' }));
    // on, not once: an error after the first must not become an uncaught one.
    socket.on('error', (err) => settle(failedCheck(err)));
    deadline.onExpire(() => settle(timedOut(hc.timeout)));
  });
}

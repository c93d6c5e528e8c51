// SPDX-License-Identifier: Apache-2.0
//
// TCP check: healthy when a connection opens (the dest's kernel answered
// SYN with SYN-ACK and something listens); closed again at once.

import * as net from 'node:net';
import type { HealthCheckConfig } from '../config/schema';
import { failedCheck, type CheckResult, type CheckTarget } from './result';

export function tcpCheck(target: CheckTarget, hc: HealthCheckConfig, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.address, port: target.port, localAddress: hc.source, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, reason: 'connected' });
    });
    socket.on('error', (err) => {
      socket.destroy();
      resolve(failedCheck(err, hc.timeout));
    });
  });
}

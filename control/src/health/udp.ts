// SPDX-License-Identifier: Apache-2.0
//
// UDP check: hc.send (or an empty datagram) goes to the dest from a
// connected socket. With hc.expect, a reply containing it within the
// timeout is healthy and anything else is not. Without it, UDP gives no
// positive answer: the dest counts as healthy unless an ICMP error (port
// unreachable: nothing listens) arrives before the timeout, as
// keepalived's UDP_CHECK does; such a check always takes the full timeout.

import * as dgram from 'node:dgram';
import type { HealthCheckConfig } from '../config/schema';
import type { Deadline } from './deadline';
import { failedCheck, timedOut, type CheckResult, type CheckTarget } from './result';

export function udpCheck(target: CheckTarget, hc: HealthCheckConfig, deadline: Deadline): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    let settled = false;
    const done = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      socket.close();
      resolve(result);
    };
    deadline.onExpire(() => done(hc.expect === undefined ? { ok: true, reason: 'no ICMP error' } : timedOut(hc.timeout)));
    socket.on('error', (err) => done(failedCheck(err)));
    socket.on('message', (msg) => {
      if (hc.expect === undefined) return;
      const ok = msg.toString().includes(hc.expect);
      done(ok ? { ok, reason: 'expected reply' } : { ok, reason: `reply without '${hc.expect}'` });
    });
    const send = () => socket.connect(target.port, target.address, () => socket.send(hc.send ?? ''));
    if (hc.source === undefined) send();
    else socket.bind(0, hc.source, send);
  });
}

// SPDX-License-Identifier: Apache-2.0
//
// HTTP(S) check: a GET of hc.path must answer hc.expect_status. Each
// check opens its own connection (no keep-alive: a pooled connection
// would hide a server that stopped accepting). HTTPS does not verify the
// certificate: real servers behind a balancer commonly use self-signed
// or VIP-named ones, and the check asks whether the server answers, not
// who it is.
//
// The request is written and the status line read on the socket itself,
// not through node:http: the status is all a check needs, and node:http's
// request, parser and response objects made an HTTP check cost twice a
// TCP check (bench/control-health: 7,300-8,000 against 13,000-14,000
// checks a second at 80,000 dests).

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { HealthCheckConfig } from '../config/schema';
import { show } from '../config/leaves';
import type { Deadline } from './deadline';
import { failedCheck, timedOut, type CheckResult, type CheckTarget } from './result';

/** A status line longer than this is not one. */
const MAX_STATUS_LINE = 1024;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: |\r?$)/;

export function httpCheck(target: CheckTarget, hc: HealthCheckConfig, deadline: Deadline): Promise<CheckResult> {
  return new Promise((resolve) => {
    const options = { host: target.address, port: target.port, localAddress: hc.source };
    const secure = hc.type === 'https';
    const socket = secure ? tls.connect({ ...options, rejectUnauthorized: false }) : net.connect(options);
    const settle = (result: CheckResult) => {
      resolve(result);
      socket.destroy();
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request(target, hc)));
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const eol = head.indexOf('\n');
      if (eol < 0 && head.length < MAX_STATUS_LINE) return;
      settle(statusResult(eol < 0 ? head : head.slice(0, eol), hc.expect_status));
    });
    socket.once('end', () => settle({ ok: false, reason: 'connection closed before an HTTP status line' }));
    // on, not once: an error after the first must not become an uncaught one.
    socket.on('error', (err) => settle(failedCheck(err)));
    deadline.onExpire(() => settle(timedOut(hc.timeout)));
  });
}

/** The GET, with the Host header node:http would send (the port unless the scheme's own). */
function request(target: CheckTarget, hc: HealthCheckConfig): string {
  const standard = hc.type === 'https' ? 443 : 80;
  const host = target.port === standard ? target.address : `${target.address}:${target.port}`;
  return `GET ${hc.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: fulcrum-health-check\r\nConnection: close\r\n\r\n`;
}

function statusResult(line: string, expected: number): CheckResult {
  const m = STATUS_LINE.exec(line);
  if (m === null) return { ok: false, reason: `not an HTTP response: ${show(line.trimEnd())}` };
  const status = Number(m[1]);
  if (status === expected) return { ok: true, reason: `HTTP ${status}` };
  return { ok: false, reason: `HTTP ${status}, expected ${expected}` };
}

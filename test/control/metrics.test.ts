// SPDX-License-Identifier: Apache-2.0
//
// The metrics plumbing on its own: families read at scrape time, the
// request-latency histogram the gRPC server feeds, and the HTTP endpoint.
// (Values from a running dataplane: test/e2e/metrics.test.ts.)

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { test } from 'node:test';
import { Registry } from 'prom-client';

import { counterFamily, gaugeFamily, type Sample } from '../../control/src/metrics/family';
import { observeRequest, registerRequestMetrics } from '../../control/src/metrics/requests';
import { parseListen, startMetricsServer } from '../../control/src/metrics/server';

test('families read their values at each scrape; series that went away disappear', async () => {
  const registry = new Registry();
  let samples: Sample[] = [[{ dest: 'a' }, 5n], [{ dest: 'b' }, 7]];
  counterFamily(registry, { name: 'fulcrum_test_total', help: 'h', labelNames: ['dest'], read: () => samples });
  gaugeFamily(registry, { name: 'fulcrum_test', help: 'h', labelNames: ['dest'], read: () => samples });
  let text = await registry.metrics();
  assert.match(text, /^fulcrum_test_total\{dest="a"\} 5$/m);
  assert.match(text, /^fulcrum_test\{dest="b"\} 7$/m);
  assert.match(text, /# TYPE fulcrum_test_total counter/);
  samples = [[{ dest: 'a' }, 9n]];
  text = await registry.metrics();
  assert.match(text, /^fulcrum_test_total\{dest="a"\} 9$/m);
  assert.doesNotMatch(text, /dest="b"/);
});

test('observeRequest feeds fulcrum_control_request_duration_seconds', async () => {
  const registry = new Registry();
  registerRequestMetrics(registry);
  observeRequest('CreateService', 0.003, 'OK');
  observeRequest('CreateService', 0.2, 'INVALID_ARGUMENT');
  const text = await registry.metrics();
  assert.match(text, /^fulcrum_control_request_duration_seconds_bucket\{le="0.005",method="CreateService",code="OK"\} 1$/m);
  assert.match(text, /^fulcrum_control_request_duration_seconds_count\{method="CreateService",code="INVALID_ARGUMENT"\} 1$/m);
});

test('the endpoint serves /metrics, 404 elsewhere, and names the address it cannot bind', async () => {
  const registry = new Registry();
  gaugeFamily(registry, { name: 'fulcrum_up', help: 'h', labelNames: [], read: () => [[{}, 1]] });
  const server = await startMetricsServer(registry, '127.0.0.1:0');
  const { port } = server.address() as AddressInfo;
  try {
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/plain; version=0.0.4/);
    assert.match(await ok.text(), /^fulcrum_up 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    await assert.rejects(startMetricsServer(registry, `127.0.0.1:${port}`), /metrics: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  assert.ok(net.isIP(parseListen('[::1]:9650').host) === 6);
  assert.deepEqual(parseListen('0.0.0.0:9650'), { host: '0.0.0.0', port: 9650 });
});

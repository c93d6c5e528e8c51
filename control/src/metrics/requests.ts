// SPDX-License-Identifier: Apache-2.0
//
// Control-plane request latency. The gRPC server calls observeRequest()
// once per finished call; the histogram lives here, before any registry
// exists, so the API code needs nothing but this import.

import { Histogram, type Registry } from 'prom-client';

const requestDuration = new Histogram({
  name: 'fulcrum_control_request_duration_seconds',
  help: 'Time to serve a control-plane (gRPC) request, by method and status code',
  labelNames: ['method', 'code'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [],
});

/** Records one served request: method ("CreateService"), seconds taken, status code name ("OK"). Any thread of the event loop. */
export function observeRequest(method: string, seconds: number, code: string): void {
  requestDuration.observe({ method, code }, seconds);
}

export function registerRequestMetrics(registry: Registry): void {
  registry.registerMetric(requestDuration);
}

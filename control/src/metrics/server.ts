// SPDX-License-Identifier: Apache-2.0
//
// The Prometheus endpoint: GET /metrics on control.metrics.listen, with
// every fulcrum_* family. Values are read from the dataplane's shared
// counters and the health manager while the scrape is served (each
// family's collect()), so nothing runs between scrapes.

import * as http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Dataplane } from '../dataplane/dataplane';
import type { HealthManager } from '../health/manager';
import { registerApplyMetrics } from './apply';
import { registerHealthMetrics } from './health';
import { registerPoolMetrics } from './pools';
import { registerRequestMetrics } from './requests';
import { registerServiceMetrics } from './services';
import { registerWorkerMetrics } from './workers';

/** The registry with every Fulcrum family; perDest is control.metrics.per_dest. */
export function buildRegistry(dp: Dataplane, health: HealthManager, perDest = true): Registry {
  const registry = new Registry();
  registerWorkerMetrics(registry, dp);
  registerServiceMetrics(registry, dp, perDest);
  registerPoolMetrics(registry, dp);
  registerHealthMetrics(registry, health);
  registerRequestMetrics(registry);
  registerApplyMetrics(registry);
  // The Node process: CPU, memory, event-loop delay (a blocked control thread shows here).
  collectDefaultMetrics({ register: registry, prefix: 'fulcrum_control_' });
  return registry;
}

/** Splits "host:port" or "[v6]:port". */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

/** Serves GET /metrics; resolves once listening, rejects naming the address if it cannot. */
export function startMetricsServer(registry: Registry, listen: string): Promise<http.Server> {
  const server = http.createServer((req, res) => void serve(registry, req, res));
  const { host, port } = parseListen(listen);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics: cannot listen on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

async function serve(registry: Registry, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = (req.url ?? '').split('?')[0];
  if (url !== '/metrics') return reply(res, 404, 'text/plain', 'not found: metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'GET /metrics\n');
  try {
    reply(res, 200, registry.contentType, await registry.metrics());
  } catch (err) {
    reply(res, 500, 'text/plain', `metrics: ${(err as Error).message}\n`);
  }
}

function reply(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

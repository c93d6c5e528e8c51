// SPDX-License-Identifier: Apache-2.0
//
// The Prometheus endpoint: GET /metrics on control.metrics.listen, with
// every fulcrum_* family. Values are read from the dataplane's shared
// counters and the health manager while the scrape is served (each
// family's collect()), so nothing runs between scrapes. The per-service
// and per-dest families, most of a scrape at scale, are written in slices
// (table.ts), and the event loop runs between slices: a scrape of 770,000
// series does not hold up the gRPC API.

import * as http from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Dataplane } from '../dataplane/dataplane';
import type { HealthManager } from '../health/manager';
import { registerApplyMetrics } from './apply';
import { registerHealthMetrics } from './health';
import { registerPoolMetrics } from './pools';
import { registerRequestMetrics } from './requests';
import { serviceMetrics } from './services';
import { registerWorkerMetrics } from './workers';

/** What a scrape serves: prom-client's families, then text made in slices (table.ts). */
export interface Exposition {
  registry: Registry;
  slices: (() => Iterable<string>)[];
}

/** Every Fulcrum family; perDest is control.metrics.per_dest. */
export function buildExposition(dp: Dataplane, health: HealthManager, perDest = true): Exposition {
  const registry = new Registry();
  registerWorkerMetrics(registry, dp);
  registerPoolMetrics(registry, dp);
  registerHealthMetrics(registry, health);
  registerRequestMetrics(registry);
  registerApplyMetrics(registry);
  // The Node process: CPU, memory, event-loop delay (a blocked control thread shows here).
  collectDefaultMetrics({ register: registry, prefix: 'fulcrum_control_' });
  return { registry, slices: [serviceMetrics(dp, perDest)] };
}

/** Splits "host:port" or "[v6]:port". */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

/** Serves GET /metrics; resolves once listening, rejects naming the address if it cannot. */
export function startMetricsServer(exposition: Exposition, listen: string): Promise<http.Server> {
  const server = http.createServer((req, res) => void serve(exposition, req, res));
  const { host, port } = parseListen(listen);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics: cannot listen on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

async function serve(exp: Exposition, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = (req.url ?? '').split('?')[0];
  if (url !== '/metrics') return reply(res, 404, 'text/plain', 'not found: metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'GET /metrics\n');
  let head: string;
  try {
    head = await exp.registry.metrics();
  } catch (err) {
    return reply(res, 500, 'text/plain', `metrics: ${(err as Error).message}\n`);
  }
  res.writeHead(200, { 'Content-Type': exp.registry.contentType });
  if (req.method === 'HEAD') return void res.end();
  try {
    await send(res, head);
    for (const source of exp.slices) {
      for (const slice of source()) {
        if (res.destroyed) return;
        await send(res, slice);
      }
    }
    res.end();
  } catch (err) {
    // The status line is out: a body cut short is how the scraper learns.
    res.destroy(err as Error);
  }
}

/**
 * Writes text, waits for a slow reader to take what is buffered, then lets
 * the event loop turn once (a drain can come within the same turn).
 */
async function send(res: http.ServerResponse, text: string): Promise<void> {
  if (!res.write(text)) {
    await new Promise<void>((resolve) => {
      const done = () => (res.off('drain', done), res.off('close', done), resolve());
      res.on('drain', done);
      res.on('close', done);
    });
  }
  await nextTurn();
}

function reply(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

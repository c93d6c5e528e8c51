// SPDX-License-Identifier: Apache-2.0
//
// Pool gauges: what each worker holds and how much it may hold. Today
// that is the connection pool (connections and persistence templates come
// from one per-worker mempool of dataplane.max_conns objects). Its use is
// the sum of the worker's dest rows (active + inactive + persistent) over
// every dest id, including ids of removed dests whose connections still
// drain: every connection and template is counted in exactly one such
// row. The addon does not expose the mbuf pools' or the neighbour
// table's fill level yet; local-address port pools arrive with FULLNAT.

import type { Registry } from 'prom-client';
import type { Dataplane } from '../dataplane/dataplane';
import { gaugeFamily, type Sample } from './family';

const HELD = ['active', 'inactive', 'persistent'];

function* connectionsUsed(dp: Dataplane): Iterable<Sample> {
  const view = dp.stats.dests;
  const fields = HELD.map((f) => view.field(f));
  const lcores = dp.startInfo.workerLcores;
  for (let w = 0; w < view.workers; w++) {
    const used = fields.reduce((n, f) => n + view.columnSum(w, f), 0n);
    yield [{ pool: 'connections', lcore: String(lcores[w]) }, used];
  }
}

export function registerPoolMetrics(registry: Registry, dp: Dataplane, maxConns: number): void {
  gaugeFamily(registry, {
    name: 'fulcrum_pool_capacity',
    help: 'Objects a worker pool can hold (pool="connections": dataplane.max_conns)',
    labelNames: ['pool', 'lcore'],
    read: () => dp.startInfo.workerLcores.map((l): Sample => [{ pool: 'connections', lcore: String(l) }, maxConns]),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_pool_used',
    help: 'Objects of a worker pool in use now (pool="connections": connections and persistence templates)',
    labelNames: ['pool', 'lcore'],
    read: () => connectionsUsed(dp),
  });
}

// SPDX-License-Identifier: Apache-2.0
//
// Pool gauges: what each worker holds and how much it may hold. Today
// that is the connection pool (connections and persistence templates come
// from one per-worker mempool of dataplane.max_conns objects). Its use is
// the sum of the worker's dest rows (active + inactive + persistent) over
// every dest id, including ids of removed dests whose connections still
// drain: every connection and template is counted in exactly one such
// row. Local-address port pools (FULLNAT, SNAT) are exported per address
// and worker from their own rows. The addon does not expose the mbuf
// pools' or the neighbour table's fill level yet.

import type { Registry } from 'prom-client';
import type { Dataplane } from '../dataplane/dataplane';
import { counterFamily, gaugeFamily, type Sample } from './family';

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

// One sample per local address and worker of a field of its pool row.
function* laddrSamples(dp: Dataplane, field: 'used' | 'capacity' | 'exhausted'): Iterable<Sample> {
  const lcores = dp.startInfo.workerLcores;
  for (const { address, workers } of dp.laddrs())
    for (const [w, row] of workers.entries()) yield [{ laddr: address, lcore: String(lcores[w]) }, row[field]];
}

function registerLaddrMetrics(registry: Registry, dp: Dataplane): void {
  gaugeFamily(registry, {
    name: 'fulcrum_laddr_ports_capacity',
    help: 'Local ports a worker owns on a local address (0 until the worker first uses the address)',
    labelNames: ['laddr', 'lcore'],
    read: () => laddrSamples(dp, 'capacity'),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_laddr_ports_used',
    help: 'Local ports of a worker on a local address held by connections now',
    labelNames: ['laddr', 'lcore'],
    read: () => laddrSamples(dp, 'used'),
  });
  counterFamily(registry, {
    name: 'fulcrum_laddr_exhausted_total',
    help: 'New flows a worker refused because every port it owns on the local address was in use',
    labelNames: ['laddr', 'lcore'],
    read: () => laddrSamples(dp, 'exhausted'),
  });
}

export function registerPoolMetrics(registry: Registry, dp: Dataplane, maxConns: number): void {
  registerLaddrMetrics(registry, dp);
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

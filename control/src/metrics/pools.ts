// SPDX-License-Identifier: Apache-2.0
//
// Pool gauges: what each pool holds and how much it may hold. Per worker:
// the connection pool (connections and persistence templates share one
// pool of dataplane.max_conns objects) and the SYN proxy's state objects;
// per port: its mbuf pool; per local address and worker: the FULLNAT/SNAT
// port pools. Every value comes from Dataplane.pools() and laddrs(), read
// at the scrape. The neighbour table's fill level is not exported yet.

import type { Registry } from 'prom-client';
import type { Dataplane, PoolLevel } from '../dataplane/dataplane';
import { counterFamily, gaugeFamily, type Sample } from './family';

type WorkerPool = Extract<PoolLevel, { lcore: number }>;
type PortPool = Extract<PoolLevel, { port: string }>;

function workerPools(dp: Dataplane): WorkerPool[] {
  return dp.pools().filter((p): p is WorkerPool => p.pool !== 'mbufs');
}

function mbufPools(dp: Dataplane): PortPool[] {
  return dp.pools().filter((p): p is PortPool => p.pool === 'mbufs');
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

function registerWorkerPoolMetrics(registry: Registry, dp: Dataplane): void {
  const samples = (field: 'used' | 'capacity') =>
    workerPools(dp).map((p): Sample => [{ pool: p.pool, lcore: String(p.lcore) }, p[field]]);
  gaugeFamily(registry, {
    name: 'fulcrum_pool_capacity',
    help: 'Objects a worker pool can hold (pool="connections", "synproxy": dataplane.max_conns each)',
    labelNames: ['pool', 'lcore'],
    read: () => samples('capacity'),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_pool_used',
    help: 'Objects of a worker pool in use now (pool="connections": connections and persistence templates; "synproxy": SYN proxy states)',
    labelNames: ['pool', 'lcore'],
    read: () => samples('used'),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_persistent_templates',
    help: 'Persistence templates a worker holds now, of every dest (removed ones included); they use objects of pool="connections"',
    labelNames: ['lcore'],
    read: () => workerPools(dp).flatMap((p): Sample[] => (p.pool === 'connections' ? [[{ lcore: String(p.lcore) }, p.templates]] : [])),
  });
}

function registerMbufMetrics(registry: Registry, dp: Dataplane): void {
  gaugeFamily(registry, {
    name: 'fulcrum_mbuf_pool_capacity',
    help: 'Packet buffers (mbufs) of a port\'s pool (dataplane.mbufs)',
    labelNames: ['port'],
    read: () => mbufPools(dp).map((p): Sample => [{ port: p.port }, p.capacity]),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_mbuf_pool_used',
    help: 'Mbufs of a port\'s pool held by packets now (in device rings, tx batches, neighbour and SYN proxy holds); per-lcore caches count as free',
    labelNames: ['port'],
    read: () => mbufPools(dp).map((p): Sample => [{ port: p.port }, p.used]),
  });
}

export function registerPoolMetrics(registry: Registry, dp: Dataplane): void {
  registerLaddrMetrics(registry, dp);
  registerWorkerPoolMetrics(registry, dp);
  registerMbufMetrics(registry, dp);
}

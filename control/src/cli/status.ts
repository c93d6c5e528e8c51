// SPDX-License-Identifier: Apache-2.0
//
// The status dump `fulcrum start` prints on SIGUSR1 and at exit: the
// per-lcore counters, every worker's neighbour table, the services
// as ipvsadm -L -n lists them, and the health-check verdicts. A blank line
// ends it (and only ends it), so a program reading our output knows where
// it stops.

import type { Dataplane } from '../dataplane/dataplane';
import type { DestHealth } from '../health/manager';
import { formatCounters } from './counters';
import { poolStats } from '../api/stats';
import { formatConnections, formatListing } from './listing';
import { formatPools } from './pools';

const STATUS_CONNS = 20;
import { formatTable } from './table';

export async function formatStatus(dp: Dataplane, portNames: string[], health: DestHealth[] = []): Promise<string> {
  const lcores = dp.startInfo.workerLcores;
  const parts = [formatCounters(dp.counters, lcores)];
  const tables = await dp.neighbours();
  const rows = tables.flatMap(({ worker, rows: entries }) =>
    entries.map((n) => [String(lcores[worker]), portNames[n.port] ?? String(n.port), n.ip, n.mac.toLowerCase(), n.state, String(n.held)]),
  );
  parts.push(`neighbours:\n${formatTable(['lcore', 'port', 'address', 'mac', 'state', 'held'], rows)}`);
  parts.push(`services:\n${formatListing(dp.services())}`);
  const pools = dp.laddrs().flatMap(({ address, workers }) =>
    workers.map((w, i) => [address, String(lcores[i]), String(w.used), String(w.capacity), String(w.exhausted), String(w.conns)]),
  );
  const snat = dp.snatRules().map(({ config: r, stats: s }) => [
    r.name, r.source, r.destination, r.out_port ?? 'any', r.local_addresses.join(','), String(s.conns), String(s.live),
    String(s.inpkts), String(s.outpkts),
  ]);
  if (snat.length > 0) {
    parts.push(`snat:\n${formatTable(['rule', 'source', 'destination', 'out', 'laddrs', 'conns', 'live', 'inpkts', 'outpkts'], snat)}`);
  }
  parts.push(`pools:\n${formatPools(poolStats(dp))}`);
  if (pools.length > 0) {
    parts.push(`local addresses:\n${formatTable(['laddr', 'lcore', 'used', 'capacity', 'exhausted', 'conns'], pools)}`);
  }
  const conns = await dp.connections({ limit: STATUS_CONNS, templates: false });
  parts.push(`connections (first ${STATUS_CONNS} per worker):\n${formatConnections(conns)}`);
  const templates = await dp.connections({ limit: STATUS_CONNS, templates: true });
  parts.push(`persistence templates (first ${STATUS_CONNS} per worker):\n${formatConnections(templates)}`);
  if (health.length > 0) parts.push(`health checks:\n${formatHealth(health)}`);
  return `${parts.join('\n')}\n\n`;
}

function formatHealth(health: DestHealth[]): string {
  const rows = health.map((h) => [h.service, h.dest, h.healthy ? 'up' : 'down', String(h.successes), String(h.failures), h.reason]);
  return formatTable(['service', 'dest', 'state', 'ok', 'failed', 'last result'], rows);
}

// SPDX-License-Identifier: Apache-2.0
//
// Per-service and per-dest metrics from the dataplane's statistics rows,
// summed over the workers (Dataplane.services()). Labels: service (its
// name) and dest (address:port). Packets and bytes have direction="in"
// (client to dest) or "out" (dest to client), as ipvsadm --stats.

import type { Registry } from 'prom-client';
import type { Dataplane, ServiceListing } from '../dataplane/dataplane';
import { counterFamily, gaugeFamily, perScrape, type Labels, type Sample } from './family';

type Row = { labels: Labels; stats: Record<string, bigint> };

function serviceRows(dp: Dataplane): Row[] {
  return dp.services().map((s) => ({ labels: { service: s.config.name }, stats: s.stats }));
}

function destRows(dp: Dataplane): (Row & { dest: ServiceListing['dests'][number] })[] {
  return dp.services().flatMap((s) =>
    s.dests.map((d) => ({
      labels: { service: s.config.name, dest: `${d.config.address}:${d.config.port}` },
      stats: d.stats,
      dest: d,
    })),
  );
}

function* field(rows: Row[], name: string, extra: Labels = {}): Iterable<Sample> {
  for (const r of rows) yield [{ ...r.labels, ...extra }, r.stats[name]];
}

function* directions(rows: Row[], what: 'pkts' | 'bytes'): Iterable<Sample> {
  yield* field(rows, `in${what}`, { direction: 'in' });
  yield* field(rows, `out${what}`, { direction: 'out' });
}

/** The fulcrum_service_* and fulcrum_dest_* families for one scope. */
function registerTraffic(registry: Registry, scope: 'service' | 'dest', rows: () => Row[]): void {
  const labelNames = scope === 'service' ? ['service'] : ['service', 'dest'];
  counterFamily(registry, {
    name: `fulcrum_${scope}_connections_total`,
    help: `Connections scheduled to the ${scope}`,
    labelNames,
    read: () => field(rows(), 'conns'),
  });
  counterFamily(registry, {
    name: `fulcrum_${scope}_packets_total`,
    help: `Packets of the ${scope}'s connections, direction in (client to dest) or out`,
    labelNames: [...labelNames, 'direction'],
    read: () => directions(rows(), 'pkts'),
  });
  counterFamily(registry, {
    name: `fulcrum_${scope}_bytes_total`,
    help: `Bytes (IP packets) of the ${scope}'s connections, direction in (client to dest) or out`,
    labelNames: [...labelNames, 'direction'],
    read: () => directions(rows(), 'bytes'),
  });
}

const CONNECTION_STATES = [
  ['active', 'Connections of the dest in TCP ESTABLISHED now (ipvsadm ActiveConn)'],
  ['inactive', 'Connections of the dest in any other TCP state, and UDP ones, now (ipvsadm InActConn)'],
] as const;

/** The service families, and the per-dest ones unless perDest is false (control.metrics.per_dest). */
export function registerServiceMetrics(registry: Registry, dp: Dataplane, perDest = true): void {
  registerTraffic(registry, 'service', perScrape(() => serviceRows(dp)));
  if (perDest) registerDestMetrics(registry, dp);
}

function registerDestMetrics(registry: Registry, dp: Dataplane): void {
  const dests = perScrape(() => destRows(dp));
  registerTraffic(registry, 'dest', dests);
  // Two families rather than one with a state label: a gauge named
  // fulcrum_dest_connections would clash with the counter
  // fulcrum_dest_connections_total in the OpenMetrics format.
  for (const [state, help] of CONNECTION_STATES) {
    gaugeFamily(registry, {
      name: `fulcrum_dest_${state}_connections`,
      help,
      labelNames: ['service', 'dest'],
      read: () => field(dests(), state),
    });
  }
  gaugeFamily(registry, {
    name: 'fulcrum_dest_persistent_templates',
    help: 'Persistence templates (client affinities) pointing at the dest now',
    labelNames: ['service', 'dest'],
    read: () => field(dests(), 'persistent'),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_dest_weight',
    help: 'Configured scheduling weight of the dest (0: quiesced)',
    labelNames: ['service', 'dest'],
    read: () => dests().map((r): Sample => [r.labels, r.dest.config.weight]),
  });
}

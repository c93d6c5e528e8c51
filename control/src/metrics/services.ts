// SPDX-License-Identifier: Apache-2.0
//
// Per-service and per-dest metrics from the dataplane's statistics rows,
// summed over the workers. Labels: service (its name) and dest
// (address:port). Packets and bytes have direction="in" (client to dest)
// or "out" (dest to client), as ipvsadm --stats. With 8 dests a service
// these are 18 of every 19 series at scale, so they are written as text
// in slices (table.ts), not through prom-client.

import type { StatView } from '../dataplane/counters';
import type { Dataplane, StatRowIds } from '../dataplane/dataplane';
import { labelPairs, renderTable, statSeries, type TableFamily, type TableRow } from './table';

type DestRow = TableRow & { weight: number };

/** The rows of one applied config, with their label texts, made once per config. */
function rowsOf(dp: Dataplane): () => { services: TableRow[]; dests: DestRow[] } {
  let made: { of: StatRowIds; services: TableRow[]; dests: DestRow[] } | undefined;
  return () => {
    const ids = dp.statRows();
    if (made?.of !== ids) {
      made = {
        of: ids,
        services: ids.services.map((s) => ({ labels: labelPairs([['service', s.name]]), id: s.id })),
        dests: ids.dests.map((d) => ({
          labels: labelPairs([
            ['service', d.service],
            ['dest', `${d.address}:${d.port}`],
          ]),
          id: d.id,
          weight: d.weight,
        })),
      };
    }
    return made;
  };
}

/** The fulcrum_service_* or fulcrum_dest_* traffic families over a view's rows. */
function traffic<R extends TableRow>(view: StatView, scope: 'service' | 'dest'): TableFamily<R>[] {
  const both = (what: 'pkts' | 'bytes') => [statSeries<R>(view, `in${what}`, 'direction="in"'), statSeries<R>(view, `out${what}`, 'direction="out"')];
  return [
    { name: `fulcrum_${scope}_connections_total`, help: `Connections scheduled to the ${scope}`, type: 'counter', series: [statSeries(view, 'conns')] },
    {
      name: `fulcrum_${scope}_packets_total`,
      help: `Packets of the ${scope}'s connections, direction in (client to dest) or out`,
      type: 'counter',
      series: both('pkts'),
    },
    {
      name: `fulcrum_${scope}_bytes_total`,
      help: `Bytes (IP packets) of the ${scope}'s connections, direction in (client to dest) or out`,
      type: 'counter',
      series: both('bytes'),
    },
  ];
}

function destFamilies(view: StatView): TableFamily<DestRow>[] {
  // Two families rather than one with a state label: a gauge named
  // fulcrum_dest_connections would clash with the counter
  // fulcrum_dest_connections_total in the OpenMetrics format.
  const gauge = (name: string, help: string, field: string): TableFamily<DestRow> => ({ name, help, type: 'gauge', series: [statSeries(view, field)] });
  return [
    ...traffic<DestRow>(view, 'dest'),
    gauge('fulcrum_dest_active_connections', 'Connections of the dest in TCP ESTABLISHED now (ipvsadm ActiveConn)', 'active'),
    gauge('fulcrum_dest_inactive_connections', 'Connections of the dest in any other TCP state, and UDP ones, now (ipvsadm InActConn)', 'inactive'),
    gauge('fulcrum_dest_persistent_templates', 'Persistence templates (client affinities) pointing at the dest now', 'persistent'),
    {
      name: 'fulcrum_dest_weight',
      help: 'Configured scheduling weight of the dest (0: quiesced)',
      type: 'gauge',
      series: [{ extra: '', value: (r) => r.weight }],
    },
  ];
}

/**
 * The service families, and the per-dest ones unless perDest is false
 * (control.metrics.per_dest): a scrape's text slices, read as the scrape
 * goes. Call once the dataplane has started.
 */
export function serviceMetrics(dp: Dataplane, perDest = true): () => Iterable<string> {
  const rows = rowsOf(dp);
  const services = traffic<TableRow>(dp.stats.services, 'service');
  const dests = perDest ? destFamilies(dp.stats.dests) : [];
  return function* () {
    const now = rows();
    yield* renderTable(services, now.services);
    yield* renderTable(dests, now.dests);
  };
}

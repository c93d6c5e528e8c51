// SPDX-License-Identifier: Apache-2.0
//
// Per-worker metrics from the engine's counter blocks (the names come from
// the FULCRUM_COUNTERS X-macro through the addon, so a counter added in C++
// appears here without a change): rx/tx packets and bytes, drops by reason
// (every drop_* counter), busy and idle polls (the busy ratio is
// rate(busy) / rate(busy + idle)), and every other counter as an event
// count.

import type { Registry } from 'prom-client';
import type { Dataplane } from '../dataplane/dataplane';
import { counterFamily, type Sample } from './family';

const TRAFFIC = ['rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes'];
const POLLS: Record<string, string> = { polls_busy: 'busy', polls_idle: 'idle' };

/** Each worker's counters now, labelled with its lcore. */
function* perWorker(dp: Dataplane, pick: (name: string) => string | undefined, label: string): Iterable<Sample> {
  const view = dp.stats.counters;
  const lcores = dp.startInfo.workerLcores;
  for (let w = 0; w < view.workers; w++) {
    const row = view.row(w);
    for (const [name, value] of Object.entries(row)) {
      const picked = pick(name);
      if (picked === undefined) continue;
      yield [{ lcore: String(lcores[w]), ...(label ? { [label]: picked } : {}) }, value];
    }
  }
}

export function registerWorkerMetrics(registry: Registry, dp: Dataplane): void {
  for (const counter of TRAFFIC) {
    counterFamily(registry, {
      name: `fulcrum_worker_${counter}_total`,
      help: `${counter.replace('_', ' ')} of the worker (rx: received from any port, tx: really sent)`,
      labelNames: ['lcore'],
      read: () => perWorker(dp, (n) => (n === counter ? n : undefined), ''),
    });
  }
  counterFamily(registry, {
    name: 'fulcrum_worker_drops_total',
    help: 'Packets dropped by the worker, by reason (the drop_* counters without the prefix)',
    labelNames: ['lcore', 'reason'],
    read: () => perWorker(dp, (n) => (n.startsWith('drop_') ? n.slice('drop_'.length) : undefined), 'reason'),
  });
  counterFamily(registry, {
    name: 'fulcrum_worker_polls_total',
    help: 'Worker loop iterations that found packets (busy) or none (idle)',
    labelNames: ['lcore', 'state'],
    read: () => perWorker(dp, (n) => POLLS[n], 'state'),
  });
  counterFamily(registry, {
    name: 'fulcrum_worker_events_total',
    help: 'Every other worker counter (ARP, neighbours, ICMP, connections created/expired...), by name',
    labelNames: ['lcore', 'event'],
    read: () => perWorker(dp, (n) => (TRAFFIC.includes(n) || n.startsWith('drop_') || n in POLLS ? undefined : n), 'event'),
  });
}

// SPDX-License-Identifier: Apache-2.0
//
// The per-lcore counter table printed by `fulcrum start` (on SIGUSR1 and at
// exit) and by the demo.

import type { StatView } from '../dataplane/counters';
import { formatTable } from './table';

// Always shown, so an idle dataplane still shows it is alive.
const ALWAYS = new Set(['rx_packets', 'tx_packets', 'polls_busy', 'polls_idle']);

export function formatCounters(view: StatView, lcores: number[]): string {
  // One read per worker: the total is their sum, so the columns agree
  // although the workers keep counting.
  const perWorker = lcores.map((_, w) => view.row(w));
  const total: Record<string, bigint> = {};
  for (const c of perWorker) for (const [k, v] of Object.entries(c)) total[k] = (total[k] ?? 0n) + v;
  const header = ['counter', ...lcores.map((l) => `lcore ${l}`), 'total'];
  const rows = view
    .names()
    .filter((name) => ALWAYS.has(name) || total[name] !== 0n)
    .map((name) => [name, ...perWorker.map((c) => String(c[name])), String(total[name])]);
  return formatTable(header, rows);
}

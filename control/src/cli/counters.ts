// SPDX-License-Identifier: Apache-2.0
//
// The per-lcore counter table printed by `fulcrum start` (on SIGUSR1 and at
// exit) and by the demo.

import type { StatView } from '../dataplane/counters';
import { formatTable } from './table';

// Always shown, so an idle dataplane still shows it is alive.
const ALWAYS = new Set(['rx_packets', 'tx_packets', 'polls_busy', 'polls_idle']);

export function formatCounters(view: StatView, lcores: number[]): string {
  const perWorker = lcores.map((_, w) => view.row(w));
  const total = view.total();
  const header = ['counter', ...lcores.map((l) => `lcore ${l}`), 'total'];
  const rows = view
    .names()
    .filter((name) => ALWAYS.has(name) || total[name] !== 0n)
    .map((name) => [name, ...perWorker.map((c) => String(c[name])), String(total[name])]);
  return formatTable(header, rows);
}

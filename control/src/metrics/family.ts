// SPDX-License-Identifier: Apache-2.0
//
// Metric families whose values are read at scrape time. The dataplane's
// counters already are cumulative totals in shared memory, so a collect()
// callback copies the current values into prom-client's metric instead of
// the usual inc() as events happen; series that no longer exist (a
// removed dest) disappear with the reset. No timers: nothing is read
// between scrapes.

import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;
/** The family's samples now: labels and value. */
export type Sample = [Labels, number | bigint];
export type Reader = () => Iterable<Sample>;

interface FamilySpec {
  name: string;
  help: string;
  labelNames: string[];
  read: Reader;
}

/** A counter (a cumulative total kept elsewhere) read at every scrape. */
export function counterFamily(registry: Registry, spec: FamilySpec): void {
  registry.registerMetric(family('counter', spec) as never);
}

/** A gauge read at every scrape. */
export function gaugeFamily(registry: Registry, spec: FamilySpec): void {
  registry.registerMetric(family('gauge', spec) as never);
}

// What the registry asks a metric for (prom-client's MetricObject). The
// samples go straight from the reader to the text: a prom-client Counter
// would hash every label set into its own map on each scrape, which at
// 80,000 dests costs more than the rest of the scrape, and the series of
// a removed dest simply are not read again.
function family(type: 'counter' | 'gauge', spec: FamilySpec) {
  const get = () => ({
    name: spec.name,
    help: spec.help,
    type,
    aggregator: 'sum' as const,
    values: Array.from(spec.read(), ([labels, value]) => ({ labels, value: Number(value) })),
  });
  return { name: spec.name, help: spec.help, type, labelNames: spec.labelNames, aggregator: 'sum', get, getForPromString: get, reset() {} };
}

// SPDX-License-Identifier: Apache-2.0
//
// Metric families whose values are read at scrape time. The dataplane's
// counters already are cumulative totals in shared memory, so a collect()
// callback copies the current values into prom-client's metric instead of
// the usual inc() as events happen; series that no longer exist (a
// removed dest) disappear with the reset. No timers: nothing is read
// between scrapes.

import { Counter, Gauge, type Registry } from 'prom-client';

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
  new Counter({
    ...config(registry, spec),
    collect() {
      refill(this, spec.read, (labels, value) => this.inc(labels, value));
    },
  });
}

/** A gauge read at every scrape. */
export function gaugeFamily(registry: Registry, spec: FamilySpec): void {
  new Gauge({
    ...config(registry, spec),
    collect() {
      refill(this, spec.read, (labels, value) => this.set(labels, value));
    },
  });
}

function config(registry: Registry, spec: FamilySpec) {
  return { name: spec.name, help: spec.help, labelNames: spec.labelNames, registers: [registry] };
}

// reset() drops the series of things that went away (a removed dest).
function refill(metric: { reset(): void }, read: Reader, put: (labels: Labels, value: number) => void): void {
  metric.reset();
  for (const [labels, value] of read()) put(labels, Number(value));
}

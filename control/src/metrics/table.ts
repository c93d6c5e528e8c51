// SPDX-License-Identifier: Apache-2.0
//
// Families over a table of statistics rows (every service, every dest),
// written as Prometheus exposition text by Fulcrum itself, a slice of rows
// at a time.
//
// Why not prom-client for these: at 10,000 services x 8 dests they are
// 770,000 series, and prom-client makes an object of every sample, sums
// BigInts, and formats and escapes every label set on every scrape, all
// in one turn of the event loop: 3 s during which no gRPC call was
// answered (bench/RESULTS.md, 2026-12-06). Here a row's labels are
// escaped once per applied config (the caller keys its rows by it), a
// value is a double read straight from the shared rows (StatView.
// sumNumber), and the text comes out in slices of `sliceRows` rows, so the
// server can let the event loop run between them (server.ts).

import type { StatView } from '../dataplane/counters';

/** A row of the table: its label pairs as exposition text, and its statistics row. */
export interface TableRow {
  /** 'service="web",dest="10.0.1.1:80"': escaped, no braces. */
  labels: string;
  id: number;
}

/** One series a row gives in a family: extra label pairs ('' or 'direction="in"') and its value. */
export interface TableSeries<R extends TableRow> {
  extra: string;
  value: (row: R) => number;
}

export interface TableFamily<R extends TableRow> {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  series: TableSeries<R>[];
}

export const SLICE_ROWS = 512;

/**
 * Label pairs as a row keeps them: 'service="web",dest="10.0.1.1:80"'.
 * Joined into one flat string: concatenated, each of 80,000 dests' labels
 * was a tree of eight string pieces (19 MB at 10,000 x 8) that every
 * scrape walked to write it.
 */
export function labelPairs(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([name, value]) => `${name}="${labelValue(value)}"`).join(',');
}

/** A label value as the exposition format wants it: backslash, quote and newline escaped. */
function labelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** A series reading one named field of the row's statistics, summed over the workers. */
export function statSeries<R extends TableRow>(view: StatView, field: string, extra = ''): TableSeries<R> {
  const i = view.field(field);
  return { extra, value: (r) => view.sumNumber(r.id, i) };
}

/**
 * The families' text over rows, in order, as slices of at most sliceRows
 * rows each (a family's HELP and TYPE lines start its first slice). A
 * family with no rows is left out, as prom-client leaves out an empty one.
 * Values are read as each slice is made.
 */
export function* renderTable<R extends TableRow>(families: TableFamily<R>[], rows: readonly R[], sliceRows = SLICE_ROWS): Generator<string> {
  if (rows.length === 0) return;
  for (const f of families) {
    let head = `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
    for (let start = 0; start < rows.length; start += sliceRows) {
      const end = Math.min(rows.length, start + sliceRows);
      let text = head;
      head = '';
      for (const s of f.series) {
        const close = s.extra === '' ? '} ' : `,${s.extra}} `;
        for (let i = start; i < end; i++) text += `${f.name}{${rows[i].labels}${close}${s.value(rows[i])}\n`;
      }
      yield text;
    }
  }
}

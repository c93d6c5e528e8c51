// SPDX-License-Identifier: Apache-2.0
//
// The markdown tables the control-plane benchmarks print, and their timer.

export type Row = (string | number)[];

export function table(head: string[], rows: Row[]): void {
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const r of rows) console.log(`| ${r.map((v) => (typeof v === 'number' ? fmt(v) : v)).join(' | ')} |`);
  console.log();
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Milliseconds since `t` (a process.hrtime.bigint()). */
export const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

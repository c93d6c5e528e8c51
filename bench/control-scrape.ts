// SPDX-License-Identifier: Apache-2.0
//
// What bench/control reads from a running balancer's /metrics: the whole
// text (timed), and from it the apply-stage histogram's sums, so a
// benchmark can say where an Apply's time went inside the process.

import * as http from 'node:http';

export interface Scrape {
  ms: number;
  bytes: number;
  /** Sample lines (not comments). */
  series: number;
  text: string;
}

export function scrape(port: number): Promise<Scrape> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          let series = 0;
          for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) series++;
          resolve({ ms, bytes: Buffer.byteLength(text), series, text });
        });
      })
      .on('error', reject);
  });
}

const STAGE = /^fulcrum_control_apply_stage_seconds_sum\{stage="([a-z_]+)"\} (\S+)$/gm;

/** stage -> seconds summed so far. */
export function stageSums(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(STAGE)) out.set(m[1], Number(m[2]));
  return out;
}

/** The stages' seconds between two scrapes, in ms. */
export function stageDelta(before: string, after: string): Map<string, number> {
  const a = stageSums(before);
  const out = new Map<string, number>();
  for (const [stage, s] of stageSums(after)) out.set(stage, (s - (a.get(stage) ?? 0)) * 1000);
  return out;
}

/** p-th percentile (0..100) of values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const v = [...values].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

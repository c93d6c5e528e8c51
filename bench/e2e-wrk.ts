// SPDX-License-Identifier: Apache-2.0
//
// One wrk measurement of bench/e2e: runs wrk in the client namespace,
// pinned to the load CPU, and reads its summary.

import { readFileSync, readdirSync } from 'node:fs';

import type { Topology } from '../control/src/netns/topology';

export type Load = 'keepalive' | 'close';

export interface WrkResult {
  /** Requests per second; with Connection: close every request is a new connection. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers. */
  errors: number;
}

export interface WrkOptions {
  url: string;
  load: Load;
  seconds: number;
  connections: number;
  cpu: number;
}

export async function runWrk(topo: Topology, o: WrkOptions): Promise<WrkResult> {
  const argv = ['taskset', '-c', String(o.cpu), 'wrk', '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-T', '5s',
    ...(o.load === 'close' ? ['-H', 'Connection: close'] : []), o.url];
  const r = await topo.exec('client', argv, { timeoutMs: (o.seconds + 20) * 1000 });
  if (r.code !== 0) throw new Error(`wrk ${o.load} ${o.url} exited with ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}

/** Reads wrk's --latency summary. */
export function parseWrk(text: string): WrkResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const requests = /^\s*(\d+) requests in /m.exec(text);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\b/m.exec(text);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\b/m.exec(text);
  if (!rate || !requests || !p50 || !p99) throw new Error(`cannot read wrk's output:\n${text}`);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = (sockets ? sockets.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { rate: Number(rate[1]), p50Ms: toMs(p50), p99Ms: toMs(p99), requests: Number(requests[1]), errors };
}

function toMs(m: RegExpExecArray): number {
  const scale = { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  return Number(m[1]) * scale;
}

/** A thread's time on a CPU and waiting for one (ns), from /proc/PID/task/TID/schedstat. */
export interface SchedTimes {
  runNs: number;
  waitNs: number;
}

/** Summed over the threads of pid whose name matches (all threads by default). */
export function schedTimes(pid: number, name?: RegExp): SchedTimes {
  const sum = { runNs: 0, waitNs: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (name && !name.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8'))) continue;
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      sum.runNs += run;
      sum.waitNs += wait;
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/** "on CPU x%, waiting for it y%" of the wall time between a and b. */
export function schedNote(a: SchedTimes & { at: number }, b: SchedTimes & { at: number }): string {
  const wall = (b.at - a.at) * 1e6;
  const pct = (ns: number) => `${Math.round((100 * ns) / wall)}%`;
  return `on CPU ${pct(b.runNs - a.runNs)}, runnable but waiting for the CPU ${pct(b.waitNs - a.waitNs)} of the time`;
}

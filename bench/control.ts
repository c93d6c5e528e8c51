// SPDX-License-Identifier: Apache-2.0
//
// bench/control: the control plane at scale, against a real `fulcrum
// start` through the real gRPC client (node dist/bench/control.js; bench/
// run.sh runs it last). No hugepages (--no-huge), so it runs beside the
// other benchmarks. The worker's wan port is net_pcap replaying ICMP echo
// requests forever (bench/control-pcap.ts): it answers them as fast as it
// can the whole time, so every number below is taken with a saturated
// worker. Measures:
//   apply    Apply of CONTROL_SERVICES services x CONTROL_DESTS dests from
//            empty, then a second Apply changing CONTROL_EDIT_PERCENT % of
//            the services, the same again, an empty state and the fleet
//            from empty once more (warm); each split into the stages the
//            balancer times (fulcrum_control_apply_stage_seconds)
//   unary    p50/p99 of the small reads an operator's tooling issues one
//            at a time (GetService, ListDests, GetDest), then of the big
//            ones (ListServices, GetDesiredState, GetStats: every service,
//            one, workers only) and of one write (UpdateDest);
//            beside them the floor, a bare grpc-js call between two Node
//            processes (control-grpc-ref.ts)
//   churn    changes per second at that scale from concurrent callers
//            (dest reweights), and their p50/p99
//   metrics  /metrics at that scale: series, bytes, p50/p99 of a scrape
//            (CONTROL_PER_DEST=0: with control.metrics.per_dest false),
//            and GetService's p50/p99 while scrapes run back to back
//   forward  the worker's echo replies per second before the first Apply
//            and after everything above (a reference for the worker's pace)
// Prints tables; appends nothing.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { MethodDefinition } from '@grpc/proto-loader';

import { FulcrumApi } from '../control/src/api/client';
import type { ApplyRequest } from '../control/src/api/gen/fulcrum/v1/ApplyRequest';
import { fulcrumProto } from '../control/src/api/proto';
import { Balancer, metricsPort } from '../test/e2e/fixtures/balancer';
import { startBareGrpc } from './control-grpc-ref';
import { writeEchoPcap } from './control-pcap';
import { percentile, scrape, stageDelta } from './control-scrape';
import { edited, fleet } from './control-state';
import { since, table, type Row } from './control-table';

const SERVICES = Number(process.env.CONTROL_SERVICES ?? 10_000);
const DESTS = Number(process.env.CONTROL_DESTS ?? 8);
const EDIT_PERCENT = Number(process.env.CONTROL_EDIT_PERCENT ?? 3);
const CALLS = Number(process.env.CONTROL_CALLS ?? 2000);
const SCRAPES = Number(process.env.CONTROL_SCRAPES ?? 10);
const PER_DEST = process.env.CONTROL_PER_DEST !== '0';
const CHURN_SECONDS = Number(process.env.CONTROL_CHURN_SECONDS ?? 5);
const APPLY_ONLY = process.env.CONTROL_APPLY_ONLY === '1';
const CHURN_IN_FLIGHT = 64;
const APPLY_DEADLINE_MS = 120_000;

/**
 * What the client spends turning the request into bytes, the second time
 * (the call's own encoding is a third, as warm).
 */
function encodeMs(state: ReturnType<typeof fleet>): number {
  const apply = (fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<ApplyRequest, unknown>>).Apply;
  apply.requestSerialize({ state });
  const t = process.hrtime.bigint();
  apply.requestSerialize({ state });
  return since(t);
}

async function timedApply(api: FulcrumApi, port: number, state: ReturnType<typeof fleet>): Promise<Row> {
  const encode = encodeMs(state);
  const before = (await scrape(port)).text;
  const t = process.hrtime.bigint();
  const r = await api.call('Apply', { state });
  const total = since(t);
  const stages = stageDelta(before, (await scrape(port)).text);
  const s = (k: string) => stages.get(k) ?? NaN;
  const inside = [...stages.values()].reduce((a, b) => a + b, 0);
  return [r.changes.length, total, encode, s('validate'), s('diff'), s('spec'), s('snapshot_build'), s('publish'), s('state_file'), total - inside - encode];
}

async function workerRate(api: FulcrumApi): Promise<number> {
  const r = await api.call('GetStats', { window: { seconds: 1 }, workers_only: true });
  return r.workers.reduce((a, w) => a + (w.rates.icmp_echo_replies ?? 0), 0);
}

async function unaryLatencies(api: FulcrumApi, names: string[]): Promise<Row[]> {
  const pick = () => names[Math.floor(Math.random() * names.length)];
  const calls: [string, () => Promise<unknown>][] = [
    ['GetService', () => api.call('GetService', { name: pick() })],
    ['ListDests', () => api.call('ListDests', { service: pick() })],
    ['GetDest (NOT_FOUND)', () => api.call('GetDest', { service: pick(), address: '10.9.9.9', port: 1 }).catch(() => undefined)],
  ];
  const rows: Row[] = [];
  for (const [name, call] of calls) rows.push(await timedCalls(name, CALLS, call));
  return rows;
}

/** `count` calls one after another: p50, p99 and max in ms. */
async function timedCalls(name: string, count: number, call: () => Promise<unknown>): Promise<Row> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await call();
    ms.push(since(t));
  }
  return [name, count, percentile(ms, 50), percentile(ms, 99), Math.max(...ms)];
}

async function heavyCalls(api: FulcrumApi, port: number): Promise<{ calls: Row[]; edits: Row[] }> {
  const rows: Row[] = [];
  const reads: [string, () => Promise<unknown>][] = [
    ['ListServices', () => api.call('ListServices', {})],
    ['GetDesiredState', () => api.call('GetDesiredState', {})],
    ['GetStats', () => api.call('GetStats', {})],
    ['GetStats (rates, 100 ms window)', () => api.call('GetStats', { window: { nanos: 100_000_000 } })],
    ['GetStats (one service)', () => api.call('GetStats', { services: ['svc7'] })],
    ['GetStats (workers only)', () => api.call('GetStats', { workers_only: true })],
  ];
  let turn = 0;
  const edits: [string, () => Promise<unknown>][] = [
    // Another weight each call: the same one again would be a no-op, answered without a publication.
    ['UpdateDest (weight)', () => api.call('UpdateDest', { service: 'svc7', dest: { address: '10.1.0.56', port: 8000, weight: 2 + (turn++ % 5) } })],
    // A dest that comes and goes: the service's dest keys change (ids assigned again).
    ['CreateDest, DeleteDest in turn', () => (turn++ % 2 === 0)
      ? api.call('CreateDest', { service: 'svc7', dest: { address: '10.9.9.9', port: 8000 } })
      : api.call('DeleteDest', { service: 'svc7', address: '10.9.9.9', port: 8000 })],
  ];
  for (const [name, call] of reads) rows.push(await timedCalls(name, 20, call));
  // The edits' stages too, per call: where an edit of one dest goes at this scale.
  const stageRows: Row[] = [];
  for (const [name, call] of edits) {
    const before = (await scrape(port)).text;
    rows.push(await timedCalls(name, 20, call));
    const stages = stageDelta(before, (await scrape(port)).text);
    const s = (k: string) => (stages.get(k) ?? NaN) / 20;
    stageRows.push([name, s('validate'), s('diff'), s('spec'), s('snapshot_build'), s('publish'), s('state_file')]);
  }
  return { calls: rows, edits: stageRows };
}

/**
 * Dest reweights from CHURN_IN_FLIGHT concurrent callers for CHURN_SECONDS
 * at full scale: what a change costs when 10,000 services are untouched.
 */
async function churn(api: FulcrumApi, state: ReturnType<typeof fleet>): Promise<Row> {
  const services = state.services ?? [];
  const ms: number[] = [];
  const end = Date.now() + CHURN_SECONDS * 1000;
  const started = process.hrtime.bigint();
  const caller = async () => {
    while (Date.now() < end) {
      const s = services[2 + Math.floor(Math.random() * (services.length - 2))];
      const d = (s.dests ?? [])[0];
      const t = process.hrtime.bigint();
      await api.call('UpdateDest', { service: s.name, dest: { address: d.address, port: d.port, weight: 1 + (ms.length % 5) } });
      ms.push(since(t));
    }
  };
  await Promise.all(Array.from({ length: CHURN_IN_FLIGHT }, caller));
  const seconds = since(started) / 1000;
  return [`UpdateDest, ${CHURN_IN_FLIGHT} in flight`, ms.length, ms.length / seconds, percentile(ms, 50), percentile(ms, 99)];
}

/**
 * GetService calls, one at a time, while another process makes a large
 * read back to back (`reader`, below): what such a read at this scale does
 * to the API's latency. In this process, decoding tens of MB would hold up
 * the calls being timed.
 */
async function callsDuring(api: FulcrumApi, what: string, reader: string, arg: string, names: string[]): Promise<Row> {
  const child = spawn(process.execPath, ['-e', reader, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
  let done = 0;
  child.stdout.on('data', (d: Buffer) => (done += d.length));
  await new Promise((resolve) => child.stdout.once('data', resolve));  // the first read is under way
  const pick = () => names[Math.floor(Math.random() * names.length)];
  const row = await timedCalls(`GetService while ${what} back to back`, CALLS, () => api.call('GetService', { name: pick() }));
  child.kill();
  return [...row, done - 1];
}

// Readers for callsDuring: each repeats its read, one byte on stdout as
// each begins. Scrapes 127.0.0.1:PORT/metrics, discarding the text:
const SCRAPER = `
const http = require('node:http');
const once = () => { process.stdout.write('.'); http.get({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/metrics' }, (res) => { res.resume(); res.on('end', once); }); };
once();`;
// GetStats of every service over the API socket:
const STATS_READER = `
const { FulcrumApi } = require(${JSON.stringify(path.join(__dirname, '../control/src/api/client'))});
const api = new FulcrumApi(process.argv[1], 120000, 256 << 20);
const once = () => { process.stdout.write('.'); api.call('GetStats', {}).then(once); };
once();`;

async function scrapes(port: number): Promise<Row> {
  const ms: number[] = [];
  let last = { bytes: 0, series: 0 };
  for (let i = 0; i < SCRAPES; i++) {
    const s = await scrape(port);
    ms.push(s.ms);
    last = s;
  }
  return [SCRAPES, last.series, last.bytes / 1e6, percentile(ms, 50), percentile(ms, 99)];
}

/**
 * This client runs on the balancer's control CPU (the fixture's lcores
 * "0-1": 0), never on the worker's: a process sharing a polling lcore gets
 * only the scheduler's slices, which is the machine's latency, not the
 * balancer's. Operators' tools do not run on dataplane lcores either.
 * After the balancer started, so the balancer keeps its own affinity.
 */
const CONTROL_CPU = 0;
function pinToControlCpu(): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(CONTROL_CPU), String(process.pid)], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-bench-control-'));
  const pcap = path.join(dir, 'echo.pcap');
  writeEchoPcap(pcap);
  const b = await Balancer.start(dir, {
    devices: [`net_pcap0,rx_pcap=${pcap},infinite_rx=1`, 'net_null1'],
    dataplane: [`  max_services: ${Math.max(1024, SERVICES * 2)}`, `  max_dests: ${Math.max(8192, SERVICES * DESTS * 2)}`],
    metrics: [`per_dest: ${PER_DEST}`],
  });
  pinToControlCpu();
  const api = new FulcrumApi(b.socket, APPLY_DEADLINE_MS, 256 << 20);
  const port = metricsPort(dir);
  const bare = await startBareGrpc(path.join(dir, 'bare.sock'), CONTROL_CPU);
  try {
    const idle = await workerRate(api);
    // The floor: a unary call between two Node processes with no Fulcrum behind it.
    await timedCalls('warm-up', 200, bare.call);
    const floor = await timedCalls('floor: bare grpc-js unary, no Fulcrum', CALLS, bare.call);
    // The same call on an empty balancer: what a round trip costs on this machine now.
    const reference = await timedCalls('reference: GetService (NOT_FOUND), no services', CALLS, () => api.call('GetService', { name: 'none' }).catch(() => undefined));
    const applies: Row[] = [];
    applies.push([`empty -> ${SERVICES} x ${DESTS}`, ...(await timedApply(api, port, fleet(SERVICES, DESTS)))]);
    const stateBytes = statSync(b.stateFile).size;
    const edit = edited(SERVICES, DESTS, EDIT_PERCENT);
    applies.push([`${EDIT_PERCENT} % edited (${edit.touched} objects)`, ...(await timedApply(api, port, edit.state))]);
    applies.push(['same state again (no-op)', ...(await timedApply(api, port, edit.state))]);
    applies.push([`-> empty`, ...(await timedApply(api, port, { services: [], snat: [] }))]);
    // The fleet again: what runs for everything below.
    const running = fleet(SERVICES, DESTS);
    applies.push([`empty -> ${SERVICES} x ${DESTS} again (warm)`, ...(await timedApply(api, port, running))]);
    console.log(`bench/control: ${SERVICES} services x ${DESTS} dests, state file ${(stateBytes / 1e6).toFixed(1)} MB, no hugepages, 1 worker answering a net_pcap echo flood\n`);
    table(['Apply', 'changes', 'total ms', 'client encode', 'validate', 'diff', 'spec (ids)', 'snapshot build', 'publish', 'state file', 'rest (gRPC, split)'], applies);
    if (APPLY_ONLY) return;

    const names = running.services!.map((x) => x.name as string);
    const unary = await unaryLatencies(api, names);
    const loaded = await workerRate(api);
    const heavy = await heavyCalls(api, port);
    table(['unary call (saturated worker)', 'calls', 'p50 ms', 'p99 ms', 'max ms'], [floor, reference, ...unary, ...heavy.calls]);
    table(['edit (mean per call, ms)', 'validate', 'diff', 'spec (ids)', 'snapshot build', 'publish', 'state file'], heavy.edits);
    table(['churn (saturated worker)', 'changes', 'changes/s', 'p50 ms', 'p99 ms'], [await churn(api, running)]);
    table(['worker', 'echo replies/s'], [['empty config', idle], [`${SERVICES} x ${DESTS} applied, after the calls`, loaded]]);
    table([`/metrics (per_dest: ${PER_DEST})`, 'scrapes', 'series', 'MB', 'p50 ms', 'p99 ms'], [['full scrape', ...(await scrapes(port))]]);
    table(['unary call during large reads', 'calls', 'p50 ms', 'p99 ms', 'max ms', 'reads meanwhile'], [
      await callsDuring(api, '/metrics is scraped', SCRAPER, String(port), names),
      await callsDuring(api, 'GetStats (every service) runs', STATS_READER, b.socket, names),
    ]);
  } finally {
    bare.stop();
    api.close();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/control: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});

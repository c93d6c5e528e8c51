// SPDX-License-Identifier: Apache-2.0
//
// bench/control-health: health checks at fleet scale (node
// dist/bench/control-health.js; bench/run.sh runs it after bench/control).
// HEALTH_SERVICES services x HEALTH_DESTS dests (bench/control's fleet),
// every dest checked, against a real `fulcrum start` with a saturated
// worker (the net_pcap echo flood of bench/control).
//
// The dests must answer, or every check would fail at once and measure
// nothing: the benchmark re-runs itself in a network namespace of its own
// where 10.1.0.0/16 is local (`ip route add local`, the AnyIP route) and
// one listener on CPU 1 (the worker's: CPU 0 is the control plane's) takes
// every dest's connections and datagrams: it answers an HTTP request with
// 200 and a datagram with 'pong'. So a check here costs what it costs
// against a real server, minus the wire; the listener's side is not on the
// control CPU.
//
// For each check type of HEALTH_TYPES (tcp, http, udp: a GET /, a 'ping'
// expecting 'pong') and each interval of HEALTH_INTERVALS (and with no
// checks, for reference): Apply, let the probers spread over two intervals, then for
// HEALTH_WINDOW_SECONDS: checks done per second against what the interval
// asks, checks failed, dests held failed, the control thread's CPU and
// CPU 0's, and GetService's p50/p99 called back to back meanwhile.
// Prints one table; appends nothing.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FulcrumApi } from '../control/src/api/client';
import type { DesiredState } from '../control/src/api/gen/fulcrum/v1/DesiredState';
import { Balancer, metricsPort } from '../test/e2e/fixtures/balancer';
import { writeEchoPcap } from './control-pcap';
import { percentile, scrape } from './control-scrape';
import { fleet } from './control-state';
import { since, table, type Row } from './control-table';

const SERVICES = Number(process.env.HEALTH_SERVICES ?? 10_000);
const DESTS = Number(process.env.HEALTH_DESTS ?? 8);
const INTERVALS = (process.env.HEALTH_INTERVALS ?? '2,5,10').split(',').map(Number);
const TYPES = (process.env.HEALTH_TYPES ?? 'tcp,http,udp').split(',') as CheckType[];
const WINDOW_MS = Number(process.env.HEALTH_WINDOW_SECONDS ?? 10) * 1000;
const IN_FLIGHT = process.env.HEALTH_MAX_IN_FLIGHT;  // control.health.max_in_flight; unset: the default
const INSIDE = 'FULCRUM_BENCH_HEALTH_NS';
const CONTROL_CPU = 0;
const LISTENER_CPU = 1;

// Every dest port of the fleet (8000 + dest number / 65536).
const PORTS = [...new Set(Array.from({ length: Math.ceil((SERVICES * DESTS) / 65536) }, (_, k) => 8000 + k))];
// Answers every check: a connection's first bytes (an HTTP request) with
// 200 and the end, a datagram with 'pong'. The UDP sockets take the
// largest receive buffer the host allows (net.core.rmem_max): the listener
// shares CPU 1 with the polling worker, and with the default buffer its
// sockets dropped 1-4 % of the pings at 40,000 a second (the namespace's
// RcvbufErrors), which the checks counted as failures.
const LISTENER = `const net = require('net'), dgram = require('dgram');
const ok = 'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n';
for (const port of process.argv.slice(1)) {
  net.createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end(ok)); }).listen({ port: Number(port), backlog: 65535 });
  const u = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 << 20 });
  u.on('message', (m, from) => u.send('pong', from.port, from.address));
  u.bind(Number(port));
}
console.log('listening');`;

type CheckType = 'tcp' | 'http' | 'udp';

const CHECK_TYPES: Record<CheckType, Record<string, unknown>> = {
  tcp: { type: 'HEALTH_CHECK_TYPE_TCP' },
  http: { type: 'HEALTH_CHECK_TYPE_HTTP', path: '/' },
  udp: { type: 'HEALTH_CHECK_TYPE_UDP', send: 'ping', expect: 'pong' },
};
for (const t of TYPES) {
  if (!(t in CHECK_TYPES)) throw new Error(`HEALTH_TYPES: '${t}' is not a check type (tcp, http, udp)`);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Outside: makes the namespace, runs this file in it, removes it. */
function outside(): number {
  const ns = `fulcrum-hc-${process.pid}`;
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'local', '10.1.0.0/16', 'dev', 'lo');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename], { stdio: 'inherit', env: { ...process.env, [INSIDE]: ns } });
    return r.status ?? 1;
  } finally {
    ip('netns', 'del', ns);
  }
}

/** The fleet, every service checked by `type` every `seconds` (undefined: unchecked). */
function checkedFleet(type: CheckType, seconds: number | undefined): DesiredState {
  const state = fleet(SERVICES, DESTS);
  if (seconds === undefined) return state;
  for (const s of state.services ?? []) s.health_check = { ...CHECK_TYPES[type], interval: { seconds }, timeout: { seconds: 1 } };
  return state;
}

interface HealthCounts {
  checks: number;
  failedChecks: number;
  failedDests: number;
}

const CHECKS = /^fulcrum_health_checks_total\{[^}]*result="(success|failure)"\} (\S+)$/gm;
const UNHEALTHY = /^fulcrum_dest_healthy\{[^}]*\} 0$/gm;

async function healthCounts(port: number): Promise<HealthCounts> {
  const { text } = await scrape(port);
  const out = { checks: 0, failedChecks: 0, failedDests: 0 };
  for (const m of text.matchAll(CHECKS)) {
    out.checks += Number(m[2]);
    if (m[1] === 'failure') out.failedChecks += Number(m[2]);
  }
  for (const _ of text.matchAll(UNHEALTHY)) out.failedDests++;
  return out;
}

/** CPU seconds of the thread (the process's main thread: the control thread). */
function threadCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks
}

/** [busy, total] jiffies of one CPU. */
function cpuJiffies(cpu: number): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `)) as string;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/** GetService calls back to back for ms: their latencies. */
async function callsFor(api: FulcrumApi, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const t = process.hrtime.bigint();
    await api.call('GetService', { name: `svc${(i * 7919) % SERVICES}` });
    out.push(since(t));
  }
  return out;
}

async function measure(b: Balancer, api: FulcrumApi, port: number, type: CheckType, seconds: number | undefined): Promise<Row> {
  await api.call('Apply', { state: checkedFleet(type, seconds) });
  // Probers start spread over one interval; a second one lets the first fall/rise settle.
  await new Promise((r) => setTimeout(r, 2000 * (seconds ?? 0) + 2000));
  const before = await healthCounts(port);
  const counted = process.hrtime.bigint();  // the checks are counted between the two scrapes' ends
  const [busy0, total0] = cpuJiffies(CONTROL_CPU);
  const cpu0 = threadCpu(b.child.pid as number);
  const started = process.hrtime.bigint();
  const calls = await callsFor(api, WINDOW_MS);
  const s = since(started) / 1000;
  const cpu1 = threadCpu(b.child.pid as number);
  const [busy1, total1] = cpuJiffies(CONTROL_CPU);
  const after = await healthCounts(port);
  const countedS = since(counted) / 1000;
  const dests = SERVICES * DESTS;
  const asked = seconds === undefined ? 0 : dests / seconds;
  return [
    seconds === undefined ? 'none' : type,
    seconds === undefined ? 'none' : `${seconds} s`,
    seconds === undefined ? 0 : dests,
    asked,
    (after.checks - before.checks) / countedS,
    after.failedChecks - before.failedChecks,
    after.failedDests,
    (100 * (cpu1 - cpu0)) / s,
    (100 * (busy1 - busy0)) / (total1 - total0),
    percentile(calls, 50),
    percentile(calls, 99),
  ];
}

async function inside(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-bench-health-'));
  const listener = spawn('taskset', ['-c', String(LISTENER_CPU), process.execPath, '-e', LISTENER, ...PORTS.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let b: Balancer | undefined;
  let api: FulcrumApi | undefined;
  try {
    await new Promise<void>((resolve) => listener.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));
    const pcap = path.join(dir, 'echo.pcap');
    writeEchoPcap(pcap);
    b = await Balancer.start(dir, {
      devices: [`net_pcap0,rx_pcap=${pcap},infinite_rx=1`, 'net_null1'],
      dataplane: [`  max_services: ${Math.max(1024, SERVICES * 2)}`, `  max_dests: ${Math.max(8192, SERVICES * DESTS * 2)}`],
      metrics: ['per_dest: false'],
      health: IN_FLIGHT === undefined ? undefined : [`max_in_flight: ${IN_FLIGHT}`],
    });
    execFileSync('taskset', ['-a', '-p', '-c', String(CONTROL_CPU), String(process.pid)], { stdio: 'ignore' });
    api = new FulcrumApi(b.socket, 120_000, 256 << 20);
    const port = metricsPort(dir);
    const rows: Row[] = [];
    rows.push(await measure(b, api, port, 'tcp', undefined));
    for (const type of TYPES) for (const seconds of INTERVALS) rows.push(await measure(b, api, port, type, seconds));
    console.log(`bench/control-health: ${SERVICES} services x ${DESTS} dests, checks (timeout 1 s) against a local listener, ${WINDOW_MS / 1000} s windows, 1 worker answering a net_pcap echo flood\n`);
    table(['check', 'interval', 'checked dests', 'checks/s asked', 'checks/s done', 'checks failed', 'dests failed', 'control thread CPU %', 'CPU 0 busy %', 'GetService p50 ms', 'p99 ms'], rows);
  } finally {
    api?.close();
    await b?.stop();
    listener.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env[INSIDE] === undefined) {
  process.exitCode = outside();
} else {
  inside().catch((err) => {
    console.error(`bench/control-health: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}

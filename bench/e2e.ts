// SPDX-License-Identifier: Apache-2.0
//
// bench/e2e: HTTP through Fulcrum and its peers on one sandbox network, with
// wrk (see bench/README.md, "e2e"). Run by bench/e2e.sh; prints the table on
// stdout and its progress on stderr. Exit status 0 when every measurement
// succeeded and every system answered every request, 1 otherwise.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Sandbox, serverNamespace } from '../control/src/demo/sandbox';
import {
  DIRECT, HAPROXY, NFTABLES, NGINX_STREAM, SERVERS, fulcrum, serverNginx, type Bench, type System,
} from './e2e-systems';
import { runWrk, type Load, type WrkResult } from './e2e-wrk';

const TAG = 'be2e';
const knob = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const ROUNDS = knob('BENCH_E2E_ROUNDS', 3);
const SECONDS = knob('BENCH_E2E_SECONDS', 5);
const CONNECTIONS = knob('BENCH_E2E_CONNS', 64);
const FULLNAT = knob('BENCH_E2E_FULLNAT', 1) === 1;
/** Also Fulcrum af_packet NAT with this dataplane.idle_sleep_us (0: no such row). */
const IDLE_SLEEP_US = knob('BENCH_E2E_IDLE_SLEEP_US', 10);
/** Only the systems whose names contain one of these (comma-separated), and direct. */
const ONLY = (process.env.BENCH_E2E_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const LOAD_CPU = 0;
const LB_CPU = 1;
/** A row's servers must each get at least this share of the packets (rr over 3 gives a third each). */
const MIN_SHARE = 0.2;

const log = (s: string) => process.stderr.write(`bench e2e: ${s}\n`);

interface Sample {
  keepalive: WrkResult;
  close: WrkResult;
}

const FETCH = `fetch(process.argv[1]).then(async (r) => { const t = await r.text(); process.stdout.write(t); process.exit(r.ok && /^s\\d /.test(t) ? 0 : 1); },
  (e) => { process.stderr.write(String(e.cause ?? e)); process.exit(2); })`;

/** Waits until url answers 200 with a real server's body. */
async function probe(b: Bench, url: string): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const r = await b.net.topo.exec('client', [process.execPath, '-e', FETCH, url], { timeoutMs: 3_000 });
    if (r.code === 0) return;
    last = (r.stdout + r.stderr).trim();
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${url} did not answer with a server's page in 15 s: ${last}`);
}

/** Packets each server's eth0 received so far. */
async function serverRx(b: Bench): Promise<number[]> {
  return Promise.all(Array.from({ length: SERVERS }, async (_, i) => {
    const r = await b.net.topo.exec(serverNamespace(i), ['cat', '/sys/class/net/eth0/statistics/rx_packets']);
    return Number(r.stdout.trim());
  }));
}

/** One system, once: start, check, warm up, measure both loads, stop. */
async function measure(b: Bench, sys: System): Promise<{ sample: Sample; problems: string[]; notes: string[] }> {
  const running = await sys.start(b);
  try {
    // One request per server (every balancer here goes round robin), so
    // that all are reached, and their neighbours resolved, before the load.
    for (let i = 0; i < SERVERS; i++) await probe(b, sys.url);
    const wrk = (load: Load, seconds: number) =>
      runWrk(b.net.topo, { url: sys.url, load, seconds, connections: CONNECTIONS, cpu: LOAD_CPU });
    await wrk('keepalive', 1);
    await running.mark();
    const rx0 = await serverRx(b);
    const keepalive = await wrk('keepalive', SECONDS);
    const close = await wrk('close', SECONDS);
    const rx1 = await serverRx(b);
    const { problems, notes } = await running.report();
    for (const [load, r] of [['keep-alive', keepalive], ['close', close]] as const) {
      if (r.errors > 0 || r.requests === 0) problems.push(`${load}: ${r.errors} errors in ${r.requests} requests`);
    }
    const got = rx1.map((v, i) => v - rx0[i]);
    const total = got.reduce((a, c) => a + c, 0);
    if (sys.kind !== 'ceiling' && got.some((g) => g < MIN_SHARE * total)) {
      problems.push(`unbalanced: server packets ${got.join(' / ')}`);
    }
    return { sample: { keepalive, close }, problems, notes };
  } finally {
    await running.stop();
  }
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function table(systems: System[], samples: Map<string, Sample[]>, unavailable: Map<string, string>, load: Load): string[] {
  const med = (name: string, f: (r: WrkResult) => number) => {
    const s = samples.get(name) ?? [];
    return s.length > 0 ? median(s.map((x) => f(x[load]))) : undefined;
  };
  const rate = (name: string) => med(name, (r) => r.rate);
  const peers = systems.filter((s) => s.kind === 'peer').map((s) => rate(s.name)).filter((v): v is number => v !== undefined);
  const best = peers.length > 0 ? Math.max(...peers) : undefined;
  const direct = rate(DIRECT.name);
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : 'n/a');
  const what = load === 'keepalive' ? 'requests/s (keep-alive)' : 'new conns/s (Connection: close)';
  const lines = [
    `| system | ${what} | runs | x best peer | x direct | p50 ms | p99 ms |`,
    '|---|---:|---|---:|---:|---:|---:|',
  ];
  for (const sys of systems) {
    const why = unavailable.get(sys.name);
    const r = rate(sys.name);
    if (why !== undefined || r === undefined) {
      lines.push(`| ${sys.name} | ${why !== undefined ? 'unavailable' : 'FAILED'} | | | | | |`);
      continue;
    }
    const runs = (samples.get(sys.name) ?? []).map((x) => Math.round(x[load].rate)).join(', ');
    lines.push(`| ${sys.name} | ${Math.round(r)} | ${runs} | ${ratio(r, best)} | ${ratio(r, direct)} | ` +
      `${med(sys.name, (x) => x.p50Ms)!.toFixed(2)} | ${med(sys.name, (x) => x.p99Ms)!.toFixed(2)} |`);
  }
  return lines;
}

/** Each side's receive processing on its own CPU: the load's interfaces on LOAD_CPU, the balancer's on LB_CPU. */
async function steerReceive(b: Bench): Promise<void> {
  const mask = (cpu: number) => (1 << cpu).toString(16);
  const ifaces: [string, string, number][] = [
    ['client', 'eth0', LOAD_CPU], ['client', 'eth1', LOAD_CPU], ['lb', 'wan0', LB_CPU], ['lb', 'lan0', LB_CPU],
    ...Array.from({ length: SERVERS }, (_, i) => [serverNamespace(i), 'eth0', LOAD_CPU] as [string, string, number]),
  ];
  for (const [ns, dev, cpu] of ifaces) {
    const r = await b.net.topo.exec(ns, ['sh', '-c', `echo ${mask(cpu)} > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]);
    if (r.code !== 0) throw new Error(`RPS for ${ns}/${dev}: ${r.stderr.trim()}`);
  }
  for (const ns of ['client', 'lb']) {
    await b.net.topo.exec(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1025 65535']);
  }
}

async function main(): Promise<number> {
  const all: System[] = [DIRECT, fulcrum({ driver: 'net_af_packet', forward: 'nat' }), fulcrum({ driver: 'net_af_xdp', forward: 'nat' }),
    NFTABLES, HAPROXY, NGINX_STREAM,
    ...(FULLNAT ? [fulcrum({ driver: 'net_af_packet', forward: 'fullnat' }), fulcrum({ driver: 'net_af_xdp', forward: 'fullnat' })] : []),
    ...(IDLE_SLEEP_US > 0 ? [fulcrum({ driver: 'net_af_packet', forward: 'nat', idleSleepUs: IDLE_SLEEP_US })] : [])];
  // The direct row is every ratio's reference, so it always runs.
  const systems = ONLY.length === 0 ? all : all.filter((s) => s === DIRECT || ONLY.some((o) => s.name.includes(o)));
  const dir = mkdtempSync(path.join(os.tmpdir(), `${TAG}-`));
  chmodSync(dir, 0o755);  // nginx's workers run as www-data
  log(`building the sandbox (tag ${TAG}, config files in ${dir})`);
  const net = await Sandbox.network({ tag: TAG, servers: SERVERS, clientLan: true, httpServer: serverNginx(dir, LOAD_CPU) })
    .catch((err: unknown) => { rmSync(dir, { recursive: true, force: true }); throw err; });
  const b: Bench = {
    net, tag: TAG, dir, lbCpu: LB_CPU, loadCpu: LOAD_CPU,
    maxConns: knob('BENCH_E2E_MAX_CONNS', 262_144),
    ealArgs: ['--socket-mem=256', '--socket-limit=256'],
  };
  const samples = new Map<string, Sample[]>();
  const unavailable = new Map<string, string>();
  const notes: string[] = [];
  let failed = false;
  try {
    await steerReceive(b);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const sys of systems) {
        if (unavailable.has(sys.name)) continue;
        try {
          const m = await measure(b, sys);
          (samples.get(sys.name) ?? samples.set(sys.name, []).get(sys.name)!).push(m.sample);
          const k = m.sample.keepalive, c = m.sample.close;
          log(`round ${round}: ${sys.name}: ${Math.round(k.rate)} req/s (p99 ${k.p99Ms} ms), ${Math.round(c.rate)} conns/s (p99 ${c.p99Ms} ms)` +
            (m.notes.length > 0 ? `; ${m.notes.join('; ')}` : ''));
          if (round === ROUNDS && m.notes.length > 0) notes.push(`${sys.name}: ${m.notes.join('; ')}`);
          if (m.problems.length > 0) {
            failed = true;
            log(`round ${round}: ${sys.name}: PROBLEM: ${m.problems.join('; ')}`);
            notes.push(`${sys.name}, round ${round}: PROBLEM: ${m.problems.join('; ')}`);
          }
        } catch (err) {
          const msg = String((err as Error).message ?? err);
          if (sys.name.includes('af_xdp') && round === 1) {
            // Whether af_xdp runs on this kernel and veth is found out here, from its own error.
            const why = msg.split('\n').filter((l) => /error|fail|cannot|not supported/i.test(l)).slice(0, 4).join(' / ') || msg.slice(0, 300);
            for (const s of systems) if (s.name.includes('af_xdp')) unavailable.set(s.name, why);
            log(`${sys.name}: unavailable: ${msg}`);
            continue;
          }
          failed = true;
          log(`round ${round}: ${sys.name} FAILED: ${msg}`);
        }
      }
    }
  } finally {
    await net.topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log();
  console.log(table(systems, samples, unavailable, 'keepalive').join('\n'));
  console.log();
  console.log(table(systems, samples, unavailable, 'close').join('\n'));
  console.log();
  for (const [name, why] of unavailable) console.log(`${name}: unavailable: ${why}`);
  for (const n of notes) console.log(n);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});

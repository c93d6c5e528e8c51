// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum demo`: the sandbox topology, shown to a person. A client
// namespace resolves the balancer's address by ARP and pings it; both are
// answered by the DPDK dataplane, whose counters are printed. Runs until
// Ctrl-C on a terminal (or for --duration seconds), then cleans up.

import * as path from 'node:path';

import { BALANCER_ADDRESS, METRICS_URL, Sandbox, WEB_LADDR, WEB_SERVICE, WEB_SERVICE_FULLNAT, WEB_VIP as VIP } from '../demo/sandbox';
import { listServices } from './client-read';
import { withApi } from './remote';

const DEFAULT_NON_TTY_SEC = 3;
const HTTP_LOAD = path.resolve(__dirname, '../demo/http-load.js');
const REQUESTS = 300;
const BATCH = 50;

export type DemoForward = 'fullnat' | 'nat';

export async function runDemo(opts: { durationSec?: number; forward?: DemoForward }): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('the demo creates network namespaces: run it as root');
  const forward = opts.forward ?? 'fullnat';
  step('building the sandbox: client <-> balancer (DPDK net_af_packet wan0, lan0) <-> 3 HTTP servers');
  process.stdout.write(
    indent(
      forward === 'fullnat'
        ? `FULLNAT: the servers see the balancer's local address ${WEB_LADDR} as the client and have no route to it`
        : 'NAT: the servers route their replies back through the balancer',
    ),
  );
  const services = forward === 'fullnat' ? WEB_SERVICE_FULLNAT : WEB_SERVICE;
  const sb = await Sandbox.start({ tag: 'demo', servers: 3, services, serverMode: forward });
  try {
    process.stdout.write(indent(sb.log.trim()));
    await showArp(sb);
    await showPing(sb);
    await showHttp(sb);
    await showCounters(sb);
    await showMetrics(sb);
    await showApi(sb);
    await keepRunning(sb, opts.durationSec ?? (process.stdout.isTTY ? Infinity : DEFAULT_NON_TTY_SEC));
  } finally {
    step('stopping the balancer and removing the namespaces');
    await sb.stop();
  }
  return 0;
}

async function showArp(sb: Sandbox): Promise<void> {
  step(`client: ARP for ${BALANCER_ADDRESS}`);
  await sb.client(['ping', '-c', '1', '-W', '2', BALANCER_ADDRESS]);
  const neigh = await sb.client(['ip', 'neigh', 'show', BALANCER_ADDRESS]);
  const answered = neigh.stdout.toLowerCase().includes(sb.balancerMac);
  process.stdout.write(indent(neigh.stdout.trim()));
  process.stdout.write(indent(answered ? `resolved to the DPDK port's MAC ${sb.balancerMac}` : 'NOT resolved to the DPDK port'));
  if (!answered) throw new Error('the dataplane did not answer ARP');
}

async function showPing(sb: Sandbox): Promise<void> {
  step(`client: ping ${BALANCER_ADDRESS}`);
  const ping = await sb.client(['ping', '-c', '3', '-i', '0.2', '-W', '2', BALANCER_ADDRESS]);
  process.stdout.write(indent(ping.stdout.trim()));
  if (ping.code !== 0) throw new Error('the dataplane did not answer ping');
}

async function showHttp(sb: Sandbox): Promise<void> {
  step(`client: ${REQUESTS} HTTP requests to ${VIP}:80, each on a new connection (wrr 3:2:1 over s1, s2, s3)`);
  const totals: Record<string, number> = {};
  let errors = 0;
  for (let done = 0; done < REQUESTS; done += BATCH) {
    const r = await sb.client([process.execPath, HTTP_LOAD, `http://${VIP}/`, String(BATCH)], 60_000);
    const batch = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
    for (const [k, v] of Object.entries(batch.answers)) totals[k] = (totals[k] ?? 0) + v;
    errors += batch.errors;
    const shares = Object.keys(totals).sort().map((k) => `${k} ${totals[k]}`).join(', ');
    process.stdout.write(`  ${String(done + BATCH).padStart(4)}/${REQUESTS}: ${shares}; errors ${errors}\n`);
  }
  if (errors > 0) throw new Error(`${errors} HTTP requests failed`);
}

async function showCounters(sb: Sandbox): Promise<void> {
  step('per-lcore counters, neighbour tables and services (fulcrum start prints them on SIGUSR1)');
  process.stdout.write(indent(await sb.status()));
}

async function showMetrics(sb: Sandbox): Promise<void> {
  step(`Prometheus metrics (GET ${METRICS_URL} in the balancer namespace ${sb.topo.nsName('lb')}), per dest`);
  const r = await sb.get(METRICS_URL);
  if (!r.ok) throw new Error(`metrics: ${r.body}`);
  process.stdout.write(indent(r.body.split('\n').filter((l) => l.startsWith('fulcrum_dest_connections_total')).join('\n')));
}

async function showApi(sb: Sandbox): Promise<void> {
  step(`the same services over the gRPC API: fulcrum list --stats --socket ${sb.socket}`);
  process.stdout.write(indent(await withApi(sb.socket, (api) => listServices(api, { view: 'stats', json: false }))));
  process.stdout.write(`  (while the demo runs, try: npx fulcrum list --rate --socket ${sb.socket})\n`);
}

async function keepRunning(sb: Sandbox, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  step(Number.isFinite(seconds) ? `pinging for ${seconds} s more` : 'pinging once a second; Ctrl-C to stop');
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const ping = await sb.client(['ping', '-c', '1', '-W', '1', BALANCER_ADDRESS]);
    const rtt = /time=([\d.]+ ms)/.exec(ping.stdout)?.[1] ?? 'no reply';
    const c = await sb.counters();
    process.stdout.write(`  echo ${rtt}; rx ${c.rx_packets} tx ${c.tx_packets} icmp_echo_replies ${c.icmp_echo_replies}\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function step(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function indent(text: string): string {
  return `${text.split('\n').map((l) => `  ${l}`).join('\n')}\n`;
}

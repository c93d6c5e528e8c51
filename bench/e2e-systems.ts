// SPDX-License-Identifier: Apache-2.0
//
// What bench/e2e balances through, each started and stopped on the same
// sandbox network (control/src/demo/sandbox.ts: client, balancer namespace
// `lb` with wan0 and lan0, three nginx real servers on a bridged LAN, and
// the client's own leg on that LAN for the direct rows):
//
//   direct          the client to server 1, no balancer (the ceiling)
//   fulcrum ...     `fulcrum start` on wan0/lan0 (af_packet or af_xdp), rr, NAT or FULLNAT
//   nftables dnat   the lb kernel forwards, DNAT to `numgen inc mod 3`
//   haproxy         HAProxy mode tcp, balance roundrobin, one thread
//   nginx stream    nginx stream proxy_pass, round robin, one worker
//
// The kernel peers get the addresses Fulcrum's ports own (wan0 10.0.0.2 and
// the VIP, lan0 10.0.1.2); the servers route to the clients via 10.0.1.2
// in every case, which NAT and DNAT need and the proxies ignore.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { schedNote, schedTimes } from './e2e-wrk';
import {
  LAN_ADDRESS, Sandbox, WEB_VIP, serverAddress, type SandboxNetwork,
} from '../control/src/demo/sandbox';

export const SERVERS = 3;

export interface Bench {
  net: SandboxNetwork;
  tag: string;
  /** A directory of this run's config files. */
  dir: string;
  /** The balancer's CPU and the load's (wrk, servers). */
  lbCpu: number;
  loadCpu: number;
  /** Fulcrum: connections per worker, EAL memory arguments. */
  maxConns: number;
  ealArgs: string[];
}

export interface Running {
  stop(): Promise<void>;
  /** The start of the measured window: report() covers what happened since (not the warm-up). */
  mark(): Promise<void>;
  /** Problems seen while it ran (drop counters, say), and what is worth printing about it. */
  report(): Promise<{ problems: string[]; notes: string[] }>;
}

export interface System {
  name: string;
  /** The URL wrk loads. */
  url: string;
  kind: 'ceiling' | 'peer' | 'fulcrum';
  start(b: Bench): Promise<Running>;
}

const VIP_URL = `http://${WEB_VIP}/`;
const DESTS = Array.from({ length: SERVERS }, (_, i) => serverAddress(i));
// FULLNAT local addresses: each has ~64k ports, which a connection holds
// through TIME_WAIT (120 s). Each start takes the next block of 8 of
// 10.0.1.50-113: a fresh balancer hands its ports out from the start again,
// and a <laddr, lport> a server still holds in TIME_WAIT from the run
// before (60 s) gets its SYN answered with the old connection's ACK,
// which costs the client a retransmission (1 s): 0.03 x the rate, seen.
const LADDR_BLOCK = 8;
const LADDR_BLOCKS = 8;
let laddrStarts = 0;
function nextLaddrs(): string[] {
  const base = 50 + LADDR_BLOCK * (laddrStarts++ % LADDR_BLOCKS);
  return Array.from({ length: LADDR_BLOCK }, (_, i) => `10.0.1.${base + i}`);
}

const nothing = async () => ({ problems: [], notes: [] });
const noop = async () => undefined;

export const DIRECT: System = {
  name: 'direct (client -> server 1)',
  url: `http://${serverAddress(0)}/`,
  kind: 'ceiling',
  start: async () => ({ stop: noop, mark: noop, report: nothing }),
};

export interface FulcrumVariant {
  driver: 'net_af_packet' | 'net_af_xdp';
  forward: 'nat' | 'fullnat';
  /** dataplane.idle_sleep_us (default 0: the worker polls without pause). */
  idleSleepUs?: number;
}

export function fulcrum(v: FulcrumVariant): System {
  const sleep = v.idleSleepUs ? `, idle_sleep_us ${v.idleSleepUs}` : '';
  return {
    name: `fulcrum ${v.driver.replace('net_', '')} ${v.forward}${sleep}`,
    url: VIP_URL,
    kind: 'fulcrum',
    start: (b) => startFulcrum(b, v),
  };
}

function fulcrumService(forward: 'nat' | 'fullnat'): string {
  return [
    '  - name: web',
    '    protocol: tcp',
    `    vip: ${WEB_VIP}`,
    '    port: 80',
    '    scheduler: rr',
    `    forward: ${forward}`,
    ...(forward === 'fullnat' ? [`    local_addresses: [${nextLaddrs().join(', ')}]`] : []),
    '    dests:',
    ...DESTS.map((d) => `      - { address: ${d}, port: 80 }`),
  ].join('\n');
}

// Counters that mean a request was lost, not noise such as IPv6 neighbour
// discovery the kernel sends on every veth (drop_ethertype, drop_not_ours).
const LOSS_COUNTERS = ['drop_tx_full', 'drop_no_mbuf', 'drop_conn_pool_full', 'drop_conn_index_full', 'drop_laddr_exhausted',
  'drop_neigh_hold_full', 'drop_neigh_failed', 'drop_no_dest', 'drop_redirect_full'];

const WORKER_THREAD = /^rte-worker-/;

async function startFulcrum(b: Bench, v: FulcrumVariant): Promise<Running> {
  const sb = await Sandbox.startOn(b.net, {
    tag: b.tag,
    servers: SERVERS,
    lcores: `${b.loadCpu},${b.lbCpu}`,  // the control thread first, then the worker
    portDriver: v.driver,
    ealArgs: b.ealArgs,
    maxConns: b.maxConns,
    services: fulcrumService(v.forward),
    dataplane: v.idleSleepUs ? [`  idle_sleep_us: ${v.idleSleepUs}`] : [],
  });
  const pid = sb.balancer.pid!;
  const sched = () => ({ ...schedTimes(pid, WORKER_THREAD), at: Date.now() });
  let before = await sb.counters();
  let sched0 = sched();
  return {
    mark: async () => { before = await sb.counters(); sched0 = sched(); },
    stop: async () => {
      await sb.stop();
      // A port that did not close cleanly could leave its XDP program on the veth.
      for (const dev of ['wan0', 'lan0']) await b.net.topo.exec('lb', ['ip', 'link', 'set', 'dev', dev, 'xdp', 'off']);
    },
    report: async () => {
      const sched1 = sched();
      const after = await sb.counters();
      const moved = (k: string) => Number((after[k] ?? 0n) - (before[k] ?? 0n));
      const problems = LOSS_COUNTERS.filter((k) => moved(k) > 0).map((k) => `${k} ${moved(k)}`);
      const busy = moved('polls_busy');
      const polls = busy + moved('polls_idle');
      const drops = Object.keys(after).filter((k) => k.startsWith('drop_') && moved(k) > 0 && !LOSS_COUNTERS.includes(k));
      const notes = [
        `worker thread ${schedNote(sched0, sched1)}`,
        `polls with packets: ${polls > 0 ? ((100 * busy) / polls).toFixed(1) : '?'}% of ${polls}`,
        `rx ${moved('rx_packets')} tx ${moved('tx_packets')} pkts`,
        ...(drops.length > 0 ? [`other drops: ${drops.map((k) => `${k} ${moved(k)}`).join(', ')}`] : []),
      ];
      return { problems, notes };
    },
  };
}

// ------------------------------------------------------------ kernel peers

/** The kernel of the lb namespace takes the balancer's addresses; undone by the returned function. */
async function kernelAddresses(b: Bench, forwarding: boolean): Promise<() => Promise<void>> {
  const topo = b.net.topo;
  const sh = async (argv: string[]) => {
    const r = await topo.exec('lb', argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} in lb: ${r.stderr.trim()}`);
  };
  await sh(['ip', 'addr', 'add', '10.0.0.2/24', 'dev', 'wan0']);
  await sh(['ip', 'addr', 'add', `${WEB_VIP}/32`, 'dev', 'wan0']);
  await sh(['ip', 'addr', 'add', `${LAN_ADDRESS}/24`, 'dev', 'lan0']);
  await sh(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${forwarding ? 1 : 0}`]);
  return async () => {
    await sh(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    for (const dev of ['wan0', 'lan0']) await sh(['ip', 'addr', 'flush', 'dev', dev]);
  };
}

/** A long-running peer process in the lb namespace, pinned to the balancer CPU. */
function spawnPinned(b: Bench, argv: string[]): { child: ChildProcess; output: () => string } {
  const child = b.net.topo.spawn('lb', ['taskset', '-c', String(b.lbCpu), ...argv]);
  let out = '';
  const keep = (d: Buffer) => { if (out.length < 65536) out += d.toString(); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

function childPids(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...childPids(k)]);
  } catch {
    return [];
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try { process.kill(-child.pid!, 'SIGTERM'); } catch { child.kill('SIGTERM'); }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
}

async function peerProcess(b: Bench, argv: string[]): Promise<Running> {
  const undo = await kernelAddresses(b, false);
  const p = spawnPinned(b, argv);
  await new Promise((r) => setTimeout(r, 300));
  if (p.child.exitCode !== null) {
    await undo();
    throw new Error(`${argv[0]} exited with ${p.child.exitCode}: ${p.output().trim()}`);
  }
  // All threads and processes of the peer: taskset execs it, nginx forks its worker.
  const sched = () => {
    const pids = [p.child.pid!, ...childPids(p.child.pid!)];
    const t = pids.map((x) => schedTimes(x)).reduce((a, c) => ({ runNs: a.runNs + c.runNs, waitNs: a.waitNs + c.waitNs }));
    return { ...t, at: Date.now() };
  };
  let sched0 = sched();
  return {
    stop: async () => { await stopChild(p.child); await undo(); },
    mark: async () => { sched0 = sched(); },
    report: async () => ({
      problems: p.child.exitCode !== null ? [`exited with ${p.child.exitCode}: ${p.output().trim()}`] : [],
      notes: [`${argv[0]} ${schedNote(sched0, sched())}`],
    }),
  };
}

export const NFTABLES: System = {
  name: 'nftables dnat',
  url: VIP_URL,
  kind: 'peer',
  start: async (b) => {
    const undo = await kernelAddresses(b, true);
    const map = DESTS.map((d, i) => `${i} : ${d}`).join(', ');
    const rules = `table ip be2e {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${WEB_VIP} tcp dport 80 dnat to numgen inc mod ${SERVERS} map { ${map} }
  }
}
`;
    const r = await b.net.topo.exec('lb', ['nft', '-f', '-'], { input: rules });
    if (r.code !== 0) { await undo(); throw new Error(`nft: ${r.stderr.trim()}`); }
    return {
      stop: async () => { await b.net.topo.exec('lb', ['nft', 'delete', 'table', 'ip', 'be2e']); await undo(); },
      mark: noop,
      report: async () => {
        const c = await b.net.topo.exec('lb', ['sh', '-c', 'cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max']);
        const [count, max] = c.stdout.trim().split(/\s+/).map(Number);
        return { problems: count >= max ? [`conntrack table full (${count})`] : [], notes: [`conntrack entries ${count} of ${max}`] };
      },
    };
  },
};

/** A proxy in the lb namespace: its config file, written per start, and the argv that runs it. */
function proxyPeer(name: string, file: string, config: (b: Bench) => string[], argv: (cfg: string) => string[]): System {
  return {
    name,
    url: VIP_URL,
    kind: 'peer',
    start: (b) => {
      const cfg = path.join(b.dir, file);
      writeFileSync(cfg, [...config(b), ''].join('\n'));
      return peerProcess(b, argv(cfg));
    },
  };
}

export const HAPROXY = proxyPeer('haproxy tcp', 'haproxy.cfg', () => [
  'global',
  '  maxconn 8000',  // 2 fds each, under the 20000 fd hard limit
  '  nbthread 1',
  'defaults',
  '  mode tcp',
  '  timeout connect 5s',
  '  timeout client 60s',
  '  timeout server 60s',
  'frontend web',
  `  bind ${WEB_VIP}:80`,
  '  default_backend servers',
  'backend servers',
  '  balance roundrobin',
  ...DESTS.map((d, i) => `  server s${i + 1} ${d}:80`),
], (cfg) => ['haproxy', '-f', cfg, '-db']);

export const NGINX_STREAM = proxyPeer('nginx stream', 'nginx-stream.conf', (b) => [
  'load_module /usr/lib/nginx/modules/ngx_stream_module.so;',
  'worker_processes 1;',
  `pid ${path.join(b.dir, 'nginx-stream.pid')};`,
  'error_log stderr warn;',
  'events { worker_connections 16384; }',
  'stream {',
  `  upstream web { ${DESTS.map((d) => `server ${d}:80;`).join(' ')} }`,
  `  server { listen ${WEB_VIP}:80 backlog=4096; proxy_pass web; }`,
  '}',
], (cfg) => ['nginx', '-e', 'stderr', '-c', cfg, '-g', 'daemon off;']);

/** The real servers' nginx: one worker, a 64-byte static body, no log, keep-alive without a request limit. */
export function serverNginx(dir: string, loadCpu: number): (ns: string) => string[] {
  return (ns) => {
    const root = path.join(dir, `www-${ns}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'index.html'), `${ns} `.padEnd(63, '.') + '\n');
    const cfg = path.join(dir, `nginx-${ns}.conf`);
    writeFileSync(cfg, [
      'worker_processes 1;',
      `pid ${path.join(dir, `nginx-${ns}.pid`)};`,
      // The notice "using the epoll event method" comes once the socket
      // listens; the sandbox waits for a line on stdout, hence 2>&1 below.
      'error_log stderr notice;',
      'events { worker_connections 16384; }',
      'http {',
      '  access_log off;',
      '  keepalive_requests 100000000;',
      `  server { listen 80 backlog=4096; root ${root}; }`,
      '}',
      '',
    ].join('\n'));
    return ['sh', '-c', `exec taskset -c ${loadCpu} nginx -e stderr -c ${cfg} -g 'daemon off;' 2>&1`];
  };
}

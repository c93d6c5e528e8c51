// SPDX-License-Identifier: Apache-2.0
//
// The sandbox: a client namespace wired to a balancer namespace in which
// `fulcrum start` runs on an af_packet port. The demo shows it to a person;
// the end-to-end tests make assertions on it. Both use this one builder.
//
//   client ns                      balancer ns
//   eth0 10.0.0.1/24  <-- veth -->  wan0 (DPDK net_af_packet, owns 10.0.0.2/24)
//                                   lan0 (DPDK net_af_packet, owns 10.0.1.2/24)  <-- veth -->  switch ns
//                                                                  (bridge)  <-- veth -->  s1 eth0 10.0.1.11/24
//                                                                            <-- veth -->  s2 eth0 10.0.1.12/24 ...
// With servers, each real server runs a small HTTP server on port 80 that
// answers with its name, and routes back through the balancer (NAT).

import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Topology, type LinkSpec, type TopologySpec } from '../netns/topology';

export const CLIENT_ADDRESS = '10.0.0.1';
export const BALANCER_ADDRESS = '10.0.0.2';
const READY_LINE = 'fulcrum: ready';
const START_TIMEOUT_MS = 30_000;
const BIN = path.resolve(__dirname, '../../../../bin/fulcrum.js');

export interface SandboxOptions {
  /** Short label for namespace names. */
  tag: string;
  /** EAL lcore list; the first is the control thread (default "0-1"). */
  lcores?: string;
  /** Real servers behind the balancer's lan port (default none). */
  servers?: number;
  /** The config's services section, as YAML list items. */
  services?: string;
}

export const LAN_ADDRESS = '10.0.1.2';
export function serverAddress(i: number): string {
  return `10.0.1.${11 + i}`;
}

const HTTP_SERVER = `require('http').createServer((q, r) => r.end(process.argv[1] + '\\n')).listen(80, () => console.log('listening'))`;

export class Sandbox {
  private output = '';

  private constructor(
    readonly topo: Topology,
    readonly balancer: ChildProcess,
    private readonly configPath: string,
  ) {
    balancer.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    balancer.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Builds the namespaces and starts the balancer; resolves once it is ready. */
  static async start(opts: SandboxOptions): Promise<Sandbox> {
    const topo = await Topology.create(topologySpec(opts));
    const configPath = path.join(os.tmpdir(), `fulcrum-${opts.tag}-${process.pid}.yaml`);
    try {
      await startServers(topo, opts.servers ?? 0);
      writeFileSync(configPath, sandboxConfig(opts));
      const child = topo.spawn('lb', [process.execPath, BIN, 'start', '--config', configPath]);
      const sandbox = new Sandbox(topo, child, configPath);
      await sandbox.waitFor(READY_LINE, START_TIMEOUT_MS);
      return sandbox;
    } catch (err) {
      await topo.destroy();
      rmSync(configPath, { force: true });
      throw err;
    }
  }

  /** Everything the balancer printed so far. */
  get log(): string {
    return this.output;
  }

  /** The DPDK port's MAC, as the balancer reported it at start. */
  get balancerMac(): string {
    const m = /port wan \S+ ([0-9A-Fa-f:]{17})/.exec(this.output);
    if (!m) throw new Error(`balancer did not report its MAC:\n${this.output}`);
    return m[1].toLowerCase();
  }

  client(argv: string[], timeoutMs = 10_000) {
    return this.topo.exec('client', argv, { timeoutMs });
  }

  /** Asks the balancer for its status dump (SIGUSR1) and returns the text. */
  async status(): Promise<string> {
    const mark = this.output.length;
    this.balancer.kill('SIGUSR1');
    await this.waitFor('\n\n', 5_000, mark);
    return this.output.slice(mark, this.output.indexOf('\n\n', mark));
  }

  /** The counters summed over the workers. */
  async counters(): Promise<Record<string, bigint>> {
    return parseCounterTable(await this.status()).total;
  }

  /** Stops the balancer (SIGTERM), removes namespaces and the config file. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      if (this.balancer.exitCode !== null) resolve(this.balancer.exitCode);
      else this.balancer.once('exit', (code) => resolve(code));
    });
    this.balancer.kill('SIGTERM');
    const code = await Promise.race([exited, delay(10_000).then(() => null)]);
    await this.topo.destroy();
    rmSync(this.configPath, { force: true });
    return code;
  }

  private waitFor(text: string, timeoutMs: number, from = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.output.indexOf(text, from) >= 0) return finish();
        if (this.balancer.exitCode !== null) return finish(new Error(`balancer exited with ${this.balancer.exitCode}:\n${this.output}`));
      };
      const timer = setTimeout(() => finish(new Error(`no '${text.trim()}' from the balancer in ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const onData = () => check();
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.balancer.stdout?.off('data', onData);
        this.balancer.off('exit', onData);
        if (err) reject(err);
        else resolve();
      };
      this.balancer.stdout?.on('data', onData);
      this.balancer.on('exit', onData);
      check();
    });
  }
}

function topologySpec(opts: SandboxOptions): TopologySpec {
  const servers = Array.from({ length: opts.servers ?? 0 }, (_, i) => `s${i + 1}`);
  const links: LinkSpec[] = [{ a: { ns: 'client', ifname: 'eth0', address: `${CLIENT_ADDRESS}/24` }, b: { ns: 'lb', ifname: 'wan0' } }];
  if (servers.length > 0) links.push({ a: { ns: 'lb', ifname: 'lan0' }, b: { ns: 'sw', ifname: 'p0' } });
  servers.forEach((ns, i) =>
    links.push({ a: { ns, ifname: 'eth0', address: `${serverAddress(i)}/24` }, b: { ns: 'sw', ifname: `p${i + 1}` } }),
  );
  return {
    tag: opts.tag,
    namespaces: ['client', 'lb', ...(servers.length > 0 ? ['sw', ...servers] : [])],
    links,
    routes: servers.map((ns) => ({ ns, prefix: 'default', via: LAN_ADDRESS })),
    // The client accepts gratuitous ARP, so the balancer's announcement
    // is visible in its neighbour table.
    sysctls: [{ ns: 'client', key: 'net.ipv4.conf.all.arp_accept', value: '1' }],
  };
}

// Bridges the servers' links in the switch namespace and starts their
// HTTP servers; resolves when every server listens.
async function startServers(topo: Topology, count: number): Promise<void> {
  if (count === 0) return;
  const sw = (argv: string[]) => topo.exec('sw', argv).then(check);
  await sw(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  for (let i = 0; i <= count; i++) await sw(['ip', 'link', 'set', `p${i}`, 'master', 'br0']);
  await sw(['ip', 'link', 'set', 'br0', 'up']);
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const child = topo.spawn(`s${i + 1}`, [process.execPath, '-e', HTTP_SERVER, `s${i + 1}`]);
      return new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`server s${i + 1} exited with ${code}`)));
      });
    }),
  );
}

function check(r: { code: number | null; stderr: string }): void {
  if (r.code !== 0) throw new Error(r.stderr);
}

function sandboxConfig(opts: SandboxOptions): string {
  const huge = hugepagesAvailable();
  const lan = (opts.servers ?? 0) > 0;
  return [
    'dataplane:',
    `  lcores: "${opts.lcores ?? '0-1'}"`,
    `  hugepages: ${huge}`,
    // Nothing shared on disk, so several sandboxes can run at once.
    `  eal_args: ["${huge ? '--in-memory' : '--no-shconf'}"]`,
    '  mbufs: 4095',
    '  max_conns: 16384',
    '  ports:',
    '    - name: wan',
    '      device: net_af_packet0,iface=wan0',
    `      address: ${BALANCER_ADDRESS}/24`,
    ...(lan ? ['    - name: lan', '      device: net_af_packet1,iface=lan0', `      address: ${LAN_ADDRESS}/24`] : []),
    ...(opts.services ? ['services:', opts.services] : []),
    '',
  ].join('\n');
}

// With hugepages the dataplane runs as in production; without, it still
// works (slower), so the sandbox runs on any machine.
function hugepagesAvailable(): boolean {
  const f = '/proc/sys/vm/nr_hugepages';
  return existsSync(f) && Number(readFileSync(f, 'utf8').trim()) > 0;
}

export interface CounterTable {
  total: Record<string, bigint>;
  /** One record per worker, in lcore order. */
  workers: Record<string, bigint>[];
}

/** Parses the table formatCounters prints: `name  w0 .. wN  total`. */
export function parseCounterTable(text: string): CounterTable {
  const table: CounterTable = { total: {}, workers: [] };
  for (const line of text.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 3 || !/^[a-z_]+$/.test(cells[0]) || !cells.slice(1).every((c) => /^\d+$/.test(c))) continue;
    const values = cells.slice(1).map(BigInt);
    table.total[cells[0]] = values[values.length - 1];
    values.slice(0, -1).forEach((v, w) => ((table.workers[w] ??= {})[cells[0]] = v));
  }
  return table;
}

export interface NeighbourLine {
  lcore: number;
  port: string;
  address: string;
  mac: string;
  state: string;
}

/** Parses the neighbour table of the status dump. */
export function parseNeighbours(text: string): NeighbourLine[] {
  const start = text.indexOf('neighbours:\n');
  if (start < 0) return [];
  const lines = text.slice(start).split('\n').slice(2);
  const rows: NeighbourLine[] = [];
  for (const line of lines) {
    const c = line.trim().split(/\s+/);
    if (c.length < 6 || !/^\d+$/.test(c[0])) break;
    rows.push({ lcore: Number(c[0]), port: c[1], address: c[2], mac: c[3], state: c[4] });
  }
  return rows;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
// answers with its name. The server mode says how the client's packets
// reach a server and how the replies come back:
//   nat  (default) the servers' default route is the balancer, which
//        rewrites the addresses both ways.
//   dr   direct routing: the balancer hands the client's frame, unchanged,
//        to the server's MAC.
//   tun  the balancer sends the client's packet inside IP-in-IP (proto 4)
//        to the server's address; the server decapsulates it on tunl0.
//   fullnat the balancer rewrites both addresses: the servers see one of
//        its local addresses as the client and answer it on the LAN; they
//        have no route to the clients at all.
// In dr and tun every server owns the VIPs (on lo, without answering ARP for
// them) and answers the client directly. For that the client has a second
// leg on the server LAN, and the servers route 10.0.0.0/24 through it:
//
//   client eth1 10.0.1.100/24  <-- veth -->  switch ns (bridge)
//
// The client still reaches the VIPs on eth0, where the balancer answers ARP
// for them: they are on the client's 10.0.0.0/24.
//
// With checkLeg, the balancer namespace's kernel also gets a leg on the
// server LAN, from which the control plane's health checks reach the
// servers (the DPDK ports are not the kernel's interfaces), as a
// management NIC on the server network does on a real balancer:
//
//   balancer hc0 10.0.1.3/24  <-- veth -->  switch ns (bridge)

import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Topology, type TopologySpec } from '../netns/topology';

export const CLIENT_ADDRESS = '10.0.0.1';
export const BALANCER_ADDRESS = '10.0.0.2';
/** The client's leg on the server LAN, which dr and tun replies arrive on. */
export const CLIENT_LAN_ADDRESS = '10.0.1.100';
const CLIENT_SUBNET = '10.0.0.0/24';
/** The device a tun-mode server decapsulates on. */
export const TUNNEL_DEVICE = 'tunl0';
const READY_LINE = 'fulcrum: ready';
const START_TIMEOUT_MS = 30_000;
const HELPER_READY_TIMEOUT_MS = 10_000;
const BIN = path.resolve(__dirname, '../../../../bin/fulcrum.js');

/** How the servers get the client's packets and answer; see the top of this file. */
export type ServerMode = 'nat' | 'dr' | 'tun' | 'fullnat';

export interface SandboxOptions {
  /** Short label for namespace names. */
  tag: string;
  /** EAL lcore list; the first is the control thread (default "0-1"). */
  lcores?: string;
  /** Real servers behind the balancer's lan port (default none). */
  servers?: number;
  /** The config's services section, as YAML list items. */
  services?: string;
  /** Default nat. dr and tun need servers and vips. */
  serverMode?: ServerMode;
  /** dr and tun: the VIPs every server owns (those of the dr and tun services). */
  vips?: string[];
  /** The API's unix socket; default: one in the sandbox's own directory, beside its state file. */
  socket?: string;
  /** Further lines of the config's dataplane section (YAML, indented two spaces). */
  dataplane?: string[];
  /** The config's snat section, as YAML list items. */
  snat?: string;
  /** Connections per worker (default 16384). */
  maxConns?: number;
  /** A kernel interface for health checks in the balancer namespace (see the top of this file). */
  checkLeg?: boolean;
  /**
   * The client's eth1 on the server LAN, without the dr/tun return routes:
   * the client reaches the servers directly (a benchmark's ceiling).
   */
  clientLan?: boolean;
  /** The balancer's DPDK driver for both ports (default net_af_packet). */
  portDriver?: 'net_af_packet' | 'net_af_xdp';
  /** More EAL arguments (a hugepage limit, say); the sandbox's own come first. */
  ealArgs?: string[];
  /** argv of each real server's HTTP server on port 80, which prints a line once it listens (default: a Node server answering its name). */
  httpServer?: (ns: string) => string[];
}

/** The namespaces and real servers of a sandbox, which balancers can be started on one after another. */
export interface SandboxNetwork {
  topo: Topology;
  /** Each real server's HTTP server process. */
  httpServers: ChildProcess[];
}

/** The balancer namespace's kernel address on the server LAN (checkLeg). */
export const CHECK_ADDRESS = '10.0.1.3';

export const LAN_ADDRESS = '10.0.1.2';

/** The demo's service: HTTP on VIP 10.0.0.100:80, wrr 3:2:1 over s1..s3 in NAT mode. */
export const WEB_VIP = '10.0.0.100';
export const WEB_SERVICE = `
  - name: web
    protocol: tcp
    vip: ${WEB_VIP}
    port: 80
    scheduler: wrr
    forward: nat
    dests:
      - { address: 10.0.1.11, port: 80, weight: 3 }
      - { address: 10.0.1.12, port: 80, weight: 2 }
      - { address: 10.0.1.13, port: 80, weight: 1 }`;
/** The demo's default: the same service in FULLNAT, from local address 10.0.1.50, telling servers the client by TOA. */
export const WEB_LADDR = '10.0.1.50';
export const WEB_SERVICE_FULLNAT = WEB_SERVICE.replace('forward: nat', `forward: fullnat\n    local_addresses: [${WEB_LADDR}]`);
export function serverAddress(i: number): string {
  return `10.0.1.${11 + i}`;
}
/** The namespace of server i (from 0), as Sandbox.topo names it. */
export function serverNamespace(i: number): string {
  return `s${i + 1}`;
}

// GET argv[1], print the body; exit 0 on a 2xx answer.
const FETCH = `fetch(process.argv[1]).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); },
  (e) => { process.stderr.write(String(e.cause ?? e)); process.exit(2); })`;

/** The balancer's metrics endpoint (the default control.metrics.listen), inside its namespace. */
export const METRICS_URL = 'http://127.0.0.1:9650/metrics';

const HTTP_SERVER = `require('http').createServer((q, r) => r.end(process.argv[1] + '\\n')).listen(80, () => console.log('listening'))`;

// Stands in for the kernel's ipip receive path on kernels built without it
// (CONFIG_NET_IPIP unset, as on this project's machines): a raw socket gets
// every IP-in-IP packet addressed to the server, outer header included, and
// the inner packet goes into a TUN device named like the tunnel, where the
// kernel receives it as if tunl0 had decapsulated it.
const IPIP_DECAPSULATOR = [
  'import fcntl, os, socket, struct, sys',
  'TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000',
  "tun = os.open('/dev/net/tun', os.O_RDWR)",
  "fcntl.ioctl(tun, TUNSETIFF, struct.pack('16sH', sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))",
  'ipip = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IPIP)',
  "print('decapsulating', flush=True)",
  'while True:',
  '    packet = ipip.recv(65535)',
  '    os.write(tun, packet[(packet[0] & 0x0f) * 4:])',
].join('\n');

export class Sandbox {
  private output = '';
  /** stop() removes the namespaces too (start(), not startOn()). */
  private ownsNetwork = false;

  private constructor(
    readonly topo: Topology,
    readonly balancer: ChildProcess,
    private readonly configPath: string,
    private readonly opts: SandboxOptions,
    /** Each real server's HTTP server process. */
    private readonly httpServers: ChildProcess[],
  ) {
    balancer.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    balancer.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Builds the namespaces and starts the balancer; resolves once it is ready. */
  static async start(opts: SandboxOptions): Promise<Sandbox> {
    const net = await Sandbox.network(opts);
    try {
      const sandbox = await Sandbox.startOn(net, opts);
      sandbox.ownsNetwork = true;
      return sandbox;
    } catch (err) {
      await net.topo.destroy();
      throw err;
    }
  }

  /** Builds the namespaces and starts the real servers, with no balancer yet. */
  static async network(opts: SandboxOptions): Promise<SandboxNetwork> {
    checkOptions(opts);
    const spec = topologySpec(opts);
    const topo = await Topology.create(spec);
    try {
      return { topo, httpServers: await prepareServers(topo, spec, opts) };
    } catch (err) {
      await topo.destroy();
      throw err;
    }
  }

  /**
   * Starts a balancer on a network of Sandbox.network() (built with the
   * same tag and servers); its stop() leaves the network standing.
   */
  static async startOn(net: SandboxNetwork, opts: SandboxOptions): Promise<Sandbox> {
    const configPath = path.join(os.tmpdir(), `fulcrum-${opts.tag}-${process.pid}.yaml`);
    // The API socket and state file of this sandbox alone: never the
    // system's, and never a state file left by an earlier run.
    rmSync(controlDir(configPath), { recursive: true, force: true });
    try {
      writeFileSync(configPath, sandboxConfig(opts, configPath));
      const child = net.topo.spawn('lb', [process.execPath, BIN, 'start', '--config', configPath]);
      const sandbox = new Sandbox(net.topo, child, configPath, opts, net.httpServers);
      try {
        await sandbox.waitFor(READY_LINE, START_TIMEOUT_MS);
      } catch (err) {
        await sandbox.stop();
        throw err;
      }
      return sandbox;
    } catch (err) {
      rmSync(configPath, { force: true });
      throw err;
    }
  }

  /** The balancer's API socket. */
  get socket(): string {
    return apiSocket(this.opts, this.configPath);
  }

  /** The balancer's state file. */
  get stateFile(): string {
    return path.join(controlDir(this.configPath), 'state.json');
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

  /**
   * Rewrites the config with these services and has the balancer apply it
   * (SIGHUP); resolves when it has, rejects with its message if refused.
   */
  async reload(services: string): Promise<void> {
    writeFileSync(this.configPath, sandboxConfig({ ...this.opts, services }, this.configPath));
    const mark = this.output.length;
    this.balancer.kill('SIGHUP');
    await this.waitFor('fulcrum: re', 10_000, mark);
    await this.waitFor('\n', 1_000, this.output.indexOf('fulcrum: re', mark));
    const line = this.output.slice(this.output.indexOf('fulcrum: re', mark)).split('\n')[0];
    if (!line.startsWith('fulcrum: reloaded')) throw new Error(`reload refused:\n${this.output.slice(mark)}`);
  }

  /** GET url from inside the balancer namespace (the metrics endpoint listens there); ok on a 2xx answer. */
  async get(url: string): Promise<{ ok: boolean; body: string }> {
    const r = await this.topo.exec('lb', [process.execPath, '-e', FETCH, url], { timeoutMs: 10_000 });
    return { ok: r.code === 0, body: r.stdout + r.stderr };
  }

  /** Stops real server i's HTTP server (i from 0); resolves once it has exited. */
  async stopServer(i: number): Promise<void> {
    const child = this.httpServers[i];
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Starts real server i's HTTP server again; resolves once it listens. */
  async startServer(i: number): Promise<void> {
    this.httpServers[i] = await startHttpServer(this.topo, serverNamespace(i), this.opts);
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
    if (this.ownsNetwork) await this.topo.destroy();
    rmSync(this.configPath, { force: true });
    rmSync(controlDir(this.configPath), { recursive: true, force: true });
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

function checkOptions(opts: SandboxOptions): void {
  if (opts.checkLeg && (opts.servers ?? 0) === 0) throw new Error('checkLeg needs servers: it joins the server LAN');
  const mode = opts.serverMode ?? 'nat';
  const vips = opts.vips ?? [];
  if (opts.clientLan && (mode === 'dr' || mode === 'tun')) throw new Error(`clientLan is for serverMode nat or fullnat: ${mode} gives the client its LAN leg already`);
  if (mode === 'nat' || mode === 'fullnat') {
    if (vips.length > 0) throw new Error(`vips are for serverMode dr or tun: in ${mode} mode the servers do not own the VIPs`);
    return;
  }
  if ((opts.servers ?? 0) === 0) throw new Error(`serverMode ${mode} needs servers`);
  if (vips.length === 0) throw new Error(`serverMode ${mode} needs the VIPs the servers own (vips)`);
}

function serverNamespaces(opts: SandboxOptions): string[] {
  return Array.from({ length: opts.servers ?? 0 }, (_, i) => serverNamespace(i));
}

/** A piece of the topology; topologySpec() concatenates them. */
type SpecPart = Partial<Omit<TopologySpec, 'tag'>>;

function topologySpec(opts: SandboxOptions): TopologySpec {
  const servers = serverNamespaces(opts);
  const parts = [clientWan()];
  if (servers.length > 0) {
    parts.push(serverLan(servers), returnPath(opts.serverMode ?? 'nat', servers));
  }
  if (opts.clientLan) parts.push(clientLan());
  if (opts.checkLeg) parts.push({ links: [{ a: { ns: 'lb', ifname: 'hc0', address: `${CHECK_ADDRESS}/24` }, b: { ns: 'sw', ifname: 'ph' } }] });
  return {
    tag: opts.tag,
    namespaces: parts.flatMap((p) => p.namespaces ?? []),
    links: parts.flatMap((p) => p.links ?? []),
    routes: parts.flatMap((p) => p.routes ?? []),
    sysctls: parts.flatMap((p) => p.sysctls ?? []),
  };
}

// The client and the balancer's wan port.
function clientWan(): SpecPart {
  return {
    namespaces: ['client', 'lb'],
    links: [{ a: { ns: 'client', ifname: 'eth0', address: `${CLIENT_ADDRESS}/24` }, b: { ns: 'lb', ifname: 'wan0' } }],
    // The client accepts gratuitous ARP, so the balancer's announcement
    // is visible in its neighbour table.
    sysctls: [{ ns: 'client', key: 'net.ipv4.conf.all.arp_accept', value: '1' }],
  };
}

// The server LAN: the balancer's lan port (switch port p0) and the servers
// (p1..pN), bridged by bridgeSwitch().
function serverLan(servers: string[]): SpecPart {
  return {
    namespaces: ['sw', ...servers],
    links: [
      { a: { ns: 'lb', ifname: 'lan0' }, b: { ns: 'sw', ifname: 'p0' } },
      ...servers.map((ns, i) => ({ a: { ns, ifname: 'eth0', address: `${serverAddress(i)}/24` }, b: { ns: 'sw', ifname: `p${i + 1}` } })),
    ],
  };
}

function returnPath(mode: ServerMode, servers: string[]): SpecPart {
  if (mode === 'nat') return returnThroughBalancer(servers);
  if (mode === 'fullnat') return {};  // replies go to a local address on the LAN
  return returnDirect(servers);
}

// nat: the balancer has to see the replies to rewrite them back, so it is
// the servers' default gateway.
function returnThroughBalancer(servers: string[]): SpecPart {
  return { routes: servers.map((ns) => ({ ns, prefix: 'default', via: LAN_ADDRESS })) };
}

// The client's leg on the server LAN (switch port pc).
function clientLan(): SpecPart {
  return { links: [{ a: { ns: 'client', ifname: 'eth1', address: `${CLIENT_LAN_ADDRESS}/24` }, b: { ns: 'sw', ifname: 'pc' } }] };
}

// dr, tun: the replies bypass the balancer, as they would with a router
// between the server LAN and the clients; the client's eth1 plays that
// router. The servers keep the balancer only as a LAN neighbour.
function returnDirect(servers: string[]): SpecPart {
  return {
    ...clientLan(),
    routes: servers.map((ns) => ({ ns, prefix: CLIENT_SUBNET, via: CLIENT_LAN_ADDRESS })),
    // Replies from a VIP arrive on eth1 while the client's route to the VIP
    // is on eth0: reverse-path filtering would drop them. The kernel uses
    // the higher of "all" and the interface's value, so both go to 0.
    sysctls: ['all', 'eth1'].map((dev) => ({ ns: 'client', key: `net.ipv4.conf.${dev}.rp_filter`, value: '0' })),
  };
}

// Everything a server needs beyond its wiring, then its HTTP server.
async function prepareServers(topo: Topology, spec: TopologySpec, opts: SandboxOptions): Promise<ChildProcess[]> {
  const servers = serverNamespaces(opts);
  if (servers.length === 0) return [];
  await bridgeSwitch(topo, spec);
  const mode = opts.serverMode ?? 'nat';
  for (const ns of servers) {
    if (mode === 'dr' || mode === 'tun') await ownVips(topo, ns, opts.vips ?? []);
    if (mode === 'tun') await addTunnel(topo, ns);
  }
  return Promise.all(servers.map((ns) => startHttpServer(topo, ns, opts)));
}

function startHttpServer(topo: Topology, ns: string, opts: SandboxOptions): Promise<ChildProcess> {
  const argv = opts.httpServer?.(ns) ?? [process.execPath, '-e', HTTP_SERVER, ns];
  return startHelper(topo, ns, argv, 'HTTP server');
}

// Every interface of the switch namespace becomes a port of one bridge.
async function bridgeSwitch(topo: Topology, spec: TopologySpec): Promise<void> {
  const ports = spec.links.flatMap((l) => [l.a, l.b]).filter((end) => end.ns === 'sw');
  await inNs(topo, 'sw', ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  for (const port of ports) await inNs(topo, 'sw', ['ip', 'link', 'set', port.ifname, 'master', 'br0']);
  await inNs(topo, 'sw', ['ip', 'link', 'set', 'br0', 'up']);
}

// dr, tun: the server takes packets to the VIPs as its own but must never
// claim them on the LAN, or its neighbours would send VIP traffic straight
// to it. arp_ignore=1 answers ARP only for addresses of the interface it
// arrives on (the VIPs are on lo); arp_announce=2 keeps a VIP out of the
// server's own ARP requests. The kernel uses the higher of "all" and the
// interface's value.
async function ownVips(topo: Topology, ns: string, vips: string[]): Promise<void> {
  for (const dev of ['all', 'eth0']) {
    await sysctl(topo, ns, `net.ipv4.conf.${dev}.arp_ignore`, '1');
    await sysctl(topo, ns, `net.ipv4.conf.${dev}.arp_announce`, '2');
  }
  for (const vip of vips) await inNs(topo, ns, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
}

// tun: the server receives the client's packets on tunl0, out of the
// balancer's IP-in-IP packets to its eth0 address.
async function addTunnel(topo: Topology, ns: string): Promise<void> {
  if (!(await addKernelTunnel(topo, ns))) {
    await startHelper(topo, ns, ['python3', '-c', IPIP_DECAPSULATOR, TUNNEL_DEVICE], 'IP-in-IP decapsulator');
  }
  await inNs(topo, ns, ['ip', 'link', 'set', TUNNEL_DEVICE, 'up']);
  // The inner packet comes in on tunl0 from a client the server routes to
  // via eth0: reverse-path filtering would drop it.
  for (const dev of ['all', TUNNEL_DEVICE]) await sysctl(topo, ns, `net.ipv4.conf.${dev}.rp_filter`, '0');
}

// True when the kernel has the ipip device, which then receives IP-in-IP
// from any sender. With ipip loaded every namespace already has the
// catch-all tunl0 (so the add fails with "File exists"); without it the add
// fails with "Unknown device type" and no tunl0 exists.
async function addKernelTunnel(topo: Topology, ns: string): Promise<boolean> {
  if ((await topo.exec(ns, ['ip', 'link', 'add', 'name', TUNNEL_DEVICE, 'type', 'ipip'])).code === 0) return true;
  return (await topo.exec(ns, ['ip', 'link', 'show', TUNNEL_DEVICE])).code === 0;
}

// Starts a long-running helper that prints one line once it is ready;
// resolves then, with its process. The topology stops it on destroy().
function startHelper(topo: Topology, ns: string, argv: string[], what: string): Promise<ChildProcess> {
  const child = topo.spawn(ns, argv);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<ChildProcess>((resolve, reject) => {
    const settle = (err?: Error) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(child);
    };
    const fail = (why: string) => settle(new Error(`${what} in ${ns} ${why}${stderr ? `:\n${stderr.trim()}` : ''}`));
    const timer = setTimeout(() => fail(`was not ready in ${HELPER_READY_TIMEOUT_MS} ms`), HELPER_READY_TIMEOUT_MS);
    child.stdout?.once('data', () => settle());
    child.once('exit', (code) => fail(`exited with ${code}`));
    child.once('error', (err) => fail(`did not start (${err.message})`));
  });
}

async function inNs(topo: Topology, ns: string, argv: string[]): Promise<void> {
  const r = await topo.exec(ns, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${ns} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** /proc/sys/net is per namespace, so the write has to happen inside it. */
function sysctl(topo: Topology, ns: string, key: string, value: string): Promise<void> {
  return inNs(topo, ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}

function controlDir(configPath: string): string {
  return configPath.replace(/\.yaml$/, '.d');
}

function apiSocket(opts: SandboxOptions, configPath: string): string {
  return opts.socket ?? path.join(controlDir(configPath), 'fulcrum.sock');
}

function sandboxConfig(opts: SandboxOptions, configPath: string): string {
  const huge = hugepagesAvailable();
  const lan = (opts.servers ?? 0) > 0;
  return [
    'dataplane:',
    `  lcores: "${opts.lcores ?? '0-1'}"`,
    `  hugepages: ${huge}`,
    // Nothing shared on disk, so several sandboxes can run at once.
    `  eal_args: ${JSON.stringify([huge ? '--in-memory' : '--no-shconf', ...(opts.ealArgs ?? [])])}`,
    '  mbufs: 4095',
    `  max_conns: ${opts.maxConns ?? 16384}`,
    ...(opts.dataplane ?? []),
    '  ports:',
    '    - name: wan',
    `      device: ${opts.portDriver ?? 'net_af_packet'}0,iface=wan0`,
    `      address: ${BALANCER_ADDRESS}/24`,
    ...(lan ? ['    - name: lan', `      device: ${opts.portDriver ?? 'net_af_packet'}1,iface=lan0`, `      address: ${LAN_ADDRESS}/24`] : []),
    'control:',
    `  grpc: { socket: ${apiSocket(opts, configPath)} }`,
    `  state_file: ${path.join(controlDir(configPath), 'state.json')}`,
    ...(opts.services ? ['services:', opts.services] : []),
    ...(opts.snat ? ['snat:', opts.snat] : []),
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
    if (cells.length < 3 || !/^[a-z_][a-z0-9_]*$/.test(cells[0]) || !cells.slice(1).every((c) => /^\d+$/.test(c))) continue;
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

// SPDX-License-Identifier: Apache-2.0
//
// The YAML config schema: structure, defaults, field checks and the checks
// that span fields. docs/config.md is the reference for every key; keep the
// two in step.
//
// Checks that need the machine (CPUs, interfaces, files) take a
// ValidationEnv; without one they are skipped, which gives a purely
// structural validation usable on any host.

import { z } from 'zod';

import { DEFAULT_MAX_IN_FLIGHT } from '../health/limiter';
import type { ValidationEnv } from './env';
import { duration, formatDuration } from './duration';
import { deviceProblems, parseDevice, portDeviceName, queueCountKey, type ParsedDevice } from './device';
import {
  formatCidr,
  formatIPv4,
  inSubnet,
  netmaskPrefix,
  networkOf,
  nonUnicastReason,
  parseCidr,
  parseIPv4,
  prefixMask,
  type Cidr,
} from './ipv4';
import { isLcoreMap, parseLcoreMap, parseLcores, type LcoreSlot } from './lcores';
import { compile, FAIL } from './fast';
import { bool, int, leaf, nonEmptyList, oneOf, report, show, strictObject, text, type KeyProblem, type Leaf } from './leaves';

export { parseDuration, formatDuration } from './duration';

export const SCHEDULERS = [
  'rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'dh', 'sh', 'mh', 'fo', 'ovf', 'twos',
] as const;
export const FORWARD_MODES = ['nat', 'dr', 'tun', 'fullnat', 'snat'] as const;
export const PROTOCOLS = ['tcp', 'udp'] as const;
export const HEALTH_CHECK_TYPES = ['tcp', 'http', 'https', 'udp'] as const;
// What a failing dest gets: kept with its weight but no new connections
// (existing ones drain), or taken out of the service as if deleted.
export const HEALTH_FAIL_ACTIONS = ['inhibit', 'remove'] as const;
// How a FULLNAT dest learns the client's address: a TCP option (TOA), a
// PROXY protocol v2 header before the first data, or not at all.
export const CLIENT_ADDRESS_MODES = ['toa', 'proxy_v2', 'none'] as const;

export type Scheduler = (typeof SCHEDULERS)[number];
export type ForwardMode = (typeof FORWARD_MODES)[number];
export type Protocol = (typeof PROTOCOLS)[number];
export type HealthCheckType = (typeof HEALTH_CHECK_TYPES)[number];
export type HealthFailAction = (typeof HEALTH_FAIL_ACTIONS)[number];
export type ClientAddressMode = (typeof CLIENT_ADDRESS_MODES)[number];

export const DEFAULT_GRPC_SOCKET = '/run/fulcrum/fulcrum.sock';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9650';
export const DEFAULT_STATE_FILE = '/var/lib/fulcrum/state.json';

// ---------------------------------------------------------------- leaves

const PORT_NAME = /^[a-z][a-z0-9_-]{0,14}$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):([0-9]{1,5})$/;
// sun_path is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107;

function ipv4Problem(s: string): string | undefined {
  const address = parseIPv4(s);
  if (address === null) return `'${s}' is not an IPv4 address (a.b.c.d)`;
  const reason = nonUnicastReason(address);
  return reason === undefined ? undefined : `'${s}' ${reason}, not a unicast host address`;
}

/** A unicast IPv4 address: owned addresses, VIPs, dests, gateways. */
const unicast = (): Leaf<string> => text(ipv4Problem);

/** An address with its subnet, as on an interface: "10.0.0.2/24". */
function hostCidrProblem(s: string): string | undefined {
  const cidr = parseCidr(s);
  if (cidr === null) return `'${s}' is not an IPv4 address with prefix (a.b.c.d/len)`;
  if (cidr.prefix === 0) return `'${s}' has prefix length 0: a port address needs 1..32`;
  const reason = nonUnicastReason(cidr.address);
  if (reason !== undefined) return `'${s}' ${reason}, not a unicast host address`;
  return cidr.prefix <= 30 ? reservedHostProblem(s, cidr) : undefined;
}

function reservedHostProblem(s: string, cidr: Cidr): string | undefined {
  const network = networkOf(cidr);
  const subnet = formatCidr(network, cidr.prefix);
  if (cidr.address === network) return `'${s}' is the network address of ${subnet}, not a host address`;
  const broadcast = (network | ~prefixMask(cidr.prefix)) >>> 0;
  if (cidr.address === broadcast) return `'${s}' is the broadcast address of ${subnet}, not a host address`;
  return undefined;
}

/** A route destination in network form: "10.1.0.0/16", "0.0.0.0/0". */
function networkCidrProblem(s: string): string | undefined {
  const cidr = parseCidr(s);
  if (cidr === null) return `'${s}' is not an IPv4 prefix (a.b.c.d/len, len 0..32)`;
  const network = networkOf(cidr);
  if (network === cidr.address) return undefined;
  return `'${s}' has host bits set (did you mean ${formatCidr(network, cidr.prefix)}?)`;
}

function hostPortProblem(s: string): string | undefined {
  const m = HOST_PORT.exec(s);
  const port = m ? Number(m[2]) : 0;
  if (m && port >= 1 && port <= 65535) return undefined;
  return `'${s}' is not host:port with a port from 1 to 65535 (e.g. 127.0.0.1:9650 or [::1]:9650)`;
}

function ringSize(): Leaf<number> {
  return leaf<number>((v) => {
    const ok = typeof v === 'number' && Number.isInteger(v) && v >= 64 && v <= 4096 && (v & (v - 1)) === 0;
    return ok ? undefined : `must be a power of two from 64 to 4096, got ${show(v)}`;
  });
}

function filePath(env?: ValidationEnv): Leaf<string> {
  return text((s) => (env && !env.fileExists(s) ? `file '${s}' does not exist` : undefined));
}

// ------------------------------------------------------------- dataplane

function lcoresProblem(s: string, env?: ValidationEnv): string | undefined {
  let slots: LcoreSlot[];
  try {
    slots = parseLcoreMap(s);
  } catch (err) {
    return (err as Error).message;
  }
  if (slots.length < 2) {
    return `needs at least 2 lcores (the first runs the control thread, the others are workers), got '${s}'`;
  }
  // What must exist is the CPU each lcore runs on (the lcore id itself
  // for the plain form).
  const missing = env ? [...new Set(slots.map((x) => x.cpu).filter((cpu) => cpu >= env.cpuCount))] : [];
  if (env === undefined || missing.length === 0) return undefined;
  const cpus = env.cpuCount === 1 ? '1 CPU (0)' : `${env.cpuCount} CPUs (0-${env.cpuCount - 1})`;
  const noun = isLcoreMap(s) ? 'CPU' : 'lcore';
  const which =
    missing.length === 1 ? `${noun} ${missing[0]} does not exist` : `${noun}s ${missing.join(', ')} do not exist`;
  return `${which}: this machine has ${cpus}`;
}

// EAL options derived from other keys; giving them twice confuses EAL.
const MANAGED_EAL_OPTIONS: [string[], string][] = [
  [['-l', '-c', '--lcores', '--main-lcore', '--master-lcore'], 'set dataplane.lcores'],
  [['--no-huge'], 'set dataplane.hugepages: false'],
  [['--vdev', '-a', '--allow', '-w', '--pci-whitelist', '--no-pci'], 'devices come from dataplane.ports'],
];

function managedEalOption(arg: string): string | undefined {
  for (const [options, instead] of MANAGED_EAL_OPTIONS) {
    for (const option of options) {
      const long = option.startsWith('--');
      if (arg === option || arg.startsWith(long ? `${option}=` : option)) {
        return `'${arg}' is set by Fulcrum: ${instead}`;
      }
    }
  }
  return undefined;
}

const ealArgsSchema = z.array(text()).superRefine((args, ctx) => {
  args.forEach((arg, i) => {
    const problem = typeof arg === 'string' ? managedEalOption(arg) : undefined;
    if (problem !== undefined) report(ctx, [i], problem);
  });
});

const neighboursSchema = strictObject({
  max: int(16, 1_048_576).prefault(1024),
  reachable: duration(1000, 86_400_000).prefault('300s'),
  retry: duration(100, 60_000).prefault('1s'),
  retries: int(1, 10).prefault(3),
  hold: int(0, 64).prefault(4),
});

const portObject = (env?: ValidationEnv) =>
  strictObject({
    name: text((s) => (PORT_NAME.test(s) ? undefined : `'${s}' is not a port name (a-z, then up to 14 of a-z 0-9 _ -)`)),
    device: text((s) => deviceProblems(s, env)),
    address: text(hostCidrProblem),
    mtu: int(68, 9000).prefault(1500),
    tx_coalesce_us: int(0, 10_000).optional(),
  });

const routeSchema = strictObject({
  prefix: text(networkCidrProblem),
  via: unicast().optional(),
  port: text().optional(),
}).superRefine((route, ctx) => {
  if (route.via === undefined && route.port === undefined) {
    report(ctx, [], 'needs via (a gateway address), port (a directly connected port), or both');
  }
});

const dataplaneObject = (env?: ValidationEnv) =>
  strictObject({
    lcores: text((s) => lcoresProblem(s, env)),
    hugepages: bool().prefault(true),
    eal_args: ealArgsSchema.prefault([]),
    mbufs: int(1023, 1_048_575).prefault(8191),
    mbuf_cache: int(0, 512).prefault(256),
    rx_desc: ringSize().prefault(1024),
    tx_desc: ringSize().prefault(1024),
    idle_sleep_us: int(0, 100_000).prefault(0),
    max_conns: int(1024, 67_108_864).prefault(65_536),
    max_services: int(1, 65_536).prefault(1024),
    max_dests: int(1, 1_048_576).prefault(8192),
    max_laddrs: int(1, 4096).prefault(64),
    local_ports: localPortsSchema.prefault('1025-65535'),
    synproxy: synproxySettings.prefault({}),
    neighbours: neighboursSchema.prefault({}),
    ports: nonEmptyList(portObject(env), 'at least one port is required'),
    routes: z.array(routeSchema).prefault([]),
  });

export type DataplaneConfig = z.output<ReturnType<typeof dataplaneObject>>;
export type PortConfig = DataplaneConfig['ports'][number];
export type RouteConfig = DataplaneConfig['routes'][number];
export type NeighbourConfig = DataplaneConfig['neighbours'];

/** Worker count from a (possibly invalid) lcore list, or undefined. */
function workerCount(lcores: unknown): number | undefined {
  if (typeof lcores !== 'string') return undefined;
  try {
    const ids = parseLcores(lcores);
    return ids.length >= 2 ? ids.length - 1 : undefined;
  } catch {
    return undefined;
  }
}

function tryParseDevice(device: unknown): ParsedDevice | undefined {
  if (typeof device !== 'string') return undefined;
  try {
    return parseDevice(device);
  } catch {
    return undefined;
  }
}

interface Duplicate<K = string> {
  index: number;
  first: number;
  key: K;
}

/** Items whose key was already seen, with the index where it first appeared. */
function duplicates<T, K = string>(items: readonly T[], keyOf: (item: T) => K | undefined): Duplicate<K>[] {
  const seen = new Map<K, number>();
  const found: Duplicate<K>[] = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else found.push({ index, first, key });
  });
  return found;
}

function checkPortsUnique(ports: PortConfig[], ctx: z.RefinementCtx): void {
  const name = (p: PortConfig) => (typeof p.name === 'string' ? p.name : undefined);
  for (const d of duplicates(ports, name)) {
    report(ctx, ['ports', d.index, 'name'], `duplicate port name '${d.key}' (also ports[${d.first}])`);
  }
  const device = (p: PortConfig) => (tryParseDevice(p.device) ? portDeviceName(p.device) : undefined);
  for (const d of duplicates(ports, device)) {
    report(ctx, ['ports', d.index, 'device'], `device '${d.key}' is already used by ports[${d.first}]`);
  }
  checkAddressesUnique(ports, ctx);
}

function checkAddressesUnique(ports: PortConfig[], ctx: z.RefinementCtx): void {
  const address = (p: PortConfig) => {
    const cidr = parseCidr(p.address);
    return cidr ? formatIPv4(cidr.address) : undefined;
  };
  const sameAddress = new Set<number>();
  for (const d of duplicates(ports, address)) {
    sameAddress.add(d.index);
    report(ctx, ['ports', d.index, 'address'], `address ${d.key} is already on ports[${d.first}]`);
  }
  // Two ports with one connected subnet make the connected route ambiguous.
  const subnet = (p: PortConfig) => {
    const cidr = parseCidr(p.address);
    return cidr ? formatCidr(networkOf(cidr), cidr.prefix) : undefined;
  };
  for (const d of duplicates(ports, subnet)) {
    if (sameAddress.has(d.index)) continue;
    report(ctx, ['ports', d.index, 'address'], `subnet ${d.key} is already connected through ports[${d.first}]`);
  }
}

/** af_packet/af_xdp queue counts must match the workers: each worker polls one queue of every port. */
function checkQueueCounts(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  const workers = workerCount(dp.lcores);
  if (workers === undefined) return;
  dp.ports.forEach((port, i) => {
    const parsed = tryParseDevice(port.device);
    if (parsed?.kind !== 'vdev') return;
    const key = queueCountKey(parsed.driver);
    const given = key === undefined ? undefined : parsed.args.get(key);
    if (given === undefined || Number(given) === workers) return;
    report(
      ctx,
      ['ports', i, 'device'],
      `${key}=${given} must equal the number of workers (${workers}); leave ${key} out and Fulcrum sets it`,
    );
  });
}

/** Every worker's rx ring on a port and its mempool cache are filled from that port's pool. */
function checkMbufs(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  const workers = workerCount(dp.lcores);
  const numbers = [dp.mbufs, dp.rx_desc, dp.mbuf_cache].every((n) => Number.isInteger(n));
  if (workers === undefined || !numbers) return;
  const needed = workers * (dp.rx_desc + dp.mbuf_cache);
  if (dp.mbufs >= needed) return;
  report(
    ctx,
    ['mbufs'],
    `${dp.mbufs} mbufs per port cannot fill ${workers} workers' rx rings (rx_desc ${dp.rx_desc}) ` +
      `and caches (mbuf_cache ${dp.mbuf_cache}): needs at least ${needed}`,
  );
}

interface Connected {
  name: string;
  cidr: Cidr;
}

function connectedSubnets(ports: PortConfig[]): Connected[] {
  const subnets: Connected[] = [];
  for (const port of ports) {
    const cidr = parseCidr(port.address);
    if (cidr && typeof port.name === 'string') subnets.push({ name: port.name, cidr });
  }
  return subnets;
}

function checkRoutes(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  const subnets = connectedSubnets(dp.ports);
  // With an invalid port address we cannot tell whether a gateway is on-link.
  const complete = subnets.length === dp.ports.length;
  const names = [...new Set(dp.ports.map((p) => p.name).filter((n) => typeof n === 'string'))];
  dp.routes.forEach((route, i) => {
    const problems = [
      ...routePortProblems(route, names),
      ...routeViaProblems(route, subnets, complete),
    ];
    for (const [field, message] of problems) report(ctx, ['routes', i, field], message);
  });
  checkRoutePrefixes(dp.routes, subnets, ctx);
}

type FieldProblem = [string, string];

function routePortProblems(route: RouteConfig, names: string[]): FieldProblem[] {
  if (typeof route.port !== 'string' || names.includes(route.port)) return [];
  return [['port', `no port named '${route.port}' (ports: ${names.join(', ') || 'none'})`]];
}

function routeViaProblems(route: RouteConfig, subnets: Connected[], complete: boolean): FieldProblem[] {
  const via = parseIPv4(route.via);
  if (via === null) return [];
  const own = subnets.find((s) => s.cidr.address === via);
  if (own) return [['via', `gateway ${route.via} is this balancer's own address (port '${own.name}')`]];
  const port = subnets.find((s) => s.name === route.port);
  if (port) {
    if (inSubnet(via, port.cidr)) return [];
    const subnet = formatCidr(networkOf(port.cidr), port.cidr.prefix);
    return [['via', `gateway ${route.via} is not on port '${port.name}' subnet ${subnet}`]];
  }
  if (!complete || subnets.some((s) => inSubnet(via, s.cidr))) return [];
  return [['via', `gateway ${route.via} is not on any port's subnet`]];
}

function checkRoutePrefixes(routes: RouteConfig[], subnets: Connected[], ctx: z.RefinementCtx): void {
  const prefix = (r: RouteConfig) => (networkCidrProblem(String(r.prefix)) === undefined ? r.prefix : undefined);
  for (const d of duplicates(routes, prefix)) {
    report(ctx, ['routes', d.index, 'prefix'], `duplicate route to ${d.key} (also routes[${d.first}])`);
  }
  routes.forEach((route, i) => {
    const cidr = prefix(route) === undefined ? null : parseCidr(route.prefix);
    const port = cidr && subnets.find((s) => s.cidr.prefix === cidr.prefix && inSubnet(cidr.address, s.cidr));
    if (port) {
      report(ctx, ['routes', i, 'prefix'], `${route.prefix} is already connected through port '${port.name}'`);
    }
  });
}

// The SYN proxy's settings, shared by every service with synproxy: true.
const synproxySettings = strictObject({
  mss: int(536, 9000).prefault(1460),
  wscale: int(0, 14).prefault(7),
  sack: bool().prefault(true),
  timestamps: bool().prefault(true),
  ttl: int(1, 255).prefault(63),
  retries: int(0, 10).prefault(3),
  retry: duration(100, 60_000).prefault('1s'),
  hold: int(0, 8).prefault(4),
  // SYN-proxied connections per worker (each keeps ~200 bytes of state for
  // its life); default dataplane.max_conns; 0: no SYN proxy, no memory.
  max_conns: int(0, 67_108_864).optional(),
});

// "first-last": the local ports FULLNAT/SNAT hand out. Every worker needs
// at least one (ports are split between workers by port % workers).
const localPortsSchema = text((s) => {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (m === null) return `'${s}' is not a port range (first-last, e.g. 1025-65535)`;
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (first < 1 || last > 65535 || first > last) return `'${s}': need 1 <= first <= last <= 65535`;
  return undefined;
}).transform((s) => {
  const [first, last] = s.split('-').map(Number);
  return { first, last };
});

const dataplaneSchema = (env?: ValidationEnv) =>
  dataplaneObject(env).superRefine((dp, ctx) => {
    checkPortsUnique(dp.ports, ctx);
    checkQueueCounts(dp, ctx);
    checkMbufs(dp, ctx);
    checkRoutes(dp, ctx);
    checkInMemory(dp, ctx);
    checkLocalPorts(dp, ctx);
    checkSynproxyConns(dp, ctx);
  });

/** A SYN-proxied connection is a connection: more states than connections would never be used. */
function checkSynproxyConns(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  const n = dp.synproxy?.max_conns;
  if (typeof n === 'number' && typeof dp.max_conns === 'number' && n > dp.max_conns) {
    report(ctx, ['synproxy', 'max_conns'], `${n} is above max_conns ${dp.max_conns} (a SYN-proxied connection is a connection too)`);
  }
}

/** Each worker owns the ports p with p % workers == its index: each needs one. */
function checkLocalPorts(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  const slots = workerCount(dp.lcores);
  // A failed local_ports holds NEVER (an object, but no range).
  if (slots === undefined || !Number.isInteger(dp.local_ports.first)) return;
  const count = dp.local_ports.last - dp.local_ports.first + 1;
  if (count < slots) report(ctx, ['local_ports'], `${count} port(s) cannot be split between ${slots} workers`);
}

/** DPDK 22.11 refuses --in-memory together with --no-huge (legacy memory mode). */
function checkInMemory(dp: DataplaneConfig, ctx: z.RefinementCtx): void {
  if (dp.hugepages !== false || !Array.isArray(dp.eal_args)) return;
  const i = dp.eal_args.indexOf('--in-memory');
  if (i < 0) return;
  report(ctx, ['eal_args', i], '--in-memory needs hugepages (DPDK refuses it with hugepages: false); use --no-shconf');
}

// --------------------------------------------------------------- control

const tlsObject = (env?: ValidationEnv) =>
  strictObject({ cert: filePath(env), key: filePath(env), client_ca: filePath(env).optional() });

const grpcSchema = (env?: ValidationEnv) =>
  strictObject({
    socket: text((s) =>
      Buffer.byteLength(s) > MAX_SOCKET_PATH ? `unix socket path is longer than ${MAX_SOCKET_PATH} bytes` : undefined,
    ).prefault(DEFAULT_GRPC_SOCKET),
    listen: text(hostPortProblem).optional(),
    tls: tlsObject(env).optional(),
  }).superRefine((grpc, ctx) => {
    // The API can reconfigure the balancer: never expose it unencrypted.
    if (grpc.listen !== undefined && grpc.tls === undefined) {
      report(ctx, ['listen'], 'a TCP listener requires tls (cert and key)');
    }
  });

const controlObject = (env?: ValidationEnv) =>
  strictObject({
    grpc: grpcSchema(env).prefault({}),
    metrics: strictObject({
      listen: text(hostPortProblem).prefault(DEFAULT_METRICS_LISTEN),
      // Per-dest series: 8 families per dest, 640,000 series at 80,000 dests.
      per_dest: bool().prefault(true),
    }).prefault({}),
    state_file: text().prefault(DEFAULT_STATE_FILE),
    health: strictObject({
      // Checks running at once; the others wait their turn (health/limiter.ts).
      max_in_flight: int(1, 65_536).prefault(DEFAULT_MAX_IN_FLIGHT),
    }).prefault({}),
  });

export type ControlConfig = z.output<ReturnType<typeof controlObject>>;

// -------------------------------------------------------------- services

const HTTP_ONLY = ['path', 'expect_status'];
const UDP_ONLY = ['send', 'expect'];

/** Keys that only make sense for some check types; checked on the raw input, before defaults hide them. */
function healthKeyProblems(raw: Record<string, unknown>): KeyProblem[] {
  const type = raw.type;
  if (typeof type !== 'string') return [];
  const problems: KeyProblem[] = [];
  for (const key of Object.keys(raw)) {
    if (HTTP_ONLY.includes(key) && type !== 'http' && type !== 'https') {
      problems.push({ key, message: `${key} applies only to http and https checks, not ${type}` });
    }
    if (UDP_ONLY.includes(key) && type !== 'udp') {
      problems.push({ key, message: `${key} applies only to udp checks, not ${type}` });
    }
  }
  return problems;
}

const healthCheckObject = strictObject({
  type: oneOf(HEALTH_CHECK_TYPES),
  path: text((s) => (/^\/\S*$/.test(s) ? undefined : `'${s}' is not a URL path (starts with /, no spaces)`)).prefault('/'),
  expect_status: int(100, 599).prefault(200),
  send: text().optional(),
  expect: text().optional(),
  interval: duration(100, 3_600_000).prefault('2s'),
  timeout: duration(10, 3_600_000).prefault('1s'),
  rise: int(1, 100).prefault(2),
  fall: int(1, 100).prefault(3),
  // The port checked; default the dest's (required when that is 0).
  port: int(1, 65535).optional(),
  // The host address checks leave from; default: the kernel's choice by route.
  source: unicast().optional(),
  on_fail: oneOf(HEALTH_FAIL_ACTIONS).prefault('inhibit'),
}, { keyProblems: healthKeyProblems });

export type HealthCheckConfig = z.output<typeof healthCheckObject>;

const healthCheckSchema = healthCheckObject.superRefine((hc, ctx) => {
  // Overlapping checks of one dest would pile up on a slow server.
  if (typeof hc.interval === 'number' && typeof hc.timeout === 'number' && hc.timeout > hc.interval) {
    const [timeout, interval] = [formatDuration(hc.timeout), formatDuration(hc.interval)];
    report(ctx, ['timeout'], `timeout ${timeout} is longer than interval ${interval}`);
  }
});

// The dataplane keeps times as 32-bit milliseconds (IPVS as 32-bit
// jiffies): 49 days fit, with room. A longer persistence or lblc expiry
// would wrap to a short one, a longer connection timeout be refused.
const MAX_TIME_S = 49 * 86_400;

const persistenceSchema = strictObject({
  timeout: int(1, MAX_TIME_S),
  netmask: text((s) =>
    netmaskPrefix(s) === null ? `'${s}' is not an IPv4 netmask (e.g. 255.255.255.0)` : undefined,
  ).prefault('255.255.255.255'),
});

export type PersistenceConfig = z.output<typeof persistenceSchema>;

const destSchema = strictObject({
  address: unicast(),
  port: int(0, 65535),
  weight: int(0, 65535).prefault(1),
  forward: oneOf(FORWARD_MODES).optional(),
  // Connection thresholds (ipvsadm -x / -y): overloaded at `upper`
  // connections until back below `lower` (0: none / 3/4 of upper).
  upper: int(0, 1_000_000).prefault(0),
  lower: int(0, 1_000_000).prefault(0),
  // Replaces the service's health_check for this dest.
  health_check: healthCheckSchema.optional(),
}).superRefine((d, ctx) => {
  if (d.lower > 0 && d.upper > 0 && d.lower > d.upper) report(ctx, ['lower'], `lower ${d.lower} is above upper ${d.upper}`);
});

// Scheduler options (the LVS scheduler flags), one mapping per scheduler.
const mhSchema = strictObject({
  table_size: int(3, 16_777_213).prefault(65_537),  // checked prime by the dataplane
  hash_port: bool().prefault(false),
  fallback: bool().prefault(false),
});
const lblcSchema = strictObject({
  expire: duration(1000, MAX_TIME_S * 1000).prefault('24h'),
  shrink: duration(1000, 86_400_000).prefault('60s'),
});

const endpointSchema = strictObject({
  protocol: oneOf(PROTOCOLS).optional(),  // default: the service's
  vip: unicast().optional(),              // default: the service's
  port: int(0, 65535),
});

// ipvsadm --set tcp tcpfin udp, per service.
const timeoutsSchema = strictObject({
  tcp: duration(1000, MAX_TIME_S * 1000).optional(),
  tcpfin: duration(1000, MAX_TIME_S * 1000).optional(),
  udp: duration(1000, MAX_TIME_S * 1000).optional(),
});

export type DestConfig = z.output<typeof destSchema>;

const serviceObject = strictObject({
  name: text((s) =>
    SERVICE_NAME.test(s) ? undefined : `'${s}' is not a service name (letter or digit, then up to 62 of A-Z a-z 0-9 _ . -)`,
  ),
  protocol: oneOf(PROTOCOLS),
  vip: unicast(),
  port: int(0, 65535),
  scheduler: oneOf(SCHEDULERS).prefault('wlc'),
  forward: oneOf(FORWARD_MODES).prefault('nat'),
  persistence: persistenceSchema.optional(),
  synproxy: bool().prefault(false),
  local_addresses: z.array(unicast()).prefault([]),
  client_address: oneOf(CLIENT_ADDRESS_MODES).prefault('toa'),
  health_check: healthCheckSchema.optional(),
  // Passive checks: dests that refuse or leave connections unanswered are
  // inhibited with exponential back-off (docs/health.md).
  passive_check: bool().prefault(false),
  timeouts: timeoutsSchema.prefault({}),
  // LVS expire_nodest_conn: connections to a removed dest end at their
  // next packet instead of draining.
  expire_nodest_conn: bool().prefault(false),
  // A service group (the LVS firewall-mark service): further
  // <protocol, vip, port> this service answers for, sharing its dests and
  // one persistence template per client.
  endpoints: z.array(endpointSchema).prefault([]),
  mh: mhSchema.prefault({}),
  lblc: lblcSchema.prefault({}),
  dests: z.array(destSchema).prefault([]),
});

export type ServiceConfig = z.output<typeof serviceObject>;

function checkFullnat(svc: ServiceConfig, ctx: z.RefinementCtx): void {
  if (svc.local_addresses.length > 0) return;
  if (svc.forward === 'fullnat') {
    report(ctx, ['local_addresses'], 'forward fullnat needs at least one local address');
    return;
  }
  const i = svc.dests.findIndex((d) => d.forward === 'fullnat');
  if (i >= 0) {
    report(ctx, ['local_addresses'], `dests[${i}] uses forward fullnat, which needs at least one local address`);
  }
}

// With dr/tun the server answers the client directly, so the balancer never
// sees the replies whose sequence numbers synproxy has to translate.
const SYNPROXY_WHY = 'replies bypass the balancer, which must translate their sequence numbers (use nat or fullnat)';

function checkSynproxy(svc: ServiceConfig, ctx: z.RefinementCtx): void {
  if (svc.synproxy !== true) return;
  if (svc.protocol === 'udp') report(ctx, ['synproxy'], 'synproxy applies only to tcp services');
  if (svc.forward === 'dr' || svc.forward === 'tun') {
    report(ctx, ['synproxy'], `synproxy cannot be used with forward ${svc.forward}: ${SYNPROXY_WHY}`);
  }
  svc.dests.forEach((dest, i) => {
    if (dest.forward === 'dr' || dest.forward === 'tun') {
      report(ctx, ['dests', i, 'forward'], `forward ${dest.forward} cannot be used with synproxy: ${SYNPROXY_WHY}`);
    }
  });
}

// A port-zero dest has no port to check unless the check names one.
function checkHealthPorts(svc: ServiceConfig, ctx: z.RefinementCtx): void {
  svc.dests.forEach((d, i) => {
    const hc = d.health_check ?? svc.health_check;
    if (hc !== undefined && d.port === 0 && hc.port === undefined) {
      report(ctx, ['dests', i, 'port'], 'port 0 cannot be health checked: give health_check.port');
    }
  });
}

function checkServiceUnique(svc: ServiceConfig, ctx: z.RefinementCtx): void {
  // Address and port as one number, not as text: this runs for every dest of an Apply.
  const endpoint = (d: DestConfig) => {
    const ip = parseIPv4(d.address);
    return ip !== null && Number.isInteger(d.port) ? ip * 65536 + d.port : undefined;
  };
  for (const d of duplicates(svc.dests, endpoint)) {
    const dest = svc.dests[d.index];
    report(ctx, ['dests', d.index], `duplicate dest ${dest.address}:${dest.port} (also dests[${d.first}])`);
  }
  const address = (a: string) => (parseIPv4(a) !== null ? a : undefined);
  for (const d of duplicates(svc.local_addresses, address)) {
    report(ctx, ['local_addresses', d.index], `duplicate local address ${d.key}`);
  }
}

/** One service, with its cross-field checks; usable on its own by the API. */
// LVS accepts a port-zero service only as a persistent one: without
// persistence, nothing would keep a client's connections to different
// ports together, which is the point of answering for every port.
function checkPortZero(svc: ServiceConfig, ctx: z.RefinementCtx): void {
  if (svc.port === 0 && svc.persistence === undefined)
    report(ctx, ['port'], 'port 0 (every port of the vip) needs persistence, as in LVS');
}

export const serviceSchema = serviceObject.superRefine((svc, ctx) => {
  checkPortZero(svc, ctx);
  checkFullnat(svc, ctx);
  checkSynproxy(svc, ctx);
  checkServiceUnique(svc, ctx);
  checkHealthPorts(svc, ctx);
});

const fastService = compile(serviceSchema);

/**
 * serviceSchema's parse of a service (its fast form's, where that does not
 * give up: fast.ts), or undefined when the service is invalid (the full
 * schema then words why).
 */
export function parseValidService(input: unknown): ServiceConfig | undefined {
  const out = fastService === undefined ? FAIL : fastService(input);
  if (out !== FAIL) return out;
  const r = serviceSchema.safeParse(input);
  return r.success ? r.data : undefined;
}

export const servicesSchema = z.array(serviceSchema).superRefine((services, ctx) => {
  for (const p of serviceSetProblems(services)) report(ctx, p.path, p.message);
});

/** The <protocol, vip, port> a service answers for: its own, then its group's endpoints. */
export function answeredEndpoints(s: ServiceConfig): { protocol: Protocol; vip: string; port: number }[] {
  const group = Array.isArray(s.endpoints) ? s.endpoints : [];
  return [s, ...group].map((e) => ({ protocol: e.protocol ?? s.protocol, vip: e.vip ?? s.vip, port: e.port }));
}

/** "tcp 10.0.0.100:80": what two services must not share. */
export function endpointText(e: { protocol: string; vip: string; port: number }): string {
  return `${e.protocol} ${e.vip}:${e.port}`;
}

/**
 * What is wrong with a list of services that are each valid on their own:
 * duplicate names, and a <protocol, vip, port> answered by two services
 * (primary or group member). The desired-state store runs it alone when
 * it reuses services validated before.
 */
export function serviceSetProblems(services: ServiceConfig[]): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const name = (s: ServiceConfig) => (typeof s.name === 'string' ? s.name : undefined);
  for (const d of duplicates(services, name)) {
    out.push({ path: [d.index, 'name'], message: `duplicate service name '${d.key}' (also services[${d.first}])` });
  }
  const all = services.flatMap((s, index) =>
    answeredEndpoints(s).map((e, j) => ({ index, path: j === 0 ? [index] : [index, 'endpoints', j - 1], ...e })),
  );
  const endpoint = (e: (typeof all)[number]) =>
    PROTOCOLS.includes(e.protocol) && parseIPv4(e.vip) !== null && Number.isInteger(e.port) ? endpointText(e) : undefined;
  for (const d of duplicates(all, endpoint)) {
    out.push({ path: all[d.index].path, message: `duplicate service ${d.key} (also services[${all[d.first].index}])` });
  }
  return out;
}

// ------------------------------------------------------------------ snat

// Source NAT for networks behind the balancer: flows from `source` (and to
// `destination`, leaving by `out_port`, when given) leave with an address
// and port from `local_addresses`; replies are translated back.
const snatObject = strictObject({
  name: text((s) => (SERVICE_NAME.test(s) ? undefined : `'${s}' is not a rule name (letter or digit, then up to 62 of A-Z a-z 0-9 _ . -)`)),
  source: text((s) => (parseCidr(s) === null ? `'${s}' is not an IPv4 prefix (a.b.c.d/n)` : undefined)),
  destination: text((s) => (parseCidr(s) === null ? `'${s}' is not an IPv4 prefix (a.b.c.d/n)` : undefined)).prefault('0.0.0.0/0'),
  out_port: text().optional(),
  local_addresses: nonEmptyList(unicast(), 'an snat rule needs at least one local address'),
});

export type SnatConfig = z.output<typeof snatObject>;

const snatSchema = z.array(snatObject).superRefine((rules, ctx) => {
  const name = (r: SnatConfig) => (typeof r.name === 'string' ? r.name : undefined);
  for (const d of duplicates(rules, name)) {
    report(ctx, [d.index, 'name'], `duplicate snat rule name '${d.key}' (also snat[${d.first}])`);
  }
});

// ------------------------------------------------------------------ root

/** The whole config; `env` enables the checks against this machine. */
export function configSchema(env?: ValidationEnv) {
  return strictObject({
    dataplane: dataplaneSchema(env),
    control: controlObject(env).prefault({}),
    services: servicesSchema.prefault([]),
    snat: snatSchema.prefault([]),
  }, { topLevel: true }).superRefine((cfg, ctx) => {
    checkSnatPorts(cfg.snat, cfg.dataplane.ports.map((p) => p.name), ctx);
    checkSynproxyOn(cfg, ctx);
  });
}

/** Services that use the SYN proxy need it on. (Services set through the API: the dataplane refuses them.) */
function checkSynproxyOn(cfg: { dataplane: DataplaneConfig; services: ServiceConfig[] }, ctx: z.RefinementCtx): void {
  if (cfg.dataplane?.synproxy?.max_conns !== 0 || !Array.isArray(cfg.services)) return;
  cfg.services.forEach((s, i) => {
    if (s.synproxy === true) report(ctx, ['services', i, 'synproxy'], 'the SYN proxy is off (dataplane.synproxy.max_conns is 0)');
  });
}

/**
 * The desired state alone (services and snat rules), as the gRPC API and
 * the state file carry it: the same checks as in a config file, with
 * snat out_port checked against the running config's port names.
 */
export function desiredStateSchema(portNames: readonly string[]) {
  return strictObject({
    services: servicesSchema.prefault([]),
    snat: snatSchema.prefault([]),
  }, { topLevel: true }).superRefine((state, ctx) => checkSnatPorts(state.snat, portNames, ctx));
}

export type DesiredStateConfig = z.output<ReturnType<typeof desiredStateSchema>>;

/** An snat rule's out_port names a configured port. */
function checkSnatPorts(snat: SnatConfig[], names: readonly string[], ctx: z.RefinementCtx): void {
  snat.forEach((r, i) => {
    if (r.out_port !== undefined && !names.includes(r.out_port)) {
      report(ctx, ['snat', i, 'out_port'], `unknown port '${r.out_port}' (ports: ${names.join(', ')})`);
    }
  });
}

export type FulcrumConfig = z.output<ReturnType<typeof configSchema>>;

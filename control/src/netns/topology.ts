// SPDX-License-Identifier: Apache-2.0
//
// Throw-away network-namespace topologies for end-to-end tests and
// `fulcrum demo`: namespaces joined by veth pairs, with addresses, routes and
// sysctls, that are always removed again.
//
// Cleanup paths, from most to least graceful:
//   destroy()          SIGTERM tracked children, SIGKILL after 2 s, kill any
//                      other process left in the namespaces, delete them.
//   SIGINT / SIGTERM   destroy() every live topology, then exit 130 / 143 --
//                      but only when no other listener for that signal exists
//                      (see onSignal), so we never pre-empt someone else's
//                      shutdown logic.
//   'exit'             synchronous SIGKILL + `ip netns del` of whatever is
//                      still live (process.exit(), end of the event loop,
//                      uncaught exceptions).
//   SIGKILL            nothing can run; namespace names embed the creator's
//                      pid, so the next Topology.create() (or an explicit
//                      sweepStaleNamespaces()) removes namespaces whose
//                      creator is dead.

import { readFileSync } from 'node:fs';
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { killGroup, killInFlightSync, run, runChecked, runSync, type RunOptions, type RunResult } from './run';

export interface End {
  ns: string;
  ifname: string;
  /** CIDR, e.g. "10.0.0.1/24" or "fd00::1/64". */
  address?: string;
  mac?: string;
}

export interface LinkSpec {
  a: End;
  b: End;
}

export interface RouteSpec {
  ns: string;
  prefix: string;
  via: string;
}

export interface SysctlSpec {
  ns: string;
  key: string;
  value: string;
}

export interface TopologySpec {
  /** Short label folded into namespace names, to tell topologies apart in `ip netns list`. */
  tag?: string;
  namespaces: string[];
  links: LinkSpec[];
  routes?: RouteSpec[];
  sysctls?: SysctlSpec[];
}

export type ExecOptions = RunOptions;
export type ExecResult = RunResult;

/** Every namespace this module creates is named `fl<creator pid>-...`. */
export const NS_PREFIX = 'fl';
const OWNED_NS = /^fl(\d+)-/;
/** Without these, a DPDK af_packet/af_xdp port on the far end sees partial checksums and GSO/GRO super-segments. */
const OFFLOADS_OFF = ['rx', 'off', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];
const KILL_GRACE_MS = 2_000;
const MAX_IFNAME = 15; // IFNAMSIZ - 1
const SAFE_NAME = /^[A-Za-z0-9_-]+$/;
const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** Process-wide counter that keeps namespace and temporary veth names unique. */
let sequence = 0;
const live = new Set<Topology>();

export class Topology {
  /** Logical name -> real namespace name. */
  private readonly real = new Map<string, string>();
  /** Real names actually created, in creation order. */
  private readonly created: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroying: Promise<void> | undefined;

  private constructor(spec: TopologySpec) {
    const id = `${NS_PREFIX}${process.pid}-${sequence++}${spec.tag ? `-${spec.tag}` : ''}`;
    for (const name of spec.namespaces) this.real.set(name, `${id}-${name}`);
  }

  /** Builds the whole topology, or removes everything it made and throws. */
  static async create(spec: TopologySpec): Promise<Topology> {
    assertRoot();
    validateSpec(spec);
    sweepStaleNamespaces();
    installExitHooks();
    const topo = new Topology(spec);
    live.add(topo); // registered before the first `ip netns add` so every exit path sees it
    try {
      await topo.build(spec);
    } catch (err) {
      await topo.destroy().catch((cleanupErr: unknown) => appendCleanupFailure(err, cleanupErr));
      throw err;
    }
    return topo;
  }

  /** Logical namespace names, as given in the spec. */
  get namespaces(): string[] {
    return [...this.real.keys()];
  }

  /** The real (`ip netns`) name of a namespace of this topology. */
  nsName(name: string): string {
    const real = this.real.get(name);
    if (real === undefined) throw new Error(`unknown namespace "${name}" (this topology has: ${this.namespaces.join(', ')})`);
    return real;
  }

  /** Runs argv inside a namespace; the child's process group is killed after timeoutMs (default 10 s). */
  async exec(ns: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run('ip', this.nsArgv(ns, argv), opts);
  }

  /**
   * Starts a long-running argv inside a namespace. The child leads its own
   * process group (so the whole group can be stopped) and is stopped by
   * destroy(). Default stdio is 'pipe': consume the output or pass
   * stdio: 'ignore'. As with any ChildProcess, listen for 'error'.
   */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawnChild('ip', this.nsArgv(ns, argv), { ...opts, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Stops children, deletes the namespaces (and with them the veths). Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  /**
   * Best-effort synchronous teardown for exit paths where the event loop is
   * gone. Children get SIGKILL without a grace period; prefer destroy().
   */
  destroySync(): void {
    for (const child of this.children) killGroup(child, 'SIGKILL');
    for (const real of [...this.created].reverse()) removeNamespaceSync(real);
    this.destroying ??= Promise.resolve();
    live.delete(this);
  }

  private nsArgv(ns: string, argv: string[]): string[] {
    if (this.destroying) throw new Error('topology has been destroyed');
    if (argv.length === 0) throw new Error('empty argv');
    return ['netns', 'exec', this.nsName(ns), ...argv];
  }

  private async build(spec: TopologySpec): Promise<void> {
    for (const name of spec.namespaces) await this.addNamespace(name);
    for (const link of spec.links) await this.addLink(link);
    // Sysctls and routes after the links: both may name interfaces or need a connected route.
    for (const s of spec.sysctls ?? []) await this.sysctl(s.ns, s.key, s.value);
    for (const r of spec.routes ?? []) await this.ip(r.ns, 'route', 'add', r.prefix, 'via', r.via);
  }

  private async addNamespace(name: string): Promise<void> {
    const real = this.nsName(name);
    await runChecked('ip', ['netns', 'add', real]);
    this.created.push(real);
    await this.ip(name, 'link', 'set', 'dev', 'lo', 'up');
    // Tests open many short connections between the same address pairs.
    await this.sysctl(name, 'net.ipv4.tcp_tw_reuse', '1');
  }

  /** Creates the pair directly in its namespaces under temporary names, so it never touches the root namespace. */
  private async addLink(link: LinkSpec): Promise<void> {
    const tmp = `fv${process.pid.toString(36)}-${(sequence++).toString(36)}`;
    const realA = this.nsName(link.a.ns);
    const realB = this.nsName(link.b.ns);
    await runChecked('ip', ['link', 'add', `${tmp}a`, 'netns', realA, 'type', 'veth', 'peer', 'name', `${tmp}b`, 'netns', realB]);
    await this.configureEnd(link.a, `${tmp}a`);
    await this.configureEnd(link.b, `${tmp}b`);
  }

  private async configureEnd(end: End, tmpName: string): Promise<void> {
    // Rename while the device is still down: the kernel refuses to rename a running device.
    await this.ip(end.ns, 'link', 'set', 'dev', tmpName, 'name', end.ifname, ...(end.mac ? ['address', end.mac] : []));
    await runChecked('ip', ['netns', 'exec', this.nsName(end.ns), 'ethtool', '-K', end.ifname, ...OFFLOADS_OFF]);
    if (end.address) {
      // nodad: an IPv6 address would otherwise be unusable for ~1 s while DAD runs.
      const nodad = end.address.includes(':') ? ['nodad'] : [];
      await this.ip(end.ns, 'addr', 'add', end.address, 'dev', end.ifname, ...nodad);
    }
    await this.ip(end.ns, 'link', 'set', 'dev', end.ifname, 'up');
  }

  private async ip(ns: string, ...args: string[]): Promise<void> {
    await runChecked('ip', ['-n', this.nsName(ns), ...args]);
  }

  /** /proc/sys/net is per namespace, so the write has to happen inside it. */
  private async sysctl(ns: string, key: string, value: string): Promise<void> {
    await runChecked('ip', ['netns', 'exec', this.nsName(ns), 'sysctl', '-q', '-w', `${key}=${value}`]);
  }

  private async teardown(): Promise<void> {
    await stopChildren([...this.children]);
    const failures: string[] = [];
    for (const real of [...this.created].reverse()) {
      const failure = await removeNamespace(real);
      if (failure) failures.push(failure);
    }
    live.delete(this);
    if (failures.length > 0) throw new Error(`could not remove namespaces:\n${failures.join('\n')}`);
  }
}

/** Destroys every live topology of this process. */
export async function destroyAllTopologies(): Promise<void> {
  const results = await Promise.allSettled([...live].map((t) => t.destroy()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw new Error(failed.map((r) => String(r.reason)).join('\n'));
}

/**
 * Removes namespaces named by this module whose creating process is gone
 * (it was SIGKILLed or crashed before cleanup), killing anything still
 * running inside them. Returns the names removed. Assumes namespace creators
 * share our pid namespace; a recycled pid merely delays the sweep.
 */
export function sweepStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const name of listNamespacesSync()) {
    const pid = Number(OWNED_NS.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    if (removeNamespaceSync(name)) removed.push(name);
  }
  return removed;
}

function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('network-namespace topologies need root (CAP_SYS_ADMIN/CAP_NET_ADMIN): run the end-to-end tests and `fulcrum demo` as root');
  }
}

function validateSpec(spec: TopologySpec): void {
  if (spec.tag !== undefined && !SAFE_NAME.test(spec.tag)) throw new Error(`bad topology tag "${spec.tag}": use [A-Za-z0-9_-]`);
  if (spec.namespaces.length === 0) throw new Error('a topology needs at least one namespace');
  const known = new Set<string>();
  for (const ns of spec.namespaces) {
    if (!SAFE_NAME.test(ns)) throw new Error(`bad namespace name "${ns}": use [A-Za-z0-9_-]`);
    if (known.has(ns)) throw new Error(`namespace "${ns}" listed twice`);
    known.add(ns);
  }
  const checkNs = (ns: string, what: string): void => {
    if (!known.has(ns)) throw new Error(`${what} refers to unknown namespace "${ns}"`);
  };
  validateLinks(spec.links, checkNs);
  for (const r of spec.routes ?? []) checkNs(r.ns, `route ${r.prefix}`);
  for (const s of spec.sysctls ?? []) checkNs(s.ns, `sysctl ${s.key}`);
}

function validateLinks(links: LinkSpec[], checkNs: (ns: string, what: string) => void): void {
  const used = new Set<string>();
  for (const end of links.flatMap((l) => [l.a, l.b])) {
    checkNs(end.ns, `interface ${end.ifname}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(end.ifname) || end.ifname.length > MAX_IFNAME || end.ifname === 'lo') {
      throw new Error(`bad interface name "${end.ifname}": 1-${MAX_IFNAME} chars of [A-Za-z0-9_.-], not "lo"`);
    }
    const key = `${end.ns}/${end.ifname}`;
    if (used.has(key)) throw new Error(`interface ${end.ifname} used twice in namespace ${end.ns}`);
    used.add(key);
  }
}

function appendCleanupFailure(err: unknown, cleanupErr: unknown): void {
  if (err instanceof Error) err.message += `\n(cleanup after the failure also failed: ${String(cleanupErr)})`;
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (!isRunning(child)) return resolve();
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
  });
}

/** SIGTERM, then SIGKILL for whatever is still running after the grace period. */
async function stopChildren(children: ChildProcess[]): Promise<void> {
  const running = children.filter(isRunning);
  for (const child of running) killGroup(child, 'SIGTERM');
  await Promise.all(running.map((c) => waitExit(c, KILL_GRACE_MS)));
  const stubborn = running.filter(isRunning);
  for (const child of stubborn) killGroup(child, 'SIGKILL');
  // Bounded too: a process stuck in uninterruptible sleep must not hang destroy().
  await Promise.all(stubborn.map((c) => waitExit(c, KILL_GRACE_MS)));
}

/** A namespace lives on while any process is inside it, even after `ip netns del`. */
function killPids(pidsOutput: string): void {
  for (const pid of pidsOutput.split(/\s+/).filter(Boolean).map(Number)) {
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** Returns a failure description, or undefined on success (or if it was already gone). */
async function removeNamespace(real: string): Promise<string | undefined> {
  killPids((await run('ip', ['netns', 'pids', real])).stdout);
  const r = await run('ip', ['netns', 'del', real]);
  if (r.code === 0 || /No such file/.test(r.stderr)) return undefined;
  return `\`ip netns del ${real}\`: ${r.stderr.trim() || `exit ${r.code}`}`;
}

function removeNamespaceSync(real: string): boolean {
  killPids(runSync('ip', ['netns', 'pids', real]).stdout);
  return runSync('ip', ['netns', 'del', real]).code === 0;
}

function listNamespacesSync(): string[] {
  // Lines look like "name" or "name (id: 3)".
  return runSync('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter(Boolean);
}

/** A zombie counts as dead: a SIGKILLed creator stays one until its parent reaps it. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Format "pid (comm) S ...": comm may hold spaces or parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // vanished between the two checks
  }
}

let hooksInstalled = false;
let exiting = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', destroyAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function destroyAllSync(): void {
  killInFlightSync();
  for (const topo of [...live]) topo.destroySync();
}

/**
 * Installing a listener disables Node's default "die on signal", so we must
 * exit ourselves -- unless another listener exists: then that code owns the
 * decision (it may want its own graceful shutdown), we do nothing, and the
 * 'exit' hook cleans up whenever the process does exit. A second signal while
 * our own cleanup runs exits at once (the 'exit' hook still runs).
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  const code = EXIT_CODES[signal as keyof typeof EXIT_CODES] ?? 1;
  if (exiting) process.exit(code);
  exiting = true;
  // Cap the graceful path; whatever remains is handled synchronously on exit.
  setTimeout(() => process.exit(code), 3 * KILL_GRACE_MS).unref();
  void destroyAllTopologies().catch(() => undefined).finally(() => process.exit(code));
}

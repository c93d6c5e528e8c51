// SPDX-License-Identifier: Apache-2.0
//
// The native addon's surface, typed. The addon only translates; these
// types are the contract between dataplane/addon/addon.cpp and TypeScript.

import * as path from 'node:path';

import type { SpecLayout } from './spec-table';

export interface EnginePortSpec {
  name: string;
  /** DPDK device name: the vdev name (net_af_packet0) or the PCI address. */
  device: string;
  mtu: number;
  /** How long a packet may wait in a worker's tx batch for others (0: sent every loop iteration). */
  txCoalesceUs: number;
}

export interface EngineStartSpec {
  ports: EnginePortSpec[];
  /** Connections per worker; service and dest ids stay below their maxima. */
  maxConns: number;
  maxServices: number;
  maxDests: number;
  /** Local addresses (FULLNAT/SNAT pool addresses): ids stay below this. */
  maxLaddrs: number;
  /** The local ports FULLNAT/SNAT hand out, split between the workers. */
  lportFirst: number;
  lportLast: number;
  /** SYN proxy settings, for every synproxy service. */
  /** maxConns: SYN-proxied connections per worker (0: no SYN proxy). */
  synproxy: { mss: number; wscale: number; sack: boolean; timestamps: boolean; ttl: number; retries: number; hold: number; retryMs: number; maxConns: number };
  mbufs: number;
  mbufCache: number;
  rxDesc: number;
  txDesc: number;
  idleSleepUs: number;
  neighbours: { max: number; reachableMs: number; retryMs: number; retries: number; hold: number };
}

export interface EnginePortInfo {
  name: string;
  device: string;
  driver: string;
  portId: number;
  mac: string;
  rss: boolean;
  /** "supported" when the NIC would take reply-steering flow rules, else the reason it would not. */
  flowRules: string;
}

export interface EngineStartInfo {
  ports: EnginePortInfo[];
  workerLcores: number[];
}

export type ForwardName = 'nat' | 'dr' | 'tun' | 'fullnat' | 'snat';

export interface DestSpec {
  id: number;
  ip: string;
  port: number;
  fwd: ForwardName;
  weight: number;
  upper: number;
  lower: number;
  available: boolean;
}

/** A service as the control plane describes it; it crosses into the addon packed (spec-table.ts). */
export interface ServiceSpec {
  id: number;
  proto: 'tcp' | 'udp';
  vip: string;
  port: number;
  /** A service group's further endpoints. */
  extra: { proto: 'tcp' | 'udp'; vip: string; port: number }[];
  scheduler: string;
  /** SchedOptions: Maglev table and flags, lblc/lblcr ageing. */
  sched: { mhTableSize: number; mhHashPort: boolean; mhFallback: boolean; lblcExpireMs: number; lblcrShrinkMs: number };
  persistMs: number;
  persistMask: string;
  /** LVS expire_nodest_conn: a removed dest's connections end at their next packet. */
  expireNodest: boolean;
  /** SYN cookies at the balancer (NAT and FULLNAT dests only). */
  synproxy: boolean;
  /** Seconds, as ipvsadm --set; 0 keeps the default. */
  timeouts: { tcp: number; tcpfin: number; udp: number };
  /** FULLNAT local-address pool, with stable ids (per address, shared between services). */
  laddrs: { id: number; ip: string }[];
  /** FULLNAT: how the dest learns the client's address. */
  clientAddress: 'toa' | 'proxy_v2' | 'none';
  dests: DestSpec[];
}

/** Source NAT for a network behind the balancer; ids from the service and dest spaces. */
export interface SnatSpec {
  id: number;
  destId: number;
  src: string;
  srcDepth: number;
  dst: string;
  dstDepth: number;
  /** Config index of the output port; absent = any. */
  outPort?: number;
  laddrs: { id: number; ip: string }[];
}

export interface SnapshotSpec {
  /** Owned addresses: each answers ARP on its port and yields a connected route. */
  addresses: { ip: string; prefix: number; port: number }[];
  /** Static routes; gateway absent = directly connected through port. */
  routes: { prefix: string; depth: number; port: number; gateway?: string }[];
  /**
   * Each service packed (spec-table.ts), or, as a number, the id of a
   * service whose spec the last successful apply took unchanged (spec-cache.ts).
   */
  services: (Uint32Array | number)[];
  snat: SnatSpec[];
}

export interface NeighbourRow {
  port: number;
  ip: string;
  mac: string;
  state: 'reachable' | 'incomplete';
  held: number;
}

/** A mempool's fill level at one moment. */
export interface EnginePoolLevel {
  used: number;
  capacity: number;
}

export type RequestKind = 'neighbours' | 'zeroCounters' | 'conns';

/** A connection (or persistence template) as `ipvsadm -L -c` shows it. */
export interface ConnRow {
  /** 'group' for the persistence template of a service group. */
  proto: 'tcp' | 'udp' | 'group';
  state: string;
  template: boolean;
  caddr: string;
  cport: number;
  vaddr: string;
  vport: number;
  daddr: string;
  dport: number;
  serviceId: number;
  destId: number;
  expiresMs: number;
  /** The worker whose table holds it. */
  worker: number;
  /** FULLNAT: the local address and port the dest sees as the client. */
  laddr?: string;
  lport?: number;
}

/** Which connections to list; absent fields match everything. */
export interface ConnFilter {
  serviceId?: number;
  destId?: number;
  client?: string;
  clientPrefix?: number;
  state?: string;
  /** true: persistence templates only; false: connections only. */
  templates?: boolean;
  limit?: number;
}

export interface RequestResult {
  id: number;
  worker: number;
  neighbours?: NeighbourRow[];
  conns?: ConnRow[];
}

export interface NativeAddon {
  initEal(args: string[]): void;
  start(spec: EngineStartSpec): EngineStartInfo;
  stop(): void;
  /** Publishes a new snapshot; returns its generation. */
  apply(spec: SnapshotSpec): number;
  /** Seconds the last apply spent building the snapshot (C++) and publishing it. */
  lastApplyTimes(): { build: number; publish: number };
  /** Frees snapshots no worker can still see; returns how many wait. */
  reclaim(): number;
  /** Live per-worker counter blocks (no copy): stride 64-bit words per worker. */
  counters(): ArrayBuffer;
  counterNames(): { names: string[]; stride: number };
  /** Per-worker rows [maxServices] and [maxDests], zero-copy like counters(). */
  serviceStats(): ArrayBuffer;
  destStats(): ArrayBuffer;
  /** Per-worker rows [maxLaddrs]: ports used, capacity, refusals, connections. */
  laddrStats(): ArrayBuffer;
  statNames(): Record<'service' | 'dest' | 'laddr', { names: string[]; stride: number }>;
  /** The packed service apply() reads: the words of each part in order, and the lists its words index. */
  specLayout(): SpecLayout;
  /** The mempools now: each port's mbufs (port order), each worker's SYN proxy states (worker order). */
  pools(): { mbufs: EnginePoolLevel[]; synproxy: EnginePoolLevel[] };
  request(worker: number, kind: RequestKind, filter?: ConnFilter): number;
  poll(): RequestResult[];
  /**
   * Creates or truncates path (mode 0600; with `append`, creates it or
   * writes at its end), writes parts in order, fsyncs and closes it, as
   * one job off the event loop. It freezes `parts`; their bytes must stay
   * unchanged until the promise settles. Rejects with "STEP PATH: REASON".
   */
  writeFileDurable(path: string, parts: readonly Uint8Array[], append?: boolean): Promise<void>;
}

export const ADDON_PATH = path.resolve(__dirname, '../../../../build/addon/Release/fulcrum.node');

let loaded: NativeAddon | undefined;

/** Loads the addon once per process (DPDK itself can only start once). */
export function loadAddon(): NativeAddon {
  if (loaded === undefined) {
    try {
      loaded = require(ADDON_PATH) as NativeAddon;
    } catch (err) {
      throw new Error(`cannot load the dataplane addon ${ADDON_PATH}: ${(err as Error).message}; run 'npm run build'`);
    }
  }
  return loaded;
}

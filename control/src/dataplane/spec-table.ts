// SPDX-License-Identifier: Apache-2.0
//
// A service as it crosses into the addon: one Uint32Array. N-API reads
// an object a property at a time, each lookup by name; at 10,000 services
// of ~30 fields (and 80,000 dests of 8 before them) that was most of what
// the binding cost an Apply. A table costs it one call per service.
//
// The table: the SERVICE_WORDS header, then EXTRA_WORDS per further
// endpoint, LADDR_WORDS per local address and DEST_WORDS per dest, to
// the end. Addresses are host-order numbers; names (protocol, scheduler,
// forward and client-address mode) are indexes into the lists below. The
// addon exports the layout it reads (specLayout()), and Dataplane.start
// checks it against this one.

import { formatIPv4, parseIPv4 } from '../config/ipv4';
import { SCHEDULERS } from '../config/schema';
import type { DestSpec, ForwardName, ServiceSpec } from './addon';

export const SERVICE_WORDS = [
  'id', 'proto', 'vip', 'port', 'scheduler', 'mhTableSize', 'mhHashPort', 'mhFallback', 'lblcExpireMs',
  'lblcrShrinkMs', 'persistMs', 'persistMask', 'expireNodest', 'synproxy', 'tcp', 'tcpfin', 'udp',
  'clientAddress', 'extras', 'laddrs',
] as const;
export const EXTRA_WORDS = ['proto', 'vip', 'port'] as const;
export const LADDR_WORDS = ['id', 'ip'] as const;
export const DEST_WORDS = ['id', 'ip', 'port', 'fwd', 'weight', 'upper', 'lower', 'available'] as const;

/** A proto word is the IP protocol number. */
export const PROTOCOLS = { tcp: 6, udp: 17 } as const;
/** A dest's fwd word indexes this list. */
export const FORWARD_MODES: readonly ForwardName[] = ['nat', 'dr', 'tun', 'fullnat', 'snat'];
/** The clientAddress word indexes this list. */
export const CLIENT_ADDRESSES: readonly ServiceSpec['clientAddress'][] = ['none', 'toa', 'proxy_v2'];
// The scheduler word indexes the config schema's SCHEDULERS.

type ServiceWord = (typeof SERVICE_WORDS)[number];
/** The header's word offsets by name: t[S.vip] is the service's VIP. */
export const S: Readonly<Record<ServiceWord, number>> = Object.freeze(
  Object.fromEntries(SERVICE_WORDS.map((w, i) => [w, i])) as Record<ServiceWord, number>,
);

const H = SERVICE_WORDS.length;
const X = EXTRA_WORDS.length;
const L = LADDR_WORDS.length;
const W = DEST_WORDS.length;

/** The table of a service with these counts; write the header with S, the rest with the writers below. */
export function serviceTable(extras: number, laddrs: number, dests: number): Uint32Array {
  const t = new Uint32Array(H + extras * X + laddrs * L + dests * W);
  t[S.extras] = extras;
  t[S.laddrs] = laddrs;
  return t;
}

function extraAt(k: number): number {
  return H + k * X;
}

function laddrAt(t: Uint32Array, k: number): number {
  return H + t[S.extras] * X + k * L;
}

function destAt(t: Uint32Array, j: number): number {
  return H + t[S.extras] * X + t[S.laddrs] * L + j * W;
}

/** Addresses come validated; one that is not is a bug worth naming. */
function ipOf(address: string, what: string): number {
  const ip = parseIPv4(address);
  if (ip === null) throw new Error(`${what}: '${address}' is not an IPv4 address`);
  return ip;
}

export function writeExtra(t: Uint32Array, k: number, proto: 'tcp' | 'udp', vip: string, port: number): void {
  const o = extraAt(k);
  t[o] = PROTOCOLS[proto];
  t[o + 1] = ipOf(vip, `service ${t[S.id]} endpoint ${k}`);
  t[o + 2] = port;
}

export function writeLaddr(t: Uint32Array, k: number, id: number, ip: number): void {
  const o = laddrAt(t, k);
  t[o] = id;
  t[o + 1] = ip;
}

/**
 * Dest j of the service. Fields, not a DestSpec: an Apply from empty
 * writes 80,000 of them, and an object for each was garbage the collector
 * copied with the live specs around it.
 */
export function writeDest(
  t: Uint32Array, j: number, id: number, address: string, port: number, fwd: ForwardName,
  weight: number, upper: number, lower: number, available: boolean,
): void {
  const o = destAt(t, j);
  t[o] = id;
  t[o + 1] = ipOf(address, `dest ${id}`);
  t[o + 2] = port;
  t[o + 3] = FORWARD_MODES.indexOf(fwd);
  t[o + 4] = weight;
  t[o + 5] = upper;
  t[o + 6] = lower;
  t[o + 7] = available ? 1 : 0;
}

/** The table of a spec (for tests and tools: the control plane writes tables directly). */
export function packService(s: ServiceSpec): Uint32Array {
  const t = serviceTable(s.extra.length, s.laddrs.length, s.dests.length);
  const words: Record<ServiceWord, number> = {
    id: s.id, proto: PROTOCOLS[s.proto], vip: ipOf(s.vip, 'vip'), port: s.port,
    scheduler: (SCHEDULERS as readonly string[]).indexOf(s.scheduler),
    mhTableSize: s.sched.mhTableSize, mhHashPort: +s.sched.mhHashPort, mhFallback: +s.sched.mhFallback,
    lblcExpireMs: s.sched.lblcExpireMs, lblcrShrinkMs: s.sched.lblcrShrinkMs,
    persistMs: s.persistMs, persistMask: ipOf(s.persistMask, 'persistMask'),
    expireNodest: +s.expireNodest, synproxy: +s.synproxy,
    tcp: s.timeouts.tcp, tcpfin: s.timeouts.tcpfin, udp: s.timeouts.udp,
    clientAddress: CLIENT_ADDRESSES.indexOf(s.clientAddress), extras: s.extra.length, laddrs: s.laddrs.length,
  };
  for (const w of SERVICE_WORDS) t[S[w]] = words[w];
  s.extra.forEach((e, k) => writeExtra(t, k, e.proto, e.vip, e.port));
  s.laddrs.forEach((a, k) => writeLaddr(t, k, a.id, ipOf(a.ip, 'laddr')));
  s.dests.forEach((d, j) => writeDest(t, j, d.id, d.ip, d.port, d.fwd, d.weight, d.upper, d.lower, d.available));
  return t;
}

const protoName = (n: number): 'tcp' | 'udp' => (n === PROTOCOLS.udp ? 'udp' : 'tcp');

/** The spec a table holds (for tests: the binding reads the table itself). */
export function unpackService(t: Uint32Array): ServiceSpec {
  const dests: DestSpec[] = [];
  for (let j = 0; destAt(t, j) < t.length; j++) {
    const o = destAt(t, j);
    dests.push({
      id: t[o], ip: formatIPv4(t[o + 1]), port: t[o + 2], fwd: FORWARD_MODES[t[o + 3]],
      weight: t[o + 4], upper: t[o + 5], lower: t[o + 6], available: t[o + 7] === 1,
    });
  }
  return {
    id: t[S.id],
    proto: protoName(t[S.proto]),
    vip: formatIPv4(t[S.vip]),
    port: t[S.port],
    extra: Array.from({ length: t[S.extras] }, (_, k) => {
      const o = extraAt(k);
      return { proto: protoName(t[o]), vip: formatIPv4(t[o + 1]), port: t[o + 2] };
    }),
    scheduler: SCHEDULERS[t[S.scheduler]],
    sched: {
      mhTableSize: t[S.mhTableSize], mhHashPort: t[S.mhHashPort] === 1, mhFallback: t[S.mhFallback] === 1,
      lblcExpireMs: t[S.lblcExpireMs], lblcrShrinkMs: t[S.lblcrShrinkMs],
    },
    persistMs: t[S.persistMs],
    persistMask: formatIPv4(t[S.persistMask]),
    expireNodest: t[S.expireNodest] === 1,
    synproxy: t[S.synproxy] === 1,
    timeouts: { tcp: t[S.tcp], tcpfin: t[S.tcpfin], udp: t[S.udp] },
    laddrs: Array.from({ length: t[S.laddrs] }, (_, k) => ({ id: t[laddrAt(t, k)], ip: formatIPv4(t[laddrAt(t, k) + 1]) })),
    clientAddress: CLIENT_ADDRESSES[t[S.clientAddress]],
    dests,
  };
}

/** What the addon reads (specLayout()). */
export interface SpecLayout {
  service: string[];
  extra: string[];
  laddr: string[];
  dest: string[];
  forwards: string[];
  schedulers: string[];
  clientAddresses: string[];
}

/** This file's layout, as the addon reports its own. */
export function specLayout(): SpecLayout {
  return {
    service: [...SERVICE_WORDS], extra: [...EXTRA_WORDS], laddr: [...LADDR_WORDS], dest: [...DEST_WORDS],
    forwards: [...FORWARD_MODES], schedulers: [...SCHEDULERS], clientAddresses: [...CLIENT_ADDRESSES],
  };
}

/** Throws naming the difference when the addon reads another layout (a stale build). */
export function checkSpecLayout(addon: SpecLayout): void {
  const ours = specLayout();
  const differs = (Object.keys(ours) as (keyof SpecLayout)[]).filter((k) => JSON.stringify(addon[k]) !== JSON.stringify(ours[k]));
  if (differs.length > 0) {
    const show = (l: SpecLayout) => JSON.stringify(Object.fromEntries(differs.map((k) => [k, l[k]])));
    throw new Error(`the addon reads services as ${show(addon)}, not as ${show(ours)}: rebuild it (npm run build)`);
  }
}

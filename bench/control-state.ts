// SPDX-License-Identifier: Apache-2.0
//
// The desired states bench/control applies: N services of D dests each, in
// the API's message form, and a variant that changes a few percent of
// them (reweighted dests, a dest swapped, services removed and added), as
// an operator's daily Apply of a large fleet would.

import type { DesiredState } from '../control/src/api/gen/fulcrum/v1/DesiredState';
import type { Service } from '../control/src/api/gen/fulcrum/v1/Service';

// Every 100th service uses Maglev (its 65537-entry table is the costly
// build); the rest cycle through the common schedulers.
const SCHEDULERS = ['SCHEDULER_WLC', 'SCHEDULER_WRR', 'SCHEDULER_RR', 'SCHEDULER_SH'] as const;

/** Service i's VIP: 10.100.0.0/16 upwards, on no port's subnet (answered on every port). */
function vip(i: number): string {
  return `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Dest j of service i: the LAN's 10.0.1.0/24 would hold too few, so 10.1.x.y. */
function dest(i: number, j: number, weight = 1): { address: string; port: number; weight: number } {
  const n = i * 8 + j;
  return { address: `10.1.${(n >> 8) & 255}.${n & 255}`, port: 8000 + (n >> 16), weight };
}

export function service(i: number, dests: number): Service {
  return {
    name: `svc${i}`,
    protocol: 'PROTOCOL_TCP',
    vip: vip(i),
    port: 80,
    scheduler: i % 100 === 0 ? 'SCHEDULER_MH' : SCHEDULERS[i % SCHEDULERS.length],
    dests: Array.from({ length: dests }, (_, j) => dest(i, j)),
  };
}

export function fleet(services: number, dests: number): DesiredState {
  return { services: Array.from({ length: services }, (_, i) => service(i, dests)), snat: [] };
}

export interface Edited {
  state: DesiredState;
  /** Objects the edit touched: reweighted or swapped dests, removed and added services. */
  touched: number;
}

/**
 * The fleet with `percent` % of its services edited: of those, half get
 * one dest reweighted, a quarter one dest replaced, an eighth are removed
 * and as many new ones added. Service 1 is never touched (the benchmark's
 * and the tests' long-lived connection goes through it).
 */
export function edited(services: number, dests: number, percent: number): Edited {
  const out = fleet(services, dests).services as Service[];
  const every = Math.max(2, Math.round(100 / percent));
  let touched = 0;
  const removed = new Set<number>();
  for (let i = 2; i < services; i += every) {
    const s = out[i];
    const kind = (i / every) % 8;
    if (kind < 4) s.dests![0] = { ...s.dests![0], weight: 3 };
    else if (kind < 6) s.dests![dests - 1] = dest(services + i, 0);
    else removed.add(i);
    touched++;
  }
  const kept = out.filter((_, i) => !removed.has(i));
  for (let k = 0; k < removed.size; k++) kept.push(service(services + k, dests));
  return { state: { services: kept, snat: [] }, touched: touched + removed.size };
}

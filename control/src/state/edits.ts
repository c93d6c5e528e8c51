// SPDX-License-Identifier: Apache-2.0
//
// Edits of the desired state's input form, one per API operation: they
// find the object, refuse what does not exist or already exists, and
// change the draft. Validation of the result is the store's job.

import { plain, type DesiredInput, type Input } from './desired';
import { StateError } from './errors';

function serviceIndex(d: DesiredInput, name: string): number {
  const i = d.services.findIndex((s) => s.name === name);
  if (i < 0) throw new StateError('not_found', `no service named '${name}'`);
  return i;
}

/**
 * The named service of the draft, to edit in place: a copy, put in the
 * draft's list (a draft shares its services with the running state).
 */
export function findService(d: DesiredInput, name: string): Input {
  const i = serviceIndex(d, name);
  d.services[i] = plain(d.services[i]);
  return d.services[i];
}

const endpoint = (s: Input) => `${String(s.protocol)} ${String(s.vip)}:${String(s.port)}`;

export function createService(d: DesiredInput, svc: Input): void {
  if (d.services.some((s) => s.name === svc.name)) {
    throw new StateError('exists', `a service named '${String(svc.name)}' already exists`);
  }
  const taken = d.services.find((s) => endpoint(s) === endpoint(svc));
  if (taken !== undefined) {
    throw new StateError('exists', `service '${String(taken.name)}' already answers for ${endpoint(svc)}`);
  }
  d.services.push(svc);
}

/** Replaces the listed top-level fields (all when `fields` is empty) of the named service. */
export function updateService(d: DesiredInput, svc: Input, fields: string[]): void {
  const i = serviceIndex(d, String(svc.name));
  if (fields.length === 0) {
    d.services[i] = svc;
    return;
  }
  const next: Input = { ...d.services[i] };
  for (const f of fields) {
    if (f === 'name') throw new StateError('invalid', 'update_mask: a service cannot be renamed (delete and create it)');
    if (f in svc) next[f] = svc[f];
    else delete next[f];
  }
  d.services[i] = next;
}

export function deleteService(d: DesiredInput, name: string): void {
  d.services.splice(serviceIndex(d, name), 1);
}

function dests(svc: Input): Input[] {
  if (!Array.isArray(svc.dests)) svc.dests = [];
  return svc.dests as Input[];
}

function destIndex(svc: Input, address: string, port: number): number {
  const i = dests(svc).findIndex((x) => x.address === address && x.port === port);
  if (i < 0) throw new StateError('not_found', `service '${String(svc.name)}' has no dest ${address}:${port}`);
  return i;
}

export function findDest(svc: Input, address: string, port: number): Input {
  return dests(svc)[destIndex(svc, address, port)];
}

export function createDest(svc: Input, dest: Input): void {
  const list = dests(svc);
  if (list.some((x) => x.address === dest.address && x.port === dest.port)) {
    throw new StateError('exists', `service '${String(svc.name)}' already has dest ${String(dest.address)}:${String(dest.port)}`);
  }
  list.push(dest);
}

export function updateDest(svc: Input, dest: Input): void {
  dests(svc)[destIndex(svc, String(dest.address), Number(dest.port))] = dest;
}

export function deleteDest(svc: Input, address: string, port: number): void {
  dests(svc).splice(destIndex(svc, address, port), 1);
}

function laddrs(svc: Input): string[] {
  if (!Array.isArray(svc.local_addresses)) svc.local_addresses = [];
  return svc.local_addresses as string[];
}

export function createLocalAddress(svc: Input, address: string): void {
  if (laddrs(svc).includes(address)) {
    throw new StateError('exists', `service '${String(svc.name)}' already has local address ${address}`);
  }
  laddrs(svc).push(address);
}

export function deleteLocalAddress(svc: Input, address: string): void {
  const i = laddrs(svc).indexOf(address);
  if (i < 0) throw new StateError('not_found', `service '${String(svc.name)}' has no local address ${address}`);
  laddrs(svc).splice(i, 1);
}

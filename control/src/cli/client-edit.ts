// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum service|dest|laddr add|edit|del`, in the spirit of ipvsadm
// -A/-E/-D, -a/-e/-d: each builds one API request from its options. The
// balancer validates; here only the shape of the command line is checked.

import { parseArgs } from 'node:util';

import type { FulcrumApi } from '../api/client';
import { enumOut } from '../api/convert';
import type { Dest } from '../api/gen/fulcrum/v1/Dest';
import type { Service } from '../api/gen/fulcrum/v1/Service';
import { FORWARD_MODES, SCHEDULERS } from '../config/schema';
import { json as toJson } from './client-read';
import { UsageError } from './usage';

type Values = Record<string, string | boolean | string[] | undefined>;

function oneOf<T extends string>(list: readonly T[], value: string, what: string): T {
  if (!(list as readonly string[]).includes(value)) throw new UsageError(`unknown ${what} '${value}' (one of ${list.join(', ')})`);
  return value as T;
}

function whole(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${what} takes a whole number, got '${value}'`);
  return Number(value);
}

/** "10.0.1.11:80" -> address and port. */
function hostPort(value: string | undefined, what: string): { address: string; port: number } {
  const m = /^([0-9.]+):([0-9]+)$/.exec(value ?? '');
  if (!m) throw new UsageError(`${what} takes ADDRESS:PORT, got '${value ?? ''}'`);
  return { address: m[1], port: Number(m[2]) };
}

function positionals(args: string[], names: string[], command: string): string[] {
  if (args.length !== names.length) throw new UsageError(`${command} needs ${names.join(' ')}`);
  return args;
}

// ---------------------------------------------------------------- service

const SERVICE_OPTIONS = {
  tcp: { type: 'string' },
  udp: { type: 'string' },
  scheduler: { type: 'string', short: 's' },
  forward: { type: 'string' },
  persistent: { type: 'string', short: 'p' },
  netmask: { type: 'string', short: 'M' },
  laddr: { type: 'string', multiple: true },
  synproxy: { type: 'boolean' },
} as const;

/** The Service fields the options give, and their names for an update mask. */
function serviceFields(v: Values): { fields: Partial<Service>; names: string[] } {
  const fields: Partial<Service> = {};
  if (v.tcp !== undefined && v.udp !== undefined) throw new UsageError('give --tcp or --udp, not both');
  const vip = (v.tcp ?? v.udp) as string | undefined;
  if (vip !== undefined) {
    const { address, port } = hostPort(vip, v.tcp !== undefined ? '--tcp' : '--udp');
    Object.assign(fields, { protocol: v.tcp !== undefined ? 'PROTOCOL_TCP' : 'PROTOCOL_UDP', vip: address, port });
  }
  if (v.scheduler !== undefined) fields.scheduler = enumOut(oneOf(SCHEDULERS, v.scheduler as string, 'scheduler'), 'SCHEDULER_');
  if (v.forward !== undefined) fields.forward = enumOut(oneOf(FORWARD_MODES, v.forward as string, 'forward mode'), 'FORWARD_MODE_');
  if (v.persistent !== undefined) {
    const seconds = whole(v.persistent as string, '--persistent');
    fields.persistence = seconds === 0 ? null : { timeout: { seconds }, netmask: (v.netmask as string | undefined) ?? '' };
  } else if (v.netmask !== undefined) {
    throw new UsageError('--netmask goes with --persistent');
  }
  if (v.laddr !== undefined) fields.local_addresses = v.laddr as string[];
  if (v.synproxy !== undefined) fields.synproxy = v.synproxy as boolean;
  const names = Object.keys(fields).filter((k) => k !== 'vip' && k !== 'port');
  return { fields, names: names.map((k) => (k === 'protocol' ? ['protocol', 'vip', 'port'] : [k])).flat() };
}

export async function serviceCommand(api: FulcrumApi, verb: string | undefined, args: string[]): Promise<string> {
  const { values, positionals: pos } = parseArgs({ args, options: SERVICE_OPTIONS, allowPositionals: true });
  switch (verb) {
    case 'add': {
      const [name] = positionals(pos, ['NAME'], 'service add');
      const { fields } = serviceFields(values);
      if (fields.protocol === undefined) throw new UsageError('service add needs --tcp VIP:PORT or --udp VIP:PORT');
      return generation(await api.call('CreateService', { service: { name, ...fields } }));
    }
    case 'edit': {
      const [name] = positionals(pos, ['NAME'], 'service edit');
      const { fields, names } = serviceFields(values);
      if (names.length === 0) throw new UsageError('service edit: nothing to change');
      return generation(await api.call('UpdateService', { service: { name, ...fields }, update_mask: { paths: names } }));
    }
    case 'del': {
      const [name] = positionals(pos, ['NAME'], 'service del');
      return generation(await api.call('DeleteService', { name }));
    }
    default:
      throw new UsageError(`service takes add, edit or del, got '${verb ?? ''}'`);
  }
}

// ------------------------------------------------------------------- dest

const DEST_OPTIONS = {
  weight: { type: 'string', short: 'w' },
  forward: { type: 'string' },
  upper: { type: 'string', short: 'x' },
  lower: { type: 'string', short: 'y' },
} as const;

function destFields(v: Values): Partial<Dest> {
  const d: Partial<Dest> = {};
  if (v.weight !== undefined) d.weight = whole(v.weight as string, '--weight');
  if (v.forward !== undefined) d.forward = enumOut(oneOf(FORWARD_MODES, v.forward as string, 'forward mode'), 'FORWARD_MODE_');
  if (v.upper !== undefined) d.upper = whole(v.upper as string, '--upper');
  if (v.lower !== undefined) d.lower = whole(v.lower as string, '--lower');
  return d;
}

export async function destCommand(api: FulcrumApi, verb: string | undefined, args: string[]): Promise<string> {
  const { values, positionals: pos } = parseArgs({ args, options: DEST_OPTIONS, allowPositionals: true });
  const [service, endpoint] = positionals(pos, ['SERVICE', 'ADDRESS:PORT'], `dest ${verb ?? ''}`.trim());
  const key = hostPort(endpoint, 'dest');
  switch (verb) {
    case 'add':
      return generation(await api.call('CreateDest', { service, dest: { ...key, ...destFields(values) } }));
    case 'edit': {
      // Options not given keep their value (ipvsadm -e would reset them).
      const { dest } = await api.call('GetDest', { service, ...key });
      return generation(await api.call('UpdateDest', { service, dest: { ...dest, ...destFields(values) } }));
    }
    case 'del':
      return generation(await api.call('DeleteDest', { service, ...key }));
    default:
      throw new UsageError(`dest takes add, edit or del, got '${verb ?? ''}'`);
  }
}

// ------------------------------------------------------------------ laddr

export async function laddrCommand(api: FulcrumApi, verb: string | undefined, args: string[], json: boolean): Promise<string> {
  const { positionals: pos } = parseArgs({ args, options: {}, allowPositionals: true });
  switch (verb) {
    case 'add': {
      const [service, address] = positionals(pos, ['SERVICE', 'ADDRESS'], 'laddr add');
      return generation(await api.call('CreateLocalAddress', { service, address }));
    }
    case 'del': {
      const [service, address] = positionals(pos, ['SERVICE', 'ADDRESS'], 'laddr del');
      return generation(await api.call('DeleteLocalAddress', { service, address }));
    }
    case 'list': {
      const [service] = positionals(pos, ['SERVICE'], 'laddr list');
      const { addresses } = await api.call('ListLocalAddresses', { service });
      return json ? toJson({ addresses }) : addresses.join('\n');
    }
    default:
      throw new UsageError(`laddr takes add, del or list, got '${verb ?? ''}'`);
  }
}

function generation(r: { generation: string }): string {
  return `generation ${r.generation}`;
}

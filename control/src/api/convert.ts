// SPDX-License-Identifier: Apache-2.0
//
// Translation between API messages and the config's objects. Messages
// become the input form (what a YAML file says) and go through the
// config schema, which fills in defaults and names bad fields; unset
// message fields are left out so the schema's defaults apply (each
// literal goes through defined() once: a decoded message is copied once,
// not again at every level above). Validated services become messages
// with every default shown.

import { defined, type Input } from '../state/desired';
import type { DestConfig, ServiceConfig, SnatConfig } from '../config/schema';
import type { Desired } from '../state/desired';
import type { Dest, Dest__Output } from './gen/fulcrum/v1/Dest';
import type { DesiredState } from './gen/fulcrum/v1/DesiredState';
import type { Duration, Duration__Output } from './gen/google/protobuf/Duration';
import type { Service, Service__Output } from './gen/fulcrum/v1/Service';
import type { SnatRule, SnatRule__Output } from './gen/fulcrum/v1/SnatRule';
import { fulcrumTypes } from './proto';

// ------------------------------------------------------------ enums

// Each enum of the API by its values' prefix.
const ENUMS: Record<string, string> = {
  PROTOCOL_: 'Protocol', SCHEDULER_: 'Scheduler', FORWARD_MODE_: 'ForwardMode',
  CLIENT_ADDRESS_MODE_: 'ClientAddressMode', HEALTH_FAIL_ACTION_: 'HealthFailAction', HEALTH_CHECK_TYPE_: 'HealthCheckType',
};
const enumNames = new Map<string, Record<number, string>>();

/** The name of enum value `value` (a number on the wire); a number the enum lacks stays a number, as the loader leaves it. */
function enumName(value: number, prefix: string): string {
  let byId = enumNames.get(prefix);
  if (byId === undefined) {
    byId = fulcrumTypes().lookupEnum(`fulcrum.v1.${ENUMS[prefix]}`).valuesById;
    enumNames.set(prefix, byId);
  }
  return byId[value] ?? String(value);
}

/**
 * "SCHEDULER_WRR" -> "wrr"; the UNSPECIFIED value -> undefined (the
 * default). A number (a decoded message's enum, or one the loader did not
 * know) is named first; one the enum lacks reaches the schema as e.g.
 * '7', which it refuses by name.
 */
export function enumIn(value: string | number, prefix: string): string | undefined {
  const name = typeof value === 'number' ? enumName(value, prefix) : value;
  if (name.endsWith('_UNSPECIFIED')) return undefined;
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name;
}

/** "wrr" -> "SCHEDULER_WRR", typed as the enum's literal. */
export function enumOut<V extends string, P extends string>(value: V, prefix: P): `${P}${Uppercase<V>}` {
  return `${prefix}${value.toUpperCase()}` as `${P}${Uppercase<V>}`;
}

// -------------------------------------------------------- durations

/** Duration's seconds are int64: the loader's decimal string, or a decoded message's Long (Number() reads both). */
export function durationMs(d: Duration__Output): number {
  return Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

/** An input-form duration ("1500ms"), which the schema bounds and names. */
function durationIn(d: Duration__Output | null): string | undefined {
  return d === null ? undefined : `${durationMs(d)}ms`;
}

export function durationOut(ms: number | undefined): Duration | null {
  if (ms === undefined) return null;
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

const orUndefined = <T>(v: T, unset: T) => (v === unset ? undefined : v);

// ---------------------------------------------------------- to input

export function destIn(d: Dest__Output): Input {
  return defined({
    address: d.address,
    port: d.port,
    weight: d.weight ?? undefined,  // optional: unset is null in a decoded message
    forward: enumIn(d.forward, 'FORWARD_MODE_'),
    upper: d.upper,
    lower: d.lower,
    health_check: d.health_check === null ? undefined : healthCheckIn(d.health_check),
  });
}

export function serviceIn(s: Service__Output): Input {
  return defined({
    name: s.name,
    protocol: enumIn(s.protocol, 'PROTOCOL_'),
    vip: s.vip,
    port: s.port,
    scheduler: enumIn(s.scheduler, 'SCHEDULER_'),
    forward: enumIn(s.forward, 'FORWARD_MODE_'),
    persistence: s.persistence === null ? undefined : defined({
      timeout: s.persistence.timeout === null ? undefined : durationMs(s.persistence.timeout) / 1000,
      netmask: orUndefined(s.persistence.netmask, ''),
    }),
    synproxy: s.synproxy,
    local_addresses: s.local_addresses,
    client_address: enumIn(s.client_address, 'CLIENT_ADDRESS_MODE_'),
    health_check: s.health_check === null ? undefined : healthCheckIn(s.health_check),
    passive_check: s.passive_check,
    timeouts: s.timeouts === null ? undefined : defined({
      tcp: durationIn(s.timeouts.tcp),
      tcpfin: durationIn(s.timeouts.tcpfin),
      udp: durationIn(s.timeouts.udp),
    }),
    expire_nodest_conn: s.expire_nodest_conn,
    endpoints: s.endpoints.map((e) => defined({ protocol: enumIn(e.protocol, 'PROTOCOL_'), vip: orUndefined(e.vip, ''), port: e.port })),
    mh: s.mh === null ? undefined : defined({ table_size: orUndefined(s.mh.table_size, 0), hash_port: s.mh.hash_port, fallback: s.mh.fallback }),
    lblc: s.lblc === null ? undefined : defined({ expire: durationIn(s.lblc.expire), shrink: durationIn(s.lblc.shrink) }),
    dests: s.dests.map(destIn),
  });
}

function healthCheckIn(h: NonNullable<Service__Output['health_check']>): Input {
  return defined({
    ...healthCheckCommonIn(h),
    on_fail: enumIn(h.on_fail, 'HEALTH_FAIL_ACTION_'),
    port: orUndefined(h.port, 0),
    source: orUndefined(h.source, ''),
  });
}

function healthCheckCommonIn(h: NonNullable<Service__Output['health_check']>): Input {
  return {
    type: enumIn(h.type, 'HEALTH_CHECK_TYPE_'),
    path: orUndefined(h.path, ''),
    expect_status: orUndefined(h.expect_status, 0),
    send: orUndefined(h.send, ''),
    expect: orUndefined(h.expect, ''),
    interval: durationIn(h.interval),
    timeout: durationIn(h.timeout),
    rise: orUndefined(h.rise, 0),
    fall: orUndefined(h.fall, 0),
  };
}

export function snatIn(r: SnatRule__Output): Input {
  return defined({
    name: r.name,
    source: r.source,
    destination: orUndefined(r.destination, ''),
    out_port: orUndefined(r.out_port, ''),
    local_addresses: r.local_addresses,
  });
}

// ------------------------------------------------------ to messages

export function destOut(d: DestConfig): Dest {
  return {
    address: d.address,
    port: d.port,
    weight: d.weight,
    forward: d.forward === undefined ? 'FORWARD_MODE_UNSPECIFIED' : enumOut(d.forward, 'FORWARD_MODE_'),
    upper: d.upper,
    lower: d.lower,
    health_check: d.health_check === undefined ? null : healthCheckOut(d.health_check),
  };
}

export function serviceOut(s: ServiceConfig): Service {
  return {
    name: s.name,
    protocol: enumOut(s.protocol, 'PROTOCOL_'),
    vip: s.vip,
    port: s.port,
    scheduler: enumOut(s.scheduler, 'SCHEDULER_'),
    forward: enumOut(s.forward, 'FORWARD_MODE_'),
    persistence: s.persistence === undefined ? null : { timeout: durationOut(s.persistence.timeout * 1000), netmask: s.persistence.netmask },
    synproxy: s.synproxy,
    local_addresses: s.local_addresses,
    client_address: enumOut(s.client_address, 'CLIENT_ADDRESS_MODE_'),
    health_check: s.health_check === undefined ? null : healthCheckOut(s.health_check),
    passive_check: s.passive_check,
    timeouts: { tcp: durationOut(s.timeouts.tcp), tcpfin: durationOut(s.timeouts.tcpfin), udp: durationOut(s.timeouts.udp) },
    expire_nodest_conn: s.expire_nodest_conn,
    endpoints: s.endpoints.map((e) => ({
      protocol: e.protocol === undefined ? 'PROTOCOL_UNSPECIFIED' : enumOut(e.protocol, 'PROTOCOL_'),
      vip: e.vip ?? '',
      port: e.port,
    })),
    mh: { ...s.mh },
    lblc: { expire: durationOut(s.lblc.expire), shrink: durationOut(s.lblc.shrink) },
    dests: s.dests.map(destOut),
  };
}

// The schema fills in path and expect_status for every check type but
// accepts them only for http(s): show them only there, so a service read
// can be sent back as it is.
function healthCheckOut(h: NonNullable<ServiceConfig['health_check']>): Service['health_check'] {
  const http = h.type === 'http' || h.type === 'https';
  return {
    ...h,
    path: http ? h.path : '',
    expect_status: http ? h.expect_status : 0,
    type: enumOut(h.type, 'HEALTH_CHECK_TYPE_'),
    send: h.send ?? '',
    expect: h.expect ?? '',
    interval: durationOut(h.interval),
    timeout: durationOut(h.timeout),
    on_fail: enumOut(h.on_fail, 'HEALTH_FAIL_ACTION_'),
    port: h.port ?? 0,
    source: h.source ?? '',
  };
}

export function snatOut(r: SnatConfig): SnatRule {
  return { ...r, out_port: r.out_port ?? '' };
}

export function desiredOut(d: Desired): DesiredState {
  return { services: d.services.map(serviceOut), snat: d.snat.map(snatOut) };
}

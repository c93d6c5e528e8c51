// SPDX-License-Identifier: Apache-2.0
//
// The desired state: the services and snat rules an operator declared.
// It exists in two forms. The input form is what a config file says (the
// YAML keys, durations as "2s"); the validated form is what the schema
// makes of it (defaults filled in, durations in milliseconds). The store
// edits and persists the input form and runs the validated one, and
// every input goes through the config file's own schema, so the API, the
// state file and the YAML follow one set of rules.

import { issuesToProblems } from '../config/load';
import { desiredStateSchema, formatDuration, type DesiredStateConfig, type ServiceConfig } from '../config/schema';
import { StateError } from './errors';

export type Desired = DesiredStateConfig;

/** A config-file object: keys as in the YAML, values as a user writes them. */
export type Input = Record<string, unknown>;

/**
 * An input that arrives encoded (an API message's bytes): known by a key
 * made from the encoding, decoded only when that key is not known. An
 * Apply that repeats 10,000 services decodes none of them. Equal keys
 * must mean equal inputs: the key is the encoding itself, not a hash.
 */
export class EncodedInput {
  constructor(
    /** The encoding as a string (one character a byte): what the input is known by. */
    readonly key: string,
    private readonly decode: () => Input,
  ) {}

  /**
   * The input, decoded anew at each call. Kept, the decoded inputs of a
   * 10,000-service Apply would live until its end, and the garbage
   * collector would copy all of them twice; they are needed once (a
   * refused Apply decodes its services a second time to word the refusal).
   */
  input(): Input {
    return this.decode();
  }
}

/** A desired state's input with its EncodedInput services decoded (the full schema wants plain input). */
export function decodedInput(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || !Array.isArray((input as Input).services)) return input;
  const services = (input as Input).services as unknown[];
  return { ...input, services: services.map((s) => (s instanceof EncodedInput ? s.input() : s)) };
}

export interface DesiredInput {
  services: Input[];
  snat: Input[];
}

/** Validates an input-form desired state; throws StateError('invalid') naming every bad field. */
export function validateDesired(input: unknown, portNames: readonly string[]): Desired {
  const result = desiredStateSchema(portNames).safeParse(input);
  if (result.success) return result.data;
  throw StateError.invalid(issuesToProblems(result.error.issues, input));
}

const ms = (v: number | undefined) => (v === undefined ? undefined : formatDuration(v));

// Keys the schema fills in for every check type but accepts only for some.
const HTTP_ONLY = ['path', 'expect_status'];
const UDP_ONLY = ['send', 'expect'];

type HealthCheck = NonNullable<ServiceConfig['health_check']>;

/** The input form of a validated health check (a service's or a dest's). */
function healthCheckInput(h: HealthCheck): Input {
  const hc: Input = { ...h, interval: ms(h.interval), timeout: ms(h.timeout) };
  if (h.type !== 'http' && h.type !== 'https') HTTP_ONLY.forEach((k) => delete hc[k]);
  if (h.type !== 'udp') UDP_ONLY.forEach((k) => delete hc[k]);
  return hc;
}

/**
 * The input form of a validated service: what the schema maps back to it.
 * It shares with s what it need not change (a dest without a check, the
 * endpoints, mh): neither form is edited in place (an edit copies the
 * service first, edits.ts findService), and the schema's output has no
 * undefined values, so only the timeouts need defined().
 */
export function serviceInput(s: ServiceConfig): Input {
  const out: Input = {
    ...s,
    dests: s.dests.map((d) => (d.health_check ? { ...d, health_check: healthCheckInput(d.health_check) } : d)),
    timeouts: defined({ tcp: ms(s.timeouts.tcp), tcpfin: ms(s.timeouts.tcpfin), udp: ms(s.timeouts.udp) }),
    lblc: { expire: ms(s.lblc.expire), shrink: ms(s.lblc.shrink) },
  };
  if (s.health_check) out.health_check = healthCheckInput(s.health_check);
  return out;
}

/**
 * The object literal o without its undefined keys (a strict schema would
 * see those as given): a shallow copy, for literals made with optional
 * values, where plain() would copy everything below them again.
 */
export function defined(o: Input): Input {
  const out: Input = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export function desiredInput(d: Desired): DesiredInput {
  return { services: d.services.map(serviceInput), snat: d.snat.map((r) => plain(r)) };
}

/**
 * A deep copy without undefined values (which a strict schema would see as
 * keys), as a JSON round trip would make of these plain objects, without
 * the round trip's text (a large desired state is copied on every change).
 */
export function plain<T>(o: T): T {
  return copy(o) as T;
}

function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : copy(x)));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = copy(x);
  return out;
}

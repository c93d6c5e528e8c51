// SPDX-License-Identifier: Apache-2.0
//
// Apply's request, read service by service. A daily Apply repeats most of
// its 10,000 services unchanged, and decoding each one (protobuf, then
// the input form) and turning it into text to find it again cost more
// than the rest of such an Apply. So Apply's deserializer splits each
// Service's bytes off the wire without parsing them, and each becomes an
// EncodedInput keyed by its bytes: the store's cache decodes only the
// services it has not seen. The rest of the request (dry_run, snat) is
// decoded as the loader decodes it.

import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { Reader, type Type } from 'protobufjs';

import { EncodedInput, type Input } from '../state/desired';
import { serviceIn, snatIn } from './convert';
import type { DesiredState__Output } from './gen/fulcrum/v1/DesiredState';
import type { Service__Output } from './gen/fulcrum/v1/Service';
import { fulcrumTypes, LOADER_OPTIONS } from './proto';

/** An ApplyRequest as Apply's handler gets it. */
export interface ApplyWire {
  state: { services: EncodedInput[]; snat: Input[] };
  dry_run: boolean;
}

const WIRE_LEN = 2;  // wire type of a length-delimited field
const APPLY_STATE = 1;  // ApplyRequest.state
const STATE_SERVICES = 1;  // DesiredState.services

interface Split {
  /** The values of the length-delimited field asked for, in order. */
  values: Buffer[];
  /** Every other field, as it was on the wire. */
  rest: Buffer[];
}

/** The fields of the message in buf: those numbered `field` apart, the rest as they are. */
function split(buf: Buffer, field: number): Split {
  const r = Reader.create(buf);
  const out: Split = { values: [], rest: [] };
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === WIRE_LEN) {
      const len = r.uint32();
      const from = r.pos;
      r.skip(len);  // throws when the message ends first
      out.values.push(buf.subarray(from, r.pos));
    } else {
      r.skipType(tag & 7);
      out.rest.push(buf.subarray(start, r.pos));
    }
  }
  return out;
}

/** The loader's reading of a message (defaults filled in, enums as names). */
function read<T>(type: Type, bytes: Uint8Array): T {
  return type.toObject(type.decode(bytes), LOADER_OPTIONS) as T;
}

/**
 * A Service decoded, without the loader's toObject: serviceIn reads it as
 * it reads the loader's object. Unset fields read the message type's
 * defaults, as toObject would fill them in; enums are numbers and int64s
 * Longs, which enumIn and durationMs take too; an unset optional field is
 * null. toObject's copy of every field and default was a third of the
 * cost of reading 10,000 new services (and garbage the collector copied).
 */
function decodedService(service: Type, bytes: Uint8Array): Service__Output {
  return service.decode(bytes) as unknown as Service__Output;
}

let types: { request: Type; state: Type; service: Type } | undefined;

/** The three message types read here, looked up once. */
function wireTypes(): { request: Type; state: Type; service: Type } {
  if (types === undefined) {
    const root = fulcrumTypes();
    types = {
      request: root.lookupType('fulcrum.v1.ApplyRequest'),
      state: root.lookupType('fulcrum.v1.DesiredState'),
      service: root.lookupType('fulcrum.v1.Service'),
    };
  }
  return types;
}

/** Apply's requestDeserialize. */
export function applyRequestIn(buf: Buffer): ApplyWire {
  const { request, state: stateType, service } = wireTypes();
  const top = split(buf, APPLY_STATE);
  const { dry_run } = read<{ dry_run: boolean }>(request, Buffer.concat(top.rest));
  // A state given twice: the last one counts, as the loader reads it.
  const state = split(top.values.at(-1) ?? Buffer.alloc(0), STATE_SERVICES);
  const rest = read<DesiredState__Output>(stateType, Buffer.concat(state.rest));
  const services = state.values.map(
    (bytes) => new EncodedInput(bytes.toString('latin1'), () => serviceIn(decodedService(service, bytes))),
  );
  return { state: { services, snat: rest.snat.map(snatIn) }, dry_run };
}

/** The Fulcrum service with Apply's requests read by applyRequestIn. */
export function withApplyWire(service: ServiceDefinition): ServiceDefinition {
  const apply = service.Apply as MethodDefinition<unknown, unknown>;
  return { ...service, Apply: { ...apply, requestDeserialize: applyRequestIn } };
}

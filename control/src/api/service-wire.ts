// SPDX-License-Identifier: Apache-2.0
//
// The desired state's services as wire bytes, each made once. A service's
// validated config object is never changed in place (an edit copies it),
// so its encoding holds for as long as the object lives: ListServices and
// GetDesiredState at 10,000 services join the encodings they already
// have, and encode only the services that changed since the last such
// call, in slices with a turn of the event loop between them. (Through
// the loader, each such call built and encoded all 10,000 in one turn.)
// The replies go out as bytes (reply-wire.ts).

import { setImmediate as nextTurn } from 'node:timers/promises';

import { Writer, type Type } from 'protobufjs';

import type { ServiceConfig } from '../config/schema';
import type { Desired } from '../state/desired';
import { serviceOut, snatOut } from './convert';
import { encoderOf } from './fast-encode';
import { fulcrumTypes } from './proto';
import { loaderReplySerializer, messageTag, SLICE_MESSAGES } from './reply-wire';

const LIST_SERVICES_SERVICES = 1;  // ListServicesResponse.services
const STATE_SERVICES = 1;  // DesiredState.services
const RESPONSE_STATE = 1;  // GetDesiredStateResponse.state

const encoded = new WeakMap<ServiceConfig, Uint8Array>();
let types: { service: Type; state: Type } | undefined;

let encodeService: (m: object) => Buffer;

function wireTypes(): { service: Type; state: Type } {
  if (types === undefined) {
    types = { service: fulcrumTypes().lookupType('fulcrum.v1.Service'), state: fulcrumTypes().lookupType('fulcrum.v1.DesiredState') };
    encodeService = encoderOf(types.service);
  }
  return types;
}

/** The services as repeated message field `field`, each encoding made once. */
async function servicesField(services: readonly ServiceConfig[], field: number): Promise<Uint8Array> {
  const { service } = wireTypes();
  const w = Writer.create();
  let fresh = 0;
  for (const s of services) {
    let bytes = encoded.get(s);
    if (bytes === undefined) {
      if (++fresh % SLICE_MESSAGES === 0) await nextTurn();
      // fromObject, as the loader's serializer does: enum names become
      // numbers. A copy of its own: a small Buffer is a slice of Node's
      // shared 8 KB pool block, which the cache would keep alive whole.
      bytes = new Uint8Array(encodeService(service.fromObject(serviceOut(s))));
      encoded.set(s, bytes);
    }
    w.uint32(messageTag(field)).bytes(bytes);
  }
  return w.finish();
}

/** ListServicesResponse of these services, encoded. */
export async function listServicesWire(services: readonly ServiceConfig[]): Promise<Buffer> {
  const bytes = await servicesField(services, LIST_SERVICES_SERVICES);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);  // a view: 9 MB are not copied again
}

/** GetDesiredStateResponse of this state and generation, encoded (the state's bytes copied once, into the reply). */
export async function desiredStateWire(d: Desired, generation: number): Promise<Buffer> {
  const { state } = wireTypes();
  const snat = state.encode(state.fromObject({ snat: d.snat.map(snatOut) })).finish();
  const services = await servicesField(d.services, STATE_SERVICES);
  const head = Writer.create().uint32(messageTag(RESPONSE_STATE)).uint32(services.length + snat.length).finish();
  return Buffer.concat([head, services, snat, loaderReplySerializer('GetDesiredState')({ generation: String(generation) })]);
}

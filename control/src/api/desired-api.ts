// SPDX-License-Identifier: Apache-2.0
//
// The desired-state RPCs: services, dests, local addresses, Apply. Each
// handler decodes the message into the config's input form, calls one
// edit of the store, and encodes the result. Apply's services arrive
// still encoded (apply-wire.ts): the store decodes the ones it has not
// seen. ListServices and GetDesiredState reply with each service's
// encoding, made once (service-wire.ts).

import type { handleUnaryCall } from '@grpc/grpc-js';

import type { DesiredStateStore } from '../state/store';
import * as edits from '../state/edits';
import { changeText, type Change } from '../state/diff';
import type { ServiceConfig } from '../config/schema';
import { StateError } from '../state/errors';
import type { ApplyWire } from './apply-wire';
import { destIn, destOut, serviceIn, serviceOut } from './convert';
import { unary } from './errors';
import type { FulcrumHandlers } from './gen/fulcrum/v1/Fulcrum';
import type { Change as ChangeMessage } from './gen/fulcrum/v1/Change';
import type { ApplyResponse } from './gen/fulcrum/v1/ApplyResponse';
import type { GetDesiredStateResponse } from './gen/fulcrum/v1/GetDesiredStateResponse';
import type { ListServicesResponse } from './gen/fulcrum/v1/ListServicesResponse';
import { encodedReply } from './reply-wire';
import { desiredStateWire, listServicesWire } from './service-wire';

type DesiredHandlers = Pick<
  FulcrumHandlers,
  | 'CreateService' | 'UpdateService' | 'DeleteService' | 'GetService' | 'ListServices'
  | 'CreateDest' | 'UpdateDest' | 'DeleteDest' | 'GetDest' | 'ListDests'
  | 'CreateLocalAddress' | 'DeleteLocalAddress' | 'ListLocalAddresses'
  | 'GetDesiredState'
> & {
  // Its request is read by apply-wire.ts, not by the loader.
  Apply: handleUnaryCall<ApplyWire, ApplyResponse>;
};

export function desiredHandlers(store: DesiredStateStore): DesiredHandlers {
  const running = (name: string): ServiceConfig => {
    const s = store.service(name);
    if (s === undefined) throw new StateError('not_found', `no service named '${name}'`);
    return s;
  };
  const runningDest = (service: string, address: string, port: number) => {
    const d = running(service).dests.find((x) => x.address === address && x.port === port);
    if (d === undefined) throw new StateError('not_found', `service '${service}' has no dest ${address}:${port}`);
    return d;
  };
  // A change's promise settles once its batch is saved; what it answers
  // is read right after the change, before later changes can move it.
  const generation = async (p: Promise<{ generation: number }>) => (await p).generation;
  // A dest or laddr edit changes one service: the store validates that one.
  const onService = (name: string, edit: (svc: ReturnType<typeof edits.findService>) => void) => store.changeService(name, edit);

  return {
    CreateService: unary(async ({ service }) => {
      const svc = serviceIn(required(service, 'service'));
      const done = store.change((d) => edits.createService(d, svc));
      const out = serviceOut(running(String(svc.name)));
      return { service: out, generation: await generation(done) };
    }),
    UpdateService: unary(async ({ service, update_mask }) => {
      const svc = serviceIn(required(service, 'service'));
      const done = store.change((d) => edits.updateService(d, svc, update_mask?.paths ?? []));
      const out = serviceOut(running(String(svc.name)));
      return { service: out, generation: await generation(done) };
    }),
    DeleteService: unary(async ({ name }) => ({ generation: await generation(store.change((d) => edits.deleteService(d, name))) })),
    GetService: unary(({ name }) => ({ service: serviceOut(running(name)) })),
    ListServices: unary(async () => encodedReply<ListServicesResponse>(await listServicesWire(store.current.services))),

    CreateDest: unary(async ({ service, dest }) => {
      const d = destIn(required(dest, 'dest'));
      const done = onService(service, (svc) => edits.createDest(svc, d));
      const out = destOut(runningDest(service, dest!.address, dest!.port));
      return { dest: out, generation: await generation(done) };
    }),
    UpdateDest: unary(async ({ service, dest }) => {
      const d = destIn(required(dest, 'dest'));
      const done = onService(service, (svc) => edits.updateDest(svc, d));
      const out = destOut(runningDest(service, dest!.address, dest!.port));
      return { dest: out, generation: await generation(done) };
    }),
    DeleteDest: unary(async ({ service, address, port }) => ({
      generation: await generation(onService(service, (svc) => edits.deleteDest(svc, address, port))),
    })),
    GetDest: unary(({ service, address, port }) => ({ dest: destOut(runningDest(service, address, port)) })),
    ListDests: unary(({ service }) => ({ dests: running(service).dests.map(destOut) })),

    CreateLocalAddress: unary(async ({ service, address }) => ({
      generation: await generation(onService(service, (svc) => edits.createLocalAddress(svc, address))),
    })),
    DeleteLocalAddress: unary(async ({ service, address }) => ({
      generation: await generation(onService(service, (svc) => edits.deleteLocalAddress(svc, address))),
    })),
    ListLocalAddresses: unary(({ service }) => ({ addresses: running(service).local_addresses })),

    Apply: unary(async ({ state, dry_run }: ApplyWire) => {
      const r = await store.apply(state, dry_run);
      return { changes: r.changes.map(changeOut), applied: r.applied, generation: String(r.generation) };
    }),
    GetDesiredState: unary(async () => encodedReply<GetDesiredStateResponse>(await desiredStateWire(store.current, store.generation))),
  };
}

function required<T>(v: T | null, field: string): T {
  if (v === null) throw StateError.invalid([{ path: field, message: 'is required' }]);
  return v;
}

const ACTIONS = { add: 'ACTION_ADD', remove: 'ACTION_REMOVE', change: 'ACTION_CHANGE' } as const;

function changeOut(c: Change): ChangeMessage {
  return { action: ACTIONS[c.action], object: c.object, fields: c.fields, text: changeText(c) };
}

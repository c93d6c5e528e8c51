// SPDX-License-Identifier: Apache-2.0
//
// The RPCs that watch the running balancer: GetStats, ListConnections,
// WatchEvents. They read the dataplane and the event bus and change
// nothing.

import type { ServerWritableStream } from '@grpc/grpc-js';

import { formatIPv4, parseCidr, parseIPv4, type Cidr } from '../config/ipv4';
import type { ConnFilter, ConnRow } from '../dataplane/addon';
import type { Dataplane } from '../dataplane/dataplane';
import { destKeyOf } from '../dataplane/services';
import { events, type TimedEvent } from '../events';
import { StateError } from '../state/errors';
import { durationMs, durationOut, enumOut } from './convert';
import { invalidField, toServiceError, unary } from './errors';
import type { Connection } from './gen/fulcrum/v1/Connection';
import type { Event } from './gen/fulcrum/v1/Event';
import type { GetStatsResponse } from './gen/fulcrum/v1/GetStatsResponse';
import type { FulcrumHandlers } from './gen/fulcrum/v1/Fulcrum';
import type { ListConnectionsRequest__Output } from './gen/fulcrum/v1/ListConnectionsRequest';
import type { WatchEventsRequest__Output } from './gen/fulcrum/v1/WatchEventsRequest';
import { encodedReply } from './reply-wire';
import { collectStats, MAX_WINDOW_MS, MIN_WINDOW_MS } from './stats';

const DEFAULT_CONN_LIMIT = 10_000;

/** The open WatchEvents streams, so a shutdown can end them instead of waiting for the clients. */
export class EventStreams {
  private readonly open = new Set<() => void>();

  /** Registers a stream's end; returns the function that forgets it. */
  add(end: () => void): () => void {
    this.open.add(end);
    return () => {
      this.open.delete(end);
    };
  }

  endAll(): void {
    for (const end of [...this.open]) end();
  }
}

export function observeHandlers(
  dp: Dataplane,
  streams: EventStreams,
): Pick<FulcrumHandlers, 'GetStats' | 'ListConnections' | 'WatchEvents'> {
  return {
    GetStats: unary(async ({ window, services, workers_only }) => {
      const ms = window === null ? 0 : durationMs(window);
      if (ms !== 0 && (ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS)) {
        throw invalidField('window', `must be 0 or from ${MIN_WINDOW_MS} ms to ${MAX_WINDOW_MS} ms, got ${ms} ms`);
      }
      if (workers_only && services.length > 0) throw invalidField('services', 'must be empty with workers_only');
      const seen = new Set<string>();
      const twice = services.find((name) => seen.size === seen.add(name).size);
      if (twice !== undefined) throw invalidField('services', `'${twice}' is named twice`);
      return encodedReply<GetStatsResponse>(await collectStats(dp, { windowMs: ms, services, workersOnly: workers_only }));
    }),
    ListConnections: (call) => {
      // grpc-js sends a stream's status from an 'error' event.
      listConnections(dp, call).catch((err: unknown) => call.emit('error', toServiceError(err)));
    },
    WatchEvents: (call) => watchEvents(call, streams),
  };
}

async function listConnections(dp: Dataplane, call: ServerWritableStream<ListConnectionsRequest__Output, Connection>): Promise<void> {
  const ids = dp.ids();
  const filter = connFilter(call.request, ids);
  let rows: ConnRow[];
  try {
    rows = await dp.connections(filter);
  } catch (err) {
    // The dataplane knows the TCP state names; its refusal names the value.
    if (/unknown TCP state/.test((err as Error).message)) throw invalidField('state', (err as Error).message);
    throw err;
  }
  const names = new Map([...ids.services].map(([name, id]) => [id, name]));
  for (const c of rows) {
    if (call.cancelled) return;
    call.write(connectionOut(c, names));
  }
  call.end();
}

function connFilter(req: ListConnectionsRequest__Output, ids: ReturnType<Dataplane['ids']>): ConnFilter {
  const f: ConnFilter = { limit: req.limit === 0 ? DEFAULT_CONN_LIMIT : req.limit };
  if (req.service !== '') {
    f.serviceId = ids.services.get(req.service);
    if (f.serviceId === undefined) throw new StateError('not_found', `no service named '${req.service}'`);
  }
  if (req.daddr !== '') {
    if (req.service === '') throw invalidField('daddr', 'needs service (a dest belongs to a service)');
    f.destId = ids.dests.get(destKeyOf(req.service, req.daddr, req.dport));
    if (f.destId === undefined) throw new StateError('not_found', `service '${req.service}' has no dest ${req.daddr}:${req.dport}`);
  }
  if (req.client_prefix !== '') {
    const cidr = clientPrefix(req.client_prefix);
    f.client = formatIPv4(cidr.address);
    f.clientPrefix = cidr.prefix;
  }
  if (req.state !== '') f.state = req.state;
  const templates = { TEMPLATES_ONLY: true, TEMPLATES_INCLUDE: undefined } as Record<string, boolean | undefined>;
  f.templates = req.templates in templates ? templates[req.templates] : false;
  return f;
}

function clientPrefix(s: string): Cidr {
  const cidr = s.includes('/') ? parseCidr(s) : parseIPv4(s) === null ? null : { address: parseIPv4(s) as number, prefix: 32 };
  if (cidr === null) throw invalidField('client_prefix', `'${s}' is not an IPv4 address or prefix (a.b.c.d or a.b.c.d/n)`);
  return cidr;
}

function connectionOut(c: ConnRow, names: Map<number, string>): Connection {
  return {
    protocol: c.proto,
    state: c.state,
    template: c.template,
    service: names.get(c.serviceId) ?? '',
    caddr: c.caddr,
    cport: c.cport,
    vaddr: c.vaddr,
    vport: c.vport,
    daddr: c.daddr,
    dport: c.dport,
    expires_in: durationOut(c.expiresMs),
    laddr: c.laddr ?? '',
    lport: c.lport ?? 0,
  };
}

function watchEvents(call: ServerWritableStream<WatchEventsRequest__Output, Event>, streams: EventStreams): void {
  const unsubscribe = events.subscribe((e) => call.write(eventOut(e)));
  let ended = false;
  const stop = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    forget();
    call.end();
  };
  const forget = streams.add(stop);
  call.on('cancelled', stop);
  call.on('error', stop);
}

function eventOut({ at, event }: TimedEvent): Event {
  const timestamp = { seconds: String(Math.floor(at / 1000)), nanos: (at % 1000) * 1e6 };
  switch (event.kind) {
    case 'health':
      return { at: timestamp, health: { service: event.service, dest: event.dest, healthy: event.healthy, reason: event.reason } };
    case 'pool':
      return {
        at: timestamp,
        pool: { laddr: event.laddr, worker: event.worker, used: event.used, capacity: event.capacity, level: enumOut(event.level, 'LEVEL_') },
      };
    case 'config':
      return { at: timestamp, config: { generation: String(event.generation), changes: event.changes } };
  }
}

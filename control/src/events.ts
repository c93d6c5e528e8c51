// SPDX-License-Identifier: Apache-2.0
//
// The control plane's event bus: what an operator wants to be told about
// as it happens. Health checkers publish dest state changes, the pool
// watcher publishes local-address pool alarms, the desired-state store
// publishes applied config changes; the gRPC Events stream, the log and the
// metrics subscribe. One process-wide bus, so producers and consumers never
// import each other.

import { EventEmitter } from 'node:events';

export type FulcrumEvent =
  | {
      kind: 'health';
      service: string;
      /** The dest as `address:port`. */
      dest: string;
      healthy: boolean;
      /** Why: the check's result ("connect refused", "HTTP 503", "3 resets in 10 s"...). */
      reason: string;
    }
  | {
      kind: 'pool';
      /** The local address (laddr) whose port pool is short. */
      laddr: string;
      worker: number;
      /** Ports in use / ports the worker owns on that address. */
      used: number;
      capacity: number;
      /** 'high' when crossing the alarm threshold upwards, 'exhausted' when a flow was refused, 'clear' when back under it. */
      level: 'high' | 'exhausted' | 'clear';
    }
  | {
      kind: 'config';
      /** Monotonic generation of the applied desired state. */
      generation: number;
      /** One line per change ("service web: dest 10.0.1.3:80 added"). */
      changes: string[];
    };

export interface TimedEvent {
  /** Milliseconds since the epoch. */
  at: number;
  event: FulcrumEvent;
}

class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every gRPC Events stream is a listener; do not warn at 10.
    this.emitter.setMaxListeners(0);
  }

  publish(event: FulcrumEvent): void {
    this.emitter.emit('event', { at: Date.now(), event } satisfies TimedEvent);
  }

  /** Calls fn for every event from now on; returns the unsubscribe function. */
  subscribe(fn: (e: TimedEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

export const events = new EventBus();

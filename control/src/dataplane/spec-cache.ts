// SPDX-License-Identifier: Apache-2.0
//
// The engine specs of the services the last successful apply sent. A
// service the store did not change is the very same config object in the
// next desired state (copy on write), and its ids are stable while it
// exists, so its spec is the same unless a health verdict on one of its
// dests changed. Such a service crosses into the addon as its id alone,
// and the new snapshot keeps the running snapshot's service of that id:
// an edit of a few services of 10,000 builds and converts those few, not
// 80,000 dests. (Its ids are those of the running snapshot because a
// refused apply takes its id assignment back: Dataplane.apply.)

import type { ServiceConfig } from '../config/schema';
import { serviceSpec, type DestOverlay, type SpecIds } from './services';
import { S } from './spec-table';

interface Cached {
  /** The service's id in the spec (the spec itself is not kept: only the addon needs it, once). */
  id: number;
  /** The overlay's version of the service when the spec was made. */
  version: number;
  /** The sent() that last took it; only the last one's are in the running snapshot. */
  sent: number;
}

export class ServiceSpecCache {
  // By config object: an entry dies with its object. Kept in one map
  // (rather than a map per apply) so that a publication at 10,000
  // services changing a few makes no map of 10,000.
  private readonly cache = new WeakMap<ServiceConfig, Cached>();
  /** sent() calls so far. */
  private sends = 0;
  /** The entries of the last specs(), which sent() marks as taken. */
  private pending: Cached[] = [];
  /** The services of the last specs(), whose entries (by position) are those of pending. */
  private last: readonly ServiceConfig[] = [];

  /**
   * What to send for each service: its id where the last apply sent the
   * same spec, else the spec. Call sent() once the addon took them.
   */
  specs(services: readonly ServiceConfig[], ids: SpecIds, overlay: DestOverlay): (Uint32Array | number)[] {
    const pending = new Array<Cached>(services.length);
    const last = this.last;
    const before = this.pending;
    const out = services.map((s, i) => {
      const version = overlay.version(s);
      // The same object at the same place: its entry without a WeakMap lookup.
      const hit = s === last[i] ? before[i] : this.cache.get(s);
      if (hit !== undefined && hit.version === version && hit.sent === this.sends) {
        pending[i] = hit;
        return hit.id;
      }
      const spec = serviceSpec(s, i, ids, overlay);
      const entry = { id: spec[S.id], version, sent: -1 };
      this.cache.set(s, entry);
      pending[i] = entry;
      return spec;
    });
    this.pending = pending;
    this.last = services;
    return out;
  }

  /** The addon took the last specs(): they are what it holds now. */
  sent(): void {
    this.sends++;
    for (const entry of this.pending) entry.sent = this.sends;
  }
}

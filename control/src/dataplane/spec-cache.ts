// SPDX-License-Identifier: Apache-2.0
//
// The engine specs of the services the last successful apply sent. A
// service the store did not change is the very same config object in the
// next desired state (copy on write), and its ids are stable while it
// exists, so its spec is the same unless a health verdict on one of its
// dests changed. Such a service crosses into the addon as its id alone,
// and the addon reuses the spec it converted last time: an edit of a few
// services of 10,000 builds and converts those few, not 80,000 dests.

import type { ServiceConfig } from '../config/schema';
import type { ServiceSpec } from './addon';
import { serviceSpec, type DestOverlay, type SpecIds } from './services';

interface Cached {
  spec: ServiceSpec;
  /** The overlay's version of the service when the spec was made. */
  version: number;
}

export class ServiceSpecCache {
  private last = new Map<ServiceConfig, Cached>();
  private next = new Map<ServiceConfig, Cached>();

  /**
   * What to send for each service: its id where the last apply sent the
   * same spec, else the spec. Call sent() once the addon took them.
   */
  specs(services: readonly ServiceConfig[], ids: SpecIds, overlay: DestOverlay): (ServiceSpec | number)[] {
    this.next = new Map();
    return services.map((s, i) => {
      const version = overlay.version(s.name);
      const hit = this.last.get(s);
      if (hit !== undefined && hit.version === version) {
        this.next.set(s, hit);
        return hit.spec.id;
      }
      const spec = serviceSpec(s, i, ids, overlay);
      this.next.set(s, { spec, version });
      return spec;
    });
  }

  /** The addon took the last specs(): they are what it holds now. */
  sent(): void {
    this.last = this.next;
    this.next = new Map();
  }
}

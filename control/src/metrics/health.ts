// SPDX-License-Identifier: Apache-2.0
//
// Health-check metrics, read from the health manager at scrape time.

import type { Registry } from 'prom-client';
import type { HealthManager } from '../health/manager';
import { counterFamily, gaugeFamily, type Sample } from './family';

export function registerHealthMetrics(registry: Registry, health: HealthManager): void {
  gaugeFamily(registry, {
    name: 'fulcrum_dest_healthy',
    help: 'Health-check verdict of the dest: 1 healthy, 0 failed (inhibited or removed); only checked dests',
    labelNames: ['service', 'dest'],
    read: () => health.states().map((s): Sample => [{ service: s.service, dest: s.dest }, s.healthy ? 1 : 0]),
  });
  gaugeFamily(registry, {
    name: 'fulcrum_health_checks_in_flight',
    help: 'Health checks running now (at most control.health.max_in_flight)',
    labelNames: [],
    read: () => [[{}, health.limiter.inFlight]],
  });
  gaugeFamily(registry, {
    name: 'fulcrum_health_checks_waiting',
    help: 'Health checks due but waiting for a turn: above 0 for long, the checks ask more than the control thread does, and their intervals stretch',
    labelNames: [],
    read: () => [[{}, health.limiter.waiting]],
  });
  counterFamily(registry, {
    name: 'fulcrum_health_checks_total',
    help: 'Health checks of the dest since its check (re)started, by result (success or failure)',
    labelNames: ['service', 'dest', 'result'],
    read: function* () {
      for (const s of health.states()) {
        yield [{ service: s.service, dest: s.dest, result: 'success' }, s.successes];
        yield [{ service: s.service, dest: s.dest, result: 'failure' }, s.failures];
      }
    },
  });
}

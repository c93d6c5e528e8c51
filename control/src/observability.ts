// SPDX-License-Identifier: Apache-2.0
//
// Health checks and the metrics endpoint of a running balancer, started
// and stopped together by `fulcrum start`. Whoever applies a new config
// (SIGHUP, the gRPC API) calls sync() after Dataplane.apply() so the
// checks follow the services.

import type { Server } from 'node:http';
import type { FulcrumConfig, ServiceConfig } from './config/schema';
import type { Dataplane } from './dataplane/dataplane';
import { checkPlaces, ownOpenFileLimit } from './health/fd-limit';
import { CheckLimiter } from './health/limiter';
import { HealthManager } from './health/manager';
import { PassiveChecker } from './health/passive';
import { buildExposition, startMetricsServer } from './metrics/server';

export interface Observability {
  health: HealthManager;
  /** Re-syncs the health checks with the services just applied. */
  sync(services: readonly ServiceConfig[]): void;
  stop(): Promise<void>;
}

/** Starts the checks of cfg's services and GET /metrics on control.metrics.listen. Control thread only. */
export async function startObservability(cfg: FulcrumConfig, dp: Dataplane): Promise<Observability> {
  const { places, note } = checkPlaces(cfg.control.health.max_in_flight, ownOpenFileLimit());
  if (note !== undefined) process.stdout.write(`${note}\n`);
  const health = new HealthManager(
    (service, dest, available, action) => dp.setDestAvailable(service, dest, available, action),
    undefined,
    new CheckLimiter(places),
  );
  let server: Server;
  try {
    server = await startMetricsServer(buildExposition(dp, health, cfg.control.metrics.per_dest), cfg.control.metrics.listen);
  } catch (err) {
    health.stop();
    throw err;
  }
  health.sync(cfg.services);
  const passive = new PassiveChecker(dp);
  passive.start();
  return {
    health,
    sync: (services) => health.sync(services),
    stop: async () => {
      health.stop();
      passive.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Prometheus keeps its connection open; do not wait for it.
      server.closeAllConnections();
      await closed;
    },
  };
}

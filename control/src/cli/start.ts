// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum start --config FILE`: run the balancer in the foreground until
// SIGINT or SIGTERM. SIGUSR1 prints the per-lcore counters and the neighbour tables.

import { loadConfigFile } from '../config/load';
import type { FulcrumConfig } from '../config/schema';
import { Dataplane } from '../dataplane/dataplane';
import { PoolWatch } from '../dataplane/pool-watch';
import { startObservability, type Observability } from '../observability';
import { formatStatus } from './status';

export const READY_LINE = 'fulcrum: ready';

export async function runStart(configPath: string): Promise<number> {
  const cfg = loadConfigFile(configPath);
  const dp = new Dataplane();
  dp.start(cfg);
  const obs = await startObservability(cfg, dp);
  printStartup(cfg, dp);
  const pools = new PoolWatch(dp);
  pools.start();
  const portNames = cfg.dataplane.ports.map((p) => p.name);
  const dump = () =>
    formatStatus(dp, portNames, obs.health.states()).then(
      (text) => process.stdout.write(text),
      (err: Error) => process.stderr.write(`fulcrum: status: ${err.message}\n`),
    );
  process.on('SIGUSR1', dump);
  process.on('SIGHUP', () => reload(dp, configPath, cfg, obs));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    // A ref'd timer keeps the event loop alive while only DPDK works.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const done = (s: NodeJS.Signals) => {
      clearInterval(keepAlive);
      resolve(s);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await dump();
  pools.stop();
  await obs.stop();
  dp.stop();
  process.stdout.write(`fulcrum: ${signal}: workers stopped, ports closed\n`);
  return 0;
}

// SIGHUP: read the config file again and apply what changed in routes and
// services (the dataplane section's ports and pools need a restart).
// Existing connections are untouched; an invalid file changes nothing.
function reload(dp: Dataplane, configPath: string, running: FulcrumConfig, obs: Observability): void {
  try {
    const next = loadConfigFile(configPath);
    const fixed = (c: FulcrumConfig) => JSON.stringify({ ...c.dataplane, routes: [] });
    if (fixed(next) !== fixed(running)) {
      throw new Error('dataplane settings other than routes changed: restart to apply them');
    }
    const generation = dp.apply(next);
    obs.sync(next.services);
    process.stdout.write(`fulcrum: reloaded ${configPath}: generation ${generation}, ${next.services.length} service(s)\n`);
  } catch (err) {
    process.stderr.write(`fulcrum: reload refused, running config kept:\n${(err as Error).message}\n`);
    process.stdout.write('fulcrum: reload refused\n');
  }
}

function printStartup(cfg: FulcrumConfig, dp: Dataplane): void {
  const info = dp.startInfo;
  process.stdout.write(`fulcrum: ${info.workerLcores.length} worker(s) on lcores ${info.workerLcores.join(',')}\n`);
  info.ports.forEach((p, i) => {
    const rss = p.rss ? ', rss' : '';
    process.stdout.write(
      `fulcrum: port ${p.name} ${cfg.dataplane.ports[i].address} ${p.mac} (${p.device}, ${p.driver}${rss})\n`,
    );
  });
  process.stdout.write(`fulcrum: metrics on http://${cfg.control.metrics.listen}/metrics\n`);
  process.stdout.write(`${READY_LINE}\n`);
}

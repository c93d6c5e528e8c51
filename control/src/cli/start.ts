// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum start --config FILE`: run the balancer in the foreground until
// SIGINT or SIGTERM. SIGUSR1 prints the per-lcore counters and the neighbour tables.
// The services and snat rules come from the state file when there is one
// (the last state accepted through the API), else from the config file.

import { ApiServer } from '../api/server';
import { loadConfigFile } from '../config/load';
import type { FulcrumConfig } from '../config/schema';
import { Dataplane } from '../dataplane/dataplane';
import { PoolWatch } from '../dataplane/pool-watch';
import { startObservability, type Observability } from '../observability';
import { changeText } from '../state/diff';
import { readStateFile } from '../state/file';
import { DesiredStateStore } from '../state/store';
import { formatStatus } from './status';

export const READY_LINE = 'fulcrum: ready';

export async function runStart(configPath: string): Promise<number> {
  const fileCfg = loadConfigFile(configPath);
  const saved = readStateFile(fileCfg.control.state_file, fileCfg.dataplane.ports.map((p) => p.name));
  const cfg = saved === undefined ? fileCfg : { ...fileCfg, ...saved.desired };
  const dp = new Dataplane();
  dp.start(cfg);
  // Every accepted change (API, apply, SIGHUP) reaches the health checkers
  // too, once they run.
  let obs: Observability | undefined;
  const sink = {
    apply(next: FulcrumConfig): number {
      const generation = dp.apply(next);
      obs?.sync(next.services);
      return generation;
    },
  };
  const store = new DesiredStateStore(cfg, sink, cfg.control.state_file, saved?.generation ?? 0);
  // The API socket first: "another process is serving on it" says best
  // that this balancer is already running.
  let api: ApiServer;
  try {
    api = await ApiServer.start(cfg.control.grpc, store, dp);
  } catch (err) {
    dp.stop();
    throw err;
  }
  try {
    obs = await startObservability(cfg, dp);
  } catch (err) {
    await api.stop();
    dp.stop();
    throw err;
  }
  const source = saved === undefined ? configPath : `state file ${cfg.control.state_file}, generation ${saved.generation}`;
  process.stdout.write(`fulcrum: ${cfg.services.length} service(s), ${cfg.snat.length} snat rule(s) from ${source}\n`);
  process.stdout.write(`fulcrum: api on unix:${cfg.control.grpc.socket}${api.tcpPort ? ` and ${cfg.control.grpc.listen} (tls)` : ''}\n`);
  const pools = new PoolWatch(dp);
  pools.start();
  const portNames = cfg.dataplane.ports.map((p) => p.name);
  const dump = () =>
    formatStatus(dp, portNames, obs.health.states()).then(
      (text) => process.stdout.write(text),
      (err: Error) => process.stderr.write(`fulcrum: status: ${err.message}\n`),
    );
  // Before the ready line: a SIGUSR1 with no handler starts Node's inspector.
  process.on('SIGUSR1', dump);
  process.on('SIGHUP', () => void reload(store, configPath, cfg));
  printStartup(cfg, dp);
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
  await api.stop();
  // The journal folded into the state file: a stopped balancer's file is its whole state.
  await store.close().catch((err: Error) => process.stderr.write(`fulcrum: ${err.message} (the journal beside it keeps the changes)\n`));
  await dump();
  pools.stop();
  await obs.stop();
  dp.stop();
  process.stdout.write(`fulcrum: ${signal}: workers stopped, ports closed\n`);
  return 0;
}

// SIGHUP: read the config file again and apply what changed in routes,
// services and snat rules (services and snat become the desired state, as
// with `fulcrum apply -f`; the dataplane section's ports and pools need a
// restart). Existing
// connections are untouched; an invalid file changes nothing.
async function reload(store: DesiredStateStore, configPath: string, running: FulcrumConfig): Promise<void> {
  try {
    const next = loadConfigFile(configPath);
    const fixed = (c: FulcrumConfig) => JSON.stringify({ ...c.dataplane, routes: [] });
    if (fixed(next) !== fixed(running)) {
      throw new Error('dataplane settings other than routes changed: restart to apply them');
    }
    const r = await store.reload(next);
    const lines = r.changes.map((c) => `  ${changeText(c)}\n`).join('');
    process.stdout.write(`fulcrum: reloaded ${configPath}: generation ${r.generation}, ${next.services.length} service(s)\n${lines}`);
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
  if (info.workerLcores.length > 1) {
    const flows = info.ports.map((p) => `${p.name}: flow rules ${p.flowRules}`).join('; ');
    process.stdout.write(`fulcrum: reply steering: software, between ${info.workerLcores.length} workers (${flows})\n`);
  }
  process.stdout.write(`${READY_LINE}\n`);
}

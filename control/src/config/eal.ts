// SPDX-License-Identifier: Apache-2.0
//
// The rte_eal_init argv derived from a validated config. Everything EAL
// needs is derived here so that no EAL option is set in two places.

import { formatDevice, parseDevice, queueCountKey } from './device';
import { isLcoreMap, parseLcoreMap, parseLcores } from './lcores';
import type { FulcrumConfig } from './schema';

export { parseLcores } from './lcores';
export { portDeviceName } from './device';

// Upper bound of one mbuf with its default data room and headers, used to
// size --no-huge memory (which, unlike hugepages, cannot grow on demand).
const MBUF_BYTES = 2560;
// Headroom for everything that is not an mbuf pool: rings, hash tables, EAL itself.
// Route tables (rte_lpm, 64 MiB each) are shared between snapshots unless
// routes change, but two can be alive while one replaces the other.
const BASE_MEMORY_MB = 512;

/** The CPU the control thread (first lcore) runs on. */
export function controlCpu(cfg: FulcrumConfig): number {
  return parseLcoreMap(cfg.dataplane.lcores)[0].cpu;
}

/** All lcores but the first, which is the control thread. */
export function workerLcores(cfg: FulcrumConfig): number[] {
  return parseLcores(cfg.dataplane.lcores).slice(1);
}

export function buildEalArgs(cfg: FulcrumConfig): string[] {
  const dp = cfg.dataplane;
  const lcores = dp.lcores.replace(/\s+/g, '');
  return [
    'fulcrum',
    ...lcoreArgs(lcores),
    '--main-lcore',
    String(parseLcores(lcores)[0]),
    ...memoryArgs(cfg),
    ...deviceArgs(cfg),
    ...filePrefixArgs(dp.eal_args),
    ...dp.eal_args,
  ];
}

// EAL's own --lcores syntax needs groups for ranges ("(1-2)@1"); spelling
// out one lcore@cpu per lcore is always valid.
function lcoreArgs(lcores: string): string[] {
  if (!isLcoreMap(lcores)) return ['-l', lcores];
  return ['--lcores', parseLcoreMap(lcores).map((s) => `${s.lcore}@${s.cpu}`).join(',')];
}

function memoryArgs(cfg: FulcrumConfig): string[] {
  const dp = cfg.dataplane;
  if (dp.hugepages) return [];
  const poolMb = Math.ceil((dp.mbufs * dp.ports.length * MBUF_BYTES) / (1024 * 1024));
  return ['--no-huge', '-m', String(poolMb + BASE_MEMORY_MB)];
}

function deviceArgs(cfg: FulcrumConfig): string[] {
  const workers = workerLcores(cfg).length;
  const vdevs: string[] = [];
  const pcis: string[] = [];
  for (const port of cfg.dataplane.ports) {
    const parsed = parseDevice(port.device);
    if (parsed.kind === 'pci') {
      pcis.push('-a', formatDevice(parsed));
      continue;
    }
    // One queue (pair) per worker, so every worker polls every port.
    const key = queueCountKey(parsed.driver);
    const extra = key !== undefined && !parsed.args.has(key) ? `,${key}=${workers}` : '';
    vdevs.push('--vdev', port.device + extra);
  }
  // Without an allow list EAL probes (and may grab) the machine's own NICs.
  return [...vdevs, ...(pcis.length > 0 ? pcis : ['--no-pci'])];
}

/** A fixed file prefix keeps Fulcrum's runtime files apart from other DPDK processes'. */
function filePrefixArgs(ealArgs: string[]): string[] {
  const own = ealArgs.some((a) => a === '--in-memory' || a === '--file-prefix' || a.startsWith('--file-prefix='));
  return own ? [] : ['--file-prefix=fulcrum'];
}

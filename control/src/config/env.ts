// SPDX-License-Identifier: Apache-2.0
//
// What config validation needs to know about the machine. Injected so
// tests (and `apply --dry-run` on another host) do not depend on the
// host's CPUs, interfaces and files.

import * as fs from 'node:fs';
import * as os from 'node:os';

export interface ValidationEnv {
  /** Number of CPUs; valid lcore ids are 0..cpuCount-1. */
  cpuCount: number;
  /** Whether a kernel network interface exists (for af_packet/af_xdp/pcap). */
  interfaceExists(name: string): boolean;
  /** Whether a file exists (pcap input, TLS material). */
  fileExists(path: string): boolean;
}

/** The running machine. */
export function systemEnv(): ValidationEnv {
  return {
    // The machine's CPUs, not this process's affinity: once running, the
    // balancer pins itself to the control CPU, and a reloaded config must
    // still see the workers' CPUs.
    cpuCount: os.cpus().length,
    interfaceExists: (name) => fs.existsSync(`/sys/class/net/${name}`),
    fileExists: (path) => fs.existsSync(path),
  };
}

// SPDX-License-Identifier: Apache-2.0
//
// Port device strings: a PCI address ("0000:3b:00.1", optionally followed
// by ",key=value" devargs) or a DPDK virtual device ("net_af_packet0,iface=veth0").

import type { ValidationEnv } from './env';

/** Virtual-device drivers Fulcrum is built and tested with. */
export const VDEV_DRIVERS = [
  'net_af_packet',
  'net_af_xdp',
  'net_pcap',
  'net_ring',
  'net_null',
  'net_tap',
] as const;
export type VdevDriver = (typeof VDEV_DRIVERS)[number];

export type ParsedDevice =
  | { kind: 'pci'; address: string; args: Map<string, string> }
  | { kind: 'vdev'; name: string; driver: VdevDriver; instance: number; args: Map<string, string> };

const PCI = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
// Looks like a PCI address at all (so "3b:00.9" gets a PCI message, not a vdev one).
const PCI_LIKE = /^[0-9a-f]*:[0-9a-f:.]*$/i;
const VDEV_NAME = /^([a-z][a-z_]*?)([0-9]*)$/;
const ARG = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/;
const IFACE = /^[^\s/:]{1,15}$/;

/** Parses a device string; throws an Error saying what is wrong. */
export function parseDevice(device: string): ParsedDevice {
  const [head, ...rest] = device.split(',');
  const args = parseArgs(rest);
  if (PCI_LIKE.test(head)) return { kind: 'pci', address: parsePci(head), args };
  const m = VDEV_NAME.exec(head);
  if (!m) {
    throw new Error(
      `'${device}' is neither a PCI address (DDDD:BB:DD.F) nor a vdev (DRIVER<n>[,key=value...], e.g. net_af_packet0,iface=veth0)`,
    );
  }
  const driver = m[1] as VdevDriver;
  if (!VDEV_DRIVERS.includes(driver)) {
    throw new Error(`unknown vdev driver '${m[1]}' (known: ${VDEV_DRIVERS.join(', ')})`);
  }
  if (m[2] === '') {
    throw new Error(`vdev '${head}' needs an instance number (e.g. ${driver}0)`);
  }
  return { kind: 'vdev', name: head, driver, instance: Number(m[2]), args };
}

/** Full lower-case form DDDD:BB:DD.F, which is how DPDK names PCI devices. */
function parsePci(text: string): string {
  const m = PCI.exec(text);
  if (!m || parseInt(m[3], 16) > 0x1f) {
    throw new Error(`'${text}' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, hex)`);
  }
  return `${m[1] ?? '0000'}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

function parseArgs(items: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const item of items) {
    const m = ARG.exec(item);
    if (!m) throw new Error(`malformed device argument '${item}': expected key=value`);
    if (args.has(m[1])) throw new Error(`device argument '${m[1]}' is given twice`);
    args.set(m[1], m[2]);
  }
  return args;
}

/**
 * The DPDK device name the dataplane looks the port up by: the vdev name
 * (before the first comma) or the PCI address in DPDK's full form.
 */
export function portDeviceName(device: string): string {
  const parsed = parseDevice(device);
  return parsed.kind === 'pci' ? parsed.address : parsed.name;
}

/**
 * dataplane.ports[].tx_coalesce_us when the config leaves it out: 100 us
 * (DPDK l2fwd's tx drain period) for drivers whose every tx burst is a
 * system call and a delivery by the kernel (af_packet, af_xdp), where
 * sending one or two packets per burst costs more than the wait
 * (bench/RESULTS.md, 2026-12-06); 0 for the rest, NICs included, whose tx
 * burst is a doorbell write.
 */
export function defaultTxCoalesceUs(device: string): number {
  const parsed = parseDevice(device);
  return parsed.kind === 'vdev' && SYSCALL_TX_DRIVERS.has(parsed.driver) ? SYSCALL_TX_COALESCE_US : 0;
}
const SYSCALL_TX_DRIVERS: ReadonlySet<VdevDriver> = new Set(['net_af_packet', 'net_af_xdp']);
const SYSCALL_TX_COALESCE_US = 100;

/** A parsed device written back with its normalised name or address and its devargs. */
export function formatDevice(parsed: ParsedDevice): string {
  const args = [...parsed.args].map(([k, v]) => `${k}=${v}`);
  return [parsed.kind === 'pci' ? parsed.address : parsed.name, ...args].join(',');
}

/**
 * Every problem with a device string, including (when env is given) the
 * host resources its driver needs: interfaces and pcap input files.
 */
export function deviceProblems(device: string, env?: ValidationEnv): string[] {
  let parsed: ParsedDevice;
  try {
    parsed = parseDevice(device);
  } catch (err) {
    return [(err as Error).message];
  }
  if (parsed.kind === 'pci') return [];
  return driverProblems(parsed.driver, parsed.args, env);
}

function driverProblems(
  driver: VdevDriver,
  args: Map<string, string>,
  env: ValidationEnv | undefined,
): string[] {
  const problems: string[] = [];
  if ((driver === 'net_af_packet' || driver === 'net_af_xdp') && !args.has('iface')) {
    problems.push(`${driver} needs iface=INTERFACE`);
  }
  const countKey = queueCountKey(driver);
  const count = countKey === undefined ? undefined : args.get(countKey);
  if (count !== undefined && !/^[1-9][0-9]*$/.test(count)) {
    problems.push(`${countKey}=${count} is not a positive whole number`);
  }
  // net_tap creates its interface, so only the other drivers need one to exist.
  const ifaceKeys = driver === 'net_tap' ? [] : ['iface', 'rx_iface', 'tx_iface', 'rx_iface_in'];
  for (const key of ifaceKeys) {
    const iface = args.get(key);
    if (iface !== undefined) problems.push(...ifaceProblems(iface, env));
  }
  const pcap = driver === 'net_pcap' ? args.get('rx_pcap') : undefined;
  if (pcap !== undefined && env && !env.fileExists(pcap)) {
    problems.push(`pcap file '${pcap}' does not exist`);
  }
  return problems;
}

function ifaceProblems(iface: string, env: ValidationEnv | undefined): string[] {
  if (!IFACE.test(iface)) return [`'${iface}' is not a valid interface name`];
  if (env && !env.interfaceExists(iface)) return [`interface '${iface}' does not exist`];
  return [];
}

/** The queue-count argument Fulcrum sets to the worker count, if the driver has one. */
export function queueCountKey(driver: VdevDriver): string | undefined {
  if (driver === 'net_af_packet') return 'qpairs';
  if (driver === 'net_af_xdp') return 'queue_count';
  return undefined;
}

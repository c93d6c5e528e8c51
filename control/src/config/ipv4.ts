// SPDX-License-Identifier: Apache-2.0
//
// IPv4 text helpers for config validation. Addresses are handled as
// unsigned 32-bit numbers so subnet arithmetic is plain masking.
// Every parser takes `unknown` and returns null on bad input, because the
// cross-field checks also see values that already failed their own check.

export interface Cidr {
  /** Address as an unsigned 32-bit number (host byte order). */
  address: number;
  /** Prefix length 0..32. */
  prefix: number;
}

const DOT = 0x2e;
const ZERO = 0x30;

/**
 * Parses dotted-quad text; rejects leading zeros, which some tools read as
 * octal. A scan of the characters rather than split and a regex: an Apply
 * of 80,000 dests parses every address several times.
 */
export function parseIPv4(text: unknown): number | null {
  if (typeof text !== 'string' || text.length < 7 || text.length > 15) return null;
  let value = 0;
  let parts = 0;
  let i = 0;
  while (i <= text.length) {
    const start = i;
    let octet = 0;
    for (let c = text.charCodeAt(i) - ZERO; c >= 0 && c <= 9; c = text.charCodeAt(++i) - ZERO) octet = octet * 10 + c;
    const digits = i - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(start) === ZERO)) return null;
    value = value * 256 + octet;
    parts++;
    if (i === text.length) return parts === 4 ? value : null;
    if (text.charCodeAt(i) !== DOT || parts === 4) return null;
    i++;
  }
  return null;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

/** Parses "a.b.c.d/len" with len 0..32; host bits may be set. */
export function parseCidr(text: unknown): Cidr | null {
  if (typeof text !== 'string') return null;
  const m = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!m) return null;
  const address = parseIPv4(m[1]);
  const prefix = Number(m[2]);
  if (address === null || prefix > 32) return null;
  return { address, prefix };
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(cidr: Cidr): number {
  return (cidr.address & prefixMask(cidr.prefix)) >>> 0;
}

export function formatCidr(address: number, prefix: number): string {
  return `${formatIPv4(address)}/${prefix}`;
}

export function inSubnet(address: number, subnet: Cidr): boolean {
  return ((address & prefixMask(subnet.prefix)) >>> 0) === networkOf(subnet);
}

/** Prefix length of a contiguous netmask like 255.255.255.0, or null. */
export function netmaskPrefix(text: unknown): number | null {
  const mask = parseIPv4(text);
  if (mask === null) return null;
  for (let prefix = 0; prefix <= 32; prefix++) {
    if (prefixMask(prefix) === mask) return prefix;
  }
  return null;
}

/**
 * Why an address cannot be a unicast host address (owned, VIP, dest,
 * gateway), or undefined when it can.
 */
export function nonUnicastReason(address: number): string | undefined {
  const first = address >>> 24;
  if (first === 0) return 'is in 0.0.0.0/8 ("this network")';
  if (first === 127) return 'is a loopback address';
  if (first >= 224 && first <= 239) return 'is a multicast address';
  if (address === 0xffffffff) return 'is the broadcast address';
  if (first >= 240) return 'is a reserved (class E) address';
  return undefined;
}

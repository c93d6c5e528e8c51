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

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses dotted-quad text; rejects leading zeros, which some tools read as octal. */
export function parseIPv4(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
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

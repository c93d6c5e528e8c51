// SPDX-License-Identifier: Apache-2.0
//
// The SNAT part of a snapshot spec. A rule takes its ids from the service
// and dest id spaces (its statistics are a service row and a dest row), under
// keys no service can have: service names cannot contain ':'.

import { formatIPv4, parseCidr, parseIPv4, type Cidr } from '../config/ipv4';
import type { FulcrumConfig, SnatConfig } from '../config/schema';
import type { SnatSpec } from './addon';
import type { SpecIds } from './services';

export function snatKey(r: SnatConfig): string {
  return `snat:${r.name}`;
}

export function snatDestKey(r: SnatConfig): string {
  return `snat:${r.name}|`;
}

export function snatLaddrKeys(rules: readonly SnatConfig[]): string[] {
  return rules.flatMap((r) => r.local_addresses.map((a) => formatIPv4(parseIPv4(a) as number)));
}

export function snatSpecs(cfg: FulcrumConfig, ids: SpecIds): SnatSpec[] {
  const ports = cfg.dataplane.ports.map((p) => p.name);
  return cfg.snat.map((r) => {
    const src = parseCidr(r.source) as Cidr;
    const dst = parseCidr(r.destination) as Cidr;
    const outPort = r.out_port === undefined ? undefined : ports.indexOf(r.out_port);
    return {
      id: ids.services.get(snatKey(r)) as number,
      destId: ids.dests.get(snatDestKey(r)) as number,
      src: formatIPv4(src.address),
      srcDepth: src.prefix,
      dst: formatIPv4(dst.address),
      dstDepth: dst.prefix,
      ...(outPort === undefined ? {} : { outPort }),
      laddrs: r.local_addresses.map((a) => {
        const ip = formatIPv4(parseIPv4(a) as number);
        return { id: ids.laddrs.get(ip) as number, ip };
      }),
    };
  });
}

// SPDX-License-Identifier: Apache-2.0
//
// The service table as `ipvsadm -L -n` prints it, with FullNat and SNAT as
// forward names (as DPVS prints them).

import type { ConnRow } from '../dataplane/addon';
import type { ServiceListing } from '../dataplane/dataplane';

const FORWARD_NAMES: Record<string, string> = { nat: 'Masq', dr: 'Route', tun: 'Tunnel', fullnat: 'FullNat', snat: 'SNAT' };

function flags(s: ServiceListing['config']): string {
  const group = s.endpoints.map((e) => `${(e.protocol ?? s.protocol).toUpperCase()} ${e.vip ?? s.vip}:${e.port}`);
  const also = group.length > 0 ? ` group +${group.join(', +')}` : '';
  if (s.persistence === undefined) return also.trim();
  const mask = s.persistence.netmask === '255.255.255.255' ? '' : ` mask ${s.persistence.netmask}`;
  return `persistent ${s.persistence.timeout}${mask}${also}`;
}

export function formatListing(services: ServiceListing[]): string {
  const lines = [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    const c = s.config;
    lines.push(`${c.protocol.toUpperCase().padEnd(4)} ${`${c.vip}:${c.port}`} ${c.scheduler} ${flags(c)}`.trimEnd());
    for (const d of s.dests) {
      const fwd = FORWARD_NAMES[d.config.forward ?? c.forward];
      const addr = `${d.config.address}:${d.config.port}`.padEnd(28);
      lines.push(
        `  -> ${addr}  ${fwd.padEnd(7)} ${String(d.config.weight).padEnd(6)} ${String(d.stats.active).padEnd(10)} ${d.stats.inactive}`,
      );
    }
  }
  return lines.join('\n');
}

function mmss(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Connections as `ipvsadm -L -c -n` prints them; FULLNAT adds the local address the dest sees. */
export function formatConnections(rows: ConnRow[]): string {
  const local = rows.some((c) => c.laddr !== undefined);
  const lines = [`pro expire state       source                virtual               destination${local ? '           local' : ''}`];
  for (const c of rows) {
    const cells = [
      c.proto.toUpperCase().padEnd(3),
      mmss(c.expiresMs).padEnd(6),
      c.state.padEnd(11),
      `${c.caddr}:${c.cport}`.padEnd(21),
      `${c.vaddr}:${c.vport}`.padEnd(21),
      `${c.daddr}:${c.dport}`,
    ];
    if (local) cells[cells.length - 1] = cells[cells.length - 1].padEnd(21);
    if (c.laddr !== undefined) cells.push(`${c.laddr}:${c.lport}`);
    lines.push(cells.join(' '));
  }
  return lines.join('\n');
}

// SPDX-License-Identifier: Apache-2.0
//
// The service table as `ipvsadm -L -n` prints it, with FullNat and SNAT as
// forward names (as DPVS does), and its --stats, --rate, --thresholds and
// --persistent-conn variants; the connection table as `ipvsadm -L -c -n`.
// Pure formatting: the status dump passes what the dataplane reads, the
// CLI what came over gRPC, in the same shapes.

import type { ConnRow } from '../dataplane/addon';
import type { CounterSet } from '../dataplane/counters';
import type { DestConfig, ServiceConfig } from '../config/schema';

const FORWARD_NAMES: Record<string, string> = { nat: 'Masq', dr: 'Route', tun: 'Tunnel', fullnat: 'FullNat', snat: 'SNAT' };

/** Per-second rates: conns, inpkts, outpkts, inbytes, outbytes. */
export type RateSet = Record<string, number>;

export interface ListedDest {
  config: DestConfig;
  stats: CounterSet;
  rates?: RateSet;
}

export interface ListedService {
  config: ServiceConfig;
  stats: CounterSet;
  rates?: RateSet;
  dests: ListedDest[];
}

export type ListingView = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent';

function flags(s: ServiceConfig): string {
  const group = s.endpoints.map((e) => `${(e.protocol ?? s.protocol).toUpperCase()} ${e.vip ?? s.vip}:${e.port}`);
  const also = group.length > 0 ? ` group +${group.join(', +')}` : '';
  if (s.persistence === undefined) return also.trim();
  const mask = s.persistence.netmask === '255.255.255.255' ? '' : ` mask ${s.persistence.netmask}`;
  return `persistent ${s.persistence.timeout}${mask}${also}`;
}

const endpoint = (c: ServiceConfig) => `${c.protocol.toUpperCase().padEnd(4)} ${c.vip}:${c.port}`;

export function formatListing(services: ListedService[], view: ListingView = 'default'): string {
  if (view !== 'default') return formatColumns(services, view);
  const lines = [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    const c = s.config;
    lines.push(`${endpoint(c)} ${c.scheduler} ${flags(c)}`.trimEnd());
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

interface Columns {
  header: string;
  /** Widths of the value columns; the first is the wide address column. */
  widths: number[];
  service: (s: ListedService) => string[];
  dest: (d: ListedDest) => string[];
}

const n = (v: bigint | number | undefined) => String(v ?? 0);
const r = (v: number | undefined) => String(Math.round(v ?? 0));
// The traffic counters, which --stats shows and --rate shows per second.
const TRAFFIC = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];

// The column layouts of ipvsadm's -L variants.
const COLUMNS: Record<Exclude<ListingView, 'default'>, Columns> = {
  stats: {
    header: 'Conns InPkts OutPkts InBytes OutBytes',
    widths: [33, 8, 8, 8, 8, 8],
    service: (s) => TRAFFIC.map((k) => n(s.stats[k])),
    dest: (d) => TRAFFIC.map((k) => n(d.stats[k])),
  },
  rate: {
    header: 'CPS InPPS OutPPS InBPS OutBPS',
    widths: [33, 8, 8, 8, 8, 8],
    service: (s) => TRAFFIC.map((k) => r(s.rates?.[k])),
    dest: (d) => TRAFFIC.map((k) => r(d.rates?.[k])),
  },
  thresholds: {
    header: 'Uthreshold Lthreshold ActiveConn InActConn',
    widths: [33, 10, 10, 10, 10],
    service: () => [],
    dest: (d) => [n(d.config.upper), n(d.config.lower), n(d.stats.active), n(d.stats.inactive)],
  },
  persistent: {
    header: 'Weight PersistConn ActiveConn InActConn',
    widths: [33, 6, 11, 10, 10],
    service: () => [],
    dest: (d) => [n(d.config.weight), n(d.stats.persistent), n(d.stats.active), n(d.stats.inactive)],
  },
};

function formatColumns(services: ListedService[], view: Exclude<ListingView, 'default'>): string {
  const cols = COLUMNS[view];
  const row = (first: string, values: string[]) =>
    [first.padEnd(cols.widths[0]), ...values.map((v, i) => v.padStart(cols.widths[i + 1]))].join(' ').trimEnd();
  const lines = [row('Prot LocalAddress:Port', cols.header.split(' ')), '  -> RemoteAddress:Port'];
  for (const s of services) {
    lines.push(row(endpoint(s.config), cols.service(s)));
    for (const d of s.dests) lines.push(row(`  -> ${d.config.address}:${d.config.port}`, cols.dest(d)));
  }
  return lines.join('\n');
}

function mmss(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export type ListedConn = Pick<
  ConnRow,
  'proto' | 'expiresMs' | 'state' | 'caddr' | 'cport' | 'vaddr' | 'vport' | 'daddr' | 'dport' | 'laddr' | 'lport'
>;

/** Connections as `ipvsadm -L -c -n` prints them; FULLNAT adds the local address the dest sees. */
export function formatConnections(rows: ListedConn[]): string {
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

// SPDX-License-Identifier: Apache-2.0
//
// The pool table: every worker's connection and SYN proxy pools and every
// port's mbuf pool, as GetStats reports them. Pure formatting: the status
// dump passes what the dataplane reads, the CLI what came over gRPC.

import type { PoolStats__Output } from '../api/gen/fulcrum/v1/PoolStats';
import { formatTable } from './table';

export function formatPools(pools: PoolStats__Output[]): string {
  const rows = pools.map((p) => [
    p.pool, p.pool === 'mbufs' ? `port ${p.port}` : `lcore ${p.lcore}`, p.used, p.capacity,
    p.pool === 'connections' ? p.templates : '-',
  ]);
  return formatTable(['pool', 'of', 'used', 'capacity', 'templates'], rows);
}

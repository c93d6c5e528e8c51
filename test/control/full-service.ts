// SPDX-License-Identifier: Apache-2.0
//
// A service of the API with every field set, some to their type's
// default: what the codec tests encode.

import type { Service } from '../../control/src/api/gen/fulcrum/v1/Service';

export const FULL: Service = {
  name: 'every-key',
  protocol: 'PROTOCOL_UDP',
  vip: '10.0.0.100',
  port: 53,
  scheduler: 'SCHEDULER_MH',
  forward: 'FORWARD_MODE_FULLNAT',
  persistence: { timeout: { seconds: '4233600' }, netmask: '255.255.255.0' },
  synproxy: true,
  local_addresses: ['10.0.1.50', '10.0.1.51'],
  client_address: 'CLIENT_ADDRESS_MODE_PROXY_V2',
  health_check: {
    type: 'HEALTH_CHECK_TYPE_UDP', send: 'ping', expect: 'pong', interval: { seconds: '2', nanos: 500_000_000 },
    timeout: { nanos: 250_000_000 }, rise: 4, fall: 5, on_fail: 'HEALTH_FAIL_ACTION_REMOVE', port: 5353, source: '10.0.1.2',
  },
  passive_check: true,
  timeouts: { tcp: { seconds: '900' }, tcpfin: { seconds: '120' }, udp: { seconds: '300', nanos: 1_000_000 } },
  expire_nodest_conn: true,
  endpoints: [{ protocol: 'PROTOCOL_TCP', vip: '10.0.0.101', port: 853 }, { port: 5353 }],
  mh: { table_size: 251, hash_port: true, fallback: true },
  lblc: { expire: { seconds: '3600' }, shrink: { seconds: '60' } },
  dests: [
    { address: '10.0.1.11', port: 53, weight: 0, forward: 'FORWARD_MODE_NAT', upper: 10, lower: 5 },
    { address: '10.0.1.12', port: 53, health_check: { type: 'HEALTH_CHECK_TYPE_HTTPS', path: '/up', expect_status: 204 } },
    { address: '10.0.1.13', port: 0, weight: 65535, forward: 'FORWARD_MODE_DR' },
  ],
};

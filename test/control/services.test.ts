// SPDX-License-Identifier: Apache-2.0
//
// Translation of validated services and snat rules into the dataplane's
// snapshot spec: ids, local-address pools, and what is refused.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { parseConfig, type ValidationEnv } from '../../control/src/config/load';
import { destKey, laddrKeys, serviceKey, serviceLaddrKeys, serviceSpecs, type SpecIds } from '../../control/src/dataplane/services';
import { unpackService } from '../../control/src/dataplane/spec-table';
import { snatDestKey, snatKey, snatLaddrKeys, snatSpecs } from '../../control/src/dataplane/snat';
import { engineStartSpec } from '../../control/src/dataplane/spec';

const env: ValidationEnv = { cpuCount: 4, interfaceExists: () => true, fileExists: () => true };

function config(services: string, snat = '') {
  return parseConfig(
    `dataplane:\n  lcores: "0-1"\n  ports:\n    - { name: wan, device: "net_af_packet0,iface=veth0", address: 10.0.0.2/24 }\n` +
      `    - { name: lan, device: "net_af_packet1,iface=veth1", address: 10.0.1.2/24 }\n` +
      `services:\n${services}${snat ? `snat:\n${snat}` : ''}`,
    't.yaml',
    env,
  );
}

function ids(cfg: ReturnType<typeof config>): SpecIds {
  const numbered = (keys: string[]) => new Map(keys.map((k, i) => [k, i]));
  return {
    services: numbered([...cfg.services.map(serviceKey), ...cfg.snat.map(snatKey)]),
    dests: numbered([...cfg.services.flatMap((s) => s.dests.map((d) => destKey(s, d))), ...cfg.snat.map(snatDestKey)]),
    laddrs: numbered([...new Set([...laddrKeys(cfg.services.map(serviceLaddrKeys)), ...snatLaddrKeys(cfg.snat)])]),
  };
}

const FULLNAT = `  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    forward: fullnat
    local_addresses: [10.0.1.50, 10.0.1.51]
    client_address: proxy_v2
    dests: [{ address: 10.0.1.11, port: 80 }]
  - name: api
    protocol: tcp
    vip: 10.0.0.100
    port: 81
    forward: fullnat
    local_addresses: [10.0.1.51]
    dests: [{ address: 10.0.1.11, port: 81 }]
`;

describe('service specs', () => {
  test('a local address shared by two services has one id (one port pool)', () => {
    const cfg = config(FULLNAT);
    const specs = serviceSpecs(cfg.services, ids(cfg)).map(unpackService);
    assert.deepEqual(specs[0].laddrs, [{ id: 0, ip: '10.0.1.50' }, { id: 1, ip: '10.0.1.51' }]);
    assert.deepEqual(specs[1].laddrs, [{ id: 1, ip: '10.0.1.51' }]);
    assert.equal(specs[0].clientAddress, 'proxy_v2');
    assert.equal(specs[1].clientAddress, 'toa');
    assert.equal(specs[0].dests[0].fwd, 'fullnat');
  });

  test('synproxy reaches the dataplane per service, its settings per engine', () => {
    const cfg = config(FULLNAT.replace('client_address: proxy_v2', 'synproxy: true'));
    assert.deepEqual(serviceSpecs(cfg.services, ids(cfg)).map((s) => unpackService(s).synproxy), [true, false]);
    assert.deepEqual(cfg.dataplane.synproxy, { mss: 1460, wscale: 7, sack: true, timestamps: true, ttl: 63, retries: 3, retry: 1000, hold: 4 });
    // As many SYN-proxied connections as connections, unless the config says fewer.
    assert.equal(engineStartSpec(cfg).synproxy.maxConns, cfg.dataplane.max_conns);
    const few = { ...cfg, dataplane: { ...cfg.dataplane, synproxy: { ...cfg.dataplane.synproxy, max_conns: 100 } } };
    assert.equal(engineStartSpec(few).synproxy.maxConns, 100);
  });

  // The dataplane keeps these as 32-bit milliseconds: 365 days wrapped to
  // 17 (persistence, lblc) or were refused by the engine (timeouts).
  const LONGEST = `  - name: web
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: lblc
    persistence: { timeout: 4233600 }
    timeouts: { tcp: 1176h, tcpfin: 1176h, udp: 1176h }
    lblc: { expire: 1176h }
    dests: [{ address: 10.0.1.11, port: 80 }]
`;

  test('the longest times the schema takes reach the dataplane as they are', () => {
    const cfg = config(LONGEST);
    const spec = unpackService(serviceSpecs(cfg.services, ids(cfg))[0]);
    const days49 = 49 * 86_400;
    assert.equal(spec.persistMs, days49 * 1000);
    assert.equal(spec.sched.lblcExpireMs, days49 * 1000);
    assert.deepEqual(spec.timeouts, { tcp: days49, tcpfin: days49, udp: days49 });
  });

  test('a longer time is refused by the schema, naming the bound', () => {
    assert.throws(() => config(LONGEST.replace('timeout: 4233600', 'timeout: 4233601')), /persistence\.timeout: must be from 1 to 4233600, got 4233601/);
    assert.throws(() => config(LONGEST.replace('tcpfin: 1176h', 'tcpfin: 1177h')), /timeouts\.tcpfin: must be from 1s to 1176h, got '1177h'/);
    assert.throws(() => config(LONGEST.replace('expire: 1176h', 'expire: 8760h')), /lblc\.expire: must be from 1s to 1176h, got '8760h'/);
  });

  test('forward snat on a service points to the snat rules', () => {
    const cfg = config(FULLNAT.replace('forward: fullnat', 'forward: snat'));
    assert.throws(() => serviceSpecs(cfg.services, ids(cfg)), /services\[0\]\.forward: snat is not a forward mode of services/);
  });
});

describe('snat specs', () => {
  test('prefixes, output port index and pool ids', () => {
    const cfg = config(FULLNAT, '  - { name: out, source: 10.0.1.0/24, destination: 192.168.0.0/16, out_port: wan, local_addresses: [10.0.0.60, 10.0.1.51] }\n');
    const all = ids(cfg);
    assert.deepEqual(snatSpecs(cfg, all), [{
      id: 2, destId: 2, src: '10.0.1.0', srcDepth: 24, dst: '192.168.0.0', dstDepth: 16, outPort: 0,
      laddrs: [{ id: 2, ip: '10.0.0.60' }, { id: 1, ip: '10.0.1.51' }],
    }]);
  });
});

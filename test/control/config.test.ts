// SPDX-License-Identifier: Apache-2.0
//
// Config schema, loading, validation messages and EAL argument building.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfigFile, parseConfig, type ConfigProblem, type ValidationEnv } from '../../control/src/config/load';
import { buildEalArgs, controlCpu, parseLcores, portDeviceName, workerLcores } from '../../control/src/config/eal';
import { parseDuration } from '../../control/src/config/schema';
import { parseLcoreMap } from '../../control/src/config/lcores';
import { parseIPv4 } from '../../control/src/config/ipv4';
import { engineStartSpec } from '../../control/src/dataplane/spec';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const EXAMPLE = path.join(repoRoot(), 'deploy', 'fulcrum.example.yaml');

const env: ValidationEnv = {
  cpuCount: 4,
  interfaceExists: (name) => ['veth0', 'veth1'].includes(name),
  fileExists: (file) => file.startsWith('/etc/fulcrum/'),
};

const MINIMAL = `
dataplane:
  lcores: "0-1"
  ports:
    - name: wan
      device: net_af_packet0,iface=veth0
      address: 10.0.0.2/24
`;

/** The problems of an invalid config; fails the test if it parses. */
function problemsOf(text: string, testEnv: ValidationEnv = env): ConfigProblem[] {
  try {
    parseConfig(text, 'test.yaml', testEnv);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('config was accepted');
}

/** Asserts there is exactly one problem, at `at`, whose message contains every word. */
function assertOneProblem(text: string, at: string, ...words: string[]): void {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 1));
  assert.equal(problems[0].path, at);
  for (const word of words) assert.match(problems[0].message, new RegExp(escape(word)));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A config with the given port list (YAML lines) and any extra lines after it. */
function withPorts(ports: string, extra = ''): string {
  return `dataplane:\n  lcores: "0-1"\n  ports:\n${ports}${extra}`;
}

function service(lines: string): string {
  return `${MINIMAL}services:\n  - name: web\n    protocol: tcp\n    vip: 10.0.0.100\n    port: 80\n${lines}`;
}

describe('valid configs', () => {
  test('minimal config gets every default', () => {
    const cfg = parseConfig(MINIMAL, 'minimal.yaml', env);
    const dp = cfg.dataplane;
    assert.equal(dp.hugepages, true);
    assert.deepEqual(dp.eal_args, []);
    assert.equal(dp.mbufs, 8191);
    assert.equal(dp.mbuf_cache, 256);
    assert.equal(dp.rx_desc, 1024);
    assert.equal(dp.tx_desc, 1024);
    assert.equal(dp.idle_sleep_us, 0);
    assert.equal(dp.max_conns, 65_536);
    assert.equal(dp.max_services, 1024);
    assert.equal(dp.max_dests, 8192);
    assert.deepEqual(dp.neighbours, { max: 1024, reachable: 300_000, retry: 1000, retries: 3, hold: 4 });
    assert.equal(dp.ports[0].mtu, 1500);
    assert.deepEqual(dp.routes, []);
    assert.deepEqual(cfg.control, {
      grpc: { socket: '/run/fulcrum/fulcrum.sock' },
      metrics: { listen: '127.0.0.1:9650', per_dest: true },
      state_file: '/var/lib/fulcrum/state.json',
      health: { max_in_flight: 1024 },
    });
    assert.deepEqual(cfg.services, []);
  });

  test('the example file parses with defaults applied', () => {
    const cfg = loadConfigFile(EXAMPLE, env);
    assert.deepEqual(
      cfg.dataplane.ports.map((p) => p.device),
      ['net_af_packet0,iface=veth0', 'net_af_packet1,iface=veth1'],
    );
    assert.deepEqual(cfg.dataplane.routes, [{ prefix: '0.0.0.0/0', via: '10.0.0.1' }]);
    const web = cfg.services[0];
    assert.equal(web.forward, 'fullnat');
    assert.equal(web.synproxy, true);
    assert.deepEqual(web.persistence, { timeout: 300, netmask: '255.255.255.0' });
    assert.deepEqual(web.health_check, {
      type: 'http', path: '/', expect_status: 200, interval: 1000, timeout: 1000, rise: 2, fall: 2, on_fail: 'inhibit',
    });
    assert.deepEqual(web.dests, [
      { address: '10.0.1.21', port: 8080, weight: 3, upper: 0, lower: 0 },
      { address: '10.0.1.22', port: 8080, weight: 1, forward: 'nat', upper: 0, lower: 0 },
    ]);
  });

  test('service defaults', () => {
    const cfg = parseConfig(service('    dests: [{ address: 10.0.0.21, port: 8080 }]\n'), 't.yaml', env);
    const svc = cfg.services[0];
    assert.equal(svc.scheduler, 'wlc');
    assert.equal(svc.forward, 'nat');
    assert.equal(svc.synproxy, false);
    assert.deepEqual(svc.local_addresses, []);
    assert.equal(svc.persistence, undefined);
    assert.deepEqual(svc.dests, [{ address: '10.0.0.21', port: 8080, weight: 1, upper: 0, lower: 0 }]);
    assert.deepEqual(svc.timeouts, {});
  });

  test('tx coalescing: 100 us by default where a tx burst is a system call, 0 elsewhere, or as given', () => {
    const cfg = parseConfig(withPorts([
      '    - { name: a, device: "net_af_packet0,iface=veth0", address: 10.0.0.2/24 }',
      '    - { name: b, device: "net_af_xdp0,iface=veth1", address: 10.0.1.2/24 }',
      '    - { name: c, device: "0000:3b:00.1", address: 10.0.2.2/24 }',
      '    - { name: d, device: "net_null0", address: 10.0.3.2/24 }',
      '    - { name: e, device: "net_af_packet1,iface=veth0", address: 10.0.4.2/24, tx_coalesce_us: 0 }',
      '    - { name: f, device: "0000:3b:00.2", address: 10.0.5.2/24, tx_coalesce_us: 30 }',
    ].join('\n') + '\n'), 't.yaml', env);
    assert.deepEqual(engineStartSpec(cfg).ports.map((p) => [p.name, p.txCoalesceUs]),
      [['a', 100], ['b', 100], ['c', 0], ['d', 0], ['e', 0], ['f', 30]]);
  });

  test('a section with every key commented out gets its defaults', () => {
    const cfg = parseConfig(`${MINIMAL}control:\n  # grpc: {}\n`, 't.yaml', env);
    assert.equal(cfg.control.state_file, '/var/lib/fulcrum/state.json');
  });
});

describe('invalid configs', () => {
  test('unknown key with a suggestion', () => {
    assertOneProblem(MINIMAL.replace('lcores: "0-1"', 'lcores: "0-1"\n  hugepage: true'),
      'dataplane', "unknown key 'hugepage'", "did you mean 'hugepages'?");
  });

  test('health checks in flight: at least one', () => {
    assertOneProblem(`${MINIMAL}control:\n  health: { max_in_flight: 0 }\n`, 'control.health.max_in_flight', 'must be from 1 to 65536, got 0');
  });

  test('unknown top-level key', () => {
    assertOneProblem(`${MINIMAL}servces: []\n`, '', "unknown top-level key 'servces'", "'services'");
  });

  test('bad port address', () => {
    assertOneProblem(MINIMAL.replace('10.0.0.2/24', '10.0.0.300/24'), 'dataplane.ports[0].address',
      "'10.0.0.300/24' is not an IPv4 address with prefix (a.b.c.d/len)");
  });

  test('route prefix with host bits set', () => {
    assertOneProblem(`${MINIMAL}  routes: [{ prefix: 10.1.0.1/16, port: wan }]\n`, 'dataplane.routes[0].prefix',
      'host bits', 'did you mean 10.1.0.0/16?');
  });

  test('bad address in a service', () => {
    assertOneProblem(service('    dests: [{ address: 10.0.1.256, port: 80 }]\n'), 'services[0].dests[0].address',
      "'10.0.1.256' is not an IPv4 address");
  });

  test('bad VIP', () => {
    assertOneProblem(service('').replace('vip: 10.0.0.100', 'vip: 224.0.0.1'), 'services[0].vip',
      'multicast');
  });

  test('tx coalescing beyond 10 ms', () => {
    assertOneProblem(MINIMAL.replace('address: 10.0.0.2/24', 'address: 10.0.0.2/24\n      tx_coalesce_us: 20000'),
      'dataplane.ports[0].tx_coalesce_us', '10000');
  });

  test('device interface missing', () => {
    assertOneProblem(MINIMAL.replace('iface=veth0', 'iface=veth9'), 'dataplane.ports[0].device',
      "interface 'veth9' does not exist");
  });

  test('unknown vdev driver', () => {
    assertOneProblem(MINIMAL.replace('net_af_packet0,iface=veth0', 'net_foo0'), 'dataplane.ports[0].device',
      "unknown vdev driver 'net_foo'", 'known: net_af_packet, net_af_xdp');
  });

  test('vdev without instance number', () => {
    assertOneProblem(MINIMAL.replace('net_af_packet0', 'net_af_packet'), 'dataplane.ports[0].device',
      'needs an instance number');
  });

  test('af_packet without iface', () => {
    assertOneProblem(MINIMAL.replace('net_af_packet0,iface=veth0', 'net_af_packet0'), 'dataplane.ports[0].device',
      'needs iface=');
  });

  test('malformed device argument', () => {
    assertOneProblem(MINIMAL.replace('iface=veth0', 'iface=veth0,qdisc'), 'dataplane.ports[0].device',
      "malformed device argument 'qdisc'", 'key=value');
  });

  test('bad PCI address', () => {
    assertOneProblem(MINIMAL.replace('net_af_packet0,iface=veth0', '"0000:3b:00.8"'), 'dataplane.ports[0].device',
      'is not a PCI address');
  });

  test('af_packet qpairs that do not match the workers', () => {
    assertOneProblem(MINIMAL.replace('iface=veth0', 'iface=veth0,qpairs=2'), 'dataplane.ports[0].device',
      'qpairs=2', 'number of workers (1)');
  });

  test('lcore beyond the machine', () => {
    assertOneProblem(MINIMAL.replace('"0-1"', '"0-1,5"'), 'dataplane.lcores',
      'lcore 5 does not exist: this machine has 4 CPUs (0-3)');
  });

  test('lcore map onto a CPU beyond the machine', () => {
    assertOneProblem(MINIMAL.replace('"0-1"', '"0@0,1@7"'), 'dataplane.lcores',
      'CPU 7 does not exist: this machine has 4 CPUs (0-3)');
  });

  test('--in-memory without hugepages', () => {
    assertOneProblem(MINIMAL.replace('lcores: "0-1"', 'lcores: "0-1"\n  hugepages: false\n  eal_args: ["--in-memory"]'),
      'dataplane.eal_args[0]', '--in-memory needs hugepages');
  });

  test('too few lcores', () => {
    assertOneProblem(MINIMAL.replace('"0-1"', '"1"'), 'dataplane.lcores', 'at least 2 lcores', 'control thread');
  });

  test('garbage lcore list', () => {
    assertOneProblem(MINIMAL.replace('"0-1"', '"0-1,x"'), 'dataplane.lcores', "'x' is not an lcore id or range");
  });

  test('route gateway off every port subnet', () => {
    assertOneProblem(`${MINIMAL}  routes: [{ prefix: 0.0.0.0/0, via: 10.9.9.1 }]\n`, 'dataplane.routes[0].via',
      "gateway 10.9.9.1 is not on any port's subnet");
  });

  test('route to an unknown port', () => {
    assertOneProblem(`${MINIMAL}  routes: [{ prefix: 10.1.0.0/16, port: lan }]\n`, 'dataplane.routes[0].port',
      "no port named 'lan'", 'ports: wan');
  });

  test('route with neither via nor port', () => {
    assertOneProblem(`${MINIMAL}  routes: [{ prefix: 10.1.0.0/16 }]\n`, 'dataplane.routes[0]', 'via', 'port');
  });

  test('duplicate route prefixes', () => {
    assertOneProblem(`${MINIMAL}  routes: [{ prefix: 10.1.0.0/16, port: wan }, { prefix: 10.1.0.0/16, via: 10.0.0.1 }]\n`,
      'dataplane.routes[1].prefix', 'duplicate route to 10.1.0.0/16');
  });

  test('duplicate port names', () => {
    const ports =
      '    - { name: wan, device: "net_af_packet0,iface=veth0", address: 10.0.0.2/24 }\n' +
      '    - { name: wan, device: "net_af_packet1,iface=veth1", address: 10.0.1.2/24 }\n';
    assertOneProblem(withPorts(ports), 'dataplane.ports[1].name', "duplicate port name 'wan'", 'ports[0]');
  });

  test('two ports with one address', () => {
    const ports =
      '    - { name: wan, device: "net_af_packet0,iface=veth0", address: 10.0.0.2/24 }\n' +
      '    - { name: lan, device: "net_af_packet1,iface=veth1", address: 10.0.0.2/24 }\n';
    assertOneProblem(withPorts(ports), 'dataplane.ports[1].address', 'address 10.0.0.2 is already on ports[0]');
  });

  test('duplicate devices', () => {
    const ports =
      '    - { name: wan, device: "0000:3b:00.1", address: 10.0.0.2/24 }\n' +
      '    - { name: lan, device: "3b:00.1", address: 10.0.1.2/24 }\n';
    assertOneProblem(withPorts(ports), 'dataplane.ports[1].device', "device '0000:3b:00.1' is already used");
  });

  test('no ports', () => {
    assertOneProblem('dataplane:\n  lcores: "0-1"\n  ports: []\n', 'dataplane.ports', 'at least one port');
    // Not a list at all: that alone, not also "at least one".
    assertOneProblem('dataplane:\n  lcores: "0-1"\n  ports: ""\n', 'dataplane.ports', "expected a list, got ''");
  });

  test('fullnat without local addresses', () => {
    assertOneProblem(service('    forward: fullnat\n'), 'services[0].local_addresses',
      'forward fullnat needs at least one local address');
  });

  test('synproxy with dr', () => {
    assertOneProblem(service('    forward: dr\n    synproxy: true\n'), 'services[0].synproxy',
      'synproxy cannot be used with forward dr');
  });

  test('synproxy state: at most max_conns, and none for no SYN proxy', () => {
    const states = (n: number) => MINIMAL.replace('lcores: "0-1"', `lcores: "0-1"\n  synproxy: { max_conns: ${n} }`);
    assert.equal(parseConfig(MINIMAL, 't.yaml', env).dataplane.synproxy.max_conns, undefined);
    assert.equal(parseConfig(states(0), 't.yaml', env).dataplane.synproxy.max_conns, 0);
    assertOneProblem(states(65537), 'dataplane.synproxy.max_conns', '65537 is above max_conns 65536');
    const off = service('    synproxy: true\n').replace('lcores: "0-1"', 'lcores: "0-1"\n  synproxy: { max_conns: 0 }');
    assertOneProblem(off, 'services[0].synproxy', 'the SYN proxy is off (dataplane.synproxy.max_conns is 0)');
  });

  test('duplicate dests', () => {
    assertOneProblem(service('    dests: [{ address: 10.0.0.21, port: 80 }, { address: 10.0.0.21, port: 80 }]\n'),
      'services[0].dests[1]', 'duplicate dest 10.0.0.21:80');
  });

  test('duplicate services', () => {
    const text = `${service('')}  - { name: web2, protocol: tcp, vip: 10.0.0.100, port: 80 }\n`;
    assertOneProblem(text, 'services[1]', 'duplicate service tcp 10.0.0.100:80');
  });

  test('unknown scheduler with a suggestion', () => {
    assertOneProblem(service('    scheduler: wrrr\n'), 'services[0].scheduler', "'wrrr' is not one of", "'wrr'");
  });

  test('bad duration', () => {
    assertOneProblem(service('    health_check: { type: tcp, interval: 2 sec }\n'), 'services[0].health_check.interval',
      "'2 sec' is not a duration");
  });

  test('path on a tcp health check', () => {
    assertOneProblem(service('    health_check: { type: tcp, path: /health }\n'), 'services[0].health_check.path',
      'only to http and https');
  });

  test('TCP API listener without TLS', () => {
    assertOneProblem(`${MINIMAL}control:\n  grpc: { listen: "0.0.0.0:50051" }\n`, 'control.grpc.listen', 'requires tls');
  });

  test('TLS file missing', () => {
    const text = `${MINIMAL}control:\n  grpc: { listen: "0.0.0.0:50051", tls: { cert: /etc/fulcrum/c, key: /tmp/k } }\n`;
    assertOneProblem(text, 'control.grpc.tls.key', "file '/tmp/k' does not exist");
  });

  test('wrong type', () => {
    assertOneProblem(MINIMAL.replace('lcores: "0-1"', 'lcores: "0-1"\n  mbufs: lots'), 'dataplane.mbufs',
      'expected a whole number', "got 'lots'");
  });

  test('missing required key', () => {
    assertOneProblem('dataplane:\n  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]\n',
      'dataplane.lcores', 'is required');
  });

  test('YAML syntax error names file, line and column', () => {
    const problems = problemsOf('dataplane:\n  lcores: "0-1"\n  ports: [a, b\n  routes: []\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0].path, /^test\.yaml:4:\d+$/);
    assert.match(problems[0].message, /^YAML syntax error: /);
  });

  test('duplicate YAML keys', () => {
    const problems = problemsOf(`${MINIMAL}  lcores: "0-2"\n`);
    assert.match(problems[0].path, /^test\.yaml:\d+:\d+$/);
    assert.match(problems[0].message, /unique/);
  });

  test('empty file', () => {
    assert.deepEqual(problemsOf('# nothing\n'), [{ path: '', message: 'the config is empty' }]);
  });

  test('several problems are reported together', () => {
    const text = `${MINIMAL.replace('10.0.0.2/24', '10.0.0.2/33').replace('"0-1"', '"0-9"')}` +
      '  routes: [{ prefix: 10.1.0.0/16, port: lan }]\n' +
      'services:\n  - { name: web, protocol: tcp, vip: 10.0.0.999, port: 80, forward: fullnat }\n';
    const problems = problemsOf(text);
    assert.deepEqual(problems.map((p) => p.path), [
      'dataplane.lcores',
      'dataplane.ports[0].address',
      'dataplane.routes[0].port',
      'services[0].vip',
      'services[0].local_addresses',
    ]);
    // The message has one line per problem, each starting with its path.
    const err = (() => {
      try {
        parseConfig(text, 'test.yaml', env);
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    assert.ok(err);
    const lines = err.message.split('\n');
    assert.equal(lines.length, problems.length);
    assert.match(lines[1], /^dataplane\.ports\[0\]\.address: '10\.0\.0\.2\/33' is not an IPv4 address with prefix/);
  });

  test('unknown keys hide neither the fields beside them nor the checks across fields', () => {
    const text = service(
      '    forward: fullnat\n    sheduler: rr\n' +
        '    health_check: { type: tcp, path: /x, intervl: 1s, interval: 1s, timeout: 2s }\n' +
        '    dests: [{ address: 10.0.1.256, port: 80, wieght: 2 }]\n',
    );
    assert.deepEqual(problemsOf(text), [
      { path: 'services[0]', message: "unknown key 'sheduler' (did you mean 'scheduler'?)" },
      { path: 'services[0].health_check.path', message: 'path applies only to http and https checks, not tcp' },
      { path: 'services[0].health_check', message: "unknown key 'intervl' (did you mean 'interval'?)" },
      { path: 'services[0].health_check.timeout', message: 'timeout 2s is longer than interval 1s' },
      { path: 'services[0].dests[0]', message: "unknown key 'wieght' (did you mean 'weight'?)" },
      { path: 'services[0].dests[0].address', message: "'10.0.1.256' is not an IPv4 address (a.b.c.d)" },
      { path: 'services[0].local_addresses', message: 'forward fullnat needs at least one local address' },
    ]);
  });

  test('unreadable file', () => {
    const missing = path.join(os.tmpdir(), 'fulcrum-no-such-config.yaml');
    assert.throws(() => loadConfigFile(missing, env), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^cannot read config .*fulcrum-no-such-config\.yaml: ENOENT/);
      return true;
    });
  });
});

describe('IPVS service rules', () => {
  test('a port-zero service must be persistent', () => {
    assertOneProblem(service('').replace('port: 80', 'port: 0'), 'services[0].port', 'needs persistence');
    const ok = parseConfig(service('    persistence: { timeout: 60 }\n').replace('port: 80', 'port: 0'), 't.yaml', env);
    assert.equal(ok.services[0].port, 0);
  });

  test('a dest lower threshold above its upper one', () => {
    assertOneProblem(service('    dests: [{ address: 10.0.0.21, port: 8080, upper: 10, lower: 20 }]\n'),
      'services[0].dests[0].lower', 'lower 20 is above upper 10');
  });

  test('per-service timeouts as ipvsadm --set', () => {
    const cfg = parseConfig(service('    timeouts: { tcp: 1h, tcpfin: 30s, udp: 10s }\n'), 't.yaml', env);
    assert.deepEqual(cfg.services[0].timeouts, { tcp: 3_600_000, tcpfin: 30_000, udp: 10_000 });
  });
});

describe('health checks', () => {
  const hc = (svc: string, dest: string) =>
    service(`    health_check: ${svc}\n    dests:\n      - { address: 10.0.0.21, port: 8080${dest} }\n      - { address: 10.0.0.22, port: 0 }\n`);

  test('a dest health_check replaces the service one; on_fail defaults to inhibit', () => {
    const text = hc('{ type: tcp, port: 8080, source: 10.0.0.2 }', ', health_check: { type: http, path: /ok, fall: 1, on_fail: remove }');
    const svc = parseConfig(text, 't.yaml', env).services[0];
    assert.equal(svc.health_check?.on_fail, 'inhibit');
    assert.equal(svc.health_check?.port, 8080);
    assert.equal(svc.health_check?.source, '10.0.0.2');
    assert.deepEqual(svc.dests[0].health_check, {
      type: 'http', path: '/ok', expect_status: 200, interval: 2000, timeout: 1000, rise: 2, fall: 1, on_fail: 'remove',
    });
    assert.equal(svc.dests[1].health_check, undefined);
  });

  test('a check source must be a unicast address', () => {
    assertOneProblem(hc('{ type: tcp, port: 1, source: 127.0.0.1 }', ''), 'services[0].health_check.source', 'loopback');
  });

  test('unknown on_fail action', () => {
    assertOneProblem(hc('{ type: tcp, port: 1, on_fail: drop }', ''), 'services[0].health_check.on_fail', "'drop' is not one of");
  });

  test('a port-zero dest needs health_check.port', () => {
    assertOneProblem(hc('{ type: tcp }', ''), 'services[0].dests[1].port', 'give health_check.port');
  });

  test('a bad dest health_check names the dest', () => {
    const text = hc('{ type: tcp, port: 1 }', ', health_check: { type: udp, expect_status: 200 }');
    assertOneProblem(text, 'services[0].dests[0].health_check.expect_status', 'only to http and https');
  });
});

describe('FULLNAT and SNAT', () => {
  test('client_address defaults to toa and accepts proxy_v2 and none', () => {
    const fullnat = '    forward: fullnat\n    local_addresses: [10.0.0.50]\n';
    assert.equal(parseConfig(service(fullnat), 't.yaml', env).services[0].client_address, 'toa');
    const proxy = parseConfig(service(`${fullnat}    client_address: proxy_v2\n`), 't.yaml', env);
    assert.equal(proxy.services[0].client_address, 'proxy_v2');
    assertOneProblem(service(`${fullnat}    client_address: pp1\n`), 'services[0].client_address', "'pp1'", 'proxy_v2');
  });

  test('local_ports: a range, with a port for every worker', () => {
    const withPorts = (r: string) => MINIMAL.replace('lcores: "0-1"', `lcores: "0-1"\n  local_ports: "${r}"`);
    assert.deepEqual(parseConfig(MINIMAL, 't.yaml', env).dataplane.local_ports, { first: 1025, last: 65535 });
    assert.deepEqual(parseConfig(withPorts('61000-61007'), 't.yaml', env).dataplane.local_ports, { first: 61000, last: 61007 });
    assertOneProblem(withPorts('61000'), 'dataplane.local_ports', 'not a port range');
    assertOneProblem(withPorts('70000-70001'), 'dataplane.local_ports', 'first <= last <= 65535');
    assertOneProblem(withPorts('5-5').replace('"0-1"', '"0-2"'), 'dataplane.local_ports', 'cannot be split between 2 workers');
    // A bad range hides none of the dataplane's other checks.
    assert.deepEqual(problemsOf(withPorts('x').replace('lcores:', 'mbufs: 1023\n  lcores:')), [
      { path: 'dataplane.local_ports', message: "'x' is not a port range (first-last, e.g. 1025-65535)" },
      { path: 'dataplane.mbufs', message: "1023 mbufs per port cannot fill 1 workers' rx rings (rx_desc 1024) and caches (mbuf_cache 256): needs at least 1280" },
    ]);
  });

  test('snat rules: prefixes, pool and out_port checked', () => {
    const rule = (extra: string) =>
      `${MINIMAL}snat:\n  - name: office\n    source: 10.9.0.0/16\n    local_addresses: [10.0.0.60]\n${extra}`;
    const cfg = parseConfig(rule('    out_port: wan\n'), 't.yaml', env);
    assert.deepEqual(cfg.snat[0], {
      name: 'office', source: '10.9.0.0/16', destination: '0.0.0.0/0', out_port: 'wan', local_addresses: ['10.0.0.60'],
    });
    assertOneProblem(rule('    out_port: lan\n'), 'snat[0].out_port', "unknown port 'lan'", 'wan');
    assertOneProblem(rule('    destination: 10.1.0.0\n'), 'snat[0].destination', 'not an IPv4 prefix');
    assertOneProblem(rule('').replace('local_addresses: [10.0.0.60]', 'local_addresses: []'),
      'snat[0].local_addresses', 'at least one local address');
  });
});

describe('EAL arguments', () => {
  test('vdev-only config', () => {
    const text = `
dataplane:
  lcores: "0-2"
  hugepages: false
  eal_args: ["--log-level=lib.eal:debug"]
  ports:
    - { name: wan, device: "net_af_packet0,iface=veth0", address: 10.0.0.2/24 }
    - { name: lan, device: "net_af_xdp0,iface=veth1", address: 10.0.1.2/24 }
    - { name: sink, device: "net_null0", address: 10.0.2.2/24 }
`;
    const cfg = parseConfig(text, 't.yaml', env);
    assert.deepEqual(buildEalArgs(cfg), [
      'fulcrum', '-l', '0-2', '--main-lcore', '0',
      // 8191 mbufs x 3 ports x 2.5 KB = 60 MB, plus 512.
      '--no-huge', '-m', '572',
      '--vdev', 'net_af_packet0,iface=veth0,qpairs=2',
      '--vdev', 'net_af_xdp0,iface=veth1,queue_count=2',
      '--vdev', 'net_null0',
      '--no-pci',
      '--file-prefix=fulcrum',
      '--log-level=lib.eal:debug',
    ]);
    assert.deepEqual(workerLcores(cfg), [1, 2]);
    assert.equal(controlCpu(cfg), 0);
  });

  test('PCI config', () => {
    const text = `
dataplane:
  lcores: "3,1-2"
  eal_args: ["--in-memory"]
  ports:
    - { name: wan, device: "0000:3B:00.0", address: 10.0.0.2/24 }
    - { name: lan, device: "3b:00.1,mprq_en=1", address: 10.0.1.2/24 }
`;
    const cfg = parseConfig(text, 't.yaml', env);
    assert.deepEqual(buildEalArgs(cfg), [
      'fulcrum', '-l', '3,1-2', '--main-lcore', '3',
      '-a', '0000:3b:00.0',
      '-a', '0000:3b:00.1,mprq_en=1',
      '--in-memory',
    ]);
    assert.deepEqual(workerLcores(cfg), [1, 2]);
    assert.equal(portDeviceName(cfg.dataplane.ports[1].device), '0000:3b:00.1');
  });

  test('an lcore@cpu map becomes --lcores: two workers may share a CPU', () => {
    const cfg = parseConfig(MINIMAL.replace('"0-1"', '"0@0,1-2@1"'), 't.yaml', env);
    const args = buildEalArgs(cfg);
    assert.deepEqual(args.slice(0, 5), ['fulcrum', '--lcores', '0@0,1@1,2@1', '--main-lcore', '0']);
    assert.deepEqual(workerLcores(cfg), [1, 2]);
    assert.equal(controlCpu(cfg), 0);
  });

  test('portDeviceName', () => {
    assert.equal(portDeviceName('net_af_packet0,iface=veth0'), 'net_af_packet0');
    assert.equal(portDeviceName('net_null3'), 'net_null3');
    assert.equal(portDeviceName('0000:3b:00.1'), '0000:3b:00.1');
  });
});

describe('parseLcores', () => {
  test('lists and ranges in the order written', () => {
    assert.deepEqual(parseLcores('0-1'), [0, 1]);
    assert.deepEqual(parseLcores('0,2-3'), [0, 2, 3]);
    assert.deepEqual(parseLcores('4,0-1'), [4, 0, 1]);
    assert.deepEqual(parseLcores(' 1 , 3 '), [1, 3]);
    assert.deepEqual(parseLcores('7'), [7]);
    assert.deepEqual(parseLcores('2-2'), [2]);
  });

  test('lcore@cpu maps', () => {
    assert.deepEqual(parseLcoreMap('0@0,1-2@1'), [{ lcore: 0, cpu: 0 }, { lcore: 1, cpu: 1 }, { lcore: 2, cpu: 1 }]);
    assert.deepEqual(parseLcoreMap('0,1@1'), [{ lcore: 0, cpu: 0 }, { lcore: 1, cpu: 1 }]);
    assert.throws(() => parseLcoreMap('1@'), /is not an lcore id/);
  });

  test('rejects garbage, descending ranges and duplicates', () => {
    assert.throws(() => parseLcores(''), /empty/);
    assert.throws(() => parseLcores('a'), /'a' is not an lcore id or range/);
    assert.throws(() => parseLcores('0,,1'), /is not an lcore id/);
    assert.throws(() => parseLcores('1-'), /is not an lcore id/);
    assert.throws(() => parseLcores('-1'), /is not an lcore id/);
    assert.throws(() => parseLcores('3-1'), /descending/);
    assert.throws(() => parseLcores('0-2,1'), /lcore 1 is listed twice/);
    assert.throws(() => parseLcores('0-99999'), /out of range/);
  });
});

describe('parseDuration', () => {
  test('units and bare seconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('3'), 3000);
    assert.equal(parseDuration(2), 2000);
  });

  test('rejects other text', () => {
    assert.throws(() => parseDuration('2 sec'), /not a duration/);
    assert.throws(() => parseDuration('-1s'), /not a duration/);
    assert.throws(() => parseDuration(-1), /not a duration/);
    assert.throws(() => parseDuration('1d'), /not a duration/);
  });
});

describe('parseIPv4', () => {
  test('dotted quads', () => {
    assert.equal(parseIPv4('0.0.0.0'), 0);
    assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIPv4('192.168.100.10'), 0xc0a8640a);
  });

  test('rejects everything else', () => {
    const bad = ['', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '256.1.1.1', '1.2.3.1000', '01.2.3.4',
      '1.2.3.00', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4/24', '1.2.3.-1', '1.2.3.4a', 'a.b.c.d', '1.2.3.\u0663'];
    for (const text of bad) assert.equal(parseIPv4(text), null, JSON.stringify(text));
    assert.equal(parseIPv4(0x01020304), null);
  });
});

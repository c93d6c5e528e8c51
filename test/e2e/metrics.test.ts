// SPDX-License-Identifier: Apache-2.0
//
// Metrics end to end: GET /metrics from a running Fulcrum carrying HTTP
// traffic through NAT, with health checks on; then a real Prometheus
// (the Debian package) scrapes it and evaluates every query of the Grafana
// dashboard (deploy/grafana/fulcrum.json) through its HTTP API.
//
// The metrics endpoint listens on 127.0.0.1 inside the balancer
// namespace, so Prometheus runs there too and the test asks both through
// a small fetch run in that namespace.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { METRICS_URL as METRICS, Sandbox } from '../../control/src/demo/sandbox';
import { Balancer, metricsPort } from './fixtures/balancer';

const ROOT = path.resolve(__dirname, '../../..');
const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const DASHBOARD = path.join(ROOT, 'deploy/grafana/fulcrum.json');
const PROMETHEUS = '127.0.0.1:9091';
const VIP = '10.0.0.100';
const SERVICES = `
  - name: web
    protocol: tcp
    vip: ${VIP}
    port: 80
    scheduler: rr
    health_check: { type: tcp, interval: 300ms, timeout: 200ms }
    dests:
      - { address: 10.0.1.11, port: 80 }
      - { address: 10.0.1.12, port: 80 }
      - { address: 10.0.1.13, port: 80 }`;
// What Grafana's $__rate_interval becomes with the 1 s scrape interval below.
const RATE_INTERVAL = '10s';
// The dashboard's service variable set to "All".
const ALL_SERVICES = '.*';

let sb: Sandbox;
let tmp: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-metrics-'));
  sb = await Sandbox.start({ tag: 'met', servers: 3, checkLeg: true, services: SERVICES });
});

after(async () => {
  await sb?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(url: string): Promise<{ ok: boolean; body: string }> {
  return sb.get(url);
}

async function load(count: number): Promise<void> {
  const r = await sb.client([process.execPath, HTTP_LOAD, `http://${VIP}/`, String(count)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { errors: number }).errors, 0, r.stdout);
}

/** The exposition text as `name{labels}` -> value (labels as written, in prom-client's order). */
async function scrape(): Promise<Map<string, number>> {
  const r = await get(METRICS);
  assert.ok(r.ok, r.body);
  const samples = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

function value(samples: Map<string, number>, key: string): number {
  const v = samples.get(key);
  assert.ok(v !== undefined, `no sample ${key} in:\n${[...samples.keys()].filter((k) => k.startsWith('fulcrum_')).join('\n')}`);
  return v;
}

const DESTS = ['10.0.1.11:80', '10.0.1.12:80', '10.0.1.13:80'];

test('/metrics counts the traffic, connections, pools and health of a running balancer', { timeout: 90_000 }, async () => {
  const before = await scrape();
  await load(60);
  const now = await scrape();
  const delta = (key: string) => value(now, key) - (before.get(key) ?? 0);
  assert.equal(delta('fulcrum_service_connections_total{service="web"}'), 60);
  for (const d of DESTS) assert.equal(delta(`fulcrum_dest_connections_total{service="web",dest="${d}"}`), 20, d);
  // SYN, ACK, request, FIN, ACK at least, each way.
  assert.ok(delta('fulcrum_service_packets_total{service="web",direction="in"}') >= 60 * 4);
  assert.ok(delta('fulcrum_service_bytes_total{service="web",direction="out"}') >= 60 * 100);
  assert.ok(delta('fulcrum_worker_rx_packets_total{lcore="1"}') >= 60 * 8);
  assert.ok(delta('fulcrum_worker_tx_bytes_total{lcore="1"}') >= 60 * 400);
  assert.ok(delta('fulcrum_worker_polls_total{lcore="1",state="busy"}') > 0);
  assert.equal(delta('fulcrum_worker_events_total{lcore="1",event="conns_created"}'), 60);
  // Closed connections wait in TIME_WAIT (inactive) and hold pool objects.
  const inactive = DESTS.reduce((n, d) => n + value(now, `fulcrum_dest_inactive_connections{service="web",dest="${d}"}`), 0);
  assert.ok(inactive >= 60, `inactive ${inactive}`);
  assert.ok(value(now, 'fulcrum_pool_used{pool="connections",lcore="1"}') >= inactive);
  assert.equal(value(now, 'fulcrum_pool_capacity{pool="connections",lcore="1"}'), 16384);
  // The other pools: no SYN proxy or persistent service here; the mbuf
  // pools (the sandbox's 4095 a port) hold nothing between bursts.
  assert.equal(value(now, 'fulcrum_pool_capacity{pool="synproxy",lcore="1"}'), 16384);
  assert.equal(value(now, 'fulcrum_pool_used{pool="synproxy",lcore="1"}'), 0);
  assert.equal(value(now, 'fulcrum_persistent_templates{lcore="1"}'), 0);
  for (const port of ['wan', 'lan']) {
    assert.equal(value(now, `fulcrum_mbuf_pool_capacity{port="${port}"}`), 4095);
    assert.ok(value(now, `fulcrum_mbuf_pool_used{port="${port}"}`) < 4095);
  }
  // Every drop reason has a series, so a dashboard can show zeros.
  assert.equal(value(now, 'fulcrum_worker_drops_total{lcore="1",reason="conn_pool_full"}'), 0);
  for (const d of DESTS) {
    assert.equal(value(now, `fulcrum_dest_healthy{service="web",dest="${d}"}`), 1);
    assert.ok(delta(`fulcrum_health_checks_total{service="web",dest="${d}",result="success"}`) > 0, d);
  }
  // Three dests checked: none waits for a turn (control.health.max_in_flight 1024).
  assert.equal(value(now, 'fulcrum_health_checks_waiting'), 0);
  assert.ok(value(now, 'fulcrum_health_checks_in_flight') <= 3);
  assert.ok(value(now, 'fulcrum_control_nodejs_eventloop_lag_p99_seconds') >= 0);
});

test('a failed dest shows in fulcrum_dest_healthy and the failure counter', { timeout: 60_000 }, async () => {
  await sb.stopServer(0);
  try {
    const started = Date.now();
    let samples = await scrape();
    while (value(samples, 'fulcrum_dest_healthy{service="web",dest="10.0.1.11:80"}') !== 0) {
      assert.ok(Date.now() - started < 5000, 'dest 10.0.1.11:80 still healthy after 5 s');
      samples = await scrape();
    }
    assert.ok(value(samples, 'fulcrum_health_checks_total{service="web",dest="10.0.1.11:80",result="failure"}') >= 3);
  } finally {
    await sb.startServer(0);
  }
});

test('metrics.per_dest: false leaves out every per-dest series and keeps the per-service ones', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-perdest-'));
  const services = `  - { name: web, protocol: tcp, vip: 10.0.0.100, port: 80, dests: [{ address: 10.0.1.11, port: 80 }, { address: 10.0.1.12, port: 80 }] }`;
  const b = await Balancer.start(dir, { services, metrics: ['per_dest: false'] });
  try {
    // This balancer's metrics listen in the root namespace, not the sandbox's.
    const body = await (await fetch(`http://127.0.0.1:${metricsPort(dir)}/metrics`)).text();
    assert.match(body, /^fulcrum_service_connections_total\{service="web"\} 0$/m);
    assert.doesNotMatch(body, /^fulcrum_dest_/m);
  } finally {
    await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('control.health.max_in_flight above the open-file limit: fewer places, and a line that says so', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-nofile-'));
  const services = `  - { name: web, protocol: tcp, vip: 10.0.0.100, port: 80, health_check: { type: tcp }, dests: [{ address: 10.0.1.11, port: 80 }] }`;
  const b = await Balancer.start(dir, { services, openFiles: 600 });
  try {
    assert.match(b.log, /fulcrum: health: control\.health\.max_in_flight 1024 is more than the open-file limit \(600, 256 kept [^)]*\) allows: at most 344 checks run at once/);
  } finally {
    await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('other paths are 404', { timeout: 20_000 }, async () => {
  const r = await get('http://127.0.0.1:9650/');
  assert.equal(r.ok, false);
  assert.match(r.body, /metrics are at \/metrics/);
});

interface Target {
  panel: string;
  expr: string;
}

function dashboardTargets(): Target[] {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  return dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
}

/** A panel query as Grafana sends it: variables substituted. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$service', ALL_SERVICES);
}

async function startPrometheus(): Promise<void> {
  const config = path.join(tmp, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: fulcrum',
    '    static_configs: [{ targets: ["127.0.0.1:9650"] }]',
    '',
  ].join('\n'));
  const child = sb.topo.spawn('lb', ['prometheus', `--config.file=${config}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`,
    `--web.listen-address=${PROMETHEUS}`], { stdio: 'ignore' });
  child.once('error', () => undefined);
  const started = Date.now();
  while (!(await get(`http://${PROMETHEUS}/-/ready`)).ok) {
    assert.ok(child.exitCode === null, `prometheus exited with ${child.exitCode}`);
    assert.ok(Date.now() - started < 30_000, 'prometheus not ready in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// Prometheus syncs its targets a few seconds after it is ready: the
// traffic must come after its first scrape to be seen.
async function firstScrape(): Promise<void> {
  const started = Date.now();
  while ((await query('up{job="fulcrum"} == 1')).length === 0) {
    assert.ok(Date.now() - started < 30_000, 'prometheus did not scrape fulcrum in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface QueryReply {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<QueryReply['data']['result']> {
  const r = await get(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
  assert.ok(r.ok, `${expr}: ${r.body}`);
  const reply = JSON.parse(r.body) as QueryReply;
  assert.equal(reply.status, 'success', r.body);
  return reply.data.result;
}

test('Prometheus scrapes Fulcrum and every dashboard query returns data', { timeout: 120_000 }, async () => {
  await startPrometheus();
  await firstScrape();
  // Traffic spread over several scrapes, so rates have two points in their window.
  for (let i = 0; i < 4; i++) {
    await load(20);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  const targets = dashboardTargets();
  assert.ok(targets.length >= 13, `${targets.length} queries`);
  for (const t of targets) {
    const result = await query(substitute(t.expr));
    assert.ok(result.length > 0, `panel "${t.panel}": no data for ${substitute(t.expr)}`);
  }
  // The values move: Prometheus saw the 80 new connections (over a window
  // that still holds them after the queries above; increase() extrapolates).
  const conns = await query('sum(increase(fulcrum_service_connections_total{service="web"}[2m]))');
  assert.ok(Number(conns[0].value[1]) >= 60, JSON.stringify(conns));
  const healthy = await query('sum(fulcrum_dest_healthy)');
  assert.equal(Number(healthy[0].value[1]), 3);
  // The service variable's values (label_values in Grafana).
  const series = await get(`http://${PROMETHEUS}/api/v1/label/service/values`);
  assert.deepEqual((JSON.parse(series.body) as { data: string[] }).data, ['web']);
});

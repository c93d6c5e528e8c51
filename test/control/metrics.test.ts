// SPDX-License-Identifier: Apache-2.0
//
// The metrics plumbing on its own: families read at scrape time, the
// request-latency histogram the gRPC server feeds, and the HTTP endpoint.
// (Values from a running dataplane: test/e2e/metrics.test.ts.)

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { test } from 'node:test';
import { Registry } from 'prom-client';

import { counterFamily, gaugeFamily, type Sample } from '../../control/src/metrics/family';
import { observeRequest, registerRequestMetrics } from '../../control/src/metrics/requests';
import { parseListen, startMetricsServer, type Exposition } from '../../control/src/metrics/server';
import { labelPairs, renderTable, SLICE_ROWS, statSeries, type TableFamily, type TableRow } from '../../control/src/metrics/table';
import { StatView } from '../../control/src/dataplane/counters';

test('families read their values at each scrape; series that went away disappear', async () => {
  const registry = new Registry();
  let samples: Sample[] = [[{ dest: 'a' }, 5n], [{ dest: 'b' }, 7]];
  counterFamily(registry, { name: 'fulcrum_test_total', help: 'h', labelNames: ['dest'], read: () => samples });
  gaugeFamily(registry, { name: 'fulcrum_test', help: 'h', labelNames: ['dest'], read: () => samples });
  let text = await registry.metrics();
  assert.match(text, /^fulcrum_test_total\{dest="a"\} 5$/m);
  assert.match(text, /^fulcrum_test\{dest="b"\} 7$/m);
  assert.match(text, /# TYPE fulcrum_test_total counter/);
  samples = [[{ dest: 'a' }, 9n]];
  text = await registry.metrics();
  assert.match(text, /^fulcrum_test_total\{dest="a"\} 9$/m);
  assert.doesNotMatch(text, /dest="b"/);
});

test('observeRequest feeds fulcrum_control_request_duration_seconds', async () => {
  const registry = new Registry();
  registerRequestMetrics(registry);
  observeRequest('CreateService', 0.003, 'OK');
  observeRequest('CreateService', 0.2, 'INVALID_ARGUMENT');
  const text = await registry.metrics();
  assert.match(text, /^fulcrum_control_request_duration_seconds_bucket\{le="0.005",method="CreateService",code="OK"\} 1$/m);
  assert.match(text, /^fulcrum_control_request_duration_seconds_count\{method="CreateService",code="INVALID_ARGUMENT"\} 1$/m);
});

test('the endpoint serves /metrics, 404 elsewhere, and names the address it cannot bind', async () => {
  const registry = new Registry();
  gaugeFamily(registry, { name: 'fulcrum_up', help: 'h', labelNames: [], read: () => [[{}, 1]] });
  const exposition: Exposition = { registry, slices: [() => ['fulcrum_a 1\n', 'fulcrum_b 2\n']] };
  const server = await startMetricsServer(exposition, '127.0.0.1:0');
  const { port } = server.address() as AddressInfo;
  try {
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/plain; version=0.0.4/);
    const body = await ok.text();
    assert.match(body, /^fulcrum_up 1$/m);
    assert.ok(body.endsWith('fulcrum_a 1\nfulcrum_b 2\n'), 'the slices follow the registry, in order');
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    await assert.rejects(startMetricsServer(exposition, `127.0.0.1:${port}`), /metrics: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  assert.ok(net.isIP(parseListen('[::1]:9650').host) === 6);
  assert.deepEqual(parseListen('0.0.0.0:9650'), { host: '0.0.0.0', port: 9650 });
});

/** A StatView over a buffer of its own: `workers` x `rows` rows of fields a, b (stride 2), given as [worker][row][field]. */
function view(values: bigint[][][]): StatView {
  const rows = values[0].length;
  const words = new BigUint64Array(values.length * rows * 2);
  values.forEach((w, wi) => w.forEach((r, ri) => r.forEach((v, fi) => (words[(wi * rows + ri) * 2 + fi] = v))));
  return new StatView(words.buffer, { names: ['a', 'b'], stride: 2 }, rows);
}

test('StatView sums a field over the workers, or over one worker\'s rows, as doubles', () => {
  const v = view([
    [[1n, 2n], [2n ** 32n - 1n, 7n], [0n, 0n]],
    [[10n, 20n], [2n ** 32n + 3n, 0n], [5n, 1n]],
  ]);
  assert.equal(v.sumNumber(1, v.field('a')), 2 ** 33 + 2);
  assert.equal(v.sumNumber(1, v.field('a')), Number(v.sum(1, v.field('a'))));
  assert.equal(v.columnSum(0, v.field('a')), 2 ** 32);
  assert.equal(v.columnSum(1, v.field('a')), 2 ** 32 + 18);
  assert.equal(v.columnSum(1, v.field('b')), 21);
});

test('table families: exposition text of each row, summed over the workers, in slices of rows', () => {
  // Two workers, three rows; row 1's field a crosses 2^32 when summed.
  const v = view([
    [[1n, 2n], [2n ** 32n - 1n, 7n], [0n, 0n]],
    [[10n, 20n], [2n ** 32n + 3n, 0n], [5n, 1n]],
  ]);
  type Row = TableRow & { w: number };
  const rows: Row[] = [
    { labels: 'service="web"', id: 0, w: 3 },
    { labels: labelPairs([['service', 'a"b\\c'], ['dest', 'x\ny']]), id: 1, w: 0 },
    { labels: 'service="dns"', id: 2, w: 1 },
  ];
  const families: TableFamily<Row>[] = [
    { name: 'fulcrum_x_total', help: 'X', type: 'counter', series: [statSeries(v, 'a', 'direction="in"'), statSeries(v, 'b', 'direction="out"')] },
    { name: 'fulcrum_w', help: 'W', type: 'gauge', series: [{ extra: '', value: (r) => r.w }] },
  ];
  const slices = [...renderTable(families, rows, 2)];
  assert.deepEqual(slices, [
    '# HELP fulcrum_x_total X\n# TYPE fulcrum_x_total counter\n' +
      'fulcrum_x_total{service="web",direction="in"} 11\n' +
      'fulcrum_x_total{service="a\\"b\\\\c",dest="x\\ny",direction="in"} 8589934594\n' +
      'fulcrum_x_total{service="web",direction="out"} 22\n' +
      'fulcrum_x_total{service="a\\"b\\\\c",dest="x\\ny",direction="out"} 7\n',
    'fulcrum_x_total{service="dns",direction="in"} 5\nfulcrum_x_total{service="dns",direction="out"} 1\n',
    '# HELP fulcrum_w W\n# TYPE fulcrum_w gauge\nfulcrum_w{service="web"} 3\nfulcrum_w{service="a\\"b\\\\c",dest="x\\ny"} 0\n',
    'fulcrum_w{service="dns"} 1\n',
  ]);
  assert.deepEqual([...renderTable(families, [])], [], 'no rows, no families');
});

test('a scrape of a large table lets the event loop run between its slices', async () => {
  const rows: TableRow[] = Array.from({ length: 100_000 }, (_, i) => ({ labels: `dest="10.0.${i >> 8}.${i & 255}:80"`, id: i }));
  // The event loop's turns, as seen when the first and the last row's values are read.
  let turns = 0;
  let counting = true;
  const count = () => { if (counting) (turns++, setImmediate(count)); };
  const seen = { first: -1, last: -1 };
  const value = (r: TableRow) => {
    if (r.id === 0) seen.first = turns;
    if (r.id === rows.length - 1) seen.last = turns;
    return r.id;
  };
  const families: TableFamily<TableRow>[] = [{ name: 'fulcrum_d', help: 'D', type: 'gauge', series: [{ extra: '', value }] }];
  const server = await startMetricsServer({ registry: new Registry(), slices: [() => renderTable(families, rows)] }, '127.0.0.1:0');
  const { port } = server.address() as AddressInfo;
  try {
    setImmediate(count);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.equal(body.split('\n').filter((l) => l.startsWith('fulcrum_d{')).length, rows.length);
    assert.match(body, /^fulcrum_d\{dest="10\.0\.255\.255:80"\} 65535$/m);
    // The loop turns between any two slices (rendered at once, it would not turn at all).
    const slices = Math.ceil(rows.length / SLICE_ROWS);
    assert.ok(seen.last - seen.first >= slices - 1, `the event loop turned ${seen.last - seen.first} times while ${slices} slices were made`);
  } finally {
    counting = false;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

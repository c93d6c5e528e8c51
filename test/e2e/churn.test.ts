// SPDX-License-Identifier: Apache-2.0
//
// Config churn under traffic (issue #8): CHURN_RATE (1000) changes a
// second through the gRPC API for CHURN_SECONDS (10 here; 60 in `npm run
// soak`) while real kernel clients use the balancer in the sandbox
// topology. A keep-alive connection through `web`, whose dests the churn
// never touches, must lose nothing; the churned live services must keep
// answering short connections; the final listing must equal the model the
// churn kept; and `web`'s per-dest connection counts must sum to its own.
// A second part floods the API with concurrent readers and writers while
// an HTTP load runs, and checks the load and the process survive it.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { FulcrumApi } from '../../control/src/api/client';
import { METRICS_URL, Sandbox, WEB_SERVICE, WEB_VIP } from '../../control/src/demo/sandbox';
import { Churn, LIVE, liveVip } from './fixtures/churn';
import { output } from './fixtures/http-load';

const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const KEEPALIVE = path.resolve(__dirname, 'fixtures/keepalive.js');
const RATE = Number(process.env.CHURN_RATE ?? 1000);
const SECONDS = Number(process.env.CHURN_SECONDS ?? 10);
// What the test insists on. The target is RATE, reached on the 2-core
// test machine; a machine shared with other balancers' polling workers
// reaches less (see docs/api.md), so the floor is a fifth of it (a change
// that cost O(all services) in validation made 479/s here) and the rate
// reached is printed.
const MIN_RATE = Number(process.env.CHURN_MIN_RATE ?? RATE / 5);

let sb: Sandbox;
let api: FulcrumApi;

before(async () => {
  sb = await Sandbox.start({ tag: 'cload', servers: 3, services: WEB_SERVICE });
  api = new FulcrumApi(sb.socket);
});

after(async () => {
  api?.close();
  await sb?.stop();
});

async function load(vip: string, count: number, concurrency = 2): Promise<{ answers: Record<string, number>; errors: number }> {
  const r = await sb.client([process.execPath, HTTP_LOAD, `http://${vip}/`, String(count), String(concurrency)], 60_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

/** Short-connection loads against the live services, one after another, until stop() resolves. */
function probeLive(until: Promise<unknown>): Promise<{ runs: number; errors: number; answers: number }> {
  let done = false;
  void until.finally(() => (done = true));
  return (async () => {
    const total = { runs: 0, errors: 0, answers: 0 };
    for (let i = 0; !done; i++) {
      const r = await load(liveVip(i % LIVE.length), 10);
      total.runs++;
      total.errors += r.errors;
      total.answers += Object.values(r.answers).reduce((a, b) => a + b, 0);
    }
    return total;
  })();
}

async function stateFileWrites(): Promise<number> {
  const m = await sb.get(METRICS_URL);
  assert.ok(m.ok, m.body);
  const count = /^fulcrum_control_apply_stage_seconds_count\{stage="state_file"\} (\d+)$/m.exec(m.body);
  assert.ok(count, 'no state_file stage in /metrics');
  return Number(count[1]);
}

function keepAlive(seconds: number) {
  const child = sb.topo.spawn('client', [process.execPath, KEEPALIVE, `http://${WEB_VIP}/`, String(seconds)]);
  return output(child).then((text) => {
    const last = text.trim().split('\n').pop() as string;
    return (last.startsWith('{') ? JSON.parse(last) : { errors: -1, sockets: 0, answers: {} }) as { errors: number; sockets: number; answers: Record<string, number> };
  });
}

test(`${RATE} changes/s for ${SECONDS} s: nothing established lost, listings equal the model, counters add up`, { timeout: (SECONDS + 120) * 1000 }, async () => {
  const churn = new Churn(api);
  await churn.setup();
  await load(WEB_VIP, 6);
  const kept = keepAlive(SECONDS + 3);
  await new Promise((r) => setTimeout(r, 1000));
  const running = churn.run(RATE, SECONDS);
  const probes = probeLive(running);
  const result = await running;
  const live = await probes;
  const rate = result.changes / result.seconds;
  process.stdout.write(
    `# churn: ${result.changes} changes in ${result.seconds.toFixed(1)} s = ${rate.toFixed(0)}/s, answer p50 ${result.p50} ms p99 ${result.p99} ms; ` +
      `live services: ${live.runs} loads, ${live.answers} answers, ${live.errors} errors\n`,
  );
  assert.ok(rate >= MIN_RATE, `only ${rate.toFixed(0)} changes/s (want ${MIN_RATE})`);
  // Group commit: concurrent changes share their snapshot and their fsync.
  const saves = await stateFileWrites();
  process.stdout.write(`# churn: ${saves} state-file writes for ${result.changes + LIVE.length} changes\n`);
  assert.ok(saves <= (result.changes + LIVE.length) / 2, `${saves} state-file writes for ${result.changes} changes`);

  const k = await kept;
  assert.equal(k.errors, 0, JSON.stringify(k));
  assert.equal(k.sockets, 1, 'the keep-alive connection was replaced');
  assert.ok(Object.values(k.answers)[0] >= SECONDS * 5, JSON.stringify(k));
  assert.equal(live.errors, 0, JSON.stringify(live));
  assert.ok(live.runs >= 2, JSON.stringify(live));

  await churn.assertListingMatches(['web']);
  const stats = await api.call('GetStats', {});
  const web = stats.services.find((s) => s.name === 'web');
  assert.ok(web);
  const destConns = web.dests.reduce((a, d) => a + BigInt(d.counters?.conns ?? 0), 0n);
  assert.equal(destConns, BigInt(web.counters?.conns ?? -1), JSON.stringify(web));
  assert.equal(web.counters?.conns, '7', 'six short connections and one keep-alive');
  for (const name of LIVE) {
    const s = stats.services.find((x) => x.name === name);
    const sum = (s?.dests ?? []).reduce((a, d) => a + BigInt(d.counters?.conns ?? 0), 0n);
    // Removed dests take their counts with them: never more than the service's.
    assert.ok(sum <= BigInt(s?.counters?.conns ?? 0), JSON.stringify(s));
  }
});

const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 5);

/** One flooding client: reads and writes, `parallel` at a time, until `until`; counts answers by status code. */
async function flood(until: number, parallel: number, codes: Map<number, number>): Promise<void> {
  const client = new FulcrumApi(sb.socket, 30_000);
  const calls: (() => Promise<unknown>)[] = [
    () => client.call('ListServices', {}),
    () => client.call('GetStats', {}),
    () => client.call('GetDesiredState', {}),
    () => client.call('GetService', { name: 'nonesuch' }),
    () => client.call('Apply', { state: { services: [] }, dry_run: true }),
    () => client.call('CreateService', { service: { name: `f${Math.floor(Math.random() * 20)}`, protocol: 'PROTOCOL_TCP', vip: `10.0.4.${1 + Math.floor(Math.random() * 20)}`, port: 80 } }),
    () => client.call('DeleteService', { name: `f${Math.floor(Math.random() * 20)}` }),
  ];
  const worker = async () => {
    while (Date.now() < until) {
      const code = await calls[Math.floor(Math.random() * calls.length)]().then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  client.close();
}

test('the API flooded by concurrent readers and writers: traffic keeps flowing, bad requests get clear codes', { timeout: 120_000 }, async () => {
  const before = await load(WEB_VIP, 30, 3);
  assert.equal(before.errors, 0, JSON.stringify(before));
  const codes = new Map<number, number>();
  const until = Date.now() + FLOOD_SECONDS * 1000;
  const flooding = Promise.all(Array.from({ length: 8 }, () => flood(until, 4, codes)));
  const during = await load(WEB_VIP, 30, 3);
  await flooding;
  process.stdout.write(`# flood: answers by status code ${JSON.stringify(Object.fromEntries(codes))}; http load during it: ${JSON.stringify(during)}\n`);
  assert.equal(during.errors, 0, JSON.stringify(during));
  // Only the codes a user's mistake may get: OK, NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT.
  assert.deepEqual([...codes.keys()].filter((c) => ![0, 3, 5, 6].includes(c)), [], JSON.stringify(Object.fromEntries(codes)));
  assert.ok((codes.get(0) ?? 0) > 50, JSON.stringify(Object.fromEntries(codes)));

  // Oversized: above gRPC's 4 MiB limit the server refuses the message before any handler sees it.
  await assert.rejects(api.call('CreateService', { service: { name: 'x'.repeat(5 << 20), protocol: 'PROTOCOL_TCP', vip: '10.0.4.99', port: 80 } }), (err: { code: number; details: string }) => {
    assert.equal(err.code, 8, err.details); // RESOURCE_EXHAUSTED
    return true;
  });
  // Malformed: bytes that are no protobuf message.
  const garbage = await new Promise<{ code: number; details: string }>((resolve) => {
    api.client.makeUnaryRequest('/fulcrum.v1.Fulcrum/CreateService', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), (err) => resolve(err as never));
  });
  assert.equal(garbage.code, 13, garbage.details); // INTERNAL, from grpc-js's decoding, not from a handler
  assert.match(garbage.details, /deserializ/i);
  const after = await load(WEB_VIP, 10);
  assert.equal(after.errors, 0, JSON.stringify(after));
  assert.equal((await api.call('GetService', { name: 'web' })).service?.name, 'web');
});

// SPDX-License-Identifier: Apache-2.0
//
// Health checks against real kernel sockets on the loopback: each checker
// type, timeouts, the rise/fall state machine, and the manager's
// scheduling (no overlap, spread first checks, sync on config changes).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';

import type { HealthCheckConfig, HealthFailAction, ServiceConfig } from '../../control/src/config/schema';
import { parseConfig } from '../../control/src/config/load';
import { runCheck } from '../../control/src/health/check';
import { checkPlaces, openFileLimit, RESERVED_FILES } from '../../control/src/health/fd-limit';
import { CheckLimiter } from '../../control/src/health/limiter';
import { HealthManager } from '../../control/src/health/manager';
import { nextState, type HealthState } from '../../control/src/health/state';
import { events, type TimedEvent } from '../../control/src/events';

const LOCAL = '127.0.0.1';

function hc(over: Partial<HealthCheckConfig> & Pick<HealthCheckConfig, 'type'>): HealthCheckConfig {
  return { path: '/', expect_status: 200, interval: 200, timeout: 150, rise: 2, fall: 2, on_fail: 'inhibit', ...over };
}

function listen(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, LOCAL, () => resolve((server.address() as net.AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Holds the event loop (the control thread) for ms. */
function holdThread(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('checkers', () => {
  test('an answer in time passes though the control thread was held up past the timeout', async () => {
    const server = net.createServer((c) => c.destroy());
    const port = await listen(server);
    const silent = http.createServer(() => undefined);  // takes requests, never answers
    const silentPort = await listen(silent);
    try {
      // The check starts in one immediate and the thread is held in the
      // next: between them the connect is issued (next tick) and the
      // loopback handshake completes, with no poll for it before the
      // hold. The turn after the hold runs timers, with the timeout long
      // expired, before it reads the answer.
      const checkHeldUp = (target: { address: string; port: number }, config: HealthCheckConfig, ms: number) =>
        new Promise<Promise<unknown>>((resolve) => {
          let check: Promise<unknown>;
          setImmediate(() => (check = runCheck(target, config)));
          setImmediate(() => (holdThread(ms), resolve(check)));
        });
      assert.deepEqual(await (await checkHeldUp({ address: LOCAL, port }, hc({ type: 'tcp', timeout: 20 }), 150)),
        { ok: true, reason: 'connected' });
      // A dest that does not answer in time still times out.
      assert.deepEqual(await (await checkHeldUp({ address: LOCAL, port: silentPort }, hc({ type: 'http', timeout: 20 }), 50)),
        { ok: false, reason: 'timed out after 20 ms' });
    } finally {
      await close(server);
      await close(silent);
    }
  });

  test('tcp: a listening port is healthy, a closed one is refused', async () => {
    const server = net.createServer((c) => c.destroy());
    const port = await listen(server);
    try {
      assert.deepEqual(await runCheck({ address: LOCAL, port }, hc({ type: 'tcp' })), { ok: true, reason: 'connected' });
      const refused = await runCheck({ address: LOCAL, port: await closedPort() }, hc({ type: 'tcp' }));
      assert.deepEqual(refused, { ok: false, reason: 'connection refused' });
    } finally {
      await close(server);
    }
  });

  test('http: the expected status passes, another fails, a silent server times out', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/stream') {
        // A status, then a body that never ends: the check must not wait for it, nor trip on its abort.
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'.repeat(1000)), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(req.url === '/ok' ? 200 : 503);
      res.end();
    });
    const port = await listen(server);
    try {
      const t = { address: LOCAL, port };
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/ok' })), { ok: true, reason: 'HTTP 200' });
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/busy' })), { ok: false, reason: 'HTTP 503, expected 200' });
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/busy', expect_status: 503 })), { ok: true, reason: 'HTTP 503' });
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/stream' })), { ok: true, reason: 'HTTP 200' });
      await delay(50);
      const started = Date.now();
      const hung = await runCheck(t, hc({ type: 'http', path: '/hang', timeout: 200 }));
      const took = Date.now() - started;
      assert.deepEqual(hung, { ok: false, reason: 'timed out after 200 ms' });
      assert.ok(took >= 190 && took < 1000, `took ${took} ms`);
    } finally {
      await close(server);
    }
  });

  test('http: a server that does not speak HTTP fails the check', async () => {
    // resume(): read the client's end too, so the connection closes and the server can.
    const server = net.createServer((c) => c.resume().end('SSH-2.0-OpenSSH\r\n'));
    const port = await listen(server);
    try {
      const r = await runCheck({ address: LOCAL, port }, hc({ type: 'http' }));
      assert.deepEqual(r, { ok: false, reason: "not an HTTP response: 'SSH-2.0-OpenSSH'" });
    } finally {
      await close(server);
    }
  });

  test('http: the request as node:http sends it; the status line however it arrives', async () => {
    const seen: string[] = [];
    // Each path answers its own way, on a raw socket.
    const answers: Record<string, (c: net.Socket) => void> = {
      '/split': (c) => { c.write('HTT'); setTimeout(() => c.end('P/1.1 204 No Content\r\n\r\n'), 20); },
      '/http10': (c) => c.end('HTTP/1.0 200 OK\r\n\r\n'),
      '/bare': (c) => c.end('HTTP/1.1 200\r\n\r\n'),
      '/closed': (c) => c.end(),
      '/long': (c) => c.end('x'.repeat(3000)),
    };
    const server = net.createServer((c) => {
      let req = '';
      c.on('data', (d: Buffer) => {
        req += d.toString();
        if (!req.includes('\r\n\r\n')) return;
        seen.push(req);
        answers[req.split(' ')[1]](c);
      });
    });
    const port = await listen(server);
    try {
      const t = { address: LOCAL, port };
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/split', expect_status: 204 })), { ok: true, reason: 'HTTP 204' });
      assert.equal(seen[0], `GET /split HTTP/1.1\r\nHost: ${LOCAL}:${port}\r\nUser-Agent: fulcrum-health-check\r\nConnection: close\r\n\r\n`);
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/http10' })), { ok: true, reason: 'HTTP 200' });
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/bare' })), { ok: true, reason: 'HTTP 200' });
      assert.deepEqual(await runCheck(t, hc({ type: 'http', path: '/closed' })), { ok: false, reason: 'connection closed before an HTTP status line' });
      const long = await runCheck(t, hc({ type: 'http', path: '/long' }));
      assert.equal(long.ok, false);
      assert.match(long.reason, /^not an HTTP response: 'x{57}\.\.\.'$/);
    } finally {
      await close(server);
    }
  });

  test('https: a self-signed server answers the expected status', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-hc-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=dest'], { stdio: 'ignore' });
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      res.writeHead(req.url === '/health' ? 204 : 404);
      res.end();
    });
    const port = await listen(server);
    try {
      const t = { address: LOCAL, port };
      assert.deepEqual(await runCheck(t, hc({ type: 'https', path: '/health', expect_status: 204 })), { ok: true, reason: 'HTTP 204' });
      assert.equal((await runCheck(t, hc({ type: 'https', path: '/' }))).ok, false);
      // Plain HTTP against the TLS port is not a healthy answer.
      assert.equal((await runCheck(t, hc({ type: 'http', path: '/health', expect_status: 204 }))).ok, false);
    } finally {
      await close(server);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('udp: expected reply, wrong reply, port unreachable, silence without expect', async () => {
    const echo = dgram.createSocket('udp4');
    echo.on('message', (msg, from) => echo.send(msg.toString() === 'ping' ? 'pong' : 'what?', from.port, from.address));
    const silent = dgram.createSocket('udp4');
    await Promise.all([echo, silent].map((s) => new Promise<void>((resolve) => s.bind(0, LOCAL, () => resolve()))));
    try {
      const at = (s: dgram.Socket) => ({ address: LOCAL, port: s.address().port });
      assert.deepEqual(await runCheck(at(echo), hc({ type: 'udp', send: 'ping', expect: 'pong' })), { ok: true, reason: 'expected reply' });
      assert.deepEqual(await runCheck(at(echo), hc({ type: 'udp', send: 'hello', expect: 'pong' })), { ok: false, reason: "reply without 'pong'" });
      assert.deepEqual(await runCheck(at(silent), hc({ type: 'udp', send: 'ping', expect: 'pong' })), { ok: false, reason: 'timed out after 150 ms' });
      assert.deepEqual(await runCheck(at(silent), hc({ type: 'udp', send: 'ping' })), { ok: true, reason: 'no ICMP error' });
      const closed = { address: LOCAL, port: await closedPort() };
      assert.deepEqual(await runCheck(closed, hc({ type: 'udp', send: 'ping' })), { ok: false, reason: 'connection refused' });
    } finally {
      echo.close();
      silent.close();
    }
  });
});

test('source: checks of every type leave from the given address; from one the host lacks they cannot run', async () => {
  const seen: string[] = [];
  const tcp = net.createServer((c) => { seen.push(`tcp ${c.remoteAddress}`); c.destroy(); });
  const web = http.createServer((req, res) => { seen.push(`http ${req.socket.remoteAddress}`); res.end(); });
  const udp = dgram.createSocket('udp4');
  udp.on('message', (_msg, from) => { seen.push(`udp ${from.address}`); udp.send('pong', from.port, from.address); });
  const [tcpPort, webPort] = [await listen(tcp), await listen(web)];
  await new Promise<void>((resolve) => udp.bind(0, LOCAL, () => resolve()));
  try {
    // The whole of 127/8 is the loopback's: 127.0.0.2 is a local address that is not the default one.
    const source = '127.0.0.2';
    assert.equal((await runCheck({ address: LOCAL, port: tcpPort }, hc({ type: 'tcp', source }))).ok, true);
    assert.equal((await runCheck({ address: LOCAL, port: webPort }, hc({ type: 'http', source }))).ok, true);
    const udpCheck = hc({ type: 'udp', send: 'ping', expect: 'pong', source });
    assert.equal((await runCheck({ address: LOCAL, port: udp.address().port }, udpCheck)).ok, true);
    assert.deepEqual(seen, ['tcp 127.0.0.2', 'http 127.0.0.2', 'udp 127.0.0.2']);
    // 192.0.2.1 (TEST-NET-1) is on no host: the check cannot run, which says nothing of the dest.
    const reason = 'not checked: no source address or port to check from (EADDRNOTAVAIL)';
    const targets = { tcp: tcpPort, http: webPort, udp: udp.address().port };
    for (const [type, port] of Object.entries(targets)) {
      const foreign = await runCheck({ address: LOCAL, port }, hc({ type: type as HealthCheckConfig['type'], source: '192.0.2.1' }));
      assert.deepEqual(foreign, { ok: false, reason, inconclusive: true }, type);
    }
  } finally {
    await close(tcp);
    await close(web);
    udp.close();
  }
});

describe('check limiter', () => {
  test('at most max run at once, the rest wait their turn in order; a failed task gives its turn back', async () => {
    const limiter = new CheckLimiter(2);
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const task = (i: number, fail = false) => () =>
      new Promise<number>((resolve, reject) => {
        started.push(i);
        finish[i] = () => (fail ? reject(new Error(`task ${i}`)) : resolve(i));
      });
    const runs = [limiter.run(task(0, true)), limiter.run(task(1)), limiter.run(task(2)), limiter.run(task(3))];
    await delay(0);
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [2, 2]);
    finish[0]();
    await assert.rejects(runs[0], /task 0/);
    await delay(0);
    assert.deepEqual(started, [0, 1, 2]);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [2, 1]);
    finish[2]();
    finish[1]();
    assert.deepEqual(await Promise.all(runs.slice(1, 3)), [1, 2]);
    await delay(0);
    assert.deepEqual(started, [0, 1, 2, 3]);
    finish[3]();
    assert.equal(await runs[3], 3);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [0, 0]);
  });
});

describe('check limiter, groups', () => {
  test('waiters of one group start in order, groups with waiters take turns', async () => {
    // One place: a dead service (a) asked first for many checks, then b and c for one each.
    const limiter = new CheckLimiter(1);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const run = (name: string, group: string) =>
      limiter.run(() => new Promise<void>((resolve) => {
        started.push(name);
        finish.set(name, resolve);
      }), () => false, group);
    const runs = [run('a0', 'a'), run('a1', 'a'), run('a2', 'a'), run('a3', 'a'), run('b1', 'b'), run('c1', 'c')];
    assert.deepEqual([limiter.inFlight, limiter.waiting], [1, 5]);
    for (let i = 0; i < 5; i++) {
      await delay(0);
      (finish.get(started[started.length - 1]) as () => void)();
    }
    await delay(0);
    (finish.get(started[started.length - 1]) as () => void)();
    await Promise.all(runs);
    // First come first served would have been a0 a1 a2 a3 b1 c1: b and c behind every check of a.
    assert.deepEqual(started, ['a0', 'a1', 'b1', 'c1', 'a2', 'a3']);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [0, 0]);
  });
});

describe('check limiter, cancelled', () => {
  test('a waiter cancelled by its turn gives up its place without running or taking a start', async () => {
    const limiter = new CheckLimiter(1);
    let finishA = () => undefined as void;
    const ran: string[] = [];
    const a = limiter.run(() => new Promise<string>((resolve) => { ran.push('a'); finishA = () => resolve('a'); }));
    let stopped = false;
    const b = limiter.run(async () => { ran.push('b'); return 'b'; }, () => stopped);
    const c = limiter.run(async () => { ran.push('c'); return 'c'; });
    assert.deepEqual([limiter.inFlight, limiter.waiting], [1, 2]);
    stopped = true;
    finishA();
    assert.deepEqual(await Promise.all([a, b, c]), ['a', undefined, 'c']);
    assert.deepEqual(ran, ['a', 'c']);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [0, 0]);
  });
});

describe('check limiter, per turn', () => {
  test('at most perTurn start in one turn of the event loop; the next turns start the rest', async () => {
    const limiter = new CheckLimiter(100, 2);
    let started = 0;
    const release: (() => void)[] = [];
    const runs = Array.from({ length: 5 }, () => limiter.run(() => new Promise<void>((resolve) => {
      started++;
      release.push(resolve);
    })));
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    assert.equal(started, 2);
    await nextTurn();
    assert.equal(started, 4);
    await nextTurn();
    assert.equal(started, 5);
    assert.deepEqual([limiter.inFlight, limiter.waiting], [5, 0]);
    release.forEach((r) => r());
    await Promise.all(runs);
    assert.equal(limiter.inFlight, 0);
  });
});

describe('rise and fall', () => {
  test('fall consecutive failures take a dest down, rise successes bring it back, a contrary result resets', () => {
    const run = (start: HealthState, results: boolean[]) => results.map((ok) => (start = nextState(start, ok, 2, 3)).healthy);
    const up = { healthy: true, streak: 0 };
    assert.deepEqual(run(up, [false, false, true, false, false, false]), [true, true, true, true, true, false]);
    const down = { healthy: false, streak: 0 };
    assert.deepEqual(run(down, [true, false, true, true, true]), [false, false, false, true, true]);
  });
});

interface Call {
  dest: string;
  available: boolean;
  action: HealthFailAction;
}

/** A manager recording what it asks of the dataplane. */
function recordingManager(): { manager: HealthManager; calls: Call[]; lines: string[] } {
  const calls: Call[] = [];
  const lines: string[] = [];
  const manager = new HealthManager(
    (_service, dest, available, action) => calls.push({ dest: `${dest.address}:${dest.port}`, available, action }),
    (line) => lines.push(line),
  );
  return { manager, calls, lines };
}

const MINIMAL = 'dataplane:\n  lcores: "0-1"\n  ports: [{ name: wan, device: net_null0, address: 10.0.0.2/24 }]\n';

function services(check: string, ports: number[], destCheck = ''): ServiceConfig[] {
  const dests = ports.map((p, i) => `      - { address: 10.0.1.11, port: ${p}${i === 0 ? destCheck : ''} }`).join('\n');
  const text = `${MINIMAL}services:\n  - name: web\n    protocol: tcp\n    vip: 10.0.0.100\n    port: 80\n` +
    (check ? `    health_check: ${check}\n` : '') + `    dests:\n${dests}\n`;
  // Validation refuses loopback dests; the checks here go to servers on the loopback.
  return parseConfig(text, 'hc.yaml').services.map((s) => ({ ...s, dests: s.dests.map((d) => ({ ...d, address: LOCAL })) }));
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > ms) assert.fail(`${what} not within ${ms} ms`);
    await delay(10);
  }
  return Date.now() - started;
}

describe('health manager', () => {
  const managers: HealthManager[] = [];
  after(() => managers.forEach((m) => m.stop()));

  test('a stopped server goes down after fall checks and comes back after rise; events published', async () => {
    const { manager, calls, lines } = recordingManager();
    managers.push(manager);
    const seen: TimedEvent[] = [];
    const unsubscribe = events.subscribe((e) => seen.push(e));
    let server = net.createServer((c) => c.destroy());
    const port = await listen(server);
    const dest = `${LOCAL}:${port}`;
    manager.sync(services('{ type: tcp, interval: 100ms, timeout: 50ms, rise: 2, fall: 3, on_fail: remove }', [port]));
    await delay(250);
    assert.deepEqual(calls, [], 'a healthy dest is left alone');
    await close(server);
    const downIn = await waitFor('down', () => calls.length === 1, 1000);
    assert.deepEqual(calls[0], { dest, available: false, action: 'remove' });
    // Three failed checks 100 ms apart: at least 200 ms after the first one.
    assert.ok(downIn >= 150 && downIn <= 1300, `down after ${downIn} ms`);
    assert.match(lines[0], new RegExp(`web ${dest} down, removed \\(connection refused\\)`));
    server = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(port, LOCAL, () => resolve()));
    await waitFor('up', () => calls.length === 2, 1000);
    assert.deepEqual(calls[1], { dest, available: true, action: 'remove' });
    const states = manager.states();
    assert.equal(states[0].healthy, true);
    assert.ok(states[0].failures >= 3 && states[0].successes >= 4, JSON.stringify(states));
    unsubscribe();
    const health = seen.map((e) => e.event).filter((e) => e.kind === 'health' && e.dest === dest);
    assert.deepEqual(health.map((e) => e.kind === 'health' && e.healthy), [false, true]);
    manager.stop();
    await close(server);
  });

  test('checks of one dest never overlap, and first checks are spread over the interval', async (t) => {
    const { manager } = recordingManager();
    managers.push(manager);
    let open = 0;
    let most = 0;
    const arrivals: number[] = [];
    const firstByPath = new Map<string, number>();
    const server = http.createServer((req, res) => {
      arrivals.push(Date.now());
      if (!firstByPath.has(req.url ?? '')) firstByPath.set(req.url ?? '', Date.now());
      most = Math.max(most, ++open);
      setTimeout(() => { open--; res.end(); }, 180);
    });
    const port = await listen(server);
    t.after(() => close(server));
    // Four services on one server, told apart by the path they check.
    const svcs = [0, 1, 2, 3].map((i) => ({ ...services(`{ type: http, path: /s${i}, interval: 400ms, timeout: 300ms }`, [port])[0], name: `s${i}` }));
    const started = Date.now();
    manager.sync(svcs);
    await delay(700);
    const first = [0, 1, 2, 3].map((i) => (firstByPath.get(`/s${i}`) ?? Infinity) - started);
    // 0, 100, 200, 300 ms: the lower bounds are the spread (unspread, all four
    // would come at once; timers are late, never early); the upper ones allow a loaded machine.
    first.forEach((t, i) => assert.ok(t >= i * 100 - 5 && t < i * 100 + 300, `check ${i} at ${t} ms: ${JSON.stringify(first)}`));
    manager.stop();
    await delay(250); // the checks in flight finish
    arrivals.length = 0;
    most = 0;
    const { manager: single } = recordingManager();
    managers.push(single);
    // A check slower than the interval (beyond what validation allows): the next must wait for it.
    const slow = services('{ type: http, interval: 100ms, timeout: 100ms }', [port]);
    (slow[0].health_check as HealthCheckConfig).timeout = 300;
    single.sync(slow);
    await delay(700);
    single.stop();
    assert.equal(most, 1, 'two checks of one dest overlapped');
    assert.ok(arrivals.length >= 2 && arrivals.length <= 4, `${arrivals.length} checks of 180 ms in 700 ms`);
  });

  test('checks of all dests together run at most max_in_flight at once', async (t) => {
    const manager = new HealthManager(() => undefined, () => undefined, new CheckLimiter(2));
    managers.push(manager);
    let open = 0;
    let most = 0;
    let answered = 0;
    const server = http.createServer((_req, res) => {
      most = Math.max(most, ++open);
      setTimeout(() => { open--; answered++; res.end(); }, 50);
    });
    const port = await listen(server);
    t.after(() => close(server));
    // Six services on one server, each dest checked every 100 ms: six at once unlimited.
    manager.sync([0, 1, 2, 3, 4, 5].map((i) => ({ ...services(`{ type: http, path: /s${i}, interval: 100ms, timeout: 90ms }`, [port])[0], name: `s${i}` })));
    await delay(600);
    manager.stop();
    assert.equal(most, 2, 'more checks at once than max_in_flight');
    assert.ok(answered >= 10, `${answered} checks in 600 ms`);
    assert.ok(manager.states().every((s) => s.healthy));
  });

  test('a check the host cannot run (out of file descriptors) is inconclusive: no count, no verdict, one log line', () => {
    // A child with 64 file descriptors uses them all, then checks a server it listened on before.
    const script = `
      const fs = require('fs'), net = require('net');
      const { HealthManager } = require(${JSON.stringify(require.resolve('../../control/src/health/manager'))});
      const server = net.createServer((c) => c.destroy());
      server.listen(0, '127.0.0.1', () => {
        const calls = [], lines = [];
        const m = new HealthManager((s, d, available) => calls.push(available), (l) => lines.push(l));
        const hc = { type: 'tcp', interval: 100, timeout: 50, rise: 1, fall: 1, on_fail: 'inhibit' };
        const dest = { address: '127.0.0.1', port: server.address().port, weight: 1, upper: 0, lower: 0 };
        const fds = [];
        try { for (;;) fds.push(fs.openSync('/dev/null', 'r')); } catch {}
        m.sync([{ name: 'web', dests: [dest], health_check: hc }]);
        setTimeout(() => {
          const states = m.states();
          m.stop();
          console.log(JSON.stringify({ calls, lines, states }));
          process.exit(0);
        }, 500);
      });`;
    const out = execFileSync('prlimit', ['--nofile=64:64', process.execPath, '-e', script], { encoding: 'utf8' });
    const { calls, lines, states } = JSON.parse(out) as { calls: boolean[]; lines: string[]; states: { healthy: boolean; reason: string; successes: number; failures: number }[] };
    assert.deepEqual(calls, [], 'the dest was judged by a check that never ran');
    assert.equal(states.length, 1);
    assert.deepEqual({ ...states[0], reason: '' }, { ...states[0], reason: '', healthy: true, successes: 0, failures: 0 });
    assert.match(states[0].reason, /^not checked: too many open files \(EMFILE\)$/);
    assert.deepEqual(lines, ['fulcrum: health: checks cannot run (not checked: too many open files (EMFILE)); verdicts are kept until they can']);
  });

  test('sync: a changed check keeps the verdict with the new action; a removed check restores the dest', async () => {
    const { manager, calls } = recordingManager();
    managers.push(manager);
    const port = await closedPort();
    const dest = `${LOCAL}:${port}`;
    manager.sync(services('{ type: tcp, interval: 100ms, timeout: 50ms, fall: 1 }', [port]));
    await waitFor('down', () => calls.length === 1, 1000);
    assert.deepEqual(calls[0], { dest, available: false, action: 'inhibit' });
    // The dest's own check replaces the service's: still down, now removed.
    manager.sync(services('{ type: tcp, interval: 100ms, timeout: 50ms, fall: 1 }', [port], ', health_check: { type: tcp, interval: 1s, on_fail: remove }'));
    assert.deepEqual(calls[1], { dest, available: false, action: 'remove' });
    assert.equal(manager.states()[0].healthy, false);
    manager.sync(services('', [port]));
    assert.deepEqual(calls[2], { dest, available: true, action: 'remove' });
    assert.deepEqual(manager.states(), []);
    manager.stop();
  });

  test('sync: the same config objects keep their checks; a removed service stops its checks and restores nothing', async () => {
    const { manager, calls } = recordingManager();
    managers.push(manager);
    const port = await closedPort();
    const svcs = services('{ type: tcp, interval: 100ms, timeout: 50ms, fall: 1 }', [port]);
    manager.sync(svcs);
    await waitFor('down', () => calls.length === 1, 1000);
    await waitFor('a second check', () => manager.states()[0].failures >= 2, 1000);
    const failures = manager.states()[0].failures;
    manager.sync([...svcs]);  // another list, the same objects
    assert.ok(manager.states()[0].failures >= failures, 'the check was not restarted');
    assert.equal(calls.length, 1);
    manager.sync([]);
    assert.deepEqual(manager.states(), []);
    await delay(300);
    assert.equal(calls.length, 1, 'a removed service is not put back in the dataplane');
    manager.stop();
  });

  test('sync: a removed service checks no more', async (t) => {
    const { manager } = recordingManager();
    managers.push(manager);
    let accepted = 0;
    const server = net.createServer((c) => {
      accepted++;
      c.destroy();
    });
    const port = await listen(server);
    t.after(() => close(server));
    manager.sync(services('{ type: tcp, interval: 100ms, timeout: 50ms }', [port]));
    await waitFor('two checks', () => accepted >= 2, 1000);
    // Replaced by a service of another name, without checks: a list as long as before.
    manager.sync([{ ...services('', [port])[0], name: 'other' }]);
    assert.deepEqual(manager.states(), []);
    const at = accepted;
    await delay(400);
    assert.ok(accepted <= at + 1, `${accepted - at} checks after the service was removed`);
    manager.stop();
  });
});

test('checks in flight are bounded by the open-file limit', () => {
  // The limit as the kernel reports it for a process started under prlimit.
  const limits = execFileSync('prlimit', ['--nofile=300:300', 'cat', '/proc/self/limits'], { encoding: 'utf8' });
  assert.equal(openFileLimit(limits), 300);
  assert.equal(openFileLimit('Max open files            unlimited            unlimited            files\n'), undefined);
  assert.equal(openFileLimit(''), undefined);
  // Room for every place asked: no note.
  assert.deepEqual(checkPlaces(1024, 65_536), { places: 1024 });
  assert.deepEqual(checkPlaces(1024, undefined), { places: 1024 });
  assert.deepEqual(checkPlaces(1024, 1024 + RESERVED_FILES), { places: 1024 });
  // Too few files: the limit minus the reserve, and a line naming both numbers.
  const low = checkPlaces(1024, 300);
  assert.equal(low.places, 300 - RESERVED_FILES);
  assert.match(low.note ?? '', /max_in_flight 1024 is more than the open-file limit \(300, 256 kept [^)]*\) allows: at most 44 checks run at once; raise the limit/);
  assert.equal(checkPlaces(1024, 100).places, 1);
});

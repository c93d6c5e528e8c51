// SPDX-License-Identifier: Apache-2.0
//
// End-to-end tests of the network-namespace topology helper. Needs root.
// Every address used lives inside namespaces these tests create; the root
// namespace's interfaces and routes are never touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Topology, isAlive, sweepStaleNamespaces } from '../../control/src/netns/topology';
import { run, runSync } from '../../control/src/netns/run';

const FIXTURE = path.join(__dirname, 'fixtures', 'topology-child.js');
const TOPOLOGY_JS = path.join(__dirname, '..', '..', 'control', 'src', 'netns', 'topology.js');

function listNamespaces(): string[] {
  return runSync('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter(Boolean);
}

function nsPids(real: string): number[] {
  return runSync('ip', ['netns', 'pids', real]).stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Last-resort cleanup in finally blocks, for names a failed test may have left. */
function forceRemove(names: string[]): void {
  for (const name of names) {
    for (const pid of nsPids(name)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    runSync('ip', ['netns', 'del', name]);
  }
}

function twoNamespaceSpec(tag: string, bAddress = '10.77.0.2/24') {
  return {
    tag,
    namespaces: ['a', 'b'],
    links: [{
      a: { ns: 'a', ifname: 'veth-a', address: '10.77.0.1/24', mac: '02:00:00:77:00:01' },
      b: { ns: 'b', ifname: 'veth-b', address: bAddress, mac: '02:00:00:77:00:02' },
    }],
  };
}

function readFirstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let errBuf = '';
    const timer = setTimeout(() => reject(new Error(`no output from fixture within ${timeoutMs} ms; stderr: ${errBuf}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => { errBuf += d.toString(); });
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(buf.slice(0, nl)); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`fixture exited (${code}) early; stderr: ${errBuf}`)); });
  });
}

function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Starts the fixture and returns it with the real namespace names it created. */
async function startFixture(tag: string): Promise<{ child: ChildProcess; names: string[] }> {
  const child = spawn(process.execPath, [FIXTURE, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const { namespaces } = JSON.parse(await readFirstLine(child, 15_000)) as { namespaces: string[] };
    return { child, names: namespaces };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

test('two namespaces: ping, offloads off, exec input, destroy removes everything', { timeout: 30_000 }, async () => {
  const topo = await Topology.create(twoNamespaceSpec('ping'));
  const names = ['a', 'b'].map((n) => topo.nsName(n));
  try {
    assert.ok(names.every((n) => listNamespaces().includes(n)));
    const ping = await topo.exec('a', ['ping', '-c', '2', '-W', '1', '10.77.0.2'], { timeoutMs: 8_000 });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    const k = await topo.exec('b', ['ethtool', '-k', 'veth-b']);
    assert.equal(k.code, 0, k.stderr);
    for (const feature of ['rx-checksumming', 'tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload']) {
      assert.match(k.stdout, new RegExp(`^${feature}: off`, 'm'), `${feature} should be off`);
    }
    const link = await topo.exec('a', ['ip', 'link', 'show', 'veth-a']);
    assert.match(link.stdout, /02:00:00:77:00:01/);
    const reuse = await topo.exec('b', ['sysctl', '-n', 'net.ipv4.tcp_tw_reuse']);
    assert.equal(reuse.stdout.trim(), '1');
    const cat = await topo.exec('a', ['cat'], { input: 'hello' });
    assert.equal(cat.stdout, 'hello');

    // A tracked long-running child must not survive destroy().
    const sleeper = topo.spawn('a', ['sleep', '60'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(sleeper.pid !== undefined && isAlive(sleeper.pid));
    await topo.destroy();
    assert.ok(sleeper.exitCode !== null || sleeper.signalCode !== null, 'spawned child should have exited');
    await topo.destroy(); // idempotent
    const left = listNamespaces();
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
  } finally {
    await topo.destroy().catch(() => undefined);
    forceRemove(names.filter((n) => listNamespaces().includes(n)));
  }
});

test('a failure midway through create leaves no namespace behind', { timeout: 20_000 }, async () => {
  const prefix = `fl${process.pid}-`;
  const before = listNamespaces().filter((n) => n.startsWith(prefix));
  try {
    await assert.rejects(Topology.create(twoNamespaceSpec('bad', '10.77.0.300/24')), (err: Error) => {
      assert.match(err.message, /ip -n \S+ addr add 10\.77\.0\.300\/24 dev veth-b/);
      assert.match(err.message, /exited with/);
      return true;
    });
    const after = listNamespaces().filter((n) => n.startsWith(prefix));
    assert.deepEqual(after, before);
  } finally {
    forceRemove(listNamespaces().filter((n) => n.startsWith(prefix) && n.includes('-bad-')));
  }
});

test('a child process killed with SIGTERM removes its own namespaces', { timeout: 30_000 }, async () => {
  const { child, names } = await startFixture('term');
  try {
    assert.equal(names.length, 2);
    assert.ok(names.every((n) => listNamespaces().includes(n)));
    const sleepers = nsPids(names[1]!);
    assert.ok(sleepers.length > 0, 'fixture should have a process inside namespace b');
    child.kill('SIGTERM');
    const { code, signal } = await waitExit(child);
    assert.equal(signal, null);
    assert.equal(code, 143);
    const left = listNamespaces();
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
    assert.ok(sleepers.every((pid) => !isAlive(pid)), 'processes inside the namespaces should be gone');
  } finally {
    child.kill('SIGKILL');
    forceRemove(names.filter((n) => listNamespaces().includes(n)));
  }
});

test('a child killed with SIGKILL leaves namespaces that the next sweep removes', { timeout: 30_000 }, async () => {
  const { child, names } = await startFixture('kill');
  try {
    const sleepers = nsPids(names[1]!);
    child.kill('SIGKILL');
    assert.equal((await waitExit(child)).signal, 'SIGKILL');
    assert.ok(names.every((n) => listNamespaces().includes(n)), 'SIGKILL cannot clean up');
    const removed = sweepStaleNamespaces();
    for (const n of names) assert.ok(removed.includes(n), `${n} should have been swept`);
    const left = listNamespaces();
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
    await new Promise((r) => setTimeout(r, 100)); // SIGKILL delivery is asynchronous (zombies count as dead)
    assert.ok(sleepers.every((pid) => !isAlive(pid)), 'orphans inside swept namespaces should be killed');
  } finally {
    child.kill('SIGKILL');
    forceRemove(names.filter((n) => listNamespaces().includes(n)));
  }
});

test('exec kills a command that outlives its timeout', { timeout: 20_000 }, async () => {
  const topo = await Topology.create({ tag: 'tmo', namespaces: ['a'], links: [] });
  try {
    const started = Date.now();
    const r = await topo.exec('a', ['sleep', '30'], { timeoutMs: 500 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
    assert.equal(r.timedOut, true);
    assert.equal(r.code, null);
    assert.equal(r.signal, 'SIGKILL');
    assert.deepEqual(nsPids(topo.nsName('a')), [], 'nothing should be left running in the namespace');
  } finally {
    await topo.destroy();
  }
});

test('without root, create fails with a clear message', { timeout: 15_000 }, async () => {
  // uid 65534 (nobody) can read the compiled module but is not root.
  const script = `require(${JSON.stringify(TOPOLOGY_JS)}).Topology.create({namespaces:['a'],links:[]})` +
    `.then(() => process.exit(0), (e) => { console.error(e.message); process.exit(7); })`;
  const child = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    const { code } = await waitExit(child);
    assert.equal(code, 7, stderr);
    assert.match(stderr, /need root/);
  } finally {
    child.kill('SIGKILL');
  }
});

// Start failures (as opposed to non-zero exits) must reject, naming the command.
test('run reports a missing program as a rejection naming the command', { timeout: 5_000 }, async () => {
  await assert.rejects(run('/nonexistent/fulcrum-no-such-binary', ['--x']), /nonexistent\/fulcrum-no-such-binary --x/);
});

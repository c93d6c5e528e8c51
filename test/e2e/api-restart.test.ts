// SPDX-License-Identifier: Apache-2.0
//
// The state file across restarts: a restart restores exactly the last
// accepted desired state (it wins over the config file's services), a
// socket left by a killed process is reclaimed, a running one is not
// taken over, and an unusable state file stops the start with a message
// naming it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { status, type ServiceError } from '@grpc/grpc-js';

import { FulcrumApi } from '../../control/src/api/client';
import { journalFile } from '../../control/src/state/journal';
import { Balancer } from './fixtures/balancer';

const BIN = path.resolve(__dirname, '../../../bin/fulcrum.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-restart-'));
const service = (name: string, vip: string) => `  - name: ${name}
    protocol: tcp
    vip: ${vip}
    port: 80
    dests:
      - { address: 10.0.1.11, port: 80 }`;

let running: Balancer | undefined;
after(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function withApi<T>(b: Balancer, fn: (api: FulcrumApi) => Promise<T>): Promise<T> {
  const api = new FulcrumApi(b.socket);
  try {
    return await fn(api);
  } finally {
    api.close();
  }
}

function startFails(): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'start', '--config', Balancer.configFile(dir)], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

let lastState: unknown;

test('a restart restores exactly the last accepted state, over the config file', { timeout: 90_000 }, async () => {
  // Twenty more services: the state file is large beside a record, so the
  // changes after the first (a process's first save is whole) are journal records.
  const pad = Array.from({ length: 20 }, (_, i) => service(`pad${i}`, `10.0.2.${i + 1}`));
  running = await Balancer.start(dir, { services: [service('web', '10.0.0.100'), ...pad].join('\n') });
  lastState = await withApi(running, async (api) => {
    await api.call('CreateDest', { service: 'web', dest: { address: '10.0.1.12', port: 80, weight: 7 } });
    await api.call('CreateService', { service: { name: 'dns', protocol: 'PROTOCOL_UDP', vip: '10.0.0.53', port: 53, scheduler: 'SCHEDULER_SH' } });
    await api.call('UpdateService', { service: { name: 'web', persistence: { timeout: { seconds: 300 }, netmask: '255.255.255.0' } }, update_mask: { paths: ['persistence'] } });
    return api.call('GetDesiredState', {});
  });
  // An open event stream is ended cleanly by the shutdown, not cut.
  const watcher = new FulcrumApi(running.socket);
  const stream = watcher.client.WatchEvents({});
  const ended = new Promise<string>((resolve) => {
    stream.on('data', () => undefined);
    stream.on('end', () => resolve('end'));
    stream.on('error', (err: ServiceError) => resolve(`error ${status[err.code]}`));
  });
  await new Promise((r) => setTimeout(r, 200));
  const journal = journalFile(running.stateFile);
  assert.equal(readFileSync(journal, 'utf8').split('\n').length, 4, 'the header, two records and the last newline');
  assert.equal(await running.stop(), 0);
  // The stop folded the journal into the state file, which alone is the state now.
  assert.equal(existsSync(journal), false, 'a clean stop left the journal');
  assert.equal((JSON.parse(readFileSync(running.stateFile, 'utf8')) as { generation: number }).generation, 3);
  assert.equal(await ended, 'end');
  watcher.close();
  assert.equal(existsSync(running.socket), false, 'the socket outlived a clean stop');

  // The config file now says something else; the state file wins.
  running = await Balancer.start(dir, { services: service('other', '10.0.0.200') });
  assert.match(running.log, /22 service\(s\), 0 snat rule\(s\) from state file .*state\.json, generation 3/);
  assert.deepEqual(await withApi(running, (api) => api.call('GetDesiredState', {})), lastState);
});

test('a socket left by a killed process is reclaimed; a served one is not taken over', { timeout: 90_000 }, async () => {
  const second = startFails();
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, /cannot listen on .*fulcrum\.sock: another process is serving on it \(is fulcrum already running\?\)/);

  running?.child.kill('SIGKILL');
  await running?.stop();
  assert.equal(existsSync((running as Balancer).socket), true);
  running = await Balancer.start(dir, { keepConfig: true });
  assert.deepEqual(await withApi(running, (api) => api.call('GetDesiredState', {})), lastState);
  await running.stop();
  running = undefined;
});

test('an unusable state file stops the start, naming the file and the problem', { timeout: 90_000 }, () => {
  const file = path.join(dir, 'state.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.slice(0, 40));
  const torn = startFails();
  assert.equal(torn.status, 1);
  assert.match(torn.stderr, /^fulcrum: state file .*state\.json: not valid JSON: .* \(fix it, or delete it to start from the config file's services\)$/m);

  writeFileSync(file, good.replace('"weight":7', '"weight":70000'));
  const invalid = startFails();
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /state file .*state\.json: services\[0\]\.dests\[1\]\.weight: must be from 0 to 65535, got 70000/);
  assert.doesNotMatch(torn.stderr + invalid.stderr, /\n\s+at /, 'stack trace printed');
});

test('without the state file the config file services come back', { timeout: 90_000 }, async () => {
  rmSync(path.join(dir, 'state.json'));
  running = await Balancer.start(dir, { keepConfig: true });
  const { state, generation } = await withApi(running, (api) => api.call('GetDesiredState', {}));
  assert.deepEqual(state?.services.map((s) => s.name), ['other']);
  assert.equal(generation, '0');
});

test('a state file that cannot be written refuses the change and rolls the dataplane back', { timeout: 30_000 }, async () => {
  const b = running as Balancer;
  // A directory where the file should be: the rename over it fails.
  mkdirSync(b.stateFile);
  await withApi(b, async (api) => {
    await assert.rejects(api.call('CreateDest', { service: 'other', dest: { address: '10.0.1.12', port: 80 } }), (err: ServiceError) => {
      assert.equal(err.code, status.UNAVAILABLE);
      assert.match(err.details, /^cannot write state file .*state\.json: /);
      return true;
    });
    const { state, generation } = await api.call('GetDesiredState', {});
    assert.equal(generation, '0');
    assert.deepEqual(state?.services[0].dests.map((d) => d.address), ['10.0.1.11']);
    // The dataplane runs the old state again: its statistics rows list one dest.
    const stats = await api.call('GetStats', {});
    assert.deepEqual(stats.services[0].dests.map((d) => d.address), ['10.0.1.11']);
  });
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'a temporary file was left');
  rmSync(b.stateFile, { recursive: true });
});

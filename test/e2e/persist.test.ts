// SPDX-License-Identifier: Apache-2.0
//
// Persistence end to end: with an rr service that would otherwise rotate,
// a persistent service keeps a client (its address under the netmask) on
// one dest. Once with one worker, once with two on one CPU: persistence
// templates are per worker, so with two the balancer must steer each
// client to one worker (engine/steer.hpp), or each worker's rr (which
// starts at a different dest) would give the client a dest of its own.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Sandbox, parseCounterTable } from '../../control/src/demo/sandbox';

const HTTP_LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const SERVICES = `
  - name: sticky
    protocol: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: rr
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    dests:
      - { address: 10.0.1.11, port: 80 }
      - { address: 10.0.1.12, port: 80 }
      - { address: 10.0.1.13, port: 80 }
  - name: group
    protocol: tcp
    vip: 10.0.0.102
    port: 80
    endpoints: [{ port: 8080 }]
    scheduler: rr
    persistence: { timeout: 300 }
    dests:
      - { address: 10.0.1.11, port: 80 }
      - { address: 10.0.1.12, port: 80 }
      - { address: 10.0.1.13, port: 80 }
  - name: rotating
    protocol: tcp
    vip: 10.0.0.101
    port: 80
    scheduler: rr
    dests:
      - { address: 10.0.1.11, port: 80 }
      - { address: 10.0.1.12, port: 80 }
      - { address: 10.0.1.13, port: 80 }`;

let sb: Sandbox;

function load(vip: string, count: number, source: string): Promise<Record<string, number>> {
  return loadUrl(`http://${vip}/`, count, source);
}

async function loadUrl(url: string, count: number, source: string): Promise<Record<string, number>> {
  const r = await sb.client([process.execPath, HTTP_LOAD, url, String(count), '1', source], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
  assert.equal(out.errors, 0);
  return out.answers;
}

function suite(tag: string, lcores: string, workers: number): void {
  before(async () => {
    sb = await Sandbox.start({ tag, lcores, servers: 3, services: SERVICES });
    await sb.client(['ip', 'addr', 'add', '10.0.0.7/24', 'dev', 'eth0']);
  });

  after(async () => {
    await sb?.stop();
  });

  test('without persistence rr rotates over the three dests', { timeout: 60_000 }, async () => {
    assert.deepEqual(await load('10.0.0.101', 30, '10.0.0.1'), { s1: 10, s2: 10, s3: 10 });
  });

  test('50 connections from one client all go to one dest', { timeout: 60_000 }, async () => {
    const answers = await load('10.0.0.100', 50, '10.0.0.1');
    assert.equal(Object.keys(answers).length, 1, JSON.stringify(answers));
    assert.equal(Object.values(answers)[0], 50);
  });

  test('two clients of one /24 share the dest (netmask 255.255.255.0)', { timeout: 60_000 }, async () => {
    const first = await load('10.0.0.100', 10, '10.0.0.1');
    const second = await load('10.0.0.100', 10, '10.0.0.7');
    assert.deepEqual(Object.keys(first), Object.keys(second));
    assert.equal(Object.keys(second).length, 1);
  });

  test('a service group keeps a client on one dest across its endpoints (HTTP on 80 and 8080)', { timeout: 60_000 }, async () => {
    const on80 = await load('10.0.0.102', 10, '10.0.0.1');
    const on8080 = await loadUrl('http://10.0.0.102:8080/', 10, '10.0.0.1');
    assert.equal(Object.keys(on80).length, 1, JSON.stringify(on80));
    assert.deepEqual(on8080, on80);
  });

  test('the template is listed with the dest it binds to', { timeout: 20_000 }, async () => {
    const status = await sb.status();
    // ipvsadm -L -c shows a template as state NONE with client port 0.
    assert.match(status, /TCP\s+\d\d:\d\d\s+NONE\s+10\.0\.0\.0:0\s+10\.0\.0\.100:80\s+10\.0\.1\.1[123]:80/);
  });

  if (workers > 1) {
    test('one worker made every connection; the other handed its packets over', { timeout: 20_000 }, async () => {
      const { workers: rows } = parseCounterTable(await sb.status());
      const makers = rows.filter((c) => (c.conns_created ?? 0n) > 0n);
      assert.equal(makers.length, 1, 'connections were made on both workers');
      assert.ok(rows.some((c) => (c.redirected_out ?? 0n) > 0n), 'nothing was steered');
    });
  }
}

describe('one worker', () => suite('persist1', '0-1', 1));
describe('two workers on one CPU', () => suite('persist2', '0@0,1-2@1', 2));

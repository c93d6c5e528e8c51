// SPDX-License-Identifier: Apache-2.0
//
// FULLNAT end to end, with two workers on one CPU (EAL lcore@cpu) and
// af_packet ports: the real servers have no route to the client at all and
// see the balancer's local addresses as their peers. Replies to a local
// port another worker owns are handed to it over the redirect rings. The
// client's address reaches the servers by TOA (checked in a capture at a
// server) and by PROXY protocol v2 (read by nginx, which logs it). Large
// transfers both ways through PROXY v2 check the sequence translation.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { CLIENT_ADDRESS, METRICS_URL, Sandbox, parseCounterTable } from '../../control/src/demo/sandbox';
import { readTcpSegments, tcpOptions } from './fixtures/pcap';

const LOAD = path.resolve(__dirname, '../../control/src/demo/http-load.js');
const FETCH = path.resolve(__dirname, 'fixtures/fetch.js');
const VIP = '10.0.0.100';
const PP_VIP = '10.0.0.101';
const LADDRS = ['10.0.1.50', '10.0.1.51'];
const PP_LADDR = '10.0.1.52';
const SERVICES = `
  - name: web
    protocol: tcp
    vip: ${VIP}
    port: 80
    scheduler: wrr
    forward: fullnat
    local_addresses: [${LADDRS.join(', ')}]
    dests:
      - { address: 10.0.1.11, port: 80, weight: 3 }
      - { address: 10.0.1.12, port: 80, weight: 2 }
      - { address: 10.0.1.13, port: 80, weight: 1 }
  - name: pp
    protocol: tcp
    vip: ${PP_VIP}
    port: 80
    scheduler: rr
    forward: fullnat
    local_addresses: [${PP_LADDR}]
    client_address: proxy_v2
    dests:
      - { address: 10.0.1.11, port: 8080 }`;

let sb: Sandbox;
let www: string;

// nginx in s1 on 8080 expecting the PROXY protocol: it logs the client
// address it reads there, serves files and takes uploads (WebDAV PUT).
function nginxConfig(dir: string): string {
  return `
daemon off;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  log_format pp '$proxy_protocol_addr:$proxy_protocol_port $remote_addr $request';
  access_log ${dir}/access.log pp;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 8080 proxy_protocol;
    root ${dir}/www;
    client_max_body_size 64m;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}`;
}

before(async () => {
  sb = await Sandbox.start({ tag: 'fnat', lcores: '0@0,1-2@1', servers: 3, serverMode: 'fullnat', services: SERVICES });
  www = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-nginx-'));
  writeFileSync(path.join(www, 'nginx.conf'), nginxConfig(www));
  await sb.topo.exec('s1', ['mkdir', '-p', path.join(www, 'www')]);
  writeFileSync(path.join(www, 'www', 'hello'), 'hello through proxy v2\n');
  const nginx = sb.topo.spawn('s1', ['nginx', '-c', path.join(www, 'nginx.conf')]);
  nginx.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  await waitFor(async () => (await sb.topo.exec('s1', ['ss', '-Hltn', 'sport = :8080'])).stdout.includes('8080'), 10_000);
});

after(async () => {
  await sb?.stop();
  if (www) rmSync(www, { recursive: true, force: true });
});

async function waitFor(ok: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function load(url: string, count: number, concurrency: number) {
  const r = await sb.client([process.execPath, LOAD, url, String(count), String(concurrency)], 150_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { answers: Record<string, number>; errors: number };
}

test('1000 HTTP connections through FULLNAT on two workers all succeed', { timeout: 180_000 }, async () => {
  const { answers, errors } = await load(`http://${VIP}/`, 1000, 8);
  assert.equal(errors, 0, JSON.stringify(answers));
  assert.equal((answers.s1 ?? 0) + (answers.s2 ?? 0) + (answers.s3 ?? 0), 1000, JSON.stringify(answers));
  assert.ok(answers.s1 > answers.s2 && answers.s2 > answers.s3, `wrr 3:2:1: ${JSON.stringify(answers)}`);
  // The log says how replies are steered, and what the NICs would offer.
  assert.match(sb.log, /reply steering: software, between 2 workers \(wan: flow rules [^;]+; lan: flow rules [^)]+\)/);
  const { workers, total } = parseCounterTable(await sb.status());
  assert.equal(workers.length, 2);
  for (const [w, c] of workers.entries()) assert.ok(c.conns_created > 0n, `worker ${w} created no connection`);
  // Replies to the other worker's ports were handed over, and arrived.
  // (Counters are read one worker after the other: a packet may be in flight.)
  const [out, in_] = [total.redirected_out ?? 0n, total.redirected_in ?? 0n];
  assert.ok(out > 0n, 'no reply was redirected');
  assert.ok(in_ <= out && out - in_ <= 4n, `redirected out ${out}, in ${in_}`);
  assert.equal(total.drop_redirect_full ?? 0n, 0n);
  assert.equal(total.drop_laddr_exhausted ?? 0n, 0n);
});

test('the servers see only local addresses as peers, never the client', { timeout: 20_000 }, async () => {
  const peers = new Set<string>();
  for (const ns of ['s1', 's2', 's3']) {
    const ss = await sb.topo.exec(ns, ['ss', '-Htan', 'exclude', 'listening', 'sport', '=', ':80']);
    // The servers listen on ::, so peers show as [::ffff:a.b.c.d]:port.
    for (const line of ss.stdout.trim().split('\n').filter(Boolean)) {
      peers.add(/(\d+\.\d+\.\d+\.\d+)\]?:\d+$/.exec(line.trim())?.[1] ?? line);
    }
  }
  assert.ok(peers.size > 0, 'the servers have no connections left to look at');
  for (const p of peers) assert.ok(LADDRS.includes(p), `peer ${p} is not a local address`);
});

test('the status shows both local addresses with ports per worker and connections with their local port', { timeout: 20_000 }, async () => {
  const status = await sb.status();
  assert.match(status, /-> 10\.0\.1\.11:80\s+FullNat\s+3/);
  for (const laddr of LADDRS) {
    const rows = status.split('\n').filter((l) => l.trim().startsWith(`${laddr} `));
    assert.equal(rows.length, 2, `one row per worker for ${laddr}:\n${status}`);
    // 64511 ports, split between two workers by parity.
    const capacities = rows.map((r) => Number(r.trim().split(/\s+/)[3])).sort();
    assert.deepEqual(capacities, [32255, 32256]);
  }
  assert.match(status, /10\.0\.0\.1:\d+\s+10\.0\.0\.100:80\s+10\.0\.1\.1[123]:80\s+10\.0\.1\.5[01]:\d+/);
});

test('TOA carries the client address and port to the server', { timeout: 30_000 }, async () => {
  const file = path.join(www, 'toa.pcap');
  const dump = sb.topo.spawn('s2', ['tcpdump', '--immediate-mode', '-Z', 'root', '-i', 'eth0', '-U', '-n', '-w', file, 'tcp dst port 80']);
  let dumpErr = '';
  dump.stderr?.on('data', (d: Buffer) => (dumpErr += d.toString()));
  await new Promise((r) => setTimeout(r, 1000));
  const { errors } = await load(`http://${VIP}/`, 12, 1);
  assert.equal(errors, 0);
  await new Promise((r) => setTimeout(r, 500));
  dump.kill('SIGINT');
  await new Promise((r) => dump.once('exit', r));
  const segs = readTcpSegments(file);
  assert.ok(segs.length > 0, `nothing captured: ${dumpErr}`);
  const withToa = segs.filter((s) => tcpOptions(s.options).some(([k]) => k === 254));
  assert.ok(withToa.length > 0, 'no segment carried TOA');
  for (const s of withToa) {
    assert.ok(LADDRS.includes(s.saddr), `TOA segment from ${s.saddr}`);
    const [, value] = tcpOptions(s.options).find(([k]) => k === 254) as [number, Buffer];
    assert.equal(value.length, 6);
    assert.equal([...value.subarray(2)].join('.'), CLIENT_ADDRESS);
    assert.ok(value.readUInt16BE(0) >= 1024, `client port ${value.readUInt16BE(0)}`);
  }
  // On the handshake's ACK (no payload) and on the first data segment.
  assert.ok(withToa.some((s) => s.payload.length === 0) && withToa.some((s) => s.payload.length > 0));
  const c = await sb.counters();
  assert.ok(c.toa_added >= BigInt(withToa.length));
  assert.equal(c.toa_no_room ?? 0n, 0n);
});

test('nginx reads the client address from the PROXY v2 header', { timeout: 30_000 }, async () => {
  const { answers, errors } = await load(`http://${PP_VIP}/hello`, 5, 1);
  assert.equal(errors, 0);
  assert.deepEqual(answers, { 'hello through proxy v2': 5 });
  const log = readFileSync(path.join(www, 'access.log'), 'utf8').trim().split('\n');
  const hellos = log.filter((l) => l.includes('GET /hello'));
  assert.equal(hellos.length, 5, log.join('\n'));
  for (const l of hellos) assert.match(l, new RegExp(`^${CLIENT_ADDRESS.replace(/\./g, '\\.')}:\\d+ ${PP_LADDR.replace(/\./g, '\\.')} GET /hello`));
});

test('8 MB up and down through PROXY v2 arrive intact (sequence translation)', { timeout: 60_000 }, async () => {
  const size = 8 * 1024 * 1024;
  const up = await sb.client([process.execPath, FETCH, `http://${PP_VIP}/big.bin`, String(size)], 50_000);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const put = JSON.parse(up.stdout) as { status: number; uploadSha256: string };
  assert.ok(put.status === 201 || put.status === 204, `PUT answered ${put.status}`);
  const stored = createHash('sha256').update(readFileSync(path.join(www, 'www', 'big.bin'))).digest('hex');
  assert.equal(stored, put.uploadSha256, 'the file nginx stored differs from what the client sent');
  const down = await sb.client([process.execPath, FETCH, `http://${PP_VIP}/big.bin`], 50_000);
  assert.equal(down.code, 0, down.stdout + down.stderr);
  const got = JSON.parse(down.stdout) as { status: number; bytes: number; sha256: string };
  assert.equal(got.status, 200);
  assert.equal(got.bytes, size);
  assert.equal(got.sha256, stored);
  const c = await sb.counters();
  assert.equal(c.proxy_v2_no_room ?? 0n, 0n);
  assert.ok((c.proxy_v2_added ?? 0n) >= 7n);
});

test('/metrics exports each local address port pool per worker', { timeout: 20_000 }, async () => {
  const r = await sb.get(METRICS_URL);
  assert.ok(r.ok, r.body);
  for (const laddr of LADDRS) {
    const caps = [...r.body.matchAll(new RegExp(`^fulcrum_laddr_ports_capacity\\{laddr="${laddr.replace(/\./g, '\\.')}",lcore="\\d"\\} (\\d+)$`, 'gm'))]
      .map((m) => Number(m[1]))
      .sort();
    assert.deepEqual(caps, [32255, 32256], `${laddr}:\n${r.body.split('\n').filter((l) => l.includes('laddr')).join('\n')}`);
  }
  assert.match(r.body, /^fulcrum_laddr_ports_used\{laddr="10\.0\.1\.5[01]",lcore="\d"\} [1-9]\d*$/m);
  assert.match(r.body, /^fulcrum_laddr_exhausted_total\{laddr="10\.0\.1\.50",lcore="\d"\} 0$/m);
});

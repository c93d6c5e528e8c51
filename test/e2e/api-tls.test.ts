// SPDX-License-Identifier: Apache-2.0
//
// The API's TCP listener: TLS with client certificates checked against
// control.grpc.tls.client_ca. A client with a certificate from that CA
// is served; one without a certificate, one with a certificate from
// another CA, and a plaintext client are refused.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import * as grpc from '@grpc/grpc-js';

import type { FulcrumClient } from '../../control/src/api/gen/fulcrum/v1/Fulcrum';
import { fulcrumProto } from '../../control/src/api/proto';
import { Balancer } from './fixtures/balancer';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-tls-'));
const file = (name: string) => path.join(dir, name);
const PORT = 19651;
let lb: Balancer;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, and a key and certificate it signs for `cn` (with the SAN given). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`));
}

function makeCert(ca: string, name: string, san: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
}

before(async () => {
  makeCa('ca');
  makeCa('other-ca');
  makeCert('ca', 'server', 'IP:127.0.0.1');
  makeCert('ca', 'client', 'DNS:operator');
  makeCert('other-ca', 'stranger', 'DNS:stranger');
  lb = await Balancer.start(file('lb'), {
    grpc: [`    listen: 127.0.0.1:${PORT}`, '    tls:', `      cert: ${file('server.crt')}`, `      key: ${file('server.key')}`, `      client_ca: ${file('ca.crt')}`],
  });
});

after(async () => {
  await lb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function listServices(creds: grpc.ChannelCredentials): Promise<string[]> {
  const Ctor = fulcrumProto().grpc.fulcrum.v1.Fulcrum;
  const client: FulcrumClient = new Ctor(`127.0.0.1:${PORT}`, creds);
  return new Promise<string[]>((resolve, reject) => {
    client.ListServices({}, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve((res?.services ?? []).map((s) => s.name))));
  }).finally(() => client.close());
}

const tls = (cert?: string) =>
  grpc.credentials.createSsl(
    readFileSync(file('ca.crt')),
    cert === undefined ? null : readFileSync(file(`${cert}.key`)),
    cert === undefined ? null : readFileSync(file(`${cert}.crt`)),
  );

test('the log names both listeners', () => {
  assert.match(lb.log, new RegExp(`api on unix:.*fulcrum\\.sock and 127\\.0\\.0\\.1:${PORT} \\(tls\\)`));
});

test('a client with a certificate from client_ca is served', { timeout: 20_000 }, async () => {
  assert.deepEqual(await listServices(tls('client')), []);
});

test('no client certificate, a foreign one, or plaintext: refused', { timeout: 30_000 }, async () => {
  const refused = (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE;
  await assert.rejects(listServices(tls()), refused);
  await assert.rejects(listServices(tls('stranger')), refused);
  await assert.rejects(listServices(grpc.credentials.createInsecure()), refused);
});

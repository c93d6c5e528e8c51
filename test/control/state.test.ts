// SPDX-License-Identifier: Apache-2.0
//
// The desired state's forms and files without a balancer: what the store
// saves (the input form) and what the API sends (messages) turn back into
// exactly the validated services, so a restart or a round trip through
// the API changes nothing; the state file is replaced atomically, and a
// staged one only on commit; the diff names objects and fields.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { serviceIn, serviceOut } from '../../control/src/api/convert';
import type { Service__Output } from '../../control/src/api/gen/fulcrum/v1/Service';
import { desiredInput, validateDesired } from '../../control/src/state/desired';
import { changeText, diffDesired } from '../../control/src/state/diff';
import { loadAddon } from '../../control/src/dataplane/addon';
import { StateError } from '../../control/src/state/errors';
import { readStateFile, stageStateFile, StateFileError, writeStateFile } from '../../control/src/state/file';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fulcrum-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Every kind of field: durations, optional mappings, per-type health keys.
const RICH = {
  services: [
    {
      name: 'web',
      protocol: 'tcp',
      vip: '10.0.0.100',
      port: 80,
      scheduler: 'mh',
      persistence: { timeout: 300, netmask: '255.255.255.0' },
      local_addresses: ['10.0.1.50'],
      health_check: { type: 'http', path: '/healthz', interval: '1500ms', timeout: '1s', rise: 3 },
      timeouts: { tcp: '15m', udp: '45s' },
      endpoints: [{ port: 443 }, { protocol: 'udp', vip: '10.0.0.101', port: 53 }],
      mh: { table_size: 251, hash_port: true },
      lblc: { expire: '2h' },
      dests: [
        { address: '10.0.1.11', port: 8080, weight: 0, forward: 'dr' },
        { address: '10.0.1.12', port: 8080, upper: 100, lower: 50,
          health_check: { type: 'tcp', port: 8081, source: '10.0.1.2', on_fail: 'remove' } },
      ],
    },
    { name: 'dns', protocol: 'udp', vip: '10.0.0.53', port: 53, health_check: { type: 'udp', send: 'ping', expect: 'pong' } },
    { name: 'ssh', protocol: 'tcp', vip: '10.0.0.22', port: 22, health_check: { type: 'tcp' } },
  ],
  snat: [{ name: 'out', source: '10.0.1.0/24', out_port: 'wan', local_addresses: ['10.0.0.9'] }],
};
const PORTS = ['wan', 'lan'];

test('the input form the store saves validates back to the same state', () => {
  const validated = validateDesired(RICH, PORTS);
  const input = desiredInput(validated);
  assert.deepEqual(validateDesired(input, PORTS), validated);
  // No undefined value at any depth (the strict deep-equal sees the keys JSON drops).
  assert.deepEqual(input, JSON.parse(JSON.stringify(input)));
});

test('a service sent as a message and received back is the same service', () => {
  const validated = validateDesired(RICH, PORTS);
  for (const svc of validated.services) {
    // What the wire delivers: the message with every default present.
    const message = JSON.parse(JSON.stringify(serviceOut(svc))) as Service__Output;
    message.dests.forEach((d) => (d.weight ??= 1));
    const back = validateDesired({ services: [serviceIn(message)] }, PORTS).services[0];
    assert.deepEqual(back, svc, svc.name);
  }
});

test('the state file is replaced atomically and read back; no temporary file is left', async () => {
  const file = path.join(dir, 'sub', 'state.json');
  const desired = validateDesired(RICH, PORTS);
  await writeStateFile(file, { generation: 7, desired });
  await writeStateFile(file, { generation: 8, desired });
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
  // One service per line, between the header and the snat rules.
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const snatLines = desired.snat.length === 0 ? 1 : desired.snat.length + 2;
  assert.equal(lines.length, 2 + desired.services.length + 1 + snatLines + 1);
  assert.equal(lines.at(-1), '}');
  assert.match(lines[0], /^\{"format":"fulcrum-state","version":1,"generation":8,$/);
  assert.equal(JSON.parse(lines[2].replace(/,$/, '')).name, desired.services[0].name);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readStateFile(file, PORTS), { generation: 8, desired });
  assert.equal(readStateFile(path.join(dir, 'none.json'), PORTS), undefined);
});

test('an unusable state file is an error naming the file and the problem', () => {
  const file = path.join(dir, 'bad.json');
  const cases: [string, RegExp][] = [
    ['{"format":', /not valid JSON/],
    ['{"format":"other","version":1}', /not a fulcrum-state version 1 document/],
    ['{"format":"fulcrum-state","version":1,"generation":-1}', /generation is not a whole number/],
    ['{"format":"fulcrum-state","version":1,"generation":1,"services":[{"name":"x"}]}', /services\[0\]\.protocol: is required/],
  ];
  for (const [text, problem] of cases) {
    writeFileSync(file, text);
    assert.throws(() => readStateFile(file, PORTS), (err: Error) => {
      assert.ok(err instanceof StateFileError);
      assert.match(err.message, new RegExp(`^state file ${file.replace(/[.]/g, '\\.')}: `));
      assert.match(err.message, problem);
      return true;
    });
  }
});

test('the diff names each object and field that changed', () => {
  const before = desiredInput(validateDesired(RICH, PORTS));
  const next = structuredClone(RICH) as { services: Record<string, unknown>[]; snat: unknown[] };
  const web = next.services[0] as (typeof RICH.services)[0] & { dests: object[] };
  web.dests[1] = { ...web.dests[1], weight: 4 } as never;
  web.local_addresses = ['10.0.1.51'];
  (web.health_check as Record<string, unknown>).interval = '2s';
  next.services.splice(1, 1);
  next.snat = [];
  const lines = diffDesired(before, desiredInput(validateDesired(next, PORTS))).map(changeText);
  assert.deepEqual(lines, [
    '- service dns',
    '~ service web: health_check: {"type":"http","path":"/healthz","expect_status":200,"interval":"1500ms","timeout":"1s","rise":3,"fall":3,"on_fail":"inhibit"} -> {"type":"http","path":"/healthz","expect_status":200,"interval":"2s","timeout":"1s","rise":3,"fall":3,"on_fail":"inhibit"}',
    '~ service web dest 10.0.1.12:8080: weight: 1 -> 4',
    '- service web laddr 10.0.1.50',
    '+ service web laddr 10.0.1.51',
    '- snat rule out',
  ]);
});

test('the addon writes every part in order, more parts than one write takes, over a longer file', async () => {
  const fresh = path.join(dir, 'fresh.bin');
  await loadAddon().writeFileDurable(fresh, []);
  assert.equal(statSync(fresh).mode & 0o777, 0o600);
  assert.equal(readFileSync(fresh, 'utf8'), '');
  const file = path.join(dir, 'parts.bin');
  writeFileSync(file, 'x'.repeat(100_000));
  const pool = Buffer.from('0123456789');
  // 3,000 parts (writev takes 1,024 at a time): empty ones, and slices of one buffer.
  const parts = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? Buffer.alloc(0) : pool.subarray(i % 10, (i % 10) + (i % 3))));
  await loadAddon().writeFileDurable(file, parts);
  assert.equal(readFileSync(file, 'utf8'), Buffer.concat(parts).toString());
  assert.ok(Object.isFrozen(parts), 'the list the job held cannot have changed under it');
  // With append: after what the file holds; a new file is created (0600).
  await loadAddon().writeFileDurable(file, [Buffer.from('AB'), Buffer.from('C')], true);
  assert.equal(readFileSync(file, 'utf8'), `${Buffer.concat(parts).toString()}ABC`);
  const appended = path.join(dir, 'appended.bin');
  await loadAddon().writeFileDurable(appended, [Buffer.from('one\n')], true);
  await loadAddon().writeFileDurable(appended, [Buffer.from('two\n')], true);
  assert.equal(readFileSync(appended, 'utf8'), 'one\ntwo\n');
  assert.equal(statSync(appended).mode & 0o777, 0o600);
});

test('a file the addon cannot write is an error naming the step and the file', async () => {
  const file = path.join(dir, 'none', 'x.bin');
  await assert.rejects(loadAddon().writeFileDurable(file, [Buffer.from('a')]), { message: `open ${file}: No such file or directory` });
  assert.throws(() => loadAddon().writeFileDurable(file, ['a' as unknown as Uint8Array]), {
    name: 'TypeError',
    message: 'writeFileDurable: part 0 is not a Uint8Array',
  });
  assert.throws(() => loadAddon().writeFileDurable(file, [], 'yes' as unknown as boolean), {
    name: 'TypeError',
    message: 'writeFileDurable(path: string, parts: Uint8Array[], append?: boolean)',
  });
});

test('a staged state becomes the state file on commit, and leaves no trace when discarded', async () => {
  const file = path.join(dir, 'staged', 'state.json');
  const desired = validateDesired(RICH, PORTS);
  await writeStateFile(file, { generation: 7, desired });
  const dropped = stageStateFile(file, { generation: 8, desired });
  assert.equal(readStateFile(file, PORTS)?.generation, 7, 'staged, not yet the state file');
  await dropped.discard();
  assert.equal(readStateFile(file, PORTS)?.generation, 7);
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
  await stageStateFile(file, { generation: 9, desired }).commit();
  assert.equal(readStateFile(file, PORTS)?.generation, 9);
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
});

test('a state that cannot be staged fails its commit, naming the file', async () => {
  writeFileSync(path.join(dir, 'plain'), '');
  const file = path.join(dir, 'plain', 'state.json');  // its directory is a file
  const staged = stageStateFile(file, { generation: 1, desired: validateDesired(RICH, PORTS) });
  await assert.rejects(staged.commit(), (err: Error) => {
    assert.ok(err instanceof StateError);
    assert.match(err.message, new RegExp(`^cannot write state file ${file.replace(/[.]/g, '\\.')}: .*mkdir`));
    return true;
  });
});

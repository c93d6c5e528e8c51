// SPDX-License-Identifier: Apache-2.0
//
// The files in deploy/: example configs validate, the systemd unit passes
// systemd-analyze, and the dashboard uses only documented metrics. (The
// dashboard's queries are evaluated by a real Prometheus in
// test/e2e/metrics.test.ts.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { parseConfig } from '../../control/src/config/load';

const ROOT = path.resolve(__dirname, '../../..');
const DEPLOY = path.join(ROOT, 'deploy');

test('every example config is valid', () => {
  const files = [path.join(DEPLOY, 'fulcrum.example.yaml'),
    ...fs.readdirSync(path.join(DEPLOY, 'examples')).map((f) => path.join(DEPLOY, 'examples', f))];
  assert.ok(files.length >= 3);
  for (const file of files) {
    // The interfaces and files named need not exist on this machine.
    const cfg = parseConfig(fs.readFileSync(file, 'utf8'), file, { cpuCount: 2, interfaceExists: () => true, fileExists: () => true });
    assert.ok(cfg.services.length > 0, file);
  }
});

test('the systemd unit verifies without warnings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-unit-'));
  try {
    const unit = path.join(dir, 'fulcrum.service');
    fs.copyFileSync(path.join(DEPLOY, 'fulcrum.service'), unit);
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.error, undefined, 'systemd-analyze (Debian package systemd) is needed');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', r.stderr);
    const text = fs.readFileSync(unit, 'utf8');
    assert.match(text, /^ExecStart=.* start --config /m);
    assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Grafana dashboard queries only metrics documented in docs/metrics.md', () => {
  const dash = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana', 'fulcrum.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const docs = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/fulcrum_[a-z0-9_]+/g) ?? [])));
  assert.ok(used.size >= 10, [...used].join(' '));
  for (const name of used) assert.ok(docs.includes(`\`${name}\``) || docs.includes(name), `${name} is not in docs/metrics.md`);
});

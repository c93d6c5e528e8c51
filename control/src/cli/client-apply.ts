// SPDX-License-Identifier: Apache-2.0
//
// `fulcrum apply -f FILE [--dry-run]`: the services and snat rules of a
// YAML file (a whole config file, or one with only those keys) become
// the running desired state; the difference is printed, one line per
// change. The file is checked here first, so its mistakes are reported
// against the file before anything is sent.

import { readFileSync } from 'node:fs';

import YAML from 'yaml';

import type { FulcrumApi } from '../api/client';
import { desiredOut } from '../api/convert';
import { validateDesired } from '../state/desired';
import { StateError } from '../state/errors';
import { json as toJson } from './client-read';
import { RemoteError } from './remote';

export async function applyFile(api: FulcrumApi, file: string, dryRun: boolean, json: boolean): Promise<string> {
  const state = desiredOut(readDesired(file));
  const r = await api.call('Apply', { state, dry_run: dryRun });
  if (json) return toJson(r);
  const lines = r.changes.map((c) => c.text);
  if (lines.length === 0) lines.push('no changes');
  else if (dryRun) lines.push(`dry run: ${r.changes.length} change(s) not applied`);
  else lines.push(`applied ${r.changes.length} change(s): generation ${r.generation}`);
  return lines.join('\n');
}

function readDesired(file: string) {
  let doc: Record<string, unknown>;
  try {
    doc = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new RemoteError(`${file}: ${(err as Error).message}`);
  }
  const ports = (doc.dataplane as { ports?: { name?: unknown }[] } | undefined)?.ports;
  // Without the file's ports, out_port is checked by the balancer against its own.
  const snat = Array.isArray(doc.snat) ? (doc.snat as { out_port?: unknown }[]) : [];
  const portNames = Array.isArray(ports) ? ports.map((p) => String(p.name)) : snat.map((r) => String(r.out_port));
  try {
    return validateDesired({ services: doc.services ?? [], snat: doc.snat ?? [] }, portNames);
  } catch (err) {
    if (err instanceof StateError) throw new RemoteError(`${file}: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('\n  ')}`);
    throw err;
  }
}

// SPDX-License-Identifier: Apache-2.0
//
// The unix socket the API listens on: its directory is created, a socket
// left behind by a process that died is removed, but one that a running
// process still answers on is never taken over.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const PROBE_TIMEOUT_MS = 1000;

/** Makes `file` free to bind; throws naming the problem. */
export async function prepareSocketPath(file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`cannot listen on ${file}: it exists and is not a socket`);
  if (await answers(file)) throw new Error(`cannot listen on ${file}: another process is serving on it (is fulcrum already running?)`);
  fs.unlinkSync(file);
}

function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
  });
}

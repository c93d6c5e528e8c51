// SPDX-License-Identifier: Apache-2.0
//
// The one place where the netns helpers start short-lived commands.
//
// Built on child_process.spawn rather than execFile because execFile's
// timeout only signals the direct child: a command such as `sh -c 'a | b'`
// would leave its grandchildren running (and, inside a namespace, keep the
// namespace alive after `ip netns del`). Every command therefore gets its own
// process group, and a timeout kills the whole group.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Output beyond this many bytes per stream is dropped (keeps memory bounded). */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface RunOptions {
  /** Kill the command's process group after this long (default 10 s). */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the command was killed because it exceeded timeoutMs. */
  timedOut: boolean;
}

/** Commands started by run() that have not finished, for exit-time cleanup. */
const inFlight = new Set<ChildProcess>();

/** Shell-like rendering of a command line, for error messages only. */
export function formatCommand(file: string, args: readonly string[]): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [file, ...args].map(quote).join(' ');
}

/** Signals a child's whole process group; tolerates it being gone already. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone (ESRCH) or the child was not a group leader:
    // fall back to the child itself.
    try { child.kill(signal); } catch { /* already exited */ }
  }
}

/** Bounded collection of a stream's output. */
function collect(stream: NodeJS.ReadableStream | null): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (size >= MAX_OUTPUT_BYTES) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs a command to completion. Resolves whatever the exit status (callers
 * decide what failure means); rejects only if the command cannot be started.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { detached: true, stdio: 'pipe' });
    inFlight.add(child);
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
      // A grandchild that escaped the group could hold the pipes open;
      // closing our ends guarantees 'close' fires.
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, timeoutMs);
    const finish = (): void => { clearTimeout(timer); inFlight.delete(child); };
    child.once('error', (err) => {
      finish();
      reject(new Error(`cannot run \`${formatCommand(file, args)}\`: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      finish();
      resolve({ code, signal, stdout: stdout(), stderr: stderr(), timedOut });
    });
    // EPIPE when the command exits without reading its input is not an error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** An `ip`/`ethtool`/... invocation that did not succeed. */
export class CommandError extends Error {
  constructor(readonly command: string, readonly result: RunResult) {
    const how = result.timedOut ? 'timed out' : result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
    const detail = result.stderr.trim() || result.stdout.trim() || '(no output)';
    super(`\`${command}\` ${how}: ${detail}`);
    this.name = 'CommandError';
  }
}

/** run(), but any non-zero exit, signal or timeout becomes a CommandError. */
export async function runChecked(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, opts);
  if (result.code !== 0) throw new CommandError(formatCommand(file, args), result);
  return result;
}

/**
 * Synchronous variant for 'exit' handlers, where the event loop no longer
 * runs. Never throws: exit-time cleanup is best effort.
 */
export function runSync(file: string, args: readonly string[], timeoutMs = 5_000): { code: number | null; stdout: string } {
  const r = spawnSync(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.error ? null : r.status, stdout: r.stdout ?? '' };
}

/** Kills every command run() is still waiting for (exit-time cleanup). */
export function killInFlightSync(): void {
  for (const child of inFlight) killGroup(child, 'SIGKILL');
  inFlight.clear();
}

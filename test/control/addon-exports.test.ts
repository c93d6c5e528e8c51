// SPDX-License-Identifier: Apache-2.0
//
// The addon exports its N-API entry points and nothing of the dataplane.
// A dataplane function of default visibility in a shared object can be
// interposed, so its callers reach it through the PLT and link-time
// optimization inlines none of them: built that way, the shipped
// dataplane forwarded 0.86 x what the benchmark harness (an executable)
// measures (bench/RESULTS.md, 2026-12-07 (evening)). CMakeLists.txt
// builds it with hidden visibility; this checks the binary it made.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { ADDON_PATH } from '../../control/src/dataplane/addon';

/** The names of the functions and data the addon's dynamic symbol table defines. */
function exported(): string[] {
  const out = execFileSync('nm', ['--dynamic', '--defined-only', ADDON_PATH], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split(' ').pop() as string);
}

test('the addon exports its N-API entry points', () => {
  assert.ok(exported().includes('napi_register_module_v1'), 'napi_register_module_v1 is not exported');
});

test('the addon exports no symbol of the fulcrum namespace', () => {
  // Mangled names of fulcrum:: entities, or templates over them, hold "7fulcrum".
  const ours = exported().filter((s) => s.includes('7fulcrum'));
  assert.deepEqual(ours, [], `exported, so called through the PLT and never inlined: ${ours.slice(0, 5).join(', ')}`);
});

test('no call inside the addon goes through the PLT to a function of its own', () => {
  const asm = execFileSync('objdump', ['--disassemble', '--no-show-raw-insn', ADDON_PATH], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const calls = asm.split('\n').filter((l) => /\bcall\b.*<[^>]*7fulcrum[^>]*@plt>/.test(l));
  assert.deepEqual(calls.slice(0, 5), []);
});

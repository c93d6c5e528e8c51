// SPDX-License-Identifier: Apache-2.0
//
// Reading and validating a config file. Every failure becomes a
// ConfigError listing all problems found, each naming the field (or file
// position) and what is wrong, so an operator fixes the file in one go.

import * as fs from 'node:fs';
import YAML, { type YAMLError } from 'yaml';
import type { z } from 'zod';
import { systemEnv, type ValidationEnv } from './env';
import { show } from './leaves';
import { configSchema, type FulcrumConfig } from './schema';

export type { ValidationEnv } from './env';
export { systemEnv } from './env';

export interface ConfigProblem {
  /** Field path like "dataplane.ports[0].address", "FILE:LINE:COL" for YAML syntax, "" for the whole file. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    /** The file (or other source) the config came from. */
    readonly source: string,
  ) {
    super(problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Parses and validates config text; `source` names it in messages. */
export function parseConfig(text: string, source: string, env: ValidationEnv = systemEnv()): FulcrumConfig {
  return validateConfig(parseYaml(text, source), source, env);
}

export function loadConfigFile(path: string, env: ValidationEnv = systemEnv()): FulcrumConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config ${path}: ${(err as Error).message}` }], path);
  }
  return parseConfig(text, path, env);
}

/** Validates an already-parsed document (e.g. JSON from the API). */
export function validateConfig(raw: unknown, source: string, env: ValidationEnv = systemEnv()): FulcrumConfig {
  if (raw === undefined || raw === null) throw new ConfigError([{ path: '', message: 'the config is empty' }], source);
  const result = configSchema(env).safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(issuesToProblems(result.error.issues, raw), source);
}

function parseYaml(text: string, source: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => yamlProblem(e, source)), source);
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // Unresolvable aliases and alias bombs surface only when converting.
    throw new ConfigError([{ path: source, message: `YAML error: ${(err as Error).message}` }], source);
  }
}

function yamlProblem(err: YAMLError, source: string): ConfigProblem {
  const pos = err.linePos?.[0];
  const path = pos ? `${source}:${pos.line}:${pos.col}` : source;
  // prettyErrors appends " at line L, column C:" and a source excerpt; the path already says where.
  let reason = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  if (err.code === 'MULTIPLE_DOCS') reason = 'a config file holds a single YAML document (found another "---")';
  return { path, message: `YAML syntax error: ${reason}` };
}

/** "dataplane.ports[0].address" from ["dataplane", "ports", 0, "address"]. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Our checks word their own messages; only zod's structural issues need rewording. */
export function issuesToProblems(issues: z.core.$ZodIssue[], data: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = formatPath(issue.path);
    const message = issue.code === 'invalid_type' ? typeMessage(issue.expected, valueAt(data, issue.path)) : issue.message;
    const key = `${path}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path, message });
  }
  return problems;
}

function typeMessage(expected: string, value: unknown): string {
  if (value === undefined) return 'is required';
  if (expected === 'object') return `expected a mapping (key: value), got ${show(value)}`;
  if (expected === 'array') return `expected a list, got ${show(value)}`;
  return `expected ${expected}, got ${show(value)}`;
}

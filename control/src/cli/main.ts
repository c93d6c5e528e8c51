// SPDX-License-Identifier: Apache-2.0
//
// The `fulcrum` command. Errors a user can fix (bad config, bad arguments)
// print one clear message and exit 2; nothing prints a stack trace unless
// FULCRUM_DEBUG is set.

import { parseArgs } from 'node:util';

import { ConfigError } from '../config/load';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from './client';
import { runDemo } from './demo';
import { runStart } from './start';
import { UsageError } from './usage';

const USAGE = `usage: fulcrum <command> [options]

commands:
  start --config FILE     run the balancer in the foreground (SIGUSR1 prints counters)
  demo [--duration SEC] [--forward fullnat|nat]
                          sandbox topology in network namespaces: ARP, ping and
                          HTTP balanced by the DPDK dataplane (FULLNAT by default),
                          counters, clean-up
${CLIENT_USAGE}

see README.md and docs/ for the config reference`;

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      if (values.config === undefined) throw new UsageError('start needs --config FILE');
      return runStart(values.config);
    }
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { duration: { type: 'string' }, forward: { type: 'string' } } });
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      if (duration !== undefined && !(duration > 0)) throw new UsageError('--duration takes a number of seconds > 0');
      const forward = values.forward ?? 'fullnat';
      if (forward !== 'fullnat' && forward !== 'nat') throw new UsageError(`--forward takes fullnat or nat, not '${forward}'`);
      return runDemo({ durationSec: duration, forward });
    }
    case undefined:
      process.stdout.write(`${USAGE}\n`);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      if (CLIENT_COMMANDS.includes(command)) return runClient(command, rest);
      throw new UsageError(`unknown command '${command}'`);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    if (process.env.FULCRUM_DEBUG) console.error(err);
    if (err instanceof ConfigError) {
      process.stderr.write(`fulcrum: invalid config:\n${err.message}\n`);
    } else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fulcrum: ${(err as Error).message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`fulcrum: ${(err as Error).message}\n`);
      return 1;
    }
    return 2;
  }
}

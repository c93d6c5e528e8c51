// SPDX-License-Identifier: Apache-2.0
//
// The `fulcrum` commands that talk to a running balancer over its API
// socket. Every one takes --socket PATH (default: $FULCRUM_SOCKET, else
// the config's default socket) and the read commands --json.

import { parseArgs } from 'node:util';

import { applyFile } from './client-apply';
import { destCommand, laddrCommand, serviceCommand } from './client-edit';
import { listConnections, listServices, workerStats } from './client-read';
import type { ListingView } from './listing';
import { socketPath, withApi } from './remote';
import { UsageError } from './usage';

export const CLIENT_COMMANDS = ['list', 'conns', 'stats', 'apply', 'service', 'dest', 'laddr'];

export const CLIENT_USAGE = `
commands talking to a running balancer (--socket PATH, default $FULCRUM_SOCKET
or /run/fulcrum/fulcrum.sock; --json on read commands):
  list [NAME] [--stats|--rate|--thresholds|--persistent-conn]
                          services (or service NAME) and dests as
                          ipvsadm -L -n prints them
  conns [--service NAME] [--client PREFIX] [--state STATE] [--templates]
                          connections as ipvsadm -L -c -n prints them
  stats [--rate]          per-worker dataplane counters, pools, laddr port pools
  apply -f FILE [--dry-run]
                          make FILE's services and snat rules the running
                          state; prints the difference
  service add NAME --tcp|--udp VIP:PORT [-s SCHED] [--forward MODE]
          [-p SECONDS [-M NETMASK]] [--laddr ADDR]... [--synproxy]
  service edit NAME [same options]     service del NAME
  dest add|edit SERVICE ADDR:PORT [-w WEIGHT] [--forward MODE] [-x UPPER] [-y LOWER]
  dest del SERVICE ADDR:PORT
  laddr add|del SERVICE ADDR           laddr list SERVICE`;

/** Removes --socket and --json from args. */
function common(args: string[]): { socket: string; json: boolean; rest: string[] } {
  const rest: string[] = [];
  let socket: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--socket') {
      socket = args[++i];
      if (socket === undefined) throw new UsageError('--socket needs a path');
    } else if (a.startsWith('--socket=')) socket = a.slice('--socket='.length);
    else rest.push(a);
  }
  return { socket: socketPath(socket), json, rest };
}

const VIEWS: [string, ListingView][] = [['stats', 'stats'], ['rate', 'rate'], ['thresholds', 'thresholds'], ['persistent-conn', 'persistent']];

/** list's arguments: the view its option picks, and the one service named, if any. */
function listArgs(args: string[]): { view: ListingView; service?: string } {
  const { values, positionals } = parseArgs({ args, options: Object.fromEntries(VIEWS.map(([o]) => [o, { type: 'boolean' }])), allowPositionals: true });
  const chosen = VIEWS.filter(([o]) => values[o] === true).map(([, v]) => v);
  if (chosen.length > 1) throw new UsageError('list takes one of --stats, --rate, --thresholds, --persistent-conn');
  if (positionals.length > 1) throw new UsageError(`list takes one service name at most, not ${positionals.length}`);
  return { view: chosen[0] ?? 'default', service: positionals[0] };
}

const CONNS_OPTIONS = {
  service: { type: 'string' },
  client: { type: 'string' },
  state: { type: 'string' },
  templates: { type: 'boolean' },
} as const;

export async function runClient(command: string, args: string[]): Promise<number> {
  const { socket, json, rest } = common(args);
  const [verb, ...more] = rest;
  let run: (api: Parameters<Parameters<typeof withApi>[1]>[0]) => Promise<string>;
  switch (command) {
    case 'list': {
      const { view, service } = listArgs(rest);
      run = (api) => listServices(api, { view, json, service });
      break;
    }
    case 'conns': {
      const { values } = parseArgs({ args: rest, options: CONNS_OPTIONS });
      run = (api) => listConnections(api, { ...values, templates: values.templates === true, json });
      break;
    }
    case 'stats': {
      const { values } = parseArgs({ args: rest, options: { rate: { type: 'boolean' } } });
      run = (api) => workerStats(api, { rate: values.rate === true, json });
      break;
    }
    case 'apply': {
      const { values } = parseArgs({ args: rest, options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } } });
      if (values.file === undefined) throw new UsageError('apply needs -f FILE');
      run = (api) => applyFile(api, values.file as string, values['dry-run'] === true, json);
      break;
    }
    case 'service':
      run = (api) => serviceCommand(api, verb, more);
      break;
    case 'dest':
      run = (api) => destCommand(api, verb, more);
      break;
    default:
      run = (api) => laddrCommand(api, verb, more, json);
  }
  const out = await withApi(socket, run);
  if (out !== '') process.stdout.write(`${out}\n`);
  return 0;
}

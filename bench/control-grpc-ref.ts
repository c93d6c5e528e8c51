// SPDX-License-Identifier: Apache-2.0
//
// bench/control's floor: a bare @grpc/grpc-js server in a Node process of
// its own, answering one unary method with 8 bytes, on a unix socket, on
// the CPU the balancer's control thread uses. What a unary call costs on
// this machine between two Node processes with no Fulcrum behind it: the
// p99 that no handler of the balancer's can go below.
//
//   node dist/bench/control-grpc-ref.js serve SOCKET   (the server; bench/control starts it)

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

import * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer) => b;
const PING: grpc.ServiceDefinition = {
  ping: {
    path: '/fulcrum.bench.Ref/Ping',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const START_TIMEOUT_MS = 10_000;

function serve(socket: string): void {
  rmSync(socket, { force: true });
  const server = new grpc.Server();
  server.addService(PING, { ping: (_call: unknown, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.alloc(8)) });
  server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    console.log('ready');
  });
}

type PingFn = (req: Buffer, done: (err: grpc.ServiceError | null) => void) => void;

export interface BareGrpc {
  /** One unary round trip. */
  call(): Promise<void>;
  stop(): void;
}

/** Starts the bare server pinned to `cpu` and connects to it. */
export async function startBareGrpc(socket: string, cpu: number): Promise<BareGrpc> {
  const child: ChildProcess = spawn('taskset', ['-c', String(cpu), process.execPath, __filename, 'serve', socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare grpc-js server did not start')), START_TIMEOUT_MS);
    child.stdout?.once('data', () => (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the bare grpc-js server exited with ${code}`))));
  });
  const Client = grpc.makeGenericClientConstructor(PING, 'Ref');
  const client = new Client(`unix://${socket}`, grpc.credentials.createInsecure());
  const ping = (client.ping as PingFn).bind(client);
  return {
    call: () => new Promise((resolve, reject) => ping(Buffer.alloc(8), (err) => (err ? reject(err) : resolve()))),
    stop: () => {
      client.close();
      child.kill('SIGTERM');
    },
  };
}

if (require.main === module && process.argv[2] === 'serve') serve(process.argv[3]);

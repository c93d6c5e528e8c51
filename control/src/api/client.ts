// SPDX-License-Identifier: Apache-2.0
//
// A typed client of the Fulcrum API over its unix socket, for the CLI and
// the tests: unary calls as promises with a deadline, streams collected.

import * as grpc from '@grpc/grpc-js';

import type { MethodDefinition } from '@grpc/proto-loader';

import type { FulcrumClient, FulcrumDefinition } from './gen/fulcrum/v1/Fulcrum';
import { fulcrumProto } from './proto';

const DEFAULT_DEADLINE_MS = 15_000;

// The unary RPCs (FulcrumDefinition's index signature hides its keys from keyof).
type UnaryNames =
  | 'CreateService' | 'UpdateService' | 'DeleteService' | 'GetService' | 'ListServices'
  | 'CreateDest' | 'UpdateDest' | 'DeleteDest' | 'GetDest' | 'ListDests'
  | 'CreateLocalAddress' | 'DeleteLocalAddress' | 'ListLocalAddresses'
  | 'Apply' | 'GetDesiredState' | 'GetStats';
type RequestOf<K extends UnaryNames> = FulcrumDefinition[K] extends MethodDefinition<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
type ResponseOf<K extends UnaryNames> = FulcrumDefinition[K] extends MethodDefinition<infer _Req, infer _Res, infer _ReqOut, infer ResOut> ? ResOut : never;

export class FulcrumApi {
  readonly client: FulcrumClient;

  /** maxReceiveBytes: the largest answer taken (gRPC's default, 4 MiB, is less than a 10,000-service listing). */
  constructor(
    readonly socket: string,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
    maxReceiveBytes?: number,
  ) {
    const Ctor = fulcrumProto().grpc.fulcrum.v1.Fulcrum;
    const options = maxReceiveBytes === undefined ? {} : { 'grpc.max_receive_message_length': maxReceiveBytes };
    this.client = new Ctor(`unix:${socket}`, grpc.credentials.createInsecure(), options);
  }

  /** One unary call; rejects with the grpc ServiceError (code, details). */
  call<K extends UnaryNames>(method: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    const fn = this.client[method] as unknown as (
      a: RequestOf<K>,
      o: grpc.CallOptions,
      cb: grpc.requestCallback<ResponseOf<K>>,
    ) => grpc.ClientUnaryCall;
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + this.deadlineMs }, (err, res) =>
        err ? reject(err) : resolve(res as ResponseOf<K>),
      );
    });
  }

  /** Every message of a server stream that ends by itself (ListConnections). */
  collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const out: T[] = [];
      stream.on('data', (m: T) => out.push(m));
      stream.on('error', reject);
      stream.on('end', () => resolve(out));
    });
  }

  close(): void {
    this.client.close();
  }
}

/** True when an error says nothing answers on the socket. */
export function isUnreachable(err: unknown): boolean {
  return (err as grpc.ServiceError)?.code === grpc.status.UNAVAILABLE && !/state file/.test((err as grpc.ServiceError).details ?? '');
}

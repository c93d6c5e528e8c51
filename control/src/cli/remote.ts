// SPDX-License-Identifier: Apache-2.0
//
// The CLI's connection to a running balancer: the socket from --socket,
// else FULCRUM_SOCKET, else the config's default; a refusal becomes the
// server's message, an unreachable socket a hint to start fulcrum.

import type { ServiceError } from '@grpc/grpc-js';

import { FulcrumApi, isUnreachable } from '../api/client';
import { DEFAULT_GRPC_SOCKET } from '../config/schema';

export class RemoteError extends Error {}

export function socketPath(option: string | undefined): string {
  return option ?? process.env.FULCRUM_SOCKET ?? DEFAULT_GRPC_SOCKET;
}

/** Runs fn with a client of the socket; gRPC failures become RemoteError with a readable message. */
export async function withApi<T>(socket: string, fn: (api: FulcrumApi) => Promise<T>): Promise<T> {
  const api = new FulcrumApi(socket);
  try {
    return await fn(api);
  } catch (err) {
    if (isUnreachable(err)) throw new RemoteError(`cannot connect to ${socket}: is fulcrum running?`);
    if ((err as ServiceError).details !== undefined) throw new RemoteError((err as ServiceError).details);
    throw err;
  } finally {
    api.close();
  }
}

// SPDX-License-Identifier: Apache-2.0
//
// Errors as gRPC status codes. A user's mistake is never UNKNOWN or
// INTERNAL: the store's error kinds map one to one to codes, and the
// message names the field or object. Anything else is a bug, logged and
// reported as INTERNAL.

import { status, type ServiceError, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

import { StateError, type StateErrorKind } from '../state/errors';

const CODES: Record<StateErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  exists: status.ALREADY_EXISTS,
  refused: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
};

/** A request field that is wrong before it reaches the store. */
export function invalidField(path: string, message: string): StateError {
  return StateError.invalid([{ path, message }]);
}

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof StateError) return { code: CODES[err.kind], details: err.message };
  process.stderr.write(`fulcrum: api: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return { code: status.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

/** A unary handler from a function of the request; its result or error becomes the reply. */
export function unary<Req, Res>(fn: (req: Req) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}
